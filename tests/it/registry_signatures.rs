use crate::support::fixtures::*;
use mcp_audit::verify::{
    parse_rfc3339, verify_registry_signature, verify_registry_signatures, NpmKeys,
    RegistrySignature, SigError,
};

/// The scan clock the tests pass in (2026-11-22T00:00:00Z), never the machine's.
const NOW: i64 = 1_795_305_600;

#[test]
fn extracted_test_signatures_verify() {
    let keys = npm_keys();
    let v = json("packuments/registry-signatures-extracted.json");
    let sigs = v["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 4);
    for s in sigs {
        let r = verify_registry_signature(
            s["name"].as_str().unwrap(),
            s["version"].as_str().unwrap(),
            s["integrity"].as_str().unwrap(),
            s["sig"].as_str().unwrap(),
            s["keyid"].as_str().unwrap(),
            &keys,
            // Test data from 2023: before the jl3b… key expired.
            Some(parse_rfc3339("t", "2023-06-01T00:00:00Z").unwrap()),
            NOW,
        );
        assert_eq!(r, Ok(()), "{}", s["name"]);
    }
}

/// Every `dist.signatures` entry in the abbrev packument (both registry
/// keys, 2011–2025 publish times) verifies at its own publish time.
#[test]
fn abbrev_packument_signatures_verify() {
    let keys = npm_keys();
    let p = json("packuments/abbrev.full.json");
    let mut n = 0;
    for (version, m) in p["versions"].as_object().unwrap() {
        let published = parse_rfc3339("time", p["time"][version].as_str().unwrap()).unwrap();
        for s in m["dist"]["signatures"].as_array().into_iter().flatten() {
            let r = verify_registry_signature(
                "abbrev",
                version,
                m["dist"]["integrity"].as_str().unwrap(),
                s["sig"].as_str().unwrap(),
                s["keyid"].as_str().unwrap(),
                &keys,
                Some(published),
                NOW,
            );
            assert_eq!(r, Ok(()), "abbrev@{version}");
            n += 1;
        }
    }
    assert_eq!(n, 12);
}

fn abbrev_300() -> (String, String, String) {
    let p = json("packuments/abbrev.full.json");
    let d = &p["versions"]["3.0.0"]["dist"];
    (
        d["integrity"].as_str().unwrap().to_string(),
        d["signatures"][0]["sig"].as_str().unwrap().to_string(),
        d["signatures"][0]["keyid"].as_str().unwrap().to_string(),
    )
}

#[test]
fn unknown_keyid_is_missing_key() {
    let (integrity, sig, _) = abbrev_300();
    let r = verify_registry_signature(
        "abbrev",
        "3.0.0",
        &integrity,
        &sig,
        "SHA256:nope",
        &npm_keys(),
        Some(0),
        NOW,
    );
    assert!(matches!(r, Err(SigError::MissingKey { .. })), "{r:?}");
    assert_eq!(r.unwrap_err().npm_code(), "EMISSINGSIGNATUREKEY");
}

#[test]
fn key_expired_before_publish_time() {
    let (integrity, sig, keyid) = abbrev_300();
    // jl3b… expired 2025-01-29; pretend 3.0.0 was published after that.
    let late = parse_rfc3339("t", "2025-02-01T00:00:00Z").unwrap();
    let r = verify_registry_signature(
        "abbrev",
        "3.0.0",
        &integrity,
        &sig,
        &keyid,
        &npm_keys(),
        Some(late),
        NOW,
    );
    assert!(matches!(r, Err(SigError::ExpiredKey { .. })), "{r:?}");
    assert_eq!(r.unwrap_err().npm_code(), "EEXPIREDSIGNATUREKEY");
}

#[test]
fn tampered_message_or_signature_is_invalid() {
    let (integrity, sig, keyid) = abbrev_300();
    let keys = npm_keys();
    let t = Some(parse_rfc3339("t", "2024-09-24T19:01:56Z").unwrap());
    for (name, version, integ, s) in [
        ("abbrev", "3.0.1", integrity.as_str(), sig.as_str()),
        ("abbrev", "3.0.0", "sha512-AAAA", sig.as_str()),
        ("abbrevx", "3.0.0", integrity.as_str(), sig.as_str()),
        ("abbrev", "3.0.0", integrity.as_str(), "not base64!"),
        ("abbrev", "3.0.0", integrity.as_str(), ""),
    ] {
        let r = verify_registry_signature(name, version, integ, s, &keyid, &keys, t, NOW);
        assert!(
            matches!(r, Err(SigError::InvalidSignature { .. })),
            "{name}@{version} {integ} {s}: {r:?}"
        );
    }
}

#[test]
fn keys_file_parses_both_keys() {
    let keys = npm_keys();
    assert_eq!(keys.keys.len(), 2);
    assert!(keys
        .get("SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA")
        .unwrap()
        .expires
        .is_some());
    assert!(keys
        .get("SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U")
        .unwrap()
        .expires
        .is_none());
    assert!(mcp_audit::verify::NpmKeys::from_json(
        b"{\"keys\":[{\"keyid\":\"x\",\"key\":\"!!\"}]}"
    )
    .is_err());
    assert!(mcp_audit::verify::NpmKeys::from_json(b"[]").is_err());
}

/// Without a publish time the key is judged at the clock passed in (`--now`), not the machine's:
/// the same signature is valid at a `now` before the key expired and expired after it.
#[test]
fn without_a_publish_time_the_key_is_judged_at_the_given_now() {
    let (integrity, sig, keyid) = abbrev_300();
    let keys = npm_keys();
    let check = |now: &str| {
        let now = parse_rfc3339("now", now).unwrap();
        verify_registry_signature(
            "abbrev", "3.0.0", &integrity, &sig, &keyid, &keys, None, now,
        )
    };
    assert_eq!(check("2024-10-01T00:00:00Z"), Ok(()));
    assert!(matches!(
        check("2025-02-01T00:00:00Z"),
        Err(SigError::ExpiredKey { .. })
    ));
}

/// The loopback registry's keys (npm's two plus its own test key) and one version it signs.
fn fixture_signed() -> (NpmKeys, String, RegistrySignature) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/registry");
    let keys = NpmKeys::from_json(&std::fs::read(format!("{root}/keys.json")).unwrap()).unwrap();
    let p: serde_json::Value = serde_json::from_slice(
        &std::fs::read(format!("{root}/packuments/good-mcp-server.json")).unwrap(),
    )
    .unwrap();
    let latest = p["dist-tags"]["latest"].as_str().unwrap();
    assert_eq!(latest, "1.2.0", "the fixture's latest version changed");
    let dist = &p["versions"][latest]["dist"];
    let sigs = RegistrySignature::list(dist["signatures"].as_array().unwrap());
    assert_eq!(sigs.len(), 1);
    (
        keys,
        dist["integrity"].as_str().unwrap().to_string(),
        sigs[0].clone(),
    )
}

