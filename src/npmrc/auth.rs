//! Which credential npm would send with a request, by "nerf-dart" keys
//! (`//host[:port]/path/:_authToken`), following npm-registry-fetch `lib/auth.js` and
//! `@npmcli/config` `lib/nerf-dart.js`.

use std::fmt;

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde::{Serialize, Serializer};
use url::Url;

use super::layer::ConfigSource;
use super::resolve::{is_truthy, Config, Setting};

/// A credential. It prints as `***` through Debug, Display and Serialize, so it cannot reach a
/// log, an error message or JSON by accident; [`Secret::expose`] is the only way to the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The clear-text value, for the one place that must send it (an HTTP header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

/// Which form of credential was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    /// `:_authToken`, sent as `Bearer <token>`.
    Token,
    /// `:_auth`, already `base64(user:password)`, sent as `Basic <_auth>`.
    Basic,
    /// `:username` + `:_password` (base64 of the password), sent as
    /// `Basic base64(username:password)`.
    UsernamePassword,
}

/// A client certificate configured by `:certfile` + `:keyfile`. npm reads both files and uses
/// them for mutual TLS; mcp-audit does not support that and only reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClientCert {
    pub certfile: String,
    pub keyfile: String,
}

/// The credential npm would send, and where it was configured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResolvedAuth {
    /// The whole `Authorization` header value: `Bearer …` or `Basic …`.
    pub header_value: Secret,
    pub kind: AuthKind,
    /// Where the secret-bearing key (`_authToken`, `_auth` or `_password`) was set.
    pub source: ConfigSource,
    pub line: Option<usize>,
    /// The secret-bearing key, e.g. `//127.0.0.1:4873/:_authToken`.
    pub key: String,
    /// The nerf-dart prefix that matched, e.g. `//127.0.0.1:4873/`.
    pub reg_key: String,
    /// A client certificate configured at the same prefix (unsupported, reported).
    pub client_cert: Option<ClientCert>,
    /// True when the request URL itself matched nothing and npm's same-host fallback to the
    /// package's registry supplied the credential (see [`Config::auth_for_request`]).
    pub via_registry_fallback: bool,
    /// Things that make this credential unlikely to work, worded without its value.
    pub warnings: Vec<String>,
}

/// npm's nerf-dart of a URL (`@npmcli/config` `nerf-dart.js`): `//host[:port]` and the path up
/// to its last `/`, i.e. `new URL('.', url)`. Query and fragment are dropped; the port only
/// appears when it is not the scheme's default. `https://x.jfrog.io/artifactory/api/npm/npm-local`
/// (no trailing slash) nerfs to `//x.jfrog.io/artifactory/api/npm/`: the classic reason why a
/// registry is best written with its trailing slash.
pub fn nerf_dart(url: &Url) -> String {
    let dir = url.join(".").unwrap_or_else(|_| url.clone());
    format!("//{}{}", host_port(&dir), dir.path())
}

/// WHATWG `URL.host`: host name, plus `:port` when not the default.
fn host_port(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => String::new(),
    }
}

/// The candidate keys npm-registry-fetch `regFromURI` tries, longest first: it starts from
/// `//host[:port]/path` and repeatedly removes either the last path segment or a trailing `/`,
/// stopping before `//`. A key therefore matches only on whole path segments, with or without
/// its trailing slash: `//h/a/b/`, `//h/a/b`, `//h/a/`, `//h/a`, `//h/`, `//h`.
pub fn reg_key_candidates(url: &Url) -> Vec<String> {
    let mut key = format!("//{}{}", host_port(url), url.path());
    let mut out = Vec::new();
    while key.len() > 2 {
        out.push(key.clone());
        if key.ends_with('/') {
            key.pop();
        } else {
            let cut = key.rfind('/').map_or(0, |i| i + 1);
            key.truncate(cut);
        }
    }
    out
}

