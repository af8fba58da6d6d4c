//! Scoring (the formula is written out in docs/scoring.md; keep the two in step).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Evaluation, Outcome, ScoringConfig, Severity};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// 100 minus the weight of every finding, capped by a critical finding, never below 0.
    pub score: u32,
    /// The score if every inconclusive rule had fired: the worst case the unknowns allow.
    pub floor: u32,
    pub grade: String,
    /// Percentage of total rule weight that was conclusive (finding or pass).
    pub coverage: u32,
    /// A critical finding capped the score.
    pub capped: bool,
    pub categories: BTreeMap<String, CategoryScore>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryScore {
    /// Share of the category's conclusive weight that passed, 0-100; `None` when nothing in the
    /// category was conclusive (an unknown category has no score rather than a perfect one).
    pub score: Option<u32>,
    pub coverage: u32,
    pub findings: u32,
    pub inconclusive: u32,
}

pub fn score(evals: &[Evaluation<'_>], cfg: &ScoringConfig) -> Score {
    let mut failed = 0u32;
    let mut unknown = 0u32;
    let mut total = 0u32;
    let mut critical_found = false;
    let mut critical_unknown = false;
    #[derive(Default)]
    struct Acc {
        total: u32,
        failed: u32,
        unknown: u32,
        findings: u32,
        inconclusive: u32,
    }
    let mut cats: BTreeMap<&str, Acc> = BTreeMap::new();
    for e in evals {
        let w = e.rule.weight;
        total += w;
        let acc = cats.entry(e.rule.category.as_str()).or_default();
        acc.total += w;
        match &e.outcome {
            Outcome::Pass => {}
            Outcome::Finding { .. } => {
                failed += w;
                acc.failed += w;
                acc.findings += 1;
                critical_found |= e.rule.severity == Severity::Critical;
            }
            Outcome::Inconclusive { .. } => {
                unknown += w;
                acc.unknown += w;
                acc.inconclusive += 1;
                critical_unknown |= e.rule.severity == Severity::Critical;
            }
        }
    }
    let cap = |s: u32, capped: bool| if capped { s.min(cfg.critical_cap) } else { s };
    let score = cap(100u32.saturating_sub(failed), critical_found);
    let floor = cap(
        100u32.saturating_sub(failed + unknown),
        critical_found || critical_unknown,
    );
    Score {
        score,
        floor,
        grade: grade(score, cfg),
        coverage: percent(total - unknown, total),
        capped: critical_found && 100u32.saturating_sub(failed) > cfg.critical_cap,
        categories: cats
            .into_iter()
            .map(|(name, a)| {
                let conclusive = a.total - a.unknown;
                (
                    name.to_string(),
                    CategoryScore {
                        score: (conclusive > 0).then(|| percent(conclusive - a.failed, conclusive)),
                        coverage: percent(conclusive, a.total),
                        findings: a.findings,
                        inconclusive: a.inconclusive,
                    },
                )
            })
            .collect(),
    }
}

/// Rounds down, so 99.6% coverage never shows as a complete 100.
fn percent(part: u32, whole: u32) -> u32 {
    if whole == 0 {
        100
    } else {
        (u64::from(part) * 100 / u64::from(whole)) as u32
    }
}

pub fn grade(score: u32, cfg: &ScoringConfig) -> String {
    let mut bands: Vec<(&String, &u32)> = cfg.grades.iter().collect();
    bands.sort_by(|a, b| b.1.cmp(a.1));
    bands
        .into_iter()
        .find(|(_, min)| score >= **min)
        .map(|(g, _)| g.clone())
        .unwrap_or_else(|| "F".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{expr, Confidence, Rule};

    fn rule(id: &str, cat: &str, sev: Severity, weight: u32) -> Rule {
        let when: toml::Value = toml::from_str("w = { fact = \"version.major\", eq = 1 }").unwrap();
        Rule {
            id: id.into(),
            title: id.into(),
            category: cat.into(),
            severity: sev,
            confidence: Confidence::High,
            weight,
            when: expr::parse(&when["w"], "when").unwrap(),
            message: "m".into(),
            remediation: "r".into(),
            references: vec![],
            evidence: vec![],
            ecosystems: vec![],
            source: "test".into(),
        }
    }

    fn cfg() -> ScoringConfig {
        toml::from_str("schema = 1\ncritical_cap = 33\n[grades]\nA = 90\nB = 80\nC = 70\nD = 60\n")
            .unwrap()
    }

    fn finding() -> Outcome {
        Outcome::Finding {
            message: String::new(),
            remediation: String::new(),
            evidence: Default::default(),
        }
    }

    #[test]
    fn subtracts_weights_reports_floor_and_coverage() {
        let rules = [
            rule("a", "maintainers", Severity::Medium, 10),
            rule("b", "maintainers", Severity::Low, 5),
            rule("c", "provenance", Severity::High, 25),
            rule("d", "metadata", Severity::Low, 10),
        ];
        let evals = vec![
            Evaluation {
                rule: &rules[0],
                outcome: finding(),
            },
            Evaluation {
                rule: &rules[1],
                outcome: Outcome::Pass,
            },
            Evaluation {
                rule: &rules[2],
                outcome: Outcome::Inconclusive {
                    reasons: vec!["x".into()],
                },
            },
            Evaluation {
                rule: &rules[3],
                outcome: Outcome::Pass,
            },
        ];
        let s = score(&evals, &cfg());
        assert_eq!(s.score, 90);
        assert_eq!(s.floor, 65);
        assert_eq!(s.grade, "A");
        assert_eq!(s.coverage, 50); // 25 of 50 weight inconclusive
        let m = &s.categories["maintainers"];
        assert_eq!(m.score, Some(33)); // 5 of 15 passed
        assert_eq!(s.categories["provenance"].score, None);
        assert_eq!(s.categories["provenance"].coverage, 0);
        assert_eq!(s.categories["metadata"].score, Some(100));
    }

    #[test]
    fn critical_caps_and_grades() {
        let rules = [rule("crit", "provenance", Severity::Critical, 5)];
        let evals = vec![Evaluation {
            rule: &rules[0],
            outcome: finding(),
        }];
        let s = score(&evals, &cfg());
        assert_eq!(s.score, 33);
        assert!(s.capped);
        assert_eq!(s.grade, "F");
        assert_eq!(grade(85, &cfg()), "B");
        assert_eq!(grade(60, &cfg()), "D");
        assert_eq!(grade(59, &cfg()), "F");
    }

    #[test]
    fn never_below_zero() {
        let rules = [
            rule("big", "metadata", Severity::High, 100),
            rule("big2", "metadata", Severity::High, 100),
        ];
        let evals: Vec<_> = rules
            .iter()
            .map(|r| Evaluation {
                rule: r,
                outcome: finding(),
            })
            .collect();
        assert_eq!(score(&evals, &cfg()).score, 0);
    }
}
