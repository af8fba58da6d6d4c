//! `mcp-audit server`: each file's audit, its exit code, and its two renderings. The output goes
//! through the command layer's sanitizer like every other report (see
//! [`crate::render::sanitize`]).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::facts::{server_facts_with, shown, PackageIdentity};
use super::scan::{identity, PackageAudit};
use super::{parse, ServerJson, ServerJsonFacts};
use crate::render::json;
use crate::report::{assess, Assessment, Policy, EXIT_GATE_FAILED, EXIT_OK, EXIT_UNCHECKED};
use crate::rules::RuleSet;

/// Why the packages of a file were not looked at (this slice never fetches).
pub const NOT_SCANNED: &str = "not scanned (--no-scan)";

#[derive(Debug, Clone)]
pub struct ServerFileReport {
    /// The file, as given.
    pub file: String,
    pub outcome: FileOutcome,
}

#[derive(Debug, Clone)]
pub enum FileOutcome {
    /// The file could not be read as JSON (one line, naming no content).
    Error(String),
    Audited(Box<Audited>),
}

#[derive(Debug, Clone)]
pub struct Audited {
    pub server: ServerJson,
    pub facts: ServerJsonFacts,
    /// The server's own rules (and, when no package was scanned, every package rule as
    /// inconclusive).
    pub assessment: Assessment,
    /// One per `packages[]` entry, in order.
    pub packages: Vec<PackageAudit>,
}

impl Audited {
    /// Failed when the server or one of its scanned packages failed the gate.
    pub fn failed(&self) -> bool {
        !self.assessment.gate_failures.is_empty()
            || self.packages.iter().any(|p| p.status() == "failed")
    }

    /// A package could not be checked (the registry was asked and did not tell).
    pub fn unchecked(&self) -> bool {
        self.packages.iter().any(|p| p.status() == "error")
    }
}

/// Reads and audits every file, in order; a broken file does not stop the others.
pub fn audit_files(files: &[PathBuf], rules: &RuleSet, policy: &Policy) -> Vec<ServerFileReport> {
    files
        .iter()
        .map(|path| {
            let file = path.display().to_string();
            let outcome = match std::fs::read(path) {
                Err(e) => FileOutcome::Error(format!("cannot read: {e}")),
                Ok(bytes) => match parse(&bytes) {
                    Err(e) => FileOutcome::Error(e.to_string()),
                    Ok(server) => {
                        FileOutcome::Audited(Box::new(audit(&file, server, rules, policy)))
                    }
                },
            };
            ServerFileReport { file, outcome }
        })
        .collect()
}

/// The rules over one parsed description. Its packages are not scanned, so every package rule
/// is inconclusive for that reason: unknown, not passed.
pub fn audit(file: &str, server: ServerJson, rules: &RuleSet, policy: &Policy) -> Audited {
    let packages = server
        .packages
        .iter()
        .map(|_| PackageAudit::not_scanned(NOT_SCANNED, rules, policy))
        .collect();
    assemble(file, server, packages, rules, policy)
}

/// The rules over one description whose packages were each scanned or not (`packages` is in
/// the order of `server.packages`). When none was scanned, every package rule is inconclusive
/// in the server's own assessment too, so its coverage does not read as a package check.
pub fn assemble(
    file: &str,
    server: ServerJson,
    packages: Vec<PackageAudit>,
    rules: &RuleSet,
    policy: &Policy,
) -> Audited {
    let scanned = packages.iter().any(|p| p.checked().is_some());
    let first_reason = packages.iter().find_map(|p| match p {
        PackageAudit::NotScanned { reason, .. } => Some(reason.clone()),
        PackageAudit::Fetched(r) => r
            .result
            .as_ref()
            .err()
            .map(|e| format!("{} could not be checked ({})", r.name, e.kind())),
    });
    let ident = if scanned {
        identity(&server, &packages)
    } else {
        PackageIdentity::not_scanned(&server, first_reason.as_deref().unwrap_or(NOT_SCANNED))
    };
    let facts = server_facts_with(file, &server, ident);
    let mut evals = rules.evaluate_server_json(&facts);
    if !server.packages.is_empty() && !scanned {
        let reason = first_reason.unwrap_or_else(|| NOT_SCANNED.into());
        let reason = if reason == NOT_SCANNED {
            format!("packages {NOT_SCANNED}")
        } else {
            format!("no package was scanned: {reason}")
        };
        evals.extend(rules.package_not_checked(&reason));
    }
    let assessment = assess(&evals, rules, policy, None);
    Audited {
        server,
        facts,
        assessment,
        packages,
    }
}

