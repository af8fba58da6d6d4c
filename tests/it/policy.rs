//! The policy file (mcp-audit.toml) and the default gate, end to end against the loopback
//! registry. Every run sets its working directory to a scratch directory, so no policy file of
//! the developer's is found.

use std::path::Path;

use crate::support::*;

const RISKY: &str = "risky-mcp-server";
const GOOD: &str = "@modelcontextprotocol/server-filesystem";

/// `scan` in `dir` (where a policy file may be found).
fn scan_in(reg: &TestRegistry, dir: &Path, args: &[&str]) -> Output {
    let mut cmd = scan(reg, args);
    cmd.current_dir(dir);
    run(cmd)
}

fn with_policy(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mcp-audit.toml"), text).unwrap();
    dir
}

fn finding<'a>(r: &'a serde_json::Value, rule: &str) -> &'a serde_json::Value {
    r["packages"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} finding"))
}

#[test]
fn default_gate_fails_a_low_score_and_passes_a_good_package() {
    let reg = fixture_registry();
    let dir = tempfile::tempdir().unwrap();
    let out = scan_in(&reg, dir.path(), &[RISKY, "--format", "json"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let r = json(&out);
    assert_eq!(r["policy"]["fail_under"], 50);
    assert_eq!(r["policy"]["max_severity"], "high");
    assert_eq!(r["policy"]["gate_sources"]["fail_under"], "default");
    assert_eq!(r["policy"]["file"], serde_json::Value::Null);
    let failures = r["packages"][0]["gate_failures"].to_string();
    assert!(
        failures.contains("the default gate's fail_under 50"),
        "{failures}"
    );

    let out = scan_in(&reg, dir.path(), &[GOOD]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("PASS"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("gate: fail_under 50 (default), max_severity high (default)"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_critical_finding_fails_the_default_gate_and_no_gate_passes_nothing() {
    let reg = fixture_registry();
    // A critical rule, made so by the policy, on a package that otherwise passes the score bar.
    let dir = with_policy("[rules.no-license]\nseverity = \"critical\"\nweight = 0\n");
    let out = scan_in(
        &reg,
        dir.path(),
        &[RISKY, "--fail-under", "0", "--format", "json"],
    );
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let failures = json(&out)["packages"][0]["gate_failures"].to_string();
    assert!(
        failures.contains("above the default gate's max_severity high (no-license)"),
        "{failures}"
    );
    // With the gate switched off nothing fails, and the table does not call that a pass.
    let out = scan_in(
        &reg,
        dir.path(),
        &[RISKY, "--fail-under", "0", "--max-severity", "critical"],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(!out.stdout.contains("PASS"), "{}", out.stdout);
    assert!(out.stdout.contains("no gate"), "{}", out.stdout);
    assert!(out.stdout.contains("gate: none"), "{}", out.stdout);
}

#[test]
fn an_ignored_finding_is_listed_but_not_counted() {
    let reg = fixture_registry();
    let plain = tempfile::tempdir().unwrap();
    let base = json(&scan_in(&reg, plain.path(), &[RISKY, "--format", "json"]));
    let dir = with_policy(
        "[[ignore]]\nrule = \"version-zero-zero\"\npackage = \"risky-mcp-server@0.0.x\"\n\
         reason = \"pre-release reviewed in SEC-1\"\nexpires = 2027-01-31\n",
    );
    let out = scan_in(&reg, dir.path(), &[RISKY, "--format", "json"]);
    let r = json(&out);
    let f = finding(&r, "version-zero-zero");
    assert_eq!(f["ignored"]["reason"], "pre-release reviewed in SEC-1");
    assert_eq!(f["ignored"]["expires"], "2027-01-31");
    assert_eq!(f["ignore_expired"], serde_json::Value::Null);
    // The fixture's score is 0 either way (far over 100 points of findings): the category
    // shows what no longer counts.
    let cat = |r: &serde_json::Value| {
        r["packages"][0]["categories"]["metadata"]["findings"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        cat(&r) + 1,
        cat(&base),
        "the ignored finding is not counted"
    );
    assert!(r["packages"][0]["score"].as_u64() >= base["packages"][0]["score"].as_u64());
    assert_eq!(
        r["packages"][0]["coverage"],
        base["packages"][0]["coverage"]
    );
    assert_eq!(r["policy"]["ignores"][0]["line"], 2);
    assert_eq!(r["policy"]["ignores"][0]["expired"], false);
    let table = scan_in(&reg, dir.path(), &[RISKY]);
    assert!(
        table
            .stdout
            .contains("ignored by policy: pre-release reviewed in SEC-1"),
        "{}",
        table.stdout
    );
    // Another version, outside the range, is not covered.
    let other = with_policy(
        "[[ignore]]\nrule = \"version-zero-zero\"\npackage = \"risky-mcp-server@^1\"\nreason = \"r\"\n",
    );
    let r = json(&scan_in(&reg, other.path(), &[RISKY, "--format", "json"]));
    assert_eq!(
        finding(&r, "version-zero-zero")["ignored"],
        serde_json::Value::Null
    );
}

#[test]
fn an_expired_ignore_counts_again_and_says_so() {
    let reg = fixture_registry();
    let plain = tempfile::tempdir().unwrap();
    let base = json(&scan_in(&reg, plain.path(), &[RISKY, "--format", "json"]));
    // NOW is 2026-11-22: the day after the expiry.
    let dir = with_policy(
        "[[ignore]]\nrule = \"version-zero-zero\"\npackage = \"risky-mcp-server\"\n\
         reason = \"until the 1.0 release\"\nexpires = \"2026-11-21\"\n",
    );
    let r = json(&scan_in(&reg, dir.path(), &[RISKY, "--format", "json"]));
    let f = finding(&r, "version-zero-zero");
    assert_eq!(f["ignored"], serde_json::Value::Null);
    assert_eq!(f["ignore_expired"]["expires"], "2026-11-21");
    assert_eq!(r["packages"][0]["score"], base["packages"][0]["score"]);
    assert_eq!(r["policy"]["ignores"][0]["expired"], true);
    let table = scan_in(&reg, dir.path(), &[RISKY]);
    assert!(
        table
            .stdout
            .contains("expired on 2026-11-21: it counts again"),
        "{}",
        table.stdout
    );
    // Still valid on its last day.
    let mut cmd = mcp_audit();
    cmd.current_dir(dir.path()).args([
        "scan",
        RISKY,
        "--format",
        "json",
        "--registry",
        &reg.url(),
        "--now",
        "2026-11-21T23:00:00Z",
    ]);
    let r = json(&run(cmd));
    assert_eq!(
        finding(&r, "version-zero-zero")["ignored"]["reason"],
        "until the 1.0 release"
    );
}

#[test]
fn rule_overrides_change_weight_severity_and_enablement() {
    let reg = fixture_registry();
    let plain = tempfile::tempdir().unwrap();
    let base = json(&scan_in(&reg, plain.path(), &[RISKY, "--format", "json"]));
    let dir = with_policy(
        "[rules.no-license]\nenabled = false\n\n[rules.version-zero-zero]\nseverity = \"medium\"\nweight = 7\n",
    );
    let r = json(&scan_in(&reg, dir.path(), &[RISKY, "--format", "json"]));
    let p = &r["packages"][0];
    assert!(!finding_ids(&r, 0).contains(&"no-license".to_string()));
    assert!(!p["passed"].to_string().contains("\"no-license\""));
    assert_eq!(
        r["policy"]["rules"].as_u64().unwrap() + 1,
        base["policy"]["rules"].as_u64().unwrap()
    );
    let f = finding(&r, "version-zero-zero");
    assert_eq!(f["severity"], "medium");
    assert_eq!(f["weight"], 7);
    assert_eq!(
        r["policy"]["rule_overrides"]["version-zero-zero"]["weight"],
        7
    );
    assert_eq!(
        r["policy"]["rule_overrides"]["no-license"]["enabled"],
        false
    );
}

#[test]
fn flags_override_the_file() {
    let reg = fixture_registry();
    let dir = with_policy("[gate]\nfail_under = 100\nmax_severity = \"info\"\n");
    let out = scan_in(&reg, dir.path(), &[GOOD, "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let r = json(&out);
    assert_eq!(r["policy"]["gate_sources"]["fail_under"], "file");
    assert!(r["packages"][0]["gate_failures"][0]
        .as_str()
        .unwrap()
        .contains("fail_under ("));
    let out = scan_in(
        &reg,
        dir.path(),
        &[
            GOOD,
            "--format",
            "json",
            "--fail-under",
            "10",
            "--max-severity",
            "critical",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    let r = json(&out);
    assert_eq!(r["policy"]["fail_under"], 10);
    assert_eq!(r["policy"]["gate_sources"]["fail_under"], "flag");
    assert_eq!(r["policy"]["gate_sources"]["max_severity"], "flag");
}

#[test]
fn bad_policy_files_are_usage_errors_naming_file_and_line() {
    let reg = fixture_registry();
    let cases = [
        (
            "[[ignore]]\nrule = \"no-license\"\npackage = \"x\"\n",
            1,
            "missing field `reason`",
        ),
        (
            "[gate]\nfail_under = 50\nfail_undr = 60\n",
            3,
            "unknown field `fail_undr`",
        ),
        (
            "\n[[ignore]]\nrule = \"no-license\"\nreason = \"r\"\nexpires = \"31/01/2027\"\n",
            5,
            "not a date",
        ),
        (
            "[rules.no-such-rule]\nweight = 1\n",
            1,
            "`no-such-rule` is not a rule id",
        ),
        (
            "[[ignore]]\nrule = \"nope\"\nreason = \"r\"\n",
            2,
            "`nope` is not a rule id",
        ),
        ("[gate\n", 1, ""),
    ];
    for (text, line, want) in cases {
        let dir = with_policy(text);
        let out = scan_in(&reg, dir.path(), &[GOOD]);
        assert_eq!(out.code, 2, "{text}: {}", out.stderr);
        let at = format!("mcp-audit.toml:{line}: ");
        assert!(
            out.stderr.contains(&at),
            "{text}: want {at}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains(want),
            "{text}: want {want}: {}",
            out.stderr
        );
        assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
        assert!(reg.requests().is_empty(), "nothing is fetched");
    }
}

#[test]
fn policy_is_found_in_the_git_root_or_named_or_refused() {
    let reg = fixture_registry();
    let root = with_policy("[gate]\nfail_under = 100\n");
    std::fs::create_dir(root.path().join(".git")).unwrap();
    let sub = root.path().join("a/b");
    std::fs::create_dir_all(&sub).unwrap();
    let out = scan_in(&reg, &sub, &[GOOD, "--format", "json"]);
    assert_eq!(out.code, 1);
    let r = json(&out);
    assert!(r["policy"]["file"]
        .as_str()
        .unwrap()
        .ends_with("mcp-audit.toml"));
    assert_eq!(r["policy"]["fail_under"], 100);
    // --no-policy: the default gate again.
    let out = scan_in(&reg, &sub, &[GOOD, "--format", "json", "--no-policy"]);
    assert_eq!(out.code, 0);
    assert_eq!(json(&out)["policy"]["file"], serde_json::Value::Null);
    // --policy FILE from anywhere.
    let elsewhere = tempfile::tempdir().unwrap();
    let named = root.path().join("mcp-audit.toml");
    let out = scan_in(
        &reg,
        elsewhere.path(),
        &[
            GOOD,
            "--format",
            "json",
            "--policy",
            named.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 1);
    // A file in the current directory wins over the git root's.
    std::fs::write(sub.join("mcp-audit.toml"), "[gate]\nfail_under = 10\n").unwrap();
    let r = json(&scan_in(&reg, &sub, &[GOOD, "--format", "json"]));
    assert_eq!(r["policy"]["fail_under"], 10);
}

#[test]
fn a_registry_the_policy_does_not_allow_is_never_asked() {
    let reg = fixture_registry();
    let dir = with_policy("[registries]\nallowed = [\"https://registry.npmjs.org/\"]\n");
    let out = scan_in(&reg, dir.path(), &[GOOD]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("is not allowed for"), "{}", out.stderr);
    assert!(out.stderr.contains("mcp-audit.toml:2"), "{}", out.stderr);
    assert!(reg.requests().is_empty());
    // Allowed: scanned as usual.
    let dir = with_policy(&format!("[registries]\nallowed = [\"{}\"]\n", reg.url()));
    assert_eq!(scan_in(&reg, dir.path(), &[GOOD]).code, 0);
}

#[test]
fn init_writes_a_starter_policy_and_refuses_to_overwrite() {
    let reg = fixture_registry();
    let dir = tempfile::tempdir().unwrap();
    let init = |force: bool| {
        let mut cmd = mcp_audit();
        cmd.current_dir(dir.path()).arg("init");
        if force {
            cmd.arg("--force");
        }
        run(cmd)
    };
    let out = init(false);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let path = dir.path().join("mcp-audit.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("[[ignore]]"));
    std::fs::write(&path, "# mine\n").unwrap();
    let out = init(false);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--force"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");
    assert_eq!(init(true).code, 0);
    // The starter policy is read as it is written, and echoed.
    let r = json(&scan_in(&reg, dir.path(), &[GOOD, "--format", "json"]));
    assert_eq!(r["policy"]["gate_sources"]["fail_under"], "file");
    assert_eq!(r["policy"]["gate_sources"]["max_severity"], "file");
}

#[test]
fn rules_lists_the_policy_overrides_and_says_so() {
    let dir = with_policy(
        "[rules.no-license]\nenabled = false\n\n[rules.version-zero-zero]\nseverity = \"medium\"\nweight = 7\n",
    );
    let rules_in = |extra: &[&str]| {
        let mut cmd = mcp_audit();
        cmd.current_dir(dir.path()).arg("rules").args(extra);
        cmd.env("COLUMNS", "200");
        run(cmd)
    };
    let row = |out: &Output, id: &str| {
        out.stdout
            .lines()
            .find(|l| l.contains(&format!(" {id} ")))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    let out = rules_in(&[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(row(&out, "no-license"), None, "{}", out.stdout);
    let v = row(&out, "version-zero-zero").expect("version-zero-zero listed");
    assert!(v.contains("medium * ┆ 7 *"), "{v}");
    assert!(
        out.stdout.contains("mcp-audit.toml is in effect"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("Disabled by it, not listed: no-license."),
        "{}",
        out.stdout
    );

    // Named with --policy from elsewhere, the same; with --no-policy, the rules as built in.
    let elsewhere = tempfile::tempdir().unwrap();
    let mut cmd = mcp_audit();
    cmd.current_dir(elsewhere.path()).args([
        "rules",
        "--policy",
        dir.path().join("mcp-audit.toml").to_str().unwrap(),
    ]);
    cmd.env("COLUMNS", "200");
    let out = run(cmd);
    assert_eq!(row(&out, "no-license"), None, "{}", out.stdout);
    let out = rules_in(&["--no-policy"]);
    assert!(row(&out, "no-license").is_some(), "{}", out.stdout);
    let v = row(&out, "version-zero-zero").unwrap();
    assert!(!v.contains('*'), "{v}");
    assert!(!out.stdout.contains("in effect"), "{}", out.stdout);

    // A policy naming an unknown rule is refused here as it is by `scan`.
    let bad = with_policy("[rules.no-such-rule]\nweight = 1\n");
    let mut cmd = mcp_audit();
    cmd.current_dir(bad.path()).arg("rules");
    let out = run(cmd);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(out.stderr.contains("no-such-rule"), "{}", out.stderr);
}

#[test]
fn evaluate_now_decides_whether_an_ignore_has_expired() {
    let reg = fixture_registry();
    let scratch = tempfile::tempdir().unwrap();
    let mut cmd = mcp_audit();
    cmd.current_dir(scratch.path())
        .args(["facts", RISKY, "--registry", &reg.url(), "--now", NOW]);
    let out = run(cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let dir = with_policy(
        "[[ignore]]\nrule = \"version-zero-zero\"\npackage = \"risky-mcp-server\"\n\
         reason = \"until the 1.0 release\"\nexpires = \"2026-11-21\"\n",
    );
    let file = dir.path().join("facts.json");
    std::fs::write(&file, &out.stdout).unwrap();
    let evaluate = |now: &str| {
        let mut cmd = mcp_audit();
        cmd.current_dir(dir.path()).args([
            "evaluate",
            file.to_str().unwrap(),
            "--format",
            "json",
            "--now",
            now,
        ]);
        let out = run(cmd);
        assert!(out.code <= 1, "{}", out.stderr);
        json(&out)
    };
    let r = evaluate("2026-11-21T23:00:00Z");
    assert_eq!(
        finding(&r, "version-zero-zero")["ignored"]["reason"],
        "until the 1.0 release"
    );
    assert_eq!(r["generated_at"], "2026-11-21T23:00:00Z");
    let r = evaluate("2026-11-22T00:00:01Z");
    let f = finding(&r, "version-zero-zero");
    assert_eq!(f["ignored"], serde_json::Value::Null);
    assert_eq!(f["ignore_expired"]["expires"], "2026-11-21");

    let mut cmd = mcp_audit();
    cmd.args(["evaluate", file.to_str().unwrap(), "--now", "yesterday"]);
    let out = run(cmd);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--now `yesterday`"), "{}", out.stderr);
}
