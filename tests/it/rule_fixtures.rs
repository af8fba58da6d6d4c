//! Every embedded rule is pinned down by examples in `fixtures/rules/<rule-id>.json` and documented
//! under `## <rule-id>` in docs/rules.md.
//!
//! A fixture file holds cases under `fail`, `pass` and `inconclusive`. Each case is a set of
//! overrides, dotted fact path → JSON value, applied on top of `PackageFacts::example()` (the clean
//! package on which every rule passes), or `LaunchFacts::example()` for `launch` rules. The
//! resulting document must deserialize back into its facts type, so a fixture is always a valid
//! facts file, and the rule must then produce exactly the expected outcome. Counts must match their lists, so that a fixture reads like facts that
//! `derive_facts` could have produced.
//!
//! Also checked here: the example package passes every rule, every fixture document survives a
//! JSON → `PackageFacts` → JSON round trip unchanged (what `mcp-audit evaluate` relies on), and
//! docs/rules.md has a `## <rule-id>` section per rule, in category order, whose first line states
//! the rule file's category, severity, confidence and weight.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use mcp_audit::facts::deps::{self, Dependency, RangeClass};
use mcp_audit::facts::{LaunchFacts, PackageFacts};
use mcp_audit::lockfile::facts::LockFacts;
use mcp_audit::mcpserver::ServerJsonFacts;
use mcp_audit::rules::{Outcome, Rule, RuleSet, CATEGORIES};
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Fail,
    Pass,
    Inconclusive,
}

impl Expect {
    const ALL: [(&'static str, Expect); 3] = [
        ("fail", Expect::Fail),
        ("pass", Expect::Pass),
        ("inconclusive", Expect::Inconclusive),
    ];

    fn name(self) -> &'static str {
        match self {
            Expect::Fail => "fail",
            Expect::Pass => "pass",
            Expect::Inconclusive => "inconclusive",
        }
    }

    fn holds(self, outcome: &Outcome) -> bool {
        matches!(
            (self, outcome),
            (Expect::Fail, Outcome::Finding { .. })
                | (Expect::Pass, Outcome::Pass)
                | (Expect::Inconclusive, Outcome::Inconclusive { .. })
        )
    }
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture_dir() -> PathBuf {
    manifest_dir().join("fixtures").join("rules")
}

fn rules() -> RuleSet {
    RuleSet::embedded().expect("embedded rules load")
}

/// Which facts document a rule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Doc {
    Package,
    /// A package document of a PyPI project: the example with `pypi.*` filled in, for the rules
    /// that read `pypi.*` (they list `ecosystems = ["pypi"]`).
    Pypi,
    Launch,
    ServerJson,
    Lock,
}

impl Doc {
    fn of(rule: &Rule) -> Doc {
        if rule.is_launch() {
            Doc::Launch
        } else if rule.is_server_json() {
            Doc::ServerJson
        } else if rule.is_lock() {
            Doc::Lock
        } else if rule.ecosystems == ["pypi"] {
            Doc::Pypi
        } else {
            Doc::Package
        }
    }

    fn example(self) -> Value {
        match self {
            Doc::Package => serde_json::to_value(PackageFacts::example()),
            Doc::Pypi => serde_json::to_value(pypi_example()),
            Doc::Launch => serde_json::to_value(LaunchFacts::example()),
            Doc::ServerJson => serde_json::to_value(ServerJsonFacts::example()),
            Doc::Lock => serde_json::to_value(LockFacts::example()),
        }
        .expect("example facts serialize")
    }
}

/// Sets `path` (dotted) in `doc` to `value`. Every segment must already exist, so a misspelt path
/// is an error rather than a new key that no rule reads.
fn set_path(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let mut cur = doc;
    let mut walked = Vec::new();
    for seg in path.split('.') {
        let here = if walked.is_empty() {
            seg.to_string()
        } else {
            format!("{}.{seg}", walked.join("."))
        };
        cur = cur
            .as_object_mut()
            .ok_or_else(|| format!("`{}` is not an object", walked.join(".")))?
            .get_mut(seg)
            .ok_or_else(|| format!("override path `{here}` does not exist in the example facts"))?;
        walked.push(seg);
    }
    *cur = value;
    Ok(())
}

