//! `scan pypi:NAME` end to end against a loopback Python index (simple API JSON and HTML, JSON
//! API, Integrity API) with fault injection, private-index credentials and several indexes.

use base64::Engine;
use serde_json::json;

use crate::support::pyindex::{self, json_api, sdist, serve, PyFile, Simple};
use crate::support::*;

fn pyscan(index: &str, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = mcp_audit();
    cmd.arg("scan").args(args).args([
        "--index-url",
        index,
        "--now",
        NOW,
        "--retry-base-ms",
        "10",
        "--retries",
        "1",
        "--no-policy",
    ]);
    // The developer's own uv and pip settings must not leak into a test.
    for var in [
        "UV_INDEX_URL",
        "UV_DEFAULT_INDEX",
        "UV_INDEX",
        "UV_EXTRA_INDEX_URL",
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
        "PIP_CONFIG_FILE",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("UV_NO_CONFIG", "1").env("NETRC", "/nonexistent");
    cmd
}

fn index_of(reg: &TestRegistry) -> String {
    format!("{}simple/", reg.url())
}

fn two_releases() -> Vec<PyFile> {
    vec![
        PyFile::new(
            "demo_mcp-1.0.tar.gz",
            "1.0",
            sdist("demo-mcp", "1.0", &["mcp>=1.0,<2"], &[]),
            "2026-01-01T00:00:00Z",
        ),
        PyFile::new(
            "demo_mcp-1.1.tar.gz",
            "1.1",
            sdist("demo-mcp", "1.1", &["mcp>=1.0,<2", "httpx"], &[]),
            "2026-06-01T00:00:00Z",
        ),
    ]
}

fn reason_of<'a>(report: &'a serde_json::Value, rule: &str) -> &'a str {
    report["packages"][0]["inconclusive"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["rule"] == rule)
        .and_then(|i| i["reason"].as_str())
        .unwrap_or_else(|| panic!("{rule} is not inconclusive: {report:#}"))
}

#[test]
fn a_pypi_project_is_read_from_the_simple_and_json_apis() {
    let reg = TestRegistry::start_empty();
    let files = two_releases();
    let api = json_api(
        "demo-mcp",
        "1.1",
        &files,
        json!({
            "requires_dist": ["mcp>=1.0,<2", "httpx"],
            "project_urls": { "Source": "https://github.com/acme/demo-mcp" },
            "description": "# demo\n<!-- mcp-name: io.github.acme/demo-mcp -->\n",
        }),
    );
    let mut api = api;
    api["vulnerabilities"] =
        json!([{ "id": "PYSEC-2026-1", "aliases": [], "fixed_in": ["1.2"], "withdrawn": null }]);
    serve(
        &reg,
        "demo-mcp",
        &files,
        Simple::Json("1.1"),
        None,
        Some(api),
    );
    let out = run(pyscan(
        &index_of(&reg),
        &["pypi:Demo_MCP", "--format", "json"],
    ));
    // Score 65 with the findings below passes the default gate.
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = json(&out);
    let p = &r["packages"][0];
    assert_eq!(p["ecosystem"], "pypi", "{p:#}");
    assert_eq!(p["name"], "demo-mcp");
    assert_eq!(p["version"], "1.1");
    let f = &p["facts"];
    assert_eq!(f["pypi"]["simple_format"], "json");
    assert_eq!(f["pypi"]["roles"], json!(["Owner:alice"]));
    assert_eq!(f["maintainers"]["count"], 1);
    assert_eq!(
        f["metadata"]["repository"],
        "https://github.com/acme/demo-mcp"
    );
    assert_eq!(f["metadata"]["mcp_name"], "io.github.acme/demo-mcp");
    assert_eq!(f["tarball"]["integrity"], "verified");
    assert_eq!(f["history"]["previous_version"], "1.0");
    assert_eq!(f["pypi"]["unbounded_requires"], json!(["httpx"]));
    let ids = finding_ids(&r, 0);
    assert!(ids.contains(&"pypi-vulnerable".to_string()), "{ids:?}");
    assert!(
        ids.contains(&"pypi-requires-unbounded".to_string()),
        "{ids:?}"
    );
    // npm mechanisms are not judged on a PyPI project at all.
    for npm_only in ["signatures-missing", "token-publish", "no-shrinkwrap"] {
        assert!(!ids.contains(&npm_only.to_string()));
        assert!(!inconclusive_ids(&r, 0).contains(&npm_only.to_string()));
    }
    // As on the PyPI reachable here: simple API 1.1 and an Integrity API that answers 404.
    let why = reason_of(&r, "provenance-missing");
    assert!(
        why.contains("404") && why.contains("Integrity API"),
        "{why}"
    );
    let why = reason_of(&r, "pypi-project-quarantined");
    assert!(why.contains("PEP 792"), "{why}");
    // One round trip each for the page, the JSON API, the provenance of this and the previous
    // release, and the file.
    let accept = reg
        .requests()
        .iter()
        .find(|q| q.raw_path == "/simple/demo-mcp/")
        .and_then(|q| q.header("accept").map(str::to_string))
        .unwrap();
    assert!(
        accept.starts_with("application/vnd.pypi.simple.v1+json"),
        "{accept}"
    );
    assert_eq!(reg.hits("/packages/demo_mcp-1.1.tar.gz"), 1);
    assert_eq!(reg.hits("/packages/demo_mcp-1.0.tar.gz"), 0);
}

