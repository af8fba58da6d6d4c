use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
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
