//! Telling a literal credential in a server entry from a reference to one, and redacting it.
//!
//! MCP configs are the user's own files, so unlike tarball scanning there is no "is this a
//! placeholder in a README" question: a literal value here is what the client passes to the
//! server on every start. The question is only whether a value *is* a credential:
//!
//! * **Token-shaped** anywhere in the value: npm (`npm_` + 36), GitHub (`ghp_`/`gho_`/`ghu_`/
//!   `ghs_`/`ghr_` + 36, `github_pat_…`), GitLab (`glpat-…`), Anthropic (`sk-ant-…`), other
//!   `sk-…` API keys (OpenAI and the many services that copied the shape), Stripe
//!   (`sk_live_`/`rk_test_`…), Slack (`xoxb-`/`xoxp-`/…), AWS access key ids (`AKIA`/`ASIA` + 16),
//!   Google API keys (`AIza` + 35), JWTs (`eyJ….eyJ….…`), PEM private keys.
//! * **Secret-named**: the variable, flag or header is named like a credential (a word such as
//!   `TOKEN`, `SECRET(S)`, `PASSWORD`, `PASSWD`, `PASSPHRASE`, `CREDENTIAL(S)`, `API_KEY`/`apiKey`,
//!   `AUTHORIZATION`, `BEARER`, or a compound ending in one, like `authToken` or `clientSecret`)
//!   and its value is a literal. `KEY`, `AUTH`, `PASS`, `PAT`, `PWD` and `COOKIE` also name many
//!   harmless settings (`AUTH_MODE=oauth`, `SORT_KEY=name`, `PASS_THROUGH=enabled`), so under
//!   those words alone the value must look random: two character classes and no spaces, or 16+
//!   characters.
//! * **High entropy**, whatever the name: 24+ characters from the base64/URL-safe alphabet, at
//!   least three of lower/upper/digit, Shannon entropy ≥ 4 bits/char. Hex digests (≤ 4 bits/char
//!   by construction, and common in args as commit ids) fall below that.
//! * **URL credentials**: a password in `scheme://user:password@host`, or a query parameter named
//!   like a credential (`?token=`, `&api_key=`...).
//!
//! Not a secret (a *reference*): `${VAR}`, `${env:VAR}`, `${input:id}`, `${VAR:-default}` (clients
//! and npm expand these at launch), `$VAR`, `%VAR%` and `{{VAR}}`, optionally behind an auth scheme
//! (`Bearer ${input:token}`). Under a secret name these are also not secrets: an empty value,
//! fewer than 6 characters, a number (`MAX_TOKENS=100000`), `true`/`false`/`null`/`none`, a file path (`/…`, `~/…`, `./…`,
//! `C:\…`), a file name with a key-file extension (`key.pem`), a URL without credentials.
//!
//! Evidence is [`redact`]ed: the first 4 characters (usually the token's public prefix) and
//! `***`, and only `***` for values under 12 characters, where 4 characters would be a third of
//! the secret.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::{entropy, redact, AWS_KEY_ID, GITHUB_PAT, GITHUB_TOKEN, NPM_TOKEN};

/// One credential found in a value: what it looks like and which bytes of the value hold it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Hit {
    pub kind: &'static str,
    pub range: Range<usize>,
}

static TOKEN_PATTERNS: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    [
        ("npm token", format!(r"\b{NPM_TOKEN}\b")),
        ("GitHub token", format!(r"\b{GITHUB_TOKEN}\b")),
        ("GitHub fine-grained token", format!(r"\b{GITHUB_PAT}")),
        ("GitLab token", r"\bglpat-[A-Za-z0-9_\-]{20,}".into()),
        ("Anthropic API key", r"\bsk-ant-[A-Za-z0-9_\-]{20,}".into()),
        (
            "sk- API key",
            r"\bsk-(?:proj-|svcacct-|admin-|or-v1-)?[A-Za-z0-9_\-]{20,}".into(),
        ),
        ("Stripe key", r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}".into()),
        ("Slack token", r"\bxox[abposr]-[A-Za-z0-9\-]{10,}".into()),
        ("AWS access key id", format!(r"\b{AWS_KEY_ID}\b")),
        ("Google API key", r"\bAIza[0-9A-Za-z_\-]{35}".into()),
        (
            "JWT",
            r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}".into(),
        ),
        (
            "private key",
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[^-]*(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----)?".into(),
        ),
    ]
    .into_iter()
    .map(|(k, p): (&'static str, String)| (k, Regex::new(&p).expect("static regex")))
    .collect()
});

