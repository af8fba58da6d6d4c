//! npm attestations: `GET /-/npm/v1/attestations/<name>@<version>` returns
//! `{"attestations":[{predicateType, bundle}]}` with a SLSA provenance bundle
//! (signed by a Fulcio certificate) and/or an npm publish attestation (signed
//! by a registry key named in `publicKey.hint`). sigstore-verify does the
//! Sigstore checks; this module adds what is npm-specific: key selection and
//! expiry, package binding (purl + sha512 integrity), predicate checks, the
//! legacy-bundle policy, and identity extraction.
use serde_json::Value;
use sigstore_verify::types::{ArtifactDigest, Bundle, DerPublicKey, HashAlgorithm};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, Verifier};
use x509_cert::der::Decode;

use super::encoding::{b64, fmt_time, hex, integrity_sha512, unhex};
use super::error::{bail, Result, VerifyError};
use super::identity::{CertIdentity, PredicateIdentity};
use super::registry::NpmKeys;
use super::TrustedRoot;

pub const SLSA_PROVENANCE_V02: &str = "https://slsa.dev/provenance/v0.2";
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
pub const NPM_PUBLISH_V01: &str = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1";
pub const NPM_REGISTRY: &str = "https://registry.npmjs.org";
const IN_TOTO: &str = "application/vnd.in-toto+json";

/// The package version the caller resolved from the packument. Every
/// attestation must be about exactly this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedPackage {
    pub name: String,
    pub version: String,
    /// `dist.integrity`, e.g. `sha512-<base64>`.
    pub integrity: String,
}

impl ExpectedPackage {
    pub fn new(name: &str, version: &str, integrity: &str) -> Self {
        ExpectedPackage {
            name: name.into(),
            version: version.into(),
            integrity: integrity.into(),
        }
    }

