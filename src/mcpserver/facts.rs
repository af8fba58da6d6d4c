//! `ServerJsonFacts`: what the `server-*` rules look at for one `server.json`.
//!
//! A third facts document beside the package and launch ones, for the same reason launch facts
//! are apart: a server description is neither a published package nor a client config line.
//! Rule validation keeps rules that read `serverjson.*` on this document only. Every string in
//! it is redacted, so the document goes to JSON output as it is.

use serde::{Deserialize, Serialize};

use super::{Input, Package, ServerJson};
use crate::facts::{Fact, FACTS_SCHEMA};
use crate::secrets::{redact, scan_value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerJsonFacts {
    pub schema: u32,
    pub serverjson: ServerJsonSection,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerJsonSection {
    /// The file, as given.
    pub file: String,
    /// `name` as written; empty when missing.
    pub name: String,
    /// `2025-07-09` … `2025-12-11`, `draft`, `unknown` or `none`.
    pub schema_version: String,
    pub schema_problems: Vec<String>,
    pub schema_problem_count: u64,
    /// Versions that do not name one release: `latest`, ranges, unexpanded templates, a
    /// missing package version, an image without tag or digest.
    pub unpinned_versions: Vec<String>,
    pub unpinned_version_count: u64,
    /// mcpb packages whose `fileSha256` is missing or not 64 hex digits.
    pub bad_file_hashes: Vec<String>,
    pub bad_file_hash_count: u64,
    /// Remote and package transport URLs over plain `http://` to a host that is not loopback.
    pub insecure_urls: Vec<String>,
    pub insecure_url_count: u64,
    /// Literal credentials in `value`/`default` of headers, arguments and variables:
    /// `remotes[0].headers.Authorization (GitHub token, ghp_***)`.
    pub plaintext_secrets: Vec<String>,
    pub plaintext_secret_count: u64,
    /// Environment variables named like a credential but not marked `isSecret`.
    pub unmarked_secret_variables: Vec<String>,
    pub unmarked_secret_variable_count: u64,
    /// `<owner>` of an `io.github.<owner>/…` name.
    pub namespace_owner: Option<String>,
    /// The GitHub owner of `repository.url`.
    pub repository_owner: Option<String>,
    /// Whether the two are the same account. Unknown without both.
    pub namespace_matches_repository: Fact<bool>,
    /// Whether the npm `mcpName` / PyPI `mcp-name:` of the packages names this server. Needs the
    /// packages themselves.
    pub package_names_server: Fact<bool>,
    /// The `mcpName` / `mcp-name:` of each scanned package that declares one:
    /// `npm @scope/pkg: io.github.owner/name`.
    #[serde(default)]
    pub package_mcp_names: Vec<String>,
    /// The verified provenance repositories of the scanned packages.
    #[serde(default)]
    pub provenance_repositories: Vec<String>,
    /// Whether `repository.url` is the repository every verified provenance names. Unknown
    /// without a repository or without a package whose provenance verified.
    #[serde(default = "unknown_default")]
    pub repository_matches_provenance: Fact<bool>,
    /// The registry's lifecycle status of this version (`active`, `deprecated`, `deleted`);
    /// `null` for a file, which no registry has judged.
    #[serde(default)]
    pub registry_status: Option<String>,
    #[serde(default)]
    pub registry_status_message: Option<String>,
}

fn unknown_default() -> Fact<bool> {
    Fact::unknown("not derived")
}

/// What only the packages can tell about a server's identity. [`PackageIdentity::not_scanned`]
/// when they were not fetched.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageIdentity {
    pub package_names_server: Fact<bool>,
    pub package_mcp_names: Vec<String>,
    pub provenance_repositories: Vec<String>,
    pub repository_matches_provenance: Fact<bool>,
}

impl PackageIdentity {
    /// Everything unknown, for `reason` (the packages were not fetched).
    pub fn not_scanned(s: &ServerJson, reason: &str) -> PackageIdentity {
        let has_named_packages = s
            .packages
            .iter()
            .any(|p| matches!(p.registry_type.as_deref(), Some("npm" | "pypi")));
        let (names, provenance) = if has_named_packages {
            (
                Fact::unknown(format!("needs the npm or PyPI package: {reason}")),
                Fact::unknown(format!("needs the packages' verified provenance: {reason}")),
            )
        } else {
            (
                Fact::unknown("no npm or PyPI package declares which server it is"),
                Fact::unknown("no npm package with build provenance is listed"),
            )
        };
        PackageIdentity {
            package_names_server: names,
            package_mcp_names: Vec::new(),
            provenance_repositories: Vec::new(),
            repository_matches_provenance: provenance,
        }
    }
}

/// The facts of one parsed `server.json`. `scanned` says whether its packages were fetched;
/// without them, what only a package can tell is unknown, with that reason.
pub fn server_facts(file: &str, s: &ServerJson, package_reason: &str) -> ServerJsonFacts {
    server_facts_with(file, s, PackageIdentity::not_scanned(s, package_reason))
}

/// [`server_facts`] with what the scanned packages said about the server's identity.
pub fn server_facts_with(file: &str, s: &ServerJson, identity: PackageIdentity) -> ServerJsonFacts {
    let mut unpinned = Vec::new();
    if let Some(v) = &s.version {
        if let Some(why) = inexact(v) {
            unpinned.push(format!("version `{}`: {why}", shown(v)));
        }
    }
    let mut hashes = Vec::new();
    let mut insecure = Vec::new();
    let mut secrets = Vec::new();
    let mut unmarked = Vec::new();
    for (i, p) in s.packages.iter().enumerate() {
        let at = format!("packages[{i}]");
        if let Some(why) = package_unpinned(p) {
            unpinned.push(format!("{at} {}: {why}", package_label(p)));
        }
        if p.registry_type.as_deref() == Some("mcpb") {
            match &p.file_sha256 {
                None => hashes.push(format!("{at}.fileSha256: missing")),
                Some(h) if !is_sha256(h) => {
                    hashes.push(format!("{at}.fileSha256 `{}`: not 64 hex digits", shown(h)))
                }
                Some(_) => {}
            }
        }
        if let Some(u) = &p.transport_url {
            if insecure_url(u) {
                insecure.push(format!("{at}.transport.url {}", shown(u)));
            }
        }
        for (list, inputs) in [
            ("runtimeArguments", &p.runtime_arguments),
            ("packageArguments", &p.package_arguments),
            ("environmentVariables", &p.environment_variables),
        ] {
            secrets.extend(literal_secrets(&format!("{at}.{list}"), inputs));
        }
        for v in &p.environment_variables {
            if let Some(n) = &v.name {
                if secret_named(n) && !v.is_secret {
                    unmarked.push(format!("{at}.environmentVariables {}", shown(n)));
                }
            }
        }
    }
    for (i, r) in s.remotes.iter().enumerate() {
        let at = format!("remotes[{i}]");
        if let Some(u) = &r.url {
            if insecure_url(u) {
                insecure.push(format!("{at}.url {}", shown(u)));
            }
        }
        secrets.extend(literal_secrets(&format!("{at}.headers"), &r.headers));
    }
    let namespace_owner = s.name.as_deref().and_then(github_namespace_owner);
    let repository_owner = s.repository_url.as_deref().and_then(github_repo_owner);
    let namespace_matches_repository = match (&namespace_owner, &repository_owner) {
        (Some(n), Some(r)) => Fact::Known(n.eq_ignore_ascii_case(r)),
        (None, _) => Fact::unknown("the name is not in an `io.github.<owner>` namespace"),
        (Some(_), None) if s.repository_url.is_none() => {
            Fact::unknown("the file names no repository")
        }
        (Some(_), None) => Fact::unknown("the repository is not a GitHub repository"),
    };
    let meta = s.registry.as_ref();
    ServerJsonFacts {
        schema: FACTS_SCHEMA,
        serverjson: ServerJsonSection {
            file: file.to_string(),
            name: s.name.as_deref().map(shown).unwrap_or_default(),
            schema_version: s.schema_version.label(),
            schema_problem_count: s.problems.len() as u64,
            schema_problems: s.problems.iter().map(|p| shown(p)).collect(),
            unpinned_version_count: unpinned.len() as u64,
            unpinned_versions: unpinned,
            bad_file_hash_count: hashes.len() as u64,
            bad_file_hashes: hashes,
            insecure_url_count: insecure.len() as u64,
            insecure_urls: insecure,
            plaintext_secret_count: secrets.len() as u64,
            plaintext_secrets: secrets,
            unmarked_secret_variable_count: unmarked.len() as u64,
            unmarked_secret_variables: unmarked,
            namespace_owner,
            repository_owner,
            namespace_matches_repository,
            package_names_server: identity.package_names_server,
            package_mcp_names: identity.package_mcp_names,
            provenance_repositories: identity.provenance_repositories,
            repository_matches_provenance: identity.repository_matches_provenance,
            registry_status: meta.and_then(|m| m.status.as_deref()).map(shown),
            registry_status_message: meta.and_then(|m| m.status_message.as_deref()).map(shown),
        },
    }
}

/// Text from the file, with any credential in it redacted: problems and versions quote the
/// file, and the file may hold a token anywhere.
pub(super) fn shown(text: &str) -> String {
    let hits = scan_value(None, text);
    if hits.is_empty() {
        return text.to_string();
    }
    let mut out = String::new();
    let mut last = 0;
    for h in hits {
        out.push_str(&text[last..h.range.start]);
        out.push_str(&redact(&text[h.range.clone()]));
        last = h.range.end;
    }
    out.push_str(&text[last..]);
    out
}

fn package_label(p: &Package) -> String {
    format!(
        "{} {}",
        p.registry_type.as_deref().unwrap_or("?"),
        shown(p.identifier.as_deref().unwrap_or("?"))
    )
}

/// Why a version string does not name exactly one release, if it does not.
pub fn inexact(v: &str) -> Option<&'static str> {
    let t = v.trim();
    if t.is_empty() {
        return Some("empty");
    }
    if t.contains("$(") || t.contains("${") || t.contains("{{") || t.contains("<<") {
        return Some("an unexpanded template");
    }
    let lower = t.to_ascii_lowercase();
    if matches!(lower.as_str(), "latest" | "next" | "stable" | "*" | "x") {
        return Some("a moving tag");
    }
    if t.starts_with(['^', '~', '>', '<', '=', '!'])
        || t.contains("||")
        || t.contains(' ')
        || t.contains(',')
        || t.split('.').any(|part| matches!(part, "x" | "X" | "*"))
    {
        return Some("a range");
    }
    None
}

