//! Issue K(c): bytes still downloading count against the scan's memory budget, not only the
//! documents already read. Many large packuments fetched at once must keep the total reserved
//! (downloads and held documents together) within the budget, and every scan must still finish.
//! Checked with the budget's peak counter, never with a timing.

use serde_json::json;

use mcp_audit::pipeline::scan::Registries;
use mcp_audit::registry::{parse_registry_url, HttpConfig};
use mcp_audit::spec::Spec;

use crate::support::*;

/// A valid packument of about `size` bytes, nearly all of it a readme.
fn large_packument(name: &str, size: usize) -> serde_json::Value {
    json!({
        "name": name,
        "readme": "x".repeat(size),
        "dist-tags": {"latest": "1.0.0"},
        "time": {"1.0.0": "2026-01-01T00:00:00.000Z"},
        "versions": {"1.0.0": {
            "name": name, "version": "1.0.0",
            "dist": {"integrity": format!("sha512-{}==", "A".repeat(86)),
                     "tarball": format!("https://registry.example/{name}/-/{name}-1.0.0.tgz")}
        }}
    })
}

#[test]
fn many_large_bodies_downloading_at_once_stay_within_the_budget() {
    const MIB: u64 = 1024 * 1024;
    let reg = TestRegistry::start_empty();
    let names: Vec<String> = (0..12).map(|i| format!("large-server-{i}")).collect();
    for n in &names {
        reg.add_packument(n, large_packument(n, 900 * 1024));
    }
    let cfg = HttpConfig {
        // Budget: 4 documents of 1 MiB; 16 downloads of 0.9 MB at once would hold 14 MB.
        max_body_bytes: MIB,
        concurrency: 16,
        ..HttpConfig::default()
    };
    let registries =
        Registries::single(&parse_registry_url(&reg.url(), true).unwrap(), cfg).unwrap();
    let scanner = crate::support::scanner::scanner(registries, &reg.url());
    let specs: Vec<Spec> = names.iter().map(|n| Spec::parse(n).unwrap()).collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = rt.block_on(scanner.scan(&specs, &|_| {}));
    assert_eq!(report.summary().errors, 0, "every large document is read");
    let budget = scanner.registries.budget();
    assert_eq!(budget.total(), 4 * MIB);
    let peak = budget.peak();
    assert!(peak <= budget.total(), "peak {peak} over the budget");
    // The budget was really in use: at least one document and its parsed view.
    assert!(peak >= 2 * 900 * 1024, "peak {peak}");
    assert_eq!(budget.used(), 0, "everything is released after the scan");
}
