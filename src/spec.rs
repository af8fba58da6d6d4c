//! Package specs (`name`, `name@version`, `name@range`, `name@tag`) and version selection with
//! npm's semantics (npm-package-arg for parsing, npm-pick-manifest for choosing).

use std::fmt;

use nodejs_semver::{Range, Version};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    Version(String),
    Range(String),
    Tag(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub raw: String,
    pub name: String,
    pub selector: Selector,
    /// Which registry kind the name belongs to: `npm` unless the spec says `pypi:` or
    /// `pkg:pypi/`. For PyPI, `name` is PEP 503 normalised and the selector is a `Version`
    /// (`==1.2`) or the tag `latest` (the newest release that is neither yanked nor a
    /// pre-release).
    pub ecosystem: Ecosystem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ecosystem {
    #[default]
    Npm,
    Pypi,
}

impl Ecosystem {
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Npm => "npm",
            Ecosystem::Pypi => "pypi",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub spec: String,
    pub problem: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid package spec `{}`: {}", self.spec, self.problem)
    }
}

impl std::error::Error for SpecError {}

impl Selector {
    pub fn kind(&self) -> &'static str {
        match self {
            Selector::Version(_) => "version",
            Selector::Range(_) => "range",
            Selector::Tag(_) => "tag",
        }
    }
}

impl Spec {
    pub fn parse(raw: &str) -> Result<Spec, SpecError> {
        let err = |problem: &str| SpecError {
            spec: raw.to_string(),
            problem: problem.to_string(),
        };
        let s = raw.trim();
        if s.is_empty() {
            return Err(err("empty spec"));
        }
        if let Some(rest) = s.strip_prefix("pypi:") {
            return parse_pypi(raw, rest, "==");
        }
        if let Some(purl) = s.strip_prefix("pkg:") {
            return parse_purl(raw, purl);
        }
        for (prefix, what) in [
            ("git+", "git"),
            ("git:", "git"),
            ("github:", "git"),
            ("http:", "URL"),
            ("https:", "URL"),
            ("file:", "file"),
            ("npm:", "alias"),
        ] {
            if s.starts_with(prefix) {
                return Err(err(&format!(
                    "{what} specs are not supported; give a registry package name such as `name@1.2.3`"
                )));
            }
        }
        if s.starts_with('.') || s.starts_with('/') {
            return Err(err(
                "local paths are not supported; give a registry package name",
            ));
        }
        // The version separator is the first '@' after the name (a scope's own '@' is at 0).
        let at = if let Some(rest) = s.strip_prefix('@') {
            let slash = rest
                .find('/')
                .ok_or_else(|| err("a scoped name needs the form `@scope/name`"))?;
            rest[slash..].find('@').map(|i| i + slash + 1)
        } else {
            s.find('@')
        };
        let (name, sel) = match at {
            Some(i) => (&s[..i], Some(s[i + 1..].trim())),
            None => (s, None),
        };
        validate_name(name).map_err(|p| err(&p))?;
        let selector = match sel {
            None => Selector::Tag("latest".into()),
            // npm-package-arg treats `name@` as the range `*`.
            Some("") => Selector::Range("*".into()),
            Some(v) if exact_version(v).is_some() => {
                Selector::Version(exact_version(v).map(|v| v.to_string()).unwrap_or_default())
            }
            Some(r) if is_range(r) => Selector::Range(r.to_string()),
            Some(t) => {
                // npm rejects tags that would need URL encoding, since they name a dist-tag key.
                if t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
                {
                    Selector::Tag(t.to_string())
                } else {
                    return Err(err(&format!(
                        "`{t}` is neither a version, a semver range nor a valid dist-tag"
                    )));
                }
            }
        };
        Ok(Spec {
            raw: raw.to_string(),
            name: name.to_string(),
            selector,
            ecosystem: Ecosystem::Npm,
        })
    }

    /// The name as it goes into a registry URL: `@scope%2fname` (npm's escapedName).
    pub fn escaped_name(&self) -> String {
        escape_name(&self.name)
    }
}

