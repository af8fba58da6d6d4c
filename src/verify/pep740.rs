//! PEP 740 attestations for Python distributions, verified offline.
//!
//! PyPI's Integrity API serves a *provenance object* per file:
//! `{version: 1, attestation_bundles: [{publisher, attestations: [attestation, ...]}]}`. Each
//! attestation is `{version: 1, verification_material: {certificate, transparency_entries},
//! envelope: {statement, signature}}`: a Sigstore DSSE bundle taken apart. This module puts each
//! one back together as a Sigstore bundle v0.3 and verifies it with the same sigstore-verify
//! verifier as npm provenance (DSSE signature, Fulcio chain to the given trusted root, Rekor
//! entry), then applies pypi-attestations' `Attestation.verify` checks (exactly one subject,
//! whose name is the distribution's filename and whose sha256 is the file's; a predicate type
//! PyPI knows) and its `Publisher` policies (the Trusted Publisher named next to the
//! attestations must be the identity in the certificate).
//!
//! Nothing here touches the network; nothing here panics on any input.
use std::collections::BTreeSet;

use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sigstore_verify::types::{ArtifactDigest, Bundle, HashAlgorithm};
use sigstore_verify::{VerificationPolicy, Verifier};
use x509_cert::der::Decode;

use super::encoding::{b64, hex, unhex};
use super::error::{bail, Result, VerifyError};
use super::identity::{CertIdentity, PredicateIdentity};
use super::npm::map_sigstore_error;
use super::TrustedRoot;
use crate::content::python::{normalize_version, parse_dist_filename, DistFilename};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// PyPI's publish attestation: "this Trusted Publisher uploaded this file".
pub const PYPI_PUBLISH_V1: &str = "https://docs.pypi.org/attestations/publish/v1";
pub use super::npm::SLSA_PROVENANCE_V1;

/// The distribution the attestations must be about: its filename as the index lists it and the
/// sha256 of the bytes that were downloaded (or that the index states, when the caller has
/// checked the download against it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistFile {
    pub filename: String,
    pub sha256: [u8; 32],
}

impl DistFile {
    pub fn new(filename: &str, sha256: [u8; 32]) -> Self {
        DistFile {
            filename: filename.to_string(),
            sha256,
        }
    }

    /// Hash `bytes` as the distribution's content.
    pub fn from_bytes(filename: &str, bytes: &[u8]) -> Self {
        DistFile::new(filename, Sha256::digest(bytes).into())
    }
}

/// The Trusted Publisher an attestation bundle claims (the provenance object's `publisher`).
/// Kinds are kept apart: a Google service account is never compared with a GitHub repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustedPublisher {
    GitHub {
        /// `owner/repo`.
        repository: String,
        /// Workflow file name, e.g. `release.yml`.
        workflow: String,
        environment: Option<String>,
    },
    GitLab {
        /// `namespace/project` (subgroups included).
        repository: String,
        /// CI file path, usually `.gitlab-ci.yml`.
        workflow_filepath: String,
        environment: Option<String>,
    },
    Google {
        /// The service account that published.
        email: String,
    },
    ActiveState {
        organization: Option<String>,
        project: Option<String>,
        actor: Option<String>,
    },
    /// A kind this tool has no certificate policy for (e.g. `CircleCI`): shown, never matched.
    Other { kind: String },
}

impl TrustedPublisher {
    /// The source repository the publisher names, as a URL to compare with the project's URLs;
    /// `None` for kinds that name no repository (Google, ActiveState, others).
    pub fn repository_url(&self) -> Option<String> {
        match self {
            TrustedPublisher::GitHub { repository, .. } => {
                Some(format!("https://github.com/{repository}"))
            }
            TrustedPublisher::GitLab { repository, .. } => {
                Some(format!("https://gitlab.com/{repository}"))
            }
            _ => None,
        }
    }

    /// The `kind` string as PyPI writes it.
    pub fn kind(&self) -> &str {
        match self {
            TrustedPublisher::GitHub { .. } => "GitHub",
            TrustedPublisher::GitLab { .. } => "GitLab",
            TrustedPublisher::Google { .. } => "Google",
            TrustedPublisher::ActiveState { .. } => "ActiveState",
            TrustedPublisher::Other { kind } => kind,
        }
    }
}

