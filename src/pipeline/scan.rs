//! The pipeline for one scan: resolve → fetch → facts → rules → score, for many specs at once.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};

use crate::content::Limits;
use crate::error::{FetchError, TargetError};
use crate::facts::npm::select::{attestations_to_fetch, signature_plan, SignaturePlan};
use crate::facts::npm::{version_document, VersionDoc};
use crate::facts::{
    derive_facts, AttestationEvidence, DeriveInput, Evidence, PackageFacts, SignatureEvidence,
    TarballEvidence,
};
use std::collections::HashMap;
use std::sync::Mutex;

use url::Url;

use crate::npmrc::{Config, Layer, ResolvedRegistry};
use crate::policy::AllowedRegistries;
use crate::registry::{http_client, parse_packument, HttpConfig, RegistryClient};
use crate::report::{check, PackageReport, Policy, Report};
use crate::rules::RuleSet;
use crate::spec::{pick_version, PickError, Spec};
use crate::verify::{
    verify_attestations, verify_registry_signatures, ExpectedPackage, RegistrySignature,
    TrustedRoot,
};

/// How many of the largest allowed documents may be held at once, parsed, across all targets.
const BUDGET_DOCUMENTS: u64 = 4;

/// What one packument costs while its facts are derived, per byte of the document: the bytes
/// themselves (kept for the one version the tarball check reads in full) and the typed view.
const BYTES_HELD_PER_BYTE: u64 = 2;

/// The memory budget of packuments in flight, in KiB (a semaphore counts at most `u32` permits
/// per acquisition).
#[derive(Clone)]
struct ByteBudget {
    kib: Arc<tokio::sync::Semaphore>,
    capacity_kib: u64,
}

impl ByteBudget {
    fn new(max_body_bytes: u64) -> ByteBudget {
        let capacity_kib =
            (max_body_bytes.saturating_mul(BUDGET_DOCUMENTS) / 1024).clamp(1, u64::from(u32::MAX));
        ByteBudget {
            kib: Arc::new(tokio::sync::Semaphore::new(capacity_kib as usize)),
            capacity_kib,
        }
    }

    /// Waits until a document of `len` bytes fits. A document alone larger than the budget
    /// (possible only when the budget is tiny) takes all of it rather than waiting forever.
    async fn hold(&self, len: usize) -> tokio::sync::SemaphorePermit<'_> {
        let kib = (len as u64)
            .saturating_mul(BYTES_HELD_PER_BYTE)
            .div_ceil(1024)
            .clamp(1, self.capacity_kib);
        self.kib
            .acquire_many(kib as u32)
            .await
            .expect("the budget semaphore is never closed")
    }
}

/// The registry clients of one scan: one per registry URL npm's configuration selects, all
/// sharing one connection pool, one concurrency limit and one memory budget.
pub struct Registries {
    config: Arc<Config>,
    cfg: HttpConfig,
    http: reqwest::Client,
    permits: Arc<tokio::sync::Semaphore>,
    /// Bounds the packuments held at once, not only each one: many large documents fetched
    /// together would otherwise add up to many times the per-document cap.
    budget: ByteBudget,
    allow_http: bool,
    /// The policy file's allowed registries: a package is never fetched from another one.
    allowed: Option<Arc<AllowedRegistries>>,
    clients: Mutex<HashMap<String, RegistryClient>>,
}

impl Registries {
    pub fn new(config: Arc<Config>, cfg: HttpConfig, allow_http: bool) -> Result<Self, FetchError> {
        Ok(Registries {
            http: http_client(&cfg)?,
            permits: Arc::new(tokio::sync::Semaphore::new(cfg.concurrency.max(1))),
            budget: ByteBudget::new(cfg.max_body_bytes),
            config,
            cfg,
            allow_http,
            allowed: None,
            clients: Mutex::new(HashMap::new()),
        })
    }

    /// Refuses, in [`Registries::resolve`], every registry `allowed` does not list for a name.
    pub fn with_allowed(mut self, allowed: Option<Arc<AllowedRegistries>>) -> Self {
        self.allowed = allowed;
        self
    }

    /// Every request goes to `base`, with no npm configuration files (benchmarks, tests).
    pub fn single(base: &Url, cfg: HttpConfig) -> Result<Self, FetchError> {
        let (cli, _) = Layer::from_cli(
            &[("registry".to_string(), base.to_string())],
            &HashMap::new(),
        );
        let config = Config::from_layers(vec![Layer::defaults(), cli]);
        Self::new(Arc::new(config), cfg, true)
    }

