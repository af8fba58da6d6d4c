//! The scan's bridge to the two pure PyPI modules: PEP 740 verification
//! (`verify::pep740::verify_provenance`) and distribution analysis
//! (`content::python::analyze_dist`). Their reports become facts evidence here, so the facts
//! derivation stays independent of their types.

use crate::content::python::{analyze_dist, PythonContentReport};
use crate::content::{Confidence, Limits};
use crate::facts::pypi::{CoreMetadata, ProvenanceEvidence, Publisher};
use crate::facts::{ContentFacts, Fact};
use crate::verify::pep740::{verify_provenance, DistFile, TrustedPublisher};
use crate::verify::TrustedRoot;

/// Verifies a provenance object for the file named `filename` whose sha256 (hex) the index
/// lists and the download matched.
pub fn verify(
    bytes: &[u8],
    filename: &str,
    sha256_hex: &str,
    root: &TrustedRoot,
) -> ProvenanceEvidence {
    let Some(digest) = decode_hex32(sha256_hex) else {
        return ProvenanceEvidence::Unknown(format!(
            "the index's sha256 `{sha256_hex}` is not 64 hex digits"
        ));
    };
    let report = verify_provenance(bytes, &DistFile::new(filename, digest), root);
    if !report.all_verified() {
        let failures = report.failures();
        return ProvenanceEvidence::Invalid(if failures.is_empty() {
            vec!["the provenance did not verify".into()]
        } else {
            failures
        });
    }
    let Some(publisher) = report.publisher() else {
        return ProvenanceEvidence::Invalid(vec!["no attestation names its publisher".into()]);
    };
    let cert = report
        .bundles
        .iter()
        .flat_map(|b| b.attestations.iter())
        .find_map(|a| a.outcome.as_ref().ok());
    let mut p = Publisher {
        kind: publisher.kind().to_string(),
        issuer: cert.and_then(|c| c.certificate.issuer.clone()),
        predicate_type: cert.map(|c| c.predicate_type.clone()),
        git_ref: cert.and_then(|c| c.certificate.source_repository_ref.clone()),
        commit: cert.and_then(|c| c.certificate.source_repository_digest.clone()),
        ..Publisher::default()
    };
    match publisher {
        TrustedPublisher::GitHub {
            repository,
            workflow,
            ..
        } => {
            p.repository = Some(format!("https://github.com/{repository}"));
            p.workflow = Some(workflow.clone());
        }
        TrustedPublisher::GitLab {
            repository,
            workflow_filepath,
            ..
        } => {
            p.repository = Some(format!("https://gitlab.com/{repository}"));
            p.workflow = Some(workflow_filepath.clone());
        }
        TrustedPublisher::Google { email } => p.email = Some(email.clone()),
        TrustedPublisher::ActiveState { .. } | TrustedPublisher::Other { .. } => {}
    }
    ProvenanceEvidence::Verified(p)
}

fn decode_hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
        let hex = std::str::from_utf8(chunk).ok()?;
        out[i] = u8::from_str_radix(hex, 16).ok()?;
    }
    Some(out)
}

/// Analyses a downloaded (and sha256-checked) distribution in memory.
pub fn analyze(bytes: &[u8], filename: &str, limits: &Limits) -> Analysed {
    let r = analyze_dist(filename, bytes, limits);
    let metadata = r.metadata.as_ref().map(|m| CoreMetadata {
        name: m.name.clone(),
        version: m.version.clone(),
        requires_dist: m.requires_dist.clone(),
        license: None,
        project_urls: m.project_urls.clone(),
        description: None,
    });
    let pth = pth_exec(&r);
    Analysed {
        pth_exec: list(r.complete, "the distribution was read only in part", pth),
        content: Fact::Known(content_facts(&r)),
        metadata,
    }
}

pub struct Analysed {
    pub content: Fact<ContentFacts>,
    pub metadata: Option<CoreMetadata>,
    pub pth_exec: Fact<Vec<String>>,
}

/// What a partial read can still prove: something found is evidence, nothing found is not.
fn list(complete: bool, reason: &str, l: Vec<String>) -> Fact<Vec<String>> {
    if complete || !l.is_empty() {
        Fact::Known(l)
    } else {
        Fact::unknown(reason)
    }
}

fn content_facts(r: &PythonContentReport) -> ContentFacts {
    let mut errors = r.errors.clone();
    errors.extend(r.filename_error.iter().map(|e| format!("file name: {e}")));
    errors.extend(r.metadata_error.iter().map(|e| format!("METADATA: {e}")));
    let complete = r.complete && r.metadata.is_some();
    let reason = format!(
        "the distribution was read only in part ({}): finding nothing there proves nothing",
        errors.join("; ")
    );
    let install_signals: Vec<String> = r
        .build_scripts
        .iter()
        .map(|b| format!("{}: {}", b.file, b.signals.join(", ")))
        .collect();
    let secrets: Vec<String> = r.secrets.iter().map(|s| s.evidence.clone()).collect();
    let secret_count = r
        .secrets
        .iter()
        .filter(|s| matches!(s.confidence, Confidence::Medium | Confidence::High))
        .count() as u64;
    let strongest = r.obfuscation.iter().map(|o| o.confidence).max();
    let npm_only = |what: &str| Fact::unknown(format!("{what} is an npm mechanism"));
    ContentFacts {
        complete,
        files: r.files,
        unpacked_bytes: r.unpacked_bytes,
        install_signals: list(complete, &reason, install_signals),
        // Filled by the facts derivation, which has the index's values to compare with.
        manifest_compared: false,
        manifest_confusion: list(complete, &reason, vec![]),
        secret_count: if complete || secret_count > 0 {
            Fact::Known(secret_count)
        } else {
            Fact::unknown(&reason)
        },
        secrets: list(complete, &reason, secrets),
        native_binaries: list(
            complete,
            &reason,
            r.native_binaries
                .iter()
                .map(|b| format!("{} ({})", b.file, b.kind))
                .collect(),
        ),
        obfuscation: list(
            complete,
            &reason,
            r.obfuscation
                .iter()
                .map(|o| {
                    format!(
                        "{}: {} ({}) {}",
                        o.file,
                        o.signal,
                        o.confidence.as_str(),
                        o.detail
                    )
                })
                .collect(),
        ),
        obfuscation_confidence: match strongest {
            Some(c) if complete || c == Confidence::High => Fact::Known(c.as_str().to_string()),
            None if complete => Fact::Known("none".into()),
            _ => Fact::unknown(&reason),
        },
        bin_shadowing: list(
            complete,
            &reason,
            r.shadowing_scripts()
                .map(|e| format!("{} {} -> {}", e.group, e.name, e.target))
                .collect(),
        ),
        outside_files: npm_only("package.json `files`"),
        path_problems: list(
            complete,
            &reason,
            r.path_problems
                .iter()
                .map(|p| {
                    let kind = serde_json::to_value(p.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default();
                    match &p.detail {
                        Some(d) => format!("{kind} {} ({d})", p.path),
                        None => format!("{kind} {}", p.path),
                    }
                })
                .collect(),
        ),
        never_packed: npm_only("npm's never-packed list"),
        has_shrinkwrap: Fact::unknown("npm-shrinkwrap.json is an npm mechanism"),
        errors,
    }
}

/// `.pth` lines that execute code, for `pypi.pth_exec`.
fn pth_exec(r: &PythonContentReport) -> Vec<String> {
    r.pth_exec
        .iter()
        .map(|p| format!("{}:{}: {}", p.file, p.line, p.code))
        .collect()
}
