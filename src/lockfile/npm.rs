//! `package-lock.json` and `npm-shrinkwrap.json`: v1 (`dependencies`, nested), v2 (both) and v3
//! (`packages`, keyed by install path), as npm's arborist writes them. v2 is read from its
//! `packages` section, which npm itself prefers.

use serde_json::{Map, Value};

use super::{classify, Format, LockError, LockedEntry, SourceKind};

pub(super) fn parse(text: &str) -> Result<(Format, Vec<LockedEntry>), LockError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        LockError::new(
            Some(e.line()),
            format!("not valid JSON: {e}")
                .replace(&format!(" at line {} column {}", e.line(), e.column()), ""),
        )
    })?;
    let Some(top) = doc.as_object() else {
        return Err(LockError::new(Some(1), "not a JSON object"));
    };
    let version = match top.get("lockfileVersion") {
        None => 1,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(v @ 1..=3) => v as u8,
            _ => {
                return Err(LockError::new(
                    line_of_key(text, "lockfileVersion", 0).map(|(l, _)| l),
                    format!("lockfileVersion {n} is not one mcp-audit reads (1, 2, 3)"),
                ))
            }
        },
        Some(_) => {
            return Err(LockError::new(
                line_of_key(text, "lockfileVersion", 0).map(|(l, _)| l),
                "lockfileVersion is not a number",
            ))
        }
    };
    let mut lines = Lines::new(text);
    let entries = match (top.get("packages"), top.get("dependencies")) {
        (Some(Value::Object(packages)), _) if version >= 2 => {
            lines.skip_to_key("packages");
            packages_section(packages, &mut lines)?
        }
        (Some(_), _) if version >= 2 => {
            return Err(LockError::new(
                line_of_key(text, "packages", 0).map(|(l, _)| l),
                "`packages` is not an object",
            ))
        }
        (_, Some(Value::Object(deps))) => {
            lines.skip_to_key("dependencies");
            let mut out = Vec::new();
            dependencies_section(deps, "", &mut lines, &mut out)?;
            out
        }
        (_, None) => Vec::new(),
        (_, Some(_)) => {
            return Err(LockError::new(
                line_of_key(text, "dependencies", 0).map(|(l, _)| l),
                "`dependencies` is not an object",
            ))
        }
    };
    Ok((Format::Npm(version), entries))
}

fn str_field<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    o.get(key).and_then(Value::as_str)
}

/// v2/v3 `packages`: `""` is the project, `node_modules/…` installed packages, anything else a
/// workspace folder.
fn packages_section(
    packages: &Map<String, Value>,
    lines: &mut Lines<'_>,
) -> Result<Vec<LockedEntry>, LockError> {
    let mut out = Vec::with_capacity(packages.len());
    for (path, meta) in packages {
        let line = lines.next_object_key(path);
        if path.is_empty() {
            continue;
        }
        let Some(meta) = meta.as_object() else {
            return Err(LockError::new(
                line,
                format!("entry `{path}` is not an object"),
            ));
        };
        let installed_as = match path.rfind("node_modules/") {
            Some(i) => &path[i + "node_modules/".len()..],
            None => {
                // A workspace folder (`packages/a`): the project's own code.
                out.push(LockedEntry {
                    name: str_field(meta, "name").unwrap_or(path).to_string(),
                    alias: None,
                    version: str_field(meta, "version").unwrap_or_default().to_string(),
                    resolved: None,
                    integrity: None,
                    source: SourceKind::Workspace,
                    key: path.clone(),
                    line,
                    paths: Vec::new(),
                });
                continue;
            }
        };
        let name = str_field(meta, "name").unwrap_or(installed_as).to_string();
        let resolved = str_field(meta, "resolved").map(str::to_string);
        let link = meta.get("link").and_then(Value::as_bool) == Some(true);
        let source = if link {
            SourceKind::Link
        } else if meta.get("inBundle").and_then(Value::as_bool) == Some(true) {
            SourceKind::Bundled
        } else {
            resolved.as_deref().map_or(SourceKind::Registry, classify)
        };
        out.push(LockedEntry {
            alias: (name != installed_as).then(|| installed_as.to_string()),
            name,
            version: str_field(meta, "version").unwrap_or_default().to_string(),
            resolved,
            integrity: str_field(meta, "integrity").map(str::to_string),
            source,
            key: path.clone(),
            line,
            paths: Vec::new(),
        });
    }
    Ok(out)
}