/// As for `config`: 3 when a file could not be checked (3 wins over 1), 1 when a server failed
/// the gate.
pub fn exit_code(reports: &[ServerFileReport]) -> u8 {
    let mut failed = false;
    for r in reports {
        match &r.outcome {
            FileOutcome::Error(_) => return EXIT_UNCHECKED,
            FileOutcome::Audited(a) if a.unchecked() => return EXIT_UNCHECKED,
            FileOutcome::Audited(a) => failed |= a.failed(),
        }
    }
    if reports.is_empty() {
        EXIT_UNCHECKED
    } else if failed {
        EXIT_GATE_FAILED
    } else {
        EXIT_OK
    }
}

#[derive(Serialize)]
struct Wire<'a> {
    schema_version: u32,
    /// `server`: tells this document from a `scan` or `config` one.
    kind: &'static str,
    tool: WireTool,
    generated_at: String,
    summary: WireSummary,
    exit_code: u8,
    servers: Vec<WireServer<'a>>,
}

#[derive(Serialize)]
struct WireTool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct WireSummary {
    files: usize,
    servers: usize,
    failed: usize,
    errors: usize,
    findings: usize,
    inconclusive: usize,
}

#[derive(Serialize)]
pub(super) struct WireServer<'a> {
    file: &'a str,
    /// `passed`, `failed` (the gate) or `error` (the file could not be read).
    status: &'static str,
    name: Option<String>,
    version: Option<String>,
    schema: Option<String>,
    score: Option<u32>,
    score_floor: Option<u32>,
    grade: Option<&'a str>,
    coverage: Option<u32>,
    findings: Vec<json::WireFinding<'a>>,
    inconclusive: Vec<json::WireInconclusive<'a>>,
    gate_failures: Vec<&'a str>,
    packages: Vec<WirePackage<'a>>,
    remotes: Vec<WireRemote<'a>>,
    facts: Option<Value>,
    error: Option<&'a str>,
    /// The registry's lifecycle status (`active`, `deprecated`, `deleted`); null for a file.
    registry_status: Option<String>,
    registry_status_message: Option<String>,
}

#[derive(Serialize)]
struct WirePackage<'a> {
    /// `npm`, `pypi`, `oci`, `nuget`, `mcpb`, or what the file says.
    ecosystem: Option<&'a str>,
    identifier: Option<String>,
    version: Option<String>,
    transport: Option<&'a str>,
    /// Why it was not scanned (`not scanned (--no-scan)` when not asked to), or `scanned`.
    status: String,
    /// `not-scanned`, `passed`, `failed` or `error`.
    outcome: &'static str,
    /// Why it was not scanned; null when it was.
    reason: Option<&'a str>,
    /// The package's report, as `scan` writes it, when it was fetched.
    report: Option<json::WirePackage<'a>>,
}

#[derive(Serialize)]
struct WireRemote<'a> {
    #[serde(rename = "type")]
    kind: Option<&'a str>,
    url: Option<String>,
}

