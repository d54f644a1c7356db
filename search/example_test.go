package search_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

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
