//! npm: packument → `PackageFacts`. Pure: no I/O, the clock is an input.
//!
//! One file per area of the facts (publish, maintainers, provenance, trust, dependencies,
//! content, metadata), all reading the typed [`Packument`] view. Another ecosystem (PyPI) gets a
//! sibling module that fills the same `PackageFacts`, with its own `package.ecosystem`.

mod content;
mod dependencies;
mod maintainers;
pub(crate) mod metadata;
pub mod packument;
pub(crate) mod provenance;
mod publish;
pub mod select;
mod trust;
mod whole;

use chrono::{DateTime, Utc};
use nodejs_semver::Version;

use super::*;
pub use metadata::{normalize_git_url, repository_url};
pub use packument::{Packument, VersionDoc};
pub use whole::version_document;

/// The value of `package.ecosystem` for facts derived here.
pub const ECOSYSTEM: &str = "npm";

pub struct DeriveInput<'a> {
    pub packument: &'a Packument,
    pub version: &'a str,
    pub requested: &'a str,
    pub resolved_via: &'a str,
    pub registry: &'a str,
    pub now: DateTime<Utc>,
    pub evidence: &'a Evidence,
    /// How far back the trust-downgrade comparison looks.
    pub trust_window_days: u64,
}

/// What the packument as a whole tells us about the registry that served it.
struct RegistryShape {
    serves_signatures: bool,
    serves_maintainers: bool,
    serves_publishers: bool,
    serves_git_head: bool,
}

pub fn derive_facts(input: &DeriveInput<'_>) -> PackageFacts {
    let p = input.packument;
    let versions = &p.versions;
    // A version the packument does not hold reads like an empty document: every fact unknown.
    let missing = VersionDoc::default();
    let doc = versions.get(input.version).unwrap_or(&missing);

    let non_empty = |m: &Option<packument::People>| m.as_ref().is_some_and(|m| m.entries > 0);
    let shape = RegistryShape {
        serves_signatures: versions.iter().any(|(_, v)| v.dist.has_signatures()),
        serves_maintainers: non_empty(&p.maintainers)
            || versions.iter().any(|(_, v)| non_empty(&v.maintainers)),
        serves_publishers: versions
            .iter()
            .any(|(_, v)| v.npm_user != packument::NpmUser::Absent),
        serves_git_head: versions.iter().any(|(_, v)| v.git_head_present),
    };

    let parsed = Version::parse(input.version).ok();
    let published_at = publish_time(p, input.version);
    let history = history(p, input.version, published_at.as_ref());
    let prev_doc = history
        .previous
        .as_deref()
        .and_then(|v| versions.get(v))
        .unwrap_or(&missing);

    let maintainers =
        maintainers::maintainer_facts(p, doc, prev_doc, history.previous.is_some(), &shape);
    let mut publish = publish::publish_facts(input, doc, &history, &maintainers, &shape);
    let metadata = metadata::metadata_facts(doc);
    let provenance = provenance::identity_follows_status(provenance::provenance_facts(
        input,
        doc,
        &shape,
        metadata.repository.as_deref(),
        metadata.mcp_github_owner.as_deref(),
    ));
    let signatures = provenance::signature_facts(input, &shape);
    let trust = trust::trust_facts(input, doc, published_at.as_ref(), &shape);
    let (tarball, content) = content::tarball_facts(&input.evidence.tarball);
    publish::add_method_evidence(&mut publish, &content);

    PackageFacts {
        schema: FACTS_SCHEMA,
        package: PackageId {
            ecosystem: ECOSYSTEM.into(),
            name: p.name.clone().unwrap_or_default(),
            version: input.version.to_string(),
            requested: input.requested.to_string(),
            resolved_via: input.resolved_via.to_string(),
        },
        version: VersionFacts {
            prerelease: parsed.as_ref().is_some_and(Version::is_prerelease),
            major: parsed.as_ref().map(Version::major).unwrap_or(0),
            zero_zero: parsed
                .as_ref()
                .is_some_and(|v| v.major() == 0 && v.minor() == 0),
            total_versions: versions.len() as u64,
        },
        release: metadata::release_facts(input, doc, published_at.as_ref()),
        tags: metadata::tag_facts(p, input.version),
        metadata,
        maintainers,
        publish,
        provenance,
        signatures,
        trust,
        history: HistoryFacts {
            prior_versions: history.prior_stable,
            previous_version: history.previous.clone(),
            // With no earlier version there is nothing that could have been dropped: a known
            // false, not an unknown, so a first release is judged on its own evidence.
            previous_had_git_head: match &history.previous {
                None => Fact::Known(false),
                Some(_) => publish::git_head(prev_doc, &shape, input.registry),
            },
            previous_had_provenance: match &history.previous {
                None => Fact::Known(false),
                Some(_) => publish::listed_provenance(input, prev_doc, &shape),
            },
            previous_had_trusted_publisher: match &history.previous {
                None => Fact::Known(false),
                Some(_) => {
                    publish::trusted_publisher(prev_doc, input.registry).map(|t| t.is_some())
                }
            },
        },
        scripts: dependencies::script_facts(doc),
        lockfile: content::lockfile_facts(input, doc, &content),
        tarball,
        content,
        dependencies: dependencies::dependency_facts(doc),
        registry: RegistryFacts {
            url: input.registry.to_string(),
            serves_signatures: shape.serves_signatures,
            serves_maintainers: shape.serves_maintainers,
            serves_publishers: shape.serves_publishers,
        },
        // Asked for every package of a run at once, after derivation (pipeline::scan).
        advisories: Default::default(),
        pypi: None,
    }
}

