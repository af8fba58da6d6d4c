//! The policy file, `mcp-audit.toml`: a team's reviewed gate, rule overrides, allowed registries
//! and accepted findings. Raw TOML → validated [`PolicyFile`] here, as cargo-deny turns its
//! config into a checked one; [`crate::settings`] merges it with the flags once, and
//! [`crate::report`] applies it. Every mistake is an error naming the file and line: a policy
//! that is silently half-read would gate on something nobody reviewed.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use nodejs_semver::{Range, Version};
use serde::Deserialize;
use toml::Spanned;

use crate::rules::{RuleSet, Severity};

pub const FILE_NAME: &str = "mcp-audit.toml";

/// A policy file that cannot be used: `file:line: problem`, on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub file: String,
    pub line: Option<usize>,
    pub problem: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.file, self.problem),
            None => write!(f, "{}: {}", self.file, self.problem),
        }
    }
}

impl std::error::Error for PolicyError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    gate: Option<RawGate>,
    #[serde(default)]
    rules: BTreeMap<Spanned<String>, RawOverride>,
    #[serde(default)]
    registries: BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
    #[serde(default)]
    ignore: Vec<Spanned<RawIgnore>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGate {
    fail_under: Option<Spanned<u32>>,
    min_coverage: Option<Spanned<u32>>,
    strict: Option<bool>,
    max_severity: Option<Severity>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    enabled: Option<bool>,
    severity: Option<Severity>,
    weight: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    rule: Spanned<String>,
    package: Option<Spanned<String>>,
    reason: Spanned<String>,
    expires: Option<Spanned<toml::Value>>,
}

/// The gate as a policy file sets it; `None` leaves the field to the flag or the default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileGate {
    pub fail_under: Option<u32>,
    pub min_coverage: Option<u32>,
    pub strict: Option<bool>,
    pub max_severity: Option<Severity>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuleOverride {
    pub enabled: Option<bool>,
    pub severity: Option<Severity>,
    pub weight: Option<u32>,
    line: usize,
}

/// Which packages an ignore covers.
#[derive(Debug, Clone, PartialEq)]
pub enum PackageMatch {
    /// An npm name, with a range its version must satisfy (none: every version).
    Npm { name: String, range: Option<String> },
    /// Accepted so one file serves both ecosystems; matches no npm package.
    Pypi { spec: String },
}

impl PackageMatch {
    fn parse(raw: &str) -> Result<PackageMatch, String> {
        if let Some(rest) = raw.strip_prefix("pypi:") {
            if rest.trim().is_empty() {
                return Err("`pypi:` with no package name".into());
            }
            return Ok(PackageMatch::Pypi {
                spec: rest.trim().to_string(),
            });
        }
        let raw = raw.strip_prefix("npm:").unwrap_or(raw);
        let spec = crate::spec::Spec::parse(raw).map_err(|e| e.to_string())?;
        // A bare name (`x`, `@s/x`) covers every version; npm would read it as `@latest`.
        let bare = !raw.get(1..).unwrap_or_default().contains('@');
        let range = match spec.selector {
            _ if bare => None,
            crate::spec::Selector::Version(v) => Some(v),
            crate::spec::Selector::Range(r) => Some(r),
            crate::spec::Selector::Tag(t) => {
                return Err(format!(
                "`{raw}`: a tag (`{t}`) moves from version to version; give a version or a range"
            ))
            }
        };
        Ok(PackageMatch::Npm {
            name: spec.name,
            range,
        })
    }

    pub fn matches(&self, name: &str, version: Option<&str>) -> bool {
        match self {
            PackageMatch::Pypi { .. } => false,
            PackageMatch::Npm { name: n, range } => {
                n == name
                    && match range {
                        None => true,
                        // A range needs a version to hold against; without one it does not match.
                        Some(r) => match (
                            version.and_then(|v| Version::parse(v).ok()),
                            Range::parse(r),
                        ) {
                            (Some(v), Ok(r)) => r.satisfies(&v),
                            _ => false,
                        },
                    }
            }
        }
    }

