//! Human output: one block per package, findings by severity, unknowns grouped by reason.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, ContentArrangement, Table};

use crate::facts::{Fact, PackageFacts, ProvenanceFacts};
use crate::pipeline::config::{ConfigReport, FileReport, PackageOutcome, ServerReport};
use crate::render::sanitize::Sanitizer;
use crate::report::{Checked, Finding, Inconclusive, PackageReport, Report, Status};

pub struct TableOptions {
    /// Total width to lay tables out in.
    pub width: u16,
    /// Only the one-line verdict per package and the summary.
    pub quiet: bool,
    /// Every externally supplied string passes through it before it is laid out: registries,
    /// tarballs and config files choose those bytes.
    pub sanitizer: Sanitizer,
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

fn verdict(p: &PackageReport, gated: bool) -> String {
    match p.status() {
        Status::Passed if !gated => "no gate".into(),
        Status::Passed => "PASS".into(),
        Status::Failed => "FAIL".into(),
        Status::Error => "ERROR".into(),
    }
}

fn header(p: &PackageReport, c: &Checked, clean: &Sanitizer, gated: bool) -> String {
    format!(
        "{}@{}  score {}/100 ({})  coverage {}%  worst case {}  {}",
        clean.inline(&p.name),
        clean.inline(&c.version),
        c.score.score,
        c.score.grade,
        c.score.coverage,
        c.score.floor,
        verdict(p, gated)
    )
}

fn package_block(out: &mut String, p: &PackageReport, opts: &TableOptions, gated: bool) {
    let clean = &opts.sanitizer;
    let c = match &p.result {
        Err(e) => {
            let _ = writeln!(
                out,
                "{}  ERROR  {}",
                clean.inline(&p.target),
                clean.line(&e.to_string())
            );
            return;
        }
        Ok(c) => c,
    };
    let _ = writeln!(out, "{}", header(p, c, clean, gated));
    for f in &c.gate_failures {
        let _ = writeln!(out, "  gate: {}", clean.line(f));
    }
    if opts.quiet {
        return;
    }
    facts_lines(out, &c.facts, "  ", clean);
    findings_and_unknowns(out, &c.findings, &c.inconclusive, opts, "  ");
    if let Some(t) = &c.tree {
        tree_lines(out, t, clean);
    }
}

/// Riskiest dependencies shown in the table; JSON has them all.
const RISKIEST_SHOWN: usize = 5;

/// One summary line for the tree, then its riskiest nodes (lowest score first) with the path
/// that brings each in.
fn tree_lines(out: &mut String, t: &crate::report::TreeReport, clean: &Sanitizer) {
    let unchecked = t.nodes.iter().filter(|n| n.result.is_err()).count();
    let _ = writeln!(
        out,
        "  dependencies: {} package(s) ({}), {} not checked, {} not from the registry",
        t.nodes.len(),
        t.source,
        unchecked,
        t.problems.len()
    );
    let mut risky: Vec<(u32, &crate::report::NodeReport, Vec<&str>)> = t
        .nodes
        .iter()
        .filter_map(|n| {
            let a = n.result.as_ref().ok()?;
            let rules: Vec<&str> = a
                .findings
                .iter()
                .filter(|f| crate::pipeline::tree::DEPENDENCY_RULES.contains(&f.rule.as_str()))
                .map(|f| f.rule.as_str())
                .collect();
            (!rules.is_empty()).then_some((a.score.score, n, rules))
        })
        .collect();
    risky.sort_by_key(|(score, n, _)| (*score, n.name.clone()));
    for (score, n, rules) in risky.iter().take(RISKIEST_SHOWN) {
        let label = format!("{}@{}", n.name, n.version);
        let path = crate::pipeline::tree::path_text(&n.paths, &label);
        let _ = writeln!(
            out,
            "    {}  score {score}  {}  via {}",
            clean.inline(&label),
            rules.join(", "),
            clean.inline(&path)
        );
    }
    if risky.len() > RISKIEST_SHOWN {
        let _ = writeln!(
            out,
            "    ... and {} more with findings (--format json lists every node)",
            risky.len() - RISKIEST_SHOWN
        );
    }
}

/// The provenance and publisher lines of a scanned package.
fn facts_lines(out: &mut String, f: &PackageFacts, indent: &str, clean: &Sanitizer) {
    let _ = writeln!(
        out,
        "{indent}provenance: {} · signature: {} · trust: {}",
        clean.line(&provenance_summary(&f.provenance)),
        clean.inline(&fact_str(&f.signatures.status)),
        clean.inline(&fact_str(&f.trust.level)),
    );
    let _ = writeln!(
        out,
        "{indent}publisher: {} · publish method: {} · maintainers: {} · published: {}",
        clean.inline(&fact_str(&f.publish.publisher)),
        clean.inline(&fact_str(&f.publish.method)),
        fact_str(&f.maintainers.count),
        clean.inline(&fact_str(&f.release.published_at)),
    );
}

/// The findings table, and the undecided rules grouped by why.
fn findings_and_unknowns(
    out: &mut String,
    findings: &[Finding],
    inconclusive: &[Inconclusive],
    opts: &TableOptions,
    indent: &str,
) {
    let clean = &opts.sanitizer;
    if !findings.is_empty() {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(opts.width)
            .set_header(vec!["Severity", "Rule", "Finding"]);
        for x in findings {
            // Each part sanitised on its own: joining them first would copy a huge message whole.
            let mut text = format!(
                "{}\n→ {}",
                clean.text(&x.message),
                clean.text(&x.remediation)
            );
            let mut severity = x.severity.as_str().to_string();
            match &x.ignore {
                Some(i) if !i.expired => {
                    severity.push_str("\n(ignored)");
                    let _ = write!(text, "\nignored by policy: {}", clean.text(&i.reason));
                }
                _ => {}
            }
            t.add_row(vec![
                Cell::new(severity),
                Cell::new(clean.inline(&x.rule)),
                Cell::new(text),
            ]);
        }
        let _ = writeln!(out, "{t}");
        for x in findings {
            if let Some(i) = x.ignore.as_ref().filter(|i| i.expired) {
                let until = i.expires.map(|d| d.to_string()).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "{indent}note: the policy's ignore of {} (line {}) expired on {until}: it counts again ({})",
                    clean.inline(&x.rule),
                    i.line,
                    clean.line(&i.reason)
                );
            }
        }
    } else {
        let _ = writeln!(out, "{indent}no findings");
    }
    if !inconclusive.is_empty() {
        let weight: u32 = inconclusive.iter().map(|i| i.weight).sum();
        let _ = writeln!(
            out,
            "{indent}inconclusive: {} rule(s), {} weight points not checked (not counted as passed):",
            inconclusive.len(),
            weight
        );
        // Reasons read "fact.path: why"; many facts share one cause (a registry that strips
        // metadata), so group by the cause and list the rules it left undecided.
        let mut by_reason: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for i in inconclusive {
            for r in &i.reasons {
                let why = r.split_once(": ").map_or(r.as_str(), |(_, why)| why);
                by_reason.entry(why).or_default().insert(&i.rule);
            }
        }
        for (reason, rules) in by_reason {
            let rules: Vec<&str> = rules.into_iter().collect();
            let _ = writeln!(
                out,
                "{indent}  - {}: {}",
                clean.line(reason),
                clean.line(&rules.join(", "))
            );
        }
    }
}

