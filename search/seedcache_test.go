package search

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// seedJobs lists the job IDs of seed trainings an evaluator was given, by their record index.
func seedJobs(t *testing.T, dir string, ev *countingEvaluator) (trained []int) {
	t.Helper()
	records, _, err := ReadRecords(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		if r.Origin.Kind == SeedTraining && slices.Contains(ev.jobs, r.JobID) {
			trained = append(trained, r.Index)
		}
	}
	return trained
}

func TestSeedCacheSharesSeedTrainingsAcrossSearches(t *testing.T) {
	cache := SeedCache{Dir: filepath.Join(t.TempDir(), "cache")}
	rn18, mix := smallConfig(RegularisedEvolution, SeedsRN18), smallConfig(RegularisedEvolution, SeedsMix)
	rn18.Budget, mix.Budget = 8, 8 // the seeds' copies and a few children

	first := &countingEvaluator{}
	rn18Dir := filepath.Join(t.TempDir(), "rn18")
	if _, err := Run(context.Background(), rn18Dir, rn18, first, Options{SeedCache: cache}); err != nil {
		t.Fatal(err)
	}
	if got := seedJobs(t, rn18Dir, first); !slices.Equal(got, []int{0}) {
		t.Fatalf("RE(RN18) trained seed records %v, want [0] (an empty cache)", got)
	}

	second := &countingEvaluator{}
	mixDir := filepath.Join(t.TempDir(), "mix")
	h, err := Run(context.Background(), mixDir, mix, second, Options{SeedCache: cache})
	if err != nil {
		t.Fatal(err)
	}
	// ResNet-18 is record 0 of both, with the same training seed: the cache answers it.
	if got := seedJobs(t, mixDir, second); !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("RE(Mix) trained seed records %v, want [1 2 3]: ResNet-18 comes from RE(RN18)'s training", got)
	}
	if r := h.Records[0]; !r.Cached || r.Origin != SeedOrigin("resnet18") {
		t.Fatalf("record 0 is %s cached=%v, want the cached ResNet-18 training", r.Origin, r.Cached)
	}
	rn18Records, _, _ := ReadRecords(rn18Dir)
	if got, want := h.Records[0].Result, rn18Records[0].Result; got.ValAccuracy != want.ValAccuracy || got.TrainLoss != want.TrainLoss {
		t.Fatalf("cached ResNet-18 scored %+v, the training it came from %+v", got, want)
	}

	// A fresh attempt at RE(Mix) from nothing trains no seed at all.
	third := &countingEvaluator{}
	againDir := filepath.Join(t.TempDir(), "again")
	h2, err := Run(context.Background(), againDir, mix, third, Options{SeedCache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if got := seedJobs(t, againDir, third); len(got) != 0 {
		t.Fatalf("a second RE(Mix) trained seed records %v, want none", got)
	}
	// Everything but the seed trainings' timing and Cached flag is what the first RE(Mix) logged.
	for i := range h.Records {
		a, b := h.Records[i], h2.Records[i]
		if a.Arch != b.Arch || a.ValAccuracy != b.ValAccuracy || a.Origin != b.Origin {
			t.Fatalf("record %d differs between two RE(Mix) runs sharing a cache: %s %v / %s %v", i, a.Origin, a.ValAccuracy, b.Origin, b.ValAccuracy)
		}
	}
}

func TestSeedCacheKeysOnProtocolAndTrainingSeed(t *testing.T) {
	cache := SeedCache{Dir: t.TempDir()}
	job := Job{ID: "run-000000", Arch: "computation<identity>", Input: "3x8x8", Data: DataSpec{Name: "addnist", Train: 100},
		Budget: Budget{Epochs: 1}, TrainSeed: 5}
	if err := cache.Put(job, Result{ValAccuracy: 42}); err != nil {
		t.Fatal(err)
	}
	other := job
	other.ID = "another-run-000007" // the ID is not part of the key
	if res, ok, err := cache.Get(other); err != nil || !ok || res.ValAccuracy != 42 {
		t.Fatalf("same job under another ID: %v %v %v, want the cached 42", res, ok, err)
	}
	for name, change := range map[string]func(*Job){
		"epochs":        func(j *Job) { j.Budget.Epochs = 2 },
		"learning rate": func(j *Job) { j.Budget.LR = 0.1 },
		"batch":         func(j *Job) { j.Budget.BatchSize = 64 },
		"training seed": func(j *Job) { j.TrainSeed = 6 },
		"data":          func(j *Job) { j.Data.Train = 200 },
	} {
		j := job
		change(&j)
		if _, ok, err := cache.Get(j); ok || err != nil {
			t.Errorf("another %s: found=%v err=%v, want a miss", name, ok, err)
		}
	}
	if err := cache.Put(job, Result{Failure: "NaN"}); err != nil {
		t.Fatal(err)
	}
	if res, _, _ := cache.Get(job); res.Failed() {
		t.Fatal("a failed training replaced a cached success")
	}
	// A file that holds another job than its name says is refused, and the seed trained again.
	key, _ := cacheKey(job)
	b, _ := os.ReadFile(cache.path(key))
	if err := os.WriteFile(cache.path(key), []byte(strings.Replace(string(b), `"train_seed": 5`, `"train_seed": 9`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := cache.Get(job); ok || err == nil || !strings.Contains(err.Error(), "another job") {
		t.Fatalf("tampered entry: found=%v err=%v, want a refusal", ok, err)
	}
}

func TestBudgetDefaultsAndLimits(t *testing.T) {
	var b Budget
	if b.Batch() != 256 || b.LearningRate() != 0.04 || b.HardLimit() != 0 {
		t.Fatalf("zero budget: batch %d, lr %v, hard limit %v; want the paper's 256, 0.04 and no limit", b.Batch(), b.LearningRate(), b.HardLimit())
	}
	b = Budget{Epochs: 1, MaxSeconds: 40, BatchSize: 64, LR: 0.02}
	if b.Batch() != 64 || b.LearningRate() != 0.02 || b.HardLimit().Seconds() != 70 {
		t.Fatalf("budget %+v: batch %d, lr %v, hard limit %v", b, b.Batch(), b.LearningRate(), b.HardLimit())
	}
	if got := (Budget{MaxSeconds: 200}).HardLimit().Seconds(); got != 300 {
		t.Fatalf("hard limit of a 200 s cap: %v s, want 300", got)
	}
	for _, bad := range []Budget{{Epochs: 0}, {Epochs: 1, MaxSeconds: -1}, {Epochs: 1, BatchSize: -2}, {Epochs: 1, LR: -0.1}} {
		if bad.Check() == nil {
			t.Errorf("budget %+v passed its check", bad)
		}
	}
}

func TestStepsPerEpochUnderTheComputeBudget(t *testing.T) {
	b := Budget{Epochs: 2, FullFLOPs: 1000}
	for _, c := range []struct {
		steps int
		flops int64
		want  int
	}{{62, 500, 62}, {62, 1000, 62}, {62, 2000, 31}, {62, 3000, 20}, {62, 1_000_000, 1}} {
		if got := b.StepsPerEpoch(c.steps, c.flops); got != c.want {
			t.Errorf("%d steps at %d FLOPs under a budget of 1000: %d, want %d", c.steps, c.flops, got, c.want)
		}
	}
	if got := (Budget{Epochs: 2}).StepsPerEpoch(62, 1<<40); got != 62 {
		t.Errorf("no budget: %d steps, want all 62", got)
	}
}

func TestFinalBudgetKeepsTheProtocolAndScalesTheCap(t *testing.T) {
	cfg := smallConfig(RegularisedEvolution, nil)
	cfg.Train = Budget{Epochs: 2, MaxSeconds: 30, BatchSize: 64, LR: 0.02}
	cfg.FinalEpochs = 8
	got := cfg.FinalBudget()
	if want := (Budget{Epochs: 8, MaxSeconds: 120, BatchSize: 64, LR: 0.02}); got != want {
		t.Fatalf("final budget %+v, want %+v", got, want)
	}
}

func TestJobTimeoutIsTheSoonerOfPoolAndBudget(t *testing.T) {
	capped := Job{Budget: Budget{Epochs: 1, MaxSeconds: 60}} // hard limit 90 s
	for _, c := range []struct {
		pool time.Duration
		job  Job
		want time.Duration
	}{
		{0, Job{}, 0},
		{time.Minute, Job{}, time.Minute},
		{0, capped, 90 * time.Second},
		{time.Hour, capped, 90 * time.Second},
		{time.Minute, capped, time.Minute},
	} {
		if got := jobTimeout(c.pool, c.job); got != c.want {
			t.Errorf("pool %v, cap %v s: timeout %v, want %v", c.pool, c.job.Budget.MaxSeconds, got, c.want)
		}
	}
}
