//! `mcp-audit registry URL`: the servers an MCP Registry API lists (`GET /v0.1/servers`), each
//! audited as `server` audits a file.
//!
//! The registry is written by whoever runs it, so paging is bounded: a repeated cursor, a page
//! that adds nothing, more than [`MAX_PAGES`] pages, a body over the cap, JSON that is not a
//! server list, or a request that fails after its retries each stop the listing with a message,
//! and what was listed until then is still audited. Pages go through the same GET as every
//! registry request ([`RegistryClient::get_bytes`]: retries with backoff, Retry-After, a deadline
//! and a body cap) and are fetched one at a time, since each cursor comes from the page before.

use std::collections::HashSet;

use serde_json::Value;
use url::Url;

use super::{from_value, RegistryMeta, ServerJson};
use crate::registry::{redact_url, RegistryClient};

/// The registry's own page-size ceiling (the official registry refuses `limit` above 100).
pub const PAGE_SIZE: usize = 100;

/// Pages fetched at most in one run: 100,000 servers at the default page size, far above any
/// real registry, and a stop for one that hands out fresh cursors forever.
pub const MAX_PAGES: usize = 1_000;

/// A page body is never larger than this, whatever `--max-body-mb` allows for packuments.
pub const MAX_PAGE_BYTES: u64 = 16 * 1024 * 1024;

const OFFICIAL_META: &str = "io.modelcontextprotocol.registry/official";

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// `search`: a substring of the server name.
    pub search: Option<String>,
    /// `updated_since`: RFC 3339; the registry then includes deleted servers too.
    pub updated_since: Option<String>,
    /// Servers listed at most, in all.
    pub limit: Option<usize>,
    /// `limit` per page.
    pub page_size: usize,
}

/// One server the registry listed.
#[derive(Debug, Clone)]
pub struct Listed {
    /// `<registry>/v0.1/servers/<name>/versions/<version>`: where the description came from.
    pub source: String,
    /// The description, or why it is not one (the item is not an object).
    pub server: Result<ServerJson, String>,
}

#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub servers: Vec<Listed>,
    pub pages: usize,
    /// Why paging stopped before the registry said it was done; `None` when it finished.
    pub stopped: Option<String>,
}

/// The API root: `https://host/` for `https://host`, `https://host/v0.1` or
/// `https://host/v0.1/servers` (a registry under a path keeps its path).
pub fn api_root(url: &Url) -> Url {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    let path = u.path().trim_end_matches('/').to_string();
    let path = path
        .strip_suffix("/servers")
        .unwrap_or(&path)
        .trim_end_matches('/');
    let path = path
        .strip_suffix("/v0.1")
        .or_else(|| path.strip_suffix("/v0"))
        .unwrap_or(path);
    u.set_path(&format!("{}/", path.trim_end_matches('/')));
    u
}

/// The URL of one page.
pub fn page_url(root: &Url, q: &ListQuery, want: usize, cursor: Option<&str>) -> Url {
    let mut u = root.join("v0.1/servers").expect("a relative path joins");
    {
        let mut pairs = u.query_pairs_mut();
        pairs.append_pair("limit", &want.to_string());
        if let Some(c) = cursor {
            pairs.append_pair("cursor", c);
        }
        if let Some(s) = &q.search {
            pairs.append_pair("search", s);
        }
        if let Some(t) = &q.updated_since {
            pairs.append_pair("updated_since", t);
        }
        // Each server's newest version only; deleted servers too, since the registry marks
        // malware and spam `deleted` and an audit must show them.
        pairs.append_pair("version", "latest");
        pairs.append_pair("include_deleted", "true");
    }
    u
}

/// What one page said.
#[derive(Debug)]
pub struct Page {
    pub items: Vec<Value>,
    pub next_cursor: Option<String>,
}

/// Reads one page body: `{"servers": [...], "metadata": {"nextCursor": ...}}`.
pub fn parse_page(body: &[u8]) -> Result<Page, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(mut o) = v else {
        return Err("not a server list: the top level is not an object".into());
    };
    let items = match o.remove("servers") {
        Some(Value::Array(a)) => a,
        Some(Value::Null) | None => return Err("not a server list: no `servers` list".into()),
        Some(_) => return Err("not a server list: `servers` is not a list".into()),
    };
    let next_cursor = o
        .get("metadata")
        .and_then(|m| m.get("nextCursor").or_else(|| m.get("next_cursor")))
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    Ok(Page { items, next_cursor })
}

