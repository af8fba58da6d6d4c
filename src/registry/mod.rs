//! npm registry client: full packuments, with timeouts, bounded retries, `Retry-After`, a body
//! size cap and one concurrency limit shared by every request.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::{OnceCell, Semaphore};
use url::Url;

use crate::config::Config;
use crate::error::FetchError;
use crate::facts::npm::Packument;
use crate::verify::NpmKeys;

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
        }
    }
}

#[derive(Clone)]
pub struct RegistryClient {
    base: Url,
    http: reqwest::Client,
    cfg: HttpConfig,
    permits: Arc<Semaphore>,
    /// npm configuration to pick credentials from, by nerf-dart match on each request URL.
    auth: Option<Arc<Config>>,
    keys: Arc<OnceCell<Result<Option<Arc<NpmKeys>>, FetchError>>>,
}

/// One redaction for every URL that reaches output, logs and errors: credentials and query
/// strings become `***`.
pub use crate::config::redact_url;

/// Validates a registry URL the way users give it and normalises it to end in `/`, so that
/// joining a package name keeps any path prefix (Artifactory, Azure and Verdaccio mount there).
pub fn parse_registry_url(raw: &str, allow_http: bool) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| match e {
        url::ParseError::RelativeUrlWithoutBase => {
            format!("registry URL `{raw}` has no scheme; did you mean https://{raw}?")
        }
        e => format!("registry URL `{raw}` is not a valid URL: {e}"),
    })?;
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                Some(url::Host::Domain(d)) => d == "localhost",
                None => false,
            };
            if !loopback && !allow_http {
                return Err(format!(
                    "registry URL `{}` uses plain http; tokens and metadata would travel unencrypted \
                     (use https, or --allow-http if you really mean it)",
                    redact_url(&url)
                ));
            }
        }
        s => return Err(format!("registry URL `{raw}` has unsupported scheme `{s}`")),
    }
    let mut url = url;
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
}

impl RegistryClient {
    /// A client with its own connection pool and concurrency limit and no credentials.
    pub fn new(base: Url, cfg: HttpConfig) -> Result<RegistryClient, FetchError> {
        let http = http_client(&cfg)?;
        let permits = Arc::new(Semaphore::new(cfg.concurrency.max(1)));
        Ok(Self::shared(base, cfg, http, permits, None))
    }

    /// A client for one registry that shares the connection pool and the global concurrency
    /// limit with the clients of the other registries in the same scan.
    pub fn shared(
        base: Url,
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
                crate::config::nerf_dart(url),
                crate::config::nerf_dart(url)
            ),
        }
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    pub fn base_display(&self) -> String {
        redact_url(&self.base)
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

    pub async fn get_json(&self, url: &Url) -> Result<Value, FetchError> {
        let body = self.get_bytes(url).await?;
        serde_json::from_slice(&body).map_err(|e| FetchError::Malformed {
            url: redact_url(url),
            detail: format!("invalid JSON: {e}"),
        })
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
        Url::parse(&format!("{base}/{path}")).unwrap_or_else(|_| self.base.clone())
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
        self.get_bytes_limited(url, self.cfg.max_body_bytes, "application/json")
            .await
    }

    /// A package tarball, streamed into memory up to `limit` bytes. Credentials follow the same
    /// strict per-URL rule, so a tarball on another host (a CDN) gets none.
    pub async fn tarball(&self, url: &Url, limit: u64) -> Result<Vec<u8>, FetchError> {
        self.get_bytes_limited(url, limit, "application/octet-stream")
            .await
    }

    async fn get_bytes_limited(
        &self,
        url: &Url,
        limit: u64,
        accept: &'static str,
    ) -> Result<Vec<u8>, FetchError> {
        let shown = redact_url(url);
        let mut attempt = 0u32;
        loop {
            let result = {
                let _permit = self
                    .permits
                    .acquire()
                    .await
                    .expect("semaphore never closed");
                self.try_once(url, &shown, limit, accept).await
            };
            let wait = match &result {
                Err(e) if attempt < self.cfg.retries => match e.retry_hint() {
                    Retry::No => None,
                    Retry::Backoff => Some(self.cfg.backoff_base * 2u32.saturating_pow(attempt)),
                    Retry::After(d) if d <= self.cfg.max_retry_after => Some(d),
                    Retry::After(_) => None,
                },
                _ => None,
            };
            match wait {
                Some(d) => {
                    attempt += 1;
                    tokio::time::sleep(d).await;
                }
                None => return result,
            }
        }
    }

    async fn try_once(
        &self,
        url: &Url,
        shown: &str,
        limit: u64,
        accept: &'static str,
    ) -> Result<Vec<u8>, FetchError> {
        let mut req = self.http.get(url.clone()).header(ACCEPT, accept);
        if let Some(auth) = self.auth.as_ref().and_then(|c| c.auth_for_url(url)) {
            // Marked sensitive so that no Debug output of the request can ever show it.
            let mut value = reqwest::header::HeaderValue::from_str(auth.header_value.expose())
                .map_err(|_| {
                    FetchError::Client(format!(
                        "the credential `{}` contains characters that cannot go in an HTTP header",
                        auth.key
                    ))
                })?;
            value.set_sensitive(true);
            req = req.header(reqwest::header::AUTHORIZATION, value);
        }
        let mut resp = req.send().await.map_err(|e| FetchError::Network {
            url: shown.to_string(),
            detail: describe_reqwest(&e),
        })?;
        let status = resp.status();
        if status == StatusCode::NOT_FOUND {
            return Err(FetchError::NotFound {
                url: shown.to_string(),
            });
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(FetchError::RateLimited {
                url: shown.to_string(),
                retry_after: retry_after(resp.headers()),
            });
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                url: shown.to_string(),
                code: status.as_u16(),
            });
        }
        let ctype = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if ctype.contains("html") && accept == "application/json" {
            return Err(FetchError::NotJson {
                url: shown.to_string(),
                content_type: ctype,
            });
        }
        if resp.content_length().is_some_and(|n| n > limit) {
            return Err(FetchError::TooLarge {
                url: shown.to_string(),
                limit,
            });
        }
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() as u64 + chunk.len() as u64 > limit {
                        return Err(FetchError::TooLarge {
                            url: shown.to_string(),
                            limit,
                        });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(FetchError::Network {
                        url: shown.to_string(),
                        detail: format!("the response body was cut off ({})", describe_reqwest(&e)),
                    })
                }
            }
        }
        if accept == "application/json" && body.first().is_some_and(|b| *b == b'<') {
            let label = if ctype.is_empty() {
                "no content type".to_string()
            } else {
                ctype
            };
            return Err(FetchError::NotJson {
                url: shown.to_string(),
                content_type: format!("an HTML or XML page (labelled {label})"),
            });
        }
        Ok(body)
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

