package models

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/ml/model"
)

// The convolution routing[im2col(k,s,p), computation<linear out>, col2im] is computed in the channel-major
// layout (C,H,W,B), where it is plain matrix products the pure-Go backend runs without transposing
// anything large:
//
//	forward         Y  [out, H'W'B] = Wᵀ [out, Ckk] · P  [Ckk, H'W'B]
//	weight gradient dW [Ckk, out]   = P  [Ckk, H'W'B] · dYᵀ
//	input gradient  dX [C, HWB]     = W' [C, out·kk] · P' [out·kk, HWB]          (stride 1)
//	                dX = col2im(W [Ckk, out] · dY [out, H'W'B])                   (stride > 1)
//
// P is the patch matrix (im2col) of x: row c·k·k+i·k+j holds x[c, h'·s+i-p, w'·s+j-p, b] for every output
// position, which in this layout is a run of W'·B contiguous numbers per (row, h') when s = 1, so one
// backend Gather copies it in large blocks. P' is the same for the output gradient padded by k-1-p (a
// transposed convolution), and W' is W with its kernel flipped; col2im scatter-adds a patch gradient back
// onto the input grid. P is built a band of output rows at a time and never kept: the weight gradient
// builds it again. GoMLX's automatic gradient of the forward graph would keep the patches and transpose
// them, so convCHWB gives x and W hand-written gradients (customGradient). A 3×3 convolution with stride 1
// and padding 1 and enough channels takes Winograd's F(2×2, 3×3) instead (winograd.go), built on the same
// patch bands.

// convGeometry is the shape of one convolution.
type convGeometry struct {
	c, h, w, b int // input channels, height, width, batch
	out        int // output channels
	k, s, p    int // kernel, stride, padding
	ho, wo     int // output height and width
}

func newConvGeometry(x *Node, out, k, s, p int) convGeometry {
	d := x.Shape().Dimensions
	g := convGeometry{c: d[0], h: d[1], w: d[2], b: d[3], out: out, k: k, s: s, p: p}
	g.ho, g.wo = outSize(g.h, k, s, p), outSize(g.w, k, s, p)
	return g
}

// convCHWB is the convolution of routing[im2col(k,s,p), computation<linear out>, col2im] on x (C,H,W,B),
// returning (out,H',W',B). Its variables are the linear layer's (weights [C·k·k, out] with row c·k·k+i·k+j,
// bias [out]), with the same initialisation, so the model and its checkpoints are the same as the literal
// routing module's.
func convCHWB(scope *model.Scope, x *Node, out, k, s, p int) *Node {
	geo := newConvGeometry(x, out, k, s, p)
	w, bias := linearVars(scope, x.Graph(), geo.c*k*k, out)
	var xIn, wIn *Node
	winograd := useWinograd(geo)
	in, capture := customGradient([]*Node{x, w}, func(dy *Node) []*Node {
		if winograd {
			return []*Node{winogradInputGradient(wIn, dy), winogradWeightGradient(xIn, dy)}
		}
		return []*Node{convInputGradient(wIn, dy, geo), convWeightGradient(xIn, dy, geo)}
	})
	xIn, wIn = in[0], in[1]
	var y *Node
	if winograd {
		y = capture(winogradForward(xIn, wIn))
	} else {
		y = capture(convForward(xIn, wIn, geo))
	}
	return Add(y, Reshape(bias, out, 1, 1, 1))
}

// convForward is Wᵀ·P(x) without the bias, shaped (out,H',W',B).
func convForward(x, w *Node, geo convGeometry) *Node {
	wt := Transpose(w, 0, 1) // [out, C·k·k]
	src := newPatchSource(x, geo.k, geo.s, geo.p)
	parts := src.eachBand(nil, func(_, _ int, patches *Node) *Node {
		return DotGeneral(wt, []int{1}, nil, patches, []int{0}, nil)
	})
	return Reshape(concat(parts, 1), geo.out, geo.ho, geo.wo, geo.b)
}

