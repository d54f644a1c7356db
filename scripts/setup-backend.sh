#!/usr/bin/env bash
# Builds the workspace this checkout is compiled in: a go.work outside the repository that uses the
# checkout and our patched copy of github.com/gomlx/compute (the GoMLX pure-Go backend), with the patches
# patches/gomlx-compute-<version>-*.patch applied. Each patch makes the backend faster without changing what
# it computes, and is written up for upstream in docs/BACKEND-PATCHES.md. A build without this workspace
# (a plain `go build` outside scripts/env.sh) uses the pristine module and gives the same numbers, slower.
#
# Idempotent and cheap when done: the copy records the patches it was made with and is made again when
# they change. scripts/env.sh runs this with the project's toolchain on PATH and sets GOWORK to what it
# prints; the notebook kernel uses the same workspace (kernel.Install reads GOWORK).
#
#   bash scripts/setup-backend.sh     # prints the path of the go.work
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
module=github.com/gomlx/compute
version="$(awk -v m="$module" '$1 == m { print $2; exit }' "$repo/go.mod")"
[ -n "$version" ] || { echo "setup-backend: $repo/go.mod does not require $module" >&2; exit 1; }
shopt -s nullglob
patches=("$repo"/patches/gomlx-compute-"$version"-*.patch)
shopt -u nullglob
[ ${#patches[@]} -gt 0 ] || { echo "setup-backend: no patches/gomlx-compute-$version-*.patch: the patches are for another version of $module" >&2; exit 1; }
cache="${XDG_CACHE_HOME:-$HOME/.cache}/einspace"
copy="$cache/gomlx-compute-$version-patched"
marker="$copy/EINSPACE_PATCHES"
want="$(cat "${patches[@]}" | sha256sum | cut -d' ' -f1)"

if [ "$(cat "$marker" 2>/dev/null)" != "$want" ]; then
  # The pristine module, from the module cache (fetched when missing), outside any workspace.
  dir="$(cd "$repo" && GOWORK=off GOFLAGS=-mod=mod go mod download -json "$module@$version" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')"
  [ -d "$dir" ] || { echo "setup-backend: could not download $module@$version" >&2; exit 1; }
  mkdir -p "$cache"
  tmp="$(mktemp -d "$cache/gomlx-compute.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  cp -R "$dir/." "$tmp/"
  chmod -R u+w "$tmp"
  for p in "${patches[@]}"; do
    if command -v patch >/dev/null; then
      applied() { patch -d "$tmp" -p1 --batch --forward --quiet <"$p" >&2; }
    else # a machine without patch(1): git applies a unified diff too
      applied() { (cd "$tmp" && GIT_CEILING_DIRECTORIES="$tmp" git apply -p1 "$p" >&2); }
    fi
    if ! applied; then
      echo "setup-backend: $p does not apply to $module@$version" >&2
      exit 1
    fi
  done
  echo "$want" >"$tmp/EINSPACE_PATCHES"
  rm -rf "$copy"
  mv "$tmp" "$copy"
  trap - EXIT
fi

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
