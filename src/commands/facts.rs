//! `mcp-audit facts`: the facts the rules see for one package, as JSON.

use super::{eprint, print_json, runtime, scanner, Fatal};
use crate::report::EXIT_UNCHECKED;
use crate::settings::{usage, Settings};
use crate::spec::Spec;

pub fn run(spec: &Spec, settings: &Settings) -> Result<u8, Fatal> {
    let scanner = scanner(settings)?;
    if spec.ecosystem == crate::spec::Ecosystem::Pypi {
        scanner
            .registries
            .pypi()
            .map_err(|e| usage(format!("no usable Python index for {}: {e}", spec.raw)))?;
    } else {
        scanner
            .registries
            .resolve(&spec.name)
            .map_err(|e| usage(format!("no usable registry for {}: {e}", spec.raw)))?;
    }
    let clean = &settings.output.sanitizer;
    match runtime()?.block_on(scanner.facts(spec)) {
        Ok(f) => {
            print_json(
                clean,
                &(serde_json::to_string_pretty(&f).expect("facts serialize") + "\n"),
            );
            Ok(0)
        }
        Err(e) => {
            eprint(clean, &e.to_string());
            Ok(EXIT_UNCHECKED)
        }
    }
}
