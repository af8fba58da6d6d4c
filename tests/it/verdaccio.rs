//! The scanner against a real private registry: Verdaccio on loopback with htpasswd auth and a
//! scope that requires it (tests/it/support/verdaccio.rs; installed by scripts/test-tools.sh).
//! Fixture packages are published with a real token, then scanned with the token supplied the
//! ways users supply it. No output of any run may contain the token.

use std::fs;

use crate::support::verdaccio::{FixturePackage, Verdaccio};
use crate::support::*;
use serde_json::json;

struct Private {
    verdaccio: Verdaccio,
    token: String,
}

/// One Verdaccio with a user and three packages: two in the protected `@private` scope, one
/// public.
fn private_registry() -> Private {
    let verdaccio = Verdaccio::start();
    let token = verdaccio.add_user("alice", "correct-horse-battery");
    for pkg in [
        FixturePackage::new("@private/secret-server", "1.0.0").manifest(json!({
            "description": "MCP server on the private registry",
            "license": "MIT",
            "repository": {"type": "git", "url": "git+https://github.com/acme/secret-server.git"},
            "dependencies": {"zod": "^3.25.0"}
        })),
        FixturePackage::new("@private/secret-server", "1.1.0").manifest(json!({
            "license": "MIT",
            "repository": {"type": "git", "url": "git+https://github.com/acme/secret-server.git"},
            "dependencies": {"zod": "*"},
            "scripts": {"postinstall": "node setup.js"}
        })),
        FixturePackage::new("plain-server", "2.0.0")
            .manifest(json!({"license": "MIT", "repository": "acme/plain-server"})),
    ] {
        verdaccio.publish(&token, &pkg);
    }
    Private { verdaccio, token }
}

