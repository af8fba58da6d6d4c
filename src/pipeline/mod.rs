//! The pipelines behind the commands: spec or config in, report out.

pub mod config;
