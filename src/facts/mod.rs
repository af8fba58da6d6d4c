//! `PackageFacts`: everything a rule may look at, derived purely from fetched documents.
//!
//! A fact that the registry did not (or could not) tell us is `Fact::Unknown { reason }`, never a
//! default that happens to pass. Rules evaluate over the JSON form of this struct (see
//! `rules::paths`), so the serialized shape *is* the rule language's vocabulary.
//!
//! The facts name no ecosystem: `package.ecosystem` says which one derived them. Derivation is per
//! ecosystem (`npm` today); another fills the same struct and leaves what its registry cannot
//! tell as `Unknown` with that reason, never absent.

pub mod deps;
pub mod evidence;
pub mod launch;
pub mod npm;
pub mod pypi;

use serde::{Deserialize, Serialize};

pub use evidence::{AttestationEvidence, Evidence, SignatureEvidence, TarballEvidence};
pub use launch::{launch_facts, LaunchFacts, ServerOrigin};
pub use npm::{derive_facts, DeriveInput};

/// Version of the facts document. Bump when a fact path changes meaning or disappears.
pub const FACTS_SCHEMA: u32 = 1;

/// A value, or the reason we do not have it.
///
/// Serialized as the bare value when known and as `{"$unknown": "<reason>"}` when not, so a facts
/// dump stays readable and the rule engine can tell "unknown" from a legitimate `null`/`false`.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact<T> {
    Known(T),
    Unknown { reason: String },
}

impl<T> Fact<T> {
    pub fn unknown(reason: impl Into<String>) -> Self {
        Fact::Unknown {
            reason: reason.into(),
        }
    }

    pub fn known(&self) -> Option<&T> {
        match self {
            Fact::Known(v) => Some(v),
            Fact::Unknown { .. } => None,
        }
    }

    pub fn map<U>(&self, f: impl FnOnce(&T) -> U) -> Fact<U> {
        match self {
            Fact::Known(v) => Fact::Known(f(v)),
            Fact::Unknown { reason } => Fact::Unknown {
                reason: reason.clone(),
            },
        }
    }
}

const UNKNOWN_KEY: &str = "$unknown";

impl<T: Serialize> Serialize for Fact<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Fact::Known(v) => v.serialize(s),
            Fact::Unknown { reason } => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry(UNKNOWN_KEY, reason)?;
                m.end()
            }
        }
    }
}

