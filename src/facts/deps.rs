//! Classification of dependency specs the way npm-package-arg reads them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RangeClass {
    /// `1.2.3`, `=1.2.3`, `v1.2.3`
    Exact,
    /// `^1.2.3` with a non-zero major
    Caret,
    /// `^0.x`: npm treats the minor as breaking, but 0.x projects rarely follow semver.
    CaretZero,
    /// `~1.2.3`
    Tilde,
    /// `1`, `1.x`, `1.2.x`: floats like a caret or tilde.
    XRange,
    /// Comparators with both bounds (`>=1.2.0 <2`, `1.0.0 - 1.4.0`).
    Bounded,
    /// A lower bound with nothing above it (`>=1.0.0`, `>1`), in any `||` alternative.
    OpenUpper,
    /// `*`, `x`, empty, or a dist-tag such as `latest` or `next`: anything the publisher pushes.
    Wildcard,
    /// git, github:, gitlab:, `user/repo` shorthands.
    Git,
    /// http(s) tarball URLs.
    Url,
    /// `file:` and path specs.
    File,
    /// `link:` (a symlink at install time).
    Link,
    /// `workspace:` and similar protocol specs npm does not resolve from a registry.
    Other,
}

impl RangeClass {
    pub fn is_registry(self) -> bool {
        !matches!(
            self,
            RangeClass::Git
                | RangeClass::Url
                | RangeClass::File
                | RangeClass::Link
                | RangeClass::Other
        )
    }

