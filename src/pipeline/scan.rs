//! The pipeline for one scan: resolve → fetch → facts → rules → score, for many specs at once.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};

use crate::content::Limits;
use crate::error::{FetchError, TargetError};
use crate::facts::npm::select::{attestations_to_fetch, signature_plan, SignaturePlan};
use crate::facts::npm::{version_document, VersionDoc};
use crate::facts::{
    derive_facts, AdvisoryFacts, AttestationEvidence, DeriveInput, Evidence, PackageFacts,
    SignatureEvidence, TarballEvidence,
};
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use url::Url;

use super::memo::{credential_fingerprint, Asker, RunMemo};
use crate::npmrc::{Config, Layer, ResolvedRegistry};
use crate::policy::AllowedRegistries;
use crate::registry::{http_client, parse_packument, BodyBudget, HttpConfig, RegistryClient};
use crate::report::{check, Checked, PackageReport, Policy, Report, TreeReport};
use crate::rules::RuleSet;
use crate::spec::{pick_version_with, PickError, Spec};
use crate::tree::{Engines, TreeError};

use super::tree::{bundled_facts, NodeResult};
use crate::verify::{
    verify_attestations, verify_registry_signatures, ExpectedPackage, RegistrySignature,
    TrustedRoot,
};

/// The budget, in documents of the largest allowed size: bytes downloading and documents held
/// while their facts are derived, across all targets, share it (`registry::budget`).
const BUDGET_DOCUMENTS: u64 = 4;

/// The budget for evidence (tarballs, attestations) downloaded and read while a packument is
/// held, in documents of the largest allowed size.
const EVIDENCE_DOCUMENTS: u64 = 2;

/// What one packument costs while its facts are derived, per byte of the document: the bytes
/// themselves (kept for the one version the tarball check reads in full) and the typed view.
const BYTES_HELD_PER_BYTE: u64 = 2;

/// The registry clients of one scan: one per registry URL npm's configuration selects, all
/// sharing one connection pool, one concurrency limit and one memory budget.
pub struct Registries {
    config: Arc<Config>,
    cfg: HttpConfig,
    http: reqwest::Client,
    permits: Arc<tokio::sync::Semaphore>,
    /// Bounds the packuments held at once, not only each one: many large documents fetched
    /// together would otherwise add up to many times the per-document cap.
    budget: BodyBudget,
    /// What is downloaded while a packument is held (its version's tarball, attestations, the
    /// keys) is reserved here, not in `budget`: a holder of `budget` waiting on `budget` again
    /// for its own tarball would wait for itself (every holder does, and none finishes).
    evidence_budget: BodyBudget,
    allow_http: bool,
    /// The policy file's allowed registries: a package is never fetched from another one.
    allowed: Option<Arc<AllowedRegistries>>,
    clients: Mutex<HashMap<String, RegistryClient>>,
    /// The Python indexes of this configuration (`pypi:` specs, uvx/pipx launches), or why
    /// they could not be resolved; `None` when nothing set them up.
    pypi: Option<Result<Arc<crate::pyindex::PyIndexes>, String>>,
    /// What the run already fetched and judged, shared by every configuration's registries.
    memo: Arc<RunMemo>,
    /// This configuration's credentials, as the memo tells configurations apart.
    credentials: [u8; 32],
}

impl Registries {
    pub fn new(config: Arc<Config>, cfg: HttpConfig, allow_http: bool) -> Result<Self, FetchError> {
        Ok(Registries {
            http: http_client(&cfg)?,
            permits: Arc::new(tokio::sync::Semaphore::new(cfg.concurrency.max(1))),
            memo: Arc::new(RunMemo::new(cfg.concurrency)),
            credentials: credential_fingerprint(&config),
            evidence_budget: BodyBudget::first_come(
                cfg.max_body_bytes.saturating_mul(EVIDENCE_DOCUMENTS),
                cfg.max_body_bytes,
            ),
            budget: BodyBudget::new(
                cfg.max_body_bytes.saturating_mul(BUDGET_DOCUMENTS),
                cfg.max_body_bytes.saturating_mul(BYTES_HELD_PER_BYTE),
            ),
            config,
            cfg,
            allow_http,
            allowed: None,
            clients: Mutex::new(HashMap::new()),
            pypi: None,
        })
    }

    /// The Python indexes `pypi:` specs are read from (see `pyindex`).
    pub fn with_pypi(mut self, pypi: Result<Arc<crate::pyindex::PyIndexes>, String>) -> Self {
        self.pypi = Some(pypi);
        self
    }

