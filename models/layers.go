package models

import (
	"math"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
)

// The layers below reproduce the PyTorch modules the einspace reference code uses, so that an architecture
// trains the same here as there. Each takes the scope its variables live in.

// normEps is the epsilon of torch's BatchNorm2d and LayerNorm; bnMomentum is BatchNorm2d's running-stat momentum.
const (
	normEps    = 1e-5
	bnMomentum = 0.1
	leakySlope = 0.01 // torch.nn.LeakyReLU's default; GoMLX's activation.LeakyRelu uses 0.3
)

// linearVars creates (or finds) the weights [in, out] and bias [out] of torch.nn.Linear(in, out), both
// initialised U(-1/sqrt(in), 1/sqrt(in)) as torch does (its kaiming_uniform(a=sqrt(5)) reduces to this bound).
func linearVars(scope *model.Scope, g *Graph, in, out int) (w, b *Node) {
	bound := 1 / math.Sqrt(float64(in))
	s := scope.WithInitializer(initializer.RandomUniformFn(scope, -bound, bound))
	w = s.VariableWithShape("weights", shapes.Make(dtype, in, out)).NodeValue(g)
	b = s.VariableWithShape("bias", shapes.Make(dtype, out)).NodeValue(g)
	return w, b
}

// linear is torch.nn.Linear(x.shape[-1], out) acting on the last axis of x, of any rank (multiplying the
// 2-D view of x where linearOnRows says the backend is faster so).
func linear(scope *model.Scope, x *Node, out int) *Node {
	in := lastDim(x)
	w, b := linearVars(scope, x.Graph(), in, out)
	rows := x.Shape().Size() / in
	if !linearOnRows(x, rows) {
		y := DotGeneral(x, []int{x.Rank() - 1}, nil, w, []int{0}, nil)
		return Add(y, ExpandLeftToRank(b, y.Rank()))
	}
	dims := x.Shape().Dimensions
	y := Add(DotGeneral(Reshape(x, rows, in), []int{1}, nil, w, []int{0}, nil), Reshape(b, 1, out))
	return Reshape(y, append(slices.Clone(dims[:len(dims)-1]), out)...)
}

// batchNorm2d is torch.nn.BatchNorm2d(C) on x (B,C,H,W). In training it normalises with the batch mean and
// biased variance over (B,H,W), gradients flowing through both, and moves the running statistics by
// momentum 0.1 towards the batch mean and the unbiased batch variance. In evaluation it uses the running
// statistics.
func batchNorm2d(scope *model.Scope, train bool, x *Node) *Node { return batchNorm(scope, train, x, 1) }

// batchNorm is batchNorm2d on a rank-4 x whose channel axis is channelAxis: 1 for (B,C,H,W), 0 for the
// channel-major (C,H,W,B) layout convolutions produce (see toCHWB). The statistics are over the other three
// axes in both cases, so the result is the same, laid out as x.
func batchNorm(scope *model.Scope, train bool, x *Node, channelAxis int) *Node {
	g := x.Graph()
	dims := x.Shape().Dimensions
	c := dims[channelAxis]
	gamma := scope.WithInitializer(initializer.One).VariableWithShape("gamma", shapes.Make(dtype, c)).NodeValue(g)
	beta := scope.WithInitializer(initializer.Zero).VariableWithShape("beta", shapes.Make(dtype, c)).NodeValue(g)
	// SetTrainable(false) every time: a variable restored from a checkpoint comes back trainable.
	runMean := scope.WithInitializer(initializer.Zero).VariableWithShape("running_mean", shapes.Make(dtype, c)).SetTrainable(false)
	runVar := scope.WithInitializer(initializer.One).VariableWithShape("running_var", shapes.Make(dtype, c)).SetTrainable(false)
	perDims := []int{1, 1, 1, 1}
	perDims[channelAxis] = c
	perChannel := func(v *Node) *Node { return Reshape(v, perDims...) }
	var others []int
	for a := range 4 {
		if a != channelAxis {
			others = append(others, a)
		}
	}

	if !train {
		xhat := Div(Sub(x, perChannel(runMean.NodeValue(g))), perChannel(Sqrt(AddScalar(runVar.NodeValue(g), normEps))))
		return Add(Mul(xhat, perChannel(gamma)), perChannel(beta))
	}

	// Training: the batch statistics, with the hand-written gradient of batchNormGradients.
	n := x.Shape().Size() / c
	var xIn, gammaIn, mean, std *Node
	in, capture := customGradient([]*Node{x, gamma, beta}, func(dy *Node) []*Node {
		return batchNormGradients(xIn, gammaIn, mean, std, dy, others, perChannel)
	})
	xIn, gammaIn, betaIn := in[0], in[1], in[2]
	mean = ReduceMean(xIn, others...)
	centered := Sub(xIn, perChannel(mean))
	variance := ReduceMean(Square(centered), others...)
	std = Sqrt(AddScalar(variance, normEps))
	unbiased := MulScalar(StopGradient(variance), float64(n)/float64(max(n-1, 1)))
	runMean.SetNodeValue(Add(MulScalar(runMean.NodeValue(g), 1-bnMomentum), MulScalar(StopGradient(mean), bnMomentum)))
	runVar.SetNodeValue(Add(MulScalar(runVar.NodeValue(g), 1-bnMomentum), MulScalar(unbiased, bnMomentum)))
	xhat := normalise(centered, perChannel(std))
	return capture(Add(Mul(xhat, perChannel(gammaIn)), perChannel(betaIn)))
}

