//! The abbreviated packument (`application/vnd.npm.install-v1+json`) as resolution reads it, and
//! version picking with npm-pick-manifest's rules.

use std::collections::BTreeMap;

use nodejs_semver::{Range, Version};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;

use crate::spec::Selector;

/// The `Accept` header npm sends for the documents it installs from.
pub const ABBREVIATED_ACCEPT: &str =
    "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";

/// One version, reduced to what placement reads. Maps keep only string specs: a registry may serve
/// anything, and a non-string spec is not one npm could install either.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    pub dependencies: Vec<(String, String)>,
    pub optional_dependencies: Vec<(String, String)>,
    pub peer_dependencies: Vec<(String, String)>,
    /// Peers marked `peerDependenciesMeta[name].optional`.
    pub optional_peers: Vec<String>,
    pub bundled: Vec<String>,
    pub deprecated: bool,
    pub engines_node: Option<String>,
    pub engines_npm: Option<String>,
    pub has_shrinkwrap: bool,
    pub tarball: Option<String>,
    pub integrity: Option<String>,
    pub shasum: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawManifest {
    #[serde(default)]
    dependencies: Option<Value>,
    #[serde(default, rename = "optionalDependencies")]
    optional_dependencies: Option<Value>,
    #[serde(default, rename = "peerDependencies")]
    peer_dependencies: Option<Value>,
    #[serde(default, rename = "peerDependenciesMeta")]
    peer_meta: Option<Value>,
    #[serde(default, rename = "bundleDependencies")]
    bundle: Option<Value>,
    #[serde(default, rename = "bundledDependencies")]
    bundled: Option<Value>,
    #[serde(default)]
    deprecated: Option<Value>,
    #[serde(default)]
    engines: Option<Value>,
    #[serde(default, rename = "_hasShrinkwrap")]
    has_shrinkwrap: Option<Value>,
    #[serde(default)]
    dist: Option<Value>,
}

/// A version entry that is not an object is kept as "no manifest" rather than failing the whole
/// document: one bad entry must not hide the others.
#[derive(Deserialize)]
#[serde(untagged)]
enum MaybeManifest {
    Manifest(Box<RawManifest>),
    Other(IgnoredAny),
}

#[derive(Deserialize)]
struct RawPackument {
    #[serde(default, rename = "dist-tags")]
    dist_tags: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    versions: Option<BTreeMap<String, MaybeManifest>>,
}

#[derive(Debug, Clone, Default)]
pub struct Packument {
    pub dist_tags: BTreeMap<String, String>,
    /// Every version that parses as semver, with its manifest (`None` when the entry was not an
    /// object).
    pub versions: BTreeMap<String, Option<Manifest>>,
}