pub(super) fn server(r: &ServerFileReport) -> WireServer<'_> {
    let a = match &r.outcome {
        FileOutcome::Error(e) => {
            return WireServer {
                file: &r.file,
                status: "error",
                name: None,
                version: None,
                schema: None,
                score: None,
                score_floor: None,
                grade: None,
                coverage: None,
                findings: vec![],
                inconclusive: vec![],
                gate_failures: vec![],
                packages: vec![],
                remotes: vec![],
                facts: None,
                error: Some(e),
                registry_status: None,
                registry_status_message: None,
            }
        }
        FileOutcome::Audited(a) => a,
    };
    let s = &a.assessment;
    WireServer {
        file: &r.file,
        status: if a.failed() {
            "failed"
        } else if a.unchecked() {
            "error"
        } else {
            "passed"
        },
        name: a.server.name.as_deref().map(shown),
        version: a.server.version.as_deref().map(shown),
        schema: Some(a.server.schema_version.label()),
        score: Some(s.score.score),
        score_floor: Some(s.score.floor),
        grade: Some(&s.score.grade),
        coverage: Some(s.score.coverage),
        findings: json::findings(&s.findings),
        inconclusive: json::inconclusive(&s.inconclusive),
        gate_failures: s.gate_failures.iter().map(String::as_str).collect(),
        packages: a
            .server
            .packages
            .iter()
            .zip(&a.packages)
            .map(|(p, audit)| {
                let (reason, report) = match audit {
                    PackageAudit::NotScanned { reason, .. } => (Some(reason.as_str()), None),
                    PackageAudit::Fetched(r) => (None, Some(json::package(r))),
                };
                WirePackage {
                    ecosystem: p.registry_type.as_deref(),
                    identifier: p.identifier.as_deref().map(shown),
                    version: p.version.as_deref().map(shown),
                    transport: p.transport.as_deref(),
                    status: reason.map_or_else(|| "scanned".to_string(), str::to_string),
                    outcome: audit.status(),
                    reason,
                    report,
                }
            })
            .collect(),
        remotes: a
            .server
            .remotes
            .iter()
            .map(|r| WireRemote {
                kind: r.kind.as_deref(),
                url: r.url.as_deref().map(shown),
            })
            .collect(),
        facts: Some(serde_json::to_value(&a.facts).expect("facts serialize")),
        error: None,
        registry_status: a.facts.serverjson.registry_status.clone(),
        registry_status_message: a.facts.serverjson.registry_status_message.clone(),
    }
}

