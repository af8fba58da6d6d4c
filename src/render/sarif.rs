//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and other dashboards, built with the
//! `serde-sarif` types (generated from the OASIS schema) rather than by hand.
//!
//! GitHub reads more than the schema requires: rules need short and full descriptions, help
//! (text and markdown), `helpUri` and a string `security-severity`; results need a physical
//! location with a region, and a `primaryLocationLineHash` that does not move when a version or
//! a line does, or every re-run closes the old alert and opens a new one. Rules that could not be
//! decided are not results (nothing was found) but notifications, as are packages that could not
//! be checked; `executionSuccessful` is false when anything could not be checked.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use serde_sarif::sarif;

use super::sanitize::Sanitizer;
use super::subjects::{fingerprint, Place, Subjects};
use crate::rules::Severity;

/// Where the rule documentation is published; each rule is a `## <id>` section of it.
pub const DOCS_URL: &str = "https://github.com/mcp-audit/mcp-audit/blob/main/docs/rules.md";

static RULES_DOC: &str = include_str!("../../docs/rules.md");

/// GitHub's `security-severity` scale (0.1 to 10.0): critical is 9.0 and above, high 7.0-8.9,
/// medium 4.0-6.9, low below.
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

fn level(s: Severity) -> sarif::ResultLevel {
    match s {
        Severity::Critical | Severity::High => sarif::ResultLevel::Error,
        Severity::Medium => sarif::ResultLevel::Warning,
        Severity::Low | Severity::Info => sarif::ResultLevel::Note,
    }
}

/// The `## <id>` section of docs/rules.md, without its heading; `None` for a rule that is not
/// documented there (one from `--rules DIR`).
pub fn rule_section(id: &str) -> Option<&'static str> {
    let heading = format!("\n## {id}\n");
    let start = RULES_DOC.find(&heading)? + heading.len();
    let rest = &RULES_DOC[start..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    Some(rest[..end].trim())
}

/// The "What it checks." paragraph of a rule's section.
fn what_it_checks(section: &str) -> Option<String> {
    let para = section
        .split("\n\n")
        .find(|p| p.starts_with("**What it checks.**"))?;
    let text = para
        .trim_start_matches("**What it checks.**")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    Some(text)
}

struct RuleInfo {
    title: String,
    category: String,
    severity: Severity,
    remediation: String,
}

fn message(text: String) -> sarif::Message {
    sarif::Message::builder().text(text).build()
}

fn location(place: &Place) -> sarif::Location {
    let physical = sarif::PhysicalLocation::builder()
        .artifact_location(
            sarif::ArtifactLocation::builder()
                .uri(place.uri.clone())
                .build(),
        )
        // GitHub wants a region; a manifest with no line for the package points at its top.
        .region(
            sarif::Region::builder()
                .start_line(place.line.unwrap_or(1) as i64)
                .build(),
        )
        .build();
    match &place.purl {
        Some(purl) => sarif::Location::builder()
            .physical_location(physical)
            .logical_locations(vec![sarif::LogicalLocation::builder()
                .fully_qualified_name(purl.clone())
                .kind("package".to_string())
                .build()])
            .build(),
        None => sarif::Location::builder()
            .physical_location(physical)
            .build(),
    }
}

fn notification(
    text: String,
    level: sarif::NotificationLevel,
    rule: Option<(&str, usize)>,
    place: Option<&Place>,
) -> sarif::Notification {
    let n = sarif::Notification::builder()
        .message(message(text))
        .level(json!(level));
    match (rule, place) {
        (Some((id, index)), Some(p)) => n
            .associated_rule(
                sarif::ReportingDescriptorReference::builder()
                    .id(id.to_string())
                    .index(index as i64)
                    .build(),
            )
            .locations(vec![location(p)])
            .build(),
        (Some((id, index)), None) => n
            .associated_rule(
                sarif::ReportingDescriptorReference::builder()
                    .id(id.to_string())
                    .index(index as i64)
                    .build(),
            )
            .build(),
        (None, Some(p)) => n.locations(vec![location(p)]).build(),
        (None, None) => n.build(),
    }
}

fn descriptor(id: &str, r: &RuleInfo) -> sarif::ReportingDescriptor {
    let section = rule_section(id);
    let full = section
        .and_then(what_it_checks)
        .unwrap_or_else(|| r.title.clone());
    let help_md = match section {
        Some(s) => s.to_string(),
        None => format!("**{}**\n\n{}", r.title, r.remediation),
    };
    let help_text = match section {
        Some(_) => help_md.replace("**", "").replace('`', ""),
        None => format!("{}\n\n{}", r.title, r.remediation),
    };
    let mut extra = BTreeMap::new();
    extra.insert(
        "security-severity".to_string(),
        Value::String(security_severity(r.severity).to_string()),
    );
    extra.insert(
        "severity".to_string(),
        Value::String(r.severity.as_str().to_string()),
    );
    sarif::ReportingDescriptor::builder()
        .id(id.to_string())
        .name(id.to_string())
        .short_description(
            sarif::MultiformatMessageString::builder()
                .text(r.title.clone())
                .build(),
        )
        .full_description(
            sarif::MultiformatMessageString::builder()
                .text(full)
                .build(),
        )
        .help(
            sarif::MultiformatMessageString::builder()
                .text(help_text)
                .markdown(help_md)
                .build(),
        )
        .help_uri(format!("{DOCS_URL}#{id}"))
        .default_configuration(
            sarif::ReportingConfiguration::builder()
                .level(json!(level(r.severity)))
                .build(),
        )
        .properties(
            sarif::PropertyBag::builder()
                .tags(vec![
                    "security".to_string(),
                    "supply-chain".to_string(),
                    r.category.clone(),
                ])
                .additional_properties(extra)
                .build(),
        )
        .build()
}

