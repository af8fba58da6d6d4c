//! `dist.integrity` (Subresource Integrity, as npm's `ssri` reads it) and the legacy
//! `dist.shasum`.
//!
//! Like ssri: entries are whitespace-separated `<algorithm>-<base64>[?options]`; unknown
//! algorithms are ignored; only the strongest algorithm present is checked, and any of its
//! digests matching is enough (several digests of one algorithm are allowed by the spec).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntegrityError {
    #[error("malformed integrity string: {0}")]
    Malformed(String),
    #[error("integrity mismatch ({algorithm}): expected {expected}, got {actual}")]
    Mismatch {
        algorithm: String,
        expected: String,
        actual: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Algorithm {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "sha1" => Some(Self::Sha1),
            "sha256" => Some(Self::Sha256),
            "sha384" => Some(Self::Sha384),
            "sha512" => Some(Self::Sha512),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    fn digest_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    fn digest(self, bytes: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha1 => Sha1::digest(bytes).to_vec(),
            Self::Sha256 => Sha256::digest(bytes).to_vec(),
            Self::Sha384 => Sha384::digest(bytes).to_vec(),
            Self::Sha512 => Sha512::digest(bytes).to_vec(),
        }
    }
}

/// Check `bytes` against an SRI string such as npm's `dist.integrity`
/// (`sha512-<base64>`; `sha1-`, `sha256-`, `sha384-` also accepted, several space-separated).
pub fn check_integrity(bytes: &[u8], integrity: &str) -> Result<(), IntegrityError> {
    let mut parsed: Vec<(Algorithm, Vec<u8>)> = Vec::new();
    let mut unusable = Vec::new();
    for token in integrity.split_whitespace() {
        let Some((alg, rest)) = token.split_once('-') else {
            unusable.push(token);
            continue;
        };
        let Some(alg) = Algorithm::parse(alg) else {
            // ssri ignores algorithms it does not know; a stronger future one must not make
            // the whole string unusable.
            continue;
        };
        let b64 = rest.split('?').next().unwrap_or_default();
        match STANDARD.decode(b64) {
            Ok(d) if d.len() == alg.digest_len() => parsed.push((alg, d)),
            _ => unusable.push(token),
        }
    }
    let Some(strongest) = parsed.iter().map(|(a, _)| *a).max() else {
        let what = if integrity.trim().is_empty() {
            "empty".to_string()
        } else if unusable.is_empty() {
            format!("no supported algorithm in {:?}", truncate(integrity))
        } else {
            format!("cannot parse {:?}", truncate(unusable[0]))
        };
        return Err(IntegrityError::Malformed(what));
    };
    let actual = strongest.digest(bytes);
    let expected: Vec<&Vec<u8>> = parsed
        .iter()
        .filter(|(a, _)| *a == strongest)
        .map(|(_, d)| d)
        .collect();
    if expected.iter().any(|d| **d == actual) {
        return Ok(());
    }
    Err(IntegrityError::Mismatch {
        algorithm: strongest.name().to_string(),
        expected: format!("{}-{}", strongest.name(), STANDARD.encode(expected[0])),
        actual: format!("{}-{}", strongest.name(), STANDARD.encode(&actual)),
    })
}

/// Check `bytes` against a hex SHA-1 `dist.shasum`, for versions published before npm recorded
/// `dist.integrity`. SHA-1 is weak against a publisher forging collisions; it still catches a
/// swapped or corrupted download.
pub fn check_shasum(bytes: &[u8], shasum: &str) -> Result<(), IntegrityError> {
    let hex = shasum.trim().to_ascii_lowercase();
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(IntegrityError::Malformed(format!(
            "shasum is not 40 hex digits: {:?}",
            truncate(shasum)
        )));
    }
    let actual: String = Sha1::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if actual == hex {
        Ok(())
    } else {
        Err(IntegrityError::Mismatch {
            algorithm: "sha1".to_string(),
            expected: hex,
            actual,
        })
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sri(alg: Algorithm, bytes: &[u8]) -> String {
        format!("{}-{}", alg.name(), STANDARD.encode(alg.digest(bytes)))
    }

    #[test]
    fn strongest_wins() {
        let data = b"hello";
        let good512 = sri(Algorithm::Sha512, data);
        let bad1 = sri(Algorithm::Sha1, b"other");
        // A wrong sha1 does not matter when a sha512 is present and right.
        assert!(check_integrity(data, &format!("{bad1} {good512}")).is_ok());
        // A right sha1 does not rescue a wrong sha512.
        let bad512 = sri(Algorithm::Sha512, b"other");
        let good1 = sri(Algorithm::Sha1, data);
        let err = check_integrity(data, &format!("{good1} {bad512}")).unwrap_err();
        assert!(
            matches!(err, IntegrityError::Mismatch { ref algorithm, .. } if algorithm == "sha512")
        );
        // Any of several digests of the strongest algorithm may match.
        assert!(check_integrity(data, &format!("{bad512} {good512}")).is_ok());
        assert!(check_integrity(data, &sri(Algorithm::Sha256, data)).is_ok());
        assert!(check_integrity(data, &format!("{}?opt", sri(Algorithm::Sha384, data))).is_ok());
    }

    #[test]
    fn malformed() {
        for s in [
            "",
            "   ",
            "sha512",
            "sha512-!!!",
            "md5-abc",
            "sha512-aGVsbG8=",
        ] {
            assert!(
                matches!(check_integrity(b"x", s), Err(IntegrityError::Malformed(_))),
                "{s:?}"
            );
        }
    }

    #[test]
    fn shasum() {
        assert!(check_shasum(b"hello", "AAF4C61DDCC5E8A2DABEDE0F3B482CD9AEA9434D").is_ok());
        assert!(matches!(
            check_shasum(b"hellO", "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"),
            Err(IntegrityError::Mismatch { .. })
        ));
        assert!(matches!(
            check_shasum(b"x", "zz"),
            Err(IntegrityError::Malformed(_))
        ));
    }
}
