package grammar

import "fmt"

// Production is one module rule of the grammar as data (SPEC §2.1): the name and brackets it is written
// with and the slots between them. The parser, the printer, shape inference, the sampler, mutation and the
// command line all read this table, so that a slot is named, classed and counted in one place.
type Production struct {
	Kind        Kind
	Name        string // as written: "sequential"
	Open, Close byte   // its brackets: '(' and ')'
	Slots       []Slot // in order; branching's inner slot stands for as many modules as its factor asks
}

// Slot is one item between a production's brackets.
type Slot struct {
	Name   string // short, for paths in errors and for tree listings: "first", "pre", "inner", "fn"
	Module bool   // the slot holds a module; otherwise a terminal of Class
	Class  Class  // the terminal class, when not Module
	// Repeated marks branching's inner slot: InnerModules(factor) modules, one per branch for factor 2,
	// one shared by every branch for factors 4 and 8 (SPEC §10.4).
	Repeated bool
	// What and After name the slot and the comma after it in parse errors ("expected a module for the
	// first module of sequential", "expected ',' between the two modules of sequential").
	What, After string
}

var productions = [...]Production{
	SequentialModule: {SequentialModule, "sequential", '(', ')', []Slot{
		{Name: "first", Module: true, What: "the first module of sequential", After: "between the two modules of sequential"},
		{Name: "second", Module: true, What: "the second module of sequential"},
	}},
	BranchingModule: {BranchingModule, "branching", '{', '}', []Slot{
		{Name: "branch", Class: Branching, What: "the first item of branching", After: "after the previous item of branching"},
		{Name: "inner", Module: true, Repeated: true, What: "the inner module of branching", After: "after the inner module(s) of branching"},
		{Name: "aggregate", Class: Aggregation, What: "the last item of branching"},
	}},
	RoutingModule: {RoutingModule, "routing", '[', ']', []Slot{
		{Name: "pre", Class: Prerouting, What: "the first item of routing", After: "after the prerouting function"},
		{Name: "inner", Module: true, What: "the inner module of routing", After: "after the inner module of routing"},
		{Name: "post", Class: Postrouting, What: "the last item of routing"},
	}},
	ComputationModule: {ComputationModule, "computation", '<', '>', []Slot{
		{Name: "fn", Class: Computation, What: "computation"},
	}},
}

// ProductionOf returns the rule of a module kind; ok is false for Terminal.
func ProductionOf(k Kind) (p Production, ok bool) {
	if int(k) >= len(productions) {
		return Production{}, false
	}
	return productions[k], true
}

// productionNamed finds a rule by the name it is written with.
func productionNamed(name string) (*Production, bool) {
	for i := range productions {
		if productions[i].Name == name {
			return &productions[i], true
		}
	}
	return nil, false
}

// InnerModules is how many inner modules a branching module with the given factor holds: one per branch
// for factor 2, one shared by all branches for factors 4 and 8 (SPEC §10.4).
func InnerModules(factor int) int {
	if factor == 2 {
		return 2
	}
	return 1
}

// SlotOf returns the slot that child i of the module n fills, and for a repeated slot which of its
// modules it is (0 otherwise).
func (n *Node) SlotOf(i int) (s Slot, index int) {
	slots := productions[n.Kind].Slots
	if n.Kind != BranchingModule {
		return slots[i], 0
	}
	switch i {
	case 0:
		return slots[0], 0
	case len(n.Children) - 1:
		return slots[2], 0
	}
	return slots[1], i - 1
}

// SlotName names child i of the module n in paths: "first", "pre", "fn", and "inner[k]" for branching's
// inner modules.
func (n *Node) SlotName(i int) string {
	s, k := n.SlotOf(i)
	if s.Repeated {
		return fmt.Sprintf("%s[%d]", s.Name, k)
	}
	return s.Name
}

// Convolution is what a routing module that computes a convolution holds: routing[im2colKkSsPp,
// computation<linearN>, col2im] (SPEC §2.4), with the kernel, stride and padding of the im2col and the
// output channels of the linear layer.
type Convolution struct {
	Kernel, Stride, Padding int
	Out                     int // output channels; 0 when the tree is not inferred
}

// Convolution reports whether n is a routing module that computes a convolution, and which.
func (n *Node) Convolution() (Convolution, bool) {
	if n.Kind != RoutingModule || len(n.Children) != 3 {
		return Convolution{}, false
	}
	pre, inner, post := n.Children[0], n.Children[1], n.Children[2]
	if pre.Op.Family() != FamIm2col || post.Op.Family() != FamCol2im ||
		inner.Kind != ComputationModule || len(inner.Children) != 1 || inner.Children[0].Op.Family() != FamLinear {
		return Convolution{}, false
	}
	k, s, p := pre.Op.Kernel()
	c := Convolution{Kernel: k, Stride: s, Padding: p}
	if out := inner.Children[0].Out; !out.IsZero() {
		c.Out = out.Last()
	}
	return c, true
}
