//! Reading one MCP client config: JSON with comments and trailing commas in, the server entries
//! out, each with its line. Pure: the caller reads the file.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use jsonc_parser::ast::{Object, ObjectProp, Value};
use jsonc_parser::common::Ranged;
use jsonc_parser::{CollectOptions, ParseOptions};
use serde::Serialize;

use super::discover::Client;
use crate::secrets::{
    is_reference_only, npm_secret_key, redact, scan_args, scan_value, scan_words, Hit, Redacted,
    Scrubber,
};

/// One MCP server as the client would start it. Values are kept as written (a `${VAR}` is not
/// expanded) because that is what tells a reference from a literal secret.
///
/// The fields hold the clear text, for the launch analysis; `Debug` names the entry only, and
/// output goes through wire types built with [`ServerEntry::scrubber`].
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ServerEntry {
    /// The key in the servers map.
    pub name: String,
    /// Claude Code's per-project ("local") servers in `~/.claude.json`: the project path from
    /// `projects.<path>.mcpServers`. `None` for top-level servers.
    pub project: Option<String>,
    pub command: Option<String>,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// `url` (most clients), `serverUrl` (Windsurf) or `httpUrl` (Gemini CLI).
    pub url: Option<String>,
    /// `type` (or `transport`): `stdio`, `sse`, `http`, `streamable-http`...; `http` for Gemini's
    /// `httpUrl` when no type is given.
    pub transport: Option<String>,
    /// HTTP headers for remote servers, where bearer tokens often sit.
    pub headers: BTreeMap<String, String>,
    /// The working directory the client starts the server in (`cwd`), when given: it decides
    /// which project `.npmrc` npm reads.
    pub cwd: Option<String>,
    /// VS Code's `envFile`: more environment, read by the client. Not read here.
    pub env_file: Option<String>,
    /// `disabled: true` (Claude Code, Windsurf, Cline-style configs): configured but not started.
    pub disabled: bool,
    /// 1-based line of the server's name in the file.
    pub line: Option<usize>,
}

impl ServerEntry {
    /// Every credential written in the entry, wherever it is: display text derived from the
    /// entry (its launch, facts, notes, errors) is scrubbed of them, so a value the entry's own
    /// fields redact never shows up elsewhere.
    pub fn scrubber(&self) -> Scrubber {
        let mut found: Vec<String> = Vec::new();
        let take = |found: &mut Vec<String>, value: &str, hits: Vec<Hit>| {
            found.extend(hits.into_iter().map(|h| value[h.range].to_string()));
        };
        if let Some(c) = &self.command {
            take(&mut found, c, scan_words(c));
        }
        for h in scan_args(&self.args) {
            let value = &self.args[h.index];
            found.push(value[h.hit.range].to_string());
        }
        for (k, v) in &self.env {
            // npm's credential keys are secret however short or plain the value is.
            if npm_secret_key(k) && !v.is_empty() && !is_reference_only(v) {
                found.push(v.clone());
            } else {
                take(&mut found, v, scan_value(Some(k), v));
            }
        }
        for (k, v) in &self.headers {
            take(&mut found, v, scan_value(Some(k), v));
        }
        if let Some(u) = &self.url {
            take(&mut found, u, scan_value(None, u));
        }
        Scrubber::new(found)
    }

    /// An env value as shown: npm credential keys are always hidden, other values redacted
    /// like any named value.
    pub fn shown_env(&self, scrub: &Scrubber, key: &str, value: &str) -> Redacted {
        if npm_secret_key(key) && !value.is_empty() && !is_reference_only(value) {
            scrub.scrub(&redact(value))
        } else {
            scrub.value(Some(key), value)
        }
    }
}

/// Names the entry only: its values may be credentials, and output goes through wire types.
impl fmt::Debug for ServerEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerEntry")
            .field("name", &self.name)
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

/// A server entry that cannot be analysed, or a field of it that was dropped. Messages name
/// fields, never their values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServerProblem {
    pub server: String,
    pub project: Option<String>,
    pub line: Option<usize>,
    pub message: String,
}

/// Something about the file worth saying that is not an error: it is empty, it has no servers,
/// a client would reject its comments, a server name appears twice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Note {
    pub line: Option<usize>,
    pub message: String,
}

/// One config file's servers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedConfig {
    pub path: PathBuf,
    /// The client given to [`parse_config`].
    pub client: Option<Client>,
    /// Servers that have a `command` or a `url`, in file order.
    pub servers: Vec<ServerEntry>,
    /// Servers that could not be read, and fields that were dropped.
    pub problems: Vec<ServerProblem>,
    pub notes: Vec<Note>,
}