#[test]
fn pep503_html_pins_yanked_and_status_are_read() {
    let reg = TestRegistry::start_empty();
    let mut files = two_releases();
    files[0] = files[0].clone().yanked("broken build");
    serve(
        &reg,
        "demo-mcp",
        &files,
        Simple::Html,
        Some("archived"),
        None,
    );
    let out = run(pyscan(
        &index_of(&reg),
        &["pypi:demo-mcp==1.0", "--format", "json"],
    ));
    assert_ne!(out.code, 3, "{}{}", out.stdout, out.stderr);
    let r = json(&out);
    assert_eq!(r["packages"][0]["facts"]["pypi"]["simple_format"], "html");
    let ids = finding_ids(&r, 0);
    assert!(ids.contains(&"pypi-yanked".to_string()), "{ids:?}");
    assert!(
        ids.contains(&"pypi-project-inactive".to_string()),
        "{ids:?}"
    );
    // No JSON API: what only it tells is unknown, with the reason.
    let why = reason_of(&r, "pypi-vulnerable");
    assert!(why.contains("404"), "{why}");
    // Unpinned, the yanked release is skipped as pip and uv skip it.
    let out = run(pyscan(
        &index_of(&reg),
        &["pypi:demo-mcp", "--format", "json"],
    ));
    assert_eq!(
        json(&out)["packages"][0]["version"],
        "1.1",
        "{}",
        out.stderr
    );
}

#[test]
fn provenance_dropped_after_an_attested_release_is_a_trust_downgrade() {
    let reg = TestRegistry::start_empty();
    let mut files = two_releases();
    // Simple API 1.4 lists provenance per file, so its absence is known.
    files[0] = files[0].clone().provenance(b"{}".to_vec());
    serve(
        &reg,
        "demo-mcp",
        &files,
        Simple::Json("1.4"),
        Some("active"),
        None,
    );
    let out = run(pyscan(
        &index_of(&reg),
        &["pypi:demo-mcp", "--format", "json"],
    ));
    let r = json(&out);
    let f = &r["packages"][0]["facts"];
    assert_eq!(f["provenance"]["status"], "absent", "{f:#}");
    assert_eq!(f["trust"]["earlier_best_level"], "trusted-publisher");
    let ids = finding_ids(&r, 0);
    assert!(ids.contains(&"trust-downgrade".to_string()), "{ids:?}");
    assert!(ids.contains(&"provenance-missing".to_string()), "{ids:?}");
    // The previous release's provenance was read off the page, not fetched.
    assert_eq!(
        reg.hits("/integrity/demo-mcp/1.0/demo_mcp-1.0.tar.gz/provenance"),
        0
    );
}

