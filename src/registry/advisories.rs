//! Known vulnerabilities, asked the way `npm audit` asks (arborist's `audit-report.js`):
//! `POST /-/npm/v1/security/advisories/bulk` with `{ "<name>": ["<version>", ...] }`, answered
//! with `{ "<name>": [{ id, url, title, severity, vulnerable_versions, cwe, cvss }, ...] }`.
//!
//! The endpoint returns every advisory of a name that touches *any* of the versions sent, so each
//! advisory is matched again against each version, as `@npmcli/metavuln-calculator` does. The
//! answer is the registry's word and is read as hostile input: a document that is not that shape
//! makes every package of its request unknown; one malformed advisory makes its package unknown.
//! Nothing is ever "no advisories" unless the registry said so.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::http::Want;
use super::RegistryClient;
use crate::error::FetchError;

/// (name, version) pairs per POST: npm sends a whole tree in one request (arborist's
/// `audit-report.js`, no chunking), and a run sends every tree's nodes together, so the cap is
/// set high enough for a run of large trees (20 MCP servers are about 600 pairs); chunks keep
/// one request's body and answer bounded beyond it.
pub const CHUNK: usize = 5_000;
/// The JSON body of one POST, at most: a chunk ends before a pair that would pass it, so a run
/// of long names cannot build a body a registry or proxy refuses (a 5,000-pair body of
/// ordinary names is about 150 KB).
pub const MAX_BODY_BYTES: usize = 512 * 1024;
/// Advisories kept per package, and characters per text field: a hostile answer cannot turn one
/// report into megabytes.
const MAX_PER_PACKAGE: usize = 100;
const MAX_TEXT: usize = 300;

/// One advisory that names a version, as the registry described it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Advisory {
    /// GitHub advisory database number on registry.npmjs.org (`1098583`), kept as text.
    pub id: String,
    pub url: Option<String>,
    pub title: String,
    /// `critical`, `high`, `moderate`, `low` or `info`; anything else is kept as written.
    pub severity: String,
    pub vulnerable_versions: String,
    pub cwe: Vec<String>,
    pub cvss_score: Option<f64>,
    pub cvss_vector: Option<String>,
}

impl Advisory {
    /// `<id> <title> (<url>)`, the form findings show.
    pub fn summary(&self) -> String {
        match &self.url {
            Some(url) => format!("{} {} ({url})", self.id, self.title),
            None => format!("{} {}", self.id, self.title),
        }
    }
}

/// The advisories of one (name, version), or why they are unknown.
pub type Outcome = Result<Vec<Advisory>, String>;

fn clip(s: &str) -> String {
    if s.chars().count() <= MAX_TEXT {
        return s.to_string();
    }
    let mut out: String = s.chars().take(MAX_TEXT).collect();
    out.push('…');
    out
}

/// One advisory object, or why it cannot be used.
fn parse_advisory(v: &Value) -> Result<Advisory, String> {
    let o = v.as_object().ok_or("an advisory that is not an object")?;
    let text = |k: &str| o.get(k).and_then(Value::as_str).map(clip);
    let id = match o.get("id") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) if !s.is_empty() => clip(s),
        _ => return Err("an advisory without an id".into()),
    };
    let severity = text("severity")
        .map(|s| s.to_ascii_lowercase())
        .ok_or_else(|| format!("advisory {id} has no severity"))?;
    let vulnerable_versions = text("vulnerable_versions")
        .ok_or_else(|| format!("advisory {id} has no vulnerable_versions"))?;
    let cwe = match o.get("cwe") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .take(20)
            .map(clip)
            .collect(),
        Some(Value::String(s)) => vec![clip(s)],
        _ => vec![],
    };
    let cvss = o.get("cvss").and_then(Value::as_object);
    Ok(Advisory {
        url: text("url"),
        title: text("title").unwrap_or_else(|| "(no title)".into()),
        severity,
        vulnerable_versions,
        cwe,
        cvss_score: cvss
            .and_then(|c| c.get("score"))
            .and_then(Value::as_f64)
            .filter(|s| s.is_finite()),
        cvss_vector: cvss
            .and_then(|c| c.get("vectorString"))
            .and_then(Value::as_str)
            .map(clip),
        id,
    })
}

