//! JFrog wrappers in client configs (issue 15, item 3): entries that launch
//! `npx … @jfrog/agent-guard --server ID` with `_JF_ARGS=project=…&mcp=<pkg>` (Cursor, VS Code)
//! or the older `@jfrog/mcp-gateway --loader` with `_JF_MCP_LOADER_ARGS` (Claude Desktop), as
//! JFrog's plugins write them (`fixtures/mcp-configs/jfrog/`, templates filled here).
//!
//! A loopback "Artifactory" npm registry requires a token that only the user's `.npmrc` holds;
//! the wrapped MCP is scanned from it, the wrapper too. The token goes there and nowhere else,
//! and neither it nor a token inside `_JF_ARGS` appears in any output.

use std::fs;
use std::path::Path;

use crate::support::*;
use serde_json::Value;

const TOKEN: &str = "npm_JFROGartifactoryTOKENjjjjjjjjjjjjjjjjjj7";
/// A value under an undocumented `_JF_ARGS` key: hidden whatever it is.
const JF_ARGS_TOKEN: &str = "FAKEjfArgsValue0hidden0everywhere0042";

struct Setup {
    art: TestRegistry,
    public: TestRegistry,
    pyindex: TestRegistry,
    dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let art = fixture_registry();
    art.require_bearer(TOKEN);
    // The wrapper, as JFrog's releases repository serves it: a stand-in packument (the real
    // one is not reachable from the machines this was built on).
    let mut wrapper: Value = serde_json::from_str(
        &fs::read_to_string(format!("{}good-mcp-server.json", fixtures::PACKUMENTS))
            .unwrap()
            .replace("{{registry}}", art.url().trim_end_matches('/')),
    )
    .unwrap();
    wrapper["name"] = "@jfrog/agent-guard".into();
    art.add_packument("@jfrog/agent-guard", wrapper.clone());
    wrapper["name"] = "@jfrog/mcp-gateway".into();
    art.add_packument("@jfrog/mcp-gateway", wrapper);
    let public = fixture_registry();
    let pyindex = TestRegistry::start_empty();
    let file = pyindex::PyFile::new(
        "mcp_server_fetch-2025.4.7.tar.gz",
        "2025.4.7",
        pyindex::sdist("mcp-server-fetch", "2025.4.7", &["mcp>=1.1.3,<2"], &[]),
        "2025-04-07T00:00:00Z",
    );
    pyindex::serve(
        &pyindex,
        "mcp-server-fetch",
        &[file],
        pyindex::Simple::Json("1.1"),
        None,
        None,
    );
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mcp-configs/jfrog");
    crate::support::fixtures::copy_filled(&src, dir.path(), &|t: &str| {
        t.replace("{{art}}", &art.url())
            .replace("{{jf_args_token}}", JF_ARGS_TOKEN)
    });
    // The user's npm configuration holds the Artifactory token, for that host only.
    fs::write(
        dir.path().join(".npmrc"),
        format!("{}:_authToken={TOKEN}\n", nerf(&art)),
    )
    .unwrap();
    Setup {
        art,
        public,
        pyindex,
        dir,
    }
}

fn config(s: &Setup, files: &[&str], extra: &[&str]) -> Output {
    let mut cmd = mcp_audit();
    cmd.current_dir(s.dir.path())
        .env("HOME", s.dir.path())
        .env("NOTION_TOKEN", "FAKEnotionTokenNeverSent0000001")
        .arg("config")
        .args(files.iter().map(|f| s.dir.path().join(f)))
        .args(extra);
    loopback_indexes(&mut cmd, &s.public, &s.pyindex);
    let out = run(cmd);
    out.assert_no_leak(&[TOKEN, JF_ARGS_TOKEN, "FAKEnotionTokenNeverSent0000001"]);
    out
}

/// The servers of file `i`, in order (a wrapper entry gives two: the wrapper, then its MCP).
fn servers(r: &Value, i: usize) -> Vec<Value> {
    r["files"][i]["servers"].as_array().unwrap().clone()
}

/// The wrapper's report and the wrapped MCP's, for the entry `name`.
fn pair(list: &[Value], name: &str) -> (Value, Value) {
    let both: Vec<&Value> = list.iter().filter(|s| s["name"] == name).collect();
    assert_eq!(both.len(), 2, "{name}: {list:#?}");
    assert!(both[0]["wraps"].is_object() && both[0]["via"].is_null());
    assert!(both[1]["via"].is_object() && both[1]["wraps"].is_null());
    (both[0].clone(), both[1].clone())
}