enum Found<'a> {
    Token(&'a Setting),
    Auth(&'a Setting),
    UserPass(&'a Setting, &'a Setting),
    CertOnly,
}

impl Config {
    /// npm-registry-fetch `hasAuth`, in its order: `_authToken`, `_auth`, `username` with
    /// `_password`, `certfile` with `keyfile`; each must be truthy.
    fn has_auth(&self, reg_key: &str) -> Option<Found<'_>> {
        let get = |suffix: &str| self.truthy(&format!("{reg_key}:{suffix}"));
        if let Some(t) = get("_authToken") {
            return Some(Found::Token(t));
        }
        if let Some(a) = get("_auth") {
            return Some(Found::Auth(a));
        }
        if let (Some(u), Some(p)) = (get("username"), get("_password")) {
            return Some(Found::UserPass(u, p));
        }
        if get("certfile").is_some() && get("keyfile").is_some() {
            return Some(Found::CertOnly);
        }
        None
    }

    fn reg_from_uri(&self, url: &Url) -> Option<(String, Found<'_>)> {
        reg_key_candidates(url)
            .into_iter()
            .find_map(|k| self.has_auth(&k).map(|f| (k, f)))
    }

    fn client_cert_at(&self, reg_key: &str) -> Option<ClientCert> {
        let certfile = self.truthy(&format!("{reg_key}:certfile"))?;
        let keyfile = self.truthy(&format!("{reg_key}:keyfile"))?;
        Some(ClientCert {
            certfile: certfile.value.clone(),
            keyfile: keyfile.value.clone(),
        })
    }

    /// The credential for exactly this URL, by longest nerf-dart prefix (npm-registry-fetch
    /// `regFromURI` + the `Auth` constructor). A token for host A is never returned for host B,
    /// for another port, or for a sibling path (`//h/a/` does not cover `/ab/` or `/b/`).
    ///
    /// `None` also when the longest matching prefix holds only `certfile`/`keyfile`: npm stops
    /// there and sends no `Authorization` header (see [`Config::client_cert_for_url`]).
    pub fn auth_for_url(&self, url: &Url) -> Option<ResolvedAuth> {
        let (reg_key, found) = self.reg_from_uri(url)?;
        self.build_auth(reg_key, found, false)
    }

    /// The credential npm would send with a request made on behalf of `package` (None for a
    /// request not tied to one): npm-registry-fetch `getAuth`.
    ///
    /// When nothing matches the URL itself, npm falls back to the package's registry (its own
    /// `@scope:registry`, else `registry`; the `scope` setting is not consulted here) **only if
    /// the URL is on the same host and port as that registry** — `URL.host` equality, which
    /// ignores the scheme and the path. So a tarball at `https://h/other/x.tgz` gets the
    /// credential of registry `https://h/npm/`, but a tarball or attestation URL on any other
    /// host gets none. `always-auth` no longer changes this (npm ≥ 7.10 ignores it).
    pub fn auth_for_request(&self, url: &Url, package: Option<&str>) -> Option<ResolvedAuth> {
        if let Some((reg_key, found)) = self.reg_from_uri(url) {
            return self.build_auth(reg_key, found, false);
        }
        let registry = self.auth_fallback_registry(package)?;
        if &registry != url && host_port(&registry) == host_port(url) {
            let (reg_key, found) = self.reg_from_uri(&registry)?;
            return self.build_auth(reg_key, found, true);
        }
        None
    }

    /// The client certificate npm would present for this URL, if the longest matching prefix
    /// configures one. mcp-audit does not do mutual TLS; callers report it as unsupported.
    pub fn client_cert_for_url(&self, url: &Url) -> Option<ClientCert> {
        let (reg_key, _) = self.reg_from_uri(url)?;
        self.client_cert_at(&reg_key)
    }

    fn build_auth(
        &self,
        reg_key: String,
        found: Found<'_>,
        fallback: bool,
    ) -> Option<ResolvedAuth> {
        let mut warnings = Vec::new();
        let (header, kind, secret_setting) = match found {
            Found::Token(t) => (format!("Bearer {}", t.value), AuthKind::Token, t),
            Found::Auth(a) => (format!("Basic {}", a.value), AuthKind::Basic, a),
            Found::UserPass(u, p) => {
                if !looks_like_base64(&p.value) {
                    warnings.push(format!(
                        "{} is not base64: npm decodes it as base64 anyway, so the password \
                         sent is not the one written (store base64(password))",
                        p.key
                    ));
                }
                let password = String::from_utf8_lossy(&node_base64_decode(&p.value)).into_owned();
                let pair = format!("{}:{password}", u.value);
                let encoded = base64::engine::general_purpose::STANDARD.encode(pair.as_bytes());
                (format!("Basic {encoded}"), AuthKind::UsernamePassword, p)
            }
            Found::CertOnly => return None,
        };
        if let Some(var) = unexpanded_var(&secret_setting.value) {
            warnings.push(format!(
                "{} still contains ${{{var}}}: the variable was not set when the config was \
                 read, so npm sends that text literally",
                secret_setting.key
            ));
        }
        Some(ResolvedAuth {
            header_value: Secret::new(header),
            kind,
            source: secret_setting.source.clone(),
            line: secret_setting.line,
            key: secret_setting.key.clone(),
            client_cert: self.client_cert_at(&reg_key),
            reg_key,
            via_registry_fallback: fallback,
            warnings,
        })
    }

    /// For a URL that gets no credential, a configured credential key for the same host name
    /// that does not match it — wrong path, a path the URL is not under, a different port, a
    /// differently-cased host or key name — and the key that *would* match, so the CLI can say
    /// "your token is configured for //host/other/ — the key that would match is …".
    ///
    /// The suggested key is the URL's nerf-dart (for a registry URL with its trailing slash,
    /// `//host/path/to/registry/`) with the found key's credential name.
    pub fn auth_key_hint(&self, url: &Url) -> Option<AuthKeyHint> {
        if self.reg_from_uri(url).is_some() {
            return None;
        }
        let host = url.host_str()?.to_ascii_lowercase();
        let expected_reg = nerf_dart(url);
        let mut best: Option<(usize, AuthKeyHint)> = None;
        for s in self.settings() {
            if !s.key.starts_with("//") || !is_truthy(&s.value) {
                continue;
            }
            let Some((reg, name)) = s.key.rsplit_once(':') else {
                continue;
            };
            let Some(canonical) = CRED_NAMES.iter().find(|n| n.eq_ignore_ascii_case(name)) else {
                continue;
            };
            let key_host = reg[2..].split('/').next().unwrap_or("");
            let key_hostname = strip_port(key_host).to_ascii_lowercase();
            if key_hostname != host {
                continue;
            }
            let mut reasons = Vec::new();
            if name != *canonical {
                reasons.push(format!(
                    "the key name is `{name}`, npm only reads `{canonical}`"
                ));
            }
            let url_host = host_port(url);
            let reg_path = &reg[2 + key_host.len()..];
            if key_host != url_host {
                reasons.push(format!(
                    "the key names `{key_host}`, the URL is on `{url_host}`"
                ));
            } else if !path_covers(reg_path, url.path()) {
                reasons.push(format!(
                    "the key is for path `{reg_path}`, the URL's path is `{}`",
                    url.path()
                ));
            }
            if *canonical == "username" || *canonical == "_password" {
                let other = if *canonical == "username" {
                    "_password"
                } else {
                    "username"
                };
                if self.truthy(&format!("{reg}:{other}")).is_none() {
                    reasons.push(format!("`{canonical}` is set without `{other}`"));
                }
            }
            if reasons.is_empty() {
                reasons.push("the key does not cover this URL".into());
            }
            let score = common_prefix(
                &s.key.to_ascii_lowercase(),
                &expected_reg.to_ascii_lowercase(),
            );
            let hint = AuthKeyHint {
                configured_key: s.key.clone(),
                source: s.source.clone(),
                line: s.line,
                expected_key: format!("{expected_reg}:{canonical}"),
                reason: reasons.join("; "),
            };
            if best.as_ref().is_none_or(|(b, _)| score > *b) {
                best = Some((score, hint));
            }
        }
        best.map(|(_, h)| h)
    }
}

