package study_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/einspace-go/einspace/search"
	"github.com/einspace-go/einspace/search/study"
)

// A results folder with two seeds of random search on AddNIST and nothing else yet: the study says what
// is there, what is missing, and derives random sampling from the random-search runs.
func Example() {
	dir, err := os.MkdirTemp("", "einspace-results")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// An evaluator that scores an architecture by its size stands in for training.
	bySize := search.EvaluatorFunc(func(ctx context.Context, job search.Job) (search.Result, error) {
		a, err := job.Architecture()
		if err != nil {
			return search.Result{Failure: err.Error()}, nil
		}
		acc := 100 / float64(a.Stats().Nodes)
		return search.Result{ValAccuracy: acc, TestAccuracy: acc}, nil
	})
	for seed := range uint64(2) {
		cfg := search.DefaultConfig()
		cfg.Strategy, cfg.Population, cfg.Tournament = search.RandomSearch, 0, 0
		cfg.Budget, cfg.Seed, cfg.FinalEpochs = 10, seed, 1
		run := filepath.Join(dir, "addnist", "random", fmt.Sprintf("seed-%d", seed))
		if _, err := search.Run(context.Background(), run, cfg, bySize, search.Options{}); err != nil {
			log.Fatal(err)
		}
		if _, err := search.Final(context.Background(), run, bySize); err != nil {
			log.Fatal(err)
		}
	}

	s, err := study.Read(dir)
	if err != nil {
		log.Fatal(err)
	}
	d := s.Dataset("addnist")
	for _, m := range d.Methods {
		fmt.Printf("%-12s %s\n", m.Method.Title(), m.Status())
	}
	fmt.Println("random sampling:", d.Sampling.N, "samples from", d.SamplingRuns, "runs; chance", d.Chance())
	for _, c := range d.Claims() {
		if c.ID == "ii" && c.Comparison.A == "RE(Mix)" {
			fmt.Println(c.Verdict)
		}
	}
	// Output:
	// RN18         not run
	// random search 2 of 2 seeds finished
	// RE(Scratch)  not run
	// RE(RN18)     not run
	// RE(Mix)      not run
	// random sampling: 20 samples from 2 runs; chance 5
	// not yet measured
}
