//! `provenance.*` and `signatures.*`: what the attestations and the registry signature proved.

use super::packument::VersionDoc;
use super::publish::listed_provenance;
use super::{no_security_metadata, normalize_git_url, DeriveInput, RegistryShape};
use crate::facts::{AttestationEvidence, Fact, ProvenanceFacts, SignatureEvidence, SignatureFacts};
use crate::verify::{AttestationKind, SigError, Signer, VerifyError};

const KNOWN_ISSUERS: &[&str] = &[
    "https://token.actions.githubusercontent.com",
    "https://gitlab.com",
];

pub(super) fn identity_follows_status(mut f: ProvenanceFacts) -> ProvenanceFacts {
    // When the status itself is unknown, the identity is unknown for that same reason; saying so
    // (instead of "no verified provenance") lets the report group them under one cause.
    if let Fact::Unknown { reason } = f.status.clone() {
        for field in [
            &mut f.source_repository,
            &mut f.commit,
            &mut f.git_ref,
            &mut f.ref_type,
            &mut f.workflow,
            &mut f.issuer,
            &mut f.builder,
            &mut f.runner,
        ] {
            *field = Fact::unknown(&reason);
        }
        for field in [
            &mut f.issuer_known,
            &mut f.repository_matches,
            &mut f.mcp_owner_matches,
        ] {
            *field = Fact::unknown(&reason);
        }
    }
    f
}

pub(super) fn provenance_facts(
    input: &DeriveInput<'_>,
    doc: &VersionDoc,
    shape: &RegistryShape,
    repository: Option<&str>,
    mcp_owner: Option<&str>,
) -> ProvenanceFacts {
    let att = doc.dist.attestations.as_ref();
    let unverified = || Fact::<String>::unknown("no verified provenance");
    let mut f = ProvenanceFacts {
        status: Fact::unknown("attestations were not checked"),
        legacy: false,
        failures: vec![],
        attestations_url: att.and_then(|a| a.url.clone()),
        predicate_type: att.and_then(|a| a.predicate_type.clone()),
        publish_attestation: Fact::unknown("attestations were not checked"),
        source_repository: unverified(),
        commit: unverified(),
        git_ref: unverified(),
        ref_type: unverified(),
        workflow: unverified(),
        issuer: unverified(),
        issuer_known: Fact::unknown("no verified provenance"),
        builder: unverified(),
        runner: unverified(),
        repository_matches: Fact::unknown("no verified provenance"),
        mcp_owner_matches: Fact::unknown("no verified provenance"),
    };
    let (report, keys_available) = match &input.evidence.attestations {
        AttestationEvidence::NotChecked => return f,
        AttestationEvidence::NotListed => {
            let absent = listed_provenance(input, doc, shape).map(|_| "absent".to_string());
            f.status = absent.clone();
            f.publish_attestation = absent;
            return f;
        }
        AttestationEvidence::Unavailable(reason) => {
            f.status = Fact::unknown(reason);
            f.publish_attestation = Fact::unknown(reason);
            return f;
        }
        AttestationEvidence::Checked {
            report,
            keys_available,
        } => (report, *keys_available),
    };
    if let Some(e) = &report.response_error {
        f.status = Fact::Known("invalid".into());
        f.publish_attestation = Fact::Known("invalid".into());
        f.failures = vec![e.to_string()];
        return f;
    }
    let mut failures = Vec::new();
    f.publish_attestation = match report
        .attestations
        .iter()
        .find(|a| a.kind == AttestationKind::NpmPublish)
    {
        None => Fact::Known("absent".into()),
        Some(a) => match &a.outcome {
            Ok(_) => Fact::Known("verified".into()),
            // Without the registry's keys a publish attestation cannot be judged either way.
            Err(VerifyError::Key(_)) if !keys_available => Fact::unknown(format!(
                "registry {} provides no signing keys",
                input.registry
            )),
            Err(e) => {
                failures.push(format!("{}: {e}", a.predicate_type));
                Fact::Known("invalid".into())
            }
        },
    };
    let slsa = report
        .attestations
        .iter()
        .find(|a| a.kind == AttestationKind::SlsaProvenance);
    let verified = match slsa.map(|a| (a, &a.outcome)) {
        // The packument promised a provenance attestation and the registry's document has none:
        // whatever happened, it is not evidence, and it is not a plain absence either.
        None if f.predicate_type.is_some() => {
            failures.insert(
                0,
                "the packument lists a provenance attestation but the attestations document contains none"
                    .into(),
            );
            f.status = Fact::Known("invalid".into());
            f.failures = failures;
            return f;
        }
        None => {
            f.status = Fact::Known("absent".into());
            f.failures = failures;
            return f;
        }
        Some((a, Err(e))) => {
            failures.insert(0, format!("{}: {e}", a.predicate_type));
            f.predicate_type = Some(a.predicate_type.clone());
            f.status = Fact::Known("invalid".into());
            f.failures = failures;
            return f;
        }
        Some((a, Ok(v))) => {
            f.predicate_type = Some(a.predicate_type.clone());
            f.legacy = a.legacy;
            v
        }
    };
    f.failures = failures;
    f.status = Fact::Known(
        if f.legacy {
            "legacy-verified"
        } else {
            "verified"
        }
        .into(),
    );
    let cert = match &verified.signer {
        Signer::Certificate(c) => Some(c.as_ref()),
        Signer::RegistryKey(_) => None,
    };
    let pred = verified.predicate_identity.as_ref();
    let pick = |a: Option<&String>, b: Option<&String>, what: &str| -> Fact<String> {
        match a.or(b) {
            Some(v) => Fact::Known(v.clone()),
            None => Fact::unknown(format!("the verified provenance does not state the {what}")),
        }
    };
    let repo = cert
        .and_then(|c| c.source_repository_uri.as_ref())
        .or(pred.and_then(|p| p.source_uri.as_ref()))
        .and_then(|r| normalize_git_url(r));
    f.source_repository = match &repo {
        Some(r) => Fact::Known(r.clone()),
        None => Fact::unknown("the verified provenance does not state the source repository"),
    };
    f.commit = pick(
        cert.and_then(|c| c.source_repository_digest.as_ref()),
        pred.and_then(|p| p.source_digest.as_ref()),
        "commit",
    );
    f.git_ref = pick(
        cert.and_then(|c| c.source_repository_ref.as_ref()),
        pred.and_then(|p| p.workflow_ref.as_ref()),
        "git ref",
    );
    f.ref_type = f.git_ref.map(|r| {
        if r.starts_with("refs/tags/") {
            "tag".to_string()
        } else if r.starts_with("refs/heads/") {
            "branch".to_string()
        } else {
            "other".to_string()
        }
    });
    f.workflow = pick(
        cert.and_then(|c| c.build_config_uri.as_ref()),
        pred.and_then(|p| p.workflow_path.as_ref()),
        "workflow",
    );
    f.issuer = pick(cert.and_then(|c| c.issuer.as_ref()), None, "OIDC issuer");
    f.issuer_known = f.issuer.map(|i| KNOWN_ISSUERS.contains(&i.as_str()));
    f.builder = pick(pred.and_then(|p| p.builder_id.as_ref()), None, "builder");
    // Certificates before mid-2023 carry no runner-environment extension; npm's builder id
    // (`…/github-hosted`) says the same thing, so fall back to it.
    f.runner = match cert.and_then(|c| c.runner_environment.clone()).or_else(|| {
        pred.and_then(|p| p.builder_id.as_deref())
            .and_then(|b| b.rsplit('/').next())
            .filter(|tail| *tail == "github-hosted" || *tail == "self-hosted")
            .map(str::to_string)
    }) {
        Some(r) => Fact::Known(r),
        None => Fact::unknown("the provenance does not say whether the runner was self-hosted"),
    };
    f.repository_matches = match (&repo, repository) {
        (Some(a), Some(b)) => Fact::Known(a.eq_ignore_ascii_case(b)),
        (None, _) => Fact::unknown("the verified provenance does not state the source repository"),
        (_, None) => Fact::unknown("package.json declares no repository to compare with"),
    };
    f.mcp_owner_matches = match (mcp_owner, repo.as_deref().and_then(github_owner)) {
        (None, _) => Fact::unknown("mcpName is not an io.github.<owner>/… name"),
        (Some(_), None) => Fact::unknown("the provenance repository is not on GitHub"),
        (Some(m), Some(o)) => Fact::Known(m.eq_ignore_ascii_case(&o)),
    };
    f
}

