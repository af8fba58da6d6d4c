//! One module per subcommand. [`run`] resolves the [`Settings`] once and hands them to the
//! command; printing goes through [`print_out`] and [`eprint`], which every byte of output
//! passes (the sanitizer there is the last guard against hostile text, see
//! [`crate::render::sanitize`]).

mod config;
mod config_check;
mod evaluate;
mod facts;
mod init;
mod lock;
mod registry;
mod rules;
mod scan;
mod server;
mod verify_bundle;

use std::io::Write;

use crate::cli::{Cli, Command, Format};
use crate::pipeline::scan::{Registries, Scanner};
use crate::registry::redact_url;
use crate::render::sanitize::Sanitizer;
use crate::render::subjects::{self, Subjects};
use crate::render::{github, json, markdown, sarif, table};
use crate::report::Report;
use crate::settings::{usage, Settings};
use crate::spec::Spec;

pub use crate::settings::Fatal;

pub fn run(cli: Cli) -> Result<u8, Fatal> {
    match cli.command {
        Command::Scan(args) => {
            // Validate every input before any network traffic, so a typo in the third spec does
            // not cost a full scan of the first two.
            let specs = parse_specs(&args.specs)?;
            let settings = Settings::audit(&args.audit)?;
            scan::run(&specs, &settings).map_err(|f| settings.clean(f))
        }
        Command::Facts(args) => {
            let spec = Spec::parse(&args.spec).map_err(|e| usage(e.to_string()))?;
            let settings = Settings::facts(&args.registry, &args.verify)?;
            facts::run(&spec, &settings).map_err(|f| settings.clean(f))
        }
        Command::Evaluate(args) => {
            let mut settings = Settings::offline(&args.gate)?;
            settings.set_now(args.now.as_deref())?;
            evaluate::run(&args.files, &settings)
        }
        Command::Config(args) => {
            let settings = Settings::audit(&args.audit)?;
            config::run(&args, &settings).map_err(|f| settings.clean(f))
        }
        Command::Server(args) => {
            let settings = if args.no_scan {
                Settings::offline(&args.audit.gate)?
            } else {
                Settings::audit(&args.audit)?
            };
            server::run(&args, &settings).map_err(|f| settings.clean(f))
        }
        Command::ConfigCheck(args) => {
            if !matches!(args.format, Format::Table | Format::Json) {
                return Err(usage("config-check: --format is table or json"));
            }
            let specs = parse_specs(&args.specs)?;
            let settings = Settings::npm_only(&args.registry, args.format)?;
            config_check::run(&specs, &settings)
        }
        Command::VerifyBundle(args) => {
            let settings = Settings::trusted_root_only(args.trusted_root.as_deref())?;
            verify_bundle::run(&args, &settings)
        }
        Command::Init(args) => init::run(&args),
        Command::Lock(args) => {
            let settings = Settings::audit(&args.audit)?;
            lock::run(&args, &settings).map_err(|f| settings.clean(f))
        }
        Command::Rules(args) => {
            let settings = Settings::rules(
                args.rules.as_deref(),
                args.policy.as_deref(),
                args.no_policy,
            )?;
            rules::run(&settings)
        }
        Command::Registry(args) => {
            let settings = Settings::audit(&args.audit)?;
            registry::run(&args, &settings).map_err(|f| settings.clean(f))
        }
    }
}

fn parse_specs(raw: &[String]) -> Result<Vec<Spec>, Fatal> {
    raw.iter()
        .map(|s| Spec::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| usage(e.to_string()))
}

fn runtime() -> Result<tokio::runtime::Runtime, Fatal> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Fatal {
            code: crate::report::EXIT_UNCHECKED,
            message: format!("cannot start the async runtime: {e}"),
        })
}

