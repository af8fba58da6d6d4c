//! `mcp-audit server --no-scan`: `server.json` files on their own, with no network. Real files
//! from fixtures/mcp-registry/ (see its SOURCES.md) and crafted ones.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{mcp_audit, run, Output};

fn registry_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/mcp-registry")
}

/// Every real `server.json` and official example, sorted.
fn real_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["server-json", "examples/valid", "examples/invalid"] {
        for e in std::fs::read_dir(registry_dir().join(dir)).expect("fixture dir") {
            let p = e.expect("dir entry").path();
            if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    assert!(out.len() >= 30, "{} files", out.len());
    out
}

fn server(files: &[&Path], extra: &[&str]) -> Output {
    let mut cmd = mcp_audit();
    cmd.arg("server").arg("--no-scan").args(extra).args(files);
    run(cmd)
}

fn json(files: &[&Path]) -> (i32, Value) {
    let out = server(files, &["--format", "json"]);
    let v: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            out.stdout, out.stderr
        )
    });
    (out.code, v)
}

fn rule_ids(entry: &Value, list: &str) -> Vec<String> {
    entry[list]
        .as_array()
        .unwrap_or_else(|| panic!("no `{list}` in {entry}"))
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// A description on which every server rule passes (or, for the mcpName check, stays
/// inconclusive under --no-scan).
const CLEAN: &str = r#"{
  "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
  "name": "io.github.octo/weather",
  "description": "Weather forecasts for agents.",
  "version": "1.2.3",
  "repository": {"url": "https://github.com/octo/weather", "source": "github"},
  "packages": [
    {"registryType": "npm", "identifier": "@octo/weather", "version": "1.2.3",
     "transport": {"type": "stdio"},
     "environmentVariables": [{"name": "WEATHER_API_KEY", "isSecret": true, "isRequired": true}]},
    {"registryType": "mcpb", "identifier": "https://github.com/octo/weather/releases/download/v1.2.3/weather.mcpb",
     "fileSha256": "fe333e598595000ae021bd27117db32ec69af6987f507ba7a63c90638ff633ce",
     "transport": {"type": "stdio"}}
  ],
  "remotes": [
    {"type": "streamable-http", "url": "https://weather.octo.dev/mcp",
     "headers": [{"name": "Authorization", "value": "Bearer {api_key}", "isSecret": true}]}
  ]
}"#;

const SERVER_RULES: &[&str] = &[
    "server-schema-problems",
    "server-version-unpinned",
    "server-file-hash-invalid",
    "server-remote-insecure",
    "server-plaintext-secret",
    "server-secret-not-marked",
    "server-namespace-owner-mismatch",
];

#[test]
fn every_real_file_gives_a_report_or_a_clear_error() {
    let files = real_files();
    for f in &files {
        // The parser itself, on every file: no panic, whatever the content.
        let _ = mcp_audit::mcpserver::parse(&std::fs::read(f).unwrap());
    }
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let (code, v) = json(&refs);
    assert_eq!(v["kind"], "server");
    let servers = v["servers"].as_array().unwrap();
    assert_eq!(servers.len(), files.len());
    let mut errors = Vec::new();
    for (s, f) in servers.iter().zip(&files) {
        assert_eq!(s["file"].as_str(), Some(f.display().to_string().as_str()));
        if s["status"] == "error" {
            errors.push(f.file_name().unwrap().to_string_lossy().to_string());
            assert!(s["error"].as_str().unwrap().starts_with("not JSON"), "{s}");
        } else {
            assert!(
                s["score"].is_u64() && s["grade"].is_string() && s["coverage"].is_u64(),
                "{s}"
            );
            for p in s["packages"].as_array().unwrap() {
                assert_eq!(p["status"], "not scanned (--no-scan)", "{p}");
            }
        }
    }
    // Only the file with a trailing comma is not JSON.
    assert_eq!(errors, ["hashicorp__terraform-mcp-server.json"]);
    assert_eq!(
        code, 3,
        "a file that could not be read makes the run exit 3"
    );
    assert_eq!(v["exit_code"], 3);

    // The table renders the same files without trouble, and names the broken one on stderr.
    let out = server(&refs, &[]);
    assert_eq!(out.code, 3);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    assert!(
        lines[0].contains("hashicorp__terraform-mcp-server.json") && lines[0].contains("not JSON")
    );
}

