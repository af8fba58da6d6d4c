//! `mcp-audit lock`: the packages a project's lockfiles pin, and the lockfiles themselves.

use super::{
    cwd, emit_ci, eprint, print_json, print_table, runtime, scanner, table_options, Fatal,
};
use crate::cli::{Format, LockArgs};
use crate::lockfile;
use crate::pipeline::lock::audit;
use crate::render::{json, subjects, table};
use crate::report::EXIT_UNCHECKED;
use crate::settings::Settings;

pub fn run(args: &LockArgs, settings: &Settings) -> Result<u8, Fatal> {
    let scanner = scanner(settings)?;
    let dir = cwd(settings);
    let paths = if args.files.is_empty() {
        lockfile::discover(&dir)
    } else {
        args.files.clone()
    };
    if paths.is_empty() {
        return Err(Fatal {
            code: EXIT_UNCHECKED,
            message: format!(
                "no lockfile in {} (looked for {}): give FILEs or run in the project's directory",
                dir.display(),
                lockfile::FILE_NAMES.join(", ")
            ),
        });
    }
    let files = paths
        .into_iter()
        .map(|p| {
            let parsed = lockfile::read(&p);
            (p, parsed)
        })
        .collect();
    let report = runtime()?.block_on(audit(&scanner, files));
    let clean = &settings.output.sanitizer;
    // A lockfile that cannot be read is said on stderr in every format: stdout may be JSON or
    // SARIF for a machine, and the person reading the CI log must still see which file failed.
    for f in &report.files {
        if let Err(e) = &f.result {
            eprint(clean, &e.at(&f.path));
        }
    }
    if !emit_ci(&subjects::lock_subjects(&report, &dir), settings) {
        match settings.output.format {
            Format::Json => print_json(clean, &json::render_lock(&report)),
            _ => {
                print_table(
                    clean,
                    &table::render_lock(&report, &table_options(settings)),
                );
                for (_, e) in report.entries() {
                    if let crate::pipeline::lock::LockedPackage::Failed(err) = &e.package {
                        eprint(
                            clean,
                            &format!("cannot check {}@{}: {err}", e.entry.name, e.entry.version),
                        );
                    }
                }
            }
        }
    }
    Ok(report.exit_code())
}