fn reason(s: &Value) -> String {
    s["package"]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn wrapped_mcps_are_scanned_with_the_entrys_registry_and_token() {
    let s = setup();
    let out = config(
        &s,
        &[
            "project/.cursor/mcp.json",
            "project/.vscode/mcp.json",
            "claude-desktop/claude_desktop_config.json",
        ],
        &["--format", "json"],
    );
    let r = json(&out);
    let cursor = servers(&r, 0);

    // Cursor, agent-guard, a scoped npm package: scanned from "Artifactory".
    let (wrapper, fs_mcp) = pair(&cursor, "@modelcontextprotocol/server-filesystem");
    assert_eq!(wrapper["package"]["name"], "@jfrog/agent-guard");
    assert_eq!(wrapper["package"]["registry"], s.art.url());
    let link = &wrapper["wraps"];
    assert_eq!(link["wrapper"], "@jfrog/agent-guard");
    assert_eq!(link["env"], "_JF_ARGS");
    assert_eq!(link["server_id"], "acme");
    assert_eq!(link["project"], "tools");
    assert_eq!(link["mcp"], "@modelcontextprotocol/server-filesystem");
    assert_eq!(link["other_keys"], serde_json::json!(["token"]));
    assert_eq!(link["ecosystem"], "npm");
    assert_eq!(fs_mcp["package"]["status"], "scanned", "{fs_mcp:#}");
    assert_eq!(
        fs_mcp["package"]["name"],
        "@modelcontextprotocol/server-filesystem"
    );
    assert_eq!(fs_mcp["package"]["registry"], s.art.url());
    assert_eq!(fs_mcp["package"]["ecosystem"], "npm");
    assert_eq!(fs_mcp["via"]["name_kind"], "npm");
    // The launch is the wrapper's: its rules are judged there, not twice.
    assert!(!rule_ids(&fs_mcp["findings"])
        .iter()
        .any(|f| f.starts_with("launch-")));
    // The undocumented key's value is hidden in the entry as shown.
    assert_eq!(
        fs_mcp["entry"]["env"]["_JF_ARGS"],
        "project=tools&mcp=@modelcontextprotocol/server-filesystem&token=FAKE***"
    );

    // An unscoped name: npm or PyPI. "Artifactory" has no npm package of that name and the
    // index has the project: PyPI, scanned, and the basis says why.
    let (_, fetch) = pair(&cursor, "mcp-server-fetch");
    assert_eq!(fetch["package"]["status"], "scanned", "{fetch:#}");
    assert_eq!(fetch["package"]["ecosystem"], "pypi");
    assert_eq!(fetch["package"]["version"], "2025.4.7");
    assert_eq!(fetch["via"]["ecosystem"], "pypi");
    assert_eq!(fetch["via"]["name_kind"], "npm-or-pypi");
    assert!(fetch["via"]["basis"].as_str().unwrap().contains("does not"));

    // A remote MCP's catalog name: nothing to scan, said, every package rule inconclusive.
    let (_, notion) = pair(&cursor, "com.notion/mcp");
    assert_eq!(notion["package"]["status"], "not-scanned");
    assert!(reason(&notion).contains("MCP Registry name"), "{notion:#}");
    assert!(notion["coverage"].as_u64().unwrap() < 50);
    assert!(!notion["inconclusive"].as_array().unwrap().is_empty());

    // VS Code: an unscoped npm package, found on npm only; `_JF_ARGS` by `${input:…}`.
    let vscode = servers(&r, 1);
    let (_, good) = pair(&vscode, "good-mcp-server");
    assert_eq!(good["package"]["status"], "scanned", "{good:#}");
    assert_eq!(good["package"]["name"], "good-mcp-server");
    assert_eq!(good["via"]["ecosystem"], "npm");
    let (_, by_input) = pair(&vscode, "by-input");
    assert!(reason(&by_input).contains("reference"), "{by_input:#}");

    // Claude Desktop, the older gateway and its variable.
    let desktop = servers(&r, 2);
    let (old, old_mcp) = pair(&desktop, "modelcontextprotocol-server-filesystem");
    assert_eq!(old["wraps"]["wrapper"], "@jfrog/mcp-gateway");
    assert_eq!(old["wraps"]["env"], "_JF_MCP_LOADER_ARGS");
    assert_eq!(old["wraps"]["server_id"], "jfrog-mcp");
    assert_eq!(old_mcp["package"]["status"], "scanned", "{old_mcp:#}");
    assert_eq!(old_mcp["package"]["registry"], s.art.url());

    // The token went to "Artifactory" on every request, and nowhere else; mcp-audit's own
    // default registry was never asked for a wrapped package.
    assert!(!s.art.requests().is_empty());
    assert!(s
        .art
        .authorizations()
        .iter()
        .all(|a| a.as_deref() == Some(&*format!("Bearer {TOKEN}"))));
    assert!(s.public.authorizations().iter().all(Option::is_none));
    assert!(s.pyindex.authorizations().iter().all(Option::is_none));
    assert_eq!(
        s.public.hits("/@modelcontextprotocol%2fserver-filesystem"),
        0
    );
    assert_eq!(s.public.hits("/@modelcontextprotocol/server-filesystem"), 0);
}

#[test]
fn malformed_jfrog_arguments_are_reasons_not_crashes() {
    let s = setup();
    let out = config(&s, &["project/.cursor/mcp.json"], &["--format", "json"]);
    let r = json(&out);
    let cursor = servers(&r, 0);
    let (_, none) = pair(&cursor, "no-args");
    assert!(reason(&none).contains("sets no `_JF_ARGS`"), "{none:#}");
    assert_eq!(none["via"]["problem"], none["via"]["basis"]);
    let (_, no_mcp) = pair(&cursor, "no-mcp-key");
    assert!(reason(&no_mcp).contains("no `mcp=`"), "{no_mcp:#}");
    for srv in [&none, &no_mcp] {
        // Unknown, not a pass: inconclusive package rules, and --strict would fail them.
        assert_eq!(srv["package"]["status"], "not-scanned");
        assert!(!srv["inconclusive"].as_array().unwrap().is_empty());
    }
    // The entry's other servers are audited all the same.
    assert_eq!(cursor.len(), 10);
    let strict = config(
        &s,
        &["project/.cursor/mcp.json"],
        &["--strict", "--format", "json"],
    );
    assert_eq!(strict.code, 1, "{}", strict.stdout);
}

#[test]
fn no_scan_and_the_table_say_via_which_wrapper() {
    let s = setup();
    let out = config(&s, &["project/.cursor/mcp.json"], &["--no-scan"]);
    assert!(s.art.requests().is_empty() && s.pyindex.requests().is_empty());
    assert!(
        out.stdout
            .contains("@modelcontextprotocol/server-filesystem via @jfrog/agent-guard"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("audited below as"), "{}", out.stdout);
    // Without asking, an unscoped name stays undecided.
    assert!(
        out.stdout
            .contains("--no-scan: the registries were not asked"),
        "{}",
        out.stdout
    );
    // In CI formats the wrapped MCP is a subject of its own, named after its wrapper, so its
    // results never share a fingerprint with the wrapper's.
    let sarif = config(
        &s,
        &["project/.cursor/mcp.json"],
        &["--no-scan", "--format", "sarif"],
    );
    assert!(
        sarif
            .stdout
            .contains("mcp-server-fetch via @jfrog/agent-guard"),
        "{}",
        sarif.stdout
    );
}

#[test]
fn a_name_both_ecosystems_have_is_left_unknown() {
    let s = setup();
    let file = pyindex::PyFile::new(
        "good_mcp_server-1.0.0.tar.gz",
        "1.0.0",
        pyindex::sdist("good-mcp-server", "1.0.0", &[], &[]),
        "2025-04-07T00:00:00Z",
    );
    pyindex::serve(
        &s.pyindex,
        "good-mcp-server",
        &[file],
        pyindex::Simple::Json("1.1"),
        None,
        None,
    );
    let out = config(&s, &["project/.vscode/mcp.json"], &["--format", "json"]);
    let r = json(&out);
    let (_, good) = pair(&servers(&r, 0), "good-mcp-server");
    assert_eq!(good["package"]["status"], "not-scanned", "{good:#}");
    assert!(reason(&good).contains("both an npm package"), "{good:#}");
    assert!(good["via"]["ecosystem"].is_null());
    assert!(!good["inconclusive"].as_array().unwrap().is_empty());
}

/// Hostile `_JF_ARGS` values, through the binary: each gives a reason or a catalog name, never a
/// panic, a fetch of something that is not a package, or the value itself in the output.
#[test]
fn hostile_jfrog_arguments_are_refused_with_a_reason() {
    let s = setup();
    let hostile = [
        format!("mcp={}", "a".repeat(1 << 20)),
        format!("{}mcp=x", "_JF_ARGS=".repeat(50_000)),
        "mcp=%00%01\u{0}".to_string(),
        "mcp=../../../../etc/passwd".to_string(),
        "mcp=x@https://evil.example/pkg.tgz".to_string(),
        "mcp=@evil/pkg@git+https://evil.example/r.git".to_string(),
        "&&&===&&&".to_string(),
        "mcp=%zz%".to_string(),
    ];
    let mut servers = serde_json::Map::new();
    for (i, v) in hostile.iter().enumerate() {
        servers.insert(
            format!("h{i}"),
            serde_json::json!({
                "command": "npx",
                "args": ["-y", "--registry", s.art.url(), "@jfrog/agent-guard"],
                "env": { "_JF_ARGS": v },
            }),
        );
    }
    let path = s.dir.path().join("hostile/.cursor/mcp.json");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(
        &path,
        serde_json::json!({ "mcpServers": servers }).to_string(),
    )
    .unwrap();
    let out = config(&s, &["hostile/.cursor/mcp.json"], &["--format", "json"]);
    let r = json(&out);
    let list = servers_of(&r);
    assert_eq!(list.len(), 2 * hostile.len(), "{}", out.stderr);
    for srv in list.iter().filter(|v| v["via"].is_object()) {
        assert_ne!(srv["package"]["status"], "scanned", "{srv:#}");
        assert!(!reason(srv).is_empty(), "{srv:#}");
    }
    // Nothing the hostile values name was asked for: only the wrapper's own scan ran.
    let paths: Vec<String> = s
        .art
        .requests()
        .iter()
        .map(|q| q.decoded_path.clone())
        .collect();
    assert!(
        paths.iter().all(|p| p != "/x"
            && !p.contains("evil")
            && !p.contains("passwd")
            && !p.contains('\0')),
        "{paths:?}"
    );
    assert!(paths.iter().any(|p| p == "/@jfrog/agent-guard"));
}

fn servers_of(r: &Value) -> Vec<Value> {
    servers(r, 0)
}
