package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/core/tensors"
	"k8s.io/klog/v2"
)

// TestStreamedProductsAreExact checks the patched backend's streamed products (docs/BACKEND-PATCHES.md,
// "streamed-products"): a product of a left-hand side of at most 64 rows and 64 columns, with at most 9
// non-zero coefficients per row on average, and a right-hand side of at least 4,096 columns, large enough
// for the packed kernel (2²² multiply-adds; Winograd's transforms), is computed by the AVX-512 kernel as sums
// of the right-hand side's rows scaled by the non-zero coefficients, not by packing it. Its result must
// equal bit for bit the packed kernel's, which sums the same products in the same order from +0, skipped
// zeros adding exactly nothing to a finite sum: the packed result is the same product with the left-hand
// side padded with rows of zeros to 65 (too many rows to be streamed), its first rows taken. The
// right-hand sides hold zeros of both signs, so a sum's sign of zero is checked too. Both are also
// checked against a float64 product. The left-hand sides are Winograd's transforms (mostly zeros), random
// sparse and dense ones at the limits, and one with a row of zeros; the column counts leave pieces that
// are not whole vectors. The backend's log must say the product was streamed, on a CPU with AVX-512, and not for a dense
// left-hand side, too few columns or too few multiply-adds.
func TestStreamedProductsAreExact(t *testing.T) {
	be, err := Backend()
	if err != nil {
		t.Fatal(err)
	}
	log := captureBackendLog(t)
	avx512 := avx512Active(t)
	r := rand.New(rand.NewPCG(23, 29))
	dense := func(m, k int) [][]float64 {
		out := make([][]float64, m)
		for i := range out {
			for range k {
				out[i] = append(out[i], r.Float64()*2-1)
			}
		}
		return out
	}
	sparse := func(m, k, perRow int) [][]float64 {
		out := make([][]float64, m)
		for i := range out {
			out[i] = make([]float64, k)
			for _, j := range r.Perm(k)[:perRow] {
				out[i][j] = r.Float64()*2 - 1
			}
		}
		return out
	}
	withZeroRow := dense(8, 9)
	clear(withZeroRow[3])
	for _, c := range []struct {
		name     string
		lhs      [][]float64
		n        int
		streamed bool // as backendStreams says
	}{
		{"Winograd B₂ [16, 16]", kron(winogradBt, winogradBt), 16384 + 37, true},
		{"Winograd A₂ [4, 16]", kron(winogradAt, winogradAt), 65536 + 5, true},
		{"Winograd G₂ᵀ [9, 16]", transposed(kron(winogradG, winogradG)), 30000 + 3, true},
		{"sparse [64, 64]", sparse(64, 64, 9), 4099, true},
		{"dense [1, 3]", dense(1, 3), 1400000 + 1, true},
		{"a row of zeros [8, 9]", withZeroRow, 60000 + 9, true},
		{"dense [16, 16]: packed", dense(16, 16), 16384, false},
		{"too few columns: packed", sparse(16, 16, 4), 4095, false},
		{"too few multiply-adds: the small-matrix kernel", kron(winogradBt, winogradBt), 8192, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, k, n := len(c.lhs), len(c.lhs[0]), c.n
			lhs := flatten32(c.lhs)
			if got := backendStreams(lhs, m, k, n); got != c.streamed {
				t.Fatalf("backendStreams = %v, want %v", got, c.streamed)
			}
			padded := append(append([]float32(nil), lhs...), make([]float32, (65-m)*k)...) // 65 rows: packed
			rhs := randomFloats(r, k*n)
			for i := 0; i < len(rhs); i += 7 { // zeros of both signs: -0 times a positive coefficient is -0
				rhs[i] = float32(math.Copysign(0, float64(rhs[i])))
			}
			log.Reset()
			e, err := NewExec(be, func(lhs, padded, rhs *Node) (streamed, packed *Node) {
				streamed = DotGeneral(lhs, []int{1}, nil, rhs, []int{0}, nil)
				packed = Slice(DotGeneral(padded, []int{1}, nil, rhs, []int{0}, nil), AxisRange(0, m))
				return
			})
			if err != nil {
				t.Fatal(err)
			}
			out, err := e.Exec(tensors.FromFlatDataAndDimensions(lhs, m, k),
				tensors.FromFlatDataAndDimensions(padded, len(padded)/k, k), tensors.FromFlatDataAndDimensions(rhs, k, n))
			if err != nil {
				t.Fatal(err)
			}
			klog.Flush()
			want := fmt.Sprintf("product [%d, %d] × [%d, %d] streamed", m, k, k, n)
			if got := strings.Contains(log.String(), want); got != (avx512 && c.streamed) {
				t.Fatalf("the log says %q: %v, want %v", want, got, avx512 && c.streamed)
			}
			// The packed kernel sums in the same order only for the same kernel: a product left to it may go,
			// padded or not, to its small-matrix variant (or, without AVX-512, to another kernel), which sums
			// differently.
			streamed, packed := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])
			if avx512 && c.streamed {
				compareExactly(t, streamed, packed)
			}
			for i := range m {
				for j := range n {
					want := 0.0
					for kk := range k {
						want += float64(lhs[i*k+kk]) * float64(rhs[kk*n+j])
					}
					if got := float64(streamed[i*n+j]); math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
						t.Fatalf("product [%d, %d] = %g, want %g", i, j, got, want)
					}
				}
			}
		})
	}
}

// smallProductMultiplyAdds is the backend's SmallMatMulSizeThreshold: a product of fewer multiply-adds goes
// to its small-matrix kernel.
const smallProductMultiplyAdds = 4 << 20

// backendStreams is the streamed-products patch's rule: whether the AVX-512 kernel streams the product of
// the left-hand side lhs [m, k] with a right-hand side of n columns.
func backendStreams(lhs []float32, m, k, n int) bool {
	nonZeros := 0
	for _, v := range lhs {
		if v != 0 {
			nonZeros++
		}
	}
	return m <= 64 && k <= 64 && n >= 4096 && m*k*n >= smallProductMultiplyAdds && nonZeros <= 9*m
}

// flatten32 is the matrix a, row after row, in float32.
func flatten32(a [][]float64) []float32 {
	out := make([]float32, 0, len(a)*len(a[0]))
	for _, row := range a {
		for _, v := range row {
			out = append(out, float32(v))
		}
	}
	return out
}
