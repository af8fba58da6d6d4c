//! npm-compatible configuration (.npmrc, npm_config_* environment, CLI flags) and auth resolution.
//!
//! The aim is to ask the registry npm would ask, with the credential npm would send, so that
//! mcp-audit checks what `npm install` would install. Each rule names the npm source it follows:
//! `@npmcli/config` (`workspaces/config/lib/{index,env-replace,nerf-dart,parse-field}.js` in
//! npm/cli), npm/ini `lib/ini.js`, npm-registry-fetch `lib/{auth,index,default-opts}.js`, and
//! pacote `lib/remote.js`.
//!
//! Shape: [`discover`] is the only function that does I/O (it reads files; the environment is a
//! map passed in). It yields [`Layer`]s, which [`Config::from_layers`] merges without I/O. Every
//! lookup after that ([`Config::registry_for`], [`Config::auth_for_request`],
//! [`Config::auth_key_hint`], [`Config::explain`]) is pure.
//!
//! Credentials only leave this module inside [`Secret`], which prints as `***`.

mod auth;
mod discover;
mod explain;
mod layer;
mod resolve;

pub use auth::{
    nerf_dart, reg_key_candidates, AuthKeyHint, AuthKind, ClientCert, ResolvedAuth, Secret,
};
pub use discover::{discover, discover_files, ConfigFile, Discovery};
pub use explain::{AuthExplanation, ConfigExplanation, RegistryExplanation};
pub use layer::{
    env_setting_key, expand_env, ConfigSource, Diagnostic, Entry, Expanded, Layer, Severity,
    DEFAULT_REGISTRY,
};
pub use resolve::{
    package_scope, replace_registry_host, Config, RegistryError, ResolvedRegistry, Setting,
};
