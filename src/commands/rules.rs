//! `mcp-audit rules`: the rules in effect, as a table.

use super::{print_table, Fatal};
use crate::settings::Settings;

pub fn run(settings: &Settings) -> Result<u8, Fatal> {
    // Rule files can come from a cloned repository; their text is shown as any other input.
    let clean = &settings.output.sanitizer;
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(settings.output.width)
        .set_header(vec!["Rule", "Category", "Severity", "Weight", "Title"]);
    for r in &settings.rules.rules {
        t.add_row(vec![
            clean.inline(&r.id),
            clean.inline(&r.category),
            r.severity.as_str().to_string(),
            r.weight.to_string(),
            clean.text(&r.title),
        ]);
    }
    print_table(clean, &format!("{t}\n"));
    Ok(0)
}
