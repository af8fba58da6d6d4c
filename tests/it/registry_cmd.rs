//! `mcp-audit registry URL` against a loopback MCP Registry API serving the real server.json
//! files of fixtures/mcp-registry/server-json/ (see its SOURCES.md), with paging, a deleted and
//! a deprecated server, and a hostile registry; and `mcp-audit server` with its packages scanned
//! on the loopback npm registry (identity: mcpName and provenance repository).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::mcp_registry::{synthetic, Entry, Mode, TestMcpRegistry};
use crate::support::{fixture_registry, mcp_audit, nerf, run, Output, NOW};

fn registry_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/mcp-registry/server-json")
}

/// Every real server.json that is JSON, as registry entries, sorted by file name. The first is
/// marked deleted and the second deprecated.
fn real_entries() -> Vec<Entry> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(registry_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out: Vec<Entry> = files
        .iter()
        .filter_map(|f| {
            let bytes = std::fs::read(f).unwrap();
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
            serde_json::from_slice::<Value>(bytes).ok()
        })
        .map(|server| Entry {
            server,
            status: "active".into(),
            status_message: None,
        })
        .collect();
    assert!(out.len() >= 20, "{} files", out.len());
    out[0].status = "deleted".into();
    out[0].status_message = Some("malware: exfiltrates credentials".into());
    out[1].status = "deprecated".into();
    out[1].status_message = Some("use io.github.example/replacement".into());
    out
}

fn registry(reg: &TestMcpRegistry, args: &[&str]) -> Output {
    let mut cmd = mcp_audit();
    cmd.arg("registry")
        .arg(reg.url())
        .args(args)
        .args(["--now", NOW, "--retry-base-ms", "10"]);
    run(cmd)
}

fn json_of(out: &Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            out.stdout, out.stderr
        )
    })
}

fn rule_ids(entry: &Value, list: &str) -> Vec<String> {
    entry[list]
        .as_array()
        .unwrap_or_else(|| panic!("no `{list}` in {entry}"))
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn pages_through_the_real_files_and_reports_registry_status() {
    let entries = real_entries();
    let n = entries.len();
    let deleted = entries[0].server["name"].as_str().unwrap().to_string();
    let deprecated = entries[1].server["name"].as_str().unwrap().to_string();
    let reg = TestMcpRegistry::start(entries, Mode::Normal);
    // A high finding fails a gate of `--max-severity medium` (the default lets high pass).
    let out = registry(
        &reg,
        &[
            "--no-scan",
            "--page-size",
            "5",
            "--format",
            "json",
            "--max-severity",
            "medium",
        ],
    );
    let v = json_of(&out);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["kind"], "registry");
    assert_eq!(v["stopped"], Value::Null, "{}", out.stderr);
    assert_eq!(v["pages"], n.div_ceil(5));
    let servers = v["servers"].as_array().unwrap();
    assert_eq!(servers.len(), n);
    for s in servers {
        assert!(s["name"].is_string(), "{s}");
        assert!(s["registry_status"].is_string(), "{s}");
        assert!(
            s["file"].as_str().unwrap().contains("/v0.1/servers/"),
            "{s}"
        );
    }
    let by_name = |name: &str| {
        servers
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("{name} not listed"))
    };
    let d = by_name(&deleted);
    assert_eq!(d["registry_status"], "deleted");
    assert!(rule_ids(d, "findings").contains(&"server-registry-deleted".to_string()));
    assert_eq!(d["status"], "failed", "{d}");
    let msg = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "server-registry-deleted")
        .unwrap()["message"]
        .to_string();
    assert!(msg.contains("malware"), "{msg}");
    let p = by_name(&deprecated);
    assert!(rule_ids(p, "findings").contains(&"server-registry-deprecated".to_string()));
    // Active servers carry neither finding.
    for s in servers.iter().filter(|s| s["registry_status"] == "active") {
        let ids = rule_ids(s, "findings");
        assert!(
            !ids.iter().any(|i| i.starts_with("server-registry-")),
            "{ids:?}"
        );
    }
    assert_eq!(out.code, 1, "{}", out.stderr);
    // Each page asks for the next cursor, the latest versions, and deleted servers too.
    let queries = reg.queries();
    assert_eq!(queries.len(), n.div_ceil(5));
    assert!(queries[0].contains("limit=5") && !queries[0].contains("cursor="));
    assert!(queries[1].contains("cursor=c5"), "{queries:?}");
    assert!(queries
        .iter()
        .all(|q| q.contains("version=latest") && q.contains("include_deleted=true")));

    // The table and the CI formats render the same listing.
    for format in ["table", "markdown", "sarif", "github"] {
        let out = registry(
            &reg,
            &["--no-scan", "--format", format, "--max-severity", "medium"],
        );
        assert_eq!(out.code, 1, "{format}: {}", out.stderr);
        assert!(out.stdout.contains(&deleted), "{format}:\n{}", out.stdout);
    }
}