/// A user name alone before `@` (`https://TOKEN@host/`): git and many APIs take a token there.
pub(crate) const URL_USER_KIND: &str = "user name in URL";

/// A value of JFrog's wrapper arguments (`_JF_ARGS`) under a key other than `project` and `mcp`:
/// hidden, since what the wrapper passes there is not documented and may be a token, but not
/// reported as a written credential unless it looks like one.
pub(crate) const JF_ARG_KIND: &str = "JFrog wrapper argument";

/// The environment variables JFrog's MCP wrappers read their arguments from, as a query string
/// (`project=…&mcp=…`): `@jfrog/agent-guard` reads `_JF_ARGS`, the older `@jfrog/mcp-gateway`
/// `_JF_MCP_LOADER_ARGS` (docs/design.md, "JFrog wrappers").
const JFROG_ARGS_VARS: [&str; 2] = ["_JF_ARGS", "_JF_MCP_LOADER_ARGS"];

/// The keys of those arguments that name what is run, never a credential.
const JFROG_PUBLIC_KEYS: [&str; 2] = ["project", "mcp"];

fn is_jfrog_args_name(name: &str) -> bool {
    JFROG_ARGS_VARS.contains(&name)
}

/// Each `key=value` pair of a JFrog wrapper's arguments judged on its own, as a value named by
/// its key (`token=…` is secret-named); every value under a key other than `project` and `mcp`
/// is hidden whatever it looks like.
fn jfrog_args_hits(value: &str) -> Vec<Hit> {
    let mut hits = Vec::new();
    let mut start = 0;
    for pair in value.split('&') {
        let (key, val, at) = match pair.split_once('=') {
            Some((k, v)) => (k, v, start + k.len() + 1),
            None => ("", pair, start),
        };
        // A key spelled like the variable itself would recurse once per `=`: judge it unnamed.
        let named = (!is_jfrog_args_name(key)).then_some(key);
        let mut found: Vec<Hit> = scan_value(named, val)
            .into_iter()
            .map(|h| Hit {
                kind: h.kind,
                range: h.range.start + at..h.range.end + at,
            })
            .collect();
        let public = JFROG_PUBLIC_KEYS.contains(&key.trim().to_ascii_lowercase().as_str());
        if found.is_empty() && !public && !val.trim().is_empty() && !is_reference_only(val) {
            found.push(Hit {
                kind: JF_ARG_KIND,
                range: at..at + val.len(),
            });
        }
        hits.extend(found);
        start += pair.len() + 1;
    }
    hits
}

/// `scheme://user@` with no password: the user name is group 1.
static URL_USER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z][A-Za-z0-9+.\-]*://([^/@\s:?#]+)@").expect("static regex")
});

/// `scheme://user:password@` — the password is group 1.
static URL_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z][A-Za-z0-9+.\-]*://[^/@\s:]*:([^/@\s]+)@").expect("static regex")
});

/// A credential-named query parameter; the value is group 2.
static URL_QUERY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)[?&]((?:[a-z0-9_\-]*_)?(?:token|access_token|api_?key|apikey|key|secret|password|passwd|auth|sig|signature|code))=([^&#\s]+)",
    )
    .expect("static regex")
});

/// Client-side and shell references: the client, npm or a shell substitutes the real value at
/// launch, so the file itself holds no secret.
static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|%[A-Za-z_][A-Za-z0-9_]*%|\{\{[^}]*\}\}")
        .expect("static regex")
});

