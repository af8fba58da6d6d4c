//! The packages a `server.json` lists, each scanned with its ecosystem and registry.
//!
//! npm packages go through the same [`Scanner`] as `scan`, with the registry the entry names
//! (`registryBaseUrl`) layered over npm's configuration, so the credential npm has for that host
//! (nerf-dart, per request URL) is the only one sent. PyPI packages are scanned as `scan pypi:NAME==VERSION`
//! does, from `registryBaseUrl`'s index when it names one. oci, nuget and mcpb packages are listed
//! with their package rules inconclusive and the reason.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::future::join_all;

use super::facts::{shown, PackageIdentity};
use super::{Package, ServerJson};
use crate::error::TargetError;
use crate::facts::npm::normalize_git_url;
use crate::facts::Fact;
use crate::pipeline::config::NpmBase;
use crate::pipeline::scan::{Registries, Scanner};
use crate::report::{assess, check, Assessment, Checked, PackageReport, Policy};
use crate::rules::RuleSet;
use crate::spec::Spec;

/// The public PyPI, as a server.json `registryBaseUrl` names it: the configured index is used.
const PUBLIC_PYPI: &str = "https://pypi.org";

/// What became of one `packages[]` entry.
#[derive(Debug, Clone)]
pub enum PackageAudit {
    /// Not fetched (`--no-scan`, or an ecosystem this build does not scan): every package rule
    /// is inconclusive for `reason`.
    NotScanned {
        reason: String,
        assessment: Box<Assessment>,
    },
    /// Fetched and judged as `scan` would (`result` is an error when it could not be checked).
    Fetched(Box<PackageReport>),
}

impl PackageAudit {
    pub fn not_scanned(reason: impl Into<String>, rules: &RuleSet, policy: &Policy) -> Self {
        let reason = reason.into();
        let evals = rules.package_not_checked(&reason);
        PackageAudit::NotScanned {
            assessment: Box::new(assess(&evals, rules, policy, None)),
            reason,
        }
    }

    /// `not-scanned`, `passed`, `failed` (the package failed the gate) or `error`.
    pub fn status(&self) -> &'static str {
        match self {
            PackageAudit::NotScanned { .. } => "not-scanned",
            PackageAudit::Fetched(r) => r.status().as_str(),
        }
    }

    /// The judged package, when it was fetched and checked.
    pub fn checked(&self) -> Option<&Checked> {
        match self {
            PackageAudit::Fetched(r) => r.result.as_ref().ok(),
            PackageAudit::NotScanned { .. } => None,
        }
    }
}

/// Scans packages for many servers: one scanner, and one set of registry clients per
/// `registryBaseUrl`, shared by every server that names it.
pub struct PackageScanner<'a> {
    pub scanner: &'a Scanner,
    pub base: &'a NpmBase,
    pub allow_http: bool,
    by_base_url: Mutex<HashMap<String, Arc<Registries>>>,
}

impl<'a> PackageScanner<'a> {
    pub fn new(scanner: &'a Scanner, base: &'a NpmBase, allow_http: bool) -> Self {
        PackageScanner {
            scanner,
            base,
            allow_http,
            by_base_url: Mutex::new(HashMap::new()),
        }
    }

    /// Every package of `server`, concurrently, in the file's order.
    pub async fn scan(&self, server: &ServerJson) -> Vec<PackageAudit> {
        join_all(server.packages.iter().map(|p| self.package(p))).await
    }

    async fn package(&self, p: &Package) -> PackageAudit {
        let rules = &self.scanner.rules;
        let policy = &self.scanner.policy;
        match p.registry_type.as_deref() {
            Some("npm") => self.npm_package(p).await,
            Some("pypi") => self.pypi_package(p).await,
            Some(kind @ ("oci" | "nuget" | "mcpb")) => PackageAudit::not_scanned(
                format!("{kind} packages are not scanned: only npm packages are fetched"),
                rules,
                policy,
            ),
            Some(other) => PackageAudit::not_scanned(
                format!(
                    "registryType `{}` is not a known registry type",
                    shown(other)
                ),
                rules,
                policy,
            ),
            None => PackageAudit::not_scanned("the entry has no registryType", rules, policy),
        }
    }

    async fn npm_package(&self, p: &Package) -> PackageAudit {
        let rules = &self.scanner.rules;
        let policy = &self.scanner.policy;
        let spec = match npm_spec(p) {
            Ok(spec) => spec,
            Err(reason) => return PackageAudit::not_scanned(reason, rules, policy),
        };
        let owned;
        let registries = match self.registries_for(p.registry_base_url.as_deref(), &spec.name) {
            Ok(None) => &self.scanner.registries,
            Ok(Some(r)) => {
                owned = r;
                &*owned
            }
            Err(problem) => {
                return fetched(
                    &spec,
                    p.registry_base_url
                        .as_deref()
                        .map(shown)
                        .unwrap_or_default(),
                    Err(TargetError::Config {
                        name: spec.name.clone(),
                        problem,
                    }),
                )
            }
        };
        let registry = registries
            .resolve(&spec.name)
            .map(|(c, _)| c.base_display())
            .unwrap_or_default();
        let result = self
            .scanner
            .facts_in(registries, &spec)
            .await
            .map(|facts| check(facts, rules, policy));
        fetched(&spec, registry, result)
    }

