//! Python distribution content: the first byte picks the format (wheel zip, sdist tar that is
//! gzipped here first so the fuzzer works on tar headers, raw `.tar.gz`, legacy `.zip` sdist)
//! and the rest is the archive. Small limits so caps are reached within an input's size.
#![no_main]

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use libfuzzer_sys::fuzz_target;
use mcp_audit::content::python::analyze_dist;
use mcp_audit::content::Limits;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (name, bytes) = match mode & 3 {
        0 => ("demo_server-1.0-py3-none-any.whl", rest.to_vec()),
        1 => {
            let mut e = GzEncoder::new(Vec::new(), Compression::fast());
            e.write_all(rest).unwrap();
            ("demo_server-1.0.tar.gz", e.finish().unwrap())
        }
        2 => ("demo_server-1.0.tar.gz", rest.to_vec()),
        _ => ("demo_server-1.0.zip", rest.to_vec()),
    };
    let limits = Limits {
        max_compressed: 1 << 20,
        max_uncompressed: 4 << 20,
        max_ratio: 100,
        max_files: 200,
        max_file_scan: 64 << 10,
    };
    let report = analyze_dist(name, &bytes, &limits);
    let _ = serde_json::to_string(&report).unwrap();
    assert!(
        !report.errors.iter().any(|e| e.contains("panicked")),
        "analysis panicked: {:?}",
        report.errors
    );
    assert!(report.uncompressed_bytes <= limits.uncompressed_budget(bytes.len() as u64) + 1);
});
