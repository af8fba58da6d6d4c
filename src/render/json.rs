//! JSON output, schema_version 1. These wire types are separate from the internal ones on
//! purpose (zizmor #1101): refactoring `report` must never silently change what dashboards parse.
//! docs/output.md documents every field; change both together and bump the version on a break.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::config_wire::{WireEntry, WireFileError, WireLaunch, WireNote, WireProblem};
use crate::clients::Launch;
use crate::facts::LaunchFacts;
use crate::pipeline::config::{ConfigReport, FileReport, PackageOutcome, ServerReport};
use crate::report::{Finding, IgnoreApplied, Inconclusive, PackageReport, Policy, Report};
use crate::rules::score::Score;
use crate::secrets::{Redacted, Scrubber};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Wire<'a> {
    schema_version: u32,
    tool: Tool,
    generated_at: String,
    policy: WirePolicy<'a>,
    summary: WireSummary,
    exit_code: u8,
    packages: Vec<WirePackage<'a>>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct WirePolicy<'a> {
    fail_under: Option<u32>,
    min_coverage: Option<u32>,
    strict: bool,
    max_severity: Option<&'static str>,
    /// Where each gate value came from: `flag`, `file`, `default` or `unset`.
    gate_sources: BTreeMap<&'static str, &'static str>,
    registry: &'a str,
    rules: usize,
    rules_dir: Option<&'a str>,
    /// The policy file in effect, or null.
    file: Option<String>,
    rule_overrides: BTreeMap<&'a str, WireOverride>,
    allowed_registries: Option<WireAllowed<'a>>,
    ignores: Vec<WireIgnoreEntry<'a>>,
}

#[derive(Serialize)]
struct WireOverride {
    enabled: Option<bool>,
    severity: Option<&'static str>,
    weight: Option<u32>,
}

#[derive(Serialize)]
struct WireAllowed<'a> {
    allowed: Option<&'a [String]>,
    scopes: &'a BTreeMap<String, Vec<String>>,
}

#[derive(Serialize)]
struct WireIgnoreEntry<'a> {
    rule: &'a str,
    package: Option<String>,
    reason: &'a str,
    expires: Option<String>,
    expired: bool,
    line: usize,
}

#[derive(Serialize)]
pub(crate) struct WireIgnored<'a> {
    reason: &'a str,
    expires: Option<String>,
}

#[derive(Serialize)]
struct WireSummary {
    packages: usize,
    passed: usize,
    failed: usize,
    errors: usize,
    inconclusive: usize,
}

#[derive(Serialize)]
pub(crate) struct WirePackage<'a> {
    target: &'a str,
    ecosystem: &'static str,
    name: &'a str,
    version: Option<&'a str>,
    registry: &'a str,
    status: &'static str,
    score: Option<u32>,
    score_floor: Option<u32>,
    grade: Option<&'a str>,
    coverage: Option<u32>,
    capped: Option<bool>,
    categories: BTreeMap<&'a str, WireCategory>,
    findings: Vec<WireFinding<'a>>,
    inconclusive: Vec<WireInconclusive<'a>>,
    passed: Vec<&'a str>,
    gate_failures: Vec<&'a str>,
    facts: Option<Value>,
    error: Option<WireError>,
    /// The audited dependency tree; null with `--no-deps` or when the package was not checked.
    tree: Option<WireTree<'a>>,
}

#[derive(Serialize)]
struct WireTree<'a> {
    source: &'static str,
    nodes: Vec<WireNode<'a>>,
    problems: Vec<WireTreeProblem<'a>>,
}

#[derive(Serialize)]
struct WireNode<'a> {
    name: &'a str,
    version: &'a str,
    paths: &'a [Vec<String>],
    optional: bool,
    bundled: bool,
    score: Option<u32>,
    grade: Option<&'a str>,
    coverage: Option<u32>,
    findings: Vec<WireFinding<'a>>,
    inconclusive: Vec<WireInconclusive<'a>>,
    error: Option<&'a str>,
}