/// The SARIF log of a scan or config audit, as JSON text (not yet scrubbed: print it through
/// [`Sanitizer::scrub_json`]).
pub fn render(s: &Subjects<'_>, clean: &Sanitizer) -> String {
    // Every rule that produced a result or a notification, in a stable order.
    let mut rules: BTreeMap<&str, RuleInfo> = BTreeMap::new();
    for subject in &s.subjects {
        for f in subject.findings {
            rules.entry(&f.rule).or_insert_with(|| RuleInfo {
                title: f.title.clone(),
                category: f.category.clone(),
                severity: f.severity,
                remediation: f.remediation.clone(),
            });
        }
        for i in subject.inconclusive {
            rules.entry(&i.rule).or_insert_with(|| RuleInfo {
                title: i.title.clone(),
                category: i.category.clone(),
                severity: i.severity,
                remediation: String::new(),
            });
        }
    }
    let index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, k)| (*k, i)).collect();

    let mut results = Vec::new();
    let mut notes = Vec::new();
    let mut failed = false;
    for subject in &s.subjects {
        let who = clean.inline(&subject.who());
        if let Some(e) = &subject.error {
            failed = true;
            notes.push(notification(
                format!("{who}: could not be checked: {}", clean.line(e)),
                sarif::NotificationLevel::Error,
                None,
                Some(&subject.place),
            ));
        }
        for f in subject.findings {
            let mut fp = BTreeMap::new();
            fp.insert(
                "primaryLocationLineHash".to_string(),
                fingerprint(&f.rule, &subject.identity),
            );
            let mut props = BTreeMap::new();
            props.insert("severity".to_string(), json!(f.severity.as_str()));
            props.insert("confidence".to_string(), json!(f.confidence.as_str()));
            props.insert("weight".to_string(), json!(f.weight));
            if let Some(p) = &subject.package {
                props.insert("package".to_string(), json!(clean.inline(p)));
            }
            if let Some(v) = &subject.version {
                props.insert("version".to_string(), json!(clean.inline(v)));
            }
            if let Some(s) = &subject.server {
                props.insert("server".to_string(), json!(clean.inline(s)));
            }
            results.push(
                sarif::Result::builder()
                    .rule_id(f.rule.clone())
                    .rule_index(index[f.rule.as_str()] as i64)
                    .level(level(f.severity))
                    .message(message(clean.line(&subject.about(&f.message))))
                    .locations(vec![location(&subject.place)])
                    .partial_fingerprints(fp)
                    .properties(
                        sarif::PropertyBag::builder()
                            .additional_properties(props)
                            .build(),
                    )
                    .build(),
            );
        }
        for i in subject.inconclusive {
            let reasons: Vec<String> = i.reasons.iter().map(|r| clean.line(r)).collect();
            notes.push(notification(
                format!(
                    "{who}: rule {} could not be decided: {}",
                    i.rule,
                    reasons.join("; ")
                ),
                sarif::NotificationLevel::Note,
                Some((&i.rule, index[i.rule.as_str()])),
                Some(&subject.place),
            ));
        }
    }
    for p in &s.problems {
        failed = true;
        notes.push(notification(
            clean.line(&p.message),
            sarif::NotificationLevel::Error,
            None,
            p.place.as_ref(),
        ));
    }

    let driver = sarif::ToolComponent::builder()
        .name("mcp-audit".to_string())
        .version(env!("CARGO_PKG_VERSION").to_string())
        .semantic_version(env!("CARGO_PKG_VERSION").to_string())
        .information_uri(DOCS_URL.to_string())
        .rules(
            rules
                .iter()
                .map(|(id, r)| descriptor(id, r))
                .collect::<Vec<_>>(),
        )
        .build();
    let invocation = sarif::Invocation::builder()
        .execution_successful(!failed)
        .tool_execution_notifications(notes)
        .build();
    let run = sarif::Run::builder()
        .tool(sarif::Tool::from(driver))
        .invocations(vec![invocation])
        .results(results)
        .build();
    let log = sarif::Sarif::builder()
        .schema(sarif::SCHEMA_URL.to_string())
        .version(json!(sarif::Version::V2_1_0))
        .runs(vec![run])
        .build();
    let mut text = serde_json::to_string_pretty(&log).expect("SARIF serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_rule_has_a_section() {
        let rules = crate::rules::RuleSet::embedded().unwrap();
        for r in &rules.rules {
            let s = rule_section(&r.id).unwrap_or_else(|| panic!("no section for {}", r.id));
            assert!(what_it_checks(s).is_some(), "{}", r.id);
        }
    }
}
