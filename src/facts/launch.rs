//! `LaunchFacts`: what the `launch` rules look at for one server entry of an MCP client config.
//!
//! A second facts document beside [`super::PackageFacts`], on purpose: launch rules judge how a
//! server is started (a config line), package rules judge what is published. Keeping them apart
//! means a package scan never shows launch rules as inconclusive, and a server that runs no
//! package (a docker image, a remote URL) still has its launch judged. Rule validation keeps
//! `launch` rules on `server.*`/`launch.*` paths and every other rule off them.
//!
//! Every string here is redacted (`clients` redacts before it gets here): the document goes to
//! JSON output as it is.

use serde::{Deserialize, Serialize};

use super::{Fact, FACTS_SCHEMA};
use crate::clients::{Launch, LaunchRisks, PlaintextSecret, ServerEntry};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaunchFacts {
    pub schema: u32,
    pub server: ServerFacts,
    pub launch: LaunchSection,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerFacts {
    /// The key in the config's servers map.
    pub name: String,
    /// The config file, as given or discovered.
    pub config: String,
    /// `claude-desktop`, `cursor`, `vscode`...; `null` when the file name says nothing.
    pub client: Option<String>,
    /// Claude Code's per-project servers: the project path.
    pub project: Option<String>,
    pub line: Option<u64>,
    /// Configured but switched off (`disabled: true`): still audited, since one click starts it.
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaunchSection {
    /// `npm`, `node`, `pypi`, `docker`, `remote`, `shell` or `other`.
    pub kind: String,
    /// `npx`, `npm exec`, `pnpm dlx`, `yarn dlx`, `bunx`, `uvx`, `pipx run`; `null` otherwise.
    pub runner: Option<String>,
    /// What is started: the package spec, image, script path, URL or command line (redacted).
    pub target: String,
    /// The launch installs a package from an npm registry (not a git, URL or path spec).
    pub registry_package: bool,
    /// The registry npm would fetch the package from, with this entry's own configuration.
    pub registry: Option<String>,
    /// `-y`/`--yes`: installs whatever it resolves without asking.
    pub auto_install: bool,
    /// Every start may fetch a different release.
    pub unpinned: bool,
    pub unpinned_reason: Option<String>,
    /// The exact version, git commit or image tag/digest the launch asks for.
    pub pinned_version: Option<String>,
    /// Whether the registry has the pinned npm version. Unknown when nothing exact is pinned,
    /// for non-npm launches, and when the registry could not be asked.
    pub pinned_version_exists: Fact<bool>,
    /// `npx -c`/`--call`: a command line, not a package, is what runs.
    pub exec_call: bool,
    /// Started through `sh -c`, `cmd /c` with shell syntax, `powershell -Command`.
    pub shell_wrapper: bool,
    /// A download piped into an interpreter (`curl … | sh`).
    pub pipe_to_shell: bool,
    pub remote_url: Option<String>,
    /// A remote server over plain `http://` to a host that is not loopback.
    pub remote_insecure: bool,
    pub plaintext_secrets: Vec<PlaintextSecret>,
    /// The same, one line each for messages: `env.GITHUB_TOKEN (GitHub token, ghp_***)`.
    pub plaintext_secret_locations: Vec<String>,
    pub plaintext_secret_count: u64,
    /// Where an npm credential is written inline (`env.npm_config_//host/:_authToken`).
    pub inline_npm_auth: Vec<String>,
    pub inline_npm_auth_count: u64,
}

/// Where a server entry was found.
pub struct ServerOrigin<'a> {
    pub config: &'a str,
    pub client: Option<&'a str>,
}

/// The launch facts of one entry. `registry` is the (redacted) registry an npm launch resolves
/// to; `version_exists` is what the registry said about a pinned npm version.
pub fn launch_facts(
    origin: &ServerOrigin<'_>,
    entry: &ServerEntry,
    launch: &Launch,
    risks: &LaunchRisks,
    registry: Option<String>,
    version_exists: Fact<bool>,
) -> LaunchFacts {
    let scrub = entry.scrubber();
    let scrubbed = |v: &Option<String>| v.as_deref().map(|v| scrub.scrub(v).to_string());
    let shown = launch.redacted(&scrub);
    let (runner, target, auto_install) = match &shown {
        Launch::Npm {
            runner,
            spec,
            yes,
            call,
            ..
        } => {
            let target = match call {
                Some(c) if spec.is_empty() => c.clone(),
                _ => spec.clone(),
            };
            (Some(runner.clone()), target, *yes)
        }
        Launch::PyPi { runner, package } => (Some(runner.clone()), package.clone(), false),
        Launch::Node { path } => (None, path.clone(), false),
        Launch::Docker { image } => (None, image.clone(), false),
        Launch::Remote { url, .. } => (None, url.clone(), false),
        Launch::Shell { command } | Launch::Other { command } => (None, command.clone(), false),
    };
    let registry_package = match launch {
        Launch::Npm { spec, .. } => !spec.is_empty() && crate::spec::registry_spec(spec).is_ok(),
        _ => false,
    };
    let remote_insecure = match launch {
        Launch::Remote { url, .. } => insecure_url(url),
        _ => false,
    };
    // An inline npm credential is judged by its own rule; counting it as a plaintext secret too
    // would take points twice for one value.
    let secrets: Vec<PlaintextSecret> = risks
        .plaintext_secrets
        .iter()
        .filter(|p| {
            // `--//host/:_authToken=…` is reported by flag; the secret scan located it by index.
            let arg = p
                .location
                .strip_prefix("args[")
                .and_then(|i| i.strip_suffix(']'))
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| entry.args.get(i));
            let inline_flag = arg.is_some_and(|a| {
                risks
                    .inline_npm_auth
                    .iter()
                    .any(|flag| flag.starts_with("--") && a.starts_with(flag.as_str()))
            });
            !inline_flag && !risks.inline_npm_auth.contains(&p.location)
        })
        .cloned()
        .collect();
    LaunchFacts {
        schema: FACTS_SCHEMA,
        server: ServerFacts {
            name: entry.name.clone(),
            config: origin.config.to_string(),
            client: origin.client.map(str::to_string),
            project: entry.project.clone(),
            line: entry.line.map(|l| l as u64),
            disabled: entry.disabled,
        },
        launch: LaunchSection {
            kind: launch.kind().to_string(),
            runner,
            target,
            registry_package,
            registry,
            auto_install,
            unpinned: risks.unpinned,
            unpinned_reason: scrubbed(&risks.unpinned_reason),
            pinned_version: scrubbed(&risks.pinned_version),
            pinned_version_exists: version_exists,
            exec_call: risks.exec_call,
            shell_wrapper: risks.shell_wrapper,
            pipe_to_shell: risks.pipe_to_shell,
            remote_url: scrubbed(&risks.remote_url),
            remote_insecure,
            plaintext_secret_count: secrets.len() as u64,
            plaintext_secret_locations: secrets
                .iter()
                .map(|p| format!("{} ({}, {})", p.location, p.kind, p.evidence))
                .collect(),
            plaintext_secrets: secrets,
            inline_npm_auth_count: risks.inline_npm_auth.len() as u64,
            inline_npm_auth: risks.inline_npm_auth.clone(),
        },
    }
}

