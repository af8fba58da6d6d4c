//! What a server entry would start, read from its `command` and `args` without running anything.
//!
//! Rules, in order:
//!
//! 1. No `command` but a `url`: [`Launch::Remote`].
//! 2. The program is named by its file name, case-insensitively, without a directory or a
//!    Windows extension (`.exe`, `.cmd`, `.bat`, `.ps1`, `.com`): `/usr/local/bin/npx` and
//!    `C:\Program Files\nodejs\npx.cmd` are both `npx`. `node …/npm/bin/npx-cli.js` is `npx` too.
//! 3. A `command` holding a whole command line (`"npx -y pkg"`, which some clients split and
//!    some users write) is split into words when its first word is a known program.
//! 4. Wrappers are looked through: `cmd /c …` (Windows needs it to start `npx.cmd`),
//!    `sh|bash|zsh|dash|ksh -c "…"`, `powershell|pwsh -Command …`, and `env [NAME=value…] …`.
//!    The inner command line is parsed again when it is a plain command; when it holds shell
//!    syntax (`|`, `&`, `;`, `<`, `>`, backquote, `$(`, a newline) it is a [`Launch::Shell`].
//! 5. Runners: `npx`, `npm exec`/`npm x`, `pnpm dlx`/`pnpx`, `yarn dlx`, `bunx`/`bun x`. Their
//!    flags come first; `--` ends them; the first other word is the package, and every word
//!    after it belongs to the server. With `-p`/`--package` the first package is the spec, the
//!    others are `extra_packages`, and the first word is a bin name, not a package. `-c`/`--call`
//!    (pnpm: `-c`/`--shell-mode`) runs a command line; with no `--package` nothing is fetched and
//!    the spec is empty.
//! 6. Flags with a value are read as `--name=value` and, for the flags npm documents as taking
//!    one (and every `--@scope:registry` / `--//host/:key`), `--name value`. Other flags are
//!    taken as booleans, so `npx --prefer-offline pkg` keeps `pkg` as the package. Every flag
//!    with a value other than the exec flags themselves becomes npm configuration (npm reads all
//!    of its command-line flags as configuration).
//! 7. `node [node flags] path`; `node -e/-p` (inline code) is [`Launch::Other`].
//! 8. `uvx [flags] pkg`, `uvx --from pkg cmd`, `uv tool run …`, `pipx run [--spec pkg] pkg`.
//! 9. `docker|podman [global flags] [container] run [flags] image [args]`, skipping the values of
//!    run's value flags (`-e`, `-v`, `--env-file`, `--name`, `--network`...).

mod container;
mod node;
mod npm;
mod python;
mod shell;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::npmrc::{env_setting_key, expand_env, ConfigSource, Diagnostic, Entry, Layer, Severity};

use super::parse::ServerEntry;
use crate::secrets::{is_reference_only, npm_secret_key, redact, Scrubber};

use container::docker;
use node::node;
use npm::{npm_exec, npm_subcommand, Flavor};
pub use npm::{npm_layers, npm_layers_with_env};
pub(crate) use python::is_python;
use python::pypi;
use shell::powershell;

/// What a server entry starts.
#[derive(Clone, PartialEq, Eq)]
pub enum Launch {
    /// A package fetched from an npm registry and run.
    Npm {
        /// `npx`, `npm exec`, `pnpm dlx`, `yarn dlx` or `bunx`.
        runner: String,
        /// What is installed: `pkg`, `pkg@1.2.3`, `pkg@^1`, `pkg@latest`, from the first word
        /// or the first `--package`. Empty when only a `--call` command runs (nothing fetched).
        /// Git, tarball and alias specs are kept as written.
        spec: String,
        /// `-y`/`--yes`: installs without asking.
        yes: bool,
        /// `-c`/`--call` (npm), `-c`/`--shell-mode` (pnpm): a command line run by a shell.
        call: Option<String>,
        /// npm configuration from the launch's flags (`--registry=URL`, `--@scope:registry=URL`,
        /// `--userconfig FILE`, `--//host/:_authToken=…`): npm's command-line layer.
        npm_config: Vec<(String, String)>,
        /// npm configuration from the entry's `env` (`npm_config_*`, keys normalised as npm's
        /// `loadEnv` does): npm's environment layer. Empty for `yarn dlx`, which reads
        /// `.yarnrc.yml` instead.
        npm_env: Vec<(String, String)>,
        /// The other `--package`s.
        extra_packages: Vec<String>,
    },
    /// A local script: reported, not scanned.
    Node {
        path: String,
    },
    /// A PyPI package (not yet supported).
    PyPi {
        runner: String,
        package: String,
    },
    Docker {
        image: String,
    },
    Remote {
        url: String,
        transport: Option<String>,
    },
    /// A command line run by a shell (`sh -c`, `cmd /c`, `powershell -Command` with shell syntax).
    Shell {
        command: String,
    },
    Other {
        command: String,
    },
}