/// Whether the claimed Trusted Publisher is the identity the certificate vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublisherMatch {
    /// The certificate satisfies the publisher's policy (as pypi-attestations defines it).
    Matches,
    /// The certificate names someone else; the reason says which claim differs.
    Mismatch(String),
    /// Not decided: no publisher was given, the signature did not verify, or there is no policy
    /// for this kind. Unknown, never a pass.
    NotChecked(String),
}

/// What a verified attestation establishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPep740 {
    /// `https://docs.pypi.org/attestations/publish/v1` or `https://slsa.dev/provenance/v1`.
    pub predicate_type: String,
    /// The statement's subject name (the distribution filename as signed).
    pub subject: String,
    /// Identity from the Fulcio certificate, which the chain and Rekor entry vouch for.
    pub certificate: CertIdentity,
    /// Rekor integrated time, Unix seconds.
    pub integrated_time: i64,
    /// For SLSA provenance: what the build says about itself.
    pub predicate_identity: Option<PredicateIdentity>,
}

/// One attestation's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pep740Attestation {
    /// The statement's `predicateType` when it could be read, verified or not.
    pub predicate_type: Option<String>,
    pub outcome: Result<VerifiedPep740, VerifyError>,
    pub publisher_match: PublisherMatch,
}

impl Pep740Attestation {
    /// Verified, and the publisher matched the certificate.
    pub fn is_verified(&self) -> bool {
        self.outcome.is_ok() && self.publisher_match == PublisherMatch::Matches
    }
}

/// One `attestation_bundles[]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pep740Bundle {
    /// `None` when the `publisher` object is missing or unreadable (`publisher_error` says why).
    pub publisher: Option<TrustedPublisher>,
    pub publisher_error: Option<String>,
    pub attestations: Vec<Pep740Attestation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProvenanceReport {
    /// Set when the provenance object itself is unusable (not JSON, wrong version, no bundles);
    /// then `bundles` is empty.
    pub error: Option<VerifyError>,
    pub bundles: Vec<Pep740Bundle>,
}

impl ProvenanceReport {
    fn failed(e: VerifyError) -> Self {
        ProvenanceReport {
            error: Some(e),
            bundles: Vec::new(),
        }
    }

    /// Every bundle has a readable publisher and at least one attestation, and every
    /// attestation verified with its publisher matching the certificate.
    pub fn all_verified(&self) -> bool {
        self.error.is_none()
            && !self.bundles.is_empty()
            && self.bundles.iter().all(|b| {
                b.publisher.is_some()
                    && !b.attestations.is_empty()
                    && b.attestations.iter().all(|a| a.is_verified())
            })
    }

    /// The Trusted Publisher of the first bundle in which some attestation verified and matched
    /// it; that is the publisher the file is proven to come from.
    pub fn publisher(&self) -> Option<&TrustedPublisher> {
        self.bundles
            .iter()
            .find(|b| b.attestations.iter().any(|a| a.is_verified()))
            .and_then(|b| b.publisher.as_ref())
    }

    /// One line per problem, for display.
    pub fn failures(&self) -> Vec<String> {
        let mut out: Vec<String> = self.error.iter().map(|e| e.to_string()).collect();
        for (i, b) in self.bundles.iter().enumerate() {
            if let Some(e) = &b.publisher_error {
                out.push(format!("bundle {}: publisher: {e}", i + 1));
            }
            if b.attestations.is_empty() {
                out.push(format!("bundle {}: no attestations", i + 1));
            }
            for (j, a) in b.attestations.iter().enumerate() {
                let what = a.predicate_type.as_deref().unwrap_or("attestation");
                match (&a.outcome, &a.publisher_match) {
                    (Err(e), _) => out.push(format!("bundle {} #{}: {what}: {e}", i + 1, j + 1)),
                    (Ok(_), PublisherMatch::Matches) => {}
                    (Ok(_), PublisherMatch::Mismatch(why)) => out.push(format!(
                        "bundle {} #{}: {what}: publisher does not match the certificate: {why}",
                        i + 1,
                        j + 1
                    )),
                    (Ok(_), PublisherMatch::NotChecked(why)) => out.push(format!(
                        "bundle {} #{}: {what}: publisher not checked: {why}",
                        i + 1,
                        j + 1
                    )),
                }
            }
        }
        out
    }
}

