//! Tests of the Verdaccio harness itself, and a record of what a real Verdaccio answers: the
//! scanner's private-registry tests rely on these statuses, so a Verdaccio upgrade that changes
//! them fails here first, with a precise message.
//!
//! Requests go through reqwest (the client the scanner uses), not the harness's own HTTP code.

use std::time::Instant;

use crate::support::verdaccio::{FixturePackage, Verdaccio};
use serde_json::json;

struct Reply {
    status: u16,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// GET through reqwest on a private current-thread runtime, so the tests stay plain `#[test]`s
/// like the harness's blocking API.
fn get(url: &str, auth: Option<&str>) -> Reply {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // No proxy: loopback traffic must not be sent to one from the developer's environment.
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut req = client.get(url);
        if let Some(value) = auth {
            req = req.header("Authorization", value);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        Reply {
            status: resp.status().as_u16(),
            body: resp.bytes().await.unwrap().to_vec(),
        }
    })
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn secret_server() -> FixturePackage {
    FixturePackage::new("@private/secret-server", "1.0.0")
        .manifest(json!({
            "description": "an MCP server only on the private registry",
            "bin": {"secret-server": "index.js"},
            "dependencies": {"plain-server": "^1.0.0"},
            // Must not run at publish time (the harness passes --ignore-scripts).
            "scripts": {"prepare": "exit 1", "postinstall": "node index.js"},
            "repository": {"type": "git", "url": "git+https://example.invalid/secret-server.git"},
        }))
        .file("index.js", "#!/usr/bin/env node\nconsole.log('secret');\n")
        .file("lib/util.js", "module.exports = 1;\n")
}

fn plain_server() -> FixturePackage {
    FixturePackage::new("plain-server", "1.0.0")
        .manifest(json!({"description": "an unscoped MCP server"}))
        .file("index.js", "module.exports = {};\n")
}

#[test]
fn private_scope_needs_a_valid_token_and_the_rest_is_public() {
    let started = Instant::now();
    let reg = Verdaccio::start();
    eprintln!("Verdaccio ready in {:?}", started.elapsed());
    let base = reg.url();
    assert_eq!(base, format!("http://127.0.0.1:{}/", reg.port()));

    let token = reg.add_user("alice", "correct-horse-battery");
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    let publish_started = Instant::now();
    reg.publish(&token, &secret_server());
    reg.publish(&token, &plain_server());
    eprintln!("2 packages published in {:?}", publish_started.elapsed());

    let private = format!("{base}@private%2fsecret-server");

    // Anonymous read of the protected scope: 401, not 403 or 404.
    let anon = get(&private, None);
    assert_eq!(anon.status, 401);
    assert_eq!(
        anon.json()["error"],
        "authorization required to access package @private/secret-server"
    );
    // The unencoded form npm never sends is routed the same way.
    assert_eq!(
        get(&format!("{base}@private/secret-server"), None).status,
        401
    );

    let authed = get(&private, Some(&bearer(&token)));
    assert_eq!(authed.status, 200);
    let doc = authed.json();
    assert_eq!(doc["name"], "@private/secret-server");
    assert_eq!(doc["dist-tags"]["latest"], "1.0.0");
    let v1 = &doc["versions"]["1.0.0"];
    assert_eq!(v1["dependencies"]["plain-server"], "^1.0.0");
    assert_eq!(v1["scripts"]["postinstall"], "node index.js");
    assert_eq!(
        v1["repository"]["url"],
        "git+https://example.invalid/secret-server.git"
    );
    assert!(v1["dist"]["integrity"]
        .as_str()
        .unwrap()
        .starts_with("sha512-"));
    // Verdaccio keeps no signatures or attestations in dist: there is nothing to verify.
    assert!(v1["dist"].get("signatures").is_none());
    assert!(v1["dist"].get("attestations").is_none());
    // Tarball URLs are absolute, on the host the request named, under the full scoped path.
    let tarball = v1["dist"]["tarball"].as_str().unwrap();
    assert_eq!(
        tarball,
        format!("{base}@private/secret-server/-/secret-server-1.0.0.tgz")
    );

    // The tarball is protected like the packument.
    assert_eq!(get(tarball, None).status, 401);
    let tgz = get(tarball, Some(&bearer(&token)));
    assert_eq!(tgz.status, 200);
    assert_eq!(&tgz.body[..2], &[0x1f, 0x8b], "a gzip tarball");

    // A wrong token is not an error by itself: Verdaccio treats the request as anonymous, so the
    // protected scope answers 401 with the same body, and public packages still answer 200.
    let mut tampered = token.clone();
    tampered.pop();
    for bad in [bearer("not-a-token"), bearer(&tampered)] {
        let r = get(&private, Some(&bad));
        assert_eq!(r.status, 401, "{bad}");
        assert_eq!(
            r.json()["error"],
            "authorization required to access package @private/secret-server"
        );
    }

    // Basic auth with the htpasswd credentials works too (npm's `_auth` / username+_password).
    use base64::Engine as _;
    let basic = |user_pass: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(user_pass)
        )
    };
    assert_eq!(
        get(&private, Some(&basic("alice:correct-horse-battery"))).status,
        200
    );
    assert_eq!(get(&private, Some(&basic("alice:wrong"))).status, 401);

    // The rest of the namespace is readable anonymously.
    let plain = get(&format!("{base}plain-server"), None);
    assert_eq!(plain.status, 200);
    assert_eq!(plain.json()["versions"]["1.0.0"]["version"], "1.0.0");
    let plain_tarball = plain.json()["versions"]["1.0.0"]["dist"]["tarball"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        plain_tarball,
        format!("{base}plain-server/-/plain-server-1.0.0.tgz")
    );
    assert_eq!(get(&plain_tarball, None).status, 200);
    assert_eq!(
        get(&format!("{base}plain-server"), Some(&bearer("not-a-token"))).status,
        200,
        "a bad token on a public package is ignored, not refused"
    );

    // No uplinks: an unknown name is a plain 404, never fetched from elsewhere.
    let missing = get(&format!("{base}left-pad"), None);
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"], "no such package available");
    // An unknown name in the protected scope: 404 with a token, 401 without.
    assert_eq!(get(&format!("{base}@private%2fnope"), None).status, 401);
    assert_eq!(
        get(&format!("{base}@private%2fnope"), Some(&bearer(&token))).status,
        404
    );

    // No signing keys and no attestations endpoint, with or without a token.
    for auth in [None, Some(bearer(&token))] {
        let keys = get(&format!("{base}-/npm/v1/keys"), auth.as_deref());
        assert_eq!(keys.status, 404);
        assert_eq!(keys.json()["error"], "File not found");
        for spec in ["plain-server@1.0.0", "@private%2fsecret-server@1.0.0"] {
            let att = get(
                &format!("{base}-/npm/v1/attestations/{spec}"),
                auth.as_deref(),
            );
            assert_eq!(att.status, 404, "attestations for {spec}");
        }
    }

    let whoami = get(&format!("{base}-/whoami"), Some(&bearer(&token)));
    assert_eq!(whoami.status, 200);
    assert_eq!(whoami.json()["username"], "alice");
    // whoami does not refuse a bad token either: it answers an empty object.
    let nobody = get(&format!("{base}-/whoami"), Some(&bearer("not-a-token")));
    assert_eq!((nobody.status, nobody.json()), (200, json!({})));

    // Verdaccio logs its outgoing (uplink) requests with `-->`: there must be none.
    let log = reg.log();
    assert!(log.contains("<-- 127.0.0.1 requested 'GET /@private%2fsecret-server'"));
    assert!(!log.contains("-->"), "Verdaccio called out:\n{log}");
}

