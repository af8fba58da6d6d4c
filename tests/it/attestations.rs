use crate::support::fixtures::*;
use mcp_audit::verify::{
    verify_attestations, verify_attestations_with, AttestationKind, AttestationsReport,
    ExpectedPackage, Signer, VerifyError, VerifyOptions,
};

fn category(e: &VerifyError) -> &'static str {
    match e {
        VerifyError::Malformed(_) => "Malformed",
        VerifyError::Unsupported(_) => "Unsupported",
        VerifyError::TrustRoot(_) => "TrustRoot",
        VerifyError::Certificate(_) => "Certificate",
        VerifyError::Signature(_) => "Signature",
        VerifyError::Tlog(_) => "Tlog",
        VerifyError::Timestamp(_) => "Timestamp",
        VerifyError::Subject(_) => "Subject",
        VerifyError::Key(_) => "Key",
        VerifyError::Identity(_) => "Identity",
        VerifyError::Policy(_) => "Policy",
    }
}

fn expected(i: usize) -> ExpectedPackage {
    let (_, n, v, integ) = VALID[i];
    ExpectedPackage::new(n, v, integ)
}

fn run(rel: &str, pkg: &ExpectedPackage) -> AttestationsReport {
    verify_attestations(&response_bytes(rel), pkg, &npm_keys(), &public_good_root())
}

fn outcomes(r: &AttestationsReport) -> Vec<Option<&'static str>> {
    r.attestations
        .iter()
        .map(|a| a.outcome.as_ref().err().map(category))
        .collect()
}

#[test]
fn every_real_attestation_verifies() {
    for (i, (rel, ..)) in VALID.iter().enumerate() {
        let r = run(rel, &expected(i));
        assert!(r.all_verified(), "{rel}: {:?}", r.failures());
    }
}

#[test]
fn legacy_bundles_are_marked_and_strict_mode_rejects_root_in_chain() {
    let rel = "attestations/npm-cli/valid-sigstore-attestations.json";
    let r = run(rel, &expected(0));
    assert!(r
        .attestations
        .iter()
        .all(|a| a.legacy && a.bundle_version.as_deref() == Some("0.1")));
    let strict = verify_attestations_with(
        &response_bytes(rel),
        &expected(0),
        &npm_keys(),
        &public_good_root(),
        VerifyOptions { strict: true },
    );
    let prov = strict
        .attestations
        .iter()
        .find(|a| a.kind == AttestationKind::SlsaProvenance)
        .unwrap();
    assert!(
        matches!(prov.outcome, Err(VerifyError::Policy(ref m)) if m.contains("root")),
        "{:?}",
        prov.outcome
    );
    // The publish attestation has no chain, so strict mode does not affect it.
    assert!(strict.publish().is_some());
    // 2024+ bundles are not legacy and pass in strict mode.
    let mcp = verify_attestations_with(
        &response_bytes(VALID[9].0),
        &expected(9),
        &npm_keys(),
        &public_good_root(),
        VerifyOptions { strict: true },
    );
    assert!(
        mcp.all_verified() && mcp.attestations.iter().all(|a| !a.legacy),
        "{:?}",
        mcp.failures()
    );
}

