//! The dependency tree `npm install <spec>` would create (issue 12): resolution with arborist's
//! placement rules from abbreviated packuments, or the root's `npm-shrinkwrap.json` when it ships
//! one. Auditing the nodes is `pipeline::tree`'s job; this module only decides what gets installed.

pub mod manifest;
pub mod resolve;
pub mod shrinkwrap;

use std::future::Future;
use std::sync::Arc;

use crate::spec::{exact_version, Selector};

pub use manifest::{Engines, Manifest, Packument, ABBREVIATED_ACCEPT};
pub use resolve::{resolve, ResolveOptions};

/// The default of `--max-nodes`.
pub const DEFAULT_MAX_NODES: usize = 5000;

/// Where the tree came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeSource {
    /// Resolved from the registry as npm would.
    Registry,
    /// Pinned by the root package's own `npm-shrinkwrap.json`.
    Shrinkwrap,
}

impl TreeSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TreeSource::Registry => "registry",
            TreeSource::Shrinkwrap => "shrinkwrap",
        }
    }
}

/// One installed package (name@version), wherever and however often it is placed.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeNode {
    /// The real package name (an `npm:` alias resolves to the package it names).
    pub name: String,
    pub version: String,
    /// How the root reaches it: each path lists `name@version` from a direct dependency of the
    /// root down to this node (the root itself is left out). At most [`MAX_PATHS`], shortest first.
    pub paths: Vec<Vec<String>>,
    /// Shipped inside a parent's tarball (`bundleDependencies`): reported, not fetched.
    pub bundled: bool,
    /// Only reachable through optional edges (`optionalDependencies`).
    pub optional: bool,
    /// `node_modules` locations, as a package-lock names them.
    pub locations: Vec<String>,
}

/// A dependency that was not installed from the registry, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeProblem {
    /// The package that asked for it (`name@version`), and how the root reaches that one.
    pub from: Vec<String>,
    pub name: String,
    pub spec: String,
    pub reason: String,
    /// An optional dependency npm would skip on failure.
    pub optional: bool,
    /// The registry could not serve it (as opposed to a spec npm does not fetch from a registry).
    pub unavailable: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    pub source: TreeSource,
    /// The root package as resolved (`name@version`).
    pub root: String,
    pub nodes: Vec<TreeNode>,
    pub problems: Vec<TreeProblem>,
}

/// Paths kept per node: enough to explain it, bounded for diamonds and cycles.
pub const MAX_PATHS: usize = 5;

/// Why a tree could not be built at all.
#[derive(Debug, Clone, PartialEq)]
pub enum TreeError {
    TooManyNodes { limit: usize },
    Root(String),
    Shrinkwrap(String),
}

impl std::fmt::Display for TreeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TreeError::TooManyNodes { limit } => write!(
                f,
                "the dependency tree has more than {limit} packages; resolution stopped \
                 (raise --max-nodes, or use --no-deps to audit the package alone)"
            ),
            TreeError::Root(e) => write!(f, "the package itself could not be resolved: {e}"),
            TreeError::Shrinkwrap(e) => write!(f, "npm-shrinkwrap.json: {e}"),
        }
    }
}

/// Where resolution reads packuments and tarballs from: the registry clients in a scan, a map of
/// fixtures in tests.
pub trait Source: Sync {
    fn packument(&self, name: &str) -> impl Future<Output = Result<Arc<Packument>, String>> + Send;
    /// The bytes of `npm-shrinkwrap.json` in the tarball of `name@version`, `None` when absent.
    fn shrinkwrap(
        &self,
        name: &str,
        version: &str,
        manifest: &Manifest,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, String>> + Send;
}

/// What one dependency spec asks for, as npm-package-arg reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum Want {
    Registry {
        package: String,
        selector: Selector,
    },
    /// git, URL, file, link and other specs npm does not take from a registry.
    Elsewhere {
        kind: &'static str,
    },
}

