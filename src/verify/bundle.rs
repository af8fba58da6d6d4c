//! Bare-bundle verification as the sigstore-conformance `verify-bundle`
//! command defines it: bundle + artifact (bytes or `sha256:<hex>`) + either an
//! expected certificate identity/issuer or a PEM public key + trusted root.
use serde_json::Value;
use sigstore_verify::types::{
    Artifact as SgArtifact, ArtifactDigest, Bundle, DerPublicKey, HashAlgorithm,
};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, Verifier};

use super::encoding::unhex;
use super::error::{bail, Result, VerifyError};
use super::identity::CertIdentity;
use super::npm::{chain_has_root, map_sigstore_error, media_type_version};
use super::TrustedRoot;

#[derive(Debug, Clone, Copy)]
pub enum Artifact<'a> {
    Bytes(&'a [u8]),
    Sha256([u8; 32]),
}

impl Artifact<'_> {
    /// Parse the conformance CLI's `sha256:<hex>` form.
    pub fn parse_digest(s: &str) -> Result<Artifact<'static>> {
        let hex = s
            .strip_prefix("sha256:")
            .ok_or_else(|| VerifyError::Malformed(format!("digest {s:?} is not sha256:<hex>")))?;
        let bytes = unhex("artifact digest", hex)?;
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| VerifyError::Malformed("sha256 digest must be 32 bytes".into()))?;
        Ok(Artifact::Sha256(arr))
    }
}

#[derive(Debug, Clone, Copy)]
pub enum KeyPolicy<'a> {
    /// Keyless: the certificate SAN must equal `identity` and its OIDC issuer
    /// extension must equal `issuer`.
    Identity { identity: &'a str, issuer: &'a str },
    /// Managed key, PEM SubjectPublicKeyInfo.
    PublicKeyPem(&'a str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleVerification {
    pub bundle_version: String,
    pub certificate: Option<CertIdentity>,
    /// Verified times (Rekor integrated time and/or RFC 3161), Unix seconds.
    pub verified_times: Vec<i64>,
}

/// Conformance semantics: the chain policy is always strict here (a root in
/// the bundle's chain is rejected), unlike the npm path's legacy allowance.
pub fn verify_bundle(
    bundle_json: &[u8],
    artifact: Artifact<'_>,
    policy: &KeyPolicy<'_>,
    trusted_root: &TrustedRoot,
) -> Result<BundleVerification> {
    let v: Value = serde_json::from_slice(bundle_json)
        .map_err(|e| VerifyError::Malformed(format!("bundle JSON: {e}")))?;
    let media = v["mediaType"].as_str().unwrap_or_default();
    let Some(version) = media_type_version(media) else {
        bail!(Unsupported, "bundle mediaType {media:?}");
    };
    if chain_has_root(&v)? {
        bail!(Policy, "certificate chain includes a root certificate");
    }
    let bundle: Bundle =
        serde_json::from_value(v).map_err(|e| VerifyError::Malformed(format!("bundle: {e}")))?;
    let verifier = Verifier::new(&trusted_root.0).map_err(map_sigstore_error)?;
    let art: SgArtifact<'_> = match artifact {
        Artifact::Bytes(b) => SgArtifact::from(b),
        Artifact::Sha256(d) => SgArtifact::from(
            ArtifactDigest::new(HashAlgorithm::Sha2256, d.to_vec())
                .map_err(|e| VerifyError::Malformed(e.to_string()))?,
        ),
    };
    let res = match policy {
        KeyPolicy::Identity { identity, issuer } => verifier.verify(
            art,
            &bundle,
            &VerificationPolicy::new(identity.to_string(), issuer.to_string()),
        ),
        KeyPolicy::PublicKeyPem(pem) => {
            let key = DerPublicKey::from_pem(pem)
                .map_err(|e| VerifyError::Key(format!("public key PEM: {e}")))?;
            verifier.verify(art, &bundle, &PublicKeyVerificationPolicy::new(key))
        }
    }
    .map_err(map_sigstore_error)?;
    Ok(BundleVerification {
        bundle_version: version.to_string(),
        certificate: res.certificate().map(CertIdentity::from_cert),
        verified_times: res
            .verified_timestamps()
            .iter()
            .map(|t| t.as_second())
            .collect(),
    })
}