fn audit(p: &Private, dir: &std::path::Path, env: &[(String, String)], args: &[&str]) -> Output {
    let mut cmd = mcp_audit();
    cmd.current_dir(dir)
        .args(args)
        .args(["--now", NOW, "--retry-base-ms", "10"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run(cmd);
    out.assert_no_leak(&[&p.token]);
    out
}

#[test]
fn token_from_environment_reaches_the_protected_scope() {
    let p = private_registry();
    let url = p.verdaccio.url();
    let dir = project();
    let env = vec![
        ("npm_config_registry".to_string(), url.clone()),
        (
            format!("npm_config_{}:_authToken", nerf(&url)),
            p.token.clone(),
        ),
    ];
    let out = audit(
        &p,
        dir.path(),
        &env,
        &[
            "scan",
            "@private/secret-server",
            "plain-server",
            "-v",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = json(&out);
    let secret = &r["packages"][0];
    assert_eq!(secret["version"], "1.1.0");
    let ids: Vec<&str> = secret["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"dependency-wildcard"), "{ids:?}");
    assert!(ids.contains(&"install-scripts"), "{ids:?}");
    // Verdaccio serves no keys: unknown, with that reason, and counted.
    let reason = secret["facts"]["signatures"]["status"]["$unknown"]
        .as_str()
        .unwrap();
    assert_eq!(reason, format!("registry {url} provides no signing keys"));
    assert!(r["summary"]["inconclusive"].as_u64().unwrap() > 0);
    assert_eq!(r["packages"][1]["version"], "2.0.0");
}

#[test]
fn project_npmrc_with_token_reference() {
    let p = private_registry();
    let url = p.verdaccio.url();
    let dir = project();
    fs::write(
        dir.path().join(".npmrc"),
        format!(
            "registry={url}\n{}:_authToken=${{VERDACCIO_TOKEN}}\n",
            nerf(&url)
        ),
    )
    .unwrap();
    let env = vec![("VERDACCIO_TOKEN".to_string(), p.token.clone())];
    let out = audit(
        &p,
        dir.path(),
        &env,
        &["scan", "@private/secret-server@1.0.0"],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("@private/secret-server@1.0.0"),
        "{}",
        out.stdout
    );
}

#[test]
fn scoped_registry_and_a_public_package_elsewhere() {
    let p = private_registry();
    let public = fixture_registry();
    let url = p.verdaccio.url();
    let dir = project();
    fs::write(
        dir.path().join(".npmrc"),
        format!(
            "registry={}\n@private:registry={url}\n{}:_authToken={}\n",
            public.url(),
            nerf(&url),
            p.token
        ),
    )
    .unwrap();
    let out = audit(
        &p,
        dir.path(),
        &[],
        &[
            "scan",
            "@private/secret-server",
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
        .starts_with(&url));
    assert!(r["packages"][1]["registry"]
        .as_str()
        .unwrap()
        .starts_with(&public.url()));
    // The public registry never saw the token.
    assert!(public
        .requests()
        .iter()
        .all(|q| q.header("authorization").is_none()));
    // config-check tells the same story without a secret.
    let out = audit(
        &p,
        dir.path(),
        &[],
        &["config-check", "@private/secret-server", "good-mcp-server"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("@private:registry from project config"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Bearer ***"), "{}", out.stdout);
}

#[test]
fn wrong_or_missing_token_is_401_exit_3() {
    let p = private_registry();
    let url = p.verdaccio.url();
    let dir = project();
    let env = vec![
        ("npm_config_registry".to_string(), url.clone()),
        (
            format!("npm_config_{}:_authToken", nerf(&url)),
            "npm_notTheRightTokenAtAll0000000000000000".to_string(),
        ),
    ];
    let out = audit(
        &p,
        dir.path(),
        &env,
        &["scan", "@private/secret-server", "plain-server"],
    );
    assert_eq!(out.code, 3, "{}", out.stdout);
    assert!(
        out.stderr
            .contains("answered 401 Unauthorized for @private/secret-server"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("from environment was sent"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("npm_notTheRightToken"),
        "the wrong token is a secret too"
    );
    // The public package on the same registry was still scanned.
    assert!(out.stdout.contains("plain-server@2.0.0"), "{}", out.stdout);

    let env = vec![("npm_config_registry".to_string(), url.clone())];
    let out = audit(&p, dir.path(), &env, &["scan", "@private/secret-server"]);
    assert_eq!(out.code, 3);
    assert!(
        out.stderr.contains("no credential is configured for"),
        "{}",
        out.stderr
    );
}

/// `mcp-audit config`: each server entry reaches Verdaccio through its own `env` (the registry
/// and the token npm reads from `npm_config_*`), by reference and written inline; an entry
/// without a token is refused by Verdaccio and reported as not checked, the others go on.
#[test]
fn config_entries_authenticate_through_their_own_env() {
    let p = private_registry();
    let url = p.verdaccio.url();
    let dir = project();
    let token_key = format!("npm_config_{}:_authToken", nerf(&url));
    let cursor = dir.path().join(".cursor");
    fs::create_dir(&cursor).unwrap();
    let config = json!({
        "mcpServers": {
            "by-reference": {
                "command": "npx",
                "args": ["-y", "@private/secret-server@1.0.0"],
                "env": {"npm_config_registry": url, token_key.clone(): "${VERDACCIO_TOKEN}"}
            },
            "inline": {
                "command": "npx",
                "args": ["-y", "@private/secret-server@1.1.0"],
                "env": {"npm_config_registry": url, token_key.clone(): p.token}
            },
            "no-token": {
                "command": "npx",
                "args": ["-y", "@private/secret-server@1.0.0"],
                "env": {"npm_config_registry": url}
            },
            "public-on-verdaccio": {
                "command": "npx",
                "args": ["-y", "--registry", url, "plain-server@2.0.0"]
            }
        }
    });
    let file = cursor.join("mcp.json");
    fs::write(&file, serde_json::to_string_pretty(&config).unwrap()).unwrap();
    let env = vec![("VERDACCIO_TOKEN".to_string(), p.token.clone())];
    let file_arg = file.display().to_string();
    let out = audit(
        &p,
        dir.path(),
        &env,
        &["config", &file_arg, "--format", "json"],
    );
    assert_eq!(out.code, 3, "{}", out.stderr);
    let r = json(&out);
    let servers: std::collections::BTreeMap<String, serde_json::Value> = r["files"][0]["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap().to_string(), s.clone()))
        .collect();
    let by_ref = &servers["by-reference"];
    assert_eq!(by_ref["package"]["status"], "scanned", "{by_ref:#}");
    assert_eq!(by_ref["package"]["version"], "1.0.0");
    assert_eq!(by_ref["package"]["registry"], url);
    let inline = &servers["inline"];
    assert_eq!(inline["package"]["version"], "1.1.0", "{inline:#}");
    let ids = rule_ids(&inline["findings"]);
    assert!(
        ids.contains(&"launch-inline-npm-token".to_string()),
        "{ids:?}"
    );
    assert!(ids.contains(&"install-scripts".to_string()), "{ids:?}");
    let refused = &servers["no-token"];
    assert_eq!(refused["status"], "error");
    assert_eq!(
        refused["package"]["error"]["kind"], "unauthorized",
        "{refused:#}"
    );
    assert_eq!(
        servers["public-on-verdaccio"]["package"]["status"],
        "scanned"
    );
    assert_eq!(r["summary"]["errors"], 1);
}