    /// `pkg:npm/<name>@<version>`, with the scope's `@` written `%40`, which
    /// is how npm writes subject names.
    pub fn purl(&self) -> String {
        let name = match self.name.strip_prefix('@') {
            Some(rest) => format!("%40{rest}"),
            None => self.name.clone(),
        };
        format!("pkg:npm/{name}@{}", self.version)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Sigstore-conformant chain policy: reject a bundle whose certificate
    /// chain includes a self-signed root. Off by default because every npm
    /// provenance bundle from 2023 (bundle v0.1) ships leaf+intermediate+root
    /// and npm itself accepts them; the trust anchor always comes from the
    /// trusted root either way, so the extra certificate grants nothing.
    pub strict: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttestationKind {
    SlsaProvenance,
    NpmPublish,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// Fulcio certificate; identity from its extensions.
    Certificate(Box<CertIdentity>),
    /// npm registry key, by keyid.
    RegistryKey(String),
}

/// What a verified attestation establishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAttestation {
    pub subject: String,
    pub signer: Signer,
    /// Rekor integrated time (Unix seconds): the time the key/cert was judged at.
    pub integrated_time: i64,
    /// Present for SLSA provenance.
    pub predicate_identity: Option<PredicateIdentity>,
    /// For npm publish attestations: the predicate's registry.
    pub registry: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationResult {
    pub predicate_type: String,
    pub kind: AttestationKind,
    /// "0.1" / "0.2" / "0.3" when the mediaType was recognised.
    pub bundle_version: Option<String>,
    /// Bundle v0.1 (2023 npm bundles: SET only, root inside the chain).
    pub legacy: bool,
    pub outcome: Result<VerifiedAttestation>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationsReport {
    /// Set when the response itself is unusable; then `attestations` is empty.
    pub response_error: Option<VerifyError>,
    pub attestations: Vec<AttestationResult>,
}

impl AttestationsReport {
    /// Every attestation verified and there was at least one.
    pub fn all_verified(&self) -> bool {
        self.response_error.is_none()
            && !self.attestations.is_empty()
            && self.attestations.iter().all(|a| a.outcome.is_ok())
    }

    /// The verified SLSA provenance, if any.
    pub fn provenance(&self) -> Option<&VerifiedAttestation> {
        self.attestations
            .iter()
            .find(|a| a.kind == AttestationKind::SlsaProvenance)
            .and_then(|a| a.outcome.as_ref().ok())
    }

    /// The verified npm publish attestation, if any.
    pub fn publish(&self) -> Option<&VerifiedAttestation> {
        self.attestations
            .iter()
            .find(|a| a.kind == AttestationKind::NpmPublish)
            .and_then(|a| a.outcome.as_ref().ok())
    }

    /// One line per failing attestation, for display.
    pub fn failures(&self) -> Vec<String> {
        let mut out: Vec<String> = self.response_error.iter().map(|e| e.to_string()).collect();
        for a in &self.attestations {
            if let Err(e) = &a.outcome {
                out.push(format!("{}: {e}", a.predicate_type));
            }
        }
        out
    }
}

/// Verify an attestations response with default options.
pub fn verify_attestations(
    response_json: &[u8],
    expected: &ExpectedPackage,
    npm_keys: &NpmKeys,
    trusted_root: &TrustedRoot,
) -> AttestationsReport {
    verify_attestations_with(
        response_json,
        expected,
        npm_keys,
        trusted_root,
        VerifyOptions::default(),
    )
}

pub fn verify_attestations_with(
    response_json: &[u8],
    expected: &ExpectedPackage,
    npm_keys: &NpmKeys,
    trusted_root: &TrustedRoot,
    opts: VerifyOptions,
) -> AttestationsReport {
    let fail = |e: VerifyError| AttestationsReport {
        response_error: Some(e),
        attestations: vec![],
    };
    let doc: Value = match serde_json::from_slice(response_json) {
        Ok(v) => v,
        Err(e) => {
            return fail(VerifyError::Malformed(format!(
                "attestations response JSON: {e}"
            )))
        }
    };
    let Some(list) = doc["attestations"].as_array() else {
        return fail(VerifyError::Malformed(
            "response has no `attestations` array".into(),
        ));
    };
    if list.is_empty() {
        return fail(VerifyError::Malformed(
            "response lists no attestations".into(),
        ));
    }
    let integrity = match integrity_sha512(&expected.integrity) {
        Ok(d) => d,
        Err(e) => return fail(e),
    };
    let verifier = match Verifier::new(&trusted_root.0) {
        Ok(v) => v,
        Err(e) => return fail(VerifyError::TrustRoot(e.to_string())),
    };
    let attestations = list
        .iter()
        .map(|att| {
            let predicate_type = att["predicateType"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let kind = match predicate_type.as_str() {
                SLSA_PROVENANCE_V02 | SLSA_PROVENANCE_V1 => AttestationKind::SlsaProvenance,
                NPM_PUBLISH_V01 => AttestationKind::NpmPublish,
                _ => AttestationKind::Other,
            };
            let media = att["bundle"]["mediaType"].as_str().unwrap_or_default();
            let bundle_version = media_type_version(media);
            AttestationResult {
                legacy: bundle_version == Some("0.1"),
                bundle_version: bundle_version.map(str::to_string),
                outcome: verify_one(
                    att,
                    &predicate_type,
                    kind,
                    expected,
                    &integrity,
                    npm_keys,
                    &verifier,
                    opts,
                ),
                predicate_type,
                kind,
            }
        })
        .collect();
    AttestationsReport {
        response_error: None,
        attestations,
    }
}

pub(crate) fn media_type_version(media: &str) -> Option<&'static str> {
    match media {
        "application/vnd.dev.sigstore.bundle+json;version=0.1" => Some("0.1"),
        "application/vnd.dev.sigstore.bundle+json;version=0.2" => Some("0.2"),
        "application/vnd.dev.sigstore.bundle+json;version=0.3"
        | "application/vnd.dev.sigstore.bundle.v0.3+json" => Some("0.3"),
        _ => None,
    }
}

/// True if any certificate after the leaf is self-issued, i.e. a root.
pub(crate) fn chain_has_root(bundle: &Value) -> Result<bool> {
    let Some(certs) =
        bundle["verificationMaterial"]["x509CertificateChain"]["certificates"].as_array()
    else {
        return Ok(false);
    };
    for c in certs.iter().skip(1) {
        let der = b64("certificate", c["rawBytes"].as_str().unwrap_or_default())?;
        let cert = x509_cert::Certificate::from_der(&der).map_err(|e| {
            VerifyError::Certificate(format!("unparseable chain certificate ({e})"))
        })?;
        if cert.tbs_certificate.subject == cert.tbs_certificate.issuer {
            return Ok(true);
        }
    }
    Ok(false)
}

#[allow(clippy::too_many_arguments)]
fn verify_one(
    att: &Value,
    predicate_type: &str,
    kind: AttestationKind,
    expected: &ExpectedPackage,
    integrity: &[u8],
    npm_keys: &NpmKeys,
    verifier: &Verifier,
    opts: VerifyOptions,
) -> Result<VerifiedAttestation> {
    let bundle_v = &att["bundle"];
    if !bundle_v.is_object() {
        bail!(Malformed, "attestation has no bundle object");
    }
    if predicate_type.is_empty() {
        bail!(Malformed, "attestation has no predicateType");
    }
    let media = bundle_v["mediaType"].as_str().unwrap_or_default();
    if media_type_version(media).is_none() {
        bail!(Unsupported, "bundle mediaType {media:?}");
    }
    let env = &bundle_v["dsseEnvelope"];
    if !env.is_object() {
        bail!(Unsupported, "npm attestation bundle has no DSSE envelope");
    }
    let payload_type = env["payloadType"].as_str().unwrap_or_default();
    if payload_type != IN_TOTO {
        bail!(
            Unsupported,
            "DSSE payloadType {payload_type:?}, want {IN_TOTO}"
        );
    }
    // The raw payload bytes are what was signed; parse them only to read
    // fields, never to re-encode.
    let payload = b64(
        "dsseEnvelope.payload",
        env["payload"].as_str().unwrap_or_default(),
    )?;
    let sigs = env["signatures"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if sigs.len() != 1 {
        bail!(
            Malformed,
            "DSSE envelope has {} signatures, want 1",
            sigs.len()
        );
    }
    b64(
        "dsseEnvelope.signatures[0].sig",
        sigs[0]["sig"].as_str().unwrap_or_default(),
    )?;
    let sig_keyid = sigs[0]["keyid"].as_str().unwrap_or_default();

    let stmt: Value = serde_json::from_slice(&payload)
        .map_err(|e| VerifyError::Malformed(format!("in-toto statement is not JSON ({e})")))?;
    let purl = expected.purl();
    let subjects = stmt["subject"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let subject = subjects
        .iter()
        .find(|s| s["name"] == purl.as_str())
        .or_else(|| subjects.first())
        .ok_or_else(|| VerifyError::Subject("in-toto statement has no subject".into()))?;
    let subject_sha512 = subject["digest"]["sha512"]
        .as_str()
        .ok_or_else(|| VerifyError::Subject("subject has no sha512 digest".into()))?;
    let subject_digest = unhex("subject sha512", subject_sha512)?;

    let bundle: Bundle = serde_json::from_value(bundle_v.clone())
        .map_err(|e| VerifyError::Malformed(format!("bundle: {e}")))?;
    // Bind to the statement's own digest so that the Sigstore result is about
    // the signature alone; the package binding is checked separately below,
    // which gives "wrong package" and "digest mismatch" their own reasons.
    let artifact = ArtifactDigest::new(HashAlgorithm::Sha2512, subject_digest.clone())
        .map_err(|e| VerifyError::Subject(format!("subject sha512: {e}")))?;

    let hint = bundle_v["verificationMaterial"]["publicKey"]["hint"].as_str();
    let (signer, integrated_time) = match hint {
        Some(hint) => {
            let key = npm_keys.get(hint).ok_or_else(|| {
                VerifyError::Key(format!(
                    "no npm registry key with keyid {hint} (EMISSINGSIGNATUREKEY)"
                ))
            })?;
            if !sig_keyid.is_empty() && sig_keyid != hint {
                bail!(
                    Policy,
                    "DSSE signature keyid {sig_keyid} differs from bundle key hint {hint}"
                );
            }
            let policy = PublicKeyVerificationPolicy::new(DerPublicKey::from(key.key_der.clone()));
            let res = verifier
                .verify(artifact, &bundle, &policy)
                .map_err(map_sigstore_error)?;
            let t = res
                .integrated_time()
                .map(|t| t.as_second())
                .ok_or_else(|| {
                    VerifyError::Tlog("no integrated time to judge the npm key at".into())
                })?;
            if !key.valid_at(t) {
                bail!(
                    Key,
                    "npm key {hint} expired {} before the attestation was logged at {} (EEXPIREDSIGNATUREKEY)",
                    key.expires.map(fmt_time).unwrap_or_default(),
                    fmt_time(t)
                );
            }
            (Signer::RegistryKey(hint.to_string()), t)
        }
        None => {
            if opts.strict && chain_has_root(bundle_v)? {
                bail!(
                    Policy,
                    "certificate chain includes a root certificate (strict mode)"
                );
            }
            // Fulcio-signed DSSE signatures carry no keyid; a keyid here means
            // someone edited the envelope, even if the signature still holds.
            if !sig_keyid.is_empty() {
                bail!(
                    Policy,
                    "certificate-signed DSSE signature has unexpected keyid {sig_keyid:?}"
                );
            }
            let res = verifier
                .verify(artifact, &bundle, &VerificationPolicy::any_identity())
                .map_err(map_sigstore_error)?;
            let cert = res.certificate().ok_or_else(|| {
                VerifyError::Certificate("verified bundle has no certificate".into())
            })?;
            let t = res
                .integrated_time()
                .map(|t| t.as_second())
                .ok_or_else(|| VerifyError::Tlog("no integrated time".into()))?;
            (
                Signer::Certificate(Box::new(CertIdentity::from_cert(cert))),
                t,
            )
        }
    };

    // The signature is good; now: is it about this package?
    match stmt["_type"].as_str() {
        Some("https://in-toto.io/Statement/v0.1" | "https://in-toto.io/Statement/v1") => {}
        other => bail!(Unsupported, "in-toto statement _type {other:?}"),
    }
    let inner_type = stmt["predicateType"].as_str().unwrap_or_default();
    if inner_type != predicate_type {
        bail!(Policy, "attestation predicateType {predicate_type:?} but the signed statement says {inner_type:?}");
    }
    if kind == AttestationKind::Other {
        bail!(Unsupported, "predicateType {predicate_type:?}");
    }
    if subject["name"] != purl.as_str() {
        bail!(Subject, "subject is {}, expected {purl}", subject["name"]);
    }
    if subject_digest != integrity {
        bail!(
            Subject,
            "subject sha512 {subject_sha512} does not match dist.integrity (sha512 {})",
            hex(integrity)
        );
    }

    let mut registry = None;
    let mut predicate_identity = None;
    match kind {
        AttestationKind::NpmPublish => {
            if !matches!(signer, Signer::RegistryKey(_)) {
                bail!(
                    Policy,
                    "npm publish attestation not signed by a registry key"
                );
            }
            let p = &stmt["predicate"];
            if p["name"] != expected.name.as_str() || p["version"] != expected.version.as_str() {
                bail!(
                    Subject,
                    "publish predicate is for {}@{}, expected {}@{}",
                    p["name"],
                    p["version"],
                    expected.name,
                    expected.version
                );
            }
            let reg = p["registry"].as_str().unwrap_or_default();
            if reg.trim_end_matches('/') != NPM_REGISTRY {
                bail!(
                    Policy,
                    "publish predicate registry {reg:?}, expected {NPM_REGISTRY}"
                );
            }
            registry = Some(reg.to_string());
        }
        AttestationKind::SlsaProvenance => {
            if !matches!(signer, Signer::Certificate(_)) {
                bail!(
                    Policy,
                    "SLSA provenance must be signed by a Fulcio certificate"
                );
            }
            predicate_identity = PredicateIdentity::from_statement(predicate_type, &stmt);
        }
        AttestationKind::Other => {}
    }
    Ok(VerifiedAttestation {
        subject: purl,
        signer,
        integrated_time,
        predicate_identity,
        registry,
    })
}

/// Sort sigstore-verify's errors into our categories. Its messages are kept:
/// they are already specific ("SET verification failed", …).
pub(crate) fn map_sigstore_error(e: sigstore_verify::Error) -> VerifyError {
    use sigstore_verify::Error as E;
    let msg = e.to_string();
    match e {
        E::Certificate(_) => VerifyError::Certificate(msg),
        E::TransparencyLog(_) => VerifyError::Tlog(msg),
        E::Timestamp(_) => VerifyError::Timestamp(msg),
        E::SignatureInvalid(_) => VerifyError::Signature(msg),
        E::ArtifactMismatch(_) => VerifyError::Subject(msg),
        E::InvalidBundle(_) | E::Bundle(_) | E::Types(_) => VerifyError::Malformed(msg),
        E::UnsupportedBundle(_) | E::UnsupportedArtifact(_) => VerifyError::Unsupported(msg),
        E::InvalidTrustRoot(_) | E::TrustRoot(_) | E::TrustedCertificate(_) => {
            VerifyError::TrustRoot(msg)
        }
        _ => VerifyError::Policy(msg),
    }
}
