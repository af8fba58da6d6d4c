//! JFrog's MCP wrappers: an entry that launches `npx … @jfrog/agent-guard --server <ID>` (or
//! the older `@jfrog/mcp-gateway`) runs the MCP its environment names in `_JF_ARGS`
//! (`_JF_MCP_LOADER_ARGS`) as `project=<key>&mcp=<package>`, fetched by the wrapper through
//! the JFrog platform. The shapes, and where each claim comes from, are in docs/design.md
//! ("JFrog wrappers in client configs").
//!
//! This module reads what an entry says; deciding npm or PyPI, when the name alone cannot, is
//! the pipeline's (it asks the registries).

use std::collections::BTreeMap;

use super::launch::Launch;
use crate::secrets::is_reference_only;
use crate::spec::registry_spec;

/// The current wrapper and the variable it reads.
pub const AGENT_GUARD: (&str, &str) = ("@jfrog/agent-guard", "_JF_ARGS");
/// The older one (JFrog's plugins switched to agent-guard in 2026) and its variable.
pub const MCP_GATEWAY: (&str, &str) = ("@jfrog/mcp-gateway", "_JF_MCP_LOADER_ARGS");

/// Longest `_JF_ARGS` read: real ones are under 100 bytes.
const MAX_ARGS_BYTES: usize = 4096;
/// npm's limit for a package name; PyPI names are shorter in practice.
const MAX_NAME: usize = 214;

/// What a wrapper entry says about the MCP it runs. Every string is as written: show it
/// through the entry's scrubber.
#[derive(Clone, PartialEq, Eq)]
pub struct JfrogWrapper {
    /// `@jfrog/agent-guard` or `@jfrog/mcp-gateway`.
    pub wrapper: &'static str,
    /// The variable the arguments were read from (`_JF_ARGS`, `_JF_MCP_LOADER_ARGS`); the one
    /// the wrapper reads when neither is set.
    pub env: &'static str,
    /// `--server <ID>`: a JFrog CLI server id (not a URL, not a secret).
    pub server: Option<String>,
    /// `project=`: the JFrog project key.
    pub project: Option<String>,
    /// `mcp=`: the package name (or, for a remote MCP, the catalog name).
    pub mcp: Option<String>,
    /// The other keys of the arguments, names only: their values may be credentials.
    pub other_keys: Vec<String>,
    /// What the name alone says about its ecosystem.
    pub kind: McpName,
    /// Why the MCP cannot be known from the entry, when it cannot.
    pub problem: Option<String>,
}

/// What an `mcp=` value is, from its shape alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum McpName {
    /// `@scope/name`, or a spec with an npm version (`name@1.2.3`): only npm has such names.
    Npm,
    /// An unscoped name both npm and PyPI allow (and a remote MCP's catalog name may have).
    Either,
    /// A reverse-DNS MCP Registry name (`com.notion/mcp`): what the JFrog catalog names a
    /// remote MCP by; no package.
    CatalogName,
    /// Nothing was read (see `problem`).
    Unknown,
}

/// The wrapper only: the fields may hold credentials; output goes through wire types.
impl std::fmt::Debug for JfrogWrapper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JfrogWrapper({})", self.wrapper)
    }
}

impl McpName {
    /// `npm`, `npm-or-pypi`, `catalog-name`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            McpName::Npm => "npm",
            McpName::Either => "npm-or-pypi",
            McpName::CatalogName => "catalog-name",
            McpName::Unknown => "unknown",
        }
    }
}

/// The JFrog wrapper `launch` runs, with what the entry's `env` tells about the MCP it loads;
/// `None` when the launch is not one. `args` are the entry's arguments (for `--server`).
pub fn jfrog_wrapper(
    launch: &Launch,
    args: &[String],
    env: &BTreeMap<String, String>,
) -> Option<JfrogWrapper> {
    let Launch::Npm { spec, .. } = launch else {
        return None;
    };
    let name = registry_spec(spec).ok()?.name;
    let (wrapper, var) = [AGENT_GUARD, MCP_GATEWAY]
        .into_iter()
        .find(|(w, _)| *w == name)?;
    let mut out = JfrogWrapper {
        wrapper,
        env: var,
        server: server_flag(args, wrapper),
        project: None,
        mcp: None,
        other_keys: Vec::new(),
        kind: McpName::Unknown,
        problem: None,
    };
    // The wrapper's own variable, else the other wrapper's: entries moved from mcp-gateway
    // to agent-guard may keep the old name (said in `env`).
    let other = if var == AGENT_GUARD.1 {
        MCP_GATEWAY.1
    } else {
        AGENT_GUARD.1
    };
    let (used, value) = match (env.get(var), env.get(other)) {
        (Some(v), _) => (var, v),
        (None, Some(v)) => (other, v),
        (None, None) => {
            out.problem = Some(format!(
                "the entry's env sets no `{var}`: which MCP {wrapper} loads cannot be read from the config"
            ));
            return Some(out);
        }
    };
    out.env = used;
    if let Err(problem) = read_args(value, used, &mut out) {
        out.problem = Some(problem);
    }
    Some(out)
}

