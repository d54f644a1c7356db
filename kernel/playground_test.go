package kernel

import (
	"math"
	"strings"
	"testing"

	"github.com/einspace-go/einspace/grammar"
)

func TestParamsProxy(t *testing.T) {
	at := func(params int64) float64 {
		d := math.Log10(float64(params) / ParamsProxyTarget)
		return 100 * math.Exp(-d*d)
	}
	if at(50_000) != 100 || math.Abs(at(500_000)-36.79) > 0.01 || math.Abs(at(5_000_000)-1.83) > 0.01 {
		t.Fatalf("the formula: %v %v %v", at(50_000), at(500_000), at(5_000_000))
	}
	a := kernelMust(grammar.ParseArch("routing[im2col3k1s1p, computation<linear64>, col2im]", grammar.ImShape(3, 28, 28)))
	if got, want := ParamsProxy(a), at(1792); math.Abs(got-want) > 1e-9 {
		t.Errorf("ParamsProxy of a 1,792-parameter conv = %v, want %v", got, want)
	}
}

func kernelMust[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestPlaygroundGenerations(t *testing.T) {
	p, err := newPlayground(EvolveOptions{Population: 6, Tournament: 3, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	initial := make([]int, len(p.population))
	for i, m := range p.population {
		initial[i] = m.id
	}
	for gen := 1; gen <= 12; gen++ {
		oldest := p.population[0]
		p.step()
		g := p.last
		if len(p.population) != 6 || p.generation != gen {
			t.Fatalf("generation %d: population %d", p.generation, len(p.population))
		}
		if g.removed.id != oldest.id {
			t.Errorf("generation %d removed #%d, not the oldest #%d", gen, g.removed.id, oldest.id)
		}
		if len(g.tournament) != 3 {
			t.Errorf("tournament of %d", len(g.tournament))
		}
		for _, m := range g.tournament {
			if m.fitness > g.parent.fitness {
				t.Errorf("parent #%d (%.2f) is not the fittest of the tournament: #%d has %.2f", g.parent.id, g.parent.fitness, m.id, m.fitness)
			}
		}
		if last := p.population[len(p.population)-1]; last.id != g.child.id || g.child.id != 6+gen-1 {
			t.Errorf("the child #%d is not the youngest member (#%d)", g.child.id, last.id)
		}
		if g.child.fitness != ParamsProxy(g.child.arch) {
			t.Errorf("child fitness %v, proxy %v", g.child.fitness, ParamsProxy(g.child.arch))
		}
		if !strings.Contains(p.story(), "the oldest, #") {
			t.Errorf("story: %s", p.story())
		}
	}
	if len(p.bestHist) != 13 || len(p.meanHist) != 13 {
		t.Errorf("history of %d/%d generations, want 13", len(p.bestHist), len(p.meanHist))
	}
	for i := 1; i < len(p.bestHist); i++ {
		if p.bestHist[i] < p.bestHist[i-1] {
			t.Errorf("best so far fell at generation %d", i)
		}
	}
	// reset draws the same initial population again
	if err := p.reset(); err != nil {
		t.Fatal(err)
	}
	for i, m := range p.population {
		if m.id != initial[i] {
			t.Errorf("after reset member %d is #%d, want #%d", i, m.id, initial[i])
		}
	}
	if p.generation != 0 || p.last != nil || len(p.bestHist) != 1 {
		t.Errorf("reset left generation %d", p.generation)
	}
	h := htmlOf(p.panel())
	for _, want := range []string{`data-k="generation">0<`, "a stated proxy, not accuracy", "population after generation 0"} {
		if !strings.Contains(h, want) {
			t.Errorf("panel lacks %q", want)
		}
	}
	if _, err := newPlayground(EvolveOptions{Population: 3, Tournament: 5}); err == nil {
		t.Error("a tournament larger than the population was accepted")
	}
}
