package models

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
)

// A 3×3 convolution with stride 1 and padding 1 (the convolution of ResNet-18's and WRN-16-4's blocks) with
// enough channels (useWinograd) is computed by Winograd's minimal filtering F(2×2, 3×3) (Lavin and Gray,
// "Fast Algorithms for Convolutional Neural Networks", 2016): the output is cut into 2×2 tiles, each computed from the 4×4 tile of input
// around it as
//
//	Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// which takes 16 multiplications per input channel and output channel where the direct product takes 36.
// In the channel-major layout every step is a matrix product:
//
//	input tiles   D [16, C·N]    the patch matrix of a 4×4 kernel with stride 2 (N = tiles × batch)
//	input         V [16, C, N]   = B₂ · D          B₂ = Bᵀ⊗Bᵀ [16,16]
//	weights       U [16, out, C] = G₂ · W           G₂ = G⊗G   [16,9]
//	product       M [16, out, N] = U · V            16 independent products, 2.25× fewer multiply-adds
//	output        Y [4, out·N]   = A₂ · M           A₂ = Aᵀ⊗Aᵀ [4,16], then each 2×2 tile put in place
//
// Its gradients are built the same way: the input gradient is this convolution of dy with the flipped
// kernel (for stride 1 and padding 1 the transposed convolution is again one with padding 1), and the
// weight gradient is the adjoint of the forward product, dU = A₂ᵀ·dY tiles · Vᵀ, folded back by G₂ᵀ.
// The transforms' coefficients are 0, ±1 and ±½, so the results differ from the direct product's only
// by rounding (TestConv compares both with a float64 convolution).

// winogradMinChannels is the fewest input and output channels for which a 3×3 convolution takes the
// Winograd path. Its transforms write full-size tensors (the transformed input, the 16 products, the output
// tiles) whose cost per number is fixed, while the multiplications saved grow with the channels; measured
// on one core (docs/BENCHMARKS.md, session 9), three stacked convolutions of 32 or 64 channels at 28×28
// trained 20-30% slower by Winograd, of 128 channels at 28×28 or 256 at 7×7 25-30% faster.
var winogradMinChannels = 128

// useWinograd reports whether convCHWB computes geo by Winograd's F(2×2, 3×3). A map one number high or
// wide is left to the direct product: half of each tile would be padding, so the products would save little
// (16 multiplications for two outputs against the direct product's 18) and the transforms cost more.
func useWinograd(geo convGeometry) bool {
	return geo.k == 3 && geo.s == 1 && geo.p == 1 && geo.h >= 2 && geo.w >= 2 &&
		geo.c >= winogradMinChannels && geo.out >= winogradMinChannels
}

// The one-dimensional F(2, 3) transforms.
var (
	winogradG  = [][]float64{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}   // 4×3
	winogradBt = [][]float64{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}} // 4×4
	winogradAt = [][]float64{{1, 1, 1, 0}, {0, 1, -1, -1}}                              // 2×4
)

// kron is the Kronecker product a⊗b: entry (i·rows(b)+k, j·cols(b)+l) is a[i][j]·b[k][l], the 2-D
// transform of a tile flattened row by row.
func kron(a, b [][]float64) [][]float64 {
	out := make([][]float64, len(a)*len(b))
	for i := range a {
		for k := range b {
			row := make([]float64, 0, len(a[0])*len(b[0]))
			for j := range a[i] {
				for l := range b[k] {
					row = append(row, a[i][j]*b[k][l])
				}
			}
			out[i*len(b)+k] = row
		}
	}
	return out
}

// matrixConst is m as a constant of dtype.
func matrixConst(g *Graph, dtype dtypes.DType, m [][]float64) *Node {
	flat := make([]float64, 0, len(m)*len(m[0]))
	for _, row := range m {
		flat = append(flat, row...)
	}
	return ConvertDType(Reshape(Const(g, flat), len(m), len(m[0])), dtype)
}