    /// The registries for a package whose entry names `registryBaseUrl`: npm's configuration
    /// with that registry on the command line (and for the package's scope, which an
    /// `@scope:registry` in a user's .npmrc would otherwise win over). `None`: the entry names
    /// none, or the public npm registry, which stands for wherever npm's configuration installs
    /// npm packages from (a mirror or a proxy of it).
    /// A PyPI package, scanned as `scan pypi:NAME==VERSION` does. A `registryBaseUrl` other than
    /// pypi.org becomes the index (`<base>/simple/`, as the MCP Registry reads it), with the
    /// credentials uv's and pip's configuration has for that host; otherwise the index the
    /// process's configuration selects.
    async fn pypi_package(&self, p: &Package) -> PackageAudit {
        let rules = &self.scanner.rules;
        let policy = &self.scanner.policy;
        let Some(raw) = pypi_spec(p) else {
            return PackageAudit::not_scanned("the PyPI entry has no identifier", rules, policy);
        };
        let spec = match Spec::parse(&raw) {
            Ok(spec) => spec,
            Err(e) => {
                return PackageAudit::not_scanned(format!("{}: {e}", shown(&raw)), rules, policy)
            }
        };
        let base = p
            .registry_base_url
            .as_deref()
            .map(|u| u.trim().trim_end_matches('/'))
            .filter(|u| !u.is_empty() && *u != PUBLIC_PYPI);
        let Some(base) = base else {
            let report = self
                .scanner
                .scan_one_pypi(&self.scanner.registries, &spec)
                .await;
            return PackageAudit::Fetched(Box::new(report));
        };
        let mut inputs = crate::pyindex::Inputs::from_process(None, vec![]);
        inputs.env = self.base.env.clone();
        inputs.cwd = Some(self.base.cwd.clone());
        inputs.index_url = Some(format!("{base}/simple/"));
        let registries =
            match crate::pyindex::resolve(&inputs, crate::pyindex::Tool::Any, self.allow_http) {
                Ok(ix) => self.scanner.registries.with_python(Arc::new(ix)),
                Err(problem) => {
                    let error = TargetError::Config {
                        name: spec.name.clone(),
                        problem: format!("registryBaseUrl: {problem}"),
                    };
                    return fetched(&spec, String::new(), Err(error));
                }
            };
        let report = self.scanner.scan_one_pypi(&registries, &spec).await;
        PackageAudit::Fetched(Box::new(report))
    }

    fn registries_for(
        &self,
        base_url: Option<&str>,
        name: &str,
    ) -> Result<Option<Arc<Registries>>, String> {
        let Some(raw) = base_url.map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(None);
        };
        let url = crate::registry::parse_registry_url(raw, self.allow_http)
            .map_err(|e| format!("registryBaseUrl: {e}"))?;
        if url.as_str().trim_end_matches('/') == PUBLIC_NPM {
            return Ok(None);
        }
        let scope = crate::npmrc::package_scope(name).map(str::to_string);
        let key = format!("{}|{}", url.as_str(), scope.as_deref().unwrap_or_default());
        let mut map = self
            .by_base_url
            .lock()
            .expect("no panics while holding the lock");
        if let Some(r) = map.get(&key) {
            return Ok(Some(Arc::clone(r)));
        }
        let mut cli = self.base.cli.clone();
        cli.push(("registry".into(), url.as_str().to_string()));
        if let Some(scope) = &scope {
            cli.push((format!("{scope}:registry"), url.as_str().to_string()));
        }
        let (layers, _) = crate::npmrc::discover(&self.base.cwd, &self.base.env, &cli);
        let config = crate::npmrc::Config::from_layers(layers);
        let registries = Arc::new(self.scanner.registries.with_config(Arc::new(config)));
        map.insert(key, Arc::clone(&registries));
        Ok(Some(registries))
    }
}

fn fetched(spec: &Spec, registry: String, result: Result<Checked, TargetError>) -> PackageAudit {
    PackageAudit::Fetched(Box::new(PackageReport {
        target: spec.raw.clone(),
        name: spec.name.clone(),
        registry,
        result,
    }))
}

const PUBLIC_NPM: &str = "https://registry.npmjs.org";

