//! The catalogue of fact paths a rule may name, read off `PackageFacts::example()` and
//! `LaunchFacts::example()`. The two documents share no top-level key but `schema`, so one
//! catalogue serves both; [`is_launch_path`] tells which document a path belongs to.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;

use crate::facts::{LaunchFacts, PackageFacts};

/// The JSON type a fact path holds when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactType {
    Bool,
    Number,
    String,
    List,
    Object,
}

impl FactType {
    pub fn name(self) -> &'static str {
        match self {
            FactType::Bool => "boolean",
            FactType::Number => "number",
            FactType::String => "string",
            FactType::List => "list",
            FactType::Object => "object",
        }
    }
}

pub fn catalogue() -> &'static BTreeMap<String, FactType> {
    static CAT: OnceLock<BTreeMap<String, FactType>> = OnceLock::new();
    CAT.get_or_init(|| {
        let mut out = BTreeMap::new();
        let v = serde_json::to_value(PackageFacts::example()).expect("facts serialize");
        walk(&v, String::new(), &mut out);
        let v = serde_json::to_value(LaunchFacts::example()).expect("facts serialize");
        walk(&v, String::new(), &mut out);
        // `pypi.*` is absent from the npm example (it is `None` there), so it is read off its own.
        let v = serde_json::json!({ "pypi": crate::facts::PypiFacts::example() });
        walk(&v, String::new(), &mut out);
        let v = serde_json::to_value(crate::mcpserver::ServerJsonFacts::example())
            .expect("facts serialize");
        walk(&v, String::new(), &mut out);
        let v = serde_json::to_value(crate::lockfile::facts::LockFacts::example())
            .expect("facts serialize");
        walk(&v, String::new(), &mut out);
        out
    })
}

fn walk(v: &Value, prefix: String, out: &mut BTreeMap<String, FactType>) {
    let ty = match v {
        Value::Bool(_) => FactType::Bool,
        Value::Number(_) => FactType::Number,
        Value::String(_) => FactType::String,
        Value::Array(_) => FactType::List,
        Value::Object(map) => {
            for (k, child) in map {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                walk(child, p, out);
            }
            FactType::Object
        }
        // `example()` fills every Option, so a null here is a bug in `example()`.
        Value::Null => panic!("an example facts document leaves {prefix} null"),
    };
    if !prefix.is_empty() {
        out.insert(prefix, ty);
    }
}

/// A path of the launch facts document (`server.*`, `launch.*`), which only `launch` rules read.
pub fn is_launch_path(path: &str) -> bool {
    let top = path.split('.').next().unwrap_or_default();
    top == "server" || top == "launch"
}

/// A path of the `server.json` facts document (`serverjson.*`), which only the rules whose
/// condition reads it may name.
pub fn is_server_json_path(path: &str) -> bool {
    path.split('.').next() == Some("serverjson")
}

/// A path of a lockfile entry's facts document (`lockentry.*`), which only the rules whose
/// condition reads it may name (`mcp-audit lock`).
pub fn is_lock_path(path: &str) -> bool {
    path.split('.').next() == Some("lockentry")
}

/// Where a path lands in a facts document.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved<'a> {
    Value(&'a Value),
    Unknown(String),
}

/// Walks `path` through `facts`. An `{"$unknown": reason}` object anywhere on the way makes the
/// whole path unknown; a missing key resolves to JSON null (an absent optional fact).
pub fn resolve<'a>(facts: &'a Value, path: &str) -> Resolved<'a> {
    static NULL: Value = Value::Null;
    let mut cur = facts;
    for seg in path.split('.') {
        if let Some(reason) = unknown_reason(cur) {
            return Resolved::Unknown(reason);
        }
        cur = cur.get(seg).unwrap_or(&NULL);
    }
    match unknown_reason(cur) {
        Some(reason) => Resolved::Unknown(reason),
        None => Resolved::Value(cur),
    }
}

/// The reason of an `{"$unknown": reason}` object, the facts document's form of an unknown fact.
pub fn unknown_reason(v: &Value) -> Option<String> {
    let obj = v.as_object()?;
    if obj.len() != 1 {
        return None;
    }
    obj.get("$unknown")
        .and_then(Value::as_str)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Fact;

    #[test]
    fn catalogue_has_nested_paths_with_types() {
        let c = catalogue();
        assert_eq!(c.get("maintainers.count"), Some(&FactType::Number));
        assert_eq!(c.get("provenance.status"), Some(&FactType::String));
        assert_eq!(c.get("publish.trusted_publisher"), Some(&FactType::Bool));
        assert_eq!(c.get("dependencies.wildcard"), Some(&FactType::List));
        assert!(!c.contains_key("maintainers.count.x"));
        assert_eq!(c.get("launch.unpinned"), Some(&FactType::Bool));
        assert!(is_launch_path("server.name") && !is_launch_path("package.name"));
    }

    #[test]
    fn unknown_facts_resolve_as_unknown() {
        let mut f = PackageFacts::example();
        f.maintainers.count = Fact::unknown("no maintainers served");
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(
            resolve(&v, "maintainers.count"),
            Resolved::Unknown("no maintainers served".into())
        );
        assert_eq!(
            resolve(&v, "version.major"),
            Resolved::Value(&Value::from(1u64))
        );
    }
}
