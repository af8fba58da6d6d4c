//! Registry URLs: the one parser, the one loopback check and the one redaction that every
//! registry setting, `--registry` flag and request URL goes through.

use std::fmt;
use std::ops::Deref;

use serde::{Serialize, Serializer};
use url::Url;

/// A registry base URL, validated and normalised: http or https, a host, no query or fragment,
/// scheme and host lower-cased, default port dropped, and a path that ends in `/` so that
/// joining a package name keeps any path prefix (Artifactory, Azure and Verdaccio mount there).
///
/// It dereferences to [`Url`] for reading; it prints and serialises redacted, so a registry URL
/// with userinfo cannot reach output whole by accident.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RegistryUrl(Url);

/// Why a text is not a usable registry URL. The messages are worded as the rest of a sentence
/// that names the setting ("registry = x is rejected: it has no scheme …").
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistryUrlError {
    /// npm validates `registry` with nopt's `url` type, which needs an absolute URL: a value
    /// without `://` (`registry.example.com`, `localhost:4873`) is not one.
    #[error("it has no scheme (write https://...)")]
    NoScheme,
    #[error("it is not a valid URL ({0})")]
    Invalid(String),
    /// The only schemes npm-registry-fetch (and mcp-audit) can fetch.
    #[error("scheme {0}: is not http or https")]
    Scheme(String),
    #[error("it has no host")]
    NoHost,
}

impl RegistryUrl {
    pub fn parse(text: &str) -> Result<RegistryUrl, RegistryUrlError> {
        let text = text.trim();
        if !text.contains("://") {
            return Err(RegistryUrlError::NoScheme);
        }
        let mut url = Url::parse(text).map_err(|e| RegistryUrlError::Invalid(e.to_string()))?;
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(RegistryUrlError::Scheme(url.scheme().to_string()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(RegistryUrlError::NoHost);
        }
        url.set_query(None);
        url.set_fragment(None);
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(RegistryUrl(url))
    }

    /// Plain http is refused off loopback unless the user allows it: a token and the metadata
    /// would travel unencrypted.
    pub fn require_secure_transport(&self, allow_http: bool) -> Result<(), String> {
        if self.0.scheme() == "http" && !allow_http && !self.is_loopback() {
            return Err(format!(
                "registry URL `{self}` uses plain http; tokens and metadata would travel \
                 unencrypted (use https, or --allow-http if you really mean it)"
            ));
        }
        Ok(())
    }

    pub fn is_loopback(&self) -> bool {
        is_loopback(&self.0)
    }

    /// Safe to print: see [`redact_url`].
    pub fn redacted(&self) -> String {
        redact_url(&self.0)
    }

    pub fn as_url(&self) -> &Url {
        &self.0
    }
}

impl Deref for RegistryUrl {
    type Target = Url;
    fn deref(&self) -> &Url {
        &self.0
    }
}

impl fmt::Display for RegistryUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for RegistryUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegistryUrl({})", self.redacted())
    }
}

impl Serialize for RegistryUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.redacted())
    }
}

/// Whether `url` points at this machine: `localhost` (any case), 127.0.0.0/8 or `::1`. Policy
/// (refusing plain http elsewhere) is the caller's.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A URL with its userinfo and query string replaced by `***`, safe to print. The one redaction
/// for every URL that reaches output, logs and errors.
pub fn redact_url(url: &Url) -> String {
    let mut u = url.clone();
    if !u.username().is_empty() {
        let _ = u.set_username("***");
    }
    if u.password().is_some() {
        let _ = u.set_password(Some("***"));
    }
    // Query strings carry tokens too (`?token=…` on some private registries and CDNs).
    if u.query().is_some() {
        u.set_query(Some("***"));
    }
    u.to_string()
}

