//! Rule files into a `RuleSet`: the embedded ones, and a directory that overlays them by id.

use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};

use super::validate::{one_line, parse_rule};
use super::{Rule, RuleLoadError, RuleSet, ScoringConfig};

static EMBEDDED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/rules");

impl RuleSet {
    /// The rules compiled into the binary.
    pub fn embedded() -> Result<RuleSet, RuleLoadError> {
        let files = EMBEDDED
            .files()
            .filter_map(|f| {
                Some((
                    format!("embedded:rules/{}", f.path().display()),
                    f.contents_utf8()?.to_string(),
                ))
            })
            .collect::<Vec<_>>();
        Self::from_sources(files, None)
    }

    /// Embedded rules plus a directory whose rules add to them or override them by id.
    pub fn load(extra_dir: Option<&Path>) -> Result<RuleSet, RuleLoadError> {
        let mut set = Self::embedded()?;
        if let Some(dir) = extra_dir {
            let extra = read_dir_sources(dir)?;
            let overlay = Self::from_sources(extra, Some(set.scoring.clone()))?;
            for rule in overlay.rules {
                match set.rules.iter_mut().find(|r| r.id == rule.id) {
                    Some(slot) => *slot = rule,
                    None => set.rules.push(rule),
                }
            }
            set.scoring = overlay.scoring;
            set.rules.sort_by(|a, b| a.id.cmp(&b.id));
        }
        Ok(set)
    }

    /// Parses `(file name, contents)` pairs. `scoring.toml` is the scoring config; every other
    /// `.toml` is one rule whose id must equal its file stem.
    pub fn from_sources(
        files: Vec<(String, String)>,
        default_scoring: Option<ScoringConfig>,
    ) -> Result<RuleSet, RuleLoadError> {
        let mut rules: Vec<Rule> = Vec::new();
        let mut scoring = default_scoring;
        let mut files = files;
        files.sort();
        for (file, text) in files {
            let stem = Path::new(&file)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            if !file.ends_with(".toml") {
                continue;
            }
            if stem == "scoring" {
                scoring = Some(parse_scoring(&file, &text)?);
                continue;
            }
            let rule = parse_rule(&file, &stem, &text)?;
            if let Some(prev) = rules.iter().find(|r| r.id == rule.id) {
                return Err(RuleLoadError {
                    file,
                    rule: Some(rule.id),
                    problem: format!("duplicate rule id (also in {})", prev.source),
                });
            }
            rules.push(rule);
        }
        let scoring = scoring.ok_or_else(|| RuleLoadError {
            file: "rules/scoring.toml".into(),
            rule: None,
            problem: "missing scoring configuration".into(),
        })?;
        Ok(RuleSet { rules, scoring })
    }
}

fn parse_scoring(file: &str, text: &str) -> Result<ScoringConfig, RuleLoadError> {
    let fail = |problem: String| RuleLoadError {
        file: file.to_string(),
        rule: None,
        problem,
    };
    let cfg: ScoringConfig = toml::from_str(text).map_err(|e| fail(one_line(&e.to_string())))?;
    cfg.validate().map_err(fail)?;
    Ok(cfg)
}

fn read_dir_sources(dir: &Path) -> Result<Vec<(String, String)>, RuleLoadError> {
    let err = |problem: String| RuleLoadError {
        file: dir.display().to_string(),
        rule: None,
        problem,
    };
    let entries = std::fs::read_dir(dir).map_err(|e| err(format!("cannot read directory: {e}")))?;
    let mut out = Vec::new();
    for entry in entries {
        let path: PathBuf = entry.map_err(|e| err(e.to_string()))?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| RuleLoadError {
            file: path.display().to_string(),
            rule: None,
            problem: format!("cannot read: {e}"),
        })?;
        out.push((path.display().to_string(), text));
    }
    Ok(out)
}