/// Whether `version` is in `range`. A range that cannot be read is taken to apply: the registry
/// returned the advisory for this request, and dropping it would turn "cannot tell" into a pass.
fn affects(range: &str, version: &str) -> bool {
    let (Ok(range), Ok(version)) = (
        nodejs_semver::Range::parse(range),
        nodejs_semver::Version::parse(version),
    ) else {
        return true;
    };
    // A prerelease inside the bounds is vulnerable too (node-semver's includePrerelease).
    range.satisfies_with_prerelease(&version, true)
}

/// Reads one bulk answer for the `asked` pairs.
pub fn parse_bulk(
    body: &[u8],
    asked: &BTreeSet<(String, String)>,
) -> BTreeMap<(String, String), Outcome> {
    let doc: Value = match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Value::Object(map),
        Ok(_) => return all(asked, "the advisories answer is not a JSON object".into()),
        Err(e) => return all(asked, format!("the advisories answer is not JSON: {e}")),
    };
    let mut out = BTreeMap::new();
    for (name, version) in asked {
        let outcome = match doc.get(name) {
            None | Some(Value::Null) => Ok(vec![]),
            Some(Value::Array(items)) => {
                let mut found = Vec::new();
                let mut bad = None;
                for item in items {
                    match parse_advisory(item) {
                        Ok(a) if affects(&a.vulnerable_versions, version) => found.push(a),
                        Ok(_) => {}
                        Err(e) => {
                            bad = Some(e);
                            break;
                        }
                    }
                }
                match bad {
                    Some(e) => Err(format!("the registry's advisories for {name} are malformed: {e}")),
                    None if found.len() > MAX_PER_PACKAGE => Err(format!(
                        "the registry lists more than {MAX_PER_PACKAGE} advisories for {name}@{version}; not read"
                    )),
                    None => Ok(found),
                }
            }
            Some(_) => Err(format!(
                "the registry's advisories for {name} are not a list"
            )),
        };
        out.insert((name.clone(), version.clone()), outcome);
    }
    out
}

fn all(asked: &BTreeSet<(String, String)>, reason: String) -> BTreeMap<(String, String), Outcome> {
    asked
        .iter()
        .map(|k| (k.clone(), Err(reason.clone())))
        .collect()
}

/// Why the endpoint gave nothing usable, in the words a report shows.
fn unavailable(client: &RegistryClient, e: &FetchError) -> String {
    let registry = client.base_display();
    match e {
        FetchError::NotFound { .. } => {
            format!("{registry} does not offer the advisories bulk endpoint (HTTP 404)")
        }
        FetchError::Status { code, .. } if matches!(code, 405 | 501) => {
            format!("{registry} does not offer the advisories bulk endpoint (HTTP {code})")
        }
        FetchError::NotCached { .. } => "not in the cache (--offline)".into(),
        other => format!("could not ask {registry} for advisories: {other}"),
    }
}

