//! A loopback npm registry for hermetic tests.
//!
//! Included both as `support::registry` by integration tests and via `#[path]` by benches, so it
//! must stay self-contained. Each test binary uses a different subset of the API.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::Router;
use tokio::sync::oneshot;

/// Misbehaviour injected for one path, checked before auth and routing.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Sleep, then serve normally.
    Delay(Duration),
    /// The first `times` requests get `code` with a small JSON error body.
    Status { code: u16, times: usize },
    /// The first `times` requests get 429 with a `Retry-After` header.
    TooManyRequests { retry_after_secs: u64, times: usize },
    /// Announce the full Content-Length, send only `bytes` bytes, then drop the connection.
    /// If the normal body is not longer than `bytes` it is served unchanged.
    Truncate { bytes: usize },
    /// 200 text/html, like a captive portal or a misconfigured proxy.
    Html,
    /// Redirect with `status` (301, 302, 303, 307 or 308) to `location`, every time.
    Redirect { status: u16, location: String },
    /// Arbitrary response.
    Body {
        status: u16,
        body: Vec<u8>,
        content_type: String,
    },
}

#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// Path exactly as sent, without the query string.
    pub raw_path: String,
    /// `raw_path` percent-decoded (case preserved).
    pub decoded_path: String,
    pub query: Option<String>,
    /// Lower-case header names; repeated headers are joined with ", ".
    pub headers: BTreeMap<String, String>,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

#[derive(Default)]
struct Inner {
    packuments: HashMap<String, serde_json::Value>,
    files: HashMap<String, (Vec<u8>, String)>,
    faults: HashMap<String, Fault>,
    bearer: Option<String>,
    /// An exact `Authorization` value every request must carry (HTTP basic for Python indexes).
    authorization: Option<String>,
    requests: Vec<RecordedRequest>,
    /// The advisories bulk answer; None answers 405, as the registry mirror reachable here does.
    advisories: Option<serde_json::Value>,
    /// Bodies of the POSTs received, in order.
    posted: Vec<Vec<u8>>,
}

