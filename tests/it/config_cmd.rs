//! `mcp-audit config` end to end: client configs from `fixtures/mcp-configs/scan/` (templates
//! filled with the URLs of two loopback registries, the private one requiring a token), bad
//! files, discovery, the gate and the exit codes. No output of any run may hold the token.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::support::*;
use serde_json::Value;

const TOKEN: &str = "npm_CONFIGtestTOKENcccccccccccccccccccccccc3";

struct Setup {
    public: TestRegistry,
    private: TestRegistry,
    /// The Python index the `uvx` entries read (mcp-audit's `--index-url`).
    pyindex: TestRegistry,
    dir: tempfile::TempDir,
}

impl Setup {
    fn path(&self, rel: &str) -> String {
        self.dir.path().join(rel).display().to_string()
    }
}

/// Copies `fixtures/mcp-configs/scan/` into a scratch directory with the placeholders filled.
fn setup() -> Setup {
    let public = fixture_registry();
    let private = fixture_registry();
    private.require_bearer(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mcp-configs/scan");
    crate::support::fixtures::copy_filled(&src, dir.path(), &|text: &str| {
        text.replace("{{public}}", &public.url())
            .replace("{{private_nerf}}", &nerf(&private))
            .replace("{{private}}", &private.url())
            .replace("{{token}}", TOKEN)
    });
    let pyindex = TestRegistry::start_empty();
    let file = crate::support::pyindex::PyFile::new(
        "mcp_server_fetch-2025.4.7.tar.gz",
        "2025.4.7",
        crate::support::pyindex::sdist("mcp-server-fetch", "2025.4.7", &["mcp>=1.1.3,<2"], &[]),
        "2025-04-07T00:00:00Z",
    );
    crate::support::pyindex::serve(
        &pyindex,
        "mcp-server-fetch",
        &[file],
        crate::support::pyindex::Simple::Json("1.1"),
        None,
        None,
    );
    Setup {
        public,
        private,
        pyindex,
        dir,
    }
}

/// `mcp-audit config` in `cwd` with the public registry as the inherited default and the token
/// in `FIXTURE_TOKEN` (what `${FIXTURE_TOKEN}` references); checks that no output holds it.
fn config(s: &Setup, cwd: &Path, args: &[&str]) -> Output {
    let mut cmd = mcp_audit();
    cmd.current_dir(cwd)
        .env("HOME", s.dir.path())
        .env("FIXTURE_TOKEN", TOKEN)
        .arg("config")
        .args(args);
    loopback_indexes(&mut cmd, &s.public, &s.pyindex);
    let out = run(cmd);
    out.assert_no_leak(&[TOKEN]);
    out
}

/// Servers of file `i` by name.
fn servers(report: &Value, i: usize) -> BTreeMap<String, Value> {
    report["files"][i]["servers"]
        .as_array()
        .unwrap_or_else(|| panic!("file {i} has no servers: {report:#}"))
        .iter()
        .map(|s| (s["name"].as_str().unwrap().to_string(), s.clone()))
        .collect()
}

fn findings(server: &Value) -> Vec<String> {
    rule_ids(&server["findings"])
}

#[test]
fn every_launch_is_audited_with_its_own_registry_and_credentials() {
    let s = setup();
    let out = config(
        &s,
        s.dir.path(),
        &[
            &s.path("claude_desktop_config.json"),
            &s.path("project/.vscode/mcp.json"),
            &s.path("project/.mcp.json"),
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let r = json(&out);
    assert_eq!(r["kind"], "config");
    assert_eq!(r["summary"]["files"], 3);
    assert_eq!(r["summary"]["servers"], 10);
    assert_eq!(r["summary"]["errors"], 0);
    assert_eq!(r["files"][0]["client"], "claude-desktop");
    assert_eq!(r["files"][1]["client"], "vscode");
    assert_eq!(r["files"][2]["client"], "claude-code");

    let desktop = servers(&r, 0);
    let pinned = &desktop["pinned"];
    assert_eq!(pinned["package"]["status"], "scanned");
    assert_eq!(pinned["package"]["name"], "good-mcp-server");
    assert_eq!(pinned["package"]["version"], "1.2.0");
    assert_eq!(pinned["package"]["registry"], s.public.url());
    assert!(pinned["facts"]["provenance"].is_object());
    assert!(!findings(pinned).iter().any(|f| f.starts_with("launch-")));
    assert_eq!(
        pinned["launch_facts"]["launch"]["pinned_version_exists"],
        true
    );

    let unpinned = &desktop["unpinned"];
    assert!(findings(unpinned).contains(&"launch-unpinned".to_string()));
    assert_eq!(
        unpinned["package"]["version"], "1.2.0",
        "latest was scanned"
    );

    // The registry answered, and the version is not there: a launch finding, not an error.
    let missing = &desktop["missing-version"];
    assert!(findings(missing).contains(&"launch-version-missing".to_string()));
    assert_eq!(missing["package"]["status"], "not-scanned");
    assert_eq!(missing["status"], "passed");
    assert_eq!(
        missing["launch_facts"]["launch"]["pinned_version_exists"],
        false
    );

    // `--@fixture:registry=` on the launch, the token from the entry's env by `${VAR}`.
    let scoped = &desktop["private-scoped"];
    assert_eq!(scoped["package"]["status"], "scanned", "{scoped:#}");
    assert_eq!(scoped["package"]["registry"], s.private.url());
    assert!(!findings(scoped).contains(&"launch-inline-npm-token".to_string()));

    // uvx: scanned from the index mcp-audit's --index-url stands for.
    let fetch = &desktop["fetch"];
    assert_eq!(fetch["package"]["status"], "scanned", "{fetch:#}");
    assert_eq!(fetch["package"]["name"], "mcp-server-fetch");
    assert_eq!(fetch["package"]["version"], "2025.4.7");
    assert_eq!(
        fetch["launch_facts"]["launch"]["pinned_version_exists"],
        true
    );
    assert!(!findings(fetch).contains(&"launch-unpinned".to_string()));

    {
        let (kind, reason) = ("docker", "ghcr.io/github/github-mcp-server:v0.9.0");
        let srv = &desktop["github"];
        assert_eq!(srv["package"]["status"], "not-scanned");
        assert!(
            srv["package"]["reason"].as_str().unwrap().contains(reason),
            "{srv:#}"
        );
        assert_eq!(srv["launch_facts"]["launch"]["kind"], kind);
        assert!(!findings(srv).contains(&"launch-unpinned".to_string()));
        // Nothing was looked at: every package rule is inconclusive, none passed.
        assert!(srv["coverage"].as_u64().unwrap() < 50, "{srv:#}");
    }

    // VS Code: `npm_config_registry` and a literal token in `env`.
    let vscode = servers(&r, 1);
    let internal = &vscode["internal"];
    assert_eq!(internal["package"]["status"], "scanned", "{internal:#}");
    assert_eq!(internal["package"]["registry"], s.private.url());
    let f = findings(internal);
    assert!(f.contains(&"launch-inline-npm-token".to_string()), "{f:?}");
    // One credential, one finding: the inline-token rule, not the plaintext one as well.
    assert!(!f.contains(&"launch-plaintext-secret".to_string()), "{f:?}");
    let fs_server = &vscode["filesystem"];
    assert_eq!(
        fs_server["package"]["name"],
        "@modelcontextprotocol/server-filesystem"
    );
    assert_eq!(fs_server["package"]["registry"], s.public.url());
    assert!(findings(fs_server).contains(&"launch-unpinned".to_string()));

    // Claude Code: two registries in one launch; a remote server over plain HTTP.
    let code = servers(&r, 2);
    assert_eq!(
        code["two-registries"]["package"]["registry"],
        s.private.url()
    );
    assert!(findings(&code["docs"]).contains(&"launch-remote-insecure".to_string()));
    assert_eq!(code["docs"]["package"]["status"], "not-scanned");

    // The token went to the private registry, on every request, and nowhere else.
    assert!(!s.private.requests().is_empty());
    assert!(s
        .private
        .authorizations()
        .iter()
        .all(|a| a.as_deref() == Some(&*format!("Bearer {TOKEN}"))));
    assert!(s.public.authorizations().iter().all(Option::is_none));
    assert!(s.private.hits("/good-mcp-server") == 0);
}

#[test]
fn the_gate_and_exit_codes_work_as_for_scan() {
    let s = setup();
    let file = s.path("claude_desktop_config.json");
    let out = config(
        &s,
        s.dir.path(),
        &[&file, "--fail-under", "90", "--format", "json"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let r = json(&out);
    assert_eq!(r["exit_code"], 1);
    let desktop = servers(&r, 0);
    assert_eq!(desktop["unpinned"]["status"], "failed");
    assert!(desktop["unpinned"]["gate_failures"][0]
        .as_str()
        .unwrap()
        .contains("below --fail-under 90"));

    // --strict: an undecided rule (every package rule of the docker server) fails the gate.
    let out = config(&s, s.dir.path(), &[&file, "--strict", "-q"]);
    assert_eq!(out.code, 1, "{}", out.stdout);

    // Without the token the private package cannot be checked: exit 3, and the others are
    // still audited.
    let mut cmd = mcp_audit();
    cmd.current_dir(s.dir.path())
        .env("HOME", s.dir.path())
        .args(["config", &file, "--format", "json", "--registry"])
        .arg(s.public.url())
        .args(["--now", NOW, "--retry-base-ms", "10"]);
    let out = run(cmd);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let r = json(&out);
    let desktop = servers(&r, 0);
    let scoped = &desktop["private-scoped"];
    assert_eq!(scoped["status"], "error");
    assert_eq!(scoped["package"]["error"]["kind"], "unauthorized");
    assert!(scoped["package"]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("FIXTURE_TOKEN"));
    assert_eq!(desktop["pinned"]["status"], "passed");
    assert_eq!(r["summary"]["errors"], 1);
}

#[test]
fn no_scan_judges_launches_without_any_request() {
    let s = setup();
    let out = config(
        &s,
        s.dir.path(),
        &[
            &s.path("claude_desktop_config.json"),
            "--no-scan",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(s.public.requests().is_empty());
    assert!(s.private.requests().is_empty());
    let r = json(&out);
    let desktop = servers(&r, 0);
    assert!(findings(&desktop["unpinned"]).contains(&"launch-unpinned".to_string()));
    assert!(rule_ids(&desktop["pinned"]["inconclusive"])
        .contains(&"launch-version-missing".to_string()));
}

#[test]
fn bad_files_are_reported_each_on_its_own() {
    let s = setup();
    let bad = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mcp-configs/bad");
    let b = |f: &str| bad.join(f).display().to_string();
    let missing = s.path("nowhere/mcp.json");
    let good = s.path("project/.mcp.json");
    let args = [
        b("invalid.json"),
        b("empty.json"),
        b("no-command.json"),
        b("not-object.json"),
        missing.clone(),
        good.clone(),
    ];
    let mut argv: Vec<&str> = args.iter().map(String::as_str).collect();
    argv.extend(["--format", "json"]);
    let out = config(&s, s.dir.path(), &argv);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let r = json(&out);
    let files = r["files"].as_array().unwrap();
    assert_eq!(files.len(), 6);
    assert_eq!(files[0]["status"], "error");
    assert_eq!(files[0]["error"]["line"], 4);
    assert_eq!(files[0]["error"]["column"], 23);
    assert_eq!(files[1]["status"], "ok");
    assert!(files[1]["notes"][0]["message"]
        .as_str()
        .unwrap()
        .contains("empty"));
    assert_eq!(files[2]["unreadable_servers"].as_array().unwrap().len(), 1);
    assert!(files[2]["unreadable_servers"][0]["line"].is_number());
    assert_eq!(files[3]["error"]["kind"], "not_an_object");
    assert_eq!(files[4]["error"]["kind"], "unreadable");
    // The good file after them is audited in full.
    assert_eq!(files[5]["status"], "ok");
    assert_eq!(files[5]["servers"].as_array().unwrap().len(), 2);
    assert_eq!(r["summary"]["file_errors"], 3);

    // In table mode each bad file gets one line naming it, with file:line:column.
    let mut argv: Vec<&str> = args.iter().map(String::as_str).collect();
    argv.push("-q");
    let out = config(&s, s.dir.path(), &argv);
    assert_eq!(out.code, 3);
    assert!(out.stdout.contains("invalid.json:4:23:"), "{}", out.stdout);
    assert!(out.stderr.contains("invalid.json:4:23:"), "{}", out.stderr);
    assert!(
        out.stdout.contains(&format!("{missing}: cannot be read")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("two-registries"), "{}", out.stdout);
}

#[test]
fn discover_finds_user_and_project_configs_and_says_which() {
    let s = setup();
    let home = s.dir.path();
    fs::create_dir_all(home.join(".cursor")).unwrap();
    fs::copy(
        home.join("claude_desktop_config.json"),
        home.join(".cursor/mcp.json"),
    )
    .unwrap();
    let project = home.join("project");
    let out = config(
        &s,
        &project,
        &["--discover", "--no-scan", "--format", "json"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = json(&out);
    let found: Vec<(String, bool)> = r["discovered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap().to_string(),
                d["found"].as_bool().unwrap(),
            )
        })
        .collect();
    let is_found = |suffix: &str| {
        found
            .iter()
            .any(|(p, f)| *f && PathBuf::from(p).ends_with(suffix))
    };
    assert!(is_found(".cursor/mcp.json"), "{found:?}");
    assert!(is_found("project/.mcp.json"), "{found:?}");
    assert!(is_found("project/.vscode/mcp.json"), "{found:?}");
    assert!(found
        .iter()
        .any(|(p, f)| !*f && p.ends_with("claude_desktop_config.json")));
    assert_eq!(r["summary"]["files"], 3);

    // Table mode lists every place looked at.
    let out = config(&s, &project, &["--discover", "--no-scan"]);
    assert!(out.stdout.contains("not found"), "{}", out.stdout);
    assert!(out.stdout.contains("found    "), "{}", out.stdout);

    // Nothing found: nothing was checked, which is not a pass.
    let empty = tempfile::tempdir().unwrap();
    let mut cmd = mcp_audit();
    cmd.current_dir(empty.path())
        .env("HOME", empty.path())
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("CLAUDE_CONFIG_DIR")
        .args(["config", "--discover", "--no-scan"]);
    let out = run(cmd);
    assert_eq!(out.code, 3, "{}", out.stdout);
    assert!(
        out.stdout.contains("no MCP client config to audit"),
        "{}",
        out.stdout
    );
}

#[test]
fn table_output_groups_by_file_and_server_without_secrets() {
    let s = setup();
    let out = config(
        &s,
        s.dir.path(),
        &[
            &s.path("project/.vscode/mcp.json"),
            &s.path("project/.mcp.json"),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let vscode = out
        .stdout
        .find(".vscode/mcp.json (VS Code)")
        .expect("file header");
    let internal = out.stdout.find("internal (line").expect("server header");
    let mcp = out
        .stdout
        .find(".mcp.json (Claude Code)")
        .expect("second file");
    assert!(vscode < internal && internal < mcp, "{}", out.stdout);
    assert!(out.stdout.contains("launch-inline-npm-token"));
    assert!(
        out.stdout.contains("npm_config_"),
        "the secret's location is not in the table:\n{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("2 config file(s) (0 unreadable), 4 server(s)"),
        "{}",
        out.stdout
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = run({
        let mut c = mcp_audit();
        c.args(["config"]);
        c
    });
    assert_eq!(out.code, 2, "{}", out.stderr);
    let out = run({
        let mut c = mcp_audit();
        c.args(["config", "x.json", "--client", "notepad"]);
        c
    });
    assert_eq!(out.code, 2, "{}", out.stderr);
    // As for `scan`, an unusable --registry stops the run before any file or request.
    let out = run({
        let mut c = mcp_audit();
        c.args(["config", "x.json", "--registry", "registry.example.com"]);
        c
    });
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("has no scheme"), "{}", out.stderr);
}

#[test]
fn a_package_the_registry_lacks_is_not_checked_and_its_pin_is_a_finding() {
    let s = setup();
    let file = s.dir.path().join("mcp_config.json");
    fs::write(
        &file,
        r#"{"mcpServers": {
            "hallucinated": {"command": "npx", "args": ["-y", "openai-mcp-tools@0.9.1"]},
            "fine": {"command": "npx", "args": ["-y", "good-mcp-server@1.2.0"]}
        }}"#,
    )
    .unwrap();
    let out = config(
        &s,
        s.dir.path(),
        &[&file.display().to_string(), "--format", "json"],
    );
    assert_eq!(out.code, 3, "{}", out.stderr);
    let r = json(&out);
    let srv = servers(&r, 0);
    let missing = &srv["hallucinated"];
    assert_eq!(missing["status"], "error");
    assert_eq!(missing["package"]["error"]["kind"], "not-found");
    assert!(findings(missing).contains(&"launch-version-missing".to_string()));
    assert_eq!(srv["fine"]["status"], "passed");
}

/// Issue K5: what the table redacts appears nowhere else (table, JSON, stderr), wherever in
/// the entry the credential is written.
#[test]
fn credentials_in_a_hostile_config_appear_in_no_output() {
    let s = setup();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mcp-configs/hostile/mcp.json");
    let file = file.display().to_string();
    let secrets = [
        "HOSTILEurlUSERtoken0000000001",
        "HOSTILEshellTOKEN0000000002",
        "HOSTILEbearerTOKEN000000003",
        "HOSTILEflagTOKEN00000000004",
        "HOSTILEflagTOKEN00000000005",
    ];
    for format in [&["--format", "json"][..], &["-v"][..]] {
        let mut argv = vec![file.as_str(), "--no-scan"];
        argv.extend_from_slice(format);
        let out = config(&s, s.dir.path(), &argv);
        for secret in secrets {
            assert!(
                !out.stdout.contains(secret),
                "{secret} in stdout ({format:?}):\n{}",
                out.stdout
            );
            assert!(
                !out.stderr.contains(secret),
                "{secret} in stderr ({format:?}):\n{}",
                out.stderr
            );
        }
        if format[0] == "--format" {
            // Still there, redacted: the servers were read, not dropped.
            let r = json(&out);
            assert_eq!(r["files"][0]["servers"].as_array().unwrap().len(), 5);
        }
    }
}

/// Issue K9: a config path that is not a regular file is refused before it is opened (a FIFO
/// would block, `/dev/zero` would grow without end), and so is one over the size cap; each is
/// one line naming the file, and the other files are still audited.
#[cfg(unix)]
#[test]
fn non_regular_and_oversized_config_files_are_refused() {
    let s = setup();
    let fifo = s.dir.path().join("fifo.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let big = s.dir.path().join("big.json");
    let f = fs::File::create(&big).unwrap();
    f.set_len(mcp_audit::pipeline::config::MAX_CONFIG_BYTES + 1)
        .unwrap();
    let good = s.path("project/.mcp.json");
    let (fifo, big) = (fifo.display().to_string(), big.display().to_string());
    let argv = [
        "/dev/zero",
        fifo.as_str(),
        big.as_str(),
        good.as_str(),
        "--no-scan",
        "--format",
        "json",
    ];
    let out = config(&s, s.dir.path(), &argv);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let r = json(&out);
    let files = r["files"].as_array().unwrap();
    for (i, want) in [
        (0, "not a regular file"),
        (1, "not a regular file"),
        (2, "16 MiB"),
    ] {
        assert_eq!(files[i]["error"]["kind"], "unreadable", "{:#}", files[i]);
        let message = files[i]["error"]["message"].as_str().unwrap();
        assert!(message.contains(want), "{message}");
    }
    assert_eq!(files[3]["status"], "ok");
    let argv = ["/dev/zero", fifo.as_str(), big.as_str(), "--no-scan", "-q"];
    let out = config(&s, s.dir.path(), &argv);
    for name in ["/dev/zero", fifo.as_str(), big.as_str()] {
        let lines: Vec<&str> = out.stderr.lines().filter(|l| l.contains(name)).collect();
        assert_eq!(lines.len(), 1, "{name}: {}", out.stderr);
        assert!(lines[0].contains("refused"), "{}", lines[0]);
    }
}
