//! PyPI runners: `uvx`, `uv tool run`, `pipx run`.

use super::*;

/// uv / pipx options that take the next word as their value.
const PY_VALUE_FLAGS: &[&str] = &[
    "--from",
    "--with",
    "--with-editable",
    "--with-requirements",
    "-w",
    "--python",
    "-p",
    "--index",
    "--default-index",
    "--index-url",
    "-i",
    "--extra-index-url",
    "--find-links",
    "-f",
    "--directory",
    "--project",
    "--config-file",
    "--cache-dir",
    "--constraints",
    "-c",
    "--overrides",
    "--build-constraints",
    "-b",
    "--python-preference",
    "--refresh-package",
    "--reinstall-package",
    "--upgrade-package",
    "-P",
    "--env-file",
    "--index-strategy",
    "--keyring-provider",
    "--resolution",
    "--prerelease",
    "--exclude-newer",
    "--link-mode",
    "--color",
    "--allow-insecure-host",
    "--spec",
    "--pip-args",
    "--backend",
];

pub(super) fn pypi(runner: &str, args: &[String]) -> Option<Launch> {
    let mut from: Option<String> = None;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "--" {
            i += 1;
            break;
        }
        if !a.starts_with('-') {
            break;
        }
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (a, None),
        };
        let takes = PY_VALUE_FLAGS.contains(&name);
        let value = if inline.is_some() {
            inline
        } else if takes {
            i += 1;
            args.get(i).cloned()
        } else {
            None
        };
        if matches!(name, "--from" | "--spec") {
            from = value;
        }
        i += 1;
    }
    let package = from.or_else(|| args.get(i).cloned())?;
    Some(Launch::PyPi {
        runner: runner.to_string(),
        package,
    })
}
