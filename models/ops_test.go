package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/einspace-go/einspace/grammar"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
)

// The tests in this file check single operations against naive loops over flat row-major arrays.

// tensor4 is a dense row-major array with its dimensions.
type tensor struct {
	dims []int
	data []float32
}

func randTensor(r *rand.Rand, dims ...int) tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	t := tensor{dims: dims, data: make([]float32, n)}
	for i := range t.data {
		t.data[i] = float32(r.NormFloat64())
	}
	return t
}

// at returns the flat index of a multi-index.
func (t tensor) at(idx ...int) int {
	i := 0
	for a, d := range t.dims {
		i = i*d + idx[a]
	}
	return i
}

func (t tensor) gomlx() *tensors.Tensor { return tensors.FromFlatDataAndDimensions(t.data, t.dims...) }

// run executes fn on the inputs with a fresh store (so variables get their initial values) and returns
// every output flattened, with the store.
func run(t *testing.T, store *model.Store, fn func(scope *model.Scope, xs []*Node) []*Node, inputs ...tensor) [][]float32 {
	t.Helper()
	be, err := Backend()
	if err != nil {
		t.Fatal(err)
	}
	if store == nil {
		store = model.NewStore()
	}
	e, err := model.NewExec(be, store, func(scope *model.Scope, xs []*Node) []*Node {
		scope.SetTraining(xs[0].Graph(), true)
		return fn(scope, xs)
	})
	if err != nil {
		t.Fatal(err)
	}
	args := make([]any, len(inputs))
	for i, in := range inputs {
		args[i] = in.gomlx()
	}
	out, err := e.Call(args...)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	flat := make([][]float32, len(out))
	for i, o := range out {
		flat[i] = tensors.MustCopyFlatData[float32](o)
	}
	return flat
}

func assertClose(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > tol*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("%s: value %d is %g, want %g", what, i, got[i], want[i])
		}
	}
}

// naiveIm2col is nn.Unfold(k, s, p)(x).permute(0,2,1) written out.
func naiveIm2col(x tensor, k, s, p int) tensor {
	b, c, h, w := x.dims[0], x.dims[1], x.dims[2], x.dims[3]
	ho, wo := (h+2*p-k)/s+1, (w+2*p-k)/s+1
	out := tensor{dims: []int{b, ho * wo, c * k * k}, data: make([]float32, b*ho*wo*c*k*k)}
	for bi := range b {
		for oh := range ho {
			for ow := range wo {
				for ci := range c {
					for i := range k {
						for j := range k {
							y, xx := oh*s+i-p, ow*s+j-p
							v := float32(0)
							if y >= 0 && y < h && xx >= 0 && xx < w {
								v = x.data[x.at(bi, ci, y, xx)]
							}
							out.data[out.at(bi, oh*wo+ow, ci*k*k+i*k+j)] = v
						}
					}
				}
			}
		}
	}
	return out
}

var kernels = [][3]int{{1, 1, 0}, {1, 2, 0}, {3, 1, 1}, {3, 2, 1}, {4, 4, 0}, {8, 8, 0}, {16, 16, 0}}

func TestIm2col(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, ksp := range kernels {
		k, s, p := ksp[0], ksp[1], ksp[2]
		for _, hw := range [][2]int{{16, 17}, {19, 16}} {
			t.Run(fmt.Sprintf("im2col%dk%ds%dp_%dx%d", k, s, p, hw[0], hw[1]), func(t *testing.T) {
				x := randTensor(r, 2, 3, hw[0], hw[1])
				got := run(t, nil, func(_ *model.Scope, xs []*Node) []*Node { return []*Node{im2col(xs[0], k, s, p)} }, x)
				assertClose(t, "im2col", got[0], naiveIm2col(x, k, s, p).data, 0)
			})
		}
	}
}

func TestCol2im(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	b, ho, wo, d := 2, 3, 4, 5
	x := randTensor(r, b, ho*wo, d)
	got := run(t, nil, func(_ *model.Scope, xs []*Node) []*Node { return []*Node{col2im(xs[0], ho, wo)} }, x)
	want := make([]float32, len(x.data))
	for bi := range b {
		for di := range d {
			for l := range ho * wo {
				// (B,D,H',W') with channel di and spatial position l.
				want[(bi*d+di)*ho*wo+l] = x.data[x.at(bi, l, di)]
			}
		}
	}
	assertClose(t, "col2im", got[0], want, 0)
}

