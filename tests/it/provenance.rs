//! Provenance and registry signatures, verified for real (sigstore, npm registry keys) against
//! the loopback registry. The attestations are real public ones (fixtures/SOURCES.md).

use crate::support::fixtures::{fixture as real, PACKUMENTS};
use crate::support::*;
use serde_json::Value;

fn package(reg: &TestRegistry, spec: &str) -> Value {
    let out = run(scan(reg, &[spec, "--format", "json"]));
    assert_ne!(out.code, 3, "{}", out.stderr);
    json(&out)["packages"][0].clone()
}

fn packument(file: &str) -> Value {
    let text = std::fs::read_to_string(format!("{PACKUMENTS}{file}")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn mcp_server_provenance_verifies_with_identity() {
    let reg = fixture_registry();
    let p = package(&reg, "@modelcontextprotocol/server-filesystem");
    let f = &p["facts"];
    assert_eq!(f["provenance"]["status"], "verified");
    assert_eq!(f["provenance"]["legacy"], false);
    assert_eq!(f["provenance"]["publish_attestation"], "verified");
    assert_eq!(
        f["provenance"]["source_repository"],
        "https://github.com/modelcontextprotocol/servers"
    );
    assert_eq!(
        f["provenance"]["commit"],
        "d31124c982401739917fd817c2a59db344529c16"
    );
    assert_eq!(f["provenance"]["ref_type"], "branch");
    assert_eq!(f["provenance"]["runner"], "github-hosted");
    assert_eq!(f["provenance"]["repository_matches"], true);
    assert_eq!(f["provenance"]["mcp_owner_matches"], true);
    assert_eq!(f["signatures"]["status"], "verified");
    assert_eq!(f["trust"]["level"], "trusted-publisher");
    // Built from main, not a tag: the only finding, and an informational one.
    assert_eq!(rule_ids(&p["findings"]), vec!["provenance-branch-build"]);
    assert_eq!(p["coverage"], 100);
    // pacote's rule: the attestation path is appended to the configured registry, so the
    // registry.npmjs.org URL in the packument was never contacted; the loopback registry was.
    assert!(reg.requests().iter().any(|r| r.decoded_path
        == "/-/npm/v1/attestations/@modelcontextprotocol/server-filesystem@2026.7.10"));
    assert_eq!(reg.hits("/-/npm/v1/keys"), 1);
}

#[test]
fn legacy_2023_bundles_verify_as_npm_accepts_them() {
    let reg = fixture_registry();
    for (spec, keyid) in [
        (
            "sigstore@1.0.0",
            "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA",
        ),
        (
            "tuf-js@1.0.0",
            "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA",
        ),
    ] {
        let p = package(&reg, spec);
        let f = &p["facts"];
        assert_eq!(f["provenance"]["status"], "legacy-verified", "{spec}");
        assert_eq!(f["provenance"]["legacy"], true);
        assert_eq!(f["provenance"]["publish_attestation"], "verified");
        assert_eq!(f["provenance"]["ref_type"], "tag", "{spec}");
        // The real npm signature, by the key that expired in 2025, judged at 2023 publish time.
        assert_eq!(f["signatures"]["status"], "verified", "{spec}");
        assert_eq!(f["signatures"]["keyid"], keyid);
    }
}

#[test]
fn tampered_or_foreign_attestations_are_invalid_and_critical() {
    let path = "/-/npm/v1/attestations/sigstore@0.4.0";
    let cases = [
        // The SLSA bundle of another package (a replayed attestation).
        (
            "attestations/npm-cli/valid-tuf-js-attestations.json",
            "provenance-invalid",
            "subject",
        ),
        // pacote's tampered publish attestations.
        (
            "attestations/pacote/invalid-attestations.json",
            "publish-attestation-invalid",
            "signature",
        ),
        // These edit the signed payload, so the DSSE signature is what fails first.
        (
            "attestations/pacote/mismatched-subject-digest-attestations.json",
            "publish-attestation-invalid",
            "signature",
        ),
        (
            "attestations/pacote/mismatched-subject-name-attestations.json",
            "publish-attestation-invalid",
            "signature",
        ),
    ];
    for (rel, rule, why) in cases {
        let reg = fixture_registry();
        reg.add_file(path, real(rel), "application/json");
        let out = run(scan(
            &reg,
            &["sigstore@0.4.0", "--format", "json", "--fail-under", "70"],
        ));
        assert_eq!(out.code, 1, "{rel}: {}", out.stderr);
        let p = &json(&out)["packages"][0];
        let found = rule_ids(&p["findings"]);
        assert!(found.contains(&rule.to_string()), "{rel}: {found:?}");
        assert!(
            p["score"].as_u64().unwrap() <= 33,
            "critical caps the score"
        );
        let failures = p["facts"]["provenance"]["failures"].to_string();
        assert!(failures.contains(why), "{rel}: {failures}");
        assert_ne!(p["facts"]["provenance"]["status"], "verified");
    }
}

#[test]
fn broken_attestation_documents_never_verify() {
    let path = "/-/npm/v1/attestations/sigstore@0.4.0";
    let good = String::from_utf8(real("attestations/pacote/valid-attestations.json")).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated",
            good.as_bytes()[..good.len() / 2].to_vec(),
            "malformed",
        ),
        (
            "bad base64",
            good.replacen("\"sig\": \"", "\"sig\": \"!!!", 1)
                .into_bytes(),
            "",
        ),
        (
            "unknown media type",
            good.replace(
                "application/vnd.dev.sigstore.bundle+json;version=0.1",
                "application/x-unknown",
            )
            .into_bytes(),
            "",
        ),
        (
            "no attestations",
            b"{\"attestations\": []}".to_vec(),
            "lists no attestations",
        ),
        ("not an object", b"[1, 2, 3]".to_vec(), "malformed"),
    ];
    for (what, body, why) in cases {
        let reg = fixture_registry();
        assert_ne!(
            body,
            good.as_bytes(),
            "{what}: the edit must change the document"
        );
        reg.add_file(path, body, "application/json");
        let p = package(&reg, "sigstore@0.4.0");
        let prov = &p["facts"]["provenance"];
        assert_eq!(prov["status"], "invalid", "{what}: {prov}");
        assert!(prov["failures"].to_string().contains(why), "{what}: {prov}");
        assert!(
            rule_ids(&p["findings"]).contains(&"provenance-invalid".to_string()),
            "{what}"
        );
    }
    // An HTML page where the document should be is a broken registry or proxy: unknown, with
    // the cause, rather than a verdict about the package.
    let reg = fixture_registry();
    reg.add_file(path, b"<html>login</html>".to_vec(), "text/html");
    let p = package(&reg, "sigstore@0.4.0");
    let reason = p["facts"]["provenance"]["status"]["$unknown"]
        .as_str()
        .unwrap();
    assert!(reason.contains("text/html instead of JSON"), "{reason}");
}

