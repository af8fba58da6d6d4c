//! PyPI index documents → [`PackageFacts`], purely. The scan (`pipeline::pypi`) does the I/O and
//! the verification and hands the outcomes in as evidence; this module only reads them.
//!
//! What PyPI cannot tell is unknown with that reason, never a default that passes: there is no
//! per-file uploader (so no publisher, no "new publisher"), no registry signature, no per-release
//! role history. Rules built on those npm mechanisms list `ecosystems = ["npm"]`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::facts::deps::{Dependency, RangeClass};
use crate::facts::{
    ContentFacts, DependencyFacts, Fact, HistoryFacts, LockfileFacts, MaintainerFacts,
    MetadataFacts, PackageFacts, PackageId, ProvenanceFacts, PublishFacts, PypiFacts,
    RegistryFacts, ReleaseFacts, ScriptFacts, SignatureFacts, TagFacts, TarballFacts, TrustFacts,
    VersionFacts, FACTS_SCHEMA,
};
use crate::registry::pypi::{JsonProject, SimpleFile, SimpleProject};

pub const ECOSYSTEM: &str = "pypi";

/// The Trusted Publisher identity a verified PEP 740 provenance carries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Publisher {
    /// `GitHub`, `GitLab`, `Google`, `ActiveState`, ...
    pub kind: String,
    /// `https://github.com/owner/repo` for GitHub and GitLab publishers.
    pub repository: Option<String>,
    pub workflow: Option<String>,
    /// Google publishers: the service account email.
    pub email: Option<String>,
    pub issuer: Option<String>,
    pub predicate_type: Option<String>,
    pub git_ref: Option<String>,
    pub commit: Option<String>,
}

/// The outcome of fetching and verifying the file's PEP 740 provenance.
#[derive(Debug, Clone, PartialEq)]
pub enum ProvenanceEvidence {
    /// The index cannot tell whether there is one (Integrity API 404 on an index whose simple
    /// API does not list provenance, a network error, a document that is not JSON).
    Unknown(String),
    /// The index says there is none (simple API 1.3+ lists no `provenance` for the file).
    Absent,
    Verified(Publisher),
    Invalid(Vec<String>),
}

/// The distribution file: downloaded (capped), checked against its sha256, then analysed.
// One value per target, alive only while its facts are derived: boxing it would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum FileEvidence {
    Unavailable(String),
    Checked {
        url: String,
        bytes: u64,
        /// `Ok` when the sha256 the index lists matches; `Err(reason)` otherwise.
        integrity: Result<(), String>,
        /// The content analysis, unknown when the file was not read (integrity failed).
        content: Box<Fact<ContentFacts>>,
        /// Core metadata read from the file (`METADATA` / `PKG-INFO`), when it could be.
        metadata: Option<CoreMetadata>,
        /// `.pth` lines that execute code at every Python start.
        pth_exec: Fact<Vec<String>>,
    },
}

/// The parts of core metadata the facts compare with the index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CoreMetadata {
    pub name: Option<String>,
    pub version: Option<String>,
    pub requires_dist: Vec<String>,
    pub license: Option<String>,
    pub project_urls: Vec<String>,
    pub description: Option<String>,
}

pub struct PypiInput<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub requested: &'a str,
    pub resolved_via: &'a str,
    /// Redacted index URL and the setting that chose it.
    pub index: &'a str,
    pub index_source: &'a str,
    pub simple: &'a SimpleProject,
    /// The JSON API document; `Err(reason)` when there is none or it could not be read.
    pub json: Result<&'a JsonProject, String>,
    /// The file judged (one of `simple.files`).
    pub file: &'a SimpleFile,
    pub provenance: ProvenanceEvidence,
    pub provenance_url: Option<String>,
    /// The release published just before this one and whether it had provenance.
    pub previous: Option<(String, Fact<bool>)>,
    pub file_evidence: FileEvidence,
    pub also_on_other_indexes: Fact<Vec<String>>,
    pub now: DateTime<Utc>,
}

/// A PEP 440 version, or `None` for a string that is not one (indexes list such legacy
/// versions; they keep the simplified order below).
pub fn pep440(v: &str) -> Option<pep440_rs::Version> {
    v.trim().parse().ok()
}

/// PEP 440 pre-release and development markers.
pub fn is_prerelease(v: &str) -> bool {
    if let Some(parsed) = pep440(v) {
        return parsed.any_prerelease();
    }
    let v = v.to_ascii_lowercase();
    let release_end = v
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.' || *c == '!' || *c == 'v'))
        .map_or(v.len(), |(i, _)| i);
    let rest = v[release_end..].trim_start_matches(['-', '_', '.']);
    let rest = rest.split('+').next().unwrap_or_default();
    [
        "a", "b", "c", "rc", "alpha", "beta", "pre", "preview", "dev",
    ]
    .iter()
    .any(|m| rest.starts_with(m))
}