/// The counts over `files` files' servers, as both the `server` and `registry` JSON give them.
fn summary(files: usize, servers: &[WireServer<'_>]) -> WireSummary {
    WireSummary {
        files,
        servers: servers.iter().filter(|s| s.status != "error").count(),
        failed: servers.iter().filter(|s| s.status == "failed").count(),
        errors: servers.iter().filter(|s| s.status == "error").count(),
        findings: servers.iter().map(|s| s.findings.len()).sum(),
        inconclusive: servers.iter().map(|s| s.inconclusive.len()).sum(),
    }
}

/// The JSON document (schema_version 1, `kind: "server"`, docs/output.md).
pub fn render_json(reports: &[ServerFileReport], generated_at: DateTime<Utc>) -> String {
    let servers: Vec<WireServer<'_>> = reports.iter().map(server).collect();
    let summary = summary(reports.len(), &servers);
    let wire = Wire {
        schema_version: crate::render::json::SCHEMA_VERSION,
        kind: "server",
        tool: WireTool {
            name: "mcp-audit",
            version: env!("CARGO_PKG_VERSION"),
        },
        generated_at: generated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        summary,
        exit_code: exit_code(reports),
        servers,
    };
    let mut out = serde_json::to_string_pretty(&wire).expect("wire types serialize");
    out.push('\n');
    out
}

/// The table: one block per file. Package rules that could not run are counted, not listed,
/// since without a scan they are all inconclusive for the same reason.
pub fn render_table(reports: &[ServerFileReport], quiet: bool) -> String {
    let mut out = String::new();
    for r in reports {
        let a = match &r.outcome {
            FileOutcome::Error(e) => {
                out.push_str(&format!("{}  ERROR  {e}\n", r.file));
                continue;
            }
            FileOutcome::Audited(a) => a,
        };
        let s = &a.assessment;
        out.push_str(&format!(
            "{}  {}@{}  score {} ({})  coverage {}%  schema {}  {} finding(s), {} inconclusive\n",
            r.file,
            a.server
                .name
                .as_deref()
                .map(shown)
                .unwrap_or("(no name)".into()),
            a.server
                .version
                .as_deref()
                .map(shown)
                .unwrap_or("(no version)".into()),
            s.score.score,
            s.score.grade,
            s.score.coverage,
            a.server.schema_version.label(),
            s.findings.len(),
            s.inconclusive.len(),
        ));
        if quiet {
            continue;
        }
        for f in &s.findings {
            out.push_str(&format!(
                "  {:<8} {}: {}\n           fix: {}\n",
                f.severity.as_str().to_uppercase(),
                f.rule,
                f.message,
                f.remediation
            ));
        }
        let own: Vec<_> = s
            .inconclusive
            .iter()
            .filter(|i| i.rule.starts_with("server-"))
            .collect();
        for i in &own {
            out.push_str(&format!(
                "  ?        {}: {}\n",
                i.rule,
                i.reasons.join("; ")
            ));
        }
        let package_rules = s.inconclusive.len() - own.len();
        if package_rules > 0 {
            let why = s
                .inconclusive
                .iter()
                .find(|i| !i.rule.starts_with("server-"))
                .map(|i| i.reasons.join("; "))
                .unwrap_or_default();
            out.push_str(&format!(
                "  ?        {package_rules} package rule(s): {why}\n"
            ));
        }
        if let Some(status) = &a.facts.serverjson.registry_status {
            out.push_str(&format!("  registry status: {status}\n"));
        }
        for (p, audit) in a.server.packages.iter().zip(&a.packages) {
            let label = format!(
                "{} {}{}",
                p.registry_type.as_deref().unwrap_or("?"),
                p.identifier.as_deref().map(shown).unwrap_or("?".into()),
                p.version
                    .as_deref()
                    .map(|v| format!("@{}", shown(v)))
                    .unwrap_or_default(),
            );
            match audit {
                PackageAudit::NotScanned { reason, .. } => {
                    out.push_str(&format!("  package  {label}  {reason}\n"))
                }
                PackageAudit::Fetched(r) => match &r.result {
                    Err(e) => out.push_str(&format!("  package  {label}  ERROR  {e}\n")),
                    Ok(c) => {
                        out.push_str(&format!(
                            "  package  {label}  {}@{} from {}  score {} ({})  coverage {}%  {} finding(s), {} inconclusive\n",
                            r.name,
                            c.version,
                            r.registry,
                            c.score.score,
                            c.score.grade,
                            c.score.coverage,
                            c.findings.len(),
                            c.inconclusive.len()
                        ));
                        for f in &c.findings {
                            out.push_str(&format!(
                                "    {:<8} {}: {}\n",
                                f.severity.as_str().to_uppercase(),
                                f.rule,
                                f.message
                            ));
                        }
                        for g in &c.gate_failures {
                            out.push_str(&format!("    FAILED   {g}\n"));
                        }
                    }
                },
            }
        }
        for g in &s.gate_failures {
            out.push_str(&format!("  FAILED   {g}\n"));
        }
    }
    out
}

/// Reads every file and scans its packages (files a few at a time; their packages share the
/// scanner's request limit).
pub async fn audit_files_scanned(
    files: &[PathBuf],
    ps: &super::scan::PackageScanner<'_>,
) -> Vec<ServerFileReport> {
    use futures::stream::{self, StreamExt};
    stream::iter(files)
        .map(|path| async move {
            let file = path.display().to_string();
            let outcome = match std::fs::read(path) {
                Err(e) => FileOutcome::Error(format!("cannot read: {e}")),
                Ok(bytes) => match parse(&bytes) {
                    Err(e) => FileOutcome::Error(e.to_string()),
                    Ok(server) => FileOutcome::Audited(Box::new(scanned(&file, server, ps).await)),
                },
            };
            ServerFileReport { file, outcome }
        })
        .buffered(8)
        .collect()
        .await
}

async fn scanned(file: &str, server: ServerJson, ps: &super::scan::PackageScanner<'_>) -> Audited {
    let packages = ps.scan(&server).await;
    assemble(
        file,
        server,
        packages,
        &ps.scanner.rules,
        &ps.scanner.policy,
    )
}

/// The servers a registry listed, each audited as a file is: with its packages scanned when
/// `ps` is given, else with the file alone.
pub async fn audit_listed(
    listed: Vec<super::registry::Listed>,
    ps: Option<&super::scan::PackageScanner<'_>>,
    rules: &RuleSet,
    policy: &Policy,
) -> Vec<ServerFileReport> {
    use futures::stream::{self, StreamExt};
    match ps {
        None => listed
            .into_iter()
            .map(|l| ServerFileReport {
                outcome: match l.server {
                    Err(e) => FileOutcome::Error(e),
                    Ok(s) => FileOutcome::Audited(Box::new(audit(&l.source, s, rules, policy))),
                },
                file: l.source,
            })
            .collect(),
        Some(ps) => {
            stream::iter(listed)
                .map(|l| async move {
                    let outcome = match l.server {
                        Err(e) => FileOutcome::Error(e),
                        Ok(s) => FileOutcome::Audited(Box::new(scanned(&l.source, s, ps).await)),
                    };
                    ServerFileReport {
                        file: l.source,
                        outcome,
                    }
                })
                .buffered(16)
                .collect()
                .await
        }
    }
}

#[derive(Serialize)]
struct RegistryWire<'a> {
    schema_version: u32,
    /// `registry`.
    kind: &'static str,
    tool: WireTool,
    generated_at: String,
    /// The registry's API root, credentials removed.
    registry: &'a str,
    /// Pages fetched.
    pages: usize,
    /// Why paging stopped before the registry said it was done (null when it finished): the
    /// listing is incomplete, and the exit code is 3.
    stopped: Option<&'a str>,
    summary: WireSummary,
    exit_code: u8,
    servers: Vec<WireServer<'a>>,
}

