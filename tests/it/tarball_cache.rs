//! Tarballs in the `--cache-dir` cache (issue 12, cache and offline): stored by their
//! `dist.integrity` SHA-512 after a matching download, hashed again on every read, so a warm
//! `--offline` run checks content; a tampered file is never trusted; no credential is stored;
//! a tarball fetched with a token serves another configuration only through its own packument.

use std::path::{Path, PathBuf};

use crate::support::registry::TestRegistry;
use crate::support::{
    files_below, fixture_registry, inconclusive_reason, json, nerf, rule_ids, run, scan, Output,
};

const TOKEN: &str = "npm_TarballCacheTokenNeverStored987654321";
const RISKY_TGZ: &str = "/risky-mcp-server/-/risky-mcp-server-0.0.2.tgz";

fn cached(reg: &TestRegistry, cache: &Path, args: &[&str]) -> Output {
    let mut cmd = scan(reg, args);
    cmd.args(["--no-deps", "--format", "json", "--cache-dir"])
        .arg(cache);
    run(cmd)
}

fn findings(out: &Output) -> Vec<String> {
    rule_ids(&json(out)["packages"][0]["findings"])
}

fn tarball_files(cache: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(cache.join("tarballs-v1")) {
        Ok(rd) => rd
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("sha512-")
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn a_warm_offline_run_checks_tarball_content() {
    let reg = fixture_registry();
    let cache = tempfile::tempdir().unwrap();
    let online = cached(&reg, cache.path(), &["risky-mcp-server"]);
    assert_eq!(online.code, 1, "{}{}", online.stdout, online.stderr);
    assert!(findings(&online).contains(&"leaked-credentials".into()));
    assert_eq!(reg.hits(RISKY_TGZ), 1);
    assert_eq!(tarball_files(cache.path()).len(), 1);

    // Offline: no request, and the content rule fails from the cached bytes, as online.
    let before = reg.requests().len();
    let offline = cached(&reg, cache.path(), &["risky-mcp-server", "--offline"]);
    assert_eq!(reg.requests().len(), before, "--offline sent a request");
    assert_eq!(offline.code, 1, "{}{}", offline.stdout, offline.stderr);
    assert_eq!(findings(&online), findings(&offline));
    assert_eq!(inconclusive_reason(&offline, "leaked-credentials"), None);
    let r = json(&offline);
    assert_eq!(
        r["packages"][0]["facts"]["tarball"]["integrity"],
        "verified"
    );

    // A clean package passes the content rule offline instead of leaving it unknown.
    let good = cached(&reg, cache.path(), &["good-mcp-server"]);
    assert_eq!(good.code, 0, "{}", good.stderr);
    let good_off = cached(&reg, cache.path(), &["good-mcp-server", "--offline"]);
    assert_eq!(good_off.code, 0, "{}", good_off.stderr);
    assert_eq!(inconclusive_reason(&good_off, "leaked-credentials"), None);
    assert!(!findings(&good_off).contains(&"leaked-credentials".into()));
    assert_eq!(
        json(&good_off)["packages"][0]["facts"]["content"]["complete"],
        true
    );

    // Online with a warm cache, the tarball is not downloaded again.
    let again = cached(&reg, cache.path(), &["risky-mcp-server"]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert_eq!(reg.hits(RISKY_TGZ), 1);

    // A version never fetched: its content rules are inconclusive, saying it is not cached.
    let cold = tempfile::tempdir().unwrap();
    let docs_only = {
        let mut cmd = scan(&reg, &["risky-mcp-server", "--no-deps", "--no-tarball"]);
        cmd.args(["--format", "json", "--cache-dir"])
            .arg(cold.path());
        run(cmd)
    };
    assert_ne!(docs_only.code, 3, "{}", docs_only.stderr);
    let miss = cached(&reg, cold.path(), &["risky-mcp-server", "--offline"]);
    let reason = inconclusive_reason(&miss, "leaked-credentials").expect("inconclusive");
    assert!(reason.contains("not in the cache (--offline)"), "{reason}");
    assert!(!findings(&miss).contains(&"leaked-credentials".into()));
}

#[test]
fn a_tampered_cached_tarball_is_never_trusted() {
    let reg = fixture_registry();
    let cache = tempfile::tempdir().unwrap();
    let online = cached(&reg, cache.path(), &["risky-mcp-server"]);
    assert_eq!(online.code, 1, "{}", online.stderr);
    let files = tarball_files(cache.path());
    assert_eq!(files.len(), 1, "{files:?}");
    // Swap in a clean tarball: trusted, it would hide the leaked credential.
    let clean = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/registry/tarballs/good-mcp-server-1.2.0.tgz"
    ))
    .unwrap();
    std::fs::write(&files[0], &clean).unwrap();

    // Offline: a miss (deleted), so the content rules are unknown, not passed.
    let offline = cached(&reg, cache.path(), &["risky-mcp-server", "--offline"]);
    let reason = inconclusive_reason(&offline, "leaked-credentials").expect("inconclusive");
    assert!(reason.contains("not in the cache"), "{reason}");
    assert!(!files[0].exists(), "the tampered file was kept");
    let strict = cached(
        &reg,
        cache.path(),
        &["risky-mcp-server", "--offline", "--strict"],
    );
    assert_eq!(strict.code, 1, "{}", strict.stderr);

    // Online: downloaded again, checked, found, and stored again.
    std::fs::write(&files[0], &clean).unwrap();
    let again = cached(&reg, cache.path(), &["risky-mcp-server"]);
    assert_eq!(reg.hits(RISKY_TGZ), 2, "not downloaded again");
    assert!(findings(&again).contains(&"leaked-credentials".into()));
    assert_ne!(std::fs::read(&files[0]).unwrap(), clean);

    // Truncated and garbage files are misses too; hostile sizes do not hang or panic.
    for bad in [clean[..10].to_vec(), vec![0u8; 3 * 1024 * 1024]] {
        std::fs::write(&files[0], &bad).unwrap();
        let out = cached(
            &reg,
            cache.path(),
            &["risky-mcp-server", "--offline", "--max-tarball-mb", "1"],
        );
        assert!(inconclusive_reason(&out, "leaked-credentials").is_some());
    }
}

#[test]
fn a_tarball_whose_download_does_not_match_is_not_cached() {
    let reg = fixture_registry();
    let other = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/registry/tarballs/good-mcp-server-1.1.0.tgz"
    ))
    .unwrap();
    reg.add_file(
        "/good-mcp-server/-/good-mcp-server-1.2.0.tgz",
        other,
        "application/octet-stream",
    );
    let cache = tempfile::tempdir().unwrap();
    let out = cached(&reg, cache.path(), &["good-mcp-server"]);
    assert_eq!(
        json(&out)["packages"][0]["facts"]["tarball"]["integrity"],
        "mismatch"
    );
    assert!(tarball_files(cache.path()).is_empty());
}