// batchNormGradients is the gradient of training-mode batch normalisation y = gamma·x̂ + beta with
// x̂ = (x-mean)/std over the axes `others`, as torch computes it: dbeta = Σdy, dgamma = Σdy·x̂ and
// dx = gamma/std · (dy - dbeta/n - x̂·dgamma/n). It keeps only x between the passes (the automatic
// gradient would keep x-mean and x̂ as well) and rebuilds x̂ (normalisedForGradient).
func batchNormGradients(x, gamma, mean, std, dy *Node, others []int, perChannel func(*Node) *Node) []*Node {
	n := float64(x.Shape().Size() / gamma.Shape().Size())
	invStd := Reciprocal(std)
	xhat := normalisedForGradient(x, mean, invStd, perChannel)
	dbeta := ReduceSum(dy, others...)
	dgamma := ReduceSum(Mul(dy, xhat), others...)
	centredDy := Sub(dy, perChannel(MulScalar(dbeta, 1/n)))
	dx := Mul(Sub(centredDy, Mul(xhat, perChannel(MulScalar(dgamma, 1/n)))), perChannel(Mul(gamma, invStd)))
	return []*Node{dx, dgamma, dbeta}
}

// layerNorm is torch.nn.LayerNorm(x.shape[-1]) over the last axis, with weight 1 and bias 0 at start.
func layerNorm(scope *model.Scope, x *Node) *Node {
	g := x.Graph()
	d := lastDim(x)
	gamma := scope.WithInitializer(initializer.One).VariableWithShape("gamma", shapes.Make(dtype, d)).NodeValue(g)
	beta := scope.WithInitializer(initializer.Zero).VariableWithShape("beta", shapes.Make(dtype, d)).NodeValue(g)
	centered := Sub(x, ReduceAndKeep(x, ReduceMean, -1))
	variance := ReduceAndKeep(Square(centered), ReduceMean, -1)
	xhat := Div(centered, Sqrt(AddScalar(variance, normEps)))
	return Add(Mul(xhat, ExpandLeftToRank(gamma, x.Rank())), ExpandLeftToRank(beta, x.Rank()))
}

// leakyReLU is torch.nn.LeakyReLU() with slope 0.01. Its hand-written gradient, torch's dy where x > 0 and
// 0.01·dy elsewhere, keeps only the one-byte mask between the passes; GoMLX's own, through Where, builds
// two input-sized tensors of zeros and four more passes over the data.
func leakyReLU(x *Node) *Node {
	var positive *Node
	in, capture := customGradient([]*Node{x}, func(dy *Node) []*Node {
		return []*Node{Where(positive, dy, MulScalar(dy, leakySlope))}
	})
	positive = GreaterThan(in[0], ScalarZero(x.Graph(), x.DType()))
	return capture(Where(positive, in[0], MulScalar(in[0], leakySlope)))
}