#[test]
fn a_file_that_does_not_match_its_sha256_is_not_read() {
    let reg = TestRegistry::start_empty();
    let mut files = two_releases();
    files[1].listed_sha256 = Some("00".repeat(32));
    serve(&reg, "demo-mcp", &files, Simple::Json("1.1"), None, None);
    let out = run(pyscan(
        &index_of(&reg),
        &["pypi:demo-mcp", "--format", "json"],
    ));
    let r = json(&out);
    assert!(finding_ids(&r, 0).contains(&"tarball-integrity-mismatch".to_string()));
    assert!(reason_of(&r, "pypi-pth-exec").contains("sha256"));
}

#[test]
fn hostile_and_failing_indexes_give_one_line_errors_and_the_run_goes_on() {
    let reg = TestRegistry::start_empty();
    serve(
        &reg,
        "good",
        &two_releases(),
        Simple::Json("1.1"),
        None,
        None,
    );
    reg.add_file(
        "/simple/bad-json/",
        b"{\"files\": 7".to_vec(),
        "application/vnd.pypi.simple.v1+json",
    );
    reg.add_file("/simple/not-a-page/", b"just text".to_vec(), "text/plain");
    reg.fault(
        "/simple/down/",
        Fault::Status {
            code: 500,
            times: 10,
        },
    );
    reg.add_file(
        "/simple/huge/",
        format!("<a href=x>{}</a>", "y".repeat(2 * 1024 * 1024)).into_bytes(),
        "text/html",
    );
    let out = run(pyscan(
        &index_of(&reg),
        &[
            "pypi:bad-json",
            "pypi:not-a-page",
            "pypi:down",
            "pypi:huge",
            "pypi:missing",
            "pypi:good",
            "--max-body-mb",
            "1",
            "--format",
            "json",
        ],
    ));
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    let r = json(&out);
    let errs: Vec<String> = (0..5)
        .map(|i| {
            r["packages"][i]["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert!(errs[0].contains("malformed"), "{errs:?}");
    assert!(errs[1].contains("neither"), "{errs:?}");
    assert!(errs[2].contains("500"), "{errs:?}");
    assert!(errs[3].contains("--max-body-mb"), "{errs:?}");
    assert!(errs[4].contains("does not exist"), "{errs:?}");
    assert_eq!(r["packages"][5]["version"], "1.1");
    assert_eq!(r["packages"][0]["ecosystem"], "pypi");
}

#[test]
fn private_index_credentials_go_to_their_host_only_and_never_show() {
    let password = "s3cret-index-password-42";
    let index = TestRegistry::start_empty();
    let files_host = TestRegistry::start_empty();
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("ci:{password}"))
    );
    index.require_authorization(&basic);
    let files = two_releases();
    // The page points at a file host of its own, as PyPI's points at files.pythonhosted.org.
    for f in &files {
        files_host.add_file(
            &format!("/packages/{}", f.filename),
            f.bytes.clone(),
            "application/octet-stream",
        );
    }
    let page = json!({
        "meta": { "api-version": "1.1" },
        "name": "private-mcp",
        "files": files.iter().map(|f| json!({
            "filename": f.filename.replace("demo_mcp", "private_mcp"),
            "url": format!("{}packages/{}", files_host.url(), f.filename),
            "hashes": { "sha256": pyindex::sha256_hex(&f.bytes) },
            "upload-time": f.upload_time,
        })).collect::<Vec<_>>(),
    });
    index.add_file(
        "/simple/private-mcp/",
        page.to_string().into_bytes(),
        "application/vnd.pypi.simple.v1+json",
    );
    let url = index_of(&index).replace("http://", &format!("http://ci:{password}@"));

    let out = run(pyscan(
        &url,
        &["pypi:private-mcp", "--format", "json", "-v"],
    ));
    assert_ne!(out.code, 3, "{}{}", out.stdout, out.stderr);
    out.assert_no_leak(&[password]);
    assert!(index
        .authorizations()
        .iter()
        .all(|a| a.as_deref() == Some(basic.as_str())));
    assert!(files_host.hits("/packages/demo_mcp-1.1.tar.gz") == 1);
    assert!(
        files_host.authorizations().iter().all(Option::is_none),
        "a credential reached another host"
    );

    // A wrong password: 401, said in one line, still without the secret.
    let wrong = index_of(&index).replace("http://", "http://ci:not-the-password-77@");
    let out = run(pyscan(&wrong, &["pypi:private-mcp"]));
    assert_eq!(out.code, 3);
    assert!(out.stderr.contains("401"), "{}", out.stderr);
    out.assert_no_leak(&["not-the-password-77", password]);

    // The same credential from uv's variables for a named index (no --index-url here).
    let mut cmd2 = mcp_audit();
    cmd2.args([
        "scan",
        "pypi:private-mcp",
        "--format",
        "json",
        "--now",
        NOW,
        "--no-policy",
    ])
    .env("UV_NO_CONFIG", "1")
    .env("NETRC", "/nonexistent")
    .env_remove("PIP_INDEX_URL")
    .env_remove("UV_INDEX_URL")
    .env("UV_DEFAULT_INDEX", format!("corp={}", index_of(&index)))
    .env("UV_INDEX_CORP_USERNAME", "ci")
    .env("UV_INDEX_CORP_PASSWORD", password);
    let out = run(cmd2);
    assert_ne!(out.code, 3, "{}{}", out.stdout, out.stderr);
    out.assert_no_leak(&[password]);
}

#[test]
fn a_name_on_two_indexes_is_dependency_confusion() {
    let private = TestRegistry::start_empty();
    let public = TestRegistry::start_empty();
    serve(
        &private,
        "corp-mcp",
        &two_releases(),
        Simple::Json("1.1"),
        None,
        None,
    );
    serve(
        &public,
        "corp-mcp",
        &two_releases()[..1],
        Simple::Html,
        None,
        None,
    );
    let out = run(pyscan(
        &index_of(&private),
        &[
            "pypi:corp-mcp",
            "--extra-index-url",
            &index_of(&public),
            "--format",
            "json",
        ],
    ));
    let r = json(&out);
    assert!(
        finding_ids(&r, 0).contains(&"pypi-dependency-confusion".to_string()),
        "{r:#}"
    );
    // Without the extra index, the check passes.
    let out = run(pyscan(
        &index_of(&private),
        &["pypi:corp-mcp", "--format", "json"],
    ));
    assert!(!finding_ids(&json(&out), 0).contains(&"pypi-dependency-confusion".to_string()));
}

#[test]
fn bad_pypi_specs_and_index_urls_are_usage_errors() {
    // Specifiers are PEP 440 ranges now; one that is not PEP 440 is still a usage error, on one
    // line.
    let out = run(pyscan("https://pypi.org/simple/", &["pypi:demo>=1.0.x"]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("PEP 440"), "{}", out.stderr);
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
    let out = run(pyscan(
        "http://u:pw-secret-1@pkgs.example/simple/",
        &["pypi:demo"],
    ));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("plain http"), "{}", out.stderr);
    out.assert_no_leak(&["pw-secret-1"]);
}

/// The real pypi-attestations 0.0.19 sdist and its real PEP 740 provenance (public-good root).
fn attested_release() -> PyFile {
    PyFile::new(
        "pypi_attestations-0.0.19.tar.gz",
        "0.0.19",
        pyindex::pep740("pypi_attestations-0.0.19.tar.gz"),
        "2024-12-01T00:00:00Z",
    )
    .provenance(pyindex::pep740(
        "pypi_attestations-0.0.19.tar.gz.provenance",
    ))
}

#[test]
fn real_pep740_provenance_verifies_and_names_its_publisher() {
    let reg = TestRegistry::start_empty();
    let files = vec![attested_release()];
    let api = json_api(
        "pypi-attestations",
        "0.0.19",
        &files,
        json!({ "project_urls": { "Source": "https://github.com/trailofbits/pypi-attestations" } }),
    );
    serve(
        &reg,
        "pypi-attestations",
        &files,
        Simple::Json("1.1"),
        None,
        Some(api),
    );
    let out = run(pyscan(
        &index_of(&reg),
        &["pypi:pypi-attestations", "--format", "json"],
    ));
    let r = json(&out);
    let f = &r["packages"][0]["facts"];
    assert_eq!(
        f["provenance"]["status"], "verified",
        "{f:#}\n{}",
        out.stderr
    );
    assert_eq!(f["pypi"]["publisher_kind"], "GitHub");
    assert_eq!(
        f["provenance"]["source_repository"],
        "https://github.com/trailofbits/pypi-attestations"
    );
    assert_eq!(f["provenance"]["repository_matches"], true);
    assert_eq!(f["publish"]["method"], "trusted-publisher");
    assert!(!finding_ids(&r, 0).contains(&"provenance-repo-mismatch".to_string()));

    // The same provenance served for another file: its subject names a different distribution.
    let reg = TestRegistry::start_empty();
    let mut other = PyFile::new(
        "pypi_attestations-0.0.20.tar.gz",
        "0.0.20",
        sdist("pypi-attestations", "0.0.20", &[], &[]),
        "2025-01-01T00:00:00Z",
    );
    other.provenance = Some(pyindex::pep740(
        "pypi_attestations-0.0.19.tar.gz.provenance",
    ));
    serve(
        &reg,
        "pypi-attestations",
        &[attested_release(), other],
        Simple::Json("1.1"),
        None,
        None,
    );
    let out = run(pyscan(
        &index_of(&reg),
        &["pypi:pypi-attestations", "--format", "json"],
    ));
    let r = json(&out);
    assert_eq!(r["packages"][0]["version"], "0.0.20");
    assert!(
        finding_ids(&r, 0).contains(&"provenance-invalid".to_string()),
        "{r:#}"
    );

    // A provenance that is not JSON is an invalid provenance, not a crash.
    let reg = TestRegistry::start_empty();
    let mut broken = attested_release();
    broken.provenance = Some(b"<html>nope".to_vec());
    serve(
        &reg,
        "pypi-attestations",
        &[broken],
        Simple::Json("1.1"),
        None,
        None,
    );
    let out = run(pyscan(
        &index_of(&reg),
        &["pypi:pypi-attestations", "--format", "json"],
    ));
    assert_ne!(out.code, 3, "{}", out.stderr);
}

fn ranged_releases() -> Vec<PyFile> {
    let mut files = two_releases();
    for (v, when) in [
        ("1.2", "2026-07-01T00:00:00Z"),
        ("2.0rc1", "2026-08-01T00:00:00Z"),
    ] {
        files.push(PyFile::new(
            &format!("demo_mcp-{v}.tar.gz"),
            v,
            sdist("demo-mcp", v, &["mcp>=1.0,<2"], &[]),
            when,
        ));
    }
    files[2] = files[2].clone().yanked("broken build");
    files
}

/// An index serving demo-mcp's `ranged_releases`.
fn ranged_index() -> TestRegistry {
    let reg = TestRegistry::start_empty();
    serve(
        &reg,
        "demo-mcp",
        &ranged_releases(),
        Simple::Json("1.1"),
        None,
        None,
    );
    reg
}

/// PEP 440 specifiers pick the highest non-yanked release they admit, pre-releases only when
/// named, as uv does; the report says it was resolved from a range.
#[test]
fn pep440_specifiers_pick_the_highest_live_matching_release() {
    let reg = ranged_index();
    for (spec, want) in [
        ("pypi:demo-mcp>=1.0,<2", "1.1"),
        ("pypi:demo-mcp~=1.0", "1.1"),
        ("pypi:demo-mcp==1.*", "1.1"),
        ("pypi:demo-mcp>=2.0rc1", "2.0rc1"),
        ("pypi:demo-mcp", "1.1"),
    ] {
        let out = run(pyscan(&index_of(&reg), &[spec, "--format", "json"]));
        let r = json(&out);
        assert_eq!(r["packages"][0]["version"], want, "{spec}: {r:#}");
    }
    // Only the yanked 1.2 and the unnamed pre-release lie in this range: nothing to install.
    let out = run(pyscan(&index_of(&reg), &["pypi:demo-mcp>1.1,<2"]));
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("matches `>1.1, <2`"), "{}", out.stderr);
}

