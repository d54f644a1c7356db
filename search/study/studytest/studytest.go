// Package studytest writes small, deterministic results folders for the tests of the packages that read
// them (search/study, viz, kernel, cmd/einspace): real search runs (search.Run) with a fake evaluator that
// scores an architecture from its text, so that a folder of twenty searches is written in a second.
package studytest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/search"
)

// Budget is the counted evaluations of every search Write runs but the rn18 one (which has 1).
const Budget = 12

// Evaluator is the fake evaluator: a seed architecture scores 60-70% (by its training seed), any other
// 5 + 70·u² % (u uniform in [0, 1) from the text's hash, so that most random networks are poor); one
// architecture in eleven fails; a final training scores its validation accuracy - 1 + (training seed mod
// 100)/100 on test.
func Evaluator(input grammar.Shape) search.Evaluator {
	seeds := map[string]bool{}
	for _, name := range grammar.SeedNames() {
		if a, err := grammar.SeedArch(name, input); err == nil {
			seeds[a.String()] = true
		}
	}
	return search.EvaluatorFunc(func(ctx context.Context, job search.Job) (search.Result, error) {
		sum := sha256.Sum256([]byte(job.Arch))
		v := binary.BigEndian.Uint64(sum[:8])
		u := float64(v>>11) / (1 << 53)
		var acc float64
		switch {
		case seeds[job.Arch]:
			acc = 60 + float64(job.TrainSeed%1000)/100
		case v%11 == 5 && !job.Final:
			return search.Result{Failure: "fake: loss became NaN"}, nil
		default:
			acc = 5 + 70*u*u
		}
		res := search.Result{ValAccuracy: acc, TrainLoss: (100 - acc) / 50, WallSeconds: 0.01}
		if job.Final {
			res.TestAccuracy = acc - 1 + float64(job.TrainSeed%100)/100
		}
		return res, nil
	})
}

// Config is the configuration of method ("random", "re-scratch", "re-rn18", "re-mix" or "rn18") on
// dataset ("addnist" or "multnist") with search seed seed: the layout of the reproduction at a toy size.
func Config(method, dataset string, seed uint64) search.Config {
	cfg := search.DefaultConfig()
	cfg.Population, cfg.Tournament, cfg.Budget, cfg.Seed = 4, 2, Budget, seed
	cfg.Data = search.DataSpec{Name: dataset, Train: 500, Val: 100, Test: 100}
	cfg.Classes = 20
	if dataset == "multnist" {
		cfg.Classes = 10
	}
	cfg.Train, cfg.FinalEpochs = search.Budget{Epochs: 1, MaxSeconds: 60}, 2
	switch method {
	case "random":
		cfg.Strategy, cfg.Population, cfg.Tournament = search.RandomSearch, 0, 0
	case "re-rn18":
		cfg.Seeds = search.SeedsRN18
	case "re-mix":
		cfg.Seeds = search.SeedsMix
	case "rn18":
		cfg.Seeds, cfg.Population, cfg.Tournament, cfg.Budget = search.SeedsRN18, 1, 1, 1
	}
	cfg.Grammar.Limits = &grammar.Limits{Nodes: 200, Params: 1_000_000, FLOPs: 100_000_000}
	if len(cfg.Seeds) > 0 {
		cfg.Grammar.Limits = &grammar.Limits{Nodes: 2000, Params: 30_000_000, FLOPs: 3_000_000_000}
	}
	return cfg
}

// Run runs method on dataset with seed into dir/<dataset>/<method>/seed-<seed> (the seed cache in
// dir/seed-cache), then its final training, and returns the run directory.
func Run(t testing.TB, dir, method, dataset string, seed uint64) string {
	t.Helper()
	cfg := Config(method, dataset, seed)
	run := filepath.Join(dir, dataset, method, fmt.Sprintf("seed-%d", seed))
	input, err := cfg.InputShape()
	if err != nil {
		t.Fatal(err)
	}
	ev := Evaluator(input)
	opts := search.Options{Logf: t.Logf, SeedCache: search.SeedCache{Dir: filepath.Join(dir, "seed-cache")}}
	if _, err := search.Run(context.Background(), run, cfg, ev, opts); err != nil {
		t.Fatalf("%s: %v", run, err)
	}
	if _, err := search.Final(context.Background(), run, ev); err != nil {
		t.Fatalf("%s: %v", run, err)
	}
	return run
}

