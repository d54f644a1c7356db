//go:build goexperiment.simd && amd64 && linux

package simdcheck_test

import (
	"errors"
	"fmt"
	"runtime/debug"
	"simd/archsimd"
	"testing"

	"github.com/einspace-go/einspace/internal/guardpage"
	"github.com/einspace-go/einspace/internal/simdcheck"
)

type number interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

// partLoads is every Load*Part function of simd/archsimd on amd64, with the CPU feature it needs.
var partLoads = []struct {
	name string
	has  func() bool
	test func(t *testing.T)
}{
	{"LoadInt8x16Part", archsimd.X86.AVX, func(t *testing.T) { checkTails(t, 16, archsimd.LoadInt8x16Part, archsimd.Int8x16.Store) }},
	{"LoadInt16x8Part", archsimd.X86.AVX, func(t *testing.T) { checkTails(t, 8, archsimd.LoadInt16x8Part, archsimd.Int16x8.Store) }},
	{"LoadInt32x4Part", archsimd.X86.AVX, func(t *testing.T) { checkTails(t, 4, archsimd.LoadInt32x4Part, archsimd.Int32x4.Store) }},
	{"LoadInt64x2Part", archsimd.X86.AVX, func(t *testing.T) { checkTails(t, 2, archsimd.LoadInt64x2Part, archsimd.Int64x2.Store) }},
	{"LoadUint8x16Part", archsimd.X86.AVX, func(t *testing.T) { checkTails(t, 16, archsimd.LoadUint8x16Part, archsimd.Uint8x16.Store) }},
	{"LoadUint16x8Part", archsimd.X86.AVX, func(t *testing.T) { checkTails(t, 8, archsimd.LoadUint16x8Part, archsimd.Uint16x8.Store) }},
	{"LoadUint32x4Part", archsimd.X86.AVX, func(t *testing.T) { checkTails(t, 4, archsimd.LoadUint32x4Part, archsimd.Uint32x4.Store) }},
	{"LoadUint64x2Part", archsimd.X86.AVX, func(t *testing.T) { checkTails(t, 2, archsimd.LoadUint64x2Part, archsimd.Uint64x2.Store) }},
	{"LoadFloat32x4Part", archsimd.X86.AVX, func(t *testing.T) { checkTails(t, 4, archsimd.LoadFloat32x4Part, archsimd.Float32x4.Store) }},
	{"LoadFloat64x2Part", archsimd.X86.AVX, func(t *testing.T) { checkTails(t, 2, archsimd.LoadFloat64x2Part, archsimd.Float64x2.Store) }},
	{"LoadInt8x32Part", archsimd.X86.AVX2, func(t *testing.T) { checkTails(t, 32, archsimd.LoadInt8x32Part, archsimd.Int8x32.Store) }},
	{"LoadInt16x16Part", archsimd.X86.AVX2, func(t *testing.T) { checkTails(t, 16, archsimd.LoadInt16x16Part, archsimd.Int16x16.Store) }},
	{"LoadInt32x8Part", archsimd.X86.AVX2, func(t *testing.T) { checkTails(t, 8, archsimd.LoadInt32x8Part, archsimd.Int32x8.Store) }},
	{"LoadInt64x4Part", archsimd.X86.AVX2, func(t *testing.T) { checkTails(t, 4, archsimd.LoadInt64x4Part, archsimd.Int64x4.Store) }},
	{"LoadUint8x32Part", archsimd.X86.AVX2, func(t *testing.T) { checkTails(t, 32, archsimd.LoadUint8x32Part, archsimd.Uint8x32.Store) }},
	{"LoadUint16x16Part", archsimd.X86.AVX2, func(t *testing.T) { checkTails(t, 16, archsimd.LoadUint16x16Part, archsimd.Uint16x16.Store) }},
	{"LoadUint32x8Part", archsimd.X86.AVX2, func(t *testing.T) { checkTails(t, 8, archsimd.LoadUint32x8Part, archsimd.Uint32x8.Store) }},
	{"LoadUint64x4Part", archsimd.X86.AVX2, func(t *testing.T) { checkTails(t, 4, archsimd.LoadUint64x4Part, archsimd.Uint64x4.Store) }},
	{"LoadFloat32x8Part", archsimd.X86.AVX2, func(t *testing.T) { checkTails(t, 8, archsimd.LoadFloat32x8Part, archsimd.Float32x8.Store) }},
	{"LoadFloat64x4Part", archsimd.X86.AVX2, func(t *testing.T) { checkTails(t, 4, archsimd.LoadFloat64x4Part, archsimd.Float64x4.Store) }},
	{"LoadInt8x64Part", archsimd.X86.AVX512, func(t *testing.T) { checkTails(t, 64, archsimd.LoadInt8x64Part, archsimd.Int8x64.Store) }},
	{"LoadInt16x32Part", archsimd.X86.AVX512, func(t *testing.T) { checkTails(t, 32, archsimd.LoadInt16x32Part, archsimd.Int16x32.Store) }},
	{"LoadInt32x16Part", archsimd.X86.AVX512, func(t *testing.T) { checkTails(t, 16, archsimd.LoadInt32x16Part, archsimd.Int32x16.Store) }},
	{"LoadInt64x8Part", archsimd.X86.AVX512, func(t *testing.T) { checkTails(t, 8, archsimd.LoadInt64x8Part, archsimd.Int64x8.Store) }},
	{"LoadUint8x64Part", archsimd.X86.AVX512, func(t *testing.T) { checkTails(t, 64, archsimd.LoadUint8x64Part, archsimd.Uint8x64.Store) }},
	{"LoadUint16x32Part", archsimd.X86.AVX512, func(t *testing.T) { checkTails(t, 32, archsimd.LoadUint16x32Part, archsimd.Uint16x32.Store) }},
	{"LoadUint32x16Part", archsimd.X86.AVX512, func(t *testing.T) { checkTails(t, 16, archsimd.LoadUint32x16Part, archsimd.Uint32x16.Store) }},
	{"LoadUint64x8Part", archsimd.X86.AVX512, func(t *testing.T) { checkTails(t, 8, archsimd.LoadUint64x8Part, archsimd.Uint64x8.Store) }},
	{"LoadFloat32x16Part", archsimd.X86.AVX512, func(t *testing.T) { checkTails(t, 16, archsimd.LoadFloat32x16Part, archsimd.Float32x16.Store) }},
	{"LoadFloat64x8Part", archsimd.X86.AVX512, func(t *testing.T) { checkTails(t, 8, archsimd.LoadFloat64x8Part, archsimd.Float64x8.Store) }},
}

