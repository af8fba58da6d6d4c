//! `maintainers.*`: who may publish, and who changed since the previous version.

use std::collections::BTreeSet;

use super::packument::{People, VersionDoc};
use super::{Packument, RegistryShape};
use crate::facts::{Fact, MaintainerFacts};

fn names(p: &Option<People>) -> Option<Vec<String>> {
    p.as_ref()
        .map(|p| p.names.clone())
        .filter(|m| !m.is_empty())
}

pub(super) fn maintainer_facts(
    p: &Packument,
    doc: &VersionDoc,
    prev_doc: &VersionDoc,
    has_previous: bool,
    shape: &RegistryShape,
) -> MaintainerFacts {
    let missing = "the registry returned no maintainers for this package";
    // The version document records who could publish at that time; the top-level list is the
    // current one. Prefer the version's own list and fall back to the top level.
    let current = names(&doc.maintainers).or_else(|| names(&p.maintainers));
    let names_fact = match current {
        Some(m) => Fact::Known(m),
        None => Fact::unknown(missing),
    };
    let diff: Fact<(Vec<String>, Vec<String>)> = if !has_previous {
        Fact::Known((vec![], vec![]))
    } else if !shape.serves_maintainers {
        Fact::unknown(missing)
    } else {
        match (names(&doc.maintainers), names(&prev_doc.maintainers)) {
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
        count: names_fact.map(|n| n.len() as u64),
        names: names_fact,
        added_since_previous: diff.map(|d| d.0.clone()),
        removed_since_previous: diff.map(|d| d.1.clone()),
    }
}
