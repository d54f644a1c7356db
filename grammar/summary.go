package grammar

import (
	"math/rand/v2"
	"slices"
)

// Expanded counts the nodes of the tree as a network instantiates it: a 4- or 8-way branching module's
// shared inner module counted once per copy, as the reference code's deep copies are. It returns the
// terminals and the modules.
func Expanded(n *Node) (terminals, modules int64) {
	if n.Kind == Terminal {
		return 1, 0
	}
	modules = 1
	for i, c := range n.Children {
		t, m := Expanded(c)
		if n.Kind == BranchingModule && len(n.Children) == 3 && i == 1 {
			f := int64(n.Factor())
			t, m = t*f, m*f
		}
		terminals += t
		modules += m
	}
	return terminals, modules
}

// Summary describes a quantity over many samples.
type Summary struct {
	Mean   float64
	Median float64
	Min    float64
	Max    float64
}

func summarise(values []float64) Summary {
	if len(values) == 0 {
		return Summary{}
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	sum := 0.0
	for _, v := range sorted {
		sum += v
	}
	n := len(sorted)
	median := sorted[n/2]
	if n%2 == 0 {
		median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return Summary{Mean: sum / float64(n), Median: median, Min: sorted[0], Max: sorted[n-1]}
}

// SampleStudy holds the statistics of n samples drawn from one grammar: what Table 10 of the paper reports
// (SPEC §4.3), counted both on the tree as written and as instantiated.
type SampleStudy struct {
	PComputation float64
	Input        Shape
	Samples      int
	Counters     Counters
	// Per-sample values, in sampling order, for histograms.
	Nodes, Depth, Params              []float64
	Terminals, NonTerminals           []float64 // as written
	ExpandedTerminals, ExpandedModule []float64 // as instantiated
}

// Study draws n architectures from g for the input shape with r and records their statistics.
func (g *Grammar) Study(r *rand.Rand, input Shape, n int) (*SampleStudy, error) {
	s := &SampleStudy{PComputation: g.PComputation, Input: input, Samples: n}
	for range n {
		a, err := g.SampleCounted(r, input, &s.Counters)
		if err != nil {
			return nil, err
		}
		st := a.Stats()
		t, m := Expanded(a.Root)
		s.Nodes = append(s.Nodes, float64(st.Nodes))
		s.Depth = append(s.Depth, float64(st.Depth))
		s.Params = append(s.Params, float64(st.Params))
		s.Terminals = append(s.Terminals, float64(st.Terminals))
		s.NonTerminals = append(s.NonTerminals, float64(st.NonTerminals))
		s.ExpandedTerminals = append(s.ExpandedTerminals, float64(t))
		s.ExpandedModule = append(s.ExpandedModule, float64(m))
	}
	return s, nil
}

// Summarise reduces a per-sample series to its mean, median, minimum and maximum.
func Summarise(values []float64) Summary { return summarise(values) }
