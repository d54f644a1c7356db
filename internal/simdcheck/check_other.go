//go:build !(goexperiment.simd && amd64 && linux)

package simdcheck

// Check returns nil: without GOEXPERIMENT=simd on amd64 Linux, GoMLX's backend does not use the
// affected loads, or this package cannot place a guard page to tell.
func Check() error { return nil }
