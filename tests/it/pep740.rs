//! PEP 740 verification against the real attestations of pypi-attestations' test assets
//! (fixtures/pypi/SOURCES.md), and tampered variants of them.
use base64::Engine;
use mcp_audit::verify::{
    verify_attestation, verify_provenance, DistFile, Pep740Attestation, ProvenanceReport,
    PublisherMatch, TrustedPublisher, TrustedRoot, VerifyError,
};
use serde_json::{json, Value};

use crate::support::fixtures::*;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn staging_root() -> TrustedRoot {
    TrustedRoot::from_json(&fixture("trust/trusted_root.staging.json")).unwrap()
}

fn dist(name: &str) -> DistFile {
    DistFile::from_bytes(name, &fixture(&format!("pypi/pep740/{name}")))
}

fn provenance(file: &str, root: &TrustedRoot) -> ProvenanceReport {
    let dist_name = file.trim_end_matches(".provenance");
    verify_provenance(
        &fixture(&format!("pypi/pep740/{file}")),
        &dist(dist_name),
        root,
    )
}

fn attestation(file: &str, dist_name: &str, root: &TrustedRoot) -> Pep740Attestation {
    verify_attestation(
        &fixture(&format!("pypi/pep740/{file}")),
        &dist(dist_name),
        root,
        None,
    )
}

fn github(repository: &str, workflow: &str) -> TrustedPublisher {
    TrustedPublisher::GitHub {
        repository: repository.into(),
        workflow: workflow.into(),
        environment: None,
    }
}

/// Decode the statement of an attestation object, let `edit` change it, and put it back.
fn with_statement(att: &mut Value, edit: impl FnOnce(&mut Value)) {
    let raw = B64
        .decode(att["envelope"]["statement"].as_str().unwrap())
        .unwrap();
    let mut stmt: Value = serde_json::from_slice(&raw).unwrap();
    edit(&mut stmt);
    att["envelope"]["statement"] = json!(B64.encode(serde_json::to_vec(&stmt).unwrap()));
}

// ---- real fixtures, right and wrong roots ----

#[test]
fn github_provenance_verifies_and_matches_its_publisher() {
    let r = provenance(
        "pypi_attestations-0.0.19.tar.gz.provenance",
        &public_good_root(),
    );
    assert!(r.all_verified(), "{:?}", r.failures());
    assert_eq!(
        r.publisher(),
        Some(&github("trailofbits/pypi-attestations", "release.yml"))
    );
    let a = &r.bundles[0].attestations[0];
    let v = a.outcome.as_ref().unwrap();
    assert_eq!(
        v.predicate_type,
        "https://docs.pypi.org/attestations/publish/v1"
    );
    assert_eq!(v.subject, "pypi_attestations-0.0.19.tar.gz");
    assert_eq!(
        v.certificate.issuer.as_deref(),
        Some("https://token.actions.githubusercontent.com")
    );
    assert_eq!(
        v.certificate.source_repository_uri.as_deref(),
        Some("https://github.com/trailofbits/pypi-attestations")
    );
    assert!(v.integrated_time > 1_700_000_000);
    assert!(r.failures().is_empty());
}

#[test]
fn google_provenance_verifies_and_keeps_its_kind() {
    let r = provenance(
        "gcb_attestation_test-0.0.0.tar.gz.provenance",
        &public_good_root(),
    );
    assert!(r.all_verified(), "{:?}", r.failures());
    assert_eq!(
        r.publisher(),
        Some(&TrustedPublisher::Google {
            email: "919436158236-compute@developer.gserviceaccount.com".into()
        })
    );
}

#[test]
fn circleci_provenance_verifies_but_its_publisher_stays_unchecked() {
    let r = provenance(
        "circleci_sign_publish_example-0.0.1.dev137-py3-none-any.whl.provenance",
        &public_good_root(),
    );
    let a = &r.bundles[0].attestations[0];
    assert!(a.outcome.is_ok(), "{:?}", a.outcome);
    assert!(matches!(&a.publisher_match, PublisherMatch::NotChecked(w) if w.contains("CircleCI")));
    assert_eq!(
        r.bundles[0].publisher,
        Some(TrustedPublisher::Other {
            kind: "CircleCI".into()
        })
    );
    // Unknown is not a pass.
    assert!(!r.all_verified());
    assert_eq!(r.publisher(), None);
    assert!(r.failures()[0].contains("publisher not checked"));
}