/// Provenance objects larger than this are not parsed: a real one holds a few attestations of
/// about 10 KiB each.
pub const MAX_PROVENANCE_BYTES: usize = 4 * 1024 * 1024;
/// Attestations verified per provenance object; the rest are reported, not verified, so one
/// hostile document cannot cost unbounded signature checks.
pub const MAX_ATTESTATIONS: usize = 32;

const IN_TOTO: &str = "application/vnd.in-toto+json";
const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
const GITLAB_ISSUER: &str = "https://gitlab.com";
const GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// Verify a PEP 740 provenance object (as the Integrity API serves it) for `dist`.
pub fn verify_provenance(
    provenance_json: &[u8],
    dist: &DistFile,
    root: &TrustedRoot,
) -> ProvenanceReport {
    if provenance_json.len() > MAX_PROVENANCE_BYTES {
        return ProvenanceReport::failed(VerifyError::Malformed(format!(
            "provenance object is {} bytes, over the {MAX_PROVENANCE_BYTES}-byte limit",
            provenance_json.len()
        )));
    }
    let doc: Value = match serde_json::from_slice(provenance_json) {
        Ok(v) => v,
        Err(e) => {
            return ProvenanceReport::failed(VerifyError::Malformed(format!(
                "provenance object is not JSON ({e})"
            )))
        }
    };
    if !doc.is_object() {
        return ProvenanceReport::failed(VerifyError::Malformed(
            "provenance is not a JSON object".into(),
        ));
    }
    if doc["version"] != 1 {
        return ProvenanceReport::failed(VerifyError::Unsupported(format!(
            "provenance version {}, want 1",
            doc["version"]
        )));
    }
    let Some(bundles) = doc["attestation_bundles"].as_array() else {
        return ProvenanceReport::failed(VerifyError::Malformed(
            "provenance has no `attestation_bundles` array".into(),
        ));
    };
    if bundles.is_empty() {
        return ProvenanceReport::failed(VerifyError::Malformed(
            "provenance lists no attestation bundles".into(),
        ));
    }
    let verifier = match Verifier::new(&root.0) {
        Ok(v) => v,
        Err(e) => return ProvenanceReport::failed(VerifyError::TrustRoot(e.to_string())),
    };
    let mut budget = MAX_ATTESTATIONS;
    let bundles = bundles
        .iter()
        .map(|b| {
            let (publisher, publisher_error) = match parse_publisher(&b["publisher"]) {
                Ok(p) => (Some(p), None),
                Err(e) => (None, Some(e)),
            };
            let attestations = match b["attestations"].as_array() {
                Some(list) => list
                    .iter()
                    .map(|att| {
                        if budget == 0 {
                            return Pep740Attestation {
                                predicate_type: None,
                                outcome: Err(VerifyError::Policy(format!(
                                    "more than {MAX_ATTESTATIONS} attestations; not verified"
                                ))),
                                publisher_match: PublisherMatch::NotChecked("not verified".into()),
                            };
                        }
                        budget -= 1;
                        verify_value(att, dist, &verifier, publisher.as_ref(), true)
                    })
                    .collect(),
                None => Vec::new(),
            };
            let publisher_error = publisher_error.or_else(|| {
                (!b["attestations"].is_array())
                    .then(|| "bundle has no `attestations` array".to_string())
            });
            Pep740Bundle {
                publisher,
                publisher_error,
                attestations,
            }
        })
        .collect();
    ProvenanceReport {
        error: None,
        bundles,
    }
}

/// Verify one PEP 740 attestation object (a `.attestation` file) for `dist`. With `publisher`
/// the certificate must also satisfy that Trusted Publisher's policy; without, the publisher
/// match is `NotChecked`.
pub fn verify_attestation(
    attestation_json: &[u8],
    dist: &DistFile,
    root: &TrustedRoot,
    publisher: Option<&TrustedPublisher>,
) -> Pep740Attestation {
    let fail = |e: VerifyError| Pep740Attestation {
        predicate_type: None,
        outcome: Err(e),
        publisher_match: PublisherMatch::NotChecked("not verified".into()),
    };
    if attestation_json.len() > MAX_PROVENANCE_BYTES {
        return fail(VerifyError::Malformed(format!(
            "attestation is {} bytes, over the {MAX_PROVENANCE_BYTES}-byte limit",
            attestation_json.len()
        )));
    }
    let att: Value = match serde_json::from_slice(attestation_json) {
        Ok(v) => v,
        Err(e) => {
            return fail(VerifyError::Malformed(format!(
                "attestation is not JSON ({e})"
            )))
        }
    };
    let verifier = match Verifier::new(&root.0) {
        Ok(v) => v,
        Err(e) => return fail(VerifyError::TrustRoot(e.to_string())),
    };
    verify_value(&att, dist, &verifier, publisher, false)
}

