//! Credentials left in published files.
//!
//! What is looked for, and how placeholders are told apart (a report that cries wolf on every
//! README is worse than none):
//!
//! * `.npmrc` (any directory) with a literal `_authToken`, `_auth` or `_password`. Values that npm
//!   expands from the environment (`${NPM_TOKEN}`) are the recommended practice, not a leak.
//! * npm tokens `npm_` + 36 and GitHub tokens `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` + 36 or more
//!   (base62; patterns from [`crate::secrets`]).
//!   Both formats end in a 6-character base62 CRC32 of the 30 random characters (GitHub's
//!   "Behind GitHub's new authentication token formats", npm's "new access token format"; the
//!   same check credsweeper's ValueGitHubCheck applies to both). A valid checksum means high
//!   confidence. Without one the candidate must still look random: upper, lower and digit all
//!   present (a random 36-char base62 string lacks one of them with p ≈ 0.2%), at least 12
//!   distinct characters, entropy ≥ 3.5 bits/char, no run like `abcde`/`12345`, and no
//!   placeholder word (`xxxx`, `example`, `your`, `token`, `dummy`, ...). Such a candidate is
//!   medium confidence.
//! * GitHub fine-grained PATs `github_pat_` + 22 + `_` + 59, same randomness test (no checksum
//!   is published for them).
//! * Private keys: a `-----BEGIN … PRIVATE KEY-----` marker followed by at least 64 base64
//!   characters of key body (entropy ≥ 4.5). A marker used as a string constant in parsing code
//!   (`pem.startsWith('-----BEGIN PRIVATE KEY-----')`) has no body and is not reported.
//! * AWS access key ids `AKIA`/`ASIA` + 16 (`A-Z`, `0-9`): at least 8 distinct characters, no
//!   `EXAMPLE` (AWS's own documentation key is `AKIAIOSFODNN7EXAMPLE`). An id alone cannot sign
//!   requests, so never above medium.
//! * `.env` / `.env.*` files except `.example`, `.sample`, `.template`, `.tpl`, `.dist`,
//!   `.default(s)`, `.schema`.
//!
//! Confidence is lowered one step for files under test/fixture/example/docs directories, where
//! deliberately published throwaway keys live (real but harmless keys are the main known false
//! positive). Known false negatives: tokens split across string concatenations, encoded
//! (base64/hex) tokens, classic 40-hex GitHub tokens and npm's legacy UUID tokens outside
//! `.npmrc` (indistinguishable from ordinary ids), and anything past `max_file_scan`.
//!
//! Evidence never contains a secret: file, line, kind and [`redact`]ed value only.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::bytes::Regex;

use super::text::{basename, distinct, entropy, has_sequential_run, is_binary, line_at, redact};
use super::{Confidence, Secret};

static TOKEN_RE: LazyLock<Regex> = LazyLock::new(|| {
    use crate::secrets::{AWS_KEY_ID, GITHUB_PAT, GITHUB_TOKEN, NPM_TOKEN};
    Regex::new(&format!(
        r"(?-u)\b(?:{NPM_TOKEN}|{GITHUB_TOKEN}|{GITHUB_PAT}|{AWS_KEY_ID})\b"
    ))
    .expect("static regex")
});

static PRIVATE_KEY_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY(?: BLOCK)?-----")
        .expect("static regex")
});

const PLACEHOLDER_WORDS: &[&str] = &[
    "xxxx",
    "example",
    "placeholder",
    "redacted",
    "dummy",
    "fake",
    "sample",
    "your",
    "token",
    "secret",
    "changeme",
    "insert",
];

const ENV_EXEMPT_SUFFIXES: &[&str] = &[
    "example", "sample", "template", "tmpl", "tpl", "dist", "default", "defaults", "schema",
];