/// Words that mark a credential wherever they appear in a name.
const STRONG_WORDS: &[&str] = &[
    "token",
    "secret",
    "secrets",
    "password",
    "passwd",
    "passphrase",
    "credential",
    "credentials",
    "apikey",
    "bearer",
    "authorization",
];

/// Compound words ending like these are credentials too: `authtoken`, `clientsecret`.
const STRONG_SUFFIXES: &[&str] = &["token", "secret", "password", "passwd", "apikey"];

/// Words that name credentials but also many ordinary settings (`SORT_KEY`, `AUTH_MODE`,
/// `PASS_THROUGH`, `PWD`, `COOKIE_NAME`).
const WEAK_WORDS: &[&str] = &["key", "auth", "pass", "pat", "pwd", "cookie"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NameStrength {
    Strong,
    Weak,
}

/// Lower-cased words of a name, split at non-alphanumerics and camelCase humps:
/// `npm_config_//h/:_authToken` → npm, config, h, auth, token; `apiKey` → api, key.
fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Whether `name` (an env variable, a flag without dashes, a header) names a credential.
pub(crate) fn secret_name(name: &str) -> Option<NameStrength> {
    if npm_secret_key(name) {
        return Some(NameStrength::Strong);
    }
    let words = name_words(name);
    // `api_key` / `API-KEY` are one idea in two words.
    let joined: Vec<String> = words
        .windows(2)
        .map(|w| format!("{}{}", w[0], w[1]))
        .collect();
    let strong = words.iter().chain(joined.iter()).any(|w| {
        STRONG_WORDS.contains(&w.as_str())
            || STRONG_SUFFIXES
                .iter()
                .any(|s| w.len() > s.len() && w.ends_with(s))
    });
    if strong {
        return Some(NameStrength::Strong);
    }
    if words.iter().any(|w| WEAK_WORDS.contains(&w.as_str())) {
        return Some(NameStrength::Weak);
    }
    None
}

/// npm's credential keys (`_authToken`, `_auth`, `_password`, nerf-darted or not), as
/// `npmrc::layer::is_secret_key` defines them, also when still spelled as an `npm_config_*`
/// variable name.
pub(crate) fn npm_secret_key(key: &str) -> bool {
    let leaf = key.rsplit(':').next().unwrap_or(key).to_ascii_lowercase();
    let leaf = leaf.strip_prefix("npm_config_").unwrap_or(&leaf);
    matches!(leaf, "_authtoken" | "-authtoken" | "_auth" | "_password")
}

/// The part of a value that is not a reference or an auth scheme word.
fn literal_part(value: &str) -> String {
    let stripped = REFERENCE.replace_all(value, " ");
    stripped
        .split_whitespace()
        .filter(|w| {
            !matches!(
                w.to_ascii_lowercase().as_str(),
                "bearer" | "basic" | "token" | "apikey" | "api-key"
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// True when every secret-bearing part of the value is a reference (`${VAR}`, `${input:x}`...).
pub(crate) fn is_reference_only(value: &str) -> bool {
    REFERENCE.is_match(value) && literal_part(value).trim().is_empty()
}

fn looks_like_path(v: &str) -> bool {
    let b = v.as_bytes();
    v.starts_with('/')
        || v.starts_with("~/")
        || v.starts_with("./")
        || v.starts_with("../")
        || v.starts_with("\\\\")
        || (b.len() > 2
            && b[0].is_ascii_alphabetic()
            && b[1] == b':'
            && matches!(b[2], b'\\' | b'/'))
}

fn looks_like_key_file(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    !lower.contains(char::is_whitespace)
        && [
            ".pem", ".key", ".json", ".crt", ".cer", ".p12", ".pfx", ".txt", ".env", ".pub",
        ]
        .iter()
        .any(|e| lower.ends_with(e))
}

fn char_classes(v: &str) -> usize {
    [
        v.chars().any(|c| c.is_ascii_lowercase()),
        v.chars().any(|c| c.is_ascii_uppercase()),
        v.chars().any(|c| c.is_ascii_digit()),
        v.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count()
}

fn high_entropy(v: &str) -> bool {
    v.len() >= 24
        && !v.contains("://")
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/=_-.~".contains(c))
        && [
            v.chars().any(|c| c.is_ascii_lowercase()),
            v.chars().any(|c| c.is_ascii_uppercase()),
            v.chars().any(|c| c.is_ascii_digit()),
        ]
        .iter()
        .all(|b| *b)
        && entropy(v.as_bytes()) >= 4.0
}

/// Whether a literal value under a secret name is plausibly the credential itself.
fn named_value_is_secret(strength: NameStrength, value: &str) -> bool {
    let v = value.trim();
    if v.chars().count() < 6
        || v.chars().all(|c| c.is_ascii_digit() || c == '.')
        || matches!(
            v.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "none" | "undefined" | "changeme"
        )
        || looks_like_path(v)
        || looks_like_key_file(v)
    {
        return false;
    }
    if v.contains("://") {
        // A URL under a secret name (`AUTH_URL`) is an address; its own credentials are
        // found by the URL rules.
        return false;
    }
    match strength {
        NameStrength::Strong => true,
        NameStrength::Weak => {
            (char_classes(v) >= 2 && !v.contains(char::is_whitespace)) || v.len() >= 16
        }
    }
}

/// Every credential in `value`, given the name it is stored under if any. Hits do not overlap
/// and come in text order.
pub(crate) fn scan_value(name: Option<&str>, value: &str) -> Vec<Hit> {
    if name.is_some_and(is_jfrog_args_name) {
        return jfrog_args_hits(value);
    }
    let mut hits: Vec<Hit> = Vec::new();
    let push = |hits: &mut Vec<Hit>, kind: &'static str, range: Range<usize>| {
        if range.is_empty() || hits.iter().any(|h| overlaps(&h.range, &range)) {
            return;
        }
        // A reference inside a URL (`?token=${TOKEN}`) is not a literal.
        if is_reference_only(&value[range.clone()]) {
            return;
        }
        hits.push(Hit { kind, range });
    };
    for (kind, re) in TOKEN_PATTERNS.iter() {
        for m in re.find_iter(value) {
            push(&mut hits, kind, m.range());
        }
    }
    for c in URL_PASSWORD.captures_iter(value) {
        if let Some(m) = c.get(1) {
            push(&mut hits, "password in URL", m.range());
        }
    }
    for c in URL_USER.captures_iter(value) {
        if let Some(m) = c.get(1) {
            push(&mut hits, URL_USER_KIND, m.range());
        }
    }
    for c in URL_QUERY.captures_iter(value) {
        if let Some(m) = c.get(2) {
            push(&mut hits, "credential in URL query", m.range());
        }
    }
    if hits.is_empty() && !is_reference_only(value) {
        if let Some(strength) = name.and_then(secret_name) {
            if named_value_is_secret(strength, &literal_part(value)) {
                let range = secret_span(value);
                push(&mut hits, "secret-named value", range);
            }
        }
    }
    if hits.is_empty() && high_entropy(value.trim()) {
        let start = value.len() - value.trim_start().len();
        push(
            &mut hits,
            "high-entropy string",
            start..start + value.trim().len(),
        );
    }
    hits.sort_by_key(|h| h.range.start);
    hits
}

/// The value without a leading auth scheme (`Bearer abc…` → `abc…`), so evidence shows the
/// secret's own first characters.
fn secret_span(value: &str) -> Range<usize> {
    let trimmed_start = value.len() - value.trim_start().len();
    let rest = &value[trimmed_start..];
    for scheme in ["bearer ", "basic ", "token "] {
        if rest.len() > scheme.len()
            && rest
                .get(..scheme.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(scheme))
        {
            let after = &rest[scheme.len()..];
            let skip = after.len() - after.trim_start().len();
            let start = trimmed_start + scheme.len() + skip;
            return start..value.trim_end().len().max(start);
        }
    }
    trimmed_start..value.trim_end().len().max(trimmed_start)
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// `value` with every credential in it redacted.
pub(crate) fn redact_value(name: Option<&str>, value: &str) -> String {
    apply(value, &scan_value(name, value))
}

fn apply(value: &str, hits: &[Hit]) -> String {
    if hits.is_empty() {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len());
    let mut at = 0;
    for h in hits {
        out.push_str(&value[at..h.range.start]);
        out.push_str(&redact(&value[h.range.clone()]));
        at = h.range.end;
    }
    out.push_str(&value[at..]);
    out
}

/// A credential among a command's arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ArgHit {
    pub index: usize,
    pub hit: Hit,
}

/// `--flag` or `-f` without a value: the flag's name.
fn bare_flag(arg: &str) -> Option<&str> {
    if arg.contains('=') || arg.contains(char::is_whitespace) {
        return None;
    }
    let name = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-'))?;
    (!name.is_empty()).then_some(name)
}

/// Credentials in one argument, given the argument before it.
fn scan_arg(prev: Option<&str>, arg: &str) -> Vec<Hit> {
    // `--token=abc`, `-e GITHUB_TOKEN=abc` (the second word), `TOKEN=abc`.
    if let Some(eq) = arg.find('=') {
        let key = arg[..eq].trim_start_matches('-');
        let is_name = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.:/@".contains(c));
        if is_name && !arg[..eq].contains("://") {
            let value = &arg[eq + 1..];
            return offset(scan_value(Some(key), value), eq + 1);
        }
    }
    // `Authorization: Bearer abc`, `X-Api-Key:abc` (mcp-remote's `--header` values).
    if let Some(colon) = arg.find(':') {
        let key = &arg[..colon];
        if !key.is_empty()
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !arg[colon..].starts_with("://")
        {
            let value = &arg[colon + 1..];
            return offset(scan_value(Some(key), value), colon + 1);
        }
    }
    // `--token abc`.
    let flag = prev.and_then(bare_flag);
    if arg.contains(char::is_whitespace) {
        return scan_words(arg);
    }
    scan_value(flag, arg)
}

fn offset(hits: Vec<Hit>, by: usize) -> Vec<Hit> {
    hits.into_iter()
        .map(|h| Hit {
            kind: h.kind,
            range: h.range.start + by..h.range.end + by,
        })
        .collect()
}

/// Credentials in a command line held in one string (`sh -c "…"`), word by word, so that
/// `--token abc` inside a script is seen as it would be in an argument list.
pub(crate) fn scan_words(text: &str) -> Vec<Hit> {
    let mut hits: Vec<Hit> = Vec::new();
    let mut prev: Option<&str> = None;
    for (start, word) in words_with_offsets(text) {
        // Quotes around a word are shell syntax, not part of the value.
        let inner_start = word.len() - word.trim_start_matches(['"', '\'']).len();
        let inner = word
            .trim_start_matches(['"', '\''])
            .trim_end_matches(['"', '\'', ';', ')']);
        if !inner.contains(char::is_whitespace) {
            for h in scan_arg(prev, inner) {
                let range = h.range.start + start + inner_start..h.range.end + start + inner_start;
                if !hits.iter().any(|x| overlaps(&x.range, &range)) {
                    hits.push(Hit {
                        kind: h.kind,
                        range,
                    });
                }
            }
        }
        prev = Some(inner);
    }
    // Whole-string patterns that whitespace splits (a PEM block, `Bearer` + token).
    for h in scan_value(None, text) {
        if !hits.iter().any(|x| overlaps(&x.range, &h.range)) {
            hits.push(h);
        }
    }
    hits.sort_by_key(|h| h.range.start);
    hits
}

fn words_with_offsets(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

/// Every credential among `args`.
pub(crate) fn scan_args(args: &[String]) -> Vec<ArgHit> {
    let mut out = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| args[p].as_str());
        for hit in scan_arg(prev, arg) {
            out.push(ArgHit { index: i, hit });
        }
    }
    out
}

/// `args` with every credential redacted.
pub(crate) fn redact_args(args: &[String]) -> Vec<String> {
    let hits = scan_args(args);
    args.iter()
        .enumerate()
        .map(|(i, a)| {
            let mine: Vec<Hit> = hits
                .iter()
                .filter(|h| h.index == i)
                .map(|h| h.hit.clone())
                .collect();
            apply(a, &mine)
        })
        .collect()
}

/// A command line with every credential redacted.
pub(crate) fn redact_words(text: &str) -> String {
    apply(text, &scan_words(text))
}

#[cfg(test)]
mod tests {
    #[test]
    fn jfrog_wrapper_arguments_hide_every_value_but_project_and_mcp() {
        let v = "project=my-proj&mcp=@acme/server&server=ide&token=abc123def456";
        let hits = scan_value(Some("_JF_ARGS"), v);
        let shown: Vec<(&str, &str)> = hits.iter().map(|h| (h.kind, &v[h.range.clone()])).collect();
        assert_eq!(
            shown,
            [(JF_ARG_KIND, "ide"), ("secret-named value", "abc123def456")]
        );
        assert_eq!(
            redact_value(Some("_JF_MCP_LOADER_ARGS"), v),
            "project=my-proj&mcp=@acme/server&server=***&token=abc1***"
        );
        // Nothing secret, nothing hidden; a reference is not a literal.
        assert!(scan_value(Some("_JF_ARGS"), "project=p&mcp=x").is_empty());
        assert!(scan_value(Some("_JF_ARGS"), "project=p&mcp=x&key=${input:k}").is_empty());
        // A token is found whatever key it is under, and in a malformed value.
        let npm = format!("npm_{}", "a".repeat(36));
        assert_eq!(scan_value(Some("_JF_ARGS"), &format!("mcp={npm}")).len(), 1);
        assert_eq!(scan_value(Some("_JF_ARGS"), &npm).len(), 1);
        // A hostile value that nests the variable's own name does not recurse per `=`.
        let deep = format!("{}x", "_JF_ARGS=".repeat(100_000));
        assert_eq!(scan_value(Some("_JF_ARGS"), &deep).len(), 1);
    }

    use super::*;

    const NPM: &str = "npm_FAKEt0kenF0rTestsOnlyAbCdEfGh1234567";
    const GHP: &str = "ghp_FAKEt0kenF0rTestsOnlyAbCdEfGh1234567";

    #[test]
    fn token_shapes() {
        assert_eq!(NPM.len(), 40);
        for (v, kind) in [
            (NPM, "npm token"),
            (GHP, "GitHub token"),
            (
                "github_pat_11FAKE0000000000000000_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVW",
                "GitHub fine-grained token",
            ),
            ("sk-proj-FAKEabcdefghijklmnopqrstuvwx", "sk- API key"),
            ("sk-ant-api03-FAKEabcdefghijklmnopqrst", "Anthropic API key"),
            ("xoxb-0000000000-FAKEFAKEFAKE", "Slack token"),
            ("AKIAFAKE0000EXAMPLE0", "AWS access key id"),
        ] {
            let hits = scan_value(None, v);
            assert_eq!(hits.len(), 1, "{v}");
            assert_eq!(hits[0].kind, kind, "{v}");
        }
        assert!(scan_value(None, "task-runner-with-a-long-name").is_empty());
    }

    #[test]
    fn names() {
        for n in [
            "GITHUB_TOKEN",
            "apiKey",
            "API_KEY",
            "clientSecret",
            "DB_PASSWORD",
            "npm_config_//npm.acme.dev/:_authToken",
            "npm_config__auth",
            "Authorization",
            "GITHUB_PERSONAL_ACCESS_TOKEN",
        ] {
            assert_eq!(secret_name(n), Some(NameStrength::Strong), "{n}");
        }
        assert_eq!(secret_name("SORT_KEY"), Some(NameStrength::Weak));
        assert_eq!(secret_name("AUTH_MODE"), Some(NameStrength::Weak));
        for n in ["KEYBOARD", "AUTHOR", "LOG_LEVEL", "monkey", "TOKENIZER"] {
            assert_eq!(secret_name(n), None, "{n}");
        }
    }

    #[test]
    fn references_are_not_secrets() {
        for v in [
            "${GITHUB_TOKEN}",
            "${env:GITHUB_TOKEN}",
            "${input:github-token}",
            "Bearer ${input:token}",
            "$GITHUB_TOKEN",
            "%GITHUB_TOKEN%",
            "${NPM_TOKEN?}",
        ] {
            assert!(scan_value(Some("GITHUB_TOKEN"), v).is_empty(), "{v}");
        }
        for v in [
            "",
            "true",
            "/home/me/.key",
            "key.pem",
            "https://auth.example.com/",
        ] {
            assert!(scan_value(Some("AUTH_TOKEN"), v).is_empty(), "{v}");
        }
        assert!(scan_value(Some("AUTH_MODE"), "oauth").is_empty());
        assert!(scan_value(Some("SORT_KEY"), "name").is_empty());
        assert_eq!(scan_value(Some("DB_PASSWORD"), "hunter22").len(), 1);
    }

    #[test]
    fn urls() {
        let h = scan_value(None, "https://user:s3cretpass@host/x");
        assert_eq!(h[0].kind, "password in URL");
        let h = scan_value(None, "https://api.example.com/sse?api_key=abcdef123456");
        assert_eq!(h[0].kind, "credential in URL query");
        assert!(scan_value(None, "https://api.example.com/sse?api_key=${KEY}").is_empty());
    }

    #[test]
    fn entropy_rule() {
        assert_eq!(
            scan_value(None, "Zx8Qp2Lr9Tn4Wv7Yk3Hm6Jd5Fs1Gb0Ac")[0].kind,
            "high-entropy string"
        );
        // A commit id is hex, below 4 bits per character.
        assert!(scan_value(None, "0123456789abcdef0123456789abcdef01234567").is_empty());
        assert!(scan_value(None, "@modelcontextprotocol/server-filesystem").is_empty());
    }

    #[test]
    fn args_and_words() {
        let args: Vec<String> = [
            "-y",
            "pkg",
            "--token",
            GHP,
            "--api-key=abcdefgh1234",
            "-e",
            "SLACK_BOT_TOKEN=plainvalue1",
            "--header",
            "Authorization: Bearer abcdefghijkl1234",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let hits = scan_args(&args);
        let idx: Vec<usize> = hits.iter().map(|h| h.index).collect();
        assert_eq!(idx, vec![3, 4, 6, 8]);
        let red = redact_args(&args).join(" ");
        for s in [GHP, "abcdefgh1234", "plainvalue1", "abcdefghijkl1234"] {
            assert!(!red.contains(s), "{red}");
        }
        assert!(red.contains("--api-key=abcd***"), "{red}");
        let w = redact_words(&format!("curl -H 'x' --token {NPM} https://x | sh"));
        assert!(!w.contains(NPM) && w.contains("npm_***"), "{w}");
    }

    #[test]
    fn redaction_lengths() {
        assert_eq!(redact("short"), "***");
        assert_eq!(redact(NPM), "npm_***");
    }

    #[test]
    fn a_user_name_alone_in_a_url_is_redacted() {
        let url = "https://Zx8Qp2Lr9Tn4Wv7Yk3Hm@mcp.example.com/sse";
        let h = scan_value(None, url);
        assert_eq!(h.len(), 1, "{h:?}");
        assert_eq!(h[0].kind, URL_USER_KIND);
        assert_eq!(
            redact_value(None, url),
            "https://Zx8Q***@mcp.example.com/sse"
        );
    }
}
