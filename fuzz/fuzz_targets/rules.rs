//! Rule files: arbitrary text as one user rule (named after the `id` it declares, so the
//! loader goes past the id check) and as `scoring.toml`, loaded next to nothing else; a rule
//! that loads is evaluated against a fixed facts document with known, unknown and odd values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_audit::rules::RuleSet;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let id = toml::from_str::<toml::Value>(text)
        .ok()
        .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_string))
        .unwrap_or_else(|| "fuzz".to_string());
    let facts = json!({
        "name": "demo", "version": "1.0.0",
        "content": {"complete": true, "path_problem_count": 2, "path_problems": ["a", "b"],
                    "errors": [], "secret_count": {"$unknown": "not fetched"}},
        "maintainers": {"count": 1, "names": ["x"]},
        "score": -1.5, "deprecated": null, "tags": {"latest": "1.0.0"}
    });
    for name in [format!("{id}.toml"), "scoring.toml".to_string()] {
        let Ok(set) = RuleSet::from_sources(vec![(name, text.to_string())], None) else {
            continue;
        };
        for rule in &set.rules {
            let _ = rule.evaluate(&facts);
        }
    }
});