    /// The Python indexes, or why there are none to use.
    pub fn pypi(&self) -> Result<&Arc<crate::pyindex::PyIndexes>, String> {
        match &self.pypi {
            Some(Ok(ix)) => Ok(ix),
            Some(Err(e)) => Err(e.clone()),
            None => Err("no Python index configuration was loaded".into()),
        }
    }

    /// A client for one Python index of `indexes`, sharing this scan's pool and limits. Its
    /// credentials are `indexes`' own, chosen by realm per request.
    pub fn python_client(
        &self,
        indexes: &Arc<crate::pyindex::PyIndexes>,
        index: &Url,
    ) -> Result<RegistryClient, String> {
        let url = crate::registry::RegistryUrl::parse(index.as_str()).map_err(|e| {
            format!(
                "index URL {} is rejected: {e}",
                crate::registry::redact_url(index)
            )
        })?;
        // The policy file's allowed registries name npm registries; Python indexes are not
        // checked against them (docs/policy.md).
        Ok(RegistryClient::python(
            url,
            self.cfg.clone(),
            self.http.clone(),
            Arc::clone(&self.permits),
            Arc::clone(indexes),
        )
        .with_body_budget(self.budget.clone()))
    }

    /// Refuses, in [`Registries::resolve`], every registry `allowed` does not list for a name.
    pub fn with_allowed(mut self, allowed: Option<Arc<AllowedRegistries>>) -> Self {
        self.allowed = allowed;
        self
    }

    /// Every request goes to `base`, with no npm configuration files (benchmarks, tests).
    pub fn single(base: &Url, cfg: HttpConfig) -> Result<Self, FetchError> {
        let (cli, _) = Layer::from_cli(
            &[("registry".to_string(), base.to_string())],
            &HashMap::new(),
        );
        let config = Config::from_layers(vec![Layer::defaults(), cli]);
        Self::new(Arc::new(config), cfg, true)
    }