/// Read a provenance `publisher` object. Unknown kinds are kept as `Other`, not rejected: the
/// attestation can still verify, only the publisher stays unchecked.
fn parse_publisher(v: &Value) -> Result<TrustedPublisher, String> {
    if !v.is_object() {
        return Err("missing or not an object".into());
    }
    let kind = v["kind"]
        .as_str()
        .ok_or_else(|| "no `kind` string".to_string())?;
    let req = |key: &str| -> Result<String, String> {
        match v[key].as_str() {
            Some(s) if !s.is_empty() => Ok(s.to_string()),
            _ => Err(format!("{kind} publisher has no `{key}`")),
        }
    };
    let opt = |key: &str| {
        v[key]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Ok(match kind {
        "GitHub" => TrustedPublisher::GitHub {
            repository: req("repository")?,
            workflow: req("workflow")?,
            environment: opt("environment"),
        },
        "GitLab" => TrustedPublisher::GitLab {
            repository: req("repository")?,
            workflow_filepath: req("workflow_filepath")?,
            environment: opt("environment"),
        },
        "Google" => TrustedPublisher::Google {
            email: req("email")?,
        },
        "ActiveState" => TrustedPublisher::ActiveState {
            organization: opt("organization"),
            project: opt("project_name").or_else(|| opt("project")),
            actor: opt("actor"),
        },
        other => TrustedPublisher::Other {
            kind: other.chars().take(64).collect(),
        },
    })
}

fn verify_value(
    att: &Value,
    dist: &DistFile,
    verifier: &Verifier,
    publisher: Option<&TrustedPublisher>,
    in_provenance: bool,
) -> Pep740Attestation {
    let mut predicate_type = None;
    let outcome = verify_inner(att, dist, verifier, &mut predicate_type);
    let publisher_match = match (&outcome, publisher) {
        (Err(_), _) => PublisherMatch::NotChecked("the attestation did not verify".into()),
        (Ok(_), None) if in_provenance => {
            PublisherMatch::NotChecked("the bundle's publisher could not be read".into())
        }
        (Ok(_), None) => PublisherMatch::NotChecked("no publisher given".into()),
        (Ok((_, der)), Some(p)) => match_publisher(p, der),
    };
    Pep740Attestation {
        predicate_type,
        outcome: outcome.map(|(v, _)| v),
        publisher_match,
    }
}

/// The attestation, verified, with the leaf certificate's DER for the publisher policy.
fn verify_inner(
    att: &Value,
    dist: &DistFile,
    verifier: &Verifier,
    predicate_out: &mut Option<String>,
) -> Result<(VerifiedPep740, Vec<u8>)> {
    if !att.is_object() {
        bail!(Malformed, "attestation is not a JSON object");
    }
    if att["version"] != 1 {
        bail!(
            Unsupported,
            "attestation version {}, want 1",
            att["version"]
        );
    }
    let vm = &att["verification_material"];
    let cert_der = b64(
        "verification_material.certificate",
        vm["certificate"].as_str().ok_or_else(|| {
            VerifyError::Malformed("attestation has no verification_material.certificate".into())
        })?,
    )?;
    x509_cert::Certificate::from_der(&cert_der)
        .map_err(|e| VerifyError::Certificate(format!("invalid X.509 certificate ({e})")))?;
    // pypi-attestations requires at least one entry and verifies the first.
    let entry = vm["transparency_entries"]
        .as_array()
        .and_then(|a| a.first())
        .filter(|e| e.is_object())
        .ok_or_else(|| VerifyError::Malformed("attestation has no transparency_entries".into()))?;
    let env = &att["envelope"];
    let statement = b64(
        "envelope.statement",
        env["statement"].as_str().ok_or_else(|| {
            VerifyError::Malformed("attestation has no envelope.statement".into())
        })?,
    )?;
    let signature = b64(
        "envelope.signature",
        env["signature"].as_str().ok_or_else(|| {
            VerifyError::Malformed("attestation has no envelope.signature".into())
        })?,
    )?;

    // Read (never re-encode) the signed statement: its subject digest is what the signature is
    // bound to below.
    let stmt: Value = serde_json::from_slice(&statement)
        .map_err(|e| VerifyError::Malformed(format!("in-toto statement is not JSON ({e})")))?;
    if !stmt.is_object() {
        bail!(Malformed, "in-toto statement is not a JSON object");
    }
    *predicate_out = stmt["predicateType"]
        .as_str()
        .map(|s| s.chars().take(200).collect());
    let subjects = stmt["subject"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if subjects.len() != 1 {
        bail!(
            Subject,
            "statement has {} subjects, must have exactly one",
            subjects.len()
        );
    }
    let subject = &subjects[0];
    let subject_name = subject["name"].as_str().unwrap_or_default();
    if subject_name.is_empty() {
        bail!(Subject, "invalid subject: missing name");
    }
    let subject_sha256 = subject["digest"]["sha256"]
        .as_str()
        .ok_or_else(|| VerifyError::Subject("subject has no sha256 digest".into()))?;
    let subject_digest = unhex("subject sha256", subject_sha256)?;
    let artifact = ArtifactDigest::new(HashAlgorithm::Sha2256, subject_digest.clone())
        .map_err(|e| VerifyError::Subject(format!("subject sha256: {e}")))?;

    let bundle_json = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "certificate": {"rawBytes": B64.encode(&cert_der)},
            "tlogEntries": [entry],
        },
        "dsseEnvelope": {
            "payload": B64.encode(&statement),
            "payloadType": IN_TOTO,
            "signatures": [{"sig": B64.encode(&signature), "keyid": ""}],
        },
    });
    let bundle: Bundle = serde_json::from_value(bundle_json)
        .map_err(|e| VerifyError::Malformed(format!("transparency entry: {e}")))?;
    let res = verifier
        .verify(artifact, &bundle, &VerificationPolicy::any_identity())
        .map_err(map_sigstore_error)?;
    let cert = res
        .certificate()
        .ok_or_else(|| VerifyError::Certificate("verified bundle has no certificate".into()))?;
    let integrated_time = res
        .integrated_time()
        .map(|t| t.as_second())
        .ok_or_else(|| VerifyError::Tlog("no verified integrated time".into()))?;

    // The signature holds; now, is the statement about this file?
    let predicate_type = check_statement(&stmt, dist)?;
    let predicate_identity = PredicateIdentity::from_statement(predicate_type, &stmt);
    Ok((
        VerifiedPep740 {
            predicate_type: predicate_type.to_string(),
            subject: subject_name.to_string(),
            certificate: CertIdentity::from_cert(cert),
            integrated_time,
            predicate_identity,
        },
        cert_der,
    ))
}

