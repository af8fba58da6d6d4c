//! Packument → `PackageFacts`. Pure: no I/O, the clock is an input.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use nodejs_semver::Version;
use serde_json::{Map, Value};

use super::deps::{self, Dependency, RangeClass};
use super::*;
use crate::verify::{AttestationKind, SigError, Signer, VerifyError};

pub struct DeriveInput<'a> {
    pub packument: &'a Value,
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
    let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
    let versions = p.get("versions").and_then(Value::as_object);
    let empty = Map::new();
    let versions = versions.unwrap_or(&empty);
    let doc = versions.get(input.version).unwrap_or(&Value::Null);
    let times = p.get("time").and_then(Value::as_object);

    let shape = RegistryShape {
        serves_signatures: versions
            .values()
            .any(|v| non_empty_array(v.pointer("/dist/signatures"))),
        serves_maintainers: non_empty_array(p.get("maintainers"))
            || versions
                .values()
                .any(|v| non_empty_array(v.get("maintainers"))),
        serves_publishers: versions.values().any(|v| v.get("_npmUser").is_some()),
        serves_git_head: versions.values().any(|v| v.get("gitHead").is_some()),
    };

    let parsed = Version::parse(input.version).ok();
    let published_at = publish_time(times, input.version);
    let history = history(versions, times, input.version, published_at.as_ref());
    let prev_doc = history
        .previous
        .as_deref()
        .and_then(|v| versions.get(v))
        .unwrap_or(&Value::Null);

    let maintainers = maintainer_facts(p, doc, prev_doc, history.previous.is_some(), &shape);
    let publish = publish_facts(input, doc, &history, &maintainers, &shape);
    let repository = repository_url(doc.get("repository"));
    let mcp_name = doc
        .get("mcpName")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mcp_github_owner = mcp_name.as_deref().and_then(mcp_github_owner);
    let provenance = provenance_facts(
        input,
        doc,
        &shape,
        repository.as_deref(),
        mcp_github_owner.as_deref(),
    );
    let signatures = signature_facts(input, &shape);
    let trust = trust_facts(input, versions, times, doc, published_at.as_ref(), &shape);
    let (tarball, content) = tarball_facts(&input.evidence.tarball);
    // npm exposes neither the token type nor 2FA, so the method stays an inference; these are
    // the other signals issue E names, recorded beside it as evidence for a human reader.
    let mut publish = publish;
    match &publish.git_head {
        Fact::Known(true) => publish
            .method_evidence
            .push("gitHead is recorded: published from a git work tree".into()),
        Fact::Known(false) => publish
            .method_evidence
            .push("no gitHead: not published from a git work tree".into()),
        Fact::Unknown { .. } => {}
    }
    if let Fact::Known(c) = &content {
        if c.never_packed_count > 0 {
            publish.method_evidence.push(format!(
                "the tarball holds files npm never packs ({}): it was not made by npm pack",
                c.never_packed.join(", ")
            ));
        }
    }
    let deprecated = doc
        .get("deprecated")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());

    let release = ReleaseFacts {
        age_hours: match &published_at {
            Some(t) => Fact::Known(round2((input.now - *t).num_seconds() as f64 / 3600.0)),
            None => Fact::unknown(format!(
                "the packument has no publish time for {}",
                input.version
            )),
        },
        published_at: match &published_at {
            Some(t) => Fact::Known(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            None => Fact::unknown(format!(
                "the packument has no publish time for {}",
                input.version
            )),
        },
        deprecated: deprecated.is_some(),
        deprecation_message: deprecated.map(str::to_string),
    };

    PackageFacts {
        schema: FACTS_SCHEMA,
        package: PackageId {
            ecosystem: "npm".into(),
            name: name.to_string(),
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
        release,
        tags: tag_facts(p, versions, input.version),
        metadata: MetadataFacts {
            repository,
            license: license(doc),
            mcp_name,
            mcp_github_owner,
            description: doc
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
        },
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
                Some(_) => git_head(prev_doc, &shape, input.registry),
            },
            previous_had_provenance: match &history.previous {
                None => Fact::Known(false),
                Some(_) => listed_provenance(input, prev_doc, &shape),
            },
            previous_had_trusted_publisher: match &history.previous {
                None => Fact::Known(false),
                Some(_) => trusted_publisher(prev_doc, input.registry).map(|t| t.is_some()),
            },
        },
        scripts: script_facts(doc),
        lockfile: LockfileFacts {
            has_shrinkwrap: match (&content, doc.get("_hasShrinkwrap").and_then(Value::as_bool)) {
                (Fact::Known(c), _) => Fact::Known(c.has_shrinkwrap),
                (_, Some(b)) => Fact::Known(b),
                (Fact::Unknown { reason }, None) => Fact::unknown(format!(
                    "registry {} did not report _hasShrinkwrap and the tarball was not read ({reason})",
                    input.registry
                )),
            },
        },
        tarball,
        content,
        dependencies: dependency_facts(doc),
        registry: RegistryFacts {
            url: input.registry.to_string(),
            serves_signatures: shape.serves_signatures,
            serves_maintainers: shape.serves_maintainers,
            serves_publishers: shape.serves_publishers,
        },
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn non_empty_array(v: Option<&Value>) -> bool {
    v.and_then(Value::as_array).is_some_and(|a| !a.is_empty())
}

fn publish_time(times: Option<&Map<String, Value>>, version: &str) -> Option<DateTime<Utc>> {
    let s = times?.get(version)?.as_str()?;
    DateTime::parse_from_rfc3339(s)
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
fn history(
    versions: &Map<String, Value>,
    times: Option<&Map<String, Value>>,
    version: &str,
    published_at: Option<&DateTime<Utc>>,
) -> History {
    let this = Version::parse(version).ok();
    let mut earlier: Vec<(Option<DateTime<Utc>>, Version, String)> = versions
        .keys()
        .filter(|v| v.as_str() != version)
        .filter_map(|v| {
            let parsed = Version::parse(v).ok()?;
            let t = publish_time(times, v);
            let before = match (published_at, &t) {
                (Some(me), Some(t)) => t < me,
                _ => this.as_ref().is_some_and(|me| &parsed < me),
            };
            before.then(|| (t, parsed, v.clone()))
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

fn people(v: Option<&Value>) -> Option<Vec<String>> {
    let arr = v?.as_array()?;
    let mut names: Vec<String> = arr
        .iter()
        .filter_map(|m| match m {
            Value::String(s) => Some(person_from_string(s)),
            Value::Object(o) => o.get("name").and_then(Value::as_str).map(str::to_string),
            _ => None,
        })
        .collect();
    names.sort();
    names.dedup();
    Some(names)
}

/// npm accepts `"Name <email> (url)"` strings for people.
fn person_from_string(s: &str) -> String {
    s.split(['<', '(']).next().unwrap_or(s).trim().to_string()
}

fn maintainer_facts(
    p: &Value,
    doc: &Value,
    prev_doc: &Value,
    has_previous: bool,
    shape: &RegistryShape,
) -> MaintainerFacts {
    let missing = "the registry returned no maintainers for this package";
    // The version document records who could publish at that time; the top-level list is the
    // current one. Prefer the version's own list and fall back to the top level.
    let current = people(doc.get("maintainers"))
        .filter(|m| !m.is_empty())
        .or_else(|| people(p.get("maintainers")).filter(|m| !m.is_empty()));
    let names = match current.clone() {
        Some(m) => Fact::Known(m),
        None => Fact::unknown(missing),
    };
    let diff: Fact<(Vec<String>, Vec<String>)> = if !has_previous {
        Fact::Known((vec![], vec![]))
    } else if !shape.serves_maintainers {
        Fact::unknown(missing)
    } else {
        match (
            people(doc.get("maintainers")).filter(|m| !m.is_empty()),
            people(prev_doc.get("maintainers")).filter(|m| !m.is_empty()),
        ) {
            (Some(now), Some(before)) => {
                let now_set: BTreeSet<_> = now.iter().collect();
                let before_set: BTreeSet<_> = before.iter().collect();
                Fact::Known((
                    now_set
                        .difference(&before_set)
                        .map(|s| s.to_string())
                        .collect(),
                    before_set
                        .difference(&now_set)
                        .map(|s| s.to_string())
                        .collect(),
                ))
            }
            _ => Fact::unknown("the version documents do not list their maintainers"),
        }
    };
    MaintainerFacts {
        count: names.map(|n| n.len() as u64),
        names,
        added_count: diff.map(|d| d.0.len() as u64),
        added_since_previous: diff.map(|d| d.0.clone()),
        removed_count: diff.map(|d| d.1.len() as u64),
        removed_since_previous: diff.map(|d| d.1.clone()),
    }
}

fn npm_user(doc: &Value) -> Option<&Value> {
    doc.get("_npmUser").filter(|u| !u.is_null())
}

fn publisher_name(doc: &Value) -> Option<String> {
    match npm_user(doc)? {
        Value::String(s) => Some(person_from_string(s)),
        Value::Object(o) => o.get("name").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

fn trusted_publisher(doc: &Value, registry: &str) -> Fact<Option<String>> {
    match npm_user(doc) {
        None => Fact::unknown(format!(
            "registry {registry} did not return the publisher (_npmUser)"
        )),
        Some(u) => Fact::Known(u.get("trustedPublisher").filter(|t| !t.is_null()).map(|t| {
            t.get("id")
                .and_then(Value::as_str)
                .unwrap_or("unknown-provider")
                .to_string()
        })),
    }
}

fn git_head(doc: &Value, shape: &RegistryShape, registry: &str) -> Fact<bool> {
    if doc.get("gitHead").and_then(Value::as_str).is_some() {
        Fact::Known(true)
    } else if shape.serves_git_head || shape.serves_publishers {
        Fact::Known(false)
    } else {
        Fact::unknown(format!(
            "registry {registry} serves no gitHead for any version; it may strip publish metadata"
        ))
    }
}

fn publish_facts(
    input: &DeriveInput<'_>,
    doc: &Value,
    history: &History,
    maintainers: &MaintainerFacts,
    shape: &RegistryShape,
) -> PublishFacts {
    let versions = input.packument.get("versions").and_then(Value::as_object);
    let no_user = format!(
        "registry {} did not return the publisher (_npmUser)",
        input.registry
    );
    let publisher = match publisher_name(doc) {
        Some(n) => Fact::Known(n),
        None => Fact::unknown(no_user.clone()),
    };
    let previous_publishers: Fact<Vec<String>> = if history.earlier.is_empty() {
        Fact::unknown("there is no earlier version")
    } else {
        let names: BTreeSet<String> = history
            .earlier
            .iter()
            .filter_map(|v| versions.and_then(|vs| vs.get(v)))
            .filter_map(publisher_name)
            .collect();
        if names.is_empty() {
            Fact::unknown(format!(
                "registry {} returned no publishers for earlier versions",
                input.registry
            ))
        } else {
            Fact::Known(names.into_iter().collect())
        }
    };
    let new_publisher = match (&publisher, &previous_publishers) {
        (Fact::Known(p), Fact::Known(prev)) => Fact::Known(!prev.contains(p)),
        (Fact::Unknown { reason }, _) | (_, Fact::Unknown { reason }) => Fact::unknown(reason),
    };
    let publisher_is_maintainer = match (&publisher, &maintainers.names) {
        (Fact::Known(p), Fact::Known(m)) => Fact::Known(m.contains(p)),
        (Fact::Unknown { reason }, _) | (_, Fact::Unknown { reason }) => Fact::unknown(reason),
    };
    let tp = trusted_publisher(doc, input.registry);
    let has_signatures = if non_empty_array(doc.pointer("/dist/signatures")) {
        Fact::Known(true)
    } else if shape.serves_signatures {
        Fact::Known(false)
    } else {
        Fact::unknown(no_security_metadata(input.registry))
    };
    let provenance = listed_provenance(input, doc, shape);
    let (method, method_evidence) = infer_method(&publisher, &tp, &provenance);
    PublishFacts {
        publisher,
        publisher_is_maintainer,
        new_publisher,
        previous_publishers,
        trusted_publisher: tp.map(Option::is_some),
        trusted_publisher_provider: tp,
        has_signatures,
        git_head: git_head(doc, shape, input.registry),
        method,
        method_evidence,
    }
}

fn infer_method(
    publisher: &Fact<String>,
    trusted: &Fact<Option<String>>,
    provenance: &Fact<bool>,
) -> (Fact<String>, Vec<String>) {
    if let Fact::Known(Some(provider)) = trusted {
        return (
            Fact::Known("trusted-publisher".into()),
            vec![format!("_npmUser.trustedPublisher is set (id: {provider})")],
        );
    }
    if provenance.known() == Some(&true) {
        return (
            Fact::Known("ci-provenance".into()),
            vec!["dist.attestations lists a provenance attestation".into()],
        );
    }
    match (publisher, trusted, provenance) {
        (Fact::Known(user), Fact::Known(None), Fact::Known(false)) => (
            Fact::Known("token-human".into()),
            vec![
                format!("published by account {user} without trusted publishing"),
                "no provenance attestation".into(),
            ],
        ),
        _ => {
            let reason = [trusted.clone().map(|_| ()), provenance.map(|_| ())]
                .into_iter()
                .find_map(|f| match f {
                    Fact::Unknown { reason } => Some(reason),
                    Fact::Known(()) => None,
                })
                .unwrap_or_else(|| "the publish evidence is incomplete".into());
            (Fact::unknown(reason), vec![])
        }
    }
}

/// Whether the version *lists* an attestation. This is what history and trust comparisons use:
/// earlier versions are not re-verified, and a listing is what pnpm's trust policy reads too.
fn listed_provenance(input: &DeriveInput<'_>, doc: &Value, shape: &RegistryShape) -> Fact<bool> {
    if doc
        .pointer("/dist/attestations")
        .is_some_and(|a| !a.is_null())
    {
        Fact::Known(true)
    } else if shape.serves_signatures {
        Fact::Known(false)
    } else {
        Fact::unknown(no_security_metadata(input.registry))
    }
}

fn no_security_metadata(registry: &str) -> String {
    format!(
        "registry {registry} serves no dist.signatures or dist.attestations for any version; \
         it may strip npm's security metadata"
    )
}

const KNOWN_ISSUERS: &[&str] = &[
    "https://token.actions.githubusercontent.com",
    "https://gitlab.com",
];

fn provenance_facts(
    input: &DeriveInput<'_>,
    doc: &Value,
    shape: &RegistryShape,
    repository: Option<&str>,
    mcp_owner: Option<&str>,
) -> ProvenanceFacts {
    let mut f = checked_provenance(input, doc, shape, repository, mcp_owner);
    // When the status itself is unknown, the identity is unknown for that same reason; saying so
    // (instead of "no verified provenance") lets the report group them under one cause.
    if let Fact::Unknown { reason } = f.status.clone() {
        for field in [
            &mut f.source_repository,
            &mut f.commit,
            &mut f.git_ref,
            &mut f.ref_type,
            &mut f.workflow,
            &mut f.issuer,
            &mut f.builder,
            &mut f.runner,
        ] {
            *field = Fact::unknown(&reason);
        }
        for field in [
            &mut f.issuer_known,
            &mut f.repository_matches,
            &mut f.mcp_owner_matches,
        ] {
            *field = Fact::unknown(&reason);
        }
    }
    f
}

fn checked_provenance(
    input: &DeriveInput<'_>,
    doc: &Value,
    shape: &RegistryShape,
    repository: Option<&str>,
    mcp_owner: Option<&str>,
) -> ProvenanceFacts {
    let att = doc.pointer("/dist/attestations").filter(|a| !a.is_null());
    let unverified = || Fact::<String>::unknown("no verified provenance");
    let mut f = ProvenanceFacts {
        status: Fact::unknown("attestations were not checked"),
        legacy: false,
        failures: vec![],
        attestations_url: att
            .and_then(|a| a.get("url"))
            .and_then(Value::as_str)
            .map(str::to_string),
        predicate_type: att
            .and_then(|a| a.pointer("/provenance/predicateType"))
            .and_then(Value::as_str)
            .map(str::to_string),
        publish_attestation: Fact::unknown("attestations were not checked"),
        source_repository: unverified(),
        commit: unverified(),
        git_ref: unverified(),
        ref_type: unverified(),
        workflow: unverified(),
        issuer: unverified(),
        issuer_known: Fact::unknown("no verified provenance"),
        builder: unverified(),
        runner: unverified(),
        repository_matches: Fact::unknown("no verified provenance"),
        mcp_owner_matches: Fact::unknown("no verified provenance"),
    };
    let (report, keys_available) = match &input.evidence.attestations {
        AttestationEvidence::NotChecked => return f,
        AttestationEvidence::NotListed => {
            let absent = listed_provenance(input, doc, shape).map(|_| "absent".to_string());
            f.status = absent.clone();
            f.publish_attestation = absent;
            return f;
        }
        AttestationEvidence::Unavailable(reason) => {
            f.status = Fact::unknown(reason);
            f.publish_attestation = Fact::unknown(reason);
            return f;
        }
        AttestationEvidence::Checked {
            report,
            keys_available,
        } => (report, *keys_available),
    };
    if let Some(e) = &report.response_error {
        f.status = Fact::Known("invalid".into());
        f.publish_attestation = Fact::Known("invalid".into());
        f.failures = vec![e.to_string()];
        return f;
    }
    let mut failures = Vec::new();
    f.publish_attestation = match report
        .attestations
        .iter()
        .find(|a| a.kind == AttestationKind::NpmPublish)
    {
        None => Fact::Known("absent".into()),
        Some(a) => match &a.outcome {
            Ok(_) => Fact::Known("verified".into()),
            // Without the registry's keys a publish attestation cannot be judged either way.
            Err(VerifyError::Key(_)) if !keys_available => Fact::unknown(format!(
                "registry {} provides no signing keys",
                input.registry
            )),
            Err(e) => {
                failures.push(format!("{}: {e}", a.predicate_type));
                Fact::Known("invalid".into())
            }
        },
    };
    let slsa = report
        .attestations
        .iter()
        .find(|a| a.kind == AttestationKind::SlsaProvenance);
    let verified = match slsa.map(|a| (a, &a.outcome)) {
        // The packument promised a provenance attestation and the registry's document has none:
        // whatever happened, it is not evidence, and it is not a plain absence either.
        None if f.predicate_type.is_some() => {
            failures.insert(
                0,
                "the packument lists a provenance attestation but the attestations document contains none"
                    .into(),
            );
            f.status = Fact::Known("invalid".into());
            f.failures = failures;
            return f;
        }
        None => {
            f.status = Fact::Known("absent".into());
            f.failures = failures;
            return f;
        }
        Some((a, Err(e))) => {
            failures.insert(0, format!("{}: {e}", a.predicate_type));
            f.predicate_type = Some(a.predicate_type.clone());
            f.status = Fact::Known("invalid".into());
            f.failures = failures;
            return f;
        }
        Some((a, Ok(v))) => {
            f.predicate_type = Some(a.predicate_type.clone());
            f.legacy = a.legacy;
            v
        }
    };
    f.failures = failures;
    f.status = Fact::Known(
        if f.legacy {
            "legacy-verified"
        } else {
            "verified"
        }
        .into(),
    );
    let cert = match &verified.signer {
        Signer::Certificate(c) => Some(c.as_ref()),
        Signer::RegistryKey(_) => None,
    };
    let pred = verified.predicate_identity.as_ref();
    let pick = |a: Option<&String>, b: Option<&String>, what: &str| -> Fact<String> {
        match a.or(b) {
            Some(v) => Fact::Known(v.clone()),
            None => Fact::unknown(format!("the verified provenance does not state the {what}")),
        }
    };
    let repo = cert
        .and_then(|c| c.source_repository_uri.as_ref())
        .or(pred.and_then(|p| p.source_uri.as_ref()))
        .and_then(|r| normalize_git_url(r));
    f.source_repository = match &repo {
        Some(r) => Fact::Known(r.clone()),
        None => Fact::unknown("the verified provenance does not state the source repository"),
    };
    f.commit = pick(
        cert.and_then(|c| c.source_repository_digest.as_ref()),
        pred.and_then(|p| p.source_digest.as_ref()),
        "commit",
    );
    f.git_ref = pick(
        cert.and_then(|c| c.source_repository_ref.as_ref()),
        pred.and_then(|p| p.workflow_ref.as_ref()),
        "git ref",
    );
    f.ref_type = f.git_ref.map(|r| {
        if r.starts_with("refs/tags/") {
            "tag".to_string()
        } else if r.starts_with("refs/heads/") {
            "branch".to_string()
        } else {
            "other".to_string()
        }
    });
    f.workflow = pick(
        cert.and_then(|c| c.build_config_uri.as_ref()),
        pred.and_then(|p| p.workflow_path.as_ref()),
        "workflow",
    );
    f.issuer = pick(cert.and_then(|c| c.issuer.as_ref()), None, "OIDC issuer");
    f.issuer_known = f.issuer.map(|i| KNOWN_ISSUERS.contains(&i.as_str()));
    f.builder = pick(pred.and_then(|p| p.builder_id.as_ref()), None, "builder");
    // Certificates before mid-2023 carry no runner-environment extension; npm's builder id
    // (`…/github-hosted`) says the same thing, so fall back to it.
    f.runner = match cert.and_then(|c| c.runner_environment.clone()).or_else(|| {
        pred.and_then(|p| p.builder_id.as_deref())
            .and_then(|b| b.rsplit('/').next())
            .filter(|tail| *tail == "github-hosted" || *tail == "self-hosted")
            .map(str::to_string)
    }) {
        Some(r) => Fact::Known(r),
        None => Fact::unknown("the provenance does not say whether the runner was self-hosted"),
    };
    f.repository_matches = match (&repo, repository) {
        (Some(a), Some(b)) => Fact::Known(a.eq_ignore_ascii_case(b)),
        (None, _) => Fact::unknown("the verified provenance does not state the source repository"),
        (_, None) => Fact::unknown("package.json declares no repository to compare with"),
    };
    f.mcp_owner_matches = match (mcp_owner, repo.as_deref().and_then(github_owner)) {
        (None, _) => Fact::unknown("mcpName is not an io.github.<owner>/… name"),
        (Some(_), None) => Fact::unknown("the provenance repository is not on GitHub"),
        (Some(m), Some(o)) => Fact::Known(m.eq_ignore_ascii_case(&o)),
    };
    f
}

fn github_owner(repo: &str) -> Option<String> {
    repo.strip_prefix("https://github.com/")?
        .split('/')
        .next()
        .filter(|o| !o.is_empty())
        .map(str::to_string)
}

/// `io.github.<owner>/<name>` is the MCP registry's namespace for servers verified by GitHub
/// login; other reverse-DNS names are verified by domain and say nothing about GitHub.
fn mcp_github_owner(mcp_name: &str) -> Option<String> {
    mcp_name
        .strip_prefix("io.github.")?
        .split('/')
        .next()
        .filter(|o| !o.is_empty())
        .map(str::to_string)
}

fn signature_facts(input: &DeriveInput<'_>, shape: &RegistryShape) -> SignatureFacts {
    let mut f = SignatureFacts {
        status: Fact::unknown("signatures were not checked"),
        keyid: None,
        detail: None,
    };
    match &input.evidence.signature {
        SignatureEvidence::NotChecked => {}
        SignatureEvidence::NotPresent => {
            f.status = if shape.serves_signatures {
                Fact::Known("absent".into())
            } else {
                Fact::unknown(no_security_metadata(input.registry))
            }
        }
        SignatureEvidence::NoKeys(reason) => f.status = Fact::unknown(reason),
        SignatureEvidence::Checked { keyid, result } => {
            f.keyid = Some(keyid.clone());
            f.status = Fact::Known(
                match result {
                    Ok(()) => "verified",
                    Err(SigError::MissingKey { .. }) => "missing-key",
                    Err(SigError::ExpiredKey { .. }) => "expired-key",
                    Err(SigError::InvalidSignature { .. }) => "invalid",
                }
                .into(),
            );
            f.detail = result.as_ref().err().map(|e| e.to_string());
        }
    }
    f
}

const LEVELS: [&str; 3] = ["none", "provenance", "trusted-publisher"];

/// The possible trust ranks of one version as (lowest, highest): a single value when the
/// evidence is known, a range when part of it is missing. A mirror that hides `_npmUser` leaves
/// "provenance or trusted publisher" open, which is still enough to decide some comparisons.
fn trust_bounds(
    input: &DeriveInput<'_>,
    doc: &Value,
    shape: &RegistryShape,
) -> (u64, u64, Option<String>) {
    let trusted = trusted_publisher(doc, input.registry);
    let listed = listed_provenance(input, doc, shape);
    let reason = match (&trusted, &listed) {
        (Fact::Unknown { reason }, _) | (_, Fact::Unknown { reason }) => Some(reason.clone()),
        _ => None,
    };
    let (lo, hi) = match (trusted, listed) {
        (Fact::Known(Some(_)), _) => (2, 2),
        (Fact::Known(None), Fact::Known(true)) => (1, 1),
        (Fact::Known(None), Fact::Known(false)) => (0, 0),
        (Fact::Known(None), Fact::Unknown { .. }) => (0, 1),
        (Fact::Unknown { .. }, Fact::Known(true)) => (1, 2),
        (Fact::Unknown { .. }, _) => (0, 2),
    };
    (lo, hi, if lo == hi { None } else { reason })
}

fn trust_facts(
    input: &DeriveInput<'_>,
    versions: &Map<String, Value>,
    times: Option<&Map<String, Value>>,
    doc: &Value,
    published_at: Option<&DateTime<Utc>>,
    shape: &RegistryShape,
) -> TrustFacts {
    let (lo, hi, why) = trust_bounds(input, doc, shape);
    let rank = match &why {
        None => Fact::Known(lo),
        Some(reason) => Fact::unknown(reason),
    };
    let window = chrono::Duration::days(input.trust_window_days as i64);
    let no_time = "the packument has no publish time for this version";
    let mut f = TrustFacts {
        level: rank.map(|r| LEVELS[*r as usize].to_string()),
        rank,
        earlier_best_level: Fact::unknown(no_time),
        earlier_best_rank: Fact::unknown(no_time),
        earlier_best_version: None,
        window_days: input.trust_window_days,
        downgrade: Fact::unknown(no_time),
    };
    let (Some(me), Some(this)) = (published_at, Version::parse(input.version).ok()) else {
        return f;
    };
    // The best earlier rank is a range too when some earlier versions are only partly known.
    let mut best_lo: Option<(u64, DateTime<Utc>, String)> = None;
    let mut best_hi = 0u64;
    let mut earlier_reason = None;
    for (v, vdoc) in versions {
        let Ok(parsed) = Version::parse(v) else {
            continue;
        };
        let Some(t) = publish_time(times, v) else {
            continue;
        };
        if parsed.is_prerelease() || parsed.major() != this.major() || t >= *me || *me - t > window
        {
            continue;
        }
        let (vlo, vhi, vwhy) = trust_bounds(input, vdoc, shape);
        best_hi = best_hi.max(vhi);
        if vwhy.is_some() {
            earlier_reason = vwhy;
        }
        if best_lo.as_ref().is_none_or(|b| (vlo, t) > (b.0, b.1)) {
            best_lo = Some((vlo, t, v.clone()));
        }
    }
    // Nothing earlier in the window: there is nothing to fall from.
    let (blo, bversion) = match best_lo {
        Some((r, _, v)) => (r, Some(v)),
        None => (0, None),
    };
    f.earlier_best_version = bversion;
    if blo == best_hi {
        f.earlier_best_rank = Fact::Known(blo);
        f.earlier_best_level = Fact::Known(LEVELS[blo as usize].to_string());
    } else {
        let reason = earlier_reason
            .clone()
            .unwrap_or_else(|| "earlier publish evidence is incomplete".into());
        f.earlier_best_rank = Fact::unknown(&reason);
        f.earlier_best_level = Fact::unknown(&reason);
    }
    // A downgrade when even the best this version could be is below the least the best earlier
    // release could be; none when even its least reaches the most the earlier ones could be.
    f.downgrade = if hi < blo {
        Fact::Known(true)
    } else if lo >= best_hi {
        Fact::Known(false)
    } else {
        Fact::unknown(
            why.or(earlier_reason)
                .unwrap_or_else(|| "the publish evidence is incomplete".into()),
        )
    };
    f
}

fn tarball_facts(evidence: &TarballEvidence) -> (TarballFacts, Fact<ContentFacts>) {
    let (url, compressed, integrity, report) = match evidence {
        TarballEvidence::NotChecked => {
            let why = "the tarball was not checked";
            return (
                TarballFacts {
                    integrity: Fact::unknown(why),
                    url: None,
                    compressed_bytes: Fact::unknown(why),
                },
                Fact::unknown(why),
            );
        }
        TarballEvidence::Unavailable(why) => {
            return (
                TarballFacts {
                    integrity: Fact::unknown(why),
                    url: None,
                    compressed_bytes: Fact::unknown(why),
                },
                Fact::unknown(why),
            );
        }
        TarballEvidence::Checked {
            url,
            compressed_bytes,
            integrity,
            report,
        } => (url, *compressed_bytes, integrity, report),
    };
    let tarball = TarballFacts {
        integrity: match integrity {
            Ok(()) => Fact::Known("verified".into()),
            Err(crate::content::IntegrityError::Mismatch { .. }) => Fact::Known("mismatch".into()),
            Err(e) => Fact::unknown(format!("dist.integrity cannot be checked: {e}")),
        },
        url: Some(url.clone()),
        compressed_bytes: Fact::Known(compressed),
    };
    let content = match (integrity, report) {
        (Ok(()), Some(r)) => Fact::Known(content_facts(r)),
        (Err(e), _) => Fact::unknown(format!(
            "the tarball was not read because it does not match dist.integrity ({e})"
        )),
        (Ok(()), None) => Fact::unknown("the tarball was not analysed"),
    };
    (tarball, content)
}

fn content_facts(r: &crate::content::ContentReport) -> ContentFacts {
    use crate::content::Confidence;
    let install_signals: Vec<String> = r
        .install_scripts
        .iter()
        .flat_map(|s| {
            s.signals
                .iter()
                .map(move |sig| format!("{}: {sig}", s.name))
        })
        .collect();
    let manifest_confusion: Vec<String> = r
        .manifest_confusion
        .iter()
        .map(|m| {
            format!(
                "{}: registry {} / tarball {}",
                m.field, m.registry, m.tarball
            )
        })
        .collect();
    let secrets: Vec<String> = r
        .secrets
        .iter()
        // The analysis already words it as "<file>:<line>: <kind> <redacted value>".
        .map(|s| s.evidence.clone())
        .collect();
    let secret_count = r
        .secrets
        .iter()
        .filter(|s| matches!(s.confidence, Confidence::Medium | Confidence::High))
        .count() as u64;
    let native_binaries: Vec<String> = r
        .native_binaries
        .iter()
        .map(|b| format!("{} ({})", b.file, b.kind))
        .collect();
    let obfuscation: Vec<String> = r
        .obfuscation
        .iter()
        .map(|o| format!("{}: {} ({}) {}", o.file, o.signal, o.confidence, o.detail))
        .collect();
    let obfuscation_confidence = r
        .obfuscation
        .iter()
        .map(|o| o.confidence)
        .max()
        .map(|c| match c {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        })
        .unwrap_or("none")
        .to_string();
    let bin_shadowing: Vec<String> = r
        .bin_shadowing
        .iter()
        .map(|b| format!("{} -> {}", b.bin, b.path))
        .collect();
    let path_problems: Vec<String> = r
        .path_problems
        .iter()
        .map(|p| match &p.detail {
            Some(d) => format!("{} {} ({d})", p.kind, p.path),
            None => format!("{} {}", p.kind, p.path),
        })
        .collect();
    // A package.json npm cannot read makes the rest of the analysis (manifest, scripts, bins)
    // partial too, so it counts against completeness like a truncated archive.
    let mut errors = r.errors.clone();
    errors.extend(
        r.package_json_error
            .iter()
            .map(|e| format!("package.json: {e}")),
    );
    ContentFacts {
        complete: r.complete && r.package_json_error.is_none(),
        errors,
        files: r.files,
        unpacked_bytes: r.unpacked_bytes,
        install_signal_count: install_signals.len() as u64,
        install_signals,
        manifest_compared: r.manifest_compared,
        manifest_confusion_count: manifest_confusion.len() as u64,
        manifest_confusion,
        secrets,
        secret_count,
        native_binary_count: native_binaries.len() as u64,
        native_binaries,
        obfuscation,
        obfuscation_confidence,
        bin_shadowing_count: bin_shadowing.len() as u64,
        bin_shadowing,
        outside_files_count: r.outside_files_whitelist.len() as u64,
        outside_files: r.outside_files_whitelist.clone(),
        path_problem_count: path_problems.len() as u64,
        path_problems,
        never_packed_count: r.never_packed.len() as u64,
        never_packed: r.never_packed.clone(),
        has_shrinkwrap: r.has_shrinkwrap,
    }
}

fn tag_facts(p: &Value, versions: &Map<String, Value>, version: &str) -> TagFacts {
    let tags = p.get("dist-tags").and_then(Value::as_object);
    let latest = tags
        .and_then(|t| t.get("latest"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let highest = versions
        .keys()
        .filter_map(|v| Version::parse(v).ok())
        .filter(|v| !v.is_prerelease())
        .max()
        .map(|v| v.to_string());
    let no_latest = "the packument has no `latest` dist-tag";
    TagFacts {
        names: tags
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default(),
        latest_is_highest: match (&latest, &highest) {
            (Some(l), Some(h)) => Fact::Known(
                Version::parse(l)
                    .ok()
                    .zip(Version::parse(h).ok())
                    .is_some_and(|(l, h)| l >= h),
            ),
            (None, _) => Fact::unknown(no_latest),
            (_, None) => Fact::unknown("the packument lists no stable version"),
        },
        is_latest: match &latest {
            Some(l) => Fact::Known(l == version),
            None => Fact::unknown(no_latest),
        },
        highest: match highest {
            Some(h) => Fact::Known(h),
            None => Fact::unknown("the packument lists no stable version"),
        },
        latest: match latest {
            Some(l) => Fact::Known(l),
            None => Fact::unknown(no_latest),
        },
    }
}

/// Normalises the many spellings npm accepts to one https URL, so rules and the provenance
/// comparison in issue B see `https://github.com/owner/repo` whatever the package wrote.
pub fn repository_url(v: Option<&Value>) -> Option<String> {
    let raw = match v? {
        Value::String(s) => s.clone(),
        Value::Object(o) => o.get("url").and_then(Value::as_str)?.to_string(),
        _ => return None,
    };
    normalize_git_url(&raw)
}

pub fn normalize_git_url(raw: &str) -> Option<String> {
    let mut s = raw.trim().to_string();
    if s.is_empty() {
        return None;
    }
    for (prefix, host) in [
        ("github:", "github.com"),
        ("gitlab:", "gitlab.com"),
        ("bitbucket:", "bitbucket.org"),
    ] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = format!("https://{host}/{rest}");
        }
    }
    if let Some(rest) = s.strip_prefix("git+") {
        s = rest.to_string();
    }
    if let Some(rest) = s.strip_prefix("git@") {
        s = format!("https://{}", rest.replacen(':', "/", 1));
    }
    for scheme in ["git://", "ssh://git@", "ssh://", "http://"] {
        if let Some(rest) = s.strip_prefix(scheme) {
            s = format!("https://{rest}");
        }
    }
    if !s.contains("://") && s.split('/').count() == 2 && !s.starts_with('.') {
        s = format!("https://github.com/{s}");
    }
    let s = s.split('#').next().unwrap_or(&s).trim_end_matches('/');
    let s = s.strip_suffix(".git").unwrap_or(s);
    Some(s.to_string())
}

fn license(doc: &Value) -> Option<String> {
    match doc.get("license") {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(Value::Object(o)) => o.get("type").and_then(Value::as_str).map(str::to_string),
        _ => doc
            .get("licenses")
            .and_then(Value::as_array)
            .map(|arr| {
                arr.iter()
                    .filter_map(|l| l.get("type").and_then(Value::as_str).or(l.as_str()))
                    .collect::<Vec<_>>()
                    .join(" OR ")
            })
            .filter(|s| !s.is_empty()),
    }
}

const INSTALL_SCRIPTS: [&str; 3] = ["preinstall", "install", "postinstall"];

fn script_facts(doc: &Value) -> ScriptFacts {
    let scripts = doc.get("scripts").and_then(Value::as_object);
    let mut commands = BTreeMap::new();
    for name in INSTALL_SCRIPTS {
        if let Some(cmd) = scripts.and_then(|s| s.get(name)).and_then(Value::as_str) {
            commands.insert(name.to_string(), cmd.to_string());
        }
    }
    let mut names: Vec<String> = INSTALL_SCRIPTS
        .iter()
        .filter(|n| commands.contains_key(**n))
        .map(|n| n.to_string())
        .collect();
    let flagged = doc
        .get("hasInstallScript")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if flagged && names.is_empty() {
        // npm sets the flag without a script when the package has a binding.gyp: install then
        // runs `node-gyp rebuild`, which compiles and runs code from the tarball.
        names.push("install (implicit node-gyp rebuild)".to_string());
    }
    ScriptFacts {
        has_install_script: !names.is_empty(),
        install_script_count: names.len() as u64,
        install_scripts: names,
        install_commands: commands,
    }
}

fn dependency_facts(doc: &Value) -> DependencyFacts {
    let mut list = Vec::new();
    for kind in ["dependencies", "optionalDependencies", "peerDependencies"] {
        if let Some(map) = doc.get(kind).and_then(Value::as_object) {
            for (name, spec) in map {
                // optionalDependencies are repeated in dependencies by npm; count them once.
                if list.iter().any(|d: &Dependency| &d.name == name) {
                    continue;
                }
                let spec = spec.as_str().unwrap_or_default().to_string();
                list.push(Dependency {
                    name: name.clone(),
                    class: deps::classify(&spec),
                    spec,
                    kind: kind.to_string(),
                });
            }
        }
    }
    let pick = |pred: &dyn Fn(RangeClass) -> bool| -> Vec<String> {
        list.iter()
            .filter(|d| pred(d.class))
            .map(|d| format!("{}@{}", d.name, d.spec))
            .collect()
    };
    let wildcard = pick(&|c| c == RangeClass::Wildcard);
    let open_upper = pick(&|c| c == RangeClass::OpenUpper);
    let caret_zero = pick(&|c| c == RangeClass::CaretZero);
    let remote = pick(&|c| matches!(c, RangeClass::Git | RangeClass::Url));
    let local = pick(&|c| matches!(c, RangeClass::File | RangeClass::Link | RangeClass::Other));
    let registry_deps = list.iter().filter(|d| d.class.is_registry()).count() as u64;
    let floating = list.iter().filter(|d| d.class.floats()).count() as u64;
    DependencyFacts {
        count: list.len() as u64,
        floating_percent: (floating * 100).checked_div(registry_deps).unwrap_or(0),
        wildcard_count: wildcard.len() as u64,
        wildcard,
        open_upper_count: open_upper.len() as u64,
        open_upper,
        caret_zero_count: caret_zero.len() as u64,
        caret_zero,
        remote_count: remote.len() as u64,
        remote,
        local_count: local.len() as u64,
        local,
        list,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_spellings_normalise_to_one_url() {
        let want = Some("https://github.com/owner/repo".to_string());
        for raw in [
            "git+https://github.com/owner/repo.git",
            "git://github.com/owner/repo.git",
            "git@github.com:owner/repo.git",
            "github:owner/repo",
            "owner/repo",
            "https://github.com/owner/repo/",
            "ssh://git@github.com/owner/repo.git",
            "git+ssh://git@github.com/owner/repo.git#main",
        ] {
            assert_eq!(normalize_git_url(raw), want, "{raw}");
        }
        assert_eq!(normalize_git_url("  "), None);
    }
}

#[cfg(test)]
mod robustness {
    use super::*;
    use serde_json::json;

    fn derive(p: &Value, version: &str) -> PackageFacts {
        derive_facts(&DeriveInput {
            packument: p,
            version,
            requested: "x",
            resolved_via: "tag",
            registry: "https://r.example/",
            now: DateTime::parse_from_rfc3339("2026-11-22T00:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            evidence: &Evidence::default(),
            trust_window_days: 365,
        })
    }

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
            let f = derive(&p, "1.0.0");
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
        let f = derive(&p, "1.2.10");
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
    }
}

#[cfg(test)]
mod trust {
    use super::*;
    use serde_json::json;

    fn facts(p: &Value, version: &str) -> PackageFacts {
        derive_facts(&DeriveInput {
            packument: p,
            version,
            requested: "x",
            resolved_via: "version",
            registry: "https://r.example/",
            now: DateTime::parse_from_rfc3339("2026-11-22T00:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            evidence: &Evidence::default(),
            trust_window_days: 365,
        })
    }

    fn packument(latest_user: Value) -> Value {
        let oidc = json!({"name": "GitHub Actions", "trustedPublisher": {"id": "github"}});
        json!({
            "name": "x",
            "time": {"1.0.0": "2026-01-01T00:00:00Z", "1.1.0": "2026-06-01T00:00:00Z",
                     "0.9.0": "2025-01-01T00:00:00Z"},
            "versions": {
                "0.9.0": {"_npmUser": {"name": "alice"}},
                "1.0.0": {"_npmUser": oidc},
                "1.1.0": {"_npmUser": latest_user}
            }
        })
    }

    #[test]
    fn downgrade_is_decided_even_when_attestations_are_hidden() {
        // No version carries signatures or attestations (a mirror), so "provenance listed" is
        // unknown; but a human publisher after a trusted-publisher release is a downgrade
        // whichever way that unknown falls.
        let f = facts(&packument(json!({"name": "mallory"})), "1.1.0");
        assert!(matches!(f.trust.level, Fact::Unknown { .. }));
        assert_eq!(
            f.trust.earlier_best_level,
            Fact::Known("trusted-publisher".into())
        );
        assert_eq!(f.trust.earlier_best_version.as_deref(), Some("1.0.0"));
        assert_eq!(f.trust.downgrade, Fact::Known(true));
        // The same release through trusted publishing: known not to be a downgrade.
        let oidc = json!({"name": "GitHub Actions", "trustedPublisher": {"id": "github"}});
        let f = facts(&packument(oidc), "1.1.0");
        assert_eq!(f.trust.downgrade, Fact::Known(false));
        // Another major line is not compared: 0.9.0 (major 0) is not an earlier release of 1.x.
        let f = facts(&packument(json!({"name": "mallory"})), "1.0.0");
        assert_eq!(f.trust.downgrade, Fact::Known(false));
        assert_eq!(f.trust.earlier_best_version, None);
    }
}
