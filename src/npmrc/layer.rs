//! Layers of npm configuration and how each one is read: `.npmrc` text (npm's `ini` package),
//! `npm_config_*` environment variables and command-line pairs, with `${VAR}` expansion.
//!
//! Everything here is pure: text and maps in, a [`Layer`] and [`Diagnostic`]s out. Reading files
//! is [`super::discover`]'s job.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// Where a configuration value came from, in npm's vocabulary (`@npmcli/config` `confTypes`).
///
/// The variants are listed from highest to lowest priority; [`ConfigSource::rank`] encodes it.
/// npm also has a `builtin` layer (`<npm install dir>/npmrc`); mcp-audit does not know where npm
/// is installed, so it has no such layer.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "path", rename_all = "lowercase")]
pub enum ConfigSource {
    /// Command-line flags.
    Cli,
    /// `npm_config_*` environment variables (prefix matched case-insensitively).
    Env,
    /// `<localPrefix>/.npmrc`: the project's own file.
    Project(PathBuf),
    /// `--userconfig`, `npm_config_userconfig`, or `~/.npmrc`.
    User(PathBuf),
    /// `--globalconfig`, or `$PREFIX/etc/npmrc`.
    Global(PathBuf),
    /// Built-in defaults (`registry=https://registry.npmjs.org/`).
    Default,
}

impl ConfigSource {
    /// Where a setting was made, for messages: "user config /home/me/.npmrc:3", "environment".
    pub fn at(&self, line: Option<usize>) -> String {
        match (self.file(), line) {
            (Some(f), Some(l)) => format!("{} config {}:{l}", self.kind(), f.display()),
            _ => self.to_string(),
        }
    }

    /// Higher wins: cli > env > project > user > global > default (npm's `confTypes` order).
    pub fn rank(&self) -> u8 {
        match self {
            ConfigSource::Cli => 5,
            ConfigSource::Env => 4,
            ConfigSource::Project(_) => 3,
            ConfigSource::User(_) => 2,
            ConfigSource::Global(_) => 1,
            ConfigSource::Default => 0,
        }
    }

    /// The file behind this source, if it is one.
    pub fn file(&self) -> Option<&PathBuf> {
        match self {
            ConfigSource::Project(p) | ConfigSource::User(p) | ConfigSource::Global(p) => Some(p),
            _ => None,
        }
    }

    /// npm's own name for the layer (`npm config ls` prints these).
    pub fn kind(&self) -> &'static str {
        match self {
            ConfigSource::Cli => "cli",
            ConfigSource::Env => "env",
            ConfigSource::Project(_) => "project",
            ConfigSource::User(_) => "user",
            ConfigSource::Global(_) => "global",
            ConfigSource::Default => "default",
        }
    }
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSource::Cli => f.write_str("command line"),
            ConfigSource::Env => f.write_str("environment"),
            ConfigSource::Project(p) => write!(f, "project config {}", p.display()),
            ConfigSource::User(p) => write!(f, "user config {}", p.display()),
            ConfigSource::Global(p) => write!(f, "global config {}", p.display()),
            ConfigSource::Default => f.write_str("default"),
        }
    }
}

impl fmt::Debug for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// How serious a [`Diagnostic`] is. Neither stops loading: npm keeps going past every one of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// A problem found while reading configuration, located as precisely as the source allows.
///
/// Messages name keys and variables but never quote a value: a malformed line or a mistyped key
/// may well hold a token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub source: ConfigSource,
    /// The file, when the source is one (a copy of `source.file()` for callers that only print).
    pub file: Option<PathBuf>,
    /// 1-based line in `file`.
    pub line: Option<usize>,
    pub message: String,
}

impl Diagnostic {
    pub(crate) fn new(
        severity: Severity,
        source: &ConfigSource,
        line: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity,
            file: source.file().cloned(),
            source: source.clone(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{}:{line}: {}", file.display(), self.message),
            (Some(file), None) => write!(f, "{}: {}", file.display(), self.message),
            (None, _) => write!(f, "{}: {}", self.source, self.message),
        }
    }
}