#[test]
fn mcp_server_identity_is_extracted() {
    let r = run(VALID[9].0, &expected(9));
    let prov = r.provenance().expect("provenance verified");
    let Signer::Certificate(c) = &prov.signer else {
        panic!("not cert-signed")
    };
    assert_eq!(c.san.as_deref(), Some("https://github.com/modelcontextprotocol/servers/.github/workflows/release.yml@refs/heads/main"));
    assert_eq!(
        c.issuer.as_deref(),
        Some("https://token.actions.githubusercontent.com")
    );
    assert_eq!(
        c.source_repository_uri.as_deref(),
        Some("https://github.com/modelcontextprotocol/servers")
    );
    assert!(c
        .source_repository_digest
        .as_deref()
        .unwrap()
        .starts_with("d31124c98240"));
    assert_eq!(c.source_repository_ref.as_deref(), Some("refs/heads/main"));
    assert_eq!(c.runner_environment.as_deref(), Some("github-hosted"));
    assert_eq!(
        c.build_config_uri.as_deref(),
        Some("https://github.com/modelcontextprotocol/servers/.github/workflows/release.yml@refs/heads/main")
    );
    assert!(c.build_signer_uri.is_some());
    let p = prov.predicate_identity.as_ref().unwrap();
    assert_eq!(
        p.builder_id.as_deref(),
        Some("https://github.com/actions/runner/github-hosted")
    );
    assert_eq!(
        p.source_uri.as_deref(),
        Some("https://github.com/modelcontextprotocol/servers")
    );
    assert_eq!(
        p.workflow_path.as_deref(),
        Some(".github/workflows/release.yml")
    );
    assert_eq!(
        prov.subject,
        "pkg:npm/%40modelcontextprotocol/server-filesystem@2026.7.10"
    );
    let publish = r.publish().unwrap();
    assert_eq!(
        publish.signer,
        Signer::RegistryKey("SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U".into())
    );
    assert_eq!(
        publish.registry.as_deref(),
        Some("https://registry.npmjs.org")
    );
}

#[test]
fn legacy_2023_cert_identity_comes_from_deprecated_extensions() {
    let r = run(VALID[0].0, &expected(0));
    let Signer::Certificate(c) = &r.provenance().unwrap().signer else {
        panic!()
    };
    assert!(c.from_deprecated_extensions);
    assert_eq!(
        c.source_repository_uri.as_deref(),
        Some("https://github.com/sigstore/sigstore-js")
    );
    assert!(c
        .source_repository_digest
        .as_deref()
        .unwrap()
        .starts_with("06528997c3c8"));
    assert_eq!(c.source_repository_ref.as_deref(), Some("refs/tags/v1.0.0"));
    assert_eq!(c.runner_environment, None);
    let p = r.provenance().unwrap().predicate_identity.as_ref().unwrap();
    assert_eq!(
        p.source_uri.as_deref(),
        Some("git+https://github.com/sigstore/sigstore-js")
    );
    assert_eq!(p.workflow_ref.as_deref(), Some("refs/tags/v1.0.0"));
    assert_eq!(
        p.builder_id.as_deref(),
        Some("https://github.com/npm/cli@9.4.2")
    );
    // slsa-github-generator: the cert names the generator's workflow.
    let r = run(VALID[7].0, &expected(7));
    let Signer::Certificate(c) = &r.provenance().unwrap().signer else {
        panic!()
    };
    assert!(c
        .san
        .as_deref()
        .unwrap()
        .starts_with("https://github.com/slsa-framework/slsa-github-generator/"));
}

#[test]
fn wrong_package_or_digest_is_a_subject_error() {
    let (rel, n, v, integ) = VALID[9];
    let other_integrity = VALID[0].3;
    for pkg in [
        ExpectedPackage::new(n, "2026.7.11", integ),
        ExpectedPackage::new("@modelcontextprotocol/server-memory", v, integ),
        ExpectedPackage::new(n, v, other_integrity),
    ] {
        let r = run(rel, &pkg);
        assert_eq!(
            outcomes(&r),
            vec![Some("Subject"), Some("Subject")],
            "{pkg:?}: {:?}",
            r.failures()
        );
    }
    // Unscoped spelling of a scoped name must not match either.
    let r = run(
        rel,
        &ExpectedPackage::new("modelcontextprotocol/server-filesystem", v, integ),
    );
    assert!(!r.all_verified());
}

#[test]
fn unknown_and_expired_npm_keys() {
    let (rel, ..) = VALID[9];
    let only_old = mcp_audit::verify::NpmKeys {
        keys: npm_keys()
            .keys
            .into_iter()
            .filter(|k| k.expires.is_some())
            .collect(),
    };
    let r = verify_attestations(
        &response_bytes(rel),
        &expected(9),
        &only_old,
        &public_good_root(),
    );
    assert_eq!(outcomes(&r), vec![Some("Key"), None]);
    // The 2024 gundam-visor publish attestation was made with jl3b…; pretend
    // that key expired before then.
    let mut keys = npm_keys();
    for k in &mut keys.keys {
        k.expires = Some(1_600_000_000);
    }
    let r = verify_attestations(
        &response_bytes(VALID[4].0),
        &expected(4),
        &keys,
        &public_good_root(),
    );
    let publish = r
        .attestations
        .iter()
        .find(|a| a.kind == AttestationKind::NpmPublish)
        .unwrap();
    assert!(
        matches!(&publish.outcome, Err(VerifyError::Key(m)) if m.contains("expired")),
        "{:?}",
        publish.outcome
    );
}

