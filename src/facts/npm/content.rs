//! `tarball.*`, `content.*` and `lockfile.*`: what the downloaded tarball proved.

use super::packument::VersionDoc;
use super::DeriveInput;
use crate::content::{Confidence, ContentReport, IntegrityError};
use crate::facts::{ContentFacts, Fact, LockfileFacts, TarballEvidence, TarballFacts};

pub(super) fn tarball_facts(evidence: &TarballEvidence) -> (TarballFacts, Fact<ContentFacts>) {
    let (url, compressed, integrity, report) = match evidence {
        TarballEvidence::NotChecked | TarballEvidence::Unavailable(_) => {
            let why = match evidence {
                TarballEvidence::Unavailable(why) => why.as_str(),
                _ => "the tarball was not checked",
            };
            return (
                TarballFacts {
                    integrity: Fact::unknown(why),
                    url: None,
                    compressed_bytes: Fact::unknown(why),
                },
                Fact::unknown(why),
            );
        }
        TarballEvidence::Checked {
            url,
            compressed_bytes,
            integrity,
            report,
        } => (url, *compressed_bytes, integrity, report),
    };
    let tarball = TarballFacts {
        integrity: match integrity {
            Ok(()) => Fact::Known("verified".into()),
            Err(IntegrityError::Mismatch { .. }) => Fact::Known("mismatch".into()),
            Err(e) => Fact::unknown(format!("dist.integrity cannot be checked: {e}")),
        },
        url: Some(url.clone()),
        compressed_bytes: Fact::Known(compressed),
    };
    let content = match (integrity, report) {
        (Ok(()), Some(r)) => Fact::Known(content_facts(r)),
        (Err(e), _) => Fact::unknown(format!(
            "the tarball was not read because it does not match dist.integrity ({e})"
        )),
        (Ok(()), None) => Fact::unknown("the tarball was not analysed"),
    };
    (tarball, content)
}

/// The shrinkwrap the tarball holds, else the registry's `_hasShrinkwrap`.
pub(super) fn lockfile_facts(
    input: &DeriveInput<'_>,
    doc: &VersionDoc,
    content: &Fact<ContentFacts>,
) -> LockfileFacts {
    let from_tarball = content.known().map(|c| c.has_shrinkwrap.clone());
    LockfileFacts {
        has_shrinkwrap: match (from_tarball, doc.has_shrinkwrap) {
            (Some(Fact::Known(b)), _) => Fact::Known(b),
            (_, Some(b)) => Fact::Known(b),
            (Some(Fact::Unknown { reason }), None) => Fact::unknown(reason),
            (None, None) => {
                let reason = match content {
                    Fact::Unknown { reason } => reason.as_str(),
                    Fact::Known(_) => "",
                };
                Fact::unknown(format!(
                    "registry {} did not report _hasShrinkwrap and the tarball was not read ({reason})",
                    input.registry
                ))
            }
        },
    }
}

/// A content fact read from a partial archive or without a usable package.json: what was seen
/// is evidence, but "nothing found" is not, so an empty (or `none`) result is unknown then.
struct Partial<'a> {
    complete: bool,
    reason: &'a str,
}

impl Partial<'_> {
    fn list(&self, l: Vec<String>) -> Fact<Vec<String>> {
        if self.complete || !l.is_empty() {
            Fact::Known(l)
        } else {
            Fact::unknown(self.reason)
        }
    }

    fn found(&self, b: bool) -> Fact<bool> {
        if self.complete || b {
            Fact::Known(b)
        } else {
            Fact::unknown(self.reason)
        }
    }
}

fn content_facts(r: &ContentReport) -> ContentFacts {
    let install_signals: Vec<String> = r
        .install_scripts
        .iter()
        .flat_map(|s| {
            s.signals
                .iter()
                .map(move |sig| format!("{}: {sig}", s.name))
        })
        .collect();
    let manifest_confusion = strings(&r.manifest_confusion, |m| {
        format!(
            "{}: registry {} / tarball {}",
            m.field, m.registry, m.tarball
        )
    });
    // The analysis already words it as "<file>:<line>: <kind> <redacted value>".
    let secrets = strings(&r.secrets, |s| s.evidence.clone());
    // Low-confidence matches are listed for a reader but do not make the rule fire, so this is
    // the one count that is not the length of its list.
    let secret_count = r
        .secrets
        .iter()
        .filter(|s| matches!(s.confidence, Confidence::Medium | Confidence::High))
        .count() as u64;
    let native_binaries = strings(&r.native_binaries, |b| format!("{} ({})", b.file, b.kind));
    let obfuscation = strings(&r.obfuscation, |o| {
        format!(
            "{}: {} ({}) {}",
            o.file,
            o.signal,
            o.confidence.as_str(),
            o.detail
        )
    });
    let strongest = r.obfuscation.iter().map(|o| o.confidence).max();
    let bin_shadowing = strings(&r.bin_shadowing, |b| format!("{} -> {}", b.bin, b.path));
    let path_problems = strings(&r.path_problems, |p| match &p.detail {
        Some(d) => format!("{} {} ({d})", p.kind.as_str(), p.path),
        None => format!("{} {}", p.kind.as_str(), p.path),
    });
    // A package.json npm cannot read makes the rest of the analysis (manifest, scripts, bins)
    // partial too, so it counts against completeness like a truncated archive.
    let mut errors = r.errors.clone();
    errors.extend(
        r.package_json_error
            .iter()
            .map(|e| format!("package.json: {e}")),
    );
    let complete = r.complete && r.package_json_error.is_none();
    let reason = format!(
        "the tarball was read only in part ({}): finding nothing there proves nothing",
        errors.join("; ")
    );
    let partial = Partial {
        complete,
        reason: &reason,
    };
    ContentFacts {
        complete,
        files: r.files,
        unpacked_bytes: r.unpacked_bytes,
        install_signals: partial.list(install_signals),
        manifest_compared: r.manifest_compared,
        manifest_confusion: partial.list(manifest_confusion),
        secret_count: if complete || secret_count > 0 {
            Fact::Known(secret_count)
        } else {
            Fact::unknown(&reason)
        },
        secrets: partial.list(secrets),
        native_binaries: partial.list(native_binaries),
        obfuscation: partial.list(obfuscation),
        // Only the top level can be told from part of the archive: a weaker signal may have a
        // stronger one in the part that was not read.
        obfuscation_confidence: match strongest {
            Some(c) if complete || c == Confidence::High => Fact::Known(c.as_str().to_string()),
            None if complete => Fact::Known("none".into()),
            _ => Fact::unknown(&reason),
        },
        bin_shadowing: partial.list(bin_shadowing),
        outside_files: partial.list(r.outside_files_whitelist.clone()),
        path_problems: partial.list(path_problems),
        never_packed: partial.list(r.never_packed.clone()),
        has_shrinkwrap: partial.found(r.has_shrinkwrap),
        errors,
    }
}

/// Each item of a content report as the one-line string its fact lists.
fn strings<T>(items: &[T], show: impl Fn(&T) -> String) -> Vec<String> {
    items.iter().map(show).collect()
}
