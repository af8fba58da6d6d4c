//! `mcp-audit server`: `server.json` files (MCP Registry server descriptions), alone
//! (`--no-scan`) or with the packages they list.

use super::{cwd, emit_ci, eprint, print_json, print_table, runtime, scanner, Fatal};
use crate::cli::{Format, ServerArgs};
use crate::mcpserver::scan::PackageScanner;
use crate::mcpserver::{
    audit_files, audit_files_scanned, exit_code, render_json, render_table, server_subjects,
    FileOutcome, ServerFileReport,
};
use crate::settings::Settings;

pub fn run(args: &ServerArgs, settings: &Settings) -> Result<u8, Fatal> {
    let reports = if args.no_scan {
        let mut policy = settings.policy("(not scanned)".into());
        policy.rules = settings.rules.rules.len();
        audit_files(&args.files, &settings.rules, &policy)
    } else {
        let Some(npm) = &settings.npm else {
            unreachable!("server without --no-scan resolves npm settings")
        };
        let mut scanner = scanner(settings)?;
        scanner.policy.rules = scanner.rules.rules.len();
        let allow_http = settings.fetch.as_ref().is_some_and(|f| f.allow_http);
        let ps = PackageScanner::new(&scanner, &npm.base, allow_http);
        runtime()?.block_on(audit_files_scanned(&args.files, &ps))
    };
    emit(&reports, settings, true);
    Ok(exit_code(&reports))
}

/// Prints `server` and `registry` reports in the chosen format. `false` when nothing was printed:
/// JSON for a registry, whose document (`kind: "registry"`) the caller prints.
pub(super) fn emit(reports: &[ServerFileReport], settings: &Settings, from_files: bool) -> bool {
    let clean = &settings.output.sanitizer;
    if emit_ci(
        &server_subjects(reports, &cwd(settings), from_files),
        settings,
    ) {
        return true;
    }
    match settings.output.format {
        Format::Json if from_files => print_json(clean, &render_json(reports, settings.now)),
        Format::Json => return false,
        Format::Table => {
            print_table(clean, &render_table(reports, settings.output.quiet));
            for r in reports {
                if let FileOutcome::Error(e) = &r.outcome {
                    eprint(clean, &format!("{}: {e}", r.file));
                }
            }
        }
        Format::Sarif | Format::Markdown | Format::Github => unreachable!("emitted by emit_ci"),
    }
    true
}
