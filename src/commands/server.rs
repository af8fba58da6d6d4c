//! `mcp-audit server`: `server.json` files (MCP Registry server descriptions), with no network.

use super::{eprint, print_json, print_table, Fatal};
use crate::cli::{Format, ServerArgs};
use crate::mcpserver::{audit_files, exit_code, render_json, render_table, FileOutcome};
use crate::settings::{usage, Settings};

pub fn run(args: &ServerArgs, settings: &Settings) -> Result<u8, Fatal> {
    if !args.no_scan {
        // Scanning the packages a server.json lists is the next slice; until then, auditing
        // the file alone must be asked for, so nobody reads a file-only verdict as a package scan.
        return Err(usage(
            "server: scanning the packages of a server.json is not implemented yet: use --no-scan",
        ));
    }
    if !matches!(settings.output.format, Format::Json | Format::Table) {
        return Err(usage(
            "server: --format sarif, markdown and github are not implemented for server.json yet: \
             use table or json",
        ));
    }
    let mut policy = settings.policy("(not scanned)".into());
    policy.rules = settings.rules.rules.len();
    let reports = audit_files(&args.files, &settings.rules, &policy);
    let clean = &settings.output.sanitizer;
    match settings.output.format {
        Format::Json => print_json(clean, &render_json(&reports, settings.now)),
        Format::Table => {
            print_table(clean, &render_table(&reports, settings.output.quiet));
            for r in &reports {
                if let FileOutcome::Error(e) = &r.outcome {
                    eprint(clean, &format!("{}: {e}", r.file));
                }
            }
        }
        Format::Sarif | Format::Markdown | Format::Github => unreachable!("refused above"),
    }
    Ok(exit_code(&reports))
}
