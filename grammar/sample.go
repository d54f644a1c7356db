package grammar

import (
	"fmt"
	"math/rand/v2"
)

// Counters tallies what the sampler did. Pass one to SampleCounted or MutateCounted to see how often samples
// were rejected for a cap (SPEC §10.9).
type Counters struct {
	Samples        int // architectures returned
	Attempts       int // whole samples (or mutation attempts) started
	Backtracks     int // choices removed from a slot after their subtree failed
	Created        int // nodes built, including those that backtracking discarded
	RejectedNodes  int // attempts over the node cap
	RejectedParams int
	RejectedFLOPs  int
	RejectedMemory int
	Invalid        int // mutation attempts whose child failed re-inference, or whose slot had no other option
}

// Rejected is the number of attempts rejected for any cap.
func (c *Counters) Rejected() int {
	return c.RejectedNodes + c.RejectedParams + c.RejectedFLOPs + c.RejectedMemory
}

func (c *Counters) reject(l Limits, s Stats) {
	switch {
	case l.Nodes > 0 && s.Nodes > l.Nodes:
		c.RejectedNodes++
	case l.Params > 0 && s.Params > l.Params:
		c.RejectedParams++
	case l.FLOPs > 0 && s.FLOPs > l.FLOPs:
		c.RejectedFLOPs++
	default:
		c.RejectedMemory++
	}
}

// Sample draws an architecture for the input shape (C,H,W) from the grammar (SPEC §3.6 and §4), using r
// for every random choice: the same generator state gives the same architecture. The root is never a
// computation module; a slot whose choice fails tries the remaining options (one-level chronological
// backtracking); samples over a cap are rejected and drawn again.
func (g *Grammar) Sample(r *rand.Rand, input Shape) (*Arch, error) {
	return g.SampleCounted(r, input, nil)
}

// SampleCounted is Sample, tallying into c when c is not nil.
func (g *Grammar) SampleCounted(r *rand.Rand, input Shape, c *Counters) (*Arch, error) {
	if err := g.check(input); err != nil {
		return nil, err
	}
	if c == nil {
		c = &Counters{}
	}
	s := sampler{g: g, r: r, counters: c}
	for attempt := 0; attempt < g.maxAttempts(); attempt++ {
		c.Attempts++
		s.created, s.aborted = 0, false
		start := s.arena.mark()
		root := s.module(state{in: input, bf: 1}, true, noKind)
		if root == nil {
			if s.aborted {
				c.RejectedNodes++
			}
			s.arena.rewind(start)
			continue
		}
		a := &Arch{Root: root, Input: input}
		if st := a.Stats(); g.Limits.Check(st) != nil {
			c.reject(g.Limits, st)
			s.arena.rewind(start)
			continue
		}
		s.arena.handOver()
		c.Samples++
		return a, nil
	}
	return nil, fmt.Errorf("sample: no architecture for input %v within the limits %+v after %d attempts (%d over a cap)",
		input, g.Limits, g.maxAttempts(), c.Rejected())
}

func (g *Grammar) check(input Shape) error {
	if g.PComputation <= 0 || g.PComputation >= 1 {
		return fmt.Errorf("grammar: p(computation) = %v must lie strictly between 0 and 1", g.PComputation)
	}
	if input.Rank() != 3 {
		return fmt.Errorf("grammar: the network input must be an image shape (C,H,W), got %v", input)
	}
	return nil
}

func (g *Grammar) maxAttempts() int {
	if g.MaxAttempts > 0 {
		return g.MaxAttempts
	}
	return 10_000
}

const noKind = Kind(255)

// sampler draws subtrees. A nil result means the slot ran out of options (or, with aborted set, that the
// whole sample was abandoned for its size).
type sampler struct {
	g        *Grammar
	r        *rand.Rand
	counters *Counters
	created  int // nodes created in this attempt, including those discarded by backtracking
	aborted  bool
	arena    arena
	// Mutation constraints for the one slot being resampled.
	excludeOp     Op
	requireFactor int
}

func (s *sampler) newNode(n Node) *Node {
	s.created++
	s.counters.Created++
	if lim := s.g.Limits.Nodes; lim > 0 && s.created > 4*lim {
		s.aborted = true
	}
	return s.arena.newNode(n)
}

// module samples a module for a module slot. exclude removes one module kind (mutation: the top symbol must
// change).
func (s *sampler) module(st state, root bool, exclude Kind) *Node {
	var options [4]Kind
	n := 0
	for k := SequentialModule; k <= ComputationModule; k++ {
		switch {
		case k == exclude:
		case root && k == ComputationModule:
		case s.g.MaxDepth > 0 && st.depth >= s.g.MaxDepth && k != ComputationModule:
		default:
			options[n] = k
			n++
		}
	}
	for n > 0 {
		i := s.drawModule(options[:n])
		m := s.arena.mark()
		if node := s.instantiate(options[i], st); node != nil {
			return node
		}
		s.arena.rewind(m)
		if s.aborted {
			return nil
		}
		s.counters.Backtracks++
		copy(options[i:], options[i+1:n])
		n--
	}
	return nil
}

