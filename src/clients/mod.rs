//! MCP client configuration files: discovery, parsing and launch analysis. `crate::pipeline::config`
//! runs `mcp-audit config` on top of it.
//!
//! mcp-audit never starts a server. It reads the files MCP clients read ([`discover`]), finds
//! each server entry in them ([`parse_config`]), works out what the entry would start
//! ([`parse_launch`]) and with which npm configuration ([`npm_layers`]), and derives facts
//! about how risky that launch is ([`launch_risks`]).
//!
//! Only [`discover`] touches the file system, and only to test whether files exist. Everything
//! else is pure: text and maps in, values out.
//!
//! Entries hold credentials in clear text (that is what the risk facts look for). Every type
//! here that can hold one keeps it out of `Debug`; output goes through wire types built from
//! [`crate::secrets::Redacted`] text. See [`crate::secrets`] for what counts as a credential.

mod discover;
mod jfrog;
mod launch;
mod parse;
mod risk;

pub use discover::{
    client_for_path, discover, well_known_paths, Client, KnownConfig, Platform, Scope,
};
pub use jfrog::{jfrog_wrapper, JfrogWrapper, McpName};
pub(crate) use launch::is_python;
pub use launch::{npm_layers, npm_layers_with_env, parse_launch, Launch};
pub use parse::{parse_config, ConfigFileError, Note, ParsedConfig, ServerEntry, ServerProblem};
pub use risk::{launch_risks, LaunchRisks, PlaintextSecret};
