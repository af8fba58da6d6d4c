//! MCP client configs (issue D): every fixture format parses, each server's launch reads as it
//! would run, the entry's own npm configuration picks the right registry and credential, and no
//! credential ever reaches Debug, Display or JSON.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use mcp_audit::mcpconfig::{
    client_for_path, discover, launch_risks, npm_layers, npm_layers_with_env, parse_config,
    parse_launch, well_known_paths, Client, ConfigFileError, Launch, ParsedConfig, Platform, Scope,
    ServerEntry,
};
use mcp_audit::npmrc::{Config, ConfigSource, Layer};
use url::Url;

use crate::support::assert_no_leak;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/mcp-configs/");

/// Every fake credential in the fixtures (see fixtures/mcp-configs/README.md).
const SECRETS: &[&str] = &[
    "npm_FAKEacme0TOKEN0for0tests0only0000010",
    "npm_FAKEtools0TOKEN0for0tests0only000020",
    "ghp_FAKEghp0TOKEN0for0tests0only00000030",
    "sk-proj-FAKEopenai0key0for0tests0only0004",
    "xoxb-000000000000-0000000000000-FAKEslackTOKEN05",
    "AKIAFAKE000000000006",
    "FAKEjfrogIdentityToken0forTests0only007",
    "FAKEquerykey0000000008",
    "pplx-FAKEperplexity0key0for0tests0only009",
    "sbp_FAKEsupabase0token0for0tests0only0010",
    "figd_FAKEfigma0token0for0tests0only0000011",
];

const FIXTURES: &[&str] = &[
    "claude-desktop/claude_desktop_config.json",
    "claude-desktop-windows/claude_desktop_config.json",
    "claude-code/.mcp.json",
    "claude-code/.claude.json",
    "cursor/.cursor/mcp.json",
    "vscode/.vscode/mcp.json",
    "vscode-user/Code/User/settings.json",
    "windsurf/mcp_config.json",
    "gemini/.gemini/settings.json",
];

fn path(rel: &str) -> PathBuf {
    Path::new(DIR).join(rel)
}

fn load(rel: &str) -> ParsedConfig {
    try_load(rel).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn try_load(rel: &str) -> Result<ParsedConfig, ConfigFileError> {
    let p = path(rel);
    let text = fs::read_to_string(&p).unwrap();
    parse_config(&p, &text, client_for_path(&p))
}

fn server<'a>(c: &'a ParsedConfig, name: &str) -> &'a ServerEntry {
    c.servers
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no server {name} in {:?}", c.path))
}

fn spec_of(l: &Launch) -> &str {
    match l {
        Launch::Npm { spec, .. } => spec,
        other => panic!("not an npm launch: {other:?}"),
    }
}

/// The entry's layers over npm's defaults, as the caller would merge them over the user's own.
fn config_for(s: &ServerEntry) -> Config {
    let launch = parse_launch(s);
    let mut layers = vec![Layer::defaults()];
    layers.extend(npm_layers(s, &launch));
    Config::from_layers(layers)
}

fn registry(s: &ServerEntry, package: &str) -> String {
    config_for(s).registry_for(package).unwrap().url.to_string()
}

/// The credential key npm would use for `package`'s packument, if any.
fn auth_key(s: &ServerEntry, package: &str) -> Option<(String, ConfigSource)> {
    let c = config_for(s);
    let reg = c.registry_for(package).unwrap();
    c.auth_for_url(&reg.packument_url(package))
        .map(|a| (a.key, a.source))
}

