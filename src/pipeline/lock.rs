//! `mcp-audit lock`: every package a lockfile pins, audited with the package rules exactly as
//! `scan name@version --no-deps` would (the same [`Scanner`]), plus the lockfile rules
//! (`lockentry.*`) over the entry itself. Both sets of evaluations are assessed together, so a
//! tampered entry lowers that package's score and reaches the gate like any package finding.
//!
//! Each distinct `name@version` is fetched once, however many install paths lock it.
//! Entries that do not come from a registry (git, remote tarballs, files, links, workspaces,
//! bundled) are not fetched: the lockfile rules judge them and their package rules are
//! inconclusive, never passed.

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};

use std::sync::Arc;

use super::scan::{Dist, Registries, Scanner};
use crate::error::TargetError;
use crate::facts::PackageFacts;
use crate::lockfile::facts::{lock_facts, ExpectedRegistry, LockFacts, LockInput, RegistryDist};
use crate::lockfile::{Format, LockError, LockedEntry, SourceKind};
use crate::report::{
    assess, Assessment, Policy, Status, Summary, EXIT_GATE_FAILED, EXIT_OK, EXIT_UNCHECKED,
};
use crate::spec::Spec;

#[derive(Debug, Clone)]
pub struct LockReport {
    pub generated_at: DateTime<Utc>,
    pub policy: Policy,
    pub files: Vec<LockFileReport>,
}

#[derive(Debug, Clone)]
pub struct LockFileReport {
    pub path: PathBuf,
    pub result: Result<LockAudit, LockError>,
}

#[derive(Debug, Clone)]
pub struct LockAudit {
    pub format: Format,
    pub entries: Vec<LockedReport>,
}

/// What became of a locked entry's package.
#[derive(Debug, Clone)]
pub enum LockedPackage {
    Scanned(Box<PackageFacts>),
    /// A registry package that could not be checked: the file is reported as not checked.
    Failed(TargetError),
    /// Not from a registry: not fetched, package rules inconclusive.
    NotFetched(String),
}

#[derive(Debug, Clone)]
pub struct LockedReport {
    pub entry: LockedEntry,
    /// The registry the package was (or would be) fetched from, redacted; empty when none.
    pub registry: String,
    pub lock_facts: LockFacts,
    pub package: LockedPackage,
    pub assessment: Assessment,
}

impl LockedReport {
    pub fn status(&self) -> Status {
        match &self.package {
            LockedPackage::Failed(_) => Status::Error,
            _ if self.assessment.gate_failures.is_empty() => Status::Passed,
            _ => Status::Failed,
        }
    }
}