/// The example facts document with a case's overrides applied.
fn build_doc(kind: Doc, overrides: &Map<String, Value>) -> Result<Value, String> {
    let mut doc = kind.example();
    for (path, value) in overrides {
        set_path(&mut doc, path, value.clone())?;
    }
    Ok(doc)
}

/// Reads a facts document back into its facts type (proof that it is a valid facts file) and
/// returns it serialized again, as the rule engine sees it.
fn to_facts(kind: Doc, doc: &Value) -> Result<Value, String> {
    let back = match kind {
        Doc::Package | Doc::Pypi => PackageFacts::deserialize(doc).map(serde_json::to_value),
        Doc::Launch => LaunchFacts::deserialize(doc).map(serde_json::to_value),
        Doc::ServerJson => ServerJsonFacts::deserialize(doc).map(serde_json::to_value),
        Doc::Lock => LockFacts::deserialize(doc).map(serde_json::to_value),
    };
    back.map(|v| v.expect("facts serialize"))
        .map_err(|e| format!("not a valid facts document: {e}"))
}

fn build_facts(kind: Doc, overrides: &Map<String, Value>) -> Result<Value, String> {
    to_facts(kind, &build_doc(kind, overrides)?)
}

struct Case {
    expect: Expect,
    index: usize,
    overrides: Map<String, Value>,
}

fn read_fixture(path: &Path) -> Result<Vec<Case>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| format!("invalid JSON: {e}"))?;
    let top = doc.as_object().ok_or("the top level must be an object")?;
    for key in top.keys() {
        if !Expect::ALL.iter().any(|(name, _)| name == key) {
            return Err(format!(
                "unknown key `{key}` (expected fail, pass, inconclusive)"
            ));
        }
    }
    let mut cases = Vec::new();
    for (name, expect) in Expect::ALL {
        let Some(list) = top.get(name) else { continue };
        let list = list
            .as_array()
            .ok_or_else(|| format!("`{name}` must be a list of cases"))?;
        for (index, case) in list.iter().enumerate() {
            let overrides = case
                .as_object()
                .ok_or_else(|| format!("{name}[{index}] must be an object of overrides"))?;
            cases.push(Case {
                expect,
                index,
                overrides: overrides.clone(),
            });
        }
    }
    Ok(cases)
}

fn fixture_ids() -> BTreeSet<String> {
    std::fs::read_dir(fixture_dir())
        .expect("fixtures/rules exists")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("json"))
        .map(|p| {
            p.file_stem()
                .and_then(|s| s.to_str())
                .expect("UTF-8 file name")
                .to_string()
        })
        .collect()
}

/// Whether a fact the rule reads can be `{"$unknown": ...}` in a valid facts document.
fn can_be_unknown(kind: Doc, path: &str) -> bool {
    let unknown = serde_json::json!({ "$unknown": "probe" });
    let mut overrides = Map::new();
    overrides.insert(path.to_string(), unknown);
    build_facts(kind, &overrides).is_ok()
}

/// The JSON at a dotted path (null when absent).
fn at_path<'a>(doc: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(doc, |v, key| &v[key])
}

fn is_unknown(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|o| o.len() == 1 && o.contains_key("$unknown"))
}

