package grammar

import (
	"math"
	"math/rand/v2"
	"testing"
)

// table10 holds the paper's Table 10 medians (SPEC §4.3): terminals and non-terminals per p(computation).
var table10 = []struct {
	p                      float64
	terminals, nonTerminal float64
}{
	{0.9, 3, 3}, {0.8, 4, 3}, {0.7, 4, 3}, {0.6, 4, 4}, {0.5, 5, 5},
}

// TestTable10Medians samples 2,000 architectures per row at 3×28×28 and compares the medians with the
// paper's, counting nodes as instantiated (the reference deep-copies 4/8-way inner modules). The paper
// does not say which input it sampled at, and our fixes of SPEC §10 change the space slightly: the
// non-terminal medians agree exactly and the terminal medians within one. docs/SAMPLING.md has the
// full table (einspace stats).
func TestTable10Medians(t *testing.T) {
	for _, row := range table10 {
		g := Default()
		g.PComputation = row.p
		g.Limits = Limits{Nodes: 1_000_000}
		s, err := g.Study(rand.New(rand.NewPCG(0, 0)), ImShape(3, 28, 28), 2000)
		if err != nil {
			t.Fatal(err)
		}
		terminals, modules := Summarise(s.ExpandedTerminals).Median, Summarise(s.ExpandedModule).Median
		if modules != row.nonTerminal {
			t.Errorf("p=%.1f: non-terminal median %v, paper %v", row.p, modules, row.nonTerminal)
		}
		if math.Abs(terminals-row.terminals) > 1 {
			t.Errorf("p=%.1f: terminal median %v, paper %v", row.p, terminals, row.terminals)
		}
	}
}
