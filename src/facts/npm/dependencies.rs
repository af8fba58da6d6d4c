//! `scripts.*` and `dependencies.*`: what installing this version runs and pulls in.

use super::packument::{VersionDoc, DEPENDENCY_KINDS, INSTALL_SCRIPTS};
use crate::facts::deps::{self, Dependency, RangeClass};
use crate::facts::{DependencyFacts, ScriptFacts};

pub(super) fn script_facts(doc: &VersionDoc) -> ScriptFacts {
    let commands = doc.install_scripts.clone();
    let mut names: Vec<String> = INSTALL_SCRIPTS
        .iter()
        .filter(|n| commands.contains_key(**n))
        .map(|n| n.to_string())
        .collect();
    let flagged = doc.has_install_script.unwrap_or(false);
    if flagged && names.is_empty() {
        // npm sets the flag without a script when the package has a binding.gyp: install then
        // runs `node-gyp rebuild`, which compiles and runs code from the tarball.
        names.push("install (implicit node-gyp rebuild)".to_string());
    }
    ScriptFacts {
        has_install_script: !names.is_empty(),
        install_scripts: names,
        install_commands: commands,
    }
}

pub(super) fn dependency_facts(doc: &VersionDoc) -> DependencyFacts {
    let mut list = Vec::new();
    for (kind, map) in DEPENDENCY_KINDS.iter().zip(&doc.dependencies) {
        let Some(map) = map else { continue };
        for (name, spec) in &map.0 {
            // optionalDependencies are repeated in dependencies by npm; count them once.
            if list.iter().any(|d: &Dependency| &d.name == name) {
                continue;
            }
            let spec = spec.clone().unwrap_or_default();
            list.push(Dependency {
                name: name.clone(),
                class: deps::classify(&spec),
                spec,
                kind: kind.to_string(),
            });
        }
    }
    let pick = |pred: &dyn Fn(RangeClass) -> bool| -> Vec<String> {
        list.iter()
            .filter(|d| pred(d.class))
            .map(|d| format!("{}@{}", d.name, d.spec))
            .collect()
    };
    let registry_deps = list.iter().filter(|d| d.class.is_registry()).count() as u64;
    let floating = list.iter().filter(|d| d.class.floats()).count() as u64;
    DependencyFacts {
        count: list.len() as u64,
        floating_percent: (floating * 100).checked_div(registry_deps).unwrap_or(0),
        wildcard: pick(&|c| c == RangeClass::Wildcard),
        open_upper: pick(&|c| c == RangeClass::OpenUpper),
        caret_zero: pick(&|c| c == RangeClass::CaretZero),
        remote: pick(&|c| matches!(c, RangeClass::Git | RangeClass::Url)),
        local: pick(&|c| matches!(c, RangeClass::File | RangeClass::Link | RangeClass::Other)),
        list,
    }
}
