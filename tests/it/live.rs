//! Against the live registry. Off by default: `cargo test --features live --test it live::`.

use crate::support::*;

#[test]
fn live_scan_of_the_filesystem_server_shows_unknowns_not_passes() {
    let mut cmd = mcp_audit();
    cmd.args([
        "scan",
        "@modelcontextprotocol/server-filesystem",
        "--format",
        "json",
    ]);
    let out = run(cmd);
    assert_ne!(out.code, 3, "could not check: {}", out.stderr);
    let r = json(&out);
    let p = &r["packages"][0];
    assert_eq!(p["status"], "passed");
    // Whatever the registry withholds must be inconclusive, never passed.
    let passed: Vec<&str> = p["passed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    if p["facts"]["registry"]["serves_maintainers"] == false {
        assert!(!passed.contains(&"single-maintainer"));
        assert!(inconclusive_ids(&r, 0).contains(&"single-maintainer".to_string()));
    }
}

#[test]
fn live_config_scans_npx_launches_and_reports_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("claude_desktop_config.json");
    std::fs::write(
        &file,
        r#"{"mcpServers": {
            "filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]},
            "fetch": {"command": "uvx", "args": ["mcp-server-fetch"]}
        }}"#,
    )
    .unwrap();
    let mut cmd = mcp_audit();
    cmd.current_dir(dir.path()).env("HOME", dir.path()).args([
        "config",
        "claude_desktop_config.json",
        "--format",
        "json",
    ]);
    let out = run(cmd);
    assert_ne!(out.code, 3, "could not check: {}", out.stderr);
    let r = json(&out);
    let servers = r["files"][0]["servers"].as_array().unwrap();
    assert_eq!(servers[0]["package"]["status"], "scanned");
    assert!(rule_ids(&servers[0]["findings"]).contains(&"launch-unpinned".to_string()));
    assert_eq!(servers[1]["package"]["status"], "not-scanned");
}

/// PyPI as reachable here: JSON API with roles, simple API 1.1, an Integrity API answering 404.
/// Provenance must be unknown with that reason, never "absent" or passed.
#[test]
fn live_pypi_scan_shows_provenance_unknown_with_the_404_reason() {
    let mut cmd = mcp_audit();
    cmd.args([
        "scan",
        "pypi:mcp-server-fetch",
        "--format",
        "json",
        "--no-policy",
    ]);
    let out = run(cmd);
    assert_ne!(out.code, 3, "could not check: {}", out.stderr);
    let r = json(&out);
    let p = &r["packages"][0];
    assert_eq!(p["ecosystem"], "pypi");
    let f = &p["facts"];
    assert_eq!(f["tarball"]["integrity"], "verified", "{f:#}");
    assert!(f["pypi"]["roles"].is_array(), "{f:#}");
    if let Some(reason) = f["provenance"]["status"]["$unknown"].as_str() {
        assert!(reason.contains("404"), "{reason}");
        assert!(inconclusive_ids(&r, 0).contains(&"provenance-missing".to_string()));
    } else {
        // Should PyPI's Integrity API become reachable, the status is decided for real.
        let s = f["provenance"]["status"].as_str().unwrap();
        assert!(["verified", "absent", "invalid"].contains(&s), "{s}");
    }
}

/// PEP 440 specifiers against the real index: `mcp-server-fetch` moved from `0.x` to calendar
/// versions (`2025.4.7`), so `<2025` admits only the old `0.x` line, `>=2025,<2100` the newest
/// final release, and `>=2100` nothing.
#[test]
fn live_pypi_specifiers_resolve_against_the_real_index() {
    let scan_of = |spec: &str| {
        let mut cmd = mcp_audit();
        cmd.args([
            "scan",
            spec,
            "--format",
            "json",
            "--no-policy",
            "--no-tarball",
        ]);
        run(cmd)
    };
    let ranged = scan_of("pypi:mcp-server-fetch>=2025,<2100");
    assert_ne!(ranged.code, 3, "could not check: {}", ranged.stderr);
    let latest = scan_of("pypi:mcp-server-fetch");
    assert_eq!(
        json(&ranged)["packages"][0]["version"],
        json(&latest)["packages"][0]["version"]
    );
    let old_line = scan_of("pypi:mcp-server-fetch<2025");
    let old_version = json(&old_line)["packages"][0]["version"].clone();
    assert!(
        old_version.as_str().is_some_and(|v| v.starts_with("0.")),
        "{old_version}"
    );
    let none = scan_of("pypi:mcp-server-fetch>=2100");
    assert_eq!(none.code, 3, "{}", none.stdout);
    let said = format!("{}{}", none.stdout, none.stderr);
    assert!(said.contains("matches `>=2100`"), "{said}");
}

/// The oracle against npm itself: for real MCP packages, the set of name@version resolved from
/// the live registry equals the `packages` of the lockfile `npm install --package-lock-only`
/// writes. Needs `npm` on PATH and the registry reachable.
#[test]
fn live_tree_resolution_agrees_with_npm_lockfiles() {
    use mcp_audit::pipeline::scan::Registries;
    use mcp_audit::pipeline::tree::RegistrySource;
    use mcp_audit::registry::HttpConfig;
    use mcp_audit::spec::Selector;
    use mcp_audit::tree::{resolve, ResolveOptions};

    let specs = [
        "@modelcontextprotocol/server-filesystem",
        "@modelcontextprotocol/server-memory",
        "@modelcontextprotocol/server-everything",
        "@modelcontextprotocol/server-github",
        "@modelcontextprotocol/server-puppeteer",
        "fastmcp",
        "@playwright/mcp",
        "mcp-remote",
        "firecrawl-mcp",
        "@upstash/context7-mcp",
        "exa-mcp-server",
        "@notionhq/notion-mcp-server",
        // Peer-set conflicts (zod; react-router pinned by @shopify/hydrogen's peers).
        "@browserbasehq/mcp-server-browserbase",
        "@shopify/dev-mcp",
    ];
    let url = url::Url::parse("https://registry.npmjs.org/").unwrap();
    let registries = Registries::single(&url, HttpConfig::default()).unwrap();
    let source = RegistrySource {
        registries: &registries,
        limits: Default::default(),
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut failures = Vec::new();
    for spec in specs {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("package.json"), "{}").unwrap();
        let status = std::process::Command::new("npm")
            .args([
                "install",
                "--package-lock-only",
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
                spec,
            ])
            .current_dir(dir.path())
            .output()
            .expect("npm runs");
        assert!(
            status.status.success(),
            "{spec}: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        let lock: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("package-lock.json")).unwrap())
                .unwrap();
        let want = crate::support::tree_sets::lock_set(&lock);
        let t = rt
            .block_on(resolve(
                &source,
                spec,
                &Selector::Range("*".into()), // a bare name is npm-pick-manifest's `*`: latest unless its engines do not fit
                &ResolveOptions::default(),
            ))
            .unwrap();
        let got = crate::support::tree_sets::tree_set(&t);
        eprintln!(
            "{spec}: npm {} packages, mcp-audit {}",
            want.len(),
            got.len()
        );
        if got != want {
            failures.push(format!(
                "{spec}: extra {:?}, missing {:?}",
                got.difference(&want).collect::<Vec<_>>(),
                want.difference(&got).collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