#[test]
fn a_token_fetched_tarball_serves_only_a_packument_naming_its_integrity() {
    // Fetched with a token from a registry that requires it.
    let private = fixture_registry();
    private.require_bearer(TOKEN);
    let cache = tempfile::tempdir().unwrap();
    let auth = format!("{}:_authToken={TOKEN}", nerf(&private));
    let first = cached(
        &private,
        cache.path(),
        &["risky-mcp-server", "--npm-config", &auth],
    );
    assert_eq!(first.code, 1, "{}{}", first.stdout, first.stderr);
    assert_eq!(private.hits(RISKY_TGZ), 1);
    assert!(private
        .requests()
        .iter()
        .filter(|r| r.decoded_path == RISKY_TGZ)
        .all(|r| r.header("authorization").is_some()));

    // No cache file holds the token or an Authorization header; all are 0600.
    let files = files_below(cache.path());
    assert!(files.len() >= 2, "{files:?}");
    for f in &files {
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
        crate::support::assert_no_leak(&f.display().to_string(), &text, TOKEN);
        assert!(!text.contains("Bearer"), "{}", f.display());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(f), 0o600, "{}", f.display());
            assert_eq!(mode(f.parent().unwrap()), 0o700, "{}", f.display());
        }
    }

    // Anonymous, on another registry: its own packument (fetched anonymously, its own cache
    // entry) names the same integrity, so the verified bytes are used without a download.
    let open = fixture_registry();
    let anon = cached(&open, cache.path(), &["risky-mcp-server"]);
    assert_eq!(anon.code, 1, "{}", anon.stderr);
    assert_eq!(open.hits(RISKY_TGZ), 0);
    assert!(findings(&anon).contains(&"leaked-credentials".into()));
    // An anonymous offline run still has no packument of the private registry's.
    let anon_off = cached(&private, cache.path(), &["risky-mcp-server", "--offline"]);
    assert_eq!(anon_off.code, 3, "{}", anon_off.stdout);

    // A packument naming another integrity for the same version is never served those bytes.
    let lying = fixture_registry();
    let mut doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/registry/packuments/risky-mcp-server.json"
        ))
        .unwrap()
        .replace("{{registry}}", lying.url().trim_end_matches('/')),
    )
    .unwrap();
    let other = "sha512-".to_string() + &"A".repeat(86) + "==";
    doc["versions"]["0.0.2"]["dist"]["integrity"] = serde_json::json!(other);
    lying.add_packument("risky-mcp-server", doc);
    let out = cached(&lying, cache.path(), &["risky-mcp-server"]);
    assert_eq!(
        lying.hits(RISKY_TGZ),
        1,
        "downloaded, not taken from the cache"
    );
    assert_eq!(
        json(&out)["packages"][0]["facts"]["tarball"]["integrity"],
        "mismatch"
    );
}
