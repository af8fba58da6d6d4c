//! Packument parsing and fact derivation: arbitrary bytes as a registry's packument, every
//! version's facts derived and the embedded rules evaluated on them, as a scan would.
#![no_main]

use std::sync::OnceLock;

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use mcp_audit::facts::{derive_facts, DeriveInput, Evidence};
use mcp_audit::rules::RuleSet;
use mcp_audit::facts::npm::{version_document, Packument};

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| RuleSet::embedded().expect("embedded rules load"))
}

fuzz_target!(|data: &[u8]| {
    // The typed view the scan parses, and the one version it reads back in full.
    let Ok(packument) = Packument::from_slice(data) else {
        return;
    };
    let mut versions: Vec<String> = packument.versions.keys().take(4).map(String::from).collect();
    // A version the packument does not have is a path the scan takes too.
    versions.push("1.0.0".to_string());
    let evidence = Evidence::default();
    for version in &versions {
        let facts = derive_facts(&DeriveInput {
            packument: &packument,
            version,
            requested: "latest",
            resolved_via: "dist-tag",
            registry: "https://registry.npmjs.org/",
            now: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            evidence: &evidence,
            trust_window_days: 365,
        });
        let _ = version_document(data, version);
        let _ = rules().evaluate(&facts);
        let _ = serde_json::to_string(&facts).unwrap();
    }
});
