//! Settings: the arguments resolved once after clap has validated their syntax, as ripgrep turns
//! its low-level arguments into `HiArgs`. Reading rule files, npm's configuration and the trusted
//! root, and parsing `--now`, happen here and nowhere else; commands take a [`Settings`] and do
//! not look at the command line again.
//!
//! Each constructor resolves what its command uses, in the order the command always has, so
//! that the first error reported for a bad command line stays the same.

use std::collections::{BTreeSet, HashMap};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::cli::{AuditArgs, Format, GateArgs, RegistryArgs, VerifyArgs};
use crate::npmrc::Config;
use crate::pipeline::config::NpmBase;
use crate::policy::PolicyFile;
use crate::registry::HttpConfig;
use crate::render::sanitize::Sanitizer;
use crate::report::{Policy, Source, DEFAULT_FAIL_UNDER, DEFAULT_MAX_SEVERITY, EXIT_USAGE};
use crate::rules::{RuleSet, Severity};
use crate::verify::TrustedRoot;

/// An error that ends the run before any target is checked, with its exit code.
#[derive(Debug)]
pub struct Fatal {
    pub code: u8,
    pub message: String,
}

pub fn usage(message: impl Into<String>) -> Fatal {
    Fatal {
        code: EXIT_USAGE,
        message: message.into(),
    }
}

/// How results are shown.
#[derive(Debug, Clone)]
pub struct Output {
    pub format: Format,
    /// Only one line per target and the summary.
    pub quiet: bool,
    /// Log each target to stderr as it finishes.
    pub verbose: bool,
    /// Columns to lay tables out in.
    pub width: u16,
    /// Applied to everything printed, stdout and stderr alike.
    pub sanitizer: Sanitizer,
}

/// When a run fails: the flags, else the policy file, else the default gate.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    pub fail_under: Option<u32>,
    pub min_coverage: Option<u32>,
    pub strict: bool,
    pub max_severity: Option<Severity>,
    /// Where fail_under, min_coverage, strict and max_severity came from.
    pub sources: [Source; 4],
    /// `--rules DIR`, as given.
    pub rules_dir: Option<PathBuf>,
    /// The policy file in effect (its rule overrides are already in the rule set).
    pub file: Option<Arc<PolicyFile>>,
}

/// npm's configuration as npm would load it for this process, and what built it.
#[derive(Debug, Clone)]
pub struct Npm {
    pub config: Config,
    /// The command-line pairs, environment and directory it came from (launches in MCP configs
    /// start from it).
    pub base: NpmBase,
    /// mcp-audit's own `--registry`, as given.
    pub registry_flag: Option<String>,
}

/// How registries are asked and what is verified.
#[derive(Debug, Clone)]
pub struct Fetch {
    pub http: HttpConfig,
    /// `--allow-http`: a plain-http registry off loopback is accepted.
    pub allow_http: bool,
    pub trust_window_days: u64,
    /// None with `--no-tarball`.
    pub content_limits: Option<crate::content::Limits>,
    /// The Python indexes `pypi:` specs read, or why they cannot be used (an error only for a
    /// run that has a `pypi:` target).
    pub pypi: Result<Arc<crate::pyindex::PyIndexes>, String>,
    /// Dependency trees are resolved and audited (`scan`, `config`); None with `--no-deps` and
    /// for the commands that judge one package.
    pub tree: Option<crate::pipeline::tree::TreeOptions>,
}

pub struct Settings {
    pub output: Output,
    pub gate: Gate,
    /// The rules in effect: the embedded set plus `--rules DIR`.
    pub rules: RuleSet,
    /// For the commands that read npm's configuration.
    pub npm: Option<Npm>,
    /// For the commands that fetch from registries.
    pub fetch: Option<Fetch>,
    /// `--trusted-root`, read and parsed; None means the embedded public-good root.
    trusted_root: Option<Arc<TrustedRoot>>,
    /// The time the run pretends to happen at (`--now`), or the real time.
    pub now: DateTime<Utc>,
}

impl Settings {
    /// `scan` and `config`: rules, npm's configuration, trusted root, time, HTTP settings.
    pub fn audit(args: &AuditArgs) -> Result<Settings, Fatal> {
        let mut rules = load_rules(args.gate.rules.as_deref())?;
        let file = load_policy(&args.gate, &mut rules)?;
        let mut s = Self::fetching(rules, &args.registry, &args.verify, &args.gate)?;
        s.gate = gate_of(&args.gate, file)?;
        if let Some(fetch) = s.fetch.as_mut() {
            fetch.tree = (!args.tree.no_deps).then(|| crate::pipeline::tree::TreeOptions {
                max_nodes: args.tree.max_nodes,
                ..Default::default()
            });
        }
        Ok(s)
    }