/// One `key = value` after npm's parsing and `${VAR}` expansion.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub value: String,
    /// 1-based line for file layers.
    pub line: Option<usize>,
}

impl Entry {
    pub fn new(key: impl Into<String>, value: impl Into<String>, line: Option<usize>) -> Self {
        Entry {
            key: key.into(),
            value: value.into(),
            line,
        }
    }
}

// Debug is what ends up in `{:?}` logs and panics, so credential values are masked here.
impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value: &str = if is_secret_key(&self.key) {
            "***"
        } else {
            &self.value
        };
        f.debug_struct("Entry")
            .field("key", &self.key)
            .field("value", &value)
            .field("line", &self.line)
            .finish()
    }
}

/// Keys whose value is a credential, nerf-darted or not. `username` is not a secret.
pub(crate) fn is_secret_key(key: &str) -> bool {
    let leaf = key.rsplit(':').next().unwrap_or(key);
    matches!(
        leaf.to_ascii_lowercase().as_str(),
        "_authtoken" | "-authtoken" | "_auth" | "_password"
    )
}

/// The entries one source contributed. Later entries override earlier ones with the same key,
/// as a later line of an `.npmrc` does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layer {
    pub source: ConfigSource,
    pub entries: Vec<Entry>,
}

/// The npm setting an environment variable names, as `@npmcli/config` `loadEnv` reads it, or
/// `None` when it names none: the name starts with `npm_config_` in any case; the rest is
/// lower-cased with every `_` but a leading one turned into `-` (`NPM_CONFIG_USERCONFIG` is
/// `userconfig`, `npm_config__auth` is `_auth`), except that a rest starting with `//` is kept
/// exactly (`npm_config_//host:4873/:_authToken`).
pub fn env_setting_key(name: &str) -> Option<String> {
    const PREFIX: &str = "npm_config_";
    let rest = name
        .get(..PREFIX.len())
        .filter(|p| p.eq_ignore_ascii_case(PREFIX))
        .map(|_| &name[PREFIX.len()..])
        .filter(|rest| !rest.is_empty())?;
    if rest.starts_with("//") {
        return Some(rest.to_string());
    }
    let mut key = String::with_capacity(rest.len());
    for (i, c) in rest.chars().enumerate() {
        key.push(if c == '_' && i > 0 { '-' } else { c });
    }
    Some(key.to_lowercase())
}

impl Layer {
    pub fn new(source: ConfigSource, entries: Vec<Entry>) -> Self {
        Layer { source, entries }
    }

    /// npm's built-in defaults that matter to mcp-audit. npm-registry-fetch's `default-opts.js`
    /// and the `registry` definition agree on this value.
    pub fn defaults() -> Self {
        Layer::new(
            ConfigSource::Default,
            vec![Entry::new("registry", DEFAULT_REGISTRY, None)],
        )
    }

