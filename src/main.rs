use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = mcp_audit::cli::Cli::parse();
    match mcp_audit::app::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(fatal) => {
            eprintln!("mcp-audit: {}", fatal.message);
            ExitCode::from(fatal.code)
        }
    }
}
