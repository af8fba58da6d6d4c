//! Peak memory of reading one large packument, as the scan reads it (issue K4).
//!
//! Generates a synthetic packument of about `--mb` MB (default 60, under the 64 MB cap): many
//! versions, each with a readme, dependencies, scripts, `dist` with signatures and attestations,
//! like the largest real ones. Then parses it into the typed view, picks `latest`, reads that
//! version in full (as the tarball check does) and derives the facts. Prints the peak resident
//! set (`VmHWM` from /proc/self/status). `--value` parses into a `serde_json::Value` instead, the
//! way the scan did before, for comparison. `--small` writes a document of many small fields
//! instead (no readmes: many short versions, 60 dependencies and 4 maintainers each, and a long
//! `time` map), where a parsed tree costs the most per byte. Run each mode in its own process:
//!
//!     cargo run --release --example packument_memory
//!     cargo run --release --example packument_memory -- --value
//!     cargo run --release --example packument_memory -- --small
//!     cargo run --release --example packument_memory -- --small --value
//!
//! Linux only (reads /proc). Not a test: memory figures belong in docs/performance.md.

use chrono::Utc;
use mcp_audit::facts::npm::{version_document, Packument};
use mcp_audit::facts::{derive_facts, DeriveInput, Evidence};
use mcp_audit::spec::{pick_version, Selector};
use serde_json::{json, Map, Value};

/// Written out piece by piece, never as one tree, so that generating it does not raise the peak
/// the program measures.
fn synthetic(target_bytes: usize, small: bool) -> Vec<u8> {
    let readme = if small {
        String::new()
    } else {
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(80)
    };
    let (dep_count, maintainer_count) = if small { (60, 4) } else { (20, 2) };
    // One buffer, written once: versions first (they are the bulk), the small `time` map after.
    let mut out = String::with_capacity(target_bytes + (1 << 20));
    out.push_str(&format!(
        "{{\"name\":\"huge\",\"readme\":{},\"maintainers\":[{{\"name\":\"alice\"}},{{\"name\":\"bob\"}}],\"versions\":{{",
        json!(readme)
    ));
    let mut time = String::from("{");
    let mut i = 0u64;
    let mut latest = String::new();
    while out.len() < target_bytes {
        let v = format!("1.{}.{}", i / 100, i % 100);
        let mut deps = Map::new();
        for d in 0..dep_count {
            deps.insert(format!("dep-{d}"), json!(format!("^{d}.0.0")));
        }
        let maintainers: Vec<Value> = (0..maintainer_count)
            .map(|m| json!({"name": format!("m{m}"), "email": format!("m{m}@x.io")}))
            .collect();
        let doc = json!({
            "name": "huge", "version": v, "description": "a large package",
            "readme": readme, "license": "MIT",
            "repository": {"type": "git", "url": "git+https://github.com/example/huge.git"},
            "maintainers": maintainers,
            "_npmUser": {"name": "alice", "email": "a@example.com"},
            "gitHead": "d31124c98240a1b2c3d4e5f60718293a4b5c6d7e",
            "scripts": {"test": "node test.js", "build": "tsc -p ."},
            "dependencies": deps,
            "files": ["dist", "README.md", "LICENSE"],
            "dist": {
                "integrity": "sha512-".to_string() + &"A".repeat(86) + "==",
                "shasum": "0123456789abcdef0123456789abcdef01234567",
                "tarball": format!("https://registry.npmjs.org/huge/-/huge-{v}.tgz"),
                "fileCount": 42, "unpackedSize": 123456,
                "signatures": [{"keyid": "SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U",
                                "sig": "MEUCIQ".to_string() + &"x".repeat(90)}],
                "attestations": {"url": format!("https://registry.npmjs.org/-/npm/v1/attestations/huge@{v}"),
                                 "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}}
            }
        });
        if i > 0 {
            out.push(',');
            time.push(',');
        }
        out.push_str(&format!("{}:{}", json!(v), doc));
        let day = 1 + (i / 86_400) % 28;
        let secs = i % 86_400;
        time.push_str(&format!(
            "\"{v}\":\"2025-01-{day:02}T{:02}:{:02}:{:02}.000Z\"",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        ));
        latest = v;
        i += 1;
    }
    time.push('}');
    out.push_str(&format!(
        "}},\"time\":{time},\"dist-tags\":{{\"latest\":\"{latest}\"}}}}"
    ));
    out.into_bytes()
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mb: usize = args
        .iter()
        .position(|a| a == "--mb")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let as_value = args.iter().any(|a| a == "--value");
    let small = args.iter().any(|a| a == "--small");
    let bytes = synthetic(mb * 1_000_000, small);
    // The generator's own tree is gone by now, but its peak is not: report the baseline first.
    let baseline = peak_rss_mb();
    let start = std::time::Instant::now();
    if as_value {
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        let n = v["versions"].as_object().map(Map::len).unwrap_or(0);
        println!("parsed into serde_json::Value: {n} versions");
    } else {
        let p = Packument::from_slice(&bytes).unwrap();
        let version = pick_version(&p, &Selector::Tag("latest".into())).unwrap();
        let doc = version_document(&bytes, &version).unwrap();
        let facts = derive_facts(&DeriveInput {
            packument: &p,
            version: &version,
            requested: "huge",
            resolved_via: "tag",
            registry: "https://registry.npmjs.org/",
            now: Utc::now(),
            evidence: &Evidence::default(),
            trust_window_days: 365,
        });
        println!(
            "typed view: {} versions, facts for {}@{} ({} bytes of version document)",
            p.versions.len(),
            facts.package.name,
            facts.package.version,
            doc.to_string().len()
        );
    }
    println!(
        "document {:.1} MB; peak RSS {:.0} MB after generating it, {:.0} MB after reading it ({:.2?})",
        bytes.len() as f64 / 1e6,
        baseline,
        peak_rss_mb(),
        start.elapsed()
    );
}
