package search_test

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/search"
)

// A small regularised evolution with an evaluator that scores architectures by their size. A real
// search plugs in the training evaluator of package models, often through a ProcessPool.
func Example() {
	dir, err := os.MkdirTemp("", "einspace-search")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	cfg := search.DefaultConfig()
	cfg.Population, cfg.Tournament, cfg.Budget = 4, 2, 12
	cfg.Input, cfg.Classes, cfg.Seed = "3x16x16", 10, 1
	score := search.EvaluatorFunc(func(ctx context.Context, job search.Job) (search.Result, error) {
		a, err := job.Architecture()
		if err != nil {
			return search.Result{Failure: err.Error()}, nil
		}
		nodes := a.Stats().Nodes
		return search.Result{ValAccuracy: 100 / float64(nodes)}, nil // smaller is better, for the example
	})
	newBests := 0
	h, err := search.Run(context.Background(), filepath.Join(dir, "run"), cfg, score, search.Options{
		Listener: func(e search.Event) {
			if e.Kind == search.NewBest {
				newBests++
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	best, _ := h.Best()
	fmt.Println("counted:", h.Counted, "population:", len(h.Population))
	fmt.Println("best origin:", best.Origin, "better than the first:", newBests > 1)
	// Output:
	// counted: 12 population: 4
	// best origin: mutation better than the first: true
}

// hillClimber is a strategy written outside the package: it samples one architecture, then mutates the
// best so far, one evaluation at a time.
type hillClimber struct{ best search.BestSoFar }

func (h *hillClimber) Propose(s *search.State, r *rand.Rand) (search.Proposal, bool) {
	if s.Next() == 0 {
		return search.Proposal{Origin: search.OriginRandom, Counted: true,
			Draw: func() (*grammar.Arch, error) { return s.Grammar().Sample(r, s.Input()) }}, true
	}
	best, ok := h.best.Best()
	if !ok || len(s.Records()) < s.Next() {
		return search.Proposal{}, false // wait for the evaluation in flight (or stop: nothing succeeded)
	}
	return search.Proposal{Origin: search.OriginMutation, Parents: []int{best.Index}, Counted: true,
		Draw: func() (*grammar.Arch, error) {
			a, err := s.Arch(best)
			if err != nil {
				return nil, err
			}
			return s.Grammar().Mutate(r, a)
		}}, true
}

func (h *hillClimber) Recorded(_ *search.State, _ search.Proposal, rec search.Record) error {
	h.best.Add(rec)
	return nil
}

func (h *hillClimber) Population() []int { return nil }

// A new strategy is a type implementing search.Strategy and a name for configurations; Run keeps the
// budget, the log and its replay for it.
func ExampleRegisterStrategy() {
	if !slices.Contains(search.StrategyNames(), "hill-climber") { // registered once per process
		search.RegisterStrategy("hill-climber", func(search.Config) (search.Strategy, error) { return &hillClimber{}, nil })
	}
	dir, err := os.MkdirTemp("", "einspace-search")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	cfg := search.DefaultConfig()
	cfg.Strategy, cfg.Budget, cfg.Input, cfg.Classes, cfg.Seed = "hill-climber", 10, "3x16x16", 10, 1
	fewerNodes := search.EvaluatorFunc(func(ctx context.Context, job search.Job) (search.Result, error) {
		a, err := job.Architecture()
		if err != nil {
			return search.Result{Failure: err.Error()}, nil
		}
		return search.Result{ValAccuracy: 100 / float64(a.Stats().Nodes)}, nil
	})
	h, err := search.Run(context.Background(), filepath.Join(dir, "run"), cfg, fewerNodes, search.Options{})
	if err != nil {
		log.Fatal(err)
	}
	first, _ := (&search.History{Records: h.Records[:1]}).Best()
	best, _ := h.Best()
	fmt.Println("counted:", h.Counted, "climbed:", best.ValAccuracy > first.ValAccuracy, "from:", best.Origin)
	// Output:
	// counted: 10 climbed: true from: mutation
}

// ExampleSeedCache: two seeded searches on the same data share the training of their common seed. The
// second finds ResNet-18's training in the cache and trains only the three seeds it adds.
func ExampleSeedCache() {
	dir, _ := os.MkdirTemp("", "seedcache")
	defer os.RemoveAll(dir)
	cache := search.SeedCache{Dir: filepath.Join(dir, "cache")}
	trained := func(name string, seeds []string) {
		cfg := search.Config{Strategy: search.RegularisedEvolution, Seeds: seeds, Population: 4, Tournament: 2, Budget: 4,
			Input: "3x16x16", Data: search.DataSpec{Name: "toy"}, Train: search.Budget{Epochs: 1}}
		var jobs []string
		ev := search.EvaluatorFunc(func(_ context.Context, job search.Job) (search.Result, error) {
			jobs = append(jobs, job.ID[len(job.ID)-1:])
			return search.Result{ValAccuracy: 50}, nil
		})
		h, err := search.Run(context.Background(), filepath.Join(dir, name), cfg, ev, search.Options{SeedCache: cache})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: trained records %v; record 0 %s cached: %v\n", name, jobs, h.Records[0].Origin, h.Records[0].Cached)
	}
	trained("re-rn18", search.SeedsRN18)
	trained("re-mix", search.SeedsMix)
	// Output:
	// re-rn18: trained records [0]; record 0 seed:resnet18 cached: false
	// re-mix: trained records [1 2 3]; record 0 seed:resnet18 cached: true
}