pub(crate) fn scan_file(file: &str, data: &[u8], out: &mut Vec<Secret>) {
    let base = basename(file);
    let mut reported_lines = HashSet::new();
    if base == ".npmrc" && !is_binary(data) {
        npmrc(file, data, out, &mut reported_lines);
    }
    if is_dotenv(base) && !is_binary(data) {
        dotenv(file, data, out);
    }
    tokens(file, data, out, &reported_lines);
    private_keys(file, data, out);
}

fn push(
    out: &mut Vec<Secret>,
    file: &str,
    line: u64,
    kind: &str,
    shown: &str,
    confidence: Confidence,
) {
    out.push(Secret {
        file: file.to_string(),
        kind: kind.to_string(),
        evidence: format!("{file}:{line}: {kind} {shown}"),
        line,
        confidence,
    });
}

/// Directories and names where deliberately published throwaway credentials live.
fn in_test_area(file: &str) -> bool {
    let lower = file.to_ascii_lowercase();
    let dirs = [
        "test",
        "tests",
        "__tests__",
        "spec",
        "fixture",
        "fixtures",
        "__fixtures__",
        "example",
        "examples",
        "docs",
        "doc",
        "testdata",
        "mocks",
        "__mocks__",
    ];
    let mut parts = lower.split('/').collect::<Vec<_>>();
    let name = parts.pop().unwrap_or_default();
    parts.iter().any(|p| dirs.contains(p))
        || name.contains(".test.")
        || name.contains(".spec.")
        || name.ends_with(".md")
}

fn lower(c: Confidence, file: &str) -> Confidence {
    if !in_test_area(file) {
        return c;
    }
    match c {
        Confidence::High => Confidence::Medium,
        _ => Confidence::Low,
    }
}

fn has_placeholder_word(body: &[u8]) -> bool {
    let lower = body.to_ascii_lowercase();
    PLACEHOLDER_WORDS
        .iter()
        .any(|w| lower.windows(w.len()).any(|win| win == w.as_bytes()))
}

/// The randomness test for base62 token bodies (see the module docs).
fn looks_random(body: &[u8], min_distinct: usize) -> bool {
    let alnum: Vec<u8> = body
        .iter()
        .copied()
        .filter(u8::is_ascii_alphanumeric)
        .collect();
    alnum.iter().any(u8::is_ascii_uppercase)
        && alnum.iter().any(u8::is_ascii_lowercase)
        && alnum.iter().any(u8::is_ascii_digit)
        && distinct(&alnum) >= min_distinct
        && entropy(&alnum) >= 3.5
        && !has_sequential_run(&alnum, 5)
        && !has_placeholder_word(&alnum)
}

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |c, &b| {
        CRC_TABLE[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8)
    })
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `prefix_` + 30 random + 6 checksum: the last 6 are CRC32(random) in base62, zero-padded.
pub(crate) fn checksum_valid(token: &[u8]) -> bool {
    let Some(us) = token.iter().position(|&b| b == b'_') else {
        return false;
    };
    let body = &token[us + 1..];
    if body.len() != 36 {
        return false;
    }
    let (random, check) = body.split_at(30);
    let mut n = crc32(random) as u64;
    let mut encoded = [b'0'; 6];
    for slot in encoded.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    encoded == check
}

fn tokens(file: &str, data: &[u8], out: &mut Vec<Secret>, skip_lines: &HashSet<u64>) {
    let mut pos = (0usize, 1u64);
    for m in TOKEN_RE.find_iter(data) {
        let line = line_at(data, pos, m.start());
        pos = (m.start(), line);
        if skip_lines.contains(&line) {
            continue;
        }
        let token = m.as_bytes();
        let text = String::from_utf8_lossy(token);
        let (kind, confidence, note) = if token.starts_with(b"npm_")
            || (token.starts_with(b"gh") && token[3] == b'_')
        {
            let kind = if token.starts_with(b"npm_") {
                "npm-token"
            } else {
                "github-token"
            };
            if checksum_valid(token) {
                (kind, Confidence::High, " (checksum valid)")
            } else if looks_random(&token[4..], 12) {
                (kind, Confidence::Medium, " (no valid checksum)")
            } else {
                continue;
            }
        } else if token.starts_with(b"github_pat_") {
            if !looks_random(&token[11..], 20) {
                continue;
            }
            ("github-fine-grained-pat", Confidence::High, "")
        } else {
            let body = &token[4..];
            if distinct(body) < 8 || has_sequential_run(body, 5) || has_placeholder_word(token) {
                continue;
            }
            ("aws-access-key-id", Confidence::Medium, "")
        };
        push(
            out,
            file,
            line,
            kind,
            &format!("{}{note}", redact(&text)),
            lower(confidence, file),
        );
    }
}

