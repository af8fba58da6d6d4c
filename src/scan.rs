//! The pipeline for one scan: resolve → fetch → facts → rules → score, for many specs at once.

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};

use crate::error::{FetchError, TargetError};
use crate::facts::{derive_facts, DeriveInput, PackageFacts};
use crate::registry::RegistryClient;
use crate::report::{check, PackageReport, Policy, Report};
use crate::rules::RuleSet;
use crate::spec::{pick_version, PickError, Spec};

pub struct Scanner {
    pub client: RegistryClient,
    pub rules: RuleSet,
    pub policy: Policy,
    /// The clock for release-age facts; fixed in tests so snapshots stay stable.
    pub now: DateTime<Utc>,
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
        let registry = self.client.base_display();
        let packument = self
            .client
            .packument(&spec.name)
            .await
            .map_err(|e| match e {
                FetchError::NotFound { .. } => TargetError::PackageNotFound {
                    name: spec.name.clone(),
                    registry: registry.clone(),
                },
                source => TargetError::Fetch {
                    name: spec.name.clone(),
                    source,
                },
            })?;
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
        Ok(derive_facts(&DeriveInput {
            packument: &packument,
            version: &version,
            requested: &spec.raw,
            resolved_via: spec.selector.kind(),
            registry: &registry,
            now: self.now,
        }))
    }

    async fn scan_one(&self, spec: &Spec) -> PackageReport {
        let result = self
            .facts(spec)
            .await
            .map(|facts| check(facts, &self.rules, &self.policy));
        PackageReport {
            target: spec.raw.clone(),
            name: spec.name.clone(),
            registry: self.client.base_display(),
            result,
        }
    }
}
