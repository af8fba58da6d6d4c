//! Which tarball entries `npm pack` would not have produced.
//!
//! Mirrors npm-packlist (npm/npm-packlist `lib/index.js`, the arborist-based walker of v7-v10):
//! * with a `files` array, everything is excluded (`*`) and each entry re-included in order, last
//!   match winning: a leading `/` or `./` is dropped, otherwise a trailing `/*` is; a directory
//!   includes everything below it; a pattern without `/` matches a name at any depth (ignore-walk's
//!   gitignore semantics); an odd number of leading `!` excludes instead; matching ignores case;
//! * always included whatever `files` says (its "strict" rules): `/package.json`, the `main`,
//!   `browser` and every `bin` target, entries of `files` that name an existing file, and
//!   `readme`/`copying`/`license`/`licence` with any extension not ending in `~` or `$`;
//! * never included: `.npmrc` at any depth, `/package-lock.json`, `/yarn.lock`,
//!   `/pnpm-lock.yaml`, `/.git`, and `/node_modules` except `bundleDependencies`.
//!
//! Deliberate leniency, to never call a genuine `npm pack` a hand publish: readme/license files
//! are accepted at any depth (npm includes them only in directories it walks), and a root
//! `npm-shrinkwrap.json` is accepted (npm-packlist before v7 always included it). Not mirrored:
//! `.npmignore` inside included directories (it can only remove files, so ignoring it cannot
//! produce a false "outside" report), extglobs (`@(…)`, `!(…)`: the check is then skipped and
//! said so), `{a..b}` ranges.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::manifest::normalize_bin;

pub(crate) enum Outcome {
    NoFilesList,
    Checked(Vec<String>),
    Unsupported(String),
}

struct Rule {
    /// Brace-expanded alternatives, lowercased, split into segments.
    alternatives: Vec<Vec<String>>,
    /// Contains a `/` (other than a trailing one): anchored at the package root.
    anchored: bool,
    exclude: bool,
}

static MUST_HAVE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:readme|copying|license|licence)(?:\..*[^~$])?$").expect("static regex")
});

pub(crate) fn outside_whitelist(pkg: &Value, files: &[String]) -> Outcome {
    let Some(list) = pkg.get("files").and_then(Value::as_array) else {
        return Outcome::NoFilesList;
    };
    let file_set: BTreeSet<String> = files.iter().map(|f| f.to_ascii_lowercase()).collect();
    let mut rules = Vec::new();
    let mut strict: BTreeSet<String> = BTreeSet::new();
    for item in list.iter().filter_map(Value::as_str) {
        let mut file = item;
        if let Some(rest) = file.strip_prefix('/') {
            file = rest;
        } else if let Some(rest) = file.strip_prefix("./") {
            file = rest;
        } else if let Some(rest) = file.strip_suffix("/*") {
            file = rest;
        }
        let bangs = file.len() - file.trim_start_matches('!').len();
        let pattern = file[bangs..].trim_end_matches('/');
        let exclude = bangs % 2 == 1;
        if pattern.is_empty() {
            continue;
        }
        if ["@(", "+(", "!(", "*(", "?("]
            .iter()
            .any(|x| pattern.contains(x))
        {
            return Outcome::Unsupported(format!(
                "files pattern {item:?} uses an extended glob; files whitelist not checked"
            ));
        }
        let lower = pattern.to_ascii_lowercase();
        if !exclude && file_set.contains(&lower) {
            strict.insert(lower.clone());
        }
        rules.push(Rule {
            alternatives: expand_braces(&lower)
                .into_iter()
                .map(|a| a.split('/').map(str::to_string).collect())
                .collect(),
            anchored: lower.contains('/'),
            exclude,
        });
    }

    let name = pkg.get("name").and_then(Value::as_str);
    for target in normalize_bin(name, pkg.get("bin")).into_values() {
        strict.insert(target.to_ascii_lowercase());
    }
    for field in ["main", "browser"] {
        if let Some(p) = pkg.get(field).and_then(Value::as_str) {
            strict.insert(clean(p).to_ascii_lowercase());
        }
    }
    strict.insert("package.json".into());
    strict.insert("npm-shrinkwrap.json".into());
    let bundled = bundled(pkg);

    let mut outside: Vec<String> = files
        .iter()
        .filter(|f| {
            let lower = f.to_ascii_lowercase();
            let segs: Vec<&str> = lower.split('/').collect();
            let mut included = false;
            for rule in &rules {
                if rule.matches(&segs) {
                    included = !rule.exclude;
                }
            }
            !(included
                || strict.contains(&lower)
                || MUST_HAVE_RE.is_match(segs[segs.len() - 1])
                || in_bundle(&segs, &bundled))
        })
        .cloned()
        .collect();
    outside.sort();
    outside.dedup();
    Outcome::Checked(outside)
}

