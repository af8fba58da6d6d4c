//! Table output of a report whose `deprecated` message is one 64 MB word (issue K1: table
//! layout is quadratic in the length of an unbroken word, so such a field used to take hours to
//! print; every externally supplied string is now clipped before it reaches the table), and the
//! JSON of the same report, which is never clipped: its credential scrub must stay linear.
//! Run: cargo bench --bench render
//! Figures and the machine they came from are recorded in docs/performance.md.

#[path = "../tests/it/support/registry.rs"]
mod registry;
#[path = "../tests/it/support/scanner.rs"]
mod scanner;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;

use mcp_audit::pipeline::scan::Registries;
use mcp_audit::registry::{parse_registry_url, HttpConfig};
use mcp_audit::render::json;
use mcp_audit::render::sanitize::Sanitizer;
use mcp_audit::render::table::{self, TableOptions};
use mcp_audit::spec::Spec;

const FIELD_BYTES: usize = 64_000_000;

fn bench(c: &mut Criterion) {
    let reg = registry::TestRegistry::start_empty();
    let word = "x".repeat(FIELD_BYTES);
    reg.add_packument(
        "huge-field",
        json!({
            "name": "huge-field",
            "dist-tags": {"latest": "1.0.0"},
            "time": {"1.0.0": "2026-01-01T00:00:00.000Z"},
            "versions": {"1.0.0": {
                "name": "huge-field", "version": "1.0.0",
                "deprecated": word,
                "_npmUser": {"name": "alice"},
                "maintainers": [{"name": "alice"}],
                "dist": {"integrity": "sha512-AAAA", "tarball": "http://127.0.0.1:9/x.tgz"},
            }},
        }),
    );
    drop(word);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = HttpConfig {
        max_body_bytes: 256 * 1024 * 1024,
        ..HttpConfig::default()
    };
    let registries =
        Registries::single(&parse_registry_url(&reg.url(), false).unwrap(), http).unwrap();
    let scanner = scanner::scanner(registries, &reg.url());
    let report = rt.block_on(scanner.scan(&[Spec::parse("huge-field").unwrap()], &|_| {}));
    let opts = TableOptions {
        width: 100,
        quiet: false,
        // Configured credentials, as a user with a private registry has: the scrub then has
        // something to look for in every value.
        sanitizer: Sanitizer::new([
            "npm_".to_string() + &"T".repeat(36),
            "pa\"ss:word".to_string(),
        ]),
    };
    let sample = table::render(&report, &opts);
    assert!(
        sample.contains("bytes)"),
        "the field reached the table:\n{sample}"
    );
    assert!(sample.len() < 20_000, "{} bytes of output", sample.len());

    let mut group = c.benchmark_group("render");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("table-64MB-word", |b| {
        b.iter(|| opts.sanitizer.finish(&table::render(&report, &opts)))
    });
    group.bench_function("json-64MB-word", |b| {
        b.iter(|| opts.sanitizer.scrub_json(&json::render(&report)))
    });
    let rendered = json::render(&report);
    assert!(rendered.len() > FIELD_BYTES);
    group.bench_function("json-scrub-64MB-word", |b| {
        b.iter(|| opts.sanitizer.scrub_json(&rendered))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
