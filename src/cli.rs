//! Command line: clap parses and validates; [`crate::settings::Settings`], resolved from these
//! arguments once, is what the rest of the program sees.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Shown under `--help` so nobody mistakes a partial feature for a finished one.
const AFTER_HELP: &str =
    "Exit codes: 0 all passed; 1 the gate failed (--fail-under, --min-coverage, \
     --strict, --max-severity); 2 usage error; 3 some target could not be checked (3 wins over 1).\n\
     Default gate: with no flag and no policy file, a package that scores below 50 or has a \
     critical finding fails. A policy file (mcp-audit.toml in the current directory or the git \
     root, or --policy FILE; `mcp-audit init` writes one) sets the gate, rule overrides, allowed \
     registries and accepted findings; flags win over it.\n\
     Registries and credentials come from npm's configuration (.npmrc, npm_config_*).\n\
     Status: provenance and registry signatures are verified offline (sigstore, npm keys); \
     tarballs are checked against dist.integrity and analysed in memory; `mcp-audit config` \
     audits MCP client configs (npm launches scanned; PyPI not yet); `mcp-audit server \
     --no-scan` audits server.json files (their packages are not scanned yet). --source-checks \
     (lockfile at the provenance commit) is not implemented (see README).";

#[derive(Debug, Parser)]
#[command(
    name = "mcp-audit",
    version,
    about = "Audit published MCP server packages before you run them: publisher, maintainers, \
             provenance, dependency ranges and install behaviour, scored 0-100.",
    long_about = None,
    after_help = AFTER_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan npm packages: `name`, `name@version`, `name@range` or `name@tag`.
    #[command(after_help = AFTER_HELP)]
    Scan(ScanArgs),
    /// Audit every server in MCP client configs (Claude Desktop, Claude Code, Cursor, VS Code,
    /// Windsurf, Gemini CLI) without starting any: how each is launched, and the npm package it
    /// runs, resolved with that entry's own registry settings and credentials.
    #[command(after_help = CONFIG_AFTER_HELP)]
    Config(ConfigArgs),
    /// Audit `server.json` files (MCP Registry server descriptions): schema, version pins, file
    /// hashes, remote URLs, secrets and identity, and the npm packages they list (PyPI, oci,
    /// nuget and mcpb packages are not scanned yet).
    #[command(after_help = SERVER_AFTER_HELP)]
    Server(ServerArgs),
    /// Print the facts the rules see for one package, as JSON.
    Facts(FactsArgs),
    /// Run the rules over facts files written by `mcp-audit facts` (no network).
    Evaluate(EvaluateArgs),
    /// List the rules in effect.
    Rules(RulesArgs),
    /// Verify a bare Sigstore bundle (the sigstore-conformance `verify-bundle` protocol).
    VerifyBundle(VerifyBundleArgs),
    /// Show which registry and which credential (redacted) npm's configuration selects for
    /// each package, and where each setting comes from. Run this first when a private scan fails.
    ConfigCheck(ConfigCheckArgs),
    /// Write a commented starter policy file, mcp-audit.toml, in the current directory.
    Init(InitArgs),
    /// Audit the servers an MCP Registry API lists (`GET /v0.1/servers`): each server's latest
    /// version as `server` audits a file, and its registry status (deleted, deprecated).
    #[command(after_help = REGISTRY_AFTER_HELP)]
    Registry(RegistryCmdArgs),
    /// Audit every package a lockfile pins (package-lock.json v1-v3, npm-shrinkwrap.json,
    /// pnpm-lock.yaml 5.x-9.0, yarn.lock v1 and berry), each with the package rules as
    /// `scan name@version` does, and the lockfile itself as lockfile-lint does: resolved hosts,
    /// http URLs, integrity missing or different from the registry's.
    #[command(after_help = LOCK_AFTER_HELP)]
    Lock(LockArgs),
}

