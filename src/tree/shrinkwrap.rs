//! The tree a package's own `npm-shrinkwrap.json` pins (lockfile v1, v2 and v3).

use std::collections::BTreeMap;

use serde_json::Value;

use super::resolve::Arena;
use super::{Manifest, Tree, TreeError, TreeSource};

/// The largest `npm-shrinkwrap.json` read from a tarball.
pub const MAX_SHRINKWRAP_BYTES: usize = 16 * 1024 * 1024;

fn str_map(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn manifest_of(entry: &Value) -> Manifest {
    let optional_peers = entry
        .get("peerDependenciesMeta")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(_, v)| v.get("optional").and_then(Value::as_bool) == Some(true))
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default();
    Manifest {
        dependencies: str_map(entry.get("dependencies").or(entry.get("requires"))),
        optional_dependencies: str_map(entry.get("optionalDependencies")),
        peer_dependencies: str_map(entry.get("peerDependencies")),
        optional_peers,
        ..Manifest::default()
    }
}

/// The folder name at the end of a `node_modules/...` location, and the parent location.
fn split_location(loc: &str) -> Option<(&str, &str)> {
    let i = loc.rfind("node_modules/")?;
    let name = &loc[i + "node_modules/".len()..];
    let parent = loc[..i].trim_end_matches('/');
    (!name.is_empty()).then_some((parent, name))
}

/// Reads the shrinkwrap of `package@version` into a tree. Entries marked `dev` are left out (npm
/// does not install a dependency's dev dependencies), as are links.
pub fn tree(
    bytes: &[u8],
    package: &str,
    version: &str,
    max_nodes: usize,
) -> Result<Tree, TreeError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| {
        TreeError::Shrinkwrap(format!(
            "invalid JSON at line {} column {}: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let mut arena = Arena::new(max_nodes);
    let root_entry = doc
        .get("packages")
        .and_then(|p| p.get(""))
        .cloned()
        .unwrap_or(Value::Null);
    let root = arena.add_node(0, package, package, version, None, false)?;
    // The project depends on the package; edges are needed for path finding only.
    arena.set_edges(
        0,
        &Manifest {
            dependencies: vec![(package.to_string(), version.to_string())],
            ..Manifest::default()
        },
    );
    if let Some(packages) = doc.get("packages").and_then(Value::as_object) {
        arena.set_edges(root, &manifest_of(&root_entry));
        let mut entries: Vec<(&String, &Value)> =
            packages.iter().filter(|(k, _)| !k.is_empty()).collect();
        entries.sort_by_key(|(k, _)| (k.matches("node_modules/").count(), (*k).clone()));
        let mut ids: BTreeMap<String, usize> = BTreeMap::new();
        for (loc, entry) in entries {
            if entry.get("dev").and_then(Value::as_bool) == Some(true)
                || entry.get("link").and_then(Value::as_bool) == Some(true)
            {
                continue;
            }
            let Some((parent_loc, name)) = split_location(loc) else {
                continue;
            };
            let Some(v) = entry.get("version").and_then(Value::as_str) else {
                continue;
            };
            let parent = if parent_loc.is_empty() {
                root
            } else {
                match ids.get(parent_loc) {
                    Some(&p) => p,
                    None => continue,
                }
            };
            let real = entry.get("name").and_then(Value::as_str).unwrap_or(name);
            let in_bundle = entry.get("inBundle").and_then(Value::as_bool) == Some(true);
            let id = arena.add_node(parent, name, real, v, None, in_bundle)?;
            arena.set_edges(id, &manifest_of(entry));
            ids.insert(loc.clone(), id);
        }
    } else if let Some(deps) = doc.get("dependencies").and_then(Value::as_object) {
        // lockfile v1: nested `dependencies` objects with `version` and `requires`.
        let mut top = Manifest::default();
        for (name, e) in deps {
            if e.get("dev").and_then(Value::as_bool) != Some(true) {
                if let Some(v) = e.get("version").and_then(Value::as_str) {
                    top.dependencies.push((name.clone(), v.to_string()));
                }
            }
        }
        arena.set_edges(root, &top);
        let mut stack: Vec<(usize, &serde_json::Map<String, Value>)> = vec![(root, deps)];
        while let Some((parent, deps)) = stack.pop() {
            for (name, e) in deps {
                if e.get("dev").and_then(Value::as_bool) == Some(true) {
                    continue;
                }
                let Some(v) = e.get("version").and_then(Value::as_str) else {
                    continue;
                };
                // v1 writes an alias's version as `npm:real@1.2.3`.
                let (real, v) = match v.strip_prefix("npm:") {
                    Some(rest) => match rest.get(1..).and_then(|r| r.find('@')) {
                        Some(i) => (&rest[..i + 1], &rest[i + 2..]),
                        None => continue,
                    },
                    None => (name.as_str(), v),
                };
                let in_bundle = e.get("bundled").and_then(Value::as_bool) == Some(true);
                let id = arena.add_node(parent, name, real, v, None, in_bundle)?;
                arena.set_edges(id, &manifest_of(e));
                if let Some(kids) = e.get("dependencies").and_then(Value::as_object) {
                    stack.push((id, kids));
                }
            }
        }
    } else {
        return Err(TreeError::Shrinkwrap(
            "neither `packages` nor `dependencies` is an object".into(),
        ));
    }
    Ok(arena.finish(TreeSource::Shrinkwrap, root, Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_v3_packages_with_nesting_aliases_and_no_dev() {
        let sw = br#"{"lockfileVersion":3,"packages":{
            "":{"name":"root","version":"1.0.0","dependencies":{"a":"^1","s":"npm:real@^2"}},
            "node_modules/a":{"version":"1.1.0","dependencies":{"b":"^2"}},
            "node_modules/b":{"version":"1.0.0"},
            "node_modules/a/node_modules/b":{"version":"2.0.0"},
            "node_modules/s":{"name":"real","version":"2.3.0"},
            "node_modules/d":{"version":"9.0.0","dev":true}}}"#;
        let t = tree(sw, "root", "1.0.0", 100).unwrap();
        assert_eq!(t.source, TreeSource::Shrinkwrap);
        let ids: Vec<String> = t
            .nodes
            .iter()
            .map(|n| format!("{}@{}", n.name, n.version))
            .collect();
        // b@1.0.0 is extraneous (nothing depends on it), d is dev.
        assert_eq!(ids, ["a@1.1.0", "b@2.0.0", "real@2.3.0"]);
        let b = &t.nodes[1];
        assert_eq!(
            b.paths,
            vec![vec!["a@1.1.0".to_string(), "b@2.0.0".to_string()]]
        );
    }

    #[test]
    fn reads_v1_and_refuses_garbage_with_a_position() {
        let sw = br#"{"lockfileVersion":1,"dependencies":{
            "a":{"version":"1.0.0","requires":{"b":"^1"}},
            "b":{"version":"1.2.0"}}}"#;
        let t = tree(sw, "root", "1.0.0", 100).unwrap();
        assert_eq!(t.nodes.len(), 2);
        let err = tree(b"{\n  \"packages\": [", "root", "1.0.0", 100).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        let err = tree(b"{\"packages\":{\"node_modules/a\":{\"version\":\"1.0.0\"},\"node_modules/b\":{\"version\":\"1.0.0\"}}}", "r", "1.0.0", 1)
            .unwrap_err();
        assert!(matches!(err, TreeError::TooManyNodes { limit: 1 }));
    }
}
