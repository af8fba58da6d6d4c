//! One GET, the way every registry request is made: bounded retries inside one deadline per
//! target, redirects followed by hand so that credentials follow npm's nerf-dart scoping on every
//! hop, and a streamed body cap.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{
    HeaderMap, ACCEPT, AUTHORIZATION, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH,
    LAST_MODIFIED, LOCATION, RETRY_AFTER,
};
use reqwest::{Method, StatusCode};
use url::Url;

use super::cache::{self, Entry, Key};
use super::{redact_url, BodyBudget, RegistryClient, Reservation};
use crate::error::FetchError;

/// What one GET accepts, and which flag raises its size cap (so a "too large" error names the
/// flag that actually applies).
#[derive(Clone, Copy)]
pub(crate) struct Want {
    pub limit: u64,
    pub accept: &'static str,
    pub limit_flag: &'static str,
    /// Kept in the `--cache-dir` document cache (registry documents; tarballs have a
    /// content-addressed store of their own, see `get_tarball`).
    pub cacheable: bool,
}

/// What one request sends beyond its URL and `Accept`.
enum Body<'a> {
    /// A GET, conditional when the cache holds validators for it.
    Get(Option<&'a Entry>),
    /// A POST of a JSON document; never redirected, never conditional.
    PostJson(&'a [u8]),
}

/// What one attempt got.
enum Got {
    Fresh {
        body: Vec<u8>,
        etag: Option<String>,
        last_modified: Option<String>,
        /// The response came through a redirect: it is not cached, because a hop may have been
        /// sent another credential than the one the cache key names.
        redirected: bool,
        /// The body's share of the download budget, held by the caller while it uses the body.
        reservation: Option<Reservation>,
    },
    /// 304: the cached entry is still current.
    NotModified,
}

/// The time one target may spend in requests and retry waits: `--timeout × (--retries + 1)`,
/// the most a single request could take through all its retries if the server never asked for
/// more. Shared by every request of the target (packument, keys, attestations, tarball), so a
/// server that answers `Retry-After: 60` to each of them cannot stretch one package into
/// minutes. Time spent queueing for a concurrency permit is not counted: it depends on the other
/// targets, not on this one's server.
#[derive(Clone, Debug)]
pub struct Deadline {
    total: Duration,
    left: Arc<Mutex<Duration>>,
}

impl Deadline {
    pub fn new(total: Duration) -> Deadline {
        Deadline {
            total,
            left: Arc::new(Mutex::new(total)),
        }
    }

    pub fn total(&self) -> Duration {
        self.total
    }

    pub fn left(&self) -> Duration {
        *self.left.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn spend(&self, d: Duration) {
        let mut left = self.left.lock().unwrap_or_else(|e| e.into_inner());
        *left = left.saturating_sub(d);
    }
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

impl RegistryClient {
    /// Which credential setting goes with a request to `url`, as the cache names it: the
    /// setting's key and where it was set, never the credential.
    fn cache_scope(&self, url: &Url) -> String {
        match self.auth.as_ref().and_then(|c| c.auth_for_url(url)) {
            None => "anonymous".into(),
            Some(a) => format!("{} @ {}", a.key, a.source.at(a.line)),
        }
    }

    pub(crate) async fn get_with(&self, url: &Url, want: Want) -> Result<Vec<u8>, FetchError> {
        self.get_reserved(url, want).await.map(|(body, _)| body)
    }

    /// [`RegistryClient::get_with`], keeping the budget reservation that covered the body.
    pub(crate) async fn get_reserved(
        &self,
        url: &Url,
        want: Want,
    ) -> Result<(Vec<u8>, Option<Reservation>), FetchError> {
        let cache = self.cfg.cache.as_ref();
        let key = cache.filter(|_| want.cacheable).map(|_| {
            Key::new(
                "GET",
                url.as_str(),
                want.accept,
                &self.cache_scope(url),
                None,
            )
        });
        let cached = match (cache, &key) {
            (Some(c), Some(k)) => cache::load(&c.dir, k, want.limit),
            _ => None,
        };
        if cache.is_some_and(|c| c.offline) {
            return match cached {
                Some(e) => Ok(self.reserved(e.body).await),
                None => Err(FetchError::NotCached {
                    url: redact_url(url),
                    detail: if want.cacheable {
                        "not in the cache (--offline)"
                    } else {
                        "not in the cache (--offline; a tarball is cached only by its dist.integrity)"
                    },
                }),
            };
        }
        match self.retrying(url, want, Body::Get(cached.as_ref())).await? {
            Got::NotModified => match cached {
                Some(entry) => Ok(self.reserved(entry.body).await),
                // Sent no validators, yet told "not modified": nothing to use.
                None => Err(FetchError::Status {
                    url: redact_url(url),
                    code: 304,
                }),
            },
            Got::Fresh {
                body,
                etag,
                last_modified,
                redirected,
                reservation,
            } => {
                if let (Some(c), Some(k), false) = (cache, &key, redirected) {
                    let entry = Entry {
                        etag,
                        last_modified,
                        body,
                    };
                    // A cache that cannot be written is no cache; the answer stands.
                    let _ = cache::store(&c.dir, k, &entry);
                    return Ok((entry.body, reservation));
                }
                Ok((body, reservation))
            }
        }
    }

    /// A tarball whose version lists `integrity`: from the content-addressed cache when it holds
    /// bytes that still hash to it (online and offline), else downloaded and, when they match a
    /// SHA-512 of `integrity`, stored. The caller checks the bytes against `dist.integrity`
    /// either way; a download that does not match is returned (for that check to report it)
    /// but never stored.
    pub(crate) async fn get_tarball(
        &self,
        url: &Url,
        want: Want,
        integrity: Option<&str>,
    ) -> Result<(Vec<u8>, Option<Reservation>), FetchError> {
        let cache = self.cfg.cache.as_ref();
        let key = cache
            .and(integrity)
            .and_then(cache::TarballKey::from_integrity);
        if let (Some(c), Some(k)) = (cache, &key) {
            if let Some(found) = cache::find_tarball(&c.dir, k, want.limit) {
                // Reserved before it is read, as a download is while it streams: a warm run
                // must not hold more tarballs at once than a cold one may.
                let reservation = self.reserve(found.len()).await;
                let limit = want.limit;
                // Reading and hashing up to `--max-tarball-mb` is blocking work.
                let read = tokio::task::spawn_blocking(move || found.read(limit))
                    .await
                    .ok()
                    .flatten();
                if let Some(bytes) = read {
                    return Ok((bytes, reservation));
                }
                // Did not match its name: deleted; downloaded below (online) like a miss.
            }
        }
        if cache.is_some_and(|c| c.offline) {
            return Err(FetchError::NotCached {
                url: redact_url(url),
                detail: if key.is_some() {
                    "not in the cache (--offline)"
                } else {
                    "not in the cache (--offline; only tarballs with a sha512 dist.integrity are cached)"
                },
            });
        }
        let (bytes, reservation) = self.get_reserved(url, want).await?;
        let bytes = match (cache, key) {
            (Some(c), Some(k)) => {
                let dir = c.dir.clone();
                // Hashing and writing up to `--max-tarball-mb` is blocking work. A cache that
                // cannot be written is no cache; the download stands.
                tokio::task::spawn_blocking(move || {
                    let _ = cache::store_tarball(&dir, &k, &bytes);
                    bytes
                })
                .await
                .map_err(|e| FetchError::Client(format!("storing the tarball failed: {e}")))?
            }
            _ => bytes,
        };
        Ok((bytes, reservation))
    }

    /// A body that came from the cache, reserved in the budget as a downloaded one would be:
    /// the caller holds it (and parses it) just the same.
    async fn reserved(&self, body: Vec<u8>) -> (Vec<u8>, Option<Reservation>) {
        let reservation = self.reserve(body.len() as u64).await;
        (body, reservation)
    }

    /// `bytes` reserved in the budget (waiting for room), or None without a budget.
    async fn reserve(&self, bytes: u64) -> Option<Reservation> {
        match &self.body_budget {
            Some(budget) => {
                let mut r = budget.reserve();
                r.grow_to(bytes).await;
                Some(r)
            }
            None => None,
        }
    }

    /// A POST of a JSON document (the advisories bulk request), with the retries, deadline,
    /// credential scoping and body cap of every request. The answer is kept in the cache for
    /// `--offline`, but online it is always asked again: advisories change without a new URL.
    pub(crate) async fn post_json(
        &self,
        url: &Url,
        body: &[u8],
        want: Want,
    ) -> Result<Vec<u8>, FetchError> {
        let cache = self.cfg.cache.as_ref().filter(|_| want.cacheable);
        let key = cache.map(|_| {
            Key::new(
                "POST",
                url.as_str(),
                want.accept,
                &self.cache_scope(url),
                Some(body),
            )
        });
        if let (Some(c), Some(k)) = (cache, &key) {
            if c.offline {
                return cache::load(&c.dir, k, want.limit)
                    .map(|e| e.body)
                    .ok_or_else(|| FetchError::NotCached {
                        url: redact_url(url),
                        detail: "not in the cache (--offline)",
                    });
            }
        } else if self.cfg.cache.as_ref().is_some_and(|c| c.offline) {
            return Err(FetchError::NotCached {
                url: redact_url(url),
                detail: "not in the cache (--offline)",
            });
        }
        match self.retrying(url, want, Body::PostJson(body)).await? {
            Got::Fresh { body, .. } => {
                if let (Some(c), Some(k)) = (cache, &key) {
                    let entry = Entry {
                        etag: None,
                        last_modified: None,
                        body,
                    };
                    let _ = cache::store(&c.dir, k, &entry);
                    return Ok(entry.body);
                }
                Ok(body)
            }
            Got::NotModified => Err(FetchError::Status {
                url: redact_url(url),
                code: 304,
            }),
        }
    }

    async fn retrying(&self, url: &Url, want: Want, req: Body<'_>) -> Result<Got, FetchError> {
        let shown = redact_url(url);
        // A request made outside a target (no `for_target`) still gets a deadline of its own.
        let deadline = self
            .deadline
            .clone()
            .unwrap_or_else(|| Deadline::new(self.cfg.target_deadline()));
        let exceeded = |attempts: u32, last: &FetchError| FetchError::DeadlineExceeded {
            url: shown.clone(),
            secs: deadline.total().as_secs(),
            attempts,
            last: last.to_string(),
        };
        let mut attempt = 0u32;
        loop {
            let result = {
                let _permit = self
                    .permits
                    .acquire()
                    .await
                    .expect("semaphore never closed");
                let left = deadline.left();
                if left.is_zero() {
                    let last = FetchError::Network {
                        url: shown.clone(),
                        detail: "no time was left for this request".into(),
                    };
                    return Err(exceeded(attempt, &last));
                }
                let timeout = self.cfg.timeout.min(left);
                let started = Instant::now();
                let result = self.follow(url, &shown, want, &req, timeout).await;
                deadline.spend(started.elapsed());
                // The per-request timeout was cut to what the deadline had left, and that is
                // what ran out.
                if timeout < self.cfg.timeout && deadline.left().is_zero() {
                    if let Err(e @ FetchError::Network { .. }) = &result {
                        return Err(exceeded(attempt + 1, e));
                    }
                }
                result
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
            match (wait, result) {
                (Some(d), Err(e)) => {
                    // Waiting as long as asked would leave no time to try again: give up now
                    // rather than sleep into the deadline.
                    if d >= deadline.left() {
                        return Err(exceeded(attempt + 1, &e));
                    }
                    attempt += 1;
                    tokio::time::sleep(d).await;
                    deadline.spend(d);
                }
                (_, result) => return result,
            }
        }
    }

    /// One attempt: the request and any redirects, each hop with the credential its own URL
    /// selects. reqwest's own redirect handling is off (see [`http_client`]): it keeps the
    /// `Authorization` header on a redirect to another path of the same host, which npm's scoping
    /// forbids (a token for `//host/npm/` must not reach `//host/other/`).
    async fn follow(
        &self,
        first: &Url,
        shown: &str,
        want: Want,
        req: &Body<'_>,
        timeout: Duration,
    ) -> Result<Got, FetchError> {
        let mut url = first.clone();
        let mut hops = 0usize;
        loop {
            let first_hop = hops == 0;
            let resp = self
                .send(&url, shown, want.accept, req, first_hop, timeout)
                .await?;
            if resp.status() == StatusCode::NOT_MODIFIED
                && first_hop
                && matches!(req, Body::Get(Some(_)))
            {
                return Ok(Got::NotModified);
            }
            let post = matches!(req, Body::PostJson(_));
            if !resp.status().is_redirection() || post {
                let header = |name| {
                    resp.headers()
                        .get(name)
                        .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                        .map(str::to_string)
                };
                let (etag, last_modified) = (header(ETAG), header(LAST_MODIFIED));
                let (body, reservation) =
                    read_body(resp, shown, want, self.body_budget.as_ref()).await?;
                return Ok(Got::Fresh {
                    body,
                    etag,
                    last_modified,
                    redirected: !first_hop,
                    reservation,
                });
            }
            let redirect = |detail: String| FetchError::Redirect {
                url: shown.to_string(),
                detail,
            };
            let Some(location) = resp.headers().get(LOCATION) else {
                // A 304 or 300 without a target is an answer, not a redirect to follow.
                return Err(FetchError::Status {
                    url: shown.to_string(),
                    code: resp.status().as_u16(),
                });
            };
            if hops == self.cfg.max_redirects {
                return Err(redirect(format!(
                    "more than {} redirects",
                    self.cfg.max_redirects
                )));
            }
            let next = location
                .to_str()
                .ok()
                .and_then(|l| url.join(l).ok())
                .ok_or_else(|| redirect("a redirect to an unusable Location".into()))?;
            match (url.scheme(), next.scheme()) {
                (_, "http" | "https") => {}
                (_, other) => {
                    return Err(redirect(format!(
                        "a redirect to a `{other}:` URL, which is not fetched"
                    )))
                }
            }
            // nerf-dart keys name host and path, not the scheme: following https → http would
            // send the same credential in clear.
            if url.scheme() == "https" && next.scheme() == "http" {
                return Err(redirect(format!(
                    "a redirect from https to plain http ({})",
                    redact_url(&next)
                )));
            }
            url = next;
            hops += 1;
        }
    }

    async fn send(
        &self,
        url: &Url,
        shown: &str,
        accept: &'static str,
        body: &Body<'_>,
        first_hop: bool,
        timeout: Duration,
    ) -> Result<reqwest::Response, FetchError> {
        let method = match body {
            Body::Get(_) => Method::GET,
            Body::PostJson(_) => Method::POST,
        };
        let mut req = self
            .http
            .request(method, url.clone())
            .header(ACCEPT, accept)
            .timeout(timeout);
        match body {
            Body::Get(Some(entry)) if first_hop => {
                if let Some(etag) = &entry.etag {
                    req = req.header(IF_NONE_MATCH, etag.as_str());
                }
                if let Some(lm) = &entry.last_modified {
                    req = req.header(IF_MODIFIED_SINCE, lm.as_str());
                }
            }
            Body::Get(_) => {}
            Body::PostJson(json) => {
                req = req
                    .header(CONTENT_TYPE, "application/json")
                    .body(json.to_vec());
            }
        }
        if let Some(secret) = self.py_auth.as_ref().and_then(|ix| ix.auth_for(url)) {
            let mut value =
                reqwest::header::HeaderValue::from_str(secret.expose()).map_err(|_| {
                    FetchError::Client(
                        "the index credential contains characters that cannot go in an HTTP header"
                            .into(),
                    )
                })?;
            value.set_sensitive(true);
            req = req.header(AUTHORIZATION, value);
        }
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
            req = req.header(AUTHORIZATION, value);
        }
        req.send().await.map_err(|e| FetchError::Network {
            url: shown.to_string(),
            detail: describe_reqwest(&e),
        })
    }
}

async fn read_body(
    mut resp: reqwest::Response,
    shown: &str,
    want: Want,
    budget: Option<&BodyBudget>,
) -> Result<(Vec<u8>, Option<Reservation>), FetchError> {
    let Want {
        limit,
        accept,
        limit_flag,
        ..
    } = want;
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
    let too_large = || FetchError::TooLarge {
        url: shown.to_string(),
        limit,
        flag: limit_flag,
    };
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    // Reserved before the bytes are read: all of a declared length at once, else step by step.
    let mut reservation = budget.map(BodyBudget::reserve);
    if let (Some(r), Some(n)) = (reservation.as_mut(), resp.content_length()) {
        r.grow_to(n).await;
    }
    // Sized once from a declared length (already checked against the cap and reserved):
    // doubling as chunks arrive would briefly hold one and a half times a large tarball.
    let mut body = Vec::with_capacity(resp.content_length().map_or(0, |n| n as usize));
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let len = body.len() as u64 + chunk.len() as u64;
                if len > limit {
                    return Err(too_large());
                }
                // A chunk is in memory once read; it is reserved before it joins the body, and
                // the next chunk is not read until it is.
                if let Some(r) = reservation.as_mut() {
                    r.cover(len, limit).await;
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
    Ok((body, reservation))
}

/// hyper's default HTTP/2 stream window, set explicitly so the connection window below can be
/// sized from it.
const H2_STREAM_WINDOW: u32 = 2 * 1024 * 1024;

pub fn http_client(cfg: &super::HttpConfig) -> Result<reqwest::Client, FetchError> {
    reqwest::Client::builder()
        .user_agent(concat!("mcp-audit/", env!("CARGO_PKG_VERSION")))
        .timeout(cfg.timeout)
        .connect_timeout(cfg.connect_timeout)
        // Redirects are followed in `follow`, which picks the credential for each hop.
        .redirect(reqwest::redirect::Policy::none())
        // A body waits, unread, for room in the memory budget (`budget`). Over HTTP/2 its
        // stream keeps up to a stream window of data unacknowledged, and all streams share the
        // connection's window: with hyper's defaults (2 MiB / 5 MiB) three waiting bodies
        // stalled every other download on the connection until each timed out. The connection
        // window now holds every permitted request's stream window at once, so waiting bodies
        // can never take all of it (at most the concurrency limit × 2 MiB buffered).
        .http2_initial_stream_window_size(H2_STREAM_WINDOW)
        .http2_initial_connection_window_size(
            H2_STREAM_WINDOW
                .saturating_mul(u32::try_from(cfg.concurrency.max(1)).unwrap_or(u32::MAX))
                .saturating_add(H2_STREAM_WINDOW)
                // HTTP/2's largest window.
                .min((1 << 31) - 1),
        )
        .build()
        .map_err(|e| FetchError::Client(e.to_string()))
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
    fn retry_after_parses_seconds() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
    }

    #[test]
    fn deadline_is_spent_and_never_negative() {
        let d = Deadline::new(Duration::from_secs(10));
        let shared = d.clone();
        shared.spend(Duration::from_secs(4));
        assert_eq!(d.left(), Duration::from_secs(6));
        d.spend(Duration::from_secs(60));
        assert_eq!(shared.left(), Duration::ZERO);
        assert_eq!(d.total(), Duration::from_secs(10));
    }
}
