//! Tarball content analysis throughput (issue E): it runs once per scanned version and must not
//! dominate scan time. Throughput is in uncompressed tar bytes, the bytes actually scanned.
//! Run: cargo bench --bench content

use std::io::Write;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use flate2::write::GzEncoder;
use flate2::Compression;
use mcp_audit::content::{analyze, Limits};
use serde_json::{json, Value};

const TARBALLS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tarballs/");

const REAL: &[&str] = &[
    "abbrev-4.0.0.tgz",
    "modelcontextprotocol-server-filesystem-2026.7.10.tgz",
    "modelcontextprotocol-server-sequential-thinking-2026.8.31.tgz",
];

/// About 5 MB of what MCP server packages ship: many small ES modules, type declarations, a
/// bundled single-file build with long lines, JSON data and docs.
fn synthetic_package() -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut add = |path: &str, data: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        builder
            .append_data(&mut h, format!("package/{path}"), data)
            .unwrap();
    };
    let pkg = json!({"name": "synthetic-mcp", "version": "1.0.0", "main": "dist/index.js",
        "bin": {"synthetic-mcp": "dist/cli.js"}, "files": ["dist"],
        "dependencies": {"@modelcontextprotocol/sdk": "^1.0.0", "zod": "^3.0.0"}});
    add("package.json", &serde_json::to_vec_pretty(&pkg).unwrap());
    add(
        "README.md",
        "# Synthetic\n\nUsage: `npx synthetic-mcp`.\n"
            .repeat(200)
            .as_bytes(),
    );
    let module = |i: usize| {
        format!(
            "import {{ z }} from 'zod';\n\
             export const schema{i} = z.object({{ path: z.string(), depth: z.number().int() }});\n\
             export async function handler{i}(args, ctx) {{\n\
             \x20 const parsed = schema{i}.parse(args);\n\
             \x20 if (parsed.depth > {i}) throw new Error(`too deep: ${{parsed.depth}}`);\n\
             \x20 return {{ content: [{{ type: 'text', text: JSON.stringify(parsed) }}] }};\n\
             }}\n"
        )
    };
    let mut total = 0usize;
    let mut i = 0;
    while total < 3_500_000 {
        let src = module(i).repeat(20);
        add(&format!("dist/tools/tool{i}.js"), src.as_bytes());
        add(
            &format!("dist/tools/tool{i}.d.ts"),
            format!("export declare function handler{i}(a: unknown): Promise<unknown>;\n")
                .as_bytes(),
        );
        total += src.len();
        i += 1;
    }
    // A bundle: one very long line.
    let bundle: String = (0..8_000)
        .map(|k| format!("var a{k}=function(b){{return b*{k}}};"))
        .collect();
    add("dist/bundle.min.js", bundle.as_bytes());
    let data: Vec<Value> = (0..6_000)
        .map(|k| json!({"id": k, "name": format!("item-{k}"), "tags": ["a", "b"]}))
        .collect();
    add("dist/data.json", &serde_json::to_vec(&data).unwrap());
    let tar = builder.into_inner().unwrap();
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

fn bench(c: &mut Criterion) {
    let limits = Limits::default();
    let mut group = c.benchmark_group("content");
    let mut cases: Vec<(String, Vec<u8>)> = REAL
        .iter()
        .map(|f| {
            (
                f.to_string(),
                std::fs::read(format!("{TARBALLS}{f}")).unwrap(),
            )
        })
        .collect();
    cases.push(("synthetic-5MB".to_string(), synthetic_package()));
    for (name, tgz) in &cases {
        let report = analyze(tgz, &Value::Null, &limits);
        assert!(report.complete, "{name}: {:?}", report.errors);
        eprintln!(
            "{name}: {} bytes compressed, {} bytes of tar, {} files",
            tgz.len(),
            report.tar_bytes,
            report.files
        );
        group.throughput(Throughput::Bytes(report.tar_bytes));
        group.bench_function(name.as_str(), |b| {
            b.iter(|| analyze(std::hint::black_box(tgz), &Value::Null, &limits))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
