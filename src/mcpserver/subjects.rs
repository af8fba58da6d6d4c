//! `server` and `registry` reports as [`Subjects`] for the CI formats (SARIF, markdown, GitHub):
//! the server itself, at its file's `name` line, and each fetched package, at its entry's line.

use std::path::Path;

use super::report::{FileOutcome, ServerFileReport};
use super::scan::PackageAudit;
use crate::render::subjects::{uri_for, Place, Problem, Subject, Subjects};
use crate::report::Status;

/// `from_files`: the reports name files on disk (so lines can be found); `false` for a
/// registry, whose descriptions have no file (the URL is the location).
pub fn server_subjects<'a>(
    reports: &'a [ServerFileReport],
    cwd: &Path,
    from_files: bool,
) -> Subjects<'a> {
    let mut subjects = Vec::new();
    let mut problems = Vec::new();
    for r in reports {
        let uri = if from_files {
            uri_for(Path::new(&r.file), cwd)
        } else {
            r.file.clone()
        };
        let a = match &r.outcome {
            FileOutcome::Error(e) => {
                problems.push(Problem {
                    message: format!("{}: {e}", r.file),
                    place: Some(Place {
                        uri,
                        line: None,
                        purl: None,
                    }),
                });
                continue;
            }
            FileOutcome::Audited(a) => a,
        };
        let text = if from_files {
            std::fs::read_to_string(&r.file).unwrap_or_default()
        } else {
            String::new()
        };
        let name = a.server.name.clone().unwrap_or_else(|| r.file.clone());
        let s = &a.assessment;
        subjects.push(Subject {
            label: name.clone(),
            package: None,
            version: a.server.version.clone(),
            server: Some(name.clone()),
            score: Some((s.score.score, s.score.grade.clone(), s.score.coverage)),
            status: if s.gate_failures.is_empty() {
                Status::Passed
            } else {
                Status::Failed
            },
            findings: &s.findings,
            inconclusive: &s.inconclusive,
            error: None,
            place: Place {
                uri: uri.clone(),
                line: key_line(&text, "\"name\"", 0)
                    .or(Some(1))
                    .filter(|_| from_files),
                purl: None,
            },
            identity: format!("{}\0{name}", r.file),
        });
        for (i, audit) in a.packages.iter().enumerate() {
            let PackageAudit::Fetched(p) = audit else {
                continue;
            };
            let (version, score, findings, inconclusive, error, status) = match &p.result {
                Ok(c) => (
                    Some(c.version.clone()),
                    Some((c.score.score, c.score.grade.clone(), c.score.coverage)),
                    &c.findings[..],
                    &c.inconclusive[..],
                    None,
                    p.status(),
                ),
                Err(e) => (
                    None,
                    None,
                    &[][..],
                    &[][..],
                    Some(e.to_string()),
                    p.status(),
                ),
            };
            subjects.push(Subject {
                label: format!("{name} → {}", p.name),
                package: Some(p.name.clone()),
                version,
                server: Some(name.clone()),
                score,
                status,
                findings,
                inconclusive,
                error,
                place: Place {
                    uri: uri.clone(),
                    line: from_files.then(|| package_line(&text, i)).flatten(),
                    purl: None,
                },
                identity: format!("{}\0{name}\0{}", r.file, p.name),
            });
        }
    }
    Subjects { subjects, problems }
}

/// The 1-based line of the `nth` occurrence of `key` at or after byte `from`.
fn key_line(text: &str, key: &str, from: usize) -> Option<usize> {
    let at = text.get(from..)?.find(key)? + from;
    Some(text[..at].matches('\n').count() + 1)
}

/// The line of the `index`-th package entry: its `identifier` (or pre-release `name`) key after
/// the `packages` key; the `packages` line when that cannot be found.
fn package_line(text: &str, index: usize) -> Option<usize> {
    let start = text.find("\"packages\"")?;
    let mut from = start;
    for _ in 0..index {
        from += text[from..].find("\"identifier\"").map(|i| i + 1)?;
    }
    key_line(text, "\"identifier\"", from).or_else(|| key_line(text, "\"packages\"", 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_lines() {
        let text = "{\n \"name\": \"a/b\",\n \"packages\": [\n  {\n   \"identifier\": \"x\"\n  },\n  {\n   \"identifier\": \"y\"\n  }\n ]\n}\n";
        assert_eq!(key_line(text, "\"name\"", 0), Some(2));
        assert_eq!(package_line(text, 0), Some(5));
        assert_eq!(package_line(text, 1), Some(8));
        assert_eq!(package_line(text, 2), Some(3));
    }
}
