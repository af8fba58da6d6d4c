//! PyPI index documents: the simple API (PEP 691 JSON, PEP 503 HTML), the JSON API and the
//! Integrity API. Parsing is pure and lenient about what it does not need; every document comes
//! from an index an attacker may control, so nothing here can panic, recurse without bound or
//! take more than linear time in the body.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::http::Want;
use super::{redact_url, RegistryClient};
use crate::error::FetchError;

/// PEP 691 content negotiation: JSON preferred, HTML accepted (pypiserver, devpi and many
/// Artifactory versions only speak HTML).
pub const SIMPLE_ACCEPT: &str =
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// One distribution file the simple API lists.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SimpleFile {
    pub filename: String,
    /// Absolute (resolved against the page URL), fragment removed.
    pub url: String,
    pub sha256: Option<String>,
    pub requires_python: Option<String>,
    /// `Some(reason)` when yanked (the reason may be empty).
    pub yanked: Option<String>,
    pub upload_time: Option<String>,
    /// PEP 740: the provenance URL the index lists for the file.
    pub provenance: Option<String>,
    /// The version parsed from the file name (wheel or sdist convention).
    pub version: Option<String>,
    /// `wheel`, `sdist` or `other`.
    pub kind: &'static str,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SimpleProject {
    /// `json` or `html`.
    pub format: &'static str,
    pub api_version: Option<String>,
    /// PEP 792 `project-status.status` (`active`, `archived`, `quarantined`, `deprecated`);
    /// None when the index does not say (API version below 1.4, or HTML without the meta tag).
    pub status: Option<String>,
    pub status_reason: Option<String>,
    pub files: Vec<SimpleFile>,
}

/// Hostile pages with millions of anchors would otherwise build millions of records.
pub const MAX_FILES: usize = 100_000;

impl SimpleProject {
    /// Versions listed, in first-seen order, deduplicated.
    pub fn versions(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for f in &self.files {
            if let Some(v) = &f.version {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
        }
        out
    }
}

pub fn parse_simple(page: &Url, body: &[u8]) -> Result<SimpleProject, String> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        parse_simple_json(page, body)
    } else {
        let text = std::str::from_utf8(body)
            .map_err(|_| "the simple page is neither JSON nor UTF-8 HTML".to_string())?;
        parse_simple_html(page, text)
    }
}

fn parse_simple_json(page: &Url, body: &[u8]) -> Result<SimpleProject, String> {
    #[derive(Deserialize)]
    struct Doc {
        #[serde(default)]
        meta: Option<Meta>,
        #[serde(default)]
        files: Vec<File>,
        #[serde(default, rename = "project-status")]
        project_status: Option<Status>,
    }
    #[derive(Deserialize)]
    struct Meta {
        #[serde(default, rename = "api-version")]
        api_version: Option<String>,
    }
    #[derive(Deserialize)]
    struct Status {
        #[serde(default)]
        status: Option<String>,
        #[serde(default)]
        reason: Option<String>,
    }
    #[derive(Deserialize)]
    struct File {
        filename: String,
        url: String,
        #[serde(default)]
        hashes: BTreeMap<String, Value>,
        #[serde(default, rename = "requires-python")]
        requires_python: Option<Value>,
        #[serde(default)]
        yanked: Option<Value>,
        #[serde(default, rename = "upload-time")]
        upload_time: Option<Value>,
        #[serde(default)]
        provenance: Option<Value>,
    }
    let doc: Doc = serde_json::from_slice(body).map_err(|e| {
        format!("the simple API answered JSON that is not a PEP 691 project page: {e}")
    })?;
    if doc.files.len() > MAX_FILES {
        return Err(format!(
            "the project page lists more than {MAX_FILES} files"
        ));
    }
    let str_of = |v: Option<Value>| v.and_then(|v| v.as_str().map(str::to_string));
    let files = doc
        .files
        .into_iter()
        .map(|f| {
            let yanked = match f.yanked {
                Some(Value::Bool(true)) => Some(String::new()),
                Some(Value::String(r)) => Some(r),
                _ => None,
            };
            let url = absolute(page, &f.url);
            let mut sf = SimpleFile {
                sha256: f
                    .hashes
                    .get("sha256")
                    .and_then(Value::as_str)
                    .map(str::to_ascii_lowercase),
                requires_python: str_of(f.requires_python),
                yanked,
                upload_time: str_of(f.upload_time),
                provenance: str_of(f.provenance).map(|p| absolute(page, &p)),
                url,
                filename: f.filename,
                ..SimpleFile::default()
            };
            classify(&mut sf);
            sf
        })
        .collect();
    let (status, status_reason) = doc
        .project_status
        .map(|s| (s.status, s.reason))
        .unwrap_or_default();
    Ok(SimpleProject {
        format: "json",
        api_version: doc.meta.and_then(|m| m.api_version),
        status,
        status_reason,
        files,
    })
}

