//! arborist's ideal tree for `npm install <spec>` into an empty project, from abbreviated
//! packuments.
//!
//! The rules follow `@npmcli/arborist` (build-ideal-tree.js, place-dep.js, can-place-dep.js,
//! deepest-nesting-target.js, node.js `canDedupe`/`canReplaceWith`, dep-valid.js):
//! - nodes are processed breadth first (depth, then location); each node's problem edges
//!   (missing or invalid; a missing optional peer is not a problem; bundled names are skipped)
//!   are resolved in name order;
//! - a dependency is placed as high as it can go: starting at the deepest nesting target (for a
//!   peer, the dependent's parent), walking up while the placement check is not a CONFLICT;
//! - the check: KEEP an existing copy that satisfies, REPLACE one every dependent of which the new
//!   version satisfies, CONFLICT when a same-named dependency of the target or of a node below it
//!   would break; otherwise OK;
//! - after a placement, copies below the target that the new one makes redundant are pruned, and
//!   at the end every node nothing reaches is dropped (extraneous).
//!
//! Peer sets (build-ideal-tree `#loadPeerSet`, place-dep's peer placement): a placed node's
//! required peers, and theirs, are placed right after it, each picked as the requesting node asks
//! for that name when it depends on it too (a version the peer edge rejects is left for the
//! node's own step, as place-dep "accepts what's there"); a peer may replace a current copy only
//! when every peer group that copy belongs to (`peerEntrySets`) and that the new one breaks can
//! nest deeper; a peer that fits nowhere is left unmet (npm's "overriding peer dependency" for a
//! package that is not the project's own). What is simplified: the peer set is not placed as one
//! unit (a dependent is not moved deeper because its peers conflict; the set of name@version is
//! the same in every case the oracles cover, not always the folder). A non-root dependency that
//! ships its own shrinkwrap keeps its dependencies unresolved, as `npm install
//! --package-lock-only` does. The oracle tests compare the result with npm's own lockfiles.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use futures::stream::{self, StreamExt};
use nodejs_semver::Version;

use super::{
    manifest::{pick, Engines, Manifest, Packument},
    satisfies, shrinkwrap, want, Source, Tree, TreeError, TreeNode, TreeProblem, TreeSource, Want,
    MAX_PATHS,
};
use crate::spec::Selector;

#[derive(Debug, Clone)]
pub struct ResolveOptions {
    pub max_nodes: usize,
    pub engines: Engines,
    /// Packuments fetched at once.
    pub concurrency: usize,
}