/// pypi-attestations' checks on the signed statement (`Attestation.verify` after
/// `verify_dsse`): an in-toto v1 statement with exactly one subject whose filename parses to the
/// distribution's and whose sha256 is the file's, and a predicate type PyPI knows. Returns the
/// predicate type.
fn check_statement<'a>(stmt: &'a Value, dist: &DistFile) -> Result<&'a str> {
    if stmt["_type"] != "https://in-toto.io/Statement/v1" {
        bail!(
            Unsupported,
            "in-toto statement _type {}, want https://in-toto.io/Statement/v1",
            stmt["_type"]
        );
    }
    let subjects = stmt["subject"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if subjects.len() != 1 {
        bail!(
            Subject,
            "statement has {} subjects, must have exactly one",
            subjects.len()
        );
    }
    let subject_name = subjects[0]["name"].as_str().unwrap_or_default();
    if subject_name.is_empty() {
        bail!(Subject, "invalid subject: missing name");
    }
    let parsed_subject = parse_dist_filename(subject_name)
        .map_err(|e| VerifyError::Subject(format!("invalid subject: {e}")))?;
    let parsed_dist = parse_dist_filename(&dist.filename)
        .map_err(|e| VerifyError::Subject(format!("invalid distribution filename: {e}")))?;
    if !same_distribution(&parsed_subject, &parsed_dist) {
        bail!(
            Subject,
            "subject does not match distribution name: {subject_name} != {}",
            dist.filename
        );
    }
    let digest = subjects[0]["digest"]["sha256"].as_str().unwrap_or_default();
    if unhex("subject sha256", digest).ok().as_deref() != Some(&dist.sha256[..]) {
        bail!(
            Subject,
            "subject sha256 {digest:?} does not match the distribution's sha256 {}",
            hex(&dist.sha256)
        );
    }
    let predicate_type = stmt["predicateType"].as_str().unwrap_or_default();
    if predicate_type != PYPI_PUBLISH_V1 && predicate_type != SLSA_PROVENANCE_V1 {
        bail!(Unsupported, "unknown attestation type: {predicate_type:?}");
    }
    Ok(predicate_type)
}