impl Launch {
    /// The same launch with every credential-looking value redacted, for display, and every
    /// credential of its entry (`scrub`, from [`ServerEntry::scrubber`]) scrubbed.
    pub fn redacted(&self, scrub: &Scrubber) -> Launch {
        let value = |name: Option<&str>, v: &str| scrub.value(name, v).to_string();
        let pairs = |v: &[(String, String)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(k, val)| {
                    // npm's credential keys are secret whatever their value looks like.
                    let shown = if npm_secret_key(k) && !is_reference_only(val) {
                        scrub.scrub(&redact(val)).to_string()
                    } else {
                        value(Some(k), val)
                    };
                    (scrub.scrub(k).to_string(), shown)
                })
                .collect()
        };
        let words = |v: &str| scrub.words(v).to_string();
        match self {
            Launch::Npm {
                runner,
                spec,
                yes,
                call,
                npm_config,
                npm_env,
                extra_packages,
            } => Launch::Npm {
                runner: runner.clone(),
                spec: value(None, spec),
                yes: *yes,
                call: call.as_deref().map(words),
                npm_config: pairs(npm_config),
                npm_env: pairs(npm_env),
                extra_packages: extra_packages.iter().map(|p| value(None, p)).collect(),
            },
            Launch::Node { path } => Launch::Node {
                path: value(None, path),
            },
            Launch::PyPi { runner, package } => Launch::PyPi {
                runner: runner.clone(),
                package: value(None, package),
            },
            Launch::Docker { image } => Launch::Docker {
                image: value(None, image),
            },
            Launch::Remote { url, transport } => Launch::Remote {
                url: value(None, url),
                transport: transport.clone(),
            },
            Launch::Shell { command } => Launch::Shell {
                command: words(command),
            },
            Launch::Other { command } => Launch::Other {
                command: words(command),
            },
        }
    }

    /// `npm`, `node`, `pypi`, `docker`, `remote`, `shell`, `other`.
    pub fn kind(&self) -> &'static str {
        match self {
            Launch::Npm { .. } => "npm",
            Launch::Node { .. } => "node",
            Launch::PyPi { .. } => "pypi",
            Launch::Docker { .. } => "docker",
            Launch::Remote { .. } => "remote",
            Launch::Shell { .. } => "shell",
            Launch::Other { .. } => "other",
        }
    }
}

/// The kind only: the fields may hold credentials; output goes through wire types.
impl fmt::Debug for Launch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Launch::{}", self.kind())
    }
}

/// How deep wrappers are looked through (`cmd /c sh -c "env X=1 npx pkg"` is three).
const MAX_DEPTH: usize = 4;

/// Read what `server` would start. Never runs anything.
pub fn parse_launch(server: &ServerEntry) -> Launch {
    let command = server.command.as_deref().map(str::trim).unwrap_or("");
    if command.is_empty() {
        return match &server.url {
            Some(url) => Launch::Remote {
                url: url.clone(),
                transport: server.transport.clone(),
            },
            None => Launch::Other {
                command: String::new(),
            },
        };
    }
    let mut argv: Vec<String> = Vec::new();
    let words = split_words(command, !looks_windows(command));
    if words.len() > 1 && is_known_program(&program_name(&words[0])) {
        argv.extend(words);
    } else {
        argv.push(command.to_string());
    }
    argv.extend(server.args.iter().cloned());
    let mut env = server.env.clone();
    classify(&argv, &mut env, 0)
}

/// The file name of a program, lower-cased, without directory or Windows extension.
pub(crate) fn program_name(word: &str) -> String {
    let base = word.rsplit(['/', '\\']).next().unwrap_or(word);
    let lower = base.to_ascii_lowercase();
    for ext in [".exe", ".cmd", ".bat", ".ps1", ".com"] {
        if let Some(stem) = lower.strip_suffix(ext) {
            return stem.to_string();
        }
    }
    lower
}

