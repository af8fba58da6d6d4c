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
            paths: Vec::new(),
        });
    }
    add_paths(doc, major, &mut out);
    Ok((Format::Pnpm(version), out))
}

/// Paths longer than this are not followed: real pnpm graphs are a few dozen levels deep, and a
/// hostile chain must not make every path as long as the file.
pub const MAX_PATH_DEPTH: usize = 64;

/// The dependency kinds an importer installs (pnpm installs dev dependencies in a workspace).
const IMPORTER_KINDS: &[&str] = &["dependencies", "optionalDependencies", "devDependencies"];
/// The edges between locked packages.
const PACKAGE_KINDS: &[&str] = &["dependencies", "optionalDependencies"];

/// The importers of the lockfile: `importers` (workspaces; every 9.0 file), else the document
/// itself as the one importer `.` (5.x and 6.0 without a workspace).
fn importers(doc: &Node) -> Vec<(&str, &Node)> {
    match doc.get("importers") {
        Some(Node::Map(list)) => list.iter().map(|(k, _, v)| (k.as_str(), v)).collect(),
        _ => vec![(".", doc)],
    }
}

/// The reference of one dependency: a string (5.x) or `{specifier, version}` (6.0, 9.0).
fn reference(value: &Node) -> Option<&str> {
    match value {
        Node::Scalar(s) => Some(s),
        m => m.str("version"),
    }
}

/// The `packages` (5.x, 6.0) or `snapshots` (9.0) key a dependency `name: reference` points at;
/// `None` for links and other references that name no locked package.
fn target_key(name: &str, reference: &str, major: u32) -> Option<String> {
    let r = reference.trim();
    if r.is_empty() || r.starts_with("link:") || r.starts_with("file:") {
        return None;
    }
    // An alias (or a non-registry source) names the package itself: `bytes@3.1.2` (9.0),
    // `/bytes@3.1.2` (6.0), `/bytes/3.1.2` (5.x).
    let direct = r.starts_with('/')
        || (major >= 9
            && !r.starts_with(|c: char| c.is_ascii_digit())
            && !r.contains(':')
            && super::split_name(r).is_some());
    Some(match (direct, major) {
        (true, _) => r.to_string(),
        (false, 9..) => format!("{name}@{r}"),
        (false, 6..) => format!("/{name}@{r}"),
        (false, _) => format!("/{name}/{r}"),
    })
}