fn private_keys(file: &str, data: &[u8], out: &mut Vec<Secret>) {
    let mut pos = (0usize, 1u64);
    for caps in PRIVATE_KEY_RE.captures_iter(data) {
        let whole = caps.get(0).expect("group 0");
        let line = line_at(data, pos, whole.start());
        pos = (whole.start(), line);
        let body = key_body(&data[whole.end()..]);
        if body.len() < 64 || entropy(&body) < 4.5 {
            continue;
        }
        let label = String::from_utf8_lossy(&caps[1]).trim().to_string();
        let kind_text = if label.is_empty() {
            "PRIVATE KEY".to_string()
        } else {
            format!("{label} PRIVATE KEY")
        };
        let ext = super::text::extension(file);
        let confidence = if matches!(ext.as_str(), "pem" | "key" | "p8") {
            Confidence::High
        } else {
            Confidence::Medium
        };
        push(
            out,
            file,
            line,
            "private-key",
            &format!(
                "({kind_text}, {} base64 characters of body, redacted)",
                body.len()
            ),
            lower(confidence, file),
        );
    }
}

/// The base64 characters of a PEM body following a BEGIN marker, across newlines, JSON/JS `\n`
/// escapes, quotes and `+` concatenation; stops at `-----` or at code punctuation.
fn key_body(after: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut i = 0;
    let window = &after[..after.len().min(16 * 1024)];
    while i < window.len() {
        let b = window[i];
        if window[i..].starts_with(b"-----") {
            break;
        }
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' => body.push(b),
            // `\n` / `\r` escapes inside string literals.
            b'\\' if matches!(window.get(i + 1), Some(b'n' | b'r')) => i += 1,
            b'=' | b' ' | b'\t' | b'\r' | b'\n' | b'"' | b'\'' | b'`' | b',' | b':' | b'-' => {}
            _ => break,
        }
        i += 1;
    }
    body
}

fn is_placeholder_value(v: &str) -> bool {
    let v = v.trim();
    v.is_empty()
        || v.contains("${")
        || (v.starts_with('<') && v.ends_with('>'))
        || v.bytes().all(|b| b == v.as_bytes()[0])
        || has_placeholder_word(v.as_bytes())
}

fn unquote(v: &str) -> &str {
    let v = v.trim();
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
}

fn npmrc(file: &str, data: &[u8], out: &mut Vec<Secret>, reported: &mut HashSet<u64>) {
    let text = String::from_utf8_lossy(data);
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let Some((key, value)) = trimmed.split_once('=') else {
            continue;
        };
        let key = key.trim();
        let field = key.rsplit(':').next().unwrap_or(key);
        if !matches!(field, "_authToken" | "_auth" | "_password") {
            continue;
        }
        let value = unquote(value);
        if is_placeholder_value(value) {
            continue;
        }
        let line_no = i as u64 + 1;
        reported.insert(line_no);
        push(
            out,
            file,
            line_no,
            "npmrc-auth",
            &format!("{field}={}", redact(value)),
            lower(Confidence::High, file),
        );
    }
}

fn is_dotenv(base: &str) -> bool {
    if base == ".env" {
        return true;
    }
    let Some(suffix) = base.strip_prefix(".env.") else {
        return false;
    };
    !suffix
        .to_ascii_lowercase()
        .split('.')
        .any(|part| ENV_EXEMPT_SUFFIXES.contains(&part))
}

