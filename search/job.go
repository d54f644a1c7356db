package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/einspace-go/einspace/grammar"
)

// DataSpec names a dataset and the subset of it a job trains and scores on, so that a worker on another
// machine can rebuild exactly the same data from the name and seed alone.
type DataSpec struct {
	Name  string `json:"name"`            // e.g. "addnist", "multnist", or a folder of Unseen NAS .npy files
	Seed  uint64 `json:"seed"`            // seed of the dataset's construction and subset choice
	Train int    `json:"train,omitempty"` // examples in the training split (0: all)
	Val   int    `json:"val,omitempty"`   // examples in the validation split (0: all)
	Test  int    `json:"test,omitempty"`  // examples in the test split (0: all)
}

// Budget is the training protocol of one evaluation: how long, in batches of what size, at what learning
// rate, and the wall-clock cap. Zero fields keep the paper's values (SPEC §7.3: batch 256, SGD 0.04), so
// the configurations and logs written before these fields existed read as they were meant.
type Budget struct {
	Epochs int `json:"epochs"`
	// MaxSeconds caps the wall time of an evaluation, counted from the moment a worker takes the job:
	// building and compiling the model count, not only training (0: no cap). Training stops at the first
	// step boundary past the cap and the partly trained epoch is scored; a worker process still busy at
	// HardLimit is killed and the architecture fails.
	MaxSeconds float64 `json:"max_seconds,omitempty"`
	BatchSize  int     `json:"batch_size,omitempty"` // 0: 256
	LR         float64 `json:"lr,omitempty"`         // initial learning rate, cosine-annealed per epoch; 0: 0.04
	// FullFLOPs is a compute budget that does not depend on the machine: an architecture of at most this
	// many multiply-adds per image (its analytic count) trains on every batch; a heavier one trains each
	// epoch on the fraction FullFLOPs/FLOPs of its batches, so that no evaluation computes more than one
	// of FullFLOPs would (0: no budget).
	FullFLOPs int64 `json:"full_flops,omitempty"`
}

// The paper's batch size and learning rate, which a zero Budget field stands for.
const (
	PaperBatchSize = 256
	PaperLR        = 0.04
)

// Batch is the batch size the budget trains with.
func (b Budget) Batch() int {
	if b.BatchSize > 0 {
		return b.BatchSize
	}
	return PaperBatchSize
}

// LearningRate is the initial learning rate the budget trains with.
func (b Budget) LearningRate() float64 {
	if b.LR > 0 {
		return b.LR
	}
	return PaperLR
}

// StepsPerEpoch is how many batches of an epoch of steps an architecture of flops multiply-adds per image
// trains on under the budget: all of them up to FullFLOPs, fewer in proportion above it, at least one.
func (b Budget) StepsPerEpoch(steps int, flops int64) int {
	if b.FullFLOPs <= 0 || flops <= b.FullFLOPs {
		return steps
	}
	return max(1, int(float64(steps)*float64(b.FullFLOPs)/float64(flops)))
}

// HardLimit is when a worker process still evaluating a job of this budget is killed: the cap plus time
// to score the partial epoch (half the cap, at least 30 s). Zero when the budget has no cap.
func (b Budget) HardLimit() time.Duration {
	if b.MaxSeconds <= 0 {
		return 0
	}
	return time.Duration((b.MaxSeconds + max(30, b.MaxSeconds/2)) * float64(time.Second))
}

// Check reports a budget that cannot train.
func (b Budget) Check() error {
	var errs []error
	if b.Epochs < 1 {
		errs = append(errs, fmt.Errorf("epochs %d: want at least 1", b.Epochs))
	}
	if b.MaxSeconds < 0 || math.IsNaN(b.MaxSeconds) || math.IsInf(b.MaxSeconds, 0) {
		errs = append(errs, fmt.Errorf("max_seconds %v: want 0 (no cap) or a positive number of seconds", b.MaxSeconds))
	}
	if b.BatchSize < 0 {
		errs = append(errs, fmt.Errorf("batch_size %d: want 0 (the paper's 256) or more", b.BatchSize))
	}
	if b.FullFLOPs < 0 {
		errs = append(errs, fmt.Errorf("full_flops %d: want 0 (no compute budget) or more", b.FullFLOPs))
	}
	if b.LR < 0 || math.IsNaN(b.LR) || math.IsInf(b.LR, 0) {
		errs = append(errs, fmt.Errorf("lr %v: want 0 (the paper's 0.04) or a positive learning rate", b.LR))
	}
	return errors.Join(errs...)
}

