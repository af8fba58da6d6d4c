//! `mcp-audit scan`: fetch, judge and print packages.

use std::io::IsTerminal;

use super::{emit, eprint, runtime, scanner, Fatal};
use crate::cli::Format;
use crate::report::PackageReport;
use crate::settings::{usage, Settings};
use crate::spec::Spec;

pub fn run(specs: &[Spec], settings: &Settings) -> Result<u8, Fatal> {
    let scanner = scanner(settings)?;
    // A registry setting that cannot be used is a configuration error, found before any request.
    for spec in specs {
        if spec.ecosystem == crate::spec::Ecosystem::Pypi {
            scanner
                .registries
                .pypi()
                .map_err(|e| usage(format!("no usable Python index for {}: {e}", spec.raw)))?;
            continue;
        }
        scanner
            .registries
            .resolve(&spec.name)
            .map_err(|e| usage(format!("no usable registry for {}: {e}", spec.raw)))?;
    }
    let out = &settings.output;
    let show_progress = specs.len() > 1
        && out.format == Format::Table
        && !out.quiet
        && std::io::stderr().is_terminal();
    let report = runtime()?.block_on(async {
        let bar = show_progress.then(|| {
            let bar = indicatif::ProgressBar::new(specs.len() as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                    .expect("static template"),
            );
            bar
        });
        let on_done = |p: &PackageReport| {
            if let Some(bar) = &bar {
                bar.set_message(out.sanitizer.inline(&p.name));
                bar.inc(1);
            }
            if out.verbose {
                log_target(settings, p);
            }
        };
        let report = scanner.scan(specs, &on_done).await;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        report
    });
    emit(&report, settings);
    Ok(report.exit_code())
}

fn log_target(settings: &Settings, p: &PackageReport) {
    let clean = &settings.output.sanitizer;
    match &p.result {
        Ok(c) => eprint(
            clean,
            &format!(
                "{} → {}@{} from {} ({} findings, {} inconclusive)",
                p.target,
                p.name,
                c.version,
                p.registry,
                c.findings.len(),
                c.inconclusive.len()
            ),
        ),
        Err(e) => eprint(clean, &format!("{}: {e}", p.target)),
    }
}
