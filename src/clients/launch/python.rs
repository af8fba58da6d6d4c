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

/// Walks the runner's flags up to the first positional argument (or past `--`), giving `on_flag`
/// each flag's name and value (inline `--x=v`, or the next argument for a flag in
/// `PY_VALUE_FLAGS`); returns the index of the first argument after them.
fn walk_flags(args: &[String], mut on_flag: impl FnMut(&str, Option<String>)) -> usize {
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
        let value = if inline.is_some() {
            inline
        } else if PY_VALUE_FLAGS.contains(&name) {
            i += 1;
            args.get(i).cloned()
        } else {
            None
        };
        on_flag(name, value);
        i += 1;
    }
    i
}

pub(super) fn pypi(runner: &str, args: &[String]) -> Option<Launch> {
    let mut from: Option<String> = None;
    let i = walk_flags(args, |name, value| {
        if matches!(name, "--from" | "--spec") {
            from = value;
        }
    });
    let package = from.or_else(|| args.get(i).cloned())?;
    Some(Launch::PyPi {
        runner: runner.to_string(),
        package,
    })
}

/// Whether `word` runs a Python interpreter: `python`, `python3`, `python3.12`, `py`, with a
/// path or `.exe`.
pub(crate) fn is_python(word: &str) -> bool {
    let base = word.rsplit(['/', '\\']).next().unwrap_or(word);
    let base = base.strip_suffix(".exe").unwrap_or(base);
    base == "python"
        || base == "py"
        || base
            .strip_prefix("python")
            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// `uv run [flags] --with PKG python -m MODULE`: the entry names the distribution that provides
/// the module (`--with`), so that package is what runs and is scanned (the first, when several
/// are given). Without `--with`, or for anything but `python -m`, `None`: a module name is not a
/// distribution name, and guessing one would audit a package that may not be the one installed.
pub(super) fn uv_run_with(args: &[String]) -> Option<Launch> {
    let mut with: Vec<String> = Vec::new();
    let i = walk_flags(args, |name, value| {
        if matches!(name, "--with" | "-w") {
            // `--with a,b` lists several.
            with.extend(
                value
                    .iter()
                    .flat_map(|v| v.split(',').map(str::trim).map(String::from)),
            );
        }
    });
    let command = args.get(i..)?;
    let runs_module =
        command.first().is_some_and(|c| is_python(c)) && command.iter().skip(1).any(|a| a == "-m");
    if !runs_module {
        return None;
    }
    let package = with.into_iter().find(|w| !w.is_empty())?;
    Some(Launch::PyPi {
        runner: "uv run --with".to_string(),
        package,
    })
}
