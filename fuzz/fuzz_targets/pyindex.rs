//! PyPI index answers: arbitrary bytes as a simple API page (PEP 691 JSON or PEP 503 HTML,
//! whichever the first byte suggests, as the scanner reads them) and as a JSON API document.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_audit::registry::pypi::{parse_json_project, parse_simple};
use std::sync::OnceLock;
use url::Url;

fn page() -> &'static Url {
    static PAGE: OnceLock<Url> = OnceLock::new();
    PAGE.get_or_init(|| Url::parse("https://pypi.example/simple/demo/").expect("a URL"))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(project) = parse_simple(page(), data) {
        let _ = project.versions();
    }
    let _ = parse_json_project(page(), data);
});
