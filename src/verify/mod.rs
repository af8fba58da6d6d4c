//! Offline verification of npm supply-chain evidence.
//!
//! * [`verify_registry_signatures`]: every `dist.signatures` entry (ECDSA over
//!   `name@version:integrity`), with npm's missing/expired/invalid errors.
//! * [`verify_attestations`]: the registry's attestations response (SLSA
//!   provenance + npm publish attestation), bound to one package version.
//! * [`verify_bundle`]: a bare Sigstore bundle against an artifact, for the
//!   sigstore-conformance protocol.
//!
//! Nothing here touches the network: the trusted root and npm keys are inputs.
pub mod bundle;
mod encoding;
pub mod error;
pub mod identity;
pub mod npm;
pub mod pep740;
pub mod registry;

pub use bundle::{verify_bundle, Artifact, BundleVerification, KeyPolicy};
pub use encoding::{integrity_sha512, parse_rfc3339};
pub use error::{SigError, VerifyError};
pub use identity::{CertIdentity, PredicateIdentity};
pub use npm::{
    verify_attestations, verify_attestations_with, AttestationKind, AttestationResult,
    AttestationsReport, ExpectedPackage, Signer, VerifiedAttestation, VerifyOptions,
};
pub use pep740::{
    verify_attestation, verify_provenance, DistFile, Pep740Attestation, Pep740Bundle,
    ProvenanceReport, PublisherMatch, TrustedPublisher, VerifiedPep740,
};
pub use registry::{
    verify_registry_signature, verify_registry_signatures, NpmKey, NpmKeys, RegistrySignature,
};

/// A Sigstore trusted root (`trusted_root.json`). Wrapped so callers do not
/// name sigstore-verify's types and the backend can change without touching
/// them.
#[derive(Debug, Clone)]
pub struct TrustedRoot(pub(crate) sigstore_verify::trust_root::TrustedRoot);

/// The Sigstore public-good trusted root (sigstore/root-signing `targets/trusted_root.json` at
/// 60cf2ce8b2e45d600dc17c4421e8c751e75772be, Apache-2.0), embedded because this tool verifies
/// offline: there is no TUF refresh. `--trusted-root FILE` replaces it.
const PUBLIC_GOOD: &[u8] = include_bytes!("trusted_root.json");

impl TrustedRoot {
    pub fn public_good() -> Self {
        Self::from_json(PUBLIC_GOOD).expect("the embedded trusted root parses")
    }

    pub fn from_json(bytes: &[u8]) -> Result<Self, VerifyError> {
        let s =
            std::str::from_utf8(bytes).map_err(|_| VerifyError::TrustRoot("not UTF-8".into()))?;
        sigstore_verify::trust_root::TrustedRoot::from_json(s)
            .map(TrustedRoot)
            .map_err(|e| VerifyError::TrustRoot(e.to_string()))
    }
}
