//! The dependency tree of a scanned package (issue 12): resolve it (`crate::tree`) through the
//! scan's registry clients, audit every node with the package rules, and carry the risky ones
//! into the root's score and gate with the path that brings them in. docs/scoring.md says which
//! rules reach the root and how.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures::stream::{self, StreamExt};
use serde_json::json;
use url::Url;

use super::memo::NodeFacts;
use super::scan::{Registries, Scanner};
use crate::content::Limits;
use crate::error::{FetchError, TargetError};
use crate::facts::PackageFacts;
use crate::report::{assess, gate_failures, Finding, Inconclusive, NodeReport, Policy, TreeReport};
use crate::rules::score::{grade, Score};
use crate::rules::{RuleSet, Severity};
use crate::spec::{Selector, Spec};
use crate::tree::{self, Engines, Manifest, Packument, ResolveOptions, Source, TreeError};

/// One node's facts, or why it could not be checked.
pub type NodeResult = Result<PackageFacts, TargetError>;

/// Dependency resolution settings; `None` on the scanner is `--no-deps`.
#[derive(Debug, Clone)]
pub struct TreeOptions {
    pub max_nodes: usize,
    pub engines: Engines,
}

impl Default for TreeOptions {
    fn default() -> Self {
        TreeOptions {
            max_nodes: tree::DEFAULT_MAX_NODES,
            engines: Engines::default(),
        }
    }
}

/// The rules whose findings on a dependency reach the root: the shapes of a compromised or
/// hostile release (a takeover, a dropped provenance, code run at install, a tarball that is not
/// what it claims), not the hygiene of someone else's package. docs/scoring.md explains the
/// choice.
pub const DEPENDENCY_RULES: &[&str] = &[
    "new-publisher",
    "publisher-ci-to-human",
    "ownership-transfer",
    "trust-downgrade",
    "provenance-invalid",
    "provenance-repo-mismatch",
    "publish-attestation-invalid",
    "signature-invalid",
    "install-scripts",
    "install-script-fetches-code",
    "manifest-confusion",
    "obfuscated-code",
    "tarball-integrity-mismatch",
    "tarball-path-problems",
    // A dependency's known critical or high vulnerability is the root's to fix (an upgrade or
    // an override), as `npm audit` reports it.
    "known-vulnerability-critical",
    "known-vulnerability-high",
];

/// The id under which the root lists dependencies that could not be checked. Not a predicate
/// rule: the tree's own status (docs/rules.md).
pub const UNCHECKED_ID: &str = "dependency-unchecked";

/// Resolution's view of the scan's registries: the abbreviated packument per name, from the
/// registry (and with the credentials) npm's configuration selects for it.
pub struct RegistrySource<'a> {
    pub registries: &'a Registries,
    pub limits: Limits,
}

fn describe(name: &str, registry: &str, e: FetchError) -> String {
    match e {
        FetchError::NotFound { .. } => format!("{name} is not on {registry} (404)"),
        other => format!("{name}: {other}"),
    }
}

