//! Resolution and audit of a 1,000-node synthetic dependency tree on the loopback registry
//! (issue 12; goal < 2 s). Run: cargo bench --bench tree
//! Figures and the machine they came from are recorded in docs/performance.md.

#[path = "../tests/it/support/registry.rs"]
mod registry;
#[path = "../tests/it/support/scanner.rs"]
mod scanner;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};

use mcp_audit::pipeline::scan::{Registries, Scanner};
use mcp_audit::pipeline::tree::TreeOptions;
use mcp_audit::registry::{parse_registry_url, HttpConfig};
use mcp_audit::spec::Spec;

/// Five versions with publishers, maintainers and times, and the given dependencies.
fn packument(name: &str, deps: &Value) -> Value {
    let mut versions = serde_json::Map::new();
    let mut time = serde_json::Map::new();
    for i in 0..5u32 {
        let v = format!("1.0.{i}");
        versions.insert(
            v.clone(),
            json!({"name": name, "version": v, "dependencies": deps,
                   "maintainers": [{"name": "alice"}],
                   "_npmUser": {"name": "alice", "email": "alice@example.com"},
                   "dist": {"integrity": format!("sha512-{}==", "A".repeat(86))}}),
        );
        time.insert(v, json!(format!("2026-01-0{}T10:00:00.000Z", i + 1)));
    }
    json!({"name": name, "dist-tags": {"latest": "1.0.4"}, "time": time,
           "maintainers": [{"name": "alice"}], "versions": versions})
}

fn bench(c: &mut Criterion) {
    let reg = registry::TestRegistry::start_empty();
    // root → 40 mid packages → 24 leaves each: 1,000 nodes below the root.
    let mids: serde_json::Map<String, Value> = (0..40)
        .map(|i| (format!("mid-{i}"), json!("^1.0.0")))
        .collect();
    reg.add_packument(
        "tree-bench-root",
        packument("tree-bench-root", &Value::Object(mids)),
    );
    for i in 0..40 {
        let leaves: serde_json::Map<String, Value> = (0..24)
            .map(|j| (format!("leaf-{i}-{j}"), json!("^1.0.0")))
            .collect();
        let name = format!("mid-{i}");
        reg.add_packument(&name, packument(&name, &Value::Object(leaves)));
        for j in 0..24 {
            let name = format!("leaf-{i}-{j}");
            reg.add_packument(&name, packument(&name, &json!({})));
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let registries = Registries::single(
        &parse_registry_url(&reg.url(), false).unwrap(),
        HttpConfig::default(),
    )
    .unwrap();
    let scanner = Scanner {
        tree: Some(TreeOptions::default()),
        ..scanner::scanner(registries, &reg.url())
    };
    let specs = [Spec::parse("tree-bench-root").unwrap()];
    let mut group = c.benchmark_group("tree");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("scan_1000_nodes", |b| {
        b.iter(|| {
            let report = rt.block_on(scanner.scan(&specs, &|_| {}));
            let checked = report.packages[0].result.as_ref().unwrap();
            assert_eq!(checked.tree.as_ref().unwrap().nodes.len(), 1000);
            report
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
