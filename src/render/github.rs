//! `--format github`: GitHub Actions workflow commands, one per finding
//! (`::error file=…,line=…,title=<rule>::<message>`), so findings show as annotations on the
//! run and, for files in the repository, on the pull request's diff. Packages and entries that
//! could not be checked are `::error` lines too. Values are escaped as GitHub decodes them
//! ([`Sanitizer::workflow_message`]): a package cannot end a command or start one of its own.

use std::fmt::Write;

use super::sanitize::Sanitizer;
use super::subjects::{Place, Subjects};
use crate::rules::Severity;

fn command(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "notice",
    }
}

/// `file=…,line=…,` for a file under the current directory; GitHub cannot place others.
fn place(p: Option<&Place>, clean: &Sanitizer) -> String {
    let Some(p) = p.filter(|p| p.uri != "." && !p.uri.contains("://")) else {
        return String::new();
    };
    let mut out = format!("file={},", clean.workflow_property(&p.uri));
    if let Some(line) = p.line {
        let _ = write!(out, "line={line},");
    }
    out
}

pub fn render(s: &Subjects<'_>, clean: &Sanitizer) -> String {
    let mut out = String::new();
    for x in &s.subjects {
        let who = x.who();
        let at = place(Some(&x.place), clean);
        if let Some(e) = &x.error {
            let _ = writeln!(
                out,
                "::error {at}title=mcp-audit::{}",
                clean.workflow_message(&format!("{who}: could not be checked: {e}"))
            );
        }
        for f in x.findings {
            let _ = writeln!(
                out,
                "::{} {at}title={}::{}",
                command(f.severity),
                clean.workflow_property(&f.rule),
                clean.workflow_message(&x.about(&f.message))
            );
        }
    }
    for p in &s.problems {
        let _ = writeln!(
            out,
            "::error {}title=mcp-audit::{}",
            place(p.place.as_ref(), clean),
            clean.workflow_message(&p.message)
        );
    }
    out
}
