//! The CI formats: SARIF (validated against the OASIS schema, plus what GitHub code scanning
//! requires), markdown and GitHub workflow commands (snapshots).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::support::*;

/// The loopback port changes every run; everything else must be byte-stable.
fn stable(reg: &TestRegistry, text: &str) -> String {
    text.replace(reg.url().trim_end_matches('/'), "http://REGISTRY")
        .replace(env!("CARGO_PKG_VERSION"), "VERSION")
}

/// A project that depends on takeover-demo (line 5) and not on risky-mcp-server.
const MANIFEST: &str = r#"{
  "name": "my-app",
  "version": "1.0.0",
  "dependencies": {
    "takeover-demo": "^1.2.0",
    "left-pad": "1.3.0"
  }
}
"#;

fn scan_in(reg: &TestRegistry, dir: &Path, args: &[&str]) -> Output {
    let mut cmd = scan(reg, args);
    cmd.current_dir(dir).env("HOME", dir);
    run(cmd)
}

pub(crate) fn validate_sarif(doc: &Value) {
    let schema: Value = serde_json::from_slice(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/sarif/sarif-schema-2.1.0.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    let url = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json";
    compiler.add_resource(url, schema).unwrap();
    let index = compiler.compile(url, &mut schemas).unwrap();
    if let Err(e) = schemas.validate(doc, index) {
        panic!("SARIF does not validate: {e:#}\n{doc:#}");
    }
}

/// What GitHub code scanning requires beyond the schema.
pub(crate) fn assert_github_requirements(doc: &Value) {
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(!rules.is_empty());
    for r in rules {
        let id = r["id"].as_str().unwrap();
        for field in ["shortDescription", "fullDescription"] {
            assert!(
                !r[field]["text"].as_str().unwrap().is_empty(),
                "{id} {field}"
            );
        }
        assert!(!r["help"]["text"].as_str().unwrap().is_empty(), "{id}");
        assert!(!r["help"]["markdown"].as_str().unwrap().is_empty(), "{id}");
        assert!(
            r["helpUri"].as_str().unwrap().ends_with(&format!("#{id}")),
            "{id}"
        );
        let sev = r["properties"]["security-severity"].as_str().unwrap();
        let sev: f64 = sev.parse().unwrap();
        assert!((0.1..=10.0).contains(&sev), "{id}");
        assert!(!r["properties"]["tags"].as_array().unwrap().is_empty());
    }
    for res in run["results"].as_array().unwrap() {
        let id = res["ruleId"].as_str().unwrap();
        assert!(rules.iter().any(|r| r["id"] == id), "{id} not in rules");
        let level = res["level"].as_str().unwrap();
        assert!(["error", "warning", "note"].contains(&level));
        assert!(!res["message"]["text"].as_str().unwrap().is_empty());
        let phys = &res["locations"][0]["physicalLocation"];
        assert!(phys["artifactLocation"]["uri"].is_string(), "{res}");
        assert!(phys["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(res["partialFingerprints"]["primaryLocationLineHash"].is_string());
    }
}

/// Results about a package (`scan`) or a server (`config`), by rule id.
fn results_for<'a>(doc: &'a Value, about: &str) -> BTreeMap<String, &'a Value> {
    doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            let props = &r["properties"];
            props["server"] == about || (props["server"].is_null() && props["package"] == about)
        })
        .map(|r| (r["ruleId"].as_str().unwrap().to_string(), r))
        .collect()
}

fn fingerprints(doc: &Value, who: &str) -> BTreeMap<String, String> {
    results_for(doc, who)
        .into_iter()
        .map(|(k, r)| {
            let fp = r["partialFingerprints"]["primaryLocationLineHash"]
                .as_str()
                .unwrap()
                .to_string();
            (k, fp)
        })
        .collect()
}

