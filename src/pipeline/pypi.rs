//! The scan of one PyPI project: simple API and JSON API together, then the file's provenance,
//! the previous release's provenance, the file itself and the other indexes together; then the
//! pure facts derivation. One deadline covers every request of the target.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use url::Url;

use super::scan::{Registries, Scanner};
use crate::error::{FetchError, TargetError};
use crate::facts::pypi::{
    derive_pypi_facts, pick_file, pick_latest, pick_matching, previous_release, same_version,
    FileEvidence, ProvenanceEvidence, PypiInput,
};
use crate::facts::{Fact, PackageFacts};
use crate::pyindex::{integrity_url, json_api_url, PyIndexes};
use crate::registry::pypi::{
    parse_json_project, parse_simple, JsonProject, SimpleFile, SimpleProject,
};
use crate::registry::{redact_url, RegistryClient};
use crate::spec::{Selector, Spec};

/// The simple API version from which PEP 691 JSON lists a file's `provenance` (PEP 740), so
/// that a file without the key has none.
const PROVENANCE_API: (u64, u64) = (1, 3);

fn api_at_least(simple: &SimpleProject, want: (u64, u64)) -> bool {
    let Some(v) = &simple.api_version else {
        return false;
    };
    let mut parts = v.split('.').map(|p| p.trim().parse::<u64>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    (major, minor) >= want
}

impl Scanner {
    /// Facts for a `pypi:` spec, from the indexes `indexes` selects.
    pub async fn pypi_facts_in(
        &self,
        registries: &Registries,
        indexes: &Arc<PyIndexes>,
        spec: &Spec,
    ) -> Result<PackageFacts, TargetError> {
        let name = spec.name.clone();
        let primary = &indexes.primary;
        let client = registries
            .python_client(indexes, &primary.url)
            .map_err(|problem| TargetError::Config {
                name: name.clone(),
                problem,
            })?
            .for_target();
        let index_shown = client.base_display();
        let json_url = json_api_url(&primary.url, &name);
        let (page, json) = tokio::join!(client.simple_page(&name), async {
            match &json_url {
                None => Err(
                    "the index URL does not end in /simple/, so there is no JSON API to ask"
                        .to_string(),
                ),
                Some(u) => match client.optional_json(u).await {
                    Ok(Some(body)) => parse_json_project(u, &body).map_err(|e| e.to_string()),
                    Ok(None) => Err(format!("the JSON API {} answered 404", redact_url(u))),
                    Err(e) => Err(format!("the JSON API could not be read: {e}")),
                },
            }
        });
        let (page_url, body) = page.map_err(|e| match e {
            FetchError::NotFound { .. } => TargetError::PackageNotFound {
                name: name.clone(),
                registry: index_shown.clone(),
                note: String::new(),
            },
            FetchError::Status { code: 401, url } => TargetError::Unauthorized {
                name: name.clone(),
                registry: index_shown.clone(),
                auth: note_for(indexes, &url),
            },
            FetchError::Status { code: 403, url } => TargetError::Forbidden {
                name: name.clone(),
                registry: index_shown.clone(),
                auth: note_for(indexes, &url),
            },
            source => TargetError::Fetch {
                name: name.clone(),
                source,
            },
        })?;
        let simple = parse_simple(&page_url, &body).map_err(|detail| TargetError::Fetch {
            name: name.clone(),
            source: FetchError::Malformed {
                url: redact_url(&page_url),
                detail,
            },
        })?;
        drop(body);
        let version = match &spec.selector {
            Selector::Version(v) => simple
                .versions()
                .into_iter()
                .find(|listed| same_version(listed, v))
                .ok_or_else(|| TargetError::VersionNotFound {
                    name: name.clone(),
                    problem: format!("version {v} of {name} is not on {index_shown}"),
                })?,
            Selector::Range(r) => {
                let specs: pep440_rs::VersionSpecifiers = r
                    .parse::<pep440_rs::VersionSpecifiers>()
                    .map_err(|e| TargetError::Config {
                        name: name.clone(),
                        problem: format!(
                            "`{r}` is not a PEP 440 specifier: {}",
                            e.to_string().lines().next().unwrap_or_default()
                        ),
                    })?;
                pick_matching(&simple, &specs).ok_or_else(|| TargetError::VersionNotFound {
                    name: name.clone(),
                    problem: format!(
                        "no installable (non-yanked) release of {name} on {index_shown} matches `{r}`"
                    ),
                })?
            }
            _ => pick_latest(&simple).ok_or_else(|| TargetError::VersionNotFound {
                name: name.clone(),
                problem: format!(
                    "{index_shown} lists no installable (non-yanked) release of {name}"
                ),
            })?,
        };
        let files: Vec<&SimpleFile> = simple
            .files
            .iter()
            .filter(|f| f.version.as_deref() == Some(version.as_str()))
            .collect();
        let file = pick_file(&files).ok_or_else(|| TargetError::VersionNotFound {
            name: name.clone(),
            problem: format!("{name} {version} has no wheel or sdist on {index_shown}"),
        })?;
        let json_doc = json.as_ref().ok();
        let previous = previous_release(&simple, json_doc, &version);
        let previous_file = previous.as_ref().and_then(|pv| {
            let pf: Vec<&SimpleFile> = simple
                .files
                .iter()
                .filter(|f| f.version.as_deref() == Some(pv.as_str()))
                .collect();
            pick_file(&pf).cloned()
        });
        let provenance_url = provenance_url_for(&simple, file, &primary.url, &name, &version);
        let (provenance, previous_had, file_evidence, others) = tokio::join!(
            self.pypi_provenance(&client, &simple, file, provenance_url.as_ref()),
            async {
                match (&previous, &previous_file) {
                    (Some(pv), Some(pf)) => {
                        let url = provenance_url_for(&simple, pf, &primary.url, &name, pv);
                        Some((
                            pv.clone(),
                            provenance_presence(&client, &simple, pf, url.as_ref()).await,
                        ))
                    }
                    (Some(pv), None) => Some((
                        pv.clone(),
                        Fact::unknown(format!("{pv} lists no wheel or sdist")),
                    )),
                    _ => None,
                }
            },
            self.pypi_file(&client, file, json_doc, &version),
            other_indexes(registries, indexes, &name),
        );
        let facts = derive_pypi_facts(&PypiInput {
            name: &name,
            version: &version,
            requested: &spec.raw,
            resolved_via: spec.selector.kind(),
            index: &index_shown,
            index_source: &primary.source,
            simple: &simple,
            json: json.as_ref().map_err(Clone::clone),
            file,
            provenance,
            provenance_url: provenance_url.as_ref().map(redact_url),
            previous: previous_had,
            file_evidence,
            also_on_other_indexes: others,
            now: self.now,
        });
        Ok(facts)
    }

    async fn pypi_provenance(
        &self,
        client: &RegistryClient,
        simple: &SimpleProject,
        file: &SimpleFile,
        url: Option<&Url>,
    ) -> ProvenanceEvidence {
        let listed_none = simple.format == "json"
            && api_at_least(simple, PROVENANCE_API)
            && file.provenance.is_none();
        if listed_none {
            return ProvenanceEvidence::Absent;
        }
        let Some(url) = url else {
            return ProvenanceEvidence::Unknown(
                "the index lists no provenance URL and has no Integrity API next to /simple/"
                    .into(),
            );
        };
        let shown = redact_url(url);
        let bytes = match client.optional_json(url).await {
            Ok(Some(b)) => b,
            Ok(None) => {
                return ProvenanceEvidence::Unknown(if file.provenance.is_some() {
                    format!("the index lists provenance at {shown}, which answered 404")
                } else {
                    format!(
                        "the Integrity API answered 404 ({shown}), and the simple API ({} {}) does not list provenance, so a missing attestation cannot be told from an index that serves none",
                        simple.format,
                        simple.api_version.as_deref().unwrap_or("of no declared version")
                    )
                })
            }
            Err(e) => {
                return ProvenanceEvidence::Unknown(format!("could not fetch the provenance: {e}"))
            }
        };
        let Some(sha256) = file.sha256.clone() else {
            return ProvenanceEvidence::Unknown(
                "the index lists no sha256 for the file, so the attestation has nothing to bind to"
                    .into(),
            );
        };
        let filename = file.filename.clone();
        let root = Arc::clone(&self.trusted_root);
        tokio::task::spawn_blocking(move || {
            super::pypi_verify::verify(&bytes, &filename, &sha256, &root)
        })
        .await
        .unwrap_or_else(|e| {
            ProvenanceEvidence::Unknown(format!("verification did not complete: {e}"))
        })
    }

    /// Downloads the file (capped), checks its sha256 before anything reads it, then analyses
    /// it in memory on the blocking pool.
    async fn pypi_file(
        &self,
        client: &RegistryClient,
        file: &SimpleFile,
        json: Option<&JsonProject>,
        version: &str,
    ) -> FileEvidence {
        let Some(limits) = self.content_limits else {
            return FileEvidence::Unavailable(
                "--no-tarball: the distribution file was not downloaded".into(),
            );
        };
        let Ok(url) = Url::parse(&file.url) else {
            return FileEvidence::Unavailable(format!("the file URL `{}` is not a URL", file.url));
        };
        if !matches!(url.scheme(), "https" | "http") {
            return FileEvidence::Unavailable(format!(
                "the file URL uses `{}:`, which is not fetched",
                url.scheme()
            ));
        }
        // The index's own hash, else the JSON API's for the same file name.
        let expected = file.sha256.clone().or_else(|| {
            json.and_then(|j| j.releases.get(version))
                .and_then(|fs| fs.iter().find(|f| f.filename == file.filename))
                .and_then(|f| f.digests.get("sha256"))
                .and_then(|v| v.as_str())
                .map(str::to_ascii_lowercase)
        });
        let Some(expected) = expected else {
            return FileEvidence::Unavailable(
                "the index lists no sha256 for the file, so it is not read".into(),
            );
        };
        let shown = redact_url(&url);
        let bytes = match client.tarball(&url, limits.max_compressed).await {
            Ok(b) => b,
            Err(e) => {
                return FileEvidence::Unavailable(format!("could not download the file: {e}"))
            }
        };
        let actual = hex(&Sha256::digest(&bytes));
        let size = bytes.len() as u64;
        if actual != expected {
            return FileEvidence::Checked {
                url: shown,
                bytes: size,
                integrity: Err(format!(
                    "sha256 {actual} does not match the index's {expected}"
                )),
                content: Box::new(Fact::unknown(
                    "the file does not match its sha256 and was not read",
                )),
                metadata: None,
                pth_exec: Fact::unknown("the file does not match its sha256 and was not read"),
            };
        }
        let filename = file.filename.clone();
        let analysed = tokio::task::spawn_blocking(move || {
            super::pypi_verify::analyze(&bytes, &filename, &limits)
        })
        .await;
        match analysed {
            Ok(a) => FileEvidence::Checked {
                url: shown,
                bytes: size,
                integrity: Ok(()),
                content: Box::new(a.content),
                metadata: a.metadata,
                pth_exec: a.pth_exec,
            },
            Err(e) => {
                let why = format!("the analysis did not complete: {e}");
                FileEvidence::Checked {
                    url: shown,
                    bytes: size,
                    integrity: Ok(()),
                    content: Box::new(Fact::unknown(&why)),
                    metadata: None,
                    pth_exec: Fact::unknown(why),
                }
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn note_for(indexes: &PyIndexes, shown_url: &str) -> String {
    // The URL in an error is redacted already; the realm is all the note needs.
    match Url::parse(shown_url) {
        Ok(u) => indexes.auth_note(&u),
        Err(_) => indexes.auth_note(&indexes.primary.url),
    }
}

/// The simple API's `provenance` URL for the file, else the Integrity API next to `/simple/`.
/// A listed URL on another host is not followed: the Integrity API of the configured index is
/// asked instead, as pacote does for npm attestations.
fn provenance_url_for(
    _simple: &SimpleProject,
    file: &SimpleFile,
    index: &Url,
    name: &str,
    version: &str,
) -> Option<Url> {
    if let Some(listed) = file.provenance.as_deref().and_then(|p| Url::parse(p).ok()) {
        if crate::pyindex::same_realm(&listed, index) {
            return Some(listed);
        }
    }
    integrity_url(index, name, version, &file.filename)
}

/// Whether a release's file has provenance, without verifying it (earlier releases are ranked
/// by what the index serves, as npm's are by what the packument lists).
async fn provenance_presence(
    client: &RegistryClient,
    simple: &SimpleProject,
    file: &SimpleFile,
    url: Option<&Url>,
) -> Fact<bool> {
    if simple.format == "json" && api_at_least(simple, PROVENANCE_API) {
        return Fact::Known(file.provenance.is_some());
    }
    let Some(url) = url else {
        return Fact::unknown("the index has no Integrity API next to /simple/");
    };
    match client.optional_json(url).await {
        Ok(Some(_)) => Fact::Known(true),
        Ok(None) => Fact::unknown(format!(
            "the Integrity API answered 404 for the previous release ({}), and the simple API does not list provenance",
            redact_url(url)
        )),
        Err(e) => Fact::unknown(format!(
            "could not fetch the previous release's provenance: {e}"
        )),
    }
}

/// The other configured indexes that also serve `name`.
async fn other_indexes(
    registries: &Registries,
    indexes: &Arc<PyIndexes>,
    name: &str,
) -> Fact<Vec<String>> {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let asks = indexes.extra.iter().map(|ix| async move {
        let client = match registries.python_client(indexes, &ix.url) {
            Ok(c) => c.for_target(),
            Err(e) => return (ix, Err(e)),
        };
        let r = match client.simple_page(name).await {
            Ok(_) => Ok(true),
            Err(FetchError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.to_string()),
        };
        (ix, r)
    });
    for (ix, r) in futures::future::join_all(asks).await {
        match r {
            Ok(true) => found.push(redact_url(&ix.url)),
            Ok(false) => {}
            Err(e) => problems.push(format!("{}: {e}", redact_url(&ix.url))),
        }
    }
    if !found.is_empty() || problems.is_empty() {
        Fact::Known(found)
    } else {
        Fact::unknown(format!(
            "could not ask the other indexes: {}",
            problems.join("; ")
        ))
    }
}
