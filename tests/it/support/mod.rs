//! Shared helpers for the integration tests: the loopback registry, Verdaccio, the real fixtures
//! and the binary under test. Each area uses a different subset.
#![allow(dead_code, unused_imports)]

pub mod fixtures;
pub mod mcp_registry;
pub mod pyindex;
pub mod pypiserver;
pub mod registry;
pub mod scanner;
pub mod tool_server;
pub mod tree_sets;
pub mod verdaccio;

use assert_cmd::Command;

pub use registry::{Fault, TestRegistry};

/// The fixed clock every test scans at, so release ages and snapshots are stable.
pub const NOW: &str = "2026-11-22T00:00:00Z";

/// The fixture registry, which like registry.npmjs.org answers the advisories bulk request (with
/// no advisories unless a test sets some; `clear_advisories` makes it answer 405 like a mirror).
pub fn fixture_registry() -> TestRegistry {
    let reg = TestRegistry::start(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/registry"));
    reg.set_advisories(serde_json::json!({}));
    reg
}

/// `mcp-audit` with a clean environment: no proxy (loopback traffic must not leave the machine)
/// and no npm configuration from the developer's machine.
pub fn mcp_audit() -> Command {
    let mut cmd = Command::cargo_bin("mcp-audit").expect("binary builds");
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("NO_PROXY", "*").env("COLUMNS", "100");
    // Never the developer's own cache, and one directory per command: a cached tarball is used
    // without a request, so a shared one would let one test's download answer another's (a
    // test of the cache itself passes its own `--cache-dir`, which wins over the environment).
    cmd.env("MCP_AUDIT_CACHE_DIR", test_cache_dir());
    cmd
}

fn test_cache_dir() -> std::path::PathBuf {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary cache directory"))
        .path()
        .join(format!("run-{n}"))
}

/// `mcp-audit scan` against `reg`, at the fixed clock, with fast retries.
pub fn scan(reg: &TestRegistry, args: &[&str]) -> Command {
    let mut cmd = mcp_audit();
    cmd.arg("scan").args(args).args([
        "--registry",
        &reg.url(),
        "--now",
        NOW,
        "--retry-base-ms",
        "10",
    ]);
    cmd
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(mut cmd: Command) -> Output {
    let out = cmd.output().expect("binary runs");
    Output {
        code: out.status.code().expect("exited normally"),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

impl Output {
    /// Fails if stdout or stderr holds any of `secrets`, whole or in part.
    pub fn assert_no_leak(&self, secrets: &[&str]) {
        for secret in secrets {
            assert_no_leak("stdout", &self.stdout, secret);
            assert_no_leak("stderr", &self.stderr, secret);
        }
    }
}

/// Fails if `text` holds `secret`, or its last 12 characters: a redaction that keeps the end of a
/// token still leaks enough of it to match against.
pub fn assert_no_leak(what: &str, text: &str, secret: &str) {
    assert!(
        !text.contains(secret),
        "a secret leaks into {what}:\n{text}"
    );
    let tail = &secret[secret.len().saturating_sub(12)..];
    assert!(
        !text.contains(tail),
        "part of a secret leaks into {what}:\n{text}"
    );
}

/// What has a registry URL: a loopback registry, or the URL itself.
pub trait RegistryUrl {
    fn registry_url(&self) -> String;
}

impl RegistryUrl for TestRegistry {
    fn registry_url(&self) -> String {
        self.url()
    }
}

impl RegistryUrl for String {
    fn registry_url(&self) -> String {
        self.clone()
    }
}

/// `//host:port/` of a registry, the nerf-dart form npm keys credentials by.
pub fn nerf(reg: &impl RegistryUrl) -> String {
    reg.registry_url().trim_start_matches("http:").to_string()
}

/// A scratch npm project: a directory with an empty package.json.
pub fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("package.json"), "{}").unwrap();
    dir
}

pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", out.stdout))
}

/// Rule ids in a JSON list of findings, inconclusive rules or passed rule ids.
pub fn rule_ids(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .expect("a JSON list")
        .iter()
        .map(|f| f.get("rule").unwrap_or(f).as_str().unwrap().to_string())
        .collect()
}

/// The reason the first package of a JSON report gives for leaving `rule` inconclusive.
pub fn inconclusive_reason(out: &Output, rule: &str) -> Option<String> {
    json(out)["packages"][0]["inconclusive"]
        .as_array()?
        .iter()
        .find(|i| i["rule"] == rule)
        .map(|i| i["reason"].as_str().unwrap_or_default().to_string())
}

/// Every file below `dir`, at any depth.
pub fn files_below(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Rule ids of the findings of package `i` in a JSON report.
pub fn finding_ids(report: &serde_json::Value, i: usize) -> Vec<String> {
    rule_ids(&report["packages"][i]["findings"])
}

pub fn inconclusive_ids(report: &serde_json::Value, i: usize) -> Vec<String> {
    rule_ids(&report["packages"][i]["inconclusive"])
}

/// Points a `config` run at the loopback npm registry and Python index, at the fixed clock with
/// fast retries, and keeps the machine's uv configuration and netrc out of it.
pub fn loopback_indexes(cmd: &mut Command, npm: &TestRegistry, pyindex: &TestRegistry) {
    cmd.args([
        "--registry",
        &npm.url(),
        "--index-url",
        &format!("{}simple/", pyindex.url()),
        "--now",
        NOW,
        "--retry-base-ms",
        "10",
    ])
    .env("UV_NO_CONFIG", "1")
    .env("NETRC", "/nonexistent");
}
