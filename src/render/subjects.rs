//! One neutral view of what was audited, for the CI formats (SARIF, markdown, GitHub workflow
//! commands): each package of `scan`, or each server of `config`, with its findings and the place
//! a user would fix it. The reports' own types are read only here ([`scan_subjects`],
//! [`config_subjects`]), so the renderers do not follow their moves.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::pipeline::config::{ConfigReport, PackageOutcome};
use crate::pipeline::lock::{LockReport, LockedPackage};
use crate::report::{Finding, Inconclusive, Report, Status};

/// Where a finding is fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// Relative to the current directory when below it (forward slashes), else a `file://` URI.
    pub uri: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// `pkg:npm/name@version` when the physical location is only the nearest manifest.
    pub purl: Option<String>,
}

/// One package (`scan`) or one server (`config`).
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    /// What the user calls it: the package name, or `server → package` for a config.
    pub label: String,
    pub package: Option<String>,
    pub version: Option<String>,
    /// The server entry's name (with its project for Claude Code's per-project servers).
    pub server: Option<String>,
    /// Score, grade and coverage, when the rules ran.
    pub score: Option<(u32, String, u32)>,
    pub status: Status,
    pub findings: &'a [Finding],
    pub inconclusive: &'a [Inconclusive],
    /// Why it could not be checked.
    pub error: Option<String>,
    pub place: Place,
    /// Rule-independent part of the fingerprint: package name, and config file and server.
    /// Never the version or the line, so an alert survives an upgrade or an edit above it.
    pub identity: String,
}

impl Subject<'_> {
    /// `name@version` (or `server → name@version`), raw: sanitize before printing.
    pub fn who(&self) -> String {
        match &self.version {
            Some(v) => format!("{}@{v}", self.label),
            None => self.label.clone(),
        }
    }

    /// A finding's message with what it is about in front, unless it names that already
    /// (rule messages usually name the package; launch messages the server).
    pub fn about(&self, message: &str) -> String {
        let mut prefix = Vec::new();
        if let Some(s) = self.server.as_deref().filter(|s| !message.contains(*s)) {
            prefix.push(s.to_string());
        }
        if let Some(p) = self.package.as_deref().filter(|p| !message.contains(*p)) {
            prefix.push(match &self.version {
                Some(v) => format!("{p}@{v}"),
                None => p.to_string(),
            });
        }
        if prefix.is_empty() {
            message.to_string()
        } else {
            format!("{}: {message}", prefix.join(", "))
        }
    }

    pub fn status_word(&self) -> &'static str {
        match self.status {
            Status::Passed => "PASS",
            Status::Failed => "FAIL",
            Status::Error => "ERROR",
        }
    }
}

/// Problems outside any subject: a config file that cannot be read, a server entry that cannot
/// be started as written.
#[derive(Debug, Clone)]
pub struct Problem {
    pub message: String,
    pub place: Option<Place>,
}

pub struct Subjects<'a> {
    pub subjects: Vec<Subject<'a>>,
    pub problems: Vec<Problem>,
}

/// The stable `primaryLocationLineHash` of a finding: rule and subject identity only.
pub fn fingerprint(rule: &str, identity: &str) -> String {
    let digest = Sha256::digest(format!("{rule}\0{identity}").as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}:1")
}

/// A path as a SARIF/GitHub file reference: relative to `cwd` when below it.
pub fn uri_for(path: &Path, cwd: &Path) -> String {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    if let Ok(rel) = abs.strip_prefix(cwd) {
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if !parts.is_empty() {
            return parts.join("/");
        }
        return ".".to_string();
    }
    url::Url::from_file_path(&abs)
        .map(|u| u.to_string())
        .unwrap_or_else(|_| abs.display().to_string())
}

