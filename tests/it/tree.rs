//! The dependency tree (issue 12): resolution against npm's own lockfiles (offline oracle), and
//! the audit of every node on the loopback registry: a risky node two levels down reaches the
//! root's score, gate and findings with its path; a node the registry cannot serve is
//! inconclusive, never passed; `--max-nodes` stops a large tree; `--no-deps` keeps the old scan.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use mcp_audit::spec::Selector;
use mcp_audit::tree::{self, Manifest, Packument, ResolveOptions, Source};
use serde_json::{json, Value};

use crate::support::registry::{Fault, TestRegistry};
use crate::support::tree_sets::{lock_set, tree_set};
use crate::support::{fixture_registry, json, run, scan};

fn oracle_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tree/oracle"))
}

/// Abbreviated packuments from `fixtures/tree/oracle/packuments`.
struct DirSource(PathBuf);

impl Source for DirSource {
    async fn packument(&self, name: &str) -> Result<Arc<Packument>, String> {
        let file = self.0.join(format!("{}.json", name.replace('/', "%2f")));
        let bytes = std::fs::read(&file).map_err(|e| format!("{name}: {e}"))?;
        Packument::from_slice(&bytes).map(Arc::new)
    }
    async fn shrinkwrap(&self, _: &str, _: &str, _: &Manifest) -> Result<Option<Vec<u8>>, String> {
        Ok(None)
    }
}

#[test]
fn resolution_matches_npm_lockfiles_offline() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let source = DirSource(oracle_dir().join("packuments"));
    for (file, spec) in [
        (
            "_modelcontextprotocol_server-memory",
            "@modelcontextprotocol/server-memory",
        ),
        (
            "_modelcontextprotocol_server-filesystem",
            "@modelcontextprotocol/server-filesystem",
        ),
        ("mcp-remote", "mcp-remote"),
        // npm passes over `latest` (3.26.0, engines.node >=22) for 3.22.2 on node 20.
        ("firecrawl-mcp", "firecrawl-mcp"),
        // Two dependencies of stagehand have conflicting zod peers (ollama-ai-provider-v2:
        // ^4.0.16, openai@4: ^3.23.8): npm places each peer set whole, zod@4.6.7 goes to the
        // top, the root's own zod@3 nests under it, and openai's peer is left unmet.
        (
            "_browserbasehq_mcp-server-browserbase",
            "@browserbasehq/mcp-server-browserbase",
        ),
    ] {
        let lock: Value = serde_json::from_slice(
            &std::fs::read(oracle_dir().join("locks").join(format!("{file}.json"))).unwrap(),
        )
        .unwrap();
        let t = rt
            .block_on(tree::resolve(
                &source,
                spec,
                // A bare name: npm-pick-manifest's `*`, latest unless its engines do not fit.
                &Selector::Range("*".into()),
                &ResolveOptions::default(),
            ))
            .unwrap();
        let want = lock_set(&lock);
        let got = tree_set(&t);
        assert_eq!(
            got,
            want,
            "{spec}: extra {:?}, missing {:?}",
            got.difference(&want).collect::<Vec<_>>(),
            want.difference(&got).collect::<Vec<_>>()
        );
        assert!(
            t.problems.iter().all(|p| !p.unavailable),
            "{:?}",
            t.problems
        );
    }
}

fn version(deps: Value) -> Value {
    json!({"dependencies": deps, "dist": {}, "_npmUser": {"name": "alice", "email": "a@example.com"},
           "maintainers": [{"name": "alice", "email": "a@example.com"}]})
}

fn simple(name: &str, deps: Value) -> Value {
    json!({
        "name": name,
        "dist-tags": {"latest": "1.0.0"},
        "time": {"created": "2024-01-01T00:00:00.000Z", "1.0.0": "2024-01-01T00:00:00.000Z"},
        "maintainers": [{"name": "alice", "email": "a@example.com"}],
        "versions": {"1.0.0": version(deps)}
    })
}

