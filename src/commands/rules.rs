//! `mcp-audit rules`: the rules in effect, as a table. With a policy file in effect, its rule
//! overrides are applied, as `scan` applies them, and the output says which file and what changed.

use super::{print_table, Fatal};
use crate::settings::Settings;

pub fn run(settings: &Settings) -> Result<u8, Fatal> {
    // Rule files can come from a cloned repository; their text is shown as any other input.
    let clean = &settings.output.sanitizer;
    let file = settings.gate.file.as_deref();
    let overridden = |id: &str| file.and_then(|f| f.rules.get(id));
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(settings.output.width)
        .set_header(vec!["Rule", "Category", "Severity", "Weight", "Title"]);
    for r in &settings.rules.rules {
        // A value the policy file set is marked, so the table does not pass it off as built in.
        let o = overridden(&r.id);
        let mark = |set: bool| if set { " *" } else { "" };
        t.add_row(vec![
            clean.inline(&r.id),
            clean.inline(&r.category),
            format!(
                "{}{}",
                r.severity.as_str(),
                mark(o.is_some_and(|o| o.severity.is_some()))
            ),
            format!(
                "{}{}",
                r.weight,
                mark(o.is_some_and(|o| o.weight.is_some()))
            ),
            clean.text(&r.title),
        ]);
    }
    let mut text = format!("{t}\n");
    if let Some(f) = file {
        let disabled: Vec<&str> = f
            .rules
            .iter()
            .filter(|(_, o)| o.enabled == Some(false))
            .map(|(id, _)| id.as_str())
            .collect();
        text.push_str(&format!(
            "Policy file {} is in effect: its rule overrides are applied (* marks a value it sets).\n",
            f.path.display()
        ));
        if !disabled.is_empty() {
            text.push_str(&format!(
                "Disabled by it, not listed: {}.\n",
                disabled.join(", ")
            ));
        }
    }
    print_table(clean, &text);
    Ok(0)
}
