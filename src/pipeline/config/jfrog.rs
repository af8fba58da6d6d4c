//! The MCP a JFrog wrapper entry (`npx … @jfrog/agent-guard`, `@jfrog/mcp-gateway`) loads,
//! audited as a server of its own beside the wrapper's launch: the same entry, the package
//! `_JF_ARGS` names, the registry and credentials that entry's npm configuration selects (or,
//! for a PyPI package, the index its environment selects for uv).
//!
//! The wrapper itself fetches the MCP through the JFrog platform its `--server` names; that
//! platform's catalog is not readable from a config file, so the entry's own registry stands
//! in for it, and the report says so (README, docs/design.md).

use super::*;
use crate::clients::{jfrog_wrapper, JfrogWrapper, McpName};

/// How a wrapper entry and the MCP it loads are linked in the report.
#[derive(Debug, Clone)]
pub struct JfrogLink {
    pub wrapper: JfrogWrapper,
    /// `npm` or `pypi` once decided; `None` when it cannot be known.
    pub ecosystem: Option<&'static str>,
    /// How the ecosystem was decided, or why it was not (quotes the entry: show scrubbed).
    pub basis: String,
}

/// The JFrog wrapper the job's entry runs, if any, read from the entry as the client starts it.
pub(super) fn wrapper_of(job: &Job, base: &NpmBase) -> Option<JfrogWrapper> {
    // Most entries name no JFrog package: skip the expansion and parse (a cost per server that
    // `config --no-scan` over 100,000 entries would feel).
    let e = &job.entry;
    if !e
        .command
        .iter()
        .chain(e.args.iter())
        .any(|a| a.contains("@jfrog/"))
    {
        return None;
    }
    let started = client_expanded(&job.entry, &base.env);
    jfrog_wrapper(&parse_launch(&started), &started.args, &started.env)
}

