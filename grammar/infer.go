package grammar

import (
	"fmt"
	"slices"
	"strings"
)

// state is what a slot receives from its parent (SPEC §3.2).
type state struct {
	in     Shape
	other  Shape // aggregation slots only
	bf     int
	lastIm [2]int
	depth  int
}

// ShapeError says why shape inference rejected a tree, and where.
type ShapeError struct {
	Path string // the slots from the root, e.g. "root.second.inner[0].pre"
	Pos  Pos    // the node's position in the parsed text, if it was parsed
	Node string // the node's symbol, e.g. "col2im" or "branching"
	Msg  string
}

func (e *ShapeError) Error() string {
	var b strings.Builder
	if e.Pos.IsValid() {
		b.WriteString(e.Pos.String())
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%s at %s: %s", e.Node, e.Path, e.Msg)
	return b.String()
}

// inferError collects the path while it unwinds from the failing node to the root.
type inferError struct {
	node *Node
	msg  string
	path []string // innermost first
}

func (e *inferError) Error() string { return e.msg }

func (e *inferError) at(slot string) *inferError {
	e.path = append(e.path, slot)
	return e
}

func (e *inferError) shapeError() *ShapeError {
	path := slices.Clone(e.path)
	slices.Reverse(path)
	name := e.node.Kind.String()
	if e.node.Kind == Terminal {
		name = e.node.Op.Name()
	}
	return &ShapeError{Path: strings.Join(append([]string{"root"}, path...), "."), Pos: e.node.Pos, Node: name, Msg: e.msg}
}

func fail(n *Node, format string, args ...any) *inferError {
	return &inferError{node: n, msg: fmt.Sprintf(format, args...)}
}

// inferer re-infers a tree. It is the single source of the shape rules for parsed, sampled, mutated and
// crossed trees.
type inferer struct {
	maxDepth int
}

// module infers the module n from the state it receives. root says whether n is the network's root.
func (f *inferer) module(n *Node, st state, root bool) *inferError {
	if !n.IsModule() {
		return fail(n, "a module slot holds the terminal %s; write computation<%s> if you meant a computation", n.Op.Name(), n.Op.Name())
	}
	if root && n.Kind == ComputationModule {
		return fail(n, "the network's root must be a sequential, branching or routing module, not a computation module")
	}
	if n.Kind != ComputationModule && f.maxDepth > 0 && st.depth >= f.maxDepth {
		return fail(n, "module depth %d reaches the limit %d, where only computation modules are allowed", st.depth, f.maxDepth)
	}
	n.In, n.Other, n.InBF, n.LastIm, n.Depth = st.in, Shape{}, st.bf, st.lastIm, st.depth
	child := state{depth: st.depth + 1, lastIm: st.lastIm}
	switch n.Kind {
	case SequentialModule:
		if len(n.Children) != 2 {
			return fail(n, "sequential takes 2 modules, got %d", len(n.Children))
		}
		child.in, child.bf = st.in, st.bf
		if err := f.module(n.Children[0], child, false); err != nil {
			return err.at(n.SlotName(0))
		}
		child.in = n.Children[0].Out
		if err := f.module(n.Children[1], child, false); err != nil {
			return err.at(n.SlotName(1))
		}
	case BranchingModule:
		if err := f.branching(n, st, child); err != nil {
			return err
		}
	case RoutingModule:
		if len(n.Children) != 3 {
			return fail(n, "routing takes a prerouting function, a module and a postrouting function, got %d items", len(n.Children))
		}
		pre, inner, post := n.Children[0], n.Children[1], n.Children[2]
		child.in, child.bf = st.in, st.bf
		if err := f.terminal(pre, Prerouting, child); err != nil {
			return err.at(n.SlotName(0))
		}
		child.in, child.bf = pre.Out, pre.OutBF
		if err := f.module(inner, child, false); err != nil {
			return err.at(n.SlotName(1))
		}
		// SPEC §3.2 and §10.6: only the sibling postrouting function sees the prerouting im2col's grid.
		child.in, child.bf = inner.Out, inner.OutBF
		if pre.Op.Family() == FamIm2col {
			child.lastIm = pre.LastIm
		}
		if err := f.terminal(post, Postrouting, child); err != nil {
			return err.at(n.SlotName(2))
		}
	case ComputationModule:
		if len(n.Children) != 1 {
			return fail(n, "computation takes one computation function, got %d", len(n.Children))
		}
		child.in, child.bf = st.in, st.bf
		if err := f.terminal(n.Children[0], Computation, child); err != nil {
			return err.at(n.SlotName(0))
		}
	}
	last := n.Children[len(n.Children)-1]
	n.Out, n.OutBF = last.Out, last.OutBF
	return nil
}

func (f *inferer) branching(n *Node, st, child state) *inferError {
	if len(n.Children) < 3 {
		return fail(n, "branching takes a branching function, its inner modules and an aggregation function, got %d items", len(n.Children))
	}
	b := n.Children[0]
	child.in, child.bf = st.in, st.bf
	if err := f.terminal(b, Branching, child); err != nil {
		return err.at(n.SlotName(0))
	}
	factor := b.Op.Factor()
	wantInner := InnerModules(factor)
	inner := n.Children[1 : len(n.Children)-1]
	if len(inner) != wantInner {
		return fail(n, "%s has factor %d, so branching takes %d inner module(s) (SPEC §10.4), got %d", b.Op.Name(), factor, wantInner, len(inner))
	}
	child.in, child.bf = b.Out, factor
	for i, m := range inner {
		if err := f.module(m, child, false); err != nil {
			return err.at(n.SlotName(1 + i))
		}
	}
	agg := state{in: inner[0].Out, other: inner[len(inner)-1].Out, bf: factor, lastIm: st.lastIm, depth: child.depth}
	if err := f.terminal(n.Children[len(n.Children)-1], Aggregation, agg); err != nil {
		return err.at(n.SlotName(len(n.Children) - 1))
	}
	return nil
}

func (f *inferer) terminal(n *Node, class Class, st state) *inferError {
	if n.Kind != Terminal {
		return fail(n, "expected %s, found a %s module", class.withArticle(), n.Kind)
	}
	if !n.Op.In(class) {
		return fail(n, "%s is a %s, not a %s", n.Op.Name(), classNamesFor(n.Op), class)
	}
	n.In, n.Other, n.InBF, n.LastIm, n.Depth = st.in, st.other, st.bf, st.lastIm, st.depth
	out, bf, grid, msg := apply(n.Op, class, st, true)
	if msg != "" {
		return fail(n, "%s", msg)
	}
	n.Out, n.OutBF = out, bf
	if n.Op.Family() == FamIm2col {
		n.LastIm = grid
	}
	return nil
}

// why is a rejection's reason: only the fact (rejected) when not explaining, for the sampler, which
// rejects tens of candidates for every node it keeps and must not pay for messages it never shows; the
// message, formatted by reason, when explaining to a user. The func literal does not escape, so the fact costs
// no allocation.
func why(explain bool, reason func() string) string {
	if !explain {
		return rejected
	}
	return reason()
}

// apply computes a terminal's output shape and branching factor in a slot of the given class. It returns
// a non-empty message when the terminal cannot take the input. For an im2col it also returns the (H', W')
// grid its col2im will fold back to.
func apply(op Op, class Class, st state, explain bool) (out Shape, bf int, grid [2]int, msg string) {
	in := st.in
	info := &ops[op]
	bf = st.bf
	switch info.family {
	case FamClone:
		return in, info.factor, grid, ""
	case FamGroup:
		d := info.dim
		if d > in.Rank() {
			return out, 0, grid, why(explain, func() string {
				return fmt.Sprintf("splits dimension %d, but a %s-mode input %v has dimensions 1..%d", d, in.Mode(), in, in.Rank())
			})
		}
		if size := in.Dim(d - 1); size%info.factor != 0 {
			return out, 0, grid, why(explain, func() string {
				return fmt.Sprintf("splits dimension %d of size %d into %d equal groups: %d is not divisible by %d", d, size, info.factor, size, info.factor)
			})
		}
		return in.withDim(d-1, in.Dim(d-1)/info.factor), info.factor, grid, ""
	case FamDot, FamScaledDot, FamAdd, FamCat:
		out, msg = aggregate(op, st.in, st.other, st.bf, explain)
		return out, 1, grid, msg
	case FamIdentity, FamSoftmax, FamLeakyReLU, FamNorm, FamPositional:
		return in, bf, grid, ""
	case FamPermute:
		if int(info.rank) != in.Rank() {
			return out, 0, grid, why(explain, func() string {
				return fmt.Sprintf("permutes %d dimensions, but its input %v is in %s mode with %d", info.rank, in, in.Mode(), in.Rank())
			})
		}
		out = in
		for i, p := range info.perm[:info.rank] {
			out.dims[i] = in.dims[p]
		}
		return out, bf, grid, ""
	case FamIm2col:
		if in.Mode() != Im {
			return out, 0, grid, why(explain, func() string { return fmt.Sprintf("needs an im-mode input (C,H,W), got %v in col mode", in) })
		}
		k, s, p := info.k, info.s, info.p
		h, w := in.Dim(1), in.Dim(2)
		if h+2*p < k || w+2*p < k {
			return out, 0, grid, why(explain, func() string {
				return fmt.Sprintf("a %dx%d kernel with padding %d does not fit the %dx%d input %v", k, k, p, h, w, in)
			})
		}
		oh, ow := (h+2*p-k)/s+1, (w+2*p-k)/s+1
		return ColShape(oh*ow, in.Dim(0)*k*k), bf, [2]int{oh, ow}, ""
	case FamCol2im:
		if in.Mode() != Col {
			return out, 0, grid, why(explain, func() string { return fmt.Sprintf("needs a col-mode input (L,D), got %v in im mode", in) })
		}
		if st.lastIm == [2]int{} {
			return out, 0, grid, "col2im must be the postrouting function of a routing module whose prerouting function is an im2col (SPEC §10.6)"
		}
		oh, ow := st.lastIm[0], st.lastIm[1]
		if in.Dim(0) != oh*ow {
			return out, 0, grid, why(explain, func() string {
				return fmt.Sprintf("folds %d tokens back onto the im2col's %dx%d grid, which needs %d tokens (SPEC §10.6)", in.Dim(0), oh, ow, oh*ow)
			})
		}
		return ImShape(in.Dim(1), oh, ow), bf, grid, ""
	case FamLinear:
		width := op.LinearWidth(in.Last())
		if info.scale < 0 && in.Last()%(-info.scale) != 0 {
			return out, 0, grid, why(explain, func() string {
				return fmt.Sprintf("divides its input width %d by %d, which leaves a remainder", in.Last(), -info.scale)
			})
		}
		if width <= 0 {
			return out, 0, grid, why(explain, func() string { return fmt.Sprintf("would produce width %d from input width %d", width, in.Last()) })
		}
		return in.withDim(in.Rank()-1, width), bf, grid, ""
	}
	return out, 0, grid, why(explain, func() string { return fmt.Sprintf("%s cannot be used as a %s", op.Name(), class) })
}

// aggregate applies an aggregation function to the inner modules' outputs a and b (b = a for the shared
// inner module of 4- and 8-way branching). factor is the branching module's factor: per SPEC §10.2 the
// aggregation's arity is that factor.
func aggregate(op Op, a, b Shape, factor int, explain bool) (Shape, string) {
	info := &ops[op]
	if a.Rank() != b.Rank() {
		return Shape{}, why(explain, func() string {
			return fmt.Sprintf("its inputs %v (%s mode) and %v (%s mode) differ in mode", a, a.Mode(), b, b.Mode())
		})
	}
	switch info.family {
	case FamDot, FamScaledDot:
		if factor != 2 {
			return Shape{}, why(explain, func() string {
				return fmt.Sprintf("multiplies two tensors, but its branching module has factor %d (SPEC §10.2)", factor)
			})
		}
		if a.Mode() == Col {
			if a.Dim(1) != b.Dim(0) {
				return Shape{}, why(explain, func() string {
					return fmt.Sprintf("cannot multiply %v by %v: %d columns against %d rows", a, b, a.Dim(1), b.Dim(0))
				})
			}
			return ColShape(a.Dim(0), b.Dim(1)), ""
		}
		if a.Dim(0) != b.Dim(0) || a.Dim(2) != b.Dim(1) {
			return Shape{}, why(explain, func() string {
				return fmt.Sprintf("cannot multiply %v by %v: needs equal channels and %d columns against %d rows", a, b, a.Dim(2), b.Dim(1))
			})
		}
		return ImShape(a.Dim(0), a.Dim(1), b.Dim(2)), ""
	case FamAdd:
		if a != b {
			return Shape{}, why(explain, func() string { return fmt.Sprintf("adds tensors of different shapes %v and %v", a, b) })
		}
		return a, ""
	case FamCat:
		if info.factor != factor {
			return Shape{}, why(explain, func() string {
				return fmt.Sprintf("concatenates %d tensors, but its branching module has factor %d (SPEC §10.2)", info.factor, factor)
			})
		}
		d := info.dim
		if d > a.Rank() {
			return Shape{}, why(explain, func() string {
				return fmt.Sprintf("concatenates along dimension %d, but %s-mode tensors %v have dimensions 1..%d", d, a.Mode(), a, a.Rank())
			})
		}
		for i := 0; i < a.Rank(); i++ {
			if i != d-1 && a.Dim(i) != b.Dim(i) {
				return Shape{}, why(explain, func() string {
					return fmt.Sprintf("concatenates %v and %v along dimension %d, but they differ in dimension %d", a, b, d, i+1)
				})
			}
		}
		return a.withDim(d-1, a.Dim(d-1)+b.Dim(d-1)*(factor-1)), ""
	}
	return Shape{}, why(explain, func() string { return fmt.Sprintf("%s is not an aggregation function", op.Name()) })
}

// rejected is the reason apply gives when nobody will read it: the sampler tries thousands of terminals
// that do not fit, and formatting each reason would dominate its time.
const rejected = "rejected"