// winogradTiles is the geometry of x (C,H,W,B) cut into 4×4 input tiles with a stride of 2: the patch
// source of a 4×4 kernel with stride 2 on x padded to even sizes (its c and b are x's).
type winogradTiles struct {
	patchSource
	h, w   int // x's height and width
	th, tw int // tiles down and across: the output, padded to even sizes, is (2·th, 2·tw)
}

func newWinogradTiles(x *Node) winogradTiles {
	d := x.Shape().Dimensions
	t := winogradTiles{h: d[1], w: d[2], th: (d[1] + 1) / 2, tw: (d[2] + 1) / 2}
	// An odd height or width gets one more zero row or column, which only the output's padding reads.
	t.patchSource = newPatchSource(padHW(x, 0, 2*t.th-t.h, 0, 2*t.tw-t.w), 4, 2, 1)
	t.kernelMajor = true
	return t
}

// transformed returns product(h0, h1, v) for each band of tile rows [h0, h1), where v = B₂·D is the band's
// transformed input [16, C, rows·tw·B]; the bands are built after dep, if not nil, as eachBand builds them.
func (t winogradTiles) transformed(dep *Node, product func(h0, h1 int, v *Node) *Node) []*Node {
	b2 := matrixConst(t.g, t.x.DType(), kron(winogradBt, winogradBt))
	return t.eachBand(dep, func(h0, h1 int, tiles *Node) *Node {
		v := DotGeneral(b2, []int{1}, nil, Reshape(tiles, 16, -1), []int{0}, nil) // [16, C·n]
		return product(h0, h1, Reshape(v, 16, t.c, (h1-h0)*t.tw*t.b))
	})
}

// winogradForward is the convolution of x (C,H,W,B) with the 3×3 kernel w [C·9, out] (row c·9+i·3+j),
// stride 1 and padding 1, without bias: (out,H,W,B).
func winogradForward(x, w *Node) *Node {
	// U [16, out, C] = G₂ · W.
	return winogradProduct(x, kernelTransform(w, kron(winogradG, winogradG), true))
}

// kernelTransform is g (16×9) applied to the taps of the 3×3 kernel w [C·9, out] viewed as [C, 9, out]:
// [16, out, C] if outMajor, else [16, C, out]. The taps are moved to the front first, w being the smallest
// tensor involved: the product then contracts the first axis of a plain [9, C·out] matrix, which the
// backend multiplies as it is (streamed when large, docs/BACKEND-PATCHES.md), and its result needs no
// transpose either.
func kernelTransform(w *Node, g [][]float64, outMajor bool) *Node {
	c, out := w.Shape().Dim(0)/9, w.Shape().Dim(1)
	perm, dims := []int{1, 0, 2}, []int{16, c, out} // taps [9, C, out]
	if outMajor {
		perm, dims = []int{1, 2, 0}, []int{16, out, c} // taps [9, out, C]
	}
	taps := TransposeAllAxes(Reshape(w, c, 9, out), perm...)
	u := DotGeneral(matrixConst(w.Graph(), w.DType(), g), []int{1}, nil, Reshape(taps, 9, c*out), []int{0}, nil)
	return Reshape(u, dims...)
}

// winogradProduct is winogradForward from the transformed kernel u [16, out, C] = G₂ · W.
func winogradProduct(x, u *Node) *Node {
	t := newWinogradTiles(x)
	out := u.Shape().Dim(1)
	a2 := matrixConst(x.Graph(), x.DType(), kron(winogradAt, winogradAt))
	parts := t.transformed(nil, func(h0, h1 int, v *Node) *Node {
		rows := h1 - h0
		m := DotGeneral(u, []int{2}, []int{0}, v, []int{1}, []int{0})         // [16, out, n]
		y := DotGeneral(a2, []int{1}, nil, Reshape(m, 16, -1), []int{0}, nil) // [4, out·n]
		// (a, b, out, tile row, tile column, B) → (out, tile row, a, tile column, b, B).
		y = TransposeAllAxes(Reshape(y, 2, 2, out, rows, t.tw, t.b), 2, 3, 0, 4, 1, 5)
		return Reshape(y, out, 2*rows, 2*t.tw, t.b)
	})
	y := concat(parts, 1)
	return sliceAxis(sliceAxis(y, 1, 0, t.h), 2, 0, t.w)
}