/// pypi-attestations compares parsed filenames: normalised name and version, and for wheels
/// the build tag and the set of expanded tags.
fn same_distribution(a: &DistFilename, b: &DistFilename) -> bool {
    let tags = |d: &DistFilename| -> BTreeSet<String> { expand_tags(&d.tags) };
    a.normalized_name == b.normalized_name
        && normalize_version(&a.version) == normalize_version(&b.version)
        && a.build == b.build
        && tags(a) == tags(b)
        && a.tags.is_empty() == b.tags.is_empty()
}

fn expand_tags(tags: &[String]) -> BTreeSet<String> {
    tags.iter().map(|t| t.to_ascii_lowercase()).collect()
}

/// A Fulcio extension (`1.3.6.1.4.1.57264.1.<n>`) as a string: DER UTF8String for .8 onwards,
/// raw bytes for the deprecated ones.
fn fulcio_ext(cert: &x509_cert::Certificate, n: u32) -> Option<String> {
    let want = format!("1.3.6.1.4.1.57264.1.{n}");
    let ext = cert
        .tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id.to_string() == want)?;
    let raw = ext.extn_value.as_bytes();
    if n >= 8 {
        x509_cert::der::asn1::Utf8StringRef::from_der(raw)
            .ok()
            .map(|s| s.as_str().to_string())
    } else {
        std::str::from_utf8(raw).ok().map(str::to_string)
    }
}