/// Why a whole file could not be read. Displayed as `file:line:column: message`; messages
/// describe the syntax, never quote the text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConfigFileError {
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}:{line}:{column}: the file is JSON but not an object ({found})", path.display())]
    NotAnObject {
        path: PathBuf,
        line: usize,
        column: usize,
        found: String,
    },
    /// For callers that read the file: [`parse_config`] itself never returns this.
    #[error("{}: cannot be read: {message}", path.display())]
    Unreadable { path: PathBuf, message: String },
}

impl ConfigFileError {
    pub fn unreadable(path: &Path, err: &std::io::Error) -> Self {
        ConfigFileError::Unreadable {
            path: path.to_path_buf(),
            message: err.to_string(),
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            ConfigFileError::Syntax { path, .. }
            | ConfigFileError::NotAnObject { path, .. }
            | ConfigFileError::Unreadable { path, .. } => path,
        }
    }

    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigFileError::Syntax { line, .. } | ConfigFileError::NotAnObject { line, .. } => {
                Some(*line)
            }
            ConfigFileError::Unreadable { .. } => None,
        }
    }
}

/// VS Code's JSONC: comments and trailing commas, and otherwise strict JSON (no single quotes,
/// bare keys or hex numbers, which JSON5 would take and every client rejects).
fn jsonc_options() -> ParseOptions {
    ParseOptions {
        allow_comments: true,
        allow_trailing_commas: true,
        allow_loose_object_property_names: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

fn strict_options() -> ParseOptions {
    ParseOptions {
        allow_comments: false,
        allow_trailing_commas: false,
        ..jsonc_options()
    }
}

/// Parse one client config.
///
/// The servers map is found by client: `mcpServers` (Claude Desktop, Cursor, Windsurf, Gemini),
/// `mcpServers` and `projects.<path>.mcpServers` (Claude Code's `~/.claude.json`), `servers`
/// (VS Code `mcp.json`) and `mcp.servers` (VS Code `settings.json`, nested or as a dotted key).
/// With no client, every one of those keys is tried. Unknown fields are ignored everywhere.
///
/// A file that is empty, holds only comments, or has no servers is `Ok` with no servers and a
/// note. A server without `command` and `url`, or whose value is not an object, is a
/// [`ServerProblem`]; the other servers are still returned. Only a syntax error or a top-level
/// value that is not an object fails the whole file.
pub fn parse_config(
    path: &Path,
    text: &str,
    client: Option<Client>,
) -> Result<ParsedConfig, ConfigFileError> {
    let mut parsed = ParsedConfig {
        path: path.to_path_buf(),
        client,
        servers: Vec::new(),
        problems: Vec::new(),
        notes: Vec::new(),
    };
    // jsonc-parser's positions are byte offsets into the text it was given; keep the BOM so
    // they stay offsets into the file (the scanner skips it).
    if text.trim_start_matches('\u{feff}').trim().is_empty() {
        parsed.notes.push(Note {
            line: None,
            message: "the file is empty: no servers".into(),
        });
        return Ok(parsed);
    }
    let ast = jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &jsonc_options())
        .map_err(|e| ConfigFileError::Syntax {
            path: path.to_path_buf(),
            line: e.line_display(),
            column: e.column_display(),
            message: e.kind().to_string(),
        })?;
    let Some(root) = ast.value else {
        parsed.notes.push(Note {
            line: None,
            message: "the file holds only comments: no servers".into(),
        });
        return Ok(parsed);
    };
    let Value::Object(root) = root else {
        let (line, column) = line_col(text, root.range().start);
        return Err(ConfigFileError::NotAnObject {
            path: path.to_path_buf(),
            line,
            column,
            found: kind_name(&root).into(),
        });
    };
    if let Some(c) = client.filter(|c| c.strict_json()) {
        if let Err(e) =
            jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &strict_options())
        {
            parsed.notes.push(Note {
                line: Some(e.line_display()),
                message: format!(
                    "{} reads this file as strict JSON and would reject it: {} at column {} \
                     (comments and trailing commas are only accepted by VS Code-style clients)",
                    c,
                    e.kind(),
                    e.column_display()
                ),
            });
        }
    }

    let lines = Lines::new(text);
    let maps = server_maps(&root, client, &lines, &mut parsed.notes);
    for (project, map) in maps {
        read_servers(&lines, project, map, &mut parsed);
    }
    if parsed.servers.is_empty() && parsed.problems.is_empty() {
        let keys = match client {
            Some(Client::VsCode) => "`servers` or `mcp.servers`",
            Some(Client::ClaudeCode) => "`mcpServers` or `projects.<path>.mcpServers`",
            Some(_) => "`mcpServers`",
            None => "`mcpServers`, `servers`, `mcp.servers` or `projects.<path>.mcpServers`",
        };
        parsed.notes.push(Note {
            line: None,
            message: format!("no MCP servers configured (looked for {keys})"),
        });
    }
    Ok(parsed)
}

