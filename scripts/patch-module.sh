#!/usr/bin/env bash
# Makes a patched copy of a Go module outside the repository and prints its path: the module at the version
# go.mod requires, from the module cache (downloaded when missing), with patches/<name>-<version>-*.patch
# applied. This is how the project carries its fixes to third-party code (never the code itself): the
# backend's (scripts/setup-backend.sh, docs/BACKEND-PATCHES.md) and GoNB's (scripts/setup-notebooks.sh,
# docs/GONB-COMM-OPEN-ACK.md).
#
# Idempotent and cheap when done: the copy records the patches it was made with (EINSPACE_PATCHES, their
# sha256) and is made again when they change, beside the old one, which it then replaces (two renames);
# one run at a time makes it (flock).
#
#   bash scripts/patch-module.sh github.com/gomlx/compute gomlx-compute
#   # prints ~/.cache/einspace/gomlx-compute-<version>-patched
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: patch-module.sh MODULE NAME   (patches are patches/NAME-<version>-*.patch)" >&2; exit 2; }
module="$1" name="$2"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="$(awk -v m="$module" '$1 == m { print $2; exit }' "$repo/go.mod")"
[ -n "$version" ] || { echo "patch-module: $repo/go.mod does not require $module" >&2; exit 1; }
shopt -s nullglob
patches=("$repo"/patches/"$name"-"$version"-*.patch)
shopt -u nullglob
[ ${#patches[@]} -gt 0 ] || { echo "patch-module: no patches/$name-$version-*.patch: the patches are for another version of $module" >&2; exit 1; }
cache="${XDG_CACHE_HOME:-$HOME/.cache}/einspace"
copy="$cache/$name-$version-patched"
marker="$copy/EINSPACE_PATCHES"
want="$(cat "${patches[@]}" | sha256sum | cut -d' ' -f1)"

if [ "$(cat "$marker" 2>/dev/null)" != "$want" ]; then
  mkdir -p "$cache"
  if command -v flock >/dev/null; then
    exec 9>"$cache/$name.lock"
    flock 9
  fi
fi
if [ "$(cat "$marker" 2>/dev/null)" != "$want" ]; then
  # The pristine module, from the module cache (fetched when missing), outside any workspace.
  dir="$(cd "$repo" && GOWORK=off GOFLAGS=-mod=mod go mod download -json "$module@$version" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')" || true
  [ -n "$dir" ] && [ -d "$dir" ] || { echo "patch-module: could not download $module@$version" >&2; exit 1; }
  tmp="$(mktemp -d "$cache/$name.XXXXXX")"
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
      echo "patch-module: $p does not apply to $module@$version" >&2
      exit 1
    fi
  done
  echo "$want" >"$tmp/EINSPACE_PATCHES"
  old="$cache/$name.old.$$"
  if [ -e "$copy" ]; then mv "$copy" "$old"; fi
  mv "$tmp" "$copy"
  trap - EXIT
  rm -rf "$old"
fi
echo "$copy"