    /// Parse `.npmrc` text the way npm does: `ini.parse` (npm/ini `lib/ini.js` `decode`), then
    /// `envReplace` on keys and values (`@npmcli/config` `#loadObject` and `parse-field.js`).
    ///
    /// Follows npm/ini line by line:
    /// * lines whose first non-blank character is `;` or `#` are comments;
    /// * `key = value` splits at the first `=`; key and value are trimmed;
    /// * a value wrapped in `"…"` is JSON-decoded, one wrapped in `'…'` loses the quotes;
    /// * otherwise an unescaped `;` or `#` starts an inline comment, and `\;`, `\#`, `\\`
    ///   stand for the character itself;
    /// * `key[] = value` builds an array. No setting mcp-audit reads is a list, so these are
    ///   accepted and dropped;
    /// * `[section]` makes npm nest every later key under `section`, where npm never looks, so
    ///   those keys are reported and dropped.
    ///
    /// Reported (and, as in npm, without effect): a line with no key before `=`; a line with no
    /// `=` at all (npm would set that whole line to `true`, which no setting we read accepts);
    /// a value opening a quote it never closes (npm keeps the quote characters); keys in a
    /// section; `${VAR}` naming an unset variable (npm leaves the text `${VAR}` in place).
    pub fn from_npmrc(
        source: ConfigSource,
        text: &str,
        env: &HashMap<String, String>,
    ) -> (Layer, Vec<Diagnostic>) {
        let mut entries = Vec::new();
        let mut diags = Vec::new();
        let mut section: Option<(String, usize)> = None;

        for (idx, raw) in split_lines(text).into_iter().enumerate() {
            let line_no = idx + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with(';') || trimmed.starts_with('#') {
                continue;
            }
            // npm/ini: /^\[([^\]]*)\]\s*$/ on the untrimmed line.
            if raw.starts_with('[') {
                let rest = raw.trim_end();
                if let Some(close) = rest.find(']') {
                    if close == rest.len() - 1 {
                        let name = unsafe_value(&rest[1..close]);
                        diags.push(Diagnostic::new(
                            Severity::Warning,
                            &source,
                            Some(line_no),
                            format!(
                                "section [{name}]: npm nests the keys that follow under it, \
                                 so they have no effect"
                            ),
                        ));
                        section = Some((name, line_no));
                        continue;
                    }
                }
            }
            let Some(eq) = raw.find('=') else {
                diags.push(Diagnostic::new(
                    Severity::Warning,
                    &source,
                    Some(line_no),
                    "line has no '=': ignored (npm would read the whole line as a key set to true)",
                ));
                continue;
            };
            if eq == 0 {
                diags.push(Diagnostic::new(
                    Severity::Warning,
                    &source,
                    Some(line_no),
                    "line starts with '=' and has no key: ignored, as npm does",
                ));
                continue;
            }
            let key_raw = unsafe_value(&raw[..eq]);
            let value_text = &raw[eq + 1..];
            if key_raw.is_empty() {
                diags.push(Diagnostic::new(
                    Severity::Warning,
                    &source,
                    Some(line_no),
                    "line has no key before '=': ignored",
                ));
                continue;
            }
            let vt = value_text.trim();
            if (vt.starts_with('"') || vt.starts_with('\'')) && !is_quoted(vt) {
                diags.push(Diagnostic::new(
                    Severity::Warning,
                    &source,
                    Some(line_no),
                    format!(
                        "value of `{}` opens a quote that is never closed; npm keeps the quote \
                         character as part of the value",
                        display_key(&key_raw)
                    ),
                ));
            }
            if let Some((name, _)) = &section {
                diags.push(Diagnostic::new(
                    Severity::Warning,
                    &source,
                    Some(line_no),
                    format!(
                        "`{}` is inside section [{name}], where npm does not read it: ignored",
                        display_key(&key_raw)
                    ),
                ));
                continue;
            }
            if key_raw.len() > 2 && key_raw.ends_with("[]") {
                continue;
            }
            if key_raw == "__proto__" {
                continue;
            }
            let value = unsafe_value(value_text);
            let key = expand_reporting(&key_raw, env, &source, Some(line_no), &mut diags);
            let value = expand_reporting(&value, env, &source, Some(line_no), &mut diags);
            entries.push(Entry::new(key, value, Some(line_no)));
        }
        (Layer::new(source, entries), diags)
    }