fn dotenv(file: &str, data: &[u8], out: &mut Vec<Secret>) {
    static ASSIGN: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.\-]*)\s*=\s*(.*)$")
            .expect("static regex")
    });
    let text = String::from_utf8_lossy(data);
    let mut assigned = 0usize;
    let mut first: Option<(u64, String, String)> = None;
    let mut best: Option<(u64, String, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let Some(c) = ASSIGN.captures(line) else {
            continue;
        };
        let raw = c[2].trim();
        let value = if raw.starts_with('"') || raw.starts_with('\'') {
            unquote(raw)
        } else {
            raw.split(" #").next().unwrap_or(raw).trim()
        };
        if is_placeholder_value(value) {
            continue;
        }
        assigned += 1;
        let entry = (i as u64 + 1, c[1].to_string(), value.to_string());
        let name = c[1].to_ascii_uppercase();
        let sensitive_name = [
            "TOKEN",
            "SECRET",
            "KEY",
            "PASSWORD",
            "PASSWD",
            "AUTH",
            "CREDENTIAL",
        ]
        .iter()
        .any(|w| name.contains(w));
        let random_value = value.len() >= 16 && entropy(value.as_bytes()) >= 3.0;
        if best.is_none() && (sensitive_name || random_value) {
            best = Some(entry.clone());
        }
        if first.is_none() {
            first = Some(entry);
        }
    }
    let (confidence, shown) = match (&best, &first) {
        (Some(b), _) => (Confidence::High, Some(b)),
        (None, Some(f)) => (Confidence::Medium, Some(f)),
        (None, None) => (Confidence::Low, None),
    };
    let (line, evidence) = match shown {
        Some((line, name, value)) => (
            *line,
            format!(
                "{name}={} ({assigned} assignment(s) with a value)",
                redact(value)
            ),
        ),
        None => (1, "(no assignment with a value)".to_string()),
    };
    push(
        out,
        file,
        line,
        "dotenv-file",
        &evidence,
        lower(confidence, file),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a well-formed token with a valid checksum from 30 characters.
    pub(crate) fn with_checksum(prefix: &str, random30: &str) -> String {
        assert_eq!(random30.len(), 30);
        let mut n = crc32(random30.as_bytes()) as u64;
        let mut enc = [b'0'; 6];
        for slot in enc.iter_mut().rev() {
            *slot = BASE62[(n % 62) as usize];
            n /= 62;
        }
        format!("{prefix}{random30}{}", String::from_utf8_lossy(&enc))
    }

    #[test]
    fn crc32_known_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn checksum_roundtrip() {
        let t = with_checksum("ghp_", "Zq8Lw2RkT9vY3mN1pB6xC4hJ7dF0sG");
        assert!(checksum_valid(t.as_bytes()));
        let mut bad = t.into_bytes();
        bad[5] = if bad[5] == b'a' { b'b' } else { b'a' };
        assert!(!checksum_valid(&bad));
    }

    #[test]
    fn placeholders_are_not_tokens() {
        for body in [
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            "1234567890abcdefghijklmnopqrstuvwxyz",
            "aB1aB1aB1aB1aB1aB1aB1aB1aB1aB1aB1aB1",
            "YourTokenHere0000000000000000000000a",
            "abcdefghijklmnopqrstuvwxyzabcdefghij",
        ] {
            assert!(!looks_random(body.as_bytes(), 12), "{body}");
        }
        assert!(looks_random(b"Zq8Lw2RkT9vY3mN1pB6xC4hJ7dF0sGa1Qe5U", 12));
    }

    #[test]
    fn dotenv_names() {
        assert!(is_dotenv(".env"));
        assert!(is_dotenv(".env.production"));
        assert!(!is_dotenv(".env.example"));
        assert!(!is_dotenv(".env.local.sample"));
        assert!(!is_dotenv(".envrc"));
        assert!(!is_dotenv("env"));
    }
}
