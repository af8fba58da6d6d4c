//! Rules kept as data: raw TOML → validated `Rule` → evaluation over `PackageFacts`.

pub mod expr;
pub mod paths;
pub mod score;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use expr::{Predicate, Tri};

static EMBEDDED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/rules");

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

pub const CATEGORIES: &[&str] = &[
    "provenance",
    "publishing",
    "maintainers",
    "dependencies",
    "lockfile",
    "content",
    "metadata",
    "launch",
];

/// A rule file as written. Unknown keys are errors, so a typo never silently disables a check.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    schema: u32,
    id: String,
    title: String,
    category: String,
    severity: Severity,
    confidence: Confidence,
    weight: u32,
    when: toml::Value,
    message: String,
    remediation: String,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    evidence: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub category: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub weight: u32,
    pub when: Predicate,
    pub message: String,
    pub remediation: String,
    pub references: Vec<String>,
    pub evidence: Vec<String>,
    /// Where the rule came from: `embedded:<file>` or a path on disk.
    pub source: String,
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

impl ScoringConfig {
    fn validate(&self) -> Result<(), String> {
        if self.schema != 1 {
            return Err(format!("unsupported schema {} (expected 1)", self.schema));
        }
        if self.critical_cap > 100 {
            return Err("`critical_cap` must be 0-100".into());
        }
        for (g, min) in &self.grades {
            if !matches!(g.as_str(), "A" | "B" | "C" | "D" | "E") {
                return Err(format!("`grades.{g}`: grades are A-E (F is the rest)"));
            }
            if *min > 100 {
                return Err(format!("`grades.{g}` must be 0-100"));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub scoring: ScoringConfig,
}

impl RuleSet {
    /// The rules compiled into the binary.
    pub fn embedded() -> Result<RuleSet, RuleLoadError> {
        let files = EMBEDDED
            .files()
            .filter_map(|f| {
                Some((
                    format!("embedded:rules/{}", f.path().display()),
                    f.contents_utf8()?.to_string(),
                ))
            })
            .collect::<Vec<_>>();
        Self::from_sources(files, None)
    }

    /// Embedded rules plus a directory whose rules add to them or override them by id.
    pub fn load(extra_dir: Option<&Path>) -> Result<RuleSet, RuleLoadError> {
        let mut set = Self::embedded()?;
        if let Some(dir) = extra_dir {
            let extra = read_dir_sources(dir)?;
            let overlay = Self::from_sources(extra, Some(set.scoring.clone()))?;
            for rule in overlay.rules {
                match set.rules.iter_mut().find(|r| r.id == rule.id) {
                    Some(slot) => *slot = rule,
                    None => set.rules.push(rule),
                }
            }
            set.scoring = overlay.scoring;
            set.rules.sort_by(|a, b| a.id.cmp(&b.id));
        }
        Ok(set)
    }

    /// Parses `(file name, contents)` pairs. `scoring.toml` is the scoring config; every other
    /// `.toml` is one rule whose id must equal its file stem.
    pub fn from_sources(
        files: Vec<(String, String)>,
        default_scoring: Option<ScoringConfig>,
    ) -> Result<RuleSet, RuleLoadError> {
        let mut rules: Vec<Rule> = Vec::new();
        let mut scoring = default_scoring;
        let mut files = files;
        files.sort();
        for (file, text) in files {
            let stem = Path::new(&file)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            if !file.ends_with(".toml") {
                continue;
            }
            if stem == "scoring" {
                let cfg: ScoringConfig = toml::from_str(&text).map_err(|e| RuleLoadError {
                    file: file.clone(),
                    rule: None,
                    problem: one_line(&e.to_string()),
                })?;
                cfg.validate().map_err(|problem| RuleLoadError {
                    file: file.clone(),
                    rule: None,
                    problem,
                })?;
                scoring = Some(cfg);
                continue;
            }
            let rule = parse_rule(&file, &stem, &text)?;
            if let Some(prev) = rules.iter().find(|r| r.id == rule.id) {
                return Err(RuleLoadError {
                    file,
                    rule: Some(rule.id),
                    problem: format!("duplicate rule id (also in {})", prev.source),
                });
            }
            rules.push(rule);
        }
        let scoring = scoring.ok_or_else(|| RuleLoadError {
            file: "rules/scoring.toml".into(),
            rule: None,
            problem: "missing scoring configuration".into(),
        })?;
        Ok(RuleSet { rules, scoring })
    }
}

fn read_dir_sources(dir: &Path) -> Result<Vec<(String, String)>, RuleLoadError> {
    let err = |problem: String| RuleLoadError {
        file: dir.display().to_string(),
        rule: None,
        problem,
    };
    let entries = std::fs::read_dir(dir).map_err(|e| err(format!("cannot read directory: {e}")))?;
    let mut out = Vec::new();
    for entry in entries {
        let path: PathBuf = entry.map_err(|e| err(e.to_string()))?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| RuleLoadError {
            file: path.display().to_string(),
            rule: None,
            problem: format!("cannot read: {e}"),
        })?;
        out.push((path.display().to_string(), text));
    }
    Ok(out)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn parse_rule(file: &str, stem: &str, text: &str) -> Result<Rule, RuleLoadError> {
    // Read the id first so every later error can name the rule, even when the rest is broken.
    let id_hint = toml::from_str::<toml::Table>(text)
        .ok()
        .and_then(|t| t.get("id").and_then(|v| v.as_str()).map(str::to_string));
    let fail = |problem: String| RuleLoadError {
        file: file.to_string(),
        rule: id_hint.clone(),
        problem,
    };
    let raw: RawRule = toml::from_str(text).map_err(|e| fail(one_line(&e.to_string())))?;
    if raw.schema != RULE_SCHEMA {
        return Err(fail(format!(
            "field `schema`: unsupported {} (expected {RULE_SCHEMA})",
            raw.schema
        )));
    }
    let id_ok = !raw.id.is_empty()
        && raw
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !raw.id.starts_with('-')
        && !raw.id.ends_with('-');
    if !id_ok {
        return Err(fail(format!("field `id`: `{}` is not kebab-case", raw.id)));
    }
    if raw.id != stem {
        return Err(fail(format!(
            "field `id`: `{}` must equal the file name `{stem}`",
            raw.id
        )));
    }
    if !CATEGORIES.contains(&raw.category.as_str()) {
        return Err(fail(format!(
            "field `category`: `{}` is not one of {}",
            raw.category,
            CATEGORIES.join(" | ")
        )));
    }
    if raw.weight > 100 {
        return Err(fail(format!("field `weight`: {} is over 100", raw.weight)));
    }
    for (field, v) in [
        ("title", &raw.title),
        ("message", &raw.message),
        ("remediation", &raw.remediation),
    ] {
        if v.trim().is_empty() {
            return Err(fail(format!("field `{field}` is empty")));
        }
    }
    let when = expr::parse(&raw.when, "when").map_err(|p| fail(format!("field {p}")))?;
    // A launch rule reads the launch document and every other rule the package document; a path
    // from the other one would always be absent there, and silently decide the rule.
    let launch = raw.category == "launch";
    let wrong_document = |path: &str| paths::is_launch_path(path) != launch;
    let document = if launch {
        "a `launch` rule reads only `server.*` and `launch.*` facts"
    } else {
        "only `launch` rules read `server.*` and `launch.*` facts"
    };
    for path in when.facts() {
        if wrong_document(path) {
            return Err(fail(format!("field `when`: `{path}`: {document}")));
        }
    }
    for path in &raw.evidence {
        if paths::catalogue().contains_key(path) && wrong_document(path) {
            return Err(fail(format!("field `evidence`: `{path}`: {document}")));
        }
    }
    for path in &raw.evidence {
        if !paths::catalogue().contains_key(path) {
            return Err(fail(format!(
                "field `evidence`: unknown fact path `{path}`"
            )));
        }
    }
    for (field, text) in [("message", &raw.message), ("remediation", &raw.remediation)] {
        for placeholder in placeholders(text) {
            let shorthand = placeholder == "name" || placeholder == "version";
            if !shorthand && !paths::catalogue().contains_key(placeholder) {
                return Err(fail(format!(
                    "field `{field}`: unknown placeholder `{{{placeholder}}}`"
                )));
            }
            if (shorthand && launch) || (!shorthand && wrong_document(placeholder)) {
                return Err(fail(format!(
                    "field `{field}`: placeholder `{{{placeholder}}}`: {document}{}",
                    if shorthand {
                        " (use `{server.name}`)"
                    } else {
                        ""
                    }
                )));
            }
        }
    }
    Ok(Rule {
        id: raw.id,
        title: raw.title,
        category: raw.category,
        severity: raw.severity,
        confidence: raw.confidence,
        weight: raw.weight,
        when,
        message: raw.message,
        remediation: raw.remediation,
        references: raw.references,
        evidence: raw.evidence,
        source: file.to_string(),
    })
}

/// `{fact.path}` placeholders. `${NAME}` is not one: it is how npm and MCP clients write an
/// environment reference, which remediation texts need to show.
fn placeholders(msg: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = msg;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        if !rest[..start].ends_with('$') {
            out.push(&rest[start + 1..start + len]);
        }
        rest = &rest[start + len + 1..];
    }
    out
}

/// One rule's outcome on one package.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Pass,
    Finding {
        message: String,
        remediation: String,
        evidence: BTreeMap<String, Value>,
    },
    Inconclusive {
        reasons: Vec<String>,
    },
}

#[derive(Debug, Clone)]
pub struct Evaluation<'r> {
    pub rule: &'r Rule,
    pub outcome: Outcome,
}

