//! The integration tests: one binary with a module per area, so cargo links the test code once
//! and runs every area in one process. Shared helpers (the loopback registry, Verdaccio, the
//! binary under test, the real fixtures) live in `support`.

mod support;

mod attestations;
mod body_budget;
mod cache;
mod commands;
mod config_cmd;
mod conformance;
mod content;
mod formats;
mod jfrog;
#[cfg(feature = "live")]
mod live;
mod lock;
mod mcpconfig;
mod npmrc;
mod pep740;
mod policy;
mod private_registry;
mod provenance;
mod pypi;
mod pypiserver;
mod python_content;
mod registry_cmd;
mod registry_server;
mod registry_signatures;
mod rule_fixtures;
mod scan;
mod server;
mod snapshots;
mod tarball;
mod tarball_cache;
mod tree;
mod verdaccio;
mod verdaccio_harness;
mod verify_bundle_cli;
