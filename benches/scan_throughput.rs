//! Throughput of `scan` over N synthetic packages served by the loopback registry, and of
//! `config` over a client config of N `npx` servers (each with its own npm configuration), with
//! and without package scans; and of `scan pypi:NAME` over N projects on a loopback Python index.
//! Run: cargo bench --bench scan_throughput
//! Figures and the machine they came from are recorded in docs/performance.md.

#[path = "../tests/it/support/pyindex.rs"]
mod pyindex;
#[path = "../tests/it/support/registry.rs"]
mod registry;
#[path = "../tests/it/support/scanner.rs"]
mod scanner;

// `pyindex` reaches the registry as `super::TestRegistry`, as it does in the test crate.
use registry::TestRegistry;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::{json, Value};

use mcp_audit::pipeline::config::{self as configscan, ConfigInput, NpmBase};
use mcp_audit::pipeline::scan::{Registries, Scanner};
use mcp_audit::registry::{parse_registry_url, HttpConfig};
use mcp_audit::spec::Spec;

/// A packument shaped like a typical MCP server's: 30 versions, maintainers, publishers,
/// signatures, attestations on recent versions, a handful of dependencies.
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
                "_hasShrinkwrap": false,
                "scripts": {"build": "tsc", "test": "vitest"},
                "dependencies": {"@modelcontextprotocol/sdk": "^1.12.0", "zod": "^3.25.0",
                                 "express": "^5.1.0", "tiny": "^0.3.1", "cors": "2.8.5"},
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

fn bench(c: &mut Criterion) {
    let reg = registry::TestRegistry::start_empty();
    let names: Vec<String> = (0..1000).map(|i| format!("bench-mcp-server-{i}")).collect();
    for n in &names {
        reg.add_packument(n, packument(n));
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
    // Throughput of metadata scanning (no `content_limits`); tarball analysis has its own bench
    // (benches/content.rs).
    let mut scanner = scanner::scanner(registries, &reg.url());
    scanner.policy.fail_under = Some(70);
    let mut group = c.benchmark_group("scan");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for n in [10usize, 100, 1000] {
        let specs: Vec<Spec> = names[..n].iter().map(|s| Spec::parse(s).unwrap()).collect();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &specs, |b, specs| {
            b.iter(|| {
                let report = rt.block_on(scanner.scan(specs, &|_| {}));
                assert_eq!(report.summary().errors, 0);
                report
            })
        });
    }
    group.finish();

    // `mcp-audit config`: one Claude Desktop file with N servers, each naming the registry in
    // its own env, so every entry gets its own npm configuration and registry clients.
    let dir = tempfile::tempdir().unwrap();
    let base = NpmBase {
        cwd: dir.path().to_path_buf(),
        env: [("HOME".to_string(), dir.path().display().to_string())].into(),
        cli: Vec::new(),
        known_diagnostics: Default::default(),
    };
    let mut group = c.benchmark_group("config");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    // 100,000 servers with `--no-scan` (issue K9): parsing, line numbers and per-entry npm
    // configuration at scale; the packages need not exist.
    let many: Vec<String> = (0..100_000)
        .map(|i| format!("bench-mcp-server-{i}"))
        .collect();
    for (n, scan_packages) in [
        (10usize, true),
        (100, true),
        (1000, false),
        (100_000, false),
    ] {
        let pool = if n <= names.len() { &names } else { &many };
        let servers: serde_json::Map<String, Value> = pool[..n]
            .iter()
            .map(|name| {
                (
                    name.clone(),
                    json!({"command": "npx", "args": ["-y", format!("{name}@1.2.9")],
                           "env": {"npm_config_registry": reg.url()}}),
                )
            })
            .collect();
        let path = dir.path().join(format!("claude_desktop_config-{n}.json"));
        std::fs::write(&path, json!({ "mcpServers": servers }).to_string()).unwrap();
        let inputs = vec![ConfigInput {
            path,
            client: None,
            project_scope: None,
        }];
        let id = if scan_packages { "scan" } else { "no-scan" };
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new(id, n), &inputs, |b, inputs| {
            b.iter(|| {
                let files = rt.block_on(configscan::audit(
                    &scanner,
                    &base,
                    inputs,
                    scan_packages,
                    &|_, _| {},
                ));
                let servers = files[0].result.as_ref().unwrap().servers.len();
                assert_eq!(servers, n);
                files
            })
        });
    }
    group.finish();
}

