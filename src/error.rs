//! Error types. Each keeps enough context to print one line that names the input and the likely
//! cause; none ever holds a credential (URLs are redacted before they get here).

use std::time::Duration;

use thiserror::Error;

#[derive(Debug, Clone, Error, PartialEq)]
pub enum FetchError {
    #[error("not found at {url}")]
    NotFound { url: String },
    #[error("{url} answered HTTP {code}")]
    Status { url: String, code: u16 },
    #[error("{url} kept answering HTTP 429 (rate limited){}", retry_after.map(|d| format!("; it asked to wait {}s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        url: String,
        retry_after: Option<Duration>,
    },
    #[error("network error for {url}: {detail}")]
    Network { url: String, detail: String },
    #[error("{url} returned more than {limit} bytes (raise {flag} if this package is really that large)")]
    TooLarge {
        url: String,
        limit: u64,
        /// The flag that sets this cap: `--max-body-mb` for documents, `--max-tarball-mb` for
        /// tarballs.
        flag: &'static str,
    },
    #[error("deadline exceeded for {url} after {attempts} attempt(s): a package gets {secs}s in all (--timeout × (--retries + 1)); last error: {last}")]
    DeadlineExceeded {
        url: String,
        secs: u64,
        attempts: u32,
        last: String,
    },
    #[error("{url} could not be followed: {detail}")]
    Redirect { url: String, detail: String },
    #[error("{url} returned {content_type} instead of JSON; is the registry URL right, or is a proxy or login page in the way?")]
    NotJson { url: String, content_type: String },
    #[error("{url} returned a malformed document: {detail}")]
    Malformed { url: String, detail: String },
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
    /// `--offline` and the cache holds no answer for this request.
    #[error("{url}: {detail}")]
    NotCached { url: String, detail: &'static str },
}

/// Why one target could not be checked. It is reported on that target and the scan goes on.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum TargetError {
    #[error("package {name} does not exist on {registry}{note}")]
    PackageNotFound {
        name: String,
        registry: String,
        /// For a scoped name: which setting chose the registry, and the `@scope:registry` hint.
        note: String,
    },
    #[error("{registry} answered 401 Unauthorized for {name}: the token is missing, expired or invalid for this registry; {auth}")]
    Unauthorized {
        name: String,
        registry: String,
        auth: String,
    },
    #[error("{registry} answered 403 Forbidden for {name}: the credential lacks read access to {name} (or, on servers such as pypiserver that answer 403 to a wrong password, was refused); {auth}")]
    Forbidden {
        name: String,
        registry: String,
        auth: String,
    },
    #[error("{name}: {problem}")]
    Config { name: String, problem: String },
    #[error("{problem}")]
    VersionNotFound { name: String, problem: String },
    #[error("{source}")]
    Fetch {
        name: String,
        #[source]
        source: FetchError,
    },
    /// The dependency tree could not be resolved (issue 12), e.g. it is larger than --max-nodes.
    #[error("{name}: {problem}")]
    Tree { name: String, problem: String },
}

impl TargetError {
    /// A short machine-readable kind for JSON consumers.
    pub fn kind(&self) -> &'static str {
        match self {
            TargetError::PackageNotFound { .. } => "not-found",
            TargetError::Unauthorized { .. } => "unauthorized",
            TargetError::Forbidden { .. } => "forbidden",
            TargetError::Config { .. } => "config",
            TargetError::VersionNotFound { .. } => "version-not-found",
            TargetError::Tree { .. } => "tree",
            TargetError::Fetch { source, .. } => match source {
                FetchError::NotFound { .. } => "not-found",
                FetchError::Status { .. } => "http-status",
                FetchError::RateLimited { .. } => "rate-limited",
                FetchError::Network { .. } => "network",
                FetchError::TooLarge { .. } => "too-large",
                FetchError::DeadlineExceeded { .. } => "deadline-exceeded",
                FetchError::Redirect { .. } => "redirect",
                FetchError::NotJson { .. } => "not-json",
                FetchError::Malformed { .. } => "malformed",
                FetchError::Client(_) => "client",
                FetchError::NotCached { .. } => "not-cached",
            },
        }
    }
}
