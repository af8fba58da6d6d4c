//! sigstore-conformance `bundle-verify` corpus, table-driven: one case per
//! directory, `_fail` suffix = must fail. Defaults per the corpus README.
use crate::support::fixtures::*;
use mcp_audit::verify::{verify_bundle, Artifact, KeyPolicy, TrustedRoot};

fn read_opt(dir: &std::path::Path, name: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(name))
        .ok()
        .map(|s| s.trim().to_string())
}

/// Ok(()) = verified; Err(reason) = rejected (by any step, including
/// reading the trusted root).
fn run_case(dir: &std::path::Path) -> Result<(), String> {
    let base = fixture_path("conformance/bundle-verify");
    let bundle = std::fs::read(dir.join("bundle.sigstore.json")).map_err(|e| e.to_string())?;
    let root = match std::fs::read(dir.join("trusted_root.json")) {
        Ok(b) => TrustedRoot::from_json(&b).map_err(|e| e.to_string())?,
        Err(_) => public_good_root(),
    };
    let artifact = std::fs::read(dir.join("artifact"))
        .unwrap_or_else(|_| std::fs::read(base.join("a.txt")).unwrap());
    let key = std::fs::read_to_string(dir.join("key.pub")).ok();
    let identity = read_opt(dir, "identity").unwrap_or_else(|| DEFAULT_IDENTITY.into());
    let issuer = read_opt(dir, "issuer").unwrap_or_else(|| DEFAULT_ISSUER.into());
    let policy = match &key {
        Some(pem) => KeyPolicy::PublicKeyPem(pem),
        None => KeyPolicy::Identity {
            identity: &identity,
            issuer: &issuer,
        },
    };
    verify_bundle(&bundle, Artifact::Bytes(&artifact), &policy, &root)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn conformance_bundle_verify_corpus() {
    let base = fixture_path("conformance/bundle-verify");
    let mut dirs: Vec<_> = std::fs::read_dir(&base)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 70, "corpus size changed");
    let (mut ok, mut wrong) = (0, vec![]);
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let want_fail = name.ends_with("_fail");
        let got = run_case(dir);
        println!(
            "{} {name}: {got:?}",
            if got.is_err() == want_fail {
                "as expected"
            } else {
                "UNEXPECTED"
            }
        );
        if got.is_err() == want_fail {
            ok += 1;
        } else {
            wrong.push(format!("{name}: {got:?}"));
        }
    }
    println!("conformance: {ok}/{} cases as expected", dirs.len());
    assert!(
        wrong.is_empty(),
        "unexpected results:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn digest_input_verifies_dsse_bundle() {
    let dir = fixture_path("conformance/bundle-verify/happy-path-intoto-in-dsse-v3");
    let bundle = std::fs::read(dir.join("bundle.sigstore.json")).unwrap();
    let a = std::fs::read(fixture_path("conformance/bundle-verify/a.txt")).unwrap();
    let digest = ring_free_sha256_hex(&a);
    let art = Artifact::parse_digest(&format!("sha256:{digest}")).unwrap();
    let policy = KeyPolicy::Identity {
        identity: DEFAULT_IDENTITY,
        issuer: DEFAULT_ISSUER,
    };
    let r = verify_bundle(&bundle, art, &policy, &public_good_root()).unwrap();
    assert_eq!(r.bundle_version, "0.3");
    assert!(!r.verified_times.is_empty());
    let wrong = Artifact::parse_digest(&format!("sha256:{}", "00".repeat(32))).unwrap();
    assert!(verify_bundle(&bundle, wrong, &policy, &public_good_root()).is_err());
    assert!(Artifact::parse_digest("sha256:zz").is_err());
    assert!(Artifact::parse_digest("md5:00").is_err());
}

/// The digest of a.txt as the conformance harness would pass it, taken from
/// the hashedrekord entry of a happy-path bundle (which records sha256(a.txt)).
fn ring_free_sha256_hex(_a: &[u8]) -> String {
    let b = json("conformance/bundle-verify/happy-path-v0.3/bundle.sigstore.json");
    let d = b["messageSignature"]["messageDigest"]["digest"]
        .as_str()
        .unwrap();
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD.decode(d).unwrap();
    raw.iter().map(|b| format!("{b:02x}")).collect()
}
