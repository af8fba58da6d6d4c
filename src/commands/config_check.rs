//! `mcp-audit config-check`: which registry and credential npm's configuration selects for
//! each package, and why.

use super::{print_json, print_table, Fatal};
use crate::cli::Format;
use crate::report::EXIT_USAGE;
use crate::settings::Settings;
use crate::spec::Spec;

pub fn run(specs: &[Spec], settings: &Settings) -> Result<u8, Fatal> {
    let Some(npm) = &settings.npm else {
        unreachable!("config-check resolves npm settings")
    };
    let config = &npm.config;
    let clean = &settings.output.sanitizer;
    let explanations: Vec<_> = specs.iter().map(|s| config.explain(&s.name)).collect();
    let code = if explanations.iter().any(|e| e.registry.is_none()) {
        EXIT_USAGE
    } else {
        0
    };
    match settings.output.format {
        Format::Json => print_json(
            clean,
            &(serde_json::to_string_pretty(&serde_json::json!({
                "schema_version": 1,
                "packages": explanations,
                "diagnostics": config.diagnostics().iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            }))
            .expect("explanations serialize")
                + "\n"),
        ),
        // `commands::run` refuses the report formats for config-check.
        _ => {
            for e in &explanations {
                print_table(clean, &e.to_string());
            }
        }
    }
    Ok(code)
}
