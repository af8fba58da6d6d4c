//! `node [node flags] path`: a local script (or npx started the long way).

use super::*;

/// Node options that take the next word as their value.
const NODE_VALUE_FLAGS: &[&str] = &[
    "-r",
    "--require",
    "--import",
    "--loader",
    "--experimental-loader",
    "-C",
    "--conditions",
    "--input-type",
    "--title",
    "--inspect-port",
    "--env-file",
    "--stack-size",
    "--max-old-space-size",
];

pub(super) fn node(
    argv: &[String],
    rest: &[String],
    env: &mut BTreeMap<String, String>,
    depth: usize,
) -> Launch {
    let mut i = 0;
    while i < rest.len() {
        let a = rest[i].as_str();
        if matches!(a, "-e" | "--eval" | "-p" | "--print") || a.starts_with("--eval=") {
            return Launch::Other {
                command: argv.join(" "),
            };
        }
        if a == "--" {
            i += 1;
            break;
        }
        if !a.starts_with('-') {
            break;
        }
        i += if NODE_VALUE_FLAGS.contains(&a) { 2 } else { 1 };
    }
    let Some(path) = rest.get(i) else {
        return Launch::Other {
            command: argv.join(" "),
        };
    };
    // `node …/npm/bin/npx-cli.js -y pkg` is npx started the long way.
    let script = program_name(path);
    if depth < MAX_DEPTH && matches!(script.as_str(), "npx-cli.js" | "npm-cli.js") {
        let mut again = vec![if script == "npx-cli.js" { "npx" } else { "npm" }.to_string()];
        again.extend_from_slice(&rest[i + 1..]);
        return classify(&again, env, depth + 1);
    }
    Launch::Node { path: path.clone() }
}