#[test]
fn attestation_for_a_different_tarball_is_invalid() {
    // The real, valid attestation, but the packument now names another tarball digest.
    let reg = fixture_registry();
    let mut doc = packument("sigstore.json");
    // tuf-js@1.0.0's real integrity: well-formed, just not this tarball's.
    doc["versions"]["0.4.0"]["dist"]["integrity"] = Value::from(
        "sha512-1dxsQwESDzACJjTdYHQ4wJ1f/of7jALWKfJEHSBWUQB/5UTJUx9SW6GHXp4mZ1KvdBRJCpGjssoPFGi4hvw8/A==",
    );
    reg.add_packument("sigstore", doc);
    let p = package(&reg, "sigstore@0.4.0");
    assert_eq!(p["facts"]["provenance"]["status"], "invalid");
    let failures = p["facts"]["provenance"]["failures"].to_string();
    assert!(failures.contains("subject"), "{failures}");
}

#[test]
fn registry_signature_failures_are_named_like_npm() {
    let base = packument("sigstore.json");
    // The integrity changed after signing: the signature no longer covers it.
    let mut forged = base.clone();
    forged["versions"]["1.0.0"]["dist"]["integrity"] = Value::from(
        "sha512-1dxsQwESDzACJjTdYHQ4wJ1f/of7jALWKfJEHSBWUQB/5UTJUx9SW6GHXp4mZ1KvdBRJCpGjssoPFGi4hvw8/A==",
    );
    // Signed with the jl3b… key, but published after that key expired (2025-01-29).
    let mut late = base.clone();
    late["time"]["1.0.0"] = Value::from("2025-06-01T00:00:00.000Z");
    // A keyid the registry does not list.
    let mut unknown = base.clone();
    unknown["versions"]["1.0.0"]["dist"]["signatures"][0]["keyid"] = Value::from("SHA256:nope");
    for (doc, status, rule, code) in [
        (
            forged,
            "invalid",
            "signature-invalid",
            "EINTEGRITYSIGNATURE",
        ),
        (
            late,
            "expired-key",
            "signature-key-problem",
            "EEXPIREDSIGNATUREKEY",
        ),
        (
            unknown,
            "missing-key",
            "signature-key-problem",
            "EMISSINGSIGNATUREKEY",
        ),
    ] {
        let reg = fixture_registry();
        reg.add_packument("sigstore", doc);
        let p = package(&reg, "sigstore@1.0.0");
        let sig = &p["facts"]["signatures"];
        assert_eq!(sig["status"], status, "{sig}");
        assert!(
            rule_ids(&p["findings"]).contains(&rule.to_string()),
            "{status}"
        );
        assert!(sig["detail"].as_str().unwrap().contains(code), "{sig}");
        if status == "invalid" {
            assert!(
                p["score"].as_u64().unwrap() <= 33,
                "critical caps the score"
            );
        }
    }
}

