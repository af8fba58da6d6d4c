//! `mcp-audit init`: a commented starter policy file.

use std::io::Write;

use super::Fatal;
use crate::cli::InitArgs;
use crate::settings::usage;

pub fn run(args: &InitArgs) -> Result<u8, Fatal> {
    let path = &args.path;
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    // `create_new` makes the refusal atomic: no window between a check and the write.
    if args.force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            usage(format!(
                "{} already exists; not overwritten (use --force to replace it)",
                path.display()
            ))
        } else {
            usage(format!("cannot write {}: {e}", path.display()))
        }
    })?;
    file.write_all(crate::policy::STARTER.as_bytes())
        .map_err(|e| usage(format!("cannot write {}: {e}", path.display())))?;
    println!("wrote {}", path.display());
    Ok(crate::report::EXIT_OK)
}