/// Programs that start what is named after them: package runners and interpreters.
const RUNNERS: &[&str] = &[
    "npx", "npm", "pnpm", "pnpx", "yarn", "bunx", "bun", "node", "nodejs", "uvx", "uv", "pipx",
    "docker", "podman",
];

/// Programs that run a command line given to them: looked through by [`parse_launch`], and
/// what makes a launch shell-wrapped in the launch facts. The one list of them.
const WRAPPERS: &[&str] = &[
    "sh",
    "bash",
    "zsh",
    "dash",
    "ksh",
    "cmd",
    "powershell",
    "pwsh",
    "env",
];

pub(crate) fn is_wrapper(name: &str) -> bool {
    WRAPPERS.contains(&name)
}

fn is_known_program(name: &str) -> bool {
    RUNNERS.contains(&name) || is_wrapper(name)
}

/// A Windows command line (`C:\…`, `cmd /c …`): backslashes are path separators, not escapes.
fn looks_windows(s: &str) -> bool {
    let b = s.as_bytes();
    (b.len() > 2 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'\\')
        || s.to_ascii_lowercase().starts_with("cmd")
}

fn classify(argv: &[String], env: &mut BTreeMap<String, String>, depth: usize) -> Launch {
    let Some(first) = argv.first() else {
        return Launch::Other {
            command: String::new(),
        };
    };
    let prog = program_name(first);
    let rest = &argv[1..];
    let other = || Launch::Other {
        command: argv.join(" "),
    };
    match prog.as_str() {
        "npx" => npm_exec("npx", rest, env, Flavor::Npm),
        "npm" => match npm_subcommand(rest) {
            Some((pre, "exec" | "x", after)) => {
                let mut all: Vec<String> = pre.to_vec();
                all.extend_from_slice(after);
                npm_exec("npm exec", &all, env, Flavor::Npm)
            }
            _ => other(),
        },
        "pnpx" => npm_exec("pnpm dlx", rest, env, Flavor::Pnpm),
        "pnpm" => match npm_subcommand(rest) {
            Some((pre, "dlx", after)) => {
                let mut all: Vec<String> = pre.to_vec();
                all.extend_from_slice(after);
                npm_exec("pnpm dlx", &all, env, Flavor::Pnpm)
            }
            _ => other(),
        },
        "yarn" => match npm_subcommand(rest) {
            Some((_, "dlx", after)) => npm_exec("yarn dlx", after, env, Flavor::Yarn),
            _ => other(),
        },
        "bunx" => npm_exec("bunx", rest, env, Flavor::Bun),
        "bun" => match npm_subcommand(rest) {
            Some((_, "x", after)) => npm_exec("bunx", after, env, Flavor::Bun),
            _ => other(),
        },
        "node" | "nodejs" => node(argv, rest, env, depth),
        "uvx" => pypi("uvx", rest).unwrap_or_else(other),
        "uv" => match rest {
            [tool, run, after @ ..] if tool == "tool" && run == "run" => {
                pypi("uvx", after).unwrap_or_else(other)
            }
            [run, after @ ..] if run == "run" => python::uv_run_with(after).unwrap_or_else(other),
            _ => other(),
        },
        "pipx" => match rest {
            [run, after @ ..] if run == "run" => pypi("pipx run", after).unwrap_or_else(other),
            _ => other(),
        },
        "docker" | "podman" => docker(rest).unwrap_or_else(other),
        "sh" | "bash" | "zsh" | "dash" | "ksh" => {
            // `-c`, or a cluster ending in it (`-lc`, `-ec`); the script is the next word.
            let pos = rest.iter().position(|a| {
                a.starts_with('-') && !a.starts_with("--") && a.ends_with('c') && a.len() >= 2
            });
            match pos.and_then(|p| rest.get(p + 1)) {
                Some(script) => inner(script, true, env, depth),
                // `bash script.sh`: a local script, like `node path`.
                None => other(),
            }
        }
        "cmd" => {
            let pos = rest
                .iter()
                .position(|a| a.eq_ignore_ascii_case("/c") || a.eq_ignore_ascii_case("/k"));
            match pos {
                Some(p) if p + 2 == rest.len() => inner(&rest[p + 1], false, env, depth),
                // Already split by the config: keep its words (a quoted path stays whole).
                Some(p) if p + 1 < rest.len() => {
                    let words = &rest[p + 1..];
                    let line = words.join(" ");
                    if depth < MAX_DEPTH
                        && !has_shell_syntax(&line)
                        && is_known_program(&program_name(&words[0]))
                    {
                        classify(words, env, depth + 1)
                    } else {
                        Launch::Shell { command: line }
                    }
                }
                _ => other(),
            }
        }
        "powershell" | "pwsh" => powershell(rest, env, depth).unwrap_or_else(other),
        "env" => {
            // `env [-i] [-u NAME] [NAME=value]... command...`
            let mut i = 0;
            while i < rest.len() {
                let a = &rest[i];
                if a == "-u" || a == "--unset" {
                    if let Some(n) = rest.get(i + 1) {
                        env.remove(n);
                    }
                    i += 2;
                } else if a.starts_with('-') {
                    i += 1;
                } else if let Some((k, v)) = a.split_once('=') {
                    env.insert(k.to_string(), v.to_string());
                    i += 1;
                } else {
                    break;
                }
            }
            if i < rest.len() && depth < MAX_DEPTH {
                classify(&rest[i..], env, depth + 1)
            } else {
                other()
            }
        }
        _ => other(),
    }
}

