//! `yarn.lock`: v1 (yarn classic's own format, close to but not YAML: no crate reads it, so it
//! is read here, line by line) and berry (yarn 2+, real YAML with a `__metadata` key).

use super::yaml;
use super::{classify, split_name, Format, LockError, LockedEntry, SourceKind};

pub(super) fn parse(text: &str) -> Result<(Format, Vec<LockedEntry>), LockError> {
    let berry = text
        .lines()
        .any(|l| l.starts_with("__metadata:") || l.starts_with("\"__metadata\":"));
    if berry {
        berry_parse(text)
    } else {
        v1(text)
    }
}

/// A v1 value: `"quoted"` (with JSON escapes) or bare.
fn unquote(raw: &str, line: usize) -> Result<String, LockError> {
    let raw = raw.trim();
    if !raw.starts_with('"') {
        return Ok(raw.to_string());
    }
    serde_json::from_str::<String>(raw).map_err(|_| {
        LockError::new(
            Some(line),
            format!("unterminated or malformed string {raw}"),
        )
    })
}

/// The specs of a v1 block header (`"a@^1", a@^1.1:`), unquoted.
fn header_specs(header: &str, line: usize) -> Result<Vec<String>, LockError> {
    let mut specs = Vec::new();
    let mut rest = header.trim();
    while !rest.is_empty() {
        let (spec, after) = if rest.starts_with('"') {
            // The closing quote: the first `"` not escaped.
            let bytes = rest.as_bytes();
            let mut i = 1;
            let mut end = None;
            while i < bytes.len() {
                match bytes[i] {
                    b'\\' => i += 2,
                    b'"' => {
                        end = Some(i);
                        break;
                    }
                    _ => i += 1,
                }
            }
            let end = end.ok_or_else(|| {
                LockError::new(Some(line), "unterminated quoted key in a block header")
            })?;
            (unquote(&rest[..=end], line)?, &rest[end + 1..])
        } else {
            match rest.find(',') {
                Some(c) => (rest[..c].trim().to_string(), &rest[c..]),
                None => (rest.to_string(), ""),
            }
        };
        specs.push(spec);
        rest = after.trim_start();
        if let Some(r) = rest.strip_prefix(',') {
            rest = r.trim_start();
        } else if !rest.is_empty() {
            return Err(LockError::new(
                Some(line),
                format!("unexpected `{rest}` in a block header"),
            ));
        }
    }
    Ok(specs)
}

struct Block {
    key: String,
    line: usize,
    specs: Vec<String>,
    version: Option<String>,
    resolved: Option<String>,
    integrity: Option<String>,
}

fn v1(text: &str) -> Result<(Format, Vec<LockedEntry>), LockError> {
    let mut out = Vec::new();
    let mut block: Option<Block> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim_end();
        if trimmed.trim_start().is_empty() || trimmed.trim_start().starts_with('#') {
            continue;
        }
        let indent = trimmed.len() - trimmed.trim_start().len();
        if indent == 0 {
            if let Some(b) = block.take() {
                out.push(finish(b)?);
            }
            let Some(header) = trimmed.strip_suffix(':') else {
                return Err(LockError::new(
                    Some(line),
                    "a block header must end with `:`: not a yarn v1 lockfile",
                ));
            };
            let specs = header_specs(header, line)?;
            if specs.is_empty() {
                return Err(LockError::new(Some(line), "an empty block header"));
            }
            block = Some(Block {
                key: header.to_string(),
                line,
                specs,
                version: None,
                resolved: None,
                integrity: None,
            });
            continue;
        }
        let Some(b) = block.as_mut() else {
            return Err(LockError::new(
                Some(line),
                "an indented line before any block header",
            ));
        };
        // Only the block's own fields (two spaces in) matter; deeper lines are its
        // `dependencies`/`optionalDependencies` lists.
        if indent != 2 {
            continue;
        }
        let field = trimmed.trim_start();
        let (name, value) = match field.split_once(' ') {
            Some((n, v)) => (n, v),
            None => (field, ""),
        };
        let value = || unquote(value, line);
        match unquote(name, line)?.as_str() {
            "version" => b.version = Some(value()?),
            "resolved" => b.resolved = Some(value()?),
            "integrity" => b.integrity = Some(value()?),
            _ => {}
        }
    }
    if let Some(b) = block.take() {
        out.push(finish(b)?);
    }
    Ok((Format::YarnV1, out))
}

fn finish(b: Block) -> Result<LockedEntry, LockError> {
    let first = &b.specs[0];
    let (installed_as, range) = split_name(first).ok_or_else(|| {
        LockError::new(
            Some(b.line),
            format!("`{first}` names no package and range"),
        )
    })?;
    let (name, range) = match range.strip_prefix("npm:") {
        Some(aliased) => match split_name(aliased) {
            Some((real, r)) => (real, r),
            // `npm:real` with no range.
            None => (aliased, ""),
        },
        None => (installed_as, range),
    };
    let version = b
        .version
        .ok_or_else(|| LockError::new(Some(b.line), format!("block `{}` has no version", b.key)))?;
    let source = match &b.resolved {
        Some(r) => classify(r),
        None => match classify(range) {
            // A bare range classifies as a relative path; with no `resolved` it is a registry
            // version only if it is not a protocol.
            SourceKind::File if !range.starts_with("file:") => SourceKind::Registry,
            k => k,
        },
    };
    Ok(LockedEntry {
        alias: (name != installed_as).then(|| installed_as.to_string()),
        name: name.to_string(),
        version,
        resolved: b.resolved,
        integrity: b.integrity,
        source,
        key: b.key,
        line: Some(b.line),
        paths: Vec::new(),
    })
}

