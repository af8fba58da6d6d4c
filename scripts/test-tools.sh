#!/usr/bin/env bash
# Installs the external tools the integration tests drive: a pinned Verdaccio (a real private npm
# registry, tests/it/support/verdaccio.rs) and a pinned pypiserver (a real private Python index,
# tests/it/support/pypiserver.rs). Idempotent and fast when already installed, so the test command
# can run it every time. Needs Node and npm, and Python 3 with venv (and the npm registry and PyPI,
# on first run).
#
# Install dir: $MCP_AUDIT_TEST_TOOLS, default <repo>/target/test-tools (ignored by git, wiped by
# `cargo clean`). The Rust harness reads the same variable and the pin below.
set -euo pipefail

# The pin. tests/it/support/verdaccio.rs parses this line, so keep it `NAME=X.Y.Z` on one line.
# 6.8.0 is the newest 6.x whose `engines` admits Node 20 (6.9+ require Node >= 22).
VERDACCIO_VERSION=6.8.0
# tests/it/support/pypiserver.rs parses this one too. The whole Python tree is pinned in
# fixtures/pypiserver/requirements.txt (passlib reads the htpasswd file for `-P`).
PYPISERVER_VERSION=2.4.2

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${MCP_AUDIT_TEST_TOOLS:-$repo/target/test-tools}"

die() {
    echo "test-tools.sh: $*" >&2
    exit 1
}

install_verdaccio() {
local dest="$tools/verdaccio"
local fixture="$repo/fixtures/verdaccio"

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
    return 0
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
}

install_pypiserver() {
local dest="$tools/pypiserver"
local reqs="$repo/fixtures/pypiserver/requirements.txt"
command -v python3 >/dev/null 2>&1 || die "python3 not found on PATH (pypiserver $PYPISERVER_VERSION needs Python >= 3.8)"
grep -qx "pypiserver==$PYPISERVER_VERSION" "$reqs" ||
    die "fixtures/pypiserver/requirements.txt does not pin pypiserver==$PYPISERVER_VERSION"

local stamp_want
stamp_want="pypiserver@$PYPISERVER_VERSION $(python3 --version 2>&1) $(cksum <"$reqs")"
if [ -f "$dest/.installed" ] && [ "$(cat "$dest/.installed")" = "$stamp_want" ] &&
    [ -x "$dest/bin/pypi-server" ]; then
    echo "test-tools: pypiserver $PYPISERVER_VERSION already installed in $dest"
    return 0
fi

# A venv records its own path in its scripts, so it is built in place (not in a staging dir and
# moved); the stamp, written last, is what marks it complete.
mkdir -p "$tools"
rm -rf "$dest"
local log="$tools/pypiserver-install.log"
if python3 -m venv "$dest" >"$log" 2>&1; then
    if ! "$dest/bin/python" -m pip install --no-input --disable-pip-version-check -r "$reqs" >"$log" 2>&1; then
        cat "$log" >&2
        die "pip install pypiserver==$PYPISERVER_VERSION failed (output above)"
    fi
else
    # Debian's python3 ships without the venv module unless python3-venv is installed. pip's
    # --target gives the same pinned tree; two small scripts stand where the venv's would.
    echo "test-tools: python3 -m venv failed ($(tail -n 1 "$log")); installing with pip --target" >&2
    rm -rf "$dest"
    mkdir -p "$dest/bin"
    if ! python3 -m pip install --no-input --disable-pip-version-check --target "$dest/site" -r "$reqs" >"$log" 2>&1; then
        cat "$log" >&2
        die "neither python3 -m venv nor python3 -m pip works (install python3-venv or python3-pip)"
    fi
    local py
    py="$(command -v python3)"
    printf '#!/bin/sh\nPYTHONPATH="%s/site" exec "%s" "$@"\n' "$dest" "$py" >"$dest/bin/python"
    printf '#!/bin/sh\nPYTHONPATH="%s/site" exec "%s" -m pypiserver "$@"\n' "$dest" "$py" >"$dest/bin/pypi-server"
    chmod +x "$dest/bin/python" "$dest/bin/pypi-server"
fi
local installed
installed="$("$dest/bin/python" -c 'import importlib.metadata as m; print(m.version("pypiserver"))')"
[ "$installed" = "$PYPISERVER_VERSION" ] || die "pip installed pypiserver $installed, wanted $PYPISERVER_VERSION"
echo "$stamp_want" >"$dest/.installed"
echo "test-tools: installed pypiserver $PYPISERVER_VERSION into $dest"
}

install_verdaccio
install_pypiserver