// TestConv checks the convolution against a naive Conv2d that reads the linear layer's weights, and
// against the literal routing[im2col, linear, col2im] on the same variables.
func TestConv(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const out = 5
	type convCase struct {
		k, s, p  int
		h, w     int
		winograd bool // 3×3, stride 1, padding 1 by Winograd's F(2×2, 3×3) (winograd.go)
		bandRows bool // patch bands of 4 KB: tiles built and multiplied a few rows at a time
	}
	var cases []convCase
	for _, ksp := range kernels {
		cases = append(cases, convCase{k: ksp[0], s: ksp[1], p: ksp[2], h: 17, w: 16})
	}
	// Odd and even sizes, and the smallest map the Winograd path takes.
	for _, hw := range [][2]int{{17, 16}, {2, 3}} {
		cases = append(cases, convCase{k: 3, s: 1, p: 1, h: hw[0], w: hw[1], winograd: true})
	}
	cases = append(cases, convCase{k: 3, s: 1, p: 1, h: 17, w: 16, winograd: true, bandRows: true})
	for _, cc := range cases {
		k, s, p := cc.k, cc.s, cc.p
		name := fmt.Sprintf("%dk%ds%dp", k, s, p)
		if cc.winograd {
			name += fmt.Sprintf("_winograd_%dx%d", cc.h, cc.w)
		}
		if cc.bandRows {
			name += "_bands"
		}
		t.Run(name, func(t *testing.T) {
			b, c, h, w := 2, 3, cc.h, cc.w
			if cc.winograd {
				defer func(n int) { winogradMinChannels = n }(winogradMinChannels)
				winogradMinChannels = c
			}
			if cc.bandRows {
				defer func(n int) { patchBandBytes = n }(patchBandBytes)
				patchBandBytes = 4 << 10
			}
			if got := useWinograd(convGeometry{c: c, h: h, w: w, out: out, k: k, s: s, p: p}); got != cc.winograd {
				t.Fatalf("useWinograd = %v, want %v", got, cc.winograd)
			}
			x := randTensor(r, b, c, h, w)
			ho, wo := outSize(h, k, s, p), outSize(w, k, s, p)
			got := run(t, nil, func(scope *model.Scope, xs []*Node) []*Node {
				sc := scope.In("conv")
				literal := col2im(linear(sc, im2col(xs[0], k, s, p), out), ho, wo)
				wt, bias := linearVars(sc, xs[0].Graph(), c*k*k, out)
				y := conv(sc, xs[0], out, k, s, p)
				// Gradients of one random projection of each output, with respect to x, weights and bias:
				// conv's are hand-written (conv.go), the literal module's are GoMLX's own.
				proj := Const(y.Graph(), randTensor(r, b, out, ho, wo).data)
				proj = Reshape(proj, b, out, ho, wo)
				gConv := Gradient(ReduceAllSum(Mul(y, proj)), xs[0], wt, bias)
				gLit := Gradient(ReduceAllSum(Mul(literal, proj)), xs[0], wt, bias)
				return append(append([]*Node{y, literal, wt, bias}, gConv...), gLit...)
			}, x)
			for i, name := range []string{"dx", "dweights", "dbias"} {
				assertClose(t, "gradient "+name, got[4+i], got[7+i], 1e-4)
			}
			wt, bias := got[2], got[3]
			want := make([]float32, b*out*ho*wo)
			for bi := range b {
				for o := range out {
					for oh := range ho {
						for ow := range wo {
							sum := float64(bias[o])
							for ci := range c {
								for i := range k {
									for j := range k {
										y, xx := oh*s+i-p, ow*s+j-p
										if y >= 0 && y < h && xx >= 0 && xx < w {
											sum += float64(x.data[x.at(bi, ci, y, xx)]) * float64(wt[(ci*k*k+i*k+j)*out+o])
										}
									}
								}
							}
							want[((bi*out+o)*ho+oh)*wo+ow] = float32(sum)
						}
					}
				}
			}
			assertClose(t, "conv", got[0], want, 1e-4)
			assertClose(t, "routing[im2col, linear, col2im]", got[1], want, 1e-4)
			bound := float32(1 / math.Sqrt(float64(c*k*k)))
			for _, v := range append(append([]float32(nil), wt...), bias...) {
				if v < -bound || v > bound {
					t.Fatalf("parameter %g outside torch's init bound ±%g", v, bound)
				}
			}
		})
	}
}