const LOCK_AFTER_HELP: &str =
    "With no FILE, every lockfile in the current directory is audited: npm-shrinkwrap.json, \
     package-lock.json, pnpm-lock.yaml, yarn.lock, in that order. Each locked package is scanned \
     once per name@version (its dependencies are the other entries); git, remote-tarball, file, \
     link and workspace entries are judged by the lockfile rules and not fetched. Registries and \
     credentials are the lockfile's own project's: npm's configuration discovered from the \
     lockfile's directory (its .npmrc, which npm and pnpm read), plus pnpm-workspace.yaml's \
     registry/registries for pnpm-lock.yaml and .yarnrc.yml's npmRegistryServer, npmScopes and \
     npmAuthToken for a yarn berry yarn.lock; --registry and --npm-config still win. pnpm \
     workspaces: every importer is read and each package lists the importer paths that bring it \
     in. yarn berry's checksum hashes yarn's own zip archive, not the registry tarball, so \
     lock-integrity-mismatch is inconclusive for yarn berry lockfiles.\n\
     Exit codes as for scan: 0 all passed; 1 a package failed the gate; 2 usage error; 3 a \
     lockfile could not be read or parsed (file:line in the message), a package could not be \
     checked, or no lockfile was found (3 wins over 1). The other lockfiles are still audited.";

#[derive(Debug, Args)]
pub struct LockArgs {
    /// Lockfiles. Without any, the lockfiles of the current directory.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub audit: AuditArgs,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write it.
    #[arg(value_name = "FILE", default_value = crate::policy::FILE_NAME)]
    pub path: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
}

const CONFIG_AFTER_HELP: &str =
    "Exit codes as for scan: 0 all passed; 1 a server failed the gate; 2 usage error; 3 a file, \
     an entry or a package could not be checked, or no config was found (3 wins over 1).\n\
     Each npm launch (npx, npm exec, pnpm dlx, yarn dlx, bunx) is scanned like `scan` does, with \
     npm's configuration plus the entry's `env` (npm_config_*) and its --registry / \
     --@scope:registry flags. Each PyPI launch (uvx, uv tool run, pipx run) is scanned like \
     `scan pypi:` does, with the index and credentials uv (uvx) or pip (pipx) would use given \
     the entry's `env` and its --index-url / --default-index / --extra-index-url / --index \
     flags; mcp-audit's own --index-url / --extra-index-url stand for the environment the \
     client passes on. Python dependency trees are not resolved. Other launches are reported \
     and judged by the launch rules only: container images, local scripts and `python -m` \
     modules are not scanned (a module names no distribution; `uv run --with PKG python -m M` \
     scans PKG), remote servers install nothing.\n\
     JFrog wrappers (`npx @jfrog/agent-guard --server ID` with env _JF_ARGS=project=..&mcp=PKG, \
     the older `@jfrog/mcp-gateway` with _JF_MCP_LOADER_ARGS) get a second report for the MCP \
     they load (`via`): PKG scanned with the entry's own npm registry and credentials, or, for \
     an unscoped name only one of the entry's npm registry and Python index has, from that one. \
     Partial: the JFrog platform's catalog is not read, so a name both (or neither) have, a \
     remote MCP's catalog name, or a missing or unreadable _JF_ARGS is left inconclusive with \
     the reason. Values of _JF_ARGS other than project and mcp are never shown.";

const SERVER_AFTER_HELP: &str =
    "Exit codes as for config: 0 all passed; 1 a server failed the gate; 2 usage error; 3 a file \
     could not be read as JSON (3 wins over 1).\n\
     Every released schema (2025-07-09 … 2025-12-11) and the draft are read leniently: schema \
     problems are findings and the rest is still audited.\n\
     Without --no-scan, each npm package is scanned as `scan` would, from its registryBaseUrl \
     (the public npm registry stands for npm's configured registry) with the credential npm's \
     configuration has for that host, and its mcpName and verified provenance repository are \
     compared with the server's name and repository.\n\
     Each PyPI package is scanned as `scan pypi:NAME==VERSION` would (a registryBaseUrl other than \
     pypi.org is the index), and its README `mcp-name:` is compared with the server's name. \
     oci, nuget and mcpb packages are reported with their package rules inconclusive. Packages \
     are judged alone, without their dependency trees.";

