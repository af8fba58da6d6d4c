//! The registries a pnpm workspace names in `pnpm-workspace.yaml` (pnpm 11 and later read
//! `registry` and `registries` there; credentials stay in `.npmrc`). Returned as an npm
//! configuration layer at the project's precedence, so a `pnpm-lock.yaml` is checked against and
//! fetched from the registries pnpm would use.
//!
//! Read: `registry: URL`; `registries` as a map of `default` / `@scope` to a URL, or (pnpm
//! 11.23+) of a URL to `{scopes: [...]}`. As pnpm does, a URL holding a `${...}` placeholder is
//! ignored: the file is committed, and expanding variables into a registry URL would let a
//! repository send secrets elsewhere.

use std::path::Path;

use super::yaml::{self, Node};
use crate::npmrc::{ConfigSource, Entry, Layer};

/// A `pnpm-workspace.yaml` larger than this is refused.
pub const MAX_WORKSPACE_BYTES: u64 = 1024 * 1024;

fn usable(url: &str) -> bool {
    !url.contains("${") && (url.starts_with("https://") || url.starts_with("http://"))
}

/// The registry settings of `dir/pnpm-workspace.yaml`; `None` when the file is absent or sets
/// none.
pub fn registry_layer(dir: &Path) -> Result<Option<Layer>, String> {
    use std::io::Read;
    let path = dir.join("pnpm-workspace.yaml");
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: cannot read it: {e}", path.display())),
    };
    let mut bytes = Vec::new();
    file.take(MAX_WORKSPACE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: cannot read it: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_WORKSPACE_BYTES {
        return Err(format!("{}: larger than 1 MiB: refused", path.display()));
    }
    let text = String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8", path.display()))?;
    let docs = yaml::parse(&text).map_err(|e| e.at(&path))?;
    let Some(doc) = docs.first() else {
        return Ok(None);
    };
    let mut entries = Vec::new();
    let mut add = |key: String, url: &str, line: usize| {
        if usable(url) {
            entries.push(Entry::new(key, url.to_string(), Some(line)));
        }
    };
    for (k, line, v) in doc.entries() {
        match (k.as_str(), v) {
            ("registry", Node::Scalar(url)) => add("registry".into(), url, *line),
            ("registries", Node::Map(list)) => {
                for (name, l, value) in list {
                    match value {
                        Node::Scalar(url) if name == "default" => add("registry".into(), url, *l),
                        Node::Scalar(url) if name.starts_with('@') && name.len() > 1 => {
                            add(format!("{name}:registry"), url, *l)
                        }
                        Node::Map(_) => {
                            let scopes = match value.get("scopes") {
                                Some(Node::Seq(s)) => s.as_slice(),
                                _ => &[],
                            };
                            for s in scopes {
                                if let Node::Scalar(scope) = s {
                                    if scope.starts_with('@') && scope.len() > 1 {
                                        add(format!("{scope}:registry"), name, *l);
                                    }
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok((!entries.is_empty()).then(|| Layer::new(ConfigSource::Project(path), entries)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_shapes_and_ignores_placeholders() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("pnpm-workspace.yaml");
        assert_eq!(registry_layer(d.path()).unwrap(), None);
        std::fs::write(&p, "packages:\n  - 'packages/*'\n").unwrap();
        assert_eq!(registry_layer(d.path()).unwrap(), None);
        std::fs::write(
            &p,
            "registry: https://npm.example/\nregistries:\n  '@a': https://a.example/\n  '@b': https://${HOST}/\n  https://c.example/npm/:\n    scopes: ['@c', '@']\n",
        )
        .unwrap();
        let l = registry_layer(d.path()).unwrap().unwrap();
        let got: Vec<(&str, &str)> = l
            .entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("registry", "https://npm.example/"),
                ("@a:registry", "https://a.example/"),
                ("@c:registry", "https://c.example/npm/"),
            ]
        );
        std::fs::write(&p, "a: &x 1\nb: *x\n").unwrap();
        assert!(registry_layer(d.path()).unwrap_err().contains("alias"));
    }
}