/// The registry run's exit code: 3 when the listing stopped early or a server could not be
/// checked; 1 when one failed the gate; 0 otherwise, an empty listing included.
pub fn registry_exit_code(reports: &[ServerFileReport], stopped: bool) -> u8 {
    if stopped {
        return EXIT_UNCHECKED;
    }
    if reports.is_empty() {
        return EXIT_OK;
    }
    exit_code(reports)
}

/// The JSON document of `registry` (schema_version 1, `kind: "registry"`, docs/output.md).
pub fn render_registry_json(
    registry: &str,
    pages: usize,
    stopped: Option<&str>,
    reports: &[ServerFileReport],
    generated_at: DateTime<Utc>,
) -> String {
    let servers: Vec<WireServer<'_>> = reports.iter().map(server).collect();
    let summary = summary(reports.len(), &servers);
    let wire = RegistryWire {
        schema_version: crate::render::json::SCHEMA_VERSION,
        kind: "registry",
        tool: WireTool {
            name: "mcp-audit",
            version: env!("CARGO_PKG_VERSION"),
        },
        generated_at: generated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        registry,
        pages,
        stopped,
        summary,
        exit_code: registry_exit_code(reports, stopped.is_some()),
        servers,
    };
    let mut out = serde_json::to_string_pretty(&wire).expect("wire types serialize");
    out.push('\n');
    out
}
