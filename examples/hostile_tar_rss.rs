//! Peak memory of the content analysis on the archives of issue K3: a 5.7 MB tgz whose GNU
//! long-name (or PAX) record claims 480 MiB, all of it present. Before the header cap this took
//! 3.4 GB (PAX: 540 MB) and wrote 1.5 GB of JSON. Prints the process's peak RSS (VmHWM) after
//! building the archive and after analysing it. Linux only (reads /proc/self/status).
//! Run: cargo run --release --example hostile_tar_rss [-- L|x]

use std::io::Write;
use std::time::Instant;

use flate2::write::GzEncoder;
use flate2::Compression;
use mcp_audit::content::{analyze, Limits};
use serde_json::Value;

const HUGE_RECORD: u64 = 480 * 1024 * 1024;

fn gz(bytes: &[u8], level: Compression) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), level);
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn file(b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
    let mut h = tar::Header::new_ustar();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, path, data).unwrap();
}

/// Same construction as the regression test in tests/content.rs: the 480 MiB are one gzip
/// member of 1 MiB of zeros repeated, and 5.2 MB of noise raise the ratio cap above them.
fn hostile(kind: u8) -> Vec<u8> {
    let mut h = if kind == b'x' {
        tar::Header::new_ustar()
    } else {
        tar::Header::new_gnu()
    };
    h.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
    h.set_entry_type(tar::EntryType::new(kind));
    h.set_size(HUGE_RECORD);
    h.set_cksum();
    let mut tgz = gz(h.as_bytes(), Compression::default());
    let zeros = gz(&[0u8; 1 << 20], Compression::default());
    for _ in 0..HUGE_RECORD >> 20 {
        tgz.extend_from_slice(&zeros);
    }
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let noise: Vec<u8> = (0..5_200_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let mut b = tar::Builder::new(Vec::new());
    file(&mut b, "package/index.js", b"module.exports = 1;\n");
    file(
        &mut b,
        "package/package.json",
        br#"{"name":"demo","version":"1.0.0"}"#,
    );
    file(&mut b, "package/blob.bin", &noise);
    tgz.extend(gz(&b.into_inner().unwrap(), Compression::none()));
    tgz
}

fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let kind = match std::env::args().nth(1).as_deref() {
        Some("x") => b'x',
        _ => b'L',
    };
    let tgz = hostile(kind);
    let before = vm_hwm_kib();
    let start = Instant::now();
    let report = analyze(&tgz, &Value::Null, &Limits::default());
    let elapsed = start.elapsed();
    let json = serde_json::to_string(&report).unwrap();
    let after = vm_hwm_kib();
    println!(
        "record type {}: tgz {} bytes, tar {} bytes read, {:.2?}",
        kind as char,
        tgz.len(),
        report.tar_bytes,
        elapsed
    );
    println!(
        "peak RSS (VmHWM): {} KiB after building the archive, {} KiB after the analysis",
        before, after
    );
    println!(
        "report: complete={}, {} path problem(s), JSON {} bytes",
        report.complete,
        report.path_problems.len(),
        json.len()
    );
    for p in &report.path_problems {
        println!(
            "  {:?} {}: {}",
            p.kind,
            p.path,
            p.detail.as_deref().unwrap_or("")
        );
    }
}