/// Facts that derivation always produces together must agree in a fixture too: a count and its
/// list, install script names and commands. A fixture is documentation, so it must be a document
/// `derive_facts` could have written. Checked on the JSON as written.
fn inconsistencies(kind: Doc, doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if kind == Doc::ServerJson {
        for (count, list) in [
            (
                "serverjson.schema_problem_count",
                "serverjson.schema_problems",
            ),
            (
                "serverjson.unpinned_version_count",
                "serverjson.unpinned_versions",
            ),
            (
                "serverjson.bad_file_hash_count",
                "serverjson.bad_file_hashes",
            ),
            ("serverjson.insecure_url_count", "serverjson.insecure_urls"),
            (
                "serverjson.plaintext_secret_count",
                "serverjson.plaintext_secrets",
            ),
            (
                "serverjson.unmarked_secret_variable_count",
                "serverjson.unmarked_secret_variables",
            ),
        ] {
            let len = at_path(doc, list).as_array().map(|a| a.len() as u64);
            if at_path(doc, count).as_u64() != len {
                out.push(format!("`{count}` does not count `{list}`"));
            }
        }
        return out;
    }
    if kind == Doc::Launch {
        for (count, list) in [
            ("launch.plaintext_secret_count", "launch.plaintext_secrets"),
            ("launch.inline_npm_auth_count", "launch.inline_npm_auth"),
        ] {
            let len = at_path(doc, list).as_array().map(|a| a.len() as u64);
            if at_path(doc, count).as_u64() != len {
                out.push(format!("`{count}` does not count `{list}`"));
            }
        }
        let secrets = at_path(doc, "launch.plaintext_secrets").as_array();
        let lines: Option<Vec<String>> = secrets.map(|list| {
            list.iter()
                .map(|p| {
                    format!(
                        "{} ({}, {})",
                        p["location"].as_str().unwrap_or_default(),
                        p["kind"].as_str().unwrap_or_default(),
                        p["evidence"].as_str().unwrap_or_default()
                    )
                })
                .collect()
        });
        let shown = at_path(doc, "launch.plaintext_secret_locations");
        if lines.map(|l| serde_json::json!(l)).as_ref() != Some(shown) {
            out.push(
                "`launch.plaintext_secret_locations` must list `launch.plaintext_secrets`".into(),
            );
        }
        return out;
    }
    for (count, list) in [
        ("maintainers.count", "maintainers.names"),
        ("dependencies.count", "dependencies.list"),
    ] {
        let (c, l) = (at_path(doc, count), at_path(doc, list));
        match (is_unknown(c), is_unknown(l)) {
            (true, true) => {}
            (false, false) => {
                let len = l.as_array().map(|a| a.len() as u64);
                if c.as_u64() != len {
                    out.push(format!("`{count}` is {c} but `{list}` has {len:?} entries"));
                }
            }
            _ => out.push(format!(
                "`{count}` and `{list}` must be both known or both unknown"
            )),
        }
    }
    out.extend(dependency_inconsistencies(doc));
    let names: BTreeSet<&str> = at_path(doc, "scripts.install_scripts")
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let commands: BTreeSet<&str> = at_path(doc, "scripts.install_commands")
        .as_object()
        .into_iter()
        .flat_map(|o| o.keys().map(String::as_str))
        .collect();
    if names != commands {
        out.push(
            "`scripts.install_scripts` and `scripts.install_commands` name different scripts"
                .into(),
        );
    }
    if !names.is_empty() && at_path(doc, "scripts.has_install_script") != &Value::Bool(true) {
        out.push(
            "`scripts.has_install_script` must be true when install scripts are listed".into(),
        );
    }
    out
}

