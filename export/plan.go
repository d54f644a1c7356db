package export

import (
	"fmt"
	"strings"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/models"
)

// A plan is the network laid out for export: the derivation tree turned into the blocks and steps that the
// PyTorch source is written from (classes, attribute names, the state-dict keys they give) and the ONNX graph
// is built from, each step knowing the GoMLX scope its weights live in. Both targets read the one plan, so
// the PyTorch module and the ONNX model compute the same thing with the same weights.
type plan struct {
	net      *models.Network
	backbone *block
	headIn   int            // width the head maps: C of a (C,H,W) output, L of an (L,D) output
	tensors  []tensorSpec   // every tensor of the PyTorch state dict, in the order the module creates them
	byKey    map[string]int // state-dict key -> index in tensors
}

// stepKind is what a step computes.
type stepKind uint8

const (
	stepConv       stepKind = iota + 1 // routing[im2col, computation<linear>, col2im] as a convolution
	stepLinear                         // nn.Linear on the last axis
	stepBatchNorm                      // norm on (C,H,W)
	stepLayerNorm                      // norm on (L,D)
	stepPositional                     // learnable positional encoding
	stepLeakyReLU                      // slope 0.01
	stepSoftmax                        // over the last axis
	stepPermute                        // a permute terminal
	stepIm2col                         // nn.Unfold then a transpose, when not part of a convolution
	stepCol2im                         // a transpose and a reshape
	stepBlock                          // a branching module: its own class
)

// step is one operation of a forward pass.
type step struct {
	kind    stepKind
	op      grammar.Op // the terminal (for a convolution: its im2col)
	in, out grammar.Shape
	attr    string // the attribute of its class that holds its module or parameter: "conv1", "norm2", "residual1"
	path    string // the attribute's full name in the network, the prefix of its state-dict keys: "backbone.conv1"
	scope   string // the GoMLX scope of its variables: "/backbone/0/1/0"
	width   int    // linear and convolution: output width
	k, s, p int    // convolution and im2col: kernel, stride, padding
	perm    []int  // permute: the order of all axes, batch first
	block   *block // stepBlock
}

// block is one class of the PyTorch source. A chain block (the backbone, one copy of a 4- or 8-way
// branching module's inner module) runs its steps in order. A branching block splits its input, runs its
// two paths (factor 2, written out in its forward) or its copies (factor 4 or 8, one chain block each) and
// merges the results.
type block struct {
	base   string        // the class name before numbering: Backbone, Residual, Attention, ...
	path   string        // the instance's full name: "backbone", "backbone.residual1"
	node   *grammar.Node // the module the block computes
	chain  bool          // a chain block, running steps
	steps  []*step       // chain block
	paths  [2][]*step    // branching block of factor 2
	copies []*block      // branching block of factor 4 or 8
	in     grammar.Shape
	out    grammar.Shape
	count  map[string]int // attribute names used so far, per stem
}

// transform says how a PyTorch tensor is made from a GoMLX variable.
type transform uint8

const (
	asIs           transform = iota // same layout
	linearWeight                    // GoMLX [in, out] -> nn.Linear.weight [out, in]
	convWeight                      // GoMLX [C·k·k, out] -> nn.Conv2d.weight [out, C, k, k]
	batchesTracked                  // BatchNorm2d.num_batches_tracked: no GoMLX variable, an int64 0
)

// tensorSpec is one entry of the PyTorch state dict and where its values come from.
type tensorSpec struct {
	key       string    // state-dict key
	variable  string    // GoMLX variable path ("" for num_batches_tracked)
	shape     []int     // PyTorch shape
	gomlx     []int     // GoMLX shape of the variable
	how       transform // how the PyTorch tensor is made from the variable
	trainable bool      // a parameter (not a running statistic or counter)
}

// newPlan lays out the network.
func newPlan(net *models.Network) (*plan, error) {
	if net == nil || net.Arch == nil || net.Arch.Root == nil {
		return nil, fmt.Errorf("export: no network")
	}
	p := &plan{net: net, byKey: map[string]int{}}
	b := &block{base: "Backbone", path: "backbone", node: net.Arch.Root, chain: true, in: net.Arch.Input, out: net.Arch.Output()}
	var err error
	if b.steps, err = p.module(b, net.Arch.Root, "/backbone"); err != nil {
		return nil, err
	}
	p.backbone = b
	p.headIn = net.Arch.Output().Dim(0)
	p.add(tensorSpec{key: "head.weight", variable: "/head/weights", shape: []int{net.Classes, p.headIn},
		gomlx: []int{p.headIn, net.Classes}, how: linearWeight, trainable: true})
	p.add(tensorSpec{key: "head.bias", variable: "/head/bias", shape: []int{net.Classes}, gomlx: []int{net.Classes}, trainable: true})
	return p, nil
}

