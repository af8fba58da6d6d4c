//! Against the live registry. Off by default: `cargo test --features live --test live`.
#![cfg(feature = "live")]

mod support;

use support::*;

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