// leaf returns a terminal node of the named op.
func leaf(t *testing.T, name string) *grammar.Node {
	op, ok := grammar.OpByName(name)
	if !ok {
		t.Fatalf("no terminal %s", name)
	}
	return grammar.Leaf(op)
}

func TestGroupAndCat(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	x := randTensor(r, 2, 4, 8, 6)
	for _, tt := range []struct {
		group, cat string
		axis, n    int
	}{
		{"group_dim2s1d", "cat_tensors1d2t", 1, 2},
		{"group_dim4s2d", "cat_tensors2d4t", 2, 4},
		{"group_dim2s3d", "cat_tensors3d2t", 3, 2},
	} {
		t.Run(tt.group, func(t *testing.T) {
			var b builder
			got := run(t, nil, func(_ *model.Scope, xs []*Node) []*Node {
				parts := b.split(leaf(t, tt.group), xs[0])
				// Reverse the chunks so that cat's order is visible.
				rev := make([]*Node, len(parts))
				for i, p := range parts {
					rev[len(parts)-1-i] = p
				}
				return append(parts, b.aggregate(leaf(t, tt.cat), rev))
			}, x)
			chunk := x.dims[tt.axis] / tt.n
			rev := make([]float32, 0, len(x.data))
			for part := range tt.n {
				var want []float32
				for i := range x.data {
					idx := unflatten(i, x.dims)
					if idx[tt.axis]/chunk == part {
						want = append(want, x.data[i])
					}
				}
				assertClose(t, fmt.Sprintf("chunk %d", part), got[part], want, 0)
			}
			for i := range x.data {
				idx := unflatten(i, x.dims)
				// Element i of the concatenation of reversed chunks comes from chunk n-1-idx/chunk.
				src := append([]int(nil), idx...)
				src[tt.axis] = (tt.n-1-idx[tt.axis]/chunk)*chunk + idx[tt.axis]%chunk
				rev = append(rev, x.data[x.at(src...)])
			}
			assertClose(t, "cat", got[tt.n], rev, 0)
		})
	}
}

func unflatten(i int, dims []int) []int {
	idx := make([]int, len(dims))
	for a := len(dims) - 1; a >= 0; a-- {
		idx[a] = i % dims[a]
		i /= dims[a]
	}
	return idx
}

func TestDotProducts(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, tt := range []struct {
		name string
		a, b tensor
	}{
		{"col", randTensor(r, 2, 3, 4), randTensor(r, 2, 4, 5)},
		{"im", randTensor(r, 2, 3, 4, 5), randTensor(r, 2, 3, 5, 6)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b builder
			got := run(t, nil, func(_ *model.Scope, xs []*Node) []*Node {
				return []*Node{b.aggregate(leaf(t, "dot_product"), xs), b.aggregate(leaf(t, "scaled_dot_product"), xs)}
			}, tt.a, tt.b)
			// Batch over all but the last two axes.
			ra := len(tt.a.dims)
			m, kk, n := tt.a.dims[ra-2], tt.a.dims[ra-1], tt.b.dims[ra-1]
			batch := len(tt.a.data) / (m * kk)
			want := make([]float32, batch*m*n)
			scaled := make([]float32, len(want))
			for bi := range batch {
				for i := range m {
					for j := range n {
						var sum float64
						for l := range kk {
							sum += float64(tt.a.data[bi*m*kk+i*kk+l]) * float64(tt.b.data[bi*kk*n+l*n+j])
						}
						want[bi*m*n+i*n+j] = float32(sum)
						scaled[bi*m*n+i*n+j] = float32(sum / math.Sqrt(float64(kk)))
					}
				}
			}
			assertClose(t, "dot_product", got[0], want, 1e-5)
			assertClose(t, "scaled_dot_product", got[1], scaled, 1e-5)
		})
	}
}