#[test]
fn real_files_show_their_known_problems() {
    let dir = registry_dir().join("server-json");
    let check = |file: &str, finding: &str| {
        let (_, v) = json(&[&dir.join(file)]);
        let s = &v["servers"][0];
        let ids = rule_ids(s, "findings");
        assert!(ids.iter().any(|i| i == finding), "{file}: {ids:?}\n{s}");
        s.clone()
    };
    // camelCase keys under the 2025-07-09 schema, no transport.
    let s = check("exa-labs__exa-mcp-server.json", "server-schema-problems");
    let problems = s["facts"]["serverjson"]["schema_problems"].to_string();
    assert!(
        problems.contains("camelCase") && problems.contains("transport"),
        "{problems}"
    );
    // Environment variables as bare strings, description over 100 characters.
    let s = check("Toastyice__JellyfinMCP.json", "server-schema-problems");
    let problems = s["facts"]["serverjson"]["schema_problems"].to_string();
    assert!(
        problems.contains("where an object belongs") && problems.contains("over the limit"),
        "{problems}"
    );
    // Unexpanded {{MCPB_FILE_SHA256}}.
    check(
        "domdomegg__airtable-mcp-server.json",
        "server-file-hash-invalid",
    );
    // <<Placeholders>> and ${VERSION} are templates, not versions.
    check("microsoft__mcp.json", "server-version-unpinned");
    check("github__github-mcp-server.json", "server-version-unpinned");
    // An image with the tag `latest` and no version.
    check("IBM__s390x-porting-mcp.json", "server-version-unpinned");
    // `required` for `isRequired`.
    let s = check("Antonytm__figma-mcp-server.json", "server-schema-problems");
    assert!(s["facts"]["serverjson"]["schema_problems"]
        .to_string()
        .contains("isRequired"));
    // `transportType` for `type`, and the remote is still read.
    let s = check(
        "OrphicOne-Platform__vigo-mcp.json",
        "server-schema-problems",
    );
    assert_eq!(s["remotes"][0]["type"], "streamable-http");
    // The GitHub namespace matches its repository: a conclusive pass, not unknown.
    let (_, v) = json(&[&dir.join("github__github-mcp-server.json")]);
    assert_eq!(
        v["servers"][0]["facts"]["serverjson"]["namespace_matches_repository"],
        true
    );
}

#[test]
fn the_official_examples_are_judged_as_the_registry_does() {
    let dir = registry_dir().join("examples");
    for f in ["minimal.json", "with-package.json", "with-remote.json"] {
        let (_, v) = json(&[&dir.join("valid").join(f)]);
        let problems = &v["servers"][0]["facts"]["serverjson"]["schema_problems"];
        // The examples carry no `$schema`; that is the only thing said about them.
        let list: Vec<&str> = problems
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            list.iter().all(|p| p.starts_with("$schema")),
            "{f}: {list:?}"
        );
    }
    let (_, v) = json(&[&dir.join("invalid/package-version-latest.json")]);
    assert!(rule_ids(&v["servers"][0], "findings").contains(&"server-version-unpinned".to_string()));
    for (f, says) in [
        ("bad-name-pattern.json", "name"),
        ("description-too-long.json", "description"),
        ("missing-name.json", "name: missing"),
    ] {
        let (_, v) = json(&[&dir.join("invalid").join(f)]);
        let problems = v["servers"][0]["facts"]["serverjson"]["schema_problems"].to_string();
        assert!(problems.contains(says), "{f}: {problems}");
    }
}

#[test]
fn the_schema_urls_are_those_of_the_schema_files() {
    for (date, url) in mcp_audit::mcpserver::RELEASED {
        let path = registry_dir().join("schemas").join(format!("{date}.json"));
        let schema: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(schema["$id"].as_str(), Some(*url), "{}", path.display());
    }
    let draft: Value = serde_json::from_slice(
        &std::fs::read(registry_dir().join("draft/server.schema.json")).unwrap(),
    )
    .unwrap();
    assert!(mcp_audit::mcpserver::DRAFT.contains(&draft["$id"].as_str().unwrap()));
}

#[test]
fn a_clean_file_passes_every_server_rule() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "server.json", CLEAN.as_bytes());
    let (code, v) = json(&[&f]);
    let s = &v["servers"][0];
    assert_eq!(rule_ids(s, "findings"), Vec::<String>::new(), "{s}");
    let inconclusive = rule_ids(s, "inconclusive");
    for id in SERVER_RULES {
        assert!(
            !inconclusive.iter().any(|i| i == id),
            "{id} inconclusive: {s}"
        );
    }
    // The mcpName check needs the package: unknown under --no-scan, with that reason.
    let mcp_name = s["inconclusive"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["rule"] == "server-package-name-mismatch")
        .expect("mcpName rule inconclusive");
    assert!(mcp_name["reason"].as_str().unwrap().contains("--no-scan"));
    // So are the package rules, which lowers coverage instead of passing.
    assert!(inconclusive.len() > 10);
    assert!(s["coverage"].as_u64().unwrap() < 100);
    assert_eq!(code, 0);
}

/// An edit of the clean description.
type Change = Box<dyn Fn(&mut Value)>;