/// [`redact_url`] for text that may not parse as a URL (a rejected setting): `user:pw@host`
/// without a scheme, or `https://user:pw@` without a host, loses its userinfo too.
pub fn redact_url_text(text: &str) -> String {
    if text.contains("://") {
        if let Ok(u) = Url::parse(text) {
            return redact_url(&u);
        }
    }
    let start = text.find("://").map_or(0, |i| i + 3);
    let end = text[start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| start + i);
    match text[start..end].rfind('@') {
        Some(at) => format!("{}***{}", &text[..start], &text[start + at..]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        RegistryUrl::parse(s).unwrap().as_str().to_string()
    }

    #[test]
    fn registry_urls_are_validated_and_normalised() {
        assert_eq!(
            ok("https://npm.pkg.github.com"),
            "https://npm.pkg.github.com/"
        );
        assert_eq!(
            ok("https://X.jfrog.io:443/artifactory/api/npm/npm-local"),
            "https://x.jfrog.io/artifactory/api/npm/npm-local/"
        );
        assert_eq!(ok(" http://127.0.0.1:4873 "), "http://127.0.0.1:4873/");
        assert_eq!(ok("https://h/r/?q=1#f"), "https://h/r/");
        let err = |s: &str| RegistryUrl::parse(s).unwrap_err();
        assert_eq!(err("registry.example.com"), RegistryUrlError::NoScheme);
        assert_eq!(err("localhost:4873"), RegistryUrlError::NoScheme);
        assert_eq!(err("//x/"), RegistryUrlError::NoScheme);
        assert_eq!(err("ftp://x/"), RegistryUrlError::Scheme("ftp".into()));
        assert!(err("registry.example.com")
            .to_string()
            .contains("has no scheme"));
    }

    #[test]
    fn plain_http_only_on_loopback_or_when_allowed() {
        let p = |s: &str| RegistryUrl::parse(s).unwrap();
        for u in [
            "http://127.0.0.1:4873/",
            "http://LOCALHOST:1/",
            "http://[::1]/",
        ] {
            assert!(p(u).require_secure_transport(false).is_ok(), "{u}");
        }
        let err = p("http://u:pw@registry.example.com/")
            .require_secure_transport(false)
            .unwrap_err();
        assert!(err.contains("plain http") && !err.contains("pw"), "{err}");
        assert!(p("http://registry.example.com")
            .require_secure_transport(true)
            .is_ok());
        assert!(p("https://registry.example.com")
            .require_secure_transport(false)
            .is_ok());
    }

    #[test]
    fn loopback_is_case_insensitive_and_exact() {
        for u in [
            "http://127.0.0.1:4873/",
            "http://localhost/",
            "http://LocalHost/",
            "http://[::1]:1/",
            "http://127.9.9.9/",
        ] {
            assert!(is_loopback(&Url::parse(u).unwrap()), "{u}");
        }
        for u in [
            "http://10.0.0.1/",
            "http://localhost.evil.com/",
            "http://128.0.0.1/",
            "http://[::2]/",
        ] {
            assert!(!is_loopback(&Url::parse(u).unwrap()), "{u}");
        }
    }

    #[test]
    fn redaction_hides_userinfo_and_query_everywhere() {
        let u = Url::parse("https://user:s3cret@host/path?token=abc").unwrap();
        let shown = redact_url(&u);
        assert!(!shown.contains("s3cret") && !shown.contains("abc") && !shown.contains("user"));
        assert_eq!(redact_url_text("https://user:pw@"), "https://***@");
        assert_eq!(redact_url_text("user:pw@host/x"), "***@host/x");
        assert_eq!(
            redact_url_text("registry.example.com"),
            "registry.example.com"
        );
        let r = RegistryUrl::parse("https://tok@host/npm").unwrap();
        for shown in [
            r.to_string(),
            format!("{r:?}"),
            serde_json::to_string(&r).unwrap(),
            r.redacted(),
        ] {
            assert!(!shown.contains("tok"), "{shown}");
        }
    }
}
