package models

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/core/tensors"
	"k8s.io/klog/v2"
)

// TestProductsOfGatheredPatchesAreExact checks the patched backend's products of gathered patches
// (docs/BACKEND-PATCHES.md, "products-of-gathers"): a product whose right-hand side is a patch band, a
// gather of contiguous runs reshaped to a matrix as conv.go builds it, packs its panels straight from the
// gather's operand. The same product with a scheduling barrier between the gather and the reshape is
// computed the ordinary way, and the two must be equal number for number (the panels hold the same
// numbers, so the arithmetic is the same); both are also checked against a float64 product of the
// matrix gathered by hand. The backend's log must say that the first product, and only it, was rewritten
// (none when the runs are too short),
// and that the AVX-512 kernel, where it runs, packed it from the operand.
// The cases cover a product small enough for the backend's small-matrix kernel (which gets the matrix
// written out), runs that are not a multiple of the kernel's 32 columns (strips that cross runs, a last
// strip cut short), start indices out of range (clamped), several contracting and column panels, a patch
// band of WRN-16-4's first stage at batch 64, a strided convolution's band (each slice W' runs of B
// numbers), Winograd's tiles (reshaped twice, to [C·16, n] and then [16, C·n], and transformed by B₂, which
// the AVX-512 kernel streams from the operand), runs of 1,036 numbers streamed from the operand in pieces that
// start inside a run and end in partial vectors, and runs of 8 numbers,
// too short to be read in place, which the backend must leave to the gather. The test runs once more in a
// child process with the backend's AVX-512 code turned off (GOMLX_GO_SIMD_AVX512=false), where the AVX2
// kernel packs from the gather's operand too, but nothing is streamed (on a CPU without AVX-512 the child
// repeats the parent).
func TestProductsOfGatheredPatchesAreExact(t *testing.T) {
	if os.Getenv(noAVX512) == "" {
		t.Run("without AVX-512", func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestProductsOfGatheredPatchesAreExact$", "-test.count=1")
			cmd.Env = append(os.Environ(), noAVX512+"=false")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
	be, err := Backend()
	if err != nil {
		t.Fatal(err)
	}
	log := captureBackendLog(t)
	avx512 := avx512Active(t)
	kernel := "avx2" // the vector kernel that packs gathered operands here
	if avx512 {
		kernel = "avx512"
	}
	cases := []struct {
		rows, wq, s, b, wo int // the operand [rows, wq, s, b]; a slice is [1, wo, 1, b]
		k, segments, m     int // the gather's output [k, segments, slice], multiplied by [m, k/group] as
		group              int // a matrix [k/group, group·segments·wo·b]
	}{
		{rows: 20, wq: 9, s: 1, b: 5, wo: 7, k: 27, segments: 3, m: 4, group: 1},       // small: the matrix is written first
		{rows: 120, wq: 20, s: 1, b: 5, wo: 17, k: 75, segments: 8, m: 96, group: 1},   // runs of 85: strips cross runs
		{rows: 640, wq: 14, s: 1, b: 32, wo: 12, k: 288, segments: 4, m: 64, group: 1}, // 2 contracting panels, 3 column panels
		{rows: 480, wq: 30, s: 1, b: 64, wo: 28, k: 144, segments: 4, m: 64, group: 1}, // a band of 4 output rows, batch 64
		{rows: 300, wq: 15, s: 2, b: 64, wo: 14, k: 144, segments: 3, m: 64, group: 1}, // stride 2: runs of b, 14 per slice
		{rows: 256, wq: 8, s: 2, b: 96, wo: 7, k: 256, segments: 2, m: 16, group: 16},  // Winograd's tiles: [16, C·n], two reshapes
		{rows: 64, wq: 30, s: 1, b: 37, wo: 28, k: 16, segments: 16, m: 16, group: 1},  // runs of 1,036 streamed in pieces, partial vectors
		{rows: 100, wq: 10, s: 2, b: 8, wo: 9, k: 64, segments: 4, m: 32, group: 1},    // runs of 8: too short, left as it is
	}
	r := rand.New(rand.NewPCG(11, 13))
	for _, c := range cases {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			xDims := []int{c.rows, c.wq, c.s, c.b}
			x := make([]float32, c.rows*c.wq*c.s*c.b)
			for i := range x {
				x[i] = r.Float32()*2 - 1
			}
			kr := c.k / c.group // the matrix's rows
			w := make([]float32, c.m*kr)
			for i := range w {
				w[i] = r.Float32()*2 - 1
			}
			if c.m == 16 && kr == 16 { // transformed by Winograd's B₂ = Bᵀ⊗Bᵀ, mostly zeros
				w = flatten32(kron(winogradBt, winogradBt))
			}
			starts := make([]int32, c.k*c.segments*3)
			for i := 0; i < len(starts); i += 3 {
				starts[i] = int32(r.IntN(c.rows+4)) - 2        // some out of range: clamped
				starts[i+1] = int32(r.IntN(c.wq-c.wo+1+2)) - 1 // likewise
				starts[i+2] = int32(r.IntN(c.s))
			}
			n := c.group * c.segments * c.wo * c.b
			rewritten := c.s == 1 || c.b >= 32 // runs of at least 32 numbers
			log.Reset()
			e, err := NewExec(be, func(x, starts, w *Node) (fused, plain *Node) {
				g := GatherSlices(x, []int{0, 1, 2}, Reshape(starts, c.k, c.segments, 3), []int{1, c.wo, 1}, false)
				matrix := func(g *Node) *Node {
					if c.group > 1 { // as winograd.go builds it: the patch matrix, then the tiles' matrix
						return Reshape(Reshape(g, c.k, c.segments*c.wo*c.b), kr, n)
					}
					return Reshape(g, kr, n)
				}
				fused = DotGeneral(w, []int{1}, nil, matrix(g), []int{0}, nil)
				plain = DotGeneral(w, []int{1}, nil, matrix(SchedulingBarrier(g, w)), []int{0}, nil)
				return
			})
			if err != nil {
				t.Fatal(err)
			}
			out, err := e.Exec(tensors.FromFlatDataAndDimensions(x, xDims...),
				tensors.FromFlatDataAndDimensions(starts, len(starts)), tensors.FromFlatDataAndDimensions(w, c.m, kr))
			if err != nil {
				t.Fatal(err)
			}
			klog.Flush()
			want := 0
			if rewritten {
				want = 1 // the one without the barrier
			}
			if got := strings.Count(log.String(), "GatheredOperandProducts: DotGeneral"); got != want {
				t.Fatalf("the backend rewrote %d products, want %d", got, want)
			}
			streamed := avx512 && backendStreams(w, c.m, kr, n)
			packed := strings.Contains(log.String(), "packed from a gather's operand")
			if packed && !strings.Contains(log.String(), kernel+": right-hand side") {
				t.Fatalf("a kernel other than %s packed from the gather's operand:\n%s", kernel, log.String())
			}
			if wantPacked := rewritten && cpuHasAVX2(t) && !streamed && c.m*kr*n >= smallProductMultiplyAdds; packed != wantPacked {
				t.Fatalf("the %s kernel packed from the gather's operand: %v, want %v", kernel, packed, wantPacked)
			}
			readInPlace := strings.Contains(log.String(), "streamed from a gather's operand")
			if wantStreamed := rewritten && avx512 && streamed; readInPlace != wantStreamed {
				t.Fatalf("the AVX-512 kernel streamed the gather's operand: %v, want %v", readInPlace, wantStreamed)
			}
			fused, plain := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])
			if !slices.Equal(fused, plain) {
				t.Fatal("the product read from the gather's operand differs from the ordinary one")
			}
			patches := gatherByHand(x, xDims, []int{0, 1, 2}, []int{1, c.wo, 1}, starts) // [kr, n] in order
			for i := range c.m {
				for j := range n {
					want := 0.0
					for kk := range kr {
						want += float64(w[i*kr+kk]) * float64(patches[kk*n+j])
					}
					if got := float64(fused[i*n+j]); math.Abs(got-want) > 1e-4*(1+math.Abs(want)) {
						t.Fatalf("product [%d, %d] = %g, want %g", i, j, got, want)
					}
				}
			}
		})
	}
}