/// pypi-attestations' `Publisher` policies, claim for claim.
///
/// The claims are read from the certificate here rather than taken from `CertIdentity`, which
/// falls back to the deprecated extensions (.1.1 issuer, .1.5 repository...): these policies
/// read the v2 claims only, as pypi-attestations' do. One parse serves every claim read.
fn match_publisher(p: &TrustedPublisher, cert_der: &[u8]) -> PublisherMatch {
    let cert = x509_cert::Certificate::from_der(cert_der).ok();
    let ext = |n| cert.as_ref().and_then(|c| fulcio_ext(c, n));
    let issuer_v2 = ext(8);
    let mismatch = |what: &str, want: &str, got: Option<String>| {
        PublisherMatch::Mismatch(format!(
            "certificate {what} is {}, the publisher needs {want}",
            got.map(|g| format!("{g:?}"))
                .unwrap_or_else(|| "absent".into())
        ))
    };
    match p {
        TrustedPublisher::GitHub {
            repository,
            workflow,
            ..
        } => {
            if issuer_v2.as_deref() != Some(GITHUB_ISSUER) {
                return mismatch("OIDC issuer (v2)", GITHUB_ISSUER, issuer_v2);
            }
            let repo_uri = format!("https://github.com/{repository}");
            let src = ext(12);
            if src.as_deref() != Some(repo_uri.as_str()) {
                return mismatch("source repository URI", &repo_uri, src);
            }
            let suffixes: Vec<String> = [ext(13), ext(14)].into_iter().flatten().collect();
            if suffixes.is_empty() {
                return PublisherMatch::Mismatch(
                    "certificate has neither Source Repository Digest nor Source Repository Ref"
                        .into(),
                );
            }
            let build_config = ext(18);
            let ok = suffixes.iter().any(|sfx| {
                build_config.as_deref()
                    == Some(&format!("{repo_uri}/.github/workflows/{workflow}@{sfx}")[..])
            });
            if ok {
                PublisherMatch::Matches
            } else {
                PublisherMatch::Mismatch(format!(
                    "certificate's Build Config URI ({}) does not match the Trusted Publisher \
                     ({workflow} @ {repository})",
                    build_config.unwrap_or_else(|| "absent".into())
                ))
            }
        }
        TrustedPublisher::GitLab {
            repository,
            workflow_filepath,
            ..
        } => {
            if issuer_v2.as_deref() != Some(GITLAB_ISSUER) {
                return mismatch("OIDC issuer (v2)", GITLAB_ISSUER, issuer_v2);
            }
            let repo_uri = format!("https://gitlab.com/{repository}");
            let src = ext(12);
            if src.as_deref() != Some(repo_uri.as_str()) {
                return mismatch("source repository URI", &repo_uri, src);
            }
            // pypi-attestations requires both claims here (unlike GitHub).
            let (Some(sha), Some(git_ref)) = (ext(13), ext(14)) else {
                return PublisherMatch::Mismatch(
                    "certificate lacks Source Repository Digest or Source Repository Ref".into(),
                );
            };
            let build_config = ext(18);
            let ok = [sha, git_ref].iter().any(|sfx| {
                build_config.as_deref()
                    == Some(&format!("{repo_uri}//{workflow_filepath}@{sfx}")[..])
            });
            if ok {
                PublisherMatch::Matches
            } else {
                PublisherMatch::Mismatch(format!(
                    "certificate's Build Config URI ({}) does not match the Trusted Publisher \
                     ({workflow_filepath} @ {repository})",
                    build_config.unwrap_or_else(|| "absent".into())
                ))
            }
        }
        TrustedPublisher::Google { email } => {
            // sigstore-python's Identity policy: the issuer claim and the SAN.
            let issuer = issuer_v2.or_else(|| ext(1));
            if issuer.as_deref() != Some(GOOGLE_ISSUER) {
                return mismatch("OIDC issuer", GOOGLE_ISSUER, issuer);
            }
            let sans = cert.as_ref().map(san_values).unwrap_or_default();
            if sans.iter().any(|s| s == email) {
                PublisherMatch::Matches
            } else {
                PublisherMatch::Mismatch(format!(
                    "certificate identity {sans:?} is not the publisher's service account {email}"
                ))
            }
        }
        // pypi-attestations (checked at its newest commit, 2025-08) verifies GitHub, GitLab and
        // Google publishers only, and no published mapping ties an ActiveState organization,
        // project and actor to Fulcio certificate extensions: a match here would be invented.
        TrustedPublisher::ActiveState { .. } => PublisherMatch::NotChecked(
            "no certificate policy for ActiveState publishers (pypi-attestations has none)".into(),
        ),
        TrustedPublisher::Other { kind } => {
            PublisherMatch::NotChecked(format!("no certificate policy for publisher kind {kind:?}"))
        }
    }
}