/// Reads the spec of dependency `name`. `npm:pkg@range` aliases name the package they install.
pub fn want(name: &str, spec: &str) -> Want {
    let s = spec.trim();
    if let Some(rest) = s.strip_prefix("npm:") {
        let (package, range) = match rest.get(1..).and_then(|r| r.find('@')) {
            Some(i) => (&rest[..i + 1], &rest[i + 2..]),
            None => (rest, ""),
        };
        if crate::spec::Spec::parse(package).is_err() {
            return Want::Elsewhere {
                kind: "an invalid npm: alias",
            };
        }
        return match want(package, range) {
            Want::Registry { selector, .. } => Want::Registry {
                package: package.to_string(),
                selector,
            },
            other => other,
        };
    }
    use crate::facts::deps::{classify, RangeClass};
    let class = classify(s);
    if !class.is_registry() {
        let kind = match class {
            RangeClass::Git => "git",
            RangeClass::Url => "a URL",
            RangeClass::File => "a local file or directory",
            RangeClass::Link => "link:",
            _ => "a protocol npm does not resolve from a registry",
        };
        return Want::Elsewhere { kind };
    }
    let selector = if s.is_empty() || s == "*" || s == "x" {
        Selector::Range("*".into())
    } else if let Some(v) = exact_version(s) {
        Selector::Version(v.to_string())
    } else if nodejs_semver::Range::parse(s).is_ok() && crate::spec::is_range(s) {
        Selector::Range(s.to_string())
    } else {
        Selector::Tag(s.to_string())
    };
    Want::Registry {
        package: name.to_string(),
        selector,
    }
}

/// arborist's depValid for a registry node: a range (`*` accepts anything), an exact version, or
/// a tag (any registry version).
pub fn satisfies(w: &Want, package: &str, version: &str) -> bool {
    let Want::Registry {
        package: want,
        selector,
    } = w
    else {
        return false;
    };
    if want != package {
        return false;
    }
    let Ok(v) = nodejs_semver::Version::parse(version) else {
        return false;
    };
    match selector {
        Selector::Tag(_) => true,
        Selector::Version(x) => nodejs_semver::Version::parse(x).is_ok_and(|x| x == v),
        Selector::Range(r) if r == "*" => true,
        Selector::Range(r) => nodejs_semver::Range::parse(r).is_ok_and(|r| r.satisfies(&v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_specs_like_npm_package_arg() {
        let reg = |p: &str, s: Selector| Want::Registry {
            package: p.into(),
            selector: s,
        };
        assert_eq!(
            want("a", "^1.2.0"),
            reg("a", Selector::Range("^1.2.0".into()))
        );
        assert_eq!(want("a", ""), reg("a", Selector::Range("*".into())));
        assert_eq!(
            want("a", "1.2.3"),
            reg("a", Selector::Version("1.2.3".into()))
        );
        assert_eq!(want("a", "next"), reg("a", Selector::Tag("next".into())));
        assert_eq!(
            want("s", "npm:string-width@^4.2.0"),
            reg("string-width", Selector::Range("^4.2.0".into()))
        );
        assert_eq!(
            want("s", "npm:@scope/real@1.0.0"),
            reg("@scope/real", Selector::Version("1.0.0".into()))
        );
        assert_eq!(
            want("s", "npm:@scope/real"),
            reg("@scope/real", Selector::Range("*".into()))
        );
        assert!(matches!(
            want("a", "git+https://x/y.git"),
            Want::Elsewhere { .. }
        ));
        assert!(matches!(want("a", "file:../a"), Want::Elsewhere { .. }));
        assert!(matches!(
            want("a", "https://x/a.tgz"),
            Want::Elsewhere { .. }
        ));
        assert!(matches!(want("a", "user/repo"), Want::Elsewhere { .. }));
    }

    #[test]
    fn validity_follows_dep_valid() {
        let w = want("a", "^1.0.0");
        assert!(satisfies(&w, "a", "1.5.0"));
        assert!(!satisfies(&w, "a", "2.0.0"));
        assert!(!satisfies(&w, "b", "1.5.0"));
        assert!(!satisfies(&w, "a", "1.6.0-rc.1"));
        assert!(satisfies(&want("a", "*"), "a", "3.0.0-rc.1"));
        assert!(satisfies(&want("a", "latest"), "a", "0.0.1"));
    }
}