const REGISTRY_AFTER_HELP: &str =
    "Pages through GET /v0.1/servers (cursor and limit) and audits each server's latest version \
     as `server` audits a file. The registry's status is a finding: deleted (high), deprecated \
     (medium). Deleted servers are listed too.\n\
     Paging stops, with a message, at a repeated cursor, a page that adds no server, 1,000 pages, \
     a page over 16 MiB, a body that is not a server list, or a request that still fails after \
     --retries; what was listed until then is audited, and the exit code is 3.\n\
     Exit codes: 0 all passed (an empty listing too); 1 a server failed the gate; 2 usage error; \
     3 the listing stopped early or a server or package could not be checked.\n\
     No credentials are sent to the MCP registry.";

#[derive(Debug, Args)]
pub struct RegistryCmdArgs {
    /// The registry: `https://registry.modelcontextprotocol.io` (a trailing `/v0.1` or
    /// `/v0.1/servers` is accepted).
    #[arg(value_name = "URL")]
    pub url: String,
    /// Only servers whose name contains this (the API's `search`).
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Only servers updated since this RFC 3339 time (the API's `updated_since`), for
    /// incremental runs.
    #[arg(long, value_name = "TIME")]
    pub updated_since: Option<String>,
    /// Audit at most N servers in all.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
    /// Servers asked for per page (the API's `limit`, at most 100).
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub page_size: u64,
    /// Judge the descriptions only: no package is fetched; package rules inconclusive.
    #[arg(long)]
    pub no_scan: bool,
    #[command(flatten)]
    pub audit: AuditArgs,
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// `server.json` files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Judge the files only, with no registry requests; package rules inconclusive (a
    /// pre-commit check).
    #[arg(long)]
    pub no_scan: bool,
    #[command(flatten)]
    pub audit: AuditArgs,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// MCP client config files. The client is recognised by the file's name and directory
    /// (`claude_desktop_config.json`, `.mcp.json`, `.cursor/mcp.json`, `.vscode/mcp.json`...).
    #[arg(value_name = "FILE", required_unless_present = "discover")]
    pub files: Vec<PathBuf>,
    /// Find the well-known configs of the current user and of the project in the current
    /// directory, say which exist, and audit those.
    #[arg(long)]
    pub discover: bool,
    /// Read the FILEs as this client's format, whatever their names.
    #[arg(long, value_name = "CLIENT", value_parser = ["claude-desktop", "claude-code", "cursor", "vscode", "windsurf", "gemini"])]
    pub client: Option<String>,
    /// Judge only how servers are launched: no registry requests, package rules inconclusive.
    #[arg(long)]
    pub no_scan: bool,
    #[command(flatten)]
    pub audit: AuditArgs,
}

/// What `scan` and `config` share: where packages come from, what is verified, and the gate.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub verify: VerifyArgs,
    #[command(flatten)]
    pub gate: GateArgs,
    #[command(flatten)]
    pub tree: TreeArgs,
}

#[derive(Debug, Args)]
pub struct ConfigCheckArgs {
    #[arg(required = true, value_name = "SPEC")]
    pub specs: Vec<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct VerifyBundleArgs {
    /// The Sigstore bundle (JSON).
    #[arg(long, value_name = "FILE")]
    pub bundle: PathBuf,
    /// Expected certificate identity (SAN), for keyless bundles.
    #[arg(
        long,
        value_name = "ID",
        requires = "certificate_oidc_issuer",
        required_unless_present = "key"
    )]
    pub certificate_identity: Option<String>,
    /// Expected OIDC issuer of the certificate.
    #[arg(long, value_name = "URL", requires = "certificate_identity")]
    pub certificate_oidc_issuer: Option<String>,
    /// PEM public key, for bundles signed with a managed key.
    #[arg(long, value_name = "PEM", conflicts_with_all = ["certificate_identity", "certificate_oidc_issuer"])]
    pub key: Option<PathBuf>,
    /// Sigstore trusted_root.json; the embedded public-good root by default.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// The signed artifact, or its digest as `sha256:<hex>`.
    #[arg(value_name = "FILE_OR_DIGEST")]
    pub artifact: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for a terminal.
    Table,
    /// The versioned JSON document (schema_version 1, docs/output.md), for dashboards.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning (`scan` and `config`).
    Sarif,
    /// A summary table and findings per package, for a pull-request comment (`scan` and `config`).
    Markdown,
    /// GitHub Actions workflow commands, one annotation per finding (`scan` and `config`).
    Github,
}