#[test]
fn limit_search_and_updated_since_reach_the_registry() {
    let reg = TestMcpRegistry::start(synthetic(30), Mode::Normal);
    let out = registry(
        &reg,
        &[
            "--no-scan",
            "--page-size",
            "5",
            "--limit",
            "7",
            "--format",
            "json",
        ],
    );
    let v = json_of(&out);
    assert_eq!(v["servers"].as_array().unwrap().len(), 7);
    assert_eq!(v["pages"], 2);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let q = reg.queries();
    assert!(
        q[1].contains("limit=2"),
        "the last page asks only for what is left: {q:?}"
    );

    let reg = TestMcpRegistry::start(synthetic(30), Mode::Normal);
    let out = registry(
        &reg,
        &[
            "--no-scan",
            "--search",
            "server-2",
            "--updated-since",
            "2025-10-01T00:00:00Z",
            "--format",
            "json",
        ],
    );
    let v = json_of(&out);
    // server-2 and server-20 … server-29.
    assert_eq!(v["servers"].as_array().unwrap().len(), 11);
    let q = &reg.queries()[0];
    assert!(q.contains("search=server-2") && q.contains("updated_since=2025-10-01T00%3A00%3A00Z"));

    // A time that is not RFC 3339 is a usage error, before any request.
    let reg = TestMcpRegistry::start(synthetic(1), Mode::Normal);
    let out = registry(&reg, &["--no-scan", "--updated-since", "yesterday"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--updated-since"), "{}", out.stderr);
    assert!(reg.queries().is_empty());

    // An empty listing is not an error.
    let reg = TestMcpRegistry::start(Vec::new(), Mode::Normal);
    let out = registry(&reg, &["--no-scan", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(json_of(&out)["servers"], json!([]));
}

/// A hostile registry is stopped with a one-line reason; what was listed before is audited, and
/// the run exits 3 because the listing is incomplete.
#[test]
fn a_hostile_registry_is_stopped_cleanly() {
    let cases: Vec<(Mode, Vec<&str>, &str, Option<usize>)> = vec![
        (Mode::CursorLoop, vec![], "cursor loop", Some(200)),
        (Mode::Repeats, vec![], "already listed", Some(100)),
        (Mode::EmptyWithCursor, vec![], "lists no server", Some(0)),
        (
            Mode::Body(b"<html>portal</html>".to_vec()),
            vec![],
            "HTML",
            Some(0),
        ),
        (
            Mode::Body(b"{\"servers\": [".to_vec()),
            vec![],
            "not JSON",
            Some(0),
        ),
        (
            Mode::Body(br#"{"servers": {"a": 1}}"#.to_vec()),
            vec![],
            "not a list",
            Some(0),
        ),
        (
            Mode::Body(br#"{"servers": [1, "x", null]}"#.to_vec()),
            vec![],
            "",
            None,
        ),
        (Mode::GarbageAt(1), vec![], "not JSON", Some(100)),
        (
            Mode::Huge(17 * 1024 * 1024),
            vec![],
            "more than 16777216 bytes",
            Some(0),
        ),
        (
            Mode::Slow(Duration::from_secs(5)),
            vec!["--timeout", "1", "--retries", "0"],
            "timed out",
            Some(0),
        ),
        (Mode::Status(503), vec!["--retries", "1"], "503", Some(0)),
        (
            Mode::Endless,
            vec!["--page-size", "1"],
            "1000 pages",
            Some(1000),
        ),
    ];
    for (mode, extra, why, listed) in cases {
        let label = format!("{mode:?}").chars().take(40).collect::<String>();
        let reg = TestMcpRegistry::start(synthetic(250), mode);
        let mut args = vec!["--no-scan", "--format", "json"];
        args.extend(extra);
        let out = registry(&reg, &args);
        let v = json_of(&out);
        if let Some(listed) = listed {
            assert_eq!(out.code, 3, "{label}: {}", out.stderr);
            let stopped = v["stopped"]
                .as_str()
                .unwrap_or_else(|| panic!("{label}: {v}"));
            assert!(stopped.contains(why), "{label}: {stopped}");
            assert_eq!(out.stderr.lines().count(), 1, "{label}: {}", out.stderr);
            assert!(out.stderr.contains(why), "{label}: {}", out.stderr);
            assert_eq!(v["servers"].as_array().unwrap().len(), listed, "{label}");
        } else {
            // Items that are not objects: each is a server that could not be read.
            assert_eq!(v["stopped"], Value::Null, "{label}");
            let servers = v["servers"].as_array().unwrap();
            assert_eq!(servers.len(), 3, "{label}");
            assert!(servers.iter().all(|s| s["status"] == "error"), "{v}");
            assert_eq!(out.code, 3, "{label}");
        }
    }
}

#[test]
fn a_plain_http_registry_off_loopback_is_refused() {
    let out = run({
        let mut cmd = mcp_audit();
        cmd.args(["registry", "http://registry.example.com", "--no-scan"]);
        cmd
    });
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("http"), "{}", out.stderr);
}

const TOKEN: &str = "npm_SERVERJSONtestTOKENsssssssssssssssssss9";

fn server_json(dir: &Path, file: &str, name: &str, repo: &str, packages: Value) -> PathBuf {
    let doc = json!({
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "name": name,
        "description": "Identity test.",
        "version": "1.0.0",
        "repository": {"url": repo, "source": "github"},
        "packages": packages,
    });
    let p = dir.join(file);
    std::fs::write(&p, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    p
}

fn npm_package(id: &str, version: &str, base: &str) -> Value {
    json!({"registryType": "npm", "registryBaseUrl": base, "identifier": id, "version": version,
           "transport": {"type": "stdio"}})
}

/// `server` without --no-scan: each npm package is fetched from its `registryBaseUrl` with the
/// credential npm's configuration has for that host (and no other), and its `mcpName` and
/// verified provenance are compared with the description.
#[test]
fn server_scans_packages_and_checks_identity() {
    let public = fixture_registry();
    let private = fixture_registry();
    private.require_bearer(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let npmrc = dir.path().join("npmrc");
    std::fs::write(&npmrc, format!("{}:_authToken={TOKEN}\n", nerf(&private))).unwrap();
    let fs_pkg = "@modelcontextprotocol/server-filesystem";
    // The PyPI package comes from a loopback index named by its registryBaseUrl.
    let index = crate::support::registry::TestRegistry::start_empty();
    let sdist = crate::support::pyindex::sdist("risky-mcp", "0.0.2", &[], &[]);
    crate::support::pyindex::serve(
        &index,
        "risky-mcp",
        &[crate::support::pyindex::PyFile::new(
            "risky_mcp-0.0.2.tar.gz",
            "0.0.2",
            sdist,
            "2026-01-01T00:00:00Z",
        )],
        crate::support::pyindex::Simple::Json("1.1"),
        None,
        None,
    );
    let files = [
        // The real server: mcpName and provenance repository both match.
        server_json(
            dir.path(),
            "real.json",
            "io.github.modelcontextprotocol/server-filesystem",
            "https://github.com/modelcontextprotocol/servers",
            json!([npm_package(fs_pkg, "2026.7.10", &private.url())]),
        ),
        // An impostor listing the same package: neither matches.
        server_json(
            dir.path(),
            "impostor.json",
            "io.github.impostor/server-filesystem",
            "https://github.com/impostor/servers",
            json!([npm_package(fs_pkg, "2026.7.10", &public.url())]),
        ),
        // A package with no mcpName: unknown, not a pass; PyPI is scanned, oci is not.
        server_json(
            dir.path(),
            "unnamed.json",
            "io.github.example/risky-mcp-server",
            "https://github.com/example/risky-mcp-server",
            json!([
                npm_package("risky-mcp-server", "0.0.2", &public.url()),
                {"registryType": "pypi", "identifier": "risky-mcp", "version": "0.0.2",
                 "registryBaseUrl": index.url().trim_end_matches('/'),
                 "transport": {"type": "stdio"}},
                {"registryType": "oci", "identifier": "docker.io/example/risky:0.0.2",
                 "transport": {"type": "stdio"}}
            ]),
        ),
    ];
    let mut cmd = mcp_audit();
    cmd.current_dir(dir.path())
        .env("HOME", dir.path())
        .arg("server")
        .args(&files)
        .args(["--userconfig"])
        .arg(&npmrc)
        .args([
            "--format",
            "json",
            "--now",
            NOW,
            "--retry-base-ms",
            "10",
            "--no-tarball",
        ]);
    let out = run(cmd);
    out.assert_no_leak(&[TOKEN]);
    let v = json_of(&out);
    let servers = v["servers"].as_array().unwrap();
    let sj = |i: usize| &servers[i]["facts"]["serverjson"];

    // real.json: the private registry was asked, with its token.
    let pkg = &servers[0]["packages"][0];
    assert_eq!(pkg["outcome"], "passed", "{pkg}");
    assert_eq!(pkg["report"]["name"], fs_pkg);
    assert!(pkg["report"]["registry"]
        .as_str()
        .unwrap()
        .contains(&private.url().trim_end_matches('/').to_string()));
    assert_eq!(sj(0)["package_names_server"], true, "{}", sj(0));
    assert_eq!(sj(0)["repository_matches_provenance"], true, "{}", sj(0));
    assert!(private
        .authorizations()
        .iter()
        .all(|a| a.as_deref() == Some(&format!("Bearer {TOKEN}") as &str)));
    // The public registry never saw the token.
    assert!(public.authorizations().iter().all(Option::is_none));

    // impostor.json: both identity rules fire.
    let ids = rule_ids(&servers[1], "findings");
    assert!(
        ids.contains(&"server-package-name-mismatch".to_string()),
        "{ids:?}"
    );
    assert!(
        ids.contains(&"server-repository-provenance-mismatch".to_string()),
        "{ids:?}"
    );

    // unnamed.json: no mcpName is unknown, and the PyPI package goes through the PyPI route.
    assert!(sj(2)["package_names_server"]["$unknown"]
        .as_str()
        .unwrap()
        .contains("declares no mcpName"));
    let pypi = &servers[2]["packages"][1];
    assert_ne!(pypi["outcome"], "not-scanned", "{pypi}");
    assert_eq!(pypi["report"]["name"], "risky-mcp", "{pypi}");
    assert_eq!(pypi["report"]["ecosystem"], "pypi", "{pypi}");
    assert!(
        pypi["report"]["registry"]
            .as_str()
            .unwrap()
            .starts_with(index.url().trim_end_matches('/')),
        "{pypi}"
    );
    assert!(pypi["report"]["error"].is_null(), "{pypi}");
    // The private npm token never went to the Python index.
    assert!(index.authorizations().iter().all(Option::is_none));
    assert!(servers[2]["packages"][2]["reason"]
        .as_str()
        .unwrap()
        .contains("oci packages are not scanned"));
    assert_eq!(out.code, 1, "the impostor fails the gate: {}", out.stderr);

    // SARIF points at the package entry's line in the file.
    let mut cmd = mcp_audit();
    cmd.current_dir(dir.path())
        .env("HOME", dir.path())
        .arg("server")
        .arg(&files[1])
        .args(["--format", "sarif", "--now", NOW, "--no-tarball"]);
    let out = run(cmd);
    let sarif: Value = serde_json::from_str(&out.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let loc = &results
        .iter()
        .find(|r| r["ruleId"] == "server-package-name-mismatch")
        .unwrap()["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "impostor.json");
    assert!(loc["region"]["startLine"].as_u64().unwrap() > 1, "{loc}");
}
