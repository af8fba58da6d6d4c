//! npm registry signatures (`dist.signatures` in a packument) and the
//! registry key set from `GET /-/npm/v1/keys`.
use serde::Deserialize;
use sigstore_verify::crypto::{verify_signature, SigningScheme};
use sigstore_verify::types::{DerPublicKey, SignatureBytes};

use super::encoding::{b64, fmt_time, parse_rfc3339};
use super::error::{Result, SigError, VerifyError};

/// One registry key. The same keys sign `dist.signatures` and npm publish
/// attestations (whose bundles name the key in `publicKey.hint`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpmKey {
    /// `SHA256:<base64>` as npm prints it.
    pub keyid: String,
    pub keytype: String,
    pub scheme: String,
    /// DER SubjectPublicKeyInfo.
    pub key_der: Vec<u8>,
    /// Unix seconds; `None` = does not expire.
    pub expires: Option<i64>,
}

impl NpmKey {
    /// npm's rule: a key is usable for anything made strictly before it
    /// expired.
    pub fn valid_at(&self, t: i64) -> bool {
        self.expires.is_none_or(|e| t < e)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NpmKeys {
    pub keys: Vec<NpmKey>,
}

#[derive(Deserialize)]
struct RawKeys {
    keys: Vec<RawKey>,
}
#[derive(Deserialize)]
struct RawKey {
    expires: Option<String>,
    keyid: String,
    #[serde(default)]
    keytype: String,
    #[serde(default)]
    scheme: String,
    key: String,
}

impl NpmKeys {
    /// Parse the `/-/npm/v1/keys` response body (`{"keys":[…]}`).
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let raw: RawKeys = serde_json::from_slice(bytes)
            .map_err(|e| VerifyError::Malformed(format!("npm keys JSON: {e}")))?;
        let keys = raw
            .keys
            .into_iter()
            .map(|k| {
                Ok(NpmKey {
                    key_der: b64(&format!("npm key {}", k.keyid), &k.key)?,
                    expires: k
                        .expires
                        .as_deref()
                        .map(|e| parse_rfc3339("npm key expires", e))
                        .transpose()?,
                    keyid: k.keyid,
                    keytype: k.keytype,
                    scheme: k.scheme,
                })
            })
            .collect::<Result<_>>()?;
        Ok(NpmKeys { keys })
    }

    pub fn get(&self, keyid: &str) -> Option<&NpmKey> {
        self.keys.iter().find(|k| k.keyid == keyid)
    }
}

/// Every key npm has ever served is ECDSA P-256 with SHA-256
/// (`keytype: ecdsa-sha2-nistp256`, `scheme: ecdsa-sha2-nistp256`); refuse
/// anything else instead of guessing a scheme.
pub(crate) fn verify_with_npm_key(
    key: &NpmKey,
    data: &[u8],
    sig: &[u8],
) -> std::result::Result<(), String> {
    if !(key.keytype.is_empty() || key.keytype == "ecdsa-sha2-nistp256")
        || !(key.scheme.is_empty() || key.scheme == "ecdsa-sha2-nistp256")
    {
        return Err(format!(
            "unsupported key type {}/{}",
            key.keytype, key.scheme
        ));
    }
    verify_signature(
        &DerPublicKey::from(key.key_der.clone()),
        data,
        &SignatureBytes::from(sig.to_vec()),
        SigningScheme::EcdsaP256Sha256,
    )
    .map_err(|e| e.to_string())
}

/// One `dist.signatures[]` entry. Missing fields read as empty, which fails as a missing key
/// or an invalid signature, never as a pass.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RegistrySignature {
    #[serde(default)]
    pub keyid: String,
    #[serde(default)]
    pub sig: String,
}

impl RegistrySignature {
    /// The entries of a `dist.signatures` array; an entry that is not an object reads as empty.
    pub fn list(values: &[serde_json::Value]) -> Vec<RegistrySignature> {
        values
            .iter()
            .map(|v| serde_json::from_value(v.clone()).unwrap_or_default())
            .collect()
    }
}

/// Verify every `dist.signatures[]` entry of a version, as pacote does (`lib/registry.js` with
/// `verifySignatures`, which `npm audit signatures` uses): each entry must name a key the
/// registry lists (else EMISSINGSIGNATUREKEY, even when another entry verifies), that key must be
/// valid at publish time (EEXPIREDSIGNATUREKEY), and the signature must verify
/// (EINTEGRITYSIGNATURE). Checking only one would let a registry, or whoever edits a mirror's
/// packument, add a signature that nobody looks at.
///
/// Returns the keyid(s) to report with the result: the failing entry's on failure (the first,
/// in document order, as pacote throws on the first), else every distinct keyid, comma-separated.
pub fn verify_registry_signatures(
    name: &str,
    version: &str,
    integrity: &str,
    signatures: &[RegistrySignature],
    keys: &NpmKeys,
    publish_time: Option<i64>,
    now: i64,
) -> (String, std::result::Result<(), SigError>) {
    let spec = format!("{name}@{version}");
    let Some(first) = signatures.first() else {
        let reason = "dist.signatures is empty".to_string();
        return (
            String::new(),
            Err(SigError::InvalidSignature { spec, reason }),
        );
    };
    if integrity.is_empty() {
        let reason = "the version has no dist.integrity to check".to_string();
        return (
            first.keyid.clone(),
            Err(SigError::InvalidSignature { spec, reason }),
        );
    }
    let mut keyids: Vec<&str> = Vec::new();
    for s in signatures {
        let result = verify_registry_signature(
            name,
            version,
            integrity,
            &s.sig,
            &s.keyid,
            keys,
            publish_time,
            now,
        );
        if result.is_err() {
            return (s.keyid.clone(), result);
        }
        if !keyids.contains(&s.keyid.as_str()) {
            keyids.push(&s.keyid);
        }
    }
    (keyids.join(", "), Ok(()))
}

/// Verify one `dist.signatures` entry the way `npm audit signatures` does:
/// ECDSA P-256/SHA-256 over `${name}@${version}:${integrity}`, with the key
/// picked by `keyid` and judged at the version's publish time
/// (`packument.time[version]`, Unix seconds). Without a publish time the key
/// is judged at `now` (the scan's clock, `--now`), which can only turn an old
/// signature into "expired", never the reverse.
#[allow(clippy::too_many_arguments)]
pub fn verify_registry_signature(
    name: &str,
    version: &str,
    integrity: &str,
    sig_b64: &str,
    keyid: &str,
    keys: &NpmKeys,
    publish_time: Option<i64>,
    now: i64,
) -> std::result::Result<(), SigError> {
    let spec = format!("{name}@{version}");
    let key = keys.get(keyid).ok_or_else(|| SigError::MissingKey {
        keyid: keyid.to_string(),
    })?;
    let published = publish_time.unwrap_or(now);
    if !key.valid_at(published) {
        return Err(SigError::ExpiredKey {
            keyid: keyid.to_string(),
            expires: key.expires.map(fmt_time).unwrap_or_default(),
            published: fmt_time(published),
        });
    }
    let sig = b64("signature", sig_b64).map_err(|e| SigError::InvalidSignature {
        spec: spec.clone(),
        reason: e.to_string(),
    })?;
    let message = format!("{spec}:{integrity}");
    verify_with_npm_key(key, message.as_bytes(), &sig)
        .map_err(|reason| SigError::InvalidSignature { spec, reason })
}
