package search

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func smallConfig(strategy StrategyName, seeds []string) Config {
	return Config{
		Strategy: strategy, Seeds: seeds, Population: 5, Tournament: 3, Budget: 16, Seed: 7,
		Input: "3x16x16", Classes: 10, Data: DataSpec{Name: "flaky", Seed: 3}, Train: Budget{Epochs: 2}, FinalEpochs: 3,
	}
}

// jitteryEvaluator is fakeEvaluator answering after a random delay, so that results arrive out of order.
type jitteryEvaluator struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (j *jitteryEvaluator) Evaluate(ctx context.Context, job Job) (Result, error) {
	j.mu.Lock()
	d := time.Duration(j.r.IntN(3000)) * time.Microsecond
	j.mu.Unlock()
	return fakeEvaluator{delay: d}.Evaluate(ctx, job)
}

func TestRunIsDeterministic(t *testing.T) {
	tests := []struct {
		name     string
		strategy StrategyName
		seeds    []string
		inFlight int
		dedup    bool
	}{
		{"random search", RandomSearch, nil, 1, false},
		{"RE scratch", RegularisedEvolution, nil, 1, false},
		{"RE scratch in flight 4", RegularisedEvolution, nil, 4, false},
		{"RE scratch dedup", RegularisedEvolution, nil, 2, true},
		{"RE RN18", RegularisedEvolution, SeedsRN18, 3, false},
		{"RE Mix", RegularisedEvolution, SeedsMix, 2, false},
		{"RM", RandomMutation, nil, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := smallConfig(tt.strategy, tt.seeds)
			cfg.InFlight, cfg.Dedup = tt.inFlight, tt.dedup
			dirA, dirB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
			a := runSearch(t, dirA, cfg, fakeEvaluator{})
			// The second run's results arrive in random order: the log must not notice.
			runSearch(t, dirB, cfg, &jitteryEvaluator{r: rand.New(rand.NewPCG(1, 2))})
			compareLogs(t, normalisedLog(t, dirA), normalisedLog(t, dirB))
			if a.Counted != cfg.Budget {
				t.Errorf("counted %d, want the budget %d", a.Counted, cfg.Budget)
			}
		})
	}
}