pub fn scan_subjects<'a>(report: &'a Report, cwd: &Path) -> Subjects<'a> {
    let manifest = nearest_manifest(cwd);
    let text = manifest
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok());
    let subjects = report
        .packages
        .iter()
        .map(|p| {
            let (version, score, findings, inconclusive, error): (
                _,
                _,
                &[Finding],
                &[Inconclusive],
                _,
            ) = match &p.result {
                Ok(c) => (
                    Some(c.version.clone()),
                    Some((c.score.score, c.score.grade.clone(), c.score.coverage)),
                    &c.findings,
                    &c.inconclusive,
                    None,
                ),
                Err(e) => (None, None, &[], &[], Some(e.to_string())),
            };
            let dependency_line = text.as_deref().and_then(|t| dependency_line(t, &p.name));
            let place = match (&manifest, dependency_line) {
                (Some(m), Some(line)) => Place {
                    uri: uri_for(m, cwd),
                    line: Some(line),
                    purl: None,
                },
                (m, _) => Place {
                    uri: m
                        .as_ref()
                        .map_or_else(|| ".".to_string(), |m| uri_for(m, cwd)),
                    line: None,
                    purl: Some(purl(&p.name, version.as_deref())),
                },
            };
            Subject {
                label: p.name.clone(),
                package: Some(p.name.clone()),
                version,
                server: None,
                score,
                status: p.status(),
                findings,
                inconclusive,
                error,
                place,
                identity: p.name.clone(),
            }
        })
        .collect();
    Subjects {
        subjects,
        problems: Vec::new(),
    }
}

/// Every reading of the config report's types is here (the module is moving to
/// `pipeline::config`).
pub fn config_subjects<'a>(report: &'a ConfigReport, cwd: &Path) -> Subjects<'a> {
    let mut subjects = Vec::new();
    let mut problems = Vec::new();
    for f in &report.files {
        let uri = uri_for(&f.path, cwd);
        let audit = match &f.result {
            Ok(a) => a,
            Err(e) => {
                problems.push(Problem {
                    message: e.to_string(),
                    place: Some(Place {
                        uri,
                        line: None,
                        purl: None,
                    }),
                });
                continue;
            }
        };
        for u in &audit.unreadable {
            problems.push(Problem {
                message: format!("server `{}`: {}", u.server, u.message),
                place: Some(Place {
                    uri: uri.clone(),
                    line: u.line,
                    purl: None,
                }),
            });
        }
        for s in &audit.servers {
            let (package, version, error) = match &s.package {
                PackageOutcome::Scanned { facts, .. } => (
                    Some(facts.package.name.clone()),
                    Some(facts.package.version.clone()),
                    None,
                ),
                PackageOutcome::Failed { name, error, .. } => {
                    (Some(name.clone()), None, Some(error.to_string()))
                }
                PackageOutcome::NotScanned { .. } => (None, None, None),
            };
            let server = match &s.entry.project {
                Some(p) => format!("{p}:{}", s.entry.name),
                None => s.entry.name.clone(),
            };
            // The MCP a JFrog wrapper loads shares the wrapper's entry: told apart, so that
            // their findings never share a fingerprint.
            let server = match &s.via {
                Some(v) => format!("{server} via {}", v.wrapper.wrapper),
                None => server,
            };
            let label = match &package {
                Some(p) => format!("{server} → {p}"),
                None => server.clone(),
            };
            let a = &s.assessment;
            subjects.push(Subject {
                label,
                identity: format!(
                    "{}\0{uri}\0{server}",
                    package.as_deref().unwrap_or_default()
                ),
                package,
                version,
                server: Some(server),
                score: Some((a.score.score, a.score.grade.clone(), a.score.coverage)),
                status: s.status(),
                findings: &a.findings,
                inconclusive: &a.inconclusive,
                error,
                place: Place {
                    uri: uri.clone(),
                    line: s.entry.line,
                    purl: None,
                },
            });
        }
    }
    Subjects { subjects, problems }
}

