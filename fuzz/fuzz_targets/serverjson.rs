//! server.json descriptions and MCP Registry API pages: arbitrary bytes as a file (the lenient
//! reader, its facts and the rules over them) and as a page of a registry listing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_audit::mcpserver::registry::{parse_page, read_item};
use mcp_audit::mcpserver::{audit, parse, server_facts};
use mcp_audit::report::Policy;
use mcp_audit::rules::RuleSet;
use std::sync::OnceLock;

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| RuleSet::embedded().expect("embedded rules load"))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(server) = parse(data) {
        let facts = server_facts("fuzz.json", &server, "fuzz");
        let _ = serde_json::to_string(&facts).unwrap();
        let _ = audit("fuzz.json", server, rules(), &Policy::default());
    }
    if let Ok(page) = parse_page(data) {
        for item in page.items.iter().take(64) {
            let (_, listed, _) = read_item("https://registry.example/", item);
            if let Ok(server) = listed.server {
                let _ = audit(&listed.source, server, rules(), &Policy::default());
            }
        }
    }
});