    /// Clients for another npm configuration (one MCP server entry's), sharing this one's
    /// connection pool and concurrency limit. Clients are not shared: credentials and registry
    /// choices belong to the configuration.
    pub fn with_config(&self, config: Arc<Config>) -> Registries {
        Registries {
            config,
            cfg: self.cfg.clone(),
            http: self.http.clone(),
            permits: Arc::clone(&self.permits),
            budget: self.budget.clone(),
            allow_http: self.allow_http,
            allowed: self.allowed.clone(),
            clients: Mutex::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Waits until a document of `len` bytes fits in the scan's memory budget; held until the
    /// permit drops.
    pub(crate) async fn hold_bytes(&self, len: usize) -> tokio::sync::SemaphorePermit<'_> {
        self.budget.hold(len).await
    }

    /// The requests in flight at once, across every registry of the scan.
    pub fn concurrency(&self) -> usize {
        self.cfg.concurrency.max(1)
    }

    /// The registry npm would ask for `package`, and the client for it. Refuses a plain-http
    /// registry off loopback unless allowed: a token would travel in clear.
    pub fn resolve(&self, package: &str) -> Result<(RegistryClient, ResolvedRegistry), String> {
        let resolved = self
            .config
            .registry_for(package)
            .map_err(|e| e.to_string())?;
        resolved
            .url
            .require_secure_transport(self.allow_http)
            .map_err(|e| {
                let at = resolved.source.at(resolved.line);
                format!("{e} (set by `{}` in {at})", resolved.key)
            })?;
        if let Some(allowed) = &self.allowed {
            allowed.check(package, resolved.url.as_str())?;
        }
        let url = resolved.url.clone();
        let mut clients = self
            .clients
            .lock()
            .expect("no panics while holding the lock");
        let client = clients
            .entry(url.as_str().to_string())
            .or_insert_with(|| {
                RegistryClient::shared(
                    url,
                    self.cfg.clone(),
                    self.http.clone(),
                    Arc::clone(&self.permits),
                    Some(Arc::clone(&self.config)),
                )
            })
            .clone();
        Ok((client, resolved))
    }
}

pub struct Scanner {
    pub registries: Registries,
    pub rules: RuleSet,
    pub policy: Policy,
    /// The clock for release-age facts; fixed in tests so snapshots stay stable.
    pub now: DateTime<Utc>,
    pub trusted_root: Arc<TrustedRoot>,
    pub trust_window_days: u64,
    /// Limits for downloading and reading tarballs; `None` skips them (`--no-tarball`).
    pub content_limits: Option<Limits>,
    /// Resolve and audit each package's dependency tree; `None` is `--no-deps`.
    pub tree: Option<super::tree::TreeOptions>,
}

impl Scanner {
    /// Scans every spec concurrently (the client's semaphore bounds the requests in flight) and
    /// returns the reports in input order. `on_done` runs once per finished target, for progress.
    pub async fn scan(&self, specs: &[Spec], on_done: &(dyn Fn(&PackageReport) + Sync)) -> Report {
        let width = specs.len().clamp(1, 64);
        let packages = stream::iter(specs)
            .map(|spec| async move {
                let report = self.scan_one(spec).await;
                on_done(&report);
                report
            })
            .buffered(width)
            .collect()
            .await;
        Report {
            generated_at: self.now,
            policy: self.policy.clone(),
            packages,
        }
    }

    pub async fn facts(&self, spec: &Spec) -> Result<PackageFacts, TargetError> {
        self.facts_in(&self.registries, spec).await
    }

