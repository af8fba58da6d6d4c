//! `mcp-audit config`: every server an MCP client config would start, audited without starting
//! anything. Files are read and parsed here (one bad file never stops the others); each npm
//! launch is scanned through the same [`Scanner`] pipeline as `scan`, with the npm configuration
//! that launch would see: the user's, plus the entry's `env` and its `--registry`-style flags.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use regex::Regex;

use crate::clients::{
    client_for_path, launch_risks, npm_layers_with_env, parse_config, parse_launch, Client,
    ConfigFileError, KnownConfig, Launch, Note, ServerEntry, ServerProblem,
};
use crate::error::TargetError;
use crate::facts::{launch_facts, Fact, LaunchFacts, PackageFacts, ServerOrigin};
use crate::npmrc::{env_setting_key, Config};
use crate::pipeline::scan::Scanner;
use crate::report::{
    assess_owned, Assessment, Policy, Status, EXIT_GATE_FAILED, EXIT_OK, EXIT_UNCHECKED,
};
use crate::secrets::Scrubber;
use crate::spec::{registry_spec, Selector, Spec};

mod jfrog;
pub use jfrog::JfrogLink;

/// A config file to audit, and what is known of it before reading.
#[derive(Debug, Clone)]
pub struct ConfigInput {
    pub path: PathBuf,
    /// From discovery, `--client`, or the file's name.
    pub client: Option<Client>,
    /// Discovery knows whether a file is the user's or a project's.
    pub project_scope: Option<bool>,
}

/// The npm configuration every launch starts from: what `scan` would use in this process.
#[derive(Debug, Clone)]
pub struct NpmBase {
    pub cwd: PathBuf,
    pub env: HashMap<String, String>,
    /// mcp-audit's own `--registry`, `--userconfig` and `--npm-config` settings. For `config`
    /// they stand for the environment the client passes on (see `entry_config`).
    pub cli: Vec<(String, String)>,
    /// Diagnostics already printed for the user's configuration, not repeated per server.
    pub known_diagnostics: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub struct ConfigReport {
    pub generated_at: DateTime<Utc>,
    pub policy: Policy,
    /// With `--discover`: every place looked at, and whether a file was there.
    pub discovered: Option<Vec<(KnownConfig, bool)>>,
    pub files: Vec<FileReport>,
}

#[derive(Debug, Clone)]
pub struct FileReport {
    pub path: PathBuf,
    pub client: Option<Client>,
    pub result: Result<FileAudit, ConfigFileError>,
}

#[derive(Debug, Clone)]
pub struct FileAudit {
    pub servers: Vec<ServerReport>,
    /// Fields dropped from servers that are still audited.
    pub warnings: Vec<ServerProblem>,
    /// Servers that cannot be started as written (no command or url, not an object): they
    /// count as not checked.
    pub unreadable: Vec<ServerProblem>,
    pub notes: Vec<Note>,
}

#[derive(Debug, Clone)]
pub struct ServerReport {
    /// The entry as written, clear text: show it only through [`ServerReport::show`] or the
    /// wire types.
    pub entry: ServerEntry,
    /// The entry's credentials, scrubbed from everything shown about this server.
    pub scrub: Scrubber,
    pub launch: Launch,
    pub launch_facts: LaunchFacts,
    pub package: PackageOutcome,
    /// npm configuration problems particular to this entry (an unset `${VAR}` in its env...).
    pub notes: Vec<String>,
    /// Launch rules and package rules together.
    pub assessment: Assessment,
    /// A JFrog wrapper entry: the MCP it loads, audited as the report after this one.
    pub wraps: Option<JfrogLink>,
    /// The MCP a JFrog wrapper entry loads: this report is that package's, and the entry's
    /// launch is judged in the wrapper's report (the one before).
    pub via: Option<JfrogLink>,
}

/// What became of the package a server launches.
#[derive(Debug, Clone)]
pub enum PackageOutcome {
    Scanned {
        registry: String,
        facts: Box<PackageFacts>,
        /// Its audited dependency tree (issue 12); `None` with `--no-deps`.
        tree: Option<Box<crate::report::TreeReport>>,
    },
    /// It should have been scanned and could not be: the server counts as not checked.
    Failed {
        name: String,
        registry: String,
        error: TargetError,
    },
    /// Nothing mcp-audit can scan (a docker image, a PyPI package, a local script), or a pinned
    /// version the registry does not have. Package rules are inconclusive, for this reason.
    NotScanned { reason: String },
}

impl ServerReport {
    /// Text about this server (an error, a reason) with the entry's credentials scrubbed.
    pub fn show(&self, text: &str) -> String {
        self.scrub.scrub(text).to_string()
    }

