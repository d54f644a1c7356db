package guardpage_test

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"testing"
	"unsafe"

	"github.com/einspace-go/einspace/internal/guardpage"
)

// readPast reads the element just past the end of s and reports the fault it caused, if any.
func readPast(s []float32) (fault error) {
	debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(false)
	defer func() {
		if r := recover(); r != nil {
			if err, ok := r.(runtime.Error); ok {
				fault = err
				return
			}
			panic(r)
		}
	}()
	p := (*float32)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(s)), 4*len(s)))
	_ = *(*float32)(noescape(p))
	return nil
}

//go:noinline
func noescape(p *float32) *float32 { return p }

func TestSliceEndsAtGuardPage(t *testing.T) {
	if !guardpage.Supported {
		t.Skip("guard pages are not supported on " + runtime.GOOS)
	}
	for _, n := range []int{1, 3, 1024, 1025, 100_003} {
		s, free, err := guardpage.Slice[float32](n)
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != n {
			t.Fatalf("len = %d, want %d", len(s), n)
		}
		for i := range s { // every element is readable, writable and zero
			if s[i] != 0 {
				t.Fatalf("s[%d] = %v, want 0", i, s[i])
			}
			s[i] = float32(i)
		}
		err = readPast(s)
		var addr interface{ Addr() uintptr }
		if !errors.As(err, &addr) {
			t.Fatalf("n=%d: reading past the end did not fault (err %v)", n, err)
		}
		if want := uintptr(unsafe.Pointer(unsafe.SliceData(s))) + uintptr(4*n); addr.Addr() != want {
			t.Errorf("n=%d: fault at %#x, want the first byte past the slice %#x", n, addr.Addr(), want)
		}
		if err := free(); err != nil {
			t.Fatal(err)
		}
	}
}

func ExampleSlice() {
	s, free, err := guardpage.Slice[float32](3)
	if err != nil {
		panic(err)
	}
	defer free()
	s[2] = 1 // the last element is usable; s[:4] would fault
	fmt.Println(len(s), s)
	// Output: 3 [0 0 1]
}