impl Source for RegistrySource<'_> {
    async fn packument(&self, name: &str) -> Result<Arc<Packument>, String> {
        let (client, _) = self.registries.resolve(name)?;
        // Shared by every tree resolved meanwhile, per registry and credentials.
        let slot = self
            .registries
            .memo()
            .abbreviated_slot(&self.registries.asker(&client), name);
        let mut slot = slot.lock().await;
        match &*slot {
            Some(Ok(weak)) => {
                if let Some(doc) = weak.upgrade() {
                    return Ok(doc);
                }
            }
            Some(Err(e)) => return Err(e.clone()),
            None => {}
        }
        let got = async {
            let client = client.for_target();
            let registry = client.base_display();
            let (_, body, mut held) = client
                .abbreviated_packument_bytes(name)
                .await
                .map_err(|e| describe(name, &registry, e))?;
            // The bytes and the parsed view are both held while it is read (scan does the same).
            if let Some(r) = held.as_mut() {
                r.grow_to(body.len() as u64 * 2).await;
            }
            Packument::from_slice(&body)
                .map(Arc::new)
                .map_err(|e| format!("{name}: the registry's document is unusable: {e}"))
        }
        .await;
        *slot = Some(got.as_ref().map(Arc::downgrade).map_err(Clone::clone));
        got
    }

    async fn shrinkwrap(
        &self,
        name: &str,
        version: &str,
        m: &Manifest,
    ) -> Result<Option<Vec<u8>>, String> {
        let (client, _) = self.registries.resolve(name)?;
        let client = client.for_target();
        let listed = m
            .tarball
            .as_deref()
            .and_then(|t| Url::parse(t).ok())
            .ok_or_else(|| format!("{name}@{version} lists no usable dist.tarball"))?;
        let url = crate::npmrc::replace_registry_host(
            &listed,
            client.base(),
            self.registries.config().get("replace-registry-host"),
        );
        let (bytes, _) = client
            .tarball_for(&url, self.limits.max_compressed, m.integrity.as_deref())
            .await
            .map_err(|e| format!("could not download the tarball of {name}@{version}: {e}"))?;
        let checked = match (&m.integrity, &m.shasum) {
            (Some(sri), _) => crate::content::check_integrity(&bytes, sri),
            (None, Some(sha1)) => crate::content::check_shasum(&bytes, sha1),
            (None, None) => {
                return Err(format!(
                    "{name}@{version} lists no integrity to check its tarball against"
                ))
            }
        };
        checked.map_err(|e| format!("the tarball of {name}@{version} failed its check: {e}"))?;
        let limits = Limits {
            max_file_scan: tree::shrinkwrap::MAX_SHRINKWRAP_BYTES as u64,
            ..self.limits
        };
        let found = tokio::task::spawn_blocking(move || {
            crate::content::root_file(&bytes, "npm-shrinkwrap.json", &limits)
        })
        .await
        .map_err(|e| format!("reading the tarball did not complete: {e}"))?;
        Ok(found)
    }
}

impl Scanner {
    /// Resolves and audits the tree of `name@version` (the root, already audited). Each distinct
    /// node is audited once, at most the concurrency limit at a time.
    pub async fn audit_tree(
        &self,
        registries: &Registries,
        name: &str,
        version: &str,
        opts: &TreeOptions,
    ) -> Result<TreeReport, TreeError> {
        let tree = self.resolve_tree(registries, name, version, opts).await?;
        // Facts for every node first, then one advisories request per registry for all of them
        // (as `npm audit` sends a whole tree), then the rules.
        let mut facts = self.tree_facts(registries, &tree).await;
        let names: Vec<&str> = tree.nodes.iter().map(|n| n.name.as_str()).collect();
        self.add_advisories(registries, &names, &mut facts).await;
        Ok(self.tree_report(tree, facts))
    }

    /// The facts of every node of `tree`, without advisories (`facts[i]` for `tree.nodes[i]`).
    pub async fn tree_facts(&self, registries: &Registries, tree: &tree::Tree) -> Vec<NodeResult> {
        let width = registries.concurrency().max(1);
        // The versions of one name are audited together, from one fetch of its packument, and
        // a version another tree of the run already audited is read from the run's memo.
        let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, n) in tree.nodes.iter().enumerate() {
            if !n.bundled {
                by_name.entry(n.name.as_str()).or_default().push(i);
            }
        }
        let mut facts: Vec<NodeResult> = tree.nodes.iter().map(bundled_facts).collect();
        let nodes = &tree.nodes;
        let groups: Vec<(Vec<usize>, Vec<NodeResult>)> = stream::iter(by_name)
            .map(|(name, idx)| async move {
                let versions: Vec<String> = idx.iter().map(|&i| nodes[i].version.clone()).collect();
                let got = self.node_facts(registries, name, &versions).await;
                (idx, got)
            })
            .buffer_unordered(width)
            .collect()
            .await;
        for (idx, got) in groups {
            for (i, f) in idx.into_iter().zip(got) {
                facts[i] = f;
            }
        }
        facts
    }

    /// The tree npm would install for `name@version`, resolved through `registries`.
    pub async fn resolve_tree(
        &self,
        registries: &Registries,
        name: &str,
        version: &str,
        opts: &TreeOptions,
    ) -> Result<tree::Tree, TreeError> {
        let source = RegistrySource {
            registries,
            limits: self.content_limits.unwrap_or_default(),
        };
        let resolve = ResolveOptions {
            max_nodes: opts.max_nodes,
            engines: opts.engines.clone(),
            concurrency: registries.concurrency(),
        };
        tree::resolve(
            &source,
            name,
            &Selector::Version(version.to_string()),
            &resolve,
        )
        .await
    }

    /// The rules applied to every node of `tree`, given each node's facts (`facts[i]` for
    /// `tree.nodes[i]`, advisories included).
    pub fn tree_report(&self, tree: tree::Tree, facts: Vec<NodeResult>) -> TreeReport {
        let nodes: Vec<NodeReport> = tree
            .nodes
            .into_iter()
            .zip(facts)
            .map(|(n, facts)| {
                let result = match facts {
                    Ok(facts) => {
                        let evals = self.rules.evaluate(&facts);
                        let subject = (n.name.as_str(), Some(n.version.as_str()));
                        Ok(assess(&evals, &self.rules, &self.policy, Some(subject)))
                    }
                    Err(TargetError::Tree { problem, .. }) if n.bundled => Err(problem),
                    Err(e) => Err(e.to_string()),
                };
                NodeReport {
                    name: n.name,
                    version: n.version,
                    paths: n.paths,
                    optional: n.optional,
                    bundled: n.bundled,
                    result,
                }
            })
            .collect();
        TreeReport {
            source: tree.source.as_str(),
            root: tree.root,
            nodes,
            problems: tree.problems,
            error: None,
        }
    }
}