    /// Clients for another npm configuration (one MCP server entry's), sharing this one's
    /// connection pool and concurrency limit. Clients are not shared: credentials and registry
    /// choices belong to the configuration.
    pub fn with_config(&self, config: Arc<Config>) -> Registries {
        Registries {
            credentials: credential_fingerprint(&config),
            memo: Arc::clone(&self.memo),
            config,
            cfg: self.cfg.clone(),
            http: self.http.clone(),
            permits: Arc::clone(&self.permits),
            budget: self.budget.clone(),
            evidence_budget: self.evidence_budget.clone(),
            allow_http: self.allow_http,
            allowed: self.allowed.clone(),
            clients: Mutex::new(HashMap::new()),
            pypi: self.pypi.clone(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The run's memo (see `pipeline::memo`).
    pub fn memo(&self) -> &RunMemo {
        &self.memo
    }

    /// Who asks `client`'s registry, as the memo keys it.
    pub fn asker(&self, client: &RegistryClient) -> Asker {
        Asker::of(client, &self.config, self.credentials)
    }

    /// `--allow-http`: a plain-http registry or index off loopback is accepted.
    pub fn allow_http(&self) -> bool {
        self.allow_http
    }

    /// These registries with other Python indexes (one MCP server entry's), sharing the pool
    /// and the concurrency limit.
    pub fn with_python(&self, indexes: Arc<crate::pyindex::PyIndexes>) -> Registries {
        self.with_config(Arc::clone(&self.config))
            .with_pypi(Ok(indexes))
    }

    /// The memory budget every download and held document of this scan is reserved in: its
    /// `peak()` is what a test checks, never a timing.
    pub fn budget(&self) -> &BodyBudget {
        &self.budget
    }

    /// The most one held document may reserve: twice the per-document cap.
    fn largest_hold(&self) -> u64 {
        self.cfg.max_body_bytes.saturating_mul(BYTES_HELD_PER_BYTE)
    }

    /// The requests in flight at once, across every registry of the scan.
    pub fn concurrency(&self) -> usize {
        self.cfg.concurrency.max(1)
    }

    /// The registry npm would ask for `package`, and the client for it. Refuses a plain-http
    /// registry off loopback unless allowed: a token would travel in clear.
    pub fn resolve(&self, package: &str) -> Result<(RegistryClient, ResolvedRegistry), String> {
        let resolved = self
            .config
            .registry_for(package)
            .map_err(|e| e.to_string())?;
        resolved
            .url
            .require_secure_transport(self.allow_http)
            .map_err(|e| {
                let at = resolved.source.at(resolved.line);
                format!("{e} (set by `{}` in {at})", resolved.key)
            })?;
        if let Some(allowed) = &self.allowed {
            allowed.check(package, resolved.url.as_str())?;
        }
        let url = resolved.url.clone();
        let mut clients = self
            .clients
            .lock()
            .expect("no panics while holding the lock");
        let client = clients
            .entry(url.as_str().to_string())
            .or_insert_with(|| {
                RegistryClient::shared(
                    url,
                    self.cfg.clone(),
                    self.http.clone(),
                    Arc::clone(&self.permits),
                    Some(Arc::clone(&self.config)),
                )
                .with_body_budget(self.budget.clone())
            })
            .clone();
        Ok((client, resolved))
    }
}

/// A version's `dist.integrity` and `dist.shasum`, as the registry lists them.
#[derive(Debug, Clone, Default)]
pub struct Dist {
    pub integrity: Option<String>,
    pub shasum: Option<String>,
}

pub struct Scanner {
    pub registries: Registries,
    pub rules: RuleSet,
    pub policy: Policy,
    /// The clock for release-age facts; fixed in tests so snapshots stay stable.
    pub now: DateTime<Utc>,
    pub trusted_root: Arc<TrustedRoot>,
    pub trust_window_days: u64,
    /// Limits for downloading and reading tarballs; `None` skips them (`--no-tarball`).
    pub content_limits: Option<Limits>,
    /// Resolve and audit each package's dependency tree; `None` is `--no-deps`.
    pub tree: Option<super::tree::TreeOptions>,
}

impl Scanner {
    /// Scans every spec concurrently (the client's semaphore bounds the requests in flight) and
    /// returns the reports in input order. `on_done` runs once per finished target, for progress.
    ///
    /// Facts first, for every target; then one advisories request per registry for all of them
    /// (as `npm audit` sends a whole tree at once); then the rules.
    pub async fn scan(&self, specs: &[Spec], on_done: &(dyn Fn(&PackageReport) + Sync)) -> Report {
        let width = specs.len().clamp(1, 64);
        let mut facts: Vec<Result<PackageFacts, TargetError>> = stream::iter(specs)
            .map(|spec| self.facts_any(&self.registries, spec))
            .buffered(width)
            .collect()
            .await;
        // Every root's tree first (resolutions running together share abbreviated packuments),
        // so that the run audits the union of their nodes once.
        let mut trees: Vec<Option<Result<crate::tree::Tree, TreeError>>> =
            stream::iter(specs.iter().zip(&facts))
                .map(|(spec, f)| async move {
                    let opts = self.tree.as_ref()?;
                    let f = f.as_ref().ok()?;
                    if spec.ecosystem == crate::spec::Ecosystem::Pypi {
                        return None;
                    }
                    Some(
                        self.resolve_tree(&self.registries, &spec.name, &f.package.version, opts)
                            .await,
                    )
                })
                .buffered(width)
                .collect()
                .await;
        // One advisories request per registry for the whole run: every root and every node
        // of every tree (as `npm audit` sends a whole tree at once).
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        let mut asked = advisory_pairs(&names, &facts);
        for t in trees.iter().flatten().flatten() {
            for n in t.nodes.iter().filter(|n| !n.bundled) {
                asked.push((n.name.as_str(), n.version.clone()));
            }
        }
        let advisories = self
            .ask_advisories(
                &self.registries,
                asked.iter().map(|(n, v)| (*n, v.as_str())),
            )
            .await;
        drop(asked);
        apply_advisories(&names, &mut facts, &advisories);
        let mut results: Vec<Option<Result<Checked, TargetError>>> = facts
            .into_iter()
            .map(|f| Some(f.map(|facts| check(facts, &self.rules, &self.policy))))
            .collect();
        let mut packages: Vec<Option<PackageReport>> = specs.iter().map(|_| None).collect();
        // The union of the trees' nodes, by name, each name's versions audited together from
        // one full packument. Names are ordered by the first tree needing them, so the first
        // trees finish (and are reported) first.
        let mut union: Vec<(String, BTreeSet<String>)> = Vec::new();
        let mut slot: HashMap<String, usize> = HashMap::new();
        let mut trees_of: Vec<Vec<usize>> = Vec::new();
        let mut waiting: Vec<usize> = vec![0; specs.len()];
        for (t, tree) in trees.iter().enumerate() {
            let Some(Ok(tree)) = tree else { continue };
            for n in tree.nodes.iter().filter(|n| !n.bundled) {
                let i = *slot.entry(n.name.clone()).or_insert_with(|| {
                    union.push((n.name.clone(), BTreeSet::new()));
                    trees_of.push(Vec::new());
                    union.len() - 1
                });
                union[i].1.insert(n.version.clone());
                if trees_of[i].last() != Some(&t) {
                    trees_of[i].push(t);
                    waiting[t] += 1;
                }
            }
        }
        let mut done: HashMap<(String, String), NodeResult> = HashMap::new();
        let mut finish = |t: usize, done: &HashMap<(String, String), NodeResult>| {
            let tree = trees[t].take().map(|tree| {
                tree.map(|tree| {
                    let mut node_facts: Vec<NodeResult> = tree
                        .nodes
                        .iter()
                        .map(|n| match done.get(&(n.name.clone(), n.version.clone())) {
                            Some(f) if !n.bundled => f.clone(),
                            _ => bundled_facts(n),
                        })
                        .collect();
                    let node_names: Vec<&str> =
                        tree.nodes.iter().map(|n| n.name.as_str()).collect();
                    apply_advisories(&node_names, &mut node_facts, &advisories);
                    self.tree_report(tree, node_facts)
                })
            });
            let result = results[t].take().expect("each target is reported once");
            let report = self.report_with(&specs[t], result, tree);
            on_done(&report);
            packages[t] = Some(report);
        };
        let ready: Vec<usize> = (0..specs.len()).filter(|&t| waiting[t] == 0).collect();
        for t in ready {
            finish(t, &done);
        }
        let concurrency = self.registries.concurrency().max(1);
        let mut audits = stream::iter(union.into_iter().zip(trees_of))
            .map(|((name, versions), trees_of)| async move {
                let versions: Vec<String> = versions.into_iter().collect();
                let got = self.node_facts(&self.registries, &name, &versions).await;
                (name, versions, got, trees_of)
            })
            .buffer_unordered(concurrency);
        while let Some((name, versions, got, trees_of)) = audits.next().await {
            for (v, f) in versions.into_iter().zip(got) {
                done.insert((name.clone(), v), f);
            }
            for t in trees_of {
                waiting[t] -= 1;
                if waiting[t] == 0 {
                    finish(t, &done);
                }
            }
        }
        Report {
            generated_at: self.now,
            policy: self.policy.clone(),
            packages: packages
                .into_iter()
                .map(|p| p.expect("every target is reported"))
                .collect(),
        }
    }

    /// One target's facts, advisories included.
    pub async fn facts(&self, spec: &Spec) -> Result<PackageFacts, TargetError> {
        let mut facts = [self.facts_any(&self.registries, spec).await];
        self.add_advisories(&self.registries, &[spec.name.as_str()], &mut facts)
            .await;
        let [facts] = facts;
        facts
    }

    /// The known vulnerabilities of every checked package in `facts`, asked of the registry
    /// each package came from (with that registry's credential, as every request): one bulk
    /// request per registry, run concurrently. Fills `advisories` in each facts document.
    /// `names[i]` is the name asked for `facts[i]`: the registry is chosen by it, never by the
    /// name a (possibly hostile) packument claims.
    pub async fn add_advisories(
        &self,
        registries: &Registries,
        names: &[&str],
        facts: &mut [Result<PackageFacts, TargetError>],
    ) {
        let asked = advisory_pairs(names, facts);
        let all = self
            .ask_advisories(registries, asked.iter().map(|(n, v)| (*n, v.as_str())))
            .await;
        apply_advisories(names, facts, &all);
    }

    /// The advisories of every (name, version) in `pairs`: one bulk request per registry (in
    /// chunks of a bounded body), run concurrently. The registry is chosen by the name asked.
    pub async fn ask_advisories<'a>(
        &self,
        registries: &Registries,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Advisories {
        let mut by_registry: HashMap<String, (RegistryClient, BTreeSet<(String, String)>)> =
            HashMap::new();
        for (name, version) in pairs {
            let Ok((client, _)) = registries.resolve(name) else {
                continue;
            };
            by_registry
                .entry(client.base().as_str().to_string())
                .or_insert_with(|| (client, BTreeSet::new()))
                .1
                .insert((name.to_string(), version.to_string()));
        }
        let answers = futures::future::join_all(
            by_registry
                .values()
                .map(|(client, asked)| client.advisories(asked)),
        )
        .await;
        let mut all = std::collections::BTreeMap::new();
        for answer in answers {
            all.extend(answer);
        }
        all
    }

    /// A target's facts from its own ecosystem: `pypi:` specs from the Python indexes.
    pub async fn facts_any(
        &self,
        registries: &Registries,
        spec: &Spec,
    ) -> Result<PackageFacts, TargetError> {
        if spec.ecosystem == crate::spec::Ecosystem::Pypi {
            let ix = registries
                .pypi()
                .map_err(|problem| TargetError::Config {
                    name: spec.name.clone(),
                    problem,
                })?
                .clone();
            return self.pypi_facts_in(registries, &ix, spec).await;
        }
        self.facts_in(registries, spec).await
    }

    /// A `pypi:` target with `registries`' Python indexes.
    pub async fn scan_one_pypi(&self, registries: &Registries, spec: &Spec) -> PackageReport {
        let (result, registry) = match registries.pypi() {
            Ok(ix) => (
                self.pypi_facts_in(registries, ix, spec)
                    .await
                    .map(|facts| check(facts, &self.rules, &self.policy)),
                crate::registry::redact_url(&ix.primary.url),
            ),
            Err(problem) => (
                Err(TargetError::Config {
                    name: spec.name.clone(),
                    problem,
                }),
                String::new(),
            ),
        };
        PackageReport {
            target: spec.raw.clone(),
            name: spec.name.clone(),
            registry,
            result,
        }
    }

    /// [`Self::facts`] with another set of registries (an MCP server entry's configuration).
    pub async fn facts_in(
        &self,
        registries: &Registries,
        spec: &Spec,
    ) -> Result<PackageFacts, TargetError> {
        self.facts_and_dist(registries, spec)
            .await
            .map(|(facts, _)| facts)
    }

    /// The engines a version is picked for: the tree's, so `--no-deps` picks as a tree does.
    pub(crate) fn pick_engines(&self) -> Engines {
        self.tree
            .as_ref()
            .map(|t| t.engines.clone())
            .unwrap_or_default()
    }

    /// [`Self::facts_in`], plus the version's `dist.integrity` and `dist.shasum` as the registry
    /// lists them (`lock` compares them with the lockfile's).
    pub async fn facts_and_dist(
        &self,
        registries: &Registries,
        spec: &Spec,
    ) -> Result<(PackageFacts, Dist), TargetError> {
        let mut doc = self.fetch_document(registries, &spec.name).await?;
        let version = doc.pick(spec, &self.pick_engines())?;
        let whole = doc.take_whole(
            std::slice::from_ref(&version),
            self.content_limits.is_some(),
        );
        let whole = whole.into_iter().next().and_then(|(_, w)| w);
        self.version_facts(registries, &doc, spec, &version, whole)
            .await
    }

    /// The full packument of `name`, parsed, held in the byte budget until dropped.
    pub(crate) async fn fetch_document(
        &self,
        registries: &Registries,
        name: &str,
    ) -> Result<FetchedDocument, TargetError> {
        let (client, chosen) = registries
            .resolve(name)
            .map_err(|problem| TargetError::Config {
                name: name.to_string(),
                problem,
            })?;
        // One deadline for every request of this target (see registry::Deadline).
        let client = client.for_target();
        let registry = client.base_display();
        let packument_url = chosen.packument_url(name);
        let fetched = client.packument_reserved(name).await;
        // Held until the facts are derived: the bytes and the parsed view live that long. The
        // reservation that covered the download grows to that; it is never let go in between.
        let mut held = None;
        let fetched = match fetched {
            Ok((url, body, reservation)) => {
                let mut r = reservation.unwrap_or_else(|| registries.budget.reserve());
                r.grow_to(
                    (body.len() as u64)
                        .saturating_mul(BYTES_HELD_PER_BYTE)
                        .min(registries.largest_hold()),
                )
                .await;
                held = Some(r);
                Ok((url, body))
            }
            Err(e) => Err(e),
        };
        let (packument, body) = fetched
            .and_then(|(url, body)| parse_packument(&url, &body).map(|p| (p, body)))
            .map_err(|e| match e {
                FetchError::NotFound { .. } => TargetError::PackageNotFound {
                    name: name.to_string(),
                    registry: registry.clone(),
                    note: not_found_note(name, &chosen),
                },
                FetchError::Status { code: 401, .. } => TargetError::Unauthorized {
                    name: name.to_string(),
                    registry: registry.clone(),
                    auth: client.auth_note(&packument_url),
                },
                FetchError::Status { code: 403, .. } => TargetError::Forbidden {
                    name: name.to_string(),
                    registry: registry.clone(),
                    auth: client.auth_note(&packument_url),
                },
                source => TargetError::Fetch {
                    name: name.to_string(),
                    source,
                },
            })?;
        Ok(FetchedDocument {
            client,
            packument,
            body: Some(body),
            _held: held,
        })
    }

    /// The facts of one version of a fetched document: signatures, attestations, the tarball
    /// (its whole version document `whole` read beforehand, so the packument's bytes need not be
    /// held while it downloads), then the facts.
    pub(crate) async fn version_facts(
        &self,
        registries: &Registries,
        doc: &FetchedDocument,
        spec: &Spec,
        version: &str,
        whole: Option<Result<serde_json::Value, String>>,
    ) -> Result<(PackageFacts, Dist), TargetError> {
        let packument = &doc.packument;
        // Each version gets its own deadline, as a target does, and its evidence its own budget.
        let client = doc
            .client
            .for_target()
            .with_body_budget(registries.evidence_budget.clone());
        let registry = client.base_display();
        let missing = VersionDoc::default();
        let vdoc = packument.versions.get(version).unwrap_or(&missing);
        let dist = Dist {
            integrity: vdoc.dist.integrity.clone(),
            shasum: vdoc.dist.shasum.clone(),
        };
        let published = packument
            .time_of(version)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp());
        let mut evidence = self
            .evidence(&client, &spec.name, version, vdoc, published)
            .await;
        evidence.tarball = match &self.content_limits {
            None => {
                TarballEvidence::Unavailable("--no-tarball: the tarball was not downloaded".into())
            }
            Some(limits) => {
                let whole = whole.unwrap_or_else(|| {
                    Err("the version document was not read from the packument".into())
                });
                self.tarball_evidence(registries, &client, vdoc, whole, limits)
                    .await
            }
        };
        let facts = derive_facts(&DeriveInput {
            packument,
            version,
            requested: &spec.raw,
            resolved_via: spec.selector.kind(),
            registry: &registry,
            now: self.now,
            evidence: &evidence,
            trust_window_days: self.trust_window_days,
        });
        Ok((facts, dist))
    }

    /// Checks the registry signature and the attestations of one version. Network first, then
    /// the CPU-bound sigstore work on the blocking pool so it never stalls other fetches.
    async fn evidence(
        &self,
        client: &RegistryClient,
        name: &str,
        version: &str,
        doc: &VersionDoc,
        published: Option<i64>,
    ) -> Evidence {
        let registry = client.base_display();
        let integrity = doc.dist.integrity.clone().unwrap_or_default();
        let keys = client
            .keys()
            .await
            .map_err(|e| format!("could not get the registry's signing keys: {e}"));
        // The keys are fetched (once per registry) even for an unsigned version: a registry
        // without keys is the precise reason a signature check cannot be made there.
        let key_view = keys.as_ref().map(|k| k.as_deref()).map_err(Clone::clone);
        let signature = match signature_plan(doc, &key_view, &registry) {
            SignaturePlan::NotPresent => SignatureEvidence::NotPresent,
            SignaturePlan::NoKeys(reason) => SignatureEvidence::NoKeys(reason),
            SignaturePlan::Check(sigs, keys) => {
                let listed: Vec<RegistrySignature> = sigs
                    .iter()
                    .map(|s| RegistrySignature {
                        keyid: s.keyid.clone(),
                        sig: s.sig.clone(),
                    })
                    .collect();
                let (keyid, result) = verify_registry_signatures(
                    name,
                    version,
                    &integrity,
                    &listed,
                    keys,
                    published,
                    self.now.timestamp(),
                );
                SignatureEvidence::Checked { keyid, result }
            }
        };
        let listed = attestations_to_fetch(doc);
        let attestations = match listed {
            None => AttestationEvidence::NotListed,
            Some(listed_url) => {
                let url = client.attestations_url(listed_url, name, version);
                match client.attestations(&url).await {
                    Ok(None) => AttestationEvidence::Unavailable(format!(
                        "the version lists attestations but {} answered 404",
                        crate::registry::redact_url(&url)
                    )),
                    Err(e) => AttestationEvidence::Unavailable(format!(
                        "could not fetch the attestations: {e}"
                    )),
                    Ok(Some(bytes)) => {
                        let keys_available = matches!(keys, Ok(Some(_)));
                        let npm_keys = keys.ok().flatten().unwrap_or_default();
                        let expected = ExpectedPackage::new(name, version, &integrity);
                        let root = Arc::clone(&self.trusted_root);
                        let report = tokio::task::spawn_blocking(move || {
                            verify_attestations(&bytes, &expected, &npm_keys, &root)
                        })
                        .await;
                        match report {
                            Ok(report) => AttestationEvidence::Checked {
                                report: Box::new(report),
                                keys_available,
                            },
                            Err(e) => AttestationEvidence::Unavailable(format!(
                                "verification did not complete: {e}"
                            )),
                        }
                    }
                }
            }
        };
        Evidence {
            signature,
            attestations,
            tarball: TarballEvidence::NotChecked,
        }
    }

    /// Downloads the tarball (capped), checks it against `dist.integrity` before anything reads
    /// it, and only then analyses it, in memory, on the blocking pool.
    async fn tarball_evidence(
        &self,
        registries: &Registries,
        client: &RegistryClient,
        doc: &VersionDoc,
        whole: Result<serde_json::Value, String>,
        limits: &Limits,
    ) -> TarballEvidence {
        let dist = |v: &Option<String>| v.clone();
        let Some(listed) = dist(&doc.dist.tarball) else {
            return TarballEvidence::Unavailable("the version lists no dist.tarball".into());
        };
        let Ok(listed) = Url::parse(&listed) else {
            return TarballEvidence::Unavailable(format!("dist.tarball `{listed}` is not a URL"));
        };
        // pacote's replace-registry-host: a tarball on registry.npmjs.org is fetched from the
        // configured registry instead, as npm would.
        let url = crate::npmrc::replace_registry_host(
            &listed,
            client.base(),
            registries.config().get("replace-registry-host"),
        );
        let shown = crate::registry::redact_url(&url);
        // The reservation is held until the analysis is done with the bytes.
        let (bytes, _held) = match client
            .tarball_for(&url, limits.max_compressed, doc.dist.integrity.as_deref())
            .await
        {
            Ok(b) => b,
            Err(e) => {
                return TarballEvidence::Unavailable(format!("could not download the tarball: {e}"))
            }
        };
        let integrity = match (dist(&doc.dist.integrity), dist(&doc.dist.shasum)) {
            (Some(sri), _) => crate::content::check_integrity(&bytes, &sri),
            (None, Some(sha1)) => crate::content::check_shasum(&bytes, &sha1),
            (None, None) => {
                return TarballEvidence::Unavailable(
                    "the version lists neither dist.integrity nor dist.shasum to check the tarball against"
                        .into(),
                )
            }
        };
        let compressed_bytes = bytes.len() as u64;
        let report = if integrity.is_ok() {
            // The manifest comparison needs this version's whole document, which the typed view
            // skipped: it was read alone from the bytes before they were dropped.
            let doc = match whole {
                Ok(doc) => doc,
                Err(e) => {
                    return TarballEvidence::Unavailable(format!(
                        "the version document could not be read again: {e}"
                    ))
                }
            };
            let limits = *limits;
            // CPU-bound, and each analysis may hold a file of up to `max_file_scan` bytes: as
            // many at once as there are cores, not one per request in flight.
            let _analysis = registries
                .memo
                .analyses
                .acquire()
                .await
                .expect("never closed");
            tokio::task::spawn_blocking(move || crate::content::analyze(&bytes, &doc, &limits))
                .await
                .ok()
                .map(Box::new)
        } else {
            None
        };
        TarballEvidence::Checked {
            url: shown,
            compressed_bytes,
            integrity,
            report,
        }
    }

    /// A target's report: its checked facts, with its tree (if one was resolved) carried into
    /// its score and gate.
    fn report_with(
        &self,
        spec: &Spec,
        mut result: Result<Checked, TargetError>,
        tree: Option<Result<TreeReport, TreeError>>,
    ) -> PackageReport {
        if spec.ecosystem == crate::spec::Ecosystem::Pypi {
            let registry = self
                .registries
                .pypi()
                .map(|ix| crate::registry::redact_url(&ix.primary.url))
                .unwrap_or_default();
            return PackageReport {
                target: spec.raw.clone(),
                name: spec.name.clone(),
                registry,
                result,
            };
        }
        if let (Ok(checked), Some(tree)) = (&mut result, tree) {
            match tree {
                Ok(tree) => {
                    super::tree::aggregate(
                        &tree,
                        &mut checked.score,
                        &mut checked.findings,
                        &mut checked.inconclusive,
                        &mut checked.gate_failures,
                        &self.rules,
                        &self.policy,
                    );
                    checked.tree = Some(tree);
                }
                // A tree too large to resolve, or a shrinkwrap that cannot be read: the
                // package's dependencies were not checked, so neither was the package.
                Err(e) => {
                    result = Err(TargetError::Tree {
                        name: spec.name.clone(),
                        problem: e.to_string(),
                    })
                }
            }
        }
        // The same (cached) resolution `facts` used, so an error names the registry it asked.
        let registry = self
            .registries
            .resolve(&spec.name)
            .map(|(c, _)| c.base_display())
            .unwrap_or_default();
        PackageReport {
            target: spec.raw.clone(),
            name: spec.name.clone(),
            registry,
            result,
        }
    }
}

/// Every answer of the advisories endpoints, by (name, version).
pub type Advisories =
    std::collections::BTreeMap<(String, String), crate::registry::advisories::Outcome>;

/// The (name, version) pairs whose advisories `facts` need: the checked npm packages
/// (PyPI projects are not on an npm registry's advisories endpoint: their vulnerabilities come
/// from the index's JSON API, `pypi.vulnerabilities`). `names[i]` is the name asked for
/// `facts[i]`: the registry is chosen by it, never by the name a (possibly hostile) packument
/// claims.
pub fn advisory_pairs<'a>(
    names: &[&'a str],
    facts: &[Result<PackageFacts, TargetError>],
) -> Vec<(&'a str, String)> {
    names
        .iter()
        .zip(facts)
        .filter_map(|(name, f)| match f {
            Ok(f) if f.pypi.is_none() => Some((*name, f.package.version.clone())),
            _ => None,
        })
        .collect()
}

/// Fills `advisories` in each checked npm facts document from `all`.
pub fn apply_advisories(
    names: &[&str],
    facts: &mut [Result<PackageFacts, TargetError>],
    all: &Advisories,
) {
    for (name, f) in names.iter().zip(facts.iter_mut()) {
        let Ok(f) = f else { continue };
        if f.pypi.is_some() {
            continue;
        }
        let key = (name.to_string(), f.package.version.clone());
        // Two targets of one run may be the same package version: both read one answer.
        f.advisories = match all.get(&key) {
            Some(Ok(list)) => AdvisoryFacts::known(list.clone()),
            Some(Err(reason)) => AdvisoryFacts::unknown(reason),
            None => AdvisoryFacts::unknown("the package's registry could not be resolved"),
        };
    }
}

/// A full packument being audited: the typed view, and the bytes until every version to audit
/// has had its whole document read from them ([`FetchedDocument::take_whole`]). The budget
/// reservation is held as long as the document is.
pub(crate) struct FetchedDocument {
    client: RegistryClient,
    pub(crate) packument: crate::facts::npm::Packument,
    body: Option<Vec<u8>>,
    _held: Option<crate::registry::Reservation>,
}

impl FetchedDocument {
    /// The version of this document `spec` selects, as npm-pick-manifest would under `engines`.
    pub(crate) fn pick(&self, spec: &Spec, engines: &Engines) -> Result<String, TargetError> {
        let registry = self.client.base_display();
        pick_version_with(
            &self.packument,
            &spec.selector,
            spec.implicit_latest(),
            engines,
        )
        .map_err(|e| {
            let problem = match e {
                PickError::NoVersions => format!("the registry lists no versions ({registry})"),
                other => format!("{other} (registry {registry})"),
            };
            TargetError::VersionNotFound {
                name: spec.name.clone(),
                problem,
            }
        })
    }

    /// The whole document of each of `versions` (when `wanted`: only the tarball check reads
    /// it), read from the bytes, which are then dropped: they are not held while tarballs and
    /// attestations download.
    pub(crate) fn take_whole(
        &mut self,
        versions: &[String],
        wanted: bool,
    ) -> Vec<(String, Option<Result<serde_json::Value, String>>)> {
        let body = self.body.take();
        versions
            .iter()
            .map(|v| {
                let whole = match (&body, wanted) {
                    (Some(b), true) => Some(version_document(b, v).map_err(|e| e.to_string())),
                    _ => None,
                };
                (v.clone(), whole)
            })
            .collect()
    }
}

/// A 404 for a scoped name is most often a missing `@scope:registry`: say which setting chose
/// the registry that was asked.
fn not_found_note(name: &str, chosen: &ResolvedRegistry) -> String {
    let Some(scope) = crate::npmrc::package_scope(name) else {
        return String::new();
    };
    let at = chosen.source.at(chosen.line);
    if chosen.key == "registry" {
        format!(
            " (the registry was chosen by `registry` from {at}; if {scope} packages live on a \
             private registry, is `{scope}:registry` set?)"
        )
    } else {
        format!(" (the registry was chosen by `{}` from {at})", chosen.key)
    }
}
