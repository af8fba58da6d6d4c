//! The report: what was checked, what was found, what could not be decided, and the exit code.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::TargetError;
use crate::facts::PackageFacts;
use crate::rules::score::{self, Score};
use crate::rules::{Confidence, Evaluation, Outcome, RuleSet, Severity, DOCS_BASE};

pub const EXIT_OK: u8 = 0;
pub const EXIT_GATE_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_UNCHECKED: u8 = 3;

#[derive(Debug, Clone)]
pub struct Policy {
    pub fail_under: Option<u32>,
    pub min_coverage: Option<u32>,
    pub strict: bool,
    pub registry: String,
    pub rules: usize,
    pub rules_dir: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub generated_at: DateTime<Utc>,
    pub policy: Policy,
    pub packages: Vec<PackageReport>,
}

#[derive(Debug, Clone)]
pub struct PackageReport {
    /// The spec as given on the command line.
    pub target: String,
    pub name: String,
    pub registry: String,
    pub result: Result<Checked, TargetError>,
}

#[derive(Debug, Clone)]
pub struct Checked {
    pub version: String,
    pub score: Score,
    pub findings: Vec<Finding>,
    pub inconclusive: Vec<Inconclusive>,
    pub passed: Vec<String>,
    pub facts: PackageFacts,
    /// Why the gate failed for this package; empty when it passed.
    pub gate_failures: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: String,
    pub title: String,
    pub category: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub weight: u32,
    pub message: String,
    pub evidence: BTreeMap<String, Value>,
    pub remediation: String,
    pub docs: String,
}

#[derive(Debug, Clone)]
pub struct Inconclusive {
    pub rule: String,
    pub title: String,
    pub category: String,
    pub severity: Severity,
    pub weight: u32,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Passed,
    Failed,
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Error => "error",
        }
    }
}

pub fn docs_link(rule: &str) -> String {
    format!("{DOCS_BASE}#{rule}")
}

/// Runs the rules over one package's facts and applies the gate. Pure.
pub fn check(facts: PackageFacts, rules: &RuleSet, policy: &Policy) -> Checked {
    let evals = rules.evaluate(&facts);
    let a = assess(&evals, rules, policy);
    Checked {
        version: facts.package.version.clone(),
        score: a.score,
        findings: a.findings,
        inconclusive: a.inconclusive,
        passed: a.passed,
        facts,
        gate_failures: a.gate_failures,
    }
}

/// Score, findings and gate verdict of a set of rule evaluations, whatever they were run over.
#[derive(Debug, Clone)]
pub struct Assessment {
    pub score: Score,
    pub findings: Vec<Finding>,
    pub inconclusive: Vec<Inconclusive>,
    pub passed: Vec<String>,
    /// Why the gate failed; empty when it passed.
    pub gate_failures: Vec<String>,
}

/// Scores `evals` and applies the gate. Pure.
pub fn assess(evals: &[Evaluation<'_>], rules: &RuleSet, policy: &Policy) -> Assessment {
    let score = score::score(evals, &rules.scoring);
    let mut findings = Vec::new();
    let mut inconclusive = Vec::new();
    let mut passed = Vec::new();
    for e in evals {
        let r = e.rule;
        match &e.outcome {
            Outcome::Pass => passed.push(r.id.clone()),
            Outcome::Finding {
                message,
                remediation,
                evidence,
            } => findings.push(Finding {
                rule: r.id.clone(),
                title: r.title.clone(),
                category: r.category.clone(),
                severity: r.severity,
                confidence: r.confidence,
                weight: r.weight,
                message: message.clone(),
                evidence: evidence.clone(),
                remediation: remediation.clone(),
                docs: docs_link(&r.id),
            }),
            Outcome::Inconclusive { reasons } => inconclusive.push(Inconclusive {
                rule: r.id.clone(),
                title: r.title.clone(),
                category: r.category.clone(),
                severity: r.severity,
                weight: r.weight,
                reasons: reasons.clone(),
            }),
        }
    }
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.weight.cmp(&a.weight))
            .then(a.rule.cmp(&b.rule))
    });
    inconclusive.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.weight.cmp(&a.weight))
            .then(a.rule.cmp(&b.rule))
    });
    let mut gate_failures = Vec::new();
    if let Some(min) = policy.fail_under {
        if score.score < min {
            gate_failures.push(format!("score {} is below --fail-under {min}", score.score));
        }
    }
    if let Some(min) = policy.min_coverage {
        if score.coverage < min {
            gate_failures.push(format!(
                "coverage {}% is below --min-coverage {min}%",
                score.coverage
            ));
        }
    }
    if policy.strict && !inconclusive.is_empty() {
        gate_failures.push(format!(
            "--strict: {} rule(s) could not be decided",
            inconclusive.len()
        ));
    }
    Assessment {
        score,
        findings,
        inconclusive,
        passed,
        gate_failures,
    }
}

impl PackageReport {
    pub fn status(&self) -> Status {
        match &self.result {
            Err(_) => Status::Error,
            Ok(c) if c.gate_failures.is_empty() => Status::Passed,
            Ok(_) => Status::Failed,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    pub packages: usize,
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    /// Inconclusive rule evaluations, over all packages.
    pub inconclusive: usize,
}

impl Report {
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            packages: self.packages.len(),
            ..Default::default()
        };
        for p in &self.packages {
            match p.status() {
                Status::Passed => s.passed += 1,
                Status::Failed => s.failed += 1,
                Status::Error => s.errors += 1,
            }
            if let Ok(c) = &p.result {
                s.inconclusive += c.inconclusive.len();
            }
        }
        s
    }

    /// 3 ("could not check") wins over 1 ("checked and failed"): CI must never read an unchecked
    /// package as a checked one.
    pub fn exit_code(&self) -> u8 {
        let s = self.summary();
        if s.errors > 0 {
            EXIT_UNCHECKED
        } else if s.failed > 0 {
            EXIT_GATE_FAILED
        } else {
            EXIT_OK
        }
    }
}