// convWeightGradient is dW = P(x)·dYᵀ, shaped like the weights [C·k·k, out]. The patches are the
// product's left-hand side: the backend packs that side's panels with its vector code, and the right-hand
// side of a product contracted on its last axis with a scalar loop, so the larger operand goes left (and
// the product needs no transpose after).
func convWeightGradient(x, dy *Node, geo convGeometry) *Node {
	src := newPatchSource(x, geo.k, geo.s, geo.p)
	// The patches wait for dy: built as soon as x exists, they would all be held through the forward pass.
	parts := src.eachBand(dy, func(h0, h1 int, patches *Node) *Node {
		dyBand := dyRows(dy, geo, h0, h1)
		return DotGeneral(patches, []int{1}, nil, dyBand, []int{1}, nil) // [C·k·k, out]
	})
	return sumInOrder(parts)
}

// dyRows is the output gradient dy (out,H',W',B) of output rows [h0, h1) as a matrix [out, (h1-h0)·W'·B].
// The rows are cut from dy as it is, then reshaped: a reshape of dy itself would be a copy of all of it
// (dy has other users), made by the backend on one core.
func dyRows(dy *Node, geo convGeometry, h0, h1 int) *Node {
	return Reshape(sliceAxis(dy, 1, h0, h1), geo.out, (h1-h0)*geo.wo*geo.b)
}

// sumInOrder adds the bands' parts of a weight gradient, first to last (the order fixes the rounding).
func sumInOrder(parts []*Node) *Node {
	sum := parts[0]
	for _, part := range parts[1:] {
		sum = Add(sum, part)
	}
	return sum
}

// convInputGradient is dX, shaped (C,H,W,B). For stride 1 it is the transposed convolution of dy: dy padded
// by k-1-p on every side (which, for stride 1, makes its spatial size H+k-1) convolved with the flipped
// kernel; strided convolutions take convInputGradientStrided.
func convInputGradient(w, dy *Node, geo convGeometry) *Node {
	if geo.s > 1 {
		return convInputGradientStrided(w, dy, geo)
	}
	k := geo.k
	pad := k - 1 - geo.p
	d := padHW(dy, pad, pad, pad, pad)
	// W' [C, out·k·k] with column o·k·k+i·k+j = W[c·k·k+(k-1-i)·k+(k-1-j), o].
	wf := Reshape(w, geo.c, k, k, geo.out)
	if k > 1 {
		wf = Reverse(wf, 1, 2)
	}
	wf = Reshape(TransposeAllAxes(wf, 0, 3, 1, 2), geo.c, geo.out*k*k)
	src := newPatchSource(d, k, 1, 0)
	parts := src.eachBand(nil, func(_, _ int, patches *Node) *Node {
		return DotGeneral(wf, []int{1}, nil, patches, []int{0}, nil)
	})
	return Reshape(concat(parts, 1), geo.c, geo.h, geo.w, geo.b)
}

// convInputGradientStrided is dX for a stride s > 1, as col2im of the patch gradient W·dY: the transposed
// convolution of convInputGradient would multiply a dy dilated by s, whose zeros are (s²-1)/s² of it,
// doing s² times the work of the forward product. Band by band, the patch gradient [C·k·k, rows·W'·B] is
// scatter-added into the padded input grid, which is then cut back to x's.
func convInputGradientStrided(w, dy *Node, geo convGeometry) *Node {
	layout := newPatchLayout(dy.Graph(), geo.c, geo.h, geo.w, geo.b, geo.k, geo.s, geo.p)
	acc := Zeros(dy.Graph(), shapes.Make(dy.DType(), layout.viewDims()...))
	for h0, h1 := range layout.bands() {
		dyBand := dyRows(dy, geo, h0, h1)
		dp := DotGeneral(w, []int{1}, nil, dyBand, []int{0}, nil) // [C·k·k, band]
		acc = layout.scatterRows(acc, dp, h0, h1)
	}
	grid := Reshape(acc, geo.c, geo.h+2*geo.p, -1, geo.b) // (C, Hp, Wq·s, B)
	return sliceAxis(sliceAxis(grid, 1, geo.p, geo.p+geo.h), 2, geo.p, geo.p+geo.w)
}

// patchBandBytes bounds the part of a patch matrix built at once. A convolution's patches are k·k times its
// input (462 MB for 64 channels at 28×28 and batch 256), so they are built and multiplied a band of output
// rows at a time: the smaller buffers are reused from the backend's pools instead of being allocated and
// faulted in afresh, and memory holds one band, not the whole matrix.
var patchBandBytes = 16 << 20