// drawModule picks an index into options: computation with probability p, the others sharing 1-p equally;
// uniform when computation is not among them (SPEC §4.1).
func (s *sampler) drawModule(options []Kind) int {
	ci := -1
	for i, k := range options {
		if k == ComputationModule {
			ci = i
		}
	}
	if ci < 0 || len(options) == 1 {
		return s.r.IntN(len(options))
	}
	u := s.r.Float64()
	p := s.g.PComputation
	if u < p {
		return ci
	}
	j := min(int((u-p)/(1-p)*float64(len(options)-1)), len(options)-2)
	if j >= ci {
		j++
	}
	return j
}

func (s *sampler) instantiate(kind Kind, st state) *Node {
	n := s.newNode(Node{Kind: kind, In: st.in, InBF: st.bf, LastIm: st.lastIm, Depth: st.depth})
	if s.aborted {
		return nil
	}
	child := state{in: st.in, bf: st.bf, lastIm: st.lastIm, depth: st.depth + 1}
	switch kind {
	case SequentialModule:
		first := s.module(child, false, noKind)
		if first == nil {
			return nil
		}
		child.in = first.Out
		second := s.module(child, false, noKind)
		if second == nil {
			return nil
		}
		n.Children = s.arena.children(2)
		n.Children[0], n.Children[1] = first, second
	case BranchingModule:
		b := s.terminal(Branching, child)
		if b == nil {
			return nil
		}
		factor := b.Op.Factor()
		child.in, child.bf = b.Out, factor
		count := InnerModules(factor)
		n.Children = s.arena.children(count + 2)
		n.Children[0] = b
		for i := range count {
			m := s.module(child, false, noKind)
			if m == nil {
				return nil
			}
			n.Children[1+i] = m
		}
		first, last := n.Children[1], n.Children[count]
		agg := state{in: first.Out, other: last.Out, bf: factor, lastIm: st.lastIm, depth: child.depth}
		a := s.terminal(Aggregation, agg)
		if a == nil {
			return nil
		}
		n.Children[count+1] = a
	case RoutingModule:
		pre := s.terminal(Prerouting, child)
		if pre == nil {
			return nil
		}
		child.in, child.bf = pre.Out, pre.OutBF
		inner := s.module(child, false, noKind)
		if inner == nil {
			return nil
		}
		child.in, child.bf = inner.Out, inner.OutBF
		if pre.Op.Family() == FamIm2col {
			child.lastIm = pre.LastIm
		}
		post := s.terminal(Postrouting, child)
		if post == nil {
			return nil
		}
		n.Children = s.arena.children(3)
		n.Children[0], n.Children[1], n.Children[2] = pre, inner, post
	case ComputationModule:
		c := s.terminal(Computation, child)
		if c == nil {
			return nil
		}
		n.Children = s.arena.children(1)
		n.Children[0] = c
	}
	last := n.Children[len(n.Children)-1]
	n.Out, n.OutBF = last.Out, last.OutBF
	return n
}

// terminal draws uniformly among the terminals of the class that can take the state's input (SPEC §3.5
// with §10.2 and §10.3). Drawing uniformly among the valid ones is what the reference's draw-and-remove
// loop amounts to.
func (s *sampler) terminal(class Class, st state) *Node {
	var valid [16]Op
	n := 0
	for _, op := range slotOptions[class] {
		if op == s.excludeOp || (s.requireFactor > 0 && op.Factor() != s.requireFactor) {
			continue
		}
		// The reference prunes kernels larger than the feature map even where padding would let them fit.
		if k := ops[op].k; k > 0 && (st.in.Mode() != Im || st.in.Dim(1) < k || st.in.Dim(2) < k) {
			continue
		}
		if _, _, _, msg := apply(op, class, st, false); msg != "" {
			continue
		}
		valid[n] = op
		n++
	}
	if n == 0 {
		return nil
	}
	op := valid[s.r.IntN(n)]
	out, bf, grid, _ := apply(op, class, st, false)
	node := s.newNode(Node{Kind: Terminal, Op: op, In: st.in, Other: st.other, Out: out, InBF: st.bf,
		OutBF: bf, LastIm: st.lastIm, Depth: st.depth})
	if op.Family() == FamIm2col {
		node.LastIm = grid
	}
	return node
}
