//! Finding and reading the `.npmrc` files, in the order and with the rules of `@npmcli/config`
//! `Config#load`. This is the only part of the module that touches the file system; the
//! environment is passed in, so tests never read the real one or the real home directory.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use super::layer::{ConfigSource, Diagnostic, Layer, Severity};
use super::resolve::is_truthy;

/// A config file npm would consider, whether or not it exists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigFile {
    pub source: ConfigSource,
    pub path: PathBuf,
    pub found: bool,
    /// Why it was not read although it might exist (global mode, same file as the user config).
    pub skipped: Option<String>,
}

/// Everything [`discover_files`] learned.
#[derive(Clone, Debug)]
pub struct Discovery {
    /// Default, global, user, project, env and cli layers (missing files give no layer).
    pub layers: Vec<Layer>,
    pub diagnostics: Vec<Diagnostic>,
    pub files: Vec<ConfigFile>,
    /// npm's `localPrefix`: the directory whose `.npmrc` is the project config.
    pub local_prefix: PathBuf,
}

/// The layers npm would load for a process started in `cwd` with environment `env` and
/// command-line settings `cli`, plus what went wrong reading them.
pub fn discover(
    cwd: &Path,
    env: &HashMap<String, String>,
    cli: &[(String, String)],
) -> (Vec<Layer>, Vec<Diagnostic>) {
    let d = discover_files(cwd, env, cli);
    (d.layers, d.diagnostics)
}

/// [`discover`], also reporting which files were looked for.
///
/// Order and rules (`@npmcli/config` `lib/index.js` `load`):
/// 1. cli and env layers first: they can move every file below.
/// 2. `localPrefix`: `--prefix` if given; else the nearest directory from `cwd` upward with a
///    `package.json` file or a `node_modules` directory; if a directory further up has a
///    `package.json` whose `workspaces` include it, that workspace root wins (npm warns that
///    the workspace's own `.npmrc` is ignored); else `cwd`. The project file is
///    `<localPrefix>/.npmrc`, not read in global mode (`--global`, `--location=global`) nor
///    when it is the user config file.
/// 3. user config: `userconfig` from cli > env > project, default `~/.npmrc` (`HOME`, else
///    `USERPROFILE`).
/// 4. global config: `globalconfig` from cli > env > project > user, default
///    `<prefix>/etc/npmrc`, where `prefix` comes from the same layers and defaults to `$PREFIX`,
///    else the directory above the one holding the `node` found on `PATH` (`DESTDIR` prepended
///    on Unix), as npm derives it from `process.execPath`.
///
/// Path values expand a leading `~/` to the home directory and are resolved against `cwd`
/// (`parse-field.js`). A missing file is silently skipped, as in npm; an unreadable one is
/// reported.
pub fn discover_files(
    cwd: &Path,
    env: &HashMap<String, String>,
    cli: &[(String, String)],
) -> Discovery {
    let mut diagnostics = Vec::new();
    let mut files = Vec::new();
    let (cli_layer, d) = Layer::from_cli(cli, env);
    diagnostics.extend(d);
    let (env_layer, d) = Layer::from_env(env);
    diagnostics.extend(d);
    let home = env
        .get("HOME")
        .or_else(|| env.get("USERPROFILE"))
        .filter(|h| !h.is_empty())
        .map(PathBuf::from);

    let lookup = |key: &str, layers: &[&Layer]| -> Option<String> {
        layers.iter().find_map(|l| {
            l.entries
                .iter()
                .rev()
                .find(|e| e.key == key)
                .map(|e| e.value.clone())
        })
    };
    let resolve = |value: &str| resolve_path(value, cwd, home.as_deref());

    let early = [&cli_layer, &env_layer];
    let global_mode = lookup("global", &early).is_some_and(|v| is_truthy(&v))
        || lookup("location", &early).as_deref() == Some("global");
    let workspaces_off = lookup("workspaces", &[&cli_layer]).as_deref() == Some("false");

    let local_prefix = match lookup("prefix", &[&cli_layer]).filter(|v| !v.is_empty()) {
        Some(p) => resolve(&p),
        None => find_local_prefix(cwd, !(workspaces_off || global_mode), &mut diagnostics),
    };

    let default_user = home.as_ref().map(|h| h.join(".npmrc"));
    let early_user = lookup("userconfig", &early)
        .map(|v| resolve(&v))
        .or(default_user.clone());

    let project_path = local_prefix.join(".npmrc");
    let mut project_layer = None;
    if global_mode {
        files.push(skipped(ConfigSource::Project(project_path), "global mode"));
    } else if Some(&project_path) == early_user.as_ref() {
        files.push(skipped(
            ConfigSource::Project(project_path),
            "same file as the user config",
        ));
    } else {
        let source = ConfigSource::Project(project_path.clone());
        project_layer = read_layer(&source, &project_path, env, &mut diagnostics, &mut files);
        if let Some(l) = &project_layer {
            if let Some(e) = l.entries.iter().find(|e| e.key == "prefix") {
                // npm logs this as an error yet keeps the value, so it still moves globalconfig.
                diagnostics.push(Diagnostic::new(
                    Severity::Warning,
                    &l.source,
                    e.line,
                    "prefix cannot be changed from project config (npm reports this too)",
                ));
            }
        }
    }

    let empty = Layer::new(ConfigSource::Default, Vec::new());
    let project_ref = project_layer.as_ref().unwrap_or(&empty);
    let user_path = lookup("userconfig", &[&cli_layer, &env_layer, project_ref])
        .map(|v| resolve(&v))
        .or(default_user);
    let mut user_layer = None;
    match &user_path {
        Some(p) => {
            let source = ConfigSource::User(p.clone());
            user_layer = read_layer(&source, p, env, &mut diagnostics, &mut files);
        }
        None => diagnostics.push(Diagnostic::new(
            Severity::Warning,
            &ConfigSource::Env,
            None,
            "neither HOME nor USERPROFILE is set and no userconfig is given: no user config read",
        )),
    }

    let user_ref = user_layer.as_ref().unwrap_or(&empty);
    let chain = [&cli_layer, &env_layer, project_ref, user_ref];
    let prefix = lookup("prefix", &chain)
        .filter(|v| !v.is_empty())
        .map(|v| resolve(&v))
        .or_else(|| default_global_prefix(env));
    let global_path = lookup("globalconfig", &chain)
        .filter(|v| !v.is_empty())
        .map(|v| resolve(&v))
        .or_else(|| prefix.map(|p| p.join("etc").join("npmrc")));
    let mut global_layer = None;
    if let Some(p) = &global_path {
        let source = ConfigSource::Global(p.clone());
        global_layer = read_layer(&source, p, env, &mut diagnostics, &mut files);
    }

    let mut layers = vec![Layer::defaults()];
    layers.extend(global_layer);
    layers.extend(user_layer);
    layers.extend(project_layer);
    layers.push(env_layer);
    layers.push(cli_layer);
    Discovery {
        layers,
        diagnostics,
        files,
        local_prefix,
    }
}

