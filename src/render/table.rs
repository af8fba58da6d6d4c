//! Human output: one block per package, findings by severity, unknowns grouped by reason.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, ContentArrangement, Table};

use crate::facts::{Fact, ProvenanceFacts};
use crate::report::{Checked, PackageReport, Report, Status};

pub struct TableOptions {
    /// Total width to lay tables out in.
    pub width: u16,
    /// Only the one-line verdict per package and the summary.
    pub quiet: bool,
}

fn fact_str<T: std::fmt::Display>(f: &Fact<T>) -> String {
    match f {
        Fact::Known(v) => v.to_string(),
        Fact::Unknown { .. } => "unknown".into(),
    }
}

/// Provenance in one glance: what verified and from where, or why not.
fn provenance_summary(p: &ProvenanceFacts) -> String {
    match p.status.known().map(String::as_str) {
        Some(status @ ("verified" | "legacy-verified")) => {
            let repo = p.source_repository.known().map(|r| {
                r.trim_start_matches("https://github.com/")
                    .trim_start_matches("https://")
                    .to_string()
            });
            let commit = p
                .commit
                .known()
                .map(|c| c.chars().take(8).collect::<String>());
            let workflow = p.workflow.known().map(|w| {
                // Fulcio writes the workflow as a full URL under the repository; the path is enough.
                match p.source_repository.known() {
                    Some(r) => w
                        .trim_start_matches(r.as_str())
                        .trim_start_matches('/')
                        .to_string(),
                    None => w.clone(),
                }
            });
            let mut parts = Vec::new();
            match (repo, commit) {
                (Some(r), Some(c)) => parts.push(format!("{r}@{c}")),
                (Some(r), None) => parts.push(r),
                _ => {}
            }
            parts.extend(workflow);
            if parts.is_empty() {
                status.to_string()
            } else {
                format!("{status} ({})", parts.join(", "))
            }
        }
        Some("invalid") => match p.failures.first() {
            Some(why) => format!("INVALID ({why})"),
            None => "INVALID".into(),
        },
        Some(other) => other.to_string(),
        None => "unknown".into(),
    }
}

fn verdict(p: &PackageReport) -> String {
    match p.status() {
        Status::Passed => "PASS".into(),
        Status::Failed => "FAIL".into(),
        Status::Error => "ERROR".into(),
    }
}

fn header(p: &PackageReport, c: &Checked) -> String {
    format!(
        "{}@{}  score {}/100 ({})  coverage {}%  worst case {}  {}",
        p.name,
        c.version,
        c.score.score,
        c.score.grade,
        c.score.coverage,
        c.score.floor,
        verdict(p)
    )
}

fn package_block(out: &mut String, p: &PackageReport, opts: &TableOptions) {
    let c = match &p.result {
        Err(e) => {
            let _ = writeln!(out, "{}  ERROR  {e}", p.target);
            return;
        }
        Ok(c) => c,
    };
    let _ = writeln!(out, "{}", header(p, c));
    for f in &c.gate_failures {
        let _ = writeln!(out, "  gate: {f}");
    }
    if opts.quiet {
        return;
    }
    let f = &c.facts;
    let _ = writeln!(
        out,
        "  provenance: {} · signature: {} · trust: {}",
        provenance_summary(&f.provenance),
        fact_str(&f.signatures.status),
        fact_str(&f.trust.level),
    );
    let _ = writeln!(
        out,
        "  publisher: {} · publish method: {} · maintainers: {} · published: {}",
        fact_str(&f.publish.publisher),
        fact_str(&f.publish.method),
        fact_str(&f.maintainers.count),
        fact_str(&f.release.published_at),
    );
    if !c.findings.is_empty() {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(opts.width)
            .set_header(vec!["Severity", "Rule", "Finding"]);
        for x in &c.findings {
            t.add_row(vec![
                Cell::new(x.severity.as_str()),
                Cell::new(&x.rule),
                Cell::new(format!("{}\n→ {}", x.message, x.remediation)),
            ]);
        }
        let _ = writeln!(out, "{t}");
    } else {
        let _ = writeln!(out, "  no findings");
    }
    if !c.inconclusive.is_empty() {
        let weight: u32 = c.inconclusive.iter().map(|i| i.weight).sum();
        let _ = writeln!(
            out,
            "  inconclusive: {} rule(s), {} weight points not checked (not counted as passed):",
            c.inconclusive.len(),
            weight
        );
        // Reasons read "fact.path: why"; many facts share one cause (a registry that strips
        // metadata), so group by the cause and list the rules it left undecided.
        let mut by_reason: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for i in &c.inconclusive {
            for r in &i.reasons {
                let why = r.split_once(": ").map_or(r.as_str(), |(_, why)| why);
                by_reason.entry(why).or_default().insert(&i.rule);
            }
        }
        for (reason, rules) in by_reason {
            let rules: Vec<&str> = rules.into_iter().collect();
            let _ = writeln!(out, "    - {reason}: {}", rules.join(", "));
        }
    }
}

pub fn render(report: &Report, opts: &TableOptions) -> String {
    let mut out = String::new();
    for (i, p) in report.packages.iter().enumerate() {
        if i > 0 && !opts.quiet {
            out.push('\n');
        }
        package_block(&mut out, p, opts);
    }
    if report.packages.len() > 1 {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(opts.width)
            .set_header(vec![
                "Package", "Version", "Score", "Grade", "Coverage", "Findings", "Result",
            ]);
        for p in &report.packages {
            match &p.result {
                Ok(c) => t.add_row(vec![
                    p.name.clone(),
                    c.version.clone(),
                    c.score.score.to_string(),
                    c.score.grade.clone(),
                    format!("{}%", c.score.coverage),
                    c.findings.len().to_string(),
                    verdict(p),
                ]),
                Err(_) => t.add_row(vec![
                    p.target.clone(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    verdict(p),
                ]),
            };
        }
        let _ = writeln!(out, "\n{t}");
    }
    let s = report.summary();
    let _ = writeln!(
        out,
        "{} package(s): {} passed, {} failed, {} could not be checked; {} rule evaluation(s) inconclusive",
        s.packages, s.passed, s.failed, s.errors, s.inconclusive
    );
    out
}