#[test]
fn each_rule_fires_on_a_crafted_file() {
    let token = "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
    let clean: Value = serde_json::from_str(CLEAN).unwrap();
    let cases: Vec<(&str, Change)> = vec![
        (
            "server-schema-problems",
            Box::new(|v| v["description"] = Value::from("x".repeat(101))),
        ),
        (
            "server-version-unpinned",
            Box::new(|v| v["packages"][0]["version"] = Value::from("latest")),
        ),
        (
            "server-version-unpinned",
            Box::new(|v| v["version"] = Value::from("$(PackageVersion)")),
        ),
        (
            "server-version-unpinned",
            Box::new(|v| v["packages"][0]["version"] = Value::from("^1.2.0")),
        ),
        (
            "server-file-hash-invalid",
            Box::new(|v| v["packages"][1]["fileSha256"] = Value::from("{{MCPB_FILE_SHA256}}")),
        ),
        (
            "server-remote-insecure",
            Box::new(|v| v["remotes"][0]["url"] = Value::from("http://weather.octo.dev/mcp")),
        ),
        (
            "server-plaintext-secret",
            Box::new(move |v| {
                v["remotes"][0]["headers"][0]["value"] = Value::from(format!("Bearer {token}"))
            }),
        ),
        (
            "server-secret-not-marked",
            Box::new(|v| {
                v["packages"][0]["environmentVariables"][0]["isSecret"] = Value::from(false)
            }),
        ),
        (
            "server-namespace-owner-mismatch",
            Box::new(|v| {
                v["repository"]["url"] = Value::from("https://github.com/mallory/weather")
            }),
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    for (i, (rule, change)) in cases.iter().enumerate() {
        let mut v = clean.clone();
        change(&mut v);
        let f = write(
            tmp.path(),
            &format!("case{i}.json"),
            v.to_string().as_bytes(),
        );
        let (_, out) = json(&[&f]);
        let ids = rule_ids(&out["servers"][0], "findings");
        assert_eq!(ids, [rule.to_string()], "case {i} ({rule}) must fire alone");
    }
    // The credential is redacted everywhere: JSON and table.
    let mut v = clean.clone();
    v["remotes"][0]["headers"][0]["value"] = Value::from(format!("Bearer {token}"));
    v["remotes"][0]["url"] = Value::from(format!("https://weather.octo.dev/mcp?key={token}"));
    let f = write(tmp.path(), "leak.json", v.to_string().as_bytes());
    server(&[&f], &["--format", "json"]).assert_no_leak(&[token]);
    server(&[&f], &[]).assert_no_leak(&[token]);
}

#[test]
fn no_repository_leaves_the_identity_unknown() {
    let mut v: Value = serde_json::from_str(CLEAN).unwrap();
    v.as_object_mut().unwrap().remove("repository");
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "s.json", v.to_string().as_bytes());
    let (_, out) = json(&[&f]);
    let s = &out["servers"][0];
    assert!(
        rule_ids(s, "inconclusive").contains(&"server-namespace-owner-mismatch".to_string()),
        "{s}"
    );
}

#[test]
fn bom_non_json_and_non_utf8_files_and_one_broken_among_many() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(CLEAN.as_bytes());
    let bom = write(tmp.path(), "bom.json", &bom);
    let not_json = write(tmp.path(), "broken.json", b"{\"name\": \"a/b\",}");
    let not_utf8 = write(tmp.path(), "latin1.json", b"{\"description\": \"caf\xe9\"}");
    let clean = write(tmp.path(), "clean.json", CLEAN.as_bytes());

    let (code, v) = json(&[&bom]);
    assert_eq!(code, 0);
    let problems = v["servers"][0]["facts"]["serverjson"]["schema_problems"].to_string();
    assert!(problems.contains("byte order mark"), "{problems}");

    let out = server(&[&not_json, &clean, &not_utf8, &bom], &[]);
    assert_eq!(out.code, 3);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stderr);
    assert!(
        lines[0].contains("broken.json") && lines[0].contains("not JSON"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("latin1.json") && lines[1].contains("not UTF-8"),
        "{}",
        lines[1]
    );
    // The good files are still reported.
    assert!(
        out.stdout.contains("clean.json") && out.stdout.contains("bom.json"),
        "{}",
        out.stdout
    );

    let (code, v) = json(&[&not_json, &clean]);
    assert_eq!(code, 3);
    assert_eq!(v["servers"][0]["status"], "error");
    assert_eq!(v["servers"][1]["status"], "passed");
}

#[test]
fn the_gate_applies_as_for_config() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "s.json", CLEAN.as_bytes());
    let out = server(&[&f], &["--min-coverage", "100"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
}

#[test]
fn without_no_scan_the_packages_are_fetched() {
    // The npm package is asked for on the configured registry (here a loopback one that does not
    // have it): the package cannot be checked, which is exit 3 with the reason, never a pass.
    let reg = crate::support::fixture_registry();
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "s.json", CLEAN.as_bytes());
    let mut cmd = mcp_audit();
    cmd.env("HOME", tmp.path())
        .current_dir(tmp.path())
        .arg("server")
        .arg(&f)
        .args(["--registry", &reg.url(), "--format", "json"]);
    let out = run(cmd);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let p = &v["servers"][0]["packages"][0];
    assert_eq!(p["outcome"], "error", "{p}");
    assert_eq!(p["report"]["error"]["kind"], "not-found", "{p}");
    assert!(reg.hits("/@octo%2fweather") + reg.hits("/@octo/weather") > 0);
    // The mcpb package is listed, not scanned, with the reason.
    assert!(v["servers"][0]["packages"][1]["reason"]
        .as_str()
        .unwrap()
        .contains("mcpb packages are not scanned"));
}
