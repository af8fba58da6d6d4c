//! What `config-check` shows for a package: the registry and the credential npm would use, and
//! where each came from. Credentials appear only as `Bearer ***` / `Basic ***`.

use std::fmt;

use serde::Serialize;

use super::auth::{AuthKeyHint, AuthKind, ClientCert};
use super::layer::ConfigSource;
use super::resolve::Config;
use crate::registry::redact_url;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigExplanation {
    pub package: String,
    /// None when the registry setting is unusable; `registry_error` then says why.
    pub registry: Option<RegistryExplanation>,
    pub registry_error: Option<String>,
    /// The packument URL npm would request (userinfo redacted).
    pub packument_url: Option<String>,
    pub auth: Option<AuthExplanation>,
    /// When no credential applies but one is configured for the same host.
    pub auth_hint: Option<AuthKeyHint>,
    /// A client certificate npm would present; mcp-audit does not support mutual TLS.
    pub client_cert: Option<ClientCert>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegistryExplanation {
    pub url: String,
    pub key: String,
    pub source: ConfigSource,
    pub line: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuthExplanation {
    pub key: String,
    pub kind: AuthKind,
    pub source: ConfigSource,
    pub line: Option<usize>,
    /// `Bearer ***` or `Basic ***`.
    pub header: String,
    pub via_registry_fallback: bool,
    pub warnings: Vec<String>,
}

impl Config {
    /// Which registry and which credential npm would use to fetch `package`'s packument.
    pub fn explain(&self, package: &str) -> ConfigExplanation {
        let mut out = ConfigExplanation {
            package: package.to_string(),
            registry: None,
            registry_error: None,
            packument_url: None,
            auth: None,
            auth_hint: None,
            client_cert: None,
            notes: Vec::new(),
        };
        let registry = match self.registry_for(package) {
            Ok(r) => r,
            Err(e) => {
                out.registry_error = Some(e.to_string());
                return out;
            }
        };
        let packument = registry.packument_url(package);
        out.packument_url = Some(redact_url(&packument));
        if registry.url.scheme() == "http" && !registry.url.is_loopback() {
            out.notes.push(format!(
                "{} uses plain http on a host that is not loopback: credentials and metadata \
                 travel unencrypted",
                registry.key
            ));
        }
        if !registry.url.username().is_empty() || registry.url.password().is_some() {
            out.notes.push(format!(
                "{} has user:password in the URL; npm does not send those, use a nerf-darted \
                 credential key instead",
                registry.key
            ));
        }
        if let Some(auth) = self.auth_for_request(&packument, Some(package)) {
            let scheme = match auth.kind {
                AuthKind::Token => "Bearer",
                AuthKind::Basic | AuthKind::UsernamePassword => "Basic",
            };
            out.auth = Some(AuthExplanation {
                key: auth.key,
                kind: auth.kind,
                source: auth.source,
                line: auth.line,
                header: format!("{scheme} ***"),
                via_registry_fallback: auth.via_registry_fallback,
                warnings: auth.warnings,
            });
        } else {
            out.auth_hint = self.auth_key_hint(&registry.url);
        }
        out.client_cert = self.client_cert_for_url(&packument);
        if out.client_cert.is_some() {
            out.notes.push(
                "a client certificate (certfile/keyfile) is configured for this registry; \
                 mcp-audit does not present client certificates"
                    .into(),
            );
        }
        out.registry = Some(RegistryExplanation {
            url: registry.url.redacted(),
            key: registry.key,
            source: registry.source,
            line: registry.line,
        });
        out
    }
}

fn at(source: &ConfigSource, line: Option<usize>) -> String {
    source.at(line)
}

impl fmt::Display for ConfigExplanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.package)?;
        match (&self.registry, &self.registry_error) {
            (Some(r), _) => writeln!(
                f,
                "  registry: {} ({} from {})",
                r.url,
                r.key,
                at(&r.source, r.line)
            )?,
            (None, Some(e)) => writeln!(f, "  registry: error: {e}")?,
            (None, None) => {}
        }
        match &self.auth {
            Some(a) => {
                let via = if a.via_registry_fallback {
                    ", via the registry's host"
                } else {
                    ""
                };
                writeln!(
                    f,
                    "  auth: {} ({} from {}{via})",
                    a.header,
                    a.key,
                    at(&a.source, a.line)
                )?;
                for w in &a.warnings {
                    writeln!(f, "    warning: {w}")?;
                }
            }
            None if self.registry.is_some() => writeln!(f, "  auth: none")?,
            None => {}
        }
        if let Some(h) = &self.auth_hint {
            writeln!(f, "    hint: {h}")?;
        }
        for n in &self.notes {
            writeln!(f, "  note: {n}")?;
        }
        Ok(())
    }
}