// TestPartLoadsStayInsideTheSlice loads every tail length of every vector type from a slice that ends at
// a guard page. On an unpatched go1.27.3 the 32- and 64-bit types (and the 512-bit 8- and 16-bit ones)
// fault here; on the project's toolchain every load returns the slice's elements and zeroes.
func TestPartLoadsStayInsideTheSlice(t *testing.T) {
	ran := 0
	for _, p := range partLoads {
		t.Run(p.name, func(t *testing.T) {
			if !p.has() {
				t.Skipf("this CPU lacks the vector width of %s", p.name)
			}
			p.test(t)
			ran++
		})
	}
	if ran == 0 {
		t.Fatal("this CPU has no AVX: no load was checked")
	}
}

// checkTails loads every tail of 1..n-1 elements ending at a guard page and checks what was loaded.
func checkTails[E number, V any](t *testing.T, n int, load func([]E) (V, int), store func(V, []E)) {
	t.Helper()
	for l := 1; l < n; l++ {
		s, free, err := guardpage.Slice[E](l)
		if err != nil {
			t.Fatal(err)
		}
		for i := range s {
			s[i] = E(i + 1)
		}
		v, k, err := loadGuarded(s, load)
		if err != nil {
			t.Fatalf("tail of %d elements ending at a guard page: %v", l, err)
		}
		got := make([]E, n)
		store(v, got)
		want := make([]E, n)
		copy(want, s)
		if k != l || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("tail of %d: loaded %d elements %v, want %d elements %v", l, k, got, l, want)
		}
		if err := free(); err != nil {
			t.Fatal(err)
		}
	}
}

// loadGuarded runs load with memory faults turned into an error.
func loadGuarded[E number, V any](s []E, load func([]E) (V, int)) (v V, k int, err error) {
	debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(false)
	defer func() {
		if r := recover(); r != nil {
			var addr interface{ Addr() uintptr }
			if e, ok := r.(error); ok && errors.As(e, &addr) {
				err = fmt.Errorf("read past the end of the slice: fault at %#x", addr.Addr())
				return
			}
			panic(r)
		}
	}()
	v, k = load(s)
	return v, k, nil
}

func TestCheck(t *testing.T) {
	if err := simdcheck.Check(); err != nil {
		t.Fatal(err)
	}
}

var sink float32

// BenchmarkPartLoad measures one tail load of 3 float32s, the case the patch changes (a copy into a
// zeroed array and a load of it, instead of a full-width load and a mask), beside a full load.
func BenchmarkPartLoad(b *testing.B) {
	s := make([]float32, 64)
	for i := range s {
		s[i] = float32(i)
	}
	if archsimd.X86.AVX512() {
		b.Run("Float32x16Part/3", func(b *testing.B) {
			for i := range b.N {
				v, _ := archsimd.LoadFloat32x16Part(s[i&31 : i&31+3])
				sink += v.GetLo().GetLo().GetElem(0)
			}
		})
		b.Run("Float32x16/full", func(b *testing.B) {
			for i := range b.N {
				v := archsimd.LoadFloat32x16(s[i&31 : i&31+16])
				sink += v.GetLo().GetLo().GetElem(0)
			}
		})
	}
	if archsimd.X86.AVX2() {
		b.Run("Float32x8Part/3", func(b *testing.B) {
			for i := range b.N {
				v, _ := archsimd.LoadFloat32x8Part(s[i&31 : i&31+3])
				sink += v.GetLo().GetElem(0)
			}
		})
	}
}