impl Config {
    /// Every credential value in this configuration, as written and in the forms sent on the
    /// wire (the decoded `_password`, the `Basic` pair), for scrubbing from output: a registry
    /// can reflect a user's own token back to them.
    pub fn secret_values(&self) -> Vec<String> {
        let mut out = Vec::new();
        for s in self.settings() {
            let name = s.key.rsplit_once(':').map_or(s.key.as_str(), |(_, n)| n);
            let value = s.value.as_str();
            if value.is_empty() {
                continue;
            }
            if name.eq_ignore_ascii_case("_authToken") || name.eq_ignore_ascii_case("_auth") {
                out.push(value.to_string());
                if name.eq_ignore_ascii_case("_auth") {
                    let pair = String::from_utf8_lossy(&node_base64_decode(value)).into_owned();
                    out.extend(pair.split_once(':').map(|(_, p)| p.to_string()));
                }
            } else if name.eq_ignore_ascii_case("_password") {
                out.push(value.to_string());
                let password = String::from_utf8_lossy(&node_base64_decode(value)).into_owned();
                if let Some(user) = s
                    .key
                    .rsplit_once(':')
                    .and_then(|(reg, _)| self.truthy(&format!("{reg}:username")))
                {
                    let pair = format!("{}:{password}", user.value);
                    out.push(base64::engine::general_purpose::STANDARD.encode(pair.as_bytes()));
                }
                out.push(password);
            }
        }
        out.retain(|v| !v.is_empty());
        out
    }
}

