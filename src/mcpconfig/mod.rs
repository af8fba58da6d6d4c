//! MCP client configuration files: discovery, parsing and launch analysis (issue D).
