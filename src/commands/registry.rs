//! `mcp-audit registry URL`: the servers an MCP Registry API lists, each audited as `server`
//! audits a file.

use super::server::emit;
use super::{eprint, print_json, runtime, scanner, Fatal};
use crate::cli::{Format, RegistryCmdArgs};
use crate::mcpserver::registry::{api_root, list, ListQuery, MAX_PAGE_BYTES};
use crate::mcpserver::scan::PackageScanner;
use crate::mcpserver::{audit_listed, registry_exit_code, render_registry_json};
use crate::registry::{parse_registry_url, redact_url, RegistryClient};
use crate::settings::{usage, Settings};

pub fn run(args: &RegistryCmdArgs, settings: &Settings) -> Result<u8, Fatal> {
    let (Some(npm), Some(fetch)) = (&settings.npm, &settings.fetch) else {
        unreachable!("registry resolves npm and fetch settings")
    };
    let url = parse_registry_url(&args.url, fetch.allow_http)
        .map_err(|e| usage(format!("registry: {e}")))?;
    if let Some(t) = &args.updated_since {
        chrono::DateTime::parse_from_rfc3339(t).map_err(|e| {
            usage(format!(
                "--updated-since `{t}` is not an RFC 3339 time (2025-08-07T13:15:04Z): {e}"
            ))
        })?;
    }
    let root = api_root(url.as_url());
    let shown = redact_url(&root);
    let mut http = fetch.http.clone();
    http.max_body_bytes = http.max_body_bytes.min(MAX_PAGE_BYTES);
    let root_url = crate::registry::RegistryUrl::parse(root.as_str())
        .map_err(|e| usage(format!("registry: {e}")))?;
    let client = RegistryClient::new(root_url, http).map_err(|e| Fatal {
        code: crate::report::EXIT_UNCHECKED,
        message: e.to_string(),
    })?;
    let query = ListQuery {
        search: args.search.clone(),
        updated_since: args.updated_since.clone(),
        limit: args.limit.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        page_size: usize::try_from(args.page_size).unwrap_or(100),
    };
    let mut scanner = scanner(settings)?;
    scanner.policy.rules = scanner.rules.rules.len();
    let rt = runtime()?;
    let listing = rt.block_on(list(&client, &root, &query));
    let clean = &settings.output.sanitizer;
    if let Some(why) = &listing.stopped {
        eprint(clean, &format!("registry {shown}: {why}"));
    }
    let ps = PackageScanner::new(&scanner, &npm.base, fetch.allow_http);
    let reports = rt.block_on(audit_listed(
        listing.servers,
        (!args.no_scan).then_some(&ps),
        &scanner.rules,
        &scanner.policy,
    ));
    if !emit(&reports, settings, false) {
        // JSON: the registry document.
        print_json(
            clean,
            &render_registry_json(
                &shown,
                listing.pages,
                listing.stopped.as_deref(),
                &reports,
                settings.now,
            ),
        );
    }
    if settings.output.format == Format::Table && !settings.output.quiet {
        eprint(
            clean,
            &format!(
                "registry {shown}: {} server(s) from {} page(s){}",
                reports.len(),
                listing.pages,
                if listing.stopped.is_some() {
                    " (incomplete)"
                } else {
                    ""
                }
            ),
        );
    }
    Ok(registry_exit_code(&reports, listing.stopped.is_some()))
}