/// The numeric release segments (`1!2.3.4rc1` → `[2, 3, 4]`), for ordering.
pub fn release_numbers(v: &str) -> Vec<u64> {
    let v = v.trim_start_matches(['v', 'V']);
    let v = v.split_once('!').map_or(v, |(_, r)| r);
    v.split('.')
        .map_while(|seg| {
            let digits: String = seg.chars().take_while(char::is_ascii_digit).collect();
            digits
                .parse::<u64>()
                .ok()
                .map(|n| (n, digits.len() == seg.len()))
        })
        .scan(true, |go, (n, whole)| {
            if !*go {
                return None;
            }
            *go = whole;
            Some(n)
        })
        .collect()
}

/// PEP 440 order (epoch, release, pre, post, dev, local) when both are PEP 440 versions; else a
/// simplified order: epoch, release numbers (trailing zeros ignored), then a final release above
/// its own pre-releases. Equal versions spelled differently (`1.0`, `1.0.0`) order by text, so
/// the order is total.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    if let (Some(x), Some(y)) = (pep440(a), pep440(b)) {
        return x.cmp(&y).then_with(|| a.cmp(b));
    }
    let epoch = |v: &str| {
        v.split_once('!')
            .and_then(|(e, _)| e.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let trim = |mut v: Vec<u64>| {
        while v.last() == Some(&0) {
            v.pop();
        }
        v
    };
    epoch(a)
        .cmp(&epoch(b))
        .then_with(|| trim(release_numbers(a)).cmp(&trim(release_numbers(b))))
        .then_with(|| is_prerelease(b).cmp(&is_prerelease(a)))
        .then_with(|| a.cmp(b))
}

/// PEP 440 equality (`1.0RC1`, `v1.0rc1` and `1.0.0rc1` are one version); for strings that are
/// not PEP 440, lower-casing and dropping a leading `v`.
pub fn same_version(a: &str, b: &str) -> bool {
    if let (Some(x), Some(y)) = (pep440(a), pep440(b)) {
        return x == y;
    }
    let n = |v: &str| v.trim().trim_start_matches(['v', 'V']).to_ascii_lowercase();
    n(a) == n(b)
}

/// The newest release that is neither yanked (every file yanked) nor a pre-release; else the
/// newest non-yanked one; else none. That is what `pip install NAME` and `uvx NAME` choose
/// (PEP 592: yanked files are skipped unless pinned).
pub fn pick_latest(simple: &SimpleProject) -> Option<String> {
    let versions = simple.versions();
    let live = |v: &String| {
        simple
            .files
            .iter()
            .any(|f| f.version.as_ref() == Some(v) && f.yanked.is_none())
    };
    let best = |pre: bool| {
        versions
            .iter()
            .filter(|v| live(v) && (pre || !is_prerelease(v)))
            .max_by(|a, b| compare_versions(a, b))
            .cloned()
    };
    best(false).or_else(|| best(true))
}

/// The highest non-yanked release that `specifiers` admit, as uv picks it by default
/// (`--prerelease if-necessary-or-explicit`): a pre-release only when a specifier names one, or
/// when the project has nothing but pre-releases. Versions that are not PEP 440 never match.
pub fn pick_matching(
    simple: &SimpleProject,
    specifiers: &pep440_rs::VersionSpecifiers,
) -> Option<String> {
    let live: Vec<(String, pep440_rs::Version)> = simple
        .versions()
        .into_iter()
        .filter(|v| {
            simple
                .files
                .iter()
                .any(|f| f.version.as_ref() == Some(v) && f.yanked.is_none())
        })
        .filter_map(|v| pep440(&v).map(|p| (v, p)))
        .collect();
    let explicit = specifiers.iter().any(|s| s.any_prerelease());
    let only_pre = live.iter().all(|(_, p)| p.any_prerelease());
    live.into_iter()
        .filter(|(_, p)| (explicit || only_pre || !p.any_prerelease()) && specifiers.contains(p))
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)))
        .map(|(v, _)| v)
}

/// The file to judge among a release's files: a pure-Python wheel (what an installer takes on
/// any platform), else the sdist (it runs its build backend at install), else the first wheel.
pub fn pick_file<'a>(files: &[&'a SimpleFile]) -> Option<&'a SimpleFile> {
    files
        .iter()
        .find(|f| f.kind == "wheel" && f.filename.ends_with("-none-any.whl"))
        .or_else(|| files.iter().find(|f| f.kind == "sdist"))
        .or_else(|| files.iter().find(|f| f.kind == "wheel"))
        .copied()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The upload time of a version: its earliest file, from the simple API (1.1+) or the JSON API.
fn upload_times(input: &PypiInput<'_>) -> BTreeMap<String, DateTime<Utc>> {
    let mut out: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    let mut add = |v: &str, t: Option<DateTime<Utc>>| {
        if let Some(t) = t {
            out.entry(v.to_string())
                .and_modify(|e| *e = (*e).min(t))
                .or_insert(t);
        }
    };
    for f in &input.simple.files {
        if let (Some(v), Some(t)) = (&f.version, &f.upload_time) {
            add(v, parse_time(t));
        }
    }
    if let Ok(json) = &input.json {
        for (v, files) in &json.releases {
            for f in files {
                add(v, f.upload_time_iso_8601.as_deref().and_then(parse_time));
            }
        }
    }
    out
}