/// A servers map and, for Claude Code's nested ones, the project it belongs to.
type ServerMap<'o, 'a> = (Option<String>, &'o Object<'a>);

fn server_maps<'o, 'a>(
    root: &'o Object<'a>,
    client: Option<Client>,
    lines: &Lines<'_>,
    notes: &mut Vec<Note>,
) -> Vec<ServerMap<'o, 'a>> {
    let mut out = Vec::new();
    let wants_mcp_servers = !matches!(client, Some(Client::VsCode));
    let wants_servers = matches!(client, None | Some(Client::VsCode));
    let wants_projects = matches!(client, None | Some(Client::ClaudeCode));

    let mut take = |prop: Option<&'o ObjectProp<'a>>,
                    what: &str,
                    project: Option<String>,
                    out: &mut Vec<ServerMap<'o, 'a>>| {
        let Some(prop) = prop else { return };
        match &prop.value {
            Value::Object(o) => out.push((project, o)),
            // JSON.parse-based clients treat `null` like a missing key.
            Value::NullKeyword(_) => {}
            other => notes.push(Note {
                line: Some(lines.line(prop.range.start)),
                message: format!(
                    "`{what}` is {}, not an object: its servers cannot be read",
                    kind_name(other)
                ),
            }),
        }
    };

    if wants_mcp_servers {
        take(last_prop(root, "mcpServers"), "mcpServers", None, &mut out);
    }
    if wants_servers {
        take(last_prop(root, "servers"), "servers", None, &mut out);
        if let Some(Value::Object(mcp)) = last_prop(root, "mcp").map(|p| &p.value) {
            take(last_prop(mcp, "servers"), "mcp.servers", None, &mut out);
        }
        take(
            last_prop(root, "mcp.servers"),
            "mcp.servers",
            None,
            &mut out,
        );
    }
    if wants_projects {
        if let Some(Value::Object(projects)) = last_prop(root, "projects").map(|p| &p.value) {
            for p in &projects.properties {
                if let Value::Object(proj) = &p.value {
                    let name = p.name.as_str().to_string();
                    take(
                        last_prop(proj, "mcpServers"),
                        &format!("projects.{name}.mcpServers"),
                        Some(name),
                        &mut out,
                    );
                }
            }
        }
    }
    // A key the client does not read: say so rather than audit servers that never start.
    if let Some(c) = client {
        let ignored: &[&str] = if wants_mcp_servers {
            &["servers"]
        } else {
            &["mcpServers"]
        };
        for key in ignored {
            if let Some(p) = last_prop(root, key) {
                if matches!(p.value, Value::Object(_)) {
                    notes.push(Note {
                        line: Some(lines.line(p.range.start)),
                        message: format!(
                            "`{key}` is not where {c} looks for servers: the servers under it \
                             are not started by {c} and are not audited"
                        ),
                    });
                }
            }
        }
    }
    out
}

/// `JSON.parse` keeps the last of duplicated keys.
fn last_prop<'o, 'a>(obj: &'o Object<'a>, name: &str) -> Option<&'o ObjectProp<'a>> {
    obj.properties
        .iter()
        .rev()
        .find(|p| p.name.as_str() == name)
}