#[derive(Serialize)]
struct WireTreeProblem<'a> {
    name: &'a str,
    spec: &'a str,
    from: &'a [String],
    reason: &'a str,
    optional: bool,
    unavailable: bool,
}

fn tree(t: &crate::report::TreeReport) -> WireTree<'_> {
    WireTree {
        source: t.source,
        nodes: t
            .nodes
            .iter()
            .map(|n| {
                let ok = n.result.as_ref().ok();
                WireNode {
                    name: &n.name,
                    version: &n.version,
                    paths: &n.paths,
                    optional: n.optional,
                    bundled: n.bundled,
                    score: ok.map(|a| a.score.score),
                    grade: ok.map(|a| a.score.grade.as_str()),
                    coverage: ok.map(|a| a.score.coverage),
                    findings: ok.map(|a| findings(&a.findings)).unwrap_or_default(),
                    inconclusive: ok
                        .map(|a| inconclusive(&a.inconclusive))
                        .unwrap_or_default(),
                    error: n.result.as_ref().err().map(String::as_str),
                }
            })
            .collect(),
        problems: t
            .problems
            .iter()
            .map(|p| WireTreeProblem {
                name: &p.name,
                spec: &p.spec,
                from: &p.from,
                reason: &p.reason,
                optional: p.optional,
                unavailable: p.unavailable,
            })
            .collect(),
    }
}

#[derive(Serialize)]
struct WireCategory {
    score: Option<u32>,
    coverage: u32,
    findings: u32,
    inconclusive: u32,
}

#[derive(Serialize)]
pub(crate) struct WireFinding<'a> {
    rule: &'a str,
    title: &'a str,
    category: &'a str,
    severity: &'static str,
    confidence: &'static str,
    weight: u32,
    message: &'a str,
    evidence: &'a BTreeMap<String, Value>,
    remediation: &'a str,
    docs: &'a str,
    /// The policy ignore that keeps it out of the score and the gate, or null.
    ignored: Option<WireIgnored<'a>>,
    /// An ignore that covered it until it expired: the finding counts again.
    ignore_expired: Option<WireIgnored<'a>>,
}

#[derive(Serialize)]
pub(crate) struct WireInconclusive<'a> {
    rule: &'a str,
    title: &'a str,
    category: &'a str,
    severity: &'static str,
    weight: u32,
    /// All reasons joined, for consumers that want one string.
    reason: String,
    reasons: &'a [String],
}

#[derive(Serialize)]
struct WireError {
    kind: &'static str,
    message: String,
}

pub(crate) fn package(p: &PackageReport) -> WirePackage<'_> {
    // A report carries no ecosystem of its own; the facts (or, for an error, the spec) say it.
    let ecosystem = match &p.result {
        Ok(c) if c.facts.package.ecosystem == "pypi" => "pypi",
        Err(_)
            if crate::spec::Spec::parse(&p.target)
                .is_ok_and(|s| s.ecosystem == crate::spec::Ecosystem::Pypi) =>
        {
            "pypi"
        }
        _ => "npm",
    };
    let mut w = WirePackage {
        target: &p.target,
        ecosystem,
        name: &p.name,
        version: None,
        registry: &p.registry,
        status: p.status().as_str(),
        score: None,
        score_floor: None,
        grade: None,
        coverage: None,
        capped: None,
        categories: BTreeMap::new(),
        findings: vec![],
        inconclusive: vec![],
        passed: vec![],
        gate_failures: vec![],
        facts: None,
        error: None,
        tree: None,
    };
    match &p.result {
        Err(e) => {
            w.error = Some(WireError {
                kind: e.kind(),
                message: e.to_string(),
            })
        }
        Ok(c) => {
            w.version = Some(&c.version);
            w.score = Some(c.score.score);
            w.score_floor = Some(c.score.floor);
            w.grade = Some(&c.score.grade);
            w.coverage = Some(c.score.coverage);
            w.capped = Some(c.score.capped);
            w.categories = categories(&c.score);
            w.findings = findings(&c.findings);
            w.inconclusive = inconclusive(&c.inconclusive);
            w.passed = c.passed.iter().map(String::as_str).collect();
            w.gate_failures = c.gate_failures.iter().map(String::as_str).collect();
            w.facts = Some(serde_json::to_value(&c.facts).expect("facts serialize"));
            w.tree = c.tree.as_ref().map(tree);
        }
    }
    w
}