    /// As written in the file.
    pub fn display(&self) -> String {
        match self {
            PackageMatch::Pypi { spec } => format!("pypi:{spec}"),
            PackageMatch::Npm { name, range: None } => name.clone(),
            PackageMatch::Npm {
                name,
                range: Some(r),
            } => format!("{name}@{r}"),
        }
    }
}

/// An accepted finding: `rule` on `package` (every package when absent), for `reason`, until
/// `expires` (that day included).
#[derive(Debug, Clone, PartialEq)]
pub struct Ignore {
    pub rule: String,
    pub package: Option<PackageMatch>,
    pub reason: String,
    pub expires: Option<NaiveDate>,
    pub line: usize,
}

impl Ignore {
    pub fn expired(&self, today: NaiveDate) -> bool {
        self.expires.is_some_and(|d| today > d)
    }
}

/// Registries a package may be resolved from: per scope, else the default list. A scope that is
/// not listed falls back to `allowed`; with no `allowed`, unlisted names are not restricted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllowedRegistries {
    pub default: Option<Vec<String>>,
    pub scopes: BTreeMap<String, Vec<String>>,
    /// Where the lists are, for the message that refuses a registry: the file, and each key's line.
    pub file: String,
    pub lines: BTreeMap<String, usize>,
}

impl AllowedRegistries {
    /// `Err` says why `registry` may not serve `name`.
    pub fn check(&self, name: &str, registry: &str) -> Result<(), String> {
        let scope = name
            .starts_with('@')
            .then(|| name.split('/').next())
            .flatten();
        let (list, key) = match scope.and_then(|s| self.scopes.get(s).map(|l| (l, s))) {
            Some((l, s)) => (l, s.to_string()),
            None => match &self.default {
                Some(l) => (l, "allowed".to_string()),
                None => return Ok(()),
            },
        };
        let have = normalize_registry(registry);
        if list.iter().any(|a| normalize_registry(a) == have) {
            return Ok(());
        }
        Err(format!(
            "registry {} is not allowed for {name} by {}:{} (`{key}` allows {})",
            crate::registry::redact_url_text(registry),
            self.file,
            self.lines.get(&key).copied().unwrap_or(1),
            list.join(", ")
        ))
    }
}

fn normalize_registry(url: &str) -> String {
    let mut s = url.trim().to_ascii_lowercase();
    if !s.ends_with('/') {
        s.push('/');
    }
    s
}

/// A validated policy file.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyFile {
    pub path: PathBuf,
    pub gate: FileGate,
    pub rules: BTreeMap<String, RuleOverride>,
    pub registries: Option<AllowedRegistries>,
    pub ignores: Vec<Ignore>,
}

