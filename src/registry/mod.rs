//! npm registry client: full packuments, with timeouts, bounded retries, `Retry-After`, one
//! deadline per target, a body size cap and one concurrency limit shared by every request.

pub mod advisories;
pub mod budget;
mod cache;
mod http;
pub mod pypi;
mod url;

use std::sync::Arc;
use std::time::Duration;

use ::url::Url;
use tokio::sync::{OnceCell, Semaphore};

use crate::error::FetchError;
use crate::facts::npm::Packument;
use crate::npmrc::Config;
use crate::verify::NpmKeys;
use http::Want;

pub use self::url::{is_loopback, redact_url, redact_url_text, RegistryUrl, RegistryUrlError};
pub use budget::{BodyBudget, Reservation};
pub use cache::CacheConfig;
pub use http::{http_client, Deadline};

#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Retries after the first attempt, for network errors, 5xx and 429.
    pub retries: u32,
    pub backoff_base: Duration,
    /// A server asking us to wait longer than this gets an error instead of a hung CI job.
    pub max_retry_after: Duration,
    pub max_body_bytes: u64,
    pub concurrency: usize,
    /// Redirects followed per request; each hop gets the credential its own URL selects.
    pub max_redirects: usize,
    /// `--cache-dir` / `--offline`; None with `--no-cache`.
    pub cache: Option<CacheConfig>,
}

impl HttpConfig {
    /// The deadline of one target: `timeout × (retries + 1)`. See [`Deadline`].
    pub fn target_deadline(&self) -> Duration {
        self.timeout.saturating_mul(self.retries.saturating_add(1))
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retries: 3,
            backoff_base: Duration::from_millis(250),
            max_retry_after: Duration::from_secs(60),
            // The largest real packuments (e.g. `typescript`) are tens of MB in full form.
            max_body_bytes: 64 * 1024 * 1024,
            concurrency: 16,
            max_redirects: 5,
            cache: None,
        }
    }
}

#[derive(Clone)]
pub struct RegistryClient {
    base: RegistryUrl,
    http: reqwest::Client,
    cfg: HttpConfig,
    permits: Arc<Semaphore>,
    /// npm configuration to pick credentials from, by nerf-dart match on each request URL.
    auth: Option<Arc<Config>>,
    keys: Arc<OnceCell<Result<Option<Arc<NpmKeys>>, FetchError>>>,
    /// Set by [`RegistryClient::for_target`]; without it each request has a deadline of its own.
    deadline: Option<Deadline>,
    /// Python index credentials, chosen by realm on each request URL (see `pyindex`).
    py_auth: Option<Arc<crate::pyindex::PyIndexes>>,
    /// Bodies are reserved in it while they download (see `budget`); none: only the
    /// per-document cap bounds them.
    body_budget: Option<BodyBudget>,
}

/// A `--registry` flag value, checked as every registry setting is ([`RegistryUrl::parse`])
/// and refused when it is plain http off loopback without `allow_http`.
pub fn parse_registry_url(raw: &str, allow_http: bool) -> Result<RegistryUrl, String> {
    let url = RegistryUrl::parse(raw)
        .map_err(|e| format!("registry URL `{}` is rejected: {e}", redact_url_text(raw)))?;
    url.require_secure_transport(allow_http)?;
    Ok(url)
}

impl RegistryClient {
    /// A client with its own connection pool and concurrency limit and no credentials.
    pub fn new(base: RegistryUrl, cfg: HttpConfig) -> Result<RegistryClient, FetchError> {
        let http = http_client(&cfg)?;
        let permits = Arc::new(Semaphore::new(cfg.concurrency.max(1)));
        Ok(Self::shared(base, cfg, http, permits, None))
    }

    /// A client for one registry that shares the connection pool and the global concurrency
    /// limit with the clients of the other registries in the same scan.
    pub fn shared(
        base: RegistryUrl,
        cfg: HttpConfig,
        http: reqwest::Client,
        permits: Arc<Semaphore>,
        auth: Option<Arc<Config>>,
    ) -> RegistryClient {
        RegistryClient {
            base,
            http,
            permits,
            keys: Arc::new(OnceCell::new()),
            auth,
            cfg,
            deadline: None,
            py_auth: None,
            body_budget: None,
        }
    }

    /// A client for a Python index, sending each request the credential its realm selects in
    /// `indexes` (and none to any other host).
    pub fn python(
        base: RegistryUrl,
        cfg: HttpConfig,
        http: reqwest::Client,
        permits: Arc<Semaphore>,
        indexes: Arc<crate::pyindex::PyIndexes>,
    ) -> RegistryClient {
        RegistryClient {
            py_auth: Some(indexes),
            ..Self::shared(base, cfg, http, permits, None)
        }
    }