func (p *plan) add(t tensorSpec) { p.byKey[t.key] = len(p.tensors); p.tensors = append(p.tensors, t) }

// Params is the number of trainable values in the state dict.
func (p *plan) params() int64 {
	var n int64
	for _, t := range p.tensors {
		if t.trainable {
			n += int64(product(t.shape))
		}
	}
	return n
}

// name returns a fresh attribute name in block b: stem1, stem2, ...
func (b *block) name(stem string) string {
	if b.count == nil {
		b.count = map[string]int{}
	}
	b.count[stem]++
	return fmt.Sprintf("%s%d", stem, b.count[stem])
}

// module lays out module node n of block b, whose GoMLX variables live under scope, as steps of b. The
// scopes follow models' builder: a child's variables live under its slot index, a convolution's under
// the routing module's slot 1 then 0, the copies of a wide branching module's inner module under 1_0,
// 1_1, ...
func (p *plan) module(b *block, n *grammar.Node, scope string) ([]*step, error) {
	slot := func(i int) string { return fmt.Sprintf("%s/%d", scope, i) }
	switch n.Kind {
	case grammar.SequentialModule:
		first, err := p.module(b, n.Children[0], slot(0))
		if err != nil {
			return nil, err
		}
		second, err := p.module(b, n.Children[1], slot(1))
		return append(first, second...), err
	case grammar.ComputationModule:
		return p.terminal(b, n.Children[0], slot(0))
	case grammar.RoutingModule:
		if _, ok := n.Convolution(); ok {
			return []*step{p.conv(b, n, slot(1)+"/0")}, nil
		}
		pre, inner, post := n.Children[0], n.Children[1], n.Children[2]
		steps, err := p.terminal(b, pre, slot(0))
		if err != nil {
			return nil, err
		}
		mid, err := p.module(b, inner, slot(1))
		if err != nil {
			return nil, err
		}
		last, err := p.terminal(b, post, slot(2))
		return append(append(steps, mid...), last...), err
	case grammar.BranchingModule:
		sub, err := p.branching(b, n, scope)
		if err != nil {
			return nil, err
		}
		return []*step{{kind: stepBlock, in: n.In, out: n.Out, attr: lastName(sub.path), path: sub.path, scope: scope, block: sub}}, nil
	}
	return nil, fmt.Errorf("export: a %s node where a module was expected", n.Kind)
}

// branching lays out a branching module as a block of its own, an attribute of b.
func (p *plan) branching(b *block, n *grammar.Node, scope string) (*block, error) {
	attr := b.name(snake(branchBase(n)))
	sub := &block{base: branchBase(n), path: b.path + "." + attr, node: n, in: n.In, out: n.Out}
	if n.Factor() == 2 {
		for i := range 2 {
			steps, err := p.module(sub, n.Children[1+i], fmt.Sprintf("%s/%d", scope, 1+i))
			if err != nil {
				return nil, err
			}
			sub.paths[i] = steps
		}
		return sub, nil
	}
	inner := n.Children[1]
	for i := range n.Factor() {
		c := &block{base: "Path", path: fmt.Sprintf("%s.branches.%d", sub.path, i), node: inner, chain: true, in: inner.In, out: inner.Out}
		steps, err := p.module(c, inner, fmt.Sprintf("%s/1_%d", scope, i))
		if err != nil {
			return nil, err
		}
		c.steps = steps
		sub.copies = append(sub.copies, c)
	}
	return sub, nil
}

// branchBase names what a branching module looks like: a residual block (a clone and an addition),
// attention-like products (a matrix product of the paths), a split and its paths, or 4 or 8 parallel
// copies.
func branchBase(n *grammar.Node) string {
	agg := n.Children[len(n.Children)-1].Op.Family()
	switch {
	case n.Factor() != 2:
		return "Parallel"
	case agg == grammar.FamDot || agg == grammar.FamScaledDot:
		return "MatMul"
	case n.Children[0].Op.Family() == grammar.FamGroup:
		return "Split"
	case agg == grammar.FamAdd: // a clone and a sum: a residual block, its shortcut an identity or a projection
		return "Residual"
	}
	return "Branch"
}

