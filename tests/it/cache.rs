//! `--cache-dir`, `--offline`, `--no-cache` and the advisories bulk request, on the loopback
//! registry: revalidation, offline hits and misses, credential separation, privacy of the cache
//! files, corrupt entries, and advisories found, absent, unsupported and hostile.

use std::path::Path;

use serde_json::json;

use crate::support::registry::Fault;
use crate::support::{
    files_below, fixture_registry, inconclusive_reason, json, nerf, run, scan, Output,
};

const TOKEN: &str = "npm_CacheTestTokenNeverStored0123456789";
const BULK: &str = "/-/npm/v1/security/advisories/bulk";

/// `scan` with a cache directory of its own and no tarball (see `tarball_cache` for those).
fn cached_scan(
    reg: &crate::support::registry::TestRegistry,
    cache: &Path,
    args: &[&str],
) -> Output {
    let mut cmd = scan(reg, args);
    cmd.args(["--no-tarball", "--format", "json", "--cache-dir"])
        .arg(cache);
    run(cmd)
}

fn finding_ids(out: &Output) -> Vec<String> {
    json(out)["packages"][0]["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["rule"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_second_run_revalidates_with_the_etag_and_a_change_is_refetched() {
    let reg = fixture_registry();
    let cache = tempfile::tempdir().unwrap();
    let first = cached_scan(&reg, cache.path(), &["good-mcp-server"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let packument_gets = |reg: &crate::support::registry::TestRegistry| {
        reg.requests()
            .into_iter()
            // The full packument; the tree's abbreviated one is another cache entry.
            .filter(|r| r.method == "GET" && r.decoded_path == "/good-mcp-server")
            .filter(|r| r.header("accept") == Some("application/json"))
            .collect::<Vec<_>>()
    };
    assert_eq!(packument_gets(&reg).len(), 1);
    assert_eq!(packument_gets(&reg)[0].header("if-none-match"), None);

    let second = cached_scan(&reg, cache.path(), &["good-mcp-server"]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let gets = packument_gets(&reg);
    assert_eq!(gets.len(), 2, "the server is still asked");
    let etag = gets[1]
        .header("if-none-match")
        .expect("a conditional request");
    assert!(etag.starts_with('"'), "{etag}");
    // Same answer from the 304 as from the 200.
    assert_eq!(
        json(&first)["packages"][0]["facts"],
        json(&second)["packages"][0]["facts"]
    );

    // Modified on the server: the validator no longer matches and the new document is used.
    let mut doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/registry/packuments/good-mcp-server.json"
        ))
        .unwrap()
        .replace("{{registry}}", &reg.url()),
    )
    .unwrap();
    doc["description"] = json!("changed on the server");
    doc["versions"]
        .as_object_mut()
        .unwrap()
        .values_mut()
        .for_each(|v| v["description"] = json!("changed on the server"));
    reg.add_packument("good-mcp-server", doc);
    let third = cached_scan(&reg, cache.path(), &["good-mcp-server"]);
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert_eq!(packument_gets(&reg).len(), 3);
    assert_eq!(
        json(&third)["packages"][0]["facts"]["metadata"]["description"],
        "changed on the server"
    );
    // ... and is what offline answers now.
    let offline = cached_scan(&reg, cache.path(), &["good-mcp-server", "--offline"]);
    assert_eq!(
        json(&offline)["packages"][0]["facts"]["metadata"]["description"],
        "changed on the server"
    );
}

#[test]
fn offline_answers_from_the_cache_and_reports_what_is_missing() {
    let reg = fixture_registry();
    let cache = tempfile::tempdir().unwrap();
    let online = cached_scan(&reg, cache.path(), &["good-mcp-server"]);
    assert_eq!(online.code, 0, "{}", online.stderr);
    let before = reg.requests().len();

    let offline = cached_scan(&reg, cache.path(), &["good-mcp-server", "--offline"]);
    assert_eq!(offline.code, 0, "{}{}", offline.stdout, offline.stderr);
    assert_eq!(reg.requests().len(), before, "--offline sent a request");
    assert_eq!(
        json(&online)["packages"][0]["facts"]["signatures"],
        json(&offline)["packages"][0]["facts"]["signatures"]
    );

    // A package never fetched is an error naming the cache, and still no request is made.
    let miss = cached_scan(&reg, cache.path(), &["risky-mcp-server", "--offline"]);
    assert_eq!(miss.code, 3, "{}{}", miss.stdout, miss.stderr);
    let r = json(&miss);
    assert_eq!(r["packages"][0]["status"], "error");
    assert_eq!(r["packages"][0]["error"]["kind"], "not-cached");
    assert!(
        miss.stdout.contains("not in the cache (--offline)"),
        "{}",
        miss.stdout
    );
    assert_eq!(reg.requests().len(), before);

    // The tarball was never fetched (`--no-tarball` above): offline, the content checks are
    // inconclusive, saying so.
    let mut cmd = scan(&reg, &["good-mcp-server", "--offline", "--format", "json"]);
    cmd.arg("--cache-dir").arg(cache.path());
    let with_tarball = run(cmd);
    assert_eq!(with_tarball.code, 0, "{}", with_tarball.stderr);
    let reason = inconclusive_reason(&with_tarball, "leaked-credentials").unwrap();
    assert!(reason.contains("not in the cache (--offline)"), "{reason}");
    assert_eq!(reg.requests().len(), before);
}

#[test]
fn offline_and_no_cache_together_are_a_usage_error() {
    let reg = fixture_registry();
    let out = run(scan(&reg, &["good-mcp-server", "--offline", "--no-cache"]));
    assert_eq!(out.code, 2, "{}", out.stderr);
}

#[test]
fn no_cache_writes_nothing() {
    let reg = fixture_registry();
    let cache = tempfile::tempdir().unwrap();
    let mut cmd = scan(&reg, &["good-mcp-server", "--no-tarball", "--no-cache"]);
    cmd.env("MCP_AUDIT_CACHE_DIR", cache.path());
    let out = run(cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(files_below(cache.path()).is_empty());
}

#[test]
fn a_token_fetched_document_is_kept_apart_and_the_token_is_never_stored() {
    let reg = fixture_registry();
    let cache = tempfile::tempdir().unwrap();
    let auth = format!("{}:_authToken={TOKEN}", nerf(&reg));

    // Fetched with the token: an anonymous offline run is not served it.
    reg.require_bearer(TOKEN);
    let with_token = cached_scan(
        &reg,
        cache.path(),
        &["good-mcp-server", "--npm-config", &auth],
    );
    assert_eq!(with_token.code, 0, "{}", with_token.stderr);
    let anon = cached_scan(&reg, cache.path(), &["good-mcp-server", "--offline"]);
    assert_eq!(anon.code, 3, "{}", anon.stdout);
    assert!(anon.stdout.contains("not in the cache (--offline)"));
    // The same configuration is.
    let again = cached_scan(
        &reg,
        cache.path(),
        &["good-mcp-server", "--npm-config", &auth, "--offline"],
    );
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);

    // Fetched anonymously (another package): a run with the token is not served it.
    let open = fixture_registry();
    let open_cache = tempfile::tempdir().unwrap();
    let anon = cached_scan(&open, open_cache.path(), &["good-mcp-server"]);
    assert_eq!(anon.code, 0, "{}", anon.stderr);
    let open_auth = format!("{}:_authToken={TOKEN}", nerf(&open));
    let tokened = cached_scan(
        &open,
        open_cache.path(),
        &["good-mcp-server", "--npm-config", &open_auth, "--offline"],
    );
    assert_eq!(tokened.code, 3, "{}", tokened.stdout);

    // No cache file holds the token, whole or in part, nor an Authorization header.
    let files = files_below(cache.path());
    assert!(!files.is_empty());
    for f in files {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        crate::support::assert_no_leak(&f.display().to_string(), &text, TOKEN);
        assert!(!text.contains("Bearer"), "{}", f.display());
        assert!(!f.display().to_string().contains(&TOKEN[8..]));
    }
}

#[cfg(unix)]
#[test]
fn the_cache_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let reg = fixture_registry();
    let cache = tempfile::tempdir().unwrap();
    let root = cache.path().join("new-cache-root");
    let out = cached_scan(&reg, &root, &["good-mcp-server"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&root), 0o700);
    let files = files_below(&root);
    assert!(files.len() >= 2, "{files:?}");
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
        assert_eq!(mode(f.parent().unwrap()), 0o700, "{}", f.display());
        let name = f.file_name().unwrap().to_string_lossy();
        assert!(
            !name.starts_with(".tmp-"),
            "a temporary file was left: {name}"
        );
    }
}