#[test]
fn garbage_never_panics() {
    let pkg = expected(9);
    let good = response_bytes(VALID[9].0);
    let keys = npm_keys();
    let root = public_good_root();
    // Truncations at many points, including mid-base64 and mid-JSON.
    for cut in (0..good.len()).step_by(good.len() / 97 + 1) {
        let r = verify_attestations(&good[..cut], &pkg, &keys, &root);
        assert!(!r.all_verified());
    }
    for body in [
        &b""[..],
        b"null",
        b"{}",
        b"{\"attestations\":null}",
        b"{\"attestations\":[]}",
        b"{\"attestations\":[{}]}",
        b"{\"attestations\":[{\"predicateType\":\"x\",\"bundle\":{}}]}",
        b"{\"attestations\":[{\"predicateType\":\"x\",\"bundle\":{\"mediaType\":\"application/vnd.dev.sigstore.bundle+json;version=9\"}}]}",
    ] {
        let r = verify_attestations(body, &pkg, &keys, &root);
        assert!(!r.all_verified(), "{}", String::from_utf8_lossy(body));
        assert!(!r.failures().is_empty());
    }
    // Unknown mediaType on an otherwise real bundle.
    let mut v: serde_json::Value = serde_json::from_slice(&good).unwrap();
    v["attestations"][1]["bundle"]["mediaType"] =
        "application/vnd.dev.sigstore.bundle.v0.9+json".into();
    let r = verify_attestations(&serde_json::to_vec(&v).unwrap(), &pkg, &keys, &root);
    assert_eq!(outcomes(&r), vec![None, Some("Unsupported")]);
    // Bad base64 in the certificate.
    let mut v: serde_json::Value = serde_json::from_slice(&good).unwrap();
    v["attestations"][1]["bundle"]["verificationMaterial"]["certificate"]["rawBytes"] =
        "@@@".into();
    let r = verify_attestations(&serde_json::to_vec(&v).unwrap(), &pkg, &keys, &root);
    assert_eq!(outcomes(&r)[0], None);
    assert!(outcomes(&r)[1].is_some());
    // Bad integrity string from the caller.
    let r = verify_attestations(
        &good,
        &ExpectedPackage::new("a", "1", "sha1-xyz"),
        &keys,
        &root,
    );
    assert!(r.response_error.is_some());
}

