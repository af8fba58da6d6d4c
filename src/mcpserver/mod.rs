//! `server.json` files (the MCP Registry's server description), read leniently into one model.
//!
//! Every released schema (2025-07-09 snake_case through 2025-12-11) and the draft are read by the
//! same code: each field is looked up under its camelCase and its snake_case name, and a spelling
//! that does not belong to the declared schema is a schema problem, not a reason to stop. Real
//! files are messy (bare strings where objects belong, `required` for `isRequired`, pre-release
//! shapes), and a file the registry would reject can still be installed from its packages, so
//! everything that can be understood is audited and the rest is reported.

mod facts;
pub mod registry;
mod report;
pub mod scan;
mod subjects;

pub use facts::{
    server_facts, server_facts_with, PackageIdentity, ServerJsonFacts, ServerJsonSection,
};
pub use report::{
    assemble, audit, audit_files, audit_files_scanned, audit_listed, exit_code, registry_exit_code,
    render_json, render_registry_json, render_table, Audited, FileOutcome, ServerFileReport,
    NOT_SCANNED,
};

pub use subjects::server_subjects;

use serde_json::{Map, Value};

/// The `$schema` URLs of the released schemas, newest last. Tests check these against the `$id`
/// of the schema files in fixtures/mcp-registry/.
pub const RELEASED: &[(&str, &str)] = &[
    (
        "2025-07-09",
        "https://static.modelcontextprotocol.io/schemas/2025-07-09/server.schema.json",
    ),
    (
        "2025-09-16",
        "https://static.modelcontextprotocol.io/schemas/2025-09-16/server.schema.json",
    ),
    (
        "2025-09-29",
        "https://static.modelcontextprotocol.io/schemas/2025-09-29/server.schema.json",
    ),
    (
        "2025-10-11",
        "https://static.modelcontextprotocol.io/schemas/2025-10-11/server.schema.json",
    ),
    (
        "2025-10-17",
        "https://static.modelcontextprotocol.io/schemas/2025-10-17/server.schema.json",
    ),
    (
        "2025-12-11",
        "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
    ),
];

/// The working draft, under both `$id`s it has had.
pub const DRAFT: &[&str] = &[
    "https://static.modelcontextprotocol.io/schemas/draft/server.schema.json",
    "https://raw.githubusercontent.com/modelcontextprotocol/registry/main/docs/reference/server-json/draft/server.schema.json",
];

/// The registry's limit on `description`.
const DESCRIPTION_MAX: usize = 100;

#[derive(Debug, Clone, PartialEq)]
pub enum SchemaVersion {
    /// A released version, by its date.
    Released(&'static str),
    Draft,
    Unknown(String),
    Missing,
}

impl SchemaVersion {
    fn of(url: Option<&str>) -> SchemaVersion {
        let Some(url) = url else {
            return SchemaVersion::Missing;
        };
        let u = url.trim();
        if let Some((date, _)) = RELEASED.iter().find(|(_, id)| *id == u) {
            return SchemaVersion::Released(date);
        }
        if DRAFT.contains(&u) {
            return SchemaVersion::Draft;
        }
        SchemaVersion::Unknown(url.to_string())
    }

    /// Only 2025-07-09 spells its keys in snake_case.
    fn snake_case(&self) -> bool {
        matches!(self, SchemaVersion::Released("2025-07-09"))
    }

