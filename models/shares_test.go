package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/core/tensors"
)

// TestSharedRowSumsAreExact checks the patched backend's trailing sums cut into shares of rows for
// several cores (docs/BACKEND-PATCHES.md, "parallel-reductions"): the sums of an [A, B] matrix's rows, large
// enough to be shared, must equal number for number the same rows summed one at a time (a [1, B] sum, never
// shared), since a share runs the same kernel on the same numbers; and, within float32 rounding, float64
// sums. The shapes are batch normalisation's (channels × H·W·B) and ones that leave a vector tail and
// shares of unequal size.
func TestSharedRowSumsAreExact(t *testing.T) {
	be, err := Backend()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(17, 19))
	for _, size := range [][2]int{{64, 12544}, {7, 40001}, {129, 1031}} {
		a, b := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", a, b), func(t *testing.T) {
			x := randomFloats(r, a*b)
			e, err := NewExec(be, func(x *Node) []*Node {
				out := []*Node{ReduceSum(x, 1)}
				for row := range a {
					out = append(out, ReduceSum(Slice(x, AxisElem(row)), 1))
				}
				return out
			})
			if err != nil {
				t.Fatal(err)
			}
			out, err := e.Exec(tensors.FromFlatDataAndDimensions(x, a, b))
			if err != nil {
				t.Fatal(err)
			}
			shared := tensors.MustCopyFlatData[float32](out[0])
			for row := range a {
				alone := tensors.MustCopyFlatData[float32](out[1+row])[0]
				if shared[row] != alone {
					t.Fatalf("row %d: %g summed with the others, %g alone", row, shared[row], alone)
				}
				want := 0.0
				for _, v := range x[row*b : (row+1)*b] {
					want += float64(v)
				}
				if math.Abs(float64(shared[row])-want) > 1e-5*math.Sqrt(float64(b))*(1+math.Abs(want)) {
					t.Fatalf("row %d: sum %g, want %g", row, shared[row], want)
				}
			}
		})
	}
}

// TestProductsWithFewRowsAreExact checks products with fewer rows than the kernel's strips, which the
// patched backend cuts into column shares for several cores (docs/BACKEND-PATCHES.md,
// "parallel-few-rows"; they ran on one): Winograd's output transform, [4, 16] × [16, N], and others with
// several contracting panels. Each must equal, within float32 rounding, a float64 product (a share that
// skipped, repeated or misplaced columns fails this), and number for number the same rows of the product
// with its left-hand side padded with zero rows to 8 (every output number is the same kernel's sum of the
// same products, however the work is cut).
func TestProductsWithFewRowsAreExact(t *testing.T) {
	be, err := Backend()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(23, 29))
	for _, size := range [][3]int{{4, 16, 65536}, {3, 16, 100003}, {1, 40, 120007}, {4, 400, 4099}} {
		m, k, n := size[0], size[1], size[2]
		t.Run(fmt.Sprintf("%dx%dx%d", m, k, n), func(t *testing.T) {
			lhs, rhs := randomFloats(r, m*k), randomFloats(r, k*n)
			e, err := NewExec(be, func(lhs, rhs *Node) (few, padded *Node) {
				few = DotGeneral(lhs, []int{1}, nil, rhs, []int{0}, nil)
				eight := Concatenate([]*Node{lhs, Zeros(lhs.Graph(), shapes.Make(lhs.DType(), 8-m, k))}, 0)
				padded = DotGeneral(eight, []int{1}, nil, rhs, []int{0}, nil)
				return
			})
			if err != nil {
				t.Fatal(err)
			}
			out, err := e.Exec(tensors.FromFlatDataAndDimensions(lhs, m, k), tensors.FromFlatDataAndDimensions(rhs, k, n))
			if err != nil {
				t.Fatal(err)
			}
			few, padded := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])
			if !slices.Equal(few, padded[:m*n]) {
				t.Fatal("the product with few rows differs from the same rows of the product padded to 8 rows")
			}
			for i := range m {
				for j := range n {
					want, scale := 0.0, 0.0 // the product and the sum of its terms' magnitudes
					for kk := range k {
						term := float64(lhs[i*k+kk]) * float64(rhs[kk*n+j])
						want += term
						scale += math.Abs(term)
					}
					if got := float64(few[i*n+j]); math.Abs(got-want) > 1e-5*(1+scale) {
						t.Fatalf("product [%d, %d] = %g, want %g", i, j, got, want)
					}
				}
			}
		})
	}
}