/// The scanner for the commands that fetch: built from settings resolved by
/// [`Settings::audit`] or [`Settings::facts`].
fn scanner(settings: &Settings) -> Result<Scanner, Fatal> {
    let (Some(npm), Some(fetch)) = (&settings.npm, &settings.fetch) else {
        unreachable!("fetching commands resolve npm and fetch settings")
    };
    let registries = Registries::new(
        std::sync::Arc::new(npm.config.clone()),
        fetch.http.clone(),
        fetch.allow_http,
    )
    .map_err(|e| Fatal {
        code: crate::report::EXIT_UNCHECKED,
        message: e.to_string(),
    })?
    .with_allowed(
        (settings.gate.file.as_ref())
            .and_then(|f| f.registries.clone())
            .map(std::sync::Arc::new),
    )
    .with_pypi(fetch.pypi.clone());
    let default_registry = registries
        .config()
        .default_registry()
        .map(|r| redact_url(&r.url))
        .unwrap_or_default();
    Ok(Scanner {
        registries,
        rules: settings.rules.clone(),
        policy: settings.policy(default_registry),
        now: settings.now,
        trusted_root: settings.trusted_root(),
        trust_window_days: fetch.trust_window_days,
        content_limits: fetch.content_limits,
        tree: fetch.tree.clone(),
    })
}

fn table_options(settings: &Settings) -> table::TableOptions {
    table::TableOptions {
        width: settings.output.width,
        quiet: settings.output.quiet,
        sanitizer: settings.output.sanitizer.clone(),
    }
}

/// The directory SARIF and annotation paths are relative to: npm's view of the current
/// directory when settings have one.
fn cwd(settings: &Settings) -> std::path::PathBuf {
    settings
        .npm
        .as_ref()
        .map(|n| n.base.cwd.clone())
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default()
}

/// The CI formats, shared by `scan` and `config`. `false` for table and JSON, which each command
/// renders itself.
fn emit_ci(s: &Subjects<'_>, settings: &Settings) -> bool {
    emit_ci_with(s, settings.output.format, &settings.output.sanitizer)
}

/// [`emit_ci`] with another sanitizer (`lock` adds the tokens of `.yarnrc.yml` files).
fn emit_ci_with(s: &Subjects<'_>, format: Format, clean: &Sanitizer) -> bool {
    match format {
        Format::Sarif => print_json(clean, &sarif::render(s, clean)),
        Format::Markdown => print_table(clean, &markdown::render(s, clean)),
        Format::Github => print_table(clean, &github::render(s, clean)),
        Format::Table | Format::Json => return false,
    }
    true
}

/// A package report, in the chosen format.
fn emit(report: &Report, settings: &Settings) {
    let clean = &settings.output.sanitizer;
    if emit_ci(&subjects::scan_subjects(report, &cwd(settings)), settings) {
        return;
    }
    match settings.output.format {
        Format::Json => print_json(clean, &json::render(report)),
        Format::Table => {
            print_table(clean, &table::render(report, &table_options(settings)));
            // Errors also go to stderr in table mode, so a CI log shows them even when stdout
            // is captured.
            for p in &report.packages {
                if let Err(e) = &p.result {
                    eprint(clean, &format!("cannot check {}: {e}", p.target));
                }
            }
        }
        Format::Sarif | Format::Markdown | Format::Github => unreachable!("emitted by emit_ci"),
    }
}

/// JSON text, with configured credentials and URL userinfo scrubbed (serde has escaped the
/// control characters already).
fn print_json(clean: &Sanitizer, text: &str) {
    print_out(&clean.scrub_json(text));
}

/// Rendered text for a terminal.
fn print_table(clean: &Sanitizer, text: &str) {
    print_out(&clean.finish(text));
}

/// Writes to stdout, ignoring a closed pipe (`mcp-audit scan … | head` must not panic).
fn print_out(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(s.as_bytes());
    let _ = out.flush();
}

/// One message on stderr, prefixed `mcp-audit: `, scrubbed, escaped and clipped.
pub fn eprint(clean: &Sanitizer, message: &str) {
    let line = clean.text(message);
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "mcp-audit: {line}");
}
