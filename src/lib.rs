//! mcp-audit: supply-chain audit of published MCP server packages.
//!
//! Data flows one way, with I/O only at the edges:
//! spec → registry fetch → facts (pure) → rules (pure) → score (pure) → report → render.

pub mod app;
pub mod cli;
pub mod clients;
pub mod config;
pub mod content;
pub mod error;
pub mod facts;
pub mod pipeline;
pub mod registry;
pub mod render;
pub mod report;
pub mod rules;
pub mod scan;
pub mod secrets;
pub mod spec;
pub mod verify;