/// A node's facts before it is audited: a bundled node keeps this answer (it is never fetched).
pub fn bundled_facts(n: &tree::TreeNode) -> NodeResult {
    Err(TargetError::Tree {
        name: n.name.clone(),
        problem: "bundled in its parent's tarball: not fetched from the registry".into(),
    })
}

impl Scanner {
    /// The facts of `versions` of one dependency `name`, without advisories: each from the
    /// run's memo when a tree already audited it with the same registry and credentials, the
    /// rest from one fetch of the full packument. At most the concurrency limit's worth of full
    /// packuments are held at once across the whole run.
    pub async fn node_facts(
        &self,
        registries: &Registries,
        name: &str,
        versions: &[String],
    ) -> Vec<Result<PackageFacts, TargetError>> {
        let client = match registries.resolve(name) {
            Ok((client, _)) => client,
            Err(problem) => {
                let e = TargetError::Config {
                    name: name.to_string(),
                    problem,
                };
                return versions.iter().map(|_| Err(e.clone())).collect();
            }
        };
        let asker = registries.asker(&client);
        let memo = registries.memo();
        let cells: Vec<_> = versions
            .iter()
            .map(|v| memo.facts_cell(&asker, name, v))
            .collect();
        if cells.iter().any(|c| !c.initialized()) {
            // Another tree may be auditing this name now: wait for it, then read its answers.
            let lock = memo.name_lock(&asker, name);
            let _name = lock.lock().await;
            let todo: Vec<(String, &super::memo::Cell<NodeFacts>)> = versions
                .iter()
                .zip(&cells)
                .filter(|(_, c)| !c.initialized())
                .map(|(v, c)| (v.clone(), c))
                .collect();
            if !todo.is_empty() {
                let _permit = memo.audits.acquire().await.expect("never closed");
                let answers = self.audit_versions(registries, name, &todo).await;
                for ((_, cell), answer) in todo.iter().zip(answers) {
                    // Only this task sets cells of this name (it holds the name's lock).
                    let _ = cell.set(answer);
                }
            }
        }
        cells
            .iter()
            .map(|c| match c.get() {
                Some(Ok((facts, _))) => Ok(facts.clone()),
                Some(Err(e)) => Err(e.clone()),
                None => Err(TargetError::Tree {
                    name: name.to_string(),
                    problem: "the audit of this version did not complete".into(),
                }),
            })
            .collect()
    }

