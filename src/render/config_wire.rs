//! Wire types for the JSON of `mcp-audit config` (schema_version 1), apart from the internal
//! types in [`crate::clients`]: every value read from a config file is a [`Redacted`] here, and
//! only a [`Scrubber`] makes one, so clear text cannot reach the JSON by a forgotten field.
//! Field names and order are the JSON's; docs/output.md documents them.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::clients::{ConfigFileError, Launch, Note, ServerEntry, ServerProblem};
use crate::secrets::{Redacted, Scrubber};

/// A server entry as written, credentials redacted.
#[derive(Debug, Serialize)]
pub struct WireEntry {
    pub name: String,
    pub project: Option<String>,
    pub command: Option<Redacted>,
    pub args: Vec<Redacted>,
    pub env: BTreeMap<String, Redacted>,
    pub url: Option<Redacted>,
    pub transport: Option<String>,
    pub headers: BTreeMap<String, Redacted>,
    pub cwd: Option<Redacted>,
    pub env_file: Option<Redacted>,
    pub disabled: bool,
    pub line: Option<usize>,
}

impl WireEntry {
    pub fn new(e: &ServerEntry, scrub: &Scrubber) -> WireEntry {
        WireEntry {
            name: e.name.clone(),
            project: e.project.clone(),
            command: e.command.as_deref().map(|c| scrub.words(c)),
            args: scrub.args(&e.args),
            env: e
                .env
                .iter()
                .map(|(k, v)| (k.clone(), e.shown_env(scrub, k, v)))
                .collect(),
            url: e.url.as_deref().map(|u| scrub.value(None, u)),
            transport: e.transport.clone(),
            headers: e
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), scrub.value(Some(k), v)))
                .collect(),
            cwd: e.cwd.as_deref().map(|c| scrub.scrub(c)),
            env_file: e.env_file.as_deref().map(|f| scrub.scrub(f)),
            disabled: e.disabled,
            line: e.line,
        }
    }
}

/// What a server starts, externally tagged: `{"npm": {"runner": …}}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WireLaunch {
    Npm {
        runner: String,
        spec: Redacted,
        yes: bool,
        call: Option<Redacted>,
        npm_config: Vec<(Redacted, Redacted)>,
        npm_env: Vec<(Redacted, Redacted)>,
        extra_packages: Vec<Redacted>,
    },
    Node {
        path: Redacted,
    },
    #[serde(rename = "pypi")]
    PyPi {
        runner: String,
        package: Redacted,
    },
    Docker {
        image: Redacted,
    },
    Remote {
        url: Redacted,
        transport: Option<String>,
    },
    Shell {
        command: Redacted,
    },
    Other {
        command: Redacted,
    },
}

impl WireLaunch {
    /// `launch` as [`Launch::redacted`] shows it; wrapping the shown text once more through
    /// `scrub` is what makes it [`Redacted`].
    pub fn new(launch: &Launch, scrub: &Scrubber) -> WireLaunch {
        let r = |v: &str| scrub.scrub(v);
        let pairs = |v: &[(String, String)]| v.iter().map(|(k, v)| (r(k), r(v))).collect();
        match launch.redacted(scrub) {
            Launch::Npm {
                runner,
                spec,
                yes,
                call,
                npm_config,
                npm_env,
                extra_packages,
            } => WireLaunch::Npm {
                runner,
                spec: r(&spec),
                yes,
                call: call.as_deref().map(r),
                npm_config: pairs(&npm_config),
                npm_env: pairs(&npm_env),
                extra_packages: extra_packages.iter().map(|p| r(p)).collect(),
            },
            Launch::Node { path } => WireLaunch::Node { path: r(&path) },
            Launch::PyPi { runner, package } => WireLaunch::PyPi {
                runner,
                package: r(&package),
            },
            Launch::Docker { image } => WireLaunch::Docker { image: r(&image) },
            Launch::Remote { url, transport } => WireLaunch::Remote {
                url: r(&url),
                transport,
            },
            Launch::Shell { command } => WireLaunch::Shell {
                command: r(&command),
            },
            Launch::Other { command } => WireLaunch::Other {
                command: r(&command),
            },
        }
    }
}

/// A file-level note. Messages name fields, never their values.
#[derive(Debug, Serialize)]
pub struct WireNote {
    pub line: Option<usize>,
    pub message: String,
}

impl From<&Note> for WireNote {
    fn from(n: &Note) -> WireNote {
        WireNote {
            line: n.line,
            message: n.message.clone(),
        }
    }
}

/// A server entry, or a field of one, that could not be read.
#[derive(Debug, Serialize)]
pub struct WireProblem {
    pub server: String,
    pub project: Option<String>,
    pub line: Option<usize>,
    pub message: String,
}

impl From<&ServerProblem> for WireProblem {
    fn from(p: &ServerProblem) -> WireProblem {
        WireProblem {
            server: p.server.clone(),
            project: p.project.clone(),
            line: p.line,
            message: p.message.clone(),
        }
    }
}

/// Why a whole file could not be read: `{"kind": "syntax", …}`.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WireFileError {
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    NotAnObject {
        path: String,
        line: usize,
        column: usize,
        found: String,
    },
    Unreadable {
        path: String,
        message: String,
    },
}

impl From<&ConfigFileError> for WireFileError {
    fn from(e: &ConfigFileError) -> WireFileError {
        let path = e.path().display().to_string();
        match e {
            ConfigFileError::Syntax {
                line,
                column,
                message,
                ..
            } => WireFileError::Syntax {
                path,
                line: *line,
                column: *column,
                message: message.clone(),
            },
            ConfigFileError::NotAnObject {
                line,
                column,
                found,
                ..
            } => WireFileError::NotAnObject {
                path,
                line: *line,
                column: *column,
                found: found.clone(),
            },
            ConfigFileError::Unreadable { message, .. } => WireFileError::Unreadable {
                path,
                message: message.clone(),
            },
        }
    }
}
