//! The sets a resolved tree is compared with npm's lockfile by, shared by the offline oracle test
//! (`tree.rs`), the live one (`live.rs`) and `examples/tree_diff.rs` (which includes this file by
//! `#[path]`), so that all three compare the same way.
#![allow(dead_code)]

use std::collections::BTreeSet;

use mcp_audit::tree::Tree;
use serde_json::Value;

/// name@version of every package a lockfile installs (the project itself left out).
pub fn lock_set(lock: &Value) -> BTreeSet<String> {
    lock["packages"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| {
            let folder = k.rsplit_once("node_modules/").unwrap().1;
            let name = v["name"].as_str().unwrap_or(folder);
            format!("{name}@{}", v["version"].as_str().unwrap())
        })
        .collect()
}

/// name@version of every package the resolved tree installs, its root included.
pub fn tree_set(t: &Tree) -> BTreeSet<String> {
    let mut set: BTreeSet<String> = t
        .nodes
        .iter()
        .map(|n| format!("{}@{}", n.name, n.version))
        .collect();
    set.insert(t.root.clone());
    set
}
