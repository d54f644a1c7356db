package search

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// replayPopulation rebuilds, independently of the engine, the population before each record of a run
// with InFlight 1: counted random samples, copies and (for RE) children enter at the end, the oldest
// leaves when it exceeds P.
func replayPopulation(h *History) [][]int {
	cfg := h.Config
	before := make([][]int, len(h.Records)+1)
	var pop []int
	for i, r := range h.Records {
		before[i] = slices.Clone(pop)
		enters := r.Counted && (r.Origin != OriginMutation || cfg.Strategy != RandomMutation)
		if enters {
			pop = append(pop, i)
			if len(pop) > cfg.Population {
				pop = pop[1:]
			}
		}
	}
	before[len(h.Records)] = pop
	return before
}

func TestRegularisedEvolutionInvariants(t *testing.T) {
	tests := []struct {
		name     string
		strategy StrategyName
		pop, s   int
	}{
		{"RE P5 S3", RegularisedEvolution, 5, 3},
		{"RE tournament larger than population", RegularisedEvolution, 3, 10},
		{"RE P4 S4", RegularisedEvolution, 4, 4},
		{"RM P5 S3", RandomMutation, 5, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := smallConfig(tt.strategy, nil)
			cfg.Population, cfg.Tournament, cfg.Budget = tt.pop, tt.s, 40
			h := runSearch(t, filepath.Join(t.TempDir(), "run"), cfg, fakeEvaluator{})
			pops := replayPopulation(h)
			if !slices.Equal(pops[len(h.Records)], h.Population) {
				t.Errorf("final population %v, want %v (FIFO by insertion)", h.Population, pops[len(h.Records)])
			}
			counted, failed, notBest := 0, 0, 0
			for i, r := range h.Records {
				if r.Counted {
					counted++
				}
				if r.Failed() {
					failed++
					if r.Counted {
						t.Errorf("record %d failed (%s) but is counted", i, r.Failure)
					}
					if slices.Contains(pops[i+1], i) {
						t.Errorf("failed record %d entered the population", i)
					}
				}
				if r.Origin != OriginMutation {
					continue
				}
				pop := pops[i]
				if len(pop) != cfg.Population {
					t.Fatalf("record %d: mutation from a population of %d, want %d", i, len(pop), cfg.Population)
				}
				// The tournament: S draws with replacement from PCG(seed, i), best validation accuracy wins.
				rng := rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
				want := -1
				for range cfg.Tournament {
					c := pop[rng.IntN(len(pop))]
					if want < 0 || h.Records[c].ValAccuracy > h.Records[want].ValAccuracy {
						want = c
					}
				}
				if r.ParentIndex != want || r.ParentHash != h.Records[want].Hash {
					t.Errorf("record %d: parent %d, want the tournament's winner %d", i, r.ParentIndex, want)
				}
				if best := slices.MaxFunc(pop, func(a, b int) int {
					return cmpFloat(h.Records[a].ValAccuracy, h.Records[b].ValAccuracy)
				}); h.Records[best].ValAccuracy > r.ValAccuracy && best != r.ParentIndex {
					notBest++
				}
				if tt.strategy == RandomMutation && r.ParentIndex >= cfg.Population+failedBefore(h, i) {
					t.Errorf("RM record %d: parent %d is not in the initial population", i, r.ParentIndex)
				}
			}
			if counted != cfg.Budget || h.Counted != cfg.Budget {
				t.Errorf("counted %d (history says %d), want the budget %d", counted, h.Counted, cfg.Budget)
			}
			if failed == 0 {
				t.Errorf("no failed child: the test does not exercise skipping (choose another seed)")
			}
			if len(h.Records) != cfg.Budget+failed {
				t.Errorf("%d records, want budget %d + %d failures", len(h.Records), cfg.Budget, failed)
			}
			if tt.s <= tt.pop && notBest == 0 {
				t.Logf("every tournament found the population's best (possible but unlikely with replacement)")
			}
		})
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func failedBefore(h *History, i int) int {
	n := 0
	for _, r := range h.Records[:i] {
		if r.Failed() {
			n++
		}
	}
	return n
}

func TestSeededInitialisation(t *testing.T) {
	tests := []struct {
		name  string
		seeds []string
		pop   int
	}{
		{"RE(RN18)", SeedsRN18, 4},
		{"RE(Mix)", SeedsMix, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := smallConfig(RegularisedEvolution, tt.seeds)
			cfg.Population, cfg.Budget = tt.pop, 12
			trained := 0
			ev := EvaluatorFunc(func(ctx context.Context, job Job) (Result, error) {
				trained++
				return fakeEvaluator{}.Evaluate(ctx, job)
			})
			h := runSearch(t, filepath.Join(t.TempDir(), "run"), cfg, ev)
			n := len(tt.seeds)
			for i, name := range tt.seeds {
				r := h.Records[i]
				if r.Origin != SeedOrigin(name) || r.Counted {
					t.Errorf("record %d: origin %s counted %v, want the uncounted training of seed %s", i, r.Origin, r.Counted, name)
				}
			}
			for k := range tt.pop {
				r := h.Records[n+k]
				name := tt.seeds[k%n]
				seed := h.Records[k%n]
				if r.Origin != CopyOrigin(name) || !r.Counted || r.ParentIndex != k%n || r.Hash != seed.Hash ||
					r.ValAccuracy != seed.ValAccuracy || r.TrainSeed != seed.TrainSeed {
					t.Errorf("record %d = %+v, want a counted copy of record %d (%s)", n+k, r, k%n, name)
				}
			}
			for _, r := range h.Records[n+tt.pop:] {
				if r.Origin != OriginMutation {
					t.Errorf("record %d: origin %s after the initial population, want mutation", r.Index, r.Origin)
				}
			}
			if want := len(h.Records) - tt.pop; trained != want {
				t.Errorf("evaluator called %d times, want %d (every record but the copies)", trained, want)
			}
			if h.Counted != cfg.Budget {
				t.Errorf("counted %d, want %d", h.Counted, cfg.Budget)
			}
		})
	}
}