#[test]
fn corrupt_or_hostile_cache_files_are_misses() {
    let reg = fixture_registry();
    let cache = tempfile::tempdir().unwrap();
    let out = cached_scan(&reg, cache.path(), &["good-mcp-server"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let files = files_below(cache.path());
    for (i, f) in files.iter().enumerate() {
        let good = std::fs::read(f).unwrap();
        let bad = match i % 3 {
            0 => good[..good.len() / 2].to_vec(),
            1 => b"{\"format\":\"mcp-audit-cache/1\"}\n{}".to_vec(),
            _ => vec![b'x'; 70 * 1024 * 1024],
        };
        std::fs::write(f, bad).unwrap();
    }
    // Offline, nothing usable is left: an error, not a panic and not a trusted document.
    let offline = cached_scan(&reg, cache.path(), &["good-mcp-server", "--offline"]);
    assert_eq!(offline.code, 3, "{}{}", offline.stdout, offline.stderr);
    assert!(offline.stdout.contains("not in the cache (--offline)"));
    // Online, the entries are replaced by fresh ones.
    let online = cached_scan(&reg, cache.path(), &["good-mcp-server"]);
    assert_eq!(online.code, 0, "{}", online.stderr);
    let offline = cached_scan(&reg, cache.path(), &["good-mcp-server", "--offline"]);
    assert_eq!(offline.code, 0, "{}", offline.stderr);
}

fn critical_advisory() -> serde_json::Value {
    json!({
        "good-mcp-server": [{
            "id": 1_096_727,
            "url": "https://github.com/advisories/GHSA-test-crit-ical",
            "title": "Malicious code in good-mcp-server",
            "severity": "critical",
            "vulnerable_versions": ">=0.0.0",
            "cwe": ["CWE-506"],
            "cvss": { "score": 9.8, "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" }
        }, {
            "id": 1_096_728,
            "url": "https://github.com/advisories/GHSA-test-fixd-long",
            "title": "Fixed long ago",
            "severity": "high",
            "vulnerable_versions": "<0.0.1",
            "cwe": [],
            "cvss": { "score": 7.5, "vectorString": null }
        }]
    })
}

#[test]
fn a_critical_advisory_fails_the_default_gate() {
    let reg = fixture_registry();
    reg.set_advisories(critical_advisory());
    let cache = tempfile::tempdir().unwrap();
    let out = cached_scan(&reg, cache.path(), &["good-mcp-server"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let ids = finding_ids(&out);
    assert!(
        ids.contains(&"known-vulnerability-critical".to_string()),
        "{ids:?}"
    );
    // The high advisory's range excludes this version.
    assert!(
        !ids.contains(&"known-vulnerability-high".to_string()),
        "{ids:?}"
    );
    let r = json(&out);
    let details = &r["packages"][0]["facts"]["advisories"]["details"];
    assert_eq!(details[0]["id"], "1096727");
    assert_eq!(details[0]["cvss_score"], 9.8);
    assert!(out.stdout.contains("GHSA-test-crit-ical"));
    // One POST, with npm's body shape.
    let posted = reg.posted();
    assert_eq!(posted.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&posted[0]).unwrap();
    let version = r["packages"][0]["version"].as_str().unwrap();
    assert_eq!(body, json!({ "good-mcp-server": [version] }));

    // Offline, the cached answer still fails the gate.
    let offline = cached_scan(&reg, cache.path(), &["good-mcp-server", "--offline"]);
    assert_eq!(offline.code, 1, "{}", offline.stderr);
    assert!(finding_ids(&offline).contains(&"known-vulnerability-critical".to_string()));
}

#[test]
fn one_bulk_request_serves_every_package_of_the_run() {
    let reg = fixture_registry();
    reg.set_advisories(json!({}));
    let cache = tempfile::tempdir().unwrap();
    let out = cached_scan(&reg, cache.path(), &["good-mcp-server", "risky-mcp-server"]);
    assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
    let posted = reg.posted();
    assert_eq!(posted.len(), 1, "one POST for the registry");
    let body: serde_json::Value = serde_json::from_slice(&posted[0]).unwrap();
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    let r = json(&out);
    for p in r["packages"].as_array().unwrap() {
        assert_eq!(p["facts"]["advisories"]["critical"], json!([]));
        assert!(!p["inconclusive"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["rule"]
                .as_str()
                .unwrap()
                .starts_with("known-vulnerability")));
    }
}

#[test]
fn a_registry_without_the_endpoint_leaves_the_rules_inconclusive() {
    // Answers 405 to the POST, as the mirror reachable here does.
    let reg = fixture_registry();
    reg.clear_advisories();
    let cache = tempfile::tempdir().unwrap();
    let out = cached_scan(&reg, cache.path(), &["good-mcp-server"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for rule in [
        "known-vulnerability-critical",
        "known-vulnerability-high",
        "known-vulnerability-moderate",
        "known-vulnerability-low",
    ] {
        let reason = inconclusive_reason(&out, rule).unwrap_or_else(|| panic!("{rule}"));
        assert!(
            reason.contains("does not offer the advisories bulk endpoint (HTTP 405)"),
            "{reason}"
        );
    }
    assert!(finding_ids(&out).is_empty());
    // --strict turns that unknown into a failure.
    let strict = cached_scan(&reg, cache.path(), &["good-mcp-server", "--strict"]);
    assert_eq!(strict.code, 1);
    // Offline with nothing cached for the POST: inconclusive, with the cache's reason.
    let offline = cached_scan(&reg, cache.path(), &["good-mcp-server", "--offline"]);
    let reason = inconclusive_reason(&offline, "known-vulnerability-critical").unwrap();
    assert!(reason.contains("not in the cache (--offline)"), "{reason}");
}

#[test]
fn hostile_advisory_answers_are_inconclusive_never_clean() {
    let cases: Vec<(&str, Fault)> = vec![
        (
            "malformed",
            Fault::Body {
                status: 200,
                body: b"{\"good-mcp-server\": \"all fine\"}".to_vec(),
                content_type: "application/json".into(),
            },
        ),
        (
            "not json",
            Fault::Body {
                status: 200,
                body: b"\x00\x01 definitely not json".to_vec(),
                content_type: "application/json".into(),
            },
        ),
        (
            "huge",
            Fault::Body {
                status: 200,
                body: vec![b' '; 2 * 1024 * 1024],
                content_type: "application/json".into(),
            },
        ),
        ("html", Fault::Html),
        (
            "server error",
            Fault::Status {
                code: 500,
                times: 100,
            },
        ),
    ];
    for (what, fault) in cases {
        let reg = fixture_registry();
        reg.fault(BULK, fault);
        let cache = tempfile::tempdir().unwrap();
        let out = cached_scan(
            &reg,
            cache.path(),
            &["good-mcp-server", "--max-body-mb", "1", "--retries", "1"],
        );
        assert_eq!(out.code, 0, "{what}: {}", out.stderr);
        let reason = inconclusive_reason(&out, "known-vulnerability-critical")
            .unwrap_or_else(|| panic!("{what}: not inconclusive\n{}", out.stdout));
        assert!(!reason.is_empty(), "{what}");
        assert!(finding_ids(&out).is_empty(), "{what}");
    }
}