/// Fills each entry's `paths`: breadth first from every importer's direct dependencies through
/// the locked packages' own dependencies, at most `MAX_PATHS` shortest paths per package.
fn add_paths(doc: &Node, major: u32, out: &mut [LockedEntry]) {
    use std::collections::{HashMap, VecDeque};
    let max = crate::tree::MAX_PATHS;
    let graph = if major >= 9 {
        doc.get("snapshots")
    } else {
        doc.get("packages")
    };
    // Node::get is a linear scan: index the graph once, or a large lockfile is quadratic.
    let index: HashMap<&str, &Node> = graph
        .map(Node::entries)
        .unwrap_or(&[])
        .iter()
        .map(|(k, _, v)| (k.as_str(), v))
        .collect();
    let deps_of = |key: &str| -> Vec<String> {
        let Some(node) = index.get(key) else {
            return Vec::new();
        };
        PACKAGE_KINDS
            .iter()
            .flat_map(|k| node.get(k).map(Node::entries).unwrap_or(&[]))
            .filter_map(|(n, _, v)| target_key(n, reference(v)?, major))
            .collect()
    };
    let label =
        |key: &str| -> Option<String> { split_key(key, major).map(|(n, v)| format!("{n}@{v}")) };
    // Paths are kept as parent links in one arena, so a wide or deep hostile graph costs one
    // small entry per step rather than a copied path; only the kept paths are spelled out.
    struct Step {
        label: String,
        parent: Option<usize>,
        depth: usize,
    }
    let mut arena: Vec<Step> = Vec::new();
    let mut found: HashMap<String, Vec<usize>> = HashMap::new();
    let mut queue: VecDeque<(String, usize)> = VecDeque::new();
    for (importer, node) in importers(doc) {
        let start = arena.len();
        arena.push(Step {
            label: importer.to_string(),
            parent: None,
            depth: 0,
        });
        for kind in IMPORTER_KINDS {
            for (name, _, v) in node.get(kind).map(Node::entries).unwrap_or(&[]) {
                if let Some(key) = reference(v).and_then(|r| target_key(name, r, major)) {
                    queue.push_back((key, start));
                }
            }
        }
    }
    let on_path = |arena: &[Step], mut at: Option<usize>, l: &str| {
        while let Some(i) = at {
            if arena[i].label == l {
                return true;
            }
            at = arena[i].parent;
        }
        false
    };
    while let Some((key, parent)) = queue.pop_front() {
        let Some(l) = label(&key) else { continue };
        if arena[parent].depth >= MAX_PATH_DEPTH || on_path(&arena, Some(parent), &l) {
            continue;
        }
        if found.get(&l).is_some_and(|p| p.len() >= max) {
            continue;
        }
        let at = arena.len();
        arena.push(Step {
            label: l.clone(),
            parent: Some(parent),
            depth: arena[parent].depth + 1,
        });
        found.entry(l).or_default().push(at);
        for next in deps_of(&key) {
            let full = label(&next)
                .and_then(|l| found.get(&l))
                .is_some_and(|p| p.len() >= max);
            if !full {
                queue.push_back((next, at));
            }
        }
    }
    let spell = |mut at: Option<usize>| {
        let mut path = Vec::new();
        while let Some(i) = at {
            path.push(arena[i].label.clone());
            at = arena[i].parent;
        }
        path.reverse();
        path
    };
    for e in out.iter_mut() {
        if let Some(ends) = split_key(&e.key, major)
            .map(|(n, v)| format!("{n}@{v}"))
            .and_then(|l| found.get(&l))
        {
            e.paths = ends.iter().map(|&i| spell(Some(i))).collect();
        }
    }
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
    fn importers_bring_packages_in_with_their_paths() {
        // pnpm 9.15.9 on a three-importer workspace (fixtures/lockfiles/real/pnpm-workspace-v9).
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/lockfiles/real/pnpm-workspace-v9/pnpm-lock.yaml"
        ))
        .unwrap();
        let (_, e) = parse(&text).unwrap();
        let paths = |name: &str| e.iter().find(|x| x.name == name).unwrap().paths.clone();
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(paths("content-type")[0], p(&[".", "content-type@1.0.5"]));
        assert_eq!(
            paths("content-type")[1],
            p(&[
                "packages/a",
                "@modelcontextprotocol/server-memory@0.6.2",
                "@modelcontextprotocol/sdk@1.0.1",
                "content-type@1.0.5"
            ])
        );
        assert_eq!(paths("bytes")[0], p(&["packages/b", "bytes@3.1.2"]));
        assert_eq!(paths("depd")[0], p(&["packages/b", "depd@2.0.0"]));
        // Every locked package is reached from some importer.
        assert!(e.iter().all(|x| !x.paths.is_empty()), "{e:?}");
    }

    #[test]
    fn a_hostile_graph_is_bounded() {
        // 3,000 packages, each depending on the next 20: every package is reachable many ways
        // and by chains far deeper than any real tree.
        let mut text = String::from(
            "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      p0:\n        specifier: 1.0.0\n        version: 1.0.0\npackages:\n",
        );
        for i in 0..3000 {
            text.push_str(&format!(
                "  p{i}@1.0.0:\n    resolution: {{integrity: sha512-AA==}}\n"
            ));
        }
        text.push_str("snapshots:\n");
        for i in 0..3000 {
            text.push_str(&format!("  p{i}@1.0.0:\n    dependencies:\n"));
            for j in (i + 1)..(i + 21).min(3000) {
                text.push_str(&format!("      p{j}: 1.0.0\n"));
            }
        }
        let (_, e) = parse(&text).unwrap();
        assert_eq!(e.len(), 3000);
        for x in &e {
            assert!(x.paths.len() <= crate::tree::MAX_PATHS);
            assert!(x.paths.iter().all(|p| p.len() <= MAX_PATH_DEPTH + 1));
        }
        // Shortest first: p40 is three steps from the root (p0 > p20 > p40).
        let p40 = e.iter().find(|x| x.name == "p40").unwrap();
        assert_eq!(p40.paths[0], [".", "p0@1.0.0", "p20@1.0.0", "p40@1.0.0"]);
        // A chain deeper than the limit is cut, not followed to the end: p2999 is about 150
        // steps away by the shortest route.
        let last = e.iter().find(|x| x.name == "p2999").unwrap();
        assert!(last.paths.is_empty());
    }

    #[test]
    fn references_name_their_keys() {
        assert_eq!(target_key("a", "1.0.0", 9).unwrap(), "a@1.0.0");
        assert_eq!(
            target_key("a", "1.0.0(z@3.0.0)", 9).unwrap(),
            "a@1.0.0(z@3.0.0)"
        );
        assert_eq!(target_key("lb", "bytes@3.1.2", 9).unwrap(), "bytes@3.1.2");
        assert_eq!(
            target_key("b", "https://x.example/b.tgz", 9).unwrap(),
            "b@https://x.example/b.tgz"
        );
        assert_eq!(target_key("a", "1.0.0", 6).unwrap(), "/a@1.0.0");
        assert_eq!(target_key("lb", "/bytes@3.1.2", 6).unwrap(), "/bytes@3.1.2");
        assert_eq!(target_key("@s/a", "1.0.0", 5).unwrap(), "/@s/a/1.0.0");
        assert_eq!(target_key("a", "link:../a", 9), None);
    }

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
