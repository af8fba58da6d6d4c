//! `mcp-audit evaluate`: the rules over facts files written by `facts`, with no network.

use std::path::PathBuf;

use super::{emit, Fatal};
use crate::facts::PackageFacts;
use crate::report::{check, PackageReport, Report};
use crate::settings::{usage, Settings};

pub fn run(files: &[PathBuf], settings: &Settings) -> Result<u8, Fatal> {
    let policy = settings.policy("(facts files)".into());
    let mut packages = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| usage(format!("cannot read facts file {}: {e}", file.display())))?;
        let facts: PackageFacts = serde_json::from_str(&text).map_err(|e| {
            usage(format!(
                "{} is not a facts document (as written by `mcp-audit facts`): {e}",
                file.display()
            ))
        })?;
        packages.push(PackageReport {
            target: file.display().to_string(),
            name: facts.package.name.clone(),
            registry: facts.registry.url.clone(),
            result: Ok(check(facts, &settings.rules, &policy)),
        });
    }
    let report = Report {
        generated_at: settings.now,
        policy,
        packages,
    };
    emit(&report, settings);
    Ok(report.exit_code())
}
