//! `mcp-audit verify-bundle`, the sigstore-conformance CLI protocol, driven over the whole
//! bundle-verify corpus through the real binary: exit 0 exactly for the cases that must pass.

use std::path::Path;

use crate::support::fixtures::{DEFAULT_IDENTITY, DEFAULT_ISSUER};
use crate::support::*;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/real/conformance/bundle-verify"
);

fn case_command(dir: &Path) -> assert_cmd::Command {
    let mut cmd = mcp_audit();
    cmd.arg("verify-bundle")
        .arg("--bundle")
        .arg(dir.join("bundle.sigstore.json"));
    if dir.join("trusted_root.json").exists() {
        cmd.arg("--trusted-root").arg(dir.join("trusted_root.json"));
    }
    if dir.join("key.pub").exists() {
        cmd.arg("--key").arg(dir.join("key.pub"));
    } else {
        let read = |f: &str, default: &str| {
            std::fs::read_to_string(dir.join(f))
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|_| default.to_string())
        };
        cmd.arg("--certificate-identity")
            .arg(read("identity", DEFAULT_IDENTITY))
            .arg("--certificate-oidc-issuer")
            .arg(read("issuer", DEFAULT_ISSUER));
    }
    let artifact = dir.join("artifact");
    if artifact.exists() {
        cmd.arg(artifact);
    } else {
        cmd.arg(Path::new(CORPUS).join("a.txt"));
    }
    cmd
}

#[test]
fn every_conformance_case_through_the_cli() {
    let mut dirs: Vec<_> = std::fs::read_dir(CORPUS)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 70);
    let mut wrong = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let out = run(case_command(dir));
        let want_fail = name.ends_with("_fail");
        let failed = out.code != 0;
        if failed != want_fail {
            wrong.push(format!("{name}: exit {} {}", out.code, out.stderr.trim()));
        }
        if failed {
            assert_eq!(
                out.stderr.trim().lines().count(),
                1,
                "{name}: one-line reason"
            );
            assert!(
                out.stderr.starts_with("mcp-audit: "),
                "{name}: {}",
                out.stderr
            );
        } else {
            assert!(
                out.stdout.starts_with("verified: "),
                "{name}: {}",
                out.stdout
            );
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cases wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn digest_form_and_bad_inputs() {
    let dir = Path::new(CORPUS).join("happy-path-v0.3");
    let digest = {
        let out = std::process::Command::new("sha256sum")
            .arg(Path::new(CORPUS).join("a.txt"))
            .output()
            .expect("sha256sum");
        String::from_utf8(out.stdout)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    let mut cmd = mcp_audit();
    cmd.args(["verify-bundle", "--bundle"])
        .arg(dir.join("bundle.sigstore.json"))
        .args([
            "--certificate-identity",
            DEFAULT_IDENTITY,
            "--certificate-oidc-issuer",
            DEFAULT_ISSUER,
        ])
        .arg(format!("sha256:{digest}"));
    let out = run(cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);

    // Wrong identity: fails, naming why.
    let mut cmd = mcp_audit();
    cmd.args(["verify-bundle", "--bundle"])
        .arg(dir.join("bundle.sigstore.json"))
        .args([
            "--certificate-identity",
            "https://example.com/someone-else",
            "--certificate-oidc-issuer",
            DEFAULT_ISSUER,
        ])
        .arg(Path::new(CORPUS).join("a.txt"));
    let out = run(cmd);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("identity"), "{}", out.stderr);

    // Neither policy given: a usage error from clap.
    let mut cmd = mcp_audit();
    cmd.args(["verify-bundle", "--bundle"])
        .arg(dir.join("bundle.sigstore.json"))
        .arg(Path::new(CORPUS).join("a.txt"));
    assert_eq!(run(cmd).code, 2);

    // A bundle file that does not exist.
    let mut cmd = mcp_audit();
    cmd.args([
        "verify-bundle",
        "--bundle",
        "/no/such/bundle.json",
        "--key",
        "/no/key.pem",
        "sha256:00",
    ]);
    let out = run(cmd);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("/no/such/bundle.json"),
        "{}",
        out.stderr
    );
}
