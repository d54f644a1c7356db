# Sourced by every script, and by you (`source scripts/env.sh`): the toolchain and workspace this project
# builds with.
#
# The toolchain is go1.27.3 with our patch to simd/archsimd (scripts/setup-toolchain.sh,
# docs/ARCHSIMD-PART-LOADS.md), kept outside the repository and put first on PATH; GOTOOLCHAIN=local stops
# the go command from switching to an unpatched toolchain. The workspace (GOWORK, scripts/setup-backend.sh)
# builds the checkout against our patched copy of the GoMLX backend (docs/BACKEND-PATCHES.md), also kept
# outside the repository. In workspace mode the go command refuses -mod=mod: to change go.mod or go.sum,
# run the go command with GOWORK=off.
_einspace_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EINSPACE_GOROOT="$(bash "$_einspace_repo/scripts/setup-toolchain.sh")" || return 1 2>/dev/null || exit 1
export EINSPACE_GOROOT
case "$PATH" in
  "$EINSPACE_GOROOT/bin:"*) ;;
  *) export PATH="$EINSPACE_GOROOT/bin:$PATH" ;;
esac
export GOTOOLCHAIN=local
export GOEXPERIMENT=simd      # GoMLX trains 6-12x faster with it
GOWORK="$(bash "$_einspace_repo/scripts/setup-backend.sh")" || return 1 2>/dev/null || exit 1
export GOWORK
unset _einspace_repo
