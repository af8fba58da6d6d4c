//! What a finding says: `{fact.path}` placeholders in messages filled in as readable text, and
//! the evidence values a finding carries. Both are bounded: a package can hold thousands of path
//! problems or dependencies, and a finding shows at most [`EVIDENCE_LIST_CAP`] of them.

use std::collections::BTreeMap;

use serde_json::Value;

use super::paths::{self, Resolved};

/// The most items of one list a message or an evidence value shows; the rest is counted in a
/// last "… and N more" item.
pub const EVIDENCE_LIST_CAP: usize = 20;

/// `{fact.path}` placeholders. `${NAME}` is not one: it is how npm and MCP clients write an
/// environment reference, which remediation texts need to show.
pub(super) fn placeholders(msg: &str) -> Vec<&str> {
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

/// The template with each placeholder replaced by its fact as a reader would write it: never
/// JSON, and an unknown fact as "unknown (reason)".
pub(super) fn render(template: &str, facts: &Value) -> String {
    let mut out = template.to_string();
    for p in placeholders(template) {
        let shown = match p {
            // Shorthands of package rules, which every ecosystem's package facts carry.
            "name" | "version" => facts
                .get("package")
                .and_then(|pkg| pkg.get(p))
                .map(readable)
                .unwrap_or_else(|| readable(&Value::Null)),
            path => match paths::resolve(facts, path) {
                Resolved::Value(v) => readable(v),
                Resolved::Unknown(reason) => unknown_phrase(&reason),
            },
        };
        out = out.replace(&format!("{{{p}}}"), &shown);
    }
    out
}

/// The values of the rule's evidence paths. They stay JSON values, as the facts document writes
/// them (an unknown fact is `{"$unknown": reason}`, which docs/output.md defines); only lists are
/// cut to [`EVIDENCE_LIST_CAP`] items.
pub(super) fn evidence(paths: &[String], facts: &Value) -> BTreeMap<String, Value> {
    paths
        .iter()
        .map(|p| {
            let value = match paths::resolve(facts, p) {
                Resolved::Value(Value::Array(items)) => Value::Array(capped(items, |v| v.clone())),
                Resolved::Value(v) => v.clone(),
                Resolved::Unknown(reason) => serde_json::json!({ "$unknown": reason }),
            };
            (p.clone(), value)
        })
        .collect()
}

/// The first [`EVIDENCE_LIST_CAP`] items, then "… and N more" when there were more.
fn capped<T: From<String>>(items: &[Value], show: impl Fn(&Value) -> T) -> Vec<T> {
    let mut out: Vec<T> = items.iter().take(EVIDENCE_LIST_CAP).map(show).collect();
    if items.len() > EVIDENCE_LIST_CAP {
        out.push(format!("… and {} more", items.len() - EVIDENCE_LIST_CAP).into());
    }
    out
}

fn unknown_phrase(reason: &str) -> String {
    format!("unknown ({reason})")
}

/// A fact value as text in a sentence.
fn readable(v: &Value) -> String {
    if let Some(reason) = paths::unknown_reason(v) {
        return unknown_phrase(&reason);
    }
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "none".into(),
        Value::Bool(_) | Value::Number(_) => v.to_string(),
        Value::Array(items) if items.is_empty() => "none".into(),
        Value::Array(items) => capped(items, readable).join(", "),
        Value::Object(fields) => fields
            .iter()
            .map(|(k, v)| format!("{k}: {}", readable(v)))
            .collect::<Vec<_>>()
            .join(", "),
    }
}