fn categories(score: &Score) -> BTreeMap<&str, WireCategory> {
    score
        .categories
        .iter()
        .map(|(k, v)| {
            (
                k.as_str(),
                WireCategory {
                    score: v.score,
                    coverage: v.coverage,
                    findings: v.findings,
                    inconclusive: v.inconclusive,
                },
            )
        })
        .collect()
}

pub(crate) fn findings(list: &[Finding]) -> Vec<WireFinding<'_>> {
    list.iter()
        .map(|f| WireFinding {
            rule: &f.rule,
            title: &f.title,
            category: &f.category,
            severity: f.severity.as_str(),
            confidence: f.confidence.as_str(),
            weight: f.weight,
            message: &f.message,
            evidence: &f.evidence,
            remediation: &f.remediation,
            docs: &f.docs,
            ignored: f.ignore.as_ref().filter(|i| !i.expired).map(ignored),
            ignore_expired: f.ignore.as_ref().filter(|i| i.expired).map(ignored),
        })
        .collect()
}

pub(crate) fn inconclusive(list: &[Inconclusive]) -> Vec<WireInconclusive<'_>> {
    list.iter()
        .map(|i| WireInconclusive {
            rule: &i.rule,
            title: &i.title,
            category: &i.category,
            severity: i.severity.as_str(),
            weight: i.weight,
            reason: i.reasons.join("; "),
            reasons: &i.reasons,
        })
        .collect()
}

fn tool() -> Tool {
    Tool {
        name: "mcp-audit",
        version: env!("CARGO_PKG_VERSION"),
    }
}

fn ignored(i: &IgnoreApplied) -> WireIgnored<'_> {
    WireIgnored {
        reason: &i.reason,
        expires: i.expires.map(|d| d.to_string()),
    }
}