/// `scan pypi:NAME` over N projects on one loopback index shaped like pypi.org as reachable
/// here: PEP 691 JSON 1.1 (no provenance key), the JSON API, an Integrity API that answers 404,
/// and 10 releases of one sdist each. Every request a real scan makes is made: the simple page
/// and the JSON API, then the chosen file's provenance, the previous release's, and the file
/// itself (downloaded, hashed and read), unless the group says `no-file`.
fn bench_pypi(c: &mut Criterion) {
    let reg = TestRegistry::start_empty();
    let names: Vec<String> = (0..100).map(|i| format!("bench-py-mcp-{i}")).collect();
    for name in &names {
        let files: Vec<pyindex::PyFile> = (0..10u32)
            .map(|i| {
                let v = format!("1.{i}.0");
                pyindex::PyFile::new(
                    &format!("{}-{v}.tar.gz", name.replace('-', "_")),
                    &v,
                    pyindex::sdist(
                        name,
                        &v,
                        &["mcp>=1.12,<2", "httpx>=0.27", "pydantic>=2"],
                        &[
                            ("src/server.py", "import mcp\n\ndef main():\n    pass\n"),
                            ("README.md", "# a bench MCP server\n"),
                        ],
                    ),
                    // Upload times in version order, so each release has a previous one.
                    &format!("2026-{:02}-01T00:00:00Z", 1 + i),
                )
            })
            .collect();
        let doc = pyindex::json_api(name, "1.9.0", &files, json!({}));
        pyindex::serve(
            &reg,
            name,
            &files,
            pyindex::Simple::Json("1.1"),
            None,
            Some(doc),
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let inputs = mcp_audit::pyindex::Inputs {
        index_url: Some(format!("{}simple/", reg.url())),
        ..Default::default()
    };
    let indexes = mcp_audit::pyindex::resolve(&inputs, mcp_audit::pyindex::Tool::Any, false)
        .expect("loopback index");
    let indexes = std::sync::Arc::new(indexes);
    let scanner = |content_limits| {
        let registries = Registries::single(
            &parse_registry_url(&reg.url(), false).unwrap(),
            HttpConfig::default(),
        )
        .unwrap()
        .with_pypi(Ok(indexes.clone()));
        let mut scanner = Scanner {
            content_limits,
            ..scanner::scanner(registries, &reg.url())
        };
        scanner.policy.fail_under = Some(70);
        scanner
    };
    let specs: Vec<Spec> = names
        .iter()
        .map(|n| Spec::parse(&format!("pypi:{n}")).unwrap())
        .collect();

    // Requests per project, counted once outside the timing.
    let before = reg.requests().len();
    let report = rt.block_on(scanner(Some(Default::default())).scan(&specs[..1], &|_| {}));
    assert_eq!(report.summary().errors, 0);
    eprintln!(
        "pypi: one project costs {} requests to the index",
        reg.requests().len() - before
    );

    let mut group = c.benchmark_group("scan-pypi");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for (id, limits) in [("file", Some(Default::default())), ("no-file", None)] {
        let scanner = scanner(limits);
        for n in [10usize, 100] {
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(BenchmarkId::new(id, n), &specs[..n], |b, specs| {
                b.iter(|| {
                    let report = rt.block_on(scanner.scan(specs, &|_| {}));
                    assert_eq!(report.summary().errors, 0);
                    report
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench, bench_pypi);
criterion_main!(benches);
