//! Lockfiles (`package-lock.json` v1-v3, `npm-shrinkwrap.json`, `pnpm-lock.yaml` 5.x-9.0,
//! `yarn.lock` v1 and berry) read into one model: the packages a project pins, each with the
//! real name (aliases resolved), version, resolved URL, integrity, the key or path that brings it
//! in, and the 1-based line of its entry, so a finding points at the line to fix.
//!
//! A lockfile is attacker-controlled input (a pull request can change it): every reader is
//! bounded. The file is read with a size cap, the entry count is capped, JSON nesting is bounded
//! by serde_json's recursion limit, YAML is read from parser events into a tree built without
//! recursion (aliases refused, depth capped, see [`yaml`]) and yarn v1 is read line by line.

pub mod facts;
mod npm;
mod pnpm;
pub mod pnpm_workspace;
pub mod yaml;
mod yarn;
pub mod yarnrc;

use std::path::{Path, PathBuf};

/// Larger than any real lockfile we know of (a 100k-entry package-lock is about 40 MB); the cap
/// keeps a hostile file from filling memory.
pub const MAX_LOCKFILE_BYTES: u64 = 256 * 1024 * 1024;

/// Entries beyond this are refused: the audit fetches each one.
pub const MAX_ENTRIES: usize = 1_000_000;

/// The lockfile names `lock` looks for in a directory, in the order it reports them: npm's own
/// (shrinkwrap wins over package-lock, as npm reads it), then pnpm, then yarn.
pub const FILE_NAMES: &[&str] = &[
    "npm-shrinkwrap.json",
    "package-lock.json",
    "pnpm-lock.yaml",
    "yarn.lock",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// `package-lock.json` / `npm-shrinkwrap.json` with its `lockfileVersion`.
    Npm(u8),
    /// `pnpm-lock.yaml`; the `lockfileVersion` as written (`5.4`, `6.0`, `9.0`).
    Pnpm(String),
    YarnV1,
    /// Yarn 2+ (`__metadata.version`).
    YarnBerry(u32),
}

impl Format {
    pub fn describe(&self) -> String {
        match self {
            Format::Npm(v) => format!("npm lockfileVersion {v}"),
            Format::Pnpm(v) => format!("pnpm lockfileVersion {v}"),
            Format::YarnV1 => "yarn v1".into(),
            Format::YarnBerry(v) => format!("yarn berry (__metadata.version {v})"),
        }
    }
}

/// Where a locked package comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A registry tarball (or no `resolved` at all: npm then uses the configured registry).
    Registry,
    /// A git repository: not fetched, a finding.
    Git,
    /// A tarball URL that is not a registry's `name/-/name-version.tgz`: not fetched, a finding.
    RemoteTarball,
    /// A local file or directory (`file:`, pnpm `directory`).
    File,
    /// A symlink into the project (`link: true`, `link:`, `portal:`).
    Link,
    /// A workspace package of the project itself.
    Workspace,
    /// Shipped inside its parent's tarball (`inBundle`): npm does not fetch it.
    Bundled,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Registry => "registry",
            SourceKind::Git => "git",
            SourceKind::RemoteTarball => "remote-tarball",
            SourceKind::File => "file",
            SourceKind::Link => "link",
            SourceKind::Workspace => "workspace",
            SourceKind::Bundled => "bundled",
        }
    }

    /// Whether the package is fetched from a registry and so audited with the package rules.
    pub fn from_registry(self) -> bool {
        self == SourceKind::Registry
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedEntry {
    /// The real package name (an `npm:` alias resolved).
    pub name: String,
    /// The name it is installed under, when an alias makes it differ from `name`.
    pub alias: Option<String>,
    /// The locked version; for git and file sources, what the lockfile says instead.
    pub version: String,
    pub resolved: Option<String>,
    /// SRI (`sha512-…`), or yarn berry's `checksum` as written.
    pub integrity: Option<String>,
    pub source: SourceKind,
    /// The key or path of the entry in the lockfile (`node_modules/a/node_modules/b`,
    /// `/a@1.0.0`, `a@^1.0.0, a@^1.1.0`).
    pub key: String,
    /// 1-based line of the entry.
    pub line: Option<usize>,
    /// How the project reaches it, where the lockfile records the graph (pnpm): each path starts
    /// with the importer (the workspace directory as the lockfile names it, `.` for the root)
    /// and lists `name@version` from its direct dependency down to this entry. At most
    /// [`crate::tree::MAX_PATHS`], shortest first; empty for the other formats.
    pub paths: Vec<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Lockfile {
    pub path: PathBuf,
    pub format: Format,
    pub entries: Vec<LockedEntry>,
}

/// Why a lockfile could not be read: shown as `file:line: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockError {
    pub line: Option<usize>,
    pub message: String,
}

impl LockError {
    pub fn new(line: Option<usize>, message: impl Into<String>) -> LockError {
        LockError {
            line,
            message: message.into(),
        }
    }

    /// One line: `path:line: message`.
    pub fn at(&self, path: &Path) -> String {
        match self.line {
            Some(l) => format!("{}:{l}: {}", path.display(), self.message),
            None => format!("{}: {}", path.display(), self.message),
        }
    }
}

/// Which reader a file needs, from its name; a name we do not know is read by its content.
fn kind_of(path: &Path, text: &str) -> Result<&'static str, LockError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.ends_with(".json") {
        return Ok("npm");
    }
    if name == "pnpm-lock.yaml" || name.ends_with("pnpm-lock.yaml") {
        return Ok("pnpm");
    }
    if name.ends_with("yarn.lock") {
        return Ok("yarn");
    }
    let head = text.trim_start();
    if head.starts_with('{') {
        Ok("npm")
    } else if head.starts_with("lockfileVersion") {
        Ok("pnpm")
    } else if text.contains("# yarn lockfile v1") || text.contains("__metadata:") {
        Ok("yarn")
    } else {
        Err(LockError::new(
            None,
            "not a lockfile mcp-audit reads (package-lock.json, npm-shrinkwrap.json, pnpm-lock.yaml, yarn.lock)",
        ))
    }
}

