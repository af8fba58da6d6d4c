//! `mcp-audit server`: each file's audit, its exit code, and its two renderings. The output goes
//! through the command layer's sanitizer like every other report (see
//! [`crate::render::sanitize`]).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::facts::shown;
use super::{parse, server_facts, ServerJson, ServerJsonFacts};
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
    pub assessment: Assessment,
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
    let facts = server_facts(file, &server, NOT_SCANNED);
    let mut evals = rules.evaluate_server_json(&facts);
    if !server.packages.is_empty() {
        evals.extend(rules.package_not_checked(&format!("packages {NOT_SCANNED}")));
    }
    let assessment = assess(&evals, rules, policy, None);
    Audited {
        server,
        facts,
        assessment,
    }
}

/// As for `config`: 3 when a file could not be checked (3 wins over 1), 1 when a server failed
/// the gate.
pub fn exit_code(reports: &[ServerFileReport]) -> u8 {
    let mut failed = false;
    for r in reports {
        match &r.outcome {
            FileOutcome::Error(_) => return EXIT_UNCHECKED,
            FileOutcome::Audited(a) => failed |= !a.assessment.gate_failures.is_empty(),
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
struct WireServer<'a> {
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
}

#[derive(Serialize)]
struct WirePackage<'a> {
    /// `npm`, `pypi`, `oci`, `nuget`, `mcpb`, or what the file says.
    ecosystem: Option<&'a str>,
    identifier: Option<String>,
    version: Option<String>,
    transport: Option<&'a str>,
    status: &'static str,
}

#[derive(Serialize)]
struct WireRemote<'a> {
    #[serde(rename = "type")]
    kind: Option<&'a str>,
    url: Option<String>,
}

fn server(r: &ServerFileReport) -> WireServer<'_> {
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
            }
        }
        FileOutcome::Audited(a) => a,
    };
    let s = &a.assessment;
    WireServer {
        file: &r.file,
        status: if s.gate_failures.is_empty() {
            "passed"
        } else {
            "failed"
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
            .map(|p| WirePackage {
                ecosystem: p.registry_type.as_deref(),
                identifier: p.identifier.as_deref().map(shown),
                version: p.version.as_deref().map(shown),
                transport: p.transport.as_deref(),
                status: NOT_SCANNED,
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
    }
}

/// The JSON document (schema_version 1, `kind: "server"`, docs/output.md).
pub fn render_json(reports: &[ServerFileReport], generated_at: DateTime<Utc>) -> String {
    let servers: Vec<WireServer<'_>> = reports.iter().map(server).collect();
    let summary = WireSummary {
        files: reports.len(),
        servers: servers.iter().filter(|s| s.status != "error").count(),
        failed: servers.iter().filter(|s| s.status == "failed").count(),
        errors: servers.iter().filter(|s| s.status == "error").count(),
        findings: servers.iter().map(|s| s.findings.len()).sum(),
        inconclusive: servers.iter().map(|s| s.inconclusive.len()).sum(),
    };
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
            out.push_str(&format!(
                "  ?        {package_rules} package rule(s): packages {NOT_SCANNED}\n"
            ));
        }
        for p in &a.server.packages {
            out.push_str(&format!(
                "  package  {} {}{}  {NOT_SCANNED}\n",
                p.registry_type.as_deref().unwrap_or("?"),
                p.identifier.as_deref().map(shown).unwrap_or("?".into()),
                p.version
                    .as_deref()
                    .map(|v| format!("@{}", shown(v)))
                    .unwrap_or_default(),
            ));
        }
        for g in &s.gate_failures {
            out.push_str(&format!("  FAILED   {g}\n"));
        }
    }
    out
}
