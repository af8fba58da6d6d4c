//! One rule file's text into a checked `Rule`, and the scoring config's checks. Every problem
//! names the file, the rule when its id could be read, and the field.

use serde::Deserialize;

use super::template::placeholders;
use super::{
    expr, paths, Confidence, Rule, RuleLoadError, ScoringConfig, Severity, CATEGORIES, ECOSYSTEMS,
    LAUNCH, RULE_SCHEMA,
};

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
    /// Absent means every ecosystem; present, it must name at least one.
    ecosystems: Option<Vec<String>>,
}

impl ScoringConfig {
    pub(super) fn validate(&self) -> Result<(), String> {
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

/// A TOML error message on one line, so it stays one line of a load error.
pub(super) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_kebab_case(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-')
        && !id.ends_with('-')
}

pub(super) fn parse_rule(file: &str, stem: &str, text: &str) -> Result<Rule, RuleLoadError> {
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
    if !is_kebab_case(&raw.id) {
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
    let launch = raw.category == LAUNCH;
    let when = expr::parse(&raw.when, "when").map_err(|p| fail(format!("field {p}")))?;
    // A rule whose condition reads `serverjson.*` reads the server.json document; like a launch
    // rule it has no ecosystem.
    let document = if launch {
        Document::Launch
    } else if when.facts().iter().any(|p| paths::is_server_json_path(p)) {
        Document::ServerJson
    } else if when.facts().iter().any(|p| paths::is_lock_path(p)) {
        Document::Lock
    } else {
        Document::Package
    };
    let ecosystems = if document == Document::ServerJson && raw.ecosystems.is_some() {
        return Err(fail(
            "field `ecosystems`: a rule over `serverjson.*` reads server.json files, not packages"
                .into(),
        ));
    } else if document == Document::Lock && raw.ecosystems.is_some() {
        return Err(fail(
            "field `ecosystems`: a rule over `lockentry.*` reads lockfile entries, not packages"
                .into(),
        ));
    } else {
        check_ecosystems(raw.ecosystems, launch).map_err(fail)?
    };
    check_documents(
        &when,
        &raw.evidence,
        [&raw.message, &raw.remediation],
        document,
    )
    .map_err(fail)?;
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
        ecosystems,
        source: file.to_string(),
    })
}

/// An empty list would make a rule that never runs, and a misspelt name one that never runs on
/// the ecosystem it was written for: both would pass silently, so both are errors.
fn check_ecosystems(listed: Option<Vec<String>>, launch: bool) -> Result<Vec<String>, String> {
    let Some(listed) = listed else {
        return Ok(Vec::new());
    };
    if launch {
        // A launch rule reads a server entry of an MCP client config, which has no ecosystem.
        return Err(
            "field `ecosystems`: a `launch` rule reads server entries, not packages".into(),
        );
    }
    if listed.is_empty() {
        return Err("field `ecosystems` is empty (leave it out for every ecosystem)".into());
    }
    for (i, e) in listed.iter().enumerate() {
        if !ECOSYSTEMS.contains(&e.as_str()) {
            return Err(format!(
                "field `ecosystems`: `{e}` is not one of {}",
                ECOSYSTEMS.join(" | ")
            ));
        }
        if listed[..i].contains(e) {
            return Err(format!("field `ecosystems`: `{e}` is listed twice"));
        }
    }
    Ok(listed)
}

/// The facts document a rule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Document {
    Package,
    Launch,
    ServerJson,
    Lock,
}

impl Document {
    fn of(path: &str) -> Document {
        if paths::is_launch_path(path) {
            Document::Launch
        } else if paths::is_server_json_path(path) {
            Document::ServerJson
        } else if paths::is_lock_path(path) {
            Document::Lock
        } else {
            Document::Package
        }
    }
}