/// One listed item: `{"server": {...}, "_meta": {...}}` (the 2025-09 API), or the server object
/// itself with its `_meta` inside (the older API).
pub fn read_item(root: &str, item: &Value) -> (Option<String>, Listed, Option<bool>) {
    let server_value = match item.get("server") {
        Some(s) => s,
        None => item,
    };
    let official = item
        .get("_meta")
        .and_then(|m| m.get(OFFICIAL_META))
        .or_else(|| server_value.get("_meta").and_then(|m| m.get(OFFICIAL_META)));
    let text = |k: &str| {
        official
            .and_then(|m| m.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let meta = RegistryMeta {
        status: text("status").map(|s| s.to_ascii_lowercase()),
        status_message: text("statusMessage"),
        updated_at: text("updatedAt"),
        is_latest: official
            .and_then(|m| m.get("isLatest"))
            .and_then(Value::as_bool),
    };
    let name = server_value
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string);
    let version = server_value
        .get("version")
        .and_then(Value::as_str)
        .map(str::to_string);
    let base = root.trim_end_matches('/');
    let source = match (&name, &version) {
        (Some(n), Some(v)) => format!("{base}/v0.1/servers/{n}/versions/{v}"),
        (Some(n), None) => format!("{base}/v0.1/servers/{n}"),
        _ => format!("{base}/v0.1/servers (an unnamed item)"),
    };
    let is_latest = meta.is_latest;
    let server = from_value(server_value)
        .map(|mut s| {
            s.registry = Some(meta);
            s
        })
        .map_err(|e| e.to_string());
    (name, Listed { source, server }, is_latest)
}

/// Pages through the registry until it says it is done, `q.limit` servers are listed, or one of
/// the stops in the module comment.
pub async fn list(client: &RegistryClient, root: &Url, q: &ListQuery) -> Listing {
    let total = q.limit.unwrap_or(usize::MAX);
    let page_size = q.page_size.clamp(1, PAGE_SIZE);
    let mut out = Listing::default();
    let mut cursor: Option<String> = None;
    let mut cursors = HashSet::new();
    let mut names = HashSet::new();
    while out.servers.len() < total {
        if out.pages >= MAX_PAGES {
            out.stopped = Some(format!(
                "stopped after {MAX_PAGES} pages: the registry keeps handing out new cursors"
            ));
            break;
        }
        let want = page_size.min(total - out.servers.len());
        let url = page_url(root, q, want, cursor.as_deref());
        let n = out.pages + 1;
        let body = match client.get_bytes(&url).await {
            Ok(b) => b,
            Err(e) => {
                out.stopped = Some(format!("page {n} ({}): {e}", redact_url(&url)));
                break;
            }
        };
        out.pages = n;
        let page = match parse_page(&body) {
            Ok(p) => p,
            Err(e) => {
                out.stopped = Some(format!("page {n} ({}): {e}", redact_url(&url)));
                break;
            }
        };
        drop(body);
        let listed = page.items.len();
        let mut added = 0;
        for item in &page.items {
            if out.servers.len() >= total {
                break;
            }
            let (name, entry, is_latest) = read_item(root.as_str(), item);
            // An older version listed despite `version=latest` (a registry that ignores it).
            if is_latest == Some(false) {
                continue;
            }
            if let Some(name) = name {
                if !names.insert(name) {
                    continue;
                }
            }
            out.servers.push(entry);
            added += 1;
        }
        let Some(next) = page.next_cursor else {
            break;
        };
        if out.servers.len() >= total {
            break;
        }
        if listed == 0 {
            out.stopped = Some(format!(
                "page {n} lists no server but names a next cursor: stopped"
            ));
            break;
        }
        if added == 0 {
            out.stopped = Some(format!(
                "page {n} lists only servers already listed: stopped"
            ));
            break;
        }
        if !cursors.insert(next.clone()) {
            out.stopped = Some(format!(
                "page {n} hands out a cursor it handed out before (a cursor loop): stopped"
            ));
            break;
        }
        cursor = Some(next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_roots() {
        for (given, root) in [
            ("https://r.example", "https://r.example/"),
            ("https://r.example/v0.1", "https://r.example/"),
            ("https://r.example/v0.1/servers?x=1", "https://r.example/"),
            ("https://r.example/mcp/v0.1/", "https://r.example/mcp/"),
            ("https://r.example/mcp", "https://r.example/mcp/"),
        ] {
            assert_eq!(
                api_root(&Url::parse(given).unwrap()).as_str(),
                root,
                "{given}"
            );
        }
    }

    #[test]
    fn page_urls_carry_the_query() {
        let root = Url::parse("https://r.example/").unwrap();
        let q = ListQuery {
            search: Some("file system".into()),
            updated_since: Some("2025-01-01T00:00:00Z".into()),
            limit: None,
            page_size: 50,
        };
        let u = page_url(&root, &q, 50, Some("a&b"));
        assert_eq!(
            u.as_str(),
            "https://r.example/v0.1/servers?limit=50&cursor=a%26b&search=file+system&updated_since=2025-01-01T00%3A00%3A00Z&version=latest&include_deleted=true"
        );
    }

    #[test]
    fn pages_and_items() {
        assert!(parse_page(b"<html>").unwrap_err().contains("not JSON"));
        assert!(parse_page(b"[]").is_err());
        assert!(parse_page(b"{\"servers\": 3}").is_err());
        let p = parse_page(br#"{"servers": [], "metadata": {"nextCursor": ""}}"#).unwrap();
        assert!(p.next_cursor.is_none());
        let root = "https://r.example/";
        let item = serde_json::json!({
            "server": {"name": "io.github.a/b", "version": "1.0.0", "description": "d"},
            "_meta": {OFFICIAL_META: {"status": "Deleted", "isLatest": true, "statusMessage": "malware"}}
        });
        let (name, listed, latest) = read_item(root, &item);
        assert_eq!(name.as_deref(), Some("io.github.a/b"));
        assert_eq!(latest, Some(true));
        assert_eq!(
            listed.source,
            "https://r.example/v0.1/servers/io.github.a/b/versions/1.0.0"
        );
        let meta = listed.server.unwrap().registry.unwrap();
        assert_eq!(meta.status.as_deref(), Some("deleted"));
        assert_eq!(meta.status_message.as_deref(), Some("malware"));
        let (_, bad, _) = read_item(root, &serde_json::json!({"server": 7}));
        assert!(bad.server.is_err());
    }
}
