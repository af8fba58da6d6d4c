//! The merged configuration and registry selection.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use url::Url;

use super::layer::{is_secret_key, ConfigSource, Diagnostic, Layer, Severity, DEFAULT_REGISTRY};
use crate::registry::{redact_url_text, RegistryUrl};

/// The value a key ends up with, and where it came from.
#[derive(Clone, PartialEq, Eq)]
pub struct Setting {
    pub key: String,
    pub value: String,
    pub source: ConfigSource,
    pub line: Option<usize>,
}

impl Setting {
    /// "user config /home/me/.npmrc:3", "environment", ...
    pub fn location(&self) -> String {
        self.source.at(self.line)
    }
}

impl fmt::Debug for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value: &str = if is_secret_key(&self.key) {
            "***"
        } else {
            &self.value
        };
        f.debug_struct("Setting")
            .field("key", &self.key)
            .field("value", &value)
            .field("source", &self.source)
            .field("line", &self.line)
            .finish()
    }
}

/// npm configuration merged across layers: each key takes the value of the highest-priority
/// layer that sets it (`@npmcli/config` chains its layers' data objects by prototype, so a
/// lookup stops at the first layer that has the key).
#[derive(Clone, Debug, Default)]
pub struct Config {
    settings: BTreeMap<String, Setting>,
    diagnostics: Vec<Diagnostic>,
}

/// The registry that serves a package, and which setting chose it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResolvedRegistry {
    /// Normalised: scheme and host lower-cased, default port dropped, path ends with `/`.
    /// Path prefixes are kept (`https://x.jfrog.io/artifactory/api/npm/npm-local/`).
    /// Serialised with any userinfo redacted.
    pub url: RegistryUrl,
    /// `registry` or `@scope:registry`.
    pub key: String,
    pub source: ConfigSource,
    pub line: Option<usize>,
}

impl ResolvedRegistry {
    /// The packument URL npm requests: npm-registry-fetch joins the registry without its
    /// trailing slash, `/`, and npm-package-arg's `escapedName` (`@scope%2fname`).
    pub fn packument_url(&self, package: &str) -> Url {
        let escaped = package.replacen('/', "%2f", 1);
        let base = self.url.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}/{escaped}")).unwrap_or_else(|_| self.url.as_url().clone())
    }
}

/// Why no registry could be chosen. Falling back to another registry would risk asking the
/// public registry for a private package name (dependency confusion), so there is no fallback.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("{key} = {value} ({location}) is not a usable registry URL: {reason}")]
    Invalid {
        key: String,
        value: String,
        location: String,
        reason: String,
    },
}

impl Config {
    /// Merge layers. Their order in the vector does not matter: npm's precedence (cli > env >
    /// project > user > global > default) is taken from each layer's source; among layers of
    /// the same kind, a later one wins. Validation findings (invalid registry URLs, legacy
    /// unscoped credentials) are available from [`Config::diagnostics`].
    pub fn from_layers(mut layers: Vec<Layer>) -> Config {
        layers.sort_by_key(|l| l.source.rank());
        let mut settings = BTreeMap::new();
        for layer in &layers {
            for entry in &layer.entries {
                // nopt's `url` validation drops an empty `registry` from its layer, so the
                // next layer down still counts. (An empty `@scope:registry` does shadow: npm
                // then finds it falsy and uses `registry`.)
                if entry.key == "registry" && !is_truthy(&entry.value) {
                    continue;
                }
                settings.insert(
                    entry.key.clone(),
                    Setting {
                        key: entry.key.clone(),
                        value: entry.value.clone(),
                        source: layer.source.clone(),
                        line: entry.line,
                    },
                );
            }
        }
        let mut config = Config {
            settings,
            diagnostics: Vec::new(),
        };
        // npm's ERR_INVALID_AUTH suggests nerf-darting legacy keys to the default registry.
        let default_nerf = config
            .default_registry()
            .ok()
            .map(|r| super::auth::nerf_dart(&r.url));
        let mut diagnostics = Vec::new();
        for layer in &layers {
            for entry in &layer.entries {
                if is_registry_key(&entry.key) && !is_truthy(&entry.value) {
                    // npm treats an empty registry as unset and uses the next one down.
                    diagnostics.push(Diagnostic::new(
                        Severity::Warning,
                        &layer.source,
                        entry.line,
                        format!("{} has no value: ignored", entry.key),
                    ));
                } else if is_registry_key(&entry.key) {
                    if let Err(reason) = RegistryUrl::parse(&entry.value) {
                        diagnostics.push(Diagnostic::new(
                            Severity::Error,
                            &layer.source,
                            entry.line,
                            format!(
                                "{} = {} is rejected: {reason}",
                                entry.key,
                                redact_url_text(&entry.value)
                            ),
                        ));
                    }
                }
                check_legacy_auth(
                    &layer.source,
                    entry,
                    default_nerf.as_deref(),
                    &mut diagnostics,
                );
            }
        }
        config.diagnostics = diagnostics;
        config
    }