// conv lays out routing[im2col(k,s,p), computation<linearN>, col2im] as nn.Conv2d, its weights in scope.
func (p *plan) conv(b *block, n *grammar.Node, scope string) *step {
	pre := n.Children[0]
	k, s, pad := pre.Op.Kernel()
	c := n.In.Dim(0)
	width := n.Out.Dim(0)
	st := &step{kind: stepConv, op: pre.Op, in: n.In, out: n.Out, scope: scope, width: width, k: k, s: s, p: pad}
	st.attr = b.name("conv")
	st.path = b.path + "." + st.attr
	p.add(tensorSpec{key: st.path + ".weight", variable: scope + "/weights", shape: []int{width, c, k, k},
		gomlx: []int{c * k * k, width}, how: convWeight, trainable: true})
	p.add(tensorSpec{key: st.path + ".bias", variable: scope + "/bias", shape: []int{width}, gomlx: []int{width}, trainable: true})
	return st
}

// terminal lays out a prerouting, postrouting or computation terminal; identity gives no step.
func (p *plan) terminal(b *block, n *grammar.Node, scope string) ([]*step, error) {
	st := &step{op: n.Op, in: n.In, out: n.Out, scope: scope}
	named := func(stem string) {
		st.attr = b.name(stem)
		st.path = b.path + "." + st.attr
	}
	switch n.Op.Family() {
	case grammar.FamIdentity:
		return nil, nil
	case grammar.FamPermute:
		st.kind = stepPermute
		st.perm = []int{0}
		for _, d := range n.Op.Permutation() {
			st.perm = append(st.perm, d+1)
		}
	case grammar.FamIm2col:
		st.kind = stepIm2col
		st.k, st.s, st.p = n.Op.Kernel()
	case grammar.FamCol2im:
		st.kind = stepCol2im
	case grammar.FamLinear:
		st.kind = stepLinear
		in := n.In.Last()
		st.width = n.Op.LinearWidth(in)
		named("linear")
		p.add(tensorSpec{key: st.path + ".weight", variable: scope + "/weights", shape: []int{st.width, in},
			gomlx: []int{in, st.width}, how: linearWeight, trainable: true})
		p.add(tensorSpec{key: st.path + ".bias", variable: scope + "/bias", shape: []int{st.width}, gomlx: []int{st.width}, trainable: true})
	case grammar.FamNorm:
		named("norm")
		if n.In.Rank() == 3 {
			st.kind = stepBatchNorm
			c := n.In.Dim(0)
			for _, v := range [][2]string{{"weight", "gamma"}, {"bias", "beta"}, {"running_mean", "running_mean"}, {"running_var", "running_var"}} {
				p.add(tensorSpec{key: st.path + "." + v[0], variable: scope + "/" + v[1], shape: []int{c}, gomlx: []int{c},
					trainable: !strings.HasPrefix(v[0], "running")})
			}
			p.add(tensorSpec{key: st.path + ".num_batches_tracked", shape: []int{}, how: batchesTracked})
		} else {
			st.kind = stepLayerNorm
			d := n.In.Last()
			p.add(tensorSpec{key: st.path + ".weight", variable: scope + "/gamma", shape: []int{d}, gomlx: []int{d}, trainable: true})
			p.add(tensorSpec{key: st.path + ".bias", variable: scope + "/beta", shape: []int{d}, gomlx: []int{d}, trainable: true})
		}
	case grammar.FamLeakyReLU:
		st.kind = stepLeakyReLU
	case grammar.FamSoftmax:
		st.kind = stepSoftmax
	case grammar.FamPositional:
		st.kind = stepPositional
		named("pos_enc")
		dims := append([]int{1}, n.In.Dims()...)
		p.add(tensorSpec{key: st.path, variable: scope + "/encoding", shape: dims, gomlx: dims, trainable: true})
	default:
		return nil, fmt.Errorf("export: the terminal %s has no counterpart in the export targets", n.Op)
	}
	return []*step{st}, nil
}

// lastName is the part of a dotted path after the last dot.
func lastName(path string) string { return path[strings.LastIndexByte(path, '.')+1:] }

// snake turns a class name into an attribute stem: MatMul -> mat_mul.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func product(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}