/// Goes through `serde_json::Value` and recognises only an object whose single key is
/// `$unknown`: an untagged enum would also read a one-element list as the unknown struct.
impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Fact<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        if let Some(obj) = v.as_object() {
            if obj.len() == 1 {
                if let Some(reason) = obj.get(UNKNOWN_KEY) {
                    return match reason.as_str() {
                        Some(r) => Ok(Fact::unknown(r)),
                        None => Err(serde::de::Error::custom("`$unknown` must be a string")),
                    };
                }
            }
        }
        T::deserialize(v)
            .map(Fact::Known)
            .map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageFacts {
    pub schema: u32,
    pub package: PackageId,
    pub version: VersionFacts,
    pub release: ReleaseFacts,
    pub tags: TagFacts,
    pub metadata: MetadataFacts,
    pub maintainers: MaintainerFacts,
    pub publish: PublishFacts,
    pub provenance: ProvenanceFacts,
    pub signatures: SignatureFacts,
    pub trust: TrustFacts,
    pub history: HistoryFacts,
    pub scripts: ScriptFacts,
    pub tarball: TarballFacts,
    /// What the published tarball contains. Unknown as a whole when it was not downloaded
    /// (`--no-tarball`, a fetch error) or did not match `dist.integrity` (then it is not read).
    pub content: Fact<ContentFacts>,
    pub lockfile: LockfileFacts,
    pub dependencies: DependencyFacts,
    pub registry: RegistryFacts,
    /// Known vulnerabilities of this version, from the registry's advisories bulk endpoint.
    /// Absent from facts files written before it existed: then unknown, never "none".
    #[serde(default)]
    pub advisories: AdvisoryFacts,
    /// What only a Python index tells (PyPI packages only; absent for npm, so npm documents and
    /// their snapshots are unchanged). Rules reading `pypi.*` list `ecosystems = ["pypi"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pypi: Option<PypiFacts>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PypiFacts {
    /// The index the project was read from (redacted).
    pub index: String,
    /// Where that index was chosen: `--index-url`, `UV_INDEX_URL`, `pip.conf (...)`, ...
    pub index_source: String,
    /// `json` (PEP 691) or `html` (PEP 503).
    pub simple_format: String,
    /// The simple API version the index declares.
    pub api_version: Fact<String>,
    /// The JSON API (`/pypi/<name>/json`) answered next to the simple API.
    pub json_api: bool,
    /// The distribution file judged: a pure wheel if there is one, else the sdist, else a wheel.
    pub file: String,
    /// `wheel` or `sdist`.
    pub file_kind: String,
    pub yanked: bool,
    pub yanked_reason: Fact<String>,
    /// PEP 792 project status: `active`, `archived`, `quarantined`, `deprecated`; unknown when
    /// the index serves an API version without it.
    pub project_status: Fact<String>,
    /// `<Role>:<user>` from the JSON API's `ownership.roles`.
    pub roles: Fact<Vec<String>>,
    /// The PyPI organization that owns the project (`""` when none).
    pub organization: Fact<String>,
    /// Vulnerability ids the JSON API lists for this version (withdrawn ones left out).
    pub vulnerabilities: Fact<Vec<String>>,
    /// Other configured indexes (`--extra-index-url`, uv indexes) that also serve this name:
    /// pip and uv may install from any of them (dependency confusion).
    pub also_on_other_indexes: Fact<Vec<String>>,
    /// `Requires-Dist` of this version, as the index lists it.
    pub requires_dist: Fact<Vec<String>>,
    /// Default (non-extra) requirements with no upper bound: `name`, `name>=1`.
    pub unbounded_requires: Fact<Vec<String>>,
    /// Default requirements that are direct references (`name @ https://…`, `git+…`,
    /// `file:`): installed from wherever the URL points, outside any index.
    pub direct_references: Fact<Vec<String>>,
    /// The PEP 740 Trusted Publisher kind of the verified provenance (`GitHub`, `GitLab`,
    /// `Google`, `ActiveState`, ...).
    pub publisher_kind: Fact<String>,
    /// Where the provenance was asked for.
    pub provenance_url: Option<String>,
    /// `<file>:<line>: <code>` for `.pth` lines that execute code at every Python start (the
    /// litellm compromise of March 2026 shipped one).
    pub pth_exec: Fact<Vec<String>>,
}

/// Advisories that name this version, split by severity for the `known-vulnerability-*` rules.
/// Each entry reads `<id> <title> (<url>)`. Unknown when the registry does not offer the bulk
/// endpoint (the mirror reachable here answers 405), on a network failure, a malformed answer,
/// or `--offline` without a cached answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvisoryFacts {
    pub critical: Fact<Vec<String>>,
    pub high: Fact<Vec<String>>,
    pub moderate: Fact<Vec<String>>,
    /// `low` and `info` advisories.
    pub low: Fact<Vec<String>>,
    /// Every advisory that names this version, as the registry described it (clipped).
    pub details: Vec<crate::registry::advisories::Advisory>,
}

impl AdvisoryFacts {
    pub fn unknown(reason: &str) -> AdvisoryFacts {
        AdvisoryFacts {
            critical: Fact::unknown(reason),
            high: Fact::unknown(reason),
            moderate: Fact::unknown(reason),
            low: Fact::unknown(reason),
            details: vec![],
        }
    }

    /// The advisories that apply to this version, bucketed by severity.
    pub fn known(advisories: Vec<crate::registry::advisories::Advisory>) -> AdvisoryFacts {
        let mut out = AdvisoryFacts {
            critical: Fact::Known(vec![]),
            high: Fact::Known(vec![]),
            moderate: Fact::Known(vec![]),
            low: Fact::Known(vec![]),
            details: vec![],
        };
        for a in &advisories {
            let bucket = match a.severity.as_str() {
                "critical" => &mut out.critical,
                "high" => &mut out.high,
                "low" | "info" => &mut out.low,
                // `moderate`, and a severity npm does not define: flagged, not dropped.
                _ => &mut out.moderate,
            };
            if let Fact::Known(list) = bucket {
                list.push(a.summary());
            }
        }
        out.details = advisories;
        out
    }
}