#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// Default registry, as npm's `--registry` (highest precedence). Otherwise npm's own
    /// configuration decides: `npm_config_*` environment, project `.npmrc`, user `~/.npmrc`,
    /// global npmrc, then https://registry.npmjs.org/.
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,
    /// Any npm setting, as on npm's command line, e.g. `@acme:registry=https://npm.acme.dev/`
    /// or `userconfig=/path/.npmrc`. Repeatable.
    #[arg(long = "npm-config", value_name = "KEY=VALUE")]
    pub npm_config: Vec<String>,
    /// The user config file, as npm's `--userconfig` (default ~/.npmrc).
    #[arg(long, value_name = "FILE")]
    pub userconfig: Option<PathBuf>,
    /// Allow a plain-http registry that is not on loopback.
    #[arg(long)]
    pub allow_http: bool,
    /// Requests in flight at once, over all targets.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Per-request timeout in seconds. Each package also has a deadline of
    /// timeout × (retries + 1) for all its requests and retry waits together.
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
    /// Retries after a network error, HTTP 5xx or 429.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: u32,
    /// Largest registry document accepted, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub max_body_mb: u64,
    /// Largest package tarball downloaded, in MiB; a larger one leaves the content checks
    /// inconclusive.
    #[arg(long, value_name = "MIB", default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub max_tarball_mb: u64,
    /// Keep registry documents (packuments, signing keys, attestations, advisories) here,
    /// revalidated with ETag / Last-Modified on every run. Default: the OS cache directory
    /// (`$XDG_CACHE_HOME/mcp-audit`, `~/Library/Caches/mcp-audit`, `%LOCALAPPDATA%\mcp-audit`).
    /// Private (0700/0600); never holds a credential. npm tarballs are kept by their
    /// `dist.integrity` SHA-512 and verified again on every read; unused for 90 days, pruned.
    // Not in conflict with --no-cache: the environment variable may set it for every run, and
    // --no-cache then wins.
    #[arg(long, value_name = "DIR", env = "MCP_AUDIT_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Answer from the cache only, with no network at all. What the cache lacks is reported
    /// as inconclusive: "not in the cache (--offline)".
    #[arg(long, conflicts_with = "no_cache")]
    pub offline: bool,
    /// Neither read nor write the cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Base delay of the exponential retry backoff, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 250, hide = true)]
    pub retry_base_ms: u64,
    /// Pretend the scan runs at this RFC 3339 time (for reproducible output).
    #[arg(long, value_name = "TIME", hide = true)]
    pub now: Option<String>,
    /// Python index for `pypi:` specs (a PEP 503/691 simple API URL, e.g.
    /// https://pypi.org/simple/). Otherwise uv's and pip's own settings decide: UV_DEFAULT_INDEX,
    /// UV_INDEX_URL, uv.toml / pyproject.toml [[tool.uv.index]], PIP_INDEX_URL, pip.conf, then
    /// PyPI. Credentials: URL userinfo, .netrc, UV_INDEX_<NAME>_USERNAME/PASSWORD.
    #[arg(long, value_name = "URL")]
    pub index_url: Option<String>,
    /// A further Python index pip or uv would also search. A name served by two indexes is a
    /// dependency-confusion finding. Repeatable.
    #[arg(long, value_name = "URL")]
    pub extra_index_url: Vec<String>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Sigstore trusted_root.json to verify provenance against, instead of the embedded
    /// public-good root.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// How far back (days) the trust-downgrade check compares against earlier releases.
    #[arg(long, value_name = "DAYS", default_value_t = 365, value_parser = clap::value_parser!(u64).range(1..=3650))]
    pub trust_window_days: u64,
    /// Do not download tarballs: content checks (leaked credentials, manifest confusion,
    /// install behaviour, binaries) are then reported as inconclusive, not passed.
    #[arg(long)]
    pub no_tarball: bool,
}

