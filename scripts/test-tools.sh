#!/usr/bin/env bash
# Installs the external tools the integration tests drive: a pinned Verdaccio (a real private npm
# registry, tests/it/support/verdaccio.rs). Idempotent and fast when already installed, so the test
# command can run it every time. Needs only Node and npm (and the npm registry, on first run).
#
# Install dir: $MCP_AUDIT_TEST_TOOLS, default <repo>/target/test-tools (ignored by git, wiped by
# `cargo clean`). The Rust harness reads the same variable and the pin below.
set -euo pipefail

# The pin. tests/it/support/verdaccio.rs parses this line, so keep it `NAME=X.Y.Z` on one line.
# 6.8.0 is the newest 6.x whose `engines` admits Node 20 (6.9+ require Node >= 22).
VERDACCIO_VERSION=6.8.0

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${MCP_AUDIT_TEST_TOOLS:-$repo/target/test-tools}"
dest="$tools/verdaccio"
fixture="$repo/fixtures/verdaccio"

die() {
    echo "test-tools.sh: $*" >&2
    exit 1
}

command -v node >/dev/null 2>&1 || die "node not found on PATH (Verdaccio $VERDACCIO_VERSION needs Node >= 20)"
command -v npm >/dev/null 2>&1 || die "npm not found on PATH"

node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "Node $(node --version) is too old: Verdaccio $VERDACCIO_VERSION needs Node >= 20"

# The fixture's package.json pins the same version; a mismatch would silently install something
# other than what the harness expects.
grep -q "\"verdaccio\": \"$VERDACCIO_VERSION\"" "$fixture/package.json" ||
    die "fixtures/verdaccio/package.json does not pin verdaccio $VERDACCIO_VERSION"

# The stamp covers the lockfile too, so editing the lock (or the pin) forces a reinstall.
stamp_want="verdaccio@$VERDACCIO_VERSION $(cat "$fixture/package.json" "$fixture/package-lock.json" | cksum)"
stamp="$dest/.installed"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_want" ] &&
    [ -f "$dest/node_modules/verdaccio/bin/verdaccio" ]; then
    echo "test-tools: verdaccio $VERDACCIO_VERSION already installed in $dest"
    exit 0
fi

# Install beside the destination and swap it in only when complete: an interrupted run leaves no
# half-installed tree that a later run (or the harness) would mistake for a good one.
mkdir -p "$tools"
staging="$(mktemp -d "$tools/.verdaccio.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
cp "$fixture/package.json" "$fixture/package-lock.json" "$staging/"

# package.json carries an override: every Verdaccio 6 depends on verdaccio-audit, which asks for
# `node-fetch@cjs`, a dist-tag some registry mirrors do not serve; 2.7.0 is what that tag names.
# The committed lockfile makes the whole tree the same on every machine.
log="$staging/npm-install.log"
if ! npm install --prefix "$staging" --no-audit --no-fund --save-exact --loglevel=error \
    "verdaccio@$VERDACCIO_VERSION" >"$log" 2>&1; then
    cat "$log" >&2
    die "npm install verdaccio@$VERDACCIO_VERSION failed (output above)"
fi
[ -f "$staging/node_modules/verdaccio/bin/verdaccio" ] || die "npm install left no verdaccio binary"
installed="$(node -p "require('$staging/node_modules/verdaccio/package.json').version")"
[ "$installed" = "$VERDACCIO_VERSION" ] || die "npm installed verdaccio $installed, wanted $VERDACCIO_VERSION"

echo "$stamp_want" >"$staging/.installed"
rm -rf "$dest"
mv "$staging" "$dest"
trap - EXIT
echo "test-tools: installed verdaccio $VERDACCIO_VERSION into $dest"
