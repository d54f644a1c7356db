# Sourced by every script: the toolchain this project builds with (see README).
export GOTOOLCHAIN=go1.27.3   # the machine's Go fetches this toolchain through the module proxy
export GOEXPERIMENT=simd      # GoMLX trains 6-12x faster with it
export GOFLAGS="${GOFLAGS:-} -mod=mod"
