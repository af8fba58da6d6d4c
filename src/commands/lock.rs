//! `mcp-audit lock`: the packages a project's lockfiles pin, and the lockfiles themselves.

use std::path::Path;
use std::sync::Arc;

use super::{
    cwd, emit_ci_with, eprint, print_json, print_table, runtime, scanner, table_options, Fatal,
};
use crate::cli::{Format, LockArgs};
use crate::lockfile::{self, pnpm_workspace, yarnrc, Format as LockFormat, LockError, Lockfile};
use crate::npmrc::Config;
use crate::pipeline::lock::{audit_with, LockInputFile};
use crate::pipeline::scan::Registries;
use crate::render::sanitize::Sanitizer;
use crate::render::{json, subjects, table};
use crate::report::EXIT_UNCHECKED;
use crate::settings::Settings;

/// A project's own registries, and the credentials they hold (for the output's sanitizer).
type ProjectRegistries = (Arc<Registries>, Vec<String>);

/// The registries a lockfile's own project installs from, when they are not the ones of the
/// directory mcp-audit runs in: npm's configuration discovered from the lockfile's directory
/// (its project `.npmrc`, which npm and pnpm read), plus `pnpm-workspace.yaml`'s registries for a
/// pnpm lockfile and `.yarnrc.yml`'s for a yarn berry one (yarn 2+ does not read `.npmrc`), at
/// the project's precedence: command-line and environment settings still win. `None` when that
/// comes to the same settings as the scan's.
fn project_registries(
    settings: &Settings,
    path: &Path,
    lock: &Lockfile,
    dir: &Path,
) -> Result<Option<ProjectRegistries>, LockError> {
    let (Some(npm), Some(fetch)) = (&settings.npm, &settings.fetch) else {
        return Ok(None);
    };
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    let lock_dir = parent.map_or_else(|| dir.to_path_buf(), |p| dir.join(p));
    let (mut layers, diagnostics) = crate::npmrc::discover(&lock_dir, &npm.base.env, &npm.base.cli);
    for d in diagnostics {
        if !npm.base.known_diagnostics.contains(&d.to_string()) {
            eprint(&settings.output.sanitizer, &format!("npm config: {d}"));
        }
    }
    match lock.format {
        LockFormat::Pnpm(_) => {
            let layer = pnpm_workspace::registry_layer(&lock_dir)
                .map_err(|e| LockError::new(None, format!("pnpm-workspace.yaml: {e}")))?;
            layers.extend(layer);
        }
        LockFormat::YarnBerry(_) => {
            let found = yarnrc::discover(&lock_dir, &npm.base.env)
                .map_err(|e| LockError::new(None, format!(".yarnrc.yml: {e}")))?;
            layers.extend(found.into_iter().flat_map(|y| y.layers));
        }
        _ => {}
    }
    let config = Config::from_layers(layers);
    let same = {
        let view = |c: &Config| -> Vec<(String, String, String)> {
            let mut v: Vec<_> = c
                .settings()
                .map(|s| (s.key.clone(), s.value.clone(), s.source.to_string()))
                .collect();
            v.sort();
            v
        };
        view(&config) == view(&npm.config)
    };
    if same {
        return Ok(None);
    }
    let secrets = config.secret_values();
    let registries = Registries::new(Arc::new(config), fetch.http.clone(), fetch.allow_http)
        .map_err(|e| LockError::new(None, format!("the project's registries: {e}")))?
        .with_allowed(
            (settings.gate.file.as_ref())
                .and_then(|f| f.registries.clone())
                .map(Arc::new),
        );
    Ok(Some((Arc::new(registries), secrets)))
}

pub fn run(args: &LockArgs, settings: &Settings) -> Result<u8, Fatal> {
    let scanner = scanner(settings)?;
    let dir = cwd(settings);
    let paths = if args.files.is_empty() {
        lockfile::discover(&dir)
    } else {
        args.files.clone()
    };
    if paths.is_empty() {
        return Err(Fatal {
            code: EXIT_UNCHECKED,
            message: format!(
                "no lockfile in {} (looked for {}): give FILEs or run in the project's directory",
                dir.display(),
                lockfile::FILE_NAMES.join(", ")
            ),
        });
    }
    let mut secrets: Vec<String> = Vec::new();
    let files: Vec<LockInputFile> = paths
        .into_iter()
        .map(|p| {
            let parsed = lockfile::read(&p);
            let regs = match &parsed {
                Ok(lock) => project_registries(settings, &p, lock, &dir),
                Err(_) => Ok(None),
            };
            match regs {
                Ok(Some((r, s))) => {
                    secrets.extend(s);
                    (p, parsed, Some(r))
                }
                Ok(None) => (p, parsed, None),
                // The project's registry settings are unreadable: the file cannot be checked
                // against them, so it is reported as not checked (exit 3), the others go on.
                Err(e) => (p, Err(e), None),
            }
        })
        .collect();
    let report = runtime()?.block_on(audit_with(&scanner, files));
    let extended;
    let clean = if secrets.is_empty() {
        &settings.output.sanitizer
    } else {
        secrets.extend(settings.npm.iter().flat_map(|n| n.config.secret_values()));
        extended = Sanitizer::new(secrets);
        &extended
    };
    // A lockfile that cannot be read is said on stderr in every format: stdout may be JSON or
    // SARIF for a machine, and the person reading the CI log must still see which file failed.
    for f in &report.files {
        if let Err(e) = &f.result {
            eprint(clean, &e.at(&f.path));
        }
    }
    if !emit_ci_with(
        &subjects::lock_subjects(&report, &dir),
        settings.output.format,
        clean,
    ) {
        match settings.output.format {
            Format::Json => print_json(clean, &json::render_lock(&report)),
            _ => {
                print_table(
                    clean,
                    &table::render_lock(&report, &table_options(settings)),
                );
                for (_, e) in report.entries() {
                    if let crate::pipeline::lock::LockedPackage::Failed(err) = &e.package {
                        eprint(
                            clean,
                            &format!("cannot check {}@{}: {err}", e.entry.name, e.entry.version),
                        );
                    }
                }
            }
        }
    }
    Ok(report.exit_code())
}
