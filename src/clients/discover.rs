//! Where each MCP client keeps its configuration. [`well_known_paths`] is pure (home, project
//! directory and environment are passed in, so tests never see the real machine); only
//! [`discover`] looks at the file system, and only to test whether each file exists.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// An MCP client whose configuration format mcp-audit reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Client {
    ClaudeDesktop,
    ClaudeCode,
    Cursor,
    #[serde(rename = "vscode")]
    VsCode,
    Windsurf,
    Gemini,
}

impl Client {
    pub const ALL: [Client; 6] = [
        Client::ClaudeDesktop,
        Client::ClaudeCode,
        Client::Cursor,
        Client::VsCode,
        Client::Windsurf,
        Client::Gemini,
    ];

    /// The product's own name, for messages.
    pub fn display_name(self) -> &'static str {
        match self {
            Client::ClaudeDesktop => "Claude Desktop",
            Client::ClaudeCode => "Claude Code",
            Client::Cursor => "Cursor",
            Client::VsCode => "VS Code",
            Client::Windsurf => "Windsurf",
            Client::Gemini => "Gemini CLI",
        }
    }

    /// The `--client` spelling (`claude-desktop`, `vscode`...).
    pub fn id(self) -> &'static str {
        match self {
            Client::ClaudeDesktop => "claude-desktop",
            Client::ClaudeCode => "claude-code",
            Client::Cursor => "cursor",
            Client::VsCode => "vscode",
            Client::Windsurf => "windsurf",
            Client::Gemini => "gemini",
        }
    }

    /// Parse an id as [`Client::id`] prints it; `vscode` and `claude` are accepted too.
    pub fn from_id(id: &str) -> Option<Client> {
        let id = id.to_ascii_lowercase();
        Client::ALL
            .into_iter()
            .find(|c| c.id() == id)
            .or(match id.as_str() {
                "vs-code" | "code" => Some(Client::VsCode),
                "claude" => Some(Client::ClaudeDesktop),
                "claudecode" => Some(Client::ClaudeCode),
                _ => None,
            })
    }

    /// Clients that read their file with plain `JSON.parse`, so comments or trailing commas make
    /// them reject the whole file. VS Code (and Cursor, its fork) use a JSONC parser, and Gemini
    /// CLI strips comments first; Windsurf's reader is not documented, so it gets no warning.
    pub(crate) fn strict_json(self) -> bool {
        matches!(self, Client::ClaudeDesktop | Client::ClaudeCode)
    }
}

impl fmt::Display for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// The operating system whose path conventions apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    MacOs,
    Windows,
    Linux,
}

impl Platform {
    /// The platform mcp-audit was built for. BSDs follow the Linux (XDG) layout, as Electron
    /// and VS Code do there.
    pub fn current() -> Platform {
        if cfg!(target_os = "macos") {
            Platform::MacOs
        } else if cfg!(windows) {
            Platform::Windows
        } else {
            Platform::Linux
        }
    }
}

/// Whether a config applies to every project of the user or to one project.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    User,
    Project,
}

/// A config file a client would read, whether or not it exists.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct KnownConfig {
    pub client: Client,
    pub path: PathBuf,
    pub scope: Scope,
}

