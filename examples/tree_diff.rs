//! Compares resolution with npm's own lockfiles, one spec at a time (a development aid for
//! resolution work; the tests are `tests/it/tree.rs` offline and `tests/it/live.rs` live).
//!
//! `cargo run --example tree_diff -- DIR SPEC...`: DIR holds `<file>.json` lockfiles written by
//! scripts/tree-oracle.py (`@scope/name` is `_scope_name`); resolution reads the live registry.
#[path = "../tests/it/support/tree_sets.rs"]
mod tree_sets;

use mcp_audit::pipeline::scan::Registries;
use mcp_audit::pipeline::tree::RegistrySource;
use mcp_audit::registry::HttpConfig;
use mcp_audit::spec::Selector;
use mcp_audit::tree::{resolve, ResolveOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = std::path::PathBuf::from(&args[0]);
    let url = url::Url::parse("https://registry.npmjs.org/").unwrap();
    let registries = Registries::single(&url, HttpConfig::default()).unwrap();
    let source = RegistrySource {
        registries: &registries,
        limits: Default::default(),
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    for spec in &args[1..] {
        let file = if let Some(s) = spec.strip_prefix('@') {
            format!("_{s}")
        } else {
            spec.clone()
        }
        .replace('/', "_");
        let Ok(bytes) = std::fs::read(dir.join(format!("{file}.json"))) else {
            println!("{spec}: no lockfile");
            continue;
        };
        let lock: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let want = tree_sets::lock_set(&lock);
        let t = match rt.block_on(resolve(
            &source,
            spec,
            &Selector::Range("*".into()),
            &ResolveOptions::default(),
        )) {
            Ok(t) => t,
            Err(e) => {
                println!("{spec}: {e}");
                continue;
            }
        };
        let got = tree_sets::tree_set(&t);
        if let Ok(show) = std::env::var("SHOW") {
            for n in t
                .nodes
                .iter()
                .filter(|n| show.split(',').any(|s| s == n.name))
            {
                println!(
                    "  {}@{} at {:?} via {:?}",
                    n.name,
                    n.version,
                    n.locations,
                    n.paths.first()
                );
            }
            for p in t
                .problems
                .iter()
                .filter(|p| show.split(',').any(|s| s == p.name))
            {
                println!(
                    "  problem {} {} from {:?}: {}",
                    p.name, p.spec, p.from, p.reason
                );
            }
        }
        if got == want {
            println!("{spec}: same ({} packages)", want.len());
        } else {
            println!(
                "{spec}: DIFFERENT: extra {:?}, missing {:?}",
                got.difference(&want).collect::<Vec<_>>(),
                want.difference(&got).collect::<Vec<_>>()
            );
        }
    }
}