fn absolute(page: &Url, href: &str) -> String {
    match page.join(href.trim()) {
        Ok(mut u) => {
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => href.to_string(),
    }
}

/// Sets `version` and `kind` from the file name.
fn classify(f: &mut SimpleFile) {
    let name = f.filename.as_str();
    if let Some(stem) = name.strip_suffix(".whl") {
        f.kind = "wheel";
        f.version = stem.split('-').nth(1).map(str::to_string);
        return;
    }
    f.kind = "sdist";
    let stem = [".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar"]
        .iter()
        .find_map(|s| name.strip_suffix(s));
    match stem {
        Some(stem) => f.version = stem.rsplit_once('-').map(|(_, v)| v.to_string()),
        None => f.kind = "other",
    }
}

/// PEP 503 HTML: every `<a>` is a file; `href` with an optional `#sha256=` fragment,
/// `data-requires-python`, `data-yanked`, `data-provenance` (PEP 740) and the text is the file
/// name. `<meta name="pypi:repository-version">` gives the API version and
/// `<meta name="pypi:project-status">` (PEP 792) the status. A single forward scan: tags are
/// found with `find`, attributes read inside the tag only.
fn parse_simple_html(page: &Url, text: &str) -> Result<SimpleProject, String> {
    let mut out = SimpleProject {
        format: "html",
        ..SimpleProject::default()
    };
    let lower = text.to_ascii_lowercase();
    let mut pos = 0;
    let mut saw_html = false;
    while let Some(rel) = lower[pos..].find('<') {
        let start = pos + rel;
        let Some(end_rel) = lower[start..].find('>') else {
            break;
        };
        let end = start + end_rel;
        let tag = &text[start + 1..end];
        let tag_lower = &lower[start + 1..end];
        pos = end + 1;
        saw_html = true;
        if tag_lower.starts_with("meta") {
            let attrs = attributes(tag);
            let name = attr(&attrs, "name").unwrap_or_default();
            let content = attr(&attrs, "content");
            match name.as_str() {
                "pypi:repository-version" => out.api_version = content,
                "pypi:project-status" => out.status = content,
                "pypi:project-status-reason" => out.status_reason = content,
                _ => {}
            }
            continue;
        }
        if !(tag_lower.starts_with("a ")
            || tag_lower.starts_with("a\t")
            || tag_lower.starts_with("a\n"))
        {
            continue;
        }
        let attrs = attributes(tag);
        let Some(href) = attr(&attrs, "href") else {
            continue;
        };
        // The text runs to the next tag; searching for `</a>` instead would rescan the rest of
        // the page for every unclosed anchor.
        let close = lower[pos..].find('<').map_or(lower.len(), |i| pos + i);
        let filename = unescape(text[pos..close].trim());
        pos = close;
        if out.files.len() == MAX_FILES {
            return Err(format!(
                "the project page lists more than {MAX_FILES} files"
            ));
        }
        let sha256 = href
            .split_once('#')
            .and_then(|(_, frag)| frag.strip_prefix("sha256="))
            .map(str::to_ascii_lowercase);
        let mut f = SimpleFile {
            url: absolute(page, &href),
            sha256,
            requires_python: attr(&attrs, "data-requires-python"),
            yanked: attr(&attrs, "data-yanked"),
            provenance: attr(&attrs, "data-provenance").map(|p| absolute(page, &p)),
            filename,
            ..SimpleFile::default()
        };
        classify(&mut f);
        out.files.push(f);
    }
    if !saw_html {
        return Err("the simple page is neither PEP 691 JSON nor PEP 503 HTML".into());
    }
    Ok(out)
}

/// `key="value"`, `key='value'`, `key=value` and bare `key` (value ""), names lower-cased,
/// values entity-decoded. Stops at the end of the tag, so its cost is the tag's length.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let b = tag.as_bytes();
    let mut i = b
        .iter()
        .position(|c| c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let mut out = Vec::new();
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let ks = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' && b[i] != b'/' {
            i += 1;
        }
        if ks == i {
            i += 1;
            continue;
        }
        let key = tag[ks..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            let (vs, ve) = if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let vs = i + 1;
                let ve = b[vs..]
                    .iter()
                    .position(|c| *c == q)
                    .map_or(b.len(), |p| vs + p);
                i = (ve + 1).min(b.len());
                (vs, ve)
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                (vs, i)
            };
            out.push((key, unescape(&tag[vs..ve])));
        } else {
            out.push((key, String::new()));
        }
    }
    out
}