/// Why a package entry does not pin what is installed, if it does not.
fn package_unpinned(p: &Package) -> Option<String> {
    if let Some(v) = &p.version {
        return inexact(v).map(|why| format!("version `{}`: {why}", shown(v)));
    }
    match p.registry_type.as_deref() {
        // An image pins itself by tag or digest in `identifier` (2025-10-11 and later).
        Some("oci") => {
            let id = p.identifier.as_deref().unwrap_or_default();
            if id.contains("@sha256:") {
                return None;
            }
            let last = id.rsplit('/').next().unwrap_or(id);
            match last.split_once(':') {
                None => Some("no version, and the image has no tag or digest".into()),
                Some((_, tag)) => {
                    inexact(tag).map(|why| format!("image tag `{}`: {why}", shown(tag)))
                }
            }
        }
        // The file is pinned by its hash (judged by its own rule).
        Some("mcpb") => None,
        _ => Some("no version: the newest release is installed".into()),
    }
}

fn is_sha256(h: &str) -> bool {
    h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Plain HTTP to a host that is not loopback. Template variables (`{port}`, `{host}`) are
/// allowed: a `{host}` could be anything, so only a literal loopback host is exempt.
fn insecure_url(raw: &str) -> bool {
    let t = raw.trim();
    let Some(rest) = t
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("http://"))
        .map(|_| &t[7..])
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    let host = host.to_ascii_lowercase();
    let loopback = host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    !loopback
}

