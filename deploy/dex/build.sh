#!/usr/bin/env bash
# Builds the pinned dex (the OpenID Connect provider of the portal's sign-in tests) with
# `go install` into ~/.cache/collateral/bin/dex-<version>/dex and prints that path; does
# nothing when it is already built. `build.sh --path` only prints the path.
#
# dex's go.mod carries a replace directive, so `go install github.com/dexidp/dex/cmd/dex@v...`
# refuses it; this folder's go.mod requires the same commit (the v2.41.1 tag) and pins the
# api/v2 module it replaces to the release matching it, with go.sum fixing every hash.
set -euo pipefail
cd "$(dirname "$0")"

DEX_VERSION=v2.41.1
BIN_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/collateral/bin/dex-$DEX_VERSION-$(sha256sum go.sum | cut -c1-12)"
if [ "${1:-}" = "--path" ]; then
  echo "$BIN_DIR/dex"
  exit 0
fi
if [ ! -x "$BIN_DIR/dex" ]; then
  command -v go >/dev/null 2>&1 || { echo "go is not installed: cannot build dex" >&2; exit 1; }
  echo "==> go install dex $DEX_VERSION into $BIN_DIR" >&2
  mkdir -p "$BIN_DIR"
  # cgo stays on: dex links SQLite (its sql storage) whatever storage the tests use.
  GOBIN="$BIN_DIR" GOFLAGS="-mod=readonly -buildvcs=false" go install github.com/dexidp/dex/cmd/dex >&2
fi
echo "$BIN_DIR/dex"