/// Each dependency's `class` is what `deps::classify` makes of its spec, and the per-class lists
/// and `floating_percent` are derived from `dependencies.list` as `derive_facts` does.
fn dependency_inconsistencies(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(list) = Vec::<Dependency>::deserialize(at_path(doc, "dependencies.list")) else {
        return out; // the facts deserialization reports it
    };
    for d in &list {
        let want = deps::classify(&d.spec);
        if d.class != want {
            out.push(format!(
                "dependency {}@{} has class {:?}, but the spec classifies as {want:?}",
                d.name, d.spec, d.class
            ));
        }
    }
    let pick = |pred: &dyn Fn(RangeClass) -> bool| -> Value {
        list.iter()
            .filter(|d| pred(d.class))
            .map(|d| Value::from(format!("{}@{}", d.name, d.spec)))
            .collect()
    };
    let buckets: [(&str, Value); 5] = [
        ("wildcard", pick(&|c| c == RangeClass::Wildcard)),
        ("open_upper", pick(&|c| c == RangeClass::OpenUpper)),
        ("caret_zero", pick(&|c| c == RangeClass::CaretZero)),
        (
            "remote",
            pick(&|c| matches!(c, RangeClass::Git | RangeClass::Url)),
        ),
        (
            "local",
            pick(&|c| matches!(c, RangeClass::File | RangeClass::Link | RangeClass::Other)),
        ),
    ];
    for (bucket, want) in buckets {
        let path = format!("dependencies.{bucket}");
        let got = at_path(doc, &path);
        if got != &want {
            out.push(format!(
                "`{path}` is {got}, but `dependencies.list` gives {want}"
            ));
        }
    }
    let registry = list.iter().filter(|d| d.class.is_registry()).count() as u64;
    let floating = list.iter().filter(|d| d.class.floats()).count() as u64;
    let percent = (floating * 100).checked_div(registry).unwrap_or(0);
    let got = at_path(doc, "dependencies.floating_percent");
    if got.as_u64() != Some(percent) {
        out.push(format!(
            "`dependencies.floating_percent` is {got}, but `dependencies.list` gives {percent}"
        ));
    }
    out
}

fn outcome_name(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Pass => "pass".into(),
        Outcome::Finding { message, .. } => format!("finding ({message})"),
        Outcome::Inconclusive { reasons } => format!("inconclusive ({})", reasons.join("; ")),
    }
}

fn check_rule(rule: &Rule, problems: &mut Vec<String>) {
    let kind = Doc::of(rule);
    let file = format!("fixtures/rules/{}.json", rule.id);
    let cases = match read_fixture(&fixture_dir().join(format!("{}.json", rule.id))) {
        Ok(c) => c,
        Err(e) => {
            problems.push(format!("{file}: {e}"));
            return;
        }
    };
    for (name, expect) in [("fail", Expect::Fail), ("pass", Expect::Pass)] {
        if !cases.iter().any(|c| c.expect == expect) {
            problems.push(format!("{file}: needs at least one `{name}` case"));
        }
    }
    let unknowable: Vec<&str> = rule
        .when
        .facts()
        .into_iter()
        .filter(|p| can_be_unknown(kind, p))
        .collect();
    if !unknowable.is_empty() && !cases.iter().any(|c| c.expect == Expect::Inconclusive) {
        problems.push(format!(
            "{file}: needs at least one `inconclusive` case, since {} can be unknown",
            unknowable.join(", ")
        ));
    }
    for case in &cases {
        let name = case.expect.name();
        let at = format!("{file} {name}[{}]", case.index);
        let facts = match build_doc(kind, &case.overrides) {
            Ok(doc) => {
                for problem in inconsistencies(kind, &doc) {
                    problems.push(format!("{at}: {problem}"));
                }
                to_facts(kind, &doc)
            }
            Err(e) => Err(e),
        };
        let json = match facts {
            Ok(f) => f,
            Err(e) => {
                problems.push(format!("{at}: {e}"));
                continue;
            }
        };
        let outcome = rule.evaluate(&json);
        if !case.expect.holds(&outcome) {
            problems.push(format!(
                "{at}: expected {name}, got {}",
                outcome_name(&outcome)
            ));
        }
    }
}

#[test]
fn every_rule_has_fixtures_and_every_fixture_has_a_rule() {
    let ids: BTreeSet<String> = rules().rules.iter().map(|r| r.id.clone()).collect();
    let fixtures = fixture_ids();
    let missing: Vec<_> = ids.difference(&fixtures).collect();
    let orphans: Vec<_> = fixtures.difference(&ids).collect();
    assert!(
        missing.is_empty(),
        "rules without fixtures/rules/<id>.json: {missing:?}"
    );
    assert!(
        orphans.is_empty(),
        "fixtures/rules/*.json naming no embedded rule: {orphans:?}"
    );
}