impl PolicyFile {
    /// Reads and validates `path`. Rule ids are checked later, against the rules in effect
    /// ([`PolicyFile::apply_to_rules`]).
    pub fn read(path: &Path) -> Result<PolicyFile, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError {
            file: path.display().to_string(),
            line: None,
            problem: format!("cannot read the policy file: {e}"),
        })?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<PolicyFile, PolicyError> {
        let file = path.display().to_string();
        let at = |span: std::ops::Range<usize>, problem: String| PolicyError {
            file: file.clone(),
            line: Some(line_of(text, span.start)),
            problem,
        };
        let raw: RawPolicy = toml::from_str(text).map_err(|e| PolicyError {
            file: file.clone(),
            line: e.span().map(|s| line_of(text, s.start)),
            problem: one_line(e.message()),
        })?;
        let mut gate = FileGate::default();
        if let Some(g) = raw.gate {
            for (name, v) in [
                ("fail_under", &g.fail_under),
                ("min_coverage", &g.min_coverage),
            ] {
                if let Some(v) = v {
                    if *v.get_ref() > 100 {
                        return Err(at(
                            v.span(),
                            format!("`{name}` {} is over 100", v.get_ref()),
                        ));
                    }
                }
            }
            gate = FileGate {
                fail_under: g.fail_under.map(Spanned::into_inner),
                min_coverage: g.min_coverage.map(Spanned::into_inner),
                strict: g.strict,
                max_severity: g.max_severity,
            };
        }
        let mut rules = BTreeMap::new();
        for (id, o) in raw.rules {
            if let Some(w) = &o.weight {
                if *w.get_ref() > 100 {
                    return Err(at(
                        w.span(),
                        format!("`weight` {} is over 100", w.get_ref()),
                    ));
                }
            }
            let line = line_of(text, id.span().start);
            rules.insert(
                id.into_inner(),
                RuleOverride {
                    enabled: o.enabled,
                    severity: o.severity,
                    weight: o.weight.map(Spanned::into_inner),
                    line,
                },
            );
        }
        let mut registries: Option<AllowedRegistries> = None;
        for (key, list) in raw.registries {
            let line = line_of(text, key.span().start);
            let allowed = registries.get_or_insert_with(|| AllowedRegistries {
                file: file.clone(),
                ..AllowedRegistries::default()
            });
            allowed.lines.insert(key.get_ref().clone(), line);
            let mut urls = Vec::new();
            for u in list {
                match url::Url::parse(u.get_ref()) {
                    Ok(p) if matches!(p.scheme(), "http" | "https") => urls.push(u.into_inner()),
                    _ => {
                        return Err(at(
                            u.span(),
                            format!("`{}` is not an http(s) registry URL", u.get_ref()),
                        ))
                    }
                }
            }
            let k = key.get_ref();
            if k == "allowed" {
                allowed.default = Some(urls);
            } else if k.starts_with('@') && k.len() > 1 && !k.contains('/') {
                allowed.scopes.insert(k.clone(), urls);
            } else {
                return Err(at(
                    key.span(),
                    format!("[registries] key `{k}` is neither `allowed` nor a scope like `@corp`"),
                ));
            }
        }
        let mut ignores = Vec::new();
        for entry in raw.ignore {
            let i = entry.into_inner();
            if i.reason.get_ref().trim().is_empty() {
                return Err(at(
                    i.reason.span(),
                    "an ignore needs a `reason` that says why the finding is accepted".into(),
                ));
            }
            let package = match &i.package {
                None => None,
                Some(p) => Some(
                    PackageMatch::parse(p.get_ref())
                        .map_err(|e| at(p.span(), format!("`package`: {e}")))?,
                ),
            };
            let expires = match &i.expires {
                None => None,
                Some(v) => Some(parse_date(v.get_ref()).ok_or_else(|| {
                    at(
                        v.span(),
                        format!("`expires` {} is not a date (YYYY-MM-DD)", v.get_ref()),
                    )
                })?),
            };
            ignores.push(Ignore {
                rule: i.rule.get_ref().clone(),
                package,
                reason: i.reason.into_inner(),
                expires,
                line: line_of(text, i.rule.span().start),
            });
        }
        Ok(PolicyFile {
            path: path.to_path_buf(),
            gate,
            rules,
            registries,
            ignores,
        })
    }

    /// Checks every rule id the file names against `set` (the embedded rules plus `--rules`),
    /// then applies the overrides: a disabled rule leaves the set, so it neither scores nor
    /// counts in coverage.
    pub fn apply_to_rules(&self, set: &mut RuleSet) -> Result<(), PolicyError> {
        let err = |line: usize, id: &str, what: &str| PolicyError {
            file: self.path.display().to_string(),
            line: Some(line),
            problem: format!("{what} `{id}` is not a rule id (see `mcp-audit rules`)"),
        };
        for i in &self.ignores {
            if !set.rules.iter().any(|r| r.id == i.rule) {
                return Err(err(i.line, &i.rule, "ignore: rule"));
            }
        }
        for (id, o) in &self.rules {
            let Some(rule) = set.rules.iter_mut().find(|r| &r.id == id) else {
                return Err(err(o.line, id, "[rules]"));
            };
            if let Some(s) = o.severity {
                rule.severity = s;
            }
            if let Some(w) = o.weight {
                rule.weight = w;
            }
        }
        set.rules
            .retain(|r| self.rules.get(&r.id).and_then(|o| o.enabled) != Some(false));
        Ok(())
    }
}

