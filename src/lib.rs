//! mcp-audit: supply-chain audit of published MCP server packages.
//!
//! Data flows one way, with I/O only at the edges:
//! spec → registry fetch → facts (pure) → rules (pure) → score (pure) → report → render.

pub mod cli;
pub mod clients;
pub mod commands;
pub mod content;
pub mod error;
pub mod facts;
pub mod lockfile;
pub mod mcpserver;
pub mod npmrc;
pub mod pipeline;
pub mod policy;
pub mod pyindex;
pub mod registry;
pub mod render;
pub mod report;
pub mod rules;
pub mod secrets;
pub mod settings;
pub mod spec;
pub mod tree;
pub mod verify;