pub fn render(report: &Report, opts: &TableOptions) -> String {
    let gated = report.policy.has_gate();
    let mut out = String::new();
    for (i, p) in report.packages.iter().enumerate() {
        if i > 0 && !opts.quiet {
            out.push('\n');
        }
        package_block(&mut out, p, opts, gated);
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
                    opts.sanitizer.inline(&p.name),
                    opts.sanitizer.inline(&c.version),
                    c.score.score.to_string(),
                    c.score.grade.clone(),
                    format!("{}%", c.score.coverage),
                    counted(&c.findings),
                    verdict(p, gated),
                ]),
                Err(_) => t.add_row(vec![
                    opts.sanitizer.inline(&p.target),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    verdict(p, gated),
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
    let _ = writeln!(out, "{}", clean_gate(report.policy.describe_gate(), opts));
    out
}

fn clean_gate(line: String, opts: &TableOptions) -> String {
    opts.sanitizer.line(&line)
}

/// Findings that count, and those an ignore keeps out: `3`, or `3 (+1 ignored)`.
fn counted(findings: &[Finding]) -> String {
    let n = findings.iter().filter(|f| f.counts()).count();
    match findings.len() - n {
        0 => n.to_string(),
        k => format!("{n} (+{k} ignored)"),
    }
}

fn server_verdict(s: &ServerReport, gated: bool) -> &'static str {
    match s.status() {
        Status::Passed if !gated => "no gate",
        Status::Passed => "PASS",
        Status::Failed => "FAIL",
        Status::Error => "ERROR",
    }
}

