//! A loopback MCP Registry API (`GET /v0.1/servers`, cursor paging) for hermetic tests, with
//! the misbehaviours a hostile registry can show.
//!
//! Included as `support::mcp_registry` by the integration tests and via `#[path]` by the
//! `registry` bench, so it must stay self-contained.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::oneshot;

/// How the registry answers `GET /v0.1/servers`.
#[derive(Clone, Debug)]
pub enum Mode {
    /// Pages of `limit` servers, cursor = index of the next one.
    Normal,
    /// Every page names the same next cursor.
    CursorLoop,
    /// Never ends: each page is `limit` new servers and a new cursor.
    Endless,
    /// Every page after the first repeats the first page's servers under a new cursor.
    Repeats,
    /// An empty page that still names a next cursor.
    EmptyWithCursor,
    /// 200 with this body (garbage, HTML, a wrong shape).
    Body(Vec<u8>),
    /// A body of this many bytes of JSON whitespace-padded server list.
    Huge(usize),
    /// Wait this long before each page.
    Slow(Duration),
    /// Answer with this status every time.
    Status(u16),
    /// Serve `Normal`, but the page at this index (0-based) is garbage.
    GarbageAt(usize),
}

/// One listed server: the description and the registry's lifecycle status.
#[derive(Clone, Debug)]
pub struct Entry {
    pub server: Value,
    pub status: String,
    pub status_message: Option<String>,
}

struct Inner {
    entries: Vec<Entry>,
    mode: Mode,
    queries: Vec<String>,
}

pub struct TestMcpRegistry {
    inner: Arc<Mutex<Inner>>,
    base: String,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TestMcpRegistry {
    pub fn start(entries: Vec<Entry>, mode: Mode) -> TestMcpRegistry {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("local addr");
        let inner = Arc::new(Mutex::new(Inner {
            entries,
            mode,
            queries: Vec::new(),
        }));
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&inner));
        let (tx, rx) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let server = std::future::IntoFuture::into_future(axum::serve(listener, app));
                tokio::select! {
                    _ = server => {}
                    _ = rx => {}
                }
            });
            rt.shutdown_timeout(Duration::from_millis(200));
        });
        TestMcpRegistry {
            inner,
            base: format!("http://{addr}"),
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        self.base.clone()
    }

    /// The query strings of every `/v0.1/servers` request, in order.
    pub fn queries(&self) -> Vec<String> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .queries
            .clone()
    }
}

impl Drop for TestMcpRegistry {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `n` synthetic servers `io.github.owner<i>/server-<i>`, each with one remote, active.
pub fn synthetic(n: usize) -> Vec<Entry> {
    (0..n)
        .map(|i| Entry {
            server: synthetic_server(i),
            status: "active".into(),
            status_message: None,
        })
        .collect()
}

pub fn synthetic_server(i: usize) -> Value {
    json!({
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "name": format!("io.github.owner{i}/server-{i}"),
        "description": "A synthetic server for paging tests.",
        "version": "1.0.0",
        "repository": {"url": format!("https://github.com/owner{i}/server-{i}"), "source": "github"},
        "remotes": [{"type": "streamable-http", "url": format!("https://mcp{i}.example.com/mcp")}]
    })
}

fn item(e: &Entry) -> Value {
    let mut official = json!({
        "status": e.status,
        "publishedAt": "2025-10-01T00:00:00Z",
        "updatedAt": "2025-10-02T00:00:00Z",
        "isLatest": true,
    });
    if let Some(m) = &e.status_message {
        official["statusMessage"] = json!(m);
    }
    json!({"server": e.server, "_meta": {"io.modelcontextprotocol.registry/official": official}})
}

fn query_map(q: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .expect("response")
}

async fn handle(State(inner): State<Arc<Mutex<Inner>>>, req: Request) -> Response {
    if req.uri().path() != "/v0.1/servers" {
        return json_response(StatusCode::NOT_FOUND, br#"{"title":"Not Found"}"#.to_vec());
    }
    let q = req.uri().query().unwrap_or_default().to_string();
    let (mode, page_index, entries) = {
        let mut g = inner.lock().unwrap_or_else(|e| e.into_inner());
        g.queries.push(q.clone());
        (g.mode.clone(), g.queries.len() - 1, g.entries.clone())
    };
    let params = query_map(&q);
    let limit: usize = params
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let start: usize = params
        .get("cursor")
        .and_then(|c| c.strip_prefix('c'))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let filtered: Vec<&Entry> = entries
        .iter()
        .filter(|e| match params.get("search") {
            Some(s) => e.server["name"]
                .as_str()
                .unwrap_or_default()
                .contains(s.as_str()),
            None => true,
        })
        .collect();
    let normal = |start: usize| {
        let page: Vec<Value> = filtered
            .iter()
            .skip(start)
            .take(limit)
            .map(|e| item(e))
            .collect();
        let next = start + page.len();
        let cursor = (next < filtered.len()).then(|| format!("c{next}"));
        json!({"servers": page, "metadata": {"nextCursor": cursor, "count": page.len()}})
    };
    let body = match mode {
        Mode::Normal => normal(start),
        Mode::GarbageAt(n) if n == page_index => {
            return json_response(StatusCode::OK, b"{\"servers\": [ {\"server\": ".to_vec())
        }
        Mode::GarbageAt(_) => normal(start),
        Mode::CursorLoop => {
            let mut v = normal(0);
            v["metadata"]["nextCursor"] = json!("c0");
            if page_index > 0 {
                // Fresh servers each time, so only the cursor check stops it.
                let page: Vec<Value> = (0..limit)
                    .map(|i| {
                        item(&Entry {
                            server: synthetic_server(page_index * 1000 + i),
                            status: "active".into(),
                            status_message: None,
                        })
                    })
                    .collect();
                v["servers"] = json!(page);
            }
            v
        }
        Mode::Endless => {
            let page: Vec<Value> = (0..limit)
                .map(|i| {
                    item(&Entry {
                        server: synthetic_server(page_index * limit + i),
                        status: "active".into(),
                        status_message: None,
                    })
                })
                .collect();
            json!({"servers": page, "metadata": {"nextCursor": format!("e{page_index}")}})
        }
        Mode::Repeats => {
            let mut v = normal(0);
            v["metadata"]["nextCursor"] = json!(format!("r{page_index}"));
            v
        }
        Mode::EmptyWithCursor => json!({"servers": [], "metadata": {"nextCursor": "more"}}),
        Mode::Body(b) => return json_response(StatusCode::OK, b),
        Mode::Huge(n) => {
            let mut b = b"{\"servers\": [".to_vec();
            b.resize(n, b' ');
            b.extend_from_slice(b"]}");
            return json_response(StatusCode::OK, b);
        }
        Mode::Slow(d) => {
            tokio::time::sleep(d).await;
            normal(start)
        }
        Mode::Status(code) => {
            return json_response(
                StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                br#"{"title":"error"}"#.to_vec(),
            )
        }
    };
    json_response(
        StatusCode::OK,
        serde_json::to_vec(&body).expect("serialize"),
    )
}