// Job is one evaluation: everything a worker needs to train and score an architecture, with no shared
// memory, so that it can travel as one JSON line to another process or machine.
type Job struct {
	// ID is deterministic: the run's identifier and the evaluation's index in the run log, so that a job
	// re-run after a crash has the same ID.
	ID        string   `json:"id"`
	Arch      string   `json:"arch"`  // canonical architecture text (SPEC §10.1)
	Input     string   `json:"input"` // input shape C×H×W written as "3x28x28"
	Classes   int      `json:"classes,omitempty"`
	Data      DataSpec `json:"data"`
	Budget    Budget   `json:"budget"`
	TrainSeed uint64   `json:"train_seed"` // weight initialisation and batch order
	// Final asks for the final protocol: train on train+val, score on test (Result.TestAccuracy).
	Final bool `json:"final,omitempty"`
}

// Architecture parses the job's architecture text for its input shape.
func (j Job) Architecture() (*grammar.Arch, error) {
	input, err := grammar.ParseShape(j.Input)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", j.ID, err)
	}
	a, err := grammar.ParseArch(j.Arch, input)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", j.ID, err)
	}
	return a, nil
}

// Epoch is the record of one training epoch: what a run log keeps of it, what a training curve
// (viz.TrainingCurves) draws. Accuracies are percentages, as everywhere in a search. The trainer reports
// an epoch as models.EpochMetrics, in fractions and with what only it knows (learning rate, steps);
// training.EpochOf turns that into this record.
type Epoch struct {
	Epoch         int     `json:"epoch"` // 1-based
	TrainLoss     float64 `json:"train_loss"`
	TrainAccuracy float64 `json:"train_accuracy"` // percent
	ValAccuracy   float64 `json:"val_accuracy"`   // percent; test accuracy for a final job
	Seconds       float64 `json:"seconds"`        // wall time of the epoch
	// Steps is the number of batches the epoch trained on: fewer than a full epoch's when the budget's
	// FullFLOPs shortened it or its wall-clock cap ran out (older logs: 0, unknown).
	Steps int `json:"steps,omitempty"`
}

// Result is what an evaluation produced. A non-empty Failure means the architecture failed (NaN, panic,
// out of memory, timeout, build error): the search skips it. Accuracies are percentages (0-100).
type Result struct {
	ValAccuracy  float64 `json:"val_accuracy"` // fitness: validation accuracy after the last epoch
	TestAccuracy float64 `json:"test_accuracy,omitempty"`
	TrainLoss    float64 `json:"train_loss"` // after the last epoch
	Epochs       []Epoch `json:"epochs,omitempty"`
	Params       int64   `json:"params"`
	FLOPs        int64   `json:"flops"`
	WallSeconds  float64 `json:"wall_seconds"`
	Failure      string  `json:"failure,omitempty"`
}

// Failed reports whether the architecture failed.
func (r Result) Failed() bool { return r.Failure != "" }

// FailureReason is the first line of Failure: what went wrong, without the stack trace or log that may
// follow. Reports count failures by it.
func (r Result) FailureReason() string {
	reason, _, _ := strings.Cut(r.Failure, "\n")
	return reason
}

// Finite replaces values JSON cannot carry (NaN, ±Inf) by 0; a non-finite fitness becomes a failure. The
// run log and the worker protocols store results this way.
func (r Result) Finite() Result {
	fix := func(v *float64) bool {
		if math.IsNaN(*v) || math.IsInf(*v, 0) {
			*v = 0
			return true
		}
		return false
	}
	if fix(&r.ValAccuracy) && r.Failure == "" {
		r.Failure = "non-finite validation accuracy"
	}
	fix(&r.TestAccuracy)
	fix(&r.TrainLoss)
	fix(&r.WallSeconds)
	if len(r.Epochs) > 0 {
		r.Epochs = append([]Epoch(nil), r.Epochs...)
		for i := range r.Epochs {
			e := &r.Epochs[i]
			fix(&e.TrainLoss)
			fix(&e.TrainAccuracy)
			fix(&e.ValAccuracy)
			fix(&e.Seconds)
		}
	}
	return r
}

// Evaluator trains and scores architectures. A bad architecture is a Result with Failure set; an error
// is reserved for problems of the infrastructure (context cancelled, worker pool closed, data missing),
// which stop the search. Evaluate may be called from several goroutines at once.
type Evaluator interface {
	Evaluate(ctx context.Context, job Job) (Result, error)
}

// EvaluatorFunc adapts a function to the Evaluator interface.
type EvaluatorFunc func(ctx context.Context, job Job) (Result, error)

// Evaluate calls f.
func (f EvaluatorFunc) Evaluate(ctx context.Context, job Job) (Result, error) { return f(ctx, job) }