/// What the entry starts, in a few words: `npx -y pkg@1.2.3`, `docker ghcr.io/x/y:1`...
fn launch_summary(s: &ServerReport) -> String {
    if let Some(via) = &s.via {
        let mcp = via.wrapper.mcp.as_deref().unwrap_or("(MCP not known)");
        return s.show(&format!("{mcp} via {}", via.wrapper.wrapper));
    }
    let l = &s.launch_facts.launch;
    let mut words = Vec::new();
    match l.runner.as_deref() {
        Some(r) => words.push(r.to_string()),
        None if l.kind == "npm" => {}
        None => words.push(l.kind.clone()),
    }
    if l.auto_install {
        words.push("-y".into());
    }
    words.push(l.target.clone());
    words.join(" ")
}

fn package_line(s: &ServerReport) -> String {
    match &s.package {
        PackageOutcome::Scanned {
            registry, facts, ..
        } => format!(
            "package {}@{} from {registry}",
            facts.package.name, facts.package.version
        ),
        PackageOutcome::Failed {
            name,
            registry,
            error,
        } => {
            let from = if registry.is_empty() {
                String::new()
            } else {
                format!(" from {registry}")
            };
            s.show(&format!(
                "package {name}{from}: could not be checked: {error}"
            ))
        }
        PackageOutcome::NotScanned { reason } => format!("package not scanned: {reason}"),
    }
}

fn server_block(out: &mut String, s: &ServerReport, opts: &TableOptions, gated: bool) {
    let clean = &opts.sanitizer;
    let a = &s.assessment;
    let project = s
        .entry
        .project
        .as_deref()
        .map(|p| format!(" [project {}]", clean.inline(p)))
        .unwrap_or_default();
    let line = s
        .entry
        .line
        .map(|l| format!(" (line {l})"))
        .unwrap_or_default();
    let disabled = if s.entry.disabled { " [disabled]" } else { "" };
    let _ = writeln!(
        out,
        "  {}{project}{line}{disabled}: {}",
        clean.inline(&s.entry.name),
        clean.line(&launch_summary(s))
    );
    let _ = writeln!(
        out,
        "    score {}/100 ({})  coverage {}%  worst case {}  {}",
        a.score.score,
        a.score.grade,
        a.score.coverage,
        a.score.floor,
        server_verdict(s, gated)
    );
    for f in &a.gate_failures {
        let _ = writeln!(out, "    gate: {}", clean.line(f));
    }
    let _ = writeln!(out, "    {}", clean.line(&package_line(s)));
    if let Some(w) = &s.wraps {
        let mcp = w
            .wrapper
            .mcp
            .as_deref()
            .unwrap_or("an MCP this entry does not name");
        let _ = writeln!(
            out,
            "    {}",
            clean.line(&s.show(&format!(
                "runs {mcp} (env {}): audited below as `{}` via {}",
                w.wrapper.env, s.entry.name, w.wrapper.wrapper
            )))
        );
    }
    // Undecided, the package line already gives the reason.
    if let Some((v, eco)) = s.via.as_ref().and_then(|v| v.ecosystem.map(|e| (v, e))) {
        let _ = writeln!(
            out,
            "    {}",
            clean.line(&s.show(&format!("ecosystem {eco}: {}", v.basis)))
        );
    }
    if opts.quiet {
        return;
    }
    for n in &s.notes {
        let _ = writeln!(out, "    note: {}", clean.line(n));
    }
    if let PackageOutcome::Scanned { facts, .. } = &s.package {
        facts_lines(out, facts, "    ", clean);
    }
    // A package that was not looked at leaves every package rule undecided for one reason;
    // the package line above already says it, so only the launch rules' unknowns are listed.
    let shown: Vec<Inconclusive> = match &s.package {
        PackageOutcome::Scanned { .. } => a.inconclusive.clone(),
        _ => a
            .inconclusive
            .iter()
            .filter(|i| i.category == crate::rules::LAUNCH)
            .cloned()
            .collect(),
    };
    findings_and_unknowns(out, &a.findings, &shown, opts, "    ");
    let hidden = a.inconclusive.len() - shown.len();
    if hidden > 0 {
        let _ = writeln!(
            out,
            "    {hidden} package rule(s) inconclusive: the package was not checked (not counted as passed)"
        );
    }
}

