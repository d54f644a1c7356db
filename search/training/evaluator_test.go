package training

import (
	"context"
	"strings"
	"testing"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/search"
)

// TestTinySearchOnAddNIST runs a real regularised evolution end to end: AddNIST built from MNIST, every
// architecture compiled and trained for one epoch on a small subset, the best retrained and tested.
func TestTinySearchOnAddNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("trains real networks; runs in the full test suite")
	}
	cfg := search.DefaultConfig()
	cfg.Population, cfg.Tournament, cfg.Budget = 3, 2, 5
	cfg.Data = search.DataSpec{Name: "addnist", Seed: 1, Train: 512, Val: 256, Test: 256}
	cfg.Train = search.Budget{Epochs: 1}
	cfg.FinalEpochs = 1
	cfg.Grammar.Limits = smallLimits()
	dir := t.TempDir()
	ev := &Evaluator{BatchSize: 64, Logf: t.Logf}
	h, err := search.Run(context.Background(), dir, cfg, ev, search.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if h.Counted != cfg.Budget {
		t.Fatalf("%d evaluations counted, want %d", h.Counted, cfg.Budget)
	}
	best, ok := h.Best()
	if !ok || best.ValAccuracy <= 0 || best.Params <= 0 || len(best.Epochs) != 1 {
		t.Fatalf("best record %+v", best)
	}
	final, err := search.Final(context.Background(), dir, ev)
	if err != nil {
		t.Fatal(err)
	}
	if final.Result.TestAccuracy <= 0 || final.Result.TestAccuracy > 100 {
		t.Errorf("final test accuracy %v", final.Result.TestAccuracy)
	}
}

func TestUnknownDataset(t *testing.T) {
	ev := &Evaluator{}
	_, err := ev.Evaluate(context.Background(), search.Job{ID: "x", Arch: "sequential(computation<identity>, computation<identity>)",
		Input: "3x28x28", Data: search.DataSpec{Name: "imagenet"}, Budget: search.Budget{Epochs: 1}})
	if err == nil {
		t.Fatal("an unknown dataset should be an error, not a result")
	}
}

func TestBadArchitectureIsAFailure(t *testing.T) {
	ev := &Evaluator{}
	res, err := ev.Evaluate(context.Background(), search.Job{ID: "x", Arch: "routing[identity, computation<identity>, col2im]",
		Input: "3x28x28", Data: search.DataSpec{Name: "addnist"}, Budget: search.Budget{Epochs: 1}})
	if err != nil || res.Failure == "" {
		t.Fatalf("result %+v, error %v; want a failure", res, err)
	}
}

// TestTooBigIsAFailure: a candidate that cannot fit in memory (here ResNet-18 at a batch of 2^22) is
// recorded as a failure that says so, without being built or trained.
func TestTooBigIsAFailure(t *testing.T) {
	ev := &Evaluator{BatchSize: 1 << 22}
	rn18, err := grammar.SeedArch(grammar.ResNet18, grammar.ImShape(1, 28, 28))
	if err != nil {
		t.Fatal(err)
	}
	res, err := ev.Evaluate(context.Background(), search.Job{ID: "x", Arch: rn18.String(), Input: "1x28x28",
		Data: search.DataSpec{Name: "mnist", Seed: 1, Train: 64, Val: 32, Test: 32}, Budget: search.Budget{Epochs: 1}})
	if err != nil || !strings.HasPrefix(res.Failure, "memory: not enough memory to train a batch of 4194304") || res.WallSeconds != 0 {
		t.Fatalf("result %+v, error %v; want a memory failure", res, err)
	}
}

// TestTimeCapCountsModelBuilding: the budget's wall-clock cap starts before the model is built, so a
// cap that building alone exceeds fails the architecture without a single train step, and says why.
func TestTimeCapCountsModelBuilding(t *testing.T) {
	ev := &Evaluator{}
	res, err := ev.Evaluate(context.Background(), search.Job{ID: "x", Arch: "sequential(computation<linear16>, computation<leakyrelu>)", Input: "1x28x28",
		Data:   search.DataSpec{Name: "mnist", Seed: 1, Train: 64, Val: 32, Test: 32},
		Budget: search.Budget{Epochs: 1, MaxSeconds: 1e-9, BatchSize: 32}})
	if err != nil || !strings.HasPrefix(res.Failure, "timeout: building the model took") || len(res.Epochs) != 0 {
		t.Fatalf("result %+v, error %v; want a timeout failure before training", res, err)
	}
}

// TestComputeBudgetShortensHeavyArchitectures: under a budget of FullFLOPs multiply-adds per image, an
// architecture twice as heavy trains each epoch on half its batches, and one within it on all of them.
func TestComputeBudgetShortensHeavyArchitectures(t *testing.T) {
	ev := &Evaluator{}
	arch := "sequential(computation<linear16>, computation<leakyrelu>)" // 1·28·28·16 multiply-adds per image
	job := search.Job{ID: "x", Arch: arch, Input: "1x28x28", Data: search.DataSpec{Name: "mnist", Seed: 1, Train: 128, Val: 32, Test: 32},
		Budget: search.Budget{Epochs: 2, BatchSize: 16, FullFLOPs: 28 * 28 * 16 / 2}}
	res, err := ev.Evaluate(context.Background(), job)
	if err != nil || res.Failed() || len(res.Epochs) != 2 {
		t.Fatalf("result %+v, error %v", res, err)
	}
	for _, e := range res.Epochs {
		if e.Steps != 4 {
			t.Errorf("epoch %d trained %d steps, want 4 of the 8 (the architecture is twice the budget)", e.Epoch, e.Steps)
		}
	}
	job.Budget.FullFLOPs = 28 * 28 * 16
	if res, err = ev.Evaluate(context.Background(), job); err != nil || res.Epochs[0].Steps != 8 {
		t.Fatalf("within the budget: %+v, %v; want all 8 steps", res.Epochs, err)
	}
}

// TestBudgetSetsBatchAndLearningRate: a job's batch size and learning rate are the ones its budget
// names: 64 examples in batches of 16 take 4 steps an epoch, which a training of the paper's batch of
// 256 could not even start.
func TestBudgetSetsBatchAndLearningRate(t *testing.T) {
	ev := &Evaluator{}
	job := search.Job{ID: "x", Arch: "sequential(computation<linear16>, computation<leakyrelu>)", Input: "1x28x28",
		Data:   search.DataSpec{Name: "mnist", Seed: 1, Train: 64, Val: 32, Test: 32},
		Budget: search.Budget{Epochs: 1, BatchSize: 16, LR: 0.01}}
	res, err := ev.Evaluate(context.Background(), job)
	if err != nil || res.Failed() || len(res.Epochs) != 1 {
		t.Fatalf("batch 16: result %+v, error %v", res, err)
	}
	job.Budget.BatchSize = 0 // the paper's 256: more than the 64 examples
	res, err = ev.Evaluate(context.Background(), job)
	if err != nil || !strings.Contains(res.Failure, "do not fill one batch of 256") {
		t.Fatalf("batch 256 on 64 examples: result %+v, error %v; want a failure naming the batch", res, err)
	}
}
