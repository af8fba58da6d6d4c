//! `.yarnrc.yml`: the registries (and their tokens) yarn berry installs a `yarn.lock` from. Yarn
//! 2+ does not read `.npmrc`; a berry project says where its packages come from here, so the
//! lockfile checks and the packages' fetches use it rather than npm's configuration.
//!
//! Read, as yarn's `Configuration.find` does: every `.yarnrc.yml` from the lockfile's directory up
//! to the root, the nearest one winning per setting. The settings read are the ones that choose a
//! registry or authenticate to it:
//! - `npmRegistryServer`, and `npmScopes.<scope>.npmRegistryServer`;
//! - `npmAuthToken` (for `npmRegistryServer`), `npmScopes.<scope>.npmAuthToken` (for the scope's
//!   registry) and `npmRegistries.<url>.npmAuthToken` (for that registry).
//!
//! They become npm settings (`registry`, `@scope:registry`, `//host/path/:_authToken`), so the
//! existing credential handling applies unchanged: a token is only ever sent to the registry it
//! is nerf-darted to, and is scrubbed from every output. Values may name environment variables
//! as yarn allows (`${NAME}`, `${NAME:-default}`, `${NAME-default}`).
//!
//! Not read: `npmAuthIdent` (user:password), `npmAlwaysAuth`, `YARN_*` environment overrides and
//! the home directory's file when it is not an ancestor of the lockfile.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use url::Url;

use super::yaml::{self, Node};
use crate::npmrc::{nerf_dart, ConfigSource, Entry, Layer};

/// A `.yarnrc.yml` larger than this is refused: real ones are a few hundred bytes.
pub const MAX_YARNRC_BYTES: u64 = 1024 * 1024;

/// What yarn uses when no file sets `npmRegistryServer`.
pub const YARN_DEFAULT_REGISTRY: &str = "https://registry.yarnpkg.com";

/// The registry settings of the `.yarnrc.yml` files above a lockfile, as npm settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YarnRegistries {
    /// The files read, nearest first.
    pub files: Vec<PathBuf>,
    /// One layer per file, each with the project's precedence; later layers win, so the
    /// nearest file is last.
    pub layers: Vec<Layer>,
}

/// A setting with the file and line it came from.
#[derive(Debug, Clone)]
struct Found {
    value: String,
    file: PathBuf,
    line: usize,
}