    /// Findings from merging: each names its file and line where there is one.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The effective value of `key`. Credential values come back in clear text: use
    /// [`Config::auth_for_url`], whose result redacts itself, for anything that may be printed.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.settings.get(key).map(|s| s.value.as_str())
    }

    /// The effective value of `key` with its origin.
    pub fn setting(&self, key: &str) -> Option<&Setting> {
        self.settings.get(key)
    }

    pub(crate) fn settings(&self) -> impl Iterator<Item = &Setting> {
        self.settings.values()
    }

    /// npm-registry-fetch treats a key as set only when its value is truthy in JavaScript;
    /// npm/ini and `parse-field.js` have already turned `false`, `null` and `undefined` into
    /// falsy non-strings by then.
    pub(crate) fn truthy(&self, key: &str) -> Option<&Setting> {
        self.settings.get(key).filter(|s| is_truthy(&s.value))
    }

    /// The default registry (`registry`).
    pub fn default_registry(&self) -> Result<ResolvedRegistry, RegistryError> {
        self.resolve_registry_key("registry")
    }

    /// The registry npm would ask for `package`, following npm-registry-fetch `pickRegistry`:
    /// the package's own `@scope:registry`; if that is not set, the registry of the `scope`
    /// setting (`--scope`, which npm prefixes with `@`); then `registry`.
    pub fn registry_for(&self, package: &str) -> Result<ResolvedRegistry, RegistryError> {
        if let Some(scope) = package_scope(package) {
            let key = format!("{scope}:registry");
            if self.truthy(&key).is_some() {
                return self.resolve_registry_key(&key);
            }
        }
        if let Some(scope) = self.truthy("scope") {
            let scope = scope.value.trim_start_matches('@');
            let key = format!("@{scope}:registry");
            if self.truthy(&key).is_some() {
                return self.resolve_registry_key(&key);
            }
        }
        self.resolve_registry_key("registry")
    }

    /// The registry npm-registry-fetch's `getAuth` falls back to (`getRegistry` in `auth.js`):
    /// the spec's own scope registry or `registry`, ignoring the `scope` setting.
    pub(crate) fn auth_fallback_registry(&self, package: Option<&str>) -> Option<Url> {
        let scoped = package
            .and_then(package_scope)
            .map(|s| format!("{s}:registry"))
            .and_then(|k| self.truthy(&k));
        let setting = scoped.or_else(|| self.truthy("registry"));
        // The value as written, not normalised: npm compares and walks the raw string, so a
        // registry written without its trailing slash walks up from its parent directory.
        match setting {
            Some(s) => Url::parse(s.value.trim()).ok(),
            None => Url::parse(DEFAULT_REGISTRY).ok(),
        }
    }

    fn resolve_registry_key(&self, key: &str) -> Result<ResolvedRegistry, RegistryError> {
        let Some(setting) = self.truthy(key) else {
            // Only reachable for `registry` when no default layer was given.
            return Ok(ResolvedRegistry {
                url: RegistryUrl::parse(DEFAULT_REGISTRY).expect("default registry URL is valid"),
                key: "registry".into(),
                source: ConfigSource::Default,
                line: None,
            });
        };
        match RegistryUrl::parse(&setting.value) {
            Ok(url) => Ok(ResolvedRegistry {
                url,
                key: key.to_string(),
                source: setting.source.clone(),
                line: setting.line,
            }),
            Err(reason) => Err(RegistryError::Invalid {
                key: key.to_string(),
                value: redact_url_text(&setting.value),
                location: setting.location(),
                reason: reason.to_string(),
            }),
        }
    }
}