// patchSource builds the patch matrix (im2col) of x (C,H,W,B) in the channel-major layout, a band of output
// rows at a time: rows(h0, h1) is [C·k·k, (h1-h0)·W'·B] with row c·k·k+i·k+j (or (i·k+j)·C+c when
// kernelMajor) and column ((h'-h0)·W'+w')·B+b holding x[c, h'·s+i-p, w'·s+j-p, b], zero outside x.
//
// Each band is one Gather from x padded and viewed as [C·Hp, Wq, s, B], where Wq·s ≥ Wp: the slice for
// (c,i,j,h') starts at row c·Hp+h'·s+i, column block j/s and phase j%s, and takes W' column blocks of B
// numbers, which for s = 1 are one contiguous run of W'·B numbers.
type patchSource struct {
	patchLayout
	x, view  *Node // x, and x padded and viewed as [C·Hp, Wq, s, B]
	identity bool  // k = 1, s = 1, p = 0: the patch matrix is x itself
}

// patchLayout is the geometry of a patch matrix: of x (C,H,W,B) padded to Hp = H+2p rows and Wq·s ≥ W+2p
// columns, for a k×k kernel with stride s and H'×W' outputs.
type patchLayout struct {
	g           *Graph
	c, hp, b    int
	wq          int
	k, s        int
	ho, wo      int
	kernelMajor bool // rows ordered (i·k+j)·C+c instead of c·k·k+i·k+j
}

func newPatchLayout(g *Graph, c, h, w, b, k, s, p int) patchLayout {
	return patchLayout{g: g, c: c, hp: h + 2*p, b: b, wq: (w + 2*p + s - 1) / s, k: k, s: s,
		ho: outSize(h, k, s, p), wo: outSize(w, k, s, p)}
}

// viewDims is the shape of the padded view, [C·Hp, Wq, s, B].
func (l patchLayout) viewDims() []int { return []int{l.c * l.hp, l.wq, l.s, l.b} }

func newPatchSource(x *Node, k, s, p int) patchSource {
	d := x.Shape().Dimensions
	c, h, w, b := d[0], d[1], d[2], d[3]
	src := patchSource{patchLayout: newPatchLayout(x.Graph(), c, h, w, b, k, s, p), x: x}
	if k == 1 && s == 1 && p == 0 {
		src.identity = true
		return src
	}
	x = padHW(x, p, p, p, src.wq*s-w-p)
	src.view = Reshape(x, src.viewDims()...)
	return src
}

// bands yields the bands of output rows [h0, h1) that rows builds: as few as keep each within
// patchBandBytes, of equal height but the last.
func (l patchLayout) bands() func(yield func(h0, h1 int) bool) {
	rowBytes := l.c * l.k * l.k * l.wo * l.b * 4
	n := (l.ho*rowBytes + patchBandBytes - 1) / patchBandBytes
	n = min(max(n, 1), l.ho)
	step := (l.ho + n - 1) / n
	return func(yield func(h0, h1 int) bool) {
		for h0 := 0; h0 < l.ho; h0 += step {
			if !yield(h0, min(h0+step, l.ho)) {
				return
			}
		}
	}
}

// eachBand returns product(h0, h1, patches) for each band of output rows, in order. The backend runs
// every operation as soon as its inputs exist, so left alone it would gather every band first and hold
// them all; instead band i's gather waits for band i-2's product, so at most two bands exist at a time
// and one can be copied while the other is multiplied. The first two wait for after, if not nil.
func (src patchSource) eachBand(after *Node, product func(h0, h1 int, patches *Node) *Node) []*Node {
	var parts []*Node
	for h0, h1 := range src.bands() {
		dep := after
		if len(parts) >= 2 {
			dep = parts[len(parts)-2]
		}
		parts = append(parts, product(h0, h1, src.rows(h0, h1, dep)))
	}
	return parts
}

// rows is the patch matrix of output rows [h0, h1), built after dep if dep is not nil.
func (src patchSource) rows(h0, h1 int, dep *Node) *Node {
	m := (h1 - h0) * src.wo * src.b
	if src.identity {
		return Reshape(sliceAxisAfter(src.x, 1, h0, h1, dep), src.c, m)
	}
	g := GatherSlices(src.view, []int{0, 1, 2}, src.starts(h0, h1, dep), []int{1, src.wo, 1}, false)
	return Reshape(g, src.c*src.k*src.k, m) // from (C·k·k,h1-h0,1,W',1,B)
}

