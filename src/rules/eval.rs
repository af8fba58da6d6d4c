//! Rules over facts documents: one `Outcome` per rule, three-valued like the facts.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::expr::Tri;
use super::{template, Rule, RuleSet};

/// One rule's outcome on one package.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Pass,
    Finding {
        message: String,
        remediation: String,
        evidence: BTreeMap<String, Value>,
    },
    Inconclusive {
        reasons: Vec<String>,
    },
}

#[derive(Debug, Clone)]
pub struct Evaluation<'r> {
    pub rule: &'r Rule,
    pub outcome: Outcome,
}

impl Rule {
    /// The rule over a facts document in its JSON form. Every finding is built here, so this is
    /// where its message is written and its evidence bounded.
    pub fn evaluate(&self, facts: &Value) -> Outcome {
        match self.when.eval(facts) {
            Tri::False => Outcome::Pass,
            Tri::Unknown(reasons) => Outcome::Inconclusive { reasons },
            Tri::True => Outcome::Finding {
                message: template::render(&self.message, facts),
                remediation: template::render(&self.remediation, facts),
                evidence: template::evidence(&self.evidence, facts),
            },
        }
    }
}

/// `rules` over one facts document, serialized once for all of them.
fn evaluate_all<'r>(
    rules: impl Iterator<Item = &'r Rule>,
    facts: &impl Serialize,
) -> Vec<Evaluation<'r>> {
    let json = serde_json::to_value(facts).expect("facts serialize");
    rules
        .map(|rule| Evaluation {
            rule,
            outcome: rule.evaluate(&json),
        })
        .collect()
}

