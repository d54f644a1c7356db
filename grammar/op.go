package grammar

import (
	"fmt"
	"strings"
)

// Class is the kind of slot a terminal fills: one of the five terminal non-terminals B, A, P, R and C.
type Class uint8

const (
	// Branching functions (B) split one tensor into 2, 4 or 8.
	Branching Class = iota
	// Aggregation functions (A) merge the branches back into one tensor.
	Aggregation
	// Prerouting functions (P) reshape a tensor before a routing module's inner module.
	Prerouting
	// Postrouting functions (R) reshape it after.
	Postrouting
	// Computation functions (C) compute: linear layers, norms, activations, positional encodings.
	Computation
	numClasses
)

var classNames = [numClasses]string{"branching function", "aggregation function", "prerouting function",
	"postrouting function", "computation function"}

func (c Class) String() string { return classNames[c] }

// withArticle is the class's name after "a" or "an".
func (c Class) withArticle() string {
	if c == Aggregation {
		return "an " + c.String()
	}
	return "a " + c.String()
}

// Family groups terminals that compute the same way and differ only in their parameters.
type Family uint8

// The terminal families.
const (
	FamClone Family = iota + 1
	FamGroup
	FamDot
	FamScaledDot
	FamAdd
	FamCat
	FamIdentity
	FamPermute
	FamIm2col
	FamCol2im
	FamLinear
	FamNorm
	FamLeakyReLU
	FamSoftmax
	FamPositional
)

// Op is a terminal symbol of the grammar, such as linear64 or im2col3k1s1p. The zero Op is not a terminal.
type Op uint8

type opInfo struct {
	name    string
	family  Family
	classes [numClasses]bool
	factor  int    // branching factor (clone, group) or arity (cat)
	dim     int    // grammar dimension (batch = 0) of group and cat
	k, s, p int    // im2col kernel, stride, padding
	perm    [3]int // permutation of the non-batch dimensions, 0-based
	rank    int8   // how many dimensions perm permutes: 2 (col mode) or 3 (im mode)
	width   int    // linear output width; 0 for linear_x4 and linear_4th
	scale   int    // linear_x4: 4 (out = 4·in); linear_4th: -4 (out = in/4)
	seed    bool   // seed-only terminal: never sampled
}

var (
	ops       = []opInfo{{}} // index 0 is the invalid Op
	opsByName = map[string]Op{}
	// slotOptions lists, per class, the terminals in the reference code's option order.
	slotOptions [numClasses][]Op
)

func addOp(info opInfo, classes ...Class) Op {
	op, ok := opsByName[info.name]
	if !ok {
		op = Op(len(ops))
		ops = append(ops, info)
		opsByName[info.name] = op
	}
	for _, c := range classes {
		ops[op].classes[c] = true
		slotOptions[c] = append(slotOptions[c], op)
	}
	return op
}

// Terminals the sampler treats specially.
var opIdentity, opLinearX4 Op

