//! Python package index configuration and credentials, as uv and pip resolve them.
//!
//! Which index a launch reads depends on the launcher: `uvx` reads uv's settings, `pipx run`
//! reads pip's (pipx installs with pip). `scan pypi:NAME` is not a launch, so it takes the first
//! setting found along both chains, uv's first (see docs/configuration.md):
//!
//! 1. `--index-url` given to mcp-audit (or to the launch);
//! 2. uv: `UV_DEFAULT_INDEX`, then `UV_INDEX_URL` (uv lists `--default-index` before the legacy
//!    `--index-url` and takes the first default index), then `uv.toml` / `pyproject.toml`
//!    `[[tool.uv.index]]` with `default = true`, then their `index-url`; project files (found
//!    upwards from the working directory) before the user's `uv.toml`;
//! 3. pip: `PIP_INDEX_URL`, then `pip.conf` `index-url` in pip's order (a later file wins:
//!    global, user — skipped when `PIP_CONFIG_FILE` names a file that exists —, site
//!    (`$VIRTUAL_ENV/pip.conf`), then `PIP_CONFIG_FILE`), `[install]` over `[global]`;
//! 4. `https://pypi.org/simple/`.
//!
//! Extra indexes (`--extra-index-url`, `UV_INDEX`, `UV_EXTRA_INDEX_URL`, non-default uv
//! indexes, `PIP_EXTRA_INDEX_URL`, pip.conf `extra-index-url`) are collected too: pip and uv
//! search them as well, which is what makes a name that exists on two of them a
//! dependency-confusion risk.
//!
//! Credentials: the URL's userinfo; uv's `UV_INDEX_<NAME>_USERNAME` / `_PASSWORD` for a named
//! index; `.netrc` (`NETRC`, else `~/.netrc`) by host. A credential is sent only to its own
//! realm (scheme, host and port), as uv does, so a file on another host (PyPI's
//! files.pythonhosted.org, a CDN) never receives it. Nothing here prints a secret:
//! [`Secret`] shows as `***` and [`PyIndexes::secret_values`] feeds the output sanitizer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use url::Url;

use crate::npmrc::Secret;
use crate::registry::{is_loopback, redact_url};

pub const PYPI_SIMPLE: &str = "https://pypi.org/simple/";

/// One index, where its URL came from, and the credential that goes with it.
#[derive(Debug, Clone)]
pub struct Index {
    /// Without userinfo, with a trailing slash.
    pub url: Url,
    pub name: Option<String>,
    /// `--index-url`, `UV_INDEX_URL`, `pip.conf (/etc/pip.conf)`, ...
    pub source: String,
    pub credential: Option<Credential>,
}

#[derive(Debug, Clone)]
pub struct Credential {
    /// `Basic <base64>`.
    pub header: Secret,
    /// The password (or token) alone, for the sanitizer.
    pub password: Secret,
    pub username: String,
    /// Where it came from: `URL userinfo`, `UV_INDEX_PRIVATE_PASSWORD`, `.netrc (~/.netrc)`.
    pub source: String,
}

impl Credential {
    fn basic(username: &str, password: &str, source: String) -> Credential {
        let pair = format!("{username}:{password}");
        Credential {
            header: Secret::new(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )),
            password: Secret::new(password),
            username: username.to_string(),
            source,
        }
    }
}

/// The indexes one launch (or one `scan`) would read.
#[derive(Debug, Clone)]
pub struct PyIndexes {
    pub primary: Index,
    pub extra: Vec<Index>,
    /// Problems that did not stop resolution (an unreadable pip.conf line, a bad URL in an
    /// environment variable that a later setting replaced).
    pub warnings: Vec<String>,
}

/// Which launcher's settings apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// `scan`: uv's chain, then pip's.
    Any,
    Uv,
    Pip,
}

/// Everything resolution reads, gathered by the caller (so tests need no home directory).
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    pub env: HashMap<String, String>,
    /// The directory the launch starts in: uv looks for `uv.toml` / `pyproject.toml` upwards.
    pub cwd: Option<PathBuf>,
    pub home: Option<PathBuf>,
}

