//! Turns parsed arguments into a run: validate everything first, then do the I/O, then render.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::cli::{Cli, Command, ConfigArgs, Format, GateArgs, RegistryArgs, VerifyArgs};
use crate::clients::{Client, Platform};
use crate::facts::PackageFacts;
use crate::pipeline::config::{
    self as configscan, discovered_inputs, ConfigInput, ConfigReport, NpmBase, PackageOutcome,
    ServerReport,
};
use crate::registry::{redact_url, HttpConfig};
use crate::render::{json, table};
use crate::report::{check, PackageReport, Policy, Report, EXIT_USAGE};
use crate::rules::RuleSet;
use crate::scan::{Registries, Scanner};
use crate::spec::Spec;
use crate::verify::TrustedRoot;

/// An error that ends the run before any target is checked, with its exit code.
#[derive(Debug)]
pub struct Fatal {
    pub code: u8,
    pub message: String,
}

fn usage(message: impl Into<String>) -> Fatal {
    Fatal {
        code: EXIT_USAGE,
        message: message.into(),
    }
}

pub fn run(cli: Cli) -> Result<u8, Fatal> {
    match cli.command {
        Command::Scan(args) => {
            // Validate every input before any network traffic, so a typo in the third spec does
            // not cost a full scan of the first two.
            let specs = parse_specs(&args.specs)?;
            let rules = load_rules(&args.gate)?;
            let scanner = scanner(&args.registry, &args.verify, rules, &args.gate, &specs)?;
            let show_progress = specs.len() > 1
                && args.gate.format == Format::Table
                && !args.gate.quiet
                && std::io::stderr().is_terminal();
            let report = runtime()?.block_on(async {
                let bar = show_progress.then(|| {
                    let bar = indicatif::ProgressBar::new(specs.len() as u64);
                    bar.set_style(
                        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                            .expect("static template"),
                    );
                    bar
                });
                let verbose = args.gate.verbose;
                let on_done = |p: &PackageReport| {
                    if let Some(bar) = &bar {
                        bar.set_message(p.name.clone());
                        bar.inc(1);
                    }
                    if verbose {
                        log_target(p);
                    }
                };
                let report = scanner.scan(&specs, &on_done).await;
                if let Some(bar) = bar {
                    bar.finish_and_clear();
                }
                report
            });
            emit(&report, &args.gate);
            Ok(report.exit_code())
        }
        Command::Facts(args) => {
            let spec = Spec::parse(&args.spec).map_err(|e| usage(e.to_string()))?;
            let rules = RuleSet::embedded().map_err(|e| usage(e.to_string()))?;
            let gate = GateArgs {
                format: Format::Json,
                fail_under: None,
                min_coverage: None,
                strict: false,
                rules: None,
                quiet: false,
                verbose: false,
            };
            let scanner = scanner(
                &args.registry,
                &args.verify,
                rules,
                &gate,
                std::slice::from_ref(&spec),
            )?;
            match runtime()?.block_on(scanner.facts(&spec)) {
                Ok(f) => {
                    print_out(&(serde_json::to_string_pretty(&f).expect("facts serialize") + "\n"));
                    Ok(0)
                }
                Err(e) => {
                    eprintln!("mcp-audit: {e}");
                    Ok(crate::report::EXIT_UNCHECKED)
                }
            }
        }
        Command::Evaluate(args) => {
            let rules = load_rules(&args.gate)?;
            let policy = policy(&args.gate, "(facts files)".into(), &rules);
            let mut packages = Vec::new();
            for file in &args.files {
                let text = std::fs::read_to_string(file).map_err(|e| {
                    usage(format!("cannot read facts file {}: {e}", file.display()))
                })?;
                let facts: PackageFacts = serde_json::from_str(&text).map_err(|e| {
                    usage(format!(
                        "{} is not a facts document (as written by `mcp-audit facts`): {e}",
                        file.display()
                    ))
                })?;
                packages.push(PackageReport {
                    target: file.display().to_string(),
                    name: facts.package.name.clone(),
                    registry: facts.registry.url.clone(),
                    result: Ok(check(facts, &rules, &policy)),
                });
            }
            let report = Report {
                generated_at: Utc::now(),
                policy,
                packages,
            };
            emit(&report, &args.gate);
            Ok(report.exit_code())
        }
        Command::Config(args) => config_audit(&args),
        Command::VerifyBundle(args) => verify_bundle(&args),
        Command::ConfigCheck(args) => config_check(&args),
        Command::Rules(args) => {
            let rules = RuleSet::load(args.rules.as_deref()).map_err(|e| usage(e.to_string()))?;
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
                .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
                .set_width(terminal_width())
                .set_header(vec!["Rule", "Category", "Severity", "Weight", "Title"]);
            for r in &rules.rules {
                t.add_row(vec![
                    r.id.clone(),
                    r.category.clone(),
                    r.severity.as_str().to_string(),
                    r.weight.to_string(),
                    r.title.clone(),
                ]);
            }
            print_out(&format!("{t}\n"));
            Ok(0)
        }
    }
}

