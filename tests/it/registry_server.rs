//! Tests of the loopback registry itself, so other tests can trust it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::registry::{Fault, TestRegistry};
use serde_json::{json, Value};

const TARBALL: &[u8] = b"\x1f\x8b\x08\x00not-really-a-tarball";

fn write(root: &Path, rel: &str, body: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
}

/// Root at `<tmp>/registry` with a `secret.json` beside it that traversal must never reach.
fn fixture() -> (tempfile::TempDir, TestRegistry) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("secret.json"), b"{\"secret\":true}").unwrap();
    let root = tmp.path().join("registry");
    write(&root, "keys.json", br#"{"keys":[{"keyid":"k1"}]}"#);
    write(
        &root,
        "packuments/left-pad.json",
        br#"{"name":"left-pad","versions":{"1.0.0":{"dist":{"tarball":"{{registry}}/left-pad/-/left-pad-1.0.0.tgz"}}}}"#,
    );
    write(
        &root,
        "packuments/@acme/server.json",
        br#"{"name":"@acme/server","versions":{"2.0.0":{"dist":{"tarball":"{{registry}}/@acme/server/-/server-2.0.0.tgz"}}}}"#,
    );
    write(&root, "tarballs/left-pad-1.0.0.tgz", TARBALL);
    write(&root, "tarballs/@acme/server-2.0.0.tgz", b"scoped tarball");
    write(
        &root,
        "attestations/left-pad@1.0.0.json",
        br#"{"attestations":[],"url":"{{registry}}"}"#,
    );
    write(
        &root,
        "attestations/@acme/server@2.0.0.json",
        br#"{"attestations":["scoped"]}"#,
    );
    let reg = TestRegistry::start(&root);
    (tmp, reg)
}