    /// The environment layer, as `@npmcli/config` `loadEnv` builds it: every variable whose name
    /// starts with `npm_config_` in any case and whose value is not empty. The rest of the name
    /// is lower-cased with every `_` but a leading one turned into `-` (`NPM_CONFIG_USERCONFIG`
    /// is `userconfig`, `npm_config__auth` is `_auth`), except that names starting with `//`
    /// are kept exactly (`npm_config_//host:4873/:_authToken`). Values go through `${VAR}`
    /// expansion like every other layer's.
    pub fn from_env(env: &HashMap<String, String>) -> (Layer, Vec<Diagnostic>) {
        let source = ConfigSource::Env;
        let mut diags = Vec::new();
        let mut names: Vec<&String> = env.keys().collect();
        // HashMap order is random; sort so that two spellings of one key resolve the same way
        // every run (npm follows process.env order, which is the OS's).
        names.sort();
        let mut entries = Vec::new();
        for name in names {
            let value = &env[name];
            let Some(key) = env_setting_key(name).filter(|_| !value.is_empty()) else {
                continue;
            };
            let key = expand_reporting(&key, env, &source, None, &mut diags);
            let value = expand_reporting(value.trim(), env, &source, None, &mut diags);
            entries.push(Entry::new(key, value, None));
        }
        (Layer::new(source, entries), diags)
    }

    /// The command-line layer from `(key, value)` pairs the CLI already parsed. npm expands
    /// `${VAR}` here too (`#loadObject` runs for every layer).
    pub fn from_cli(
        pairs: &[(String, String)],
        env: &HashMap<String, String>,
    ) -> (Layer, Vec<Diagnostic>) {
        let source = ConfigSource::Cli;
        let mut diags = Vec::new();
        let entries = pairs
            .iter()
            .map(|(k, v)| {
                let key = expand_reporting(k, env, &source, None, &mut diags);
                let value = expand_reporting(v.trim(), env, &source, None, &mut diags);
                Entry::new(key, value, None)
            })
            .collect();
        (Layer::new(source, entries), diags)
    }
}

/// npm's default registry.
pub const DEFAULT_REGISTRY: &str = "https://registry.npmjs.org/";

/// npm/ini splits on `/[\r\n]+/`, which would merge blank lines and so lose line numbers; blank
/// lines mean nothing to it, so splitting on each line ending gives the same entries with the
/// line numbers an editor shows.
fn split_lines(text: &str) -> Vec<&str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            b'\r' => {
                out.push(&text[start..i]);
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

fn is_quoted(v: &str) -> bool {
    v.len() > 1
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
}

/// npm/ini `unsafe`: trim, unquote, or cut an inline comment and undo `\;` `\#` `\\` escapes.
fn unsafe_value(val: &str) -> String {
    let val = val.trim();
    // npm/ini's isQuoted also accepts a lone `"`; JSON.parse then fails and the text is kept.
    if val.len() > 1 && is_quoted(val) {
        let inner = if val.starts_with('\'') {
            &val[1..val.len() - 1]
        } else {
            val
        };
        // JSON.parse of the double-quoted form; on failure npm keeps the text as it was.
        if inner.starts_with('"') && inner.len() > 1 && inner.ends_with('"') {
            if let Ok(s) = serde_json::from_str::<String>(inner) {
                return s;
            }
        }
        return inner.to_string();
    }
    let mut out = String::with_capacity(val.len());
    let mut esc = false;
    for c in val.chars() {
        if esc {
            if matches!(c, '\\' | ';' | '#') {
                out.push(c);
            } else {
                out.push('\\');
                out.push(c);
            }
            esc = false;
        } else if c == ';' || c == '#' {
            break;
        } else if c == '\\' {
            esc = true;
        } else {
            out.push(c);
        }
    }
    if esc {
        out.push('\\');
    }
    out.trim().to_string()
}

/// A key as it may be printed: nerf-darted keys carry no secret in the key itself.
fn display_key(key: &str) -> String {
    key.chars().take(200).collect()
}

/// Result of [`expand_env`]: the new text and the variables that were referenced but unset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expanded {
    pub text: String,
    pub unset: Vec<String>,
}

