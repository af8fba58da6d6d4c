//! The report: what was checked, what was found, what could not be decided, and the exit code.

use std::collections::BTreeMap;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use crate::error::TargetError;
use crate::facts::PackageFacts;
use crate::policy::{Ignore, PolicyFile};
use crate::rules::score::{self, Score};
use crate::rules::{Confidence, Evaluation, Outcome, RuleSet, Severity, DOCS_BASE};

pub const EXIT_OK: u8 = 0;
pub const EXIT_GATE_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_UNCHECKED: u8 = 3;

/// The gate a package scores below fails when neither a flag nor the policy file sets one.
pub const DEFAULT_FAIL_UNDER: u32 = 50;
/// A counted finding above this severity fails by default: a critical one.
pub const DEFAULT_MAX_SEVERITY: Severity = Severity::High;

/// Where a gate value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    /// Not set anywhere, and no default: the check is off.
    #[default]
    Unset,
    Default,
    File,
    Flag,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Unset => "unset",
            Source::Default => "default",
            Source::File => "file",
            Source::Flag => "flag",
        }
    }
}

/// The gate in effect and where each of its values came from.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub fail_under: Option<u32>,
    pub min_coverage: Option<u32>,
    pub strict: bool,
    /// A counted finding more severe than this fails.
    pub max_severity: Option<Severity>,
    /// Sources of fail_under, min_coverage, strict and max_severity, in that order.
    pub sources: [Source; 4],
    pub registry: String,
    pub rules: usize,
    pub rules_dir: Option<String>,
    /// The policy file in effect, if any: its ignores, rule overrides and registries.
    pub file: Option<Arc<PolicyFile>>,
    /// The day ignores expire against: the run's clock (`--now`), never the machine's alone.
    pub today: NaiveDate,
}

impl Policy {
    /// How a gate value is named in a failure: the flag, the file key, or the default.
    fn named(&self, i: usize, flag: &str, key: &str) -> String {
        match self.sources[i] {
            Source::Flag => flag.to_string(),
            Source::File => format!(
                "{key} ({})",
                self.file
                    .as_ref()
                    .map_or(String::new(), |f| f.path.display().to_string())
            ),
            _ => format!("the default gate's {key}"),
        }
    }

    /// Whether anything can fail: a zero `fail_under` and `critical` as the most severe allowed
    /// finding, with no coverage bar and no `strict`, is no gate, and nothing "passes" it.
    pub fn has_gate(&self) -> bool {
        self.fail_under.is_some_and(|n| n > 0)
            || self.min_coverage.is_some_and(|n| n > 0)
            || self.strict
            || self.max_severity.is_some_and(|s| s < Severity::Critical)
    }

    /// The gate in effect in one line, each value with its source.
    pub fn describe_gate(&self) -> String {
        let mut parts = Vec::new();
        let src = |i: usize| self.sources[i].as_str();
        if let Some(n) = self.fail_under {
            parts.push(format!("fail_under {n} ({})", src(0)));
        }
        if let Some(n) = self.min_coverage {
            parts.push(format!("min_coverage {n}% ({})", src(1)));
        }
        if self.strict {
            parts.push(format!("strict ({})", src(2)));
        }
        if let Some(s) = self.max_severity {
            parts.push(format!("max_severity {} ({})", s.as_str(), src(3)));
        }
        if !self.has_gate() {
            return "gate: none: nothing can fail".into();
        }
        let file = self
            .file
            .as_ref()
            .map(|f| format!("; policy {}", f.path.display()))
            .unwrap_or_default();
        format!("gate: {}{file}", parts.join(", "))
    }

    fn ignores(&self) -> &[Ignore] {
        self.file.as_ref().map_or(&[], |f| &f.ignores[..])
    }

    /// The ignore that covers `rule` on the subject: an active one first, else an expired one.
    fn ignore_for(
        &self,
        rule: &str,
        subject: Option<(&str, Option<&str>)>,
    ) -> Option<IgnoreApplied> {
        let mut expired = None;
        for i in self.ignores() {
            let covers = i.rule == rule
                && match (&i.package, subject) {
                    (None, _) => true,
                    (Some(m), Some((name, version))) => m.matches(name, version),
                    (Some(_), None) => false,
                };
            if !covers {
                continue;
            }
            let applied = IgnoreApplied {
                reason: i.reason.clone(),
                expires: i.expires,
                expired: i.expired(self.today),
                line: i.line,
            };
            if !applied.expired {
                return Some(applied);
            }
            expired.get_or_insert(applied);
        }
        expired
    }
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
    /// The audited dependency tree (issue 12); `None` with `--no-deps` and where no tree is
    /// resolved.
    pub tree: Option<TreeReport>,
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
    /// The policy ignore that covers it. An active one keeps it out of the score and the
    /// gate; an expired one is shown, and the finding counts.
    pub ignore: Option<IgnoreApplied>,
}