    pub fn status(&self) -> Status {
        match &self.package {
            PackageOutcome::Failed { .. } => Status::Error,
            _ if self.assessment.gate_failures.is_empty() => Status::Passed,
            _ => Status::Failed,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConfigSummary {
    pub files: usize,
    /// Files that could not be read or parsed.
    pub file_errors: usize,
    pub servers: usize,
    pub passed: usize,
    pub failed: usize,
    /// Servers whose package could not be checked, plus entries that cannot be read.
    pub errors: usize,
    /// Servers whose package was not scanned (not npm, or nothing fetched).
    pub not_scanned: usize,
    pub inconclusive: usize,
}

impl ConfigReport {
    pub fn summary(&self) -> ConfigSummary {
        let mut s = ConfigSummary {
            files: self.files.len(),
            ..Default::default()
        };
        for f in &self.files {
            let Ok(audit) = &f.result else {
                s.file_errors += 1;
                continue;
            };
            s.errors += audit.unreadable.len();
            for srv in &audit.servers {
                s.servers += 1;
                match srv.status() {
                    Status::Passed => s.passed += 1,
                    Status::Failed => s.failed += 1,
                    Status::Error => s.errors += 1,
                }
                if matches!(srv.package, PackageOutcome::NotScanned { .. }) {
                    s.not_scanned += 1;
                }
                s.inconclusive += srv.assessment.inconclusive.len();
            }
        }
        s
    }

    /// As for `scan`: 3 when anything could not be checked (a file, an entry, a package), else
    /// 1 when a server failed the gate, else 0. Finding no config at all is "could not check".
    pub fn exit_code(&self) -> u8 {
        let s = self.summary();
        if s.file_errors > 0 || s.errors > 0 || self.files.is_empty() {
            EXIT_UNCHECKED
        } else if s.failed > 0 {
            EXIT_GATE_FAILED
        } else {
            EXIT_OK
        }
    }
}

/// One server entry on its way through the audit.
struct Job {
    file: usize,
    origin_config: String,
    origin_client: Option<Client>,
    launch_dir: PathBuf,
    entry: ServerEntry,
}

impl Job {
    /// Where the entry came from, as its launch facts name it.
    fn origin(&self) -> ServerOrigin<'_> {
        ServerOrigin {
            config: &self.origin_config,
            client: self.origin_client.map(Client::id),
        }
    }
}

/// Largest config file read: real ones are a few KiB; a hostile one must not exhaust memory.
pub const MAX_CONFIG_BYTES: u64 = 16 * 1024 * 1024;

/// Reads a config file, refusing anything but a regular file of at most [`MAX_CONFIG_BYTES`].
/// The type is checked before opening, so a FIFO is never opened (opening one blocks until a
/// writer comes) and a device such as `/dev/zero` is never read; the size is checked again while
/// reading, for a file that grows.
pub fn read_config_file(path: &Path) -> Result<String, ConfigFileError> {
    use std::io::Read;
    let refuse = |message: String| ConfigFileError::Unreadable {
        path: path.to_path_buf(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| ConfigFileError::unreadable(path, &e))?;
    if !meta.is_file() {
        return Err(refuse(
            "not a regular file (a directory, FIFO or device): refused".into(),
        ));
    }
    let too_big = |size: u64| {
        refuse(format!(
            "{size} bytes, over the {} MiB limit for a config file: refused",
            MAX_CONFIG_BYTES / (1024 * 1024)
        ))
    };
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(too_big(meta.len()));
    }
    let file = std::fs::File::open(path).map_err(|e| ConfigFileError::unreadable(path, &e))?;
    // The path may have been swapped between the check and the open.
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err(refuse("not a regular file: refused".into()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ConfigFileError::unreadable(path, &e))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|_| refuse("not UTF-8 text".into()))
}

/// Reads, parses and audits every file. `scan_packages` false (`--no-scan`) judges launches
/// only. `on_done` runs once per finished server, for progress and `-v`.
pub async fn audit(
    scanner: &Scanner,
    base: &NpmBase,
    inputs: &[ConfigInput],
    scan_packages: bool,
    on_done: &(dyn Fn(&Path, &ServerReport) + Sync),
) -> Vec<FileReport> {
    let mut files = Vec::new();
    let mut jobs = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let client = input.client.or_else(|| client_for_path(&input.path));
        let path = input.path.clone();
        // File reads and parsing are blocking work: keep them off the async threads.
        let parsed = tokio::task::spawn_blocking(move || {
            read_config_file(&path).and_then(|text| parse_config(&path, &text, client))
        })
        .await
        .unwrap_or_else(|e| {
            Err(ConfigFileError::Unreadable {
                path: input.path.clone(),
                message: format!("reading stopped: {e}"),
            })
        });
        let result = parsed.map(|p| {
            let project = project_dir(&input.path, input.project_scope);
            for entry in &p.servers {
                let dir = entry
                    .project
                    .as_ref()
                    .map(PathBuf::from)
                    .or_else(|| project.clone())
                    .unwrap_or_else(|| base.cwd.clone());
                jobs.push(Job {
                    file: i,
                    origin_config: input.path.display().to_string(),
                    origin_client: client,
                    launch_dir: launch_dir(entry, &dir),
                    entry: entry.clone(),
                });
            }
            let (unreadable, warnings) = p.problems.into_iter().partition(|prob| {
                !p.servers
                    .iter()
                    .any(|s| s.name == prob.server && s.project == prob.project)
            });
            FileAudit {
                servers: Vec::new(),
                warnings,
                unreadable,
                notes: p.notes,
            }
        });
        files.push(FileReport {
            path: input.path.clone(),
            client,
            result,
        });
    }
    let width = jobs.len().clamp(1, 64);
    let discovery = DiscoveryCache::default();
    let discovery = &discovery;
    let inherited = inherited_env(base);
    let inherited = &inherited;
    let done: Vec<(usize, Vec<ServerReport>)> = stream::iter(jobs)
        .map(|job| async move {
            // Counted until the job ends, so the run's advisories round waits for it.
            let rounds = &scanner.registries.memo().rounds;
            rounds.join();
            let mut report =
                audit_server(scanner, base, inherited, discovery, &job, scan_packages).await;
            on_done(&inputs[job.file].path, &report);
            let mut reports = Vec::new();
            // A JFrog wrapper runs another MCP: audited too, as the report after the wrapper's.
            if let Some(wrapper) = jfrog::wrapper_of(&job, base) {
                let wrapped = jfrog::audit_wrapped(
                    scanner,
                    base,
                    inherited,
                    discovery,
                    &job,
                    wrapper,
                    scan_packages,
                )
                .await;
                on_done(&inputs[job.file].path, &wrapped);
                report.wraps = wrapped.via.clone();
                reports.push(report);
                reports.push(wrapped);
            } else {
                reports.push(report);
            }
            rounds.leave().await;
            (job.file, reports)
        })
        .buffered(width)
        .collect()
        .await;
    for (file, reports) in done {
        if let Ok(audit) = &mut files[file].result {
            audit.servers.extend(reports);
        }
    }
    files
}

async fn audit_server(
    scanner: &Scanner,
    base: &NpmBase,
    inherited: &HashMap<String, String>,
    discovery: &DiscoveryCache,
    job: &Job,
    scan_packages: bool,
) -> ServerReport {
    let entry = &job.entry;
    let launch = parse_launch(entry);
    let risks = launch_risks(entry, &launch);
    let scrub = entry.scrubber();
    let mut notes = Vec::new();
    let (package, registry, version_exists) = match (&launch, not_scanned_reason(&launch, &scrub)) {
        (_, Some(reason)) => not_npm(PackageOutcome::NotScanned { reason }),
        (Launch::Npm { spec, .. }, None) => match registry_spec(spec) {
            Err(reason) => not_npm(PackageOutcome::NotScanned { reason }),
            Ok(spec) => {
                let started = client_expanded(entry, &base.env);
                let started_launch = parse_launch(&started);
                let config = entry_config(
                    base,
                    inherited,
                    discovery,
                    job,
                    &started,
                    &started_launch,
                    &mut notes,
                )
                .await;
                npm_package(scanner, config, &spec, scan_packages).await
            }
        },
        (_, None) => not_npm(PackageOutcome::NotScanned {
            reason: "not a package launch".into(),
        }),
    };
    // PyPI launches: scanned with the index and credentials the entry's own flags and
    // environment select for its launcher (uv's settings for uvx, pip's for pipx).
    let (package, registry, version_exists) = match (&launch, package) {
        (
            Launch::PyPi {
                runner,
                package: raw,
            },
            PackageOutcome::NotScanned { .. },
        ) => {
            let started = client_expanded(entry, &base.env);
            pypi_package(scanner, base, job, &started, runner, raw, scan_packages).await
        }
        (_, package) => (package, registry, version_exists),
    };
    let launch_facts = launch_facts(
        &job.origin(),
        entry,
        &launch,
        &risks,
        registry,
        version_exists,
    );
    let rules = &scanner.rules;
    let mut evals = rules.evaluate_launch(&launch_facts);
    // Launches that install no package are judged against npm's rule set, as before PyPI.
    let ecosystem = match &launch {
        Launch::PyPi { .. } => "pypi",
        _ => "npm",
    };
    match &package {
        PackageOutcome::Scanned { facts, .. } => evals.extend(rules.evaluate(facts)),
        PackageOutcome::Failed { error, .. } => {
            evals.extend(rules.package_not_checked_in(ecosystem, &format!("package: {error}")))
        }
        PackageOutcome::NotScanned { reason } => evals.extend(
            rules.package_not_checked_in(ecosystem, &format!("package not scanned: {reason}")),
        ),
    }
    // Ignores match the package the entry runs: the one scanned, else the name it launches.
    let subject = match (&package, &launch) {
        (PackageOutcome::Scanned { facts, .. }, _) => Some((
            facts.package.name.clone(),
            Some(facts.package.version.clone()),
        )),
        (_, Launch::Npm { spec, .. }) => registry_spec(spec).ok().map(|s| {
            let version = match s.selector {
                Selector::Version(v) => Some(v),
                _ => None,
            };
            (s.name, version)
        }),
        _ => None,
    };
    let subject = subject.as_ref().map(|(n, v)| (n.as_str(), v.as_deref()));
    let mut assessment = assess_owned(evals, rules, &scanner.policy, subject);
    add_tree(&package, &mut assessment, rules, &scanner.policy);
    if let Launch::Npm { extra_packages, .. } = &launch {
        if !extra_packages.is_empty() {
            notes.push(format!(
                "the launch also installs {} (further --package flags): only the first package is scanned",
                extra_packages.join(", ")
            ));
        }
    }
    if let Launch::Npm { runner, .. } = &launch {
        if runner == "yarn dlx" {
            notes.push(
                "yarn dlx reads .yarnrc.yml, not npm's configuration: the package was resolved with npm's"
                    .into(),
            );
        }
    }
    let (notes, package) = scrub_shown(&scrub, &notes, package);
    ServerReport {
        scrub,
        entry: entry.clone(),
        launch: launch.clone(),
        launch_facts,
        package,
        notes,
        assessment,
        wraps: None,
        via: None,
    }
}

/// What became of a launch's package, the registry it resolves to, and whether that registry
/// has the pinned version.
type NpmOutcome = (PackageOutcome, Option<String>, Fact<bool>);

fn not_npm(package: PackageOutcome) -> NpmOutcome {
    (
        package,
        None,
        Fact::unknown("only npm versions are looked up"),
    )
}

/// Scans an npm launch's package with the entry's own configuration, as `scan` would.
async fn npm_package(
    scanner: &Scanner,
    config: Config,
    spec: &Spec,
    scan_packages: bool,
) -> NpmOutcome {
    let registries = scanner.registries.with_config(Arc::new(config));
    let client = match registries.resolve(&spec.name) {
        Ok((client, _)) => client,
        Err(problem) => {
            let error = TargetError::Config {
                name: spec.name.clone(),
                problem,
            };
            let exists = Fact::unknown(format!("the registry could not be asked: {error}"));
            let package = PackageOutcome::Failed {
                name: spec.name.clone(),
                registry: String::new(),
                error,
            };
            return (package, None, exists);
        }
    };
    let shown = client.base_display();
    let pinned = matches!(spec.selector, Selector::Version(_));
    let unpinned = || Fact::unknown("no exact version is pinned");
    if !scan_packages {
        let exists = if pinned {
            Fact::unknown("--no-scan: the registry was not asked")
        } else {
            unpinned()
        };
        let package = PackageOutcome::NotScanned {
            reason: "--no-scan: the package was not fetched".into(),
        };
        return (package, Some(shown), exists);
    }
    // The package's facts and its tree's (the tree npx would install with the entry's own npm
    // configuration), then one advisories request for the whole run (`rounds`), then the rules.
    let fetched = match scanner.facts_in(&registries, spec).await {
        Ok(mut facts) => {
            let resolved = match &scanner.tree {
                None => None,
                Some(opts) => Some(
                    scanner
                        .resolve_tree(
                            &registries,
                            &facts.package.name,
                            &facts.package.version,
                            opts,
                        )
                        .await,
                ),
            };
            let mut node_facts = match &resolved {
                Some(Ok(t)) => scanner.tree_facts(&registries, t).await,
                _ => Vec::new(),
            };
            let mut root = [Ok(facts)];
            let names = [spec.name.as_str()];
            let node_names: Vec<&str> = match &resolved {
                Some(Ok(t)) => t.nodes.iter().map(|n| n.name.as_str()).collect(),
                _ => Vec::new(),
            };
            let mut asked = super::scan::advisory_pairs(&names, &root);
            asked.extend(super::scan::advisory_pairs(&node_names, &node_facts));
            let advisories = registries
                .memo()
                .rounds
                .ask(&registries, asked.iter().map(|(n, v)| (*n, v.as_str())))
                .await;
            super::scan::apply_advisories(&names, &mut root, &advisories);
            super::scan::apply_advisories(&node_names, &mut node_facts, &advisories);
            drop(node_names);
            let [root] = root;
            facts = root.expect("the root's facts were checked above");
            let tree = resolved.map(|t| {
                Box::new(match t {
                    Ok(t) => scanner.tree_report(t, node_facts),
                    Err(e) => crate::report::TreeReport {
                        source: "registry",
                        root: format!("{}@{}", facts.package.name, facts.package.version),
                        nodes: Vec::new(),
                        problems: Vec::new(),
                        error: Some(e.to_string()),
                    },
                })
            });
            Ok((facts, tree))
        }
        Err(e) => Err(e),
    };
    let (package, exists) = outcome(fetched, &spec.name, &shown, pinned, "registry");
    (
        package,
        Some(shown),
        if pinned { exists } else { unpinned() },
    )
}

/// What became of a launch's package once its registry or index (`asked`) was asked, and whether
/// the launched version exists there.
fn outcome(
    fetched: Result<(PackageFacts, Option<Box<crate::report::TreeReport>>), TargetError>,
    name: &str,
    shown: &str,
    pinned: bool,
    asked: &str,
) -> (PackageOutcome, Fact<bool>) {
    match fetched {
        Ok((facts, tree)) => (
            PackageOutcome::Scanned {
                registry: shown.to_string(),
                facts: Box::new(facts),
                tree,
            },
            Fact::Known(true),
        ),
        // The registry answered: the pinned version is not there. That is a finding about the
        // launch, not a failure to check.
        Err(e @ TargetError::VersionNotFound { .. }) if pinned => (
            PackageOutcome::NotScanned {
                reason: e.to_string(),
            },
            Fact::Known(false),
        ),
        Err(error) => {
            // A package the registry does not have has none of its versions either; the server
            // still counts as not checked.
            let exists = match &error {
                TargetError::PackageNotFound { .. } => Fact::Known(false),
                other => Fact::unknown(format!("the {asked} could not be asked: {other}")),
            };
            let package = PackageOutcome::Failed {
                name: name.to_string(),
                registry: shown.to_string(),
                error,
            };
            (package, exists)
        }
    }
}

/// The registry package a PyPI launch installs: `pkg`, `pkg==1.2`, uvx's `pkg@1.2`, with or
/// without extras; a URL, path or git spec installs none.
fn pypi_launch_spec(raw: &str) -> Result<Spec, String> {
    let s = raw.trim();
    let shown = crate::secrets::redact_value(None, raw);
    if s.contains("://") || s.starts_with(['.', '/', '~']) || s.contains(" @ ") {
        return Err(format!(
            "`{shown}` is a URL, path or direct reference, not an index package"
        ));
    }
    // uvx's `pkg@1.2` (also `pkg@1!2.0`, an epoch) unless an operator comes before the `@`.
    let ops = ['<', '>', '=', '!', '~'];
    let sep = match s.split_once('@') {
        Some((name, _)) if !name.contains(ops) => "@",
        _ if s.contains(ops) => "==",
        _ => "@",
    };
    crate::spec::parse_pypi(raw, s, sep).map_err(|e| format!("`{shown}`: {}", e.problem))
}

/// The Python index settings a PyPI launch's own flags give: `--index-url` / `-i` /
/// `--default-index` and `--extra-index-url` / `--index` (uv), read up to the package.
fn pypi_launch_flags(args: &[String]) -> (Option<String>, Vec<String>) {
    let mut index = None;
    let mut extra = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if !a.starts_with('-') || a == "--" {
            break;
        }
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (a, None),
        };
        let value = |i: &mut usize| match &inline {
            Some(v) => Some(v.clone()),
            None => {
                *i += 1;
                args.get(*i).cloned()
            }
        };
        match name {
            "--index-url" | "-i" | "--default-index" => index = value(&mut i),
            "--extra-index-url" | "--index" => extra.extend(value(&mut i)),
            // Other flags with a value: skip it so it is not read as the package.
            "--from" | "--with" | "--python" | "-p" | "--spec" | "--pip-args" | "-w" | "-c"
            | "--constraints" | "--find-links" | "-f"
                if inline.is_none() =>
            {
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    (index, extra)
}

#[allow(clippy::too_many_arguments)]
async fn pypi_package(
    scanner: &Scanner,
    base: &NpmBase,
    job: &Job,
    entry: &ServerEntry,
    runner: &str,
    raw: &str,
    scan_packages: bool,
) -> NpmOutcome {
    let spec = match pypi_launch_spec(raw) {
        Ok(s) => s,
        Err(reason) => {
            return (
                PackageOutcome::NotScanned { reason },
                None,
                Fact::unknown("no index package to look up"),
            )
        }
    };
    let args: Vec<String> = entry
        .args
        .iter()
        .skip_while(|a| matches!(a.as_str(), "tool" | "run"))
        .cloned()
        .collect();
    let (index_url, extra) = pypi_launch_flags(&args);
    let mut env = base.env.clone();
    for (k, v) in &entry.env {
        set_env(&mut env, k, v);
    }
    let inputs = crate::pyindex::Inputs {
        index_url,
        extra_index_urls: extra,
        env,
        cwd: Some(job.launch_dir.clone()),
        home: base.env.get("HOME").map(PathBuf::from),
    };
    let tool = if runner.starts_with("pipx") {
        crate::pyindex::Tool::Pip
    } else {
        crate::pyindex::Tool::Uv
    };
    let pinned = matches!(spec.selector, Selector::Version(_));
    let unpinned = || Fact::unknown("no exact version is pinned");
    let indexes = match crate::pyindex::resolve(&inputs, tool, scanner.registries.allow_http()) {
        Ok(ix) => Arc::new(ix),
        Err(problem) => {
            let error = TargetError::Config {
                name: spec.name.clone(),
                problem,
            };
            let exists = Fact::unknown(format!("the index could not be asked: {error}"));
            let package = PackageOutcome::Failed {
                name: spec.name.clone(),
                registry: String::new(),
                error,
            };
            return (package, None, exists);
        }
    };
    let shown = crate::registry::redact_url(&indexes.primary.url);
    if !scan_packages {
        let package = PackageOutcome::NotScanned {
            reason: "--no-scan: the package was not fetched".into(),
        };
        let exists = if pinned {
            Fact::unknown("--no-scan: the index was not asked")
        } else {
            unpinned()
        };
        return (package, Some(shown), exists);
    }
    let registries = scanner.registries.with_python(Arc::clone(&indexes));
    // Python dependency trees are out of scope (README).
    let fetched = scanner
        .pypi_facts_in(&registries, &indexes, &spec)
        .await
        .map(|facts| (facts, None));
    let (package, exists) = outcome(fetched, &spec.name, &shown, pinned, "index");
    (
        package,
        Some(shown),
        if pinned { exists } else { unpinned() },
    )
}

/// Folds the scanned package's dependency tree, when it was resolved, into the entry's score,
/// findings and gate.
pub(super) fn add_tree(
    package: &PackageOutcome,
    assessment: &mut Assessment,
    rules: &crate::rules::RuleSet,
    policy: &Policy,
) {
    if let PackageOutcome::Scanned {
        tree: Some(tree), ..
    } = package
    {
        let a = assessment;
        super::tree::aggregate(
            tree,
            &mut a.score,
            &mut a.findings,
            &mut a.inconclusive,
            &mut a.gate_failures,
            rules,
            policy,
        );
    }
}

/// Notes and a not-scanned reason quote specs and paths from the entry: the text shown of them,
/// with the entry's credentials scrubbed.
pub(super) fn scrub_shown(
    scrub: &Scrubber,
    notes: &[String],
    package: PackageOutcome,
) -> (Vec<String>, PackageOutcome) {
    let notes = notes.iter().map(|n| scrub.scrub(n).to_string()).collect();
    let package = match package {
        PackageOutcome::NotScanned { reason } => PackageOutcome::NotScanned {
            reason: scrub.scrub(&reason).to_string(),
        },
        other => other,
    };
    (notes, package)
}

/// Why a launch has no npm package to scan, or `None` when it has one.
fn not_scanned_reason(launch: &Launch, scrub: &Scrubber) -> Option<String> {
    let shown = launch.redacted(scrub);
    match &shown {
        Launch::Npm { spec, call, .. } if spec.is_empty() => Some(match call {
            Some(_) => "the launch runs a command line (`-c`/`--call`) and fetches no package".into(),
            None => "the launch names no package".into(),
        }),
        Launch::Npm { .. } => None,
        Launch::Node { path } => Some(format!(
            "local script {path}: not a published package (audit its source)"
        )),
        // Scanned by `pypi_package`; this reason stands only if that cannot run.
        Launch::PyPi { runner, package } => Some(format!(
            "PyPI package {package} ({runner})"
        )),
        Launch::Docker { image } => Some(format!(
            "container image {image}: images are not scanned"
        )),
        Launch::Remote { url, .. } => Some(format!(
            "remote server {url}: nothing is installed locally"
        )),
        Launch::Shell { .. } => Some("a shell command line: what it installs cannot be read".into()),
        Launch::Other { command } if command.is_empty() => {
            Some("the entry has no command".into())
        }
        Launch::Other { command } => Some(match python_module(command) {
            Some(m) => m,
            None => format!(
                "`{command}` is not a launcher mcp-audit reads (npx, npm exec, pnpm dlx, yarn dlx, bunx)"
            ),
        }),
    }
}

/// Why a `python -m MODULE` launch (also `uv run [--with PKG] python -m MODULE`) scans nothing:
/// a module is not a distribution (`yaml` comes from PyYAML, `mcp_server_fetch` from
/// mcp-server-fetch), so guessing one from the other would audit a package that may not be the
/// one installed. `None` for any other command.
fn python_module(command: &str) -> Option<String> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let py = words.iter().position(|w| crate::clients::is_python(w))?;
    let m = words[py + 1..].iter().position(|w| *w == "-m")? + py + 1;
    let module = words.get(m + 1)?;
    let with: Vec<&str> = words[..py]
        .windows(2)
        .filter(|w| w[0] == "--with")
        .map(|w| w[1])
        .collect();
    Some(if with.is_empty() {
        format!(
            "`python -m {module}` runs an installed module: module not mapped to a distribution \
             (a module name is not a package name), so no package is scanned"
        )
    } else {
        // `uv run --with PKG python -m MODULE` is scanned as PKG; this stands for other shapes.
        format!(
            "`python -m {module}` with `--with {}`: module not mapped to a distribution, so no \
             package is scanned",
            with.join(" --with ")
        )
    })
}

/// The npm configuration the entry's launch would load: npm's discovery from the directory the
/// client starts it in, with the environment the client passes on plus the entry's `env`, and
/// the launch's flags as the command line; then the entry's own layers once more, last, so that
/// `${VAR}` in them expands as npm would expand it (later layers of a kind win).
///
/// mcp-audit's own `--registry`, `--userconfig` and `--npm-config` stand for the environment
/// the client inherits (`npm_config_*` variables), not for flags of every launch: an entry's
/// `env` and flags are more specific, and override them.
async fn entry_config(
    base: &NpmBase,
    inherited: &HashMap<String, String>,
    discovery: &DiscoveryCache,
    job: &Job,
    entry: &ServerEntry,
    launch: &Launch,
    notes: &mut Vec<String>,
) -> Config {
    let cli = match launch {
        Launch::Npm { npm_config, .. } => npm_config.clone(),
        _ => Vec::new(),
    };
    let found = discovery
        .get(&job.launch_dir, inherited, &entry.env, &cli)
        .await;
    let (mut layers, mut diags) = (found.0.clone(), found.1.clone());
    let (extra, d) = npm_layers_with_env(entry, launch, inherited);
    layers.extend(extra);
    diags.extend(d);
    let config = Config::from_layers(layers);
    let mut seen = base.known_diagnostics.clone();
    for d in diags.iter().chain(config.diagnostics()) {
        let line = d.to_string();
        if seen.insert(line.clone()) {
            notes.push(format!("npm config: {line}"));
        }
    }
    config
}

/// The environment the client passes on to every launch: the process's, with mcp-audit's own
/// npm settings as `npm_config_*` variables. The same for every server of a run.
fn inherited_env(base: &NpmBase) -> HashMap<String, String> {
    let mut inherited = base.env.clone();
    for (k, v) in &base.cli {
        set_env(&mut inherited, &format!("npm_config_{k}"), v);
    }
    inherited
}

/// npm's configuration discovery, done once per (directory, environment, command line): the
/// servers of one file mostly share all three, and discovery reads up to four files from disk.
/// It runs on the blocking pool, off the async threads. The inherited environment is the same
/// for a whole run (one cache per run), so the key holds only the entry's own `env`: building
/// and sorting the whole environment per server was a large part of `config --no-scan`.
#[derive(Default)]
struct DiscoveryCache {
    #[allow(clippy::type_complexity)]
    found: std::sync::Mutex<HashMap<DiscoveryKey, Arc<tokio::sync::OnceCell<Arc<Discovered>>>>>,
}

type DiscoveryKey = (PathBuf, BTreeMap<String, String>, Vec<(String, String)>);
type Discovered = (Vec<crate::npmrc::Layer>, Vec<crate::npmrc::Diagnostic>);

impl DiscoveryCache {
    async fn get(
        &self,
        dir: &Path,
        inherited: &HashMap<String, String>,
        entry_env: &BTreeMap<String, String>,
        cli: &[(String, String)],
    ) -> Arc<Discovered> {
        let key = (dir.to_path_buf(), entry_env.clone(), cli.to_vec());
        let cell = {
            let mut found = self.found.lock().unwrap_or_else(|e| e.into_inner());
            found.entry(key).or_default().clone()
        };
        cell.get_or_init(|| {
            let mut env = inherited.clone();
            for (k, v) in entry_env {
                set_env(&mut env, k, v);
            }
            let (dir, cli) = (dir.to_path_buf(), cli.to_vec());
            async move {
                let work = move || Arc::new(crate::npmrc::discover(&dir, &env, &cli));
                // A panic in discovery stays a panic: an empty configuration would be a guess.
                tokio::task::spawn_blocking(work)
                    .await
                    .expect("npm configuration discovery")
            }
        })
        .await
        .clone()
    }
}

/// Sets `name` in `env`, first removing every other spelling npm reads as the same setting
/// (`NPM_CONFIG_USERCONFIG` and `npm_config_userconfig`): otherwise which one wins would depend
/// on the order npm's environment layer reads them in, not on which is more specific.
fn set_env(env: &mut HashMap<String, String>, name: &str, value: &str) {
    if let Some(key) = env_setting_key(name) {
        env.retain(|k, _| k == name || env_setting_key(k).as_deref() != Some(key.as_str()));
    }
    env.insert(name.to_string(), value.to_string());
}

static ENV_REFERENCE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}").expect("static regex"));

/// The entry as the client starts it: VS Code and Cursor replace `${env:NAME}` in `command`,
/// `args` and `env` with the variable's value before the server starts. An unset variable is
/// left as written. Only for resolving the registry and credentials: the launch rules judge the
/// entry as written, where a reference is not a secret.
fn client_expanded(entry: &ServerEntry, env: &HashMap<String, String>) -> ServerEntry {
    let expand = |text: &str| -> String {
        ENV_REFERENCE
            .replace_all(text, |c: &regex::Captures<'_>| {
                env.get(&c[1]).cloned().unwrap_or_else(|| c[0].to_string())
            })
            .into_owned()
    };
    let mut out = entry.clone();
    out.command = entry.command.as_deref().map(expand);
    out.args = entry.args.iter().map(|a| expand(a)).collect();
    out.env = entry
        .env
        .iter()
        .map(|(k, v)| (k.clone(), expand(v)))
        .collect();
    out
}

