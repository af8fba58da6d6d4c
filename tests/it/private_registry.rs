//! npm configuration and credentials against loopback registries that require a token: which
//! registry is asked, which credential goes where, what the errors say, and that no token ever
//! appears in any output. (The same flows against a real Verdaccio are in tests/it/verdaccio.rs.)
//! Also the client's own bounds on a hostile registry: redirects re-scope credentials on every
//! hop, one deadline per package caps `Retry-After`, and the tarball cap names its flag.

use std::collections::HashMap;
use std::fs;
use std::sync::Arc;
use std::time::Duration;

use crate::support::*;
use mcp_audit::error::FetchError;
use mcp_audit::npmrc::{Config, Layer};
use mcp_audit::registry::{http_client, HttpConfig, RegistryClient, RegistryUrl};
use serde_json::json;
use url::Url;

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

/// A client for `registry` with the given npm settings (credential keys and values), as the scan
/// builds it, with fast retries.
fn client_for(registry: &str, settings: &[(String, &str)]) -> RegistryClient {
    let mut pairs = vec![("registry".to_string(), registry.to_string())];
    pairs.extend(settings.iter().map(|(k, v)| (k.clone(), v.to_string())));
    let (cli, _) = Layer::from_cli(&pairs, &HashMap::new());
    let config = Config::from_layers(vec![Layer::defaults(), cli]);
    let cfg = HttpConfig {
        backoff_base: Duration::from_millis(10),
        ..HttpConfig::default()
    };
    let http = http_client(&cfg).unwrap();
    RegistryClient::shared(
        RegistryUrl::parse(registry).unwrap(),
        cfg,
        http,
        Arc::new(tokio::sync::Semaphore::new(4)),
        Some(Arc::new(config)),
    )
}

/// The `Authorization` header each request to `path` carried, in order.
fn auth_at(reg: &TestRegistry, path: &str) -> Vec<Option<String>> {
    reg.requests()
        .iter()
        .filter(|r| r.decoded_path == path)
        .map(|r| r.header("authorization").map(str::to_string))
        .collect()
}

fn redirect(reg: &TestRegistry, from: &str, to: String) {
    reg.fault(
        from,
        Fault::Redirect {
            status: 302,
            location: to,
        },
    );
}

const DOC: &[u8] = br#"{"name":"x","versions":{}}"#;

/// reqwest keeps `Authorization` on a same-host redirect; npm's scoping does not: a token for
/// `//host/npm/` never reaches `//host/other/`, whoever sends the client there.
#[tokio::test]
async fn a_redirect_to_a_sibling_path_drops_the_token() {
    let reg = TestRegistry::start_empty();
    let base = format!("{}npm/", reg.url());
    let client = client_for(&base, &[(format!("{}npm/:_authToken", nerf(&reg)), TOKEN)]);
    redirect(&reg, "/npm/x", format!("{}other/x", reg.url()));
    reg.add_file("/other/x", DOC.to_vec(), "application/json");

    let body = client
        .get_bytes(&Url::parse(&format!("{base}x")).unwrap())
        .await
        .unwrap();
    assert_eq!(body, DOC);
    assert_eq!(auth_at(&reg, "/npm/x"), [Some(format!("Bearer {TOKEN}"))]);
    assert_eq!(auth_at(&reg, "/other/x"), [None]);
}

#[tokio::test]
async fn a_redirect_within_the_credential_prefix_keeps_it() {
    let reg = TestRegistry::start_empty();
    let base = format!("{}npm/", reg.url());
    let client = client_for(&base, &[(format!("{}npm/:_authToken", nerf(&reg)), TOKEN)]);
    redirect(&reg, "/npm/x", format!("{}npm/-/moved/x", reg.url()));
    reg.add_file("/npm/-/moved/x", DOC.to_vec(), "application/json");

    client
        .get_bytes(&Url::parse(&format!("{base}x")).unwrap())
        .await
        .unwrap();
    let bearer = format!("Bearer {TOKEN}");
    assert_eq!(auth_at(&reg, "/npm/x"), [Some(bearer.clone())]);
    assert_eq!(auth_at(&reg, "/npm/-/moved/x"), [Some(bearer)]);
}