fn check_all(sigs: &[RegistrySignature]) -> (String, Result<(), SigError>) {
    let (keys, integrity, _) = fixture_signed();
    verify_registry_signatures(
        "good-mcp-server",
        "1.2.0",
        &integrity,
        sigs,
        &keys,
        None,
        NOW,
    )
}

/// pacote checks every `dist.signatures` entry and fails on the first that does not verify;
/// a valid first signature does not excuse a bad second one.
#[test]
fn every_signature_of_a_version_is_checked() {
    let (_, _, good) = fixture_signed();
    let (keyid, result) = check_all(std::slice::from_ref(&good));
    assert_eq!((keyid.as_str(), &result), (good.keyid.as_str(), &Ok(())));

    // Both verify: the key is reported once.
    let (keyid, result) = check_all(&[good.clone(), good.clone()]);
    assert_eq!((keyid, result), (good.keyid.clone(), Ok(())));

    // A second signature naming a listed (unexpired) npm key that did not make it.
    let npm_key = "SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U";
    let forged = RegistrySignature {
        keyid: npm_key.into(),
        sig: good.sig.clone(),
    };
    let (keyid, result) = check_all(&[good.clone(), forged.clone()]);
    assert_eq!(keyid, npm_key);
    assert!(
        matches!(result, Err(SigError::InvalidSignature { .. })),
        "{result:?}"
    );

    // A second signature whose key the registry does not list: EMISSINGSIGNATUREKEY, as in
    // pacote, even though the first verifies.
    let unknown = RegistrySignature {
        keyid: "SHA256:not-a-listed-key".into(),
        sig: good.sig.clone(),
    };
    let (keyid, result) = check_all(&[good.clone(), unknown]);
    assert_eq!(keyid, "SHA256:not-a-listed-key");
    assert!(
        matches!(result, Err(SigError::MissingKey { .. })),
        "{result:?}"
    );

    // The first failure in document order is the one reported.
    let (keyid, result) = check_all(&[forged, good.clone()]);
    assert_eq!(keyid, npm_key);
    assert!(
        matches!(result, Err(SigError::InvalidSignature { .. })),
        "{result:?}"
    );
}

#[test]
fn no_integrity_or_no_signature_is_never_verified() {
    let (keys, _, good) = fixture_signed();
    let (_, r) = verify_registry_signatures(
        "good-mcp-server",
        "1.2.0",
        "",
        std::slice::from_ref(&good),
        &keys,
        None,
        NOW,
    );
    assert!(matches!(r, Err(SigError::InvalidSignature { .. })), "{r:?}");
    let (_, r) = verify_registry_signatures(
        "good-mcp-server",
        "1.2.0",
        "sha512-x",
        &[],
        &keys,
        None,
        NOW,
    );
    assert!(r.is_err());
    // Entries that are not objects read as empty, which is a missing key, not a pass.
    let sigs = RegistrySignature::list(&[serde_json::json!("junk")]);
    assert_eq!(sigs, [RegistrySignature::default()]);
}
