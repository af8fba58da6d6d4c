//! Rules kept as data: raw TOML → validated `Rule` → evaluation over a facts document.
//!
//! This file holds the vocabulary (severities, categories, the `Rule` and `RuleSet` types). The
//! stages live beside it, as cargo-deny splits cfg / diags / checks:
//! - `load`: rule files from the binary or a directory into a `RuleSet`;
//! - `validate`: one rule file's text into a checked `Rule`, and the scoring config's checks;
//! - `template`: `{fact.path}` placeholders in messages, and the evidence a finding shows;
//! - `eval`: rules over facts documents, into `Outcome`s.
//!
//! Nothing here knows an ecosystem's facts: rules name fact paths, and a rule limited to some
//! ecosystems says so in its `ecosystems` field, matched against the facts' own `ecosystem`.

pub mod expr;
pub mod paths;
pub mod score;

mod eval;
mod load;
mod template;
mod validate;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use expr::Predicate;

pub use eval::{Evaluation, Outcome};
pub use template::EVIDENCE_LIST_CAP;

pub const RULE_SCHEMA: u32 = 1;
pub const DOCS_BASE: &str = "docs/rules.md";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// The serialized name, so a confidence formatted into a facts string reads as the JSON does.
impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub const CATEGORIES: &[&str] = &[
    "provenance",
    "publishing",
    "maintainers",
    "dependencies",
    "lockfile",
    "content",
    "metadata",
    "launch",
    "vulnerabilities",
];

/// The category of rules that read a server entry's launch facts instead of a package's facts.
pub const LAUNCH: &str = "launch";

/// The ecosystems a rule's `ecosystems` field may name: the values `package.ecosystem` takes.
/// A new ecosystem's facts add its name here.
pub const ECOSYSTEMS: &[&str] = &["npm", "pypi"];

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub category: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub weight: u32,
    pub when: Predicate,
    /// Templates with `{fact.path}` placeholders, filled in by `template`.
    pub message: String,
    pub remediation: String,
    pub references: Vec<String>,
    /// Fact paths whose values a finding shows.
    pub evidence: Vec<String>,
    /// The ecosystems whose packages the rule reads; empty means every ecosystem.
    pub ecosystems: Vec<String>,
    /// Where the rule came from: `embedded:<file>` or a path on disk.
    pub source: String,
}

impl Rule {
    /// Whether the rule reads the launch document rather than the package document.
    pub fn is_launch(&self) -> bool {
        self.category == LAUNCH
    }

    /// Whether the rule reads a `server.json`'s facts (its condition names `serverjson.*`).
    pub fn is_server_json(&self) -> bool {
        self.when.reads_any(&paths::is_server_json_path)
    }

    /// Whether the rule reads a lockfile entry's facts (its condition names `lockentry.*`).
    pub fn is_lock(&self) -> bool {
        self.when.facts().iter().any(|p| paths::is_lock_path(p))
    }

    /// Whether the rule reads packages of `ecosystem` (the facts' `package.ecosystem`).
    pub fn applies_to(&self, ecosystem: &str) -> bool {
        self.ecosystems.is_empty() || self.ecosystems.iter().any(|e| e == ecosystem)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleLoadError {
    pub file: String,
    pub rule: Option<String>,
    pub problem: String,
}

impl fmt::Display for RuleLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.rule {
            Some(id) => write!(f, "{} (rule {id}): {}", self.file, self.problem),
            None => write!(f, "{}: {}", self.file, self.problem),
        }
    }
}

impl std::error::Error for RuleLoadError {}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScoringConfig {
    pub schema: u32,
    /// A critical finding caps the score here (Socket caps critical alerts at about a third).
    pub critical_cap: u32,
    /// Minimum score for each grade, highest first; below the last is `F`.
    pub grades: BTreeMap<String, u32>,
}

#[derive(Debug, Clone)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub scoring: ScoringConfig,
}

impl RuleSet {
    pub fn package_rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules
            .iter()
            .filter(|r| !r.is_launch() && !r.is_server_json() && !r.is_lock())
    }

    /// The rules over one lockfile entry (`mcp-audit lock`).
    pub fn lock_rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| r.is_lock())
    }

    /// The rules over a `server.json` description (`mcp-audit server`).
    pub fn server_json_rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| r.is_server_json())
    }

    pub fn launch_rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| r.is_launch())
    }
}

/// Rule files shared by the unit tests of the stages.
#[cfg(test)]
mod testing {
    use super::{RuleLoadError, RuleSet};

    pub(super) fn scoring() -> (String, String) {
        (
            "scoring.toml".into(),
            "schema = 1\ncritical_cap = 33\n[grades]\nA = 90\n".into(),
        )
    }

    /// A valid rule file, whose fields the tests vary by replacing text.
    fn rule_file(id: &str, category: &str, when: &str, message: &str, remediation: &str) -> String {
        format!(
            "schema = 1\nid = \"{id}\"\ntitle = \"t\"\ncategory = \"{category}\"\n\
             severity = \"low\"\nconfidence = \"high\"\nweight = 3\nwhen = {when}\n\
             message = \"{message}\"\nremediation = \"{remediation}\"\n"
        )
    }

    /// `good-rule.toml`, a package rule.
    pub(super) fn good() -> String {
        rule_file(
            "good-rule",
            "metadata",
            r#"{ fact = "version.major", eq = 0 }"#,
            "{name}@{version} is major {version.major}",
            "r",
        )
    }

    /// `good-launch.toml`, a launch rule.
    pub(super) fn launch_rule() -> String {
        rule_file(
            "good-launch",
            "launch",
            r#"{ fact = "launch.unpinned", eq = true }"#,
            "`{server.name}` starts {launch.target}",
            "Write `${NPM_TOKEN}`, not the token.",
        )
    }

    pub(super) fn load(name: &str, text: &str) -> Result<RuleSet, RuleLoadError> {
        RuleSet::from_sources(vec![scoring(), (name.into(), text.into())], None)
    }
}
