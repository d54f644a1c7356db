package grammar

import (
	"errors"
	"fmt"
	"math/rand/v2"
)

// slot is a node's place in its tree: its parent and its index among the parent's children (root: nil, -1).
type slot struct {
	node   *Node
	parent *Node
	index  int
}

// slots lists the tree's nodes in pre-order with their places. A shared 4/8-way inner module is one
// subtree, so it is listed once (SPEC §10.4).
func slots(root *Node) []slot {
	list := make([]slot, 0, 64)
	var visit func(n, parent *Node, index int)
	visit = func(n, parent *Node, index int) {
		list = append(list, slot{n, parent, index})
		for i, c := range n.Children {
			visit(c, n, i)
		}
	}
	visit(root, nil, -1)
	return list
}

// slotClassOf is the terminal class of the slot that holds s's node.
func slotClassOf(s slot) Class {
	sl, _ := s.parent.SlotOf(s.index)
	return sl.Class
}

// stateOf is the state a node received when it was inferred.
func stateOf(n *Node) state {
	return state{in: n.In, other: n.Other, bf: n.InBF, lastIm: n.LastIm, depth: n.Depth}
}

// Mutate returns a child of the parent (SPEC §5.2 with §10.4): a node drawn uniformly from the tree (root
// included, a shared inner module counted once) is resampled in its slot with its top symbol changed, the
// child is re-inferred (downstream terminals keep their identity and adapt their shapes) and checked
// against the caps. Attempts whose child fails are retried with a new node, up to MaxAttempts. A mutated
// branching function keeps its factor, so that the module keeps its shape.
func (g *Grammar) Mutate(r *rand.Rand, parent *Arch) (*Arch, error) {
	return g.MutateCounted(r, parent, nil)
}

// MutateCounted is Mutate, tallying into c when c is not nil.
func (g *Grammar) MutateCounted(r *rand.Rand, parent *Arch, c *Counters) (*Arch, error) {
	if parent == nil || parent.Root == nil {
		return nil, errors.New("mutate: no parent architecture")
	}
	if err := g.check(parent.Input); err != nil {
		return nil, err
	}
	if c == nil {
		c = &Counters{}
	}
	original := slots(parent.Root)
	s := sampler{g: g, r: r, counters: c}
	for attempt := 0; attempt < g.maxAttempts(); attempt++ {
		c.Attempts++
		s.created, s.aborted = 0, false
		start := s.arena.mark()
		pick := r.IntN(len(original))
		target := original[pick].node
		var replacement *Node
		st := stateOf(target)
		if target.IsModule() {
			replacement = s.module(st, original[pick].parent == nil, target.Kind)
		} else {
			s.excludeOp = target.Op
			class := slotClassOf(original[pick])
			if class == Branching {
				s.requireFactor = target.Op.Factor()
			}
			replacement = s.terminal(class, st)
			s.excludeOp, s.requireFactor = 0, 0
		}
		if replacement == nil {
			if s.aborted {
				c.RejectedNodes++
			} else {
				c.Invalid++
			}
			s.arena.rewind(start)
			continue
		}
		child, ok := g.replace(parent, pick, replacement, c)
		if !ok {
			s.arena.rewind(start)
			continue
		}
		s.arena.handOver()
		c.Samples++
		return child, nil
	}
	return nil, fmt.Errorf("mutate: no valid child within the limits after %d attempts (%d invalid, %d over a cap)",
		g.maxAttempts(), c.Invalid, c.Rejected())
}

// replace returns a copy of parent whose node number pick (pre-order) is replacement, re-inferred and
// checked against the caps.
func (g *Grammar) replace(parent *Arch, pick int, replacement *Node, c *Counters) (*Arch, bool) {
	root := parent.Root.Clone()
	if pick == 0 {
		root = replacement
	} else {
		place := slots(root)[pick]
		place.parent.Children[place.index] = replacement
	}
	child, err := g.Infer(root, parent.Input)
	if err != nil {
		c.Invalid++
		return nil, false
	}
	if st := child.Stats(); g.Limits.Check(st) != nil {
		c.reject(g.Limits, st)
		return nil, false
	}
	return child, true
}

// crossoverAttempts bounds the pairs of modules Crossover tries: small trees often have none that fit.
const crossoverAttempts = 200

// Crossover returns a child of a that carries a subtree of b: a module of a other than its root is replaced by a copy of a
// module of b that received the same input shape, and the child is re-inferred and checked against the
// caps. The child differs from both parents. It fails when no such pair of modules gives a valid child
// within 200 tries.
func (g *Grammar) Crossover(r *rand.Rand, a, b *Arch) (*Arch, error) {
	if a == nil || b == nil || a.Root == nil || b.Root == nil {
		return nil, errors.New("crossover: needs two parent architectures")
	}
	if a.Input != b.Input {
		return nil, fmt.Errorf("crossover: the parents were inferred for different inputs %v and %v", a.Input, b.Input)
	}
	var modulesA []int
	for i, s := range slots(a.Root) {
		if s.node.IsModule() && i > 0 { // replacing the root would keep nothing of a
			modulesA = append(modulesA, i)
		}
	}
	if len(modulesA) == 0 {
		return nil, errors.New("crossover: the first parent has no module below its root")
	}
	var modulesB []*Node
	for _, s := range slots(b.Root) {
		if s.node.IsModule() {
			modulesB = append(modulesB, s.node)
		}
	}
	textA, textB := a.String(), b.String()
	c := &Counters{}
	listA := slots(a.Root)
	for attempt := 0; attempt < crossoverAttempts; attempt++ {
		pick := modulesA[r.IntN(len(modulesA))]
		target := listA[pick].node
		var candidates []*Node
		for _, m := range modulesB {
			if m.In == target.In && !Equal(m, target) {
				candidates = append(candidates, m)
			}
		}
		if len(candidates) == 0 {
			continue
		}
		donor := candidates[r.IntN(len(candidates))]
		child, ok := g.replace(a, pick, donor.Clone(), c)
		if !ok {
			continue
		}
		if text := child.String(); text == textA || text == textB {
			continue
		}
		return child, nil
	}
	return nil, fmt.Errorf("crossover: no module of the second parent fits the first within %d attempts (%d invalid, %d over a cap)",
		crossoverAttempts, c.Invalid, c.Rejected())
}