/// Each hop gets the credential its own URL selects: none on a host without one, that host's
/// own on a host that has one, and never the first host's.
#[tokio::test]
async fn a_redirect_to_another_host_gets_that_hosts_credential_or_none() {
    let reg = TestRegistry::start_empty();
    let other = TestRegistry::start_empty();
    let other_with_token = TestRegistry::start_empty();
    let client = client_for(
        &reg.url(),
        &[
            (format!("{}:_authToken", nerf(&reg)), TOKEN),
            (
                format!("{}:_authToken", nerf(&other_with_token)),
                OTHER_TOKEN,
            ),
        ],
    );
    redirect(&reg, "/a", format!("{}a", other.url()));
    other.add_file("/a", DOC.to_vec(), "application/json");
    redirect(&reg, "/b", format!("{}b", other_with_token.url()));
    other_with_token.add_file("/b", DOC.to_vec(), "application/json");

    for path in ["a", "b"] {
        let url = Url::parse(&format!("{}{path}", reg.url())).unwrap();
        client.get_bytes(&url).await.unwrap();
    }
    assert_eq!(auth_at(&reg, "/a"), [Some(format!("Bearer {TOKEN}"))]);
    assert_eq!(auth_at(&other, "/a"), [None]);
    assert_eq!(
        auth_at(&other_with_token, "/b"),
        [Some(format!("Bearer {OTHER_TOKEN}"))]
    );
}

#[tokio::test]
async fn redirect_loops_are_bounded_and_not_retried() {
    let reg = TestRegistry::start_empty();
    let client = client_for(&reg.url(), &[(format!("{}:_authToken", nerf(&reg)), TOKEN)]);
    redirect(&reg, "/loop", format!("{}loop", reg.url()));
    let err = client
        .get_bytes(&Url::parse(&format!("{}loop", reg.url())).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Redirect { .. }), "{err:?}");
    assert!(err.to_string().contains("more than 5 redirects"), "{err}");
    assert_eq!(reg.hits("/loop"), 6);
    assert!(!format!("{err} {err:?}").contains(TOKEN));
}

/// `Retry-After: 60` with `--timeout 5 --retries 1` once took 180 s; now the package's deadline
/// (5 × 2 = 10 s) cannot fit the wait, so it gives up after the first answer.
#[test]
fn retry_after_beyond_the_deadline_gives_up_at_once() {
    let reg = fixture_registry();
    reg.fault(
        "/good-mcp-server",
        Fault::TooManyRequests {
            retry_after_secs: 60,
            times: 100,
        },
    );
    let out = run(scan(
        &reg,
        &[
            "good-mcp-server",
            "--timeout",
            "5",
            "--retries",
            "1",
            "--format",
            "json",
        ],
    ));
    assert_eq!(out.code, 3, "{}", out.stderr);
    let error = &json(&out)["packages"][0]["error"];
    assert_eq!(error["kind"], "deadline-exceeded", "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("deadline exceeded"), "{message}");
    assert!(message.contains("after 1 attempt"), "{message}");
    assert!(message.contains("asked to wait 60s"), "{message}");
    assert_eq!(reg.hits("/good-mcp-server"), 1);
}

/// Waits are spent from the same deadline: with 4 s in all, one 2 s wait fits and the second
/// does not.
#[test]
fn retry_waits_count_against_the_deadline() {
    let reg = fixture_registry();
    reg.fault(
        "/good-mcp-server",
        Fault::TooManyRequests {
            retry_after_secs: 2,
            times: 100,
        },
    );
    let out = run(scan(
        &reg,
        &["good-mcp-server", "--timeout", "1", "--retries", "3"],
    ));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("deadline exceeded"), "{}", out.stderr);
    assert!(out.stderr.contains("after 2 attempt"), "{}", out.stderr);
    assert_eq!(reg.hits("/good-mcp-server"), 2);
}

/// The tarball cap is `--max-tarball-mb`, and a tarball over it says so (not `--max-body-mb`,
/// which caps registry documents).
#[test]
fn tarball_cap_is_its_own_flag() {
    let reg = fixture_registry();
    let tgz = vec![0u8; 2 * 1024 * 1024];
    reg.add_packument(
        "big-tarball",
        json!({
            "name": "big-tarball",
            "dist-tags": {"latest": "1.0.0"},
            "versions": {"1.0.0": {"name": "big-tarball", "version": "1.0.0", "dist": {
                "tarball": "{{registry}}/big-tarball/-/big-tarball-1.0.0.tgz",
                "shasum": "0000000000000000000000000000000000000000"
            }}}
        }),
    );
    reg.add_file(
        "/big-tarball/-/big-tarball-1.0.0.tgz",
        tgz,
        "application/octet-stream",
    );
    let args = |mb: &'static str| ["big-tarball", "--format", "json", "--max-tarball-mb", mb];
    let out = run(scan(&reg, &args("1")));
    assert!(
        out.stdout.contains("raise --max-tarball-mb"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("--max-body-mb"), "{}", out.stdout);
    // Raised above the tarball's size, it is downloaded.
    let out = run(scan(&reg, &args("3")));
    assert!(
        !out.stdout.contains("raise --max-tarball-mb"),
        "{}",
        out.stdout
    );
    assert_eq!(reg.hits("/big-tarball/-/big-tarball-1.0.0.tgz"), 2);
}