fn policy(p: &Policy) -> WirePolicy<'_> {
    let keys = ["fail_under", "min_coverage", "strict", "max_severity"];
    let file = p.file.as_deref();
    WirePolicy {
        fail_under: p.fail_under,
        min_coverage: p.min_coverage,
        strict: p.strict,
        max_severity: p.max_severity.map(|s| s.as_str()),
        gate_sources: keys
            .into_iter()
            .zip(p.sources.iter().map(|s| s.as_str()))
            .collect(),
        registry: &p.registry,
        rules: p.rules,
        rules_dir: p.rules_dir.as_deref(),
        file: file.map(|f| f.path.display().to_string()),
        rule_overrides: file
            .map(|f| {
                f.rules
                    .iter()
                    .map(|(id, o)| {
                        (
                            id.as_str(),
                            WireOverride {
                                enabled: o.enabled,
                                severity: o.severity.map(|s| s.as_str()),
                                weight: o.weight,
                            },
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        allowed_registries: file
            .and_then(|f| f.registries.as_ref())
            .map(|a| WireAllowed {
                allowed: a.default.as_deref(),
                scopes: &a.scopes,
            }),
        ignores: file
            .map(|f| {
                f.ignores
                    .iter()
                    .map(|i| WireIgnoreEntry {
                        rule: &i.rule,
                        package: i.package.as_ref().map(|m| m.display()),
                        reason: &i.reason,
                        expires: i.expires.map(|d| d.to_string()),
                        expired: i.expired(p.today),
                        line: i.line,
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

pub fn render(report: &Report) -> String {
    let s = report.summary();
    let wire = Wire {
        schema_version: SCHEMA_VERSION,
        tool: tool(),
        generated_at: report
            .generated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        policy: policy(&report.policy),
        summary: WireSummary {
            packages: s.packages,
            passed: s.passed,
            failed: s.failed,
            errors: s.errors,
            inconclusive: s.inconclusive,
        },
        exit_code: report.exit_code(),
        packages: report.packages.iter().map(package).collect(),
    };
    let mut out = serde_json::to_string_pretty(&wire).expect("wire types serialize");
    out.push('\n');
    out
}

// ---- `mcp-audit config` -------------------------------------------------------------------

#[derive(Serialize)]
struct WireConfig<'a> {
    schema_version: u32,
    /// `config`: tells this document from a `scan` one (which has `packages`).
    kind: &'static str,
    tool: Tool,
    generated_at: String,
    policy: WirePolicy<'a>,
    summary: WireConfigSummary,
    exit_code: u8,
    /// With `--discover`: every location looked at. `null` without it.
    discovered: Option<Vec<WireDiscovered<'a>>>,
    files: Vec<WireFile<'a>>,
}

#[derive(Serialize)]
struct WireConfigSummary {
    files: usize,
    file_errors: usize,
    servers: usize,
    passed: usize,
    failed: usize,
    errors: usize,
    not_scanned: usize,
    inconclusive: usize,
}

#[derive(Serialize)]
struct WireDiscovered<'a> {
    client: &'static str,
    scope: &'a crate::clients::Scope,
    path: String,
    found: bool,
}

#[derive(Serialize)]
struct WireFile<'a> {
    path: String,
    client: Option<&'static str>,
    /// `ok` or `error` (the file could not be read or parsed).
    status: &'static str,
    error: Option<WireFileError>,
    notes: Vec<WireNote>,
    /// Fields dropped from servers that are still audited.
    warnings: Vec<WireProblem>,
    /// Entries that cannot be started as written; each counts as not checked.
    unreadable_servers: Vec<WireProblem>,
    servers: Vec<WireServer<'a>>,
}

#[derive(Serialize)]
struct WireServer<'a> {
    name: &'a str,
    project: Option<&'a str>,
    line: Option<usize>,
    disabled: bool,
    status: &'static str,
    /// The entry as written, with credentials redacted.
    entry: WireEntry,
    /// What it starts (redacted): `{"npm": {...}}`, `{"docker": {...}}`...
    launch: WireLaunch,
    package: WireServerPackage<'a>,
    score: u32,
    score_floor: u32,
    grade: &'a str,
    coverage: u32,
    capped: bool,
    categories: BTreeMap<&'a str, WireCategory>,
    /// Launch and package findings together; launch findings have category `launch`.
    findings: Vec<WireFinding<'a>>,
    inconclusive: Vec<WireInconclusive<'a>>,
    passed: &'a [String],
    gate_failures: &'a [String],
    notes: &'a [String],
    launch_facts: &'a LaunchFacts,
    /// The package's facts, when it was scanned.
    facts: Option<Value>,
    /// A JFrog wrapper entry: the MCP it loads (audited as the next server, with `via`).
    wraps: Option<WireJfrog>,
    /// This server is the MCP a JFrog wrapper entry loads (the previous server, with `wraps`).
    via: Option<WireJfrog>,
}

/// The link between a JFrog wrapper entry and the MCP it loads; docs/output.md.
#[derive(Serialize)]
struct WireJfrog {
    /// `@jfrog/agent-guard` or `@jfrog/mcp-gateway`.
    wrapper: &'static str,
    /// The variable the arguments were read from.
    env: &'static str,
    server_id: Option<Redacted>,
    project: Option<Redacted>,
    mcp: Option<Redacted>,
    /// Names of the other keys (values hidden: they may be credentials).
    other_keys: Vec<Redacted>,
    /// `npm`, `npm-or-pypi`, `catalog-name` or `unknown`, from the name alone.
    name_kind: &'static str,
    /// `npm` or `pypi` once decided, else null.
    ecosystem: Option<&'static str>,
    /// How the ecosystem was decided, or why it was not.
    basis: Redacted,
    /// Why the MCP cannot be read from the entry, else null.
    problem: Option<Redacted>,
}

fn jfrog(link: &crate::pipeline::config::JfrogLink, scrub: &Scrubber) -> WireJfrog {
    let w = &link.wrapper;
    let r = |v: &Option<String>| v.as_deref().map(|v| scrub.value(None, v));
    WireJfrog {
        wrapper: w.wrapper,
        env: w.env,
        server_id: r(&w.server),
        project: r(&w.project),
        mcp: r(&w.mcp),
        other_keys: w.other_keys.iter().map(|k| scrub.scrub(k)).collect(),
        name_kind: w.kind.as_str(),
        ecosystem: link.ecosystem,
        basis: scrub.scrub(&link.basis),
        problem: w.problem.as_deref().map(|p| scrub.scrub(p)),
    }
}

#[derive(Serialize)]
struct WireServerPackage<'a> {
    /// `scanned`, `error` or `not-scanned`.
    status: &'static str,
    ecosystem: Option<&'static str>,
    name: Option<String>,
    version: Option<&'a str>,
    registry: Option<&'a str>,
    reason: Option<String>,
    error: Option<WireError>,
    /// The audited dependency tree, as in `scan`'s JSON; null unless scanned without --no-deps.
    tree: Option<WireTree<'a>>,
}

fn server(s: &ServerReport) -> WireServer<'_> {
    let a = &s.assessment;
    // The launcher decides the ecosystem of the package it installs.
    let ecosystem = match (&s.via, &s.launch) {
        (Some(v), _) => v.ecosystem.unwrap_or("npm"),
        (_, Launch::PyPi { .. }) => "pypi",
        _ => "npm",
    };
    let package = match &s.package {
        PackageOutcome::Scanned {
            registry,
            facts,
            tree: t,
        } => WireServerPackage {
            tree: t.as_deref().map(tree),
            status: "scanned",
            ecosystem: Some(ecosystem),
            name: Some(facts.package.name.clone()),
            version: Some(&facts.package.version),
            registry: Some(registry),
            reason: None,
            error: None,
        },
        PackageOutcome::Failed {
            name,
            registry,
            error,
        } => WireServerPackage {
            tree: None,
            status: "error",
            ecosystem: Some(ecosystem),
            name: Some(s.show(name)),
            version: None,
            registry: (!registry.is_empty()).then_some(registry.as_str()),
            reason: None,
            error: Some(WireError {
                kind: error.kind(),
                message: s.show(&error.to_string()),
            }),
        },
        PackageOutcome::NotScanned { reason } => {
            // An npm registry package that was not fetched (`--no-scan`, a pinned version the
            // registry lacks) still has a name worth showing.
            let npm_name = match &s.launch {
                Launch::Npm { spec, .. } => crate::spec::registry_spec(spec)
                    .ok()
                    .map(|p| s.show(&p.name)),
                _ => None,
            };
            WireServerPackage {
                tree: None,
                status: "not-scanned",
                ecosystem: npm_name.as_ref().map(|_| "npm"),
                name: npm_name,
                version: None,
                registry: s.launch_facts.launch.registry.as_deref(),
                reason: Some(reason.clone()),
                error: None,
            }
        }
    };
    WireServer {
        name: &s.entry.name,
        project: s.entry.project.as_deref(),
        line: s.entry.line,
        disabled: s.entry.disabled,
        status: s.status().as_str(),
        entry: WireEntry::new(&s.entry, &s.scrub),
        launch: WireLaunch::new(&s.launch, &s.scrub),
        package,
        score: a.score.score,
        score_floor: a.score.floor,
        grade: &a.score.grade,
        coverage: a.score.coverage,
        capped: a.score.capped,
        categories: categories(&a.score),
        findings: findings(&a.findings),
        inconclusive: inconclusive(&a.inconclusive),
        passed: &a.passed,
        gate_failures: &a.gate_failures,
        notes: &s.notes,
        launch_facts: &s.launch_facts,
        facts: match &s.package {
            PackageOutcome::Scanned { facts, .. } => {
                Some(serde_json::to_value(facts).expect("facts serialize"))
            }
            _ => None,
        },
        wraps: s.wraps.as_ref().map(|l| jfrog(l, &s.scrub)),
        via: s.via.as_ref().map(|l| jfrog(l, &s.scrub)),
    }
}

fn file(f: &FileReport) -> WireFile<'_> {
    let problems = |p: &[crate::clients::ServerProblem]| p.iter().map(WireProblem::from).collect();
    let (status, error, notes, warnings, unreadable, servers) = match &f.result {
        Err(e) => (
            "error",
            Some(WireFileError::from(e)),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        ),
        Ok(a) => (
            "ok",
            None,
            a.notes.iter().map(WireNote::from).collect(),
            problems(&a.warnings),
            problems(&a.unreadable),
            a.servers.iter().map(server).collect(),
        ),
    };
    WireFile {
        path: f.path.display().to_string(),
        client: f.client.map(|c| c.id()),
        status,
        error,
        notes,
        warnings,
        unreadable_servers: unreadable,
        servers,
    }
}

pub fn render_config(report: &ConfigReport) -> String {
    let s = report.summary();
    let wire = WireConfig {
        schema_version: SCHEMA_VERSION,
        kind: "config",
        tool: tool(),
        generated_at: report
            .generated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        policy: policy(&report.policy),
        summary: WireConfigSummary {
            files: s.files,
            file_errors: s.file_errors,
            servers: s.servers,
            passed: s.passed,
            failed: s.failed,
            errors: s.errors,
            not_scanned: s.not_scanned,
            inconclusive: s.inconclusive,
        },
        exit_code: report.exit_code(),
        discovered: report.discovered.as_ref().map(|d| {
            d.iter()
                .map(|(k, found)| WireDiscovered {
                    client: k.client.id(),
                    scope: &k.scope,
                    path: k.path.display().to_string(),
                    found: *found,
                })
                .collect()
        }),
        files: report.files.iter().map(file).collect(),
    };
    let mut out = serde_json::to_string_pretty(&wire).expect("wire types serialize");
    out.push('\n');
    out
}

/// `mcp-audit lock`: the scan document (`packages[]`, one per locked entry, same fields as
/// `scan`), plus `kind`, the lockfiles read, and for each package where the lockfile locks it.
#[derive(Serialize)]
struct WireLock<'a> {
    schema_version: u32,
    kind: &'static str,
    tool: Tool,
    generated_at: String,
    policy: WirePolicy<'a>,
    summary: WireLockSummary,
    exit_code: u8,
    lockfiles: Vec<WireLockfile>,
    packages: Vec<WireLockedPackage<'a>>,
}

#[derive(Serialize)]
struct WireLockSummary {
    packages: usize,
    passed: usize,
    failed: usize,
    errors: usize,
    inconclusive: usize,
    lockfiles: usize,
    lockfile_errors: usize,
}

#[derive(Serialize)]
struct WireLockfile {
    path: String,
    /// `ok`, or `error` when it could not be read or parsed.
    status: &'static str,
    format: Option<String>,
    entries: usize,
    /// `{line, message}`: the line is null when the error has none.
    error: Option<WireLockError>,
}

#[derive(Serialize)]
struct WireLockError {
    line: Option<usize>,
    message: String,
}

#[derive(Serialize)]
struct WireLockedPackage<'a> {
    #[serde(flatten)]
    package: WirePackage<'a>,
    /// Where the lockfile locks it, and what it says.
    lock: WireLockEntry<'a>,
}

#[derive(Serialize)]
struct WireLockEntry<'a> {
    file: String,
    line: Option<usize>,
    key: &'a str,
    alias: Option<&'a str>,
    /// `registry`, `git`, `remote-tarball`, `file`, `link`, `workspace` or `bundled`.
    source: &'static str,
    resolved: Option<&'a str>,
    integrity: Option<&'a str>,
    /// `scanned`, `error` or `not-fetched` (not from a registry: package rules inconclusive).
    package_status: &'static str,
    not_fetched_reason: Option<&'a str>,
    lock_facts: &'a crate::lockfile::facts::LockFacts,
    /// pnpm: how each importer (workspace directory, `.` for the root) reaches the package.
    paths: &'a [Vec<String>],
}