fn skipped(source: ConfigSource, why: &str) -> ConfigFile {
    let path = source.file().cloned().unwrap_or_default();
    ConfigFile {
        source,
        path,
        found: false,
        skipped: Some(why.to_string()),
    }
}

fn read_layer(
    source: &ConfigSource,
    path: &Path,
    env: &HashMap<String, String>,
    diagnostics: &mut Vec<Diagnostic>,
    files: &mut Vec<ConfigFile>,
) -> Option<Layer> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            // npm only mentions non-ENOENT errors (at verbose level); a missing file is normal.
            if e.kind() != std::io::ErrorKind::NotFound {
                diagnostics.push(Diagnostic::new(
                    Severity::Warning,
                    source,
                    None,
                    format!("could not read: {e}"),
                ));
            }
            files.push(ConfigFile {
                source: source.clone(),
                path: path.to_path_buf(),
                found: false,
                skipped: None,
            });
            return None;
        }
    };
    files.push(ConfigFile {
        source: source.clone(),
        path: path.to_path_buf(),
        found: true,
        skipped: None,
    });
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            diagnostics.push(Diagnostic::new(
                Severity::Warning,
                source,
                None,
                "file is not valid UTF-8; invalid bytes were replaced",
            ));
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        }
    };
    let (layer, d) = Layer::from_npmrc(source.clone(), &text, env);
    diagnostics.extend(d);
    Some(layer)
}