// captureBackendLog turns on the backend's verbose log (klog -v=1) into a buffer for the rest of the test.
func captureBackendLog(t *testing.T) *bytes.Buffer {
	var buf bytes.Buffer
	flags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(flags)
	for name, value := range map[string]string{"v": "1", "logtostderr": "false", "alsologtostderr": "false"} {
		if err := flags.Set(name, value); err != nil {
			t.Fatal(err)
		}
	}
	klog.SetOutput(&buf)
	t.Cleanup(func() {
		klog.Flush()
		_ = flags.Set("v", "0")
		_ = flags.Set("logtostderr", "true")
	})
	return &buf
}

// noAVX512 is the environment variable that, set to false, turns the backend's AVX-512 code off.
const noAVX512 = "GOMLX_GO_SIMD_AVX512"

// avx512Active reports whether the backend's AVX-512 kernels run here: the CPU has them and noAVX512 does
// not turn them off.
func avx512Active(t *testing.T) bool { return os.Getenv(noAVX512) == "" && cpuHasAVX512(t) }

// cpuHasAVX2 reports whether the CPU has AVX2 (and FMA, which the backend's AVX2 kernels need too).
func cpuHasAVX2(t *testing.T) bool { return cpuHas(t, "avx2", "fma") }

// cpuHasAVX512 reports whether the CPU has AVX-512 (avx512f).
func cpuHasAVX512(t *testing.T) bool { return cpuHas(t, "avx512f") }

// cpuHas reports whether /proc/cpuinfo lists every one of flags, and skips the test where it cannot tell.
func cpuHas(t *testing.T, flags ...string) bool {
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skipf("cannot tell whether the CPU has %v: %v", flags, err)
	}
	for _, f := range flags {
		if !bytes.Contains(info, []byte(" "+f)) {
			return false
		}
	}
	return true
}