impl Default for ResolveOptions {
    fn default() -> Self {
        ResolveOptions {
            max_nodes: super::DEFAULT_MAX_NODES,
            engines: Engines::default(),
            concurrency: 16,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Prod,
    Optional,
    Peer,
    PeerOptional,
}

impl Kind {
    fn peer(self) -> bool {
        matches!(self, Kind::Peer | Kind::PeerOptional)
    }
}

#[derive(Debug, Clone)]
struct Edge {
    spec: String,
    kind: Kind,
    want: Want,
}

#[derive(Debug)]
pub(super) struct PNode {
    /// The folder name in `node_modules` (an alias's own name).
    pub name: String,
    pub package: String,
    pub version: String,
    pub parent: Option<usize>,
    pub children: BTreeMap<String, usize>,
    edges: BTreeMap<String, Edge>,
    bundled: BTreeSet<String>,
    has_shrinkwrap: bool,
    /// Inside a bundling parent's tarball; never fetched.
    pub in_bundle: bool,
    pub live: bool,
    depth: usize,
}

/// The tree under construction. Node 0 is the empty project; its one edge is the request.
pub(super) struct Arena {
    pub nodes: Vec<PNode>,
    /// Node ids with an edge of the given name, for finding who depends on a copy.
    dependents: HashMap<String, Vec<usize>>,
    live: usize,
    max_nodes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Can {
    Conflict,
    Ok,
    Keep,
    Replace,
}

fn edges_of(m: &Manifest) -> BTreeMap<String, Edge> {
    // node.js `_loadDeps`: peers, then dependencies, then optionalDependencies; a later kind
    // replaces an earlier one for the same name.
    let mut edges = BTreeMap::new();
    let mut add = |list: &[(String, String)], kind: &dyn Fn(&str) -> Kind| {
        for (name, spec) in list {
            edges.insert(
                name.clone(),
                Edge {
                    spec: spec.clone(),
                    kind: kind(name),
                    want: want(name, spec),
                },
            );
        }
    };
    add(&m.peer_dependencies, &|n| {
        if m.optional_peers.iter().any(|p| p == n) {
            Kind::PeerOptional
        } else {
            Kind::Peer
        }
    });
    add(&m.dependencies, &|_| Kind::Prod);
    add(&m.optional_dependencies, &|_| Kind::Optional);
    edges
}

impl Arena {
    pub(super) fn new(max_nodes: usize) -> Arena {
        Arena {
            nodes: vec![PNode {
                name: String::new(),
                package: String::new(),
                version: String::new(),
                parent: None,
                children: BTreeMap::new(),
                edges: BTreeMap::new(),
                bundled: BTreeSet::new(),
                has_shrinkwrap: false,
                in_bundle: false,
                live: true,
                depth: 0,
            }],
            dependents: HashMap::new(),
            live: 0,
            max_nodes,
        }
    }

    fn add_edge(&mut self, from: usize, name: &str, spec: &str, kind: Kind) {
        let edge = Edge {
            spec: spec.to_string(),
            kind,
            want: want(name, spec),
        };
        self.nodes[from].edges.insert(name.to_string(), edge);
        self.dependents
            .entry(name.to_string())
            .or_default()
            .push(from);
    }

    /// Adds a placed node under `parent`. Fails past `max_nodes`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn add_node(
        &mut self,
        parent: usize,
        name: &str,
        package: &str,
        version: &str,
        manifest: Option<&Manifest>,
        in_bundle: bool,
    ) -> Result<usize, TreeError> {
        if self.live > self.max_nodes {
            return Err(TreeError::TooManyNodes {
                limit: self.max_nodes,
            });
        }
        let id = self.nodes.len();
        let depth = self.nodes[parent].depth + 1;
        let (edges, bundled, has_shrinkwrap) = match manifest {
            Some(m) => (
                edges_of(m),
                m.bundled.iter().cloned().collect(),
                m.has_shrinkwrap,
            ),
            None => Default::default(),
        };
        for n in edges.keys() {
            self.dependents.entry(n.clone()).or_default().push(id);
        }
        self.nodes.push(PNode {
            name: name.to_string(),
            package: package.to_string(),
            version: version.to_string(),
            parent: Some(parent),
            children: BTreeMap::new(),
            edges,
            bundled,
            has_shrinkwrap,
            in_bundle,
            live: true,
            depth,
        });
        self.nodes[parent].children.insert(name.to_string(), id);
        self.live += 1;
        Ok(id)
    }

    /// A node's own dependency entries, for shrinkwrap trees read from a lockfile.
    pub(super) fn set_edges(&mut self, id: usize, m: &Manifest) {
        for (name, e) in edges_of(m) {
            self.add_edge(id, &name, &e.spec, e.kind);
        }
    }

    fn ancestry(&self, start: usize) -> Vec<usize> {
        let mut out = vec![start];
        let mut cur = self.nodes[start].parent;
        while let Some(p) = cur {
            out.push(p);
            cur = self.nodes[p].parent;
        }
        out
    }

    /// Node.resolve: own `node_modules` first, then each parent's.
    pub(super) fn resolve(&self, from: usize, name: &str) -> Option<usize> {
        let mut cur = Some(from);
        while let Some(c) = cur {
            if let Some(&k) = self.nodes[c].children.get(name) {
                return Some(k);
            }
            cur = self.nodes[c].parent;
        }
        None
    }

    fn is_descendant(&self, node: usize, of: usize) -> bool {
        let mut cur = Some(node);
        while let Some(c) = cur {
            if c == of {
                return true;
            }
            cur = self.nodes[c].parent;
        }
        false
    }

    fn edge_valid(&self, from: usize, name: &str) -> Option<bool> {
        let e = self.nodes[from].edges.get(name)?;
        let to = self.resolve(from, name)?;
        Some(satisfies(
            &e.want,
            &self.nodes[to].package,
            &self.nodes[to].version,
        ))
    }

    /// Edges (by their `from` node) that resolve to `node`.
    fn edges_in(&self, node: usize) -> Vec<usize> {
        let name = &self.nodes[node].name;
        self.dependents
            .get(name)
            .map(|ds| {
                let mut seen = HashSet::new();
                ds.iter()
                    .copied()
                    .filter(|&d| self.nodes[d].live && seen.insert(d))
                    .filter(|&d| self.resolve(d, name) == Some(node))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// deepest-nesting-target.js: the deepest node where `name` may go for a dependent at
    /// `start`: above every node that has `name` as a peer.
    fn deepest_nesting_target(&self, start: usize, name: &str) -> usize {
        for t in self.ancestry(start) {
            if t == 0 || self.nodes[t].parent.is_none() {
                return t;
            }
            match self.nodes[t].edges.get(name) {
                Some(e) if e.kind.peer() => continue,
                _ => return t,
            }
        }
        0
    }

    /// Whether `package@version` satisfies every edge into `current` that comes from outside
    /// `current`'s own subtree (node.js `canReplaceWith`).
    fn can_replace(&self, package: &str, version: &str, current: usize) -> bool {
        if self.nodes[current].package != package {
            return false;
        }
        let name = &self.nodes[current].name;
        self.edges_in(current).into_iter().all(|d| {
            self.is_descendant(d, current)
                || satisfies(&self.nodes[d].edges[name].want, package, version)
        })
    }

    /// Whether `edge.from`'s edge `name` resolves to `to` and accepts it.
    fn valid_to(&self, from: usize, name: &str, to: usize) -> bool {
        self.resolve(from, name) == Some(to)
            && self.nodes[from].edges.get(name).is_some_and(|e| {
                satisfies(&e.want, &self.nodes[to].package, &self.nodes[to].version)
            })
    }

    /// can-place-dep.js `peerEntrySets`: the peer groups `node` belongs to, each keyed by the
    /// node whose non-peer edge (or the project's edge) brings the group in, with the group's
    /// members reachable from that entry through valid peer edges.
    fn peer_entry_sets(&self, node: usize) -> Vec<(usize, Vec<usize>)> {
        let peers_out = |n: usize| -> Vec<usize> {
            self.nodes[n]
                .edges
                .iter()
                .filter(|(_, e)| e.kind.peer())
                .filter_map(|(k, _)| self.resolve(n, k).filter(|&t| self.valid_to(n, k, t)))
                .collect()
        };
        let mut union = vec![node];
        let mut seen = HashSet::from([node]);
        let mut i = 0;
        while i < union.len() && union.len() < 10_000 {
            let n = union[i];
            i += 1;
            let name = self.nodes[n].name.clone();
            let ins: Vec<usize> = self
                .edges_in(n)
                .into_iter()
                .filter(|&d| self.nodes[d].edges[&name].kind.peer() && self.valid_to(d, &name, n))
                .collect();
            for m in peers_out(n).into_iter().chain(ins) {
                if seen.insert(m) {
                    union.push(m);
                }
            }
        }
        let mut out = Vec::new();
        for &peer in &union {
            let name = self.nodes[peer].name.clone();
            for d in self.edges_in(peer) {
                if !self.valid_to(d, &name, peer) {
                    continue;
                }
                if self.nodes[d].edges[&name].kind.peer() && d != 0 {
                    continue;
                }
                let mut sub = vec![peer];
                let mut in_sub = HashSet::from([peer]);
                let mut k = 0;
                while k < sub.len() {
                    for m in peers_out(sub[k]) {
                        if in_sub.insert(m) {
                            sub.push(m);
                        }
                    }
                    k += 1;
                }
                if in_sub.contains(&node) {
                    out.push((d, sub));
                }
            }
        }
        out
    }

    /// The "interesting case" of can-place-dep's `checkCanPlaceCurrent` for a peer: the current
    /// copy may be replaced only when every peer group it is part of, and that the new version
    /// would break, can be nested deeper than `target` from the node that brings it in.
    fn peer_set_cannot_move(
        &self,
        current: usize,
        from: usize,
        name: &str,
        package: &str,
        version: &str,
        target: usize,
    ) -> bool {
        for (entry, sub) in self.peer_entry_sets(current) {
            // The edge being placed is not an obstacle to itself.
            if entry == from && sub.first() == Some(&current) {
                continue;
            }
            let broken = sub.iter().chain([&entry]).any(|&m| {
                self.valid_to(m, name, current)
                    && !satisfies(&self.nodes[m].edges[name].want, package, version)
            });
            if !broken {
                continue;
            }
            for &m in &sub {
                let deepest = self.deepest_nesting_target(entry, &self.nodes[m].name);
                if deepest == target || self.is_descendant(target, deepest) {
                    return true;
                }
            }
        }
        false
    }

    fn can_place(
        &self,
        target: usize,
        from: usize,
        name: &str,
        edge: &Edge,
        package: &str,
        version: &str,
    ) -> Can {
        let t = &self.nodes[target];
        let current = t.children.get(name).copied();
        let target_edge = t.edges.get(name);
        if let Some(te) = target_edge {
            if te.kind.peer() && target != 0 {
                return Can::Conflict;
            }
            if current.is_none() && target != from && !satisfies(&te.want, package, version) {
                return Can::Conflict;
            }
        }
        let newer_or_same = |cur: &str| match (Version::parse(version), Version::parse(cur)) {
            (Ok(n), Ok(c)) => n >= c,
            _ => false,
        };
        if let Some(cur) = current {
            let c = &self.nodes[cur];
            let cur_ok = satisfies(&edge.want, &c.package, &c.version);
            if c.package == package && c.version == version && cur_ok {
                return Can::Keep;
            }
            let try_replace = newer_or_same(&c.version);
            if try_replace && self.can_replace(package, version, cur) {
                return Can::Replace;
            }
            if cur_ok {
                return Can::Keep;
            }
            if edge.kind.peer() && !try_replace && self.can_replace(package, version, cur) {
                return Can::Replace;
            }
            if target != self.deepest_nesting_target(from, name) {
                return Can::Conflict;
            }
            if edge.kind.peer()
                && self.peer_set_cannot_move(cur, from, name, package, version, target)
            {
                return Can::Conflict;
            }
            return Can::Replace;
        }
        if target != from {
            if let Some(cur) = self.resolve(target, name) {
                for d in self.edges_in(cur) {
                    if !self.is_descendant(d, target) {
                        continue;
                    }
                    let e = &self.nodes[d].edges[name];
                    let c = &self.nodes[cur];
                    if satisfies(&e.want, &c.package, &c.version)
                        && !satisfies(&e.want, package, version)
                    {
                        return Can::Conflict;
                    }
                }
            }
        }
        Can::Ok
    }

    fn remove(&mut self, id: usize) {
        if !self.nodes[id].live {
            return;
        }
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            if self.nodes[n].live {
                self.nodes[n].live = false;
                self.live -= 1;
            }
            stack.extend(self.nodes[n].children.values().copied());
        }
        if let Some(p) = self.nodes[id].parent {
            let name = self.nodes[id].name.clone();
            if self.nodes[p].children.get(&name) == Some(&id) {
                self.nodes[p].children.remove(&name);
            }
        }
    }

    /// node.js `canDedupe`: a copy whose dependents would all be served by the one its
    /// grandparent resolves, when that one is the same or newer.
    fn can_dedupe(&self, id: usize) -> bool {
        let n = &self.nodes[id];
        if n.in_bundle {
            return false;
        }
        let Some(gp) = n.parent.and_then(|p| self.nodes[p].parent) else {
            return false;
        };
        if self.edges_in(id).is_empty() {
            return true;
        }
        let Some(other) = self.resolve(gp, &n.name) else {
            return false;
        };
        let o = &self.nodes[other];
        if !self.can_replace(&o.package, &o.version, id) {
            return false;
        }
        match (Version::parse(&o.version), Version::parse(&n.version)) {
            (Ok(a), Ok(b)) => a >= b,
            _ => false,
        }
    }

    fn prune_dedupable(&mut self, id: usize) {
        if self.nodes[id].live && self.can_dedupe(id) {
            self.remove(id);
        }
    }

    /// Drops every node that no edge from the project reaches (arborist prunes extraneous nodes
    /// from the ideal tree).
    fn prune_extraneous(&mut self) {
        let mut reach = HashSet::from([0usize]);
        let mut queue = VecDeque::from([0usize]);
        while let Some(n) = queue.pop_front() {
            let names: Vec<String> = self.nodes[n].edges.keys().cloned().collect();
            for name in names {
                if self.nodes[n].bundled.contains(&name) && n != 0 {
                    // Bundled copies live inside the parent; reach them through its children.
                }
                if let Some(to) = self.resolve(n, &name) {
                    if reach.insert(to) {
                        queue.push_back(to);
                    }
                }
            }
        }
        let dead: Vec<usize> = (1..self.nodes.len())
            .filter(|&i| self.nodes[i].live && !reach.contains(&i))
            .collect();
        for i in dead {
            if self.nodes[i].live {
                self.nodes[i].live = false;
                self.live -= 1;
                if let Some(p) = self.nodes[i].parent {
                    let name = self.nodes[i].name.clone();
                    if self.nodes[p].children.get(&name) == Some(&i) {
                        self.nodes[p].children.remove(&name);
                    }
                }
            }
        }
    }

    fn location(&self, id: usize) -> String {
        let mut parts = Vec::new();
        let mut cur = Some(id);
        while let Some(c) = cur {
            if c == 0 {
                break;
            }
            parts.push(format!("node_modules/{}", self.nodes[c].name));
            cur = self.nodes[c].parent;
        }
        parts.reverse();
        parts.join("/")
    }

    fn label(&self, id: usize) -> String {
        format!("{}@{}", self.nodes[id].package, self.nodes[id].version)
    }

    /// Up to [`MAX_PATHS`] shortest logical paths (through edges, not folders) from the root
    /// package to each node.
    fn paths(&self, root: usize) -> HashMap<usize, Vec<Vec<usize>>> {
        let mut out: HashMap<usize, Vec<Vec<usize>>> = HashMap::new();
        let mut queue: VecDeque<(usize, Vec<usize>)> = VecDeque::new();
        queue.push_back((root, Vec::new()));
        let mut root_seen = false;
        while let Some((n, path)) = queue.pop_front() {
            if n == root {
                if root_seen {
                    continue;
                }
                root_seen = true;
            } else {
                let list = out.entry(n).or_default();
                if list.len() >= MAX_PATHS {
                    continue;
                }
                list.push(path.clone());
            }
            for name in self.nodes[n].edges.keys() {
                if let Some(to) = self.resolve(n, name) {
                    if to == root || path.contains(&to) {
                        continue;
                    }
                    if out.get(&to).is_some_and(|l| l.len() >= MAX_PATHS) {
                        continue;
                    }
                    let mut p = path.clone();
                    p.push(to);
                    queue.push_back((to, p));
                }
            }
        }
        out
    }

    /// The distinct packages of the tree, root excluded, with their paths.
    pub(super) fn finish(
        &mut self,
        source: TreeSource,
        root: usize,
        problems: Vec<TreeProblem>,
    ) -> Tree {
        self.prune_extraneous();
        let paths = self.paths(root);
        let root_label = self.label(root);
        let mut by_id: BTreeMap<(String, String), TreeNode> = BTreeMap::new();
        for (i, n) in self.nodes.iter().enumerate().skip(1) {
            if !n.live || i == root {
                continue;
            }
            let label = self.label(i);
            if label == root_label {
                continue;
            }
            let entry = by_id
                .entry((n.package.clone(), n.version.clone()))
                .or_insert_with(|| TreeNode {
                    name: n.package.clone(),
                    version: n.version.clone(),
                    paths: Vec::new(),
                    bundled: true,
                    optional: true,
                    locations: Vec::new(),
                });
            entry.bundled &= n.in_bundle;
            entry.locations.push(self.location(i));
            for p in paths.get(&i).into_iter().flatten() {
                if entry.paths.len() < MAX_PATHS {
                    entry.paths.push(p.iter().map(|&x| self.label(x)).collect());
                }
            }
            // Optional when every edge into it is optional.
            let ins = self.edges_in(i);
            let all_optional = !ins.is_empty()
                && ins.iter().all(|&d| {
                    matches!(
                        self.nodes[d].edges[&n.name].kind,
                        Kind::Optional | Kind::PeerOptional
                    )
                });
            entry.optional &= all_optional;
        }
        let mut nodes: Vec<TreeNode> = by_id.into_values().collect();
        for n in &mut nodes {
            n.paths.sort_by_key(|p| p.len());
        }
        Tree {
            source,
            root: root_label,
            nodes,
            problems,
        }
    }

    fn first_path_labels(&self, id: usize, paths: &HashMap<usize, Vec<Vec<usize>>>) -> Vec<String> {
        paths
            .get(&id)
            .and_then(|p| p.first())
            .map(|p| p.iter().map(|&x| self.label(x)).collect())
            .unwrap_or_else(|| vec![self.label(id)])
    }
}

struct Resolver<'s, S: Source> {
    source: &'s S,
    opts: &'s ResolveOptions,
    cache: HashMap<String, Result<Arc<Packument>, String>>,
    arena: Arena,
    /// (from node, edge name) pairs that failed, so they are not retried or reported twice.
    failed: HashSet<(usize, String)>,
    problems: Vec<(usize, TreeProblem)>,
}

impl<S: Source> Resolver<'_, S> {
    async fn prefetch(&mut self, names: Vec<String>) {
        let todo: Vec<String> = names
            .into_iter()
            .filter(|n| !self.cache.contains_key(n))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let source = self.source;
        let fetched: Vec<(String, Result<Arc<Packument>, String>)> = stream::iter(todo)
            .map(|n| async move {
                let r = source.packument(&n).await;
                (n, r)
            })
            .buffer_unordered(self.opts.concurrency.max(1))
            .collect()
            .await;
        self.cache.extend(fetched);
    }

    fn problem_edges(&self, id: usize) -> Vec<String> {
        let n = &self.arena.nodes[id];
        if id != 0 && n.has_shrinkwrap {
            // npm does not resolve below a dependency that ships a shrinkwrap until it unpacks it.
            return Vec::new();
        }
        n.edges
            .iter()
            .filter(|(name, _)| !n.bundled.contains(*name) || id == 0)
            .filter(|(name, _)| !self.failed.contains(&(id, (*name).clone())))
            .filter(|(name, e)| match self.arena.edge_valid(id, name) {
                None => e.kind != Kind::PeerOptional,
                Some(valid) => !valid,
            })
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The registry packages `edges` of node `id` ask for.
    fn registry_names(&self, id: usize, edges: &[String]) -> Vec<String> {
        edges
            .iter()
            .filter_map(|n| match &self.arena.nodes[id].edges[n].want {
                Want::Registry { package, .. } => Some(package.clone()),
                Want::Elsewhere { .. } => None,
            })
            .collect()
    }

    fn fail(&mut self, from: usize, name: &str, reason: String, unavailable: bool) {
        self.failed.insert((from, name.to_string()));
        let e = &self.arena.nodes[from].edges[name];
        self.problems.push((
            from,
            TreeProblem {
                from: Vec::new(),
                name: name.to_string(),
                spec: e.spec.clone(),
                reason,
                optional: matches!(e.kind, Kind::Optional | Kind::PeerOptional),
                unavailable,
            },
        ));
    }

    async fn step(&mut self, id: usize, queue: &mut Vec<usize>) -> Result<(), TreeError> {
        let problems = self.problem_edges(id);
        if problems.is_empty() {
            return Ok(());
        }
        let mut names = self.registry_names(id, &problems);
        // Each missing dependency becomes a node: a document listing thousands is refused
        // before they are fetched.
        let missing = problems
            .iter()
            .filter(|n| self.arena.resolve(id, n).is_none())
            .count();
        if self.arena.live + missing > self.opts.max_nodes + 1 {
            return Err(TreeError::TooManyNodes {
                limit: self.opts.max_nodes,
            });
        }
        if names.iter().any(|n| !self.cache.contains_key(n)) {
            // One round trip per node would chain hundreds of them: fetch what every queued
            // node is missing too, so a tree costs about one round per level. Only the cache is
            // filled ahead; placement still reads it in arborist's order.
            for &q in queue.iter() {
                if q != id && self.arena.nodes[q].live {
                    let edges = self.problem_edges(q);
                    names.extend(self.registry_names(q, &edges));
                }
            }
        }
        self.prefetch(names).await;
        for name in problems {
            if !self.arena.nodes[id].live {
                break;
            }
            if self.arena.edge_valid(id, &name) == Some(true) {
                continue;
            }
            let edge = self.arena.nodes[id].edges[&name].clone();
            let (package, selector) = match &edge.want {
                Want::Elsewhere { kind } => {
                    let reason = format!("{kind} dependency: not resolved from a registry");
                    self.fail(id, &name, reason, false);
                    continue;
                }
                Want::Registry { package, selector } => (package.clone(), selector.clone()),
            };
            let doc = match self.cache.get(&package) {
                Some(Ok(doc)) => Arc::clone(doc),
                Some(Err(e)) => {
                    let reason = e.clone();
                    self.fail(id, &name, reason, true);
                    continue;
                }
                None => continue,
            };
            let version = match pick(&doc, &selector, &self.opts.engines) {
                Ok(v) => v.to_string(),
                Err(e) => {
                    self.fail(id, &name, e, true);
                    continue;
                }
            };
            let manifest = doc.versions.get(&version).cloned().flatten();
            if let Some(placed) = self.place(id, &name, &edge, &package, &version, manifest)? {
                queue.push(placed);
                self.place_peers(id, placed, queue).await?;
            }
        }
        Ok(())
    }

    /// build-ideal-tree's `#loadPeerSet` and place-dep's peer placement: a placed node's peers
    /// (and theirs) go in right after it, before the requester's next dependency, each picked as
    /// the requester would ask for it when it depends on the same name (preferring a version both
    /// accept), else as the peer edge asks.
    async fn place_peers(
        &mut self,
        requester: usize,
        placed: usize,
        queue: &mut Vec<usize>,
    ) -> Result<(), TreeError> {
        let mut stack = vec![placed];
        let mut budget = self.opts.max_nodes;
        while let Some(n) = stack.pop() {
            if !self.arena.nodes[n].live || self.arena.nodes[n].has_shrinkwrap {
                continue;
            }
            let peers: Vec<String> = self.arena.nodes[n]
                .edges
                .iter()
                .filter(|(name, e)| {
                    e.kind.peer()
                        && !self.arena.nodes[n].bundled.contains(*name)
                        && !self.failed.contains(&(n, (*name).clone()))
                        && match self.arena.edge_valid(n, name) {
                            None => e.kind == Kind::Peer,
                            Some(valid) => !valid,
                        }
                })
                .map(|(name, _)| name.clone())
                .collect();
            if peers.is_empty() {
                continue;
            }
            let packages: Vec<String> = peers
                .iter()
                .filter_map(|p| match &self.arena.nodes[n].edges[p].want {
                    Want::Registry { package, .. } => Some(package.clone()),
                    Want::Elsewhere { .. } => None,
                })
                .collect();
            self.prefetch(packages).await;
            for name in peers {
                if !self.arena.nodes[n].live || self.arena.edge_valid(n, &name) == Some(true) {
                    continue;
                }
                budget = budget.saturating_sub(1);
                if budget == 0 {
                    return Err(TreeError::TooManyNodes {
                        limit: self.opts.max_nodes,
                    });
                }
                let edge = self.arena.nodes[n].edges[&name].clone();
                let Want::Registry { package, selector } = &edge.want else {
                    continue;
                };
                let Some(Ok(doc)) = self.cache.get(package).map(|r| r.as_ref().map(Arc::clone))
                else {
                    // Left for the node's own step, which reports it.
                    continue;
                };
                let own = pick(&doc, selector, &self.opts.engines).ok();
                let theirs =
                    self.arena.nodes[requester]
                        .edges
                        .get(&name)
                        .and_then(|e| match &e.want {
                            Want::Registry {
                                package: p,
                                selector: s,
                            } if p == package => Some((e.want.clone(), s.clone())),
                            _ => None,
                        });
                let version = match theirs {
                    Some((their_want, their_sel)) => {
                        let first = pick(&doc, &their_sel, &self.opts.engines).ok();
                        match (first, own) {
                            (Some(f), _) if satisfies(&edge.want, package, f) => Some(f),
                            (_, Some(o)) if satisfies(&their_want, package, o) => Some(o),
                            // The set would hold a version this peer edge rejects: place-dep
                            // leaves it out ("accept what's there") and the node's own step
                            // resolves the edge later.
                            _ => None,
                        }
                    }
                    None => own,
                };
                let Some(version) = version.map(str::to_string) else {
                    continue;
                };
                let manifest = doc.versions.get(&version).cloned().flatten();
                if let Some(p) = self.place(n, &name, &edge, package, &version, manifest)? {
                    queue.push(p);
                    stack.push(p);
                }
            }
        }
        Ok(())
    }

    fn place(
        &mut self,
        from: usize,
        name: &str,
        edge: &Edge,
        package: &str,
        version: &str,
        manifest: Option<Manifest>,
    ) -> Result<Option<usize>, TreeError> {
        let a = &self.arena;
        let start = a.deepest_nesting_target(from, name);
        let mut chosen: Option<(usize, Can)> = None;
        for t in a.ancestry(start) {
            if t != 0 {
                if let Some(te) = a.nodes[t].edges.get(name) {
                    if te.kind.peer() {
                        continue;
                    }
                }
            }
            let can = a.can_place(t, from, name, edge, package, version);
            if can == Can::Conflict {
                break;
            }
            chosen = Some((t, can));
        }
        if chosen.is_none() && edge.kind.peer() && from != 0 {
            // A peer that can go nowhere its dependent can see: npm overrides the conflict for a
            // package that is not the project's own ("overriding peer dependency") and leaves
            // the peer unmet rather than breaking what is placed.
            self.failed.insert((from, name.to_string()));
            return Ok(None);
        }
        let a = &self.arena;
        let (target, can) = chosen.unwrap_or_else(|| {
            let can = if a.nodes[start].children.contains_key(name) {
                Can::Replace
            } else {
                Can::Ok
            };
            (start, can)
        });
        if can == Can::Keep {
            return Ok(None);
        }
        // A package that is its own ancestor (a cycle through a conflict) is linked, not copied.
        for p in a.ancestry(target) {
            let n = &a.nodes[p];
            if p != 0 && n.name == name && n.package == package && n.version == version {
                return Ok(None);
            }
        }
        let old = self.arena.nodes[target].children.get(name).copied();
        let id = if let (Can::Replace, Some(old)) = (can, old) {
            let kids: Vec<(String, usize)> = self.arena.nodes[old]
                .children
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect();
            self.arena.nodes[target].children.remove(name);
            self.arena.nodes[old].children.clear();
            self.arena.remove(old);
            let id =
                self.arena
                    .add_node(target, name, package, version, manifest.as_ref(), false)?;
            // Node.replace: the new copy takes over the old one's children.
            for (k, v) in kids {
                self.arena.nodes[v].parent = Some(id);
                self.arena.nodes[id].children.insert(k, v);
            }
            id
        } else {
            if let Some(old) = old {
                self.arena.remove(old);
            }
            self.arena
                .add_node(target, name, package, version, manifest.as_ref(), false)?
        };
        // place-dep.js: copies below the target that this one makes redundant go.
        let same: Vec<usize> = (1..self.arena.nodes.len())
            .filter(|&i| {
                let n = &self.arena.nodes[i];
                n.live && n.name == name && i != id && self.arena.is_descendant(i, target)
            })
            .collect();
        for i in same {
            self.arena.prune_dedupable(i);
            let kids: Vec<usize> = self.arena.nodes[i].children.values().copied().collect();
            if self.arena.nodes[i].live {
                for k in kids {
                    self.arena.prune_dedupable(k);
                }
            }
        }
        Ok(Some(id))
    }

    async fn run(&mut self, root: usize) -> Result<(), TreeError> {
        let mut queue = vec![root];
        let mut seen: HashSet<usize> = HashSet::new();
        let mut rounds = 0usize;
        loop {
            while !queue.is_empty() {
                // The queue is processed in (depth, location) order, as build-ideal-tree sorts it.
                let (i, _) = queue
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, &n)| (self.arena.nodes[n].depth, self.arena.location(n)))
                    .expect("not empty");
                let id = queue.swap_remove(i);
                if !self.arena.nodes[id].live || !seen.insert(id) {
                    continue;
                }
                self.step(id, &mut queue).await?;
            }
            // A replacement or a prune can leave an earlier node with a problem edge again.
            rounds += 1;
            let again: Vec<usize> = (0..self.arena.nodes.len())
                .filter(|&i| self.arena.nodes[i].live && !self.problem_edges(i).is_empty())
                .collect();
            if again.is_empty() || rounds > 8 {
                return Ok(());
            }
            for i in again {
                seen.remove(&i);
                queue.push(i);
            }
        }
    }
}

/// Resolves the tree of `package` at `selector` (the root of the audit). When the chosen version
/// ships `npm-shrinkwrap.json`, the tree is what that file pins.
pub async fn resolve<S: Source>(
    source: &S,
    package: &str,
    selector: &Selector,
    opts: &ResolveOptions,
) -> Result<Tree, TreeError> {
    let doc = source.packument(package).await.map_err(TreeError::Root)?;
    let version = pick(&doc, selector, &opts.engines)
        .map_err(TreeError::Root)?
        .to_string();
    let manifest = doc.versions.get(&version).cloned().flatten();
    if let Some(m) = manifest.as_ref().filter(|m| m.has_shrinkwrap) {
        let bytes = source
            .shrinkwrap(package, &version, m)
            .await
            .map_err(TreeError::Shrinkwrap)?;
        if let Some(bytes) = bytes {
            return shrinkwrap::tree(&bytes, package, &version, opts.max_nodes);
        }
    }
    let mut r = Resolver {
        source,
        opts,
        cache: HashMap::from([(package.to_string(), Ok(doc))]),
        arena: Arena::new(opts.max_nodes),
        failed: HashSet::new(),
        problems: Vec::new(),
    };
    let spec = match selector {
        Selector::Version(_) | Selector::Range(_) => version.clone(),
        Selector::Tag(t) => t.clone(),
    };
    r.arena.add_edge(0, package, &spec, Kind::Prod);
    let root = r
        .arena
        .add_node(0, package, package, &version, manifest.as_ref(), false)?;
    r.run(root).await?;
    r.arena.prune_extraneous();
    let paths = r.arena.paths(root);
    let problems = std::mem::take(&mut r.problems)
        .into_iter()
        .filter(|(from, _)| r.arena.nodes[*from].live)
        .map(|(from, mut p)| {
            p.from = if from == root {
                Vec::new()
            } else {
                r.arena.first_path_labels(from, &paths)
            };
            p
        })
        .collect();
    // Bundled dependencies are reported as nodes inside their parent, not fetched.
    let bundles: Vec<(usize, String, String)> = (0..r.arena.nodes.len())
        .filter(|&i| i != 0 && r.arena.nodes[i].live && !r.arena.nodes[i].has_shrinkwrap)
        .flat_map(|i| {
            let n = &r.arena.nodes[i];
            n.bundled
                .iter()
                .filter(|b| !n.children.contains_key(*b))
                .filter_map(|b| n.edges.get(b).map(|e| (i, b.clone(), e.spec.clone())))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut problems: Vec<TreeProblem> = problems;
    for (i, name, spec) in bundles {
        let mut from = if i == root {
            Vec::new()
        } else {
            r.arena.first_path_labels(i, &paths)
        };
        if from.is_empty() {
            from.push(r.arena.label(i));
        }
        problems.push(TreeProblem {
            from,
            name,
            spec,
            reason: "bundled in its parent's tarball (bundleDependencies): not fetched from the \
                     registry"
                .into(),
            optional: false,
            unavailable: false,
        });
    }
    Ok(r.arena.finish(TreeSource::Registry, root, problems))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// Packuments from JSON values; a name mapped to a string fails with that message.
    pub(crate) struct MapSource(pub HashMap<String, Value>);

    impl Source for MapSource {
        async fn packument(&self, name: &str) -> Result<Arc<Packument>, String> {
            match self.0.get(name) {
                Some(Value::String(e)) => Err(e.clone()),
                Some(v) => Packument::from_slice(v.to_string().as_bytes()).map(Arc::new),
                None => Err(format!("{name}: 404 Not Found")),
            }
        }
        async fn shrinkwrap(
            &self,
            name: &str,
            version: &str,
            _: &Manifest,
        ) -> Result<Option<Vec<u8>>, String> {
            Ok(self
                .0
                .get(&format!("{name}@{version}:shrinkwrap"))
                .map(|v| v.to_string().into_bytes()))
        }
    }

    /// `pkg("a", "1.0.0", [("1.0.0", {deps…})…])`-style builder: versions with manifests.
    fn pkg(latest: &str, versions: &[(&str, Value)]) -> Value {
        let mut vs = serde_json::Map::new();
        for (v, m) in versions {
            vs.insert(v.to_string(), m.clone());
        }
        json!({"dist-tags": {"latest": latest}, "versions": vs})
    }

    fn run(src: &[(&str, Value)], root: &str, range: &str) -> Tree {
        run_with(src, root, range, &ResolveOptions::default()).unwrap()
    }

    fn run_with(
        src: &[(&str, Value)],
        root: &str,
        range: &str,
        opts: &ResolveOptions,
    ) -> Result<Tree, TreeError> {
        let s = MapSource(
            src.iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(resolve(&s, root, &Selector::Range(range.into()), opts))
    }

    fn ids(t: &Tree) -> Vec<String> {
        t.nodes
            .iter()
            .map(|n| format!("{}@{}", n.name, n.version))
            .collect()
    }

    fn locs(t: &Tree) -> Vec<String> {
        let mut l: Vec<String> = t
            .nodes
            .iter()
            .flat_map(|n| {
                n.locations
                    .iter()
                    .map(move |l| format!("{l}={}", n.version))
            })
            .collect();
        l.sort();
        l
    }

    #[test]
    fn latest_tag_then_highest_and_prereleases_only_when_asked() {
        let t = run(
            &[
                (
                    "root",
                    pkg(
                        "1.0.0",
                        &[(
                            "1.0.0",
                            json!({"dependencies": {"a": "^1.0.0", "b": "^2.0.0-beta.1", "c": "next"}}),
                        )],
                    ),
                ),
                (
                    "a",
                    pkg(
                        "1.1.0",
                        &[
                            ("1.1.0", json!({})),
                            ("1.2.0", json!({})),
                            ("1.3.0-rc.1", json!({})),
                        ],
                    ),
                ),
                (
                    "b",
                    pkg(
                        "1.0.0",
                        &[("1.0.0", json!({})), ("2.0.0-beta.2", json!({}))],
                    ),
                ),
                (
                    "c",
                    json!({"dist-tags": {"latest": "1.0.0", "next": "3.0.0-alpha"}, "versions": {"1.0.0": {}, "3.0.0-alpha": {}}}),
                ),
            ],
            "root",
            "*",
        );
        assert_eq!(ids(&t), ["a@1.1.0", "b@2.0.0-beta.2", "c@3.0.0-alpha"]);
        assert_eq!(t.root, "root@1.0.0");
        assert_eq!(t.source, TreeSource::Registry);
    }

    #[test]
    fn hoists_dedupes_and_nests_on_conflict() {
        let t = run(
            &[
                (
                    "root",
                    pkg(
                        "1.0.0",
                        &[(
                            "1.0.0",
                            json!({"dependencies": {"a": "^1", "b": "^1", "c": "^1"}}),
                        )],
                    ),
                ),
                (
                    "a",
                    pkg(
                        "1.0.0",
                        &[("1.0.0", json!({"dependencies": {"c": "^2", "d": "^1"}}))],
                    ),
                ),
                (
                    "b",
                    pkg("1.0.0", &[("1.0.0", json!({"dependencies": {"d": "^1"}}))]),
                ),
                (
                    "c",
                    pkg("2.0.0", &[("1.0.0", json!({})), ("2.0.0", json!({}))]),
                ),
                ("d", pkg("1.0.0", &[("1.0.0", json!({}))])),
            ],
            "root",
            "*",
        );
        // The root package is installed at node_modules/root; its deps hoist beside it.
        assert_eq!(
            locs(&t),
            [
                "node_modules/a/node_modules/c=2.0.0",
                "node_modules/a=1.0.0",
                "node_modules/b=1.0.0",
                "node_modules/c=1.0.0",
                "node_modules/d=1.0.0",
            ]
        );
        let d = t.nodes.iter().find(|n| n.name == "d").unwrap();
        assert_eq!(d.paths.len(), 2, "{:?}", d.paths);
        assert_eq!(d.paths[0], ["a@1.0.0", "d@1.0.0"]);
    }

    #[test]
    fn peers_are_installed_optional_peers_are_not_optional_deps_are() {
        let t = run(
            &[
                (
                    "root",
                    pkg(
                        "1.0.0",
                        &[(
                            "1.0.0",
                            json!({
                    "dependencies": {"a": "^1"},
                    "optionalDependencies": {"fsevents": "^2"}}),
                        )],
                    ),
                ),
                (
                    "a",
                    pkg(
                        "1.0.0",
                        &[(
                            "1.0.0",
                            json!({
                    "peerDependencies": {"p": "^1", "q": "^1"},
                    "peerDependenciesMeta": {"q": {"optional": true}}}),
                        )],
                    ),
                ),
                ("p", pkg("1.0.0", &[("1.0.0", json!({}))])),
                ("q", pkg("1.0.0", &[("1.0.0", json!({}))])),
                (
                    "fsevents",
                    pkg("2.3.3", &[("2.3.3", json!({"os": ["darwin"]}))]),
                ),
            ],
            "root",
            "*",
        );
        assert_eq!(ids(&t), ["a@1.0.0", "fsevents@2.3.3", "p@1.0.0"]);
        let f = t.nodes.iter().find(|n| n.name == "fsevents").unwrap();
        assert!(f.optional);
        // An optional peer another edge needs is installed.
        let t = run(
            &[
                (
                    "root",
                    pkg(
                        "1.0.0",
                        &[("1.0.0", json!({"dependencies": {"a": "^1", "q": "^1"}}))],
                    ),
                ),
                (
                    "a",
                    pkg(
                        "1.0.0",
                        &[(
                            "1.0.0",
                            json!({
                    "peerDependencies": {"q": "^1"},
                    "peerDependenciesMeta": {"q": {"optional": true}}}),
                        )],
                    ),
                ),
                ("q", pkg("1.0.0", &[("1.0.0", json!({}))])),
            ],
            "root",
            "*",
        );
        assert_eq!(ids(&t), ["a@1.0.0", "q@1.0.0"]);
    }

    #[test]
    fn aliases_install_the_named_package() {
        let t = run(
            &[
                (
                    "root",
                    pkg(
                        "1.0.0",
                        &[(
                            "1.0.0",
                            json!({"dependencies": {"sw": "npm:string-width@^4", "string-width": "^5"}}),
                        )],
                    ),
                ),
                (
                    "string-width",
                    pkg("5.1.0", &[("4.2.3", json!({})), ("5.1.0", json!({}))]),
                ),
            ],
            "root",
            "*",
        );
        assert_eq!(ids(&t), ["string-width@4.2.3", "string-width@5.1.0"]);
        let sw = &t.nodes[0];
        assert_eq!(sw.locations, ["node_modules/sw"]);
    }

    #[test]
    fn cycles_and_self_dependencies_terminate() {
        let t = run(
            &[
                (
                    "root",
                    pkg(
                        "1.0.0",
                        &[("1.0.0", json!({"dependencies": {"a": "^1", "root": "^1"}}))],
                    ),
                ),
                (
                    "a",
                    pkg(
                        "1.0.0",
                        &[("1.0.0", json!({"dependencies": {"b": "^1", "a": "*"}}))],
                    ),
                ),
                (
                    "b",
                    pkg(
                        "1.0.0",
                        &[("1.0.0", json!({"dependencies": {"a": "^1", "root": "^1"}}))],
                    ),
                ),
            ],
            "root",
            "*",
        );
        assert_eq!(ids(&t), ["a@1.0.0", "b@1.0.0"]);
    }

    #[test]
    fn failures_are_problems_not_nodes() {
        let t = run(
            &[
                (
                    "root",
                    pkg(
                        "1.0.0",
                        &[(
                            "1.0.0",
                            json!({"dependencies": {
                    "gone": "^1", "broken": "^1", "nomatch": "^9", "g": "github:u/r",
                    "b": "^1"}, "bundleDependencies": ["b"]}),
                        )],
                    ),
                ),
                ("broken", json!("registry answered 500")),
                ("nomatch", pkg("1.0.0", &[("1.0.0", json!({}))])),
            ],
            "root",
            "*",
        );
        assert!(t.nodes.is_empty());
        let mut p: Vec<(String, bool)> = t
            .problems
            .iter()
            .map(|p| (p.name.clone(), p.unavailable))
            .collect();
        p.sort();
        assert_eq!(
            p,
            [
                ("b", false),
                ("broken", true),
                ("g", false),
                ("gone", true),
                ("nomatch", true)
            ]
            .map(|(a, b)| (a.to_string(), b))
        );
    }

    #[test]
    fn max_nodes_stops_a_hostile_tree() {
        // A chain 2,000 deep and a version listing 3,000 dependencies.
        let mut src: Vec<(String, Value)> = (0..2000)
            .map(|i| {
                let deps = json!({"dependencies": {format!("n{}", i + 1): "^1"}});
                (format!("n{i}"), pkg("1.0.0", &[("1.0.0", deps)]))
            })
            .collect();
        let wide: serde_json::Map<String, Value> =
            (0..3000).map(|i| (format!("w{i}"), json!("^1"))).collect();
        src.push((
            "wide".into(),
            pkg("1.0.0", &[("1.0.0", json!({"dependencies": wide}))]),
        ));
        for i in 0..3000 {
            src.push((format!("w{i}"), pkg("1.0.0", &[("1.0.0", json!({}))])));
        }
        let src: Vec<(&str, Value)> = src.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        let opts = ResolveOptions {
            max_nodes: 500,
            ..ResolveOptions::default()
        };
        for root in ["n0", "wide"] {
            let err = run_with(&src, root, "*", &opts).unwrap_err();
            assert_eq!(err, TreeError::TooManyNodes { limit: 500 });
            assert!(err.to_string().contains("--max-nodes"));
        }
        let t = run_with(&src, "n1900", "*", &opts).unwrap();
        assert_eq!(t.nodes.len(), 99);
    }

    #[test]
    fn shrinkwrap_pins_the_tree() {
        let t = run(
            &[
                (
                    "root",
                    pkg(
                        "1.0.0",
                        &[(
                            "1.0.0",
                            json!({"_hasShrinkwrap": true, "dependencies": {"a": "^1"}}),
                        )],
                    ),
                ),
                (
                    "root@1.0.0:shrinkwrap",
                    json!({"lockfileVersion": 3, "packages": {
                    "": {"dependencies": {"a": "^1"}},
                    "node_modules/a": {"version": "1.0.1"}}}),
                ),
                ("a", pkg("1.9.0", &[("1.9.0", json!({}))])),
            ],
            "root",
            "*",
        );
        assert_eq!(t.source, TreeSource::Shrinkwrap);
        assert_eq!(ids(&t), ["a@1.0.1"]);
    }
}

#[cfg(test)]
mod peer_set_tests {
    use super::tests::MapSource;
    use super::*;
    use serde_json::{json, Value};

    fn pkg(latest: &str, versions: &[(&str, Value)]) -> Value {
        let vs: serde_json::Map<String, Value> = versions
            .iter()
            .map(|(v, m)| (v.to_string(), m.clone()))
            .collect();
        json!({"dist-tags": {"latest": latest}, "versions": vs})
    }

    fn locs(src: &[(&str, Value)], root: &str) -> Vec<String> {
        let s = MapSource(
            src.iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let t = rt
            .block_on(resolve(
                &s,
                root,
                &Selector::Range("*".into()),
                &ResolveOptions::default(),
            ))
            .unwrap();
        let mut l: Vec<String> = t
            .nodes
            .iter()
            .flat_map(|n| {
                n.locations
                    .iter()
                    .map(move |l| format!("{l}={}", n.version))
            })
            .collect();
        l.sort();
        l
    }

    /// @shopify/dev-mcp 1.16.0 in small: the root pins `d`@2 (@react-router/dev) and `rr`@2
    /// (react-router) and depends on `h` (@shopify/hydrogen), whose peers pin `d`@1 and `rr`@1;
    /// each `d` depends on its own `n` (@react-router/node), which peers on `rr` at the same
    /// version. npm 11 gives the top to h's peer set and nests the root's own copies under it
    /// (n@2 under d@2), as in fixtures/tree/oracle's live run of 2026-12-01.
    #[test]
    fn a_pinned_peer_set_takes_the_top_and_the_roots_own_copies_nest() {
        let d = |v: &str| {
            (
                v.to_string(),
                json!({"dependencies": {"n": v}, "peerDependencies": {"rr": format!("^{v}")}}),
            )
        };
        let n = |v: &str| (v.to_string(), json!({"peerDependencies": {"rr": v}}));
        let versions = |list: Vec<(String, Value)>| {
            let vs: serde_json::Map<String, Value> = list.into_iter().collect();
            json!({"dist-tags": {"latest": "2.0.0"}, "versions": vs})
        };
        let src = [
            (
                "r",
                pkg(
                    "1.0.0",
                    &[(
                        "1.0.0",
                        json!({"dependencies": {"d": "2.0.0", "h": "1.0.0", "rr": "2.0.0"}}),
                    )],
                ),
            ),
            (
                "h",
                pkg(
                    "1.0.0",
                    &[(
                        "1.0.0",
                        json!({"peerDependencies": {"d": "1.0.0", "rr": "1.0.0"}}),
                    )],
                ),
            ),
            ("d", versions(vec![d("1.0.0"), d("2.0.0")])),
            ("n", versions(vec![n("1.0.0"), n("2.0.0")])),
            (
                "rr",
                versions(vec![
                    ("1.0.0".into(), json!({})),
                    ("2.0.0".into(), json!({})),
                ]),
            ),
        ];
        // Where each copy of d and rr goes is what npm's lockfile shows; both n's are installed
        // (npm nests n@2 under d@2 where mcp-audit hoists it: the set is the same).
        let l = locs(&src, "r");
        for want in [
            "node_modules/d=1.0.0",
            "node_modules/h=1.0.0",
            "node_modules/r/node_modules/d=2.0.0",
            "node_modules/r/node_modules/rr=2.0.0",
            "node_modules/rr=1.0.0",
        ] {
            assert!(l.contains(&want.to_string()), "{want}: {l:?}");
        }
        let ns: Vec<&String> = l.iter().filter(|x| x.contains("/n=")).collect();
        assert_eq!(ns.len(), 2, "{l:?}");
        assert_eq!(l.len(), 7, "{l:?}");
    }

    /// A peer that fits nowhere its dependent can see is left unmet (npm's "overriding peer
    /// dependency"), not forced over a copy another package needs: here `o` peers on z@^4 and
    /// `p` on z@^3, both dependencies of the root package's `s`, whose own peer accepts either.
    #[test]
    fn a_peer_conflict_leaves_the_later_peer_unmet() {
        let src = [
            (
                "r",
                pkg("1.0.0", &[("1.0.0", json!({"dependencies": {"s": "^1"}}))]),
            ),
            (
                "s",
                pkg(
                    "1.0.0",
                    &[(
                        "1.0.0",
                        json!({"dependencies": {"o": "^1", "p": "^1"},
                               "peerDependencies": {"z": "^3.0.0 || ^4.0.0"}}),
                    )],
                ),
            ),
            (
                "o",
                pkg(
                    "1.0.0",
                    &[("1.0.0", json!({"peerDependencies": {"z": "^4.0.0"}}))],
                ),
            ),
            (
                "p",
                pkg(
                    "1.0.0",
                    &[("1.0.0", json!({"peerDependencies": {"z": "^3.0.0"}}))],
                ),
            ),
            (
                "z",
                pkg("4.1.0", &[("3.5.0", json!({})), ("4.1.0", json!({}))]),
            ),
        ];
        assert_eq!(
            locs(&src, "r"),
            [
                "node_modules/o=1.0.0",
                "node_modules/p=1.0.0",
                "node_modules/s=1.0.0",
                "node_modules/z=4.1.0",
            ]
        );
    }

    /// Hostile peer graphs terminate: mutual peers, a self peer, and a peer on a package that
    /// only has versions the edge rejects.
    #[test]
    fn peer_cycles_and_impossible_peers_terminate() {
        let src = [
            (
                "r",
                pkg("1.0.0", &[("1.0.0", json!({"dependencies": {"a": "^1"}}))]),
            ),
            (
                "a",
                pkg(
                    "1.0.0",
                    &[(
                        "1.0.0",
                        json!({"peerDependencies": {"b": "^1", "a": "^1", "c": "^9"}}),
                    )],
                ),
            ),
            (
                "b",
                pkg(
                    "1.0.0",
                    &[("1.0.0", json!({"peerDependencies": {"a": "^1"}}))],
                ),
            ),
            ("c", pkg("1.0.0", &[("1.0.0", json!({}))])),
        ];
        assert_eq!(
            locs(&src, "r"),
            ["node_modules/a=1.0.0", "node_modules/b=1.0.0"]
        );
    }

    /// Part of @browserbasehq/mcp-server-browserbase 2.4.3's tree: the root wants zod@^3; its
    /// dependency `s` (stagehand) has a peer zod@^3 || ^4 and an optional dependency `o`
    /// (ollama-ai-provider-v2) with a peer zod@^4. npm 11 puts zod@4 at the top, where the peer
    /// can be met, and nests the root's zod@3 under the root
    /// (fixtures/tree/oracle/locks/_browserbasehq_mcp-server-browserbase.json).
    #[test]
    fn a_peer_that_can_only_go_up_replaces_a_copy_that_can_nest() {
        let src = [
            (
                "r",
                pkg(
                    "1.0.0",
                    &[("1.0.0", json!({"dependencies": {"s": "^1", "z": "^3.0.0"}}))],
                ),
            ),
            (
                "s",
                pkg(
                    "1.0.0",
                    &[(
                        "1.0.0",
                        json!({"peerDependencies": {"z": "^3.0.0 || ^4.0.0"},
                               "optionalDependencies": {"o": "^1"}}),
                    )],
                ),
            ),
            (
                "o",
                pkg(
                    "1.0.0",
                    &[("1.0.0", json!({"peerDependencies": {"z": "^4.0.0"}}))],
                ),
            ),
            (
                "z",
                pkg("4.1.0", &[("3.5.0", json!({})), ("4.1.0", json!({}))]),
            ),
        ];
        assert_eq!(
            locs(&src, "r"),
            [
                "node_modules/o=1.0.0",
                "node_modules/r/node_modules/z=3.5.0",
                "node_modules/s=1.0.0",
                "node_modules/z=4.1.0",
            ]
        );
    }
}
