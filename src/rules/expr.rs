//! The predicate language of rule files, and its three-valued (Kleene) evaluation.

use regex::Regex;
use serde_json::Value;

use super::paths::{catalogue, resolve, FactType, Resolved};

#[derive(Debug, Clone)]
pub enum Predicate {
    All(Vec<Predicate>),
    Any(Vec<Predicate>),
    Not(Box<Predicate>),
    Leaf { fact: String, op: Op },
}

#[derive(Debug, Clone)]
pub enum Op {
    Eq(Value),
    Ne(Value),
    In(Vec<Value>),
    Lt(f64),
    Le(f64),
    Gt(f64),
    Ge(f64),
    Matches(Regex),
    Exists(bool),
    Contains(Value),
    Empty(bool),
}

/// The outcome of a predicate: true, false, or unknown with the reasons of the unknown facts.
#[derive(Debug, Clone, PartialEq)]
pub enum Tri {
    True,
    False,
    Unknown(Vec<String>),
}

const OPS: &[&str] = &[
    "eq", "ne", "in", "lt", "le", "gt", "ge", "matches", "exists", "contains", "empty",
];

/// Parses and validates a `when` table. Errors name the position inside `when`.
pub fn parse(v: &toml::Value, at: &str) -> Result<Predicate, String> {
    let t = v
        .as_table()
        .ok_or_else(|| format!("`{at}` must be a table"))?;
    let combinators: Vec<&str> = ["all", "any", "not"]
        .into_iter()
        .filter(|k| t.contains_key(*k))
        .collect();
    if !combinators.is_empty() {
        if t.len() != 1 {
            return Err(format!(
                "`{at}` mixes `{}` with other keys; use one of all/any/not or a fact leaf",
                combinators[0]
            ));
        }
        let key = combinators[0];
        let inner = &t[key];
        let here = format!("{at}.{key}");
        return match key {
            "not" => Ok(Predicate::Not(Box::new(parse(inner, &here)?))),
            _ => {
                let arr = inner
                    .as_array()
                    .ok_or_else(|| format!("`{here}` must be a list of predicates"))?;
                if arr.is_empty() {
                    return Err(format!("`{here}` is empty"));
                }
                let items = arr
                    .iter()
                    .enumerate()
                    .map(|(i, p)| parse(p, &format!("{here}[{i}]")))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(if key == "all" {
                    Predicate::All(items)
                } else {
                    Predicate::Any(items)
                })
            }
        };
    }
    let fact = t
        .get("fact")
        .ok_or_else(|| format!("`{at}` needs `fact` or one of all/any/not"))?
        .as_str()
        .ok_or_else(|| format!("`{at}.fact` must be a string"))?;
    let ty = *catalogue()
        .get(fact)
        .ok_or_else(|| format!("`{at}.fact`: unknown fact path `{fact}`"))?;
    let ops: Vec<(&String, &toml::Value)> = t.iter().filter(|(k, _)| *k != "fact").collect();
    if ops.len() != 1 {
        return Err(format!(
            "`{at}` must have exactly one operator (one of {}), found {}",
            OPS.join(" "),
            ops.len()
        ));
    }
    let (name, arg) = ops[0];
    let here = format!("{at}.{name}");
    let arg_json = toml_to_json(arg);
    let number = |v: &toml::Value| -> Result<f64, String> {
        if !matches!(ty, FactType::Number) {
            return Err(format!(
                "`{here}`: fact `{fact}` is a {}, not a number",
                ty.name()
            ));
        }
        match v {
            toml::Value::Integer(i) => Ok(*i as f64),
            toml::Value::Float(f) => Ok(*f),
            _ => Err(format!("`{here}` needs a number")),
        }
    };
    let scalar_matches = |v: &Value| -> Result<(), String> {
        let ok = matches!(
            (ty, v),
            (FactType::Bool, Value::Bool(_))
                | (FactType::Number, Value::Number(_))
                | (FactType::String, Value::String(_))
                | (FactType::List, Value::Array(_))
                | (_, Value::Null)
        );
        if ok {
            Ok(())
        } else {
            Err(format!(
                "`{here}`: fact `{fact}` is a {}, the value {v} is not",
                ty.name()
            ))
        }
    };
    let op = match name.as_str() {
        "eq" => {
            scalar_matches(&arg_json)?;
            Op::Eq(arg_json)
        }
        "ne" => {
            scalar_matches(&arg_json)?;
            Op::Ne(arg_json)
        }
        "in" => {
            let arr = arg_json
                .as_array()
                .ok_or_else(|| format!("`{here}` needs a list"))?
                .clone();
            for v in &arr {
                scalar_matches(v)?;
            }
            Op::In(arr)
        }
        "lt" => Op::Lt(number(arg)?),
        "le" => Op::Le(number(arg)?),
        "gt" => Op::Gt(number(arg)?),
        "ge" => Op::Ge(number(arg)?),
        "matches" => {
            if !matches!(ty, FactType::String | FactType::List) {
                return Err(format!(
                    "`{here}`: fact `{fact}` is a {}; `matches` needs a string or list",
                    ty.name()
                ));
            }
            let pat = arg
                .as_str()
                .ok_or_else(|| format!("`{here}` needs a regex string"))?;
            Op::Matches(Regex::new(pat).map_err(|e| format!("`{here}`: bad regex: {e}"))?)
        }
        "exists" => Op::Exists(
            arg.as_bool()
                .ok_or_else(|| format!("`{here}` needs true or false"))?,
        ),
        "contains" => {
            if ty != FactType::List {
                return Err(format!(
                    "`{here}`: fact `{fact}` is a {}; `contains` needs a list",
                    ty.name()
                ));
            }
            Op::Contains(arg_json)
        }
        "empty" => {
            if !matches!(ty, FactType::List | FactType::String) {
                return Err(format!(
                    "`{here}`: fact `{fact}` is a {}; `empty` needs a list or string",
                    ty.name()
                ));
            }
            Op::Empty(
                arg.as_bool()
                    .ok_or_else(|| format!("`{here}` needs true or false"))?,
            )
        }
        other => {
            return Err(format!(
                "`{at}`: unknown operator `{other}` (expected one of {})",
                OPS.join(" ")
            ))
        }
    };
    Ok(Predicate::Leaf {
        fact: fact.to_string(),
        op,
    })
}