fn read_servers(
    lines: &Lines<'_>,
    project: Option<String>,
    map: &Object<'_>,
    parsed: &mut ParsedConfig,
) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, prop) in map.properties.iter().enumerate() {
        let name = prop.name.as_str().to_string();
        if let Some(first) = seen.insert(name.clone(), i) {
            parsed.notes.push(Note {
                line: Some(lines.line(prop.range.start)),
                message: format!(
                    "server `{name}` is defined again (first at line {}): the client uses this \
                     last definition",
                    lines.line(map.properties[first].range.start)
                ),
            });
        }
    }
    for (i, prop) in map.properties.iter().enumerate() {
        let name = prop.name.as_str().to_string();
        if seen.get(&name) != Some(&i) {
            continue;
        }
        let line = Some(lines.line(prop.range.start));
        let mut problem = |message: String| {
            parsed.problems.push(ServerProblem {
                server: name.clone(),
                project: project.clone(),
                line,
                message,
            })
        };
        let Value::Object(obj) = &prop.value else {
            problem(format!(
                "the entry is {}, not an object: it cannot be started",
                kind_name(&prop.value)
            ));
            continue;
        };
        let mut entry = ServerEntry {
            name: name.clone(),
            project: project.clone(),
            line,
            ..ServerEntry::default()
        };
        entry.command = string_field(obj, "command", &mut problem);
        entry.url = string_field(obj, "url", &mut problem)
            .or_else(|| string_field(obj, "serverUrl", &mut problem))
            .or_else(|| string_field(obj, "httpUrl", &mut problem));
        entry.transport = string_field(obj, "type", &mut problem)
            .or_else(|| string_field(obj, "transport", &mut problem))
            .or_else(|| last_prop(obj, "httpUrl").map(|_| "http".to_string()));
        entry.cwd = string_field(obj, "cwd", &mut problem);
        entry.env_file = string_field(obj, "envFile", &mut problem);
        entry.disabled = matches!(
            last_prop(obj, "disabled").map(|p| &p.value),
            Some(Value::BooleanLit(b)) if b.value
        );
        if let Some(p) = last_prop(obj, "args") {
            match &p.value {
                Value::Array(a) => {
                    for (idx, el) in a.elements.iter().enumerate() {
                        match scalar(el) {
                            Some(s) => entry.args.push(s),
                            None => problem(format!(
                                "args[{idx}] is {}, not a string: dropped",
                                kind_name(el)
                            )),
                        }
                    }
                }
                Value::NullKeyword(_) => {}
                other => problem(format!(
                    "`args` is {}, not an array of strings: ignored",
                    kind_name(other)
                )),
            }
        }
        for (field, target) in [("env", &mut entry.env), ("headers", &mut entry.headers)] {
            let Some(p) = last_prop(obj, field) else {
                continue;
            };
            match &p.value {
                Value::Object(o) => {
                    for kv in &o.properties {
                        let key = kv.name.as_str().to_string();
                        match scalar(&kv.value) {
                            Some(v) => {
                                target.insert(key, v);
                            }
                            None => problem(format!(
                                "{field}.{key} is {}, not a string: dropped",
                                kind_name(&kv.value)
                            )),
                        }
                    }
                }
                Value::NullKeyword(_) => {}
                other => problem(format!(
                    "`{field}` is {}, not an object: ignored",
                    kind_name(other)
                )),
            }
        }
        let has_command = entry
            .command
            .as_deref()
            .is_some_and(|c| !c.trim().is_empty());
        let has_url = entry.url.as_deref().is_some_and(|u| !u.trim().is_empty());
        if !has_command && !has_url {
            problem(
                "has neither `command` nor `url`: the client cannot start it, so there is \
                 nothing to audit"
                    .into(),
            );
            continue;
        }
        parsed.servers.push(entry);
    }
}

fn string_field(obj: &Object<'_>, key: &str, problem: &mut impl FnMut(String)) -> Option<String> {
    let p = last_prop(obj, key)?;
    match &p.value {
        Value::StringLit(s) => Some(s.value.to_string()),
        Value::NullKeyword(_) => None,
        other => {
            problem(format!(
                "`{key}` is {}, not a string: ignored",
                kind_name(other)
            ));
            None
        }
    }
}

/// Strings as they are; numbers and booleans as their JSON text, which is what a client that
/// passes them to `spawn` ends up with.
fn scalar(v: &Value<'_>) -> Option<String> {
    match v {
        Value::StringLit(s) => Some(s.value.to_string()),
        Value::NumberLit(n) => Some(n.value.to_string()),
        Value::BooleanLit(b) => Some(b.value.to_string()),
        _ => None,
    }
}

