use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = mcp_audit::cli::Cli::parse();
    match mcp_audit::commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(fatal) => {
            // Credentials are already scrubbed where the settings knew them; control characters
            // and URL userinfo are taken out here whatever the source.
            let clean = mcp_audit::render::sanitize::Sanitizer::default();
            mcp_audit::commands::eprint(&clean, &fatal.message);
            ExitCode::from(fatal.code)
        }
    }
}

/// glibc keeps a malloc arena per allocating thread (up to 8 per core) and the memory freed in
/// each: two arenas hold a large scan's peak near what it really uses (docs/performance.md).
/// `MALLOC_ARENA_MAX` in the environment still wins, as glibc reads it first.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: called once, first thing in main, before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}
