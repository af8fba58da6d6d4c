//! A loopback Python index on top of [`TestRegistry`]: the simple API (PEP 691 JSON or PEP 503
//! HTML) at `/simple/<name>/`, files at `/packages/<file>`, the Integrity API at
//! `/integrity/<name>/<version>/<file>/provenance` and the JSON API at `/pypi/<name>/json`.
//! The real PEP 740 files are gverify's copies in `fixtures/real/pypi/pep740/` (see
//! fixtures/real/pypi/SOURCES.md).
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::TestRegistry;

pub fn pep740(file: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/real/pypi/pep740")
        .join(file);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An sdist (`.tar.gz`) with a PKG-INFO and the given extra files, built in memory.
pub fn sdist(name: &str, version: &str, requires: &[&str], extra: &[(&str, &str)]) -> Vec<u8> {
    let top = format!("{}-{version}", name.replace('-', "_"));
    let mut pkg_info = format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
    for r in requires {
        pkg_info.push_str(&format!("Requires-Dist: {r}\n"));
    }
    let mut files: Vec<(String, String)> = vec![(format!("{top}/PKG-INFO"), pkg_info)];
    for (path, body) in extra {
        files.push((format!("{top}/{path}"), body.to_string()));
    }
    let mut builder = tar::Builder::new(Vec::new());
    for (path, body) in &files {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, path, body.as_bytes())
            .expect("tar entry");
    }
    let tar = builder.into_inner().expect("tar");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &tar).expect("gzip");
    gz.finish().expect("gzip")
}

#[derive(Clone)]
pub struct PyFile {
    pub filename: String,
    pub version: String,
    pub bytes: Vec<u8>,
    pub upload_time: String,
    pub yanked: Option<String>,
    pub provenance: Option<Vec<u8>>,
    /// The sha256 the index lists, when it should not be the file's own (a tampered file).
    pub listed_sha256: Option<String>,
}

impl PyFile {
    pub fn new(filename: &str, version: &str, bytes: Vec<u8>, upload_time: &str) -> PyFile {
        PyFile {
            filename: filename.into(),
            version: version.into(),
            bytes,
            upload_time: upload_time.into(),
            yanked: None,
            provenance: None,
            listed_sha256: None,
        }
    }

    pub fn provenance(mut self, p: Vec<u8>) -> PyFile {
        self.provenance = Some(p);
        self
    }

    pub fn yanked(mut self, reason: &str) -> PyFile {
        self.yanked = Some(reason.into());
        self
    }

    fn sha(&self) -> String {
        self.listed_sha256
            .clone()
            .unwrap_or_else(|| sha256_hex(&self.bytes))
    }
}

#[derive(Clone, Copy, PartialEq)]
pub enum Simple {
    /// PEP 691 JSON with this api-version (`1.1` as PyPI serves here: no provenance key;
    /// `1.4`: provenance and project-status).
    Json(&'static str),
    /// PEP 503 HTML (pypiserver, devpi).
    Html,
}

/// Serves `name` with `files` on `reg`. `json_api` is served at `/pypi/<name>/json` when given;
/// `status` is the PEP 792 project status (JSON 1.4 and HTML only).
pub fn serve(
    reg: &TestRegistry,
    name: &str,
    files: &[PyFile],
    simple: Simple,
    status: Option<&str>,
    json_api: Option<Value>,
) {
    let base = reg.url();
    for f in files {
        reg.add_file(
            &format!("/packages/{}", f.filename),
            f.bytes.clone(),
            "application/octet-stream",
        );
        if let Some(p) = &f.provenance {
            reg.add_file(
                &format!("/integrity/{name}/{}/{}/provenance", f.version, f.filename),
                p.clone(),
                "application/json",
            );
        }
    }
    match simple {
        Simple::Json(api) => {
            let with_provenance = api >= "1.3";
            let list: Vec<Value> = files
                .iter()
                .map(|f| {
                    let mut v = json!({
                        "filename": f.filename,
                        "url": format!("{base}packages/{}", f.filename),
                        "hashes": { "sha256": f.sha() },
                        "upload-time": f.upload_time,
                        "yanked": match &f.yanked { Some(r) => json!(r), None => json!(false) },
                    });
                    if with_provenance {
                        v["provenance"] = match &f.provenance {
                            Some(_) => json!(format!(
                                "{base}integrity/{name}/{}/{}/provenance",
                                f.version, f.filename
                            )),
                            None => Value::Null,
                        };
                    }
                    v
                })
                .collect();
            let mut doc = json!({
                "meta": { "api-version": api },
                "name": name,
                "files": list,
            });
            if let Some(s) = status {
                doc["project-status"] = json!({ "status": s });
            }
            reg.add_file(
                &format!("/simple/{name}/"),
                doc.to_string().into_bytes(),
                "application/vnd.pypi.simple.v1+json",
            );
        }
        Simple::Html => {
            let mut html = String::from("<!DOCTYPE html><html><head>");
            html.push_str("<meta name=\"pypi:repository-version\" content=\"1.0\">");
            if let Some(s) = status {
                html.push_str(&format!(
                    "<meta name=\"pypi:project-status\" content=\"{s}\">"
                ));
            }
            html.push_str(&format!("</head><body><h1>Links for {name}</h1>"));
            for f in files {
                let yanked = match &f.yanked {
                    Some(r) => format!(" data-yanked=\"{r}\""),
                    None => String::new(),
                };
                html.push_str(&format!(
                    "<a href=\"../../packages/{0}#sha256={1}\"{yanked}>{0}</a><br/>\n",
                    f.filename,
                    f.sha()
                ));
            }
            html.push_str("</body></html>");
            reg.add_file(
                &format!("/simple/{name}/"),
                html.into_bytes(),
                "text/html; charset=utf-8",
            );
        }
    }
    if let Some(doc) = json_api {
        reg.add_file(
            &format!("/pypi/{name}/json"),
            doc.to_string().into_bytes(),
            "application/json",
        );
    }
}

/// A JSON API document for the newest release `version`.
pub fn json_api(name: &str, version: &str, files: &[PyFile], extra_info: Value) -> Value {
    let mut releases = serde_json::Map::new();
    for f in files {
        let entry = releases
            .entry(f.version.clone())
            .or_insert_with(|| json!([]));
        entry.as_array_mut().unwrap().push(json!({
            "filename": f.filename,
            "upload_time_iso_8601": f.upload_time,
            "yanked": f.yanked.is_some(),
            "digests": { "sha256": sha256_hex(&f.bytes) },
        }));
    }
    let mut info = json!({
        "name": name,
        "version": version,
        "summary": "a test project",
        "license_expression": "Apache-2.0",
        "requires_dist": [],
        "project_urls": {},
        "yanked": false,
    });
    if let (Some(i), Some(extra)) = (info.as_object_mut(), extra_info.as_object()) {
        for (k, v) in extra {
            i.insert(k.clone(), v.clone());
        }
    }
    json!({
        "info": info,
        "releases": releases,
        "vulnerabilities": [],
        "ownership": { "roles": [ { "role": "Owner", "user": "alice" } ], "organization": null },
    })
}
