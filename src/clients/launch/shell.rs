//! Shell wrappers whose syntax needs more than a word split: PowerShell's `-Command`.

use super::*;

pub(super) fn powershell(
    args: &[String],
    env: &mut BTreeMap<String, String>,
    depth: usize,
) -> Option<Launch> {
    for (i, a) in args.iter().enumerate() {
        let lower = a.to_ascii_lowercase();
        let name = lower.trim_start_matches(['-', '/']);
        if !a.starts_with(['-', '/']) {
            continue;
        }
        // PowerShell accepts any unambiguous prefix of a parameter name.
        if matches!(name, "e" | "ec") || (name.len() >= 2 && "encodedcommand".starts_with(name)) {
            return Some(Launch::Shell {
                command: format!("{a} {}", args.get(i + 1).cloned().unwrap_or_default()),
            });
        }
        if (name == "c" || "command".starts_with(name)) && !name.is_empty() {
            let script = args[i + 1..].join(" ");
            if script.is_empty() {
                return None;
            }
            // PowerShell's own syntax is not POSIX; look through only the plainest commands.
            return Some(inner(&script, false, env, depth));
        }
    }
    None
}