pub fn render_lock(report: &crate::pipeline::lock::LockReport) -> String {
    use crate::pipeline::lock::LockedPackage;
    let s = report.summary();
    let mut packages = Vec::new();
    for (f, r) in report.entries() {
        let a = &r.assessment;
        let e = &r.entry;
        let (facts, error, package_status, reason) = match &r.package {
            LockedPackage::Scanned(facts) => (
                Some(serde_json::to_value(facts).expect("facts serialize")),
                None,
                "scanned",
                None,
            ),
            LockedPackage::Failed(err) => (
                None,
                Some(WireError {
                    kind: err.kind(),
                    message: err.to_string(),
                }),
                "error",
                None,
            ),
            LockedPackage::NotFetched(reason) => (None, None, "not-fetched", Some(reason.as_str())),
        };
        packages.push(WireLockedPackage {
            package: WirePackage {
                target: &e.key,
                ecosystem: "npm",
                name: &e.name,
                version: Some(&e.version),
                registry: &r.registry,
                status: r.status().as_str(),
                score: Some(a.score.score),
                score_floor: Some(a.score.floor),
                grade: Some(&a.score.grade),
                coverage: Some(a.score.coverage),
                capped: Some(a.score.capped),
                categories: categories(&a.score),
                findings: findings(&a.findings),
                inconclusive: inconclusive(&a.inconclusive),
                passed: a.passed.iter().map(String::as_str).collect(),
                // A lockfile pins the whole set: each locked package is its own entry.
                tree: None,
                gate_failures: a.gate_failures.iter().map(String::as_str).collect(),
                facts,
                error,
            },
            lock: WireLockEntry {
                file: f.path.display().to_string(),
                line: e.line,
                key: &e.key,
                alias: e.alias.as_deref(),
                source: e.source.as_str(),
                resolved: e.resolved.as_deref(),
                integrity: e.integrity.as_deref(),
                package_status,
                not_fetched_reason: reason,
                lock_facts: &r.lock_facts,
                paths: &e.paths,
            },
        });
    }
    let lockfiles: Vec<WireLockfile> = report
        .files
        .iter()
        .map(|f| match &f.result {
            Ok(a) => WireLockfile {
                path: f.path.display().to_string(),
                status: "ok",
                format: Some(a.format.describe()),
                entries: a.entries.len(),
                error: None,
            },
            Err(e) => WireLockfile {
                path: f.path.display().to_string(),
                status: "error",
                format: None,
                entries: 0,
                error: Some(WireLockError {
                    line: e.line,
                    message: e.message.clone(),
                }),
            },
        })
        .collect();
    let wire = WireLock {
        schema_version: SCHEMA_VERSION,
        kind: "lock",
        tool: tool(),
        generated_at: report
            .generated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        policy: policy(&report.policy),
        summary: WireLockSummary {
            packages: s.packages,
            passed: s.passed,
            failed: s.failed,
            errors: s.errors,
            inconclusive: s.inconclusive,
            lockfiles: report.files.len(),
            lockfile_errors: report.files.iter().filter(|f| f.result.is_err()).count(),
        },
        exit_code: report.exit_code(),
        lockfiles,
        packages,
    };
    let mut out = serde_json::to_string_pretty(&wire).expect("wire types serialize");
    out.push('\n');
    out
}