/// A package URL (purl spec: `pkg:<type>/<namespace>/<name>@<version>`), `pkg:` already removed.
/// Qualifiers (`?…`) and subpaths (`#…`) select nothing mcp-audit fetches, so they are refused
/// rather than ignored.
fn parse_purl(raw: &str, purl: &str) -> Result<Spec, SpecError> {
    let err = |problem: String| SpecError {
        spec: raw.to_string(),
        problem,
    };
    if purl.contains(['?', '#']) {
        return Err(err(
            "purl qualifiers and subpaths are not supported; give `pkg:<type>/<name>@<version>`"
                .into(),
        ));
    }
    let (ty, rest) = purl
        .split_once('/')
        .ok_or_else(|| err("a purl needs the form `pkg:<type>/<name>`".into()))?;
    let decode = |s: &str| {
        percent_decode(s).ok_or_else(|| err(format!("`{s}` is not valid percent-encoding")))
    };
    match ty.to_ascii_lowercase().as_str() {
        "npm" => {
            // `pkg:npm/%40scope/name@1.0.0` or `pkg:npm/@scope/name@1.0.0`.
            let (path, version) = match rest.rsplit_once('@') {
                Some((p, v)) if !p.is_empty() && !p.ends_with('/') => (p, Some(v)),
                _ => (rest, None),
            };
            let name = decode(path)?;
            let npm = match version {
                Some(v) => format!("{name}@{}", decode(v)?),
                None => name,
            };
            let mut spec = Spec::parse(&npm).map_err(|e| err(e.problem))?;
            spec.raw = raw.to_string();
            Ok(spec)
        }
        "pypi" => {
            let (name, version) = match rest.split_once('@') {
                Some((n, v)) => (decode(n)?, Some(decode(v)?)),
                None => (decode(rest)?, None),
            };
            let joined = match version {
                Some(v) => format!("{name}=={v}"),
                None => name,
            };
            parse_pypi(raw, &joined, "==")
        }
        other => Err(err(format!(
            "purl type `{other}` is not supported (npm and pypi are)"
        ))),
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `NAME`, `NAME==VERSION` or `NAME` with PEP 440 specifiers (`pkg>=1.2,<2`, `pkg~=1.2`,
/// `pkg==1.*`; the `pypi:` prefix already removed): an exact `==` is a `Version`, other
/// specifiers a `Range` in their normal form, matched later against what the index lists. `sep`
/// is `==` for that syntax, or `@` for uvx's `pkg@1.2` (an exact version, or `latest`).
pub fn parse_pypi(raw: &str, s: &str, sep: &str) -> Result<Spec, SpecError> {
    let err = |problem: String| SpecError {
        spec: raw.to_string(),
        problem,
    };
    let s = s.trim();
    let (name, version) = if sep == "@" {
        match s.split_once('@') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (s, None),
        }
    } else {
        match s.find(['<', '>', '=', '!', '~']) {
            Some(i) => (s[..i].trim(), Some(s[i..].trim())),
            None => (s, None),
        }
    };
    if version.is_some_and(|v| v.contains(';')) {
        return Err(err(
            "environment markers (`; ...`) are not supported in a PyPI spec".into(),
        ));
    }
    // Extras (`pkg[cli]`) choose optional dependencies, not a different distribution.
    let name = match name.split_once('[') {
        Some((n, extras)) if extras.ends_with(']') => n.trim(),
        _ => name,
    };
    if name.contains(['<', '>', '=', '!', '~', ';', ' ', '@']) {
        return Err(err(
            "only `NAME`, `NAME==VERSION` or `NAME` with PEP 440 specifiers is supported for \
             PyPI (no markers or URLs)"
                .into(),
        ));
    }
    let normalized = pep503_normalize(name).ok_or_else(|| {
        err(format!(
            "`{name}` is not a valid Python project name (letters, digits, `.`, `_`, `-`; \
             starting and ending with a letter or digit)"
        ))
    })?;
    let selector = match version {
        None => Selector::Tag("latest".into()),
        Some("latest") if sep == "@" => Selector::Tag("latest".into()),
        Some(v) if sep == "@" => {
            if !is_pep440_version(v) {
                return Err(err(format!(
                    "`{v}` is not an exact PEP 440 version (`NAME@VERSION` takes one)"
                )));
            }
            Selector::Version(v.to_string())
        }
        Some(v) => {
            let exact = v
                .strip_prefix("===")
                .or_else(|| v.strip_prefix("=="))
                .map(str::trim)
                .filter(|x| !x.contains([',', '*']) && is_pep440_version(x));
            match exact {
                Some(x) => Selector::Version(x.to_string()),
                None => {
                    let specs = v.parse::<pep440_rs::VersionSpecifiers>().map_err(|e| {
                        err(format!(
                            "`{v}` is not an exact `==VERSION` nor PEP 440 specifiers ({})",
                            first_line(&e.to_string())
                        ))
                    })?;
                    if specs.is_empty() {
                        return Err(err(format!("`{v}` names no version")));
                    }
                    Selector::Range(specs.to_string())
                }
            }
        }
    };
    Ok(Spec {
        raw: raw.to_string(),
        name: normalized,
        selector,
        ecosystem: Ecosystem::Pypi,
    })
}

/// The first line of a multi-line error, without its closing colon.
fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default().trim_end_matches(':')
}

/// PEP 503: lower case, runs of `-`, `_` and `.` become one `-`. `None` for a name PEP 508
/// does not allow (which could otherwise smuggle a path into the index URL).
pub fn pep503_normalize(name: &str) -> Option<String> {
    let ok_edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if name.is_empty()
        || name.len() > 200
        || !ok_edge(name.chars().next())
        || !ok_edge(name.chars().last())
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return None;
    }
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if "-_.".contains(c) {
            sep = true;
        } else {
            if sep {
                out.push('-');
                sep = false;
            }
            out.push(c.to_ascii_lowercase());
        }
    }
    Some(out)
}

