//! JSON output, schema_version 1. These wire types are separate from the internal ones on
//! purpose (zizmor #1101): refactoring `report` must never silently change what dashboards parse.
//! docs/output.md documents every field; change both together and bump the version on a break.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::report::{PackageReport, Report};

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
    registry: &'a str,
    rules: usize,
    rules_dir: Option<&'a str>,
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
struct WirePackage<'a> {
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
}

#[derive(Serialize)]
struct WireCategory {
    score: Option<u32>,
    coverage: u32,
    findings: u32,
    inconclusive: u32,
}

#[derive(Serialize)]
struct WireFinding<'a> {
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
}

#[derive(Serialize)]
struct WireInconclusive<'a> {
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

fn package(p: &PackageReport) -> WirePackage<'_> {
    let mut w = WirePackage {
        target: &p.target,
        ecosystem: "npm",
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
            w.categories = c
                .score
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
                .collect();
            w.findings = c
                .findings
                .iter()
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
                })
                .collect();
            w.inconclusive = c
                .inconclusive
                .iter()
                .map(|i| WireInconclusive {
                    rule: &i.rule,
                    title: &i.title,
                    category: &i.category,
                    severity: i.severity.as_str(),
                    weight: i.weight,
                    reason: i.reasons.join("; "),
                    reasons: &i.reasons,
                })
                .collect();
            w.passed = c.passed.iter().map(String::as_str).collect();
            w.gate_failures = c.gate_failures.iter().map(String::as_str).collect();
            w.facts = Some(serde_json::to_value(&c.facts).expect("facts serialize"));
        }
    }
    w
}

pub fn render(report: &Report) -> String {
    let s = report.summary();
    let wire = Wire {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "mcp-audit",
            version: env!("CARGO_PKG_VERSION"),
        },
        generated_at: report
            .generated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        policy: WirePolicy {
            fail_under: report.policy.fail_under,
            min_coverage: report.policy.min_coverage,
            strict: report.policy.strict,
            registry: &report.policy.registry,
            rules: report.policy.rules,
            rules_dir: report.policy.rules_dir.as_deref(),
        },
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
