//! `scan` of N synthetic packages on the loopback registry: cold (no cache), warm online (every
//! document revalidated, answered 304) and warm `--offline` (no request at all).
//! Run: cargo bench --bench cache
//! Figures are recorded in docs/performance.md.

#[path = "../tests/it/support/registry.rs"]
mod registry;
#[path = "../tests/it/support/scanner.rs"]
mod scanner;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::{json, Value};

use mcp_audit::pipeline::scan::{Registries, Scanner};
use mcp_audit::registry::{parse_registry_url, CacheConfig, HttpConfig};
use mcp_audit::spec::Spec;

/// The same shape as `scan_throughput`'s packuments: 30 versions, about 25 KB.
fn packument(name: &str) -> Value {
    let mut versions = serde_json::Map::new();
    let mut time = serde_json::Map::new();
    for i in 0..30u32 {
        let v = format!("1.{}.{}", i / 10, i % 10);
        versions.insert(
            v.clone(),
            json!({
                "name": name, "version": v,
                "repository": {"type": "git", "url": format!("git+https://github.com/bench/{name}.git")},
                "license": "MIT",
                "maintainers": [{"name": "alice"}, {"name": "bob"}],
                "_npmUser": {"name": "alice", "email": "alice@example.com"},
                "gitHead": "0123456789abcdef0123456789abcdef01234567",
                "dependencies": {"@modelcontextprotocol/sdk": "^1.12.0", "zod": "^3.25.0"},
                "dist": {
                    "integrity": format!("sha512-{}==", "A".repeat(86)),
                    "tarball": format!("https://registry.npmjs.org/{name}/-/{name}-{v}.tgz"),
                    "signatures": [{"keyid": "SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U", "sig": "MEUCIQ"}],
                }
            }),
        );
        time.insert(
            v,
            json!(format!(
                "2026-0{}-{:02}T10:00:00.000Z",
                1 + i / 10,
                1 + i % 10
            )),
        );
    }
    json!({
        "name": name,
        "dist-tags": {"latest": "1.2.9"},
        "maintainers": [{"name": "alice"}, {"name": "bob"}],
        "time": time,
        "versions": versions,
    })
}

fn scanner(url: &str, cache: Option<CacheConfig>) -> Scanner {
    let http = HttpConfig {
        cache,
        ..HttpConfig::default()
    };
    let registries = Registries::single(&parse_registry_url(url, false).unwrap(), http).unwrap();
    scanner::scanner(registries, url)
}

fn bench(c: &mut Criterion) {
    let reg = registry::TestRegistry::start_empty();
    reg.set_advisories(json!({}));
    let names: Vec<String> = (0..460).map(|i| format!("bench-mcp-server-{i}")).collect();
    for n in &names {
        reg.add_packument(n, packument(n));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let online = CacheConfig {
        dir: dir.path().to_path_buf(),
        offline: false,
    };
    let cold = scanner(&reg.url(), None);
    let warm = scanner(&reg.url(), Some(online.clone()));
    let offline = scanner(
        &reg.url(),
        Some(CacheConfig {
            offline: true,
            ..online
        }),
    );
    let mut group = c.benchmark_group("cache");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for n in [100usize, 460] {
        let specs: Vec<Spec> = names[..n].iter().map(|s| Spec::parse(s).unwrap()).collect();
        // Fills the cache (packuments, keys, the advisories answer).
        let filled = rt.block_on(warm.scan(&specs, &|_| {}));
        assert_eq!(filled.summary().errors, 0);
        group.throughput(Throughput::Elements(n as u64));
        for (id, s) in [("cold", &cold), ("warm", &warm), ("offline", &offline)] {
            group.bench_with_input(BenchmarkId::new(id, n), &specs, |b, specs| {
                b.iter(|| {
                    let report = rt.block_on(s.scan(specs, &|_| {}));
                    assert_eq!(report.summary().errors, 0, "{id}");
                    report
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