#[test]
fn registry_without_keys_makes_signatures_unknown_and_counted() {
    let reg = fixture_registry();
    reg.fault(
        "/-/npm/v1/keys",
        Fault::Body {
            status: 404,
            body: b"{\"error\":\"Not found\"}".to_vec(),
            content_type: "application/json".into(),
        },
    );
    let out = run(scan(&reg, &["sigstore@1.0.0", "--format", "json"]));
    let r = json(&out);
    let p = &r["packages"][0];
    let reason = p["facts"]["signatures"]["status"]["$unknown"]
        .as_str()
        .unwrap();
    assert!(reason.contains("provides no signing keys"), "{reason}");
    assert!(reason.contains("http://127.0.0.1"), "{reason}");
    assert!(rule_ids(&p["inconclusive"]).contains(&"signature-invalid".to_string()));
    // The provenance still verifies (it needs no registry key); the publish attestation cannot.
    assert_eq!(p["facts"]["provenance"]["status"], "legacy-verified");
    assert!(p["facts"]["provenance"]["publish_attestation"]["$unknown"].is_string());
    assert!(r["summary"]["inconclusive"].as_u64().unwrap() >= 3);
}

#[test]
fn identity_mismatches_are_flagged() {
    let reg = fixture_registry();
    let mut doc = packument("@modelcontextprotocol/server-filesystem.json");
    let v = &mut doc["versions"]["2026.7.10"];
    v["repository"]["url"] = Value::from("git+https://github.com/evil/servers.git");
    v["mcpName"] = Value::from("io.github.someone-else/server-filesystem");
    reg.add_packument("@modelcontextprotocol/server-filesystem", doc);
    let p = package(&reg, "@modelcontextprotocol/server-filesystem");
    let found = rule_ids(&p["findings"]);
    assert!(
        found.contains(&"provenance-repo-mismatch".to_string()),
        "{found:?}"
    );
    assert!(
        found.contains(&"mcp-name-owner-mismatch".to_string()),
        "{found:?}"
    );
}

#[test]
fn listed_but_unserved_attestations_are_unknown() {
    let reg = fixture_registry();
    let p = package(&reg, "abbrev@4.0.0");
    let reason = p["facts"]["provenance"]["status"]["$unknown"]
        .as_str()
        .unwrap();
    assert!(reason.contains("answered 404"), "{reason}");
    assert!(rule_ids(&p["inconclusive"]).contains(&"provenance-invalid".to_string()));
    // Its real registry signature verifies with the current npm key.
    assert_eq!(p["facts"]["signatures"]["status"], "verified");
}

#[test]
fn table_shows_provenance_at_a_glance() {
    let reg = fixture_registry();
    let out = run(scan(
        &reg,
        &["@modelcontextprotocol/server-filesystem", "sigstore@1.0.0"],
    ));
    assert!(
        out.stdout
            .contains("provenance: verified (modelcontextprotocol/servers@d31124c9"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("provenance: legacy-verified"),
        "{}",
        out.stdout
    );
    reg.add_file(
        "/-/npm/v1/attestations/sigstore@1.0.0",
        real("attestations/npm-cli/valid-tuf-js-attestations.json"),
        "application/json",
    );
    let out = run(scan(&reg, &["sigstore@1.0.0"]));
    assert!(out.stdout.contains("provenance: INVALID"), "{}", out.stdout);
}