/// `uvx --from 'pkg>=1,<2'` and `pipx run --spec 'pkg~=1.0'` resolve like uv and are unpinned
/// launches; `uvx pkg@1.0` is pinned.
#[test]
fn ranged_uvx_and_pipx_launches_resolve_and_are_unpinned() {
    let reg = ranged_index();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("claude_desktop_config.json");
    let cfg = json!({ "mcpServers": {
        "ranged-uvx": { "command": "uvx", "args": ["--from", "demo-mcp>=1.0,<2", "demo"] },
        "compatible-pipx": { "command": "pipx", "args": ["run", "--spec", "demo-mcp~=1.0", "demo"] },
        "pinned-uvx": { "command": "uvx", "args": ["demo-mcp@1.0"] },
        "uv-run-module": { "command": "uv",
            "args": ["run", "--with", "demo-mcp>=1.0,<2", "python", "-m", "demo_mcp"] },
        "bare-module": { "command": "python3", "args": ["-m", "demo_mcp"] },
    }});
    std::fs::write(&file, cfg.to_string()).unwrap();
    let mut cmd = mcp_audit();
    cmd.current_dir(dir.path())
        .env("HOME", dir.path())
        .env("UV_NO_CONFIG", "1")
        .env("NETRC", "/nonexistent")
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_CONFIG_FILE")
        .env_remove("UV_INDEX_URL")
        .env_remove("UV_DEFAULT_INDEX")
        .args(["config", file.to_str().unwrap(), "--format", "json"])
        .args(["--index-url", &index_of(&reg), "--now", NOW, "--no-policy"]);
    let out = run(cmd);
    let r = json(&out);
    let servers: std::collections::BTreeMap<String, serde_json::Value> = r["files"][0]["servers"]
        .as_array()
        .unwrap_or_else(|| panic!("{r:#}"))
        .iter()
        .map(|s| (s["name"].as_str().unwrap().to_string(), s.clone()))
        .collect();
    for (name, version, unpinned) in [
        ("ranged-uvx", "1.1", true),
        ("compatible-pipx", "1.1", true),
        ("pinned-uvx", "1.0", false),
        ("uv-run-module", "1.1", true),
    ] {
        let s = &servers[name];
        assert_eq!(s["package"]["status"], "scanned", "{name}: {s:#}");
        assert_eq!(s["package"]["version"], version, "{name}: {s:#}");
        assert_eq!(
            rule_ids(&s["findings"]).contains(&"launch-unpinned".to_string()),
            unpinned,
            "{name}: {s:#}"
        );
    }
    // A module alone names no distribution: reported, with the reason, not guessed.
    let bare = &servers["bare-module"];
    assert_eq!(bare["package"]["status"], "not-scanned", "{bare:#}");
    assert!(
        bare["package"]["reason"]
            .as_str()
            .unwrap()
            .contains("module not mapped to a distribution"),
        "{bare:#}"
    );
}

/// What one `scan pypi:NAME` costs (docs/performance.md): the simple page and the JSON API
/// together, then the file with the provenance of it and of the release before. An index whose
/// simple API lists provenance (PEP 691 1.3+) answers both provenance questions in the page.
#[test]
fn a_pypi_scan_makes_five_requests_or_three_when_the_page_lists_provenance() {
    for (api, want) in [("1.1", 5), ("1.4", 3)] {
        let reg = TestRegistry::start_empty();
        let files = two_releases();
        let doc = json_api("demo-mcp", "1.1", &files, json!({}));
        serve(&reg, "demo-mcp", &files, Simple::Json(api), None, Some(doc));
        let out = run(pyscan(
            &index_of(&reg),
            &["pypi:demo-mcp", "--format", "json"],
        ));
        assert_ne!(out.code, 3, "{}", out.stderr);
        let paths: Vec<String> = reg.requests().iter().map(|q| q.raw_path.clone()).collect();
        assert_eq!(paths.len(), want, "simple API {api}: {paths:?}");
    }
}