/// Plain HTTP off loopback: the traffic, and any bearer token in the headers, travels in clear.
fn insecure_url(raw: &str) -> bool {
    let Ok(url) = url::Url::parse(raw.trim()) else {
        return false;
    };
    url.scheme() == "http" && !crate::registry::is_loopback(&url)
}

impl LaunchFacts {
    /// A launch on which every `launch` rule passes, with every optional fact filled so the
    /// catalogue of fact paths can be read off it (like [`super::PackageFacts::example`]).
    pub fn example() -> LaunchFacts {
        LaunchFacts {
            schema: FACTS_SCHEMA,
            server: ServerFacts {
                name: "example".into(),
                config: ".mcp.json".into(),
                client: Some("claude-code".into()),
                project: Some("/home/user/project".into()),
                line: Some(3),
                disabled: false,
            },
            launch: LaunchSection {
                kind: "npm".into(),
                runner: Some("npx".into()),
                target: "example-mcp-server@1.4.2".into(),
                registry_package: true,
                registry: Some("https://registry.npmjs.org/".into()),
                auto_install: true,
                unpinned: false,
                unpinned_reason: Some(String::new()),
                pinned_version: Some("1.4.2".into()),
                pinned_version_exists: Fact::Known(true),
                exec_call: false,
                shell_wrapper: false,
                pipe_to_shell: false,
                remote_url: Some(String::new()),
                remote_insecure: false,
                plaintext_secrets: vec![],
                plaintext_secret_locations: vec![],
                plaintext_secret_count: 0,
                inline_npm_auth: vec![],
                inline_npm_auth_count: 0,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::{launch_risks, parse_launch};

    fn facts_for(entry: &ServerEntry) -> LaunchFacts {
        let launch = parse_launch(entry);
        let risks = launch_risks(entry, &launch);
        launch_facts(
            &ServerOrigin {
                config: "mcp.json",
                client: None,
            },
            entry,
            &launch,
            &risks,
            None,
            Fact::unknown("not asked"),
        )
    }

    #[test]
    fn remote_http_off_loopback_is_insecure() {
        let mut e = ServerEntry {
            name: "r".into(),
            url: Some("http://mcp.example.com/sse".into()),
            ..ServerEntry::default()
        };
        assert!(facts_for(&e).launch.remote_insecure);
        e.url = Some("http://127.0.0.1:3000/mcp".into());
        assert!(!facts_for(&e).launch.remote_insecure);
        e.url = Some("https://mcp.example.com/mcp".into());
        assert!(!facts_for(&e).launch.remote_insecure);
    }

    #[test]
    fn an_inline_npm_token_is_one_finding_not_two() {
        let token = "npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
        let mut entry = ServerEntry {
            name: "s".into(),
            command: Some("npx".into()),
            args: vec![
                "-y".into(),
                format!("--//npm.acme.dev/:_authToken={token}"),
                "pkg@1.0.0".into(),
            ],
            ..ServerEntry::default()
        };
        entry
            .env
            .insert("npm_config_//npm.acme.dev/:_authToken".into(), token.into());
        entry.env.insert("GITHUB_TOKEN".into(), token.into());
        let f = facts_for(&entry);
        assert_eq!(
            f.launch.inline_npm_auth_count, 2,
            "{:?}",
            f.launch.inline_npm_auth
        );
        let locations: Vec<&str> = f
            .launch
            .plaintext_secrets
            .iter()
            .map(|p| p.location.as_str())
            .collect();
        assert_eq!(locations, ["env.GITHUB_TOKEN"]);
    }

    #[test]
    fn secrets_are_redacted_in_the_document() {
        let token = "npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
        let mut entry = ServerEntry {
            name: "s".into(),
            command: Some("npx".into()),
            args: vec!["-y".into(), "pkg@1.0.0".into()],
            ..ServerEntry::default()
        };
        entry.env.insert("NPM_TOKEN".into(), token.into());
        let f = facts_for(&entry);
        assert_eq!(f.launch.plaintext_secret_count, 1);
        let json = serde_json::to_string(&f).unwrap();
        assert!(!json.contains(token), "{json}");
        assert_eq!(f.launch.target, "pkg@1.0.0");
        assert_eq!(f.launch.pinned_version.as_deref(), Some("1.0.0"));
    }
}