fn publish_time(p: &Packument, version: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(p.time_of(version)?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

struct History {
    /// Non-prerelease versions published before this one.
    prior_stable: u64,
    /// The release this one follows (see `history`).
    previous: Option<String>,
    /// Every version published before this one, oldest first.
    earlier: Vec<String>,
}

/// Orders by publish time when the packument has it (that is the order an attacker controls and
/// users experience); falls back to semver order for registries without a `time` map.
fn history(p: &Packument, version: &str, published_at: Option<&DateTime<Utc>>) -> History {
    let this = Version::parse(version).ok();
    let mut earlier: Vec<(Option<DateTime<Utc>>, Version, String)> = p
        .versions
        .keys()
        .filter(|v| *v != version)
        .filter_map(|v| {
            let parsed = Version::parse(v).ok()?;
            let t = publish_time(p, v);
            let before = match (published_at, &t) {
                (Some(me), Some(t)) => t < me,
                _ => this.as_ref().is_some_and(|me| &parsed < me),
            };
            before.then(|| (t, parsed, v.to_string()))
        })
        .collect();
    earlier.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    // "Previous" is the release this one follows on its own line: the latest earlier stable
    // version of the same major, so a backport to 1.x is not compared with a 2.x release made
    // the day before. Without one, the latest earlier stable version, then any earlier version.
    let major = this.as_ref().map(Version::major);
    let stable = |e: &&(Option<DateTime<Utc>>, Version, String)| !e.1.is_prerelease();
    let previous = earlier
        .iter()
        .rev()
        .filter(stable)
        .find(|e| Some(e.1.major()) == major)
        .or_else(|| earlier.iter().rev().find(stable))
        .or_else(|| earlier.last())
        .map(|e| e.2.clone());
    History {
        prior_stable: earlier.iter().filter(stable).count() as u64,
        previous,
        earlier: earlier.into_iter().map(|e| e.2).collect(),
    }
}

fn no_security_metadata(registry: &str) -> String {
    format!(
        "registry {registry} serves no dist.signatures or dist.attestations for any version; \
         it may strip npm's security metadata"
    )
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use serde_json::Value;

    pub fn derive(p: &Value, version: &str, resolved_via: &str) -> PackageFacts {
        let p = Packument::from_value(p);
        derive_facts(&DeriveInput {
            packument: &p,
            version,
            requested: "x",
            resolved_via,
            registry: "https://r.example/",
            now: DateTime::parse_from_rfc3339("2026-11-22T00:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            evidence: &Evidence::default(),
            trust_window_days: 365,
        })
    }
}

#[cfg(test)]
mod robustness {
    use super::test_support::derive;
    use super::*;
    use serde_json::json;

    /// Registries and hand-edited packuments put every kind of value in every field; derivation
    /// must degrade to unknowns, never panic.
    #[test]
    fn wrong_types_everywhere_do_not_panic() {
        let odd = [
            json!({}),
            json!({"versions": []}),
            json!({"versions": {"1.0.0": null}, "time": [], "dist-tags": "latest"}),
            json!({"versions": {"1.0.0": {"maintainers": "bob", "_npmUser": 7, "dist": "x",
                   "scripts": ["postinstall"], "dependencies": {"a": 1, "b": null},
                   "repository": 5, "license": {"type": 3}, "deprecated": true}},
                   "maintainers": [1, null, {"name": 2}], "time": {"1.0.0": "yesterday"}}),
            json!({"versions": {"not-semver": {}, "1.0.0": {"_npmUser": "alice <a@x>"}},
                   "dist-tags": {"latest": "not-semver"}}),
        ];
        for p in odd {
            let f = derive(&p, "1.0.0", "tag");
            assert!(serde_json::to_value(&f).is_ok());
        }
    }

    #[test]
    fn publisher_strings_and_history_by_time() {
        let p = json!({
            "name": "x",
            "dist-tags": {"latest": "1.2.10"},
            "time": {"1.0.0": "2026-01-01T00:00:00Z", "2.0.0": "2026-02-01T00:00:00Z",
                     "1.2.10": "2026-03-01T00:00:00Z"},
            "versions": {
                "1.0.0": {"_npmUser": "alice <alice@example.com>", "maintainers": ["alice <a@x>"]},
                "2.0.0": {"_npmUser": {"name": "alice"}, "maintainers": [{"name": "alice"}]},
                "1.2.10": {"_npmUser": {"name": "bob"}, "maintainers": [{"name": "alice"}, {"name": "bob"}]}
            }
        });
        let f = derive(&p, "1.2.10", "tag");
        // A backport: published after 2.0.0, it follows 1.0.0 on its own major line.
        assert_eq!(f.history.previous_version.as_deref(), Some("1.0.0"));
        assert_eq!(f.history.prior_versions, 2);
        assert_eq!(f.publish.new_publisher, Fact::Known(true));
        assert_eq!(
            f.maintainers.added_since_previous,
            Fact::Known(vec!["bob".to_string()])
        );
        assert_eq!(f.tags.latest_is_highest, Fact::Known(false));
        assert_eq!(f.release.age_hours, Fact::Known(6384.0));
        // No version carries signatures: their absence proves nothing.
        assert!(matches!(f.provenance.status, Fact::Unknown { .. }));
        assert!(matches!(f.publish.method, Fact::Unknown { .. }));
        assert_eq!(f.package.ecosystem, ECOSYSTEM);
    }
}