#[test]
fn every_public_good_fixture_fails_with_the_staging_root() {
    for file in [
        "pypi_attestations-0.0.19.tar.gz.provenance",
        "gcb_attestation_test-0.0.0.tar.gz.provenance",
        "circleci_sign_publish_example-0.0.1.dev137-py3-none-any.whl.provenance",
    ] {
        let r = provenance(file, &staging_root());
        assert!(!r.all_verified(), "{file}");
        let a = &r.bundles[0].attestations[0];
        assert!(a.outcome.is_err(), "{file} verified with the wrong root");
        assert!(matches!(a.publisher_match, PublisherMatch::NotChecked(_)));
    }
}

#[test]
fn single_attestations_verify_with_the_right_root_only() {
    let cases = [
        (
            "pypi_attestation_models-0.0.4a2.tar.gz.attestation",
            "pypi_attestation_models-0.0.4a2.tar.gz",
            false,
            "https://docs.pypi.org/attestations/publish/v1",
        ),
        (
            "pypi_attestations-0.0.19.tar.gz.publish.attestation",
            "pypi_attestations-0.0.19.tar.gz",
            false,
            "https://docs.pypi.org/attestations/publish/v1",
        ),
        (
            "pypi_attestations-0.0.19.tar.gz.slsa.attestation",
            "pypi_attestations-0.0.19.tar.gz",
            false,
            "https://slsa.dev/provenance/v1",
        ),
        (
            "gitlab_oidc_project-0.0.3.tar.gz.publish.attestation",
            "gitlab_oidc_project-0.0.3.tar.gz",
            false,
            "https://docs.pypi.org/attestations/publish/v1",
        ),
        (
            "circleci_sign_publish_example-0.0.1.dev137-py3-none-any.whl.publish.attestation",
            "circleci_sign_publish_example-0.0.1.dev137-py3-none-any.whl",
            false,
            "https://docs.pypi.org/attestations/publish/v1",
        ),
        (
            "rfc8785-0.1.2-py3-none-any.whl.attestation",
            "rfc8785-0.1.2-py3-none-any.whl",
            true,
            "https://docs.pypi.org/attestations/publish/v1",
        ),
        (
            "rfc8785-0.1.2-py3-none-any.whl.publish.attestation",
            "rfc8785-0.1.2-py3-none-any.whl",
            true,
            "https://docs.pypi.org/attestations/publish/v1",
        ),
    ];
    for (file, dist_name, staging, predicate) in cases {
        let (right, wrong) = if staging {
            (staging_root(), public_good_root())
        } else {
            (public_good_root(), staging_root())
        };
        let ok = attestation(file, dist_name, &right);
        let v = ok
            .outcome
            .as_ref()
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(v.predicate_type, predicate, "{file}");
        assert_eq!(
            ok.publisher_match,
            PublisherMatch::NotChecked("no publisher given".into())
        );
        assert!(!ok.is_verified(), "no publisher given is not a pass");
        let bad = attestation(file, dist_name, &wrong);
        assert!(bad.outcome.is_err(), "{file} verified with the wrong root");
    }
}

#[test]
fn staging_attestation_carries_the_email_identity() {
    let a = attestation(
        "rfc8785-0.1.2-py3-none-any.whl.attestation",
        "rfc8785-0.1.2-py3-none-any.whl",
        &staging_root(),
    );
    let v = a.outcome.unwrap();
    assert_eq!(v.certificate.san.as_deref(), Some("william@yossarian.net"));
    assert_eq!(
        v.certificate.issuer.as_deref(),
        Some("https://github.com/login/oauth")
    );
}

#[test]
fn slsa_attestation_exposes_the_predicate_identity() {
    let a = attestation(
        "pypi_attestations-0.0.19.tar.gz.slsa.attestation",
        "pypi_attestations-0.0.19.tar.gz",
        &public_good_root(),
    );
    let v = a.outcome.unwrap();
    let p = v.predicate_identity.expect("SLSA v1 predicate identity");
    assert!(p
        .source_uri
        .as_deref()
        .is_some_and(|s| s.contains("trailofbits/pypi-attestations")));
}

// ---- publisher policies ----