func TestRandomSearchKeepsBestOnValidation(t *testing.T) {
	cfg := smallConfig(RandomSearch, nil)
	cfg.Budget = 10
	var bests []Record
	h, err := Run(context.Background(), filepath.Join(t.TempDir(), "run"), cfg, fakeEvaluator{}, Options{
		Listener: func(e Event) {
			if e.Kind == NewBest {
				bests = append(bests, e.Record)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	best, ok := h.Best()
	if !ok {
		t.Fatal("no best")
	}
	for _, r := range h.Records {
		if r.Origin != OriginRandom {
			t.Errorf("record %d: origin %s, want random", r.Index, r.Origin)
		}
		if r.Counted && r.ValAccuracy > best.ValAccuracy {
			t.Errorf("record %d beats the best", r.Index)
		}
	}
	if len(bests) == 0 || bests[len(bests)-1].Index != best.Index {
		t.Errorf("last NewBest event %v, want record %d", bests, best.Index)
	}
	if h.Counted != cfg.Budget || len(h.Population) != 0 {
		t.Errorf("counted %d population %d, want %d and 0", h.Counted, len(h.Population), cfg.Budget)
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"unknown strategy", func(c *Config) { c.Strategy = "annealing" }, "strategy"},
		{"random with seeds", func(c *Config) { c.Strategy, c.Seeds = RandomSearch, SeedsRN18 }, "no seeds"},
		{"no population", func(c *Config) { c.Population = 0 }, "population"},
		{"no budget", func(c *Config) { c.Budget = 0 }, "budget"},
		{"bad input", func(c *Config) { c.Input = "28x28" }, "input"},
		{"unknown seed", func(c *Config) { c.Seeds = []string{"resnet50"} }, "resnet50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := smallConfig(RegularisedEvolution, nil)
			tt.change(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig: %v", err)
	}
}