impl Inputs {
    /// mcp-audit's own process: its environment, working directory and home.
    pub fn from_process(index_url: Option<String>, extra: Vec<String>) -> Inputs {
        Inputs {
            index_url,
            extra_index_urls: extra,
            env: std::env::vars().collect(),
            cwd: std::env::current_dir().ok(),
            home: std::env::var_os("HOME").map(PathBuf::from),
        }
    }
}

/// A setting that names an index URL, before it is checked.
struct Candidate {
    raw: String,
    name: Option<String>,
    source: String,
}

/// Resolves the indexes. An unusable URL (no scheme, plain http off loopback without
/// `allow_http`) is an error naming the setting, like npm's registry settings.
pub fn resolve(inputs: &Inputs, tool: Tool, allow_http: bool) -> Result<PyIndexes, String> {
    let mut warnings = Vec::new();
    let env = |k: &str| inputs.env.get(k).filter(|v| !v.trim().is_empty()).cloned();
    let uv = matches!(tool, Tool::Any | Tool::Uv);
    let pip = matches!(tool, Tool::Any | Tool::Pip);
    let uv_files = if uv {
        uv_config_files(inputs)
    } else {
        Vec::new()
    };
    let pip_conf = if pip {
        pip_config(inputs, &mut warnings)
    } else {
        PipConf::default()
    };

    let mut primary: Option<Candidate> = inputs.index_url.clone().map(|raw| Candidate {
        raw,
        name: None,
        source: "--index-url".into(),
    });
    let mut extras: Vec<Candidate> = inputs
        .extra_index_urls
        .iter()
        .map(|raw| Candidate {
            raw: raw.clone(),
            name: None,
            source: "--extra-index-url".into(),
        })
        .collect();

    if uv {
        for key in ["UV_DEFAULT_INDEX", "UV_INDEX_URL"] {
            if let Some(v) = env(key) {
                let (name, raw) = split_named(&v);
                primary.get_or_insert(Candidate {
                    raw,
                    name,
                    source: key.into(),
                });
            }
        }
        for key in ["UV_INDEX", "UV_EXTRA_INDEX_URL"] {
            if let Some(v) = env(key) {
                for item in v.split_whitespace() {
                    let (name, raw) = split_named(item);
                    extras.push(Candidate {
                        raw,
                        name,
                        source: key.into(),
                    });
                }
            }
        }
        for file in &uv_files {
            for ix in &file.indexes {
                let c = Candidate {
                    raw: ix.url.clone(),
                    name: ix.name.clone(),
                    source: format!("[[index]] in {}", file.path.display()),
                };
                if ix.default {
                    if primary.is_none() {
                        primary = Some(c);
                    }
                } else if !ix.explicit {
                    extras.push(c);
                }
            }
            if let Some(u) = &file.index_url {
                primary.get_or_insert(Candidate {
                    raw: u.clone(),
                    name: None,
                    source: format!("index-url in {}", file.path.display()),
                });
            }
            for u in &file.extra_index_url {
                extras.push(Candidate {
                    raw: u.clone(),
                    name: None,
                    source: format!("extra-index-url in {}", file.path.display()),
                });
            }
        }
    }
    if pip {
        if let Some(v) = env("PIP_INDEX_URL") {
            primary.get_or_insert(Candidate {
                raw: v,
                name: None,
                source: "PIP_INDEX_URL".into(),
            });
        }
        if let Some(v) = env("PIP_EXTRA_INDEX_URL") {
            extras.extend(v.split_whitespace().map(|raw| Candidate {
                raw: raw.into(),
                name: None,
                source: "PIP_EXTRA_INDEX_URL".into(),
            }));
        }
        if let Some((raw, source)) = pip_conf.index_url {
            primary.get_or_insert(Candidate {
                raw,
                name: None,
                source,
            });
        }
        for (raw, source) in pip_conf.extra_index_url {
            extras.push(Candidate {
                raw,
                name: None,
                source,
            });
        }
    }
    let primary = primary.unwrap_or(Candidate {
        raw: PYPI_SIMPLE.into(),
        name: None,
        source: "default (pypi.org)".into(),
    });
    let netrc = read_netrc(inputs);
    let primary = finish(primary, inputs, netrc.as_deref(), allow_http)?;
    let mut extra: Vec<Index> = Vec::new();
    for c in extras {
        let ix = finish(c, inputs, netrc.as_deref(), allow_http)?;
        if ix.url != primary.url && !extra.iter().any(|e| e.url == ix.url) {
            extra.push(ix);
        }
    }
    Ok(PyIndexes {
        primary,
        extra,
        warnings,
    })
}