// Unfinish removes a run's final result and, for n >= 0, cuts its log back to its first n lines, as if it
// had been stopped there.
func Unfinish(t testing.TB, run string, n int) {
	t.Helper()
	if err := os.Remove(filepath.Join(run, search.FinalFile)); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if n < 0 {
		return
	}
	path := filepath.Join(run, search.EvaluationsFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	if err := os.WriteFile(path, bytes.Join(lines[:min(n, len(lines))], nil), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Write writes the standard test folder into dir:
//
//	addnist:  every method with seeds 0, 1, 2, finished; the baseline finished (train.json, result.json)
//	multnist: random seeds 0, 1 and rn18 seed 0 finished; re-scratch seed 0 finished and seed 1 stopped
//	          after 7 log lines; re-rn18 seed 0 searched but not finally trained; re-mix not run; the
//	          baseline after 3 of 8 epochs (train.json only)
func Write(t testing.TB, dir string) {
	t.Helper()
	for _, m := range []string{"re-rn18", "re-mix", "rn18", "random", "re-scratch"} {
		for seed := range uint64(3) {
			Run(t, dir, m, "addnist", seed)
		}
	}
	Run(t, dir, "random", "multnist", 0)
	Run(t, dir, "random", "multnist", 1)
	Run(t, dir, "rn18", "multnist", 0)
	Run(t, dir, "re-scratch", "multnist", 0)
	Unfinish(t, Run(t, dir, "re-scratch", "multnist", 1), 7)
	Unfinish(t, Run(t, dir, "re-rn18", "multnist", 0), -1)
	WriteBaseline(t, dir, "addnist", 8, 8, true)
	WriteBaseline(t, dir, "multnist", 8, 3, false)
}

// BaselineAccuracy is the validation accuracy (a fraction) WriteBaseline records after epoch e.
func BaselineAccuracy(e int) float64 { return 0.5 + 0.05*float64(e) }

// WriteBaseline writes dir/baseline/<dataset>/train.json, a training record of ResNet-18 in the JSON of
// models.RunRecord (written out here, so that this package needs no GoMLX; cmd/einspace's tests check the
// format against models.RunRecord itself) with done of its epochs completed (validation accuracy
// BaselineAccuracy(e), 10 minutes each), and with result, the result line of `einspace train --format
// json` (test accuracy 1 point below validation).
func WriteBaseline(t testing.TB, dir, dataset string, epochs, done int, result bool) {
	t.Helper()
	base := filepath.Join(dir, "baseline", dataset)
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatal(err)
	}
	var completed []map[string]any
	for e := 1; e <= done; e++ {
		completed = append(completed, map[string]any{"Epoch": e, "LR": 0.04, "TrainLoss": 1 / float64(e), "TrainAccuracy": BaselineAccuracy(e),
			"ValAccuracy": BaselineAccuracy(e), "ValLoss": 1 / float64(e), "Steps": 175, "Duration": int64(10 * time.Minute), "Partial": false})
	}
	rec := map[string]any{"arch": "resnet18", "input": []int{3, 28, 28}, "classes": 20, "data": dataset + ", subset 0, seed 0",
		"epochs": epochs, "batch_size": 256, "lr": 0.04, "momentum": 0.9, "weight_decay": 3e-4, "seed": 0, "completed": completed,
		"checkpoint": fmt.Sprintf("epoch-%03d", done)}
	write := func(name string, v any) {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(base, name), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("train.json", rec)
	if result {
		val := 100 * BaselineAccuracy(done)
		write("result.json", map[string]any{"arch": "resnet18", "dataset": dataset, "params": 11_200_000, "epochs": done,
			"resumed_after": 0, "val_accuracy": val, "test_accuracy": val - 1, "train_loss": 0.1, "nan": false,
			"seconds": float64(done) * 600})
	}
}