/// `--server ID` / `--server=ID` after the wrapper's package word.
fn server_flag(args: &[String], wrapper: &str) -> Option<String> {
    let at = args
        .iter()
        .position(|a| registry_spec(a).is_ok_and(|s| s.name == wrapper))?;
    let rest = &args[at + 1..];
    rest.iter().enumerate().find_map(|(i, a)| match a.as_str() {
        "--server" => rest.get(i + 1).cloned(),
        _ => a.strip_prefix("--server=").map(str::to_string),
    })
}

/// Reads `project=…&mcp=…` as the wrapper's query-string parsing does (`URLSearchParams`:
/// `+` is a space, `%XX` decoded, the first of repeated keys wins).
fn read_args(value: &str, var: &str, out: &mut JfrogWrapper) -> Result<(), String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(format!("`{var}` is empty: it names no MCP"));
    }
    if v.len() > MAX_ARGS_BYTES {
        return Err(format!(
            "`{var}` is {} bytes, over the {MAX_ARGS_BYTES}-byte limit: not read",
            v.len()
        ));
    }
    if is_reference_only(v) {
        return Err(format!(
            "`{var}` is a reference the client fills in at start: which MCP it names cannot be read from the config"
        ));
    }
    let mut mcp_count = 0;
    for (k, val) in url::form_urlencoded::parse(v.as_bytes()) {
        match k.as_ref() {
            "project" if out.project.is_none() => out.project = Some(val.into_owned()),
            "mcp" => {
                mcp_count += 1;
                if out.mcp.is_none() {
                    out.mcp = Some(val.into_owned());
                }
            }
            "project" => {}
            other => {
                if !out.other_keys.iter().any(|o| o == other) && out.other_keys.len() < 32 {
                    out.other_keys.push(other.chars().take(64).collect());
                }
            }
        }
    }
    let Some(mcp) = out.mcp.clone() else {
        return Err(format!(
            "`{var}` has no `mcp=` key (it is not `project=…&mcp=<package>`): which MCP the wrapper loads cannot be known"
        ));
    };
    if mcp_count > 1 {
        // Not an error: the wrapper reads the first; but the file says two things.
        out.other_keys
            .push("mcp (repeated: the first is read)".into());
    }
    out.kind = classify(&mcp)?;
    Ok(())
}

