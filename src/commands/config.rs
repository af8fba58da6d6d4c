//! `mcp-audit config`: every server of the given (and discovered) MCP client configs.

use std::path::Path;

use super::{cwd, emit_ci};
use super::{eprint, print_json, print_table, runtime, scanner, table_options, Fatal};
use crate::cli::{ConfigArgs, Format};
use crate::clients::{Client, Platform};
use crate::pipeline::config::{
    self as configscan, discovered_inputs, ConfigInput, ConfigReport, PackageOutcome, ServerReport,
};
use crate::render::{json, subjects, table};
use crate::settings::{usage, Settings};

pub fn run(args: &ConfigArgs, settings: &Settings) -> Result<u8, Fatal> {
    let Some(npm) = &settings.npm else {
        unreachable!("config resolves npm settings")
    };
    let client = args
        .client
        .as_deref()
        .map(|c| {
            Client::from_id(c).ok_or_else(|| usage(format!("--client `{c}` is not a known client")))
        })
        .transpose()?;
    let mut inputs: Vec<ConfigInput> = args
        .files
        .iter()
        .map(|p| ConfigInput {
            path: p.clone(),
            client,
            project_scope: None,
        })
        .collect();
    let base = &npm.base;
    let discovered = if args.discover {
        let home = ["HOME", "USERPROFILE"]
            .iter()
            .find_map(|k| base.env.get(*k).filter(|v| !v.is_empty()))
            .map(std::path::PathBuf::from)
            .ok_or_else(|| usage("--discover: cannot find the home directory (HOME is not set)"))?;
        let found = crate::clients::discover(&home, &base.cwd, Platform::current(), &base.env);
        for input in discovered_inputs(&found) {
            // A file named on the command line too is audited once.
            let same =
                |p: &Path| std::fs::canonicalize(p).ok() == std::fs::canonicalize(&input.path).ok();
            if !inputs.iter().any(|i| same(&i.path)) {
                inputs.push(input);
            }
        }
        Some(found)
    } else {
        None
    };
    let mut scanner = scanner(settings)?;
    scanner.policy.rules = scanner.rules.rules.len();
    // As for `scan`: a registry given on mcp-audit's command line that cannot be used is a usage
    // error, found before any request (entries may still choose their own).
    if let Some(r) = &npm.registry_flag {
        let allow_http = settings.fetch.as_ref().is_some_and(|f| f.allow_http);
        crate::registry::parse_registry_url(r, allow_http)
            .map_err(|e| usage(format!("--registry {r}: {e}")))?;
    }
    let clean = &settings.output.sanitizer;
    let verbose = settings.output.verbose;
    let on_done = |file: &Path, s: &ServerReport| {
        if verbose {
            log_server(settings, file, s);
        }
    };
    let files = runtime()?.block_on(configscan::audit(
        &scanner,
        base,
        &inputs,
        !args.no_scan,
        &on_done,
    ));
    let report = ConfigReport {
        generated_at: scanner.now,
        policy: scanner.policy.clone(),
        discovered,
        files,
    };
    if emit_ci(
        &subjects::config_subjects(&report, &cwd(settings)),
        settings,
    ) {
        return Ok(report.exit_code());
    }
    match settings.output.format {
        Format::Json => print_json(clean, &json::render_config(&report)),
        Format::Table => {
            print_table(
                clean,
                &table::render_config(&report, &table_options(settings)),
            );
            for f in &report.files {
                match &f.result {
                    Err(e) => eprint(clean, &e.to_string()),
                    Ok(a) => {
                        for s in &a.servers {
                            if let PackageOutcome::Failed { error, .. } = &s.package {
                                eprint(
                                    clean,
                                    &s.show(&format!(
                                        "{}: server `{}`: cannot check its package: {error}",
                                        f.path.display(),
                                        s.entry.name
                                    )),
                                );
                            }
                        }
                    }
                }
            }
        }
        Format::Sarif | Format::Markdown | Format::Github => unreachable!("emitted by emit_ci"),
    }
    Ok(report.exit_code())
}

fn log_server(settings: &Settings, file: &Path, s: &ServerReport) {
    let package = match &s.package {
        PackageOutcome::Scanned {
            registry, facts, ..
        } => format!(
            "{}@{} from {registry}",
            facts.package.name, facts.package.version
        ),
        PackageOutcome::Failed { error, .. } => s.show(&format!("error: {error}")),
        PackageOutcome::NotScanned { reason } => format!("not scanned: {reason}"),
    };
    eprint(
        &settings.output.sanitizer,
        &format!(
            "{} → {}: {package} ({} findings, {} inconclusive)",
            file.display(),
            s.entry.name,
            s.assessment.findings.len(),
            s.assessment.inconclusive.len()
        ),
    );
}