    pub fn label(&self) -> String {
        match self {
            SchemaVersion::Released(d) => (*d).to_string(),
            SchemaVersion::Draft => "draft".into(),
            SchemaVersion::Unknown(_) => "unknown".into(),
            SchemaVersion::Missing => "none".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServerJson {
    pub schema_url: Option<String>,
    pub schema_version: SchemaVersion,
    pub name: Option<String>,
    pub version: Option<String>,
    pub description: Option<String>,
    pub repository_url: Option<String>,
    pub packages: Vec<Package>,
    pub remotes: Vec<Remote>,
    /// Where the file departs from its schema, one line each (`packages[0].registryType: …`).
    pub problems: Vec<String>,
    /// What a registry said about this version (`_meta` of its listing); `None` for a file.
    pub registry: Option<RegistryMeta>,
}

/// The registry-managed `_meta` of a listed server (`io.modelcontextprotocol.registry/official`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RegistryMeta {
    /// `active`, `deprecated`, `deleted`, or what the registry says (lowercased).
    pub status: Option<String>,
    pub status_message: Option<String>,
    pub updated_at: Option<String>,
    pub is_latest: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Package {
    /// `npm`, `pypi`, `oci`, `nuget`, `mcpb` (as written, lowercased).
    pub registry_type: Option<String>,
    pub identifier: Option<String>,
    pub version: Option<String>,
    pub registry_base_url: Option<String>,
    pub file_sha256: Option<String>,
    /// `stdio`, `streamable-http`, `sse`.
    pub transport: Option<String>,
    pub transport_url: Option<String>,
    pub runtime_arguments: Vec<Input>,
    pub package_arguments: Vec<Input>,
    pub environment_variables: Vec<Input>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Remote {
    pub kind: Option<String>,
    pub url: Option<String>,
    pub headers: Vec<Input>,
}

/// An argument, environment variable or header: what can carry a value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Input {
    pub name: Option<String>,
    pub value: Option<String>,
    pub default: Option<String>,
    pub is_secret: bool,
}

/// Why a file could not be read as a server description at all.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadError {
    NotUtf8 { offset: usize },
    NotJson(String),
    NotObject(&'static str),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::NotUtf8 { offset } => {
                write!(f, "not UTF-8 (invalid byte at offset {offset})")
            }
            ReadError::NotJson(e) => write!(f, "not JSON: {e}"),
            ReadError::NotObject(t) => {
                write!(f, "not a server.json: the top level is {t}, not an object")
            }
        }
    }
}

/// Reads a `server.json` from its bytes. A UTF-8 byte order mark is accepted (editors on Windows
/// write one) and noted as a problem, since the registry's JSON parser rejects it.
pub fn parse(bytes: &[u8]) -> Result<ServerJson, ReadError> {
    let (bytes, bom) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest, true),
        None => (bytes, false),
    };
    let text = std::str::from_utf8(bytes).map_err(|e| ReadError::NotUtf8 {
        offset: e.valid_up_to() + usize::from(bom) * 3,
    })?;
    let v: Value = serde_json::from_str(text).map_err(|e| ReadError::NotJson(e.to_string()))?;
    let Value::Object(root) = v else {
        return Err(ReadError::NotObject(type_name(&v)));
    };
    let mut r = Reader::new(&root);
    if bom {
        r.problems.push(
            "the file starts with a UTF-8 byte order mark, which JSON parsers may reject".into(),
        );
    }
    Ok(r.server(&root))
}