// winogradInputGradient is dX for winogradForward: the same convolution of dy (out,H,W,B) with the kernel
// flipped and its channels swapped, W' [out·9, C] with row o·9+t = W[c·9+8-t, o] (tap t = i·3+j, and
// 8-t = (2-i)·3+(2-j)). W' is never built: its transform U' [16, C, out] = G₂ · W' per (c, o) pair is
// G₂ with its 9 columns in reverse order applied to the taps of W [C, 9, out], and comes out in the layout
// winogradProduct takes (whose "out" is C here), so the kernel needs no reversal and no swap of channels.
func winogradInputGradient(w, dy *Node) *Node {
	return winogradProduct(dy, kernelTransform(w, reversedColumns(kron(winogradG, winogradG)), false))
}

// transposed is the transpose of the matrix m.
func transposed(m [][]float64) [][]float64 {
	out := make([][]float64, len(m[0]))
	for j := range out {
		for i := range m {
			out[j] = append(out[j], m[i][j])
		}
	}
	return out
}

// reversedColumns is m with the order of its columns reversed.
func reversedColumns(m [][]float64) [][]float64 {
	out := make([][]float64, len(m))
	for i, row := range m {
		out[i] = make([]float64, len(row))
		for j, v := range row {
			out[i][len(row)-1-j] = v
		}
	}
	return out
}

// winogradWeightGradient is dW [C·9, out] for winogradForward of x: per band of tiles,
// dU [16, C, out] += V · (A₂ᵀ · dY tiles)ᵀ, and dW = G₂ᵀ · dU.
func winogradWeightGradient(x, dy *Node) *Node {
	t := newWinogradTiles(x)
	out := dy.Shape().Dim(0)
	dyEven := padHW(dy, 0, 2*t.th-t.h, 0, 2*t.tw-t.w)
	// A₂ᵀ and G₂ᵀ are built transposed: a product that contracts its left-hand side's first axis is turned
	// by the backend into one of the transposed layout, which transposes the long right-hand side too.
	a2t := matrixConst(x.Graph(), x.DType(), transposed(kron(winogradAt, winogradAt))) // [16, 4]
	// The tiles wait for dy: built as soon as x exists, they would all be held through the forward pass.
	parts := t.transformed(dy, func(h0, h1 int, v *Node) *Node {
		rows := h1 - h0
		band := Reshape(sliceAxis(dyEven, 1, 2*h0, 2*h1), out, rows, 2, t.tw, 2, t.b)
		dy4 := Reshape(TransposeAllAxes(band, 2, 4, 0, 1, 3, 5), 4, -1)  // [4, out·n]
		dm := DotGeneral(a2t, []int{1}, nil, dy4, []int{0}, nil)         // [16, out·n]
		dm = Reshape(dm, 16, out, rows*t.tw*t.b)                         // [16, out, n]
		return DotGeneral(v, []int{2}, []int{0}, dm, []int{2}, []int{0}) // [16, C, out]
	})
	du := sumInOrder(parts)
	g2t := matrixConst(x.Graph(), x.DType(), transposed(kron(winogradG, winogradG))) // [9, 16]
	dw := DotGeneral(g2t, []int{1}, nil, Reshape(du, 16, -1), []int{0}, nil)         // [9, C·out]
	return Reshape(TransposeAllAxes(Reshape(dw, 9, t.c, out), 1, 0, 2), t.c*9, out)
}