impl Rule {
    pub fn evaluate(&self, facts: &Value) -> Outcome {
        match self.when.eval(facts) {
            Tri::False => Outcome::Pass,
            Tri::Unknown(reasons) => Outcome::Inconclusive { reasons },
            Tri::True => Outcome::Finding {
                message: render_message(&self.message, facts),
                remediation: render_message(&self.remediation, facts),
                evidence: self
                    .evidence
                    .iter()
                    .map(|p| (p.clone(), fact_value(facts, p)))
                    .collect(),
            },
        }
    }
}

fn fact_value(facts: &Value, path: &str) -> Value {
    match paths::resolve(facts, path) {
        paths::Resolved::Value(v) => v.clone(),
        paths::Resolved::Unknown(r) => serde_json::json!({ "$unknown": r }),
    }
}

fn render_message(template: &str, facts: &Value) -> String {
    let mut out = template.to_string();
    for p in placeholders(template) {
        let value = match p {
            "name" => facts.pointer("/package/name").cloned().unwrap_or_default(),
            "version" => facts
                .pointer("/package/version")
                .cloned()
                .unwrap_or_default(),
            path => fact_value(facts, path),
        };
        let shown = match &value {
            Value::String(s) => s.clone(),
            Value::Array(a) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        };
        out = out.replace(&format!("{{{p}}}"), &shown);
    }
    out
}