fn attr(attrs: &[(String, String)], key: &str) -> Option<String> {
    attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// What the JSON API (`/pypi/<name>/json`) says, in the parts the facts read.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct JsonProject {
    #[serde(default)]
    pub info: JsonInfo,
    #[serde(default)]
    pub releases: BTreeMap<String, Vec<JsonFile>>,
    #[serde(default)]
    pub vulnerabilities: Vec<JsonVuln>,
    #[serde(default)]
    pub ownership: Option<Ownership>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct JsonInfo {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub license: Option<String>,
    #[serde(default)]
    pub license_expression: Option<String>,
    #[serde(default)]
    pub home_page: Option<String>,
    #[serde(default)]
    pub project_urls: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    pub requires_dist: Option<Vec<String>>,
    #[serde(default)]
    pub yanked: bool,
    #[serde(default)]
    pub yanked_reason: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct JsonFile {
    #[serde(default)]
    pub filename: String,
    #[serde(default)]
    pub upload_time_iso_8601: Option<String>,
    #[serde(default)]
    pub yanked: bool,
    #[serde(default)]
    pub yanked_reason: Option<String>,
    #[serde(default)]
    pub digests: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct JsonVuln {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub fixed_in: Vec<String>,
    #[serde(default)]
    pub withdrawn: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Ownership {
    #[serde(default)]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub organization: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Role {
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub user: String,
}

pub fn parse_json_project(url: &Url, body: &[u8]) -> Result<JsonProject, FetchError> {
    serde_json::from_slice(body).map_err(|e| FetchError::Malformed {
        url: redact_url(url),
        detail: format!("not a PyPI JSON API document: {e}"),
    })
}

impl RegistryClient {
    /// The simple API page of a project (`<index>/<name>/`), JSON preferred.
    pub async fn simple_page(&self, name: &str) -> Result<(Url, Vec<u8>), FetchError> {
        let url = self
            .base()
            .join(&format!("{name}/"))
            .map_err(|e| FetchError::Client(format!("cannot build URL for {name}: {e}")))?;
        let want = Want {
            limit: self.cfg.max_body_bytes,
            accept: SIMPLE_ACCEPT,
            limit_flag: "--max-body-mb",
            cacheable: true,
        };
        let body = self.get_with(&url, want).await?;
        Ok((url, body))
    }

    /// A JSON document that may be missing: `Ok(None)` on 404 (the JSON API, the Integrity API).
    pub async fn optional_json(&self, url: &Url) -> Result<Option<Vec<u8>>, FetchError> {
        match self.get_bytes(url).await {
            Ok(b) => Ok(Some(b)),
            Err(FetchError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("https://idx.example/simple/demo/").unwrap()
    }

    #[test]
    fn pep691_json_is_read() {
        let body = br#"{"meta":{"api-version":"1.4"},"name":"demo","project-status":{"status":"archived","reason":"moved"},
          "files":[{"filename":"demo-1.0-py3-none-any.whl","url":"../../files/demo-1.0-py3-none-any.whl","hashes":{"sha256":"AB"},"yanked":"broken","provenance":"https://idx.example/integrity/demo/1.0/demo-1.0-py3-none-any.whl/provenance"},
                   {"filename":"demo-0.9.tar.gz","url":"https://files.example/demo-0.9.tar.gz","hashes":{},"yanked":false,"upload-time":"2025-01-01T00:00:00Z"}]}"#;
        let p = parse_simple(&page(), body).unwrap();
        assert_eq!(p.format, "json");
        assert_eq!(p.status.as_deref(), Some("archived"));
        assert_eq!(
            p.files[0].url,
            "https://idx.example/files/demo-1.0-py3-none-any.whl"
        );
        assert_eq!(p.files[0].sha256.as_deref(), Some("ab"));
        assert_eq!(p.files[0].yanked.as_deref(), Some("broken"));
        assert_eq!(p.files[0].version.as_deref(), Some("1.0"));
        assert_eq!(
            (p.files[1].kind, p.files[1].version.as_deref()),
            ("sdist", Some("0.9"))
        );
        assert_eq!(p.versions(), ["1.0", "0.9"]);
    }

    #[test]
    fn pep503_html_is_read() {
        let html = r#"<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="1.0"><meta name="pypi:project-status" content="quarantined"></head>
<body><h1>Links for demo</h1>
<A HREF="/packages/demo-1.0.tar.gz#sha256=ABCDEF" data-requires-python="&gt;=3.8" data-yanked="">demo-1.0.tar.gz</A><br/>
<a href='demo_x-2.0-py3-none-any.whl' data-provenance="/prov">demo_x-2.0-py3-none-any.whl</a>
</body></html>"#;
        let p = parse_simple(&page(), html.as_bytes()).unwrap();
        assert_eq!(p.format, "html");
        assert_eq!(p.api_version.as_deref(), Some("1.0"));
        assert_eq!(p.status.as_deref(), Some("quarantined"));
        assert_eq!(p.files.len(), 2);
        assert_eq!(
            p.files[0].url,
            "https://idx.example/packages/demo-1.0.tar.gz"
        );
        assert_eq!(p.files[0].sha256.as_deref(), Some("abcdef"));
        assert_eq!(p.files[0].requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(p.files[0].yanked.as_deref(), Some(""));
        assert_eq!(
            p.files[1].url,
            "https://idx.example/simple/demo/demo_x-2.0-py3-none-any.whl"
        );
        assert_eq!(
            p.files[1].provenance.as_deref(),
            Some("https://idx.example/prov")
        );
        assert_eq!(p.files[1].yanked, None);
    }

    #[test]
    fn hostile_pages_fail_or_parse_without_panicking() {
        for body in [
            &b"{"[..],
            b"{\"files\": 3}",
            b"\xff\xfe<a",
            b"plain text, no tags",
            b"<a href=\"x",
            b"<a href=x>unterminated",
            b"<a href='\xc3\x28'>",
            b"<<<<<<<<<<>",
            b"<a =>x</a><a href=>y</a><meta>",
        ] {
            let _ = parse_simple(&page(), body);
        }
        // A huge page stays linear: 100,000 anchors that are never closed.
        let big = "<a href=x.whl>x.whl ".repeat(100_000);
        let started = std::time::Instant::now();
        let _ = parse_simple(&page(), big.as_bytes());
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