    /// One fetch of `name`'s full packument, then each version's evidence and facts,
    /// concurrently. The packument's bytes are dropped once each version's whole document has
    /// been read from them; the typed view is held until the last version is done.
    async fn audit_versions(
        &self,
        registries: &Registries,
        name: &str,
        todo: &[(String, &super::memo::Cell<NodeFacts>)],
    ) -> Vec<NodeFacts> {
        let mut doc = match self.fetch_document(registries, name).await {
            Ok(doc) => doc,
            Err(e) => return todo.iter().map(|_| Err(e.clone())).collect(),
        };
        let specs: Vec<Spec> = todo
            .iter()
            .map(|(v, _)| Spec {
                raw: format!("{name}@{v}"),
                name: name.to_string(),
                selector: Selector::Version(v.clone()),
                ecosystem: crate::spec::Ecosystem::Npm,
            })
            .collect();
        let engines = self.pick_engines();
        let picked: Vec<Result<String, TargetError>> =
            specs.iter().map(|s| doc.pick(s, &engines)).collect();
        let found: Vec<String> = picked.iter().filter_map(|p| p.clone().ok()).collect();
        let mut wholes: HashMap<String, Option<Result<serde_json::Value, String>>> = doc
            .take_whole(&found, self.content_limits.is_some())
            .into_iter()
            .collect();
        let doc = &doc;
        let work = specs.iter().zip(picked).map(|(spec, picked)| {
            let whole = picked
                .as_ref()
                .ok()
                .and_then(|v| wholes.remove(v))
                .flatten();
            async move {
                let version = picked?;
                self.version_facts(registries, doc, spec, &version, whole)
                    .await
            }
        });
        futures::future::join_all(work).await
    }
}

/// `a@1 > b@2`: the first (shortest) path, for messages.
pub fn path_text(paths: &[Vec<String>], node: &str) -> String {
    paths
        .first()
        .filter(|p| !p.is_empty())
        .map(|p| p.join(" > "))
        .unwrap_or_else(|| node.to_string())
}

/// What the tree adds to its root: the dependency findings of [`DEPENDENCY_RULES`], each naming
/// the node and its path; one inconclusive entry listing every node that could not be checked;
/// the score lowered by the riskiest node's deduction; and the gate applied again.
#[allow(clippy::too_many_arguments)]
pub fn aggregate(
    tree: &TreeReport,
    score: &mut Score,
    findings: &mut Vec<Finding>,
    inconclusive: &mut Vec<Inconclusive>,
    gate: &mut Vec<String>,
    rules: &RuleSet,
    policy: &Policy,
) {
    let mut deduction = 0u32;
    let mut critical = false;
    for n in &tree.nodes {
        let Ok(a) = &n.result else { continue };
        let label = format!("{}@{}", n.name, n.version);
        let path = path_text(&n.paths, &label);
        let mut node_weight = 0u32;
        for f in &a.findings {
            if !DEPENDENCY_RULES.contains(&f.rule.as_str()) {
                continue;
            }
            let mut f = f.clone();
            if f.counts() {
                node_weight = node_weight.saturating_add(f.weight);
                critical |= f.severity == Severity::Critical;
            }
            f.message = format!("dependency {label} (via {path}): {}", f.message);
            f.evidence.insert("dependency".into(), json!(label));
            f.evidence.insert("path".into(), json!(n.paths.first()));
            findings.push(f);
        }
        deduction = deduction.max(node_weight);
    }
    let mut reasons: Vec<String> = Vec::new();
    for n in &tree.nodes {
        if let Err(e) = &n.result {
            if n.bundled {
                continue;
            }
            let label = format!("{}@{}", n.name, n.version);
            reasons.push(format!(
                "{label} (via {}): {e}",
                path_text(&n.paths, &label)
            ));
        }
    }
    for p in &tree.problems {
        if p.unavailable && !p.optional {
            let via = if p.from.is_empty() {
                tree.root.clone()
            } else {
                p.from.join(" > ")
            };
            reasons.push(format!(
                "{}@{} (required by {via}): {}",
                p.name, p.spec, p.reason
            ));
        }
    }
    if let Some(e) = &tree.error {
        reasons.push(e.clone());
    }
    if !reasons.is_empty() {
        inconclusive.push(Inconclusive {
            rule: UNCHECKED_ID.into(),
            title: "Dependencies that could not be checked".into(),
            category: "dependencies".into(),
            severity: Severity::High,
            weight: 0,
            reasons,
        });
    }
    score.score = score.score.saturating_sub(deduction);
    score.floor = score.floor.saturating_sub(deduction);
    if critical {
        score.score = score.score.min(rules.scoring.critical_cap);
        score.floor = score.floor.min(rules.scoring.critical_cap);
        score.capped = true;
    }
    score.grade = grade(score.score, &rules.scoring);
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.weight.cmp(&a.weight))
            .then(a.rule.cmp(&b.rule))
    });
    *gate = gate_failures(score, findings, inconclusive, policy);
}