pub const LAUNCH: &str = "launch";

/// `rules` over one facts document, serialized once for all of them.
fn evaluate_all<'r>(
    rules: impl Iterator<Item = &'r Rule>,
    facts: &impl Serialize,
) -> Vec<Evaluation<'r>> {
    let json = serde_json::to_value(facts).expect("facts serialize");
    rules
        .map(|rule| Evaluation {
            rule,
            outcome: rule.evaluate(&json),
        })
        .collect()
}

impl Rule {
    /// Whether the rule reads the launch document rather than the package document.
    pub fn is_launch(&self) -> bool {
        self.category == LAUNCH
    }
}

impl RuleSet {
    /// The package rules over one package's facts (launch rules are not about packages).
    pub fn evaluate(&self, facts: &crate::facts::PackageFacts) -> Vec<Evaluation<'_>> {
        evaluate_all(self.package_rules(), facts)
    }

    /// The launch rules over one server entry's launch facts.
    pub fn evaluate_launch(&self, facts: &crate::facts::LaunchFacts) -> Vec<Evaluation<'_>> {
        evaluate_all(self.launch_rules(), facts)
    }

    /// Every package rule, inconclusive for one reason: the package was not (or could not be)
    /// looked at, which must lower coverage rather than count as passed.
    pub fn package_not_checked(&self, reason: &str) -> Vec<Evaluation<'_>> {
        self.package_rules()
            .map(|rule| Evaluation {
                rule,
                outcome: Outcome::Inconclusive {
                    reasons: vec![reason.to_string()],
                },
            })
            .collect()
    }

    pub fn package_rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| !r.is_launch())
    }

    pub fn launch_rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| r.is_launch())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scoring() -> (String, String) {
        (
            "scoring.toml".into(),
            "schema = 1\ncritical_cap = 33\n[grades]\nA = 90\n".into(),
        )
    }

    const GOOD: &str = r#"