pub fn render_config(report: &ConfigReport, opts: &TableOptions) -> String {
    let gated = report.policy.has_gate();
    let clean = &opts.sanitizer;
    let mut out = String::new();
    if let Some(found) = &report.discovered {
        if !opts.quiet || report.files.is_empty() {
            let _ = writeln!(out, "MCP client configs looked for:");
            for (k, exists) in found {
                let mark = if *exists { "found    " } else { "not found" };
                let _ = writeln!(
                    out,
                    "  {mark}  {} ({}, {}): {}",
                    k.client,
                    k.client.id(),
                    match k.scope {
                        crate::clients::Scope::User => "user",
                        crate::clients::Scope::Project => "project",
                    },
                    clean.line(&k.path.display().to_string())
                );
            }
            out.push('\n');
        }
    }
    if report.files.is_empty() {
        let _ = writeln!(
            out,
            "no MCP client config to audit: nothing was checked (give FILEs, or run where --discover finds one)"
        );
        return out;
    }
    for (i, f) in report.files.iter().enumerate() {
        if i > 0 && !opts.quiet {
            out.push('\n');
        }
        let client = f.client.map(|c| format!(" ({c})")).unwrap_or_default();
        let audit = match &f.result {
            Err(e) => {
                let _ = writeln!(
                    out,
                    "{}{client}  ERROR  {}",
                    clean.line(&f.path.display().to_string()),
                    clean.line(&e.to_string())
                );
                continue;
            }
            Ok(a) => a,
        };
        let _ = writeln!(
            out,
            "{}{client}: {} server(s)",
            clean.line(&f.path.display().to_string()),
            audit.servers.len() + audit.unreadable.len()
        );
        let at = |line: Option<usize>| line.map(|l| format!("line {l}: ")).unwrap_or_default();
        for n in &audit.notes {
            let _ = writeln!(out, "  note: {}{}", at(n.line), clean.line(&n.message));
        }
        let problems = (audit.warnings.iter().map(|p| ("warning", p)))
            .chain(audit.unreadable.iter().map(|p| ("ERROR", p)));
        for (label, p) in problems {
            let _ = writeln!(
                out,
                "  {label}: {}server `{}`: {}",
                at(p.line),
                clean.inline(&p.server),
                clean.line(&p.message)
            );
        }
        for s in &audit.servers {
            if !opts.quiet {
                out.push('\n');
            }
            server_block(&mut out, s, opts, gated);
        }
    }
    let servers: Vec<(&FileReport, &ServerReport)> = report
        .files
        .iter()
        .filter_map(|f| f.result.as_ref().ok().map(|a| (f, a)))
        .flat_map(|(f, a)| a.servers.iter().map(move |s| (f, s)))
        .collect();
    if servers.len() > 1 {
        // The config column only when there is more than one config to tell apart.
        let several = report.files.len() > 1;
        let mut header = vec![
            "Server", "Launch", "Score", "Coverage", "Findings", "Result",
        ];
        if several {
            header.insert(0, "Config");
        }
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(opts.width)
            .set_header(header);
        for (f, s) in servers {
            let mut row = Vec::new();
            if several {
                row.push(clean.inline(&f.path.display().to_string()));
            }
            row.extend([
                clean.inline(&s.entry.name),
                clean.inline(&launch_summary(s)),
                s.assessment.score.score.to_string(),
                format!("{}%", s.assessment.score.coverage),
                counted(&s.assessment.findings),
                server_verdict(s, gated).to_string(),
            ]);
            t.add_row(row);
        }
        let _ = writeln!(out, "\n{t}");
    }
    let s = report.summary();
    let _ = writeln!(
        out,
        "{} config file(s) ({} unreadable), {} server(s): {} passed, {} failed, {} could not be checked; {} package(s) not scanned; {} rule evaluation(s) inconclusive",
        s.files, s.file_errors, s.servers, s.passed, s.failed, s.errors, s.not_scanned, s.inconclusive
    );
    let _ = writeln!(out, "{}", clean_gate(report.policy.describe_gate(), opts));
    out
}