#[test]
fn rules_behave_as_their_fixtures_say() {
    let set = rules();
    let fixtures = fixture_ids();
    let mut problems = Vec::new();
    for rule in set.rules.iter().filter(|r| fixtures.contains(&r.id)) {
        check_rule(rule, &mut problems);
    }
    assert!(
        problems.is_empty(),
        "{} fixture problem(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

/// Paths where two facts documents differ; numbers compare by value (`72` equals `72.0`).
fn differences(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    let child = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                differences(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    &child(k),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                differences(x, y, &child(&i.to_string()), out);
            }
        }
        (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => {}
        _ if a == b => {}
        _ => out.push(format!("{path}: {a} became {b}")),
    }
}

/// A facts file (as `mcp-audit facts` writes and `mcp-audit evaluate` reads) must mean the same
/// after a trip through `PackageFacts`: otherwise `evaluate` judges other facts than `facts`
/// printed. Every fixture case (the example itself included) is such a file.
#[test]
fn fixture_documents_survive_a_round_trip() {
    // difference → the cases showing it
    let mut changed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let set = rules();
    for id in fixture_ids() {
        let Some(rule) = set.rules.iter().find(|r| r.id == id) else {
            continue; // reported by every_rule_has_fixtures_and_every_fixture_has_a_rule
        };
        let kind = Doc::of(rule);
        let path = fixture_dir().join(format!("{id}.json"));
        let Ok(cases) = read_fixture(&path) else {
            continue; // reported by rules_behave_as_their_fixtures_say
        };
        for case in cases {
            let Ok(doc) = build_doc(kind, &case.overrides) else {
                continue;
            };
            let Ok(back) = to_facts(kind, &doc) else {
                continue;
            };
            let mut diffs = Vec::new();
            differences(&doc, &back, "", &mut diffs);
            for d in diffs {
                changed.entry(d).or_default().push(format!(
                    "fixtures/rules/{id}.json {}[{}]",
                    case.expect.name(),
                    case.index
                ));
            }
        }
    }
    let shown: Vec<String> = changed
        .iter()
        .map(|(d, cases)| format!("{d} ({} case(s), first {})", cases.len(), cases[0]))
        .collect();
    assert!(
        shown.is_empty(),
        "facts change on JSON -> facts type -> JSON:\n  {}",
        shown.join("\n  ")
    );
}

/// Every evaluation passes; otherwise the rules that did not, with their outcomes.
fn assert_all_pass(evals: &[mcp_audit::rules::Evaluation<'_>], example: &str) {
    assert!(!evals.is_empty(), "no rules ran over {example}");
    let failing: Vec<String> = evals
        .iter()
        .filter(|e| e.outcome != Outcome::Pass)
        .map(|e| format!("{}: {}", e.rule.id, outcome_name(&e.outcome)))
        .collect();
    assert!(
        failing.is_empty(),
        "{example} must pass every rule it is judged by:\n  {}",
        failing.join("\n  ")
    );
}

#[test]
fn the_example_package_passes_every_rule() {
    let set = rules();
    assert_all_pass(
        &set.evaluate(&PackageFacts::example()),
        "PackageFacts::example()",
    );
}

/// The example package as a PyPI project.
fn pypi_example() -> PackageFacts {
    let mut f = PackageFacts::example();
    f.package.ecosystem = "pypi".into();
    f.pypi = Some(mcp_audit::facts::PypiFacts::example());
    f
}

#[test]
fn the_example_pypi_package_passes_every_rule_for_pypi() {
    let set = rules();
    let evals = set.evaluate(&pypi_example());
    assert!(evals.iter().any(|e| e.rule.id == "pypi-pth-exec"));
    assert!(!evals.iter().any(|e| e.rule.id == "signatures-missing"));
    assert_all_pass(&evals, "the PyPI example");
}

#[test]
fn the_example_launch_passes_every_launch_rule() {
    let set = rules();
    assert_all_pass(
        &set.evaluate_launch(&LaunchFacts::example()),
        "LaunchFacts::example()",
    );
}

#[test]
fn the_example_server_json_passes_every_server_json_rule() {
    let set = rules();
    assert_all_pass(
        &set.evaluate_server_json(&ServerJsonFacts::example()),
        "ServerJsonFacts::example()",
    );
}

#[test]
fn fixture_paths_are_checked() {
    let mut bad = Map::new();
    bad.insert("maintainers.cuont".into(), Value::from(1));
    let err = build_facts(Doc::Package, &bad).unwrap_err();
    assert!(err.contains("maintainers.cuont"), "{err}");
    let mut wrong_type = Map::new();
    wrong_type.insert("maintainers.count".into(), Value::from("two"));
    assert!(build_facts(Doc::Package, &wrong_type).is_err());
    let mut launch_type = Map::new();
    launch_type.insert("launch.unpinned".into(), Value::from("yes"));
    assert!(build_facts(Doc::Launch, &launch_type).is_err());
}

/// `## <heading>` lines outside code fences, in order.
fn level_two_headings(markdown: &str) -> Vec<String> {
    let mut in_fence = false;
    let mut out = Vec::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        if let Some(h) = line.strip_prefix("## ") {
            out.push(h.trim().to_string());
        }
    }
    out
}

/// A heading that reads like a rule id (lowercase kebab-case). Prose headings such as
/// "## How rules work" are not rule sections.
fn looks_like_rule_id(h: &str) -> bool {
    !h.is_empty()
        && h.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[test]
fn every_rule_is_documented_under_its_id() {
    let set = rules();
    let path = manifest_dir().join("docs").join("rules.md");
    let text = std::fs::read_to_string(&path).expect("docs/rules.md exists");
    let by_id: BTreeMap<&str, &Rule> = set.rules.iter().map(|r| (r.id.as_str(), r)).collect();
    let sections: Vec<String> = level_two_headings(&text)
        .into_iter()
        .filter(|h| looks_like_rule_id(h))
        .collect();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for h in &sections {
        if !by_id.contains_key(h.as_str()) {
            problems.push(format!("`## {h}` names no embedded rule"));
        }
        if !seen.insert(h.as_str()) {
            problems.push(format!("`## {h}` appears twice"));
        }
    }
    for id in by_id.keys() {
        if !seen.contains(id) {
            problems.push(format!("rule {id} has no `## {id}` section"));
        }
    }
    // Sections follow the category order of `CATEGORIES`.
    let rank = |h: &String| {
        by_id
            .get(h.as_str())
            .and_then(|r| CATEGORIES.iter().position(|c| *c == r.category))
    };
    let ranks: Vec<(usize, &String)> = sections
        .iter()
        .filter_map(|h| rank(h).map(|r| (r, h)))
        .collect();
    for pair in ranks.windows(2) {
        if pair[1].0 < pair[0].0 {
            problems.push(format!(
                "`## {}` ({}) comes after `## {}` ({}); keep sections in category order",
                pair[1].1, CATEGORIES[pair[1].0], pair[0].1, CATEGORIES[pair[0].0]
            ));
        }
    }
    // The summary line under each heading states what the rule file says.
    for (id, rule) in &by_id {
        let want = format!(
            "Category: {} · Severity: {} · Confidence: {} · Weight: {}",
            rule.category,
            rule.severity.as_str(),
            rule.confidence.as_str(),
            rule.weight
        );
        let heading = format!("## {id}");
        let Some(start) = text.lines().position(|l| l.trim_end() == heading) else {
            continue;
        };
        let summary = text
            .lines()
            .skip(start + 1)
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default()
            .replace('*', "");
        if summary.trim() != want {
            problems.push(format!(
                "the line under `## {id}` should read `{want}` (bold allowed), found `{summary}`"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "docs/rules.md is out of step with rules/:\n  {}",
        problems.join("\n  ")
    );
}

/// Internal forms that must never reach a reader of a finding: the JSON of an unknown fact, and
/// Rust's Debug names of content kinds.
fn assert_readable(text: &str) {
    for internal in ["$unknown", "{", "ParentDir", "Symlink", "(High)"] {
        assert!(!text.contains(internal), "{internal:?} in {text}");
    }
}

/// Content analysis, through derivation, into findings: what the path problem and obfuscation
/// findings say names each kind as the JSON does (`parent-dir`, `high`), never by its Debug name.
#[test]
fn derived_content_findings_read_without_debug_names() {
    use mcp_audit::content::{
        Confidence, ContentReport, Obfuscation, PathProblem, PathProblemKind,
    };
    use mcp_audit::facts::{derive_facts, DeriveInput, Evidence, TarballEvidence};

    let problem = |kind, path: &str, detail: Option<&str>| PathProblem {
        kind,
        path: path.into(),
        detail: detail.map(str::to_string),
    };
    let report = ContentReport {
        complete: true,
        path_problems: vec![
            problem(PathProblemKind::ParentDir, "package/../../.bashrc", None),
            problem(
                PathProblemKind::Symlink,
                "package/link",
                Some("/etc/passwd"),
            ),
        ],
        obfuscation: vec![Obfuscation {
            file: "index.js".into(),
            signal: "hex-identifiers".into(),
            detail: "_0x names".into(),
            confidence: Confidence::High,
        }],
        ..ContentReport::default()
    };
    let evidence = Evidence {
        tarball: TarballEvidence::Checked {
            url: "http://127.0.0.1:9/p/-/p-1.0.0.tgz".into(),
            compressed_bytes: 100,
            integrity: Ok(()),
            report: Some(Box::new(report)),
        },
        ..Evidence::default()
    };
    let packument = serde_json::json!({
        "name": "p",
        "dist-tags": { "latest": "1.0.0" },
        "versions": { "1.0.0": { "name": "p", "version": "1.0.0" } },
        "time": { "1.0.0": "2026-01-01T00:00:00Z" }
    });
    let packument = mcp_audit::facts::npm::Packument::from_value(&packument);
    let facts = derive_facts(&DeriveInput {
        packument: &packument,
        version: "1.0.0",
        requested: "p",
        resolved_via: "tag",
        registry: "http://127.0.0.1:9/",
        now: "2026-02-01T00:00:00Z".parse().unwrap(),
        evidence: &evidence,
        trust_window_days: 365,
    });
    let set = rules();
    let evals = set.evaluate(&facts);
    for id in ["tarball-path-problems", "obfuscated-code"] {
        let eval = evals.iter().find(|e| e.rule.id == id).expect(id);
        let Outcome::Finding {
            message, evidence, ..
        } = &eval.outcome
        else {
            panic!("{id}: {}", outcome_name(&eval.outcome));
        };
        assert_readable(message);
        for value in evidence.values() {
            assert_readable(&value.to_string());
        }
    }
    let content = serde_json::to_value(&facts.content).unwrap();
    assert_eq!(
        content["path_problems"],
        serde_json::json!([
            "parent-dir package/../../.bashrc",
            "symlink package/link (/etc/passwd)"
        ])
    );
}

/// The names facts strings show are the names the JSON serializes, for every kind.
#[test]
fn content_kind_names_are_their_serialized_names() {
    use mcp_audit::content::{Confidence, PathProblemKind as K};
    let kinds = [
        K::ParentDir,
        K::Absolute,
        K::Symlink,
        K::Hardlink,
        K::NonUtf8,
        K::Duplicate,
        K::Special,
        K::MultipleRoots,
        K::TopLevelFile,
        K::TrailingData,
    ];
    for k in kinds {
        assert_eq!(serde_json::to_value(k).unwrap(), k.as_str(), "{k:?}");
    }
    for c in [Confidence::Low, Confidence::Medium, Confidence::High] {
        assert_eq!(serde_json::to_value(c).unwrap(), c.as_str(), "{c:?}");
    }
}