#[test]
fn publishing_needs_a_valid_token_and_prereleases_get_a_tag() {
    let reg = Verdaccio::start();
    let token = reg.add_user("bob", "hunter2-hunter2");
    // Anonymous publish (via the harness's own client: a PUT of a stub packument) is refused.
    let (status, _) = reg
        .request(
            "PUT",
            "/plain-server",
            &[("Content-Type", "application/json")],
            Some(br#"{"name":"plain-server","versions":{}}"#),
        )
        .unwrap();
    assert_eq!(status, 401);

    reg.publish(
        &token,
        &FixturePackage::new("@scoped/beta-server", "2.0.0-beta.1"),
    );
    let doc = get(&format!("{}@scoped%2fbeta-server", reg.url()), None).json();
    // Published under `next`; Verdaccio also points `latest` at it, as the package had none.
    assert_eq!(
        doc["dist-tags"],
        json!({"latest": "2.0.0-beta.1", "next": "2.0.0-beta.1"})
    );

    let second_token = reg.add_user("carol", "hunter3-hunter3");
    assert_ne!(second_token, token);
    // Re-registering an existing name is refused, whatever the password.
    let (status, body) = reg
        .request(
            "PUT",
            "/-/user/org.couchdb.user:bob",
            &[("Content-Type", "application/json")],
            Some(br#"{"name":"bob","password":"hunter2-hunter2"}"#),
        )
        .unwrap();
    assert_eq!(status, 409, "{body}");
}

#[test]
fn drop_kills_the_server_and_removes_its_dir() {
    let reg = Verdaccio::start();
    let pid = reg.pid();
    let dir = reg.dir().to_path_buf();
    let url = reg.url();
    assert!(dir.join("storage").is_dir());
    drop(reg);
    assert!(!dir.exists(), "temp dir {} left behind", dir.display());
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "process {pid} still exists"
    );
    let port = url.trim_end_matches('/').rsplit(':').next().unwrap();
    assert!(
        std::net::TcpStream::connect(format!("127.0.0.1:{port}")).is_err(),
        "port {port} still accepts connections"
    );
}