/// Entries npm never packs, whatever `files`, `.npmignore` or `.gitignore` say.
pub(crate) fn never_packed(pkg: &Value, files: &[String]) -> Vec<String> {
    let bundled = bundled(pkg);
    let mut out: Vec<String> = files
        .iter()
        .filter(|f| {
            let segs: Vec<&str> = f.split('/').collect();
            segs.last() == Some(&".npmrc")
                || matches!(
                    f.as_str(),
                    "package-lock.json" | "yarn.lock" | "pnpm-lock.yaml"
                )
                || segs[0] == ".git"
                || (segs[0] == "node_modules" && !in_bundle(&segs, &bundled))
        })
        .cloned()
        .collect();
    out.sort();
    out
}

fn bundled(pkg: &Value) -> Vec<String> {
    let field = pkg
        .get("bundleDependencies")
        .or_else(|| pkg.get("bundledDependencies"));
    match field {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        // `true` bundles every dependency.
        Some(Value::Bool(true)) => pkg
            .get("dependencies")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn in_bundle(segs: &[&str], bundled: &[String]) -> bool {
    if segs.len() < 2 || !segs[0].eq_ignore_ascii_case("node_modules") {
        return false;
    }
    // npm-packlist also walks a bundled package's own dependencies; they live below it.
    let name = if segs[1].starts_with('@') && segs.len() > 2 {
        format!("{}/{}", segs[1], segs[2])
    } else {
        segs[1].to_string()
    };
    bundled.iter().any(|b| b.eq_ignore_ascii_case(&name))
}

fn clean(p: &str) -> String {
    p.replace('\\', "/")
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect::<Vec<_>>()
        .join("/")
}

impl Rule {
    /// gitignore semantics: a rule covers a path if it matches the path or one of its ancestor
    /// directories (including a directory includes its contents).
    fn matches(&self, path: &[&str]) -> bool {
        self.alternatives.iter().any(|alt| {
            if self.anchored {
                (1..=path.len()).any(|n| match_segments(alt, &path[..n]))
            } else {
                path.iter()
                    .any(|seg| match_segment(alt[0].as_bytes(), seg.as_bytes()))
            }
        })
    }
}

fn match_segments(pat: &[String], path: &[&str]) -> bool {
    match pat.split_first() {
        None => path.is_empty(),
        Some((first, rest)) if first == "**" => {
            (0..=path.len()).any(|skip| match_segments(rest, &path[skip..]))
        }
        Some((first, rest)) => match path.split_first() {
            Some((seg, path_rest)) => {
                match_segment(first.as_bytes(), seg.as_bytes()) && match_segments(rest, path_rest)
            }
            None => false,
        },
    }
}

/// One path segment against one glob segment: `*`, `?`, `[a-z]`, `[!x]`/`[^x]`; dot files are
/// matched like any other name (npm-packlist globs with `dot: true`).
fn match_segment(pat: &[u8], s: &[u8]) -> bool {
    // Iterative wildcard matching with single-star backtracking: linear enough for names.
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        if p < pat.len() {
            match pat[p] {
                b'*' => {
                    star = Some((p, i));
                    p += 1;
                    continue;
                }
                b'?' => {
                    p += 1;
                    i += 1;
                    continue;
                }
                b'[' => {
                    if let Some((matched, len)) = class(&pat[p..], s[i]) {
                        if matched {
                            p += len;
                            i += 1;
                            continue;
                        }
                    } else if s[i] == b'[' {
                        p += 1;
                        i += 1;
                        continue;
                    }
                }
                b'\\' if p + 1 < pat.len() && pat[p + 1] == s[i] => {
                    p += 2;
                    i += 1;
                    continue;
                }
                c if c == s[i] => {
                    p += 1;
                    i += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, si)) => {
                p = sp + 1;
                i = si + 1;
                star = Some((sp, si + 1));
            }
            None => return false,
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

/// A `[...]` class at the start of `pat`: whether `c` matches, and the class length. `None` when
/// the class is not terminated (then `[` is literal).
fn class(pat: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(pat.get(1), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < pat.len() {
        if pat[i] == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if i + 2 < pat.len() && pat[i + 1] == b'-' && pat[i + 2] != b']' {
            if pat[i] <= c && c <= pat[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if pat[i] == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

/// `a{b,c}d` → `abd`, `acd`, recursively; bounded so a hostile pattern cannot explode.
fn expand_braces(pattern: &str) -> Vec<String> {
    let mut out = Vec::new();
    expand_into(pattern, &mut out);
    if out.is_empty() {
        out.push(pattern.to_string());
    }
    out
}

fn expand_into(pattern: &str, out: &mut Vec<String>) {
    const MAX: usize = 256;
    if out.len() >= MAX {
        return;
    }
    let bytes = pattern.as_bytes();
    let Some(open) = bytes.iter().position(|&b| b == b'{') else {
        out.push(pattern.to_string());
        return;
    };
    let mut depth = 0;
    let mut commas = Vec::new();
    let mut close = None;
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            b',' if depth == 1 => commas.push(i),
            _ => {}
        }
    }
    let Some(close) = close.filter(|_| !commas.is_empty()) else {
        out.push(pattern.to_string());
        return;
    };
    let (head, tail) = (&pattern[..open], &pattern[close + 1..]);
    let mut start = open + 1;
    for end in commas.into_iter().chain([close]) {
        expand_into(&format!("{head}{}{tail}", &pattern[start..end]), out);
        start = end + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outside(pkg: Value, files: &[&str]) -> Vec<String> {
        let files: Vec<String> = files.iter().map(|s| s.to_string()).collect();
        match outside_whitelist(&pkg, &files) {
            Outcome::Checked(v) => v,
            Outcome::NoFilesList => panic!("no files list"),
            Outcome::Unsupported(w) => panic!("{w}"),
        }
    }

    #[test]
    fn globbing() {
        assert!(match_segment(b"*.js", b"index.js"));
        assert!(match_segment(b"*", b".hidden"));
        assert!(!match_segment(b"*.js", b"index.ts"));
        assert!(match_segment(b"a?c", b"abc"));
        assert!(match_segment(b"[a-c]x", b"bx"));
        assert!(!match_segment(b"[!a-c]x", b"bx"));
        assert!(match_segment(b"*-*.d.ts", b"x-y.d.ts"));
        assert_eq!(expand_braces("a/{b,c}/*.{js,ts}").len(), 4);
        assert_eq!(expand_braces("no{brace"), vec!["no{brace"]);
    }

    #[test]
    fn files_rules() {
        let pkg = json!({
            "name": "p", "main": "./lib/main.js", "bin": {"p": "bin/p.js"},
            "files": ["dist/", "types/**/*.d.ts", "!dist/secret", "*.md", "/root-only.txt"],
            "bundleDependencies": ["dep"]
        });
        let got = outside(
            pkg,
            &[
                "package.json",
                "README",
                "LICENSE.md",
                "docs/CHANGELOG.md",
                "dist/index.js",
                "dist/secret/key.pem",
                "types/a/b.d.ts",
                "types/a/b.js",
                "lib/main.js",
                "bin/p.js",
                "root-only.txt",
                "src/index.ts",
                "node_modules/dep/index.js",
                "node_modules/other/index.js",
                ".npmrc",
            ],
        );
        assert_eq!(
            got,
            vec![
                ".npmrc",
                "dist/secret/key.pem",
                "node_modules/other/index.js",
                "src/index.ts",
                "types/a/b.js"
            ]
        );
    }

    #[test]
    fn exact_file_entries_are_strict_and_star_suffix_is_a_directory() {
        let pkg = json!({"files": ["dist/*", "extra/x.js", "!extra"]});
        let got = outside(pkg, &["dist/a/b.js", "extra/x.js", "extra/y.js"]);
        assert_eq!(got, vec!["extra/y.js"]);
    }

    #[test]
    fn extglob_is_not_guessed() {
        let pkg = json!({"files": ["@(a|b)"]});
        assert!(matches!(
            outside_whitelist(&pkg, &[]),
            Outcome::Unsupported(_)
        ));
    }

    #[test]
    fn never_packed_entries() {
        let files: Vec<String> = [
            "a/.npmrc",
            "yarn.lock",
            "sub/yarn.lock",
            ".git/config",
            "node_modules/x/i.js",
            "node_modules/@s/b/i.js",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let got = never_packed(&json!({"bundleDependencies": ["@s/b"]}), &files);
        assert_eq!(
            got,
            vec![
                ".git/config",
                "a/.npmrc",
                "node_modules/x/i.js",
                "yarn.lock"
            ]
        );
    }
}