fn github_owner(repo: &str) -> Option<String> {
    repo.strip_prefix("https://github.com/")?
        .split('/')
        .next()
        .filter(|o| !o.is_empty())
        .map(str::to_string)
}

/// `io.github.<owner>/<name>` is the MCP registry's namespace for servers verified by GitHub
/// login; other reverse-DNS names are verified by domain and say nothing about GitHub.
pub(crate) fn mcp_github_owner(mcp_name: &str) -> Option<String> {
    mcp_name
        .strip_prefix("io.github.")?
        .split('/')
        .next()
        .filter(|o| !o.is_empty())
        .map(str::to_string)
}

pub(super) fn signature_facts(input: &DeriveInput<'_>, shape: &RegistryShape) -> SignatureFacts {
    let mut f = SignatureFacts {
        status: Fact::unknown("signatures were not checked"),
        keyid: None,
        detail: None,
    };
    match &input.evidence.signature {
        SignatureEvidence::NotChecked => {}
        SignatureEvidence::NotPresent => {
            f.status = if shape.serves_signatures {
                Fact::Known("absent".into())
            } else {
                Fact::unknown(no_security_metadata(input.registry))
            }
        }
        SignatureEvidence::NoKeys(reason) => f.status = Fact::unknown(reason),
        SignatureEvidence::Checked { keyid, result } => {
            f.keyid = Some(keyid.clone());
            f.status = Fact::Known(
                match result {
                    Ok(()) => "verified",
                    Err(SigError::MissingKey { .. }) => "missing-key",
                    Err(SigError::ExpiredKey { .. }) => "expired-key",
                    Err(SigError::InvalidSignature { .. }) => "invalid",
                }
                .into(),
            );
            f.detail = result.as_ref().err().map(|e| e.to_string());
        }
    }
    f
}