/// The project a config file belongs to, when it is a project's: `.mcp.json` sits in it;
/// `.vscode/`, `.cursor/` and `.gemini/` files one level down.
fn project_dir(path: &Path, project_scope: Option<bool>) -> Option<PathBuf> {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let parent = abs.parent()?;
    let name = abs.file_name()?.to_str()?;
    let dir = parent.file_name().and_then(|d| d.to_str()).unwrap_or("");
    let guess = match (name, dir) {
        (".mcp.json", _) => Some(parent.to_path_buf()),
        ("mcp.json", ".vscode" | ".cursor") | ("settings.json", ".gemini") => {
            parent.parent().map(Path::to_path_buf)
        }
        _ => None,
    };
    match project_scope {
        Some(false) => None,
        _ => guess,
    }
}

/// The directory the client starts the server in: its `cwd` (relative to the project, with VS
/// Code's `${workspaceFolder}`), else the project, else mcp-audit's own.
fn launch_dir(entry: &ServerEntry, project: &Path) -> PathBuf {
    match entry
        .cwd
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        None => project.to_path_buf(),
        Some(cwd) => {
            let cwd = cwd.replace("${workspaceFolder}", &project.display().to_string());
            let p = PathBuf::from(cwd);
            if p.is_absolute() {
                p
            } else {
                project.join(p)
            }
        }
    }
}