/// A version string in PEP 440's alphabet with no wildcard: exact enough to name one release.
/// Comparing it with what the index lists is done on the normalised text.
pub fn is_pep440_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == 'v')
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_+!".contains(c))
}

/// The registry package an npm launch spec (`npx -y <spec>`) installs, or why it installs none.
/// An alias (`name@npm:real@1.2.3`) installs the real package; git, URL and path specs install
/// no registry package.
pub fn registry_spec(raw: &str) -> Result<Spec, String> {
    let spec = raw.trim();
    let spec = alias_target(spec).unwrap_or(spec);
    Spec::parse(spec).map_err(|e| {
        let shown = crate::secrets::redact_value(None, raw);
        format!("`{shown}` is not a registry package spec ({})", e.problem)
    })
}

/// What an npm alias (`name@npm:real@1.2.3` or `npm:real@1.2.3`) installs: `real@1.2.3`.
/// `None` for a spec that is not an alias.
pub fn alias_target(spec: &str) -> Option<&str> {
    let idx = spec.find("npm:")?;
    (idx == 0 || spec[..idx].ends_with('@')).then(|| &spec[idx + 4..])
}

/// A single exact version in npm's loose form (`1.2.3`, `v1.2.3`, `=1.2.3`). nodejs-semver's
/// parser stops at the first space, so "1.0.0 - 2.0.0" would otherwise read as 1.0.0.
pub fn exact_version(s: &str) -> Option<Version> {
    let s = s.trim();
    if s.contains(char::is_whitespace) {
        return None;
    }
    let bare = s.trim_start_matches('=').trim_start_matches(['v', 'V']);
    Version::parse(bare).ok()
}

/// A semver range. nodejs-semver's loose fallback accepts stray characters that node-semver's
/// `validRange` rejects, so the alphabet of a range is checked first.
pub fn is_range(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || " .-+*^~<>=|".contains(c))
        && Range::parse(s).is_ok()
}

pub fn escape_name(name: &str) -> String {
    name.replacen('/', "%2f", 1)
}