pub fn http_client(cfg: &HttpConfig) -> Result<reqwest::Client, FetchError> {
    reqwest::Client::builder()
        .user_agent(concat!("mcp-audit/", env!("CARGO_PKG_VERSION")))
        .timeout(cfg.timeout)
        .connect_timeout(cfg.connect_timeout)
        // reqwest drops Authorization on a redirect to another host; a bounded chain keeps a
        // misbehaving registry from looping.
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .map_err(|e| FetchError::Client(e.to_string()))
}

pub(crate) enum Retry {
    No,
    Backoff,
    After(Duration),
}

impl FetchError {
    pub(crate) fn retry_hint(&self) -> Retry {
        match self {
            FetchError::Network { .. } => Retry::Backoff,
            FetchError::Status { code, .. } if *code >= 500 => Retry::Backoff,
            FetchError::RateLimited { retry_after, .. } => match retry_after {
                Some(d) => Retry::After(*d),
                None => Retry::Backoff,
            },
            _ => Retry::No,
        }
    }
}

/// `Retry-After` is either delta-seconds or an HTTP date.
fn retry_after(h: &HeaderMap) -> Option<Duration> {
    let v = h.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// reqwest's Display includes the URL, which may carry credentials in a later issue; describe the
/// failure class instead and keep the chain's innermost message.
fn describe_reqwest(e: &reqwest::Error) -> String {
    let class = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "error reading the body"
    } else {
        "request failed"
    };
    let mut next = std::error::Error::source(e);
    let mut innermost = None;
    while let Some(err) = next {
        innermost = Some(err.to_string());
        next = err.source();
    }
    match innermost {
        Some(d) if !d.is_empty() => format!("{class}: {d}"),
        _ => class.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_urls_are_validated_and_normalised() {
        let ok = |s: &str| parse_registry_url(s, false).unwrap().to_string();
        assert_eq!(
            ok("https://registry.npmjs.org"),
            "https://registry.npmjs.org/"
        );
        assert_eq!(
            ok("https://x.jfrog.io/artifactory/api/npm/npm-local"),
            "https://x.jfrog.io/artifactory/api/npm/npm-local/"
        );
        assert_eq!(ok("http://127.0.0.1:4873/"), "http://127.0.0.1:4873/");
        assert_eq!(ok("http://localhost:4873"), "http://localhost:4873/");
        let err = parse_registry_url("registry.example.com", false).unwrap_err();
        assert!(err.contains("no scheme"), "{err}");
        let err = parse_registry_url("http://registry.example.com", false).unwrap_err();
        assert!(err.contains("plain http"), "{err}");
        assert!(parse_registry_url("http://registry.example.com", true).is_ok());
        assert!(parse_registry_url("ftp://x", false)
            .unwrap_err()
            .contains("scheme"));
    }

    #[test]
    fn redaction_hides_credentials() {
        let u = Url::parse("https://user:s3cret@host/path?token=abc").unwrap();
        let shown = redact_url(&u);
        assert!(!shown.contains("s3cret") && !shown.contains("abc") && !shown.contains("user"));
    }

    #[test]
    fn retry_after_parses_seconds() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
    }
}