/// v1 `dependencies`, nested the way the tree is: `key` is the install path, as v2 spells it.
/// Recursion is bounded by serde_json's nesting limit (128), which already refused deeper input.
fn dependencies_section(
    deps: &Map<String, Value>,
    parent: &str,
    lines: &mut Lines<'_>,
    out: &mut Vec<LockedEntry>,
) -> Result<(), LockError> {
    for (installed_as, meta) in deps {
        let line = lines.next_object_key(installed_as);
        let key = format!("{parent}node_modules/{installed_as}");
        let Some(meta) = meta.as_object() else {
            return Err(LockError::new(
                line,
                format!("dependency `{key}` is not an object"),
            ));
        };
        let raw_version = str_field(meta, "version").unwrap_or_default();
        // v1 writes an alias as `"version": "npm:real@1.0.0"`.
        let (name, version) = match raw_version.strip_prefix("npm:") {
            Some(spec) => match super::split_name(spec) {
                Some((n, v)) => (n.to_string(), v.to_string()),
                None => (installed_as.clone(), raw_version.to_string()),
            },
            None => (installed_as.clone(), raw_version.to_string()),
        };
        let resolved = str_field(meta, "resolved").map(str::to_string);
        let source = if meta.get("bundled").and_then(Value::as_bool) == Some(true) {
            SourceKind::Bundled
        } else if raw_version.starts_with("file:") {
            SourceKind::File
        } else {
            match (&resolved, classify(raw_version)) {
                (Some(r), _) => classify(r),
                // No `resolved`: a version is from the registry; a git or file spec in
                // `version` says what it is.
                (None, SourceKind::File) => SourceKind::Registry,
                (None, k) => k,
            }
        };
        out.push(LockedEntry {
            alias: (&name != installed_as).then(|| installed_as.clone()),
            name,
            version,
            resolved,
            integrity: str_field(meta, "integrity").map(str::to_string),
            source,
            key: key.clone(),
            line,
            paths: Vec::new(),
        });
        if let Some(Value::Object(nested)) = meta.get("dependencies") {
            dependencies_section(nested, &format!("{key}/"), lines, out)?;
        }
    }
    Ok(())
}

/// Finds the lines of object keys by scanning forward through the text in document order, so
/// the whole file costs one pass. serde_json keeps no positions; the keys are visited in the
/// order they are written (`preserve_order`), each one is searched from where the last was found.
struct Lines<'a> {
    text: &'a str,
    at: usize,
    line: usize,
    /// A key was not found: later searches would each scan to the end of the text (quadratic
    /// on a hostile file), so the remaining entries get no line.
    lost: bool,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines {
            text,
            at: 0,
            line: 1,
            lost: false,
        }
    }

    fn skip_to_key(&mut self, key: &str) {
        if let Some((line, end)) = line_of_key(self.text, key, self.at) {
            self.line = line;
            self.at = end;
        }
    }

    /// The line of the next `"key": {`, searched from the last one found. `None` (and the
    /// cursor unmoved) when the key is written with escapes the search does not reproduce.
    fn next_object_key(&mut self, key: &str) -> Option<usize> {
        if self.lost {
            return None;
        }
        let needle = serde_json::to_string(key).ok()?;
        let mut from = self.at;
        loop {
            let Some(i) = self.text.get(from..).and_then(|t| t.find(&needle)) else {
                self.lost = true;
                return None;
            };
            let i = from + i;
            let after = self.text[i + needle.len()..].trim_start();
            if let Some(rest) = after.strip_prefix(':') {
                if rest.trim_start().starts_with('{') {
                    self.line += self.text[self.at..i].matches('\n').count();
                    self.at = i + needle.len();
                    return Some(self.line);
                }
            }
            from = i + needle.len();
        }
    }
}

/// Line of the first `"key":` at or after byte `from`, and the byte after it.
fn line_of_key(text: &str, key: &str, from: usize) -> Option<(usize, usize)> {
    let needle = format!("\"{key}\"");
    let i = from + text.get(from..)?.find(&needle)?;
    Some((text[..i].matches('\n').count() + 1, i + needle.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v3_aliases_links_workspaces_and_lines() {
        let text = r#"{
  "lockfileVersion": 3,
  "packages": {
    "": { "name": "root" },
    "node_modules/a": {
      "version": "1.0.0",
      "resolved": "https://registry.npmjs.org/a/-/a-1.0.0.tgz",
      "integrity": "sha512-AA=="
    },
    "node_modules/b": { "name": "real-b", "version": "2.0.0" },
    "node_modules/c": { "resolved": "packages/c", "link": true },
    "packages/c": { "name": "c", "version": "0.1.0" },
    "node_modules/a/node_modules/d": { "version": "1.0.0", "resolved": "git+ssh://git@github.com/o/d.git#abc" }
  }
}"#;
        let (f, e) = parse(text).unwrap();
        assert_eq!(f, Format::Npm(3));
        let summary: Vec<_> = e
            .iter()
            .map(|e| {
                (
                    e.name.as_str(),
                    e.alias.as_deref(),
                    e.source,
                    e.line.unwrap(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("a", None, SourceKind::Registry, 5),
                ("real-b", Some("b"), SourceKind::Registry, 10),
                ("c", None, SourceKind::Link, 11),
                ("c", None, SourceKind::Workspace, 12),
                ("d", None, SourceKind::Git, 13),
            ]
        );
    }

    #[test]
    fn v1_nests_and_reads_aliases() {
        let text = r#"{
  "lockfileVersion": 1,
  "dependencies": {
    "a": {
      "version": "1.0.0",
      "requires": { "b": "^1" },
      "dependencies": {
        "b": { "version": "npm:real-b@1.2.0", "integrity": "sha1-AA==" }
      }
    }
  }
}"#;
        let (_, e) = parse(text).unwrap();
        assert_eq!(e[1].key, "node_modules/a/node_modules/b");
        assert_eq!(e[1].name, "real-b");
        assert_eq!(e[1].version, "1.2.0");
        assert_eq!(e[1].line, Some(8), "the dependency, not the `requires` key");
    }

    #[test]
    fn malformed_json_names_the_line() {
        let err = parse("{\n  \"lockfileVersion\": 3,\n  \"packages\": {,\n}").unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(err.message.starts_with("not valid JSON"), "{}", err.message);
        let err = parse("{\"lockfileVersion\": 7}").unwrap_err();
        assert!(err.message.contains("lockfileVersion 7"));
        let deep = "[".repeat(100_000);
        assert!(parse(&deep).is_err());
    }
}
