//! `LockFacts`: what the lockfile rules (`lockentry.*`) look at for one locked entry. A facts
//! document of its own, like the launch and server.json ones: the lockfile rules judge a line
//! of the project's lockfile, the package rules judge what the registry publishes, and a
//! package `scan` never shows lockfile rules as inconclusive.

use serde::{Deserialize, Serialize};
use url::Url;

use super::{LockedEntry, SourceKind};
use crate::facts::{Fact, FACTS_SCHEMA};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockFacts {
    pub schema: u32,
    pub lockentry: LockEntryFacts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockEntryFacts {
    /// The lockfile, as given or found.
    pub file: String,
    /// `npm lockfileVersion 3`, `pnpm lockfileVersion 9.0`, `yarn v1`...
    pub format: String,
    /// The entry's key or install path.
    pub key: String,
    pub line: Option<u64>,
    pub name: String,
    /// The name it is installed under when an `npm:` alias differs.
    pub alias: Option<String>,
    pub version: String,
    /// `registry`, `git`, `remote-tarball`, `file`, `link`, `workspace` or `bundled`.
    pub source: String,
    pub resolved: Option<String>,
    pub resolved_host: Option<String>,
    /// `resolved` is a plain `http:` URL.
    pub resolved_http: bool,
    /// The registry npm's configuration selects for this name (scoped registries included).
    pub expected_registry: Fact<String>,
    /// `resolved` points at a host other than that registry (the public npm registry's own
    /// names count as it when no scope setting chose the registry). False when there is no
    /// `resolved` URL: the package manager then asks the configured registry.
    pub foreign_host: Fact<bool>,
    pub integrity: Option<String>,
    /// A package fetched over the network (registry or remote tarball) with no integrity in the
    /// lockfile: nothing checks what is downloaded.
    pub integrity_missing: bool,
    /// The registry's `dist.integrity` (or `sha1-` of `dist.shasum`) for this version.
    pub registry_integrity: Fact<String>,
    /// The lockfile's integrity and the registry's disagree on a digest of the same algorithm.
    pub integrity_mismatch: Fact<bool>,
}

/// The public npm registry under its own names: yarn v1 writes `registry.yarnpkg.com`, a proxy
/// of the same registry.
const PUBLIC_NPM_HOSTS: &[&str] = &["registry.npmjs.org", "registry.yarnpkg.com"];

/// The registry npm's configuration selects for the entry, as seen by the rules.
pub struct ExpectedRegistry {
    pub url: Url,
    /// Chosen by `@scope:registry` rather than `registry`: the public registry is then not an
    /// acceptable host for the name (dependency confusion).
    pub by_scope: bool,
}

/// What the registry says about the locked version's tarball.
pub enum RegistryDist {
    Known {
        integrity: Option<String>,
        shasum: Option<String>,
    },
    Unknown(String),
}

pub struct LockInput<'a> {
    pub file: &'a str,
    pub format: &'a str,
    pub entry: &'a LockedEntry,
    pub expected: Result<ExpectedRegistry, String>,
    pub dist: RegistryDist,
    /// yarn berry's `checksum` hashes its own zip archive, not the registry tarball.
    pub integrity_is_sri: bool,
}

fn host_of(url: &Url) -> Option<String> {
    let host = url.host_str()?.to_ascii_lowercase();
    Some(match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    })
}