impl RuleSet {
    /// The package rules for the package's ecosystem over its facts (launch rules are not about
    /// packages). A rule for other ecosystems is left out, as a launch rule is, not passed.
    pub fn evaluate(&self, facts: &crate::facts::PackageFacts) -> Vec<Evaluation<'_>> {
        let ecosystem = facts.package.ecosystem.as_str();
        evaluate_all(
            self.package_rules().filter(|r| r.applies_to(ecosystem)),
            facts,
        )
    }

    /// The launch rules over one server entry's launch facts.
    pub fn evaluate_launch(&self, facts: &crate::facts::LaunchFacts) -> Vec<Evaluation<'_>> {
        evaluate_all(self.launch_rules(), facts)
    }

    /// The `server.json` rules over one description's facts.
    pub fn evaluate_server_json(
        &self,
        facts: &crate::mcpserver::ServerJsonFacts,
    ) -> Vec<Evaluation<'_>> {
        evaluate_all(self.server_json_rules(), facts)
    }

    /// The lockfile rules over one locked entry's facts.
    pub fn evaluate_lock(&self, facts: &crate::lockfile::facts::LockFacts) -> Vec<Evaluation<'_>> {
        evaluate_all(self.lock_rules(), facts)
    }

    /// Every package rule, inconclusive for one reason: the package was not (or could not be)
    /// looked at, which must lower coverage rather than count as passed.
    pub fn package_not_checked(&self, reason: &str) -> Vec<Evaluation<'_>> {
        self.package_rules()
            .map(|rule| Evaluation {
                rule,
                outcome: Outcome::Inconclusive {
                    reasons: vec![reason.to_string()],
                },
            })
            .collect()
    }

    /// [`Self::package_not_checked`] for the rules of one ecosystem: a server whose npm (or
    /// PyPI) package could not be checked is not also charged with the other ecosystem's rules.
    pub fn package_not_checked_in(&self, ecosystem: &str, reason: &str) -> Vec<Evaluation<'_>> {
        self.package_not_checked(reason)
            .into_iter()
            .filter(|e| e.rule.applies_to(ecosystem))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{good, launch_rule, load};
    use super::super::EVIDENCE_LIST_CAP;
    use super::*;
    use crate::facts::{Fact, LaunchFacts, PackageFacts};

    fn finding(outcome: &Outcome) -> (&str, &str, &BTreeMap<String, Value>) {
        match outcome {
            Outcome::Finding {
                message,
                remediation,
                evidence,
            } => (message, remediation, evidence),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn message_placeholders_render() {
        let set = load("good-rule.toml", &good()).unwrap();
        let mut f = PackageFacts::example();
        f.version.major = 0;
        let json = serde_json::to_value(&f).unwrap();
        let outcome = set.rules[0].evaluate(&json);
        assert_eq!(finding(&outcome).0, "example-mcp-server@1.4.2 is major 0");
    }

    #[test]
    fn launch_rules_read_only_launch_facts_and_the_others_never_do() {
        let set = load("good-launch.toml", &launch_rule()).unwrap();
        assert_eq!(set.launch_rules().count(), 1);
        assert_eq!(set.package_rules().count(), 0);
        // `${NPM_TOKEN}` is an environment reference, left as written.
        let mut facts = LaunchFacts::example();
        facts.launch.unpinned = true;
        let evals = set.evaluate_launch(&facts);
        let (message, remediation, _) = finding(&evals[0].outcome);
        assert_eq!(message, "`example` starts example-mcp-server@1.4.2");
        assert_eq!(remediation, "Write `${NPM_TOKEN}`, not the token.");
        // A package scan never evaluates it. (Loading refuses a rule that mixes the two
        // documents: see `validate`.)
        assert!(set.evaluate(&PackageFacts::example()).is_empty());
    }

    #[test]
    fn a_rule_for_other_ecosystems_is_not_evaluated() {
        let text = good().replace("weight = 3", "weight = 3\necosystems = [\"npm\"]");
        let set = load("good-rule.toml", &text).unwrap();
        let mut facts = PackageFacts::example();
        assert_eq!(set.evaluate(&facts).len(), 1);
        facts.package.ecosystem = "pypi".into();
        assert!(set.evaluate(&facts).is_empty());
    }

    /// The embedded rule, over a document where `path` is unknown.
    fn embedded_finding(id: &str, facts: &mut Value, unknown: &[&str]) -> Outcome {
        for path in unknown {
            let pointer = format!("/{}", path.replace('.', "/"));
            *facts.pointer_mut(&pointer).expect(path) = serde_json::to_value(
                Fact::<String>::unknown("registry serves no dist.signatures"),
            )
            .unwrap();
        }
        let set = RuleSet::embedded().unwrap();
        let rule = set.rules.iter().find(|r| r.id == id).expect(id);
        rule.evaluate(facts)
    }

    /// Internal forms that must never reach a reader: JSON of an unknown fact, Debug names.
    fn assert_readable(text: &str) {
        for internal in ["$unknown", "{", "}", "ParentDir", "(High)", "null", "\""] {
            assert!(!text.contains(internal), "{internal:?} in {text}");
        }
    }

    #[test]
    fn an_unknown_fact_reads_as_unknown_with_its_reason() {
        let mut facts = serde_json::to_value(PackageFacts::example()).unwrap();
        facts["trust"]["downgrade"] = Value::Bool(true);
        let outcome = embedded_finding(
            "trust-downgrade",
            &mut facts,
            &["trust.earlier_best_version", "trust.earlier_best_level"],
        );
        let (message, remediation, _) = finding(&outcome);
        assert!(
            message.contains("than unknown (registry serves no dist.signatures) had (unknown ("),
            "{message}"
        );
        assert_readable(message);
        assert_readable(remediation);
    }

    #[test]
    fn path_problems_read_without_debug_names_and_lists_are_capped() {
        let mut facts = serde_json::to_value(PackageFacts::example()).unwrap();
        let problems: Vec<String> = (0..25).map(|i| format!("parent-dir ../x{i}")).collect();
        facts["content"]["path_problems"] = serde_json::json!(problems);
        // Derivation writes the count beside the list; a document without it ignores the key.
        facts["content"]["path_problem_count"] = serde_json::json!(problems.len());
        let outcome = embedded_finding("tarball-path-problems", &mut facts, &[]);
        let (message, _, evidence) = finding(&outcome);
        assert_readable(message);
        assert!(message.ends_with("../x19, … and 5 more"), "{message}");
        let shown = evidence["content.path_problems"].as_array().unwrap();
        assert_eq!(shown.len(), EVIDENCE_LIST_CAP + 1);
        assert_eq!(shown[0], "parent-dir ../x0");
        assert_eq!(shown[EVIDENCE_LIST_CAP], "… and 5 more");
        // A list at the cap is shown whole.
        facts["content"]["path_problems"] = serde_json::json!(problems[..EVIDENCE_LIST_CAP]);
        let outcome = embedded_finding("tarball-path-problems", &mut facts, &[]);
        let shown = finding(&outcome).2["content.path_problems"].clone();
        assert_eq!(shown.as_array().unwrap().len(), EVIDENCE_LIST_CAP);
        assert!(!shown.to_string().contains("more"), "{shown}");
    }
}