/// `packages` in chunks of at most [`CHUNK`] pairs and about [`MAX_BODY_BYTES`] of JSON (the
/// estimate counts each name once per pair, so it is never below the real size).
fn chunks(packages: &BTreeSet<(String, String)>) -> Vec<Vec<&(String, String)>> {
    let mut out: Vec<Vec<&(String, String)>> = Vec::new();
    let mut current: Vec<&(String, String)> = Vec::new();
    let mut bytes = 2;
    for pair in packages {
        // `"name":["version"],` with escapes at worst doubling each string.
        let size = 2 * (pair.0.len() + pair.1.len()) + 8;
        if !current.is_empty() && (current.len() >= CHUNK || bytes + size > MAX_BODY_BYTES) {
            out.push(std::mem::take(&mut current));
            bytes = 2;
        }
        bytes += size;
        current.push(pair);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

impl RegistryClient {
    /// The advisories of every (name, version) in `packages`, from this registry: one POST per
    /// [`CHUNK`] pairs or [`MAX_BODY_BYTES`] of body. Every pair gets an answer; an endpoint that is missing, failing or
    /// malformed makes its pairs unknown with the reason.
    pub async fn advisories(
        &self,
        packages: &BTreeSet<(String, String)>,
    ) -> BTreeMap<(String, String), Outcome> {
        let url = match self.base().join("-/npm/v1/security/advisories/bulk") {
            Ok(u) => u,
            Err(e) => return all(packages, format!("cannot build the advisories URL: {e}")),
        };
        let want = Want {
            limit: self.cfg.max_body_bytes,
            accept: "application/json",
            limit_flag: "--max-body-mb",
            cacheable: true,
        };
        let mut out = BTreeMap::new();
        for chunk in chunks(packages) {
            let asked: BTreeSet<(String, String)> = chunk.iter().map(|p| (*p).clone()).collect();
            let mut body: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for (name, version) in &asked {
                body.entry(name).or_default().push(version);
            }
            let json = serde_json::to_vec(&body).expect("a map of strings serializes");
            let answer = match self.post_json(&url, &json, want).await {
                Ok(bytes) => parse_bulk(&bytes, &asked),
                Err(e) => all(&asked, unavailable(self, &e)),
            };
            out.extend(answer);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_bound_pairs_and_body_size() {
        let many: BTreeSet<(String, String)> = (0..CHUNK + 10)
            .map(|i| (format!("p{i}"), "1.0.0".to_string()))
            .collect();
        let c = chunks(&many);
        assert_eq!(c.iter().map(Vec::len).collect::<Vec<_>>(), [CHUNK, 10]);
        // Long names: a chunk ends before its body would pass the bound.
        let long: BTreeSet<(String, String)> = (0..100)
            .map(|i| (format!("{i}{}", "x".repeat(20_000)), "1.0.0".to_string()))
            .collect();
        let c = chunks(&long);
        assert!(c.len() > 1);
        for chunk in &c {
            let mut body: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for (n, v) in chunk {
                body.entry(n).or_default().push(v);
            }
            assert!(serde_json::to_vec(&body).unwrap().len() <= MAX_BODY_BYTES);
        }
        assert_eq!(c.iter().map(Vec::len).sum::<usize>(), 100);
        assert!(chunks(&BTreeSet::new()).is_empty());
    }

    fn asked(pairs: &[(&str, &str)]) -> BTreeSet<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn advisories_are_matched_to_each_version() {
        let body = br#"{"axios":[{"id":1098583,"url":"https://github.com/advisories/GHSA-8hc4-vh64-cxmj",
            "title":"Server-Side Request Forgery in axios","severity":"high","cwe":["CWE-918"],
            "cvss":{"score":7.5,"vectorString":"CVSS:3.1/AV:N"},"vulnerable_versions":">=1.3.2 <=1.7.3"}]}"#;
        let got = parse_bulk(
            body,
            &asked(&[("axios", "1.7.0"), ("axios", "1.8.0"), ("zod", "3.0.0")]),
        );
        let hit = got[&("axios".into(), "1.7.0".into())].as_ref().unwrap();
        assert_eq!(hit.len(), 1);
        assert_eq!(hit[0].id, "1098583");
        assert_eq!(hit[0].severity, "high");
        assert_eq!(hit[0].cvss_score, Some(7.5));
        assert_eq!(hit[0].cwe, vec!["CWE-918"]);
        assert!(got[&("axios".into(), "1.8.0".into())]
            .as_ref()
            .unwrap()
            .is_empty());
        assert!(got[&("zod".into(), "3.0.0".into())]
            .as_ref()
            .unwrap()
            .is_empty());
    }

    #[test]
    fn hostile_answers_are_unknown_not_clean() {
        let a = asked(&[("x", "1.0.0")]);
        for body in [
            &b"[]"[..],
            b"not json",
            b"{\"x\": 5}",
            b"{\"x\": [{\"title\": \"no id\"}]}",
        ] {
            let got = parse_bulk(body, &a);
            assert!(got[&("x".into(), "1.0.0".into())].is_err(), "{body:?}");
        }
        // Too many advisories for one version.
        let many: Vec<Value> = (0..=MAX_PER_PACKAGE)
            .map(|i| serde_json::json!({"id": i, "severity": "low", "vulnerable_versions": "*"}))
            .collect();
        let body = serde_json::to_vec(&serde_json::json!({ "x": many })).unwrap();
        assert!(parse_bulk(&body, &a)[&("x".into(), "1.0.0".into())].is_err());
        // Long texts are clipped; an unreadable range applies.
        let body = serde_json::to_vec(
            &serde_json::json!({"x": [{"id": "GHSA-1", "severity": "critical",
            "title": "t".repeat(10_000), "vulnerable_versions": "not a range ~~"}]}),
        )
        .unwrap();
        let got = parse_bulk(&body, &a);
        let list = got[&("x".into(), "1.0.0".into())].as_ref().unwrap();
        assert!(list[0].title.chars().count() <= MAX_TEXT + 1);
    }
}
