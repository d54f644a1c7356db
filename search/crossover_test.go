package search

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/einspace-go/einspace/grammar"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func crossoverConfig(pMutate float64) Config {
	cfg := smallConfig(RegularisedEvolutionCrossover, nil)
	cfg.Budget, cfg.CrossoverMutation = 40, pMutate
	return cfg
}

// TestCrossoverChildrenComeFromTwoParents re-derives every crossover child from the log alone: the
// population before it, its two tournaments drawn from PCG(seed, index) (the second without the first
// winner), grammar.Crossover of the winners and, with probability CrossoverMutation, a mutation. A child
// that came from one parent, from other parents, or from a mutation alone does not match.
func TestCrossoverChildrenComeFromTwoParents(t *testing.T) {
	for _, tt := range []struct {
		pMutate    float64
		input      string
		population int
	}{{0, "3x16x16", 5}, {0.5, "3x16x16", 5}, {0.5, "1x28x28", 5}, {0.5, "3x16x16", 1}} {
		t.Run(fmt.Sprintf("mutation %v input %s population %d", tt.pMutate, tt.input, tt.population), func(t *testing.T) {
			pMutate := tt.pMutate
			cfg := crossoverConfig(pMutate)
			cfg.Input, cfg.Population = tt.input, tt.population
			h := runSearch(t, filepath.Join(t.TempDir(), "run"), cfg, fakeEvaluator{})
			g := cfg.Grammar.Grammar()
			input, err := cfg.InputShape()
			if err != nil {
				t.Fatal(err)
			}
			parse := func(i int) *grammar.Arch {
				a, err := grammar.ParseArch(h.Records[i].Arch, input)
				if err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				return a
			}
			pops := replayPopulation(h)
			children, mutated, failed, narrowed, fallbacks, probed := 0, 0, 0, 0, 0, 0
			for i, r := range h.Records {
				if r.Origin == OriginRandom {
					if i >= cfg.Population+failedBefore(h, i) {
						t.Errorf("record %d: a random sample after the initial population", i)
					}
					continue
				}
				rng := rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
				tournament := func(pool []int) int {
					best := -1
					for range cfg.Tournament {
						c := pool[rng.IntN(len(pool))]
						if best < 0 || h.Records[c].ValAccuracy > h.Records[best].ValAccuracy {
							best = c
						}
					}
					return best
				}
				firsts, mates := crossoverPools(parse, pops[i])
				if len(firsts) == 0 { // no two members fit: a mutation, as RE breeds
					fallbacks++
					parent := tournament(pops[i])
					child, err := g.Mutate(rng, parse(parent))
					if r.Origin != OriginMutation || r.ParentIndex != parent || r.MateHash != "" || (err == nil && r.Arch != child.String()) {
						t.Errorf("record %d (%s, parent %d): no two members fit, want a mutation of record %d", i, r.Origin, r.ParentIndex, parent)
					}
					continue
				}
				first := tournament(firsts)
				pool := mates(first)
				if len(firsts) < len(pops[i]) || len(pool) < len(pops[i])-1 {
					narrowed++
				}
				second := tournament(pool)
				if _, err := g.Crossover(probeRand(first, second), parse(first), parse(second)); err != nil {
					probed++ // no new child of this pair: the first winner is mutated
					child, err := g.Mutate(rng, parse(first))
					if r.Origin != OriginMutation || r.ParentIndex != first || r.MateHash != "" || (err == nil && r.Arch != child.String()) {
						t.Errorf("record %d (%s, parent %d): records %d and %d make no child, want a mutation of record %d", i, r.Origin, r.ParentIndex, first, second, first)
					}
					continue
				}
				if r.Origin != OriginCrossover || r.ParentIndex != first || r.MateIndex != second || r.ParentHash != h.Records[first].Hash ||
					r.MateHash != h.Records[second].Hash {
					t.Errorf("record %d: %s of %d and %d, want a crossover of the tournament winners %d and %d", i, r.Origin, r.ParentIndex, r.MateIndex, first, second)
					continue
				}
				if first == second {
					t.Errorf("record %d: both parents are record %d", i, first)
				}
				child, err := g.Crossover(rng, parse(first), parse(second))
				if err == nil && rng.Float64() < pMutate {
					mutated++
					child, err = g.Mutate(rng, child)
				}
				if err != nil {
					failed++
					if !r.Failed() || !strings.Contains(r.Failure, err.Error()) {
						t.Errorf("record %d: re-deriving it fails (%v), the log says %q", i, err, r.Failure)
					}
					continue
				}
				children++
				if r.Arch != child.String() {
					t.Errorf("record %d is not the crossover of records %d and %d:\n got %s\nwant %s", i, first, second, r.Arch, child)
				}
				if r.Arch == h.Records[first].Arch || r.Arch == h.Records[second].Arch {
					t.Errorf("record %d is a copy of a parent", i)
				}
			}
			t.Logf("%d crossover children (%d mutated after), %d crossovers failed, %d tournaments narrowed to members that fit, %d mutations where no two members fit, %d where the winners made no child",
				children, mutated, failed, narrowed, fallbacks, probed)
			if tt.population == 1 {
				if children > 0 || fallbacks < cfg.Budget-1 {
					t.Errorf("population 1: %d crossovers and %d mutations, want mutations only", children, fallbacks)
				}
				return
			}
			if children < cfg.Budget-cfg.Population-5 {
				t.Errorf("%d crossover children, want nearly the %d after the initial population", children, cfg.Budget-cfg.Population)
			}
			if pMutate > 0 && (mutated == 0 || mutated == children) {
				t.Errorf("%d of %d children mutated after the crossover, want about half", mutated, children)
			}
			if !slices.Equal(pops[len(h.Records)], h.Population) {
				t.Errorf("final population %v, want %v: successful crossover children enter, the oldest leaves", h.Population, pops[len(h.Records)])
			}
		})
	}
}

