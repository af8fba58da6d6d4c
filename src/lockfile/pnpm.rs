//! `pnpm-lock.yaml`: lockfileVersion 5.x (pnpm 7: keys `/name/1.0.0_peer`), 6.0 (pnpm 8:
//! `/name@1.0.0(peer@1)`) and 9.0 (pnpm 9-10: `name@1.0.0`, peers in a separate `snapshots`
//! section). Every locked package is a key of `packages`; `resolution` says where it comes from
//! (`integrity` alone for the registry, `tarball`, `type: git`, `directory`). Links to workspace
//! folders live only in `importers` and are not read (they are the project's own code).

use super::yaml::{self, Node};
use super::{classify, Format, LockError, LockedEntry, SourceKind};

pub(super) fn parse(text: &str) -> Result<(Format, Vec<LockedEntry>), LockError> {
    let docs = yaml::parse(text)?;
    // pnpm 10 may put an environment document first: the lockfile is the one with a version.
    let Some(doc) = docs
        .iter()
        .rev()
        .find(|d| d.get("lockfileVersion").is_some())
    else {
        return Err(LockError::new(
            Some(1),
            "no `lockfileVersion`: not a pnpm-lock.yaml",
        ));
    };
    let version = doc.str("lockfileVersion").unwrap_or_default().to_string();
    let major: u32 = version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if !(5..=9).contains(&major) {
        let line = doc
            .entries()
            .iter()
            .find(|e| e.0 == "lockfileVersion")
            .map(|e| e.1);
        return Err(LockError::new(
            line,
            format!("lockfileVersion `{version}` is not one mcp-audit reads (5.x, 6.0, 9.0)"),
        ));
    }
    let mut out = Vec::new();
    let packages = match doc.get("packages") {
        None => return Ok((Format::Pnpm(version), out)),
        Some(p @ Node::Map(_)) => p,
        Some(_) => {
            let line = doc
                .entries()
                .iter()
                .find(|e| e.0 == "packages")
                .map(|e| e.1);
            return Err(LockError::new(line, "`packages` is not a mapping"));
        }
    };
    for (key, line, meta) in packages.entries() {
        let (key_name, key_version) = split_key(key, major).ok_or_else(|| {
            LockError::new(Some(*line), format!("package key `{key}` names no version"))
        })?;
        let name = meta.str("name").unwrap_or(key_name).to_string();
        let version = meta.str("version").unwrap_or(key_version).to_string();
        let resolution = meta.get("resolution");
        let integrity = resolution
            .and_then(|r| r.str("integrity"))
            .map(str::to_string);
        let tarball = resolution.and_then(|r| r.str("tarball"));
        let (source, resolved) = match resolution {
            Some(r) if r.str("type") == Some("git") || r.get("repo").is_some() => (
                SourceKind::Git,
                r.str("repo").map(|repo| match r.str("commit") {
                    Some(c) => format!("{repo}#{c}"),
                    None => repo.to_string(),
                }),
            ),
            Some(r) if r.get("directory").is_some() => {
                (SourceKind::File, r.str("directory").map(str::to_string))
            }
            _ => match tarball {
                Some(t) => (classify(t), Some(t.to_string())),
                None if key_version.starts_with("link:") => {
                    (SourceKind::Link, Some(key_version.to_string()))
                }
                None if key_version.starts_with("file:") => {
                    (SourceKind::File, Some(key_version.to_string()))
                }
                None => (SourceKind::Registry, None),
            },
        };
        out.push(LockedEntry {
            name,
            alias: None,
            version,
            resolved,
            integrity,
            source,
            key: key.clone(),
            line: Some(*line),
        });
    }
    Ok((Format::Pnpm(version), out))
}

/// `(name, version)` of a `packages` key, peer suffixes dropped.
fn split_key(key: &str, major: u32) -> Option<(&str, &str)> {
    let k = key.strip_prefix('/').unwrap_or(key);
    let (name, version) = if major >= 6 {
        super::split_name(k)?
    } else {
        // 5.x: `name/1.0.0_peer@1.0.0`; a scoped name has one more `/`.
        let skip = if k.starts_with('@') {
            k.find('/')? + 1
        } else {
            0
        };
        let slash = skip + k[skip..].find('/')?;
        (&k[..slash], &k[slash + 1..])
    };
    let version = if major >= 6 {
        version.split('(').next().unwrap_or(version)
    } else {
        version.split('_').next().unwrap_or(version)
    };
    (!name.is_empty() && !version.is_empty()).then_some((name, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_each_version() {
        assert_eq!(split_key("/@s/a/1.0.0_b@2.0.0", 5), Some(("@s/a", "1.0.0")));
        assert_eq!(split_key("/a/1.0.0", 5), Some(("a", "1.0.0")));
        assert_eq!(
            split_key("/@s/a@1.0.0(b@2.0.0)", 6),
            Some(("@s/a", "1.0.0"))
        );
        assert_eq!(split_key("a@1.0.0", 9), Some(("a", "1.0.0")));
        assert_eq!(split_key("a", 9), None);
    }

    #[test]
    fn sources_from_resolution() {
        let text = "lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    resolution: {integrity: sha512-AA==}\n  b@https://codeload.github.com/o/b/tar.gz/abc:\n    resolution: {tarball: https://codeload.github.com/o/b/tar.gz/abc}\n    version: 1.0.0\n  c@git+https://github.com/o/c.git#abc:\n    resolution: {type: git, repo: 'https://github.com/o/c.git', commit: abc}\n    version: 2.0.0\n  d@file:../d:\n    resolution: {directory: ../d, type: directory}\n";
        let (f, e) = parse(text).unwrap();
        assert_eq!(f, Format::Pnpm("9.0".into()));
        let got: Vec<_> = e
            .iter()
            .map(|e| (e.name.as_str(), e.version.as_str(), e.source, e.line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", "1.0.0", SourceKind::Registry, Some(3)),
                ("b", "1.0.0", SourceKind::Git, Some(5)),
                ("c", "2.0.0", SourceKind::Git, Some(8)),
                ("d", "file:../d", SourceKind::File, Some(11)),
            ]
        );
        assert!(parse("lockfileVersion: '3.0'\n")
            .unwrap_err()
            .message
            .contains("3.0"));
    }
}
