//! Tarball content analysis: the first byte picks whether the rest is a whole `.tgz` (gzip
//! included, so broken gzip is reached too) or a tar stream that is gzipped here first, so
//! the fuzzer spends its time on tar headers and file contents rather than on gzip checksums.
//! The registry document compared against is a fixed one, for manifest confusion.
#![no_main]

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use libfuzzer_sys::fuzz_target;
use mcp_audit::content::{analyze, Limits};
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let tgz = if mode & 1 == 0 {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(rest).unwrap();
        e.finish().unwrap()
    } else {
        rest.to_vec()
    };
    let doc = json!({
        "name": "demo", "version": "1.0.0",
        "scripts": {"test": "node test.js"},
        "bin": {"demo": "cli.js"},
        "dependencies": {"a": "^1.0.0"}
    });
    // Small limits so that caps are reached within a fuzzing input's size.
    let limits = Limits {
        max_compressed: 1 << 20,
        max_uncompressed: 4 << 20,
        max_ratio: 100,
        max_files: 200,
        max_file_scan: 64 << 10,
    };
    let version_doc = if mode & 2 == 0 {
        doc
    } else {
        serde_json::Value::Null
    };
    let report = analyze(&tgz, &version_doc, &limits);
    // The report is serialised into the scan's JSON; that must hold for whatever was found.
    let _ = serde_json::to_string(&report).unwrap();
    assert!(
        !report.errors.iter().any(|e| e.contains("panicked")),
        "analysis panicked: {:?}",
        report.errors
    );
});
