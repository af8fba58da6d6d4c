//! `--format markdown`: a summary table and the findings of each package, short enough for a
//! pull-request comment. Every externally supplied value goes through
//! [`Sanitizer::markdown`], so a package cannot break out of a table cell or inject HTML.

use std::fmt::Write;

use super::sanitize::Sanitizer;
use super::sarif::DOCS_URL;
use super::subjects::Subjects;

/// Findings shown per package; the rest are counted ("… and N more").
pub const MAX_FINDINGS: usize = 10;

pub fn render(s: &Subjects<'_>, clean: &Sanitizer) -> String {
    let mut out = String::from("## mcp-audit\n\n");
    if s.subjects.is_empty() {
        out.push_str("Nothing to audit.\n");
    } else {
        out.push_str("| Package | Version | Score | Grade | Coverage | Status |\n");
        out.push_str("|---|---|---:|:---:|---:|---|\n");
        for x in &s.subjects {
            let (score, grade, coverage) = match &x.score {
                Some((score, grade, coverage)) => (
                    score.to_string(),
                    clean.markdown(grade),
                    format!("{coverage}%"),
                ),
                None => ("–".into(), "–".into(), "–".into()),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {score} | {grade} | {coverage} | {} |",
                clean.markdown(&x.label),
                x.version
                    .as_deref()
                    .map_or("–".into(), |v| clean.markdown(v)),
                x.status_word(),
            );
        }
    }
    let passed = s
        .subjects
        .iter()
        .filter(|x| x.status_word() == "PASS")
        .count();
    let _ = writeln!(
        out,
        "\n{} checked: {passed} passed, {} failed, {} could not be checked.",
        s.subjects.len(),
        s.subjects
            .iter()
            .filter(|x| x.status_word() == "FAIL")
            .count(),
        s.subjects
            .iter()
            .filter(|x| x.status_word() == "ERROR")
            .count(),
    );
    for x in &s.subjects {
        if x.findings.is_empty() && x.error.is_none() && x.inconclusive.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n### {}\n", clean.markdown(&x.who()));
        if let Some(e) = &x.error {
            let _ = writeln!(out, "Could not be checked: {}\n", clean.markdown(e));
        }
        for f in x.findings.iter().take(MAX_FINDINGS) {
            let _ = writeln!(
                out,
                "- **{}** [{}]({DOCS_URL}#{}): {}",
                f.severity.as_str(),
                clean.markdown(&f.rule),
                clean.markdown(&f.rule),
                clean.markdown(&f.message),
            );
        }
        if x.findings.len() > MAX_FINDINGS {
            let _ = writeln!(out, "- … and {} more", x.findings.len() - MAX_FINDINGS);
        }
        if !x.inconclusive.is_empty() {
            if !x.findings.is_empty() || x.error.is_some() {
                out.push('\n');
            }
            let _ = writeln!(
                out,
                "{} rule(s) could not be decided (unknown is not a pass).",
                x.inconclusive.len()
            );
        }
    }
    if !s.problems.is_empty() {
        out.push_str("\n### Not checked\n\n");
        for p in &s.problems {
            let _ = writeln!(out, "- {}", clean.markdown(&p.message));
        }
    }
    out
}