struct Shared {
    root: Option<PathBuf>,
    /// Base URL without trailing slash, substituted for `{{registry}}`.
    base: String,
    inner: Mutex<Inner>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread must not cascade into every later request.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub struct TestRegistry {
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TestRegistry {
    pub fn start(root: impl Into<PathBuf>) -> TestRegistry {
        Self::spawn(Some(root.into()))
    }

    pub fn start_empty() -> TestRegistry {
        Self::spawn(None)
    }

    fn spawn(root: Option<PathBuf>) -> TestRegistry {
        // Bind on the caller's thread so the port is known, and accepting, before we return.
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("bind test registry on 127.0.0.1");
        listener
            .set_nonblocking(true)
            .expect("set test registry listener non-blocking");
        let addr = listener.local_addr().expect("test registry local addr");
        let shared = Arc::new(Shared {
            root,
            base: format!("http://{addr}"),
            inner: Mutex::default(),
        });
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let (tx, rx) = oneshot::channel::<()>();
        // A private runtime on its own thread works the same from plain #[test] fns (which block
        // on the binary) and from inside #[tokio::test] (where nesting runtimes would panic).
        let thread = std::thread::Builder::new()
            .name(format!("test-registry-{}", addr.port()))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("test registry runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)
                        .expect("adopt test registry listener");
                    let server = std::future::IntoFuture::into_future(axum::serve(listener, app));
                    tokio::select! {
                        _ = server => {}
                        _ = rx => {}
                    }
                });
                // Not a graceful shutdown: dropping the runtime aborts in-flight connections, so a
                // Delay fault or an idle keep-alive client can never hang the test on Drop.
                rt.shutdown_timeout(Duration::from_millis(200));
            })
            .expect("spawn test registry thread");
        TestRegistry {
            shared,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT/`
    pub fn url(&self) -> String {
        format!("{}/", self.shared.base)
    }

    /// Served for `/<name>` ahead of any packument file.
    pub fn add_packument(&self, name: &str, doc: serde_json::Value) {
        self.shared.lock().packuments.insert(name.to_owned(), doc);
    }

    /// Answer `POST /-/npm/v1/security/advisories/bulk` with `doc` (as registry.npmjs.org does)
    /// instead of 405.
    pub fn set_advisories(&self, doc: serde_json::Value) {
        self.shared.lock().advisories = Some(doc);
    }

    /// Answer the advisories bulk request with 405 again, as a registry without it does.
    pub fn clear_advisories(&self) {
        self.shared.lock().advisories = None;
    }

    /// The bodies of the POSTs received so far.
    pub fn posted(&self) -> Vec<Vec<u8>> {
        self.shared.lock().posted.clone()
    }

    /// Served for exactly `path` (compared after percent-decoding) ahead of every route.
    pub fn add_file(&self, path: &str, body: Vec<u8>, content_type: &str) {
        self.shared
            .lock()
            .files
            .insert(decode_path(path), (body, content_type.to_owned()));
    }

    /// Replaces any earlier fault on the same (normalised) path.
    pub fn fault(&self, path: &str, fault: Fault) {
        self.shared.lock().faults.insert(fault_key(path), fault);
    }

    pub fn require_bearer(&self, token: &str) {
        self.shared.lock().bearer = Some(token.to_owned());
    }

    /// Every request must carry exactly this `Authorization` value, e.g. `Basic <base64>`.
    pub fn require_authorization(&self, value: &str) {
        self.shared.lock().authorization = Some(value.to_owned());
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// The `Authorization` header of every request so far, in order.
    pub fn authorizations(&self) -> Vec<Option<String>> {
        self.requests()
            .iter()
            .map(|r| r.header("authorization").map(str::to_string))
            .collect()
    }

    /// Requests whose path equals `path` after decoding and lower-casing both.
    pub fn hits(&self, path: &str) -> usize {
        let key = fault_key(path);
        self.shared
            .lock()
            .requests
            .iter()
            .filter(|r| r.decoded_path.to_lowercase() == key)
            .count()
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn decode_path(path: &str) -> String {
    percent_decode(path.split('?').next().unwrap_or_default())
}

fn fault_key(path: &str) -> String {
    decode_path(path).to_lowercase()
}

/// Every 200 gets an ETag over its body, and a GET whose `If-None-Match` names it gets 304, as
/// the npm registry and Verdaccio answer conditional requests.
async fn with_validators(req_headers: &HeaderMap, resp: Response) -> Response {
    if resp.status() != StatusCode::OK {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(full) = axum::body::to_bytes(body, usize::MAX).await else {
        return json_error(StatusCode::INTERNAL_SERVER_ERROR, "could not buffer body");
    };
    let etag = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        full.hash(&mut h);
        format!("\"{:016x}\"", h.finish())
    };
    let sent = req_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    if let Ok(v) = HeaderValue::from_str(&etag) {
        parts.headers.insert(header::ETAG, v);
    }
    if sent == Some(etag.as_str()) {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(full))
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let raw_path = req.uri().path().to_owned();
    let decoded = percent_decode(&raw_path);
    let fault = {
        let mut inner = shared.lock();
        inner.requests.push(RecordedRequest {
            method: req.method().to_string(),
            raw_path: raw_path.clone(),
            decoded_path: decoded.clone(),
            query: req.uri().query().map(str::to_owned),
            headers: record_headers(req.headers()),
        });
        take_fault(&mut inner.faults, &decoded.to_lowercase())
    };
    let (method, headers) = (req.method().clone(), req.headers().clone());
    if method == Method::POST {
        let body = axum::body::to_bytes(req.into_body(), 1 << 20)
            .await
            .map(|b| b.to_vec())
            .unwrap_or_default();
        shared.lock().posted.push(body);
    }
    match fault {
        None => with_validators(&headers, serve(&shared, &method, &headers, &decoded)).await,
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            with_validators(&headers, serve(&shared, &method, &headers, &decoded)).await
        }
        Some(Fault::Status { code, .. }) => json_error(
            status_or_500(code),
            &format!("injected fault: HTTP {code}"),
        ),
        Some(Fault::TooManyRequests {
            retry_after_secs, ..
        }) => {
            let mut resp = json_error(StatusCode::TOO_MANY_REQUESTS, "rate limited");
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            resp
        }
        Some(Fault::Truncate { bytes }) => {
            truncate(serve(&shared, &method, &headers, &decoded), bytes).await
        }
        Some(Fault::Html) => respond(
            StatusCode::OK,
            "text/html; charset=utf-8",
            b"<html><head><title>Sign in</title></head><body>Please log in to continue</body></html>"
                .to_vec(),
        ),
        Some(Fault::Redirect { status, location }) => {
            let mut resp = respond(status_or_500(status), "text/plain", Vec::new());
            if let Ok(v) = HeaderValue::from_str(&location) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            resp
        }
        Some(Fault::Body {
            status,
            body,
            content_type,
        }) => respond(status_or_500(status), &content_type, body),
    }
}

/// Returns the fault to apply now, counting down the `times`-limited kinds.
fn take_fault(faults: &mut HashMap<String, Fault>, key: &str) -> Option<Fault> {
    let fault = faults.get_mut(key)?;
    match fault {
        Fault::Status { times, .. } | Fault::TooManyRequests { times, .. } => {
            if *times == 0 {
                return None;
            }
            *times -= 1;
        }
        _ => {}
    }
    Some(fault.clone())
}

fn record_headers(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        out.entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    out
}

enum Route {
    Keys,
    /// Path under `<root>` plus whether it is JSON (and so gets `{{registry}}` substituted).
    File(Vec<String>, bool),
    Packument(String),
    NotFound,
}

fn route(decoded: &str) -> Route {
    let Some(rest) = decoded.strip_prefix('/') else {
        return Route::NotFound;
    };
    let segs: Vec<&str> = rest.split('/').collect();
    let is_scope = |s: &str| s.len() > 1 && s.starts_with('@');
    let is_name = |s: &str| !s.is_empty() && !s.starts_with(['@', '-', '.', '_']);
    let owned = |parts: &[&str]| parts.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    match segs.as_slice() {
        ["-", "npm", "v1", "keys"] => Route::Keys,
        ["-", "npm", "v1", "attestations", spec] if is_name(spec) => {
            Route::File(owned(&["attestations", &format!("{spec}.json")]), true)
        }
        ["-", "npm", "v1", "attestations", scope, spec] if is_scope(scope) && is_name(spec) => {
            Route::File(
                owned(&["attestations", scope, &format!("{spec}.json")]),
                true,
            )
        }
        [name, "-", file] if is_name(name) && file.ends_with(".tgz") => {
            Route::File(owned(&["tarballs", file]), false)
        }
        [scope, name, "-", file] if is_scope(scope) && is_name(name) && file.ends_with(".tgz") => {
            Route::File(owned(&["tarballs", scope, file]), false)
        }
        [name] if is_name(name) => Route::Packument((*name).to_owned()),
        [scope, name] if is_scope(scope) && is_name(name) => {
            Route::Packument(format!("{scope}/{name}"))
        }
        _ => Route::NotFound,
    }
}

fn serve(shared: &Shared, method: &Method, headers: &HeaderMap, decoded: &str) -> Response {
    let bulk = decoded == "/-/npm/v1/security/advisories/bulk";
    if method == Method::POST && bulk {
        let (bearer, advisories) = {
            let inner = shared.lock();
            (inner.bearer.clone(), inner.advisories.clone())
        };
        if let Some(token) = bearer {
            let expected = format!("Bearer {token}");
            let sent = headers
                .get(header::AUTHORIZATION)
                .map(HeaderValue::as_bytes);
            if sent != Some(expected.as_bytes()) {
                return json_error(StatusCode::UNAUTHORIZED, "Unauthorized");
            }
        }
        return match advisories {
            Some(doc) => respond(
                StatusCode::OK,
                "application/json",
                doc.to_string().into_bytes(),
            ),
            None => json_error(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed"),
        };
    }
    if method != Method::GET && method != Method::HEAD {
        return json_error(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed");
    }
    // Checked on the decoded path so `%2e%2e` and `..%2f` cannot sneak past; `:` and `\` would
    // let a segment become a drive or a second separator on Windows.
    let bad_segment = |s: &str| s == "." || s == ".." || s.contains(['\\', ':', '\0']);
    if decoded.split('/').any(bad_segment) {
        return json_error(StatusCode::BAD_REQUEST, "Invalid path");
    }
    let (bearer, file, packument, authorization) = {
        let inner = shared.lock();
        let file = inner.files.get(decoded).cloned();
        let packument = match route(decoded) {
            Route::Packument(name) => inner.packuments.get(&name).cloned(),
            _ => None,
        };
        (
            inner.bearer.clone(),
            file,
            packument,
            inner.authorization.clone(),
        )
    };
    if let Some(expected) = authorization {
        let sent = headers
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes);
        if sent != Some(expected.as_bytes()) {
            let mut resp = json_error(StatusCode::UNAUTHORIZED, "Unauthorized");
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"test-index\""),
            );
            return resp;
        }
    }
    if let Some(token) = bearer {
        let expected = format!("Bearer {token}");
        let sent = headers
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes);
        if sent != Some(expected.as_bytes()) {
            let mut resp = json_error(
                StatusCode::UNAUTHORIZED,
                "Unauthorized: bearer token required",
            );
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"test-registry\""),
            );
            return resp;
        }
    }
    if let Some((body, content_type)) = file {
        let body = if content_type.contains("json") {
            substitute(shared, body)
        } else {
            body
        };
        return respond(StatusCode::OK, &content_type, body);
    }
    if let Some(doc) = packument {
        let body = substitute(shared, doc.to_string().into_bytes());
        return respond(StatusCode::OK, "application/json", body);
    }
    let (parts, json) = match route(decoded) {
        Route::Keys => (vec!["keys.json".to_owned()], true),
        Route::File(parts, json) => (parts, json),
        Route::Packument(name) => {
            let mut parts: Vec<String> = name.split('/').map(str::to_owned).collect();
            if let Some(last) = parts.last_mut() {
                last.push_str(".json");
            }
            parts.insert(0, "packuments".to_owned());
            (parts, true)
        }
        Route::NotFound => return not_found(),
    };
    let Some(mut path) = shared.root.clone() else {
        return not_found();
    };
    path.extend(&parts);
    match std::fs::read(&path) {
        Ok(body) if json => respond(StatusCode::OK, "application/json", substitute(shared, body)),
        Ok(body) => respond(StatusCode::OK, "application/octet-stream", body),
        Err(_) => not_found(),
    }
}

fn substitute(shared: &Shared, body: Vec<u8>) -> Vec<u8> {
    match String::from_utf8(body) {
        Ok(text) => text.replace("{{registry}}", &shared.base).into_bytes(),
        Err(e) => e.into_bytes(),
    }
}

/// Keeps the announced Content-Length but ends the stream early with an error, which makes hyper
/// abort the connection mid-body instead of completing the response.
async fn truncate(resp: Response, bytes: usize) -> Response {
    let (mut parts, body) = resp.into_parts();
    let Ok(full) = axum::body::to_bytes(body, usize::MAX).await else {
        return json_error(StatusCode::INTERNAL_SERVER_ERROR, "could not buffer body");
    };
    if bytes >= full.len() {
        return Response::from_parts(parts, Body::from(full));
    }
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(full.len()));
    let head = futures::stream::iter([Ok::<Bytes, std::io::Error>(full.slice(..bytes))]);
    // The pause lets hyper flush the headers and prefix before the abort; otherwise the client
    // may see a connection reset before any response rather than an incomplete body.
    let tail = futures::stream::once(async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "injected truncation",
        ))
    });
    Response::from_parts(
        parts,
        Body::from_stream(futures::StreamExt::chain(head, tail)),
    )
}

fn status_or_500(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn respond(status: StatusCode, content_type: &str, body: Vec<u8>) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    let content_type = HeaderValue::from_str(content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    resp
}

fn json_error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "error": message })
        .to_string()
        .into_bytes();
    respond(status, "application/json", body)
}

fn not_found() -> Response {
    json_error(StatusCode::NOT_FOUND, "Not found")
}