pub fn toml_to_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

impl Predicate {
    /// Every fact path this predicate reads, for "which facts made this inconclusive".
    pub fn facts(&self) -> Vec<&str> {
        match self {
            Predicate::All(ps) | Predicate::Any(ps) => ps.iter().flat_map(|p| p.facts()).collect(),
            Predicate::Not(p) => p.facts(),
            Predicate::Leaf { fact, .. } => vec![fact.as_str()],
        }
    }

    /// Whether any fact path this predicate reads satisfies `f`; unlike [`Predicate::facts`] it
    /// allocates nothing, for the checks made once per rule per evaluated document.
    pub fn reads_any(&self, f: &dyn Fn(&str) -> bool) -> bool {
        match self {
            Predicate::All(ps) | Predicate::Any(ps) => ps.iter().any(|p| p.reads_any(f)),
            Predicate::Not(p) => p.reads_any(f),
            Predicate::Leaf { fact, .. } => f(fact),
        }
    }

    pub fn eval(&self, facts: &Value) -> Tri {
        match self {
            Predicate::All(ps) => kleene(ps, facts, false),
            Predicate::Any(ps) => kleene(ps, facts, true),
            Predicate::Not(p) => match p.eval(facts) {
                Tri::True => Tri::False,
                Tri::False => Tri::True,
                u => u,
            },
            Predicate::Leaf { fact, op } => match resolve(facts, fact) {
                Resolved::Unknown(reason) => Tri::Unknown(vec![format!("{fact}: {reason}")]),
                Resolved::Value(v) => Tri::from(op.test(v)),
            },
        }
    }
}

impl From<bool> for Tri {
    fn from(b: bool) -> Tri {
        if b {
            Tri::True
        } else {
            Tri::False
        }
    }
}

/// Kleene AND (`decisive` false) or OR (`decisive` true): one part with the decisive value
/// decides the whole; otherwise any unknown part makes the whole unknown, with every reason.
fn kleene(ps: &[Predicate], facts: &Value, decisive: bool) -> Tri {
    let mut reasons = Vec::new();
    for p in ps {
        match p.eval(facts) {
            Tri::Unknown(r) => reasons.extend(r),
            t if t == Tri::from(decisive) => return t,
            _ => {}
        }
    }
    if reasons.is_empty() {
        Tri::from(!decisive)
    } else {
        Tri::Unknown(dedup(reasons))
    }
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|s| seen.insert(s.clone()));
    v
}

