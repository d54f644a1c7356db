package search

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/einspace-go/einspace/grammar"
)

// BenchmarkEvaluationOverhead measures what the search machinery costs per evaluation, with a fake
// evaluator that takes no time: one Evaluate call in-process and through a worker process (JSON lines
// over pipes, ResNet-18's text as the architecture), and whole RE searches (sampling, tournament,
// mutation, one fsynced log line per evaluation).
//
//	go test -run '^$' -bench EvaluationOverhead -benchtime 2000x ./search/
func BenchmarkEvaluationOverhead(b *testing.B) {
	seed, err := grammar.SeedArch("resnet18", grammar.ImShape(3, 28, 28))
	if err != nil {
		b.Fatal(err)
	}
	job := Job{ID: "bench", Arch: seed.String(), Input: "3x28x28", Data: DataSpec{Name: "fake"}, Budget: Budget{Epochs: 8}}
	perSecond := func(b *testing.B, start time.Time) {
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "evals/s")
	}
	b.Run("evaluate/in-process", func(b *testing.B) {
		start := time.Now()
		for b.Loop() {
			if _, err := (fakeEvaluator{}).Evaluate(context.Background(), job); err != nil {
				b.Fatal(err)
			}
		}
		perSecond(b, start)
	})
	b.Run("evaluate/process-pool-1", func(b *testing.B) {
		pool := newTestPool(b, 1, time.Minute)
		if _, err := pool.Evaluate(context.Background(), job); err != nil { // wait for the worker to start
			b.Fatal(err)
		}
		b.ResetTimer()
		start := time.Now()
		for b.Loop() {
			if res, err := pool.Evaluate(context.Background(), job); err != nil || res.Failed() {
				b.Fatal(err, res.Failure)
			}
		}
		perSecond(b, start)
	})
	for _, mode := range []string{"in-process", "process-pool-1"} {
		b.Run("search/"+mode, func(b *testing.B) {
			var ev Evaluator = fakeEvaluator{}
			if mode != "in-process" {
				pool := newTestPool(b, 1, time.Minute)
				ev = pool
			}
			cfg := smallConfig(RegularisedEvolution, nil)
			cfg.Data.Name, cfg.Population, cfg.Tournament, cfg.Budget = "fake", 20, 5, max(b.N, 1)
			dir := filepath.Join(b.TempDir(), fmt.Sprint("run", b.N))
			b.ResetTimer()
			start := time.Now()
			if _, err := Run(context.Background(), dir, cfg, ev, Options{}); err != nil {
				b.Fatal(err)
			}
			perSecond(b, start)
		})
	}
}
