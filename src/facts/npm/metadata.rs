//! `release.*`, `tags.*` and `metadata.*`: what the packument says about this version.

use chrono::{DateTime, Utc};
use nodejs_semver::Version;

use super::packument::{License, VersionDoc};
use super::{DeriveInput, Packument};
use crate::facts::{Fact, MetadataFacts, ReleaseFacts, TagFacts};

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub(super) fn release_facts(
    input: &DeriveInput<'_>,
    doc: &VersionDoc,
    published_at: Option<&DateTime<Utc>>,
) -> ReleaseFacts {
    let deprecated = doc.deprecated.as_deref().filter(|s| !s.is_empty());
    let no_time = format!("the packument has no publish time for {}", input.version);
    ReleaseFacts {
        age_hours: match published_at {
            Some(t) => Fact::Known(round2((input.now - *t).num_seconds() as f64 / 3600.0)),
            None => Fact::unknown(&no_time),
        },
        published_at: match published_at {
            Some(t) => Fact::Known(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            None => Fact::unknown(&no_time),
        },
        deprecated: deprecated.is_some(),
        deprecation_message: deprecated.map(str::to_string),
    }
}

pub(super) fn metadata_facts(doc: &VersionDoc) -> MetadataFacts {
    let mcp_name = doc.mcp_name.clone();
    MetadataFacts {
        repository: repository_url(doc),
        license: license(doc),
        mcp_github_owner: mcp_name
            .as_deref()
            .and_then(super::provenance::mcp_github_owner),
        mcp_name,
        description: doc.description.clone(),
    }
}

pub(super) fn tag_facts(p: &Packument, version: &str) -> TagFacts {
    let latest = p.dist_tag("latest").map(str::to_string);
    let highest = p
        .versions
        .keys()
        .filter_map(|v| Version::parse(v).ok())
        .filter(|v| !v.is_prerelease())
        .max()
        .map(|v| v.to_string());
    let no_latest = "the packument has no `latest` dist-tag";
    TagFacts {
        names: p.dist_tags.0.iter().map(|(k, _)| k.clone()).collect(),
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
pub fn repository_url(doc: &VersionDoc) -> Option<String> {
    normalize_git_url(doc.repository.as_deref()?)
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

fn license(doc: &VersionDoc) -> Option<String> {
    match &doc.license {
        License::Str(s) if !s.trim().is_empty() => Some(s.clone()),
        License::Object { kind } => kind.clone(),
        _ => doc
            .licenses
            .as_ref()
            .map(|arr| {
                arr.iter()
                    .flatten()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" OR ")
            })
            .filter(|s| !s.is_empty()),
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
