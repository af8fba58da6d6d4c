//! `mcp-audit registry URL --no-scan` over N servers on the loopback MCP Registry stand-in
//! (`tests/it/support/mcp_registry.rs`, pages of 100): paging, reading each description, the
//! server rules, scoring and the JSON document, in process.
//! Run: cargo bench --bench registry
//! Figures and the machine they came from are recorded in docs/performance.md.

#[path = "../tests/it/support/mcp_registry.rs"]
mod mcp_registry;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use mcp_audit::mcpserver::registry::{api_root, list, ListQuery};
use mcp_audit::mcpserver::{audit_listed, render_registry_json};
use mcp_audit::registry::{HttpConfig, RegistryClient, RegistryUrl};
use mcp_audit::report::Policy;
use mcp_audit::rules::RuleSet;

fn bench(c: &mut Criterion) {
    let rules = RuleSet::embedded().expect("embedded rules load");
    let policy = Policy::default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("registry_no_scan");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    for n in [100usize, 1000] {
        let reg = mcp_registry::TestMcpRegistry::start(
            mcp_registry::synthetic(n),
            mcp_registry::Mode::Normal,
        );
        let url = url::Url::parse(&reg.url()).expect("url");
        let root = api_root(&url);
        let client = RegistryClient::new(
            RegistryUrl::parse(root.as_str()).expect("registry url"),
            HttpConfig::default(),
        )
        .expect("client");
        let query = ListQuery {
            page_size: 100,
            ..ListQuery::default()
        };
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter(|| {
                let listing = rt.block_on(list(&client, &root, &query));
                assert_eq!(listing.servers.len(), n);
                let reports = rt.block_on(audit_listed(listing.servers, None, &rules, &policy));
                let doc = render_registry_json(
                    root.as_str(),
                    listing.pages,
                    None,
                    &reports,
                    chrono::Utc::now(),
                );
                assert!(doc.len() > n);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
