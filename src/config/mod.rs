//! npm-compatible configuration (.npmrc, npm_config_* environment, CLI flags) and auth resolution.