/// Reads a server description already parsed as JSON (a registry listing's `server` object).
pub fn from_value(v: &Value) -> Result<ServerJson, ReadError> {
    let Value::Object(root) = v else {
        return Err(ReadError::NotObject(type_name(v)));
    };
    Ok(Reader::new(root).server(root))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

const ROOT_KEYS: &[&str] = &[
    "$schema",
    "name",
    "title",
    "description",
    "version",
    "repository",
    "websiteUrl",
    "website_url",
    "icons",
    "packages",
    "remotes",
    "_meta",
    "status",
];

const PACKAGE_KEYS: &[&str] = &[
    "registryType",
    "registryBaseUrl",
    "identifier",
    "version",
    "fileSha256",
    "runtimeHint",
    "transport",
    "runtimeArguments",
    "packageArguments",
    "environmentVariables",
];

struct Reader {
    version: SchemaVersion,
    problems: Vec<String>,
}

impl Reader {
    fn new(root: &Map<String, Value>) -> Reader {
        let url = root.get("$schema").and_then(Value::as_str);
        Reader {
            version: SchemaVersion::of(url),
            problems: Vec::new(),
        }
    }

    fn problem(&mut self, at: &str, what: impl std::fmt::Display) {
        self.problems.push(if at.is_empty() {
            what.to_string()
        } else {
            format!("{at}: {what}")
        });
    }

    /// The value of `camel` (or its snake_case spelling), noting a spelling the declared
    /// schema does not use.
    fn field<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        at: &str,
        camel: &str,
    ) -> Option<&'v Value> {
        let snake = snake_case(camel);
        let (found, key) = match (obj.get(camel), obj.get(&snake)) {
            (Some(v), _) => (v, camel),
            (None, Some(v)) => (v, snake.as_str()),
            (None, None) => return None,
        };
        if camel != snake {
            let wants_snake = self.version.snake_case();
            if wants_snake && key == camel {
                let path = join(at, camel);
                self.problem(
                    &path,
                    format!("camelCase key, but the 2025-07-09 schema spells it `{snake}`"),
                );
            } else if !wants_snake && key == snake {
                let path = join(at, &snake);
                self.problem(
                    &path,
                    format!(
                        "snake_case key (2025-07-09 spelling); this schema spells it `{camel}`"
                    ),
                );
            }
        }
        Some(found)
    }

    fn string(&mut self, obj: &Map<String, Value>, at: &str, camel: &str) -> Option<String> {
        match self.field(obj, at, camel)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => {
                let path = join(at, camel);
                self.problem(
                    &path,
                    format!("{} where a string belongs", type_name(other)),
                );
                Some(scalar_text(other))
            }
        }
    }

    fn server(&mut self, root: &Map<String, Value>) -> ServerJson {
        let version = self.version.clone();
        match &version {
            SchemaVersion::Missing => {
                self.problem("$schema", "missing: the schema version is unknown")
            }
            SchemaVersion::Unknown(u) => self.problem(
                "$schema",
                format!("`{u}` is not a released server.json schema"),
            ),
            SchemaVersion::Draft => {
                self.problem("$schema", "the working draft, not a released schema")
            }
            SchemaVersion::Released(_) => {}
        }
        for key in root.keys() {
            let known = ROOT_KEYS.contains(&key.as_str())
                || ROOT_KEYS.iter().any(|k| snake_case(k) == *key);
            if !known {
                self.problem(key, "unexpected key");
            }
        }
        if root.contains_key("status")
            && !matches!(
                self.version,
                SchemaVersion::Released("2025-07-09" | "2025-09-16")
            )
        {
            self.problem("status", "not part of this schema (removed in 2025-09-29)");
        }
        let name = self.string(root, "", "name");
        match &name {
            None => self.problem("name", "missing (required)"),
            Some(n) if !valid_name(n) => self.problem(
                "name",
                format!("`{n}` is not `namespace/name` (letters, digits, `.`, `-`, `_`)"),
            ),
            Some(_) => {}
        }
        let description = self.string(root, "", "description");
        match &description {
            None => self.problem("description", "missing (required)"),
            Some(d) if d.chars().count() > DESCRIPTION_MAX => self.problem(
                "description",
                format!(
                    "{} characters, over the limit of {DESCRIPTION_MAX}",
                    d.chars().count()
                ),
            ),
            Some(_) => {}
        }
        let mut version = self.string(root, "", "version");
        if version.is_none() {
            // The pre-release shape put it under `version_detail.version`.
            if let Some(v) = root
                .get("version_detail")
                .and_then(|d| d.get("version"))
                .and_then(Value::as_str)
            {
                version = Some(v.to_string());
            }
            self.problem("version", "missing (required)");
        }
        let repository_url = match self.field(root, "", "repository") {
            Some(Value::Object(o)) => {
                let o = o.clone();
                self.string(&o, "repository", "url")
            }
            Some(Value::String(s)) => {
                self.problem(
                    "repository",
                    "a string where an object `{url, source}` belongs",
                );
                Some(s.clone())
            }
            Some(other) => {
                self.problem(
                    "repository",
                    format!("{} where an object belongs", type_name(other)),
                );
                None
            }
            None => None,
        };
        let packages = match self.field(root, "", "packages") {
            Some(Value::Array(list)) => list
                .iter()
                .enumerate()
                .filter_map(|(i, p)| self.package(p, &format!("packages[{i}]")))
                .collect(),
            Some(other) => {
                self.problem(
                    "packages",
                    format!("{} where a list belongs", type_name(other)),
                );
                Vec::new()
            }
            None => Vec::new(),
        };
        let remotes = match self.field(root, "", "remotes") {
            Some(Value::Array(list)) => list
                .iter()
                .enumerate()
                .filter_map(|(i, r)| self.remote(r, &format!("remotes[{i}]")))
                .collect(),
            Some(other) => {
                self.problem(
                    "remotes",
                    format!("{} where a list belongs", type_name(other)),
                );
                Vec::new()
            }
            None => Vec::new(),
        };
        ServerJson {
            schema_url: root.get("$schema").map(scalar_text),
            schema_version: self.version.clone(),
            name,
            version,
            description,
            repository_url,
            packages,
            remotes,
            problems: std::mem::take(&mut self.problems),
            registry: None,
        }
    }

    fn package(&mut self, v: &Value, at: &str) -> Option<Package> {
        let Value::Object(o) = v else {
            self.problem(at, format!("{} where an object belongs", type_name(v)));
            return None;
        };
        for key in o.keys() {
            let known = PACKAGE_KEYS
                .iter()
                .any(|k| k == key || snake_case(k) == *key);
            if !known && key != "registry_name" && key != "name" {
                self.problem(&join(at, key), "unexpected key");
            }
        }
        let mut p = Package {
            registry_type: self
                .string(o, at, "registryType")
                .map(|t| t.to_ascii_lowercase()),
            identifier: self.string(o, at, "identifier"),
            version: self.string(o, at, "version"),
            registry_base_url: self.string(o, at, "registryBaseUrl"),
            file_sha256: self.string(o, at, "fileSha256"),
            ..Package::default()
        };
        // The pre-release shape: `registry_name` and `name` for registryType and identifier.
        if p.registry_type.is_none() {
            if let Some(t) = o.get("registry_name").and_then(Value::as_str) {
                self.problem(
                    &join(at, "registry_name"),
                    "pre-release key; the schema has `registryType`",
                );
                p.registry_type = Some(t.to_ascii_lowercase());
            }
        }
        if p.identifier.is_none() {
            if let Some(n) = o.get("name").and_then(Value::as_str) {
                self.problem(
                    &join(at, "name"),
                    "pre-release key; the schema has `identifier`",
                );
                p.identifier = Some(n.to_string());
            }
        }
        match p.registry_type.as_deref() {
            None => self.problem(&join(at, "registryType"), "missing (required)"),
            Some("npm" | "pypi" | "oci" | "nuget" | "mcpb") => {}
            Some(t) => self.problem(
                &join(at, "registryType"),
                format!("`{t}` is not a registry type of the released schemas"),
            ),
        }
        if p.identifier.is_none() {
            self.problem(&join(at, "identifier"), "missing (required)");
        }
        match self.field(o, at, "transport") {
            Some(Value::Object(t)) => {
                let t = t.clone();
                let tat = join(at, "transport");
                p.transport = self.string(&t, &tat, "type");
                p.transport_url = self.string(&t, &tat, "url");
                if p.transport.is_none() {
                    self.problem(&join(&tat, "type"), "missing (required)");
                }
            }
            Some(Value::String(s)) => {
                self.problem(
                    &join(at, "transport"),
                    format!("the string `{s}` where an object `{{\"type\": \"{s}\"}}` belongs"),
                );
                p.transport = Some(s.clone());
            }
            Some(other) => {
                self.problem(
                    &join(at, "transport"),
                    format!("{} where an object belongs", type_name(other)),
                );
            }
            None => self.problem(&join(at, "transport"), "missing (required)"),
        }
        p.runtime_arguments = self.inputs(o, at, "runtimeArguments", "name");
        p.package_arguments = self.inputs(o, at, "packageArguments", "name");
        p.environment_variables = self.inputs(o, at, "environmentVariables", "name");
        Some(p)
    }

    fn remote(&mut self, v: &Value, at: &str) -> Option<Remote> {
        let Value::Object(o) = v else {
            self.problem(at, format!("{} where an object belongs", type_name(v)));
            return None;
        };
        let mut kind = self.string(o, at, "type");
        if kind.is_none() {
            if let Some(t) = o.get("transportType").and_then(Value::as_str) {
                self.problem(
                    &join(at, "transportType"),
                    "not a schema key; the schema has `type`",
                );
                kind = Some(t.to_string());
            } else {
                self.problem(&join(at, "type"), "missing (required)");
            }
        }
        let url = self.string(o, at, "url");
        if url.is_none() {
            self.problem(&join(at, "url"), "missing (required)");
        }
        let headers = self.inputs(o, at, "headers", "name");
        Some(Remote { kind, url, headers })
    }

    /// A list of arguments, variables or headers. A bare string is read as a name.
    fn inputs(
        &mut self,
        o: &Map<String, Value>,
        at: &str,
        camel: &str,
        name_key: &str,
    ) -> Vec<Input> {
        let list = match self.field(o, at, camel) {
            Some(Value::Array(list)) => list.clone(),
            Some(Value::Object(map)) => {
                // `{"NAME": "value"}`: a map where the schema has a list.
                self.problem(&join(at, camel), "an object where a list belongs");
                map.iter()
                    .map(|(k, v)| serde_json::json!({ "name": k, "value": v }))
                    .collect()
            }
            Some(other) => {
                self.problem(
                    &join(at, camel),
                    format!("{} where a list belongs", type_name(other)),
                );
                return Vec::new();
            }
            None => return Vec::new(),
        };
        let mut out = Vec::new();
        for (i, item) in list.iter().enumerate() {
            let iat = format!("{}[{i}]", join(at, camel));
            match item {
                Value::Object(m) => {
                    if m.contains_key("required") && !m.contains_key("isRequired") {
                        self.problem(
                            &join(&iat, "required"),
                            "not a schema key; the schema has `isRequired`",
                        );
                    }
                    let name = self.string(m, &iat, name_key);
                    let value = self.string(m, &iat, "value");
                    let default = self.string(m, &iat, "default");
                    let is_secret = match self.field(m, &iat, "isSecret") {
                        Some(Value::Bool(b)) => *b,
                        Some(other) => {
                            self.problem(
                                &join(&iat, "isSecret"),
                                format!("{} where a boolean belongs", type_name(other)),
                            );
                            other.as_str() == Some("true")
                        }
                        None => false,
                    };
                    out.push(Input {
                        name,
                        value,
                        default,
                        is_secret,
                    });
                }
                Value::String(s) => {
                    self.problem(&iat, format!("the string `{s}` where an object belongs"));
                    out.push(Input {
                        name: Some(s.clone()),
                        ..Input::default()
                    });
                }
                other => self.problem(
                    &iat,
                    format!("{} where an object belongs", type_name(other)),
                ),
            }
        }
        out
    }
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `registryType` → `registry_type`, `fileSha256` → `file_sha256`.
fn snake_case(camel: &str) -> String {
    let mut out = String::new();
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The schema's name pattern `^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$`.
fn valid_name(n: &str) -> bool {
    let Some((ns, rest)) = n.split_once('/') else {
        return false;
    };
    !ns.is_empty()
        && !rest.is_empty()
        && ns
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_spellings_match_the_2025_07_09_schema() {
        assert_eq!(snake_case("registryType"), "registry_type");
        assert_eq!(snake_case("fileSha256"), "file_sha256");
        assert_eq!(snake_case("isSecret"), "is_secret");
        assert_eq!(snake_case("environmentVariables"), "environment_variables");
    }

    #[test]
    fn camel_case_under_the_snake_case_schema_is_a_problem_but_is_read() {
        let s = parse(
            br#"{"$schema": "https://static.modelcontextprotocol.io/schemas/2025-07-09/server.schema.json",
                "name": "io.github.a/b", "description": "d", "version": "1.0.0",
                "packages": [{"registryType": "npm", "identifier": "b", "version": "1.0.0",
                              "transport": {"type": "stdio"}}]}"#,
        )
        .unwrap();
        assert_eq!(s.packages[0].registry_type.as_deref(), Some("npm"));
        assert!(
            s.problems
                .iter()
                .any(|p| p.contains("packages[0].registryType")),
            "{:?}",
            s.problems
        );
    }

    #[test]
    fn bare_strings_and_bom_are_understood() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(
            br#"{"name": "io.github.a/b", "description": "d", "version": "1.0.0",
                "packages": [{"registryType": "nuget", "identifier": "B", "version": "1.0.0",
                              "transport": "stdio", "environmentVariables": ["API_TOKEN"]}]}"#,
        );
        let s = parse(&bytes).unwrap();
        let p = &s.packages[0];
        assert_eq!(p.transport.as_deref(), Some("stdio"));
        assert_eq!(
            p.environment_variables[0].name.as_deref(),
            Some("API_TOKEN")
        );
        assert!(s.problems.iter().any(|p| p.contains("byte order mark")));
        assert!(s.problems.iter().any(|p| p.contains("$schema")));
    }

    #[test]
    fn unreadable_files_say_why() {
        assert!(matches!(parse(b"{\"a\": 1,}"), Err(ReadError::NotJson(_))));
        assert!(matches!(
            parse(b"{\"a\": \"\xff\"}"),
            Err(ReadError::NotUtf8 { offset: 7 })
        ));
        assert!(matches!(parse(b"[1]"), Err(ReadError::NotObject(_))));
    }
}