/// Every fact path the rule reads (condition, evidence, placeholders) must exist, in the document
/// the rule reads: a launch rule reads the launch document and every other rule the package
/// document. A path from the other one would always be absent there, and silently decide the rule.
fn check_documents(
    when: &expr::Predicate,
    evidence: &[String],
    texts: [&String; 2],
    reads: Document,
) -> Result<(), String> {
    let wrong_document = |path: &str| Document::of(path) != reads;
    let document = match reads {
        Document::Launch => "a `launch` rule reads only `server.*` and `launch.*` facts",
        Document::ServerJson => {
            "a rule over `serverjson.*` reads only `serverjson.*` facts (a server.json has no package or launch facts)"
        }
        Document::Lock => {
            "a rule over `lockentry.*` reads only `lockentry.*` facts (a lockfile entry has no package or launch facts)"
        }
        Document::Package => {
            "only `launch` rules read `server.*` and `launch.*` facts, and only rules whose `when` reads `serverjson.*` read those"
        }
    };
    for path in when.facts() {
        if wrong_document(path) {
            return Err(format!("field `when`: `{path}`: {document}"));
        }
    }
    for path in evidence {
        if paths::catalogue().contains_key(path) && wrong_document(path) {
            return Err(format!("field `evidence`: `{path}`: {document}"));
        }
    }
    for path in evidence {
        if !paths::catalogue().contains_key(path) {
            return Err(format!("field `evidence`: unknown fact path `{path}`"));
        }
    }
    for (field, text) in ["message", "remediation"].into_iter().zip(texts) {
        for placeholder in placeholders(text) {
            let shorthand = placeholder == "name" || placeholder == "version";
            if !shorthand && !paths::catalogue().contains_key(placeholder) {
                return Err(format!(
                    "field `{field}`: unknown placeholder `{{{placeholder}}}`"
                ));
            }
            if (shorthand && reads != Document::Package)
                || (!shorthand && wrong_document(placeholder))
            {
                return Err(format!(
                    "field `{field}`: placeholder `{{{placeholder}}}`: {document}{}",
                    if shorthand {
                        " (use `{server.name}`)"
                    } else {
                        ""
                    }
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{good, launch_rule, load, scoring};
    use super::super::RuleSet;

    #[test]
    fn embedded_rules_load() {
        let set = RuleSet::embedded().expect("embedded rules are valid");
        assert!(set.rules.len() >= 20, "{} rules", set.rules.len());
    }

    /// (rule id, text replaced, replacement, what the error must say). The file is `<id>.toml`.
    #[rustfmt::skip]
    const REJECTED: &[(&str, &str, &str, &str)] = &[
        ("good-rule", "weight = 3", "weight = 3\nweigth = 4", "unknown field `weigth`"),
        ("good-rule", "\"metadata\"", "\"misc\"", "field `category`"),
        ("good-rule", "version.major\", eq", "version.majr\", eq", "unknown fact path `version.majr`"),
        ("good-rule", "schema = 1", "schema = 2", "field `schema`"),
        ("good-rule", "id = \"good-rule\"", "id = \"Good_Rule\"", "field `id`"),
        ("good-rule", "title = \"t\"\n", "", "missing field `title`"),
        ("good-rule", "{version.major}", "{nope}", "unknown placeholder `{nope}`"),
        ("good-rule", "weight = 3", "weight = 300", "field `weight`"),
        ("good-rule", "version.major\", eq = 0", "launch.unpinned\", eq = true", "only `launch` rules read"),
        ("good-rule", "weight = 3", "weight = 3\necosystems = []", "field `ecosystems` is empty"),
        ("good-rule", "weight = 3", "weight = 3\necosystems = [\"npn\"]", "`npn` is not one of npm"),
        ("good-rule", "weight = 3", "weight = 3\necosystems = [\"npm\", \"npm\"]", "listed twice"),
        ("good-launch", "launch.unpinned\", eq = true", "version.major\", eq = 0", "`version.major`: a `launch` rule reads only"),
        ("good-launch", "{server.name}", "{name}", "placeholder `{name}`"),
        ("good-launch", "{launch.target}", "{package.name}", "placeholder `{package.name}`"),
        ("good-launch", "weight = 3", "weight = 3\necosystems = [\"npm\"]", "field `ecosystems`: a `launch` rule"),
    ];

    #[test]
    fn load_errors_name_file_rule_and_field() {
        for (id, from, to, want) in REJECTED {
            let base = if *id == "good-rule" {
                good()
            } else {
                launch_rule()
            };
            let text = base.replace(from, to);
            assert_ne!(text, base, "{from:?} is not in the rule");
            let err = load(&format!("{id}.toml"), &text).unwrap_err();
            let shown = err.to_string();
            assert!(shown.starts_with(id), "{shown}");
            assert!(shown.contains(want), "want {want:?} in {shown}");
            if *want != "field `id`" {
                assert_eq!(err.rule.as_deref(), Some(*id), "{shown}");
            }
        }
        let err = load("other-name.toml", &good()).unwrap_err();
        assert!(err.to_string().contains("must equal the file name"));
    }

    #[test]
    fn ecosystems_default_to_all_and_limit_when_listed() {
        let all = &load("good-rule.toml", &good()).unwrap().rules[0];
        assert!(all.ecosystems.is_empty());
        assert!(all.applies_to("npm") && all.applies_to("pypi"));
        let text = good().replace("weight = 3", "weight = 3\necosystems = [\"npm\"]");
        let npm = &load("good-rule.toml", &text).unwrap().rules[0];
        assert!(npm.applies_to("npm") && !npm.applies_to("pypi"));
    }

    #[test]
    fn server_json_rules_read_only_server_json_facts() {
        let server = good()
            .replace(
                "version.major\", eq = 0",
                "serverjson.schema_problem_count\", gt = 0",
            )
            .replace(
                "{name}@{version} is major {version.major}",
                "{serverjson.name}",
            );
        let set = load("good-rule.toml", &server).unwrap();
        assert!(set.rules[0].is_server_json());
        assert_eq!(set.package_rules().count(), 0);
        assert_eq!(set.server_json_rules().count(), 1);
        for (from, to, want) in [
            ("{serverjson.name}", "{name}", "placeholder `{name}`"),
            (
                "{serverjson.name}",
                "{package.name}",
                "placeholder `{package.name}`",
            ),
            (
                "{serverjson.name}",
                "{launch.target}",
                "placeholder `{launch.target}`",
            ),
            (
                "weight = 3",
                "weight = 3\nevidence = [\"package.name\"]",
                "field `evidence`",
            ),
            (
                "weight = 3",
                "weight = 3\necosystems = [\"npm\"]",
                "field `ecosystems`",
            ),
        ] {
            let err = load("good-rule.toml", &server.replace(from, to)).unwrap_err();
            assert!(err.to_string().contains(want), "want {want:?} in {err}");
        }
        // A package rule may not name the server.json document either.
        let err = load(
            "good-rule.toml",
            &good().replace("weight = 3", "weight = 3\nevidence = [\"serverjson.name\"]"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("serverjson"), "{err}");
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        let err = RuleSet::from_sources(
            vec![
                scoring(),
                ("a/good-rule.toml".into(), good()),
                ("b/good-rule.toml".into(), good()),
            ],
            None,
        )
        .unwrap_err();
        assert!(err.problem.contains("duplicate rule id"), "{err}");
    }
}