    /// This client with downloads reserved in `budget` (shared by the clients of a scan).
    pub fn with_body_budget(mut self, budget: BodyBudget) -> RegistryClient {
        self.body_budget = Some(budget);
        self
    }

    /// This client with a fresh [`Deadline`] that every request made through it shares: one per
    /// target, so retries and `Retry-After` waits cannot stretch a package past it.
    pub fn for_target(&self) -> RegistryClient {
        RegistryClient {
            deadline: Some(Deadline::new(self.cfg.target_deadline())),
            ..self.clone()
        }
    }

    /// Says which credential goes with requests to `url`, or why none does, without the secret:
    /// the first thing to know when a private registry answers 401 or 403.
    pub fn auth_note(&self, url: &Url) -> String {
        let Some(config) = &self.auth else {
            return "no npm configuration was loaded".into();
        };
        if let Some(a) = config.auth_for_url(url) {
            let at = a.source.at(a.line);
            let mut note = format!("the credential `{}` from {at} was sent", a.key);
            for w in &a.warnings {
                note.push_str(&format!(" ({w})"));
            }
            return note;
        }
        match config.auth_key_hint(url) {
            Some(hint) => format!("no credential was sent: {hint}"),
            None => format!(
                "no credential is configured for `{}` (set `{}:_authToken`)",
                crate::npmrc::nerf_dart(url),
                crate::npmrc::nerf_dart(url)
            ),
        }
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    pub fn base_display(&self) -> String {
        self.base.redacted()
    }

    /// The full packument (`Accept: application/json`): the abbreviated form npm installs with lacks
    /// maintainers, `_npmUser` and `time`, which most checks need. Returned as bytes: the caller
    /// accounts for them in its memory budget before [`parse_packument`] reads them.
    pub async fn packument_bytes(&self, name: &str) -> Result<(Url, Vec<u8>), FetchError> {
        let url = self
            .base
            .join(&crate::spec::escape_name(name))
            .map_err(|e| FetchError::Client(format!("cannot build URL for {name}: {e}")))?;
        let body = self.get_bytes(&url).await?;
        Ok((url, body))
    }

    /// The abbreviated packument npm installs from (`application/vnd.npm.install-v1+json`, with
    /// the full document as a fallback), for dependency resolution. Same GET path, cache,
    /// credentials, limits and budget as [`Self::packument_reserved`].
    pub async fn abbreviated_packument_bytes(
        &self,
        name: &str,
    ) -> Result<(Url, Vec<u8>, Option<Reservation>), FetchError> {
        self.packument_as(name, crate::tree::ABBREVIATED_ACCEPT)
            .await
    }

    /// As [`RegistryClient::packument_bytes`], with the budget reservation that covered the
    /// download (none without a budget): keep it while the document is held.
    pub async fn packument_reserved(
        &self,
        name: &str,
    ) -> Result<(Url, Vec<u8>, Option<Reservation>), FetchError> {
        self.packument_as(name, "application/json").await
    }

    /// A packument in the form `accept` asks for; the cache keeps each form apart.
    async fn packument_as(
        &self,
        name: &str,
        accept: &'static str,
    ) -> Result<(Url, Vec<u8>, Option<Reservation>), FetchError> {
        let url = self
            .base
            .join(&crate::spec::escape_name(name))
            .map_err(|e| FetchError::Client(format!("cannot build URL for {name}: {e}")))?;
        let want = Want {
            limit: self.cfg.max_body_bytes,
            accept,
            limit_flag: "--max-body-mb",
            cacheable: true,
        };
        let (body, reservation) = self.get_reserved(&url, want).await?;
        Ok((url, body, reservation))
    }

    /// The registry's signing keys (`/-/npm/v1/keys`), fetched and parsed once per client.
    /// `Ok(None)` means the registry has none (404), which makes every signature check unknown,
    /// not failed.
    pub async fn keys(&self) -> Result<Option<Arc<NpmKeys>>, FetchError> {
        self.keys
            .get_or_init(|| async {
                let url = self
                    .base
                    .join("-/npm/v1/keys")
                    .map_err(|e| FetchError::Client(e.to_string()))?;
                match self.get_bytes(&url).await {
                    Ok(body) => NpmKeys::from_json(&body)
                        .map(|k| Some(Arc::new(k)))
                        .map_err(|e| FetchError::Malformed {
                            url: redact_url(&url),
                            detail: format!("unusable signing keys: {e}"),
                        }),
                    Err(FetchError::NotFound { .. }) => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .await
            .clone()
    }

    /// The attestations document for a version. pacote takes only the *path* of
    /// `dist.attestations.url` and appends it to the configured registry, so a mirror or a private
    /// registry is asked, never the host the packument happens to name; we do the same.
    pub fn attestations_url(&self, listed: Option<&str>, name: &str, version: &str) -> Url {
        let path = listed
            .and_then(|u| Url::parse(u).ok())
            .map(|u| u.path().trim_start_matches('/').to_string())
            .unwrap_or_else(|| format!("-/npm/v1/attestations/{name}@{version}"));
        let base = self.base.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}/{path}")).unwrap_or_else(|_| self.base.as_url().clone())
    }

    /// Raw attestation response bytes; `Ok(None)` on 404.
    pub async fn attestations(&self, url: &Url) -> Result<Option<Vec<u8>>, FetchError> {
        match self.get_bytes(url).await {
            Ok(b) => Ok(Some(b)),
            Err(FetchError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn get_bytes(&self, url: &Url) -> Result<Vec<u8>, FetchError> {
        let want = Want {
            limit: self.cfg.max_body_bytes,
            accept: "application/json",
            limit_flag: "--max-body-mb",
            cacheable: true,
        };
        self.get_with(url, want).await
    }

    /// A package tarball, streamed into memory up to `limit` bytes (`--max-tarball-mb`).
    /// Credentials follow the same strict per-URL rule, so a tarball on another host (a CDN)
    /// gets none.
    pub async fn tarball(&self, url: &Url, limit: u64) -> Result<Vec<u8>, FetchError> {
        self.tarball_reserved(url, limit).await.map(|(b, _)| b)
    }

    /// [`RegistryClient::tarball`], with the budget reservation that covered the download:
    /// keep it while the bytes are read.
    pub async fn tarball_reserved(
        &self,
        url: &Url,
        limit: u64,
    ) -> Result<(Vec<u8>, Option<Reservation>), FetchError> {
        let want = Want {
            limit,
            accept: "application/octet-stream",
            limit_flag: "--max-tarball-mb",
            cacheable: false,
        };
        self.get_reserved(url, want).await
    }

    /// [`RegistryClient::tarball_reserved`] for a version that lists `integrity`
    /// (`dist.integrity`): served from the `--cache-dir` tarball store when it holds bytes
    /// matching its SHA-512 (also `--offline`), and stored there after a download that matched.
    /// The caller still checks the bytes against `dist.integrity`.
    pub async fn tarball_for(
        &self,
        url: &Url,
        limit: u64,
        integrity: Option<&str>,
    ) -> Result<(Vec<u8>, Option<Reservation>), FetchError> {
        let want = Want {
            limit,
            accept: "application/octet-stream",
            limit_flag: "--max-tarball-mb",
            cacheable: false,
        };
        self.get_tarball(url, want, integrity).await
    }
}

/// Reads a packument into the typed view facts need, skipping everything else (see
/// `facts::npm::packument`). Refuses a document that is not a packument.
pub fn parse_packument(url: &Url, body: &[u8]) -> Result<Packument, FetchError> {
    let p = Packument::from_slice(body).map_err(|e| FetchError::Malformed {
        url: redact_url(url),
        detail: format!("invalid JSON: {e}"),
    })?;
    if !p.is_object || p.versions_not_object {
        return Err(FetchError::Malformed {
            url: redact_url(url),
            detail: "the document is not a packument (no `versions` object)".into(),
        });
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_values_are_checked_like_settings() {
        let ok = |s: &str| parse_registry_url(s, false).unwrap().to_string();
        assert_eq!(
            ok("https://x.jfrog.io/artifactory/api/npm/npm-local"),
            "https://x.jfrog.io/artifactory/api/npm/npm-local/"
        );
        assert_eq!(ok("http://localhost:4873"), "http://localhost:4873/");
        let err = parse_registry_url("registry.example.com", false).unwrap_err();
        assert!(err.contains("has no scheme"), "{err}");
        let err = parse_registry_url("http://registry.example.com", false).unwrap_err();
        assert!(err.contains("plain http"), "{err}");
        assert!(parse_registry_url("http://registry.example.com", true).is_ok());
        assert!(parse_registry_url("ftp://x", false)
            .unwrap_err()
            .contains("scheme"));
        let err = parse_registry_url("tok:pw@registry", false).unwrap_err();
        assert!(!err.contains("pw"), "{err}");
    }

    #[test]
    fn the_target_deadline_is_every_attempt_at_full_timeout() {
        let cfg = HttpConfig {
            timeout: Duration::from_secs(5),
            retries: 1,
            ..HttpConfig::default()
        };
        assert_eq!(cfg.target_deadline(), Duration::from_secs(10));
    }
}
