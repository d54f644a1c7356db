package viz

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"

	"github.com/einspace-go/einspace/grammar"
)

// Group is what a node of an architecture chart shows: a module kind, a group of terminals, or a block
// recognised from a pattern of several nodes. Each group has its colour in Palette.
type Group string

// The groups.
const (
	GroupSequential  Group = "sequential"
	GroupBranching   Group = "branching"
	GroupRouting     Group = "routing"
	GroupComputation Group = "computation"
	GroupLinear      Group = "linear"
	GroupNorm        Group = "norm"
	GroupActivation  Group = "activation"
	GroupSoftmax     Group = "softmax"
	GroupPositional  Group = "positional"
	GroupIdentity    Group = "identity"
	GroupPatches     Group = "im2col/col2im"
	GroupPermute     Group = "permute"
	GroupBranchFn    Group = "branching fn"
	GroupAggregateFn Group = "aggregation fn"
	GroupConv        Group = "conv"      // routing[im2col, computation<linear>, col2im]
	GroupAttention   Group = "attention" // a branching merged by a dot product
	GroupResidual    Group = "residual"  // a 2-way clone branching with an identity branch, merged by adding
	GroupIO          Group = "input/output"
)

// TerminalGroup is the group of a terminal symbol.
func TerminalGroup(op grammar.Op) Group {
	switch op.Family() {
	case grammar.FamLinear:
		return GroupLinear
	case grammar.FamNorm:
		return GroupNorm
	case grammar.FamLeakyReLU:
		return GroupActivation
	case grammar.FamSoftmax:
		return GroupSoftmax
	case grammar.FamPositional:
		return GroupPositional
	case grammar.FamIm2col, grammar.FamCol2im:
		return GroupPatches
	case grammar.FamPermute:
		return GroupPermute
	case grammar.FamClone, grammar.FamGroup:
		return GroupBranchFn
	case grammar.FamDot, grammar.FamScaledDot, grammar.FamAdd, grammar.FamCat:
		return GroupAggregateFn
	}
	return GroupIdentity // identity (prerouting, postrouting or computation)
}

// Conv reports whether n is routing[im2colKkSsPp, computation<linear>, col2im], a convolution, and returns
// its label, e.g. "conv3x3/1 → 64" (kernel, stride, output channels).
func Conv(n *grammar.Node) (label string, ok bool) {
	c, ok := n.Convolution()
	if !ok {
		return "", false
	}
	out := "?"
	if c.Out > 0 {
		out = strconv.Itoa(c.Out)
	}
	return fmt.Sprintf("conv%dx%d/%d → %s", c.Kernel, c.Kernel, c.Stride, out), true
}

// blockLabel names a module as a person would: a conv, a residual, an attention, or the module's kind with
// its terminals.
func blockLabel(n *grammar.Node) (string, Group) {
	switch n.Kind {
	case grammar.Terminal:
		return n.Op.Name(), TerminalGroup(n.Op)
	case grammar.ComputationModule:
		return n.Children[0].Op.Name(), TerminalGroup(n.Children[0].Op)
	case grammar.RoutingModule:
		if label, ok := Conv(n); ok {
			return label, GroupConv
		}
		return fmt.Sprintf("route %s…%s", n.Children[0].Op.Name(), n.Children[2].Op.Name()), GroupRouting
	case grammar.BranchingModule:
		b, a := n.Children[0].Op, n.Children[len(n.Children)-1].Op
		switch {
		case a.Family() == grammar.FamDot || a.Family() == grammar.FamScaledDot:
			return "attention: " + strings.ReplaceAll(a.Name(), "_", " "), GroupAttention
		case isResidual(n):
			return "residual (+)", GroupResidual
		}
		label := fmt.Sprintf("branch %s→%s", b.Name(), a.Name())
		if f := n.Factor(); f > 2 {
			label += fmt.Sprintf(" (×%d)", f)
		}
		return label, GroupBranching
	}
	return "sequential", GroupSequential
}

