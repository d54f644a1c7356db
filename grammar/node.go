package grammar

import "fmt"

// Kind says what a node of the derivation tree is: one of the four modules, or a terminal.
type Kind uint8

const (
	// SequentialModule is sequential(first, second): second(first(x)).
	SequentialModule Kind = iota
	// BranchingModule is branching{B, M1, M2, A} for factor 2, or branching{B, M, A} for factors 4 and 8.
	BranchingModule
	// RoutingModule is routing[P, M, R]: R(M(P(x))).
	RoutingModule
	// ComputationModule is computation<C>: C(x).
	ComputationModule
	// Terminal is a terminal symbol (an Op) in one of its module's slots.
	Terminal
)

func (k Kind) String() string {
	if p, ok := ProductionOf(k); ok {
		return p.Name
	}
	return "terminal"
}

// Pos is a position in architecture text: line and column, both counted from 1 (columns in bytes).
type Pos struct{ Line, Col int }

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// IsValid reports whether the position was set (by the parser).
func (p Pos) IsValid() bool { return p.Line > 0 }

// Node is a node of a derivation tree: a module with its child slots, or a terminal.
//
// The children of each kind, in order:
//
//	SequentialModule   first, second                      (two modules)
//	BranchingModule    B, M1, M2, A   (factor 2)           B and A terminals, M modules
//	                   B, M, A        (factor 4 or 8: one inner module, instantiated 4 or 8 times)
//	RoutingModule      P, M, R                            P and R terminals, M a module
//	ComputationModule  C                                  a computation terminal
//
// The fields after Pos hold the state that shape inference found for the node (SPEC §3.2); Infer, Sample
// and Mutate fill them. A tree is not safe for concurrent mutation; Clone it first.
type Node struct {
	Kind     Kind
	Op       Op // the terminal, when Kind is Terminal
	Children []*Node
	Pos      Pos // where the parser found the node; zero for sampled nodes

	In     Shape  // input shape
	Other  Shape  // an aggregation's second operand; zero elsewhere
	Out    Shape  // output shape
	InBF   int    // branching factor reaching the node (for an aggregation: its branching module's factor)
	OutBF  int    // branching factor leaving the node
	LastIm [2]int // (H', W') of the im2col whose col2im may come here (postrouting slots); zero elsewhere
	Depth  int    // module depth: 0 at the root, +1 for every slot
}

// IsModule reports whether the node is a module (not a terminal).
func (n *Node) IsModule() bool { return n.Kind != Terminal }

// Factor is a branching module's branching factor (2, 4 or 8); 0 for other nodes.
func (n *Node) Factor() int {
	if n.Kind != BranchingModule || len(n.Children) == 0 {
		return 0
	}
	return n.Children[0].Op.Factor()
}

// Inner returns a branching or routing module's inner modules: two for a 2-way branching module, the one
// shared inner module for 4- and 8-way branching and for routing; nil otherwise.
func (n *Node) Inner() []*Node {
	switch n.Kind {
	case BranchingModule:
		return n.Children[1 : len(n.Children)-1]
	case RoutingModule:
		return n.Children[1:2]
	}
	return nil
}

// Seq returns sequential(first, second).
func Seq(first, second *Node) *Node {
	return &Node{Kind: SequentialModule, Children: []*Node{first, second}}
}

// Branch returns branching{b, inner..., a}: two inner modules for a 2-way branching function, one for 4 and 8.
func Branch(b Op, a Op, inner ...*Node) *Node {
	children := make([]*Node, 0, len(inner)+2)
	children = append(children, Leaf(b))
	children = append(children, inner...)
	children = append(children, Leaf(a))
	return &Node{Kind: BranchingModule, Children: children}
}

// Route returns routing[p, inner, r].
func Route(p Op, inner *Node, r Op) *Node {
	return &Node{Kind: RoutingModule, Children: []*Node{Leaf(p), inner, Leaf(r)}}
}

// Compute returns computation<c>.
func Compute(c Op) *Node {
	return &Node{Kind: ComputationModule, Children: []*Node{Leaf(c)}}
}

// Leaf returns a terminal node.
func Leaf(op Op) *Node { return &Node{Kind: Terminal, Op: op} }

// Clone returns a deep copy of the tree rooted at n, inferred state included.
func (n *Node) Clone() *Node {
	c := *n
	if n.Children != nil {
		c.Children = make([]*Node, len(n.Children))
		for i, child := range n.Children {
			c.Children[i] = child.Clone()
		}
	}
	return &c
}

// Equal reports whether two trees have the same structure and terminals (inferred state and positions
// are not compared).
func Equal(a, b *Node) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Kind != b.Kind || a.Op != b.Op || len(a.Children) != len(b.Children) {
		return false
	}
	for i := range a.Children {
		if !Equal(a.Children[i], b.Children[i]) {
			return false
		}
	}
	return true
}

// Inspect traverses the tree in pre-order, calling f for each node; when f returns false the node's
// children are skipped. A 4- or 8-way branching module's shared inner module is visited once.
func Inspect(n *Node, f func(*Node) bool) {
	if !f(n) {
		return
	}
	for _, c := range n.Children {
		Inspect(c, f)
	}
}

// Visitor's Visit is called for each node by Walk; it returns the visitor for the node's children, or nil
// to skip them.
type Visitor interface {
	Visit(n *Node) (w Visitor)
}

// Walk traverses the tree in pre-order like go/ast.Walk: v.Visit(n), then, if the visitor w it returned is
// not nil, Walk(w, child) for each child.
func Walk(v Visitor, n *Node) {
	if v = v.Visit(n); v == nil {
		return
	}
	for _, c := range n.Children {
		Walk(v, c)
	}
}

// Count returns the number of nodes in the tree as written (a shared inner module counted once).
func (n *Node) Count() int {
	count := 1
	for _, c := range n.Children {
		count += c.Count()
	}
	return count
}