    /// [`Self::facts`] with another set of registries (an MCP server entry's configuration).
    pub async fn facts_in(
        &self,
        registries: &Registries,
        spec: &Spec,
    ) -> Result<PackageFacts, TargetError> {
        let (client, chosen) =
            registries
                .resolve(&spec.name)
                .map_err(|problem| TargetError::Config {
                    name: spec.name.clone(),
                    problem,
                })?;
        // One deadline for every request of this target (see registry::Deadline).
        let client = client.for_target();
        let registry = client.base_display();
        let packument_url = chosen.packument_url(&spec.name);
        let fetched = client.packument_bytes(&spec.name).await;
        // Held until the facts are derived: the bytes and the parsed view live that long.
        let _held = match &fetched {
            Ok((_, body)) => Some(registries.budget.hold(body.len()).await),
            Err(_) => None,
        };
        let packument = fetched
            .and_then(|(url, body)| parse_packument(&url, &body).map(|p| (p, body)))
            .map_err(|e| match e {
                FetchError::NotFound { .. } => TargetError::PackageNotFound {
                    name: spec.name.clone(),
                    registry: registry.clone(),
                    note: not_found_note(&spec.name, &chosen),
                },
                FetchError::Status { code: 401, .. } => TargetError::Unauthorized {
                    name: spec.name.clone(),
                    registry: registry.clone(),
                    auth: client.auth_note(&packument_url),
                },
                FetchError::Status { code: 403, .. } => TargetError::Forbidden {
                    name: spec.name.clone(),
                    registry: registry.clone(),
                    auth: client.auth_note(&packument_url),
                },
                source => TargetError::Fetch {
                    name: spec.name.clone(),
                    source,
                },
            })?;
        let (packument, body) = packument;
        let version = pick_version(&packument, &spec.selector).map_err(|e| {
            let problem = match e {
                PickError::NoVersions => format!("the registry lists no versions ({registry})"),
                other => format!("{other} (registry {registry})"),
            };
            TargetError::VersionNotFound {
                name: spec.name.clone(),
                problem,
            }
        })?;
        let missing = VersionDoc::default();
        let doc = packument.versions.get(&version).unwrap_or(&missing);
        let published = packument
            .time_of(&version)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp());
        let mut evidence = self
            .evidence(&client, &spec.name, &version, doc, published)
            .await;
        evidence.tarball = match &self.content_limits {
            None => {
                TarballEvidence::Unavailable("--no-tarball: the tarball was not downloaded".into())
            }
            Some(limits) => {
                self.tarball_evidence(registries, &client, doc, &body, &version, limits)
                    .await
            }
        };
        drop(body);
        Ok(derive_facts(&DeriveInput {
            packument: &packument,
            version: &version,
            requested: &spec.raw,
            resolved_via: spec.selector.kind(),
            registry: &registry,
            now: self.now,
            evidence: &evidence,
            trust_window_days: self.trust_window_days,
        }))
    }

    /// Checks the registry signature and the attestations of one version. Network first, then
    /// the CPU-bound sigstore work on the blocking pool so it never stalls other fetches.
    async fn evidence(
        &self,
        client: &RegistryClient,
        name: &str,
        version: &str,
        doc: &VersionDoc,
        published: Option<i64>,
    ) -> Evidence {
        let registry = client.base_display();
        let integrity = doc.dist.integrity.clone().unwrap_or_default();
        let keys = client
            .keys()
            .await
            .map_err(|e| format!("could not get the registry's signing keys: {e}"));
        // The keys are fetched (once per registry) even for an unsigned version: a registry
        // without keys is the precise reason a signature check cannot be made there.
        let key_view = keys.as_ref().map(|k| k.as_deref()).map_err(Clone::clone);
        let signature = match signature_plan(doc, &key_view, &registry) {
            SignaturePlan::NotPresent => SignatureEvidence::NotPresent,
            SignaturePlan::NoKeys(reason) => SignatureEvidence::NoKeys(reason),
            SignaturePlan::Check(sigs, keys) => {
                let listed: Vec<RegistrySignature> = sigs
                    .iter()
                    .map(|s| RegistrySignature {
                        keyid: s.keyid.clone(),
                        sig: s.sig.clone(),
                    })
                    .collect();
                let (keyid, result) = verify_registry_signatures(
                    name,
                    version,
                    &integrity,
                    &listed,
                    keys,
                    published,
                    self.now.timestamp(),
                );
                SignatureEvidence::Checked { keyid, result }
            }
        };
        let listed = attestations_to_fetch(doc);
        let attestations = match listed {
            None => AttestationEvidence::NotListed,
            Some(listed_url) => {
                let url = client.attestations_url(listed_url, name, version);
                match client.attestations(&url).await {
                    Ok(None) => AttestationEvidence::Unavailable(format!(
                        "the version lists attestations but {} answered 404",
                        crate::registry::redact_url(&url)
                    )),
                    Err(e) => AttestationEvidence::Unavailable(format!(
                        "could not fetch the attestations: {e}"
                    )),
                    Ok(Some(bytes)) => {
                        let keys_available = matches!(keys, Ok(Some(_)));
                        let npm_keys = keys.ok().flatten().unwrap_or_default();
                        let expected = ExpectedPackage::new(name, version, &integrity);
                        let root = Arc::clone(&self.trusted_root);
                        let report = tokio::task::spawn_blocking(move || {
                            verify_attestations(&bytes, &expected, &npm_keys, &root)
                        })
                        .await;
                        match report {
                            Ok(report) => AttestationEvidence::Checked {
                                report: Box::new(report),
                                keys_available,
                            },
                            Err(e) => AttestationEvidence::Unavailable(format!(
                                "verification did not complete: {e}"
                            )),
                        }
                    }
                }
            }
        };
        Evidence {
            signature,
            attestations,
            tarball: TarballEvidence::NotChecked,
        }
    }