/// `*_TOKEN`, `*_KEY`, `*SECRET*`, `*PASSWORD*`, `*_PAT`.
fn secret_named(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    n.ends_with("_TOKEN")
        || n == "TOKEN"
        || n.ends_with("_KEY")
        || n.contains("SECRET")
        || n.contains("PASSWORD")
        || n.ends_with("_PAT")
}

/// Literal credentials in the values of `inputs`. `{name}` placeholders are the registry's
/// own variables, filled in at install time, so they are blanked before the scan.
fn literal_secrets(at: &str, inputs: &[Input]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let label = match &input.name {
            Some(n) => format!("{at}.{}", shown(n)),
            None => format!("{at}[{i}]"),
        };
        for (field, value) in [("value", &input.value), ("default", &input.default)] {
            let Some(value) = value else { continue };
            let blank = blank_placeholders(value);
            for h in scan_value(input.name.as_deref(), &blank) {
                out.push(format!(
                    "{label} {field} ({}, {})",
                    h.kind,
                    redact(&blank[h.range])
                ));
            }
        }
    }
    out
}

/// `Bearer {token}` → `Bearer        `: same length, so ranges still index the original.
fn blank_placeholders(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut depth = 0usize;
    for c in value.chars() {
        if c == '{' {
            depth += 1;
        }
        if depth > 0 {
            out.extend(std::iter::repeat_n(' ', c.len_utf8()));
        } else {
            out.push(c);
        }
        if c == '}' && depth > 0 {
            depth -= 1;
        }
    }
    out
}

