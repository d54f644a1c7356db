package models

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/core/tensors"
)

// TestTransposesMoveEveryNumber checks the backend's transposes, and their gradients, against a
// transpose computed here one number at a time, for every permutation of ranks 2 to 4 on shapes with
// and without axes of size 1: the shapes the models build (MLP-Mixer's token mixing, the convolution
// weights' (O, k, k, I) -> (O, I, k, k)) and the ones the backend's fast paths collapse them to
// (docs/BACKEND-PATCHES.md), above and below the size at which they share the work among goroutines. A
// transpose only moves numbers, so the comparison is exact.
func TestTransposesMoveEveryNumber(t *testing.T) {
	be, err := Backend()
	if err != nil {
		t.Fatal(err)
	}
	shapes := [][]int{{3, 5}, {4, 49, 64}, {4, 64, 49}, {8, 49, 64}, {64, 8, 49}, {3, 1, 7}, {6, 8, 5}, {2, 3, 4, 5}, {8, 3, 3, 8}, {1, 6, 1, 9}, {16, 1, 1, 4},
		// Large enough to be shared among workers: matrices of few rows ({16, 20000}, and {4, 3, 30000} with its
		// axes merged), and, for the permutations that keep the last axis, rows of 1024 numbers whose shares
		// begin at indices with no zero digit ({7, 5, 9, ·}: 315 rows, cut at 158 = (3, 2, 5)).
		{16, 20000}, {4, 3, 30000}, {7, 5, 9, 1024}}
	r := rand.New(rand.NewPCG(7, 11))
	for _, dims := range shapes {
		for _, perm := range permutations(len(dims)) {
			t.Run(fmt.Sprint(dims, perm), func(t *testing.T) {
				n := 1
				for _, d := range dims {
					n *= d
				}
				x, up := make([]float32, n), make([]float32, n)
				for i := range x {
					x[i], up[i] = r.Float32(), r.Float32()
				}
				outDims := make([]int, len(dims))
				for i, p := range perm {
					outDims[i] = dims[p]
				}
				e, err := NewExec(be, func(x, upstream *Node) (*Node, *Node) {
					y := TransposeAllAxes(x, perm...)
					return y, Gradient(ReduceAllSum(Mul(y, upstream)), x)[0]
				})
				if err != nil {
					t.Fatal(err)
				}
				out, err := e.Exec(tensors.FromFlatDataAndDimensions(x, dims...), tensors.FromFlatDataAndDimensions(up, outDims...))
				if err != nil {
					t.Fatal(err)
				}
				y, grad := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])
				want, wantGrad := transposeByHand(x, dims, perm), make([]float32, n)
				// The gradient of y = transpose(x) against sum(y·up) puts up[j] back where y[j] came from.
				inverse := make([]int, len(perm))
				for i, p := range perm {
					inverse[p] = i
				}
				copy(wantGrad, transposeByHand(up, outDims, inverse))
				if !slices.Equal(y, want) {
					t.Fatalf("transpose differs from the one computed by hand")
				}
				if !slices.Equal(grad, wantGrad) {
					t.Fatalf("gradient differs from the one computed by hand")
				}
			})
		}
	}
}

// transposeByHand is x of dimensions dims transposed by perm: out[i0, i1, ...] = x[index with axis p
// of x at out's axis i where perm[i] = p].
func transposeByHand(x []float32, dims, perm []int) []float32 {
	rank := len(dims)
	strides := make([]int, rank)
	for s, i := 1, rank-1; i >= 0; i-- {
		strides[i], s = s, s*dims[i]
	}
	out := make([]float32, len(x))
	idx := make([]int, rank) // index into out, axis by axis
	for o := range out {
		src := 0
		for i, p := range perm {
			src += idx[i] * strides[p]
		}
		out[o] = x[src]
		for i := rank - 1; i >= 0; i-- {
			if idx[i]++; idx[i] < dims[perm[i]] {
				break
			}
			idx[i] = 0
		}
	}
	return out
}

// permutations lists every permutation of 0..n-1.
func permutations(n int) [][]int {
	if n == 1 {
		return [][]int{{0}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for at := 0; at <= len(p); at++ {
			q := append(append(append([]int{}, p[:at]...), n-1), p[at:]...)
			out = append(out, q)
		}
	}
	return out
}
