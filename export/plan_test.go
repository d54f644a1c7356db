package export

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/models"
)

// TestPlanCountsTheGrammarsParameters lays out the seeds and 500 sampled architectures of several input
// shapes without building them: the exported state dict's trainable values equal the grammar's count
// plus the head's, every key is unique, and each trainable GoMLX variable is read once.
func TestPlanCountsTheGrammarsParameters(t *testing.T) {
	var archs []*grammar.Arch
	for _, name := range grammar.SeedNames() {
		for _, in := range []grammar.Shape{grammar.ImShape(3, 28, 28), grammar.ImShape(3, 64, 64)} {
			a, err := grammar.SeedArch(name, in)
			if err != nil {
				t.Fatal(err)
			}
			archs = append(archs, a)
		}
	}
	g := grammar.Default()
	g.Limits = grammar.Limits{Nodes: 300, Params: 20_000_000, FLOPs: 500_000_000}
	r := rand.New(rand.NewPCG(5, 15))
	inputs := []grammar.Shape{grammar.ImShape(3, 28, 28), grammar.ImShape(1, 24, 20), grammar.ImShape(12, 18, 18), grammar.ImShape(1, 27, 18)}
	n := 500
	if testing.Short() {
		n = 100
	}
	for i := range n {
		a, err := g.Sample(r, inputs[i%len(inputs)])
		if err != nil {
			t.Fatal(err)
		}
		archs = append(archs, a)
	}
	for _, a := range archs {
		net, err := models.Compile(a, 10)
		if err != nil {
			t.Fatal(err)
		}
		p, err := newPlan(net)
		if err != nil {
			t.Fatalf("%v\n%s", err, a)
		}
		if got, want := p.params(), net.Params(); got != want {
			t.Errorf("the state dict holds %d trainable values, the grammar and head count %d:\n%s", got, want, a)
		}
		vars := map[string]bool{}
		for i, s := range p.tensors {
			if p.byKey[s.key] != i {
				t.Errorf("state-dict key %s appears twice", s.key)
			}
			if s.variable != "" {
				if vars[s.variable] {
					t.Errorf("GoMLX variable %s is read twice", s.variable)
				}
				vars[s.variable] = true
			}
		}
		src := p.python("net", "")
		if strings.Contains(src, "\x01") || strings.Contains(src, "\x02") {
			t.Fatalf("a class reference was left unnamed:\n%s", src)
		}
	}
}