impl Default for AdvisoryFacts {
    fn default() -> Self {
        AdvisoryFacts::unknown("advisories were not asked for")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageId {
    pub ecosystem: String,
    pub name: String,
    pub version: String,
    /// The spec as the user wrote it, e.g. `mcp-remote@^0.1`.
    pub requested: String,
    /// How the version was chosen: `version`, `range` or `tag`.
    pub resolved_via: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionFacts {
    pub prerelease: bool,
    pub major: u64,
    /// `0.0.x`: the project makes no compatibility promise at all.
    pub zero_zero: bool,
    /// Number of versions the packument lists.
    pub total_versions: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseFacts {
    /// RFC 3339 publish time, from the packument's `time` map.
    pub published_at: Fact<String>,
    /// Hours between publish time and the scan.
    pub age_hours: Fact<f64>,
    pub deprecated: bool,
    pub deprecation_message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagFacts {
    pub names: Vec<String>,
    pub latest: Fact<String>,
    /// Highest non-prerelease version the packument lists.
    pub highest: Fact<String>,
    pub latest_is_highest: Fact<bool>,
    /// The scanned version is the one `latest` points at.
    pub is_latest: Fact<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetadataFacts {
    /// Normalised repository URL, `null` when the version declares none.
    pub repository: Option<String>,
    pub license: Option<String>,
    pub mcp_name: Option<String>,
    /// `<owner>` of an `io.github.<owner>/…` mcpName: the MCP registry's GitHub namespace.
    pub mcp_github_owner: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintainerFacts {
    pub names: Fact<Vec<String>>,
    pub count: Fact<u64>,
    /// Maintainers of this version that the previous version did not list.
    pub added_since_previous: Fact<Vec<String>>,
    /// Maintainers of the previous version that this version no longer lists.
    pub removed_since_previous: Fact<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishFacts {
    /// `_npmUser.name` of this version.
    pub publisher: Fact<String>,
    pub publisher_is_maintainer: Fact<bool>,
    /// The publisher published none of the earlier versions.
    pub new_publisher: Fact<bool>,
    pub previous_publishers: Fact<Vec<String>>,
    /// `_npmUser.trustedPublisher` is set: published through OIDC trusted publishing.
    pub trusted_publisher: Fact<bool>,
    pub trusted_publisher_provider: Fact<Option<String>>,
    /// `dist.signatures` present on this version.
    pub has_signatures: Fact<bool>,
    /// `gitHead` present: npm records it when publishing from a git work tree.
    pub git_head: Fact<bool>,
    /// Inferred publish method: `trusted-publisher`, `ci-provenance` or `token-human`; unknown when
    /// the registry withholds the evidence. npm exposes neither token type nor 2FA, so this is an
    /// inference from `_npmUser` and `dist.attestations`, never an observation.
    pub method: Fact<String>,
    pub method_evidence: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvenanceFacts {
    /// The SLSA provenance attestation, cryptographically checked: `verified`, `legacy-verified`
    /// (a 2023 bundle npm accepts: root certificate in the chain, SET without inclusion proof),
    /// `invalid`, or `absent` (the registry lists none).
    pub status: Fact<String>,
    pub legacy: bool,
    /// Why verification failed, one line per attestation.
    pub failures: Vec<String>,
    pub attestations_url: Option<String>,
    pub predicate_type: Option<String>,
    /// The npm publish attestation (signed with the registry key): `verified`, `invalid`, `absent`.
    pub publish_attestation: Fact<String>,
    /// Identity, from the Fulcio certificate first and the SLSA predicate second. Unknown unless
    /// the provenance verified.
    pub source_repository: Fact<String>,
    pub commit: Fact<String>,
    pub git_ref: Fact<String>,
    /// `tag`, `branch` or `other`.
    pub ref_type: Fact<String>,
    pub workflow: Fact<String>,
    pub issuer: Fact<String>,
    /// The issuer is a CI provider npm supports for provenance (GitHub Actions, GitLab).
    pub issuer_known: Fact<bool>,
    pub builder: Fact<String>,
    /// `github-hosted` or `self-hosted`.
    pub runner: Fact<String>,
    /// The provenance repository is the package.json `repository` (git URL forms normalised).
    pub repository_matches: Fact<bool>,
    /// The owner in an `io.github.<owner>/…` mcpName is the provenance repository's owner.
    pub mcp_owner_matches: Fact<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureFacts {
    /// The registry signature (`dist.signatures`) checked against `/-/npm/v1/keys`, judged at
    /// publish time: `verified`, `invalid`, `missing-key`, `expired-key` or `absent`.
    pub status: Fact<String>,
    pub keyid: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustFacts {
    /// Strongest publish evidence, as pnpm ranks it: `trusted-publisher` (2) > `provenance` (1)
    /// > `none` (0). Staged publishing is not visible in packuments, so it is not ranked.
    pub level: Fact<String>,
    pub rank: Fact<u64>,
    /// The strongest level among earlier stable versions of the same major published within
    /// `window_days` before this one.
    pub earlier_best_level: Fact<String>,
    pub earlier_best_rank: Fact<u64>,
    pub earlier_best_version: Option<String>,
    pub window_days: u64,
    /// This version's level is below `earlier_best_level`.
    pub downgrade: Fact<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryFacts {
    /// Versions published before this one (by publish time; prereleases excluded).
    pub prior_versions: u64,
    pub previous_version: Option<String>,
    pub previous_had_git_head: Fact<bool>,
    pub previous_had_provenance: Fact<bool>,
    pub previous_had_trusted_publisher: Fact<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptFacts {
    /// Which of `preinstall`, `install`, `postinstall` are declared.
    pub install_scripts: Vec<String>,
    /// The command lines of those scripts, keyed by script name.
    pub install_commands: std::collections::BTreeMap<String, String>,
    /// npm's `hasInstallScript` flag (also set for an implicit `node-gyp rebuild`).
    pub has_install_script: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TarballFacts {
    /// `verified` (the downloaded bytes match `dist.integrity`) or `mismatch`.
    pub integrity: Fact<String>,
    pub url: Option<String>,
    pub compressed_bytes: Fact<u64>,
}

/// Findings of the in-memory tarball analysis (`content::analyze`), flattened for rules: each
/// list holds redacted, human-readable evidence (rules test it with `empty`). When the read was
/// not `complete`, a list that found nothing is unknown: part of the archive went unseen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentFacts {
    /// The whole archive was read and its package.json parsed; false when the archive is
    /// truncated, malformed or over a limit, or package.json is missing or not JSON.
    pub complete: bool,
    pub errors: Vec<String>,
    pub files: u64,
    pub unpacked_bytes: u64,
    /// `<script>: <signal>` for install scripts in the tarball's package.json that fetch,
    /// decode or evaluate code (curl, wget, node -e, base64, eval, a URL, a pipe to a shell).
    pub install_signals: Fact<Vec<String>>,
    /// The registry document was compared with the tarball's package.json.
    pub manifest_compared: bool,
    /// `<field>: registry <value> / tarball <value>`.
    pub manifest_confusion: Fact<Vec<String>>,
    /// Credentials found in published files, redacted: `<file>:<line> <kind> <first chars>***`.
    pub secrets: Fact<Vec<String>>,
    /// Secrets found with medium or high confidence (`secrets` lists low ones too).
    pub secret_count: Fact<u64>,
    pub native_binaries: Fact<Vec<String>>,
    pub obfuscation: Fact<Vec<String>>,
    /// The strongest obfuscation signal: `none`, `low`, `medium` or `high`.
    pub obfuscation_confidence: Fact<String>,
    pub bin_shadowing: Fact<Vec<String>>,
    /// Files the package.json `files` list would not have packed (a hand-made tarball).
    pub outside_files: Fact<Vec<String>>,
    /// `..`, absolute paths, links, duplicates and other entries npm's own packing never makes.
    pub path_problems: Fact<Vec<String>>,
    /// Files npm never packs: `.npmrc`, a root lockfile, `.git`.
    pub never_packed: Fact<Vec<String>>,
    pub has_shrinkwrap: Fact<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockfileFacts {
    /// The tarball ships npm-shrinkwrap.json, the only lockfile npm publishes: read from the
    /// tarball when it was downloaded, else from the registry's `_hasShrinkwrap`.
    pub has_shrinkwrap: Fact<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DependencyFacts {
    /// dependencies + optionalDependencies + peerDependencies (npm >= 7 installs peers).
    pub count: u64,
    pub list: Vec<deps::Dependency>,
    pub wildcard: Vec<String>,
    pub open_upper: Vec<String>,
    pub caret_zero: Vec<String>,
    pub remote: Vec<String>,
    pub local: Vec<String>,
    /// Percentage (0-100) of registry dependencies whose range floats (caret, tilde, x-range or
    /// wider). 0 when there are none.
    pub floating_percent: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryFacts {
    pub url: String,
    /// Some version of this packument carries `dist.signatures`. Mirrors that strip npm's
    /// security metadata carry none, and then absence on one version proves nothing.
    pub serves_signatures: bool,
    /// The packument lists maintainers at all.
    pub serves_maintainers: bool,
    /// Some version carries `_npmUser`.
    pub serves_publishers: bool,
}

impl PackageFacts {
    /// A fully known facts document for a well-kept package: every rule passes on it.
    ///
    /// It serves two purposes: the catalogue of valid fact paths (and their JSON types) is read off
    /// its serialized form, so the rule language can never drift from this struct; and rule
    /// fixtures are small overrides on top of it.
    pub fn example() -> PackageFacts {
        let k = |s: &str| Fact::Known(s.to_string());
        PackageFacts {
            schema: FACTS_SCHEMA,
            package: PackageId {
                ecosystem: "npm".into(),
                name: "example-mcp-server".into(),
                version: "1.4.2".into(),
                requested: "example-mcp-server".into(),
                resolved_via: "tag".into(),
            },
            version: VersionFacts {
                prerelease: false,
                major: 1,
                zero_zero: false,
                total_versions: 12,
            },
            release: ReleaseFacts {
                published_at: k("2026-06-01T12:00:00Z"),
                age_hours: Fact::Known(4000.0),
                deprecated: false,
                deprecation_message: Some(String::new()),
            },
            tags: TagFacts {
                names: vec!["latest".into()],
                latest: k("1.4.2"),
                highest: k("1.4.2"),
                latest_is_highest: Fact::Known(true),
                is_latest: Fact::Known(true),
            },
            metadata: MetadataFacts {
                repository: Some("https://github.com/example/example-mcp-server".into()),
                license: Some("MIT".into()),
                mcp_name: Some("io.github.example/example-mcp-server".into()),
                mcp_github_owner: Some("example".into()),
                description: Some("An example MCP server".into()),
            },
            maintainers: MaintainerFacts {
                names: Fact::Known(vec!["alice".into(), "bob".into()]),
                count: Fact::Known(2),
                added_since_previous: Fact::Known(vec![]),
                removed_since_previous: Fact::Known(vec![]),
            },
            publish: PublishFacts {
                publisher: k("GitHub Actions"),
                publisher_is_maintainer: Fact::Known(false),
                new_publisher: Fact::Known(false),
                previous_publishers: Fact::Known(vec!["GitHub Actions".into()]),
                trusted_publisher: Fact::Known(true),
                trusted_publisher_provider: Fact::Known(Some("github".into())),
                has_signatures: Fact::Known(true),
                git_head: Fact::Known(true),
                method: k("trusted-publisher"),
                method_evidence: vec!["_npmUser.trustedPublisher is set (id: github)".into()],
            },
            provenance: ProvenanceFacts {
                status: k("verified"),
                legacy: false,
                failures: vec![],
                attestations_url: Some(
                    "https://registry.npmjs.org/-/npm/v1/attestations/example-mcp-server@1.4.2"
                        .into(),
                ),
                predicate_type: Some("https://slsa.dev/provenance/v1".into()),
                publish_attestation: k("verified"),
                source_repository: k("https://github.com/example/example-mcp-server"),
                commit: k("d31124c98240a1b2c3d4e5f60718293a4b5c6d7e"),
                git_ref: k("refs/tags/v1.4.2"),
                ref_type: k("tag"),
                workflow: k(".github/workflows/release.yml"),
                issuer: k("https://token.actions.githubusercontent.com"),
                issuer_known: Fact::Known(true),
                builder: k("https://github.com/actions/runner/github-hosted"),
                runner: k("github-hosted"),
                repository_matches: Fact::Known(true),
                mcp_owner_matches: Fact::Known(true),
            },
            signatures: SignatureFacts {
                status: k("verified"),
                keyid: Some("SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U".into()),
                detail: Some(String::new()),
            },
            trust: TrustFacts {
                level: k("trusted-publisher"),
                rank: Fact::Known(2),
                earlier_best_level: k("trusted-publisher"),
                earlier_best_rank: Fact::Known(2),
                earlier_best_version: Some("1.4.1".into()),
                window_days: 365,
                downgrade: Fact::Known(false),
            },
            history: HistoryFacts {
                prior_versions: 11,
                previous_version: Some("1.4.1".into()),
                previous_had_git_head: Fact::Known(true),
                previous_had_provenance: Fact::Known(true),
                previous_had_trusted_publisher: Fact::Known(true),
            },
            scripts: ScriptFacts {
                install_scripts: vec![],
                install_commands: Default::default(),
                has_install_script: false,
            },
            tarball: TarballFacts {
                integrity: k("verified"),
                url: Some(
                    "https://registry.npmjs.org/example-mcp-server/-/example-mcp-server-1.4.2.tgz"
                        .into(),
                ),
                compressed_bytes: Fact::Known(24_000),
            },
            content: Fact::Known(ContentFacts {
                complete: true,
                errors: vec![],
                files: 12,
                unpacked_bytes: 80_000,
                install_signals: Fact::Known(vec![]),
                manifest_compared: true,
                manifest_confusion: Fact::Known(vec![]),
                secrets: Fact::Known(vec![]),
                secret_count: Fact::Known(0),
                native_binaries: Fact::Known(vec![]),
                obfuscation: Fact::Known(vec![]),
                obfuscation_confidence: k("none"),
                bin_shadowing: Fact::Known(vec![]),
                outside_files: Fact::Known(vec![]),
                path_problems: Fact::Known(vec![]),
                never_packed: Fact::Known(vec![]),
                has_shrinkwrap: Fact::Known(false),
            }),
            lockfile: LockfileFacts {
                has_shrinkwrap: Fact::Known(false),
            },
            dependencies: DependencyFacts {
                count: 2,
                list: vec![
                    deps::Dependency {
                        name: "@modelcontextprotocol/sdk".into(),
                        spec: "^1.12.0".into(),
                        kind: "dependencies".into(),
                        class: deps::RangeClass::Caret,
                    },
                    deps::Dependency {
                        name: "zod".into(),
                        spec: "3.25.0".into(),
                        kind: "dependencies".into(),
                        class: deps::RangeClass::Exact,
                    },
                ],
                wildcard: vec![],
                open_upper: vec![],
                caret_zero: vec![],
                remote: vec![],
                local: vec![],
                floating_percent: 50,
            },
            registry: RegistryFacts {
                url: "https://registry.npmjs.org/".into(),
                serves_signatures: true,
                serves_maintainers: true,
                serves_publishers: true,
            },
            advisories: AdvisoryFacts::known(vec![]),
            pypi: None,
        }
    }
}

impl PypiFacts {
    /// A fully known, passing example (the fact-path catalogue reads `pypi.*` off it).
    pub fn example() -> PypiFacts {
        let k = |s: &str| Fact::Known(s.to_string());
        PypiFacts {
            index: "https://pypi.org/simple/".into(),
            index_source: "default (pypi.org)".into(),
            simple_format: "json".into(),
            api_version: k("1.4"),
            json_api: true,
            file: "example_mcp_server-1.4.2-py3-none-any.whl".into(),
            file_kind: "wheel".into(),
            yanked: false,
            yanked_reason: k(""),
            project_status: k("active"),
            roles: Fact::Known(vec!["Owner:alice".into(), "Maintainer:bob".into()]),
            organization: k(""),
            vulnerabilities: Fact::Known(vec![]),
            also_on_other_indexes: Fact::Known(vec![]),
            requires_dist: Fact::Known(vec!["mcp>=1.2,<2".into()]),
            unbounded_requires: Fact::Known(vec![]),
            direct_references: Fact::Known(vec![]),
            publisher_kind: k("GitHub"),
            provenance_url: Some(
                "https://pypi.org/integrity/example-mcp-server/1.4.2/example_mcp_server-1.4.2-py3-none-any.whl/provenance"
                    .into(),
            ),
            pth_exec: Fact::Known(vec![]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_round_trip_including_one_element_lists_and_unknowns() {
        let mut f = PackageFacts::example();
        f.maintainers.names = Fact::Known(vec!["solo".into()]);
        f.publish.publisher = Fact::unknown("no _npmUser");
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["maintainers"]["names"], serde_json::json!(["solo"]));
        assert_eq!(json["publish"]["publisher"]["$unknown"], "no _npmUser");
        let back: PackageFacts = serde_json::from_value(json).unwrap();
        assert_eq!(back, f);
    }
}