/// `tree-root` → `tree-mid` → `takeover-demo@^1.2.0`, whose latest release (1.2.1) has a new
/// publisher, no provenance where 1.2.0 had it, and (added here) a postinstall script.
fn takeover_registry() -> TestRegistry {
    let reg = fixture_registry();
    let mut doc: Value = serde_json::from_slice(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/registry/packuments/takeover-demo.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let v = &mut doc["versions"]["1.2.1"];
    v["scripts"]["postinstall"] = json!("node collect.js");
    v["hasInstallScript"] = json!(true);
    reg.add_packument("takeover-demo", doc);
    reg.add_packument(
        "tree-root",
        simple("tree-root", json!({"tree-mid": "^1.0.0"})),
    );
    reg.add_packument(
        "tree-mid",
        simple("tree-mid", json!({"takeover-demo": "^1.2.0"})),
    );
    reg
}

#[test]
fn a_takeover_two_levels_down_fails_the_root_and_names_its_path() {
    let reg = takeover_registry();
    let out = run(scan(
        &reg,
        &[
            "tree-root",
            "--no-tarball",
            "--fail-under",
            "70",
            "--format",
            "json",
        ],
    ));
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let r = json(&out);
    let p = &r["packages"][0];
    assert!(p["score"].as_u64().unwrap() < 70, "{}", p["score"]);
    let named: Vec<&Value> = p["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["evidence"]["dependency"] == "takeover-demo@1.2.1")
        .collect();
    let rules: BTreeSet<&str> = named.iter().map(|f| f["rule"].as_str().unwrap()).collect();
    for want in ["new-publisher", "trust-downgrade", "install-scripts"] {
        assert!(
            rules.contains(want),
            "{want} not carried to the root: {rules:?}"
        );
    }
    for f in &named {
        assert_eq!(
            f["evidence"]["path"],
            json!(["tree-mid@1.0.0", "takeover-demo@1.2.1"])
        );
        let msg = f["message"].as_str().unwrap();
        assert!(
            msg.contains("takeover-demo@1.2.1 (via tree-mid@1.0.0 > takeover-demo@1.2.1)"),
            "{msg}"
        );
    }
    let tree = &p["tree"];
    assert_eq!(tree["source"], "registry");
    let nodes: Vec<String> = tree["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            format!(
                "{}@{}",
                n["name"].as_str().unwrap(),
                n["version"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(nodes, ["takeover-demo@1.2.1", "tree-mid@1.0.0"]);
    let t = &tree["nodes"][0];
    assert!(t["score"].as_u64().unwrap() < 70);
    assert_eq!(
        t["paths"],
        json!([["tree-mid@1.0.0", "takeover-demo@1.2.1"]])
    );
    // The gate names why.
    assert!(p["gate_failures"][0]
        .as_str()
        .unwrap()
        .contains("--fail-under 70"));

    // The table shows the risky node with its path.
    let out = run(scan(
        &reg,
        &["tree-root", "--no-tarball", "--fail-under", "70"],
    ));
    assert_eq!(out.code, 1);
    assert!(
        out.stdout
            .contains("via tree-mid@1.0.0 > takeover-demo@1.2.1"),
        "{}",
        out.stdout
    );

    // --no-deps: the root alone is clean, and there is no tree.
    let out = run(scan(
        &reg,
        &[
            "tree-root",
            "--no-tarball",
            "--fail-under",
            "70",
            "--no-deps",
            "--format",
            "json",
        ],
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(json(&out)["packages"][0]["tree"].is_null());
}

#[test]
fn the_markdown_and_sarif_findings_name_the_dependency() {
    let reg = takeover_registry();
    for format in ["markdown", "sarif", "github"] {
        let out = run(scan(
            &reg,
            &["tree-root", "--no-tarball", "--format", format],
        ));
        assert!(
            out.stdout.contains("takeover-demo@1.2.1"),
            "{format}: {}",
            out.stdout
        );
    }
}

#[test]
fn nodes_the_registry_cannot_serve_are_inconclusive_never_passed() {
    let reg = fixture_registry();
    reg.add_packument(
        "tree-gaps",
        simple(
            "tree-gaps",
            json!({"tree-gone": "^1", "tree-flaky": "^1", "tree-ok": "^1"}),
        ),
    );
    reg.add_packument("tree-ok", simple("tree-ok", json!({})));
    reg.add_packument("tree-flaky", simple("tree-flaky", json!({})));
    reg.fault(
        "/tree-flaky",
        Fault::Status {
            code: 500,
            times: 1000,
        },
    );
    let out = run(scan(
        &reg,
        &[
            "tree-gaps",
            "--no-tarball",
            "--retries",
            "0",
            "--format",
            "json",
        ],
    ));
    let r = json(&out);
    let p = &r["packages"][0];
    let unchecked = p["inconclusive"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["rule"] == "dependency-unchecked")
        .unwrap_or_else(|| panic!("{p}"));
    let reasons = unchecked["reason"].as_str().unwrap();
    assert!(reasons.contains("tree-gone"), "{reasons}");
    assert!(reasons.contains("tree-flaky"), "{reasons}");
    assert!(reasons.contains("500"), "{reasons}");
    assert!(!p["passed"]
        .as_array()
        .unwrap()
        .contains(&json!("dependency-unchecked")));
    let problems = p["tree"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems.iter().all(|p| p["unavailable"] == true));
    assert_eq!(p["tree"]["nodes"][0]["name"], "tree-ok");
    // --strict turns the unknown into a failure.
    let out = run(scan(
        &reg,
        &["tree-gaps", "--no-tarball", "--retries", "0", "--strict"],
    ));
    assert_eq!(out.code, 1, "{}", out.stdout);
}

#[test]
fn max_nodes_stops_with_a_clear_message() {
    let reg = takeover_registry();
    let out = run(scan(
        &reg,
        &[
            "tree-root",
            "--no-tarball",
            "--max-nodes",
            "1",
            "--format",
            "json",
        ],
    ));
    assert_eq!(out.code, 3, "{}", out.stdout);
    let r = json(&out);
    let e = &r["packages"][0]["error"];
    assert_eq!(e["kind"], "tree");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("more than 1 packages"),
        "{e}"
    );
    let out = run(scan(
        &reg,
        &["tree-root", "--no-tarball", "--max-nodes", "0"],
    ));
    assert_eq!(out.code, 2, "{}", out.stderr);
}

#[test]
fn resolution_asks_for_the_abbreviated_packument() {
    let reg = takeover_registry();
    let out = run(scan(&reg, &["tree-root", "--no-tarball"]));
    assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
    let accepts: Vec<String> = reg
        .requests()
        .iter()
        .filter(|r| r.decoded_path == "/tree-mid")
        .filter_map(|r| r.header("accept").map(str::to_string))
        .collect();
    assert!(
        accepts
            .iter()
            .any(|a| a.starts_with("application/vnd.npm.install-v1+json")),
        "{accepts:?}"
    );
}

/// `npx -y engines-root` installs what npm-pick-manifest picks for a bare name: `latest` is passed
/// over when its `engines.node` does not fit the node resolution assumes (20), as npm 11 did for
/// firecrawl-mcp (3.22.2, not the latest 3.26.0; fixtures/tree/oracle/locks/firecrawl-mcp.json).
/// `@latest` named explicitly is that version.
#[test]
fn a_bare_name_scans_the_version_npm_would_install() {
    let reg = fixture_registry();
    let mut doc = simple("engines-root", json!({}));
    let mut v2 = version(json!({}));
    v2["engines"] = json!({"node": ">=22.0.0"});
    doc["versions"]["2.0.0"] = v2;
    doc["versions"]["1.0.0"]["engines"] = json!({"node": ">=18"});
    doc["dist-tags"]["latest"] = json!("2.0.0");
    doc["time"]["2.0.0"] = json!("2024-02-01T00:00:00.000Z");
    reg.add_packument("engines-root", doc);
    for (spec, want) in [
        ("engines-root", "1.0.0"),
        ("engines-root@latest", "2.0.0"),
        ("engines-root@^1 || ^2", "1.0.0"),
    ] {
        for deps in [&[][..], &["--no-deps"][..]] {
            let mut args = vec![spec, "--no-tarball", "--format", "json"];
            args.extend_from_slice(deps);
            let out = run(scan(&reg, &args));
            let r = json(&out);
            assert_eq!(r["packages"][0]["version"], want, "{spec} {deps:?}");
        }
    }
}
fn two_versions(name: &str) -> Value {
    json!({
        "name": name,
        "dist-tags": {"latest": "2.0.0"},
        "time": {"created": "2024-01-01T00:00:00.000Z", "1.0.0": "2024-01-01T00:00:00.000Z",
                 "2.0.0": "2024-02-01T00:00:00.000Z"},
        "maintainers": [{"name": "alice", "email": "a@example.com"}],
        "versions": {"1.0.0": version(json!({})), "2.0.0": version(json!({}))}
    })
}

/// The full (`application/json`) and abbreviated GETs of `path`.
fn gets(reg: &TestRegistry, path: &str) -> (usize, usize) {
    let reqs = reg.requests();
    let of = |abbreviated: bool| {
        reqs.iter()
            .filter(|r| r.method == "GET" && r.decoded_path == path)
            .filter(|r| {
                r.header("accept")
                    .is_some_and(|a| a.starts_with("application/vnd.npm.install-v1+json"))
                    == abbreviated
            })
            .count()
    };
    (of(false), of(true))
}

#[test]
fn a_dependency_shared_by_two_trees_is_fetched_and_judged_once() {
    let reg = takeover_registry();
    // Two roots whose trees both hold tree-mid and takeover-demo; `shared-two` sits in one tree
    // at two versions (2.0.0 at the top, 1.0.0 nested under tree-old).
    reg.add_packument(
        "root-a",
        simple(
            "root-a",
            json!({"tree-mid": "^1.0.0", "shared-two": "^2.0.0", "tree-old": "^1"}),
        ),
    );
    reg.add_packument("root-b", simple("root-b", json!({"tree-mid": "^1.0.0"})));
    reg.add_packument(
        "tree-old",
        simple("tree-old", json!({"shared-two": "^1.0.0"})),
    );
    reg.add_packument("shared-two", two_versions("shared-two"));
    let r = scan_two_roots(&reg);
    let nodes = |i: usize| -> BTreeSet<String> {
        r["packages"][i]["tree"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                format!(
                    "{}@{}",
                    n["name"].as_str().unwrap(),
                    n["version"].as_str().unwrap()
                )
            })
            .collect()
    };
    let a = nodes(0);
    for want in [
        "tree-mid@1.0.0",
        "takeover-demo@1.2.1",
        "shared-two@1.0.0",
        "shared-two@2.0.0",
    ] {
        assert!(a.contains(want), "{want} not in {a:?}");
    }
    assert!(nodes(1).contains("takeover-demo@1.2.1"));
    // Both trees carry the takeover, judged from the one audit.
    for p in r["packages"].as_array().unwrap() {
        assert!(
            p["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["rule"] == "new-publisher"
                    && f["evidence"]["dependency"] == "takeover-demo@1.2.1"),
            "{p}"
        );
    }
    // One full packument per name for the whole run (both trees, both versions). Resolutions
    // share an abbreviated packument only while one of them holds it, so that count depends on
    // timing: at most one per tree.
    for name in ["/takeover-demo", "/tree-mid", "/shared-two"] {
        let (full, abbreviated) = gets(&reg, name);
        assert_eq!(full, 1, "{name}");
        assert!((1..=2).contains(&abbreviated), "{name}: {abbreviated}");
    }
}

/// `config` servers: entries with the same npm credentials share the run's audits of a
/// dependency; an entry with another token gets its own, fetched with its own token.
#[test]
fn config_servers_share_dependency_audits_only_with_the_same_credentials() {
    let reg = takeover_registry();
    let dir = tempfile::tempdir().unwrap();
    let key = format!("npm_config_{}:_authToken", crate::support::nerf(&reg));
    let server = |token: &str| {
        json!({"command": "npx", "args": ["-y", "tree-root@1.0.0"],
               "env": {"npm_config_registry": reg.url(), key.clone(): token}})
    };
    let file = dir.path().join("claude_desktop_config.json");
    std::fs::write(
        &file,
        json!({"mcpServers": {"a": server("tok-a"), "a-again": server("tok-a"),
                              "b": server("tok-b")}})
        .to_string(),
    )
    .unwrap();
    config_json(dir.path(), &file);
    // The dependency's full packument: once with token A (two servers), once with token B.
    let full: Vec<Option<String>> = reg
        .requests()
        .iter()
        .filter(|r| r.decoded_path == "/takeover-demo")
        .filter(|r| r.header("accept") == Some("application/json"))
        .map(|r| r.header("authorization").map(str::to_string))
        .collect();
    let with = |t: &str| {
        full.iter()
            .filter(|a| a.as_deref() == Some(&format!("Bearer {t}")[..]))
            .count()
    };
    assert_eq!(
        (with("tok-a"), with("tok-b"), full.len()),
        (1, 1, 2),
        "{full:?}"
    );
}

/// The advisories bulk POSTs the loopback registry received.
fn advisory_posts(reg: &TestRegistry) -> usize {
    reg.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.decoded_path == "/-/npm/v1/security/advisories/bulk")
        .count()
}

/// Two roots needing different versions of one name: the run audits the union of its trees, so
/// the name's full packument is fetched once for both versions, and the run sends one
/// advisories request for every root and node, not one per tree.
#[test]
fn two_trees_needing_different_versions_of_a_name_fetch_it_once() {
    let reg = takeover_registry();
    reg.add_packument("root-a", simple("root-a", json!({"shared-two": "^2.0.0"})));
    reg.add_packument(
        "root-b",
        simple("root-b", json!({"shared-two": "^1.0.0", "tree-mid": "^1"})),
    );
    reg.add_packument("shared-two", two_versions("shared-two"));
    let r = scan_two_roots(&reg);
    let node = |i: usize, name: &str| -> Value {
        r["packages"][i]["tree"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not in tree {i}: {r}"))
    };
    assert_eq!(node(0, "shared-two")["version"], "2.0.0");
    assert_eq!(node(1, "shared-two")["version"], "1.0.0");
    // Each tree's nodes were judged (not left unchecked) from the one audit.
    for (i, name) in [(0, "shared-two"), (1, "shared-two"), (1, "takeover-demo")] {
        let n = node(i, name);
        assert!(n["error"].is_null(), "{n}");
        assert!(n["score"].is_u64(), "{n}");
    }
    assert!(
        r["packages"][1]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["evidence"]["dependency"] == "takeover-demo@1.2.1"),
        "{}",
        r["packages"][1]
    );
    let (full, _) = gets(&reg, "/shared-two");
    assert_eq!(
        full, 1,
        "one full packument of shared-two for 1.0.0 and 2.0.0"
    );
    assert_eq!(advisory_posts(&reg), 1, "one advisories POST for the run");
}

/// `config`: one advisories request per registry and credentials for the whole run (each
/// server's package and tree together), not one per server entry; a server with another token
/// is asked for with its own token.
#[test]
fn config_sends_one_advisories_request_per_registry_and_credentials() {
    let reg = takeover_registry();
    reg.add_packument(
        "root-b",
        simple("root-b", json!({"shared-two": "^1.0.0", "tree-mid": "^1"})),
    );
    reg.add_packument("shared-two", two_versions("shared-two"));
    let dir = tempfile::tempdir().unwrap();
    let key = format!("npm_config_{}:_authToken", crate::support::nerf(&reg));
    let server = |spec: &str, token: &str| {
        json!({"command": "npx", "args": ["-y", spec],
               "env": {"npm_config_registry": reg.url(), key.clone(): token}})
    };
    let file = dir.path().join("claude_desktop_config.json");
    std::fs::write(
        &file,
        json!({"mcpServers": {"a": server("tree-root@1.0.0", "tok-a"),
                              "a2": server("root-b@1.0.0", "tok-a"),
                              "a3": server("root-b@1.0.0", "tok-a"),
                              "b": server("tree-root@1.0.0", "tok-b"),
                              "local": {"command": "node", "args": ["server.js"]}}})
        .to_string(),
    )
    .unwrap();
    let out = config_json(dir.path(), &file);
    let mut tokens: Vec<Option<String>> = reg
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.decoded_path == "/-/npm/v1/security/advisories/bulk")
        .map(|r| r.header("authorization").map(str::to_string))
        .collect();
    tokens.sort();
    assert_eq!(
        tokens,
        vec![
            Some("Bearer tok-a".to_string()),
            Some("Bearer tok-b".to_string())
        ]
    );
    // One request holds both of token A's servers' packages and trees.
    let bodies: Vec<Value> = reg
        .posted()
        .iter()
        .map(|b| serde_json::from_slice(b).unwrap_or(Value::Null))
        .collect();
    let has = |body: &Value, name: &str, version: &str| {
        body[name]
            .as_array()
            .is_some_and(|v| v.contains(&json!(version)))
    };
    assert!(
        bodies.iter().any(|b| {
            has(b, "tree-root", "1.0.0")
                && has(b, "root-b", "1.0.0")
                && has(b, "takeover-demo", "1.2.1")
                && has(b, "shared-two", "1.0.0")
        }),
        "{bodies:?}"
    );
    // Every npm server still has its dependencies judged (the advisories answer reached them).
    let r = json(&out);
    let text = r.to_string();
    assert!(text.contains("takeover-demo@1.2.1"), "{text}");
}

/// `config FILE --format json` run from `dir` as home and working directory, with no tarball and
/// no cache (the request counts are the point), passed or failed but never an error.
fn config_json(dir: &std::path::Path, file: &std::path::Path) -> crate::support::Output {
    let mut cmd = crate::support::mcp_audit();
    cmd.env("HOME", dir).current_dir(dir).args([
        "config",
        file.to_str().unwrap(),
        "--no-tarball",
        "--no-cache",
        "--format",
        "json",
        "--now",
        crate::support::NOW,
    ]);
    let out = run(cmd);
    assert!(
        out.code == 0 || out.code == 1,
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    out
}

/// `scan root-a root-b --format json`, with no tarball and no cache (the request counts are the
/// point), passed or failed but never an error.
fn scan_two_roots(reg: &TestRegistry) -> Value {
    let out = run(scan(
        reg,
        &[
            "root-a",
            "root-b",
            "--no-tarball",
            "--no-cache",
            "--format",
            "json",
        ],
    ));
    assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
    json(&out)
}
