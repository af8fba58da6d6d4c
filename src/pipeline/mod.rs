//! The pipelines behind the commands: targets or configs in, reports out, with the I/O at the
//! edges.

pub mod config;
pub mod lock;
pub mod memo;
pub mod pypi;
mod pypi_verify;
pub mod rounds;
pub mod scan;
pub mod tree;