/// Parses lockfile text; `path` only chooses the reader by name.
pub fn parse(path: &Path, text: &str) -> Result<(Format, Vec<LockedEntry>), LockError> {
    let (format, entries) = match kind_of(path, text)? {
        "npm" => npm::parse(text)?,
        "pnpm" => pnpm::parse(text)?,
        _ => yarn::parse(text)?,
    };
    if entries.len() > MAX_ENTRIES {
        return Err(LockError::new(
            None,
            format!(
                "{} entries, more than the {MAX_ENTRIES} mcp-audit reads",
                entries.len()
            ),
        ));
    }
    Ok((format, entries))
}

/// Reads and parses one file, with the size cap.
pub fn read(path: &Path) -> Result<Lockfile, LockError> {
    use std::io::Read;
    let file = std::fs::File::open(path)
        .map_err(|e| LockError::new(None, format!("cannot read it: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_LOCKFILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| LockError::new(None, format!("cannot read it: {e}")))?;
    if bytes.len() as u64 > MAX_LOCKFILE_BYTES {
        return Err(LockError::new(
            None,
            format!(
                "larger than {} MiB: refused",
                MAX_LOCKFILE_BYTES / 1024 / 1024
            ),
        ));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|b| **b == b'\n').count() + 1;
        LockError::new(Some(line), "not UTF-8 text")
    })?;
    let (format, entries) = parse(path, &text)?;
    Ok(Lockfile {
        path: path.to_path_buf(),
        format,
        entries,
    })
}

/// The lockfiles in `dir`, in [`FILE_NAMES`] order. All of them: a project with both a
/// package-lock and a yarn.lock installs from whichever tool is run, so each is audited.
pub fn discover(dir: &Path) -> Vec<PathBuf> {
    FILE_NAMES
        .iter()
        .map(|n| dir.join(n))
        .filter(|p| p.is_file())
        .collect()
}

/// `name@spec` split at the `@` that ends the name (a scope's leading `@` is part of it).
pub(crate) fn split_name(spec: &str) -> Option<(&str, &str)> {
    let from = usize::from(spec.starts_with('@'));
    let at = spec[from..].find('@')? + from;
    let (name, rest) = (&spec[..at], &spec[at + 1..]);
    (!name.is_empty()).then_some((name, rest))
}

/// The kind of source a resolved URL or spec names.
pub(crate) fn classify(resolved: &str) -> SourceKind {
    let r = resolved.trim();
    let lower = r.to_ascii_lowercase();
    if lower.starts_with("git+")
        || lower.starts_with("git:")
        || lower.starts_with("git@")
        || lower.starts_with("github:")
        || lower.starts_with("gitlab:")
        || lower.starts_with("bitbucket:")
        || lower.starts_with("ssh:")
        || lower.contains("codeload.github.com")
        || lower.contains(".git#")
        || lower.ends_with(".git")
    {
        SourceKind::Git
    } else if lower.starts_with("file:") {
        SourceKind::File
    } else if lower.starts_with("link:") || lower.starts_with("portal:") {
        SourceKind::Link
    } else if lower.starts_with("workspace:") {
        SourceKind::Workspace
    } else if lower.starts_with("http://") || lower.starts_with("https://") {
        if registry_tarball_shape(r) {
            SourceKind::Registry
        } else {
            SourceKind::RemoteTarball
        }
    } else {
        // A relative path, as npm writes for `file:` dependencies in `resolved`.
        SourceKind::File
    }
}

/// `…/<name>/-/<basename>-<version>.tgz`: the path every npm registry serves tarballs under.
fn registry_tarball_shape(url: &str) -> bool {
    let path = url.split(['#', '?']).next().unwrap_or_default();
    path.contains("/-/") && path.ends_with(".tgz")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_after_the_scope() {
        assert_eq!(split_name("@s/p@1.0.0"), Some(("@s/p", "1.0.0")));
        assert_eq!(split_name("p@npm:q@1"), Some(("p", "npm:q@1")));
        assert_eq!(split_name("@s/p"), None);
        assert_eq!(split_name("@"), None);
    }

    #[test]
    fn sources_are_classified_like_npm_package_arg() {
        use SourceKind::*;
        for (r, k) in [
            ("https://registry.npmjs.org/a/-/a-1.0.0.tgz", Registry),
            (
                "https://registry.yarnpkg.com/@s/a/-/a-1.0.0.tgz#abc",
                Registry,
            ),
            ("https://example.com/a.tgz", RemoteTarball),
            ("git+ssh://git@github.com/o/r.git#abc", Git),
            ("https://codeload.github.com/o/r/tar.gz/abc", Git),
            ("file:../a", File),
            ("../a", File),
            ("link:../a", Link),
        ] {
            assert_eq!(classify(r), k, "{r}");
        }
    }
}
