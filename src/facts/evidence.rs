//! What verification established, handed to the pure facts derivation. The scan fills it (I/O
//! and CPU work happen there); derivation only reads it.

use crate::content::{ContentReport, IntegrityError};
use crate::verify::{AttestationsReport, SigError};

#[derive(Debug, Clone, Default)]
pub enum SignatureEvidence {
    /// Signatures were not checked (facts derived without a registry, e.g. from a bare packument).
    #[default]
    NotChecked,
    /// The version carries no `dist.signatures`.
    NotPresent,
    /// The registry serves no keys (404 on `/-/npm/v1/keys`), or fetching them failed.
    NoKeys(String),
    Checked {
        keyid: String,
        result: Result<(), SigError>,
    },
}

#[derive(Debug, Clone, Default)]
pub enum AttestationEvidence {
    #[default]
    NotChecked,
    /// The version lists no `dist.attestations`.
    NotListed,
    /// Listed, but the document could not be had (404, network): the reason.
    Unavailable(String),
    Checked {
        report: Box<AttestationsReport>,
        /// The registry keys were available, so a publish attestation could be judged.
        keys_available: bool,
    },
}

#[derive(Debug, Clone, Default)]
pub enum TarballEvidence {
    #[default]
    NotChecked,
    /// Not downloaded on purpose or could not be: the reason.
    Unavailable(String),
    /// Downloaded and hashed; the analysis runs only when the integrity matched.
    Checked {
        url: String,
        compressed_bytes: u64,
        integrity: Result<(), IntegrityError>,
        report: Option<Box<ContentReport>>,
    },
}

#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub signature: SignatureEvidence,
    pub attestations: AttestationEvidence,
    pub tarball: TarballEvidence,
}