/// Yarn's `${NAME}` / `${NAME:-default}` / `${NAME-default}` interpolation. A variable that is
/// not set and has no default is an error naming it (yarn refuses the file too).
///
/// Not npm's `npmrc::layer::expand_env`, though both read `${NAME}`: the rules differ. npm has
/// no defaults (`${A:-d}` is a variable named `A:-d`), leaves an unset `${A}` as text, empties
/// `${A?}`, and honours backslash escapes; yarn takes defaults and refuses an unset variable.
fn interpolate(value: &str, env: &HashMap<String, String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or("an unterminated `${` in a value")?;
        let inner = &after[..end];
        let (name, default, empty_counts) = if let Some((n, d)) = inner.split_once(":-") {
            (n, Some(d), true)
        } else if let Some((n, d)) = inner.split_once('-') {
            (n, Some(d), false)
        } else {
            (inner, None, false)
        };
        let set = env
            .get(name)
            .filter(|v| !(empty_counts && v.is_empty()))
            .cloned();
        match (set, default) {
            (Some(v), _) => out.push_str(&v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => {
                return Err(format!("the environment variable `{name}` is not set"));
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn read_file(path: &Path) -> Result<Option<Node>, String> {
    use std::io::Read;
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: cannot read it: {e}", path.display())),
    };
    let mut bytes = Vec::new();
    file.take(MAX_YARNRC_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: cannot read it: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_YARNRC_BYTES {
        return Err(format!(
            "{}: larger than {} KiB: refused",
            path.display(),
            MAX_YARNRC_BYTES / 1024
        ));
    }
    let text = String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8", path.display()))?;
    let docs = yaml::parse(&text).map_err(|e| e.at(path))?;
    match docs.into_iter().next() {
        None => Ok(None),
        Some(n @ Node::Map(_)) => Ok(Some(n)),
        Some(_) => Err(format!("{}: not a mapping of settings", path.display())),
    }
}

/// The line of `key` in a map node.
fn line_of(node: &Node, key: &str) -> usize {
    node.entries()
        .iter()
        .find(|(k, _, _)| k == key)
        .map_or(0, |(_, l, _)| *l)
}

/// Collects the settings of one file into `into` (keys not yet set by a nearer file).
fn collect(
    path: &Path,
    doc: &Node,
    env: &HashMap<String, String>,
    into: &mut HashMap<String, Found>,
) -> Result<(), String> {
    let mut put = |key: String, node: &Node, field: &str| -> Result<(), String> {
        let Some(raw) = node.str(field) else {
            return Ok(());
        };
        if into.contains_key(&key) {
            return Ok(());
        }
        let line = line_of(node, field);
        // The message names the setting, never its value: it may be a token.
        let value = interpolate(raw, env)
            .map_err(|e| format!("{}:{line}: {field}: {e}", path.display()))?;
        into.insert(
            key,
            Found {
                value,
                file: path.to_path_buf(),
                line,
            },
        );
        Ok(())
    };
    put("registry".into(), doc, "npmRegistryServer")?;
    put("token".into(), doc, "npmAuthToken")?;
    for (scope, _, s) in doc.get("npmScopes").map(Node::entries).unwrap_or(&[]) {
        let scope = scope.trim_start_matches('@');
        put(format!("@{scope}:registry"), s, "npmRegistryServer")?;
        put(format!("@{scope}:token"), s, "npmAuthToken")?;
    }
    for (url, _, r) in doc.get("npmRegistries").map(Node::entries).unwrap_or(&[]) {
        put(format!("{url}\0token"), r, "npmAuthToken")?;
    }
    Ok(())
}

/// Yarn accepts a registry with or without a scheme in `npmRegistries` keys (`//host/path`).
fn registry_url(value: &str) -> Result<Url, String> {
    let v = value.trim();
    let full = if v.starts_with("//") {
        format!("https:{v}")
    } else {
        v.to_string()
    };
    let mut url = Url::parse(&full).map_err(|e| format!("not a URL ({e})"))?;
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
}

/// Reads the `.yarnrc.yml` files from `dir` up to the root. `None` when there are none.
pub fn discover(
    dir: &Path,
    env: &HashMap<String, String>,
) -> Result<Option<YarnRegistries>, String> {
    let mut found: HashMap<String, Found> = HashMap::new();
    let mut files = Vec::new();
    for d in dir.ancestors() {
        let path = d.join(".yarnrc.yml");
        if let Some(doc) = read_file(&path)? {
            collect(&path, &doc, env, &mut found)?;
            files.push(path);
        }
    }
    if files.is_empty() {
        return Ok(None);
    }
    let mut by_file: HashMap<PathBuf, Vec<Entry>> = HashMap::new();
    let mut add = |f: &Found, key: String, value: String| {
        by_file
            .entry(f.file.clone())
            .or_default()
            .push(Entry::new(key, value, Some(f.line)));
    };
    let main = found.get("registry");
    let main_url = match main {
        Some(f) => Some(
            registry_url(&f.value)
                .map_err(|e| format!("{}:{}: npmRegistryServer: {e}", f.file.display(), f.line))?,
        ),
        None => None,
    };
    if let (Some(f), Some(u)) = (main, &main_url) {
        add(f, "registry".into(), u.to_string());
    }
    let token_target = |f: &Found, url: Option<&Url>| -> Result<Url, String> {
        match url {
            Some(u) => Ok(u.clone()),
            None => registry_url(YARN_DEFAULT_REGISTRY)
                .map_err(|e| format!("{}:{}: {e}", f.file.display(), f.line)),
        }
    };
    if let Some(f) = found.get("token") {
        let u = token_target(f, main_url.as_ref())?;
        add(f, format!("{}:_authToken", nerf_dart(&u)), f.value.clone());
    }
    let mut keys: Vec<&String> = found.keys().collect();
    keys.sort();
    for key in keys {
        let f = &found[key];
        if let Some(scope) = key.strip_suffix(":registry").filter(|s| s.starts_with('@')) {
            let u = registry_url(&f.value).map_err(|e| {
                format!(
                    "{}:{}: npmScopes.{}.npmRegistryServer: {e}",
                    f.file.display(),
                    f.line,
                    &scope[1..]
                )
            })?;
            add(f, key.clone(), u.to_string());
        } else if let Some(scope) = key.strip_suffix(":token").filter(|s| s.starts_with('@')) {
            let scoped = found
                .get(&format!("{scope}:registry"))
                .and_then(|r| registry_url(&r.value).ok());
            let u = token_target(f, scoped.as_ref().or(main_url.as_ref()))?;
            add(f, format!("{}:_authToken", nerf_dart(&u)), f.value.clone());
        } else if let Some(url) = key.strip_suffix("\0token") {
            let u = registry_url(url)
                .map_err(|e| format!("{}:{}: npmRegistries key: {e}", f.file.display(), f.line))?;
            add(f, format!("{}:_authToken", nerf_dart(&u)), f.value.clone());
        }
    }
    // Farthest first, so the nearest file's layer comes last and wins.
    let layers = files
        .iter()
        .rev()
        .filter_map(|p| {
            by_file
                .remove(p)
                .map(|entries| Layer::new(ConfigSource::Project(p.clone()), entries))
        })
        .collect();
    Ok(Some(YarnRegistries { files, layers }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn settings(y: &YarnRegistries) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = y
            .layers
            .iter()
            .flat_map(|l| l.entries.iter().map(|e| (e.key.clone(), e.value.clone())))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn interpolates_like_yarn() {
        let e = env(&[("T", "tok"), ("EMPTY", "")]);
        assert_eq!(interpolate("a${T}b", &e).unwrap(), "atokb");
        assert_eq!(interpolate("${NOPE:-d}", &e).unwrap(), "d");
        assert_eq!(interpolate("${EMPTY:-d}", &e).unwrap(), "d");
        assert_eq!(interpolate("${EMPTY-d}", &e).unwrap(), "");
        assert!(interpolate("${NOPE}", &e).unwrap_err().contains("NOPE"));
        assert!(interpolate("${T", &e).is_err());
    }

    #[test]
    fn registries_and_tokens_become_nerf_darted_npm_settings() {
        let root = tempfile::tempdir().unwrap();
        let project = root.path().join("p");
        std::fs::create_dir(&project).unwrap();
        std::fs::write(
            root.path().join(".yarnrc.yml"),
            "npmRegistryServer: \"https://far.example/\"\nnpmScopes:\n  corp:\n    npmRegistryServer: \"https://far-corp.example\"\n",
        )
        .unwrap();
        std::fs::write(
            project.join(".yarnrc.yml"),
            "npmRegistryServer: \"https://npm.example/repo\"\nnpmAuthToken: \"${TOKEN}\"\nnpmScopes:\n  \"@acme\":\n    npmRegistryServer: \"https://acme.example/npm/\"\n    npmAuthToken: acme-secret\nnpmRegistries:\n  \"//other.example/x\":\n    npmAuthToken: other-secret\n",
        )
        .unwrap();
        let y = discover(&project, &env(&[("TOKEN", "main-secret")]))
            .unwrap()
            .unwrap();
        assert_eq!(y.files.len(), 2);
        assert_eq!(
            settings(&y),
            [
                ("//acme.example/npm/:_authToken", "acme-secret"),
                ("//npm.example/repo/:_authToken", "main-secret"),
                ("//other.example/x/:_authToken", "other-secret"),
                ("@acme:registry", "https://acme.example/npm/"),
                ("@corp:registry", "https://far-corp.example/"),
                ("registry", "https://npm.example/repo/"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        // The nearest file's layer is last (it wins in Config::from_layers).
        assert_eq!(
            y.layers.last().unwrap().source,
            ConfigSource::Project(project.join(".yarnrc.yml"))
        );
    }

    #[test]
    fn bad_files_are_one_line_errors_that_never_quote_a_value() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join(".yarnrc.yml");
        std::fs::write(&p, "npmAuthToken: \"${MISSING}\"\n").unwrap();
        let e = discover(d.path(), &env(&[])).unwrap_err();
        assert!(
            e.contains(".yarnrc.yml:1: npmAuthToken") && e.contains("MISSING"),
            "{e}"
        );
        std::fs::write(&p, "npmRegistryServer: \"not a url s3cr3t\"\n").unwrap();
        let e = discover(d.path(), &env(&[])).unwrap_err();
        assert!(!e.contains("s3cr3t"), "{e}");
        std::fs::write(&p, "- a\n- b\n").unwrap();
        assert!(discover(d.path(), &env(&[])).is_err());
        std::fs::write(&p, "a: &x [1]\nb: *x\n").unwrap();
        assert!(discover(d.path(), &env(&[])).unwrap_err().contains("alias"));
        std::fs::write(&p, "x".repeat(MAX_YARNRC_BYTES as usize + 1)).unwrap();
        assert!(discover(d.path(), &env(&[]))
            .unwrap_err()
            .contains("refused"));
        // No file: nothing to say.
        std::fs::remove_file(&p).unwrap();
        let sub = d.path().join("s");
        std::fs::create_dir(&sub).unwrap();
        assert_eq!(discover(&sub, &env(&[])).unwrap(), None);
    }
}