fn with_publisher(file: &str, dist_name: &str, p: &TrustedPublisher) -> Pep740Attestation {
    verify_attestation(
        &fixture(&format!("pypi/pep740/{file}")),
        &dist(dist_name),
        &public_good_root(),
        Some(p),
    )
}

#[test]
fn github_publisher_policy_checks_repository_and_workflow() {
    let file = "pypi_attestation_models-0.0.4a2.tar.gz.attestation";
    let d = "pypi_attestation_models-0.0.4a2.tar.gz";
    let good = with_publisher(
        file,
        d,
        &github("trailofbits/pypi-attestation-models", "release.yml"),
    );
    assert_eq!(good.publisher_match, PublisherMatch::Matches);
    assert!(good.is_verified());

    let wrong_workflow = with_publisher(
        file,
        d,
        &github("trailofbits/pypi-attestation-models", "other.yml"),
    );
    assert!(wrong_workflow.outcome.is_ok());
    assert!(
        matches!(&wrong_workflow.publisher_match, PublisherMatch::Mismatch(w) if w.contains("Build Config URI")),
        "{:?}",
        wrong_workflow.publisher_match
    );
    assert!(!wrong_workflow.is_verified());

    let wrong_repo = with_publisher(
        file,
        d,
        &github("attacker/pypi-attestation-models", "release.yml"),
    );
    assert!(
        matches!(&wrong_repo.publisher_match, PublisherMatch::Mismatch(w) if w.contains("source repository"))
    );

    // A GitLab publisher never matches a GitHub certificate, and vice versa.
    let gitlab = TrustedPublisher::GitLab {
        repository: "trailofbits/pypi-attestation-models".into(),
        workflow_filepath: "release.yml".into(),
        environment: None,
    };
    assert!(matches!(
        with_publisher(file, d, &gitlab).publisher_match,
        PublisherMatch::Mismatch(_)
    ));
    let google = TrustedPublisher::Google {
        email: "https://github.com/trailofbits/pypi-attestation-models/.github/workflows/release.yml@refs/tags/v0.0.4a2".into(),
    };
    assert!(matches!(
        with_publisher(file, d, &google).publisher_match,
        PublisherMatch::Mismatch(_)
    ));
}

#[test]
fn gitlab_publisher_policy() {
    let file = "gitlab_oidc_project-0.0.3.tar.gz.publish.attestation";
    let d = "gitlab_oidc_project-0.0.3.tar.gz";
    let p = TrustedPublisher::GitLab {
        repository: "facutuesca/gitlab-oidc-project".into(),
        workflow_filepath: ".gitlab-ci.yml".into(),
        environment: None,
    };
    assert_eq!(
        with_publisher(file, d, &p).publisher_match,
        PublisherMatch::Matches
    );
    let wrong = TrustedPublisher::GitLab {
        repository: "facutuesca/gitlab-oidc-project".into(),
        workflow_filepath: "ci/release.yml".into(),
        environment: None,
    };
    assert!(matches!(
        with_publisher(file, d, &wrong).publisher_match,
        PublisherMatch::Mismatch(w) if w.contains("Build Config URI")
    ));
    assert!(matches!(
        with_publisher(
            file,
            d,
            &github("facutuesca/gitlab-oidc-project", ".gitlab-ci.yml")
        )
        .publisher_match,
        PublisherMatch::Mismatch(_)
    ));
}

#[test]
fn google_publisher_policy_checks_the_service_account() {
    let file = "gcb_attestation_test-0.0.0.tar.gz.provenance";
    let mut doc: Value = serde_json::from_slice(&fixture(&format!("pypi/pep740/{file}"))).unwrap();
    doc["attestation_bundles"][0]["publisher"]["email"] =
        json!("someone-else@example.iam.gserviceaccount.com");
    let r = verify_provenance(
        &serde_json::to_vec(&doc).unwrap(),
        &dist("gcb_attestation_test-0.0.0.tar.gz"),
        &public_good_root(),
    );
    assert!(!r.all_verified());
    assert!(matches!(
        &r.bundles[0].attestations[0].publisher_match,
        PublisherMatch::Mismatch(w) if w.contains("service account")
    ));
}