fn num_eq(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

impl Op {
    fn test(&self, v: &Value) -> bool {
        let cmp = |f: &dyn Fn(f64) -> bool| v.as_f64().is_some_and(f);
        match self {
            Op::Eq(x) => num_eq(v, x),
            Op::Ne(x) => !num_eq(v, x),
            Op::In(xs) => xs.iter().any(|x| num_eq(v, x)),
            Op::Lt(n) => cmp(&|x| x < *n),
            Op::Le(n) => cmp(&|x| x <= *n),
            Op::Gt(n) => cmp(&|x| x > *n),
            Op::Ge(n) => cmp(&|x| x >= *n),
            Op::Matches(re) => match v {
                Value::String(s) => re.is_match(s),
                Value::Array(a) => a.iter().any(|e| e.as_str().is_some_and(|s| re.is_match(s))),
                _ => false,
            },
            Op::Exists(want) => {
                let present = match v {
                    Value::Null => false,
                    Value::String(s) => !s.is_empty(),
                    _ => true,
                };
                present == *want
            }
            Op::Contains(x) => v.as_array().is_some_and(|a| a.iter().any(|e| num_eq(e, x))),
            Op::Empty(want) => {
                let empty = match v {
                    Value::Array(a) => a.is_empty(),
                    Value::String(s) => s.is_empty(),
                    Value::Null => true,
                    _ => false,
                };
                empty == *want
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Fact, PackageFacts};

    fn pred(src: &str) -> Result<Predicate, String> {
        let v: toml::Value = toml::from_str(&format!("when = {src}")).unwrap();
        parse(&v["when"], "when")
    }

    fn facts() -> Value {
        let mut f = PackageFacts::example();
        f.maintainers.count = Fact::unknown("no maintainers");
        serde_json::to_value(f).unwrap()
    }

    #[test]
    fn kleene_logic() {
        let f = facts();
        let unknown = pred(r#"{ fact = "maintainers.count", eq = 1 }"#).unwrap();
        assert!(matches!(unknown.eval(&f), Tri::Unknown(_)));
        let t = pred(r#"{ fact = "version.major", eq = 1 }"#).unwrap();
        assert_eq!(t.eval(&f), Tri::True);
        let fl = pred(r#"{ fact = "version.major", gt = 5 }"#).unwrap();
        assert_eq!(fl.eval(&f), Tri::False);
        // false AND unknown = false; true OR unknown = true; true AND unknown = unknown.
        let p = pred(r#"{ all = [ { fact = "version.major", gt = 5 }, { fact = "maintainers.count", eq = 1 } ] }"#).unwrap();
        assert_eq!(p.eval(&f), Tri::False);
        let p = pred(r#"{ any = [ { fact = "version.major", eq = 1 }, { fact = "maintainers.count", eq = 1 } ] }"#).unwrap();
        assert_eq!(p.eval(&f), Tri::True);
        let p = pred(r#"{ all = [ { fact = "version.major", eq = 1 }, { fact = "maintainers.count", eq = 1 } ] }"#).unwrap();
        assert_eq!(
            p.eval(&f),
            Tri::Unknown(vec!["maintainers.count: no maintainers".into()])
        );
        let p = pred(r#"{ not = { fact = "maintainers.count", eq = 1 } }"#).unwrap();
        assert!(matches!(p.eval(&f), Tri::Unknown(_)));
    }

    #[test]
    fn operators() {
        let f = facts();
        let cases = [
            (
                r#"{ fact = "metadata.license", in = ["MIT", "ISC"] }"#,
                Tri::True,
            ),
            (r#"{ fact = "metadata.license", ne = "MIT" }"#, Tri::False),
            (
                r#"{ fact = "metadata.repository", matches = "^https://github" }"#,
                Tri::True,
            ),
            (
                r#"{ fact = "metadata.repository", exists = true }"#,
                Tri::True,
            ),
            (
                r#"{ fact = "dependencies.wildcard", empty = true }"#,
                Tri::True,
            ),
            (r#"{ fact = "tags.names", contains = "latest" }"#, Tri::True),
            (r#"{ fact = "release.age_hours", lt = 72 }"#, Tri::False),
            (r#"{ fact = "release.age_hours", ge = 72.5 }"#, Tri::True),
            (r#"{ fact = "dependencies.count", le = 2 }"#, Tri::True),
        ];
        for (src, want) in cases {
            assert_eq!(pred(src).unwrap().eval(&f), want, "{src}");
        }
    }

    #[test]
    fn validation_names_the_problem() {
        let cases = [
            (
                r#"{ fact = "nope.nothing", eq = 1 }"#,
                "unknown fact path `nope.nothing`",
            ),
            (r#"{ fact = "version.major", eq = "one" }"#, "is a number"),
            (
                r#"{ fact = "version.major", eq = 1, ne = 2 }"#,
                "exactly one operator",
            ),
            (
                r#"{ fact = "version.major", near = 1 }"#,
                "unknown operator `near`",
            ),
            (
                r#"{ fact = "metadata.license", matches = "(" }"#,
                "bad regex",
            ),
            (r#"{ fact = "metadata.license", gt = 1 }"#, "not a number"),
            (r#"{ all = [] }"#, "is empty"),
            (
                r#"{ all = [ { fact = "x" , eq = 1} ], fact = "y" }"#,
                "mixes",
            ),
            (r#"{ eq = 1 }"#, "needs `fact`"),
        ];
        for (src, want) in cases {
            let err = pred(src).unwrap_err();
            assert!(err.contains(want), "{src}: {err}");
        }
    }
}
