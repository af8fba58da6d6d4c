//! npm configuration and credentials against loopback registries that require a token: which
//! registry is asked, which credential goes where, what the errors say, and that no token ever
//! appears in any output. (The same flows against a real Verdaccio are in tests/it/verdaccio.rs.)

use std::fs;

use crate::support::*;

const TOKEN: &str = "npm_TESTtokenVALUEaaaaaaaaaaaaaaaaaaaaaaaaaa1";
const OTHER_TOKEN: &str = "npm_OTHERsecretBBBBBBBBBBBBBBBBBBBBBBBBBBBB2";

/// Runs mcp-audit with `args` (no `--registry`: configuration decides), a scratch project dir,
/// and extra environment; asserts that no token appears anywhere in its output.
fn audit(project: &std::path::Path, env: &[(&str, String)], args: &[&str]) -> Output {
    let mut cmd = mcp_audit();
    cmd.current_dir(project)
        .args(args)
        .args(["--now", NOW, "--retry-base-ms", "10"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run(cmd);
    out.assert_no_leak(&[TOKEN, OTHER_TOKEN]);
    out
}

#[test]
fn token_from_environment_nerf_dart_key() {
    let reg = fixture_registry();
    reg.require_bearer(TOKEN);
    let dir = project();
    let key = format!("npm_config_{}:_authToken", nerf(&reg));
    let env = [
        ("npm_config_registry", reg.url()),
        (key.as_str(), TOKEN.to_string()),
    ];
    let out = audit(
        dir.path(),
        &env,
        &["scan", "good-mcp-server", "-v", "--format", "json"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(reg
        .authorizations()
        .iter()
        .all(|a| a.as_deref() == Some(&*format!("Bearer {TOKEN}"))));
    // Verbose logs and JSON are in the no-token check above as well.
    assert!(out.stdout.contains("\"schema_version\": 1"));
}

#[test]
fn project_npmrc_with_env_expansion() {
    let reg = fixture_registry();
    reg.require_bearer(TOKEN);
    let dir = project();
    fs::write(
        dir.path().join(".npmrc"),
        format!(
            "registry={}\n{}:_authToken=${{MY_TOKEN}}\n",
            reg.url(),
            nerf(&reg)
        ),
    )
    .unwrap();
    let out = audit(
        dir.path(),
        &[("MY_TOKEN", TOKEN.to_string())],
        &["scan", "good-mcp-server"],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    // Without the variable, npm sends the text literally; the registry refuses it, and the
    // error says which key was used and that the variable was unset.
    let out = audit(dir.path(), &[], &["scan", "good-mcp-server"]);
    assert_eq!(out.code, 3, "{}", out.stdout);
    assert!(out.stderr.contains("MY_TOKEN"), "{}", out.stderr);
    assert!(out.stderr.contains("401 Unauthorized"), "{}", out.stderr);
    assert!(out.stderr.contains(".npmrc:2"), "{}", out.stderr);
}

#[test]
fn scoped_registry_gets_the_token_and_the_public_one_does_not() {
    let public = fixture_registry();
    let private = fixture_registry();
    private.require_bearer(TOKEN);
    let dir = project();
    fs::write(
        dir.path().join(".npmrc"),
        format!(
            "registry={}\n@fixture:registry={}\n{}:_authToken={TOKEN}\n",
            public.url(),
            private.url(),
            nerf(&private)
        ),
    )
    .unwrap();
    let out = audit(
        dir.path(),
        &[],
        &[
            "scan",
            "@fixture/deprecated-server",
            "good-mcp-server",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = json(&out);
    assert!(r["packages"][0]["registry"]
        .as_str()
        .unwrap()
        .starts_with(&private.url()));
    assert!(r["packages"][1]["registry"]
        .as_str()
        .unwrap()
        .starts_with(&public.url()));
    assert!(private.hits("/@fixture/deprecated-server") >= 1);
    assert_eq!(public.hits("/@fixture/deprecated-server"), 0);
    // The token went to the private registry only.
    assert!(private.authorizations().iter().all(Option::is_some));
    assert!(
        public.authorizations().iter().all(Option::is_none),
        "{:?}",
        public.authorizations()
    );
}

#[test]
fn wrong_token_is_401_exit_3_naming_the_source() {
    let reg = fixture_registry();
    reg.require_bearer(TOKEN);
    let dir = project();
    let key = format!("npm_config_{}:_authToken", nerf(&reg));
    let out = audit(
        dir.path(),
        &[
            ("npm_config_registry", reg.url()),
            (&key, OTHER_TOKEN.to_string()),
        ],
        &["scan", "good-mcp-server", "takeover-demo"],
    );
    assert_eq!(out.code, 3);
    assert!(
        out.stderr
            .contains("answered 401 Unauthorized for good-mcp-server"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("the token is missing, expired or invalid"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("`{}:_authToken` from environment", nerf(&reg))),
        "{}",
        out.stderr
    );

    // No token at all: the error says none is configured and which key would be.
    let out = audit(
        dir.path(),
        &[("npm_config_registry", reg.url())],
        &["scan", "good-mcp-server"],
    );
    assert_eq!(out.code, 3);
    assert!(
        out.stderr
            .contains(&format!("no credential is configured for `{}`", nerf(&reg))),
        "{}",
        out.stderr
    );
}

#[test]
fn forbidden_and_scoped_not_found_are_diagnosed() {
    let reg = fixture_registry();
    reg.fault(
        "/good-mcp-server",
        Fault::Status {
            code: 403,
            times: 10,
        },
    );
    let dir = project();
    let key = format!("npm_config_{}:_authToken", nerf(&reg));
    let out = audit(
        dir.path(),
        &[
            ("npm_config_registry", reg.url()),
            (&key, TOKEN.to_string()),
        ],
        &["scan", "good-mcp-server", "@acme/private-server"],
    );
    assert_eq!(out.code, 3);
    assert!(
        out.stderr
            .contains("403 Forbidden for good-mcp-server: the credential lacks read access"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("package @acme/private-server does not exist on"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("is `@acme:registry` set?"),
        "{}",
        out.stderr
    );
}

#[test]
fn token_keyed_to_the_wrong_path_gets_a_hint() {
    let reg = fixture_registry();
    reg.require_bearer(TOKEN);
    let dir = project();
    fs::write(
        dir.path().join(".npmrc"),
        format!(
            "registry={}\n{}other/:_authToken={TOKEN}\n",
            reg.url(),
            nerf(&reg)
        ),
    )
    .unwrap();
    let out = audit(dir.path(), &[], &["scan", "good-mcp-server"]);
    assert_eq!(out.code, 3);
    assert!(
        out.stderr.contains(&format!(
            "The key that would match is `{}:_authToken`",
            nerf(&reg)
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn path_prefixed_registry_like_artifactory() {
    let reg = fixture_registry();
    reg.require_bearer(TOKEN);
    let prefix = "/artifactory/api/npm/npm-local";
    let packument = fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/registry/packuments/good-mcp-server.json"
    ))
    .unwrap();
    reg.add_file(
        &format!("{prefix}/good-mcp-server"),
        packument,
        "application/json",
    );
    let keys = fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/registry/keys.json"
    ))
    .unwrap();
    reg.add_file(&format!("{prefix}/-/npm/v1/keys"), keys, "application/json");
    let dir = project();
    for registry in [
        format!("{}{}", reg.url(), &prefix[1..]),
        format!("{}{}/", reg.url(), &prefix[1..]),
    ] {
        fs::write(
            dir.path().join(".npmrc"),
            format!(
                "registry={registry}\n{}{}/:_authToken={TOKEN}\n",
                nerf(&reg),
                &prefix[1..]
            ),
        )
        .unwrap();
        let out = audit(
            dir.path(),
            &[],
            &["scan", "good-mcp-server", "--format", "json"],
        );
        assert_eq!(out.code, 0, "{registry}: {}", out.stderr);
        let r = json(&out);
        assert_eq!(
            r["packages"][0]["facts"]["signatures"]["status"],
            "verified"
        );
    }
    assert!(reg
        .requests()
        .iter()
        .any(|r| r.decoded_path == format!("{prefix}/-/npm/v1/keys")));
}

#[test]
fn bad_configuration_is_reported_with_file_and_line() {
    let reg = fixture_registry();
    let dir = project();
    fs::write(
        dir.path().join(".npmrc"),
        format!(
            "registry={}\nthis line has no equals sign\nfoo=${{UNSET_VAR_FOR_TEST}}\n",
            reg.url()
        ),
    )
    .unwrap();
    let out = audit(dir.path(), &[], &["scan", "good-mcp-server"]);
    assert_eq!(
        out.code, 0,
        "a bad line is reported and ignored: {}",
        out.stderr
    );
    assert!(out.stderr.contains(".npmrc:2"), "{}", out.stderr);
    assert!(
        out.stderr.contains(".npmrc:3") && out.stderr.contains("UNSET_VAR_FOR_TEST"),
        "{}",
        out.stderr
    );

    fs::write(dir.path().join(".npmrc"), "registry=registry.example.com\n").unwrap();
    let out = audit(dir.path(), &[], &["scan", "good-mcp-server"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("registry.example.com"),
        "{}",
        out.stderr
    );

    // A plain-http registry off loopback is refused before any request.
    fs::write(
        dir.path().join(".npmrc"),
        "registry=http://registry.example.com/\n",
    )
    .unwrap();
    let out = audit(dir.path(), &[], &["scan", "good-mcp-server"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("plain http"), "{}", out.stderr);
}

#[test]
fn config_check_explains_without_secrets() {
    let reg = fixture_registry();
    let dir = project();
    fs::write(
        dir.path().join(".npmrc"),
        format!(
            "@fixture:registry={}\n{}:_authToken={TOKEN}\n",
            reg.url(),
            nerf(&reg)
        ),
    )
    .unwrap();
    let out = audit(dir.path(), &[], &["config-check", "@fixture/x", "left-pad"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains(&reg.url()), "{}", out.stdout);
    assert!(out.stdout.contains("Bearer ***"), "{}", out.stdout);
    assert!(out.stdout.contains(".npmrc:2"), "{}", out.stdout);
    assert!(
        out.stdout.contains("https://registry.npmjs.org/"),
        "{}",
        out.stdout
    );
    let out = audit(
        dir.path(),
        &[],
        &["config-check", "@fixture/x", "--format", "json"],
    );
    let r = json(&out);
    assert_eq!(r["packages"][0]["auth"]["header"], "Bearer ***");
    assert!(reg.requests().is_empty(), "config-check makes no request");
}