#[test]
fn provenance_with_a_wrong_publisher_does_not_verify() {
    let file = "pypi_attestations-0.0.19.tar.gz.provenance";
    for (key, value) in [
        ("workflow", "evil.yml"),
        ("repository", "evil/pypi-attestations"),
    ] {
        let mut doc: Value =
            serde_json::from_slice(&fixture(&format!("pypi/pep740/{file}"))).unwrap();
        doc["attestation_bundles"][0]["publisher"][key] = json!(value);
        let r = verify_provenance(
            &serde_json::to_vec(&doc).unwrap(),
            &dist("pypi_attestations-0.0.19.tar.gz"),
            &public_good_root(),
        );
        assert!(!r.all_verified(), "{key}");
        assert_eq!(r.publisher(), None);
        assert!(
            r.failures()[0].contains("publisher does not match"),
            "{:?}",
            r.failures()
        );
    }
}

// ---- tampered distributions and statements ----

#[test]
fn wrong_distribution_bytes_fail() {
    let name = "pypi_attestations-0.0.19.tar.gz";
    let mut bytes = fixture(&format!("pypi/pep740/{name}"));
    bytes[100] ^= 1;
    let r = verify_provenance(
        &fixture("pypi/pep740/pypi_attestations-0.0.19.tar.gz.provenance"),
        &DistFile::from_bytes(name, &bytes),
        &public_good_root(),
    );
    let e = r.bundles[0].attestations[0].outcome.as_ref().unwrap_err();
    assert!(
        matches!(e, VerifyError::Subject(m) if m.contains("sha256")),
        "{e}"
    );
}

#[test]
fn wrong_filename_fails_but_normalised_spelling_passes() {
    let bytes = fixture("pypi/pep740/pypi_attestations-0.0.19.tar.gz");
    let prov = fixture("pypi/pep740/pypi_attestations-0.0.19.tar.gz.provenance");
    let wrong = verify_provenance(
        &prov,
        &DistFile::from_bytes("pypi_attestations-0.0.20.tar.gz", &bytes),
        &public_good_root(),
    );
    let e = wrong.bundles[0].attestations[0]
        .outcome
        .as_ref()
        .unwrap_err();
    assert!(
        matches!(e, VerifyError::Subject(m) if m.contains("distribution name")),
        "{e}"
    );
    let other = verify_provenance(
        &prov,
        &DistFile::from_bytes("other_project-0.0.19.tar.gz", &bytes),
        &public_good_root(),
    );
    assert!(other.bundles[0].attestations[0].outcome.is_err());
    // packaging parses both spellings to the same (name, version): pypi-attestations accepts.
    let same = verify_provenance(
        &prov,
        &DistFile::from_bytes("PyPI.Attestations-0.0.19.0.tar.gz", &bytes),
        &public_good_root(),
    );
    assert!(same.all_verified(), "{:?}", same.failures());
    // An invalid filename is an error, never a match.
    let invalid = verify_provenance(
        &prov,
        &DistFile::from_bytes("pypi_attestations.tar.gz", &bytes),
        &public_good_root(),
    );
    assert!(!invalid.all_verified());
}

fn tampered(edit: impl FnOnce(&mut Value)) -> Pep740Attestation {
    let mut att: Value = serde_json::from_slice(&fixture(
        "pypi/pep740/pypi_attestations-0.0.19.tar.gz.publish.attestation",
    ))
    .unwrap();
    edit(&mut att);
    verify_attestation(
        &serde_json::to_vec(&att).unwrap(),
        &dist("pypi_attestations-0.0.19.tar.gz"),
        &public_good_root(),
        Some(&github("trailofbits/pypi-attestations", "release.yml")),
    )
}

#[test]
fn untampered_publish_attestation_matches() {
    let a = tampered(|_| {});
    assert!(a.is_verified(), "{:?} {:?}", a.outcome, a.publisher_match);
}

#[test]
fn two_subjects_fail() {
    let a = tampered(|att| {
        with_statement(att, |s| {
            let first = s["subject"][0].clone();
            s["subject"].as_array_mut().unwrap().push(first);
        })
    });
    assert!(
        matches!(a.outcome, Err(VerifyError::Subject(ref m)) if m.contains("exactly one")),
        "{:?}",
        a.outcome
    );
}