/// Every file the supported clients read for `home` and the project directory `cwd`.
///
/// * Claude Desktop: `claude_desktop_config.json` in Electron's `appData/Claude`: macOS
///   `~/Library/Application Support/Claude/`, Windows `%APPDATA%\Claude\` (default
///   `~\AppData\Roaming`), Linux `$XDG_CONFIG_HOME/Claude/` (default `~/.config`).
/// * Claude Code: `~/.claude.json` (user servers at `mcpServers`, per-project "local" servers at
///   `projects.<path>.mcpServers`; `$CLAUDE_CONFIG_DIR/.claude.json` when that is set) and the
///   project's `.mcp.json`.
/// * Cursor: `~/.cursor/mcp.json` and `<project>/.cursor/mcp.json`.
/// * VS Code: `<project>/.vscode/mcp.json` (`servers`); the user profile's `mcp.json` (VS Code
///   1.102 moved user servers there) and `settings.json` (`mcp.servers`, where older versions
///   kept them), in `~/Library/Application Support/Code/User/`, `%APPDATA%\Code\User\` or
///   `$XDG_CONFIG_HOME/Code/User/`.
/// * Windsurf: `~/.codeium/windsurf/mcp_config.json`.
/// * Gemini CLI: `~/.gemini/settings.json` and `<project>/.gemini/settings.json`.
///
/// When `cwd` is `home`, a project path can be the user path (`~/.cursor/mcp.json`); it is then
/// listed once, as the user's.
pub fn well_known_paths(
    home: &Path,
    cwd: &Path,
    platform: Platform,
    env: &HashMap<String, String>,
) -> Vec<KnownConfig> {
    let app_data = app_data_dir(home, platform, env);
    let claude_code_user = env
        .get("CLAUDE_CONFIG_DIR")
        .filter(|d| !d.is_empty())
        .map(|d| expand_home(d, home))
        .unwrap_or_else(|| home.to_path_buf())
        .join(".claude.json");
    let vscode_user = app_data.join("Code").join("User");
    // Joined segment by segment, so the separators are the platform's.
    let at = |base: &Path, rel: &str| rel.split('/').fold(base.to_path_buf(), |p, s| p.join(s));
    let entries = [
        (
            Client::ClaudeDesktop,
            app_data.join("Claude").join("claude_desktop_config.json"),
            Scope::User,
        ),
        (Client::ClaudeCode, claude_code_user, Scope::User),
        (Client::ClaudeCode, cwd.join(".mcp.json"), Scope::Project),
        (Client::Cursor, at(home, ".cursor/mcp.json"), Scope::User),
        (Client::Cursor, at(cwd, ".cursor/mcp.json"), Scope::Project),
        (Client::VsCode, at(&vscode_user, "mcp.json"), Scope::User),
        (
            Client::VsCode,
            at(&vscode_user, "settings.json"),
            Scope::User,
        ),
        (Client::VsCode, at(cwd, ".vscode/mcp.json"), Scope::Project),
        (
            Client::Windsurf,
            at(home, ".codeium/windsurf/mcp_config.json"),
            Scope::User,
        ),
        (
            Client::Gemini,
            at(home, ".gemini/settings.json"),
            Scope::User,
        ),
        (
            Client::Gemini,
            at(cwd, ".gemini/settings.json"),
            Scope::Project,
        ),
    ];
    let mut out: Vec<KnownConfig> = Vec::new();
    for (client, path, scope) in entries {
        if out.iter().any(|k| k.path == path) {
            continue;
        }
        out.push(KnownConfig {
            client,
            path,
            scope,
        });
    }
    out
}

/// [`well_known_paths`], each with whether a file exists there. A path that exists but is a
/// directory counts as not found.
pub fn discover(
    home: &Path,
    cwd: &Path,
    platform: Platform,
    env: &HashMap<String, String>,
) -> Vec<(KnownConfig, bool)> {
    well_known_paths(home, cwd, platform, env)
        .into_iter()
        .map(|k| {
            let found = k.path.is_file();
            (k, found)
        })
        .collect()
}

/// The client a file belongs to, judged by its name and directory, for files named on the
/// command line. `settings.json` counts only under `.gemini/` or a VS Code `User/` directory.
pub fn client_for_path(path: &Path) -> Option<Client> {
    let name = path.file_name()?.to_str()?;
    let parent = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|p| p.to_str())
        .unwrap_or("");
    let grandparent = path
        .parent()
        .and_then(|p| p.parent())
        .and_then(|p| p.file_name())
        .and_then(|p| p.to_str())
        .unwrap_or("");
    match (name, parent) {
        ("claude_desktop_config.json", _) => Some(Client::ClaudeDesktop),
        (".mcp.json" | ".claude.json", _) => Some(Client::ClaudeCode),
        ("mcp.json", ".cursor") => Some(Client::Cursor),
        ("mcp.json", ".vscode") => Some(Client::VsCode),
        ("mcp.json" | "settings.json", "User") if grandparent.starts_with("Code") => {
            Some(Client::VsCode)
        }
        ("mcp_config.json", _) => Some(Client::Windsurf),
        ("settings.json", ".gemini") => Some(Client::Gemini),
        _ => None,
    }
}

