#!/usr/bin/env bash
# Builds the project's Go toolchain: a copy of go1.27.3 (fetched through the module proxy like any
# toolchain) outside the repository, with our patch patches/go1.27.3-archsimd-part-loads.patch applied,
# which makes simd/archsimd's Load*Part functions read only the slice they are given (upstream report:
# docs/ARCHSIMD-PART-LOADS.md). Without it, training with GOEXPERIMENT=simd dies at random with SIGSEGV.
#
# Idempotent and cheap when done: the copy records the patch it was built with, and is rebuilt when the
# patch changes. scripts/env.sh runs this when needed and puts the copy first on PATH.
#
#   bash scripts/setup-toolchain.sh     # prints the patched GOROOT
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version=go1.27.3
patch_file="$repo/patches/$version-archsimd-part-loads.patch"
root="${EINSPACE_GOROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/einspace/$version-safe-simd}"
marker="$root/EINSPACE_PATCH"
want="$(sha256sum "$patch_file" | cut -d' ' -f1)"

if [ -x "$root/bin/go" ] && [ "$(cat "$marker" 2>/dev/null)" = "$want" ]; then
  echo "$root"
  exit 0
fi

# The pristine toolchain is a module, which `go mod download` fetches with any Go >= 1.21, run outside
# this module (whose go.mod asks for a newer Go than the machine's may be).
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
goos="$(GOTOOLCHAIN=local GOFLAGS= go env GOHOSTOS)"
goarch="$(GOTOOLCHAIN=local GOFLAGS= go env GOHOSTARCH)"
module="golang.org/toolchain@v0.0.1-$version.$goos-$goarch"
# The fetch is tried three times (a network can fail once), and go's own message is shown when all fail.
pristine=""
for attempt in 1 2 3; do
  if out="$(GOTOOLCHAIN=local GOFLAGS= go mod download -json "$module" 2>&1)"; then
    pristine="$(printf '%s\n' "$out" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    [ -f "$pristine/bin/go" ] && break
  fi
  echo "setup-toolchain: fetching $module, attempt $attempt failed: $(printf '%s' "$out" | tail -n 3)" >&2
  sleep $((attempt * 5))
done
if [ ! -f "$pristine/bin/go" ]; then
  echo "setup-toolchain: could not fetch $module through the module proxy" >&2
  exit 1
fi

echo "setup-toolchain: copying $pristine to $root and applying $(basename "$patch_file")" >&2
tmp="$root.tmp.$$"
rm -rf "$tmp"
mkdir -p "$(dirname "$root")"
cp -a "$pristine" "$tmp"
chmod -R u+w "$tmp"
# The module cache holds the toolchain's files read-only and not executable (the go command sets the
# executable bits only when it switches to a toolchain itself), so the copy's programs are made runnable.
chmod +x "$tmp"/bin/* "$tmp"/pkg/tool/*/*
if command -v patch >/dev/null; then
  patch --quiet --forward -p1 -d "$tmp" < "$patch_file"
else
  (cd "$tmp" && GIT_CEILING_DIRECTORIES="$tmp" git apply -p1 "$patch_file")
fi
echo "$want" > "$tmp/EINSPACE_PATCH"
rm -rf "$root"
mv "$tmp" "$root"
echo "$root"
