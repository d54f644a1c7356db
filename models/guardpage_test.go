package models_test

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/einspace-go/einspace/internal/guardpage"
	"github.com/einspace-go/einspace/models"
)

// guardChildEnv marks the child process of TestBackendOpsOnGuardPage.
const guardChildEnv = "EINSPACE_GUARD_CHILD"

// guardedOps are GoMLX operations of each kind the models use, with what each must compute.
var guardedOps = []struct {
	name string
	op   func(x, y *graph.Node) *graph.Node
	want func(values []float32, i int) float64
}{
	{"add", graph.Add, func(v []float32, i int) float64 { return 2 * float64(v[i]) }}, // elementwise binary
	{"mul", func(x, _ *graph.Node) *graph.Node { return graph.Mul(x, x) }, func(v []float32, i int) float64 { return float64(v[i]) * float64(v[i]) }},
	{"reduce-sum", func(x, _ *graph.Node) *graph.Node { // trailing: [A, B] -> [A]
		return graph.ReduceSum(x, 1)
	}, func(v []float32, i int) float64 {
		b := rowLen(len(v))
		var sum float64
		for _, e := range v[i*b : (i+1)*b] {
			sum += float64(e)
		}
		return sum
	}},
	{"reduce-max", func(_, y *graph.Node) *graph.Node { // leading: [A, B] -> [B]
		return graph.ReduceMax(y, 0)
	}, func(v []float32, i int) float64 {
		b := rowLen(len(v))
		m := v[i]
		for j := i; j < len(v); j += b {
			m = max(m, v[j])
		}
		return float64(m)
	}},
	{"tanh", func(x, _ *graph.Node) *graph.Node { return graph.Tanh(x) }, func(v []float32, i int) float64 { return math.Tanh(float64(v[i])) }},
	{"logistic", func(_, y *graph.Node) *graph.Node { return graph.Logistic(y) }, func(v []float32, i int) float64 { return 1 / (1 + math.Exp(-float64(v[i]))) }},
	{"exp", func(x, _ *graph.Node) *graph.Node { return graph.Exp(x) }, func(v []float32, i int) float64 { return math.Exp(float64(v[i])) }},
}

// guardedLengths are operand lengths whose tails are 1 to 15 elements past a multiple of 16 (the widest
// float32 vector); the longer ones are multiples of 13, so that the reductions see rows of 13.
var guardedLengths = []int{1, 3, 7, 13, 91, 4095, 12285, 65533}

// rowLen is the row length of an operand of n elements: 13 (shorter than a
// vector, so the backend loads each row as a tail) when it divides n, else n.
func rowLen(n int) int {
	if n%13 == 0 {
		return 13
	}
	return n
}

// TestBackendOpsOnGuardPage runs GoMLX operations of each kind the models use (elementwise binary ops,
// reductions, activations) on operands whose last element ends at a guard page, so that any read past
// the end of a buffer kills the process instead of landing by luck in mapped memory. Each operation runs
// in a child process: a fault there is reported here as a failure with the child's crash, rather than
// crashing the test binary. On an unpatched go1.27.3 every one of them dies with SIGSEGV in the backend's
// SIMD tail loads (docs/ARCHSIMD-PART-LOADS.md).
func TestBackendOpsOnGuardPage(t *testing.T) {
	if !guardpage.Supported {
		t.Skip("guard pages are not supported on this operating system")
	}
	if name := os.Getenv(guardChildEnv); name != "" {
		for _, op := range guardedOps {
			if op.name == name {
				backendOpOnGuardPage(t, op.op, op.want)
				return
			}
		}
		t.Fatalf("no operation %q", name)
	}
	for _, op := range guardedOps {
		t.Run(op.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBackendOpsOnGuardPage$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), guardChildEnv+"="+op.name)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s on buffers that end at a guard page: %v\n%s", op.name, err, excerpt(string(out)))
			}
		})
	}
}

// excerpt keeps what the child printed before a crash and the crash's first frames.
func excerpt(out string) string {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "unexpected fault address") || strings.HasPrefix(l, "fatal error") ||
			strings.HasPrefix(l, "panic:") {
			return strings.Join(lines[:min(len(lines), i+24)], "\n")
		}
	}
	return out
}

// guardedTensor returns a float32 tensor of the given dimensions whose backend buffer is memory that
// ends at a guard page. The pure-Go backend allocates its own buffers, so a shared buffer's storage is
// swapped for the guarded slice; the buffer is marked user-fed, so it never returns to the pool.
func guardedTensor(t *testing.T, be compute.Backend, values []float32, dims ...int) *tensors.Tensor {
	t.Helper()
	s, _, err := guardpage.Slice[float32](len(values)) // never freed: the process ends first
	if err != nil {
		t.Fatal(err)
	}
	copy(s, values)
	buf, _, err := be.NewSharedBuffer(0, shapes.Make(dtypes.Float32, dims...))
	if err != nil {
		t.Fatal(err)
	}
	v := reflect.ValueOf(buf).Elem()
	flat, raw := v.FieldByName("Flat"), v.FieldByName("RawBytes")
	if !flat.IsValid() || !raw.IsValid() || !flat.CanSet() || !raw.CanSet() {
		t.Fatalf("the backend's buffer %T has no settable Flat and RawBytes fields: this test needs updating for the new GoMLX", buf)
	}
	flat.Set(reflect.ValueOf(s))
	raw.Set(reflect.ValueOf(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), 4*len(s))))
	x, err := tensors.FromBuffer(buf)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func backendOpOnGuardPage(t *testing.T, op func(x, y *graph.Node) *graph.Node, want func([]float32, int) float64) {
	// The backend itself, not models.Backend: this test must reach the loads even on a toolchain that
	// models.Backend would refuse.
	be, err := compute.NewWithConfig(models.DefaultBackend)
	if err != nil {
		t.Fatal(err)
	}
	exec, err := graph.NewExec(be, op)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range guardedLengths {
		values := make([]float32, n)
		for i := range values {
			values[i] = float32(i%17)/8 - 1
		}
		// operands of shape [A, B], B = rowLen(n): the elementwise operations do not mind
		x := guardedTensor(t, be, values, n/rowLen(n), rowLen(n))
		y := guardedTensor(t, be, values, n/rowLen(n), rowLen(n))
		out, err := exec.Exec1(x, y)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		for i, g := range tensors.MustCopyFlatData[float32](out) {
			if w := want(values, i); math.Abs(float64(g)-w) > 1e-4*max(1, math.Abs(w)) {
				t.Fatalf("n=%d: element %d = %v, want %v", n, i, g, w)
			}
		}
		fmt.Printf("n=%d: read only its operands\n", n)
	}
}