/// validate-npm-package-name, accepting legacy names (capitals, long names) as npm still installs
/// them.
fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the package name is empty".into());
    }
    if name.len() > 214 {
        return Err("a package name is at most 214 characters".into());
    }
    let (scope, bare) = match name.strip_prefix('@') {
        Some(rest) => match rest.split_once('/') {
            Some((scope, bare)) => (Some(scope), bare),
            None => return Err("a scoped name needs the form `@scope/name`".into()),
        },
        None => (None, name),
    };
    let part_ok = |p: &str| {
        !p.is_empty()
            && !p.starts_with('.')
            && !p.starts_with('_')
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~!*'()".contains(c))
    };
    if let Some(scope) = scope {
        if !part_ok(scope) {
            return Err(format!("`@{scope}` is not a valid scope"));
        }
    }
    if !part_ok(bare) {
        return Err(format!(
            "`{bare}` is not a valid package name (URL-safe characters only, not starting with . or _)"
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickError {
    NoVersions,
    VersionNotFound(String),
    TagNotFound(String),
    NoMatch(String),
}

impl fmt::Display for PickError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PickError::NoVersions => write!(f, "the packument lists no versions"),
            PickError::VersionNotFound(v) => write!(f, "version {v} does not exist"),
            PickError::TagNotFound(t) => write!(f, "dist-tag `{t}` does not exist"),
            PickError::NoMatch(r) => write!(f, "no version satisfies `{r}`"),
        }
    }
}

/// What picking a version reads of a packument: the typed view the scan parses
/// (`facts::npm::Packument`) and a parsed `Value` both provide it.
pub trait VersionList {
    /// Every version in document order, with whether it is deprecated; `None` when the document
    /// has no `versions` object.
    fn version_list(&self) -> Option<Vec<(&str, bool)>>;
    /// The version a dist-tag names, when it is a string.
    fn dist_tag(&self, tag: &str) -> Option<&str>;
    /// `engines.node` and `engines.npm` of one version, when they are strings. npm prefers
    /// versions whose engines fit the running node and npm; a document that does not say is taken
    /// to fit.
    fn engines(&self, _version: &str) -> (Option<&str>, Option<&str>) {
        (None, None)
    }
}

impl VersionList for Value {
    fn version_list(&self) -> Option<Vec<(&str, bool)>> {
        let versions = self.get("versions").and_then(Value::as_object)?;
        Some(
            versions
                .iter()
                .map(|(k, doc)| {
                    let deprecated = doc
                        .get("deprecated")
                        .and_then(Value::as_str)
                        .is_some_and(|s| !s.is_empty());
                    (k.as_str(), deprecated)
                })
                .collect(),
        )
    }

    fn engines(&self, version: &str) -> (Option<&str>, Option<&str>) {
        let e = self
            .get("versions")
            .and_then(|v| v.get(version))
            .and_then(|d| d.get("engines"));
        let get = |k: &str| e.and_then(|e| e.get(k)).and_then(Value::as_str);
        (get("node"), get("npm"))
    }

    fn dist_tag(&self, tag: &str) -> Option<&str> {
        self.get("dist-tags")
            .and_then(Value::as_object)
            .and_then(|t| t.get(tag))
            .and_then(Value::as_str)
    }
}

/// [`pick_version_with`] for an explicit selector and the default engines.
pub fn pick_version<P: VersionList + ?Sized>(
    packument: &P,
    sel: &Selector,
) -> Result<String, PickError> {
    pick_version_with(packument, sel, false, &crate::tree::Engines::default())
}

impl Spec {
    /// A bare npm name (`foo`, no `@latest`): npm reads it as "the default tag, if it fits", not
    /// as the tag itself (npm-pick-manifest's `wanted` is empty), so `latest` is passed over
    /// when it is deprecated or its `engines` do not fit.
    pub fn implicit_latest(&self) -> bool {
        self.ecosystem == Ecosystem::Npm
            && self.selector == Selector::Tag("latest".into())
            && !self.raw.trim().ends_with("@latest")
    }
}