/// `${VAR}` / `${VAR?}` expansion, exactly as `@npmcli/config` `lib/env-replace.js`:
///
/// * the pattern is `(?<!\\)(\\*)\$\{([^${}?]+)(\?)?\}`;
/// * a set variable is substituted, even when it is empty;
/// * an unset `${VAR}` is left as the literal text `${VAR}`; an unset `${VAR?}` becomes empty;
/// * backslashes before `$` escape it: an odd run keeps `${…}` literally and halves the run
///   (rounding down), an even run is halved and the substitution happens.
pub fn expand_env(text: &str, env: &HashMap<String, String>) -> Expanded {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut unset = Vec::new();
    let mut copied = 0; // bytes of `text` already emitted or consumed
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] != b'$' || bytes[i + 1] != b'{' {
            i += 1;
            continue;
        }
        // `[^${}?]+` then an optional `?` then `}`.
        let name_start = i + 2;
        let mut j = name_start;
        while j < bytes.len() && !matches!(bytes[j], b'$' | b'{' | b'}' | b'?') {
            j += 1;
        }
        if j == name_start || j >= bytes.len() {
            i += 1;
            continue;
        }
        let name = &text[name_start..j];
        let optional = bytes[j] == b'?';
        let close = if optional { j + 1 } else { j };
        if close >= bytes.len() || bytes[close] != b'}' {
            i += 1;
            continue;
        }
        // The whole backslash run before `$`, but not backslashes an earlier match consumed.
        let mut esc_start = i;
        while esc_start > copied && bytes[esc_start - 1] == b'\\' {
            esc_start -= 1;
        }
        let esc = i - esc_start;
        out.push_str(&text[copied..esc_start]);
        let orig = &text[esc_start..=close];
        if esc % 2 == 1 {
            out.push_str(&orig[esc.div_ceil(2)..]);
        } else {
            out.push_str(&"\\".repeat(esc / 2));
            match env.get(name) {
                Some(v) => out.push_str(v),
                None if optional => {}
                None => {
                    out.push_str("${");
                    out.push_str(name);
                    out.push('}');
                    unset.push(name.to_string());
                }
            }
        }
        copied = close + 1;
        i = close + 1;
    }
    out.push_str(&text[copied..]);
    Expanded { text: out, unset }
}

