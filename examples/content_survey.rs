//! Prints what the content analysis finds in every `.tgz` of a directory (e.g. a folder of
//! `npm pack` outputs): a tool for reviewing heuristics against real packages, not a test.
//! Run: MCP_AUDIT_TARBALL_DIR=/tmp/t cargo run --release --example content_survey

use std::time::Instant;

use mcp_audit::content::{analyze, Limits};
use serde_json::Value;

fn main() {
    let Ok(dir) = std::env::var("MCP_AUDIT_TARBALL_DIR") else {
        eprintln!("MCP_AUDIT_TARBALL_DIR is not set");
        return;
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tgz"))
        .collect();
    paths.sort();
    for path in paths {
        let bytes = std::fs::read(&path).unwrap();
        let start = Instant::now();
        let r = analyze(&bytes, &Value::Null, &Limits::default());
        let elapsed = start.elapsed();
        println!(
            "== {} ({} B, {} files, {} B unpacked, {elapsed:?}) complete={} errors={:?}",
            path.file_name().unwrap().to_string_lossy(),
            bytes.len(),
            r.files,
            r.unpacked_bytes,
            r.complete,
            r.errors
        );
        for s in &r.install_scripts {
            println!("  install {}: {} {:?}", s.name, s.command, s.signals);
        }
        for s in &r.secrets {
            println!("  secret {:?} {}", s.confidence, s.evidence);
        }
        for b in &r.native_binaries {
            println!("  native {} {}", b.kind, b.file);
        }
        for o in &r.obfuscation {
            println!(
                "  obfuscation {:?} {} {}: {}",
                o.confidence, o.signal, o.file, o.detail
            );
        }
        for b in &r.bin_shadowing {
            println!("  bin shadows {} -> {}", b.bin, b.path);
        }
        for f in r.outside_files_whitelist.iter().take(5) {
            println!("  outside files: {f}");
        }
        for f in &r.never_packed {
            println!("  never packed: {f}");
        }
        for p in &r.path_problems {
            println!("  path {:?} {} {:?}", p.kind, p.path, p.detail);
        }
        if r.binding_gyp || r.has_shrinkwrap || r.has_package_lock {
            println!(
                "  gyp={} shrinkwrap={} package-lock={}",
                r.binding_gyp, r.has_shrinkwrap, r.has_package_lock
            );
        }
        if let Some(e) = &r.package_json_error {
            println!("  package.json: {e}");
        }
    }
}
