//! npm runners: `npx`, `npm exec`/`npm x`, `pnpm dlx`/`pnpx`, `yarn dlx`, `bunx`/`bun x`, and the
//! npm configuration a launch adds (its flags and its `npm_config_*` env).

use super::*;

/// The npm configuration a server's launch adds on top of the user's own: the launch's
/// `npm_env` (the entry's `npm_config_*` variables, plus any set by an `env NAME=value`
/// wrapper) as an environment layer, since npm reads them from the environment the client
/// starts it with, and its `npm_config` flags as a command-line layer. Empty for anything but
/// an npm runner, and for `yarn dlx`, which does not read npm's configuration.
///
/// Merge these *after* the user's own layers: [`crate::npmrc::Config::from_layers`] lets a
/// later layer of the same kind win, which is what happens when the client's `env` is laid
/// over the environment it inherited. `${VAR}` is expanded against the entry's `env` only;
/// use [`npm_layers_with_env`] to expand against the inherited environment too.
///
/// Settings that move files (`userconfig`, `globalconfig`, `prefix`) are in these layers, but
/// only [`crate::npmrc::discover`] acts on them: pass it the merged environment and the
/// launch's `npm_config` as its command-line pairs to follow them.
pub fn npm_layers(server: &ServerEntry, launch: &Launch) -> Vec<Layer> {
    npm_layers_with_env(server, launch, &HashMap::new()).0
}

