//! What one run learns once and reuses (issue 12, "Speed and memory"): a package version shared
//! by several trees (or several `config` servers) is fetched and judged once, and trees resolved
//! at the same time share each abbreviated packument (held only while some resolution holds it:
//! the memo keeps a weak reference, so the documents do not outlive the resolutions).
//!
//! Every entry is keyed by the registry the document came from **and** the identity of the
//! credential sent there (a SHA-256 of the `Authorization` value, kept in memory only), so a
//! private document fetched for one configuration never answers another configuration's question.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use tokio::sync::{OnceCell, Semaphore};

use crate::error::TargetError;
use crate::facts::PackageFacts;
use crate::npmrc::Config;
use crate::registry::RegistryClient;

use super::scan::Dist;

/// A version's facts before the advisories are added (they are asked per run for the whole
/// set), with the `dist` the registry listed for it.
pub type NodeFacts = Result<(PackageFacts, Dist), TargetError>;

/// Who asks, where: a registry base URL, the credentials of the configuration, and the npm
/// setting that changes what is fetched for it (`replace-registry-host`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Asker {
    registry: String,
    credential: [u8; 32],
    replace_host: Option<String>,
}

impl Asker {
    /// The identity of requests `client` makes for packages on its registry under `config`.
    pub fn of(client: &RegistryClient, config: &Config, credentials: [u8; 32]) -> Asker {
        Asker {
            registry: client.base().as_str().to_string(),
            credential: credentials,
            replace_host: config.get("replace-registry-host").map(str::to_string),
        }
    }
}

/// A fingerprint of every credential-bearing setting of `config` (the nerf-dart scoped ones and
/// the legacy unscoped `_auth*`), keys and values: two configurations share memo entries only when
/// they would send the same credential to every host. Kept in memory, never shown.
pub fn credential_fingerprint(config: &Config) -> [u8; 32] {
    let mut scoped: Vec<(&str, &str)> = config
        .settings()
        .filter(|s| s.key.starts_with("//") || s.key.starts_with('_'))
        .map(|s| (s.key.as_str(), s.value.as_str()))
        .collect();
    scoped.sort_unstable();
    let mut h = Sha256::new();
    for (k, v) in scoped {
        h.update((k.len() as u64).to_le_bytes());
        h.update(k.as_bytes());
        h.update((v.len() as u64).to_le_bytes());
        h.update(v.as_bytes());
    }
    h.finalize().into()
}

pub type Cell<T> = Arc<OnceCell<T>>;

/// A name's abbreviated packument for resolution while a resolution holds it, or why it could
/// not be read.
pub type Abbreviated = Result<std::sync::Weak<crate::tree::Packument>, String>;

type ByName<T> = Mutex<HashMap<(Asker, String), T>>;

/// Shared by every [`super::scan::Registries`] of one run (`with_config` clones the `Arc`).
pub struct RunMemo {
    facts: Mutex<HashMap<(Asker, String, String), Cell<NodeFacts>>>,
    abbreviated: ByName<Arc<tokio::sync::Mutex<Option<Abbreviated>>>>,
    /// One group of a name's versions is audited at a time per name: a second tree that needs
    /// the same name waits and then reads the memo instead of fetching the packument again.
    names: ByName<Arc<tokio::sync::Mutex<()>>>,
    /// Full packuments held at once across every tree of the run: the concurrency limit's worth.
    pub(crate) audits: Semaphore,
    /// Tarball analyses running at once: the cores' worth.
    pub(crate) analyses: Semaphore,
    /// `config`'s advisories: one request per registry and credentials for the whole run.
    pub(crate) rounds: super::rounds::AdvisoryRounds,
}

impl RunMemo {
    pub fn new(concurrency: usize) -> RunMemo {
        RunMemo {
            facts: Mutex::default(),
            abbreviated: Mutex::default(),
            names: Mutex::default(),
            audits: Semaphore::new(concurrency.max(1)),
            analyses: Semaphore::new(
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2)
                    .clamp(2, 8),
            ),
            rounds: Default::default(),
        }
    }

    pub fn facts_cell(&self, asker: &Asker, name: &str, version: &str) -> Cell<NodeFacts> {
        let mut map = self.facts.lock().expect("no panics while holding the lock");
        Arc::clone(
            map.entry((asker.clone(), name.to_string(), version.to_string()))
                .or_default(),
        )
    }

    /// The slot of `name`'s abbreviated packument: lock it, read it, fill it when empty or gone.
    pub fn abbreviated_slot(
        &self,
        asker: &Asker,
        name: &str,
    ) -> Arc<tokio::sync::Mutex<Option<Abbreviated>>> {
        let mut map = self
            .abbreviated
            .lock()
            .expect("no panics while holding the lock");
        Arc::clone(map.entry((asker.clone(), name.to_string())).or_default())
    }

    pub fn name_lock(&self, asker: &Asker, name: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.names.lock().expect("no panics while holding the lock");
        Arc::clone(map.entry((asker.clone(), name.to_string())).or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npmrc::Layer;

    fn config(pairs: &[(&str, &str)]) -> Config {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (cli, _) = Layer::from_cli(&pairs, &HashMap::new());
        Config::from_layers(vec![Layer::defaults(), cli])
    }

    #[test]
    fn configurations_share_memo_entries_only_with_the_same_credentials() {
        let reg = ("registry", "https://npm.example/");
        let anon = credential_fingerprint(&config(&[reg]));
        assert_eq!(anon, credential_fingerprint(&config(&[reg])));
        let a = credential_fingerprint(&config(&[reg, ("//npm.example/:_authToken", "tok-a")]));
        let b = credential_fingerprint(&config(&[reg, ("//npm.example/:_authToken", "tok-b")]));
        let a_again =
            credential_fingerprint(&config(&[reg, ("//npm.example/:_authToken", "tok-a")]));
        assert_ne!(
            a, anon,
            "a private configuration never reads anonymous entries"
        );
        assert_ne!(a, b, "nor another token's");
        assert_eq!(a, a_again);
        // The same token scoped to another host sends it elsewhere: not the same asker.
        let elsewhere =
            credential_fingerprint(&config(&[reg, ("//cdn.example/:_authToken", "tok-a")]));
        assert_ne!(a, elsewhere);
    }
}