impl Finding {
    /// Counted in the score and the gate: not covered by an ignore that still holds.
    pub fn counts(&self) -> bool {
        self.ignore.as_ref().is_none_or(|i| i.expired)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct IgnoreApplied {
    pub reason: String,
    pub expires: Option<NaiveDate>,
    pub expired: bool,
    /// The `[[ignore]]` entry's line in the policy file.
    pub line: usize,
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
    let subject = (
        facts.package.name.as_str(),
        Some(facts.package.version.as_str()),
    );
    let a = assess_owned(evals, rules, policy, Some(subject));
    Checked {
        version: facts.package.version.clone(),
        score: a.score,
        findings: a.findings,
        inconclusive: a.inconclusive,
        passed: a.passed,
        facts,
        gate_failures: a.gate_failures,
        tree: None,
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

/// Scores `evals` and applies the gate. Pure. `subject` is the package (name, version) the
/// policy's ignores are matched against; an ignore with no `package` matches any subject.
pub fn assess(
    evals: &[Evaluation<'_>],
    rules: &RuleSet,
    policy: &Policy,
    subject: Option<(&str, Option<&str>)>,
) -> Assessment {
    assess_owned(evals.to_vec(), rules, policy, subject)
}

/// [`assess`] for evaluations the caller no longer needs: messages, evidence and reasons move
/// into the assessment instead of being copied (`config` assesses one set per server, and
/// 100,000 servers made those copies most of its time).
pub fn assess_owned(
    evals: Vec<Evaluation<'_>>,
    rules: &RuleSet,
    policy: &Policy,
    subject: Option<(&str, Option<&str>)>,
) -> Assessment {
    let ignores: Vec<Option<IgnoreApplied>> = evals
        .iter()
        .map(|e| match e.outcome {
            Outcome::Finding { .. } => policy.ignore_for(&e.rule.id, subject),
            _ => None,
        })
        .collect();
    // An accepted finding scores as a decided rule that passed: it stays in the coverage. Only
    // the outcome's kind is scored, so without an accepted finding the evaluations are scored
    // as they are.
    let accepted = ignores
        .iter()
        .any(|i| i.as_ref().is_some_and(|i| !i.expired));
    let score = if accepted {
        let scored: Vec<Evaluation<'_>> = evals
            .iter()
            .zip(&ignores)
            .map(|(e, i)| Evaluation {
                rule: e.rule,
                outcome: match (i, &e.outcome) {
                    (Some(i), _) if !i.expired => Outcome::Pass,
                    (_, Outcome::Pass) => Outcome::Pass,
                    (_, Outcome::Inconclusive { .. }) => Outcome::Inconclusive { reasons: vec![] },
                    (_, Outcome::Finding { .. }) => Outcome::Finding {
                        message: String::new(),
                        remediation: String::new(),
                        evidence: Default::default(),
                    },
                },
            })
            .collect();
        score::score(&scored, &rules.scoring)
    } else {
        score::score(&evals, &rules.scoring)
    };
    let mut findings = Vec::new();
    let mut inconclusive = Vec::new();
    let mut passed = Vec::new();
    for (e, ignore) in evals.into_iter().zip(ignores) {
        let r = e.rule;
        match e.outcome {
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
                message,
                evidence,
                remediation,
                docs: docs_link(&r.id),
                ignore,
            }),
            Outcome::Inconclusive { reasons } => inconclusive.push(Inconclusive {
                rule: r.id.clone(),
                title: r.title.clone(),
                category: r.category.clone(),
                severity: r.severity,
                weight: r.weight,
                reasons,
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
    let gate_failures = gate_failures(&score, &findings, &inconclusive, policy);
    Assessment {
        score,
        findings,
        inconclusive,
        passed,
        gate_failures,
    }
}

/// Why `policy`'s gate fails for a score, its findings and its inconclusive rules; empty when it
/// passes. Pure.
pub fn gate_failures(
    score: &Score,
    findings: &[Finding],
    inconclusive: &[Inconclusive],
    policy: &Policy,
) -> Vec<String> {
    let mut gate_failures = Vec::new();
    if let Some(min) = policy.fail_under {
        if score.score < min {
            gate_failures.push(format!(
                "score {} is below {} {min}",
                score.score,
                policy.named(0, "--fail-under", "fail_under")
            ));
        }
    }
    if let Some(min) = policy.min_coverage {
        if score.coverage < min {
            gate_failures.push(format!(
                "coverage {}% is below {} {min}%",
                score.coverage,
                policy.named(1, "--min-coverage", "min_coverage")
            ));
        }
    }
    if policy.strict && !inconclusive.is_empty() {
        gate_failures.push(format!(
            "{}: {} rule(s) could not be decided",
            policy.named(2, "--strict", "strict"),
            inconclusive.len()
        ));
    }
    if let Some(max) = policy.max_severity {
        let above: Vec<&str> = findings
            .iter()
            .filter(|f| f.counts() && f.severity > max)
            .map(|f| f.rule.as_str())
            .collect();
        if !above.is_empty() {
            gate_failures.push(format!(
                "{} finding(s) above {} {} ({})",
                above.len(),
                policy.named(3, "--max-severity", "max_severity"),
                max.as_str(),
                above.join(", ")
            ));
        }
    }
    gate_failures
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

/// The audited dependency tree of one package (issue 12). The root is not among the nodes.
#[derive(Debug, Clone)]
pub struct TreeReport {
    /// `registry` or `shrinkwrap`.
    pub source: &'static str,
    /// The root as resolved, `name@version`.
    pub root: String,
    pub nodes: Vec<NodeReport>,
    /// Dependencies not installed from the registry (git/URL/file specs, bundled ones, ones the
    /// registry could not serve).
    pub problems: Vec<crate::tree::TreeProblem>,
    /// Why the tree could not be resolved at all (e.g. `--max-nodes`).
    pub error: Option<String>,
}

/// One distinct package of a tree, audited on its own.
#[derive(Debug, Clone)]
pub struct NodeReport {
    pub name: String,
    pub version: String,
    pub paths: Vec<Vec<String>>,
    pub optional: bool,
    pub bundled: bool,
    /// Its own score and findings, or why it could not be checked.
    pub result: Result<Assessment, String>,
}