fn berry_parse(text: &str) -> Result<(Format, Vec<LockedEntry>), LockError> {
    let docs = yaml::parse(text)?;
    let Some(doc) = docs.first() else {
        return Err(LockError::new(Some(1), "an empty yarn.lock"));
    };
    let version: u32 = doc
        .get("__metadata")
        .and_then(|m| m.str("version"))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            LockError::new(Some(1), "`__metadata.version` is missing or not a number")
        })?;
    let mut out = Vec::new();
    for (key, line, meta) in doc.entries() {
        if key == "__metadata" {
            continue;
        }
        let line = Some(*line);
        let resolution = meta
            .str("resolution")
            .ok_or_else(|| LockError::new(line, format!("entry `{key}` has no resolution")))?;
        let (name, reference) = split_name(resolution).ok_or_else(|| {
            LockError::new(line, format!("resolution `{resolution}` names no package"))
        })?;
        let version = meta.str("version").unwrap_or_default().to_string();
        let (source, name, version, resolved) = berry_source(name, reference, version);
        if source == SourceKind::Workspace && reference == "workspace:." {
            // The project itself.
            continue;
        }
        let installed_as = key
            .split(',')
            .next()
            .and_then(|s| split_name(s.trim()))
            .map(|(n, _)| n.to_string());
        out.push(LockedEntry {
            alias: installed_as.filter(|a| *a != name),
            name,
            version,
            resolved,
            integrity: meta.str("checksum").map(str::to_string),
            source,
            key: key.clone(),
            line,
            paths: Vec::new(),
        });
    }
    Ok((Format::YarnBerry(version), out))
}

/// What a berry resolution reference (`npm:1.0.0`, `workspace:…`, `patch:…`, a URL) points at.
fn berry_source(
    name: &str,
    reference: &str,
    version: String,
) -> (SourceKind, String, String, Option<String>) {
    if let Some(v) = reference.strip_prefix("npm:") {
        return (SourceKind::Registry, name.to_string(), v.to_string(), None);
    }
    if let Some(inner) = reference.strip_prefix("patch:") {
        // `patch:pkg@npm%3A1.0.0#…`: a registry package with a local patch applied on install.
        let spec = inner
            .split('#')
            .next()
            .unwrap_or_default()
            .replace("%3A", ":");
        if let Some((n, r)) = split_name(&spec) {
            if let Some(v) = r.strip_prefix("npm:") {
                return (SourceKind::Registry, n.to_string(), v.to_string(), None);
            }
        }
        return (
            SourceKind::File,
            name.to_string(),
            version,
            Some(reference.to_string()),
        );
    }
    let kind = if reference.starts_with("workspace:") {
        SourceKind::Workspace
    } else {
        classify(reference)
    };
    (kind, name.to_string(), version, Some(reference.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_blocks_aliases_and_errors() {
        let text = "# yarn lockfile v1\n\n\n\"@s/a@^1.0.0\", \"@s/a@^1.1.0\":\n  version \"1.2.0\"\n  resolved \"https://registry.yarnpkg.com/@s/a/-/a-1.2.0.tgz#abc\"\n  integrity sha512-AA==\n  dependencies:\n    b \"^1\"\n\nalias@npm:real@^2:\n  version \"2.0.0\"\n";
        let (f, e) = v1(text).unwrap();
        assert_eq!(f, Format::YarnV1);
        assert_eq!(e[0].name, "@s/a");
        assert_eq!(e[0].line, Some(4));
        assert_eq!(e[0].integrity.as_deref(), Some("sha512-AA=="));
        assert_eq!(e[1].name, "real");
        assert_eq!(e[1].alias.as_deref(), Some("alias"));
        assert_eq!(e[1].source, SourceKind::Registry);
        let err = v1("a@^1:\n  version \"1\n").unwrap_err();
        assert_eq!(err.line, Some(2));
        let err = v1("  version \"1\"\n").unwrap_err();
        assert_eq!(err.line, Some(1));
        assert!(v1("a@^1\n").is_err());
    }

    #[test]
    fn berry_resolutions() {
        let text = "__metadata:\n  version: 8\n\n\"a@npm:^1.0.0\":\n  version: 1.0.0\n  resolution: \"a@npm:1.0.0\"\n  checksum: 10c0/ab\n\n\"x@workspace:.\":\n  version: 0.0.0-use.local\n  resolution: \"x@workspace:.\"\n\n\"t@patch:t@npm%3A5.0.0#~builtin<compat/t>\":\n  version: 5.0.0\n  resolution: \"t@patch:t@npm%3A5.0.0#~builtin<compat/t>::version=5.0.0\"\n\n\"g@https://github.com/o/g.git#commit=abc\":\n  version: 0.1.0\n  resolution: \"g@https://github.com/o/g.git#commit=abc\"\n";
        let (f, e) = parse(text).unwrap();
        assert_eq!(f, Format::YarnBerry(8));
        let got: Vec<_> = e
            .iter()
            .map(|e| (e.name.as_str(), e.version.as_str(), e.source, e.line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", "1.0.0", SourceKind::Registry, Some(4)),
                ("t", "5.0.0", SourceKind::Registry, Some(13)),
                ("g", "0.1.0", SourceKind::Git, Some(17)),
            ]
        );
    }
}