/// The release published just before `version` (by upload time, else by version order),
/// excluding pre-releases and fully yanked releases: the one whose provenance a downgrade is
/// measured against.
pub fn previous_release(
    simple: &SimpleProject,
    json: Option<&JsonProject>,
    version: &str,
) -> Option<String> {
    let mut times: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    for f in &simple.files {
        if let (Some(v), Some(t)) = (&f.version, f.upload_time.as_deref().and_then(parse_time)) {
            times
                .entry(v.clone())
                .and_modify(|e| *e = (*e).min(t))
                .or_insert(t);
        }
    }
    if let Some(json) = json {
        for (v, files) in &json.releases {
            for t in files
                .iter()
                .filter_map(|f| f.upload_time_iso_8601.as_deref().and_then(parse_time))
            {
                times
                    .entry(v.clone())
                    .and_modify(|e| *e = (*e).min(t))
                    .or_insert(t);
            }
        }
    }
    let live: Vec<String> = simple
        .versions()
        .into_iter()
        .filter(|v| !same_version(v, version) && !is_prerelease(v))
        .filter(|v| {
            simple
                .files
                .iter()
                .any(|f| f.version.as_ref() == Some(v) && f.yanked.is_none())
        })
        .collect();
    let this_time = times
        .iter()
        .find(|(v, _)| same_version(v, version))
        .map(|(_, t)| *t);
    match this_time {
        Some(now) => live
            .into_iter()
            .filter_map(|v| times.get(&v).map(|t| (v, *t)))
            .filter(|(_, t)| *t < now)
            .max_by_key(|(_, t)| *t)
            .map(|(v, _)| v),
        None => live
            .into_iter()
            .filter(|v| compare_versions(v, version).is_lt())
            .max_by(|a, b| compare_versions(a, b)),
    }
}

/// `mcp-name: io.github.owner/name` in the project description: the MCP Registry's ownership
/// proof for PyPI packages (usually inside an HTML comment in the README).
pub fn mcp_name(description: &str) -> Option<String> {
    let at = description.find("mcp-name:")?;
    let rest = description[at + "mcp-name:".len()..].trim_start();
    let name: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "._/-".contains(*c))
        .collect();
    (!name.is_empty()).then_some(name)
}

/// The repository among the project URLs: the first GitHub, GitLab, Bitbucket or Codeberg
/// URL, normalised as npm repositories are.
fn repository_from_urls<'a>(urls: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut out = None;
    for u in urls {
        let lower = u.to_ascii_lowercase();
        if [
            "github.com/",
            "gitlab.com/",
            "bitbucket.org/",
            "codeberg.org/",
        ]
        .iter()
        .any(|h| lower.contains(h))
        {
            // `https://github.com/o/r/issues` names the same repository as `.../o/r`.
            let norm = crate::facts::npm::metadata::normalize_git_url(u)?;
            let parts: Vec<&str> = norm.splitn(6, '/').collect();
            if parts.len() >= 5 {
                out = Some(parts[..5].join("/"));
                break;
            }
        }
    }
    out
}

/// `Requires-Dist` entries installed by default (no `extra ==` marker) → dependencies.
fn dependency_facts(requires: &[String]) -> DependencyFacts {
    let mut list = Vec::new();
    let mut f = DependencyFacts {
        count: 0,
        list: vec![],
        wildcard: vec![],
        open_upper: vec![],
        caret_zero: vec![],
        remote: vec![],
        local: vec![],
        floating_percent: 0,
    };
    for req in requires {
        let (spec, marker) = match req.split_once(';') {
            Some((s, m)) => (s.trim(), m),
            None => (req.trim(), ""),
        };
        if marker.replace(' ', "").contains("extra==") {
            continue;
        }
        let name_end = spec
            .find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
            .unwrap_or(spec.len());
        let name = spec[..name_end].to_string();
        let rest = spec[name_end..].trim();
        // Extras of the dependency do not change where it comes from.
        let rest = match rest.strip_prefix('[') {
            Some(r) => r.split_once(']').map_or("", |(_, after)| after.trim()),
            None => rest,
        };
        let rest = rest.trim_start_matches('(').trim_end_matches(')').trim();
        let class = if let Some(url) = rest.strip_prefix('@') {
            let url = url.trim();
            if url.starts_with("file:") {
                f.local.push(format!("{name} @ {url}"));
                RangeClass::File
            } else {
                f.remote.push(format!("{name} @ {url}"));
                if url.starts_with("git+") {
                    RangeClass::Git
                } else {
                    RangeClass::Url
                }
            }
        } else if rest.is_empty() {
            f.wildcard.push(name.clone());
            RangeClass::Wildcard
        } else {
            use pep440_rs::Operator::*;
            match rest.parse::<pep440_rs::VersionSpecifiers>() {
                Ok(specs) => {
                    let exact =
                        specs.len() == 1 && matches!(specs[0].operator(), Equal | ExactEqual);
                    // `~=1.2` is `>=1.2,<2` and `==1.*` a prefix: both bound the release.
                    let upper = specs.iter().any(|s| {
                        matches!(
                            s.operator(),
                            Equal | EqualStar | ExactEqual | TildeEqual | LessThan | LessThanEqual
                        )
                    });
                    if exact {
                        RangeClass::Exact
                    } else if upper {
                        RangeClass::Bounded
                    } else {
                        f.open_upper.push(format!("{name} {rest}"));
                        RangeClass::OpenUpper
                    }
                }
                // pip refuses such a requirement; counted as unbounded (nothing bounds it) and
                // said so.
                Err(_) => {
                    f.open_upper
                        .push(format!("{name} {rest} (not a PEP 440 specifier)"));
                    RangeClass::OpenUpper
                }
            }
        };
        list.push(Dependency {
            name,
            spec: rest.to_string(),
            kind: "requires_dist".into(),
            class,
        });
    }
    let registry: Vec<&Dependency> = list.iter().filter(|d| d.class.is_registry()).collect();
    let floating = registry
        .iter()
        .filter(|d| d.class != RangeClass::Exact)
        .count();
    f.floating_percent = if registry.is_empty() {
        0
    } else {
        (floating * 100 / registry.len()) as u64
    };
    f.count = list.len() as u64;
    f.list = list;
    f
}