#[test]
fn sarif_for_scan_validates_and_points_at_the_manifest() {
    let reg = fixture_registry();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("package.json"), MANIFEST).unwrap();
    let args = [
        "takeover-demo",
        "risky-mcp-server",
        "@fixture/mirrored-server",
        "nope-not-here",
        "--format",
        "sarif",
    ];
    let out = scan_in(&reg, dir.path(), &args);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let doc = json(&out);
    validate_sarif(&doc);
    assert_github_requirements(&doc);

    // A dependency of the project: its line in package.json.
    let takeover = results_for(&doc, "takeover-demo");
    assert!(!takeover.is_empty());
    for r in takeover.values() {
        let phys = &r["locations"][0]["physicalLocation"];
        assert_eq!(phys["artifactLocation"]["uri"], "package.json");
        assert_eq!(phys["region"]["startLine"], 5);
        assert!(r["locations"][0]["logicalLocations"].is_null());
    }
    // Not a dependency: the purl, with the manifest as the physical location.
    let risky = results_for(&doc, "risky-mcp-server");
    assert!(!risky.is_empty());
    for r in risky.values() {
        let loc = &r["locations"][0];
        assert_eq!(
            loc["logicalLocations"][0]["fullyQualifiedName"],
            "pkg:npm/risky-mcp-server@0.0.2"
        );
        assert_eq!(
            loc["physicalLocation"]["artifactLocation"]["uri"],
            "package.json"
        );
    }

    // Results are exactly the findings; inconclusive rules and the error are notifications.
    let report = {
        let out = scan_in(
            &reg,
            dir.path(),
            &[&args[..4], &["--format", "json"]].concat(),
        );
        json(&out)
    };
    let inv = &doc["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    let notes = inv["toolExecutionNotifications"].as_array().unwrap();
    let mut undecided_total = 0;
    for (i, name) in [
        "takeover-demo",
        "risky-mcp-server",
        "@fixture/mirrored-server",
    ]
    .into_iter()
    .enumerate()
    {
        let found: BTreeSet<String> = finding_ids(&report, i).into_iter().collect();
        let results: BTreeSet<String> = results_for(&doc, name).into_keys().collect();
        assert_eq!(results, found, "{name}");
        let version = report["packages"][i]["version"].as_str().unwrap();
        let undecided: BTreeSet<String> = notes
            .iter()
            .filter(|n| {
                n["message"]["text"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{name}@{version}: rule "))
            })
            .filter_map(|n| n["associatedRule"]["id"].as_str().map(str::to_string))
            .collect();
        let expected: BTreeSet<String> = inconclusive_ids(&report, i).into_iter().collect();
        assert_eq!(undecided, expected, "{name}");
        assert!(undecided.is_disjoint(&results));
        undecided_total += undecided.len();
    }
    assert!(undecided_total > 0);
    assert!(notes.iter().any(|n| n["level"] == "error"
        && n["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("nope-not-here: could not be checked")));
}

#[test]
fn sarif_fingerprints_survive_reruns_and_upgrades() {
    let reg = fixture_registry();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("package.json"), MANIFEST).unwrap();
    let sarif = |spec: &str| {
        let out = scan_in(&reg, dir.path(), &[spec, "--format", "sarif"]);
        json(&out)
    };
    let first = fingerprints(&sarif("risky-mcp-server"), "risky-mcp-server");
    let again = fingerprints(&sarif("risky-mcp-server"), "risky-mcp-server");
    assert!(!first.is_empty());
    assert_eq!(first, again);
    // Another version keeps the fingerprint of every rule both versions trip.
    let older = fingerprints(&sarif("risky-mcp-server@0.0.3"), "risky-mcp-server");
    let shared: Vec<_> = older.keys().filter(|k| first.contains_key(*k)).collect();
    assert!(!shared.is_empty());
    for k in shared {
        assert_eq!(first[k], older[k], "{k}");
    }
    // Different rules of one package never share one.
    let distinct: BTreeSet<_> = first.values().collect();
    assert_eq!(distinct.len(), first.len());
}

/// A Claude Desktop config: the takeover server's name is on line 4.
const CLIENT_CONFIG: &str = r#"{
  "mcpServers": {
    "good": { "command": "npx", "args": ["-y", "good-mcp-server@1.2.0"] },
    "takeover": { "command": "npx", "args": ["-y", "takeover-demo"] },
    "old-takeover": { "command": "npx", "args": ["-y", "takeover-demo@1.2.0"] },
    "github": {
      "command": "docker",
      "args": ["run", "-i", "--rm", "ghcr.io/github/github-mcp-server"],
      "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_FAKEexampleTOKEN0000000000000000000000" }
    }
  }
}
"#;

fn client_config(reg: &TestRegistry, args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("claude_desktop_config.json"), CLIENT_CONFIG).unwrap();
    let mut cmd = mcp_audit();
    cmd.current_dir(dir.path())
        .env("HOME", dir.path())
        .args(["config", "claude_desktop_config.json"])
        .args(args)
        .args([
            "--registry",
            &reg.url(),
            "--now",
            NOW,
            "--retry-base-ms",
            "10",
        ]);
    let out = run(cmd);
    assert!(
        !out.stdout.contains("ghp_FAKEexampleTOKEN"),
        "{}",
        out.stdout
    );
    out
}