schema = 1
id = "good-rule"
title = "t"
category = "metadata"
severity = "low"
confidence = "high"
weight = 3
when = { fact = "version.major", eq = 0 }
message = "{name}@{version} is major {version.major}"
remediation = "r"
"#;

    fn load(name: &str, text: &str) -> Result<RuleSet, RuleLoadError> {
        RuleSet::from_sources(vec![scoring(), (name.into(), text.into())], None)
    }

    #[test]
    fn embedded_rules_load() {
        let set = RuleSet::embedded().expect("embedded rules are valid");
        assert!(set.rules.len() >= 20, "{} rules", set.rules.len());
    }

    #[test]
    fn message_placeholders_render() {
        let set = load("good-rule.toml", GOOD).unwrap();
        let mut f = crate::facts::PackageFacts::example();
        f.version.major = 0;
        let json = serde_json::to_value(&f).unwrap();
        match set.rules[0].evaluate(&json) {
            Outcome::Finding { message, .. } => {
                assert_eq!(message, "example-mcp-server@1.4.2 is major 0")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn load_errors_name_file_rule_and_field() {
        let cases = [
            (
                GOOD.replace("weight = 3", "weight = 3\nweigth = 4"),
                "unknown field `weigth`",
            ),
            (
                GOOD.replace("category = \"metadata\"", "category = \"misc\""),
                "field `category`",
            ),
            (
                GOOD.replace("version.major\", eq", "version.majr\", eq"),
                "unknown fact path `version.majr`",
            ),
            (GOOD.replace("schema = 1", "schema = 2"), "field `schema`"),
            (
                GOOD.replace("id = \"good-rule\"", "id = \"Good_Rule\""),
                "field `id`",
            ),
            (GOOD.replace("title = \"t\"\n", ""), "missing field `title`"),
            (
                GOOD.replace("{version.major}", "{nope}"),
                "unknown placeholder `{nope}`",
            ),
            (GOOD.replace("weight = 3", "weight = 300"), "field `weight`"),
        ];
        for (text, want) in cases {
            let err = load("good-rule.toml", &text).unwrap_err();
            let shown = err.to_string();
            assert!(shown.starts_with("good-rule.toml"), "{shown}");
            assert!(shown.contains(want), "want {want:?} in {shown}");
            if want != "field `id`" {
                assert_eq!(err.rule.as_deref(), Some("good-rule"), "{shown}");
            }
        }
        let err = load("other-name.toml", GOOD).unwrap_err();
        assert!(err.to_string().contains("must equal the file name"));
    }

    const LAUNCH_RULE: &str = r#"
schema = 1
id = "good-launch"
title = "t"
category = "launch"
severity = "low"
confidence = "high"
weight = 3
when = { fact = "launch.unpinned", eq = true }
message = "`{server.name}` starts {launch.target}"
remediation = "Write `${NPM_TOKEN}`, not the token."
"#;

    #[test]
    fn launch_rules_read_only_launch_facts_and_the_others_never_do() {
        let set = load("good-launch.toml", LAUNCH_RULE).unwrap();
        assert_eq!(set.launch_rules().count(), 1);
        assert_eq!(set.package_rules().count(), 0);
        // `${NPM_TOKEN}` is an environment reference, left as written.
        let mut facts = crate::facts::LaunchFacts::example();
        facts.launch.unpinned = true;
        match &set.evaluate_launch(&facts)[0].outcome {
            Outcome::Finding {
                message,
                remediation,
                ..
            } => {
                assert_eq!(message, "`example` starts example-mcp-server@1.4.2");
                assert_eq!(remediation, "Write `${NPM_TOKEN}`, not the token.");
            }
            other => panic!("{other:?}"),
        }
        // A package scan never evaluates it.
        assert!(set
            .evaluate(&crate::facts::PackageFacts::example())
            .is_empty());

        let cases = [
            (
                LAUNCH_RULE.replace("launch.unpinned\", eq = true", "version.major\", eq = 0"),
                "`version.major`: a `launch` rule reads only",
            ),
            (
                LAUNCH_RULE.replace("{server.name}", "{name}"),
                "placeholder `{name}`",
            ),
            (
                LAUNCH_RULE.replace("{launch.target}", "{package.name}"),
                "placeholder `{package.name}`",
            ),
        ];
        for (text, want) in cases {
            let err = load("good-launch.toml", &text).unwrap_err().to_string();
            assert!(err.contains(want), "want {want:?} in {err}");
        }
        let err = load(
            "good-rule.toml",
            &GOOD.replace("version.major\", eq = 0", "launch.unpinned\", eq = true"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("only `launch` rules read"), "{err}");
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        let err = RuleSet::from_sources(
            vec![
                scoring(),
                ("a/good-rule.toml".into(), GOOD.into()),
                ("b/good-rule.toml".into(), GOOD.into()),
            ],
            None,
        )
        .unwrap_err();
        assert!(err.problem.contains("duplicate rule id"), "{err}");
    }
}
