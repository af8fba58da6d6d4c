//! The other commands (`facts`, `evaluate`, `rules`) and `--rules DIR`.

use std::fs;

use crate::support::*;

const OVERRIDE: &str = r#"
schema = 1
id = "single-maintainer"
title = "Only one maintainer (house policy: critical)"
category = "maintainers"
severity = "critical"
confidence = "high"
weight = 50
when = { fact = "maintainers.count", lt = 2 }
message = "{name} has {maintainers.count} maintainer"
remediation = "Add maintainers."
"#;

#[test]
fn rules_dir_overrides_by_id_and_adds() {
    let reg = fixture_registry();
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("single-maintainer.toml"), OVERRIDE).unwrap();
    fs::write(
        dir.path().join("house-no-mcp-name.toml"),
        r#"
schema = 1
id = "house-no-mcp-name"
title = "No mcpName"
category = "metadata"
severity = "low"
confidence = "high"
weight = 1
when = { fact = "metadata.mcp_name", exists = false }
message = "{name} declares no mcpName"
remediation = "Declare mcpName."
"#,
    )
    .unwrap();
    let dir_s = dir.path().to_str().unwrap();
    let out = run(scan(
        &reg,
        &["risky-mcp-server", "--rules", dir_s, "--format", "json"],
    ));
    let r = json(&out);
    let f = r["packages"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "single-maintainer")
        .unwrap()
        .clone();
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["weight"], 50);
    assert!(finding_ids(&r, 0).contains(&"house-no-mcp-name".to_string()));
    // A critical finding caps the score at 33 even if little else fired.
    assert!(r["packages"][0]["score"].as_u64().unwrap() <= 33);
    // `scan` runs the package rules: every rule but the `launch` ones.
    let embedded = mcp_audit::rules::RuleSet::embedded()
        .unwrap()
        .package_rules()
        .count();
    assert_eq!(r["policy"]["rules"], embedded + 1);

    let mut cmd = mcp_audit();
    cmd.args(["rules", "--rules", dir_s]);
    let out = run(cmd);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("house-no-mcp-name"), "{}", out.stdout);
}

#[test]
fn broken_rules_dir_is_a_usage_error_naming_file_and_field() {
    let reg = fixture_registry();
    let cases = [
        (
            OVERRIDE.replace("maintainers.count\", lt", "maintainers.cnt\", lt"),
            "unknown fact path `maintainers.cnt`",
        ),
        (
            OVERRIDE.replace("severity = \"critical\"", "severity = \"urgent\""),
            "unknown variant `urgent`",
        ),
        (
            OVERRIDE.replace("weight = 50", "weight = 50\nwieght = 1"),
            "unknown field `wieght`",
        ),
        (OVERRIDE.replace("lt = 2", "lt = \"two\""), "needs a number"),
    ];
    for (text, want) in cases {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("single-maintainer.toml");
        fs::write(&file, text).unwrap();
        let out = run(scan(
            &reg,
            &["good-mcp-server", "--rules", dir.path().to_str().unwrap()],
        ));
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(
            out.stderr.contains(file.to_str().unwrap()),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr.contains("(rule single-maintainer)"),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains(want), "want {want:?}: {}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    }
    assert!(
        reg.requests().is_empty(),
        "rules are validated before any fetch"
    );
    let out = run(scan(&reg, &["good-mcp-server", "--rules", "/no/such/dir"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("/no/such/dir"), "{}", out.stderr);
}

#[test]
fn facts_then_evaluate_offline() {
    let reg = fixture_registry();
    let mut cmd = mcp_audit();
    cmd.args([
        "facts",
        "takeover-demo",
        "--registry",
        &reg.url(),
        "--now",
        NOW,
    ]);
    let out = run(cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let facts = json(&out);
    assert_eq!(facts["package"]["version"], "1.2.1");
    assert_eq!(facts["publish"]["new_publisher"], true);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("takeover.json");
    fs::write(&file, &out.stdout).unwrap();

    // No registry is involved from here on.
    let mut cmd = mcp_audit();
    cmd.args([
        "evaluate",
        file.to_str().unwrap(),
        "--format",
        "json",
        "--fail-under",
        "70",
    ]);
    let out = run(cmd);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let r = json(&out);
    assert!(finding_ids(&r, 0).contains(&"publisher-ci-to-human".to_string()));

    fs::write(&file, "{\"schema\": 1}").unwrap();
    let mut cmd = mcp_audit();
    cmd.args(["evaluate", file.to_str().unwrap()]);
    let out = run(cmd);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("is not a facts document"),
        "{}",
        out.stderr
    );

    let mut cmd = mcp_audit();
    cmd.args(["facts", "nope-not-here", "--registry", &reg.url()]);
    let out = run(cmd);
    assert_eq!(out.code, 3);
    assert!(
        out.stderr.contains("nope-not-here does not exist"),
        "{}",
        out.stderr
    );
}

#[test]
fn help_states_what_is_not_implemented() {
    for args in [vec!["--help"], vec!["scan", "--help"]] {
        let mut cmd = mcp_audit();
        cmd.args(&args);
        let out = run(cmd);
        assert_eq!(out.code, 0);
        let text = out.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(text.contains("verified offline"), "{text}");
        assert!(text.contains("--source-checks"), "{text}");
        assert!(text.contains("is not implemented"), "{text}");
        assert!(text.contains("Exit codes"), "{text}");
    }
    let mut cmd = mcp_audit();
    cmd.args(["config", "--help"]);
    let out = run(cmd);
    assert_eq!(out.code, 0);
    let text = out.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains("PyPI (uvx, pipx) is not yet supported"),
        "{text}"
    );
    assert!(text.contains("Exit codes"), "{text}");
}