#[derive(Debug, Args)]
pub struct GateArgs {
    /// Output format: table, json (versioned, docs/output.md), sarif (code scanning), markdown
    /// (PR comment) or github (workflow annotations). See docs/output.md.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Fail (exit 1) when a package scores below N (0-100). Default 50, or the policy file's.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=100))]
    pub fail_under: Option<u32>,
    /// Fail (exit 1) when a counted finding is more severe than LEVEL. Default high (a critical
    /// finding fails), or the policy file's; `critical` turns the check off.
    #[arg(long, value_name = "LEVEL", value_parser = ["info", "low", "medium", "high", "critical"])]
    pub max_severity: Option<String>,
    /// The policy file (default: mcp-audit.toml in the current directory, else in the git root).
    #[arg(long, value_name = "FILE", conflicts_with = "no_policy")]
    pub policy: Option<PathBuf>,
    /// Ignore any mcp-audit.toml found.
    #[arg(long)]
    pub no_policy: bool,
    /// Fail (exit 1) when less than N% of the rule weight could be decided (0-100).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=100))]
    pub min_coverage: Option<u32>,
    /// Treat a rule that could not be decided (missing data) as a failure.
    #[arg(long)]
    pub strict: bool,
    /// Directory of rule files that add to or override the built-in rules by id.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Print only one line per package and the summary.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Log each fetch and resolution to stderr.
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Package specs, e.g. @modelcontextprotocol/server-filesystem or mcp-remote@^0.1; PyPI
    /// projects as pypi:NAME, pypi:NAME==VERSION or pypi:NAME with PEP 440 specifiers, e.g.
    /// 'pypi:NAME>=1.2,<2' (the highest non-yanked match, pre-releases only when named, as uv
    /// picks; names PEP 503-normalised);
    /// package URLs pkg:npm/NAME@VERSION and pkg:pypi/NAME@VERSION. A bare npm name is the
    /// version npm installs: `latest` unless deprecated or its engines do not fit node 20 / npm
    /// 11, then the highest that fits; NAME@latest is the tag itself.
    #[arg(required = true, value_name = "SPEC")]
    pub specs: Vec<String>,
    #[command(flatten)]
    pub audit: AuditArgs,
}

#[derive(Debug, Args)]
pub struct FactsArgs {
    #[arg(value_name = "SPEC")]
    pub spec: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub verify: VerifyArgs,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Facts files (JSON), as printed by `mcp-audit facts`.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub gate: GateArgs,
    /// Evaluate as if at this RFC 3339 time: the day a policy file's ignores expire against
    /// (default: now).
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Directory of rule files that add to or override the built-in rules by id.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// The policy file whose `[rules.<id>]` overrides (enabled, severity, weight) are shown
    /// applied (default: mcp-audit.toml in the current directory, else in the git root).
    #[arg(long, value_name = "FILE", conflicts_with = "no_policy")]
    pub policy: Option<PathBuf>,
    /// Ignore any mcp-audit.toml found: show the rules without its overrides.
    #[arg(long)]
    pub no_policy: bool,
}

/// The dependency tree (issue 12): `scan` and `config` audit everything `npm install` / `npx`
/// would install, resolved as npm 10/11 resolves it (or as the package's npm-shrinkwrap.json pins
/// it), unless `--no-deps`.
#[derive(Debug, Args)]
pub struct TreeArgs {
    /// Audit only the named package, not its dependency tree.
    #[arg(long)]
    pub no_deps: bool,
    /// Stop resolving a tree larger than N packages (the package is then reported as not
    /// checked, exit 3).
    #[arg(long, value_name = "N", default_value_t = crate::tree::DEFAULT_MAX_NODES, value_parser = clap::builder::ValueParser::new(clap::builder::TypedValueParser::map(clap::value_parser!(u64).range(1..=1_000_000), |n| n as usize)))]
    pub max_nodes: usize,
}