/// A top-level `_authToken` & co. is what npm's `Config#validate` reports as ERR_INVALID_AUTH
/// (`npm config fix` renames it to the default registry's nerf-dart). npm-registry-fetch only
/// ever reads nerf-darted keys, so such a key is never sent: it is reported and has no effect.
fn check_legacy_auth(
    source: &ConfigSource,
    entry: &super::layer::Entry,
    default_nerf: Option<&str>,
    out: &mut Vec<Diagnostic>,
) {
    let key = entry.key.as_str();
    let msg = match key {
        "_authtoken" | "-authtoken" => format!(
            "`{key}` is not allowed (npm 9+ reports ERR_INVALID_AUTH): ignored; credentials \
             must be scoped, e.g. //registry.example.com/:_authToken"
        ),
        "_auth" | "_authToken" | "username" | "_password" => format!(
            "`{key}` is not scoped to a registry: npm 9+ never sends it (npm config fix \
             renames it to `{}:{key}`); ignored",
            default_nerf.unwrap_or("//registry.npmjs.org/")
        ),
        "always-auth" => "`always-auth` has had no effect since npm 7.10: npm sends credentials \
                          only to URLs under the credential's nerf-dart"
            .to_string(),
        _ if key.starts_with("//") && key.ends_with(":always-auth") => {
            format!("`{key}` has had no effect since npm 7.10")
        }
        _ => return,
    };
    out.push(Diagnostic::new(Severity::Warning, source, entry.line, msg));
}

fn is_registry_key(key: &str) -> bool {
    key == "registry" || (key.starts_with('@') && key.ends_with(":registry"))
}

pub(crate) fn is_truthy(v: &str) -> bool {
    !matches!(v, "" | "false" | "null" | "undefined")
}

/// `@scope` of `@scope/name`, as npm-package-arg reports it.
pub fn package_scope(package: &str) -> Option<&str> {
    if !package.starts_with('@') {
        return None;
    }
    package.split_once('/').map(|(scope, _)| scope)
}

/// `replace-registry-host` (pacote `lib/remote.js`): npm rewrites a tarball URL onto the
/// configured registry's scheme/host/port when its host is `registry.npmjs.org` (the default,
/// spelled `npmjs`), a configured host name, or any host (`always`); `never` disables it. Only
/// the origin changes: pacote does `new URL(tarball.pathname, registry)`, so the tarball's
/// path is kept whole and its query dropped.
pub fn replace_registry_host(tarball: &Url, registry: &Url, setting: Option<&str>) -> Url {
    let rrh = match setting {
        None | Some("") | Some("npmjs") => "registry.npmjs.org",
        Some(s) => s,
    };
    let host = match (tarball.host_str(), tarball.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => return tarball.clone(),
    };
    if rrh == "never" || (rrh != "always" && rrh != host) {
        return tarball.clone();
    }
    registry
        .join(tarball.path())
        .unwrap_or_else(|_| tarball.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_host_like_pacote() {
        let reg = Url::parse("https://x.jfrog.io/artifactory/api/npm/npm-local/").unwrap();
        let t = Url::parse("https://registry.npmjs.org/a/-/a-1.0.0.tgz?x=1").unwrap();
        assert_eq!(
            replace_registry_host(&t, &reg, None).as_str(),
            "https://x.jfrog.io/a/-/a-1.0.0.tgz"
        );
        assert_eq!(replace_registry_host(&t, &reg, Some("never")), t);
        let other = Url::parse("https://cdn.example/a.tgz").unwrap();
        assert_eq!(replace_registry_host(&other, &reg, None), other);
        assert_eq!(
            replace_registry_host(&other, &reg, Some("always")).as_str(),
            "https://x.jfrog.io/a.tgz"
        );
    }
}