/// [`npm_layers`], expanding `${VAR}` against `base_env` overlaid with the entry's `env` (what
/// the server's process would see), and returning what went wrong doing so.
pub fn npm_layers_with_env(
    server: &ServerEntry,
    launch: &Launch,
    base_env: &HashMap<String, String>,
) -> (Vec<Layer>, Vec<Diagnostic>) {
    let Launch::Npm {
        runner,
        npm_config,
        npm_env,
        ..
    } = launch
    else {
        return (Vec::new(), Vec::new());
    };
    if runner == "yarn dlx" {
        return (Vec::new(), Vec::new());
    }
    // `${VAR}` expands against what the server's process would see: the inherited environment
    // with the entry's own `env` laid over it.
    let mut expand_map = base_env.clone();
    expand_map.extend(server.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut diags = Vec::new();
    let mut layers = Vec::new();
    let mut entries = Vec::new();
    for (key, value) in npm_env {
        let key = expand_reporting(key, &expand_map, &mut diags);
        let value = expand_reporting(value.trim(), &expand_map, &mut diags);
        entries.push(Entry::new(key, value, None));
    }
    if !entries.is_empty() {
        layers.push(Layer::new(ConfigSource::Env, entries));
    }
    let (cli_layer, d) = Layer::from_cli(npm_config, &expand_map);
    diags.extend(d);
    if !cli_layer.entries.is_empty() {
        layers.push(cli_layer);
    }
    (layers, diags)
}

/// `expand_env`, with the same warning the config module gives for an unset variable.
fn expand_reporting(
    text: &str,
    env: &HashMap<String, String>,
    diags: &mut Vec<Diagnostic>,
) -> String {
    let ex = expand_env(text, env);
    for name in ex.unset {
        diags.push(Diagnostic {
            severity: Severity::Warning,
            source: ConfigSource::Env,
            file: None,
            line: None,
            message: format!(
                "environment variable {name} is not set: npm leaves the text ${{{name}}} in \
                 place (write ${{{name}?}} to make it expand to an empty string)"
            ),
        });
    }
    ex.text
}

/// npm's (and pnpm's, yarn's, bun's) subcommand, after any leading flags: the flags before it,
/// its name, and what follows.
pub(super) fn npm_subcommand(args: &[String]) -> Option<(&[String], &str, &[String])> {
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if !a.starts_with('-') {
            return Some((&args[..i], a.as_str(), &args[i + 1..]));
        }
        // `npm --registry URL exec …`
        let name = a.trim_start_matches('-');
        if !a.contains('=') && takes_value(Flavor::Npm, name) {
            i += 2;
        } else {
            i += 1;
        }
    }
    None
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Flavor {
    Npm,
    Pnpm,
    Yarn,
    Bun,
}

/// npm configuration keys (and exec options) documented as taking a value, so that
/// `--registry URL` consumes `URL`. Scoped registries and nerf-darted keys always do.
const NPM_VALUE_KEYS: &[&str] = &[
    "registry",
    "userconfig",
    "globalconfig",
    "prefix",
    "cache",
    "loglevel",
    "scope",
    "workspace",
    "package",
    "call",
    "node-options",
    "script-shell",
    "shell",
    "otp",
    "before",
    "ca",
    "cafile",
    "cert",
    "key",
    "proxy",
    "https-proxy",
    "noproxy",
    "location",
    "replace-registry-host",
    "auth-type",
    "fetch-retries",
    "fetch-timeout",
    "userAgent",
    "user-agent",
    "tag",
    "npmrc",
    "allow-build",
];

fn takes_value(flavor: Flavor, name: &str) -> bool {
    if name.starts_with('@') || name.starts_with("//") {
        return true;
    }
    match flavor {
        Flavor::Bun => matches!(name, "package" | "p"),
        Flavor::Yarn => matches!(name, "package" | "p"),
        Flavor::Npm | Flavor::Pnpm => {
            NPM_VALUE_KEYS.contains(&name) || matches!(name, "p" | "w" | "C" | "dir")
        }
    }
}

/// Flags that configure the runner itself, not npm.
fn is_exec_flag(name: &str) -> bool {
    matches!(
        name,
        "yes" | "y" | "package" | "p" | "call" | "c" | "shell-mode" | "no" | "quiet" | "q"
    )
}

pub(super) fn npm_exec(
    runner: &str,
    args: &[String],
    env: &BTreeMap<String, String>,
    flavor: Flavor,
) -> Launch {
    let mut yes = false;
    let mut packages: Vec<String> = Vec::new();
    let mut call: Option<String> = None;
    let mut shell_mode = false;
    let mut config: Vec<(String, String)> = Vec::new();
    let mut positional: Option<String> = None;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "--" {
            positional = args.get(i + 1).cloned();
            break;
        }
        if !a.starts_with('-') || a == "-" {
            positional = Some(a.to_string());
            break;
        }
        let long = a.starts_with("--");
        let body = a.trim_start_matches('-');
        let (name, inline) = match body.split_once('=') {
            // Nerf-dart keys (`--//host/:_authToken=x`) never contain `=`, so the first one
            // separates key and value even then.
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        // Short flags: `-y`, `-p pkg`, `-c cmd`, `-ppkg`.
        let (name, inline) =
            if !long && name.len() > 1 && inline.is_none() && name.is_char_boundary(1) {
                let (n, v) = name.split_at(1);
                if matches!(n, "p" | "c") && !(flavor == Flavor::Pnpm && n == "c") {
                    (n, Some(v.to_string()))
                } else {
                    (name, None)
                }
            } else {
                (name, inline)
            };
        let mut value = || -> Option<String> {
            if inline.is_some() {
                return inline.clone();
            }
            let v = args.get(i + 1).cloned();
            if v.is_some() {
                i += 1;
            }
            v
        };
        match name {
            "y" | "yes" => {
                yes = !matches!(inline.as_deref(), Some("false"));
            }
            "no-yes" | "no" => yes = false,
            "p" | "package" => {
                if let Some(v) = value() {
                    packages.push(v);
                }
            }
            "c" if flavor == Flavor::Pnpm => shell_mode = true,
            "shell-mode" => shell_mode = true,
            "c" | "call" => call = value(),
            _ => {
                let v = if inline.is_some() || takes_value(flavor, name) {
                    value()
                } else {
                    None
                };
                if let Some(v) = v {
                    if !is_exec_flag(name)
                        && matches!(flavor, Flavor::Npm | Flavor::Pnpm | Flavor::Bun)
                    {
                        config.push((name.to_string(), v));
                    }
                }
            }
        }
        i += 1;
    }
    if shell_mode {
        call = positional.take();
    }
    let spec = if !packages.is_empty() {
        packages.remove(0)
    } else if call.is_some() {
        String::new()
    } else {
        positional.unwrap_or_default()
    };
    let npm_env = if flavor == Flavor::Yarn {
        Vec::new()
    } else {
        env_config(env)
    };
    Launch::Npm {
        runner: runner.to_string(),
        spec,
        yes,
        call,
        npm_config: config,
        npm_env,
        extra_packages: packages,
    }
}

/// The entry's `npm_config_*` variables as npm configuration keys, values as written (a
/// `${VAR}` stays a reference until [`npm_layers`] expands it). Keys are normalised by
/// [`env_setting_key`], as [`Layer::from_env`] normalises them, so they match npm's `loadEnv`.
fn env_config(env: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (name, value) in env {
        if let (Some(key), false) = (env_setting_key(name), value.is_empty()) {
            // Two spellings of one key: the later name wins, as `from_env` orders them.
            out.retain(|(k, _)| k != &key);
            out.push((key, value.clone()));
        }
    }
    out
}