/// The npm spec an entry installs: `identifier@version`, or the identifier alone (npm then
/// installs `latest`, which `server-version-unpinned` reports). An unexpanded template names
/// nothing that can be fetched.
fn npm_spec(p: &Package) -> Result<Spec, String> {
    let Some(id) = p
        .identifier
        .as_deref()
        .map(str::trim)
        .filter(|i| !i.is_empty())
    else {
        return Err("the npm entry has no identifier".into());
    };
    let raw = match p.version.as_deref().map(str::trim) {
        None | Some("") => id.to_string(),
        Some(v) if super::facts::inexact(v) == Some("an unexpanded template") => {
            return Err(format!(
                "version `{}` is an unexpanded template: there is no version to fetch",
                shown(v)
            ))
        }
        Some(v) => format!("{id}@{v}"),
    };
    Spec::parse(&raw).map_err(|e| shown(&e.to_string()))
}

/// The `pypi:NAME==VERSION` spec (`pypi:NAME` without a version) that `scan` takes for a PyPI
/// package.
pub fn pypi_spec(p: &Package) -> Option<String> {
    let id = p
        .identifier
        .as_deref()
        .map(str::trim)
        .filter(|i| !i.is_empty())?;
    Some(match p.version.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => format!("pypi:{id}=={v}"),
        _ => format!("pypi:{id}"),
    })
}

/// What the scanned packages say about the server: whether each names it (npm `mcpName`), and
/// whether `repository.url` is the repository their verified provenance names.
pub fn identity(server: &ServerJson, packages: &[PackageAudit]) -> PackageIdentity {
    let mut names = Vec::new();
    let mut mismatched = Vec::new();
    let mut undecided = Vec::new();
    let mut provenance = Vec::new();
    for (p, audit) in server.packages.iter().zip(packages) {
        let label = format!(
            "{} {}",
            p.registry_type.as_deref().unwrap_or("?"),
            shown(p.identifier.as_deref().unwrap_or("?"))
        );
        if !matches!(p.registry_type.as_deref(), Some("npm" | "pypi")) {
            continue;
        }
        match audit {
            PackageAudit::Fetched(r) if r.result.is_ok() => {
                let checked = r.result.as_ref().expect("matched Ok");
                let facts = &checked.facts;
                match &facts.metadata.mcp_name {
                    Some(n) => {
                        names.push(format!("{label}: {}", shown(n)));
                        if server.name.as_deref() != Some(n.as_str()) {
                            mismatched.push(format!("{label} names {}", shown(n)));
                        }
                    }
                    None => undecided.push(format!("{label} declares no mcpName")),
                }
                if let Fact::Known(repo) = &facts.provenance.source_repository {
                    provenance.push(shown(repo));
                }
            }
            PackageAudit::NotScanned { reason, .. } => undecided.push(format!("{label}: {reason}")),
            PackageAudit::Fetched(r) => {
                let why = r
                    .result
                    .as_ref()
                    .err()
                    .map(|e| e.kind())
                    .unwrap_or_default();
                undecided.push(format!("{label} could not be checked ({why})"))
            }
        }
    }
    let package_names_server = if server.name.is_none() {
        Fact::unknown("the file names no server")
    } else if !mismatched.is_empty() {
        Fact::Known(false)
    } else if !undecided.is_empty() {
        Fact::unknown(undecided.join("; "))
    } else if names.is_empty() {
        Fact::unknown("no npm or PyPI package declares which server it is")
    } else {
        Fact::Known(true)
    };
    let repository_matches_provenance =
        match server.repository_url.as_deref().and_then(normalize_git_url) {
            None => Fact::unknown("the file names no repository"),
            Some(_) if provenance.is_empty() => {
                Fact::unknown("no scanned package has verified build provenance")
            }
            Some(repo) => Fact::Known(provenance.iter().all(|p| p.eq_ignore_ascii_case(&repo))),
        };
    PackageIdentity {
        package_names_server,
        package_mcp_names: names,
        provenance_repositories: provenance,
        repository_matches_provenance,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(kind: &str, id: &str, version: Option<&str>) -> Package {
        Package {
            registry_type: Some(kind.into()),
            identifier: Some(id.into()),
            version: version.map(str::to_string),
            ..Package::default()
        }
    }

    #[test]
    fn npm_specs() {
        assert_eq!(
            npm_spec(&pkg("npm", "@a/b", Some("1.2.3"))).unwrap().raw,
            "@a/b@1.2.3"
        );
        assert_eq!(npm_spec(&pkg("npm", "b", None)).unwrap().raw, "b");
        assert!(npm_spec(&pkg("npm", "b", Some("$(PackageVersion)")))
            .unwrap_err()
            .contains("template"));
        assert!(npm_spec(&pkg("npm", " ", None)).is_err());
    }

    #[test]
    fn pypi_specs() {
        assert_eq!(
            pypi_spec(&pkg("pypi", "mcp-x", Some("0.4.1"))).as_deref(),
            Some("pypi:mcp-x==0.4.1")
        );
        assert_eq!(
            pypi_spec(&pkg("pypi", "mcp-x", None)).as_deref(),
            Some("pypi:mcp-x")
        );
    }
}
