//! The one secrets core: what a credential looks like, how random a value is, and how it is
//! shown. Tarball content ([`crate::content`]) and MCP client configs ([`crate::clients`]) both
//! detect with these patterns and redact with [`redact`], so a token shape is fixed in one place.
//!
//! Token formats (the vendors' own documentation):
//! * npm: `npm_` + 36 base62 ("new access token format": 30 random + 6 CRC32).
//! * GitHub: `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` + base62, 36 today; GitHub reserves the right to
//!   lengthen them ("Behind GitHub's new authentication token formats"), hence `{36,}`.
//! * GitHub fine-grained PAT: `github_pat_` + 22 + `_` + 59.
//! * AWS access key id: `AKIA` (long-term) or `ASIA` (temporary) + 16 of `A-Z0-9`, the pattern
//!   AWS's own IAM documentation and secret scanners use.
//!
//! [`detect`] finds credentials in configuration values (names, args, URLs); `content` adds
//! its own placeholder and checksum tests on top of the same patterns for published files.

mod detect;

use std::fmt;

use serde::{Serialize, Serializer};

pub(crate) use detect::JF_ARG_KIND;
pub(crate) use detect::{
    is_reference_only, npm_secret_key, redact_args, redact_value, redact_words, scan_args,
    scan_value, scan_words, Hit, URL_USER_KIND,
};

/// npm access token.
pub const NPM_TOKEN: &str = r"npm_[A-Za-z0-9]{36}";
/// GitHub classic, OAuth, user-to-server, server-to-server and refresh tokens.
pub const GITHUB_TOKEN: &str = r"gh[pousr]_[A-Za-z0-9]{36,}";
/// GitHub fine-grained personal access token.
pub const GITHUB_PAT: &str = r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}";
/// AWS access key id (long-term `AKIA`, temporary `ASIA`).
pub const AWS_KEY_ID: &str = r"(?:AKIA|ASIA)[A-Z0-9]{16}";
/// PyPI API token: `pypi-` + a base64url macaroon, which always starts `AgE` (version 2 and
/// the location, `pypi.org` or `test.pypi.org`); real ones are 150+ characters.
pub const PYPI_TOKEN: &str = r"pypi-AgE[A-Za-z0-9_-]{50,}";

/// Shannon entropy in bits per byte.
pub fn entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let n = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Evidence for a secret: its first 4 characters (usually the token's public prefix: `npm_`,
/// `ghp_`, `AKIA`) and `***`; only `***` under 12 characters, where 4 characters would be a
/// third of the secret.
pub fn redact(secret: &str) -> String {
    if secret.chars().count() < 12 {
        return "***".to_string();
    }
    let head: String = secret.chars().take(4).collect();
    format!("{head}***")
}

/// Text that has been through redaction: the only string type the config wire types accept
/// for values read from a config file, so a clear-text value cannot reach JSON by accident.
/// Built only by [`Scrubber`].
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted(String);

impl Redacted {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Redacted {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Shortest secret scrubbed wherever it appears: shorter ones are redacted where they are
/// found, but replacing every occurrence of 3 characters would mangle unrelated text.
const MIN_SCRUBBED: usize = 6;

/// The credentials found in one source (a server entry), removed from any text derived from it.
///
/// Field-level redaction only sees a value where it was written; a value also travels (an
/// argument after `--token` becomes npx's package spec, a URL's user name its remote URL, a
/// spec lands in an error message). Scrubbing every derived string with the source's own
/// secrets keeps "what the table redacts" and "what appears anywhere" the same set.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Scrubber {
    /// Longest first, so a secret that contains another is replaced whole.
    secrets: Vec<String>,
}

impl fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scrubber({} secrets)", self.secrets.len())
    }
}

impl Scrubber {
    pub fn new(found: impl IntoIterator<Item = String>) -> Scrubber {
        let mut secrets: Vec<String> = found
            .into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| s.chars().count() >= MIN_SCRUBBED)
            .collect();
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        Scrubber { secrets }
    }

    /// `text` with every known secret replaced by its [`redact`]ed form.
    pub fn scrub(&self, text: &str) -> Redacted {
        let mut out = text.to_string();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), &redact(s));
            }
        }
        Redacted(out)
    }

    /// `text` with its own credentials redacted (as a value under `name`), then scrubbed.
    pub fn value(&self, name: Option<&str>, text: &str) -> Redacted {
        self.scrub(&redact_value(name, text))
    }

    /// A command line: its own credentials redacted word by word, then scrubbed.
    pub fn words(&self, text: &str) -> Redacted {
        self.scrub(&redact_words(text))
    }

    /// An argument list: each argument redacted with its neighbour in view, then scrubbed.
    pub fn args(&self, args: &[String]) -> Vec<Redacted> {
        redact_args(args).iter().map(|a| self.scrub(a)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_lengths() {
        assert_eq!(redact("short"), "***");
        assert_eq!(redact("hunter2"), "***");
        assert_eq!(redact("npm_abcdefghijklmnop"), "npm_***");
        assert!(entropy(b"aaaa") < 0.01);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn patterns_follow_the_real_formats() {
        let re = |p: &str| regex::Regex::new(&format!("^{p}$")).unwrap();
        // AWS key ids use digits 0, 1, 8 and 9 too.
        assert!(re(AWS_KEY_ID).is_match("AKIAZ0Z1Z8Z9ZZZZZZZZ"));
        assert!(re(AWS_KEY_ID).is_match("ASIAIOSFODNN7EXAMPLE"));
        assert!(!re(AWS_KEY_ID).is_match("AKIAlowercase0000000"));
        assert!(re(GITHUB_TOKEN).is_match(&format!("ghp_{}", "a".repeat(40))));
        assert!(!re(GITHUB_TOKEN).is_match(&format!("ghp_{}", "a".repeat(35))));
    }

    #[test]
    fn scrubbing_replaces_every_copy_longest_first() {
        let s = Scrubber::new([
            "abcdefgh1234".to_string(),
            "abcdefgh1234XYZ".into(),
            "ab".into(),
        ]);
        assert_eq!(
            s.scrub("x abcdefgh1234XYZ y abcdefgh1234 ab").as_str(),
            "x abcd*** y abcd*** ab"
        );
    }
}