// crossoverPools are where the two tournaments of a crossover draw, written out from the strategy's
// documentation: the first among the members that fit another member, the second among the members other
// than the first winner that it fits (a module of the first, below its root, receives the input shape of a
// module of the mate that differs from it). No firsts: no two members fit, and the child is a mutation.
func crossoverPools(parse func(int) *grammar.Arch, pop []int) (firsts []int, mates func(first int) []int) {
	type module struct{ in, text string }
	below, all := map[int][]module{}, map[int][]module{}
	for _, m := range pop {
		root := parse(m).Root
		grammar.Inspect(root, func(n *grammar.Node) bool {
			if n.IsModule() {
				mod := module{fmt.Sprint(n.In), n.String()}
				all[m] = append(all[m], mod)
				if n != root {
					below[m] = append(below[m], mod)
				}
			}
			return true
		})
	}
	fits := func(a, b int) bool {
		for _, x := range below[a] {
			for _, y := range all[b] {
				if x.in == y.in && x.text != y.text {
					return true
				}
			}
		}
		return false
	}
	for _, m := range pop {
		for _, n := range pop {
			if n != m && fits(m, n) {
				firsts = append(firsts, m)
				break
			}
		}
	}
	return firsts, func(first int) []int {
		var out []int
		for _, m := range pop {
			if m != first && fits(first, m) {
				out = append(out, m)
			}
		}
		return out
	}
}

// TestCrossoverIsDeterministic pins a seeded run of RE with crossover (testdata/crossover.golden: each
// record's index, origin, parents and hash) and checks that results arriving out of order with several
// evaluations in flight write the same log.
func TestCrossoverIsDeterministic(t *testing.T) {
	cfg := crossoverConfig(0.5)
	h := runSearch(t, filepath.Join(t.TempDir(), "a"), cfg, fakeEvaluator{})
	var b strings.Builder
	for _, r := range h.Records {
		fmt.Fprintf(&b, "%d %s parent %d", r.Index, r.Origin, r.ParentIndex)
		if r.MateHash != "" {
			fmt.Fprintf(&b, " mate %d", r.MateIndex)
		}
		fmt.Fprintf(&b, " counted %v %.12s\n", r.Counted, r.Hash)
	}
	golden := filepath.Join("testdata", "crossover.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run Crossover -update to write it)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("the seeded run differs from %s (after an intended change: -update):\n%s", golden, got)
	}

	cfg.InFlight = 3
	dirA, dirB := filepath.Join(t.TempDir(), "in-flight"), filepath.Join(t.TempDir(), "jittery")
	runSearch(t, dirA, cfg, fakeEvaluator{})
	runSearch(t, dirB, cfg, &jitteryEvaluator{r: rand.New(rand.NewPCG(3, 4))})
	compareLogs(t, normalisedLog(t, dirA), normalisedLog(t, dirB))
}

func TestCrossoverConfig(t *testing.T) {
	cfg := crossoverConfig(1.5)
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "crossover_mutation") {
		t.Errorf("probability 1.5 gives %v, want an error naming crossover_mutation", err)
	}
	cfg = crossoverConfig(0.25)
	if err := cfg.Validate(); err != nil {
		t.Error(err)
	}
	// A configuration of another strategy is written as before (so its run ID is unchanged): the field
	// is omitted.
	if b, _ := json.Marshal(DefaultConfig()); strings.Contains(string(b), "crossover") {
		t.Errorf("config.json of RE mentions crossover: %s", b)
	}
}

// TestFitsAgreesWithCrossover: two parents fit when a crossover can make a new child of them, not merely
// when their modules share an input shape; parents that share only equal modules do not fit (they made
// every crossover of notebook 04's toy search fail).
func TestFitsAgreesWithCrossover(t *testing.T) {
	in := grammar.ImShape(3, 28, 28)
	arch := func(text string) *grammar.Arch {
		a, err := grammar.ParseArch(text, in)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	conv64 := arch("routing[im2col3k1s1p, computation<linear64>, col2im]")
	conv32 := arch("sequential(routing[im2col3k1s1p, computation<linear32>, col2im], computation<leakyrelu>)")
	g := grammar.Default()
	for _, tt := range []struct {
		a, b *grammar.Arch
		want bool
	}{{conv64, conv64, false}, {conv64, conv32, true}} {
		got := fits(inputsOf(tt.a), inputsOf(tt.b))
		_, err := g.Crossover(rand.New(rand.NewPCG(1, 2)), tt.a, tt.b)
		if got != tt.want || (err == nil) != tt.want {
			t.Errorf("%v with %v: fits %v, crossover error %v; want fits %v and a child exactly when they fit", tt.a, tt.b, got, err, tt.want)
		}
	}
}
