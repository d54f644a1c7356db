// Package simdcheck tells whether this program's vector loads of a slice's tail stay inside the slice.
//
// GoMLX's pure-Go backend, built with GOEXPERIMENT=simd, loads the last few elements of every operand
// with simd/archsimd's Load*Part functions. In Go 1.27.3 those read a whole vector from the slice's
// address, up to 63 bytes past its end, and a program dies with SIGSEGV whenever an operand ends at the
// last mapped page. The project builds with a toolchain patched by scripts/setup-toolchain.sh; Check
// finds out, in a microsecond and without crashing, whether the running program was built with it,
// so that a model refuses to train with a clear error instead of crashing at random.
// docs/ARCHSIMD-PART-LOADS.md has the upstream report.
package simdcheck