/// Known-bad variants: which attestation fails and in which category.
/// Attestation order is the file's order (see ATTRIBUTION.md).
#[test]
fn tampered_fixtures_fail_for_the_right_reason() {
    use AttestationKind::*;
    let pacote = 2;
    let gha = 3;
    let cases: &[(&str, usize, &[Option<&str>])] = &[
        ("attestations/pacote/invalid-attestations.json", pacote, &[None, Some("Malformed")]),
        ("attestations/pacote/malformed-subject-attestations.json", pacote, &[None, Some("Subject")]),
        ("attestations/pacote/mismatched-keyid-attestations.json", pacote, &[Some("Policy"), None]),
        ("attestations/pacote/mismatched-subject-digest-attestations.json", pacote, &[None, Some("Signature")]),
        ("attestations/pacote/mismatched-subject-name-attestations.json", pacote, &[None, Some("Signature")]),
        // The truncated provenance sig is still valid base64, so ECDSA rejects it.
        ("attestations/pacote/no-keyid-attestations.json", pacote, &[Some("Signature"), None]),
        ("attestations/pacote/unsupported-attestations.json", pacote, &[None, Some("Unsupported")]),
        ("attestations/slsa-verifier/cli-testdata/gundam-visor-cli-v1-tag-invalidsigprov.tgz.json", 4, &[None, Some("Signature")]),
        ("attestations/slsa-verifier/cli-testdata/gundam-visor-cli-v1-tag-invalidsigpub.tgz.json", 4, &[Some("Signature"), None]),
        ("attestations/slsa-verifier/cli-testdata/provenance-npm-test-cli-v1-prega-invalidsigprov.tgz.json", 5, &[None, Some("Signature")]),
        ("attestations/slsa-verifier/cli-testdata/provenance-npm-test-cli-v1-prega-invalidsigpub.tgz.json", 5, &[Some("Signature"), None]),
        ("attestations/slsa-verifier/cli-testdata/provenance-npm-test-cli-v02-prega-invalidsigprov.tgz.json", 6, &[None, Some("Signature")]),
        ("attestations/slsa-verifier/cli-testdata/provenance-npm-test-cli-v02-prega-invalidsigpub.tgz.json", 6, &[Some("Signature"), None]),
        ("attestations/slsa-verifier/cli-testdata/provenance-npm-test-ossf-invalidsigprov.tgz.json", 7, &[None, Some("Signature")]),
        ("attestations/slsa-verifier/cli-testdata/provenance-npm-test-ossf-invalidsigpub.tgz.json", 7, &[Some("Signature"), None]),
        ("attestations/slsa-verifier/cli-testdata/supreme-googles-cli-v02-tag-invalidsigprov.tgz.json", 8, &[None, Some("Signature")]),
        ("attestations/slsa-verifier/cli-testdata/supreme-googles-cli-v02-tag-invalidsigpub.tgz.json", 8, &[Some("Signature"), None]),
        ("attestations/slsa-verifier/gha-testdata/npm-att-mismatch-prov-payloadtype.intoto.sigstore", gha, &[Some("Unsupported"), None]),
        ("attestations/slsa-verifier/gha-testdata/npm-att-mismatch-pub-payloadtype.intoto.sigstore", gha, &[Some("Unsupported"), None]),
        ("attestations/slsa-verifier/gha-testdata/npm-att-mismatch-prov-predicatetype.intoto.sigstore", gha, &[Some("Policy"), None]),
        ("attestations/slsa-verifier/gha-testdata/npm-att-mismatch-pub-predicatetype.intoto.sigstore", gha, &[None, Some("Policy")]),
        ("attestations/slsa-verifier/gha-testdata/npm-att-prov-invalid-signature.intoto.sigstore", gha, &[Some("Signature"), None]),
        // This edit turned subject.digest into a string: rejected before crypto.
        ("attestations/slsa-verifier/gha-testdata/npm-att-publish-invalid-signature.intoto.sigstore", gha, &[None, Some("Subject")]),
        ("attestations/slsa-verifier/gha-testdata/npm-att-publish-nodigest.intoto.sigstore", gha, &[None, Some("Subject")]),
        ("attestations/slsa-verifier/gha-testdata/npm-att-publish-nosubjects.intoto.sigstore", gha, &[None, Some("Subject")]),
        ("attestations/slsa-verifier/gha-testdata/npm-stmt-mismatch-prov-predicatetype.intoto.sigstore", gha, &[Some("Signature"), None]),
        ("attestations/slsa-verifier/gha-testdata/npm-stmt-mismatch-prov-type.intoto.sigstore", gha, &[Some("Signature"), None]),
        ("attestations/slsa-verifier/gha-testdata/npm-stmt-mismatch-pub-predicatetype.intoto.sigstore", gha, &[None, Some("Signature")]),
        ("attestations/slsa-verifier/gha-testdata/npm-stmt-mismatch-pub-type.intoto.sigstore", gha, &[None, Some("Signature")]),
        ("bundles/gh-cli/sigstoreBundle-invalid-signature.json", 10, &[Some("Unsupported")]),
    ];
    let mut bad = vec![];
    for (rel, pkg, want) in cases {
        let r = run(rel, &expected(*pkg));
        let got = outcomes(&r);
        if got != *want {
            bad.push(format!(
                "{rel}: want {want:?} got {got:?} ({:?})",
                r.failures()
            ));
        }
        assert!(!r.all_verified());
        let _ = (SlsaProvenance, NpmPublish, Other);
    }
    assert!(bad.is_empty(), "\n{}", bad.join("\n"));
}