/// `io.github.octo-org/server` → `octo-org`.
fn github_namespace_owner(name: &str) -> Option<String> {
    let (ns, _) = name.split_once('/')?;
    let lower = ns.to_ascii_lowercase();
    let owner = lower.strip_prefix("io.github.")?;
    (!owner.is_empty()).then(|| owner.to_string())
}

/// The owner in `https://github.com/<owner>/<repo>` (also `git+https`, `.git`, `www.`).
fn github_repo_owner(url: &str) -> Option<String> {
    let lower = url.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("git+")
        .unwrap_or(&lower)
        .split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(&lower);
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    let path = rest.strip_prefix("github.com/")?;
    let owner = path.split('/').next()?;
    (!owner.is_empty()).then(|| owner.to_string())
}

impl ServerJsonFacts {
    /// A server description on which every `server-*` rule passes, every optional filled, so
    /// the catalogue of fact paths can be read off it.
    pub fn example() -> ServerJsonFacts {
        ServerJsonFacts {
            schema: FACTS_SCHEMA,
            serverjson: ServerJsonSection {
                file: "server.json".into(),
                name: "io.github.example/example-mcp-server".into(),
                schema_version: "2025-12-11".into(),
                schema_problems: vec![],
                schema_problem_count: 0,
                unpinned_versions: vec![],
                unpinned_version_count: 0,
                bad_file_hashes: vec![],
                bad_file_hash_count: 0,
                insecure_urls: vec![],
                insecure_url_count: 0,
                plaintext_secrets: vec![],
                plaintext_secret_count: 0,
                unmarked_secret_variables: vec![],
                unmarked_secret_variable_count: 0,
                namespace_owner: Some("example".into()),
                repository_owner: Some("example".into()),
                namespace_matches_repository: Fact::Known(true),
                package_names_server: Fact::Known(true),
                package_mcp_names: vec![
                    "npm example-mcp-server: io.github.example/example-mcp-server".into(),
                ],
                provenance_repositories: vec![
                    "https://github.com/example/example-mcp-server".into()
                ],
                repository_matches_provenance: Fact::Known(true),
                registry_status: Some("active".into()),
                registry_status_message: Some("".into()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        for v in [
            "latest",
            "^1.2.0",
            "~1.2",
            ">=1",
            "1.x",
            "$(PackageVersion)",
            "{{VERSION}}",
            "<<Version>>",
            "1 - 2",
        ] {
            assert!(inexact(v).is_some(), "{v}");
        }
        for v in ["1.2.3", "0.1.0-beta.1", "2025.10.1", "1.0.0+build.5"] {
            assert!(inexact(v).is_none(), "{v}");
        }
    }

    #[test]
    fn urls() {
        assert!(insecure_url("http://mcp.example.com/mcp"));
        assert!(insecure_url("HTTP://{host}:8080/mcp"));
        assert!(!insecure_url("http://localhost:{port}/mcp"));
        assert!(!insecure_url("http://127.0.0.1:3000/sse"));
        assert!(!insecure_url("http://[::1]:3000/sse"));
        assert!(!insecure_url("https://mcp.example.com/mcp"));
    }

    #[test]
    fn owners() {
        assert_eq!(
            github_namespace_owner("io.github.Octo/x").as_deref(),
            Some("octo")
        );
        assert_eq!(github_namespace_owner("com.microsoft/x"), None);
        assert_eq!(
            github_repo_owner("git+https://github.com/Octo/x.git").as_deref(),
            Some("octo")
        );
        assert_eq!(github_repo_owner("https://gitlab.com/octo/x"), None);
    }

    #[test]
    fn placeholders_are_not_literals_and_evidence_is_redacted() {
        let token = "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
        let inputs = vec![
            Input {
                name: Some("Authorization".into()),
                value: Some("Bearer {github_token}".into()),
                ..Input::default()
            },
            Input {
                name: Some("X-Token".into()),
                value: Some(format!("Bearer {token}")),
                ..Input::default()
            },
        ];
        let found = literal_secrets("remotes[0].headers", &inputs);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("remotes[0].headers.X-Token value"),
            "{found:?}"
        );
        assert!(!found[0].contains(token));
    }
}