/// The sigstore-conformance protocol: exit 0 when the bundle verifies, 1 with a one-line reason
/// when it does not, 2 when the inputs cannot be read.
fn verify_bundle(args: &crate::cli::VerifyBundleArgs) -> Result<u8, Fatal> {
    use crate::verify::{Artifact, KeyPolicy};
    let read = |p: &std::path::Path, what: &str| {
        std::fs::read(p).map_err(|e| usage(format!("cannot read {what} {}: {e}", p.display())))
    };
    let bundle = read(&args.bundle, "--bundle")?;
    let root = trusted_root(args.trusted_root.as_deref())?;
    let artifact_bytes;
    let artifact = if args.artifact.starts_with("sha256:") {
        Artifact::parse_digest(&args.artifact).map_err(|e| usage(format!("{e}")))?
    } else {
        artifact_bytes = read(std::path::Path::new(&args.artifact), "artifact")?;
        Artifact::Bytes(&artifact_bytes)
    };
    let pem;
    let policy = match (
        &args.key,
        &args.certificate_identity,
        &args.certificate_oidc_issuer,
    ) {
        (Some(key), _, _) => {
            pem = String::from_utf8(read(key, "--key")?)
                .map_err(|_| usage(format!("--key {} is not PEM text", key.display())))?;
            KeyPolicy::PublicKeyPem(&pem)
        }
        (None, Some(identity), Some(issuer)) => KeyPolicy::Identity { identity, issuer },
        _ => {
            return Err(usage(
                "give --key, or both --certificate-identity and --certificate-oidc-issuer",
            ))
        }
    };
    match crate::verify::verify_bundle(&bundle, artifact, &policy, &root) {
        Ok(v) => {
            let who = v
                .certificate
                .as_ref()
                .and_then(|c| c.san.clone())
                .unwrap_or_else(|| "the given key".into());
            print_out(&format!(
                "verified: bundle v{} signed by {who}\n",
                v.bundle_version
            ));
            Ok(0)
        }
        Err(e) => {
            eprintln!("mcp-audit: verify-bundle {}: {e}", args.bundle.display());
            Ok(1)
        }
    }
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

fn load_rules(gate: &GateArgs) -> Result<RuleSet, Fatal> {
    RuleSet::load(gate.rules.as_deref()).map_err(|e| usage(format!("invalid rules: {e}")))
}

fn policy(gate: &GateArgs, registry: String, rules: &RuleSet) -> Policy {
    Policy {
        fail_under: gate.fail_under,
        min_coverage: gate.min_coverage,
        strict: gate.strict,
        registry,
        // `scan` and `evaluate` run the package rules only; `config` says otherwise.
        rules: rules.package_rules().count(),
        rules_dir: gate.rules.as_ref().map(|p| p.display().to_string()),
    }
}

fn trusted_root(path: Option<&std::path::Path>) -> Result<TrustedRoot, Fatal> {
    match path {
        None => Ok(TrustedRoot::public_good()),
        Some(p) => {
            let bytes = std::fs::read(p)
                .map_err(|e| usage(format!("cannot read --trusted-root {}: {e}", p.display())))?;
            TrustedRoot::from_json(&bytes).map_err(|e| {
                usage(format!(
                    "--trusted-root {} is not a Sigstore trusted root: {e}",
                    p.display()
                ))
            })
        }
    }
}

/// npm's configuration as npm would load it for this process: `--registry`, `--userconfig` and
/// `--npm-config` are the command-line layer; the environment and the `.npmrc` files follow.
pub fn load_npm_config(reg: &RegistryArgs) -> Result<crate::config::Config, Fatal> {
    Ok(npm_setup(reg)?.0)
}

/// [`load_npm_config`], with what built it: the command-line pairs, the environment, the
/// directory, and the diagnostics printed.
fn npm_setup(reg: &RegistryArgs) -> Result<(crate::config::Config, NpmBase), Fatal> {
    let mut cli = Vec::new();
    if let Some(r) = &reg.registry {
        cli.push(("registry".to_string(), r.clone()));
    }
    if let Some(u) = &reg.userconfig {
        cli.push(("userconfig".to_string(), u.display().to_string()));
    }
    for kv in &reg.npm_config {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| usage(format!("--npm-config `{kv}` is not KEY=VALUE")))?;
        cli.push((k.trim().to_string(), v.trim().to_string()));
    }
    let env: std::collections::HashMap<String, String> = std::env::vars().collect();
    let cwd = std::env::current_dir()
        .map_err(|e| usage(format!("cannot read the current directory: {e}")))?;
    let (layers, diagnostics) = crate::config::discover(&cwd, &env, &cli);
    let config = crate::config::Config::from_layers(layers);
    // npm reports a bad line and goes on; so do we, on stderr, naming file and line.
    let mut printed = std::collections::BTreeSet::new();
    for d in diagnostics.iter().chain(config.diagnostics()) {
        eprintln!("mcp-audit: npm config: {d}");
        printed.insert(d.to_string());
    }
    Ok((
        config,
        NpmBase {
            cwd,
            env,
            cli,
            known_diagnostics: printed,
        },
    ))
}