/// What `mcp=` names, from its shape: only npm names start with `@` or carry `@version`;
/// a `/` without `@` is a reverse-DNS MCP Registry name; anything else may be npm or PyPI.
fn classify(mcp: &str) -> Result<McpName, String> {
    let m = mcp.trim();
    if m.is_empty() {
        return Err("`mcp=` is empty: it names no MCP".into());
    }
    if m.len() > MAX_NAME || m.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(
            "`mcp=` is not a package name (too long, or spaces or control characters)".into(),
        );
    }
    if m.contains('@') {
        return registry_spec(m)
            .map(|_| McpName::Npm)
            .map_err(|e| format!("`mcp=`: {e}"));
    }
    if m.contains('/') {
        return Ok(McpName::CatalogName);
    }
    let pypi_ok = m
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && m.starts_with(|c: char| c.is_ascii_alphanumeric())
        && m.ends_with(|c: char| c.is_ascii_alphanumeric());
    if pypi_ok || registry_spec(m).is_ok() {
        Ok(McpName::Either)
    } else {
        Err("`mcp=` is neither an npm nor a PyPI package name".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::{parse_launch, ServerEntry};

    fn entry(args: &[&str], env: &[(&str, &str)]) -> ServerEntry {
        ServerEntry {
            name: "s".into(),
            command: Some("npx".into()),
            args: args.iter().map(|s| s.to_string()).collect(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..ServerEntry::default()
        }
    }

    fn wrapper(e: &ServerEntry) -> Option<JfrogWrapper> {
        jfrog_wrapper(&parse_launch(e), &e.args, &e.env)
    }

    const REG: &str = "https://releases.jfrog.io/artifactory/api/npm/coding-agents-npm/";

    #[test]
    fn agent_guard_entries_as_jfrogs_plugins_write_them() {
        let e = entry(
            &[
                "--yes",
                "--registry",
                REG,
                "@jfrog/agent-guard",
                "--server",
                "acme",
            ],
            &[
                (
                    "_JF_ARGS",
                    "project=tools&mcp=@modelcontextprotocol/server-github",
                ),
                ("GITHUB_TOKEN", "${input:gh-token}"),
            ],
        );
        let w = wrapper(&e).unwrap();
        assert_eq!(w.wrapper, "@jfrog/agent-guard");
        assert_eq!(w.env, "_JF_ARGS");
        assert_eq!(w.server.as_deref(), Some("acme"));
        assert_eq!(w.project.as_deref(), Some("tools"));
        assert_eq!(
            w.mcp.as_deref(),
            Some("@modelcontextprotocol/server-github")
        );
        assert_eq!((w.kind, w.problem), (McpName::Npm, None));
    }

    #[test]
    fn the_older_gateway_and_its_variable() {
        let e = entry(
            &[
                "--registry",
                REG,
                "@jfrog/mcp-gateway",
                "--loader",
                "--server=acme",
            ],
            &[(
                "_JF_MCP_LOADER_ARGS",
                "project=p&mcp=mcp-server-fetch&x=1&mcp=other",
            )],
        );
        let w = wrapper(&e).unwrap();
        assert_eq!((w.wrapper, w.env), MCP_GATEWAY);
        assert_eq!(w.server.as_deref(), Some("acme"));
        assert_eq!(w.mcp.as_deref(), Some("mcp-server-fetch"));
        assert_eq!(w.kind, McpName::Either);
        assert_eq!(w.other_keys, ["x", "mcp (repeated: the first is read)"]);
    }

    #[test]
    fn names_by_shape() {
        assert_eq!(classify("@a/b"), Ok(McpName::Npm));
        assert_eq!(classify("pkg@1.2.3"), Ok(McpName::Npm));
        assert_eq!(classify("com.notion/mcp"), Ok(McpName::CatalogName));
        assert_eq!(classify("Mcp_Server.x"), Ok(McpName::Either));
        assert_eq!(classify("coralogixDemo"), Ok(McpName::Either));
        // Hostile values name no path or URL to fetch: at most a catalog name, never scanned.
        assert_eq!(classify("../../etc/passwd"), Ok(McpName::CatalogName));
        assert_eq!(classify("https://evil.example/x"), Ok(McpName::CatalogName));
        assert!(classify("@a/../b").is_err());
        assert!(classify("x@https://evil.example/y.tgz").is_err());
        for bad in ["", "a b", "@", "@/x", "é"] {
            assert!(classify(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn what_cannot_be_read_is_said() {
        let problem = |env: &[(&str, &str)]| {
            wrapper(&entry(&["-y", "@jfrog/agent-guard@1.2.0"], env))
                .unwrap()
                .problem
                .unwrap()
        };
        assert!(problem(&[]).contains("sets no `_JF_ARGS`"));
        assert!(problem(&[("_JF_ARGS", "")]).contains("empty"));
        assert!(problem(&[("_JF_ARGS", "project=p")]).contains("no `mcp=`"));
        assert!(problem(&[("_JF_ARGS", "@scope/pkg")]).contains("no `mcp=`"));
        assert!(problem(&[("_JF_ARGS", "mcp=")]).contains("empty"));
        assert!(problem(&[("_JF_ARGS", "${input:jf}")]).contains("reference"));
        assert!(problem(&[("_JF_ARGS", &"a".repeat(5000))]).contains("limit"));
        assert!(problem(&[("_JF_ARGS", "mcp=%00bad")]).contains("control"));
        // The old variable on the new wrapper is read, and said.
        let w = wrapper(&entry(
            &["@jfrog/agent-guard"],
            &[("_JF_MCP_LOADER_ARGS", "mcp=@a/b")],
        ))
        .unwrap();
        assert_eq!((w.env, w.problem), ("_JF_MCP_LOADER_ARGS", None));
        // Not a wrapper.
        assert!(wrapper(&entry(&["-y", "@jfrog/other"], &[("_JF_ARGS", "mcp=x")])).is_none());
        assert!(wrapper(&entry(&["-y", "jfrog-agent-guard"], &[])).is_none());
    }
}