fn locked_verdict(r: &crate::pipeline::lock::LockedReport, gated: bool) -> &'static str {
    match r.status() {
        Status::Passed if !gated => "no gate",
        Status::Passed => "PASS",
        Status::Failed => "FAIL",
        Status::Error => "ERROR",
    }
}

/// `mcp-audit lock`: one block per lockfile, one per locked entry inside it, then a summary.
pub fn render_lock(report: &crate::pipeline::lock::LockReport, opts: &TableOptions) -> String {
    use crate::pipeline::lock::LockedPackage;
    let gated = report.policy.has_gate();
    let clean = &opts.sanitizer;
    let mut out = String::new();
    for (i, f) in report.files.iter().enumerate() {
        if i > 0 && !opts.quiet {
            out.push('\n');
        }
        let audit = match &f.result {
            Err(e) => {
                let _ = writeln!(out, "{}  ERROR", clean.line(&e.at(&f.path)));
                continue;
            }
            Ok(a) => a,
        };
        let _ = writeln!(
            out,
            "{} ({}): {} locked package(s)",
            clean.line(&f.path.display().to_string()),
            audit.format.describe(),
            audit.entries.len()
        );
        for r in &audit.entries {
            let e = &r.entry;
            let a = &r.assessment;
            let line = e.line.map(|l| format!(" (line {l})")).unwrap_or_default();
            let alias = e
                .alias
                .as_deref()
                .map(|x| format!(" as {}", clean.inline(x)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {}@{}{alias}{line}  score {}/100 ({})  coverage {}%  worst case {}  {}",
                clean.inline(&e.name),
                clean.inline(&e.version),
                a.score.score,
                a.score.grade,
                a.score.coverage,
                a.score.floor,
                locked_verdict(r, gated)
            );
            for g in &a.gate_failures {
                let _ = writeln!(out, "    gate: {}", clean.line(g));
            }
            match &r.package {
                LockedPackage::Failed(err) => {
                    let _ = writeln!(out, "    package: ERROR {}", clean.line(&err.to_string()));
                }
                LockedPackage::NotFetched(reason) => {
                    let _ = writeln!(out, "    package: not fetched: {}", clean.line(reason));
                }
                LockedPackage::Scanned(_) => {}
            }
            if opts.quiet {
                continue;
            }
            if let LockedPackage::Scanned(facts) = &r.package {
                facts_lines(&mut out, facts, "    ", clean);
            }
            // An entry whose package was not looked at leaves every package rule undecided for
            // one reason, said above; only the lockfile rules' unknowns are listed.
            let shown: Vec<Inconclusive> = match &r.package {
                LockedPackage::Scanned(_) => a.inconclusive.clone(),
                _ => a
                    .inconclusive
                    .iter()
                    .filter(|i| i.category == "lockfile")
                    .cloned()
                    .collect(),
            };
            findings_and_unknowns(&mut out, &a.findings, &shown, opts, "    ");
            let hidden = a.inconclusive.len() - shown.len();
            if hidden > 0 {
                let _ = writeln!(
                    out,
                    "    {hidden} package rule(s) inconclusive: the package was not checked (not counted as passed)"
                );
            }
        }
    }
    let s = report.summary();
    let errors = report.files.iter().filter(|f| f.result.is_err()).count();
    let _ = writeln!(
        out,
        "\n{} lockfile(s) ({errors} unreadable), {} locked package(s): {} passed, {} failed, {} could not be checked; {} rule evaluation(s) inconclusive",
        report.files.len(),
        s.packages,
        s.passed,
        s.failed,
        s.errors,
        s.inconclusive
    );
    let _ = writeln!(out, "{}", clean_gate(report.policy.describe_gate(), opts));
    out
}
