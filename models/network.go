package models

import (
	"fmt"
	"math"
	"slices"

	"github.com/einspace-go/einspace/grammar"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// dtype is the floating-point type of every network: float32, as the reference code trains.
const dtype = dtypes.Float32

// Network is an architecture wrapped for classification (SPEC §7.1): an identity stem, the architecture's
// tree as the backbone, and a head that pools the backbone's output and maps it to class logits with one
// linear layer. A Network holds no weights: Logits builds its graph on a scope, which holds them.
type Network struct {
	Arch    *grammar.Arch
	Classes int
}

// Compile checks that the architecture was inferred for an image input and that the class count is
// positive, and returns the network for it.
func Compile(arch *grammar.Arch, classes int) (*Network, error) {
	switch {
	case arch == nil || arch.Root == nil:
		return nil, fmt.Errorf("compile: no architecture")
	case arch.Input.Rank() != 3:
		return nil, fmt.Errorf("compile: the input must be an image shape (C,H,W), got %v", arch.Input)
	case arch.Root.Out.IsZero():
		return nil, fmt.Errorf("compile: the architecture has no inferred shapes; build it with grammar.Infer")
	case classes < 1:
		return nil, fmt.Errorf("compile: %d classes; a classifier needs at least 1", classes)
	}
	return &Network{Arch: arch, Classes: classes}, nil
}

// HeadParams is the number of trainable parameters of the classification head: Linear(C, classes) after
// pooling a (C,H,W) output, Linear(L, classes) after pooling an (L,D) output.
func (n *Network) HeadParams() int64 {
	width := int64(n.Arch.Output().Dim(0))
	return width*int64(n.Classes) + int64(n.Classes)
}

// Params is the analytic number of trainable parameters: the backbone's (grammar's count) plus the head's.
func (n *Network) Params() int64 { return n.Arch.Stats().Params + n.HeadParams() }

// Logits builds the network's graph on x (B, C, H, W) and returns the logits (B, classes). Its variables
// live under scope: "backbone/..." named by each node's position in the tree, and "head". With train set,
// batch normalisation uses batch statistics and updates its running statistics. Like every GoMLX graph
// builder it panics on error (a shape that does not fit); Exec.Call turns such panics into errors.
func (n *Network) Logits(scope *model.Scope, x *Node, train bool) *Node {
	want := append([]int{x.Shape().Dimensions[0]}, n.Arch.Input.Dims()...)
	if !slices.Equal(x.Shape().Dimensions, want) {
		exceptions.Panicf("network for input %v got a batch of shape %v", n.Arch.Input, x.Shape())
	}
	b := builder{train: train}
	a := b.module(scope.In("backbone"), n.Arch.Root, act{x: x})
	var h *Node
	switch {
	case a.chwb:
		h = Transpose(ReduceMean(a.x, 1, 2), 0, 1) // (C,H,W,B) -> (B, C)
	case a.x.Rank() == 4:
		h = ReduceMean(a.x, 2, 3) // (B, C)
	default:
		h = ReduceMean(a.x, 2) // (B, L): the head maps the token axis
	}
	return linear(scope.In("head"), h, n.Classes)
}

// act is an activation on its way through the network. A rank-4 activation (B,C,H,W) may be held in the
// channel-major layout (C,H,W,B) instead (chwb set): convolutions produce it, batch normalisation,
// LeakyReLU, identity, cloning and adding keep it, and everything else gets the (B,C,H,W) tensor from
// nchw(). A chain of convolutions and norms thus pays for no layout change in between (see conv.go).
type act struct {
	x    *Node
	chwb bool
}

// nchw is the activation in the layout the einspace semantics are defined on.
func (a act) nchw() *Node {
	if a.chwb {
		return fromCHWB(a.x)
	}
	return a.x
}

// channelMajor is the rank-4 activation in the (C,H,W,B) layout.
func (a act) channelMajor() *Node {
	if a.chwb {
		return a.x
	}
	return toCHWB(a.x)
}

// builder turns tree nodes into graph nodes.
type builder struct{ train bool }

// module builds a module node on x. Each child's variables live in a sub-scope named by its slot index;
// the copies of a 4- or 8-way branching module's one inner module are "1_0", "1_1", ... so each copy has
// its own weights.
func (b builder) module(scope *model.Scope, n *grammar.Node, x act) act {
	slot := func(i int) *model.Scope { return scope.In("%d", i) }
	switch n.Kind {
	case grammar.SequentialModule:
		return b.module(slot(1), n.Children[1], b.module(slot(0), n.Children[0], x))
	case grammar.ComputationModule:
		return b.terminal(slot(0), n.Children[0], x)
	case grammar.RoutingModule:
		pre, inner, post := n.Children[0], n.Children[1], n.Children[2]
		if c, ok := n.Convolution(); ok {
			return act{x: convCHWB(slot(1).In("0"), x.channelMajor(), c.Out, c.Kernel, c.Stride, c.Padding), chwb: true}
		}
		return b.terminal(slot(2), post, b.module(slot(1), inner, b.terminal(slot(0), pre, x)))
	case grammar.BranchingModule:
		branches := b.splitAct(n.Children[0], x)
		last := len(n.Children) - 1
		outs := make([]act, len(branches))
		for i, xi := range branches {
			if last == 3 { // factor 2: two inner modules
				outs[i] = b.module(slot(1+i), n.Children[1+i], xi)
			} else { // one inner module, instantiated once per branch
				outs[i] = b.module(scope.In("1_%d", i), n.Children[1], xi)
			}
		}
		return b.aggregateAct(n.Children[last], outs)
	}
	exceptions.Panicf("a %s node where a module was expected", n.Kind)
	return act{}
}

// split applies a branching function.
func (b builder) split(n *grammar.Node, x *Node) []*Node {
	f := n.Op.Factor()
	switch n.Op.Family() {
	case grammar.FamClone:
		outs := make([]*Node, f)
		for i := range outs {
			outs[i] = x
		}
		return outs
	case grammar.FamGroup:
		return Split(x, n.Op.Dim(), f)
	}
	exceptions.Panicf("%s is not a branching function", n.Op)
	return nil
}

// splitAct is split on an activation: cloning keeps its layout, grouping needs (B,C,H,W).
func (b builder) splitAct(n *grammar.Node, x act) []act {
	if n.Op.Family() == grammar.FamClone {
		outs := make([]act, n.Op.Factor())
		for i := range outs {
			outs[i] = x
		}
		return outs
	}
	parts := b.split(n, x.nchw())
	outs := make([]act, len(parts))
	for i, p := range parts {
		outs[i] = act{x: p}
	}
	return outs
}

// aggregateAct is aggregate on activations: adding tensors of one layout keeps it, anything else works on
// (B,C,H,W).
func (b builder) aggregateAct(n *grammar.Node, as []act) act {
	if n.Op.Family() == grammar.FamAdd {
		same := true
		for _, a := range as[1:] {
			same = same && a.chwb == as[0].chwb
		}
		if same {
			xs := make([]*Node, len(as))
			for i, a := range as {
				xs[i] = a.x
			}
			return act{x: b.aggregate(n, xs), chwb: as[0].chwb}
		}
	}
	xs := make([]*Node, len(as))
	for i, a := range as {
		xs[i] = a.nchw()
	}
	return act{x: b.aggregate(n, xs)}
}

// aggregate applies an aggregation function to the branches' outputs.
func (b builder) aggregate(n *grammar.Node, xs []*Node) *Node {
	switch n.Op.Family() {
	case grammar.FamDot, grammar.FamScaledDot:
		y := matmul(xs[0], xs[1])
		if n.Op.Family() == grammar.FamScaledDot {
			y = MulScalar(y, 1/math.Sqrt(float64(lastDim(xs[0]))))
		}
		return y
	case grammar.FamAdd:
		sum := xs[0]
		for _, x := range xs[1:] {
			sum = Add(sum, x)
		}
		return sum
	case grammar.FamCat:
		return Concatenate(xs, n.Op.Dim())
	}
	exceptions.Panicf("%s is not an aggregation function", n.Op)
	return nil
}

// matmul is torch's a @ b over the last two axes, the others batch: (B,L,D)@(B,D,D2) or
// (B,C,H,W)@(B,C,W,W2).
func matmul(a, b *Node) *Node {
	r := a.Rank()
	batch := make([]int, r-2)
	for i := range batch {
		batch[i] = i
	}
	return DotGeneral(a, []int{r - 1}, batch, b, []int{r - 2}, batch)
}

// terminal applies a prerouting, postrouting or computation function; its variables, if any, live in scope.
func (b builder) terminal(scope *model.Scope, n *grammar.Node, a act) act {
	switch n.Op.Family() {
	case grammar.FamIdentity:
		return a
	case grammar.FamLeakyReLU: // elementwise: any layout
		return act{x: leakyReLU(a.x), chwb: a.chwb}
	case grammar.FamNorm:
		if a.chwb {
			return act{x: batchNorm(scope, b.train, a.x, 0), chwb: true}
		}
	}
	return act{x: b.nchwTerminal(scope, n, a.nchw())}
}

// nchwTerminal applies a terminal to x in the einspace layout.
func (b builder) nchwTerminal(scope *model.Scope, n *grammar.Node, x *Node) *Node {
	switch n.Op.Family() {
	case grammar.FamIdentity:
		return x
	case grammar.FamPermute:
		perm := []int{0}
		for _, d := range n.Op.Permutation() {
			perm = append(perm, d+1)
		}
		return TransposeAllAxes(x, perm...)
	case grammar.FamIm2col:
		k, s, p := n.Op.Kernel()
		return im2col(x, k, s, p)
	case grammar.FamCol2im:
		return col2im(x, n.LastIm[0], n.LastIm[1])
	case grammar.FamLinear:
		return linear(scope, x, n.Op.LinearWidth(lastDim(x)))
	case grammar.FamNorm:
		if x.Rank() == 4 {
			return batchNorm2d(scope, b.train, x)
		}
		return layerNorm(scope, x)
	case grammar.FamLeakyReLU:
		return leakyReLU(x)
	case grammar.FamSoftmax:
		return Softmax(x, -1)
	case grammar.FamPositional:
		return positional(scope, x)
	}
	exceptions.Panicf("%s cannot be applied to a tensor", n.Op)
	return nil
}