    /// Downloads the tarball (capped), checks it against `dist.integrity` before anything reads
    /// it, and only then analyses it, in memory, on the blocking pool.
    async fn tarball_evidence(
        &self,
        registries: &Registries,
        client: &RegistryClient,
        doc: &VersionDoc,
        packument_bytes: &[u8],
        version: &str,
        limits: &Limits,
    ) -> TarballEvidence {
        let dist = |v: &Option<String>| v.clone();
        let Some(listed) = dist(&doc.dist.tarball) else {
            return TarballEvidence::Unavailable("the version lists no dist.tarball".into());
        };
        let Ok(listed) = Url::parse(&listed) else {
            return TarballEvidence::Unavailable(format!("dist.tarball `{listed}` is not a URL"));
        };
        // pacote's replace-registry-host: a tarball on registry.npmjs.org is fetched from the
        // configured registry instead, as npm would.
        let url = crate::npmrc::replace_registry_host(
            &listed,
            client.base(),
            registries.config().get("replace-registry-host"),
        );
        let shown = crate::registry::redact_url(&url);
        let bytes = match client.tarball(&url, limits.max_compressed).await {
            Ok(b) => b,
            Err(e) => {
                return TarballEvidence::Unavailable(format!("could not download the tarball: {e}"))
            }
        };
        let integrity = match (dist(&doc.dist.integrity), dist(&doc.dist.shasum)) {
            (Some(sri), _) => crate::content::check_integrity(&bytes, &sri),
            (None, Some(sha1)) => crate::content::check_shasum(&bytes, &sha1),
            (None, None) => {
                return TarballEvidence::Unavailable(
                    "the version lists neither dist.integrity nor dist.shasum to check the tarball against"
                        .into(),
                )
            }
        };
        let compressed_bytes = bytes.len() as u64;
        let report = if integrity.is_ok() {
            // The manifest comparison needs this version's whole document, which the typed view
            // skipped: read it alone from the bytes, now that it is needed.
            let doc = match version_document(packument_bytes, version) {
                Ok(doc) => doc,
                Err(e) => {
                    return TarballEvidence::Unavailable(format!(
                        "the version document could not be read again: {e}"
                    ))
                }
            };
            let limits = *limits;
            tokio::task::spawn_blocking(move || crate::content::analyze(&bytes, &doc, &limits))
                .await
                .ok()
                .map(Box::new)
        } else {
            None
        };
        TarballEvidence::Checked {
            url: shown,
            compressed_bytes,
            integrity,
            report,
        }
    }

    async fn scan_one(&self, spec: &Spec) -> PackageReport {
        let mut result = self
            .facts(spec)
            .await
            .map(|facts| check(facts, &self.rules, &self.policy));
        if let (Ok(checked), Some(opts)) = (&mut result, &self.tree) {
            match self
                .audit_tree(&self.registries, &spec.name, &checked.version, opts)
                .await
            {
                Ok(tree) => {
                    super::tree::aggregate(
                        &tree,
                        &mut checked.score,
                        &mut checked.findings,
                        &mut checked.inconclusive,
                        &mut checked.gate_failures,
                        &self.rules,
                        &self.policy,
                    );
                    checked.tree = Some(tree);
                }
                // A tree too large to resolve, or a shrinkwrap that cannot be read: the
                // package's dependencies were not checked, so neither was the package.
                Err(e) => {
                    result = Err(TargetError::Tree {
                        name: spec.name.clone(),
                        problem: e.to_string(),
                    })
                }
            }
        }
        // The same (cached) resolution `facts` used, so an error names the registry it asked.
        let registry = self
            .registries
            .resolve(&spec.name)
            .map(|(c, _)| c.base_display())
            .unwrap_or_default();
        PackageReport {
            target: spec.raw.clone(),
            name: spec.name.clone(),
            registry,
            result,
        }
    }
}

/// A 404 for a scoped name is most often a missing `@scope:registry`: say which setting chose
/// the registry that was asked.
fn not_found_note(name: &str, chosen: &ResolvedRegistry) -> String {
    let Some(scope) = crate::npmrc::package_scope(name) else {
        return String::new();
    };
    let at = chosen.source.at(chosen.line);
    if chosen.key == "registry" {
        format!(
            " (the registry was chosen by `registry` from {at}; if {scope} packages live on a \
             private registry, is `{scope}:registry` set?)"
        )
    } else {
        format!(" (the registry was chosen by `{}` from {at})", chosen.key)
    }
}