/// A command line run through a wrapper: parsed again if it is a plain command, else a shell.
fn inner(script: &str, posix: bool, env: &mut BTreeMap<String, String>, depth: usize) -> Launch {
    let script = script.trim();
    let shell = || Launch::Shell {
        command: script.to_string(),
    };
    if depth >= MAX_DEPTH || has_shell_syntax(script) {
        return shell();
    }
    let words = split_words(script, posix);
    match words.first() {
        Some(w) if is_known_program(&program_name(w)) => classify(&words, env, depth + 1),
        _ => shell(),
    }
}

fn has_shell_syntax(s: &str) -> bool {
    s.contains(['|', '&', ';', '<', '>', '`', '\n']) || s.contains("$(")
}

/// Split a command line into words: whitespace separates, quotes group. With `posix`, a
/// backslash escapes the next character (outside single quotes); on Windows it is a path
/// separator and only double quotes group.
pub(crate) fn split_words(s: &str, posix: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if posix && c == '\\' => {
                if let Some(&n) = chars.peek() {
                    if matches!(n, '"' | '\\' | '$' | '`') {
                        cur.push(n);
                        chars.next();
                        continue;
                    }
                }
                cur.push(c);
            }
            Some(_) => cur.push(c),
            None if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None if c == '"' || (posix && c == '\'') => {
                quote = Some(c);
                in_word = true;
            }
            None if posix && c == '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            None => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(command: &str, args: &[&str]) -> ServerEntry {
        ServerEntry {
            name: "s".into(),
            command: Some(command.into()),
            args: args.iter().map(|s| s.to_string()).collect(),
            ..ServerEntry::default()
        }
    }

    /// runner, spec, yes, call, npm_config, extra_packages
    type NpmParts<'a> = (
        &'a str,
        &'a str,
        bool,
        Option<&'a str>,
        &'a [(String, String)],
        &'a [String],
    );

    fn npm(l: &Launch) -> NpmParts<'_> {
        match l {
            Launch::Npm {
                runner,
                spec,
                yes,
                call,
                npm_config,
                extra_packages,
                ..
            } => (
                runner,
                spec,
                *yes,
                call.as_deref(),
                npm_config,
                extra_packages,
            ),
            other => panic!("not npm: {other:?}"),
        }
    }

    #[test]
    fn words() {
        assert_eq!(
            split_words(r#"npx -y "a b" 'c d' e\ f"#, true),
            vec!["npx", "-y", "a b", "c d", "e f"]
        );
        assert_eq!(
            split_words(r#"C:\x\npx.cmd -y "a b""#, false),
            vec![r"C:\x\npx.cmd", "-y", "a b"]
        );
    }

    #[test]
    fn program_names() {
        assert_eq!(program_name("/usr/local/bin/npx"), "npx");
        assert_eq!(program_name(r"C:\Program Files\nodejs\npx.cmd"), "npx");
        assert_eq!(program_name("NPX.EXE"), "npx");
    }

    #[test]
    fn npx_shapes() {
        let l = parse_launch(&server("npx", &["-y", "pkg"]));
        assert_eq!(npm(&l).0, "npx");
        assert_eq!(npm(&l).1, "pkg");
        assert!(npm(&l).2);
        let l = parse_launch(&server("npx", &["--yes", "pkg@1.2.3", "--flag", "x"]));
        assert_eq!(npm(&l).1, "pkg@1.2.3");
        let l = parse_launch(&server("npx", &["-p", "pkg@1", "bin-name", "--x"]));
        assert_eq!(npm(&l).1, "pkg@1");
        assert!(!npm(&l).2);
        let l = parse_launch(&server("npx", &["--package=pkg", "--package", "b", "cmd"]));
        assert_eq!(npm(&l).1, "pkg");
        assert_eq!(npm(&l).5, ["b".to_string()]);
        let l = parse_launch(&server("npx", &["--prefer-offline", "-q", "pkg"]));
        assert_eq!(npm(&l).1, "pkg");
        let l = parse_launch(&server("npx -y @scope/pkg@2", &["--port", "1"]));
        assert_eq!(npm(&l).1, "@scope/pkg@2");
    }

    #[test]
    fn npm_exec_shapes() {
        let l = parse_launch(&server("npm", &["exec", "--yes", "--", "pkg", "--x"]));
        assert_eq!((npm(&l).0, npm(&l).1, npm(&l).2), ("npm exec", "pkg", true));
        let l = parse_launch(&server("npm", &["exec", "-c", "eslint ."]));
        assert_eq!(npm(&l).1, "");
        assert_eq!(npm(&l).3, Some("eslint ."));
        let l = parse_launch(&server("npx", &["--call=do it", "-p", "tool@1"]));
        assert_eq!(npm(&l).3, Some("do it"));
        assert_eq!(npm(&l).1, "tool@1");
        let l = parse_launch(&server("npm", &["--registry", "https://r/", "x", "pkg"]));
        assert_eq!(npm(&l).1, "pkg");
        assert_eq!(
            npm(&l).4,
            [("registry".to_string(), "https://r/".to_string())]
        );
        assert!(matches!(
            parse_launch(&server("npm", &["start"])),
            Launch::Other { .. }
        ));
    }

    #[test]
    fn other_runners() {
        let l = parse_launch(&server("pnpm", &["dlx", "pkg@3"]));
        assert_eq!((npm(&l).0, npm(&l).1), ("pnpm dlx", "pkg@3"));
        let l = parse_launch(&server("pnpm", &["--package=a", "dlx", "-c", "a | b"]));
        assert_eq!((npm(&l).1, npm(&l).3), ("a", Some("a | b")));
        let l = parse_launch(&server("yarn", &["dlx", "-p", "x", "pkg"]));
        assert_eq!((npm(&l).0, npm(&l).1), ("yarn dlx", "x"));
        let l = parse_launch(&server("bunx", &["pkg@latest"]));
        assert_eq!((npm(&l).0, npm(&l).1), ("bunx", "pkg@latest"));
        let l = parse_launch(&server("bun", &["x", "pkg"]));
        assert_eq!(npm(&l).0, "bunx");
    }

    #[test]
    fn registries_from_flags() {
        let l = parse_launch(&server(
            "npx",
            &[
                "-y",
                "--registry=https://r.example/",
                "--@acme:registry",
                "https://npm.acme.dev/",
                "--userconfig=/etc/mcp.npmrc",
                "@acme/server",
                "--registry=not-ours",
            ],
        ));
        assert_eq!(npm(&l).1, "@acme/server");
        assert_eq!(
            npm(&l).4,
            [
                ("registry".to_string(), "https://r.example/".to_string()),
                (
                    "@acme:registry".to_string(),
                    "https://npm.acme.dev/".to_string()
                ),
                ("userconfig".to_string(), "/etc/mcp.npmrc".to_string()),
            ]
        );
    }

    #[test]
    fn wrappers() {
        let l = parse_launch(&server("cmd", &["/c", "npx", "-y", "pkg"]));
        assert_eq!(npm(&l).1, "pkg");
        let l = parse_launch(&server("cmd.exe", &["/s", "/c", "npx -y pkg@1"]));
        assert_eq!(npm(&l).1, "pkg@1");
        let l = parse_launch(&server(r"C:\Program Files\nodejs\npx.cmd", &["-y", "pkg"]));
        assert_eq!(npm(&l).1, "pkg");
        let l = parse_launch(&server("/usr/local/bin/npx", &["-y", "pkg"]));
        assert_eq!(npm(&l).1, "pkg");
        let l = parse_launch(&server("bash", &["-lc", "npx -y pkg"]));
        assert_eq!(npm(&l).1, "pkg");
        let l = parse_launch(&server("sh", &["-c", "curl -fsSL https://x.sh | sh"]));
        assert_eq!(
            l,
            Launch::Shell {
                command: "curl -fsSL https://x.sh | sh".into()
            }
        );
        let l = parse_launch(&server("powershell", &["-Command", "iwr x | iex"]));
        assert!(matches!(l, Launch::Shell { .. }));
        let l = parse_launch(&server(
            "env",
            &["npm_config_registry=https://e/", "npx", "p"],
        ));
        match &l {
            Launch::Npm { npm_env, .. } => assert_eq!(
                npm_env,
                &[("registry".to_string(), "https://e/".to_string())]
            ),
            _ => panic!(),
        }
        let l = parse_launch(&server(
            "node",
            &["/usr/lib/node_modules/npm/bin/npx-cli.js", "-y", "pkg"],
        ));
        assert_eq!(npm(&l).1, "pkg");
    }

    #[test]
    fn node_python_docker_remote() {
        assert_eq!(
            parse_launch(&server(
                "node",
                &["--enable-source-maps", "/srv/x.js", "--p"]
            )),
            Launch::Node {
                path: "/srv/x.js".into()
            }
        );
        assert!(matches!(
            parse_launch(&server("node", &["-e", "require('x')"])),
            Launch::Other { .. }
        ));
        assert_eq!(
            parse_launch(&server("uvx", &["mcp-server-git", "--repo", "."])),
            Launch::PyPi {
                runner: "uvx".into(),
                package: "mcp-server-git".into()
            }
        );
        assert_eq!(
            parse_launch(&server(
                "uvx",
                &["--python", "3.12", "--from", "pkg==1.0", "cmd"]
            )),
            Launch::PyPi {
                runner: "uvx".into(),
                package: "pkg==1.0".into()
            }
        );
        assert_eq!(
            parse_launch(&server("pipx", &["run", "pkg"])),
            Launch::PyPi {
                runner: "pipx run".into(),
                package: "pkg".into()
            }
        );
        // `uv run --with PKG python -m MODULE`: the entry names the distribution; a bare
        // `python -m` or `uv run` of anything else names none.
        assert_eq!(
            parse_launch(&server(
                "uv",
                &[
                    "run",
                    "--with",
                    "mcp-server-git==0.6",
                    "python",
                    "-m",
                    "mcp_server_git"
                ]
            )),
            Launch::PyPi {
                runner: "uv run --with".into(),
                package: "mcp-server-git==0.6".into()
            }
        );
        for (cmd, args) in [
            ("uv", &["run", "python", "-m", "mcp_server_git"][..]),
            ("uv", &["run", "--with", "x", "server.py"][..]),
            ("python3", &["-m", "mcp_server_git"][..]),
        ] {
            assert!(
                matches!(parse_launch(&server(cmd, args)), Launch::Other { .. }),
                "{cmd} {args:?}"
            );
        }
        assert_eq!(
            parse_launch(&server(
                "docker",
                &[
                    "run",
                    "-i",
                    "--rm",
                    "-e",
                    "GITHUB_TOKEN",
                    "-v",
                    "/a:/b",
                    "--env-file=.env",
                    "--name",
                    "gh",
                    "--network",
                    "host",
                    "-it",
                    "ghcr.io/github/github-mcp-server:v1",
                    "stdio"
                ]
            )),
            Launch::Docker {
                image: "ghcr.io/github/github-mcp-server:v1".into()
            }
        );
        let remote = ServerEntry {
            url: Some("https://mcp.example.com/sse".into()),
            transport: Some("sse".into()),
            ..ServerEntry::default()
        };
        assert_eq!(
            parse_launch(&remote),
            Launch::Remote {
                url: "https://mcp.example.com/sse".into(),
                transport: Some("sse".into())
            }
        );
    }
}