/// `parse-field.js` for path-typed settings: `~/` is the home directory, anything else is
/// resolved against the working directory (and normalised, as `path.resolve` does).
fn resolve_path(value: &str, cwd: &Path, home: Option<&Path>) -> PathBuf {
    let joined = match (value.strip_prefix("~/"), home) {
        (Some(rest), Some(h)) => h.join(rest),
        _ => cwd.join(value),
    };
    normalize(&joined)
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `loadGlobalPrefix`: `$PREFIX`, else derived from the node binary.
fn default_global_prefix(env: &HashMap<String, String>) -> Option<PathBuf> {
    if let Some(p) = env.get("PREFIX").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let node = find_node(env)?;
    if cfg!(windows) {
        return node.parent().map(Path::to_path_buf);
    }
    let prefix = node.parent()?.parent()?.to_path_buf();
    match env.get("DESTDIR").filter(|d| !d.is_empty()) {
        Some(d) => Some(Path::new(d).join(prefix.strip_prefix("/").unwrap_or(&prefix))),
        None => Some(prefix),
    }
}

fn find_node(env: &HashMap<String, String>) -> Option<PathBuf> {
    let path = env.get("PATH").or_else(|| env.get("Path"))?;
    let name = if cfg!(windows) { "node.exe" } else { "node" };
    std::env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .map(|p| {
            // process.execPath is the real binary, so follow symlinks (e.g. /usr/bin/node ->
            // /usr/lib/nodejs/bin/node would otherwise give the wrong prefix).
            p.canonicalize().unwrap_or(p)
        })
}

/// `loadLocalPrefix` without `--prefix`.
fn find_local_prefix(cwd: &Path, workspaces: bool, diagnostics: &mut Vec<Diagnostic>) -> PathBuf {
    let mut local: Option<(PathBuf, bool)> = None;
    for dir in cwd.ancestors() {
        let has_pkg = dir.join("package.json").is_file();
        match &local {
            None => {
                if has_pkg || dir.join("node_modules").is_dir() {
                    local = Some((dir.to_path_buf(), has_pkg));
                    if !workspaces {
                        break;
                    }
                }
            }
            Some((found, found_has_pkg)) => {
                if !has_pkg {
                    continue;
                }
                let patterns = read_workspaces(&dir.join("package.json"));
                if patterns.is_empty() {
                    continue;
                }
                // @npmcli/map-workspaces lists directories holding a package.json.
                if *found_has_pkg && workspace_matches(&patterns, dir, found) {
                    let ws_rc = found.join(".npmrc");
                    if ws_rc.is_file() {
                        diagnostics.push(Diagnostic::new(
                            Severity::Warning,
                            &ConfigSource::Project(ws_rc),
                            None,
                            format!(
                                "ignoring workspace config: npm uses the workspace root {}'s \
                                 .npmrc instead",
                                dir.display()
                            ),
                        ));
                    }
                    return dir.to_path_buf();
                }
            }
        }
    }
    local.map(|(p, _)| p).unwrap_or_else(|| cwd.to_path_buf())
}

/// `workspaces` of a package.json: an array, or `{ "packages": [...] }`.
fn read_workspaces(package_json: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(package_json) else {
        return Vec::new();
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    let ws = match v.get("workspaces") {
        Some(serde_json::Value::Object(o)) => o.get("packages").cloned(),
        other => other.cloned(),
    };
    match ws {
        Some(serde_json::Value::Array(a)) => a
            .into_iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether `dir` (below `root`) is matched by the workspace globs, `!` patterns excluding.
/// Supports what workspace globs use in practice: literal segments, `*`/`?` within a segment,
/// and `**` for any depth.
fn workspace_matches(patterns: &[String], root: &Path, dir: &Path) -> bool {
    let Ok(rel) = dir.strip_prefix(root) else {
        return false;
    };
    let segs: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if segs.is_empty() {
        return false;
    }
    let mut matched = false;
    for p in patterns {
        let (neg, pat) = match p.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, p.as_str()),
        };
        let pat = pat.trim_start_matches("./").trim_end_matches('/');
        let psegs: Vec<&str> = pat
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .collect();
        if glob_segments(&psegs, &segs) {
            matched = !neg;
        }
    }
    matched
}

fn glob_segments(pat: &[&str], path: &[String]) -> bool {
    match pat.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|i| glob_segments(rest, &path[i..])),
        Some((p, rest)) => {
            !path.is_empty() && glob_one(p, &path[0]) && glob_segments(rest, &path[1..])
        }
    }
}

fn glob_one(pat: &str, name: &str) -> bool {
    // Like glob's default, wildcards do not match a leading dot.
    if name.starts_with('.') && !pat.starts_with('.') {
        return false;
    }
    let p: Vec<char> = pat.chars().collect();
    let n: Vec<char> = name.chars().collect();
    fn rec(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|i| rec(rest, &n[i..])),
            Some(('?', rest)) => !n.is_empty() && rec(rest, &n[1..]),
            Some((c, rest)) => n.first() == Some(c) && rec(rest, &n[1..]),
        }
    }
    rec(&p, &n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let root = Path::new("/r");
        let m = |pats: &[&str], d: &str| {
            let pats: Vec<String> = pats.iter().map(|s| s.to_string()).collect();
            workspace_matches(&pats, root, Path::new(d))
        };
        assert!(m(&["packages/*"], "/r/packages/a"));
        assert!(!m(&["packages/*"], "/r/packages/a/b"));
        assert!(m(&["packages/**"], "/r/packages/a/b"));
        assert!(m(&["./apps/*-mcp/"], "/r/apps/x-mcp"));
        assert!(!m(&["packages/*", "!packages/a"], "/r/packages/a"));
        assert!(m(&["tools/cli"], "/r/tools/cli"));
        assert!(!m(&["packages/*"], "/r/packages/.hidden"));
    }

    #[test]
    fn paths_resolve_like_parse_field() {
        let cwd = Path::new("/work/p");
        let home = Some(Path::new("/home/me"));
        assert_eq!(
            resolve_path("~/.npmrc", cwd, home),
            PathBuf::from("/home/me/.npmrc")
        );
        assert_eq!(
            resolve_path("../x/.npmrc", cwd, home),
            PathBuf::from("/work/x/.npmrc")
        );
        assert_eq!(resolve_path("/abs/rc", cwd, home), PathBuf::from("/abs/rc"));
    }
}