fn kind_name(v: &Value<'_>) -> &'static str {
    match v {
        Value::StringLit(_) => "a string",
        Value::NumberLit(_) => "a number",
        Value::BooleanLit(_) => "a boolean",
        Value::Object(_) => "an object",
        Value::Array(_) => "an array",
        Value::NullKeyword(_) => "null",
    }
}

/// Line starts of a text, found in one pass, so that each server's line is a binary search
/// and not a rescan from the top (100,000 servers took minutes that way).
/// `\r\n`, `\n` and a lone `\r` each end a line.
pub(crate) struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> Lines<'t> {
    pub(crate) fn new(text: &'t str) -> Lines<'t> {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                starts.push(i + 1);
            }
        }
        Lines { text, starts }
    }

    /// 1-based line of a byte offset. No column: counting characters from the line's start is
    /// linear in the line, and a minified config is one line, so a column per server made
    /// 100,000 servers quadratic again.
    pub(crate) fn line(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        // The number of line starts at or before `offset` is the line number.
        self.starts.partition_point(|&s| s <= offset)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line(offset);
        let start = self.starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(1, |s| s.chars().count() + 1);
        (line, column)
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    Lines::new(text).line_col(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, client: Option<Client>) -> ParsedConfig {
        parse_config(Path::new("/c.json"), text, client).unwrap()
    }

    #[test]
    fn lines_and_columns() {
        assert_eq!(line_col("a\nb\r\nc\rd", 7), (4, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }

    #[test]
    fn jsonc_accepted_json5_rejected() {
        let p = parse(
            "// c\n{\n  /* b */ \"servers\": {\"a\": {\"command\": \"npx\", \"args\": [\"x\",],},},\n}\n",
            Some(Client::VsCode),
        );
        assert_eq!(p.servers.len(), 1);
        assert_eq!(p.servers[0].line, Some(3));
        let e = parse_config(Path::new("/c.json"), "{'a': 1}", None).unwrap_err();
        assert!(e.to_string().starts_with("/c.json:1:2: "), "{e}");
        let e = parse_config(Path::new("/c.json"), "{\n  a: 1}", None).unwrap_err();
        assert_eq!(e.line(), Some(2));
    }

    #[test]
    fn strict_clients_warn_about_comments() {
        let p = parse(
            "{\"mcpServers\": {\"a\": {\"command\": \"x\"},}}",
            Some(Client::ClaudeDesktop),
        );
        assert_eq!(p.servers.len(), 1);
        assert!(p.notes[0].message.contains("strict JSON"), "{:?}", p.notes);
        let p = parse(
            "{\"servers\": {\"a\": {\"command\": \"x\"},}}",
            Some(Client::VsCode),
        );
        assert!(p.notes.is_empty());
    }

    #[test]
    fn empty_and_no_servers() {
        for t in ["", "  \n", "\u{feff}", "// nothing\n"] {
            let p = parse(t, None);
            assert!(p.servers.is_empty() && p.notes.len() == 1, "{t:?}");
        }
        let p = parse("{\"theme\": \"dark\"}", None);
        assert!(p.notes[0].message.contains("no MCP servers"));
        let e = parse_config(Path::new("/c.json"), "\n[1]", None).unwrap_err();
        assert!(
            matches!(e, ConfigFileError::NotAnObject { line: 2, .. }),
            "{e}"
        );
    }

    #[test]
    fn duplicates_keep_the_last() {
        let p = parse(
            "{\"mcpServers\": {\n\"a\": {\"command\": \"one\"},\n\"a\": {\"command\": \"two\"}}}",
            None,
        );
        assert_eq!(p.servers.len(), 1);
        assert_eq!(p.servers[0].command.as_deref(), Some("two"));
        assert_eq!(p.servers[0].line, Some(3));
        assert!(p.notes[0].message.contains("first at line 2"));
    }

    #[test]
    fn bad_fields_are_problems() {
        let p = parse(
            r#"{"mcpServers": {
                "nocmd": {"env": {"A": "b"}},
                "notobj": "npx x",
                "weird": {"command": "npx", "args": ["-y", 3, {"x": 1}], "env": {"N": 1, "O": {}}}
            }}"#,
            None,
        );
        assert_eq!(p.servers.len(), 1);
        assert_eq!(p.servers[0].args, vec!["-y", "3"]);
        assert_eq!(p.servers[0].env.get("N").map(String::as_str), Some("1"));
        let msgs: Vec<_> = p.problems.iter().map(|p| p.server.as_str()).collect();
        assert_eq!(msgs, vec!["nocmd", "notobj", "weird", "weird"]);
    }

    #[test]
    fn short_npm_credentials_are_still_masked() {
        let p = parse(
            r#"{"mcpServers": {"a": {"command": "npx", "env": {"npm_config_//h/:_authToken": "ab12"}}}}"#,
            None,
        );
        let s = &p.servers[0];
        let wire = crate::render::config_wire::WireEntry::new(s, &s.scrubber());
        let shown = format!("{p:?}{}", serde_json::to_string(&wire).unwrap());
        assert!(!shown.contains("ab12"), "{shown}");
    }

    #[test]
    fn wrong_key_for_client_is_noted() {
        let p = parse(
            "{\"servers\": {\"a\": {\"command\": \"x\"}}}",
            Some(Client::Cursor),
        );
        assert!(p.servers.is_empty());
        assert!(p
            .notes
            .iter()
            .any(|n| n.message.contains("not where Cursor")));
    }
}
