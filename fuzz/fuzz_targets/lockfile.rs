//! Lockfile parsing: arbitrary text read as each lockfile format (package-lock.json,
//! pnpm-lock.yaml, yarn.lock v1 and berry). A lockfile arrives in pull requests, so every reader
//! must return an entry list or an error, never panic, and never report a line outside the text.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use mcp_audit::lockfile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.lines().count().max(1);
    for name in ["package-lock.json", "pnpm-lock.yaml", "yarn.lock"] {
        match lockfile::parse(Path::new(name), text) {
            Ok((_, entries)) => {
                for e in entries {
                    if let Some(l) = e.line {
                        assert!(l >= 1 && l <= lines + 1, "line {l} of {lines}");
                    }
                }
            }
            Err(e) => {
                let _ = e.at(Path::new(name));
            }
        }
    }
});