#[test]
fn every_client_format_parses() {
    let expect: &[(&str, Client, &[&str])] = &[
        (
            FIXTURES[0],
            Client::ClaudeDesktop,
            &[
                "filesystem",
                "github",
                "acme-internal",
                "git",
                "github-docker",
                "my-local-server",
                "installer",
            ],
        ),
        (
            FIXTURES[1],
            Client::ClaudeDesktop,
            &["sequential-thinking", "memory", "slack", "bootstrap"],
        ),
        (
            FIXTURES[2],
            Client::ClaudeCode,
            &["internal-docs", "sentry", "playwright"],
        ),
        (
            FIXTURES[3],
            Client::ClaudeCode,
            &["context7", "linear", "tools-bridge"],
        ),
        (
            FIXTURES[4],
            Client::Cursor,
            &[
                "browser-tools",
                "internal-search",
                "remote-analytics",
                "openai-tools",
            ],
        ),
        (
            FIXTURES[5],
            Client::VsCode,
            &["github", "github-local", "fetch", "perplexity"],
        ),
        (FIXTURES[6], Client::VsCode, &["aws-docs", "puppeteer"]),
        (
            FIXTURES[7],
            Client::Windsurf,
            &["stripe", "supabase", "bun-tool", "old-server", "eval-call"],
        ),
        (
            FIXTURES[8],
            Client::Gemini,
            &["figma", "yarn-tool", "env-wrapped"],
        ),
    ];
    for (rel, client, names) in expect {
        let c = load(rel);
        assert_eq!(c.client, Some(*client), "{rel}");
        let got: Vec<&str> = c.servers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(&got, names, "{rel}");
        assert!(c.problems.is_empty(), "{rel}: {:?}", c.problems);
        assert!(c.notes.is_empty(), "{rel}: {:?}", c.notes);
        for s in &c.servers {
            assert!(s.line.is_some(), "{rel} {}", s.name);
        }
    }
}

#[test]
fn lines_point_at_server_names() {
    let c = load("vscode/.vscode/mcp.json");
    let text = fs::read_to_string(path("vscode/.vscode/mcp.json")).unwrap();
    for s in &c.servers {
        let line = text.lines().nth(s.line.unwrap() - 1).unwrap();
        assert!(line.contains(&format!("\"{}\"", s.name)), "{line}");
    }
}

#[test]
fn fields_are_read() {
    let vs = load("vscode/.vscode/mcp.json");
    let gh = server(&vs, "github");
    assert_eq!(
        gh.url.as_deref(),
        Some("https://api.githubcopilot.com/mcp/")
    );
    assert_eq!(gh.transport.as_deref(), Some("http"));
    assert_eq!(gh.headers["Authorization"], "Bearer ${input:github-token}");
    assert_eq!(
        server(&vs, "github-local").env_file.as_deref(),
        Some("${workspaceFolder}/.env")
    );

    let claude = load("claude-code/.claude.json");
    let bridge = server(&claude, "tools-bridge");
    assert_eq!(bridge.project.as_deref(), Some("/home/alex/work/app"));
    assert_eq!(server(&claude, "context7").project, None);
    assert_eq!(server(&claude, "linear").transport.as_deref(), Some("sse"));

    let ws = load("windsurf/mcp_config.json");
    assert_eq!(
        server(&ws, "stripe").url.as_deref(),
        Some("https://mcp.stripe.com/")
    );
    assert!(server(&ws, "old-server").disabled);

    let gem = load("gemini/.gemini/settings.json");
    let figma = server(&gem, "figma");
    assert_eq!(figma.transport.as_deref(), Some("http"));
    assert_eq!(server(&gem, "yarn-tool").cwd.as_deref(), Some("./tools"));
}