fn scanner(
    reg: &RegistryArgs,
    verify: &VerifyArgs,
    rules: RuleSet,
    gate: &GateArgs,
    specs: &[Spec],
) -> Result<Scanner, Fatal> {
    let config = load_npm_config(reg)?;
    let s = scanner_with(config, reg, verify, rules, gate)?;
    // A registry setting that cannot be used is a configuration error, found before any request.
    for spec in specs {
        s.registries
            .resolve(&spec.name)
            .map_err(|e| usage(format!("no usable registry for {}: {e}", spec.raw)))?;
    }
    Ok(s)
}

fn scanner_with(
    config: crate::config::Config,
    reg: &RegistryArgs,
    verify: &VerifyArgs,
    rules: RuleSet,
    gate: &GateArgs,
) -> Result<Scanner, Fatal> {
    let root = trusted_root(verify.trusted_root.as_deref())?;
    let now = match &reg.now {
        None => Utc::now(),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map_err(|e| usage(format!("--now `{s}` is not an RFC 3339 time: {e}")))?
            .with_timezone(&Utc),
    };
    let cfg = HttpConfig {
        timeout: Duration::from_secs(reg.timeout),
        retries: reg.retries,
        backoff_base: Duration::from_millis(reg.retry_base_ms),
        max_body_bytes: reg.max_body_mb * 1024 * 1024,
        concurrency: reg.concurrency as usize,
        ..HttpConfig::default()
    };
    let registries =
        Registries::new(std::sync::Arc::new(config), cfg, reg.allow_http).map_err(|e| Fatal {
            code: crate::report::EXIT_UNCHECKED,
            message: e.to_string(),
        })?;
    let default_registry = registries
        .config()
        .default_registry()
        .map(|r| redact_url(&r.url))
        .unwrap_or_default();
    let policy = policy(gate, default_registry, &rules);
    Ok(Scanner {
        registries,
        rules,
        policy,
        now,
        trusted_root: std::sync::Arc::new(root),
        trust_window_days: verify.trust_window_days,
        content_limits: (!verify.no_tarball).then(crate::content::Limits::default),
    })
}