// TestSharedScattersAreExact checks the patched backend's scatter-adds cut into shares of the output for
// several cores (docs/BACKEND-PATCHES.md, "parallel-scatter"; they ran on one): every share reads all the
// indices and adds the updates that land in its part of the output, so each output number must receive
// the same additions in the same order as when the updates are added one after another, and equal that sum
// number for number. The cases are a strided convolution's col2im (patchLayout.scatterRows, whose
// windows are runs of B numbers) and windows of 40 numbers at arbitrary offsets, which the shares' edges cut
// through, with rows that several updates hit.
func TestSharedScattersAreExact(t *testing.T) {
	be, err := Backend()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(31, 37))

	t.Run("col2im", func(t *testing.T) {
		const c, h, w, b, k, s, p = 16, 28, 28, 64, 3, 2, 1
		var l patchLayout
		e, err := NewExec(be, func(dp *Node) *Node {
			l = newPatchLayout(dp.Graph(), c, h, w, b, k, s, p)
			acc := Zeros(dp.Graph(), shapes.Make(dp.DType(), l.viewDims()...))
			return l.scatterRows(acc, dp, 0, l.ho)
		})
		if err != nil {
			t.Fatal(err)
		}
		ho, wo := outSize(h, k, s, p), outSize(w, k, s, p)
		dp := randomFloats(r, c*k*k*ho*wo*b)
		out, err := e.Exec(tensors.FromFlatDataAndDimensions(dp, c*k*k, ho*wo*b))
		if err != nil {
			t.Fatal(err)
		}
		got := tensors.MustCopyFlatData[float32](out[0])
		want := make([]float32, len(got))
		for a := range c * k * k {
			ci, i, j := a/(k*k), a/k%k, a%k
			for oh := range ho {
				for ow := range wo {
					for bb := range b {
						at := (((ci*l.hp+oh*s+i)*l.wq+j/s+ow)*s+j%s)*b + bb
						want[at] += dp[((a*ho+oh)*wo+ow)*b+bb]
					}
				}
			}
		}
		compareExactly(t, got, want)
	})

	t.Run("unaligned windows", func(t *testing.T) {
		const rows, cols, window, n = 4096, 70, 40, 5000
		indices := make([]int32, 0, 2*n)
		for range n {
			indices = append(indices, int32(r.IntN(rows/8)), int32(r.IntN(cols-window+1))) // rows hit ~10 times
		}
		updates := randomFloats(r, n*window)
		e, err := NewExec(be, func(idx, upd *Node) *Node {
			acc := Zeros(idx.Graph(), shapes.Make(upd.DType(), rows, cols))
			return BackendScatterSum(acc, idx, upd, 1, []int{1}, []int{0}, []int{0, 1}, false, false)
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.Exec(tensors.FromFlatDataAndDimensions(indices, n, 2), tensors.FromFlatDataAndDimensions(updates, n, window))
		if err != nil {
			t.Fatal(err)
		}
		got := tensors.MustCopyFlatData[float32](out[0])
		want := make([]float32, rows*cols)
		for u := range n {
			at := int(indices[2*u])*cols + int(indices[2*u+1])
			for v := range window {
				want[at+v] += updates[u*window+v]
			}
		}
		compareExactly(t, got, want)
	})
}

// compareExactly fails unless got and want hold the same float32 numbers bit for bit, signs of zero included.
func compareExactly(t *testing.T, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d numbers, want %d", len(got), len(want))
	}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) { // -0 is not +0
			t.Fatalf("number %d: %g, want %g (added in index order)", i, got[i], want[i])
		}
	}
}
