//! The `Scanner` that benches and tests build over a loopback registry: the embedded rules, the
//! default gate, the public-good trust root, the machine's clock, no tarballs and no tree. A
//! caller changes what it measures or tests with struct-update syntax or by assigning a field.
//! Benches include this file by `#[path]`, as they do `registry.rs`.
#![allow(dead_code)]

use std::sync::Arc;

use mcp_audit::pipeline::scan::{Registries, Scanner};
use mcp_audit::report::Policy;
use mcp_audit::rules::RuleSet;
use mcp_audit::verify::TrustedRoot;

pub fn scanner(registries: Registries, registry_url: &str) -> Scanner {
    let rules = RuleSet::embedded().unwrap();
    Scanner {
        registries,
        policy: Policy {
            registry: registry_url.to_string(),
            rules: rules.rules.len(),
            ..Policy::default()
        },
        rules,
        now: chrono::Utc::now(),
        trusted_root: Arc::new(TrustedRoot::public_good()),
        trust_window_days: 365,
        content_limits: None,
        tree: None,
    }
}