/// Electron's `app.getPath('appData')`, which is where Claude Desktop and VS Code keep their
/// user files.
fn app_data_dir(home: &Path, platform: Platform, env: &HashMap<String, String>) -> PathBuf {
    match platform {
        Platform::MacOs => home.join("Library").join("Application Support"),
        Platform::Windows => env
            .get("APPDATA")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join("AppData").join("Roaming")),
        Platform::Linux => env
            .get("XDG_CONFIG_HOME")
            // The XDG spec says a relative value is invalid and must be ignored.
            .filter(|v| Path::new(v).is_absolute())
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".config")),
    }
}

fn expand_home(p: &str, home: &Path) -> PathBuf {
    match p.strip_prefix("~/") {
        Some(rest) => home.join(rest),
        None => PathBuf::from(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(platform: Platform, env: &[(&str, &str)]) -> Vec<(Client, PathBuf, Scope)> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        well_known_paths(Path::new("/h"), Path::new("/p"), platform, &env)
            .into_iter()
            .map(|k| (k.client, k.path, k.scope))
            .collect()
    }

    #[test]
    fn claude_desktop_per_platform() {
        let find = |v: Vec<(Client, PathBuf, Scope)>| {
            v.into_iter()
                .find(|e| e.0 == Client::ClaudeDesktop)
                .unwrap()
                .1
        };
        assert_eq!(
            find(paths(Platform::MacOs, &[])),
            PathBuf::from("/h/Library/Application Support/Claude/claude_desktop_config.json")
        );
        assert_eq!(
            find(paths(Platform::Linux, &[])),
            PathBuf::from("/h/.config/Claude/claude_desktop_config.json")
        );
        assert_eq!(
            find(paths(Platform::Linux, &[("XDG_CONFIG_HOME", "/x")])),
            PathBuf::from("/x/Claude/claude_desktop_config.json")
        );
        assert_eq!(
            find(paths(Platform::Linux, &[("XDG_CONFIG_HOME", "rel")])),
            PathBuf::from("/h/.config/Claude/claude_desktop_config.json")
        );
        assert_eq!(
            find(paths(Platform::Windows, &[("APPDATA", "/appdata")])),
            PathBuf::from("/appdata/Claude/claude_desktop_config.json")
        );
        assert_eq!(
            find(paths(Platform::Windows, &[])),
            PathBuf::from("/h/AppData/Roaming/Claude/claude_desktop_config.json")
        );
    }

    #[test]
    fn same_file_listed_once() {
        let env = HashMap::new();
        let v = well_known_paths(Path::new("/h"), Path::new("/h"), Platform::Linux, &env);
        let cursor: Vec<_> = v.iter().filter(|k| k.client == Client::Cursor).collect();
        assert_eq!(cursor.len(), 1);
        assert_eq!(cursor[0].scope, Scope::User);
    }

    #[test]
    fn client_by_path() {
        for (p, c) in [
            ("/a/claude_desktop_config.json", Some(Client::ClaudeDesktop)),
            ("/a/.mcp.json", Some(Client::ClaudeCode)),
            ("/h/.claude.json", Some(Client::ClaudeCode)),
            ("/a/.cursor/mcp.json", Some(Client::Cursor)),
            ("/a/.vscode/mcp.json", Some(Client::VsCode)),
            ("/h/.config/Code/User/settings.json", Some(Client::VsCode)),
            (
                "/h/.codeium/windsurf/mcp_config.json",
                Some(Client::Windsurf),
            ),
            ("/h/.gemini/settings.json", Some(Client::Gemini)),
            ("/a/settings.json", None),
        ] {
            assert_eq!(client_for_path(Path::new(p)), c, "{p}");
        }
    }
}