/// Email and URI subject alternative names of the certificate.
fn san_values(cert: &x509_cert::Certificate) -> Vec<String> {
    use x509_cert::ext::pkix::name::GeneralName;
    use x509_cert::ext::pkix::SubjectAltName;
    let Ok(Some((_, san))) = cert.tbs_certificate.get::<SubjectAltName>() else {
        return Vec::new();
    };
    san.0
        .iter()
        .filter_map(|n| match n {
            GeneralName::Rfc822Name(s) => Some(s.as_str().to_string()),
            GeneralName::UniformResourceIdentifier(s) => Some(s.as_str().to_string()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(subjects: Value, predicate: &str) -> Value {
        json!({"_type": "https://in-toto.io/Statement/v1", "subject": subjects,
               "predicateType": predicate, "predicate": null})
    }

    fn subject(name: &str, digest: &[u8; 32]) -> Value {
        json!({"name": name, "digest": {"sha256": hex(digest)}})
    }

    // These run on statements that were never signed: the checks that follow a good signature,
    // which tampering with a real attestation cannot reach (the signature breaks first).
    #[test]
    fn statement_checks_after_the_signature() {
        let d = DistFile::new("sampleproject-1.0-py3-none-any.whl", [7; 32]);
        let ok = stmt(json!([subject(&d.filename, &d.sha256)]), PYPI_PUBLISH_V1);
        assert_eq!(check_statement(&ok, &d).unwrap(), PYPI_PUBLISH_V1);
        let slsa = stmt(json!([subject(&d.filename, &d.sha256)]), SLSA_PROVENANCE_V1);
        assert!(check_statement(&slsa, &d).is_ok());
        // Same wheel, other spellings packaging parses identically.
        let alt = stmt(
            json!([subject("SampleProject-1.0.0-py3-none-any.whl", &d.sha256)]),
            PYPI_PUBLISH_V1,
        );
        assert!(check_statement(&alt, &d).is_ok());

        let two = stmt(
            json!([
                subject(&d.filename, &d.sha256),
                subject(&d.filename, &d.sha256)
            ]),
            PYPI_PUBLISH_V1,
        );
        assert!(
            matches!(check_statement(&two, &d), Err(VerifyError::Subject(m)) if m.contains("2 subjects"))
        );
        let none = stmt(json!([]), PYPI_PUBLISH_V1);
        assert!(check_statement(&none, &d).is_err());
        let unknown = stmt(
            json!([subject(&d.filename, &d.sha256)]),
            "https://example.com/x/v1",
        );
        assert!(
            matches!(check_statement(&unknown, &d), Err(VerifyError::Unsupported(m)) if m.contains("unknown attestation type"))
        );
        let npm = stmt(
            json!([subject(&d.filename, &d.sha256)]),
            "https://slsa.dev/provenance/v0.2",
        );
        assert!(check_statement(&npm, &d).is_err());
        let name = stmt(
            json!([subject("sampleproject-1.1-py3-none-any.whl", &d.sha256)]),
            PYPI_PUBLISH_V1,
        );
        assert!(
            matches!(check_statement(&name, &d), Err(VerifyError::Subject(m)) if m.contains("distribution name"))
        );
        let tags = stmt(
            json!([subject(
                "sampleproject-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
                &d.sha256
            )]),
            PYPI_PUBLISH_V1,
        );
        assert!(check_statement(&tags, &d).is_err());
        let sdist = stmt(
            json!([subject("sampleproject-1.0.tar.gz", &d.sha256)]),
            PYPI_PUBLISH_V1,
        );
        assert!(check_statement(&sdist, &d).is_err());
        let invalid = stmt(
            json!([subject("sampleproject.whl", &d.sha256)]),
            PYPI_PUBLISH_V1,
        );
        assert!(
            matches!(check_statement(&invalid, &d), Err(VerifyError::Subject(m)) if m.contains("invalid subject"))
        );
        let digest = stmt(json!([subject(&d.filename, &[8; 32])]), PYPI_PUBLISH_V1);
        assert!(
            matches!(check_statement(&digest, &d), Err(VerifyError::Subject(m)) if m.contains("sha256"))
        );
        let mut old = ok.clone();
        old["_type"] = json!("https://in-toto.io/Statement/v0.1");
        assert!(check_statement(&old, &d).is_err());
    }

    #[test]
    fn publisher_objects() {
        let gh = parse_publisher(&json!({"kind": "GitHub", "repository": "o/r", "workflow": "w.yml", "environment": null})).unwrap();
        assert_eq!(
            gh,
            TrustedPublisher::GitHub {
                repository: "o/r".into(),
                workflow: "w.yml".into(),
                environment: None
            }
        );
        assert!(parse_publisher(&json!({"kind": "GitHub", "repository": "o/r"})).is_err());
        assert!(parse_publisher(&json!({"repository": "o/r"})).is_err());
        assert!(parse_publisher(&json!("GitHub")).is_err());
        assert_eq!(
            gh.repository_url().as_deref(),
            Some("https://github.com/o/r")
        );
        let other = parse_publisher(&json!({"kind": "CircleCI", "project_id": "x"})).unwrap();
        assert_eq!(other.repository_url(), None);
        assert_eq!(other.kind(), "CircleCI");
        // A Google publisher never matches anything but its own policy.
        assert!(matches!(
            match_publisher(
                &TrustedPublisher::Google {
                    email: "a@b".into()
                },
                b"junk"
            ),
            PublisherMatch::Mismatch(_)
        ));
        assert!(matches!(
            match_publisher(&other, b"junk"),
            PublisherMatch::NotChecked(_)
        ));
        // ActiveState: read and shown, never matched (unknown, not a pass).
        let a = parse_publisher(&json!({"kind": "ActiveState", "organization": "acme",
            "project_name": "mcp", "actor": "bob"}))
        .unwrap();
        assert_eq!(a.kind(), "ActiveState");
        assert!(matches!(
            match_publisher(&a, b"junk"),
            PublisherMatch::NotChecked(r) if r.contains("ActiveState")
        ));
    }
}