// starts are the gather's start indices for output rows [h0, h1), shaped (C·k·k,h1-h0,3): per patch row
// (c,i,j) and output row h' the view's row, column block and phase. They exist only after dep, if dep is not nil.
func (l patchLayout) starts(h0, h1 int, dep *Node) *Node {
	k, s := l.k, l.s
	starts := make([]int32, 0, l.c*k*k*(h1-h0)*3)
	add := func(ci, i, j int) {
		for oh := h0; oh < h1; oh++ {
			starts = append(starts, int32(ci*l.hp+oh*s+i), int32(j/s), int32(j%s))
		}
	}
	for a := range l.c * k * k {
		if l.kernelMajor {
			add(a%l.c, a/l.c/k, a/l.c%k)
		} else {
			add(a/(k*k), a/k%k, a%k)
		}
	}
	return Reshape(after(Const(l.g, starts), dep), l.c*k*k, h1-h0, 3)
}

// scatterRows is the adjoint of rows: it adds the patch-matrix band dp [C·k·k, (h1-h0)·W'·B] of output
// rows [h0, h1) into acc, a tensor shaped like the padded view, where each patch entry came from (col2im).
func (l patchLayout) scatterRows(acc, dp *Node, h0, h1 int) *Node {
	updates := Reshape(dp, l.c*l.k*l.k, h1-h0, 1, l.wo, 1, l.b)
	return BackendScatterSum(acc, l.starts(h0, h1, nil), updates, 2, []int{2, 3, 4, 5}, nil, []int{0, 1, 2}, false, false)
}

// padHW zero-pads the spatial axes of x (C,H,W,B) by top and bottom rows and left and right columns (with
// padValue, a zero the backend pads with quickly).
func padHW(x *Node, top, bottom, left, right int) *Node {
	if top == 0 && bottom == 0 && left == 0 && right == 0 {
		return x
	}
	return Pad(x, padValue(x), compute.PadAxis{}, compute.PadAxis{Start: top, End: bottom},
		compute.PadAxis{Start: left, End: right}, compute.PadAxis{})
}

// sliceAxis is x[..., lo:hi, ...] on one axis, copied in whole blocks by a Gather (the backend's Slice
// copies number by number); the whole axis is x itself.
func sliceAxis(x *Node, axis, lo, hi int) *Node { return sliceAxisAfter(x, axis, lo, hi, nil) }

// sliceAxisAfter is sliceAxis copied after dep, if dep is not nil.
func sliceAxisAfter(x *Node, axis, lo, hi int, dep *Node) *Node {
	if lo == 0 && hi == x.Shape().Dim(axis) {
		return x
	}
	start := after(Const(x.Graph(), []int32{int32(lo)}), dep)
	return GatherSlices(x, []int{axis}, start, []int{hi - lo}, true)
}

// after is x, a small tensor (gather indices), available only once dep has been computed: what depends on
// it then runs after dep. (The barrier copies x if anything else still needs it, hence small.)
func after(x, dep *Node) *Node {
	if dep == nil {
		return x
	}
	return SchedulingBarrier(x, dep)
}

// concat is Concatenate that also takes a single part.
func concat(parts []*Node, axis int) *Node {
	if len(parts) == 1 {
		return parts[0]
	}
	return Concatenate(parts, axis)
}

// toCHWB lays x (B,C,H,W) out as (C,H,W,B): the 2-D transpose of its (B, C·H·W) view.
func toCHWB(x *Node) *Node {
	d := x.Shape().Dimensions
	b, c, h, w := d[0], d[1], d[2], d[3]
	return Reshape(Transpose(Reshape(x, b, c*h*w), 0, 1), c, h, w, b)
}

// fromCHWB is the inverse of toCHWB: x (C,H,W,B) back to (B,C,H,W).
func fromCHWB(x *Node) *Node {
	d := x.Shape().Dimensions
	c, h, w, b := d[0], d[1], d[2], d[3]
	return Reshape(Transpose(Reshape(x, c*h*w, b), 0, 1), b, c, h, w)
}