/// npm-pick-manifest: a tag named explicitly, or an exact version, is that version; a range (and
/// a bare name, `implicit_latest`, which is the range `*`) takes the `latest` tag when it
/// satisfies the range, is not deprecated and its `engines` fit `engines`; else the best
/// satisfying version by (not deprecated and engines fit, engines fit, not deprecated, highest).
/// Prereleases only match ranges that name a prerelease of the same tuple (node-semver).
pub fn pick_version_with<P: VersionList + ?Sized>(
    packument: &P,
    sel: &Selector,
    implicit_latest: bool,
    engines: &crate::tree::Engines,
) -> Result<String, PickError> {
    let star = Selector::Range("*".into());
    let sel = if implicit_latest && *sel == Selector::Tag("latest".into()) {
        &star
    } else {
        sel
    };
    let fits = |v: &str| {
        let (node, npm) = packument.engines(v);
        crate::tree::manifest::engines_fit(node, npm, engines)
    };
    let versions = packument
        .version_list()
        .filter(|v| !v.is_empty())
        .ok_or(PickError::NoVersions)?;
    let contains = |v: &str| versions.iter().any(|(k, _)| *k == v);
    match sel {
        Selector::Version(v) => {
            if contains(v) {
                return Ok(v.clone());
            }
            // Packuments may spell a version differently from its normalised form (e.g. `v1.0.0`).
            let want = Version::parse(v).ok();
            versions
                .iter()
                .map(|(k, _)| *k)
                .find(|k| Version::parse(k).ok().is_some() && Version::parse(k).ok() == want)
                .map(str::to_string)
                .ok_or_else(|| PickError::VersionNotFound(v.clone()))
        }
        Selector::Tag(t) => {
            let v = packument
                .dist_tag(t)
                .ok_or_else(|| PickError::TagNotFound(t.clone()))?;
            if contains(v) {
                Ok(v.to_string())
            } else {
                Err(PickError::VersionNotFound(v.to_string()))
            }
        }
        Selector::Range(r) => {
            let range = Range::parse(r).map_err(|_| PickError::NoMatch(r.clone()))?;
            // `*` takes `latest` even when it is a prerelease (npm-pick-manifest's shortcut).
            let any = r.trim() == "*";
            if let Some(latest) = packument.dist_tag("latest") {
                if let Ok(lv) = Version::parse(latest) {
                    let deprecated = versions.iter().any(|(k, d)| *k == latest && *d);
                    if contains(latest)
                        && (any || range.satisfies(&lv))
                        && !deprecated
                        && fits(latest)
                    {
                        return Ok(latest.to_string());
                    }
                }
            }
            // (not deprecated and engines fit, engines fit, not deprecated, version), as npm
            // sorts.
            type Rank = (bool, bool, bool, Version);
            let mut best: Option<(Rank, &str)> = None;
            for (k, deprecated) in &versions {
                let Ok(v) = Version::parse(k) else { continue };
                if !range.satisfies(&v) {
                    continue;
                }
                let eng = fits(k);
                let key = (eng && !deprecated, eng, !deprecated, v);
                if best.as_ref().is_none_or(|(b, _)| key > *b) {
                    best = Some((key, k));
                }
            }
            best.map(|(_, k)| k.to_string())
                .ok_or_else(|| PickError::NoMatch(r.clone()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pypi_specs_and_purls_are_normalised() {
        let s = Spec::parse("pypi:Mcp_Server.Fetch==1.2.0").unwrap();
        assert_eq!(s.ecosystem, Ecosystem::Pypi);
        assert_eq!(s.name, "mcp-server-fetch");
        assert_eq!(s.selector, Selector::Version("1.2.0".into()));
        let s = Spec::parse("pypi:mcp-server-git").unwrap();
        assert_eq!(s.selector, Selector::Tag("latest".into()));
        let s = Spec::parse("pkg:pypi/Django_Rest@3.0rc1").unwrap();
        assert_eq!(
            (s.name.as_str(), s.ecosystem),
            ("django-rest", Ecosystem::Pypi)
        );
        assert_eq!(s.selector, Selector::Version("3.0rc1".into()));
        let s = Spec::parse("pkg:npm/%40scope/name@1.0.0").unwrap();
        assert_eq!(
            (s.name.as_str(), s.ecosystem),
            ("@scope/name", Ecosystem::Npm)
        );
        assert_eq!(s.selector, Selector::Version("1.0.0".into()));
        assert_eq!(s.raw, "pkg:npm/%40scope/name@1.0.0");
        let s = Spec::parse("pkg:npm/left-pad").unwrap();
        assert_eq!(s.selector, Selector::Tag("latest".into()));
        assert_eq!(Spec::parse("pypi:pkg[cli]==1.0").unwrap().name, "pkg");
        // PEP 440 specifiers are ranges, kept in their normal form.
        for (spec, range) in [
            ("pypi:pkg>=1", ">=1"),
            ("pypi:pkg >= 1.2 , < 2", ">=1.2, <2"),
            ("pypi:pkg~=1.2", "~=1.2"),
            ("pypi:pkg==1.*", "==1.*"),
            ("pypi:pkg[cli]!=1.3,>1", ">1, !=1.3"),
        ] {
            let s = Spec::parse(spec).unwrap();
            assert_eq!(
                (s.name.as_str(), s.selector),
                ("pkg", Selector::Range(range.into())),
                "{spec}"
            );
        }
        assert_eq!(
            Spec::parse("pypi:pkg===1.0").unwrap().selector,
            Selector::Version("1.0".into())
        );
        for bad in [
            "pypi:",
            "pypi:../etc",
            "pypi:pkg>=1.0.x",
            "pypi:pkg=>1",
            "pypi:pkg>=1; python_version < '3.9'",
            "pypi:-pkg",
            "pkg:cargo/serde@1",
            "pkg:pypi/x?repository_url=y",
            "pkg:npm/%zz",
        ] {
            assert!(Spec::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(pep503_normalize("A.b--C__d").as_deref(), Some("a-b-c-d"));
        // Hostile specs (config files are written by others): an error or a range, no panic.
        let long = [
            format!("pypi:p>={}", "9".repeat(5000)),
            format!("pypi:p{}", ",>=1".repeat(10_000)),
            format!("pypi:p==1.0+{}", "a.".repeat(3000)),
            "pypi:p~=\u{202e}1".to_string(),
            "pypi:p>=1,,,<2".to_string(),
        ];
        for s in &long {
            if let Err(e) = Spec::parse(s) {
                assert!(!e.problem.contains('\n'), "one line: {}", e.problem);
            }
        }
    }
    use serde_json::json;

    #[test]
    fn parses_npm_specs() {
        let cases = [
            ("foo", "foo", Selector::Tag("latest".into())),
            ("foo@1.2.3", "foo", Selector::Version("1.2.3".into())),
            ("foo@v1.2.3", "foo", Selector::Version("1.2.3".into())),
            ("foo@^0.1", "foo", Selector::Range("^0.1".into())),
            ("foo@>=1 <2", "foo", Selector::Range(">=1 <2".into())),
            ("foo@next", "foo", Selector::Tag("next".into())),
            ("foo@", "foo", Selector::Range("*".into())),
            (
                "@playwright/mcp",
                "@playwright/mcp",
                Selector::Tag("latest".into()),
            ),
            (
                "@playwright/mcp@0.0.40",
                "@playwright/mcp",
                Selector::Version("0.0.40".into()),
            ),
            (
                "@scope/pkg@beta",
                "@scope/pkg",
                Selector::Tag("beta".into()),
            ),
        ];
        for (raw, name, sel) in cases {
            let s = Spec::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!((s.name.as_str(), &s.selector), (name, &sel), "{raw}");
        }
        assert_eq!(
            Spec::parse("@scope/pkg").unwrap().escaped_name(),
            "@scope%2fpkg"
        );
    }

    #[test]
    fn rejects_bad_specs_naming_them() {
        for raw in [
            "",
            "@scope",
            "@/x",
            ".hidden",
            "_under",
            "foo bar",
            "foo@1.2.3 || @@",
            "git+https://github.com/a/b",
            "https://x/y.tgz",
            "./local",
            "foo@what?",
        ] {
            let e = Spec::parse(raw).unwrap_err();
            assert!(e.to_string().contains(&format!("`{raw}`")), "{e}");
        }
    }

    fn packument() -> Value {
        json!({
            "dist-tags": {"latest": "1.2.0", "next": "2.0.0-beta.1"},
            "versions": {
                "1.0.0": {}, "1.1.0": {}, "1.2.0": {}, "1.3.0": {"deprecated": "broken"},
                "2.0.0-beta.1": {}, "0.9.0": {}
            }
        })
    }

    #[test]
    fn picks_like_npm() {
        let p = packument();
        let pick = |s: &str| pick_version(&p, &Spec::parse(s).unwrap().selector);
        assert_eq!(pick("x"), Ok("1.2.0".into()));
        assert_eq!(pick("x@next"), Ok("2.0.0-beta.1".into()));
        // latest satisfies the range, so it wins over the higher 1.3.0
        assert_eq!(pick("x@^1.0.0"), Ok("1.2.0".into()));
        assert_eq!(pick("x@~1.1.0"), Ok("1.1.0".into()));
        // only a deprecated version satisfies: it is still picked
        assert_eq!(pick("x@>=1.3.0"), Ok("1.3.0".into()));
        // prereleases are excluded from ranges that do not name them
        assert_eq!(pick("x@>=2.0.0-0"), Ok("2.0.0-beta.1".into()));
        assert_eq!(pick("x@^2"), Err(PickError::NoMatch("^2".into())));
        assert_eq!(
            pick("x@9.9.9"),
            Err(PickError::VersionNotFound("9.9.9".into()))
        );
        assert_eq!(pick("x@nope"), Err(PickError::TagNotFound("nope".into())));
    }

    /// firecrawl-mcp on 2026-12-01: `latest` (3.26.0) needs node >=22; npm 11 on node 20 installs
    /// 3.22.2 for `npx -y firecrawl-mcp` (fixtures/tree/oracle/locks/firecrawl-mcp.json).
    #[test]
    fn a_bare_name_passes_over_a_latest_npm_would_not_install() {
        let p = json!({
            "dist-tags": {"latest": "3.26.0", "next": "4.0.0-rc.1"},
            "versions": {
                "3.21.0": {"engines": {"node": ">=18.0.0"}},
                "3.22.2": {"engines": {"node": ">=18.0.0"}},
                "3.23.0": {"engines": {"node": ">=18.0.0"}, "deprecated": "broken"},
                "3.24.0": {"engines": {"node": ">=18.0.0", "npm": ">=99"}},
                "3.25.0": {"engines": {"node": "not a range"}},
                "3.26.0": {"engines": {"node": ">=22.0.0"}},
                "4.0.0-rc.1": {}
            }
        });
        let e = crate::tree::Engines::default();
        let pick = |raw: &str| {
            let s = Spec::parse(raw).unwrap();
            pick_version_with(&p, &s.selector, s.implicit_latest(), &e)
        };
        assert!(Spec::parse("firecrawl-mcp").unwrap().implicit_latest());
        assert!(!Spec::parse("firecrawl-mcp@latest")
            .unwrap()
            .implicit_latest());
        assert!(!Spec::parse("pypi:firecrawl-mcp").unwrap().implicit_latest());
        assert_eq!(pick("firecrawl-mcp"), Ok("3.22.2".into()));
        // A tag named explicitly is that version, whatever its engines (npm-pick-manifest).
        assert_eq!(pick("firecrawl-mcp@latest"), Ok("3.26.0".into()));
        assert_eq!(pick("firecrawl-mcp@^3"), Ok("3.22.2".into()));
        assert_eq!(pick("firecrawl-mcp@3.26.0"), Ok("3.26.0".into()));
        // Only an engine mismatch satisfies: it is still picked, as npm warns and installs.
        assert_eq!(pick("firecrawl-mcp@>=3.26.0"), Ok("3.26.0".into()));
        // With a newer node, latest fits again.
        let node22 = crate::tree::Engines {
            node: Version::parse("22.1.0").unwrap(),
            ..crate::tree::Engines::default()
        };
        let s = Spec::parse("firecrawl-mcp").unwrap();
        assert_eq!(
            pick_version_with(&p, &s.selector, true, &node22),
            Ok("3.26.0".into())
        );
        // A deprecated latest is passed over too; a prerelease latest is taken by a bare name.
        let d = json!({"dist-tags": {"latest": "2.0.0"},
                       "versions": {"1.0.0": {}, "2.0.0": {"deprecated": "use 1"}}});
        assert_eq!(
            pick_version_with(&d, &s.selector, true, &e),
            Ok("1.0.0".into())
        );
        let pre = json!({"dist-tags": {"latest": "2.0.0-beta.1"},
                         "versions": {"1.0.0": {}, "2.0.0-beta.1": {}}});
        assert_eq!(
            pick_version_with(&pre, &s.selector, true, &e),
            Ok("2.0.0-beta.1".into())
        );
    }
}