fn string_map(v: Option<Value>) -> Vec<(String, String)> {
    match v {
        Some(Value::Object(m)) => m
            .into_iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some((k, s)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn dist_str(dist: &Option<Value>, key: &str) -> Option<String> {
    dist.as_ref()?.get(key)?.as_str().map(str::to_string)
}

impl From<RawManifest> for Manifest {
    fn from(r: RawManifest) -> Manifest {
        let optional_peers = match &r.peer_meta {
            Some(Value::Object(m)) => m
                .iter()
                .filter(|(_, v)| v.get("optional").and_then(Value::as_bool) == Some(true))
                .map(|(k, _)| k.clone())
                .collect(),
            _ => Vec::new(),
        };
        // npm reads `bundleDependencies: true` as "every dependency".
        let deps = string_map(r.dependencies);
        let bundled = match r.bundle.or(r.bundled) {
            Some(Value::Array(a)) => a
                .into_iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(Value::Bool(true)) => deps.iter().map(|(k, _)| k.clone()).collect(),
            _ => Vec::new(),
        };
        let engines = |k: &str| {
            r.engines
                .as_ref()
                .and_then(|e| e.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        Manifest {
            optional_dependencies: string_map(r.optional_dependencies),
            peer_dependencies: string_map(r.peer_dependencies),
            dependencies: deps,
            optional_peers,
            bundled,
            deprecated: match &r.deprecated {
                Some(Value::String(s)) => !s.is_empty(),
                Some(Value::Bool(b)) => *b,
                _ => false,
            },
            engines_node: engines("node"),
            engines_npm: engines("npm"),
            has_shrinkwrap: r.has_shrinkwrap.as_ref().and_then(Value::as_bool) == Some(true),
            tarball: dist_str(&r.dist, "tarball"),
            integrity: dist_str(&r.dist, "integrity"),
            shasum: dist_str(&r.dist, "shasum"),
        }
    }
}

impl Packument {
    /// Parses an abbreviated (or full) packument. Refuses a document with no `versions` object.
    pub fn from_slice(body: &[u8]) -> Result<Packument, String> {
        let raw: RawPackument =
            serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
        let versions = raw
            .versions
            .ok_or("the document is not a packument (no `versions` object)")?;
        Ok(Packument {
            dist_tags: raw
                .dist_tags
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string())))
                .collect(),
            versions: versions
                .into_iter()
                .map(|(k, v)| {
                    let m = match v {
                        MaybeManifest::Manifest(r) => Some(Manifest::from(*r)),
                        MaybeManifest::Other(_) => None,
                    };
                    (k, m)
                })
                .collect(),
        })
    }
}

/// The Node.js and npm versions `engines` are checked against when picking (npm-pick-manifest
/// prefers versions whose `engines` accept the running node and npm).
#[derive(Debug, Clone)]
pub struct Engines {
    pub node: Version,
    pub npm: Version,
}

impl Default for Engines {
    fn default() -> Self {
        Engines {
            node: Version::parse(DEFAULT_NODE).expect("static version"),
            npm: Version::parse(DEFAULT_NPM).expect("static version"),
        }
    }
}

/// The engine versions resolution assumes (the Node.js 20 LTS and npm 11 the oracle fixtures were
/// produced with; see fixtures/tree/README.md).
pub const DEFAULT_NODE: &str = "20.20.2";
pub const DEFAULT_NPM: &str = "11.19.1";

fn engine_ok(m: &Manifest, e: &Engines) -> bool {
    engines_fit(m.engines_node.as_deref(), m.engines_npm.as_deref(), e)
}

/// npm-install-checks' `checkEngine`: each range given must accept the engine (prereleases
/// included); a range that does not parse does not fit.
pub fn engines_fit(node: Option<&str>, npm: Option<&str>, e: &Engines) -> bool {
    let ok = |range: Option<&str>, v: &Version| match range {
        None => true,
        Some(r) => Range::parse(r)
            .map(|r| r.satisfies_with_prerelease(v, true))
            .unwrap_or(false),
    };
    ok(node, &e.node) && ok(npm, &e.npm)
}

/// npm-pick-manifest for one selector: a tag names its version; a range takes the `latest` tag
/// when it satisfies (and is not deprecated and its engines fit), else the best satisfying
/// version by (not deprecated and engine ok, engine ok, not deprecated, highest).
pub fn pick<'p>(p: &'p Packument, sel: &Selector, engines: &Engines) -> Result<&'p str, String> {
    if p.versions.is_empty() {
        return Err("the registry lists no versions".into());
    }
    let found = |v: &str| p.versions.get_key_value(v).map(|(k, _)| k.as_str());
    match sel {
        Selector::Tag(t) => {
            let v = p
                .dist_tags
                .get(t)
                .ok_or_else(|| format!("dist-tag `{t}` does not exist"))?;
            found(v).ok_or_else(|| format!("dist-tag `{t}` names {v}, which is not listed"))
        }
        Selector::Version(v) => {
            if let Some(k) = found(v) {
                return Ok(k);
            }
            let want = Version::parse(v).map_err(|_| format!("version {v} does not exist"))?;
            p.versions
                .keys()
                .find(|k| Version::parse(k).ok().as_ref() == Some(&want))
                .map(String::as_str)
                .ok_or_else(|| format!("version {v} does not exist"))
        }
        Selector::Range(r) => {
            let star = r.trim().is_empty() || r.trim() == "*";
            let range = Range::parse(if star { "*" } else { r })
                .map_err(|_| format!("`{r}` is not a valid range"))?;
            if let Some(latest) = p.dist_tags.get("latest") {
                if let (Some((k, Some(m))), Ok(lv)) =
                    (p.versions.get_key_value(latest), Version::parse(latest))
                {
                    if (star || range.satisfies(&lv)) && engine_ok(m, engines) && !m.deprecated {
                        return Ok(k);
                    }
                }
            }
            // (engine ok and not deprecated, engine ok, not deprecated, version), as npm sorts.
            type Rank = (bool, bool, bool, Version);
            let mut best: Option<(Rank, &str)> = None;
            for (k, m) in &p.versions {
                let Ok(v) = Version::parse(k) else { continue };
                if !range.satisfies(&v) {
                    continue;
                }
                let (eng, notdep) = match m {
                    Some(m) => (engine_ok(m, engines), !m.deprecated),
                    None => (true, true),
                };
                let key = (eng && notdep, eng, notdep, v);
                if best.as_ref().is_none_or(|(b, _)| key > *b) {
                    best = Some((key, k));
                }
            }
            best.map(|(_, k)| k)
                .ok_or_else(|| format!("no version satisfies `{r}`"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(json: &str) -> Packument {
        Packument::from_slice(json.as_bytes()).unwrap()
    }

    #[test]
    fn picks_like_npm_pick_manifest() {
        let p = doc(
            r#"{"dist-tags":{"latest":"1.2.0","next":"2.0.0-rc.1"},"versions":{
            "1.0.0":{},"1.2.0":{},"1.3.0":{},"1.4.0":{"deprecated":"no"},
            "2.0.0-rc.1":{},"0.9.0":{"engines":{"node":">=99"}}}}"#,
        );
        let e = Engines::default();
        let r = |s: &str| pick(&p, &Selector::Range(s.into()), &e).map(str::to_string);
        // latest wins when it satisfies, even though 1.3.0 is higher
        assert_eq!(r("^1.0.0").unwrap(), "1.2.0");
        // else the highest non-deprecated
        assert_eq!(r(">1.2.0").unwrap(), "1.3.0");
        assert_eq!(r("^1.4.0").unwrap(), "1.4.0");
        // prereleases only when the range names them
        assert!(r(">=2.0.0-0 <3").unwrap() == "2.0.0-rc.1");
        assert!(r("^2").is_err());
        // an engine mismatch is taken only when nothing else satisfies
        assert_eq!(r("<1").unwrap(), "0.9.0");
        assert_eq!(
            pick(&p, &Selector::Tag("next".into()), &e).unwrap(),
            "2.0.0-rc.1"
        );
        assert!(pick(&p, &Selector::Tag("beta".into()), &e).is_err());
    }

    #[test]
    fn hostile_entries_do_not_fail_the_document() {
        let p = doc(
            r#"{"dist-tags":{"latest":7},"versions":{"1.0.0":"x","1.1.0":{"dependencies":{"a":1,"b":"^1"}}}}"#,
        );
        assert!(p.versions["1.0.0"].is_none());
        let m = p.versions["1.1.0"].as_ref().unwrap();
        assert_eq!(m.dependencies, vec![("b".to_string(), "^1".to_string())]);
        assert!(p.dist_tags.is_empty());
        assert!(Packument::from_slice(b"[]").is_err());
        assert!(Packument::from_slice(b"{}").is_err());
    }
}

#[cfg(test)]
mod engine_tests {
    use super::*;

    #[test]
    fn latest_with_engines_that_do_not_fit_is_passed_over() {
        let p = Packument::from_slice(
            br#"{"dist-tags":{"latest":"3.26.0"},"versions":{
            "3.22.2":{"engines":{"node":">=18.0.0"}},"3.26.0":{"engines":{"node":">=22.0.0"}}}}"#,
        )
        .unwrap();
        let e = Engines::default();
        assert!(!engine_ok(p.versions["3.26.0"].as_ref().unwrap(), &e));
        assert_eq!(
            pick(&p, &Selector::Range("*".into()), &e).unwrap(),
            "3.22.2"
        );
    }
}