/// The report of the MCP `wrapper` loads. Only package rules are evaluated: the launch (npx,
/// its flags, the credentials written in the entry) is the wrapper's, judged in its report.
pub(super) async fn audit_wrapped(
    scanner: &Scanner,
    base: &NpmBase,
    inherited: &HashMap<String, String>,
    discovery: &DiscoveryCache,
    job: &Job,
    wrapper: JfrogWrapper,
    scan_packages: bool,
) -> ServerReport {
    let entry = &job.entry;
    let scrub = entry.scrubber();
    let mut notes = vec![format!(
        "{} fetches this MCP through the JFrog platform{}; mcp-audit cannot read that platform's catalog, so the package is looked up with the entry's own npm registry (PyPI: uv's index for the entry's environment)",
        wrapper.wrapper,
        wrapper
            .server
            .as_deref()
            .map(|s| format!(" of server id `{s}` (`--server`)"))
            .unwrap_or_default()
    )];
    let started = client_expanded(entry, &base.env);
    let started_launch = parse_launch(&started);
    let mcp = wrapper.mcp.clone().unwrap_or_default();
    let npm_launch = |launch: &Launch| match launch {
        Launch::Npm {
            npm_config,
            npm_env,
            ..
        } => Launch::Npm {
            runner: wrapper.wrapper.to_string(),
            spec: mcp.clone(),
            yes: true,
            call: None,
            npm_config: npm_config.clone(),
            npm_env: npm_env.clone(),
            extra_packages: Vec::new(),
        },
        other => other.clone(),
    };
    let pypi_launch = Launch::PyPi {
        runner: wrapper.wrapper.to_string(),
        package: mcp.clone(),
    };
    let unknown_launch = Launch::Other {
        command: format!("{} mcp={mcp}", wrapper.wrapper),
    };

    let (launch, package, registry, exists, ecosystem, basis) = match (
        &wrapper.problem,
        wrapper.kind,
    ) {
        (Some(problem), _) => {
            let (p, r, e) = not_npm(PackageOutcome::NotScanned {
                reason: problem.clone(),
            });
            (unknown_launch, p, r, e, None, problem.clone())
        }
        (None, McpName::CatalogName | McpName::Unknown) => {
            let reason = format!(
                "`mcp={mcp}` is an MCP Registry name, not a package: the JFrog catalog resolves it (a remote MCP, or a package the config does not name)"
            );
            let (p, r, e) = not_npm(PackageOutcome::NotScanned {
                reason: reason.clone(),
            });
            (unknown_launch, p, r, e, None, reason)
        }
        (None, McpName::Npm) => {
            let launch = npm_launch(&started_launch);
            let (p, r, e) = npm_side(
                scanner,
                base,
                inherited,
                discovery,
                job,
                &started,
                &mcp,
                scan_packages,
                &mut notes,
            )
            .await;
            let basis = "only npm names start with `@` or carry `@version`".to_string();
            (launch, p, r, e, Some("npm"), basis)
        }
        (None, McpName::Either) if !scan_packages => {
            let reason = format!(
                "`mcp={mcp}` may be an npm or a PyPI package (or a remote MCP's catalog name); --no-scan: the registries were not asked which"
            );
            let (p, r, e) = not_npm(PackageOutcome::NotScanned {
                reason: reason.clone(),
            });
            (unknown_launch, p, r, e, None, reason)
        }
        (None, McpName::Either) => {
            // The config does not say which; the JFrog catalog does, and cannot be read. Both
            // sides are asked; one answer decides, two (or none) leave it unknown.
            let npm = npm_side(
                scanner, base, inherited, discovery, job, &started, &mcp, true, &mut notes,
            )
            .await;
            let mut py_entry = started.clone();
            py_entry.command = Some("uvx".into());
            py_entry.args = Vec::new();
            let py = pypi_package(scanner, base, job, &py_entry, "uvx", &mcp, true).await;
            let found = |p: &PackageOutcome| matches!(p, PackageOutcome::Scanned { .. });
            let absent = |p: &PackageOutcome| {
                matches!(
                    p,
                    PackageOutcome::Failed {
                        error: TargetError::PackageNotFound { .. },
                        ..
                    }
                )
            };
            let npm_reg = npm.1.clone().unwrap_or_default();
            let py_reg = py.1.clone().unwrap_or_default();
            match (found(&npm.0), found(&py.0)) {
                (true, false) if absent(&py.0) => {
                    let basis = format!("`mcp={mcp}` may be npm or PyPI: npm registry {npm_reg} has it, index {py_reg} does not");
                    (
                        npm_launch(&started_launch),
                        npm.0,
                        npm.1,
                        npm.2,
                        Some("npm"),
                        basis,
                    )
                }
                (false, true) if absent(&npm.0) => {
                    let basis = format!("`mcp={mcp}` may be npm or PyPI: index {py_reg} has it, npm registry {npm_reg} does not");
                    (pypi_launch, py.0, py.1, py.2, Some("pypi"), basis)
                }
                (true, true) => {
                    let reason = format!(
                        "`mcp={mcp}` is both an npm package ({npm_reg}) and a PyPI project ({py_reg}): the config does not say which the JFrog catalog serves"
                    );
                    let (p, r, e) = not_npm(PackageOutcome::NotScanned {
                        reason: reason.clone(),
                    });
                    (unknown_launch, p, r, e, None, reason)
                }
                _ if absent(&npm.0) && absent(&py.0) => {
                    let reason = format!(
                        "`mcp={mcp}` is neither on npm registry {npm_reg} nor on index {py_reg}: a remote MCP's catalog name, or a package only the JFrog platform serves"
                    );
                    let (p, r, e) = not_npm(PackageOutcome::NotScanned {
                        reason: reason.clone(),
                    });
                    (unknown_launch, p, r, e, None, reason)
                }
                // One side could not be asked: which package runs is not known, and the
                // server counts as not checked.
                _ => {
                    let failed = if absent(&npm.0) || found(&npm.0) {
                        py
                    } else {
                        npm
                    };
                    let reason = format!(
                        "`mcp={mcp}` may be npm or PyPI, and a registry could not be asked"
                    );
                    (unknown_launch, failed.0, failed.1, failed.2, None, reason)
                }
            }
        }
    };
    let link = JfrogLink {
        wrapper,
        ecosystem,
        basis,
    };
    let risks = launch_risks(entry, &launch);
    let launch_facts = launch_facts(&job.origin(), entry, &launch, &risks, registry, exists);
    let rules = &scanner.rules;
    let eco = link.ecosystem.unwrap_or("npm");
    let evals = match &package {
        PackageOutcome::Scanned { facts, .. } => rules.evaluate(facts),
        PackageOutcome::Failed { error, .. } => {
            rules.package_not_checked_in(eco, &format!("package: {error}"))
        }
        PackageOutcome::NotScanned { reason } => {
            rules.package_not_checked_in(eco, &format!("package not scanned: {reason}"))
        }
    };
    let subject = match &package {
        PackageOutcome::Scanned { facts, .. } => Some((
            facts.package.name.clone(),
            Some(facts.package.version.clone()),
        )),
        _ => link.wrapper.mcp.clone().map(|m| (m, None)),
    };
    let subject = subject.as_ref().map(|(n, v)| (n.as_str(), v.as_deref()));
    let mut assessment = assess_owned(evals, rules, &scanner.policy, subject);
    add_tree(&package, &mut assessment, rules, &scanner.policy);
    let (notes, package) = scrub_shown(&scrub, &notes, package);
    ServerReport {
        scrub,
        entry: entry.clone(),
        launch,
        launch_facts,
        package,
        notes,
        assessment,
        wraps: None,
        via: Some(link),
    }
}

/// The wrapped MCP as an npm package, with the npm configuration the wrapper's launch loads.
#[allow(clippy::too_many_arguments)]
async fn npm_side(
    scanner: &Scanner,
    base: &NpmBase,
    inherited: &HashMap<String, String>,
    discovery: &DiscoveryCache,
    job: &Job,
    started: &ServerEntry,
    mcp: &str,
    scan_packages: bool,
    notes: &mut Vec<String>,
) -> NpmOutcome {
    let spec = match registry_spec(mcp) {
        Ok(s) => s,
        Err(reason) => return not_npm(PackageOutcome::NotScanned { reason }),
    };
    let started_launch = parse_launch(started);
    let config = entry_config(
        base,
        inherited,
        discovery,
        job,
        started,
        &started_launch,
        notes,
    )
    .await;
    npm_package(scanner, config, &spec, scan_packages).await
}