// positional is a learnable positional encoding x + P, with P of shape (1, *x.shape[1:]) drawn from N(0,1).
func positional(scope *model.Scope, x *Node) *Node {
	dims := append([]int{1}, x.Shape().Dimensions[1:]...)
	p := scope.WithInitializer(initializer.RandomNormalFn(scope, 1)).
		VariableWithShape("encoding", shapes.Make(dtype, dims...)).NodeValue(x.Graph())
	return Add(x, p)
}

// outSize is floor((n+2p-k)/s)+1, the output size of nn.Unfold and nn.Conv2d (dilation 1).
func outSize(n, k, s, p int) int { return (n+2*p-k)/s + 1 }

// pad2d zero-pads the last two axes of a rank-4 tensor by p on every side.
func pad2d(x *Node, p int) *Node {
	if p == 0 {
		return x
	}
	side := compute.PadAxis{Start: p, End: p}
	return Pad(x, ScalarZero(x.Graph(), x.DType()), compute.PadAxis{}, compute.PadAxis{}, side, side)
}

// shifted returns x[:, :, i::s, j::s] cut to the (ho, wo) output grid: the inputs that kernel tap (i, j)
// sees at every output position.
func shifted(x *Node, i, j, s, ho, wo int) *Node {
	return Slice(x, AxisRange(), AxisRange(),
		AxisRange(i, i+s*(ho-1)+1).Stride(s), AxisRange(j, j+s*(wo-1)+1).Stride(s))
}

// im2col is torch nn.Unfold(k, stride=s, padding=p)(x).permute(0, 2, 1): x (B,C,H,W) becomes
// (B, H'·W', C·k·k), each patch ordered c·k·k + i·k + j and the tokens row-major over the (H', W') grid.
func im2col(x *Node, k, s, p int) *Node {
	dims := x.Shape().Dimensions
	b, c, h, w := dims[0], dims[1], dims[2], dims[3]
	ho, wo := outSize(h, k, s, p), outSize(w, k, s, p)
	if k == s && p == 0 {
		// Non-overlapping patches are a reshape and a transpose.
		if ho*k != h || wo*k != w {
			x = Slice(x, AxisRange(), AxisRange(), AxisRange(0, ho*k), AxisRange(0, wo*k))
		}
		x = Reshape(x, b, c, ho, k, wo, k)
		x = TransposeAllAxes(x, 0, 2, 4, 1, 3, 5) // b h' w' c i j
		return Reshape(x, b, ho*wo, c*k*k)
	}
	x = pad2d(x, p)
	taps := make([]*Node, 0, k*k)
	for i := range k {
		for j := range k {
			taps = append(taps, shifted(x, i, j, s, ho, wo))
		}
	}
	patches := taps[0]
	if len(taps) > 1 {
		patches = Stack(taps, 2) // (B, C, k·k, H', W'): order c, i, j
	}
	return TransposeAllAxes(Reshape(patches, b, c*k*k, ho*wo), 0, 2, 1)
}

// col2im is x.permute(0, 2, 1).reshape(B, -1, ho, wo), the einspace col2im (a reshape, not nn.Fold).
func col2im(x *Node, ho, wo int) *Node {
	dims := x.Shape().Dimensions
	b, l, d := dims[0], dims[1], dims[2]
	return Reshape(TransposeAllAxes(x, 0, 2, 1), b, l*d/(ho*wo), ho, wo)
}

// conv is routing[im2col(k,s,p), computation<linear out>, col2im] computed as a convolution on x (B,C,H,W),
// returning (B,out,H',W'): convCHWB between the two layout changes.
func conv(scope *model.Scope, x *Node, out, k, s, p int) *Node {
	return fromCHWB(convCHWB(scope, toCHWB(x), out, k, s, p))
}

// lastDim is the size of x's last axis.
func lastDim(x *Node) int { return x.Shape().Dimensions[x.Rank()-1] }