// isResidual reports whether n is branching{clone_tensor2, M, computation<identity>, add_tensors} (either
// branch the identity).
func isResidual(n *grammar.Node) bool {
	if n.Kind != grammar.BranchingModule || len(n.Children) != 4 {
		return false
	}
	if n.Children[0].Op.Family() != grammar.FamClone || n.Children[3].Op.Family() != grammar.FamAdd {
		return false
	}
	return isIdentity(n.Children[1]) || isIdentity(n.Children[2])
}

func isIdentity(n *grammar.Node) bool {
	return n.Kind == grammar.ComputationModule && n.Children[0].Op.Family() == grammar.FamIdentity
}

// cost is a subtree's size: parameters and multiply-adds (every instance of a shared inner module
// counted) and nodes as written.
type cost struct {
	params, flops int64
	nodes         int
}

// costs computes every subtree's cost in one pass.
func costs(root *grammar.Node) map[*grammar.Node]cost {
	m := map[*grammar.Node]cost{}
	var walk func(n *grammar.Node) cost
	walk = func(n *grammar.Node) cost {
		var c cost
		if n.Kind == grammar.Terminal {
			s := (&grammar.Arch{Root: n}).Stats()
			c = cost{params: s.Params, flops: s.FLOPs, nodes: 1}
		} else {
			c.nodes = 1
			shared := n.Kind == grammar.BranchingModule && len(n.Children) == 3
			for i, child := range n.Children {
				cc := walk(child)
				if shared && i == 1 {
					f := int64(n.Factor())
					cc.params, cc.flops = cc.params*f, cc.flops*f
				}
				c.params += cc.params
				c.flops += cc.flops
				c.nodes += cc.nodes
			}
		}
		m[n] = c
		return c
	}
	walk(root)
	return m
}

// tooltip is the HTML a node's tooltip shows: its name, kind, shapes and the size of its subtree.
func tooltip(label string, g Group, n *grammar.Node, c cost) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<b>%s</b> <span style=\"color:%s\">■</span> %s<br/>", esc(label), Palette[g], esc(string(g)))
	if !n.In.IsZero() {
		fmt.Fprintf(&b, "in %v → out %v", n.In, n.Out)
		if n.OutBF > 1 {
			fmt.Fprintf(&b, " (%d branches)", n.OutBF)
		}
		b.WriteString("<br/>")
	}
	fmt.Fprintf(&b, "params %s · FLOPs %s · nodes %d", Count(c.params), Count(c.flops), c.nodes)
	if n.Kind == grammar.BranchingModule && len(n.Children) == 3 {
		fmt.Fprintf(&b, "<br/>inner module shared by %d copies (counted %d times)", n.Factor(), n.Factor())
	}
	return b.String()
}

// esc escapes text for HTML and for ECharts' formatter templates, which read {a}, {b} and {c}.
func esc(s string) string {
	s = html.EscapeString(s)
	return strings.NewReplacer("{", "&#123;", "}", "&#125;").Replace(s)
}

// Count prints a count with a metric suffix: 950, 1.79K, 11.2M, 3.1G, 4.5T, 2.1P.
func Count(v int64) string {
	f := float64(v)
	for _, u := range []struct {
		limit, scale float64
		suffix       string
	}{{1e3, 1, ""}, {1e6, 1e3, "K"}, {1e9, 1e6, "M"}, {1e12, 1e9, "G"}, {1e15, 1e12, "T"}} {
		if math.Abs(f) < u.limit {
			if u.suffix == "" {
				return strconv.FormatInt(v, 10)
			}
			return trimFloat(f/u.scale) + u.suffix
		}
	}
	return trimFloat(f/1e15) + "P"
}

func trimFloat(f float64) string {
	return strconv.FormatFloat(f, 'g', 3, 64)
}
