//! JSONC MCP client configs and launch parsing: arbitrary text as a config file, each server's
//! launch parsed, its risks assessed, its npm config layers built, a JFrog wrapper's arguments
//! read, and everything redacted.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use mcp_audit::clients::{
    jfrog_wrapper, launch_risks, npm_layers, parse_config, parse_launch, Client,
};
use mcp_audit::render::config_wire::{WireEntry, WireLaunch};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for (path, client) in [
        ("/fuzz/.cursor/mcp.json", Some(Client::Cursor)),
        ("/fuzz/.vscode/mcp.json", Some(Client::VsCode)),
        ("/fuzz/settings.json", None),
    ] {
        let Ok(parsed) = parse_config(Path::new(path), text, client) else {
            continue;
        };
        for server in &parsed.servers {
            let launch = parse_launch(server);
            let _ = launch_risks(server, &launch);
            let _ = npm_layers(server, &launch);
            // A JFrog wrapper's `_JF_ARGS`, read as the config pipeline reads it.
            let _ = jfrog_wrapper(&launch, &server.args, &server.env);
            // What the JSON shows: the entry and its launch, scrubbed of what the entry holds.
            let scrub = server.scrubber();
            let _ = serde_json::to_string(&WireLaunch::new(&launch, &scrub)).unwrap();
            let _ = serde_json::to_string(&WireEntry::new(server, &scrub)).unwrap();
        }
    }
});