fn client() -> reqwest::Client {
    // A proxy from the environment must never see loopback test traffic.
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn get(reg: &TestRegistry, path: &str) -> reqwest::Response {
    client()
        .get(format!("{}{}", reg.url(), path.trim_start_matches('/')))
        .send()
        .await
        .unwrap()
}

async fn get_json(reg: &TestRegistry, path: &str) -> (u16, Value) {
    let resp = get(reg, path).await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

fn content_type(resp: &reqwest::Response) -> String {
    resp.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned()
}

/// Raw HTTP/1.1 exchange, for paths a URL parser would normalise and for plain #[test] fns.
fn raw_get(reg: &TestRegistry, path: &str) -> (u16, String) {
    let addr = reg.url()["http://".len()..]
        .trim_end_matches('/')
        .to_owned();
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn url_is_loopback_with_trailing_slash() {
    let reg = TestRegistry::start_empty();
    let url = reg.url();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(url.ends_with('/'), "{url}");
}

#[test]
fn works_from_a_plain_test_without_a_runtime() {
    let (_tmp, reg) = fixture();
    let (status, body) = raw_get(&reg, "/-/npm/v1/keys");
    assert_eq!(status, 200);
    assert!(body.contains("\"k1\""), "{body}");
}

#[tokio::test]
async fn keys_route_and_missing_keys() {
    let (_tmp, reg) = fixture();
    let resp = get(&reg, "/-/npm/v1/keys").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(content_type(&resp), "application/json");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["keys"][0]["keyid"], "k1");

    let empty = TestRegistry::start_empty();
    let (status, body) = get_json(&empty, "/-/npm/v1/keys").await;
    assert_eq!(status, 404);
    assert!(body["error"].is_string());
}

#[tokio::test]
async fn attestations_unscoped_and_scoped() {
    let (_tmp, reg) = fixture();
    let (status, body) = get_json(&reg, "/-/npm/v1/attestations/left-pad@1.0.0").await;
    assert_eq!(status, 200);
    assert_eq!(body["url"], reg.url().trim_end_matches('/'));

    for path in [
        "/-/npm/v1/attestations/@acme/server@2.0.0",
        "/-/npm/v1/attestations/@acme%2fserver@2.0.0",
        "/-/npm/v1/attestations/%40acme%2Fserver@2.0.0",
    ] {
        let (status, body) = get_json(&reg, path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(body["attestations"][0], "scoped", "{path}");
    }

    let (status, _) = get_json(&reg, "/-/npm/v1/attestations/left-pad@9.9.9").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn tarballs_unscoped_and_scoped() {
    let (_tmp, reg) = fixture();
    let resp = get(&reg, "/left-pad/-/left-pad-1.0.0.tgz").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(content_type(&resp), "application/octet-stream");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), TARBALL);

    for path in [
        "/@acme/server/-/server-2.0.0.tgz",
        "/@acme%2fserver/-/server-2.0.0.tgz",
    ] {
        let resp = get(&reg, path).await;
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.bytes().await.unwrap().as_ref(), b"scoped tarball");
    }

    assert_eq!(
        get(&reg, "/left-pad/-/left-pad-9.9.9.tgz").await.status(),
        404
    );
}

#[tokio::test]
async fn packuments_in_every_name_form() {
    let (_tmp, reg) = fixture();
    let resp = get(&reg, "/left-pad").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(content_type(&resp), "application/json");

    for path in ["/@acme/server", "/@acme%2fserver", "/@acme%2Fserver"] {
        let (status, body) = get_json(&reg, path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(body["name"], "@acme/server", "{path}");
    }

    let (status, body) = get_json(&reg, "/does-not-exist").await;
    assert_eq!(status, 404);
    assert_eq!(body, json!({"error": "Not found"}));
    let (status, _) = get_json(&reg, "/@acme/missing").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn registry_placeholder_points_back_at_the_server() {
    let (_tmp, reg) = fixture();
    let base = reg.url().trim_end_matches('/').to_owned();

    let (_, doc) = get_json(&reg, "/@acme%2fserver").await;
    let tarball = doc["versions"]["2.0.0"]["dist"]["tarball"]
        .as_str()
        .unwrap();
    assert_eq!(tarball, format!("{base}/@acme/server/-/server-2.0.0.tgz"));
    let resp = client().get(tarball).send().await.unwrap();
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"scoped tarball");

    reg.add_packument(
        "mem-pkg",
        json!({"name": "mem-pkg", "tarball": "{{registry}}/mem-pkg/-/mem-pkg-1.0.0.tgz"}),
    );
    let (_, doc) = get_json(&reg, "/mem-pkg").await;
    assert_eq!(
        doc["tarball"],
        format!("{base}/mem-pkg/-/mem-pkg-1.0.0.tgz")
    );
}

#[tokio::test]
async fn in_memory_content_wins_over_files() {
    let (_tmp, reg) = fixture();
    reg.add_packument("left-pad", json!({"name": "left-pad", "overlay": true}));
    reg.add_packument(
        "@acme/server",
        json!({"name": "@acme/server", "overlay": true}),
    );
    let (_, doc) = get_json(&reg, "/left-pad").await;
    assert_eq!(doc["overlay"], true);
    let (_, doc) = get_json(&reg, "/@acme%2Fserver").await;
    assert_eq!(doc["overlay"], true);

    reg.add_file("/custom/thing.txt", b"hello".to_vec(), "text/plain");
    let resp = get(&reg, "/custom/thing.txt").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(content_type(&resp), "text/plain");
    assert_eq!(resp.text().await.unwrap(), "hello");

    reg.add_file(
        "/-/npm/v1/keys",
        b"{\"u\":\"{{registry}}\"}".to_vec(),
        "application/json",
    );
    let (_, doc) = get_json(&reg, "/-/npm/v1/keys").await;
    assert_eq!(doc["u"], reg.url().trim_end_matches('/'));
}

#[tokio::test]
async fn empty_registry_serves_only_memory() {
    let reg = TestRegistry::start_empty();
    assert_eq!(get(&reg, "/left-pad").await.status(), 404);
    reg.add_packument("left-pad", json!({"name": "left-pad"}));
    let (status, doc) = get_json(&reg, "/left-pad").await;
    assert_eq!(status, 200);
    assert_eq!(doc["name"], "left-pad");
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let (_tmp, reg) = fixture();
    for path in [
        "/",
        "/-/whoami",
        "/left-pad/1.0.0",
        "/left-pad/-/x.zip",
        "/a/b/c/d/e",
    ] {
        assert_eq!(get(&reg, path).await.status(), 404, "{path}");
    }
    let resp = client()
        .post(format!("{}left-pad", reg.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
}

#[tokio::test]
async fn path_traversal_is_rejected() {
    let (_tmp, reg) = fixture();
    // A URL parser would collapse a literal `/../`, so send those raw.
    let raw = reg_raw_paths(&reg);
    for (status, body) in raw {
        assert_eq!(status, 400);
        assert!(!body.contains("secret"), "{body}");
    }
    for path in [
        "/..%2fsecret",
        "/@acme%2f..%2f..%2fsecret",
        "/-/npm/v1/attestations/..%2f..%2fsecret",
        "/left-pad/-/..%2f..%2f..%2fsecret.json",
        "/@acme/..%5c..%5csecret",
    ] {
        let resp = get(&reg, path).await;
        assert_eq!(resp.status(), 400, "{path}");
        assert!(!resp.text().await.unwrap().contains("secret"), "{path}");
    }
}

fn reg_raw_paths(reg: &TestRegistry) -> Vec<(u16, String)> {
    ["/../secret", "/@acme/../../secret", "/%2e%2e/secret"]
        .iter()
        .map(|p| raw_get(reg, p))
        .collect()
}

#[tokio::test]
async fn fault_delay_then_serves() {
    let (_tmp, reg) = fixture();
    reg.fault("/left-pad", Fault::Delay(Duration::from_millis(300)));
    let start = Instant::now();
    let resp = get(&reg, "/left-pad").await;
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn fault_status_counts_down_per_path() {
    let (_tmp, reg) = fixture();
    // Set with one spelling, requested with another: matching is on the decoded lower-case path.
    reg.fault(
        "/@ACME%2Fserver",
        Fault::Status {
            code: 503,
            times: 2,
        },
    );
    for _ in 0..2 {
        let (status, body) = get_json(&reg, "/@acme/server").await;
        assert_eq!(status, 503);
        assert!(body["error"].is_string());
    }
    assert_eq!(get(&reg, "/@acme%2fserver").await.status(), 200);
    // Other paths never saw the fault.
    assert_eq!(get(&reg, "/left-pad").await.status(), 200);
}

#[tokio::test]
async fn fault_too_many_requests() {
    let (_tmp, reg) = fixture();
    reg.fault(
        "/left-pad",
        Fault::TooManyRequests {
            retry_after_secs: 7,
            times: 1,
        },
    );
    let resp = get(&reg, "/left-pad").await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()[reqwest::header::RETRY_AFTER], "7");
    assert_eq!(get(&reg, "/left-pad").await.status(), 200);
}

#[tokio::test]
async fn fault_truncate_is_a_client_side_body_error() {
    let (_tmp, reg) = fixture();
    reg.fault(
        "/left-pad/-/left-pad-1.0.0.tgz",
        Fault::Truncate { bytes: 4 },
    );
    let resp = get(&reg, "/left-pad/-/left-pad-1.0.0.tgz").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.content_length(), Some(TARBALL.len() as u64));
    let err = resp.bytes().await.expect_err("truncated body must fail");
    assert!(err.is_body() || err.is_decode(), "{err:?}");

    // The server survives and keeps serving other paths.
    assert_eq!(get(&reg, "/left-pad").await.status(), 200);
}

#[tokio::test]
async fn fault_redirect_sends_location_every_time() {
    let (_tmp, reg) = fixture();
    let target = format!("{}left-pad", reg.url());
    reg.fault(
        "/moved/left-pad",
        Fault::Redirect {
            status: 302,
            location: target.clone(),
        },
    );
    let no_follow = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for _ in 0..2 {
        let resp = no_follow
            .get(format!("{}moved/left-pad", reg.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 302);
        assert_eq!(resp.headers()[reqwest::header::LOCATION], target.as_str());
    }
    assert_eq!(reg.hits("/moved/left-pad"), 2);
}

#[tokio::test]
async fn fault_html_and_arbitrary_body() {
    let (_tmp, reg) = fixture();
    reg.fault("/left-pad", Fault::Html);
    let resp = get(&reg, "/left-pad").await;
    assert_eq!(resp.status(), 200);
    assert!(content_type(&resp).starts_with("text/html"));
    assert!(resp.text().await.unwrap().starts_with("<html>"));

    reg.fault(
        "/@acme/server",
        Fault::Body {
            status: 418,
            body: b"teapot".to_vec(),
            content_type: "text/x-teapot".to_owned(),
        },
    );
    let resp = get(&reg, "/@acme%2fserver").await;
    assert_eq!(resp.status(), 418);
    assert_eq!(content_type(&resp), "text/x-teapot");
    assert_eq!(resp.text().await.unwrap(), "teapot");
}

#[tokio::test]
async fn require_bearer() {
    let (_tmp, reg) = fixture();
    reg.require_bearer("s3cret");
    let (status, body) = get_json(&reg, "/left-pad").await;
    assert_eq!(status, 401);
    assert!(body["error"].is_string());

    let url = format!("{}left-pad", reg.url());
    let wrong = client().get(&url).bearer_auth("nope").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let right = client()
        .get(&url)
        .bearer_auth("s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    assert_eq!(
        reg.requests().last().unwrap().header("Authorization"),
        Some("Bearer s3cret")
    );
}

#[tokio::test]
async fn requests_are_recorded_in_order_even_when_faulted() {
    let (_tmp, reg) = fixture();
    reg.require_bearer("t");
    reg.fault(
        "/left-pad",
        Fault::Status {
            code: 500,
            times: 1,
        },
    );
    client()
        .get(format!("{}@acme%2Fserver?write=true", reg.url()))
        .header("x-test", "one")
        .send()
        .await
        .unwrap();
    get(&reg, "/left-pad").await;
    get(&reg, "/-/npm/v1/keys").await;

    let reqs = reg.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(reqs[0].raw_path, "/@acme%2Fserver");
    assert_eq!(reqs[0].decoded_path, "/@acme/server");
    assert_eq!(reqs[0].query.as_deref(), Some("write=true"));
    assert_eq!(reqs[0].header("X-Test"), Some("one"));
    assert_eq!(reqs[1].decoded_path, "/left-pad");
    assert_eq!(reqs[2].raw_path, "/-/npm/v1/keys");

    assert_eq!(reg.hits("/@acme/server"), 1);
    assert_eq!(reg.hits("/@acme%2fserver"), 1);
    assert_eq!(reg.hits("/left-pad"), 1);
    assert_eq!(reg.hits("/nothing"), 0);
}

#[tokio::test]
async fn drop_stops_the_server() {
    let reg = TestRegistry::start_empty();
    // A slow in-flight request must not make Drop hang.
    reg.fault("/slow", Fault::Delay(Duration::from_secs(60)));
    let url = reg.url();
    let pending = tokio::spawn(async move { client().get(format!("{url}slow")).send().await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let addr = reg.url()["http://".len()..]
        .trim_end_matches('/')
        .to_owned();
    let start = Instant::now();
    drop(reg);
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(pending.await.unwrap().is_err());
    assert!(TcpStream::connect(addr).is_err());
}