func init() {
	for _, b := range []int{2, 4, 8} {
		addOp(opInfo{name: fmt.Sprintf("clone_tensor%d", b), family: FamClone, factor: b}, Branching)
	}
	for _, b := range []int{2, 4, 8} {
		for d := 1; d <= 3; d++ {
			addOp(opInfo{name: fmt.Sprintf("group_dim%ds%dd", b, d), family: FamGroup, factor: b, dim: d}, Branching)
		}
	}
	addOp(opInfo{name: "dot_product", family: FamDot, factor: 2}, Aggregation)
	addOp(opInfo{name: "scaled_dot_product", family: FamScaledDot, factor: 2}, Aggregation)
	addOp(opInfo{name: "add_tensors", family: FamAdd}, Aggregation)
	for _, n := range []int{2, 4, 8} {
		for d := 1; d <= 3; d++ {
			addOp(opInfo{name: fmt.Sprintf("cat_tensors%dd%dt", d, n), family: FamCat, factor: n, dim: d}, Aggregation)
		}
	}
	opIdentity = addOp(opInfo{name: "identity", family: FamIdentity}, Prerouting, Postrouting)
	perms := []struct {
		name string
		perm [3]int
	}{{"permute21", [3]int{1, 0, 0}}, {"permute132", [3]int{0, 2, 1}}, {"permute213", [3]int{1, 0, 2}},
		{"permute231", [3]int{1, 2, 0}}, {"permute312", [3]int{2, 0, 1}}, {"permute321", [3]int{2, 1, 0}}}
	for i, p := range perms {
		rank := int8(3)
		if i == 0 {
			rank = 2
		}
		addOp(opInfo{name: p.name, family: FamPermute, perm: p.perm, rank: rank}, Prerouting, Postrouting)
	}
	for _, ksp := range [][3]int{{1, 1, 0}, {1, 2, 0}, {3, 1, 1}, {3, 2, 1}, {4, 4, 0}, {8, 8, 0}, {16, 16, 0}} {
		name := fmt.Sprintf("im2col%dk%ds%dp", ksp[0], ksp[1], ksp[2])
		addOp(opInfo{name: name, family: FamIm2col, k: ksp[0], s: ksp[1], p: ksp[2]}, Prerouting)
	}
	addOp(opInfo{name: "col2im", family: FamCol2im}, Postrouting)
	addOp(opInfo{name: "identity"}, Computation)
	for _, n := range []int{16, 32, 64, 128, 256, 512, 1024, 2048} {
		addOp(opInfo{name: fmt.Sprintf("linear%d", n), family: FamLinear, width: n}, Computation)
	}
	addOp(opInfo{name: "norm", family: FamNorm}, Computation)
	addOp(opInfo{name: "leakyrelu", family: FamLeakyReLU}, Computation)
	addOp(opInfo{name: "softmax", family: FamSoftmax}, Computation)
	addOp(opInfo{name: "learnable_positional_encoding", family: FamPositional}, Computation)
	// The two seed-only terminals of SPEC §10.8 are not in the sampler's option list.
	for _, s := range []struct {
		name  string
		scale int
	}{{"linear_x4", 4}, {"linear_4th", -4}} {
		op := addOp(opInfo{name: s.name, family: FamLinear, scale: s.scale, seed: true})
		ops[op].classes[Computation] = true
	}
	opLinearX4 = opsByName["linear_x4"]
}

// OpByName returns the terminal with the given name, and whether it exists.
func OpByName(name string) (Op, bool) {
	op, ok := opsByName[name]
	return op, ok
}

// Terminals returns the terminals that may fill a slot of class c, in the reference code's order. The
// seed-only computation terminals linear_x4 and linear_4th are not among them: they are never sampled.
func Terminals(c Class) []Op { return append([]Op(nil), slotOptions[c]...) }

// Name is the terminal's name as written in the text format.
func (op Op) Name() string { return ops[op].name }

func (op Op) String() string {
	if op == 0 || int(op) >= len(ops) {
		return fmt.Sprintf("Op(%d)", uint8(op))
	}
	return ops[op].name
}

// Family is the terminal's family (linear64 and linear128 are both FamLinear).
func (op Op) Family() Family { return ops[op].family }

// In reports whether the terminal may fill a slot of class c.
func (op Op) In(c Class) bool { return ops[op].classes[c] }

// Factor is the branching factor of a branching function, or the arity that a concatenation is written
// for; 0 otherwise.
func (op Op) Factor() int { return ops[op].factor }

// Dim is the grammar dimension (batch = 0) that a group_dim or cat_tensors terminal acts on; 0 otherwise.
func (op Op) Dim() int { return ops[op].dim }

// Kernel returns an im2col terminal's kernel size, stride and padding.
func (op Op) Kernel() (k, stride, pad int) { i := ops[op]; return i.k, i.s, i.p }

// Permutation returns the order of the non-batch dimensions after a permute terminal (0-based), as many
// entries as the mode has dimensions.
func (op Op) Permutation() []int {
	i := ops[op]
	return append([]int(nil), i.perm[:i.rank]...)
}

// LinearWidth returns the output width of a linear terminal for an input of width in.
func (op Op) LinearWidth(in int) int {
	i := ops[op]
	switch {
	case i.scale > 0:
		return in * i.scale
	case i.scale < 0:
		return in / -i.scale
	}
	return i.width
}

// SeedOnly reports whether the terminal only appears in seed architectures and is never sampled.
func (op Op) SeedOnly() bool { return ops[op].seed }

func classNamesFor(op Op) string {
	var names []string
	for c := Class(0); c < numClasses; c++ {
		if op.In(c) {
			names = append(names, c.String())
		}
	}
	return strings.Join(names, " or ")
}