/// `lock`: each locked entry, placed at its line in its lockfile; an unreadable lockfile is a
/// problem at the line its error names.
pub fn lock_subjects<'a>(report: &'a LockReport, cwd: &Path) -> Subjects<'a> {
    let mut subjects = Vec::new();
    let mut problems = Vec::new();
    for f in &report.files {
        let uri = uri_for(&f.path, cwd);
        let audit = match &f.result {
            Ok(a) => a,
            Err(e) => {
                problems.push(Problem {
                    message: e.at(&f.path),
                    place: Some(Place {
                        uri,
                        line: e.line,
                        purl: None,
                    }),
                });
                continue;
            }
        };
        for r in &audit.entries {
            let e = &r.entry;
            let a = &r.assessment;
            // Never the version: an alert must survive an upgrade. npm's install path tells
            // apart two copies of one name; other formats key by name (and alias) alone.
            let path = if e.key.contains("node_modules/") {
                e.key.as_str()
            } else {
                e.alias.as_deref().unwrap_or_default()
            };
            let label = match &e.alias {
                Some(alias) => format!("{alias} (npm:{})", e.name),
                None => e.name.clone(),
            };
            subjects.push(Subject {
                label,
                package: Some(e.name.clone()),
                version: Some(e.version.clone()),
                server: None,
                score: Some((a.score.score, a.score.grade.clone(), a.score.coverage)),
                status: r.status(),
                findings: &a.findings,
                inconclusive: &a.inconclusive,
                error: match &r.package {
                    LockedPackage::Failed(err) => Some(err.to_string()),
                    _ => None,
                },
                place: Place {
                    uri: uri.clone(),
                    line: e.line,
                    purl: None,
                },
                identity: format!("{}\0{uri}\0{path}", e.name),
            });
        }
    }
    Subjects { subjects, problems }
}

fn purl(name: &str, version: Option<&str>) -> String {
    // A scope's `@` is percent-encoded in a purl namespace.
    let name = name.replacen('@', "%40", 1);
    match version {
        Some(v) => format!("pkg:npm/{name}@{v}"),
        None => format!("pkg:npm/{name}"),
    }
}

/// The package.json of the current directory or the nearest directory above it.
fn nearest_manifest(cwd: &Path) -> Option<PathBuf> {
    cwd.ancestors()
        .map(|d| d.join("package.json"))
        .find(|p| p.is_file())
}

/// The line of `name` in the manifest's `dependencies` or `devDependencies`, when it is there.
fn dependency_line(text: &str, name: &str) -> Option<usize> {
    let doc: serde_json::Value = serde_json::from_str(text).ok()?;
    let section = ["dependencies", "devDependencies"]
        .into_iter()
        .find(|s| doc.get(*s).and_then(|d| d.get(name)).is_some())?;
    let section_at = text.find(&format!("\"{section}\""))?;
    let key = regex::Regex::new(&format!(r#""{}"\s*:"#, regex::escape(name))).ok()?;
    let at = section_at + key.find(&text[section_at..])?.start();
    Some(text[..at].matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependency_line_is_the_key_in_the_section_not_an_earlier_mention() {
        let text = "{\n  \"name\": \"a\",\n  \"scripts\": {\"x\": \"good\"},\n  \"devDependencies\": {\n    \"other\": \"1\",\n    \"good\": \"^1.0.0\"\n  }\n}\n";
        assert_eq!(dependency_line(text, "good"), Some(6));
        assert_eq!(dependency_line(text, "absent"), None);
    }

    #[test]
    fn fingerprint_ignores_nothing_but_is_stable() {
        assert_eq!(fingerprint("r", "p"), fingerprint("r", "p"));
        assert_ne!(fingerprint("r", "p"), fingerprint("r", "q"));
        assert_ne!(fingerprint("r", "p"), fingerprint("s", "p"));
    }

    #[test]
    fn uri_is_relative_below_cwd() {
        let cwd = Path::new("/w/proj");
        assert_eq!(uri_for(Path::new("a/b.json"), cwd), "a/b.json");
        assert_eq!(uri_for(Path::new("/w/proj/c.json"), cwd), "c.json");
        assert_eq!(uri_for(Path::new("/etc/x.json"), cwd), "file:///etc/x.json");
        assert_eq!(purl("@s/p", Some("1.0.0")), "pkg:npm/%40s/p@1.0.0");
    }
}