/// The files a discovery found, as inputs.
pub fn discovered_inputs(found: &[(KnownConfig, bool)]) -> Vec<ConfigInput> {
    found
        .iter()
        .filter(|(_, exists)| *exists)
        .map(|(k, _)| ConfigInput {
            path: k.path.clone(),
            client: Some(k.client),
            project_scope: Some(k.scope == crate::clients::Scope::Project),
        })
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn pypi_launch_specs_pins_ranges_and_epochs() {
        let sel = |raw: &str| pypi_launch_spec(raw).map(|s| s.selector);
        assert_eq!(sel("pkg@1!2.0"), Ok(Selector::Version("1!2.0".into())));
        assert_eq!(sel("pkg@1.2"), Ok(Selector::Version("1.2".into())));
        assert_eq!(sel("pkg@latest"), Ok(Selector::Tag("latest".into())));
        assert_eq!(sel("pkg==1.2"), Ok(Selector::Version("1.2".into())));
        assert_eq!(sel("pkg>=1.2,<2"), Ok(Selector::Range(">=1.2, <2".into())));
        assert_eq!(sel("pkg~=1.2"), Ok(Selector::Range("~=1.2".into())));
        assert!(sel("pkg>=1@2").is_err());
        assert!(sel("pkg @ https://example.com/p.whl").is_err());
    }

    #[test]
    fn python_module_launches_say_why_nothing_is_scanned() {
        let r = python_module("python -m mcp_server_time --local-timezone UTC").unwrap();
        assert!(r.contains("`python -m mcp_server_time`") && r.contains("module not mapped"));
        let r = python_module("/usr/bin/python3.12 -u -m server").unwrap();
        assert!(r.contains("`python -m server`"), "{r}");
        let r = python_module("uv run --with mcp-server-git python -m mcp_server_git").unwrap();
        assert!(r.contains("--with mcp-server-git"), "{r}");
        assert_eq!(python_module("python server.py"), None);
        assert_eq!(python_module("deno run -m x"), None);
        assert_eq!(python_module("pythonic -m x"), None);
    }
    use super::*;

    #[test]
    fn pypi_launch_specs_and_index_flags_are_read() {
        let spec = pypi_launch_spec("mcp-server-git@2025.1.14").unwrap();
        assert_eq!(
            (spec.name.as_str(), spec.selector.kind()),
            ("mcp-server-git", "version")
        );
        let spec = pypi_launch_spec("Mcp_Server[cli]==1.0").unwrap();
        assert_eq!(spec.name, "mcp-server");
        assert_eq!(
            pypi_launch_spec("mcp-server-git").unwrap().selector.kind(),
            "tag"
        );
        for bad in [
            "git+https://github.com/x/y",
            "./local",
            "pkg @ https://x/y.whl",
        ] {
            assert!(pypi_launch_spec(bad).is_err(), "{bad}");
        }
        let args: Vec<String> = [
            "--from",
            "pkg==1.0",
            "--index-url=https://idx.example/simple/",
            "--extra-index-url",
            "https://pypi.org/simple/",
            "cmd",
            "--index-url",
            "https://not-read.example/",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (index, extra) = pypi_launch_flags(&args);
        assert_eq!(index.as_deref(), Some("https://idx.example/simple/"));
        assert_eq!(extra, ["https://pypi.org/simple/"]);
    }

    #[test]
    fn the_more_specific_spelling_of_a_setting_wins() {
        let mut env: HashMap<String, String> = [
            (
                "NPM_CONFIG_USERCONFIG".to_string(),
                "/inherited".to_string(),
            ),
            ("PATH".to_string(), "/bin".to_string()),
        ]
        .into();
        set_env(&mut env, "npm_config_userconfig", "/from-mcp-audit");
        set_env(&mut env, "npm_config_//r.example/:_authToken", "t");
        assert_eq!(env.len(), 3, "{env:?}");
        assert_eq!(env["npm_config_userconfig"], "/from-mcp-audit");
        set_env(&mut env, "NPM_CONFIG_USERCONFIG", "/entry");
        assert_eq!(env.get("npm_config_userconfig"), None);
        assert_eq!(env["NPM_CONFIG_USERCONFIG"], "/entry");
        assert_eq!(
            env_setting_key("npm_config_user_agent").as_deref(),
            Some("user-agent")
        );
        assert_eq!(env_setting_key("PATH"), None);
    }

    #[test]
    fn env_references_are_expanded_as_the_client_would() {
        let entry = ServerEntry {
            command: Some("npx".into()),
            args: vec!["--registry=${env:REG}".into(), "${env:UNSET}".into()],
            env: [(
                "npm_config_//r/:_authToken".to_string(),
                "${env:TOK}".to_string(),
            )]
            .into(),
            ..ServerEntry::default()
        };
        let env: HashMap<String, String> = [
            ("REG".to_string(), "https://r/".to_string()),
            ("TOK".to_string(), "secret".to_string()),
        ]
        .into();
        let e = client_expanded(&entry, &env);
        assert_eq!(e.args, ["--registry=https://r/", "${env:UNSET}"]);
        assert_eq!(e.env["npm_config_//r/:_authToken"], "secret");
    }

    #[test]
    fn project_files_run_in_their_project() {
        let p = project_dir(Path::new("/w/proj/.vscode/mcp.json"), None);
        assert_eq!(p.as_deref(), Some(Path::new("/w/proj")));
        let p = project_dir(Path::new("/w/proj/.mcp.json"), None);
        assert_eq!(p.as_deref(), Some(Path::new("/w/proj")));
        assert_eq!(
            project_dir(Path::new("/home/u/.cursor/mcp.json"), Some(false)),
            None
        );
        assert_eq!(
            project_dir(
                Path::new("/home/u/.config/Claude/claude_desktop_config.json"),
                None
            ),
            None
        );
        let entry = ServerEntry {
            cwd: Some("${workspaceFolder}/tools".into()),
            ..ServerEntry::default()
        };
        assert_eq!(
            launch_dir(&entry, Path::new("/w/proj")),
            PathBuf::from("/w/proj/tools")
        );
    }
}