pub fn lock_facts(input: &LockInput<'_>) -> LockFacts {
    let e = input.entry;
    let fetched = matches!(e.source, SourceKind::Registry | SourceKind::RemoteTarball);
    let url = e
        .resolved
        .as_deref()
        .filter(|r| r.starts_with("http://") || r.starts_with("https://"))
        .and_then(|r| Url::parse(r).ok());
    let resolved_host = url.as_ref().and_then(host_of);
    let resolved_http = e
        .resolved
        .as_deref()
        .is_some_and(|r| r.to_ascii_lowercase().starts_with("http:"));
    let (expected_registry, foreign_host) = match &input.expected {
        Err(reason) => (
            Fact::unknown(reason.clone()),
            Fact::unknown(format!("no registry to compare with: {reason}")),
        ),
        Ok(exp) => {
            let expected_host = host_of(&exp.url);
            let foreign = match (&resolved_host, fetched) {
                (Some(h), true) => {
                    let public = PUBLIC_NPM_HOSTS.contains(&h.as_str());
                    let expected_public = expected_host
                        .as_deref()
                        .is_some_and(|x| PUBLIC_NPM_HOSTS.contains(&x));
                    let same = Some(h) == expected_host.as_ref()
                        || (public && expected_public)
                        // npm's replace-registry-host rewrites the public registry onto the
                        // configured one; not for a scope, where it would be a confusion risk.
                        || (public && !exp.by_scope);
                    !same
                }
                _ => false,
            };
            (
                Fact::Known(crate::registry::redact_url(&exp.url)),
                Fact::Known(foreign),
            )
        }
    };
    let integrity_missing = fetched && e.integrity.as_deref().is_none_or(|i| i.trim().is_empty());
    let registry_integrity = match &input.dist {
        RegistryDist::Unknown(r) => Fact::unknown(r.clone()),
        RegistryDist::Known {
            integrity: Some(i), ..
        } => Fact::Known(i.clone()),
        RegistryDist::Known {
            shasum: Some(s), ..
        } => match sha1_sri(s) {
            Some(sri) => Fact::Known(sri),
            None => Fact::unknown("the registry's dist.shasum is not 40 hex digits"),
        },
        RegistryDist::Known { .. } => {
            Fact::unknown("the registry lists neither dist.integrity nor dist.shasum")
        }
    };
    let integrity_mismatch = if !fetched || e.source != SourceKind::Registry {
        Fact::unknown(format!(
            "a {} entry: the registry has no integrity for it",
            e.source.as_str()
        ))
    } else if !input.integrity_is_sri {
        Fact::unknown(
            "yarn berry's checksum hashes its own zip archive, not the registry tarball: it cannot be compared with dist.integrity",
        )
    } else {
        match (&e.integrity, &registry_integrity) {
            (None, _) => {
                Fact::unknown("the entry records no integrity (see lock-integrity-missing)")
            }
            (_, Fact::Unknown { reason }) => Fact::unknown(reason.clone()),
            (Some(lock), Fact::Known(reg)) => match compare_sri(lock, reg) {
                Some(same) => Fact::Known(!same),
                None => Fact::unknown(format!(
                    "the lockfile's integrity and the registry's share no algorithm ({} / {})",
                    algorithms(lock),
                    algorithms(reg)
                )),
            },
        }
    };
    LockFacts {
        schema: FACTS_SCHEMA,
        lockentry: LockEntryFacts {
            file: input.file.to_string(),
            format: input.format.to_string(),
            key: e.key.clone(),
            line: e.line.map(|l| l as u64),
            name: e.name.clone(),
            alias: e.alias.clone(),
            version: e.version.clone(),
            source: e.source.as_str().to_string(),
            resolved: e.resolved.clone(),
            resolved_host,
            resolved_http,
            expected_registry,
            foreign_host,
            integrity: e.integrity.clone(),
            integrity_missing,
            registry_integrity,
            integrity_mismatch,
        },
    }
}

/// `sha1-<base64>` of a hex `dist.shasum`.
fn sha1_sri(hex: &str) -> Option<String> {
    use base64::Engine;
    let hex = hex.trim();
    if hex.len() != 40 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..20)
        .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    Some(format!(
        "sha1-{}",
        base64::engine::general_purpose::STANDARD.encode(bytes?)
    ))
}

/// `(algorithm, base64 digest)` pairs of an SRI string, options dropped.
fn sri_entries(sri: &str) -> Vec<(&str, &str)> {
    sri.split_whitespace()
        .filter_map(|t| {
            let (alg, rest) = t.split_once('-')?;
            Some((alg, rest.split('?').next().unwrap_or_default()))
        })
        .collect()
}

fn algorithms(sri: &str) -> String {
    let mut algs: Vec<&str> = sri_entries(sri).into_iter().map(|(a, _)| a).collect();
    algs.dedup();
    if algs.is_empty() {
        "none".into()
    } else {
        algs.join(",")
    }
}

/// Whether two SRI strings agree, judged on the strongest algorithm both list (as ssri
/// matches): `None` when they share none.
fn compare_sri(lock: &str, registry: &str) -> Option<bool> {
    let l = sri_entries(lock);
    let r = sri_entries(registry);
    for alg in ["sha512", "sha384", "sha256", "sha1"] {
        let ls: Vec<&str> = l.iter().filter(|(a, _)| *a == alg).map(|x| x.1).collect();
        let rs: Vec<&str> = r.iter().filter(|(a, _)| *a == alg).map(|x| x.1).collect();
        if !ls.is_empty() && !rs.is_empty() {
            return Some(ls.iter().any(|d| rs.contains(d)));
        }
    }
    None
}