pub fn derive_pypi_facts(input: &PypiInput<'_>) -> PackageFacts {
    let json = input.json.as_ref().ok();
    let json_reason = input.json.as_ref().err().cloned().unwrap_or_default();
    let no_json = |what: &str| format!("{what}: {json_reason}");
    // The JSON API's `info` describes the newest release only.
    let info_is_this = json
        .and_then(|j| j.info.version.as_deref())
        .is_some_and(|v| same_version(v, input.version));
    let dist_meta = match &input.file_evidence {
        FileEvidence::Checked {
            metadata: Some(m),
            integrity: Ok(()),
            ..
        } => Some(m),
        _ => None,
    };

    let versions = input.simple.versions();
    let times = upload_times(input);
    let published = times
        .iter()
        .find(|(v, _)| same_version(v, input.version))
        .map(|(_, t)| *t);
    let no_time = format!(
        "neither the simple API nor the JSON API gives an upload time for {}",
        input.version
    );
    let release_files: Vec<&SimpleFile> = input
        .simple
        .files
        .iter()
        .filter(|f| {
            f.version
                .as_deref()
                .is_some_and(|v| same_version(v, input.version))
        })
        .collect();
    let status = input.simple.status.clone();
    let status_fact =
        match &status {
            Some(s) => Fact::Known(s.to_ascii_lowercase()),
            None => {
                Fact::unknown(format!(
            "the index serves simple API {} ({}), which does not carry PEP 792 project status",
            input.simple.api_version.as_deref().unwrap_or("of no declared version"),
            input.simple.format
        ))
            }
        };
    let deprecated = status
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("deprecated"));

    // Metadata: this release's `info` when the JSON API describes it, else the file's METADATA.
    let (description, license, urls, requires): (
        Option<String>,
        Option<String>,
        Vec<String>,
        Fact<Vec<String>>,
    ) = if let (true, Some(j)) = (info_is_this, json) {
        let mut urls: Vec<String> = j
            .info
            .project_urls
            .iter()
            .flatten()
            .filter_map(|(_, v)| v.as_str().map(str::to_string))
            .collect();
        urls.extend(j.info.home_page.clone());
        let license = j
            .info
            .license_expression
            .clone()
            .or(j.info.license.clone())
            .filter(|l| !l.trim().is_empty() && !l.eq_ignore_ascii_case("UNKNOWN"));
        (
            j.info.description.clone(),
            license,
            urls,
            Fact::Known(j.info.requires_dist.clone().unwrap_or_default()),
        )
    } else if let Some(m) = dist_meta {
        (
            m.description.clone(),
            m.license.clone(),
            m.project_urls.clone(),
            Fact::Known(m.requires_dist.clone()),
        )
    } else {
        let why = if json.is_some() {
            format!(
                "the JSON API describes {} only, and the file's METADATA was not read",
                json.and_then(|j| j.info.version.clone())
                    .unwrap_or_default()
            )
        } else {
            format!("{json_reason}, and the file's METADATA was not read")
        };
        (None, None, vec![], Fact::unknown(why))
    };
    let repository = repository_from_urls(urls.iter().map(String::as_str));
    let mcp = description.as_deref().and_then(mcp_name);
    let metadata = MetadataFacts {
        repository: repository.clone(),
        license,
        mcp_github_owner: mcp
            .as_deref()
            .and_then(crate::facts::npm::provenance::mcp_github_owner),
        mcp_name: mcp,
        description: json
            .filter(|_| info_is_this)
            .and_then(|j| j.info.summary.clone()),
    };

    let roles: Fact<Vec<String>> = match json {
        Some(j) => match &j.ownership {
            Some(o) => Fact::Known(
                o.roles
                    .iter()
                    .map(|r| format!("{}:{}", r.role, r.user))
                    .collect(),
            ),
            None => Fact::unknown("the JSON API serves no `ownership` (roles) for this project"),
        },
        None => Fact::unknown(no_json("no project roles")),
    };
    let users: Fact<Vec<String>> = roles.map(|r| {
        let mut u: Vec<String> = r
            .iter()
            .filter_map(|x| x.split_once(':').map(|(_, u)| u.to_string()))
            .collect();
        u.sort();
        u.dedup();
        u
    });
    let no_history = "PyPI lists only the current project roles, not each release's";
    let maintainers = MaintainerFacts {
        count: users.map(|u| u.len() as u64),
        names: users,
        added_since_previous: Fact::unknown(no_history),
        removed_since_previous: Fact::unknown(no_history),
    };

    let no_uploader = "PyPI records no per-file uploader";
    let mut method_evidence = vec![no_uploader.to_string()];
    let (method, trusted) = match &input.provenance {
        ProvenanceEvidence::Verified(p) => {
            method_evidence.push(format!(
                "a PEP 740 attestation verified for the {} Trusted Publisher",
                p.kind
            ));
            (
                Fact::Known("trusted-publisher".to_string()),
                Fact::Known(true),
            )
        }
        _ => {
            let why = "PyPI does not say how a file without a verified attestation was uploaded";
            (Fact::unknown(why), Fact::unknown(why))
        }
    };
    let publish = PublishFacts {
        publisher: Fact::unknown(no_uploader),
        publisher_is_maintainer: Fact::unknown(no_uploader),
        new_publisher: Fact::unknown(no_uploader),
        previous_publishers: Fact::unknown(no_uploader),
        trusted_publisher_provider: match &input.provenance {
            ProvenanceEvidence::Verified(p) => Fact::Known(Some(p.kind.clone())),
            _ => Fact::unknown("no verified PEP 740 attestation"),
        },
        trusted_publisher: trusted,
        has_signatures: Fact::unknown("PyPI has no registry signatures"),
        git_head: Fact::unknown("PyPI records no git commit for an upload"),
        method,
        method_evidence,
    };

    let provenance = provenance_facts(
        input,
        repository.as_deref(),
        metadata.mcp_github_owner.as_deref(),
    );

    let level: Fact<(String, u64)> = match &input.provenance {
        ProvenanceEvidence::Verified(_) => Fact::Known(("trusted-publisher".into(), 2)),
        ProvenanceEvidence::Absent | ProvenanceEvidence::Invalid(_) => {
            Fact::Known(("none".into(), 0))
        }
        ProvenanceEvidence::Unknown(r) => Fact::unknown(r.clone()),
    };
    let earlier: Fact<Option<(String, u64)>> = match &input.previous {
        None => Fact::Known(None),
        Some((_, had)) => had.map(|h| {
            Some(if *h {
                ("trusted-publisher".to_string(), 2)
            } else {
                ("none".to_string(), 0)
            })
        }),
    };
    let trust = TrustFacts {
        level: level.map(|l| l.0.clone()),
        rank: level.map(|l| l.1),
        earlier_best_level: earlier.map(|e| e.as_ref().map_or("none".into(), |e| e.0.clone())),
        earlier_best_rank: earlier.map(|e| e.as_ref().map_or(0, |e| e.1)),
        earlier_best_version: input.previous.as_ref().map(|(v, _)| v.clone()),
        // One release back: see docs/rules.md#trust-downgrade.
        window_days: 0,
        downgrade: match (&level, &earlier) {
            (Fact::Known(l), Fact::Known(e)) => Fact::Known(e.as_ref().is_some_and(|e| e.1 > l.1)),
            (Fact::Unknown { reason }, _) | (_, Fact::Unknown { reason }) => {
                Fact::unknown(reason.clone())
            }
        },
    };
    let history = HistoryFacts {
        prior_versions: versions
            .iter()
            .filter(|v| !is_prerelease(v) && compare_versions(v, input.version).is_lt())
            .count() as u64,
        previous_version: input.previous.as_ref().map(|(v, _)| v.clone()),
        previous_had_git_head: Fact::unknown("PyPI records no git commit for an upload"),
        previous_had_provenance: match &input.previous {
            None => Fact::Known(false),
            Some((_, had)) => had.clone(),
        },
        previous_had_trusted_publisher: match &input.previous {
            None => Fact::Known(false),
            Some((_, had)) => had.clone(),
        },
    };

    let (tarball, mut content) = match &input.file_evidence {
        FileEvidence::Unavailable(r) => (
            TarballFacts {
                integrity: Fact::unknown(r.clone()),
                url: Some(input.file.url.clone()),
                compressed_bytes: Fact::unknown(r.clone()),
            },
            Fact::unknown(r.clone()),
        ),
        FileEvidence::Checked {
            url,
            bytes,
            integrity,
            content,
            ..
        } => (
            TarballFacts {
                integrity: match integrity {
                    Ok(()) => Fact::Known("verified".into()),
                    Err(_) => Fact::Known("mismatch".into()),
                },
                url: Some(url.clone()),
                compressed_bytes: Fact::Known(*bytes),
            },
            match integrity {
                Ok(()) => (**content).clone(),
                Err(e) => Fact::unknown(format!("the file was not read: {e}")),
            },
        ),
    };
    // METADATA that disagrees with the index: PyPI's manifest confusion.
    if let (Fact::Known(c), Some(m)) = (&mut content, dist_meta) {
        let mut mismatch = Vec::new();
        if let Some(n) = &m.name {
            if crate::spec::pep503_normalize(n).as_deref() != Some(input.name) {
                mismatch.push(format!("name: index {} / METADATA {n}", input.name));
            }
        }
        if let Some(v) = &m.version {
            if !same_version(v, input.version) {
                mismatch.push(format!("version: index {} / METADATA {v}", input.version));
            }
        }
        // PyPI's `info` comes from the first file uploaded for the release; a wheel and an sdist
        // of one release may legitimately differ (real mcp-server-fetch 2026.10.24 does), so
        // dependencies are compared only when the release has this one file.
        if let (true, Some(j), 1) = (info_is_this, json, release_files.len()) {
            let mut a: Vec<String> = j.info.requires_dist.clone().unwrap_or_default();
            let mut b = m.requires_dist.clone();
            let norm = |v: &mut Vec<String>| {
                for s in v.iter_mut() {
                    *s = s.replace(' ', "");
                }
                v.sort();
            };
            norm(&mut a);
            norm(&mut b);
            if a != b {
                mismatch.push(format!(
                    "requires_dist: index [{}] / METADATA [{}]",
                    a.join(", "),
                    b.join(", ")
                ));
            }
        }
        c.manifest_compared = true;
        if let Fact::Known(list) = &mut c.manifest_confusion {
            list.extend(mismatch);
        }
    }

    let dependencies = match &requires {
        Fact::Known(r) => dependency_facts(r),
        Fact::Unknown { .. } => dependency_facts(&[]),
    };
    let yanked_reason = release_files.iter().find_map(|f| f.yanked.clone());
    let all_yanked = !release_files.is_empty() && release_files.iter().all(|f| f.yanked.is_some());
    let vulnerabilities = match json {
        Some(j) if info_is_this => Fact::Known(
            j.vulnerabilities
                .iter()
                .filter(|v| v.withdrawn.as_ref().is_none_or(|w| w.is_null()))
                .filter_map(|v| v.id.clone().or_else(|| v.aliases.first().cloned()))
                .collect(),
        ),
        Some(_) => Fact::unknown(
            "the JSON API lists vulnerabilities for the newest release only, and the per-version JSON API was not available",
        ),
        None => Fact::unknown(no_json("no vulnerability list")),
    };

    let parsed_major = release_numbers(input.version).first().copied().unwrap_or(0);
    let numbers = release_numbers(input.version);
    PackageFacts {
        schema: FACTS_SCHEMA,
        package: PackageId {
            ecosystem: ECOSYSTEM.into(),
            name: input.name.to_string(),
            version: input.version.to_string(),
            requested: input.requested.to_string(),
            resolved_via: input.resolved_via.to_string(),
        },
        version: VersionFacts {
            prerelease: is_prerelease(input.version),
            major: parsed_major,
            zero_zero: numbers.first() == Some(&0) && numbers.get(1).is_none_or(|m| *m == 0),
            total_versions: versions.len() as u64,
        },
        release: ReleaseFacts {
            published_at: match published {
                Some(t) => Fact::Known(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                None => Fact::unknown(&no_time),
            },
            age_hours: match published {
                Some(t) => Fact::Known(round2((input.now - t).num_seconds() as f64 / 3600.0)),
                None => Fact::unknown(&no_time),
            },
            deprecated,
            deprecation_message: deprecated
                .then(|| input.simple.status_reason.clone().unwrap_or_default()),
        },
        tags: {
            let highest = pick_latest(input.simple);
            TagFacts {
                names: vec![],
                latest: Fact::unknown("PyPI has no dist-tags"),
                latest_is_highest: Fact::unknown("PyPI has no dist-tags"),
                is_latest: match &highest {
                    Some(h) => Fact::Known(same_version(h, input.version)),
                    None => Fact::unknown("the index lists no installable release"),
                },
                highest: match highest {
                    Some(h) => Fact::Known(h),
                    None => Fact::unknown("the index lists no installable release"),
                },
            }
        },
        metadata,
        maintainers,
        publish,
        provenance,
        signatures: SignatureFacts {
            status: Fact::unknown("PyPI has no registry signatures"),
            keyid: None,
            detail: None,
        },
        trust,
        history,
        scripts: ScriptFacts {
            install_scripts: vec![],
            install_commands: Default::default(),
            // Installing from an sdist runs its build backend (setup.py) on the machine.
            has_install_script: input.file.kind == "sdist",
        },
        tarball,
        content,
        lockfile: LockfileFacts {
            has_shrinkwrap: Fact::unknown("npm-shrinkwrap.json is an npm mechanism"),
        },
        dependencies,
        registry: RegistryFacts {
            url: input.index.to_string(),
            serves_signatures: false,
            serves_maintainers: json.is_some_and(|j| j.ownership.is_some()),
            serves_publishers: false,
        },
        // npm advisories do not cover PyPI; the index JSON API does (`pypi.vulnerabilities`).
        advisories: crate::facts::AdvisoryFacts::unknown(
            "a PyPI project: its vulnerabilities are the index JSON API's (pypi.vulnerabilities)",
        ),
        pypi: Some(PypiFacts {
            index: input.index.to_string(),
            index_source: input.index_source.to_string(),
            simple_format: input.simple.format.to_string(),
            api_version: match &input.simple.api_version {
                Some(v) => Fact::Known(v.clone()),
                None => Fact::unknown("the index declares no simple API version"),
            },
            json_api: json.is_some(),
            file: input.file.filename.clone(),
            file_kind: input.file.kind.to_string(),
            yanked: all_yanked,
            yanked_reason: match yanked_reason {
                Some(r) if all_yanked => Fact::Known(r),
                _ => Fact::Known(String::new()),
            },
            project_status: status_fact,
            organization: match json {
                Some(j) => match &j.ownership {
                    Some(o) => Fact::Known(o.organization.clone().unwrap_or_default()),
                    None => Fact::unknown("the JSON API serves no `ownership` for this project"),
                },
                None => Fact::unknown(no_json("no organization")),
            },
            roles,
            vulnerabilities,
            also_on_other_indexes: input.also_on_other_indexes.clone(),
            unbounded_requires: requires.map(|r| {
                let d = dependency_facts(r);
                d.wildcard.into_iter().chain(d.open_upper).collect()
            }),
            direct_references: requires.map(|r| {
                let d = dependency_facts(r);
                d.remote.into_iter().chain(d.local).collect()
            }),
            requires_dist: requires,
            publisher_kind: match &input.provenance {
                ProvenanceEvidence::Verified(p) => Fact::Known(p.kind.clone()),
                _ => Fact::unknown("no verified PEP 740 attestation"),
            },
            provenance_url: input.provenance_url.clone(),
            pth_exec: match &input.file_evidence {
                FileEvidence::Checked { pth_exec, .. } => pth_exec.clone(),
                FileEvidence::Unavailable(r) => Fact::unknown(r.clone()),
            },
        }),
    }
}