    pub fn floats(self) -> bool {
        matches!(
            self,
            RangeClass::Caret
                | RangeClass::CaretZero
                | RangeClass::Tilde
                | RangeClass::XRange
                | RangeClass::Bounded
                | RangeClass::OpenUpper
                | RangeClass::Wildcard
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dependency {
    pub name: String,
    pub spec: String,
    /// `dependencies`, `optionalDependencies` or `peerDependencies`.
    pub kind: String,
    pub class: RangeClass,
}

/// Classify one dependency spec. `npm:` aliases are classified by the range they carry.
pub fn classify(spec: &str) -> RangeClass {
    let s = spec.trim();
    if let Some(rest) = s.strip_prefix("npm:") {
        // `npm:name@range`; the name may be scoped, so split on the last '@' after the first char.
        return match rest.get(1..).and_then(|r| r.rfind('@')) {
            Some(i) => classify(&rest[i + 2..]),
            None => RangeClass::Wildcard,
        };
    }
    let lower = s.to_ascii_lowercase();
    if lower.starts_with("git+")
        || lower.starts_with("git://")
        || lower.starts_with("github:")
        || lower.starts_with("gitlab:")
        || lower.starts_with("bitbucket:")
        || lower.starts_with("gist:")
        || lower.starts_with("git@")
    {
        return RangeClass::Git;
    }
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return RangeClass::Url;
    }
    if lower.starts_with("file:")
        || s.starts_with("./")
        || s.starts_with("../")
        || s.starts_with('/')
        || s.starts_with("~/")
    {
        return RangeClass::File;
    }
    if lower.starts_with("link:") {
        return RangeClass::Link;
    }
    if lower.contains(':') {
        return RangeClass::Other;
    }
    // `owner/repo` or `owner/repo#ref` is npm's GitHub shorthand.
    if s.contains('/') && !s.starts_with('@') && !s.contains(' ') {
        return RangeClass::Git;
    }
    classify_range(s)
}

fn classify_range(s: &str) -> RangeClass {
    if s.is_empty() || s == "*" || s.eq_ignore_ascii_case("x") {
        return RangeClass::Wildcard;
    }
    if crate::spec::exact_version(s).is_some() {
        return RangeClass::Exact;
    }
    if !crate::spec::is_range(s) {
        // Not a range at all: npm resolves it as a dist-tag (`latest`, `next`, `beta`).
        return RangeClass::Wildcard;
    }
    let alternatives: Vec<&str> = s.split("||").map(str::trim).collect();
    let mut worst = RangeClass::Exact;
    for alt in alternatives {
        let class = classify_alternative(alt);
        if rank(class) > rank(worst) {
            worst = class;
        }
    }
    worst
}

/// Higher is looser; an `||` union is as loose as its loosest alternative.
fn rank(c: RangeClass) -> u8 {
    match c {
        RangeClass::Exact => 0,
        RangeClass::Bounded => 1,
        RangeClass::Tilde => 2,
        RangeClass::XRange => 3,
        RangeClass::Caret => 4,
        RangeClass::CaretZero => 5,
        RangeClass::OpenUpper => 6,
        RangeClass::Wildcard => 7,
        _ => 8,
    }
}

fn classify_alternative(alt: &str) -> RangeClass {
    if alt.is_empty() || alt == "*" || alt.eq_ignore_ascii_case("x") {
        return RangeClass::Wildcard;
    }
    if alt.contains(" - ") {
        return RangeClass::Bounded;
    }
    // Join operators to their operands (`>= 1.2` → `>=1.2`) before splitting into comparators.
    let mut norm = alt.to_string();
    for op in [">=", "<=", ">", "<", "=", "^", "~"] {
        norm = norm.replace(&format!("{op} "), op);
    }
    let comparators: Vec<&str> = norm.split_whitespace().collect();
    let has_lower = comparators.iter().any(|c| c.starts_with('>'));
    let has_upper = comparators.iter().any(|c| c.starts_with('<'));
    if has_lower && !has_upper {
        return RangeClass::OpenUpper;
    }
    if has_lower || has_upper {
        return RangeClass::Bounded;
    }
    if comparators.len() != 1 {
        return RangeClass::Bounded;
    }
    let c = comparators[0];
    if let Some(rest) = c.strip_prefix('^') {
        let rest = rest.trim_start_matches(['v', '=']);
        return if rest.starts_with("0.") || rest == "0" {
            RangeClass::CaretZero
        } else if is_wild_part(rest.split('.').next().unwrap_or("")) {
            RangeClass::Wildcard
        } else {
            RangeClass::Caret
        };
    }
    if c.starts_with('~') {
        return RangeClass::Tilde;
    }
    let bare = c.trim_start_matches(['v', '=']);
    let parts: Vec<&str> = bare.split('.').collect();
    if parts.first().is_some_and(|p| is_wild_part(p)) {
        return RangeClass::Wildcard;
    }
    if parts.len() < 3 || parts.iter().any(|p| is_wild_part(p)) {
        return RangeClass::XRange;
    }
    RangeClass::Exact
}

fn is_wild_part(p: &str) -> bool {
    p.is_empty() || p == "*" || p.eq_ignore_ascii_case("x")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_like_npm_package_arg() {
        let cases = [
            ("1.2.3", RangeClass::Exact),
            ("=1.2.3", RangeClass::Exact),
            ("v1.2.3", RangeClass::Exact),
            ("^1.2.3", RangeClass::Caret),
            ("^0.4.1", RangeClass::CaretZero),
            ("^0.0.3", RangeClass::CaretZero),
            ("~1.2.3", RangeClass::Tilde),
            ("1.x", RangeClass::XRange),
            ("1", RangeClass::XRange),
            ("1.2.X", RangeClass::XRange),
            (">=1.2.0 <2.0.0", RangeClass::Bounded),
            (">= 1.2.0 < 2.0.0", RangeClass::Bounded),
            ("1.0.0 - 1.4.0", RangeClass::Bounded),
            (">=1.0.0", RangeClass::OpenUpper),
            ("> 2", RangeClass::OpenUpper),
            ("^1.0.0 || >=3", RangeClass::OpenUpper),
            ("*", RangeClass::Wildcard),
            ("", RangeClass::Wildcard),
            ("x", RangeClass::Wildcard),
            ("latest", RangeClass::Wildcard),
            ("next", RangeClass::Wildcard),
            ("git+https://github.com/a/b.git", RangeClass::Git),
            ("github:a/b#v1", RangeClass::Git),
            ("a/b", RangeClass::Git),
            ("https://example.com/x.tgz", RangeClass::Url),
            ("file:../x", RangeClass::File),
            ("../x", RangeClass::File),
            ("link:../x", RangeClass::Link),
            ("workspace:*", RangeClass::Other),
            ("npm:@scope/real@^2.0.0", RangeClass::Caret),
            ("npm:real@1.0.0", RangeClass::Exact),
        ];
        for (spec, want) in cases {
            assert_eq!(classify(spec), want, "spec {spec:?}");
        }
    }

    #[test]
    fn registry_and_floating_partition() {
        assert!(RangeClass::Caret.floats());
        assert!(!RangeClass::Exact.floats());
        assert!(!RangeClass::Git.is_registry());
        assert!(RangeClass::Wildcard.is_registry());
    }
}
