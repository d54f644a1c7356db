//go:build goexperiment.simd && amd64 && linux

package simdcheck

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"simd/archsimd"
	"sync"

	"github.com/einspace-go/einspace/internal/guardpage"
)

// Check returns nil when the loads GoMLX's backend uses for the tails of float32 and float64 operands
// (at every vector width this CPU has) read only the slice they are given, and an error that says what
// to do when they read past it. The result is computed once per process.
func Check() error { return checkOnce() }

var checkOnce = sync.OnceValue(check)

// probe is one tail load: it loads the last elements of s and returns their sum.
type probe struct {
	name string
	has  func() bool
	f32  func(s []float32) float32
	f64  func(s []float64) float64
}

var probes = []probe{
	{name: "LoadFloat32x4Part", has: archsimd.X86.AVX, f32: func(s []float32) float32 {
		v, _ := archsimd.LoadFloat32x4Part(s)
		return v.GetElem(0)
	}},
	{name: "LoadFloat32x8Part", has: archsimd.X86.AVX2, f32: func(s []float32) float32 {
		v, _ := archsimd.LoadFloat32x8Part(s)
		return v.GetLo().GetElem(0)
	}},
	{name: "LoadFloat32x16Part", has: archsimd.X86.AVX512, f32: func(s []float32) float32 {
		v, _ := archsimd.LoadFloat32x16Part(s)
		return v.GetLo().GetLo().GetElem(0)
	}},
	{name: "LoadFloat64x2Part", has: archsimd.X86.AVX, f64: func(s []float64) float64 {
		v, _ := archsimd.LoadFloat64x2Part(s)
		return v.GetElem(0)
	}},
	{name: "LoadFloat64x4Part", has: archsimd.X86.AVX2, f64: func(s []float64) float64 {
		v, _ := archsimd.LoadFloat64x4Part(s)
		return v.GetLo().GetElem(0)
	}},
	{name: "LoadFloat64x8Part", has: archsimd.X86.AVX512, f64: func(s []float64) float64 {
		v, _ := archsimd.LoadFloat64x8Part(s)
		return v.GetLo().GetLo().GetElem(0)
	}},
}

func check() error {
	for _, p := range probes {
		if !p.has() {
			continue
		}
		if err := run(p); err != nil {
			return err
		}
	}
	return nil
}

// run loads a one-element tail that ends at a guard page, with faults turned into panics.
func run(p probe) (err error) {
	var free func() error
	var got float64
	if p.f32 != nil {
		var s []float32
		if s, free, err = guardpage.Slice[float32](1); err != nil {
			return nil // no guard page, no verdict: do not stop training over the check itself
		}
		s[0] = 1
		defer func() { err = fault(p.name, recover(), err); _ = free() }()
		debug.SetPanicOnFault(true)
		defer debug.SetPanicOnFault(false)
		got = float64(p.f32(s))
	} else {
		var s []float64
		if s, free, err = guardpage.Slice[float64](1); err != nil {
			return nil
		}
		s[0] = 1
		defer func() { err = fault(p.name, recover(), err); _ = free() }()
		debug.SetPanicOnFault(true)
		defer debug.SetPanicOnFault(false)
		got = p.f64(s)
	}
	if got != 1 {
		return fmt.Errorf("simd/archsimd.%s loaded %v from a one-element slice holding 1", p.name, got)
	}
	return nil
}

// fault turns a recovered memory fault into the error Check returns; other panics go on.
func fault(name string, r any, err error) error {
	if r == nil {
		return err
	}
	re, ok := r.(runtime.Error)
	if !ok {
		panic(r)
	}
	where := re.Error()
	if a, ok := r.(interface{ Addr() uintptr }); ok {
		where = fmt.Sprintf("fault at %#x, the first byte past the slice", a.Addr())
	}
	return fmt.Errorf("this program was built with a Go toolchain whose simd/archsimd.%s reads past the end of the slice it is given (%s), so GoMLX's pure-Go backend would crash at random with SIGSEGV; build with the project's patched toolchain (source scripts/env.sh, or GOEXPERIMENT= without SIMD); see docs/ARCHSIMD-PART-LOADS.md", name, where)
}
