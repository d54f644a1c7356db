#!/usr/bin/env bash
# Builds the workspace this checkout is compiled in: a go.work outside the repository that uses the
# checkout and our patched copy of github.com/gomlx/compute (the GoMLX pure-Go backend), with the patches
# patches/gomlx-compute-<version>-*.patch applied. Each patch makes the backend faster without changing what
# it computes, and is written up for upstream in docs/BACKEND-PATCHES.md. A build without this workspace
# (a plain `go build` outside scripts/env.sh) uses the pristine module and gives the same numbers, slower.
#
# Idempotent and cheap when done (scripts/patch-module.sh makes the copy again only when the patches
# change). scripts/env.sh runs this with the project's toolchain on PATH and sets GOWORK to what it
# prints; the notebook kernel uses the same workspace (kernel.Install reads GOWORK).
#
#   bash scripts/setup-backend.sh     # prints the path of the go.work
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
copy="$(bash "$repo/scripts/patch-module.sh" github.com/gomlx/compute gomlx-compute)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/einspace"

# One workspace per checkout: two clones on one machine must not share one.
work="$cache/workspaces/$(printf '%s' "$repo" | sha256sum | cut -c1-16)"
mkdir -p "$work"
cat >"$work/go.work.tmp" <<EOF
// Written by scripts/setup-backend.sh: the checkout $repo, built against the patched backend.
go 1.27

use (
	$repo
	$copy
)
EOF
mv "$work/go.work.tmp" "$work/go.work"
echo "$work/go.work"