    /// `facts`: as [`Settings::audit`], with the embedded rules and JSON output.
    pub fn facts(registry: &RegistryArgs, verify: &VerifyArgs) -> Result<Settings, Fatal> {
        let rules = RuleSet::embedded().map_err(|e| usage(e.to_string()))?;
        let gate = GateArgs {
            format: Format::Json,
            fail_under: None,
            min_coverage: None,
            strict: false,
            max_severity: None,
            policy: None,
            no_policy: true,
            rules: None,
            quiet: false,
            verbose: false,
        };
        Self::fetching(rules, registry, verify, &gate)
    }

    /// `evaluate`: rules and gate only; no configuration, no network.
    pub fn offline(gate: &GateArgs) -> Result<Settings, Fatal> {
        let mut rules = load_rules(gate.rules.as_deref())?;
        let file = load_policy(gate, &mut rules)?;
        Ok(Self::bare(
            rules,
            gate_of(gate, file)?,
            output_of(gate, Sanitizer::default()),
        ))
    }

    /// `rules`: the rule set, with the policy file's rule overrides applied when one is in
    /// effect (`--policy`, else found; none with `--no-policy`), as `scan` would apply them.
    pub fn rules(
        dir: Option<&Path>,
        policy: Option<&Path>,
        no_policy: bool,
    ) -> Result<Settings, Fatal> {
        let mut rules = RuleSet::load(dir).map_err(|e| usage(e.to_string()))?;
        let file = policy_file(policy, no_policy, &mut rules)?;
        let gate = Gate {
            rules_dir: dir.map(Path::to_path_buf),
            file,
            ..Gate::default()
        };
        Ok(Self::bare(rules, gate, plain_output(Format::Table)))
    }

    /// `--now`: the run pretends to happen at this RFC 3339 time (ignore expiry, ages).
    pub fn set_now(&mut self, now: Option<&str>) -> Result<(), Fatal> {
        if let Some(s) = now {
            self.now = parse_now(s)?;
        }
        Ok(())
    }

    /// `config-check`: npm's configuration only.
    pub fn npm_only(registry: &RegistryArgs, format: Format) -> Result<Settings, Fatal> {
        let npm = npm_setup(registry)?;
        let output = Output {
            sanitizer: sanitizer_for(&npm.config),
            ..plain_output(format)
        };
        let mut s = Self::bare(embedded_rules()?, Gate::default(), output);
        s.npm = Some(npm);
        Ok(s)
    }

    /// `verify-bundle`: the trusted root only.
    pub fn trusted_root_only(path: Option<&Path>) -> Result<Settings, Fatal> {
        let root = read_trusted_root(path)?;
        let mut s = Self::bare(
            embedded_rules()?,
            Gate::default(),
            plain_output(Format::Table),
        );
        s.trusted_root = root;
        Ok(s)
    }

    /// The Sigstore root provenance is verified against.
    pub fn trusted_root(&self) -> Arc<TrustedRoot> {
        self.trusted_root
            .clone()
            .unwrap_or_else(|| Arc::new(TrustedRoot::public_good()))
    }

    /// The policy a report records. `registry` is the default registry, redacted, or a word
    /// for where the facts came from.
    pub fn policy(&self, registry: String) -> Policy {
        Policy {
            fail_under: self.gate.fail_under,
            min_coverage: self.gate.min_coverage,
            strict: self.gate.strict,
            max_severity: self.gate.max_severity,
            sources: self.gate.sources,
            file: self.gate.file.clone(),
            today: self.now.date_naive(),
            registry,
            // `scan` and `evaluate` run the package rules only; `config` says otherwise.
            rules: self.rules.package_rules().count(),
            rules_dir: self
                .gate
                .rules_dir
                .as_ref()
                .map(|p| p.display().to_string()),
        }
    }

    /// A fatal error with configured credentials and control characters taken out.
    pub fn clean(&self, fatal: Fatal) -> Fatal {
        Fatal {
            code: fatal.code,
            message: self.output.sanitizer.text(&fatal.message),
        }
    }

    fn bare(rules: RuleSet, gate: Gate, output: Output) -> Settings {
        Settings {
            output,
            gate,
            rules,
            npm: None,
            fetch: None,
            trusted_root: None,
            now: Utc::now(),
        }
    }

