package grammar

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// Limits are optional caps on an architecture's size, computed analytically (SPEC §10.9). Zero means no cap.
// Parameters, FLOPs and activation memory count every instance of a 4- or 8-way branching module's shared
// inner module.
type Limits struct {
	Nodes           int   // nodes in the tree as written
	Params          int64 // trainable parameters of the backbone
	FLOPs           int64 // multiply-adds of one example's forward pass
	ActivationBytes int64 // float32 bytes of every terminal's output for one example
}

// Grammar holds the probabilities and limits of the einspace PCFG. The zero value is not useful: start from
// Default and change what you need.
type Grammar struct {
	// PComputation is p(M -> computation): 0.32 in the paper. The other module productions share 1-p equally.
	PComputation float64
	// MaxDepth is the module depth at which only computation modules are allowed (100 in the paper).
	MaxDepth int
	// Limits caps the size of sampled architectures and mutated children. A sample over a cap is rejected
	// and sampled again; a sample whose construction (subtrees discarded by backtracking included) creates
	// more than 4×Limits.Nodes nodes is abandoned early and counted as rejected for its size.
	Limits Limits
	// MaxAttempts bounds the samples (or mutations) one call may reject before it gives up with an error.
	MaxAttempts int
}

// DefaultLimits caps sampled architectures at 10,000 nodes, the limit of the authors' later re-write; the
// paper's own sampler had none, and at p = 0.32 a few samples in a hundred grow past it.
var DefaultLimits = Limits{Nodes: 10_000}

// Default returns the paper's grammar: p(computation) = 0.32, maximum module depth 100, with DefaultLimits.
func Default() *Grammar {
	return &Grammar{PComputation: 0.32, MaxDepth: 100, Limits: DefaultLimits, MaxAttempts: 10_000}
}

// Arch is an architecture: a derivation tree inferred for an input shape (without the batch dimension).
type Arch struct {
	Root  *Node
	Input Shape
}

// Infer runs shape inference on the tree for the input shape with the default grammar's depth limit,
// filling every node's state, and returns the architecture. A tree that fails gets a *ShapeError saying
// which node, where and why.
func Infer(root *Node, input Shape) (*Arch, error) { return Default().Infer(root, input) }

// Infer runs shape inference on the tree for the input shape with g's depth limit (caps are not checked:
// see Limits.Check).
func (g *Grammar) Infer(root *Node, input Shape) (*Arch, error) {
	if root == nil {
		return nil, errors.New("infer: no tree")
	}
	if input.Mode() != Im || input.Rank() != 3 {
		return nil, fmt.Errorf("infer: the network input must be an image shape (C,H,W), got %v", input)
	}
	f := inferer{maxDepth: g.MaxDepth}
	if err := f.module(root, state{in: input, bf: 1}, true); err != nil {
		return nil, err.shapeError()
	}
	return &Arch{Root: root, Input: input}, nil
}

// ParseArch parses architecture text and infers it for the input shape.
func ParseArch(text string, input Shape) (*Arch, error) {
	root, err := Parse(text)
	if err != nil {
		return nil, err
	}
	return Infer(root, input)
}

// String is the canonical text of the architecture (SPEC §10.1).
func (a *Arch) String() string { return a.Root.String() }

// Hash is a stable identifier: the first 16 bytes of the SHA-256 of the canonical text, in hex. Two
// architectures have the same hash exactly when they print the same.
func (a *Arch) Hash() string { return Hash(a.Root) }

// Hash is the stable hash of a tree's canonical text (see Arch.Hash).
func Hash(n *Node) string {
	sum := sha256.Sum256([]byte(n.String()))
	return hex.EncodeToString(sum[:16])
}

// Output is the backbone's output shape for one example.
func (a *Arch) Output() Shape { return a.Root.Out }

// Clone returns a deep copy of the architecture.
func (a *Arch) Clone() *Arch { return &Arch{Root: a.Root.Clone(), Input: a.Input} }

// Stats describes an architecture's size.
type Stats struct {
	Nodes        int // nodes of the tree as written (a shared 4/8-way inner module once)
	Terminals    int
	NonTerminals int   // modules
	Depth        int   // the deepest module's depth (root 0): what MaxDepth bounds
	Params       int64 // trainable parameters of the backbone (SPEC §3.6), every instance counted
	FLOPs        int64 // multiply-adds of linear layers and dot products, one example
	// ActivationBytes is the float32 memory of every terminal's output for one example: what a forward
	// pass keeps for the backward pass, roughly.
	ActivationBytes int64
}

// Stats computes the architecture's statistics.
func (a *Arch) Stats() Stats {
	var s Stats
	collectStats(a.Root, 1, &s)
	return s
}

// Params is the backbone's trainable parameter count.
func (a *Arch) Params() int64 { return a.Stats().Params }

func collectStats(n *Node, mult int64, s *Stats) {
	s.Nodes++
	if n.Kind == Terminal {
		s.Terminals++
		p, f, m := terminalCost(n)
		s.Params += mult * p
		s.FLOPs += mult * f
		s.ActivationBytes += mult * m
		return
	}
	s.NonTerminals++
	s.Depth = max(s.Depth, n.Depth)
	inner := mult
	if n.Kind == BranchingModule && len(n.Children) == 3 {
		inner *= int64(n.Factor())
	}
	for i, c := range n.Children {
		m := mult
		if c.IsModule() && n.Kind == BranchingModule && i > 0 && i < len(n.Children)-1 {
			m = inner
		}
		collectStats(c, m, s)
	}
}

// terminalCost returns a terminal's parameters, multiply-adds and activation bytes from its inferred state.
func terminalCost(n *Node) (params, flops, actBytes int64) {
	actBytes = 4 * n.Out.Size()
	switch n.Op.Family() {
	case FamLinear:
		in, out := int64(n.In.Last()), int64(n.Out.Last())
		return in*out + out, n.In.Size() * out, actBytes
	case FamNorm:
		if n.In.Mode() == Im {
			return 2 * int64(n.In.Dim(0)), 0, actBytes
		}
		return 2 * int64(n.In.Last()), 0, actBytes
	case FamPositional:
		return n.In.Size(), 0, actBytes
	case FamDot, FamScaledDot:
		return 0, n.In.Size() * int64(n.Out.Last()), actBytes
	case FamClone, FamGroup:
		return 0, 0, actBytes * int64(n.Op.Factor())
	}
	return 0, 0, actBytes
}

// Check returns an error naming the first cap the statistics exceed, or nil.
func (l Limits) Check(s Stats) error {
	switch {
	case l.Nodes > 0 && s.Nodes > l.Nodes:
		return fmt.Errorf("%d nodes exceed the cap of %d", s.Nodes, l.Nodes)
	case l.Params > 0 && s.Params > l.Params:
		return fmt.Errorf("%d parameters exceed the cap of %d", s.Params, l.Params)
	case l.FLOPs > 0 && s.FLOPs > l.FLOPs:
		return fmt.Errorf("%d FLOPs exceed the cap of %d", s.FLOPs, l.FLOPs)
	case l.ActivationBytes > 0 && s.ActivationBytes > l.ActivationBytes:
		return fmt.Errorf("%d activation bytes exceed the cap of %d", s.ActivationBytes, l.ActivationBytes)
	}
	return nil
}