/// `name=url` (uv's `UV_INDEX` syntax) or a bare URL.
fn split_named(v: &str) -> (Option<String>, String) {
    match v.split_once('=') {
        Some((name, url))
            if !name.contains("://")
                && !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) =>
        {
            (Some(name.to_string()), url.to_string())
        }
        _ => (None, v.to_string()),
    }
}

fn finish(
    c: Candidate,
    inputs: &Inputs,
    netrc: Option<&str>,
    allow_http: bool,
) -> Result<Index, String> {
    let shown = crate::registry::redact_url_text(&c.raw);
    let bad = |why: String| format!("index URL `{shown}` (from {}) is rejected: {why}", c.source);
    let mut url = Url::parse(c.raw.trim()).map_err(|e| bad(e.to_string()))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http || is_loopback(&url) => {}
        "http" => {
            return Err(bad(
                "plain http off loopback would send credentials and packages in clear (use https, or --allow-http)"
                    .into(),
            ))
        }
        other => return Err(bad(format!("the `{other}` scheme is not an index"))),
    }
    if url.host_str().is_none() {
        return Err(bad("no host".into()));
    }
    let mut credential = None;
    if !url.username().is_empty() || url.password().is_some() {
        let user = percent_decode(url.username());
        let pass = percent_decode(url.password().unwrap_or_default());
        credential = Some(Credential::basic(&user, &pass, "URL userinfo".into()));
        let _ = url.set_username("");
        let _ = url.set_password(None);
    }
    url.set_query(None);
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    if let Some(name) = &c.name {
        // uv: the name upper-cased, every non-alphanumeric character replaced by `_`.
        let key: String = name
            .chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() {
                    ch.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        let user_key = format!("UV_INDEX_{key}_USERNAME");
        let pass_key = format!("UV_INDEX_{key}_PASSWORD");
        let user = inputs.env.get(&user_key);
        let pass = inputs.env.get(&pass_key);
        if user.is_some() || pass.is_some() {
            let user = user
                .cloned()
                .or_else(|| credential.as_ref().map(|c| c.username.clone()));
            credential = Some(Credential::basic(
                user.as_deref().unwrap_or_default(),
                pass.map(String::as_str).unwrap_or_default(),
                if pass.is_some() { pass_key } else { user_key },
            ));
        }
    }
    if credential.is_none() {
        if let (Some(text), Some(host)) = (netrc, url.host_str()) {
            if let Some((user, pass)) = netrc_lookup(text, host) {
                credential = Some(Credential::basic(&user, &pass, ".netrc".into()));
            }
        }
    }
    Ok(Index {
        url,
        name: c.name,
        source: c.source,
        credential,
    })
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

impl PyIndexes {
    /// Every index, the primary first.
    pub fn all(&self) -> impl Iterator<Item = &Index> {
        std::iter::once(&self.primary).chain(self.extra.iter())
    }

    /// The `Authorization` value for `url`: the credential of the first index whose realm
    /// (scheme, host, port) is the URL's. None for any other host.
    pub fn auth_for(&self, url: &Url) -> Option<&Secret> {
        self.all()
            .find(|ix| ix.credential.is_some() && same_realm(&ix.url, url))
            .and_then(|ix| ix.credential.as_ref())
            .map(|c| &c.header)
    }

    /// Which credential goes to `url`, without the secret (for 401/403 messages).
    pub fn auth_note(&self, url: &Url) -> String {
        match self
            .all()
            .find(|ix| ix.credential.is_some() && same_realm(&ix.url, url))
        {
            Some(ix) => format!(
                "the credential from {} for {} was sent",
                ix.credential.as_ref().map(|c| c.source.as_str()).unwrap_or_default(),
                redact_url(&ix.url)
            ),
            None => "no credential was sent (set one in the index URL, .netrc or UV_INDEX_<NAME>_PASSWORD)".into(),
        }
    }

    /// Values the output sanitizer must scrub: passwords and the encoded headers.
    pub fn secret_values(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in self.all().filter_map(|ix| ix.credential.as_ref()) {
            if !c.password.expose().is_empty() {
                out.push(c.password.expose().to_string());
            }
            if let Some(b64) = c.header.expose().strip_prefix("Basic ") {
                out.push(b64.to_string());
            }
        }
        out
    }
}

pub fn same_realm(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}

/// The JSON API base next to a simple index: `<base>/pypi/<name>/json` where `<base>` is the
/// index URL without its trailing `simple/`. None when the index URL does not end in `simple/`
/// (the JSON API's place is then unknown).
pub fn json_api_url(index: &Url, project: &str) -> Option<Url> {
    let path = index.path();
    let base = path.strip_suffix("simple/")?;
    let mut u = index.clone();
    u.set_path(&format!("{base}pypi/{project}/json"));
    Some(u)
}

/// PyPI's Integrity API, next to `/simple/` as the JSON API is.
pub fn integrity_url(index: &Url, project: &str, version: &str, file: &str) -> Option<Url> {
    let base = index.path().strip_suffix("simple/")?;
    let mut u = index.clone();
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    u.set_path(&format!(
        "{base}integrity/{}/{}/{}/provenance",
        enc(project),
        enc(version),
        enc(file)
    ));
    Some(u)
}

// ---- uv configuration files ----

#[derive(Debug, Default)]
struct UvFile {
    path: PathBuf,
    indexes: Vec<UvIndex>,
    index_url: Option<String>,
    extra_index_url: Vec<String>,
}

#[derive(Debug, serde::Deserialize)]
struct UvIndex {
    url: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    default: bool,
    #[serde(default)]
    explicit: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
struct UvSettings {
    #[serde(default)]
    index: Vec<UvIndex>,
    index_url: Option<String>,
    #[serde(default)]
    extra_index_url: Vec<String>,
    #[serde(default)]
    pip: Option<UvPip>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
struct UvPip {
    index_url: Option<String>,
    #[serde(default)]
    extra_index_url: Vec<String>,
}

/// Config files are small; anything larger is not a config file and is skipped.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

fn read_small(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_CONFIG_BYTES {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

/// uv's files, most specific first: the nearest project directory with a `uv.toml` (or a
/// `pyproject.toml` with a `[tool.uv]` table), then the user's `uv.toml`. `UV_NO_CONFIG`
/// disables both; `UV_CONFIG_FILE` replaces them.
fn uv_config_files(inputs: &Inputs) -> Vec<UvFile> {
    let env = |k: &str| inputs.env.get(k).filter(|v| !v.is_empty());
    if env("UV_NO_CONFIG").is_some() {
        return Vec::new();
    }
    if let Some(f) = env("UV_CONFIG_FILE") {
        return read_uv(Path::new(f), false).into_iter().collect();
    }
    let mut out = Vec::new();
    if let Some(cwd) = &inputs.cwd {
        for dir in cwd.ancestors() {
            if let Some(f) = read_uv(&dir.join("uv.toml"), false) {
                out.push(f);
                break;
            }
            if let Some(f) = read_uv(&dir.join("pyproject.toml"), true) {
                out.push(f);
                break;
            }
        }
    }
    let user_dir = env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| inputs.home.as_ref().map(|h| h.join(".config")));
    if let Some(dir) = user_dir {
        out.extend(read_uv(&dir.join("uv").join("uv.toml"), false));
    }
    out
}

fn read_uv(path: &Path, pyproject: bool) -> Option<UvFile> {
    let text = read_small(path)?;
    let value: toml::Value = toml::from_str(&text).ok()?;
    let table = if pyproject {
        value.get("tool")?.get("uv")?.clone()
    } else {
        value
    };
    let s: UvSettings = table.try_into().ok()?;
    let (pip_index, pip_extra) = s
        .pip
        .map(|p| (p.index_url, p.extra_index_url))
        .unwrap_or_default();
    Some(UvFile {
        path: path.to_path_buf(),
        indexes: s.index,
        index_url: s.index_url.or(pip_index),
        extra_index_url: s.extra_index_url.into_iter().chain(pip_extra).collect(),
    })
}

// ---- pip.conf ----

#[derive(Debug, Default)]
struct PipConf {
    index_url: Option<(String, String)>,
    extra_index_url: Vec<(String, String)>,
}

/// pip's configuration files in its loading order; a later one overrides an earlier one.
fn pip_config_files(inputs: &Inputs) -> Vec<PathBuf> {
    let env = |k: &str| inputs.env.get(k).filter(|v| !v.is_empty());
    let mut files = Vec::new();
    let xdg_dirs = env("XDG_CONFIG_DIRS").cloned().unwrap_or("/etc/xdg".into());
    for d in xdg_dirs.split(':').filter(|d| !d.is_empty()) {
        files.push(Path::new(d).join("pip").join("pip.conf"));
    }
    files.push(PathBuf::from("/etc/pip.conf"));
    let env_file = env("PIP_CONFIG_FILE").map(PathBuf::from);
    let skip_user = env_file.as_ref().is_some_and(|f| f.exists());
    if !skip_user {
        if let Some(home) = &inputs.home {
            files.push(home.join(".pip").join("pip.conf"));
        }
        let cfg = env("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| inputs.home.as_ref().map(|h| h.join(".config")));
        if let Some(cfg) = cfg {
            files.push(cfg.join("pip").join("pip.conf"));
        }
    }
    if let Some(venv) = env("VIRTUAL_ENV") {
        files.push(Path::new(venv).join("pip.conf"));
    }
    files.extend(env_file);
    files
}

fn pip_config(inputs: &Inputs, warnings: &mut Vec<String>) -> PipConf {
    let mut out = PipConf::default();
    for path in pip_config_files(inputs) {
        let Some(text) = read_small(&path) else {
            continue;
        };
        let source = format!("pip.conf ({})", path.display());
        let parsed = parse_pip_conf(&text);
        for w in &parsed.warnings {
            warnings.push(format!("{source}: {w}"));
        }
        // `[install]` is more specific than `[global]` for what `pip install` uses.
        for section in ["global", "install"] {
            if let Some(v) = parsed.get(section, "index-url") {
                out.index_url = Some((v.trim().to_string(), source.clone()));
            }
            if let Some(v) = parsed.get(section, "extra-index-url") {
                out.extra_index_url = v
                    .split_whitespace()
                    .map(|u| (u.to_string(), source.clone()))
                    .collect();
            }
        }
    }
    // The index URL is consulted last in the resolution chain, so it is put in place there.
    out
}

#[derive(Debug, Default)]
struct Ini {
    values: Vec<(String, String, String)>,
    warnings: Vec<String>,
}

impl Ini {
    fn get(&self, section: &str, key: &str) -> Option<&str> {
        // pip normalises `index_url` and `index-url` alike.
        let norm = |k: &str| k.replace('_', "-").to_ascii_lowercase();
        self.values
            .iter()
            .rev()
            .find(|(s, k, _)| s.eq_ignore_ascii_case(section) && norm(k) == norm(key))
            .map(|(_, _, v)| v.as_str())
    }
}

/// configparser's format as pip uses it: `[section]`, `key = value` or `key: value`, `#` and
/// `;` comments, continuation lines indented (pip's multi-line `extra-index-url`).
fn parse_pip_conf(text: &str) -> Ini {
    let mut ini = Ini::default();
    let mut section = String::new();
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = ini.values.last_mut() {
                last.2.push('\n');
                last.2.push_str(trimmed);
                continue;
            }
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            section = name.trim().to_string();
            continue;
        }
        match trimmed.split_once(['=', ':']) {
            Some((k, v)) if !section.is_empty() => {
                ini.values
                    .push((section.clone(), k.trim().to_string(), v.trim().to_string()))
            }
            _ => ini
                .warnings
                .push(format!("line {} is not `key = value` in a section", n + 1)),
        }
    }
    ini
}

// ---- .netrc ----

fn read_netrc(inputs: &Inputs) -> Option<String> {
    let path = match inputs.env.get("NETRC").filter(|v| !v.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => inputs.home.as_ref()?.join(".netrc"),
    };
    read_small(&path)
}

/// The login and password of `machine <host>`, else of `default`. Tokens are whitespace
/// separated; `macdef` bodies (up to a blank line) are skipped.
fn netrc_lookup(text: &str, host: &str) -> Option<(String, String)> {
    let mut found: Option<(String, String)> = None;
    let mut default: Option<(String, String)> = None;
    let mut current: Option<(bool, String, String)> = None; // (is default, login, password)
    let mut matching = false;
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    let mut tokens: Vec<String> = Vec::new();
    while i < lines.len() {
        let line = lines[i];
        if line.trim_start().starts_with("macdef") {
            i += 1;
            while i < lines.len() && !lines[i].trim().is_empty() {
                i += 1;
            }
            continue;
        }
        if !line.trim_start().starts_with('#') {
            tokens.extend(line.split_whitespace().map(str::to_string));
        }
        i += 1;
    }
    let mut flush = |cur: &mut Option<(bool, String, String)>, matching: bool| {
        if let Some((is_default, login, password)) = cur.take() {
            if is_default && default.is_none() {
                default = Some((login, password));
            } else if matching && found.is_none() {
                found = Some((login, password));
            }
        }
    };
    let mut it = tokens.into_iter();
    while let Some(tok) = it.next() {
        match tok.as_str() {
            "machine" => {
                flush(&mut current, matching);
                let m = it.next().unwrap_or_default();
                matching = m.eq_ignore_ascii_case(host);
                current = Some((false, String::new(), String::new()));
            }
            "default" => {
                flush(&mut current, matching);
                matching = false;
                current = Some((true, String::new(), String::new()));
            }
            "login" => {
                if let (Some(c), Some(v)) = (current.as_mut(), it.next()) {
                    c.1 = v;
                }
            }
            "password" => {
                if let (Some(c), Some(v)) = (current.as_mut(), it.next()) {
                    c.2 = v;
                }
            }
            "account" => {
                it.next();
            }
            _ => {}
        }
    }
    flush(&mut current, matching);
    found.or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(env: &[(&str, &str)]) -> Inputs {
        Inputs {
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Inputs::default()
        }
    }

    #[test]
    fn precedence_flag_then_uv_then_pip_then_pypi() {
        let r = resolve(&inputs(&[]), Tool::Any, false).unwrap();
        assert_eq!(r.primary.url.as_str(), PYPI_SIMPLE);
        let all = [
            ("UV_INDEX_URL", "https://uv-legacy.example/simple"),
            ("UV_DEFAULT_INDEX", "https://uv-default.example/simple"),
            ("PIP_INDEX_URL", "https://pip.example/simple"),
        ];
        let r = resolve(&inputs(&all), Tool::Any, false).unwrap();
        assert_eq!(r.primary.url.as_str(), "https://uv-default.example/simple/");
        assert_eq!(r.primary.source, "UV_DEFAULT_INDEX");
        let r = resolve(&inputs(&all[..1]), Tool::Any, false).unwrap();
        assert_eq!(r.primary.source, "UV_INDEX_URL");
        let r = resolve(&inputs(&all), Tool::Pip, false).unwrap();
        assert_eq!(r.primary.source, "PIP_INDEX_URL");
        let mut i = inputs(&all);
        i.index_url = Some("https://flag.example/simple/".into());
        let r = resolve(&i, Tool::Uv, false).unwrap();
        assert_eq!(r.primary.source, "--index-url");
    }

    #[test]
    fn credentials_come_from_userinfo_uv_env_or_netrc_and_stay_in_their_realm() {
        let i = inputs(&[
            (
                "UV_INDEX",
                "corp=https://pkgs.corp.example/simple/ other=https://o.example/simple/",
            ),
            ("UV_INDEX_CORP_USERNAME", "ci"),
            ("UV_INDEX_CORP_PASSWORD", "s3cret-pass"),
            ("PIP_INDEX_URL", "https://u%40x:p%2Fw@priv.example/simple"),
        ]);
        let r = resolve(&i, Tool::Any, false).unwrap();
        assert_eq!(r.primary.url.as_str(), "https://priv.example/simple/");
        let c = r.primary.credential.as_ref().unwrap();
        assert_eq!((c.username.as_str(), c.password.expose()), ("u@x", "p/w"));
        let corp = &r.extra[0];
        assert_eq!(corp.name.as_deref(), Some("corp"));
        assert_eq!(
            corp.credential.as_ref().unwrap().password.expose(),
            "s3cret-pass"
        );
        let files = Url::parse("https://pkgs.corp.example/packages/x.whl").unwrap();
        assert!(r.auth_for(&files).is_some());
        for elsewhere in [
            "https://files.pythonhosted.org/packages/x.whl",
            "http://pkgs.corp.example/simple/",
            "https://pkgs.corp.example:8443/simple/",
            "https://o.example/simple/",
        ] {
            assert!(
                r.auth_for(&Url::parse(elsewhere).unwrap()).is_none(),
                "{elsewhere}"
            );
        }
        assert!(r.secret_values().contains(&"s3cret-pass".to_string()));
        assert!(!format!("{r:?}").contains("s3cret-pass"));
        let netrc = "machine other.example login a password b\nmachine priv.example\n  login me\n  password tok123\n";
        assert_eq!(
            netrc_lookup(netrc, "PRIV.example"),
            Some(("me".into(), "tok123".into()))
        );
        assert_eq!(
            netrc_lookup("default login d password e", "x"),
            Some(("d".into(), "e".into()))
        );
        assert_eq!(netrc_lookup("machine y login a", "x"), None);
    }

    #[test]
    fn plain_http_only_on_loopback_and_the_error_hides_the_password() {
        let i = inputs(&[("PIP_INDEX_URL", "http://u:hunter22@pkgs.example/simple")]);
        let e = resolve(&i, Tool::Any, false).unwrap_err();
        assert!(
            e.contains("PIP_INDEX_URL") && e.contains("plain http"),
            "{e}"
        );
        assert!(!e.contains("hunter22"), "{e}");
        assert!(resolve(&i, Tool::Any, true).is_ok());
        let i = inputs(&[("PIP_INDEX_URL", "http://127.0.0.1:8080/simple")]);
        assert!(resolve(&i, Tool::Any, false).is_ok());
        let i = inputs(&[("PIP_INDEX_URL", "file:///tmp/x")]);
        assert!(resolve(&i, Tool::Any, false).is_err());
    }

    #[test]
    fn uv_toml_pyproject_and_pip_conf_are_read_in_order() {
        let dir = std::env::temp_dir().join(format!("mcp-audit-pyindex-{}", std::process::id()));
        let project = dir.join("proj");
        let sub = project.join("src");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(
            project.join("pyproject.toml"),
            "[project]\nname='x'\n[[tool.uv.index]]\nname='extra'\nurl='https://extra.example/simple/'\n\
             [[tool.uv.index]]\nname='main'\nurl='https://main.example/simple/'\ndefault=true\n\
             [[tool.uv.index]]\nname='pinned'\nurl='https://pinned.example/simple/'\nexplicit=true\n",
        )
        .unwrap();
        let pipconf = dir.join("pip.conf");
        std::fs::write(
            &pipconf,
            "[global]\nindex-url = https://pipglobal.example/simple\n[install]\nindex_url = https://pipinstall.example/simple\nextra-index-url =\n    https://e1.example/simple\n    https://e2.example/simple\n",
        )
        .unwrap();
        let mut i = inputs(&[("PIP_CONFIG_FILE", pipconf.to_str().unwrap())]);
        i.cwd = Some(sub.clone());
        let r = resolve(&i, Tool::Uv, false).unwrap();
        assert_eq!(r.primary.url.as_str(), "https://main.example/simple/");
        let extras: Vec<&str> = r.extra.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(extras, ["https://extra.example/simple/"]);
        let r = resolve(&i, Tool::Pip, false).unwrap();
        assert_eq!(r.primary.url.as_str(), "https://pipinstall.example/simple/");
        assert_eq!(r.extra.len(), 2);
        assert!(r.primary.source.contains("pip.conf"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn json_and_integrity_urls_sit_next_to_simple() {
        let ix = Url::parse("https://pypi.org/simple/").unwrap();
        assert_eq!(
            json_api_url(&ix, "mcp-x").unwrap().as_str(),
            "https://pypi.org/pypi/mcp-x/json"
        );
        assert_eq!(
            integrity_url(&ix, "a", "1.0", "a-1.0.tar.gz")
                .unwrap()
                .as_str(),
            "https://pypi.org/integrity/a/1.0/a-1.0.tar.gz/provenance"
        );
        let art = Url::parse("https://x.jfrog.io/artifactory/api/pypi/repo/simple/").unwrap();
        assert_eq!(
            json_api_url(&art, "p").unwrap().path(),
            "/artifactory/api/pypi/repo/pypi/p/json"
        );
        assert!(json_api_url(&Url::parse("https://x.example/idx/").unwrap(), "p").is_none());
    }
}