impl LockFacts {
    /// An entry on which every lockfile rule passes, every optional fact filled, so the
    /// catalogue of fact paths can be read off it.
    pub fn example() -> LockFacts {
        LockFacts {
            schema: FACTS_SCHEMA,
            lockentry: LockEntryFacts {
                file: "package-lock.json".into(),
                format: "npm lockfileVersion 3".into(),
                key: "node_modules/example".into(),
                line: Some(12),
                name: "example".into(),
                alias: Some("example-alias".into()),
                version: "1.0.0".into(),
                source: "registry".into(),
                resolved: Some("https://registry.npmjs.org/example/-/example-1.0.0.tgz".into()),
                resolved_host: Some("registry.npmjs.org".into()),
                resolved_http: false,
                expected_registry: Fact::Known("https://registry.npmjs.org/".into()),
                foreign_host: Fact::Known(false),
                integrity: Some("sha512-AA==".into()),
                integrity_missing: false,
                registry_integrity: Fact::Known("sha512-AA==".into()),
                integrity_mismatch: Fact::Known(false),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(resolved: Option<&str>, integrity: Option<&str>) -> LockedEntry {
        LockedEntry {
            name: "@s/a".into(),
            alias: None,
            version: "1.0.0".into(),
            resolved: resolved.map(str::to_string),
            integrity: integrity.map(str::to_string),
            source: resolved.map_or(SourceKind::Registry, super::super::classify),
            key: "node_modules/@s/a".into(),
            line: Some(3),
            paths: Vec::new(),
        }
    }

    fn facts(
        e: &LockedEntry,
        registry: &str,
        by_scope: bool,
        dist: Option<&str>,
    ) -> LockEntryFacts {
        lock_facts(&LockInput {
            file: "package-lock.json",
            format: "npm lockfileVersion 3",
            entry: e,
            expected: Ok(ExpectedRegistry {
                url: Url::parse(registry).unwrap(),
                by_scope,
            }),
            dist: RegistryDist::Known {
                integrity: dist.map(str::to_string),
                shasum: None,
            },
            integrity_is_sri: true,
        })
        .lockentry
    }

    #[test]
    fn hosts_follow_the_configured_registry_and_scopes() {
        let public = entry(
            Some("https://registry.npmjs.org/@s/a/-/a-1.0.0.tgz"),
            Some("sha512-AA=="),
        );
        let evil = entry(
            Some("https://evil.example/@s/a/-/a-1.0.0.tgz"),
            Some("sha512-AA=="),
        );
        let mirror = "https://npm.corp.example/";
        assert_eq!(
            facts(&public, "https://registry.npmjs.org/", false, None).foreign_host,
            Fact::Known(false)
        );
        assert_eq!(
            facts(&public, mirror, false, None).foreign_host,
            Fact::Known(false),
            "replace-registry-host"
        );
        assert_eq!(
            facts(&public, mirror, true, None).foreign_host,
            Fact::Known(true),
            "a scope's registry"
        );
        assert_eq!(
            facts(&evil, "https://registry.npmjs.org/", false, None).foreign_host,
            Fact::Known(true)
        );
        let none = entry(None, Some("sha512-AA=="));
        assert_eq!(
            facts(&none, mirror, true, None).foreign_host,
            Fact::Known(false)
        );
        let http = entry(Some("http://registry.npmjs.org/@s/a/-/a-1.0.0.tgz"), None);
        let f = facts(&http, "https://registry.npmjs.org/", false, None);
        assert!(f.resolved_http && f.integrity_missing);
    }

    #[test]
    fn integrity_is_compared_on_a_shared_algorithm() {
        let e = entry(None, Some("sha1-AA== sha512-BB=="));
        let reg = "https://registry.npmjs.org/";
        assert_eq!(
            facts(&e, reg, false, Some("sha512-BB==")).integrity_mismatch,
            Fact::Known(false)
        );
        assert_eq!(
            facts(&e, reg, false, Some("sha512-CC==")).integrity_mismatch,
            Fact::Known(true)
        );
        assert!(matches!(
            facts(&e, reg, false, Some("sha256-CC==")).integrity_mismatch,
            Fact::Unknown { .. }
        ));
        assert!(matches!(
            facts(&e, reg, false, None).integrity_mismatch,
            Fact::Unknown { .. }
        ));
        assert_eq!(
            sha1_sri("8b0beeb98605adf1b128fa4386403c009e0221a5").as_deref(),
            Some("sha1-iwvuuYYFrfGxKPpDhkA8AJ4CIaU=")
        );
    }
}