fn provenance_facts(
    input: &PypiInput<'_>,
    repository: Option<&str>,
    mcp_owner: Option<&str>,
) -> ProvenanceFacts {
    fn not_verified<T>(why: &str) -> Fact<T> {
        Fact::unknown(why.to_string())
    }
    let why = match &input.provenance {
        ProvenanceEvidence::Verified(_) => String::new(),
        ProvenanceEvidence::Unknown(r) => r.clone(),
        ProvenanceEvidence::Absent => "the file has no PEP 740 provenance".into(),
        ProvenanceEvidence::Invalid(_) => "the PEP 740 provenance did not verify".into(),
    };
    let mut f = ProvenanceFacts {
        status: match &input.provenance {
            ProvenanceEvidence::Verified(_) => Fact::Known("verified".into()),
            ProvenanceEvidence::Invalid(_) => Fact::Known("invalid".into()),
            ProvenanceEvidence::Absent => Fact::Known("absent".into()),
            ProvenanceEvidence::Unknown(r) => Fact::unknown(r.clone()),
        },
        legacy: false,
        failures: match &input.provenance {
            ProvenanceEvidence::Invalid(f) => f.clone(),
            _ => vec![],
        },
        attestations_url: input.provenance_url.clone(),
        predicate_type: None,
        publish_attestation: Fact::unknown("the npm publish attestation is an npm mechanism"),
        source_repository: not_verified(&why),
        commit: not_verified(&why),
        git_ref: not_verified(&why),
        ref_type: not_verified(&why),
        workflow: not_verified(&why),
        issuer: not_verified(&why),
        issuer_known: not_verified(&why),
        builder: not_verified(&why),
        runner: not_verified(&why),
        repository_matches: not_verified(&why),
        mcp_owner_matches: not_verified(&why),
    };
    if let ProvenanceEvidence::Verified(p) = &input.provenance {
        let missing = |what: &str| {
            Fact::unknown(format!(
                "the {} Trusted Publisher's attestation names no {what}",
                p.kind
            ))
        };
        let opt = |v: &Option<String>, what: &str| match v {
            Some(v) => Fact::Known(v.clone()),
            None => missing(what),
        };
        f.predicate_type = p.predicate_type.clone();
        f.source_repository = opt(&p.repository, "repository");
        f.workflow = opt(&p.workflow, "workflow");
        f.issuer = opt(&p.issuer, "issuer");
        f.commit = opt(&p.commit, "commit");
        f.git_ref = opt(&p.git_ref, "git ref");
        f.ref_type = match &p.git_ref {
            Some(r) if r.starts_with("refs/tags/") => Fact::Known("tag".into()),
            Some(r) if r.starts_with("refs/heads/") => Fact::Known("branch".into()),
            Some(_) => Fact::Known("other".into()),
            None => missing("git ref"),
        };
        f.builder = missing("builder");
        f.runner = missing("runner");
        // PyPI accepts attestations only from its Trusted Publishers (GitHub, GitLab, Google,
        // ActiveState); any other kind is one PyPI itself does not list.
        f.issuer_known =
            Fact::Known(["GitHub", "GitLab", "Google", "ActiveState"].contains(&p.kind.as_str()));
        f.repository_matches = match (&p.repository, repository) {
            (Some(a), Some(b)) => Fact::Known(a.eq_ignore_ascii_case(b)),
            (None, _) => Fact::unknown(format!(
                "the {} Trusted Publisher has no source repository to compare",
                p.kind
            )),
            (_, None) => Fact::unknown("the project URLs name no source repository"),
        };
        f.mcp_owner_matches = match (&p.repository, mcp_owner) {
            (Some(repo), Some(owner)) => Fact::Known(
                repo.trim_start_matches("https://github.com/")
                    .split('/')
                    .next()
                    .is_some_and(|o| o.eq_ignore_ascii_case(owner)),
            ),
            _ => Fact::unknown("no io.github mcp-name or no publisher repository"),
        };
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep440_order_and_prereleases() {
        assert!(is_prerelease("1.0rc1") && is_prerelease("2.0.0.dev3") && is_prerelease("1.0a1"));
        assert!(!is_prerelease("1.0") && !is_prerelease("1.0.post1") && !is_prerelease("1!2.0"));
        use std::cmp::Ordering::*;
        assert_eq!(compare_versions("1.10", "1.9"), Greater);
        assert_eq!(compare_versions("1.0", "1.0rc1"), Greater);
        assert_eq!(compare_versions("1!0.1", "9.0"), Greater);
        // What the simplified order got wrong: post-, dev- and local releases.
        assert_eq!(compare_versions("1.0.post1", "1.0"), Greater);
        assert_eq!(compare_versions("1.0.dev1", "1.0a1"), Less);
        assert_eq!(compare_versions("1.0+local.1", "1.0"), Greater);
        assert_eq!(compare_versions("1.0rc2", "1.0rc10"), Less);
        assert!(is_prerelease("1.0.dev0") && is_prerelease("1.0.post1.dev0"));
        assert!(same_version("1.0", "1.0.0") && same_version("V1.0RC1", "1.0rc1"));
        assert!(!same_version("1.0", "1.0.post1"));
        assert_eq!(release_numbers("1.2.3rc1"), [1, 2, 3]);
    }

    #[test]
    fn specifiers_pick_the_highest_live_matching_release_as_uv_does() {
        let page = url::Url::parse("https://x.test/simple/demo/").unwrap();
        let mut html = String::from("<html><body>");
        for (v, yanked) in [
            ("1.0", false),
            ("1.2", false),
            ("1.5.post1", false),
            ("1.8", false),
            ("1.9", true),
            ("2.0", false),
            ("2.1rc1", false),
        ] {
            let y = if yanked {
                " data-yanked=\"broken\""
            } else {
                ""
            };
            html.push_str(&format!(
                "<a href=\"demo-{v}.tar.gz\"{y}>demo-{v}.tar.gz</a>\n"
            ));
        }
        let simple = crate::registry::pypi::parse_simple(&page, html.as_bytes()).unwrap();
        let pick = |s: &str| pick_matching(&simple, &s.parse().unwrap());
        // 1.9 is yanked, 2.1rc1 a pre-release nobody asked for.
        assert_eq!(pick(">=1.2,<2").as_deref(), Some("1.8"));
        assert_eq!(pick("~=1.2").as_deref(), Some("1.8"));
        assert_eq!(pick("==1.*").as_deref(), Some("1.8"));
        assert_eq!(pick(">=1").as_deref(), Some("2.0"));
        assert_eq!(pick("<1.5.post2,>1.2").as_deref(), Some("1.5.post1"));
        // Named pre-releases are admitted; `==1.5` is not `1.5.post1`.
        assert_eq!(pick(">=2.1rc1").as_deref(), Some("2.1rc1"));
        assert_eq!(pick("==1.5"), None);
        assert_eq!(pick(">=3"), None);
        assert_eq!(pick_latest(&simple).as_deref(), Some("2.0"));
    }

    #[test]
    fn requires_dist_ranges_are_classified() {
        let d = dependency_facts(&[
            "mcp>=1.2".into(),
            "httpx (>=0.27,<1)".into(),
            "pydantic".into(),
            "evil @ https://example.com/evil.whl".into(),
            "local @ file:///tmp/x".into(),
            "pytest>=7 ; extra == \"test\"".into(),
            "anyio==4.4.0".into(),
            "click~=8.1".into(),
            "anyio <= 5, >= 4".into(),
            "rich != 13.0".into(),
            "typer ==0.12.*".into(),
            "bad >=1.0.x".into(),
        ]);
        assert_eq!(
            d.open_upper,
            [
                "mcp >=1.2",
                "rich != 13.0",
                "bad >=1.0.x (not a PEP 440 specifier)"
            ]
        );
        assert_eq!(d.wildcard, ["pydantic"]);
        assert_eq!(d.remote, ["evil @ https://example.com/evil.whl"]);
        assert_eq!(d.local, ["local @ file:///tmp/x"]);
        assert_eq!(d.count, 11);
    }

    #[test]
    fn mcp_name_and_repository_are_found() {
        assert_eq!(
            mcp_name("# x\n<!-- mcp-name: io.github.acme/weather -->\n").as_deref(),
            Some("io.github.acme/weather")
        );
        assert_eq!(mcp_name("nothing"), None);
        let urls = [
            "https://docs.example",
            "https://github.com/Acme/Weather/issues",
        ];
        assert_eq!(
            repository_from_urls(urls.into_iter()).as_deref(),
            Some("https://github.com/Acme/Weather")
        );
    }
}