#[test]
fn sarif_for_config_points_at_the_server_entry() {
    let reg = fixture_registry();
    let out = client_config(&reg, &["--format", "sarif"]);
    let doc = json(&out);
    validate_sarif(&doc);
    assert_github_requirements(&doc);
    let takeover = results_for(&doc, "takeover");
    assert!(!takeover.is_empty(), "{doc:#}");
    for r in takeover.values() {
        let phys = &r["locations"][0]["physicalLocation"];
        assert_eq!(
            phys["artifactLocation"]["uri"],
            "claude_desktop_config.json"
        );
        assert_eq!(phys["region"]["startLine"], 4);
    }
    // The same package under another server is another alert; the same server is the same one
    // on every run.
    let fp = fingerprints(&doc, "takeover");
    let old = fingerprints(&doc, "old-takeover");
    for (k, v) in &fp {
        if let Some(o) = old.get(k) {
            assert_ne!(v, o, "{k}");
        }
    }
    let again = client_config(&reg, &["--format", "sarif"]);
    assert_eq!(fingerprints(&json(&again), "takeover"), fp);
    // The docker server's package rules are inconclusive: notifications, never results.
    let docker = results_for(&doc, "github");
    assert!(!docker.is_empty());
    assert!(
        docker.keys().all(|k| k.starts_with("launch-")),
        "{docker:?}"
    );
    let notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert!(notes.iter().any(|n| n["message"]["text"]
        .as_str()
        .unwrap()
        .starts_with("github: rule ")));
}

#[test]
fn markdown_for_packages() {
    let reg = fixture_registry();
    let dir = project();
    let out = scan_in(
        &reg,
        dir.path(),
        &[
            "takeover-demo",
            "good-mcp-server",
            "risky-mcp-server",
            "nope-not-here",
            "--format",
            "markdown",
            "--fail-under",
            "70",
        ],
    );
    assert_eq!(out.code, 3, "{}", out.stderr);
    // risky-mcp-server has more findings than a PR comment should list.
    assert!(out.stdout.contains("- … and "), "{}", out.stdout);
    insta::assert_snapshot!(stable(&reg, &out.stdout));
}

#[test]
fn github_annotations_for_packages() {
    let reg = fixture_registry();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("package.json"), MANIFEST).unwrap();
    let out = scan_in(
        &reg,
        dir.path(),
        &[
            "takeover-demo",
            "risky-mcp-server",
            "nope-not-here",
            "--format",
            "github",
        ],
    );
    assert_eq!(out.code, 3, "{}", out.stderr);
    insta::assert_snapshot!(stable(&reg, &out.stdout));
}

#[test]
fn markdown_and_github_for_a_client_config() {
    let reg = fixture_registry();
    let md = client_config(&reg, &["--format", "markdown", "--fail-under", "70"]);
    assert_eq!(md.code, 1, "{}", md.stderr);
    insta::assert_snapshot!("markdown_for_a_client_config", stable(&reg, &md.stdout));
    let gh = client_config(&reg, &["--format", "github", "--fail-under", "70"]);
    assert_eq!(gh.code, 1, "{}", gh.stderr);
    insta::assert_snapshot!("github_for_a_client_config", stable(&reg, &gh.stdout));
}

#[test]
fn config_check_refuses_the_report_formats() {
    let out = run({
        let mut cmd = mcp_audit();
        cmd.args(["config-check", "abbrev", "--format", "sarif"]);
        cmd
    });
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("table or json"), "{}", out.stderr);
}
