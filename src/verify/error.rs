use thiserror::Error;

/// Failure of an npm registry signature (`dist.signatures`) check. The
/// variants mirror the three errors `npm audit signatures` distinguishes, so a
/// report can print the same diagnosis npm users already know.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SigError {
    #[error("no registry key with keyid {keyid} (EMISSINGSIGNATUREKEY)")]
    MissingKey { keyid: String },
    #[error("registry key {keyid} expired at {expires}, before the version was published at {published} (EEXPIREDSIGNATUREKEY)")]
    ExpiredKey {
        keyid: String,
        expires: String,
        published: String,
    },
    #[error("invalid registry signature for {spec}: {reason} (EINTEGRITYSIGNATURE)")]
    InvalidSignature { spec: String, reason: String },
}

impl SigError {
    /// The npm CLI error code for the same condition.
    pub fn npm_code(&self) -> &'static str {
        match self {
            SigError::MissingKey { .. } => "EMISSINGSIGNATUREKEY",
            SigError::ExpiredKey { .. } => "EEXPIREDSIGNATUREKEY",
            SigError::InvalidSignature { .. } => "EINTEGRITYSIGNATURE",
        }
    }
}

/// Why a bundle or attestation did not verify. The category lets a caller
/// tell "the input is broken" from "the input is well-formed but lies".
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VerifyError {
    #[error("malformed input: {0}")]
    Malformed(String),
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("trusted root: {0}")]
    TrustRoot(String),
    #[error("certificate: {0}")]
    Certificate(String),
    #[error("signature: {0}")]
    Signature(String),
    #[error("transparency log: {0}")]
    Tlog(String),
    #[error("timestamp: {0}")]
    Timestamp(String),
    #[error("subject: {0}")]
    Subject(String),
    #[error("key: {0}")]
    Key(String),
    #[error("identity: {0}")]
    Identity(String),
    #[error("policy: {0}")]
    Policy(String),
}

pub type Result<T, E = VerifyError> = std::result::Result<T, E>;

/// Shorthand for building an error from a category and a formatted reason.
macro_rules! bail {
    ($kind:ident, $($arg:tt)*) => {
        return Err($crate::verify::error::VerifyError::$kind(format!($($arg)*)))
    };
}
pub(crate) use bail;
