use crate::support::fixtures::*;
use mcp_audit::verify::{parse_rfc3339, verify_registry_signature, SigError};

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
        let r = verify_registry_signature(name, version, integ, s, &keyid, &keys, t);
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