fn parse_date(v: &toml::Value) -> Option<NaiveDate> {
    match v {
        toml::Value::String(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok(),
        // A bare TOML date (`expires = 2026-06-30`); a time of day has no place here.
        toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => {
            let date = d.date?;
            NaiveDate::from_ymd_opt(date.year.into(), date.month.into(), date.day.into())
        }
        _ => None,
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The policy file of a run: `--policy FILE`, else `mcp-audit.toml` in `cwd`, else in the root
/// of the git work tree around `cwd` (the nearest directory holding `.git`).
pub fn discover(cwd: &Path) -> Option<PathBuf> {
    let here = cwd.join(FILE_NAME);
    if here.is_file() {
        return Some(here);
    }
    let root = cwd.ancestors().find(|d| d.join(".git").exists())?;
    let there = root.join(FILE_NAME);
    there.is_file().then_some(there)
}

/// What `mcp-audit init` writes: every key, commented, with the defaults it would have.
pub const STARTER: &str = r#"# mcp-audit policy (docs/policy.md in the mcp-audit repository).
# Found in the current directory or the git root; `--policy FILE` names another,
# `--no-policy` ignores it. Flags on the command line win over this file.

[gate]
# Fail (exit 1) when a package scores below this (0-100). Default 50.
fail_under = 50
# Fail when less than this share (%) of the rule weight could be decided. Default: none.
# min_coverage = 80
# Fail when any rule could not be decided (missing data). Default false.
# strict = false
# Fail when a counted finding is more severe than this: info, low, medium, high, critical.
# Default high (a critical finding fails).
max_severity = "high"

# Override a built-in rule by id (`mcp-audit rules` lists them).
# [rules.version-zero-zero]
# enabled = false
# [rules.single-maintainer]
# severity = "low"
# weight = 5

# Registries a package may come from. A package whose registry is not listed is not
# fetched: `scan` stops with exit 2, `config` reports that server as not checked (exit 3).
# [registries]
# allowed = ["https://registry.npmjs.org/"]
# "@corp" = ["https://npm.corp.example/"]

# Accepted findings: still listed, marked ignored, not counted in the score or the gate.
# `reason` is required; after `expires` (YYYY-MM-DD, that day included) the finding counts again.
# [[ignore]]
# rule = "install-scripts"
# package = "some-mcp-server@^1.2"
# reason = "postinstall only builds a native addon; reviewed in SEC-123"
# expires = "2027-01-31"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PolicyFile, PolicyError> {
        PolicyFile::parse(Path::new("p.toml"), text)
    }

    #[test]
    fn starter_policy_parses_and_names_real_rules() {
        let p = parse(STARTER).unwrap();
        assert_eq!(p.gate.fail_under, Some(50));
        assert_eq!(p.gate.max_severity, Some(Severity::High));
        let mut set = RuleSet::embedded().unwrap();
        p.apply_to_rules(&mut set).unwrap();
        // The commented examples must stay valid once uncommented.
        let uncommented: String = STARTER
            .lines()
            .map(|l| {
                l.strip_prefix("# ")
                    .filter(|r| r.contains(" = ") || r.starts_with('['))
                    .unwrap_or(l)
            })
            .collect::<Vec<_>>()
            .join("\n");
        let p = parse(&uncommented).unwrap();
        p.apply_to_rules(&mut RuleSet::embedded().unwrap()).unwrap();
        assert_eq!(p.ignores.len(), 1);
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            (
                "[gate]\nfail_under = 50\nfoo = 1\n",
                3,
                "unknown field `foo`",
            ),
            (
                "\n[[ignore]]\nrule = \"no-license\"\n",
                2,
                "missing field `reason`",
            ),
            (
                "[[ignore]]\nrule = \"x\"\nreason = \"  \"\n",
                3,
                "needs a `reason`",
            ),
            (
                "[[ignore]]\nrule = \"x\"\nreason = \"r\"\nexpires = \"2026-13-01\"\n",
                4,
                "not a date",
            ),
            (
                "[[ignore]]\nrule = \"x\"\nreason = \"r\"\npackage = \"a@latest\"\n",
                4,
                "a tag",
            ),
            ("[gate]\n\nmax_severity = \"huge\"\n", 3, "unknown variant"),
            (
                "[registries]\ncorp = [\"https://x/\"]\n",
                2,
                "neither `allowed`",
            ),
            (
                "[registries]\nallowed = [\"ftp://x/\"]\n",
                2,
                "not an http(s)",
            ),
            ("[rules.a]\nweight = 300\n", 2, "over 100"),
        ];
        for (text, line, want) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!(e.line, Some(line), "{text}: {e}");
            assert!(e.to_string().contains(want), "{text}: {e}");
            assert!(!e.to_string().contains('\n'), "{e}");
        }
    }

    #[test]
    fn unknown_rule_ids_are_errors_with_their_line() {
        let mut set = RuleSet::embedded().unwrap();
        let p = parse("[rules.no-license]\nweight = 1\n\n[rules.nope]\nenabled = false\n").unwrap();
        let e = p.apply_to_rules(&mut set).unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        let p = parse("[[ignore]]\nreason = \"r\"\nrule = \"nope\"\n").unwrap();
        assert_eq!(p.apply_to_rules(&mut set).unwrap_err().line, Some(3));
    }

    #[test]
    fn overrides_change_and_disable_rules() {
        let mut set = RuleSet::embedded().unwrap();
        let n = set.rules.len();
        let p = parse(
            "[rules.no-license]\nenabled = false\n[rules.single-maintainer]\nseverity = \"critical\"\nweight = 1\n",
        )
        .unwrap();
        p.apply_to_rules(&mut set).unwrap();
        assert_eq!(set.rules.len(), n - 1);
        let r = set
            .rules
            .iter()
            .find(|r| r.id == "single-maintainer")
            .unwrap();
        assert_eq!((r.severity, r.weight), (Severity::Critical, 1));
    }

    #[test]
    fn package_matching_and_expiry() {
        let p = parse(
            "[[ignore]]\nrule = \"a\"\npackage = \"@s/x@^1.2\"\nreason = \"r\"\nexpires = 2026-06-30\n\
             [[ignore]]\nrule = \"a\"\npackage = \"pypi:requests\"\nreason = \"r\"\n\
             [[ignore]]\nrule = \"a\"\npackage = \"y\"\nreason = \"r\"\n",
        )
        .unwrap();
        let [a, b, c] = &p.ignores[..] else { panic!() };
        let m = a.package.as_ref().unwrap();
        assert!(m.matches("@s/x", Some("1.4.0")));
        assert!(!m.matches("@s/x", Some("2.0.0")));
        assert!(!m.matches("@s/x", None));
        assert!(!b
            .package
            .as_ref()
            .unwrap()
            .matches("requests", Some("1.0.0")));
        assert!(c.package.as_ref().unwrap().matches("y", None));
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert!(!a.expired(d("2026-06-30")));
        assert!(a.expired(d("2026-07-01")));
        assert_eq!(a.line, 2);
        assert_eq!(c.line, 11);
    }

    #[test]
    fn allowed_registries_by_scope() {
        let p = parse(
            "[registries]\nallowed = [\"https://registry.npmjs.org\"]\n\"@corp\" = [\"https://npm.corp.example/\"]\n",
        )
        .unwrap();
        let a = p.registries.unwrap();
        assert!(a.check("x", "https://registry.npmjs.org/").is_ok());
        assert!(a.check("@corp/x", "https://npm.corp.example/").is_ok());
        let e = a
            .check("@corp/x", "https://registry.npmjs.org/")
            .unwrap_err();
        assert!(e.contains("p.toml:3") && e.contains("`@corp`"), "{e}");
        assert!(a.check("@other/x", "https://evil.example/").is_err());
    }

    #[test]
    fn discovery_in_cwd_then_git_root() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        assert_eq!(discover(&sub), None);
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        assert_eq!(discover(&sub), None);
        std::fs::write(dir.path().join(FILE_NAME), "").unwrap();
        assert_eq!(discover(&sub), Some(dir.path().join(FILE_NAME)));
        std::fs::write(sub.join(FILE_NAME), "").unwrap();
        assert_eq!(discover(&sub), Some(sub.join(FILE_NAME)));
    }
}