const CRED_NAMES: [&str; 4] = ["_authToken", "_auth", "_password", "username"];

/// Why a URL gets no credential although one is configured for its host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuthKeyHint {
    /// The key that is configured, e.g. `//x.jfrog.io/artifactory/api/npm/other/:_authToken`.
    pub configured_key: String,
    pub source: ConfigSource,
    pub line: Option<usize>,
    /// The key that would match, e.g. `//x.jfrog.io/artifactory/api/npm/npm-local/:_authToken`.
    pub expected_key: String,
    /// Why the configured key does not match, without any value.
    pub reason: String,
}

impl fmt::Display for AuthKeyHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.source.at(self.line);
        write!(
            f,
            "a credential is configured as `{}` ({at}) but does not apply: {}. The key that would \
             match is `{}`",
            self.configured_key, self.reason, self.expected_key
        )
    }
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map_or(host, |(h, _)| &host[..h.len() + 1]);
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

/// Whether a key path covers a URL path the way `reg_key_candidates` walks: whole segments,
/// with or without the key's trailing slash.
fn path_covers(reg_path: &str, url_path: &str) -> bool {
    let bare = reg_path.trim_end_matches('/');
    url_path == bare || url_path.starts_with(&format!("{bare}/"))
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

fn unexpanded_var(value: &str) -> Option<&str> {
    let start = value.find("${")? + 2;
    let end = value[start..].find('}')? + start;
    Some(value[start..end].trim_end_matches('?'))
}

fn looks_like_base64(s: &str) -> bool {
    let s = s.trim();
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
}

/// `Buffer.from(s, 'base64')`: accepts the URL-safe alphabet too, skips characters outside the
/// alphabet, stops at the first `=`, and never fails.
fn node_base64_decode(s: &str) -> Vec<u8> {
    let mut clean = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '=' => break,
            'A'..='Z' | 'a'..='z' | '0'..='9' | '+' | '/' => clean.push(c),
            '-' => clean.push('+'),
            '_' => clean.push('/'),
            _ => {}
        }
    }
    if clean.len() % 4 == 1 {
        clean.pop();
    }
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    engine.decode(clean.as_bytes()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn nerf_dart_like_npm() {
        assert_eq!(
            nerf_dart(&u("https://registry.npmjs.org/")),
            "//registry.npmjs.org/"
        );
        assert_eq!(
            nerf_dart(&u("https://registry.npmjs.org")),
            "//registry.npmjs.org/"
        );
        assert_eq!(nerf_dart(&u("https://x.io/a/b/")), "//x.io/a/b/");
        assert_eq!(nerf_dart(&u("https://x.io/a/b")), "//x.io/a/");
        assert_eq!(nerf_dart(&u("https://x.io:443/a/?q=1#f")), "//x.io/a/");
        assert_eq!(nerf_dart(&u("http://127.0.0.1:4873/")), "//127.0.0.1:4873/");
        assert_eq!(nerf_dart(&u("http://[::1]:4873/x/")), "//[::1]:4873/x/");
    }

    #[test]
    fn candidates_walk_whole_segments() {
        assert_eq!(
            reg_key_candidates(&u("https://h:8443/a/bc/")),
            vec![
                "//h:8443/a/bc/",
                "//h:8443/a/bc",
                "//h:8443/a/",
                "//h:8443/a",
                "//h:8443/",
                "//h:8443"
            ]
        );
    }

    #[test]
    fn node_base64_is_lenient() {
        assert_eq!(node_base64_decode("cGFzcw=="), b"pass");
        assert_eq!(node_base64_decode("cGFzcw"), b"pass");
        assert_eq!(node_base64_decode("cG Fz\ncw=="), b"pass");
        assert_eq!(node_base64_decode("_-8="), vec![0xff, 0xef]);
    }

    #[test]
    fn secret_never_formats() {
        let s = Secret::new("npm_TOPSECRET");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{s:#?}"), "***");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"***\"");
        assert_eq!(s.expose(), "npm_TOPSECRET");
    }
}
