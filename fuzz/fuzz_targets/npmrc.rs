//! `.npmrc` parsing: arbitrary text as a user's config file, with `${VAR}` expansion against a
//! small environment.
#![no_main]

use std::collections::HashMap;
use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use mcp_audit::npmrc::{expand_env, ConfigSource, Layer};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let env: HashMap<String, String> = [
        ("HOME", "/home/fuzz"),
        ("NPM_TOKEN", "npm_fuzzfuzzfuzz"),
        ("EMPTY", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let source = ConfigSource::User(PathBuf::from("/home/fuzz/.npmrc"));
    let _ = Layer::from_npmrc(source, text, &env);
    let _ = expand_env(text, &env);
});