/// `mcp-audit config`: every server of the given (and discovered) client configs.
fn config_audit(args: &ConfigArgs) -> Result<u8, Fatal> {
    let rules = load_rules(&args.gate)?;
    let client = args
        .client
        .as_deref()
        .map(|c| {
            Client::from_id(c).ok_or_else(|| usage(format!("--client `{c}` is not a known client")))
        })
        .transpose()?;
    let mut inputs: Vec<ConfigInput> = args
        .files
        .iter()
        .map(|p| ConfigInput {
            path: p.clone(),
            client,
            project_scope: None,
        })
        .collect();
    let (config, base) = npm_setup(&args.registry)?;
    let discovered = if args.discover {
        let home = ["HOME", "USERPROFILE"]
            .iter()
            .find_map(|k| base.env.get(*k).filter(|v| !v.is_empty()))
            .map(std::path::PathBuf::from)
            .ok_or_else(|| usage("--discover: cannot find the home directory (HOME is not set)"))?;
        let found = crate::clients::discover(&home, &base.cwd, Platform::current(), &base.env);
        for input in discovered_inputs(&found) {
            // A file named on the command line too is audited once.
            let same = |p: &std::path::Path| {
                std::fs::canonicalize(p).ok() == std::fs::canonicalize(&input.path).ok()
            };
            if !inputs.iter().any(|i| same(&i.path)) {
                inputs.push(input);
            }
        }
        Some(found)
    } else {
        None
    };
    let mut scanner = scanner_with(config, &args.registry, &args.verify, rules, &args.gate)?;
    scanner.policy.rules = scanner.rules.rules.len();
    // As for `scan`: a registry given on mcp-audit's command line that cannot be used is a usage
    // error, found before any request (entries may still choose their own).
    if let Some(r) = &args.registry.registry {
        crate::registry::parse_registry_url(r, args.registry.allow_http)
            .map_err(|e| usage(format!("--registry {r}: {e}")))?;
    }
    let verbose = args.gate.verbose;
    let on_done = |file: &std::path::Path, s: &ServerReport| {
        if verbose {
            let package = match &s.package {
                PackageOutcome::Scanned { registry, facts } => format!(
                    "{}@{} from {registry}",
                    facts.package.name, facts.package.version
                ),
                PackageOutcome::Failed { error, .. } => s.show(&format!("error: {error}")),
                PackageOutcome::NotScanned { reason } => format!("not scanned: {reason}"),
            };
            eprintln!(
                "mcp-audit: {} → {}: {package} ({} findings, {} inconclusive)",
                file.display(),
                s.entry.name,
                s.assessment.findings.len(),
                s.assessment.inconclusive.len()
            );
        }
    };
    let files = runtime()?.block_on(configscan::audit(
        &scanner,
        &base,
        &inputs,
        !args.no_scan,
        &on_done,
    ));
    let report = ConfigReport {
        generated_at: scanner.now,
        policy: scanner.policy.clone(),
        discovered,
        files,
    };
    let text = match args.gate.format {
        Format::Json => json::render_config(&report),
        Format::Table => table::render_config(
            &report,
            &table::TableOptions {
                width: terminal_width(),
                quiet: args.gate.quiet,
            },
        ),
    };
    print_out(&text);
    if args.gate.format == Format::Table {
        for f in &report.files {
            match &f.result {
                Err(e) => eprintln!("mcp-audit: {e}"),
                Ok(a) => {
                    for s in &a.servers {
                        if let PackageOutcome::Failed { error, .. } = &s.package {
                            eprintln!(
                                "mcp-audit: {}: server `{}`: cannot check its package: {}",
                                f.path.display(),
                                s.entry.name,
                                s.show(&error.to_string())
                            );
                        }
                    }
                }
            }
        }
    }
    Ok(report.exit_code())
}

fn parse_specs(raw: &[String]) -> Result<Vec<Spec>, Fatal> {
    raw.iter()
        .map(|s| Spec::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| usage(e.to_string()))
}

fn config_check(args: &crate::cli::ConfigCheckArgs) -> Result<u8, Fatal> {
    let specs = parse_specs(&args.specs)?;
    let config = load_npm_config(&args.registry)?;
    let explanations: Vec<_> = specs.iter().map(|s| config.explain(&s.name)).collect();
    let mut code = 0;
    for e in &explanations {
        if e.registry.is_none() {
            code = EXIT_USAGE;
        }
    }
    match args.format {
        Format::Json => print_out(
            &(serde_json::to_string_pretty(&serde_json::json!({
                "schema_version": 1,
                "packages": explanations,
                "diagnostics": config.diagnostics().iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            }))
            .expect("explanations serialize")
                + "\n"),
        ),
        Format::Table => {
            for e in &explanations {
                print_out(&e.to_string());
            }
        }
    }
    Ok(code)
}

fn log_target(p: &PackageReport) {
    match &p.result {
        Ok(c) => eprintln!(
            "mcp-audit: {} → {}@{} from {} ({} findings, {} inconclusive)",
            p.target,
            p.name,
            c.version,
            p.registry,
            c.findings.len(),
            c.inconclusive.len()
        ),
        Err(e) => eprintln!("mcp-audit: {}: {e}", p.target),
    }
}

fn terminal_width() -> u16 {
    // Tables are laid out for 100 columns unless a wider (or narrower) terminal says otherwise.
    if std::io::stdout().is_terminal() {
        if let Some(w) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
            return w;
        }
    }
    100
}

fn emit(report: &Report, gate: &GateArgs) {
    let text = match gate.format {
        Format::Json => json::render(report),
        Format::Table => table::render(
            report,
            &table::TableOptions {
                width: terminal_width(),
                quiet: gate.quiet,
            },
        ),
    };
    print_out(&text);
    // Errors also go to stderr in table mode, so a CI log shows them even when stdout is captured.
    if gate.format == Format::Table {
        for p in &report.packages {
            if let Err(e) = &p.result {
                eprintln!("mcp-audit: cannot check {}: {e}", p.target);
            }
        }
    }
}

/// Writes to stdout, ignoring a closed pipe (`mcp-audit scan … | head` must not panic).
fn print_out(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(s.as_bytes());
    let _ = out.flush();
}