    fn fetching(
        rules: RuleSet,
        reg: &RegistryArgs,
        verify: &VerifyArgs,
        gate: &GateArgs,
    ) -> Result<Settings, Fatal> {
        let npm = npm_setup(reg)?;
        let trusted_root = read_trusted_root(verify.trusted_root.as_deref())?;
        let now = match &reg.now {
            None => Utc::now(),
            Some(s) => parse_now(s)?,
        };
        let http = HttpConfig {
            timeout: Duration::from_secs(reg.timeout),
            retries: reg.retries,
            backoff_base: Duration::from_millis(reg.retry_base_ms),
            max_body_bytes: reg.max_body_mb * 1024 * 1024,
            concurrency: reg.concurrency as usize,
            cache: cache_config(reg)?,
            ..HttpConfig::default()
        };
        let pypi = crate::pyindex::resolve(
            &crate::pyindex::Inputs::from_process(
                reg.index_url.clone(),
                reg.extra_index_url.clone(),
            ),
            crate::pyindex::Tool::Any,
            reg.allow_http,
        )
        .map(Arc::new);
        let mut secrets = npm.config.secret_values();
        if let Ok(ix) = &pypi {
            secrets.extend(ix.secret_values());
        }
        let output = output_of(gate, Sanitizer::new(secrets));
        Ok(Settings {
            output,
            // The callers that gate replace it with the policy file's merge.
            gate: Gate {
                rules_dir: gate.rules.clone(),
                ..Gate::default()
            },
            rules,
            npm: Some(npm),
            fetch: Some(Fetch {
                tree: None,
                http,
                allow_http: reg.allow_http,
                trust_window_days: verify.trust_window_days,
                content_limits: (!verify.no_tarball).then(|| crate::content::Limits {
                    max_compressed: reg.max_tarball_mb * 1024 * 1024,
                    ..crate::content::Limits::default()
                }),
                pypi,
            }),
            trusted_root,
            now,
        })
    }
}

/// `--cache-dir`, `--offline`, `--no-cache`. With no directory given and none the OS names, the
/// run goes without a cache, except `--offline`, which has nothing to answer from.
fn cache_config(reg: &RegistryArgs) -> Result<Option<crate::registry::CacheConfig>, Fatal> {
    if reg.no_cache {
        return Ok(None);
    }
    let dir = reg
        .cache_dir
        .clone()
        .filter(|d| !d.as_os_str().is_empty())
        .or_else(crate::registry::CacheConfig::default_dir);
    match dir {
        Some(dir) => Ok(Some(crate::registry::CacheConfig {
            dir,
            offline: reg.offline,
        })),
        None if reg.offline => Err(usage(
            "--offline needs a cache, and this system names no cache directory: give --cache-dir DIR",
        )),
        None => Ok(None),
    }
}

fn embedded_rules() -> Result<RuleSet, Fatal> {
    RuleSet::embedded().map_err(|e| usage(e.to_string()))
}

fn load_rules(dir: Option<&Path>) -> Result<RuleSet, Fatal> {
    RuleSet::load(dir).map_err(|e| usage(format!("invalid rules: {e}")))
}

/// The policy file of the run (`--policy`, else found; none with `--no-policy`), validated, with
/// its rule overrides applied to `rules`.
fn load_policy(g: &GateArgs, rules: &mut RuleSet) -> Result<Option<Arc<PolicyFile>>, Fatal> {
    policy_file(g.policy.as_deref(), g.no_policy, rules)
}

fn parse_now(s: &str) -> Result<DateTime<Utc>, Fatal> {
    Ok(DateTime::parse_from_rfc3339(s)
        .map_err(|e| usage(format!("--now `{s}` is not an RFC 3339 time: {e}")))?
        .with_timezone(&Utc))
}

fn policy_file(
    policy: Option<&Path>,
    no_policy: bool,
    rules: &mut RuleSet,
) -> Result<Option<Arc<PolicyFile>>, Fatal> {
    let path = match (policy, no_policy) {
        (_, true) => None,
        (Some(p), false) => Some(p.to_path_buf()),
        (None, false) => {
            let cwd = std::env::current_dir()
                .map_err(|e| usage(format!("cannot read the current directory: {e}")))?;
            crate::policy::discover(&cwd)
        }
    };
    let Some(path) = path else {
        return Ok(None);
    };
    let file = PolicyFile::read(&path).map_err(|e| usage(e.to_string()))?;
    file.apply_to_rules(rules)
        .map_err(|e| usage(e.to_string()))?;
    Ok(Some(Arc::new(file)))
}

