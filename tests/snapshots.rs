//! Snapshot tests of what users and dashboards read: the table and the JSON document.
//! Review changes with `cargo insta review` (or INSTA_UPDATE=always) and commit the .snap files.

mod support;

use support::*;

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
