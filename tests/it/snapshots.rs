//! Snapshot tests of what users and dashboards read: the table and the JSON document.
//! Review changes with `cargo insta review` (or INSTA_UPDATE=always) and commit the .snap files.

use crate::support::*;

/// The loopback port changes every run; everything else must be byte-stable.
fn stable(reg: &TestRegistry, text: &str) -> String {
    text.replace(reg.url().trim_end_matches('/'), "http://REGISTRY")
        .replace(env!("CARGO_PKG_VERSION"), "VERSION")
}

#[test]
fn table_for_an_account_takeover() {
    let reg = fixture_registry();
    let out = run(scan(&reg, &["takeover-demo", "--fail-under", "70"]));
    assert_eq!(out.code, 1);
    insta::assert_snapshot!(stable(&reg, &out.stdout));
}

#[test]
fn table_for_several_targets_with_unknowns_and_an_error() {
    let reg = fixture_registry();
    let out = run(scan(
        &reg,
        &[
            "good-mcp-server",
            "@fixture/mirrored-server",
            "nope-not-here",
        ],
    ));
    assert_eq!(out.code, 3);
    insta::assert_snapshot!(stable(&reg, &out.stdout));
}

#[test]
fn json_for_a_risky_package_and_an_error() {
    let reg = fixture_registry();
    let out = run(scan(
        &reg,
        &[
            "risky-mcp-server",
            "nope-not-here",
            "--format",
            "json",
            "--fail-under",
            "70",
        ],
    ));
    assert_eq!(out.code, 3);
    insta::assert_snapshot!(stable(&reg, &out.stdout));
}

/// A Claude Desktop config as users write it: pinned, unpinned, a version the registry does not
/// have, a container image and a plaintext token.
const CLIENT_CONFIG: &str = r#"{
  "mcpServers": {
    "good": { "command": "npx", "args": ["-y", "good-mcp-server@1.2.0"] },
    "takeover": { "command": "npx", "args": ["-y", "takeover-demo"] },
    "typo": { "command": "npx", "args": ["-y", "good-mcp-server@1.20.0"] },
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
fn table_for_a_client_config() {
    let reg = fixture_registry();
    let out = client_config(&reg, &["--fail-under", "70"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    insta::assert_snapshot!(stable(&reg, &out.stdout));
}

#[test]
fn json_for_a_client_config() {
    let reg = fixture_registry();
    let out = client_config(&reg, &["--format", "json", "--fail-under", "70"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    // Facts documents are covered by the scan snapshots; keep this one to the config shape.
    let mut doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    for server in doc["files"][0]["servers"].as_array_mut().unwrap() {
        if server["facts"].is_object() {
            server["facts"] = serde_json::json!("(package facts, as in `scan`)");
        }
    }
    let text = serde_json::to_string_pretty(&doc).unwrap();
    insta::assert_snapshot!(stable(&reg, &text));
}