#[test]
fn launches() {
    let launch = |rel: &str, name: &str| parse_launch(server(&load(rel), name));
    let cd = FIXTURES[0];
    assert_eq!(
        spec_of(&launch(cd, "filesystem")),
        "@modelcontextprotocol/server-filesystem"
    );
    assert_eq!(
        spec_of(&launch(cd, "acme-internal")),
        "@acme/mcp-server@1.4.2"
    );
    assert_eq!(
        launch(cd, "git"),
        Launch::PyPi {
            runner: "uvx".into(),
            package: "mcp-server-git".into()
        }
    );
    assert_eq!(
        launch(cd, "github-docker"),
        Launch::Docker {
            image: "ghcr.io/github/github-mcp-server".into()
        }
    );
    assert_eq!(
        launch(cd, "my-local-server"),
        Launch::Node {
            path: "/Users/alex/dev/my-mcp/build/index.js".into()
        }
    );
    assert!(matches!(launch(cd, "installer"), Launch::Shell { .. }));

    let win = FIXTURES[1];
    assert_eq!(
        spec_of(&launch(win, "sequential-thinking")),
        "@modelcontextprotocol/server-sequential-thinking@0.6.2"
    );
    assert_eq!(
        spec_of(&launch(win, "memory")),
        "@modelcontextprotocol/server-memory"
    );
    assert_eq!(
        spec_of(&launch(win, "slack")),
        "@modelcontextprotocol/server-slack@^2025.4.0"
    );
    assert!(matches!(launch(win, "bootstrap"), Launch::Shell { .. }));

    match launch("claude-code/.claude.json", "tools-bridge") {
        Launch::Npm {
            runner,
            spec,
            yes,
            extra_packages,
            ..
        } => {
            assert_eq!(runner, "npx");
            assert_eq!(spec, "@tools/mcp-bridge@2.0.0");
            assert!(yes);
            assert_eq!(extra_packages, vec!["@acme/bridge-plugin@1.1.0"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        launch("claude-code/.mcp.json", "sentry"),
        Launch::Remote { transport: Some(t), .. } if t == "http"
    ));
    assert_eq!(
        launch("vscode/.vscode/mcp.json", "fetch"),
        Launch::PyPi {
            runner: "uvx".into(),
            package: "mcp-server-fetch==2025.1.17".into()
        }
    );
    match launch("vscode-user/Code/User/settings.json", "puppeteer") {
        Launch::Npm {
            runner, spec, yes, ..
        } => assert_eq!(
            (runner.as_str(), spec.as_str(), yes),
            (
                "npm exec",
                "@modelcontextprotocol/server-puppeteer@0.6.2",
                true
            )
        ),
        other => panic!("{other:?}"),
    }
    let ws = "windsurf/mcp_config.json";
    assert!(matches!(launch(ws, "stripe"), Launch::Remote { .. }));
    assert!(matches!(launch(ws, "supabase"), Launch::Npm { runner, .. } if runner == "pnpm dlx"));
    assert!(matches!(launch(ws, "bun-tool"), Launch::Npm { runner, .. } if runner == "bunx"));
    assert!(matches!(
        launch(ws, "eval-call"),
        Launch::Npm { call: Some(_), spec, .. } if spec.is_empty()
    ));
    let gem = "gemini/.gemini/settings.json";
    assert!(matches!(
        launch(gem, "yarn-tool"),
        Launch::Npm { runner, spec, .. } if runner == "yarn dlx" && spec == "mcp-yarn-tool@1.0.0"
    ));
    assert_eq!(spec_of(&launch(gem, "env-wrapped")), "mirror-mcp@2.1.0");
}

/// The seed shapes: a scoped private registry by flag with a literal token in `env`; a default
/// registry and its token by reference in `env`; two scopes on two registries, one behind a
/// path prefix; a registry by `--registry URL`; one set through `env NAME=value`.
#[test]
fn seed_shapes_pick_registry_and_auth() {
    let cd = load("claude-desktop/claude_desktop_config.json");
    let acme = server(&cd, "acme-internal");
    assert_eq!(registry(acme, "@acme/mcp-server"), "https://npm.acme.dev/");
    assert_eq!(
        auth_key(acme, "@acme/mcp-server"),
        Some(("//npm.acme.dev/:_authToken".into(), ConfigSource::Env))
    );
    // Unscoped packages still go to the public registry, without the acme token.
    assert_eq!(registry(acme, "left-pad"), "https://registry.npmjs.org/");
    assert_eq!(auth_key(acme, "left-pad"), None);
    let flag_source = config_for(acme)
        .registry_for("@acme/mcp-server")
        .unwrap()
        .source;
    assert_eq!(flag_source, ConfigSource::Cli);

    let project = load("claude-code/.mcp.json");
    let docs = server(&project, "internal-docs");
    assert_eq!(
        registry(docs, "@corp/docs-mcp"),
        "https://registry.corp.example/npm/"
    );
    assert_eq!(
        auth_key(docs, "@corp/docs-mcp").map(|a| a.0),
        Some("//registry.corp.example/npm/:_authToken".into())
    );

    let user = load("claude-code/.claude.json");
    let bridge = server(&user, "tools-bridge");
    assert_eq!(
        registry(bridge, "@tools/mcp-bridge"),
        "https://tools.example.jfrog.io/artifactory/api/npm/npm-local/"
    );
    assert_eq!(
        auth_key(bridge, "@tools/mcp-bridge").map(|a| a.0),
        Some("//tools.example.jfrog.io/artifactory/api/npm/npm-local/:_authToken".into())
    );
    assert_eq!(
        registry(bridge, "@acme/bridge-plugin"),
        "https://npm.acme.dev/"
    );
    assert_eq!(
        auth_key(bridge, "@acme/bridge-plugin").map(|a| a.0),
        Some("//npm.acme.dev/:_authToken".into())
    );
    assert_eq!(registry(bridge, "other"), "https://registry.npmjs.org/");

    let cursor = load("cursor/.cursor/mcp.json");
    let search = server(&cursor, "internal-search");
    assert_eq!(
        registry(search, "search-mcp"),
        "https://registry.internal.example/"
    );

    let gem = load("gemini/.gemini/settings.json");
    assert_eq!(
        registry(server(&gem, "env-wrapped"), "mirror-mcp"),
        "https://mirror.example.org/npm/"
    );
    // yarn dlx reads .yarnrc.yml, not npm's configuration: no layers.
    let yarn = server(&gem, "yarn-tool");
    assert!(npm_layers(yarn, &parse_launch(yarn)).is_empty());
}

#[test]
fn entry_layers_win_over_the_users_own() {
    let cd = load("claude-desktop/claude_desktop_config.json");
    let acme = server(&cd, "acme-internal");
    let mut user_env = HashMap::new();
    user_env.insert(
        "npm_config_@acme:registry".to_string(),
        "https://stale.acme.dev/".to_string(),
    );
    let (user_layer, _) = Layer::from_env(&user_env);
    let (user_cli, _) = Layer::from_cli(
        &[("registry".into(), "https://mirror.example/".into())],
        &user_env,
    );
    let mut layers = vec![Layer::defaults(), user_layer, user_cli];
    layers.extend(npm_layers(acme, &parse_launch(acme)));
    let c = Config::from_layers(layers);
    assert_eq!(
        c.registry_for("@acme/mcp-server").unwrap().url.as_str(),
        "https://npm.acme.dev/"
    );
    assert_eq!(
        c.registry_for("left-pad").unwrap().url.as_str(),
        "https://mirror.example/"
    );
}

#[test]
fn references_expand_against_the_process_environment() {
    let project = load("claude-code/.mcp.json");
    let docs = server(&project, "internal-docs");
    let launch = parse_launch(docs);
    let (_, diags) = npm_layers_with_env(docs, &launch, &HashMap::new());
    assert!(
        diags.iter().any(|d| d.message.contains("CORP_NPM_TOKEN")),
        "{diags:?}"
    );
    let mut base = HashMap::new();
    base.insert("CORP_NPM_TOKEN".to_string(), "resolved-value".to_string());
    base.insert(
        "npm_config_registry".to_string(),
        "https://not-from-the-entry/".to_string(),
    );
    let (layers, diags) = npm_layers_with_env(docs, &launch, &base);
    assert!(diags.is_empty(), "{diags:?}");
    let entries: Vec<_> = layers.iter().flat_map(|l| &l.entries).collect();
    assert_eq!(entries.len(), 2, "{entries:?}");
    let c = Config::from_layers(layers);
    assert_eq!(
        c.get("//registry.corp.example/npm/:_authToken"),
        Some("resolved-value")
    );
    assert_eq!(
        c.get("registry"),
        Some("https://registry.corp.example/npm/")
    );
}

#[test]
fn launch_risk_facts() {
    let risks = |rel: &str, name: &str| {
        let c = load(rel);
        let s = server(&c, name);
        launch_risks(s, &parse_launch(s))
    };
    let cd = FIXTURES[0];
    let r = risks(cd, "filesystem");
    assert!(r.unpinned && r.pinned_version.is_none());
    assert!(r.unpinned_reason.unwrap().contains("no version"));
    let r = risks(cd, "github");
    assert!(r.unpinned);
    assert_eq!(r.unpinned_reason.as_deref(), Some("dist-tag latest"));
    assert_eq!(r.plaintext_secrets.len(), 1);
    assert_eq!(
        r.plaintext_secrets[0].location,
        "env.GITHUB_PERSONAL_ACCESS_TOKEN"
    );
    assert_eq!(r.plaintext_secrets[0].kind, "GitHub token");
    assert_eq!(r.plaintext_secrets[0].evidence, "ghp_***");
    let r = risks(cd, "acme-internal");
    assert!(!r.unpinned);
    assert_eq!(r.pinned_version.as_deref(), Some("1.4.2"));
    assert_eq!(
        r.inline_npm_auth,
        vec!["env.npm_config_//npm.acme.dev/:_authToken"]
    );
    assert_eq!(r.plaintext_secrets[0].kind, "npm token");
    let r = risks(cd, "installer");
    assert!(r.shell_wrapper && r.pipe_to_shell);
    let r = risks(cd, "github-docker");
    assert!(r.unpinned && r.plaintext_secrets.is_empty());
    let r = risks(cd, "git");
    assert!(r.unpinned);
    let r = risks(cd, "my-local-server");
    assert_eq!(r, Default::default());

    let win = FIXTURES[1];
    let r = risks(win, "sequential-thinking");
    assert!(!r.unpinned && !r.shell_wrapper);
    let r = risks(win, "slack");
    assert!(r.unpinned && r.unpinned_reason.unwrap().starts_with("range"));
    assert_eq!(r.plaintext_secrets[0].location, "env.SLACK_BOT_TOKEN");
    assert_eq!(r.plaintext_secrets[0].kind, "Slack token");
    assert_eq!(r.plaintext_secrets.len(), 1, "{:?}", r.plaintext_secrets);
    let r = risks(win, "bootstrap");
    assert!(r.shell_wrapper && r.pipe_to_shell);

    let r = risks("claude-code/.mcp.json", "internal-docs");
    assert!(r.plaintext_secrets.is_empty() && r.inline_npm_auth.is_empty());
    let r = risks("claude-code/.mcp.json", "sentry");
    assert_eq!(r.remote_url.as_deref(), Some("https://mcp.sentry.dev/mcp"));
    assert!(r.plaintext_secrets.is_empty());
    let r = risks("claude-code/.mcp.json", "playwright");
    assert_eq!(r.unpinned_reason.as_deref(), Some("dist-tag next"));

    let r = risks("claude-code/.claude.json", "tools-bridge");
    assert!(!r.unpinned);
    assert_eq!(
        r.inline_npm_auth,
        vec!["env.npm_config_//tools.example.jfrog.io/artifactory/api/npm/npm-local/:_authToken"]
    );

    let cur = "cursor/.cursor/mcp.json";
    let r = risks(cur, "remote-analytics");
    assert_eq!(r.plaintext_secrets[0].location, "url");
    assert_eq!(r.plaintext_secrets[0].kind, "credential in URL query");
    assert!(r.remote_url.unwrap().contains("api_key=FAKE***"));
    let r = risks(cur, "openai-tools");
    assert_eq!(r.plaintext_secrets[0].location, "args[3]");
    assert_eq!(r.plaintext_secrets[0].evidence, "sk-p***");
    let r = risks(cur, "internal-search");
    assert!(r.unpinned && r.plaintext_secrets.is_empty());

    let vs = "vscode/.vscode/mcp.json";
    for name in ["github", "github-local", "fetch"] {
        let r = risks(vs, name);
        assert!(r.plaintext_secrets.is_empty(), "{name}: {r:?}");
    }
    let r = risks(vs, "perplexity");
    assert_eq!(r.plaintext_secrets[0].kind, "secret-named value");
    assert_eq!(r.plaintext_secrets[0].evidence, "pplx***");

    let r = risks("vscode-user/Code/User/settings.json", "aws-docs");
    assert_eq!(r.plaintext_secrets[0].kind, "AWS access key id");
    assert_eq!(r.unpinned_reason.as_deref(), Some("tag latest"));

    let ws = "windsurf/mcp_config.json";
    assert!(risks(ws, "eval-call").exec_call);
    assert_eq!(
        risks(ws, "supabase").plaintext_secrets[0].location,
        "env.SUPABASE_ACCESS_TOKEN"
    );
    assert_eq!(
        risks(ws, "bun-tool").unpinned_reason.as_deref(),
        Some("dist-tag beta")
    );

    let r = risks("gemini/.gemini/settings.json", "figma");
    assert_eq!(r.plaintext_secrets[0].location, "headers.X-Figma-Token");
}

#[test]
fn no_secret_in_any_output() {
    let mut out = String::new();
    for rel in FIXTURES {
        let c = load(rel);
        out.push_str(&format!("{c:?}\n{c:#?}\n"));
        out.push_str(&serde_json::to_string(&c).unwrap());
        for s in &c.servers {
            let l = parse_launch(s);
            let r = launch_risks(s, &l);
            out.push_str(&format!("{s:?}{l:?}{l:#?}{r:?}"));
            out.push_str(&serde_json::to_string(&l).unwrap());
            out.push_str(&serde_json::to_string(&r).unwrap());
            out.push_str(&serde_json::to_string(&s.redacted()).unwrap());
            for layer in npm_layers(s, &l) {
                out.push_str(&format!("{layer:?}"));
            }
            let c = config_for(s);
            if let Launch::Npm { spec, .. } = &l {
                if let Ok(reg) = c.registry_for(spec) {
                    let auth = c.auth_for_url(&reg.packument_url(spec));
                    out.push_str(&format!("{reg:?}{auth:?}"));
                    out.push_str(&serde_json::to_string(&auth).unwrap());
                }
            }
        }
    }
    for s in SECRETS {
        assert_no_leak("Debug, Display and JSON", &out, s);
    }
    // The structures still say where things are.
    assert!(out.contains("npm_config_//npm.acme.dev/:_authToken"));
    assert!(out.contains("ghp_***"));
}

#[test]
fn bad_inputs() {
    let e = try_load("bad/invalid.json").unwrap_err();
    // Reported where the missing comma belongs: right after `"npx"`.
    assert!(
        matches!(
            e,
            ConfigFileError::Syntax {
                line: 4,
                column: 23,
                ..
            }
        ),
        "{e}"
    );
    let shown = e.to_string();
    assert!(
        shown.ends_with("bad/invalid.json:4:23: Expected comma"),
        "{shown}"
    );

    let c = load("bad/empty.json");
    assert!(c.servers.is_empty() && c.problems.is_empty());
    assert!(c.notes[0].message.contains("empty"));

    let c = load("bad/no-command.json");
    assert_eq!(c.servers.len(), 1);
    assert_eq!(c.servers[0].name, "fine");
    assert_eq!(c.problems.len(), 1);
    assert_eq!(c.problems[0].server, "half-configured");
    assert_eq!(c.problems[0].line, Some(3));

    let e = try_load("bad/not-object.json").unwrap_err();
    assert!(
        matches!(
            e,
            ConfigFileError::NotAnObject {
                line: 1,
                column: 1,
                ..
            }
        ),
        "{e}"
    );

    let c = load("bad/no-servers.json");
    assert!(c.servers.is_empty());
    assert!(c.notes[0].message.contains("no MCP servers"));

    let c = load("bad/strict-client/claude_desktop_config.json");
    assert_eq!(c.servers.len(), 1);
    assert_eq!(c.notes.len(), 1);
    assert_eq!(c.notes[0].line, Some(2));
    assert!(c.notes[0].message.contains("Claude Desktop"));

    // A bad file does not taint the next: every file is parsed on its own.
    let unreadable = ConfigFileError::unreadable(
        Path::new("/nope/mcp.json"),
        &std::io::Error::from(std::io::ErrorKind::PermissionDenied),
    );
    assert!(unreadable
        .to_string()
        .starts_with("/nope/mcp.json: cannot be read"));
}

#[test]
fn discovery_finds_what_exists() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let cwd = tmp.path().join("proj");
    fs::create_dir_all(home.join(".cursor")).unwrap();
    fs::create_dir_all(cwd.join(".vscode")).unwrap();
    fs::create_dir_all(home.join(".config/Claude")).unwrap();
    fs::write(home.join(".cursor/mcp.json"), "{}").unwrap();
    fs::write(cwd.join(".vscode/mcp.json"), "{}").unwrap();
    fs::write(home.join(".claude.json"), "{}").unwrap();
    fs::write(cwd.join(".mcp.json"), "{}").unwrap();
    // A directory where a file is expected does not count.
    fs::create_dir_all(home.join(".config/Claude/claude_desktop_config.json")).unwrap();

    let env = HashMap::new();
    let found: Vec<(Client, Scope, bool)> = discover(&home, &cwd, Platform::Linux, &env)
        .into_iter()
        .map(|(k, f)| (k.client, k.scope, f))
        .collect();
    assert_eq!(
        found,
        vec![
            (Client::ClaudeDesktop, Scope::User, false),
            (Client::ClaudeCode, Scope::User, true),
            (Client::ClaudeCode, Scope::Project, true),
            (Client::Cursor, Scope::User, true),
            (Client::Cursor, Scope::Project, false),
            (Client::VsCode, Scope::User, false),
            (Client::VsCode, Scope::User, false),
            (Client::VsCode, Scope::Project, true),
            (Client::Windsurf, Scope::User, false),
            (Client::Gemini, Scope::User, false),
            (Client::Gemini, Scope::Project, false),
        ]
    );
    for (k, _) in discover(&home, &cwd, Platform::Linux, &env) {
        assert_eq!(client_for_path(&k.path), Some(k.client), "{:?}", k.path);
    }
}

#[test]
fn well_known_paths_per_platform() {
    let home = Path::new("/Users/alex");
    let cwd = Path::new("/Users/alex/src/app");
    let env = HashMap::new();
    let mac: Vec<PathBuf> = well_known_paths(home, cwd, Platform::MacOs, &env)
        .into_iter()
        .map(|k| k.path)
        .collect();
    for p in [
        "/Users/alex/Library/Application Support/Claude/claude_desktop_config.json",
        "/Users/alex/.claude.json",
        "/Users/alex/src/app/.mcp.json",
        "/Users/alex/.cursor/mcp.json",
        "/Users/alex/src/app/.cursor/mcp.json",
        "/Users/alex/Library/Application Support/Code/User/settings.json",
        "/Users/alex/Library/Application Support/Code/User/mcp.json",
        "/Users/alex/src/app/.vscode/mcp.json",
        "/Users/alex/.codeium/windsurf/mcp_config.json",
        "/Users/alex/.gemini/settings.json",
        "/Users/alex/src/app/.gemini/settings.json",
    ] {
        assert!(mac.contains(&PathBuf::from(p)), "{p} missing from {mac:?}");
    }
    let mut env = HashMap::new();
    env.insert(
        "APPDATA".to_string(),
        r"C:\Users\alex\AppData\Roaming".to_string(),
    );
    let win = well_known_paths(
        Path::new(r"C:\Users\alex"),
        Path::new(r"C:\src\app"),
        Platform::Windows,
        &env,
    );
    let desktop = &win[0].path;
    assert!(desktop.starts_with(r"C:\Users\alex\AppData\Roaming"));
    assert!(desktop.ends_with("claude_desktop_config.json"));
    let vscode_settings = win
        .iter()
        .find(|k| k.client == Client::VsCode && k.path.ends_with("settings.json"))
        .unwrap();
    assert!(vscode_settings
        .path
        .starts_with(r"C:\Users\alex\AppData\Roaming"));

    let mut env = HashMap::new();
    env.insert("CLAUDE_CONFIG_DIR".to_string(), "/cfg/claude".to_string());
    let linux = well_known_paths(home, cwd, Platform::Linux, &env);
    assert!(linux
        .iter()
        .any(|k| k.path == Path::new("/cfg/claude/.claude.json")));
}

#[test]
fn shapes_from_the_brief() {
    let s = |command: &str, args: &[&str]| ServerEntry {
        name: "x".into(),
        command: Some(command.into()),
        args: args.iter().map(|a| a.to_string()).collect(),
        ..ServerEntry::default()
    };
    for (cmd, args, spec) in [
        ("npx", &["-y", "pkg"][..], "pkg"),
        ("npx", &["--yes", "pkg@1.2.3", "--flag"], "pkg@1.2.3"),
        ("npx", &["-p", "pkg@1", "bin-name"], "pkg@1"),
        ("npx", &["--package=pkg", "cmd"], "pkg"),
        ("npm", &["exec", "--yes", "--", "pkg"], "pkg"),
        ("pnpm", &["dlx", "pkg"], "pkg"),
        ("yarn", &["dlx", "pkg"], "pkg"),
        ("bunx", &["pkg"], "pkg"),
        ("cmd", &["/c", "npx", "-y", "pkg"], "pkg"),
        ("/usr/local/bin/npx", &["-y", "pkg"], "pkg"),
        (r"C:\Program Files\nodejs\npx.cmd", &["-y", "pkg"], "pkg"),
        ("npx", &["--registry", "https://r/", "pkg"], "pkg"),
        (
            "npx",
            &["--registry=https://r/", "pkg", "--registry", "x"],
            "pkg",
        ),
        ("npx", &["--@s:registry=https://r/", "@s/pkg"], "@s/pkg"),
    ] {
        assert_eq!(
            spec_of(&parse_launch(&s(cmd, args))),
            spec,
            "{cmd} {args:?}"
        );
    }
    let l = parse_launch(&s("npm", &["exec", "-c", "some-cmd --x"]));
    assert!(matches!(l, Launch::Npm { call: Some(c), .. } if c == "some-cmd --x"));
    // Registry flags become a command-line layer.
    let e = s("npx", &["--registry", "https://r.example/", "pkg"]);
    let l = parse_launch(&e);
    let layers = npm_layers(&e, &l);
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0].source, ConfigSource::Cli);
    assert_eq!(registry(&e, "pkg"), "https://r.example/");
    let _ = Url::parse("https://r.example/").unwrap();
}