impl LockReport {
    pub fn entries(&self) -> impl Iterator<Item = (&LockFileReport, &LockedReport)> {
        self.files.iter().flat_map(|f| {
            f.result
                .as_ref()
                .map(|a| a.entries.iter().map(move |e| (f, e)).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for (_, e) in self.entries() {
            s.packages += 1;
            match e.status() {
                Status::Passed => s.passed += 1,
                Status::Failed => s.failed += 1,
                Status::Error => s.errors += 1,
            }
            s.inconclusive += e.assessment.inconclusive.len();
        }
        s
    }

    /// 3 when a lockfile could not be read or a locked package could not be checked; 3 wins
    /// over 1, as for `scan`.
    pub fn exit_code(&self) -> u8 {
        let s = self.summary();
        if s.errors > 0 || self.files.iter().any(|f| f.result.is_err()) {
            EXIT_UNCHECKED
        } else if s.failed > 0 {
            EXIT_GATE_FAILED
        } else {
            EXIT_OK
        }
    }
}

type Fetched = Result<(PackageFacts, Dist), TargetError>;

/// A lockfile to audit: its path, what reading it gave, and the registries its package manager
/// installs from when they are not the scan's (a yarn berry project's `.yarnrc.yml`).
pub type LockInputFile = (
    PathBuf,
    Result<crate::lockfile::Lockfile, LockError>,
    Option<Arc<Registries>>,
);

/// Audits already-read lockfiles (an unreadable one stays in the report as its error).
pub async fn audit(
    scanner: &Scanner,
    files: Vec<(PathBuf, Result<crate::lockfile::Lockfile, LockError>)>,
) -> LockReport {
    audit_with(
        scanner,
        files.into_iter().map(|(p, r)| (p, r, None)).collect(),
    )
    .await
}

/// [`audit`], each file with the registries it is installed from (`None`: the scan's). Files
/// that share registries are fetched together, each distinct name@version once.
pub async fn audit_with(scanner: &Scanner, files: Vec<LockInputFile>) -> LockReport {
    let mut groups: Vec<(Option<Arc<Registries>>, Vec<usize>)> = Vec::new();
    for (i, (_, _, regs)) in files.iter().enumerate() {
        let same = |g: &Option<Arc<Registries>>| match (g, regs) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        match groups.iter_mut().find(|(g, _)| same(g)) {
            Some((_, members)) => members.push(i),
            None => groups.push((regs.clone(), vec![i])),
        }
    }
    let mut slots: Vec<Option<(PathBuf, Result<crate::lockfile::Lockfile, LockError>)>> =
        files.into_iter().map(|(p, r, _)| Some((p, r))).collect();
    let mut reports: Vec<Option<LockFileReport>> = (0..slots.len()).map(|_| None).collect();
    for (regs, members) in groups {
        let registries = regs.as_deref().unwrap_or(&scanner.registries);
        let group: Vec<_> = members.iter().filter_map(|&i| slots[i].take()).collect();
        let done = audit_group(scanner, registries, group).await;
        for (i, r) in members.into_iter().zip(done) {
            reports[i] = Some(r);
        }
    }
    LockReport {
        generated_at: scanner.now,
        policy: scanner.policy.clone(),
        files: reports.into_iter().flatten().collect(),
    }
}

async fn audit_group(
    scanner: &Scanner,
    registries: &Registries,
    files: Vec<(PathBuf, Result<crate::lockfile::Lockfile, LockError>)>,
) -> Vec<LockFileReport> {
    // Each distinct registry name@version once, across every file.
    let mut wanted: Vec<(String, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (_, f) in &files {
        for e in f.iter().flat_map(|f| &f.entries) {
            if e.source.from_registry() && seen.insert((e.name.clone(), e.version.clone())) {
                wanted.push((e.name.clone(), e.version.clone()));
            }
        }
    }
    let fetched: HashMap<(String, String), Fetched> = stream::iter(wanted)
        .map(|(name, version)| async move {
            let result = match Spec::parse(&format!("{name}@{version}")) {
                Ok(spec) if spec.name == name => scanner.facts_and_dist(registries, &spec).await,
                Ok(_) | Err(_) => Err(TargetError::Config {
                    name: name.clone(),
                    problem: format!("`{name}@{version}` is not a package name and version"),
                }),
            };
            ((name, version), result)
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let fetched = with_advisories(scanner, registries, fetched).await;
    files
        .into_iter()
        .map(|(path, parsed)| {
            let result = parsed.map(|lock| {
                let file = path.display().to_string();
                let format = lock.format.describe();
                let berry = matches!(lock.format, Format::YarnBerry(_));
                let entries = lock
                    .entries
                    .into_iter()
                    .map(|entry| judge(scanner, registries, &fetched, &file, &format, berry, entry))
                    .collect();
                LockAudit {
                    format: lock.format,
                    entries,
                }
            });
            LockFileReport { path, result }
        })
        .collect()
}

/// Known vulnerabilities for every locked package, in one bulk request per registry (as
/// `npm audit` sends a lockfile's set).
async fn with_advisories(
    scanner: &Scanner,
    registries: &Registries,
    fetched: HashMap<(String, String), Fetched>,
) -> HashMap<(String, String), Fetched> {
    let mut keys = Vec::with_capacity(fetched.len());
    let mut facts = Vec::with_capacity(fetched.len());
    let mut dists = HashMap::new();
    for (key, result) in fetched {
        facts.push(result.map(|(f, d)| {
            dists.insert(key.clone(), d);
            f
        }));
        keys.push(key);
    }
    let names: Vec<&str> = keys.iter().map(|(n, _)| n.as_str()).collect();
    scanner.add_advisories(registries, &names, &mut facts).await;
    keys.into_iter()
        .zip(facts)
        .map(|(key, f)| {
            let dist = dists.remove(&key).unwrap_or_default();
            (key, f.map(|f| (f, dist)))
        })
        .collect()
}

fn judge(
    scanner: &Scanner,
    registries: &Registries,
    fetched: &HashMap<(String, String), Fetched>,
    file: &str,
    format: &str,
    berry: bool,
    entry: LockedEntry,
) -> LockedReport {
    let expected = registries
        .config()
        .registry_for(&entry.name)
        .map(|r| ExpectedRegistry {
            url: r.url.as_url().clone(),
            by_scope: r.key != "registry",
        })
        .map_err(|e| e.to_string());
    let registry = expected
        .as_ref()
        .map(|e| crate::registry::redact_url(&e.url))
        .unwrap_or_default();
    let key = (entry.name.clone(), entry.version.clone());
    let (package, dist) = match fetched.get(&key) {
        _ if !entry.source.from_registry() => (
            LockedPackage::NotFetched(not_fetched_reason(entry.source)),
            RegistryDist::Unknown(format!("a {} entry is not fetched", entry.source.as_str())),
        ),
        Some(Ok((facts, dist))) => (
            LockedPackage::Scanned(Box::new(facts.clone())),
            RegistryDist::Known {
                integrity: dist.integrity.clone(),
                shasum: dist.shasum.clone(),
            },
        ),
        Some(Err(e)) => (
            LockedPackage::Failed(e.clone()),
            RegistryDist::Unknown(format!("the registry could not be asked: {e}")),
        ),
        None => (
            LockedPackage::NotFetched("not fetched".into()),
            RegistryDist::Unknown("not fetched".into()),
        ),
    };
    let lock_facts = lock_facts(&LockInput {
        file,
        format,
        entry: &entry,
        expected,
        dist,
        integrity_is_sri: !berry,
    });
    let rules = &scanner.rules;
    let mut evals = rules.evaluate_lock(&lock_facts);
    match &package {
        LockedPackage::Scanned(facts) => evals.extend(rules.evaluate(facts)),
        LockedPackage::Failed(e) => {
            evals.extend(rules.package_not_checked(&format!("package: {e}")))
        }
        LockedPackage::NotFetched(reason) => {
            evals.extend(rules.package_not_checked(&format!("package not fetched: {reason}")))
        }
    }
    let assessment = assess(
        &evals,
        rules,
        &scanner.policy,
        Some((entry.name.as_str(), Some(entry.version.as_str()))),
    );
    LockedReport {
        entry,
        registry,
        lock_facts,
        package,
        assessment,
    }
}

fn not_fetched_reason(source: SourceKind) -> String {
    match source {
        SourceKind::Bundled => {
            "bundled inside its parent's tarball, which is where it is audited".into()
        }
        SourceKind::Git => "a git dependency: mcp-audit does not fetch git sources".into(),
        SourceKind::RemoteTarball => {
            "a tarball URL outside the registry: mcp-audit does not fetch it".into()
        }
        other => format!("a {} entry of the project itself", other.as_str()),
    }
}