#[test]
fn unknown_predicate_type_fails() {
    // Re-signing is impossible, so the edited statement also breaks the signature: either
    // error is a failure; the point is that it never verifies.
    let a = tampered(|att| {
        with_statement(att, |s| {
            s["predicateType"] = json!("https://example.com/evil/v1")
        })
    });
    assert!(a.outcome.is_err());
    assert_eq!(
        a.predicate_type.as_deref(),
        Some("https://example.com/evil/v1")
    );
}

#[test]
fn statement_that_is_not_json_fails() {
    let a = tampered(|att| att["envelope"]["statement"] = json!(B64.encode(b"not json {")));
    assert!(
        matches!(a.outcome, Err(VerifyError::Malformed(ref m)) if m.contains("not JSON")),
        "{:?}",
        a.outcome
    );
}

#[test]
fn tampered_signature_and_certificate_fail() {
    let a = tampered(|att| {
        let sig = B64
            .decode(att["envelope"]["signature"].as_str().unwrap())
            .unwrap();
        let mut sig = sig;
        let n = sig.len() - 3;
        sig[n] ^= 0x55;
        att["envelope"]["signature"] = json!(B64.encode(sig));
    });
    assert!(a.outcome.is_err());
    let a =
        tampered(|att| att["verification_material"]["certificate"] = json!(B64.encode(b"junk")));
    assert!(
        matches!(a.outcome, Err(VerifyError::Certificate(_))),
        "{:?}",
        a.outcome
    );
    let a = tampered(|att| att["verification_material"]["transparency_entries"] = json!([]));
    assert!(matches!(a.outcome, Err(VerifyError::Malformed(_))));
    let a = tampered(|att| {
        att["verification_material"]["transparency_entries"][0]["inclusionPromise"]
            ["signedEntryTimestamp"] = json!(B64.encode([1u8; 70]));
        att["verification_material"]["transparency_entries"][0]
            .as_object_mut()
            .unwrap()
            .remove("inclusionProof");
    });
    assert!(a.outcome.is_err());
    let a = tampered(|att| att["version"] = json!(2));
    assert!(matches!(a.outcome, Err(VerifyError::Unsupported(_))));
}

#[test]
fn statement_for_another_file_with_a_valid_signature_fails() {
    // The real rfc8785 attestation (staging) checked against the pypi_attestations sdist.
    let a = verify_attestation(
        &fixture("pypi/pep740/rfc8785-0.1.2-py3-none-any.whl.attestation"),
        &dist("pypi_attestations-0.0.19.tar.gz"),
        &staging_root(),
        None,
    );
    assert!(
        matches!(a.outcome, Err(VerifyError::Subject(_))),
        "{:?}",
        a.outcome
    );
}

// ---- hostile documents ----

#[test]
fn garbage_huge_and_deep_documents_are_errors() {
    let d = dist("pypi_attestations-0.0.19.tar.gz");
    let root = public_good_root();
    let deep = "[".repeat(100_000);
    let huge = vec![b' '; 5 * 1024 * 1024];
    let many = json!({"version": 1, "attestation_bundles": [{"publisher": {"kind": "GitHub", "repository": "a/b", "workflow": "w.yml"}, "attestations": vec![json!({"version": 1}); 100]}]});
    let inputs: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"garbage".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        deep.into_bytes(),
        huge,
        br#"{"version": 2, "attestation_bundles": []}"#.to_vec(),
        br#"{"version": 1, "attestation_bundles": []}"#.to_vec(),
        br#"{"version": 1, "attestation_bundles": [{"publisher": 7, "attestations": [1, "x", null]}]}"#.to_vec(),
        br#"{"version": 1, "attestation_bundles": [{"publisher": {"kind": "GitHub"}}]}"#.to_vec(),
        serde_json::to_vec(&many).unwrap(),
    ];
    for input in &inputs {
        let r = verify_provenance(input, &d, &root);
        assert!(!r.all_verified());
        assert!(!r.failures().is_empty());
        let a = verify_attestation(input, &d, &root, None);
        assert!(a.outcome.is_err());
    }
    let r = verify_provenance(&serde_json::to_vec(&many).unwrap(), &d, &root);
    let capped = r.bundles[0]
        .attestations
        .iter()
        .filter(|a| matches!(&a.outcome, Err(VerifyError::Policy(m)) if m.contains("more than")))
        .count();
    assert_eq!(capped, 100 - mcp_audit::verify::pep740::MAX_ATTESTATIONS);
}