fn expand_reporting(
    text: &str,
    env: &HashMap<String, String>,
    source: &ConfigSource,
    line: Option<usize>,
    diags: &mut Vec<Diagnostic>,
) -> String {
    let Expanded { text, unset } = expand_env(text, env);
    for name in unset {
        diags.push(Diagnostic::new(
            Severity::Warning,
            source,
            line,
            format!(
                "environment variable {name} is not set: npm leaves the text ${{{name}}} in \
                 place (write ${{{name}?}} to make it expand to an empty string)"
            ),
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn parse(text: &str) -> (Vec<(String, String)>, Vec<Diagnostic>) {
        let (layer, d) = Layer::from_npmrc(ConfigSource::User("/h/.npmrc".into()), text, &env(&[]));
        (
            layer
                .entries
                .into_iter()
                .map(|e| (e.key, e.value))
                .collect(),
            d,
        )
    }

    #[test]
    fn env_replace_matches_npm() {
        let e = env(&[("A", "x"), ("EMPTY", "")]);
        assert_eq!(expand_env("${A}", &e).text, "x");
        assert_eq!(expand_env("a${A}b${A}", &e).text, "axbx");
        assert_eq!(expand_env("${EMPTY}", &e).text, "");
        let r = expand_env("${NOPE}", &e);
        assert_eq!(r.text, "${NOPE}");
        assert_eq!(r.unset, vec!["NOPE".to_string()]);
        let r = expand_env("${NOPE?}", &e);
        assert_eq!(r.text, "");
        assert!(r.unset.is_empty());
        assert_eq!(expand_env("${A?}", &e).text, "x");
        // Escapes: odd run keeps the literal, halving the backslashes (rounded down).
        assert_eq!(expand_env(r"\${A}", &e).text, "${A}");
        assert_eq!(expand_env(r"\\${A}", &e).text, r"\x");
        assert_eq!(expand_env(r"\\\${A}", &e).text, r"\${A}");
        // Not a reference.
        assert_eq!(expand_env("${}", &e).text, "${}");
        assert_eq!(expand_env("${A", &e).text, "${A");
        assert_eq!(expand_env("$A", &e).text, "$A");
        assert_eq!(expand_env("${a{b}", &e).text, "${a{b}");
    }

    #[test]
    fn ini_values_like_npm_ini() {
        let (e, d) = parse(
            "a = 1\n b=two words ; comment\nc=\"quoted ; kept\"\nd='single'\n\
             e=esc\\;aped\\#x\nf=x=y==\n# comment\n; comment\n\ng=\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let m: HashMap<_, _> = e.into_iter().collect();
        assert_eq!(m["a"], "1");
        assert_eq!(m["b"], "two words");
        assert_eq!(m["c"], "quoted ; kept");
        assert_eq!(m["d"], "single");
        assert_eq!(m["e"], "esc;aped#x");
        assert_eq!(m["f"], "x=y==");
        assert_eq!(m["g"], "");
    }

    #[test]
    fn arrays_are_accepted_and_dropped() {
        let (e, d) = parse("ca[]=one\nca[]=two\nregistry=https://r/\n");
        assert!(d.is_empty());
        assert_eq!(e, vec![("registry".to_string(), "https://r/".to_string())]);
    }

    #[test]
    fn malformed_lines_are_reported_with_their_line() {
        let (e, d) = parse("ok=1\n=novalue\nsecret-looking-line\nkey=\"open\n[sec]\nx=1\n");
        assert_eq!(e.len(), 2, "{e:?}");
        let lines: Vec<_> = d.iter().map(|d| d.line.unwrap()).collect();
        assert_eq!(lines, vec![2, 3, 4, 5, 6]);
        for diag in &d {
            assert!(!diag.message.contains("secret-looking-line"));
            assert!(diag.to_string().starts_with("/h/.npmrc:"));
        }
    }

    #[test]
    fn crlf_and_cr_lines_count() {
        let (e, d) = parse("a=1\r\n\r\n=bad\rb=2");
        assert_eq!(e.len(), 2);
        assert_eq!(d[0].line, Some(3));
    }

    #[test]
    fn env_keys_normalised_like_load_env() {
        let e = env(&[
            ("NPM_CONFIG_USERCONFIG", "/x"),
            ("npm_config_@MyCo:Registry", "https://r/"),
            ("npm_config__auth", "abc"),
            ("Npm_Config_//Host:4873/Path/:_authToken", "tok"),
            ("npm_config_replace_registry_host", "never"),
            ("npm_config_empty", ""),
            ("NPM_CONFIGX", "no"),
        ]);
        let (layer, _) = Layer::from_env(&e);
        let m: HashMap<_, _> = layer
            .entries
            .into_iter()
            .map(|e| (e.key, e.value))
            .collect();
        assert_eq!(m["userconfig"], "/x");
        assert_eq!(m["@myco:registry"], "https://r/");
        assert_eq!(m["_auth"], "abc");
        assert_eq!(m["//Host:4873/Path/:_authToken"], "tok");
        assert_eq!(m["replace-registry-host"], "never");
        assert_eq!(m.len(), 5);
    }

    #[test]
    fn entry_debug_masks_credentials() {
        let e = Entry::new("//h/:_authToken", "npm_SECRET", Some(1));
        assert!(!format!("{e:?}").contains("npm_SECRET"));
        let e = Entry::new("//h/:_password", "cGFzcw==", Some(1));
        assert!(!format!("{e:?}").contains("cGFzcw=="));
        let e = Entry::new("registry", "https://r/", Some(1));
        assert!(format!("{e:?}").contains("https://r/"));
    }
}
