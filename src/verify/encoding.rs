use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

use super::error::{Result, VerifyError};

// Sigstore's protobuf-JSON and npm's JSON both use the standard alphabet, but
// not every producer pads, so padding must not decide validity.
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub(crate) fn b64(field: &str, s: &str) -> Result<Vec<u8>> {
    B64.decode(s.trim())
        .map_err(|e| VerifyError::Malformed(format!("{field}: invalid base64 ({e})")))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

pub(crate) fn unhex(field: &str, s: &str) -> Result<Vec<u8>> {
    let s = s.trim();
    if s.len() % 2 != 0 || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(VerifyError::Malformed(format!("{field}: not a hex string")));
    }
    Ok((0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_default())
        .collect())
}

/// RFC 3339 to Unix seconds, e.g. a packument `time[version]` or a registry
/// key's `expires`. Sub-second parts are dropped: the times they are compared
/// with (Rekor integratedTime) have second precision.
pub fn parse_rfc3339(field: &str, s: &str) -> Result<i64> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp())
        .map_err(|e| VerifyError::Malformed(format!("{field}: bad RFC 3339 time {s:?} ({e})")))
}

pub(crate) fn fmt_time(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| t.to_string())
}

/// `sha512-<base64>` (npm `dist.integrity`, SRI) to raw digest bytes. If the
/// string lists several hashes, the sha512 one is used, as npm does.
pub fn integrity_sha512(integrity: &str) -> Result<Vec<u8>> {
    let part = integrity
        .split_whitespace()
        .find_map(|p| p.strip_prefix("sha512-"))
        .ok_or_else(|| {
            VerifyError::Malformed(format!("integrity {integrity:?} has no sha512- hash"))
        })?;
    let part = part.split('?').next().unwrap_or(part);
    let d = b64("integrity", part)?;
    if d.len() != 64 {
        return Err(VerifyError::Malformed(format!(
            "integrity sha512 has {} bytes, want 64",
            d.len()
        )));
    }
    Ok(d)
}