/// Each gate value from its flag, else the policy file, else the default gate (a score of 50, no
/// critical finding).
fn gate_of(g: &GateArgs, file: Option<Arc<PolicyFile>>) -> Result<Gate, Fatal> {
    fn pick<T>(flag: Option<T>, file: Option<T>, default: Option<T>) -> (Option<T>, Source) {
        match (flag, file, default) {
            (Some(v), _, _) => (Some(v), Source::Flag),
            (None, Some(v), _) => (Some(v), Source::File),
            (None, None, Some(v)) => (Some(v), Source::Default),
            (None, None, None) => (None, Source::Unset),
        }
    }
    let fg = file.as_ref().map(|f| f.gate.clone()).unwrap_or_default();
    let flag_severity = g
        .max_severity
        .as_deref()
        .map(|s| {
            serde_json::from_value::<Severity>(serde_json::Value::String(s.into()))
                .map_err(|e| usage(format!("--max-severity {s}: {e}")))
        })
        .transpose()?;
    let (fail_under, s0) = pick(g.fail_under, fg.fail_under, Some(DEFAULT_FAIL_UNDER));
    let (min_coverage, s1) = pick(g.min_coverage, fg.min_coverage, None);
    let (strict, s2) = pick(g.strict.then_some(true), fg.strict, None);
    let (max_severity, s3) = pick(flag_severity, fg.max_severity, Some(DEFAULT_MAX_SEVERITY));
    Ok(Gate {
        fail_under,
        min_coverage,
        strict: strict.unwrap_or(false),
        max_severity,
        sources: [s0, s1, s2, s3],
        rules_dir: g.rules.clone(),
        file,
    })
}

fn output_of(g: &GateArgs, sanitizer: Sanitizer) -> Output {
    Output {
        format: g.format,
        quiet: g.quiet,
        verbose: g.verbose,
        width: terminal_width(),
        sanitizer,
    }
}

fn plain_output(format: Format) -> Output {
    Output {
        format,
        quiet: false,
        verbose: false,
        width: terminal_width(),
        sanitizer: Sanitizer::default(),
    }
}

/// Scrubs every credential of the configuration in effect from what is printed.
fn sanitizer_for(config: &Config) -> Sanitizer {
    Sanitizer::new(config.secret_values())
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

fn read_trusted_root(path: Option<&Path>) -> Result<Option<Arc<TrustedRoot>>, Fatal> {
    let Some(p) = path else {
        return Ok(None);
    };
    let bytes = std::fs::read(p)
        .map_err(|e| usage(format!("cannot read --trusted-root {}: {e}", p.display())))?;
    TrustedRoot::from_json(&bytes)
        .map(|r| Some(Arc::new(r)))
        .map_err(|e| {
            usage(format!(
                "--trusted-root {} is not a Sigstore trusted root: {e}",
                p.display()
            ))
        })
}

/// npm's configuration as npm would load it for this process: `--registry`, `--userconfig` and
/// `--npm-config` are the command-line layer; the environment and the `.npmrc` files follow.
/// Its diagnostics are printed here, once, with its own credentials scrubbed.
fn npm_setup(reg: &RegistryArgs) -> Result<Npm, Fatal> {
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
    let mut env: HashMap<String, String> = std::env::vars().collect();
    // For `config`, mcp-audit's own index flags stand for the environment the client passes
    // on, as its npm flags do: uv and pip read these variables (an entry's `env` still wins).
    if let Some(u) = &reg.index_url {
        env.insert("UV_DEFAULT_INDEX".into(), u.clone());
        env.insert("PIP_INDEX_URL".into(), u.clone());
    }
    if !reg.extra_index_url.is_empty() {
        let joined = reg.extra_index_url.join(" ");
        env.insert("UV_EXTRA_INDEX_URL".into(), joined.clone());
        env.insert("PIP_EXTRA_INDEX_URL".into(), joined);
    }
    let cwd = std::env::current_dir()
        .map_err(|e| usage(format!("cannot read the current directory: {e}")))?;
    let (layers, diagnostics) = crate::npmrc::discover(&cwd, &env, &cli);
    let config = Config::from_layers(layers);
    let sanitizer = sanitizer_for(&config);
    // npm reports a bad line and goes on; so do we, on stderr, naming file and line.
    let mut printed = BTreeSet::new();
    for d in diagnostics.iter().chain(config.diagnostics()) {
        crate::commands::eprint(&sanitizer, &format!("npm config: {d}"));
        printed.insert(d.to_string());
    }
    Ok(Npm {
        config,
        base: NpmBase {
            cwd,
            env,
            cli,
            known_diagnostics: printed,
        },
        registry_flag: reg.registry.clone(),
    })
}