// TestBatchNorm2d checks training mode (batch statistics, running-stat update with the unbiased variance)
// and evaluation mode (running statistics) against torch's formulas.
func TestBatchNorm2d(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	b, c, h, w := 3, 2, 4, 5
	x := randTensor(r, b, c, h, w)
	for i := range x.data {
		x.data[i] = x.data[i]*2 + 1
	}
	store := model.NewStore()
	got := run(t, store, func(scope *model.Scope, xs []*Node) []*Node {
		return []*Node{batchNorm2d(scope.In("bn"), true, xs[0])}
	}, x)
	n := float64(b * h * w)
	mean, variance := make([]float64, c), make([]float64, c)
	for i, v := range x.data {
		mean[unflatten(i, x.dims)[1]] += float64(v) / n
	}
	for i, v := range x.data {
		ci := unflatten(i, x.dims)[1]
		variance[ci] += (float64(v) - mean[ci]) * (float64(v) - mean[ci]) / n
	}
	want := make([]float32, len(x.data))
	for i, v := range x.data {
		ci := unflatten(i, x.dims)[1]
		want[i] = float32((float64(v) - mean[ci]) / math.Sqrt(variance[ci]+1e-5))
	}
	assertClose(t, "train", got[0], want, 1e-4)
	runMean := tensors.MustCopyFlatData[float32](store.GetVariable("/bn/running_mean").MustValue())
	runVar := tensors.MustCopyFlatData[float32](store.GetVariable("/bn/running_var").MustValue())
	wantMean, wantVar := make([]float32, c), make([]float32, c)
	for ci := range c {
		wantMean[ci] = float32(0.1 * mean[ci])
		wantVar[ci] = float32(0.9 + 0.1*variance[ci]*n/(n-1))
	}
	assertClose(t, "running_mean", runMean, wantMean, 1e-5)
	assertClose(t, "running_var", runVar, wantVar, 1e-5)

	got = run(t, store, func(scope *model.Scope, xs []*Node) []*Node {
		return []*Node{batchNorm2d(scope.In("bn"), false, xs[0])}
	}, x)
	for i, v := range x.data {
		ci := unflatten(i, x.dims)[1]
		want[i] = float32((float64(v) - float64(wantMean[ci])) / math.Sqrt(float64(wantVar[ci])+1e-5))
	}
	assertClose(t, "eval", got[0], want, 1e-4)
}

// TestBatchNormGradient checks the hand-written training-mode gradient (batchNormGradients) against GoMLX's
// automatic gradient of the plain formula, with random gamma and beta, in both layouts.
func TestBatchNormGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	b, c, h, w := 3, 4, 5, 6
	x := randTensor(r, b, c, h, w)
	for i := range x.data {
		x.data[i] = x.data[i]*3 - 2
	}
	proj := randTensor(r, b, c, h, w)
	for _, layout := range []string{"BCHW", "CHWB"} {
		t.Run(layout, func(t *testing.T) {
			got := run(t, nil, func(scope *model.Scope, xs []*Node) []*Node {
				sc := scope.In("bn")
				shape := shapes.Make(dtype, c)
				gamma := sc.WithInitializer(initializer.RandomNormalFn(sc, 1)).VariableWithShape("gamma", shape).NodeValue(xs[0].Graph())
				beta := sc.WithInitializer(initializer.RandomNormalFn(sc, 1)).VariableWithShape("beta", shape).NodeValue(xs[0].Graph())
				var y *Node
				if layout == "BCHW" {
					y = batchNorm2d(sc, true, xs[0])
				} else {
					y = fromCHWB(batchNorm(sc, true, toCHWB(xs[0]), 0))
				}
				perChannel := func(v *Node) *Node { return Reshape(v, 1, c, 1, 1) }
				mean := ReduceAndKeep(xs[0], ReduceMean, 0, 2, 3)
				variance := ReduceAndKeep(Square(Sub(xs[0], mean)), ReduceMean, 0, 2, 3)
				ref := Add(Mul(Div(Sub(xs[0], mean), Sqrt(AddScalar(variance, normEps))), perChannel(gamma)), perChannel(beta))
				p := Reshape(Const(y.Graph(), proj.data), b, c, h, w)
				gotGrads := Gradient(ReduceAllSum(Mul(y, p)), xs[0], gamma, beta)
				refGrads := Gradient(ReduceAllSum(Mul(ref, p)), xs[0], gamma, beta)
				return append(append([]*Node{y, ref}, gotGrads...), refGrads...)
			}, x)
			assertClose(t, "output", got[0], got[1], 1e-4)
			for i, name := range []string{"dx", "dgamma", "dbeta"} {
				assertClose(t, "gradient "+name, got[2+i], got[5+i], 1e-4)
			}
		})
	}
}

func TestLayerNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	x := randTensor(r, 2, 3, 7)
	got := run(t, nil, func(scope *model.Scope, xs []*Node) []*Node {
		return []*Node{layerNorm(scope.In("ln"), xs[0])}
	}, x)
	want := make([]float32, len(x.data))
	d := 7
	for row := range len(x.data) / d {
		v := x.data[row*d : (row+1)*d]
		var mean, variance float64
		for _, e := range v {
			mean += float64(e) / float64(d)
		}
		for _, e := range v {
			variance += (float64(e) - mean) * (float64(e) - mean) / float64(d)
		}
		for i, e := range v {
			want[row*d+i] = float32((float64(e) - mean) / math.Sqrt(variance+1e-5))
		}
	}
	assertClose(t, "layer norm", got[0], want, 1e-4)
}

func TestLeakyReLUAndSoftmax(t *testing.T) {
	x := tensor{dims: []int{1, 2, 3}, data: []float32{-2, 0, 3, 1, 1, 1}}
	got := run(t, nil, func(_ *model.Scope, xs []*Node) []*Node {
		y := leakyReLU(xs[0])
		proj := Const(xs[0].Graph(), [][][]float32{{{1, 2, 3}, {-4, 5, -6}}})
		return []*Node{y, Softmax(xs[0], -1), Gradient(ReduceAllSum(Mul(y, proj)), xs[0])[0]}
	}, x)
	assertClose(t, "leaky relu", got[0], []float32{-0.02, 0, 3, 1, 1, 1}, 1e-6)
	// The gradient is the projection where x > 0 and 0.01 times it elsewhere, 0 included, as in torch.
	assertClose(t, "leaky relu gradient", got[2], []float32{0.01, 0.02, 3, -4, 5, -6}, 1e-6)
	e := func(v float64) float64 { return math.Exp(v) }
	z := e(-2) + e(0) + e(3)
	assertClose(t, "softmax", got[1], []float32{float32(e(-2) / z), float32(1 / z), float32(e(3) / z), 1. / 3, 1. / 3, 1. / 3}, 1e-5)
}

// TestUseWinograd checks which convolutions take the Winograd path at the default channel threshold.
func TestUseWinograd(t *testing.T) {
	n := winogradMinChannels
	for _, tt := range []struct {
		name string
		geo  convGeometry
		want bool
	}{
		{"3×3 stride 1 padding 1", convGeometry{c: n, out: n, h: 4, w: 4, k: 3, s: 1, p: 1}, true},
		{"2×2 map", convGeometry{c: n, out: 2 * n, h: 2, w: 2, k: 3, s: 1, p: 1}, true},
		{"too few input channels", convGeometry{c: n - 1, out: n, h: 4, w: 4, k: 3, s: 1, p: 1}, false},
		{"too few output channels", convGeometry{c: n, out: n - 1, h: 4, w: 4, k: 3, s: 1, p: 1}, false},
		{"one row", convGeometry{c: n, out: n, h: 1, w: 8, k: 3, s: 1, p: 1}, false},
		{"one column", convGeometry{c: n, out: n, h: 8, w: 1, k: 3, s: 1, p: 1}, false},
		{"stride 2", convGeometry{c: n, out: n, h: 8, w: 8, k: 3, s: 2, p: 1}, false},
		{"no padding", convGeometry{c: n, out: n, h: 8, w: 8, k: 3, s: 1, p: 0}, false},
		{"5×5", convGeometry{c: n, out: n, h: 8, w: 8, k: 5, s: 1, p: 2}, false},
	} {
		if got := useWinograd(tt.geo); got != tt.want {
			t.Errorf("%s: useWinograd = %v, want %v", tt.name, got, tt.want)
		}
	}
}
