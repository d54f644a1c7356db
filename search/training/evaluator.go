package training

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/einspace-go/einspace/models"
	"github.com/einspace-go/einspace/models/data"
	"github.com/einspace-go/einspace/search"
)

// Evaluator trains architectures on datasets it loads by name. The zero value is ready to use; it is safe
// for concurrent use, though one process usually runs one evaluation at a time.
type Evaluator struct {
	// BatchSize, when positive, overrides the batch size of every job's budget.
	BatchSize int
	// Logf, when set, receives progress lines (dataset loading, each epoch).
	Logf func(format string, args ...any)

	mu       sync.Mutex
	datasets map[search.DataSpec]*data.Dataset
}

// Evaluate trains the job's architecture and returns its metrics (accuracies in percent). The budget's
// wall-clock cap counts once the data is loaded: building and compiling the model spend it as training
// does.
func (e *Evaluator) Evaluate(ctx context.Context, job search.Job) (search.Result, error) {
	arch, err := job.Architecture()
	if err != nil {
		return search.Result{Failure: fmt.Sprintf("architecture: %v", err)}, nil
	}
	ds, err := e.dataset(ctx, job.Data)
	if err != nil {
		return search.Result{}, err
	}
	start := time.Now()
	if got, want := fmt.Sprintf("%dx%dx%d", ds.Shape.C, ds.Shape.H, ds.Shape.W), arch.Input.Arg(); got != want {
		return search.Result{}, fmt.Errorf("job %s: dataset %s has inputs %s, the architecture was inferred for %s", job.ID, job.Data.Name, got, want)
	}
	classes := ds.Classes
	if job.Classes > 0 && job.Classes != classes {
		return search.Result{}, fmt.Errorf("job %s: dataset %s has %d classes, the job says %d", job.ID, job.Data.Name, classes, job.Classes)
	}
	net, err := models.Compile(arch, classes)
	if err != nil {
		return search.Result{Failure: fmt.Sprintf("compile: %v", err)}, nil
	}
	cfg := models.DefaultConfig()
	cfg.Epochs = max(1, job.Budget.Epochs)
	cfg.Seed = job.TrainSeed
	cfg.BatchSize, cfg.LR = job.Budget.Batch(), job.Budget.LearningRate()
	if e.BatchSize > 0 {
		cfg.BatchSize = e.BatchSize
	}
	if err := net.CheckMemory(cfg.BatchSize, true); err != nil { // before anything is built
		return search.Result{Failure: fmt.Sprintf("memory: %v", err)}, nil
	}
	model, err := models.New(net, int64(job.TrainSeed))
	if err != nil {
		return search.Result{Failure: fmt.Sprintf("build: %v", err)}, nil
	}
	if job.Budget.MaxSeconds > 0 {
		// What building the model took is spent; the first train step, which compiles the train graph,
		// spends the rest like any other step.
		capacity := time.Duration(job.Budget.MaxSeconds * float64(time.Second))
		cfg.MaxDuration = capacity - time.Since(start)
		if cfg.MaxDuration <= 0 {
			return search.Result{Failure: fmt.Sprintf("timeout: building the model took %v of the %v budget", time.Since(start).Round(time.Millisecond), capacity),
				WallSeconds: time.Since(start).Seconds()}, nil
		}
	}
	train, val := split(ds.Train), split(ds.Val)
	if job.Final {
		train, val = split(ds.TrainVal()), split(ds.Test)
	}
	stats := arch.Stats()
	if steps := train.Len() / cfg.BatchSize; steps > 0 {
		cfg.StepsPerEpoch = job.Budget.StepsPerEpoch(steps, stats.FLOPs)
	}
	res, err := model.Train(ctx, train, val, cfg, func(m models.EpochMetrics) {
		ep := EpochOf(m)
		e.logf("job %s epoch %d: loss %.4f, train %.2f%%, val %.2f%% (%v)", job.ID, ep.Epoch, m.TrainLoss,
			ep.TrainAccuracy, ep.ValAccuracy, m.Duration.Round(time.Millisecond))
	})
	if err != nil {
		if ctx.Err() != nil {
			return search.Result{}, ctx.Err()
		}
		return search.Result{Failure: fmt.Sprintf("train: %v", err)}, nil
	}
	out := search.Result{
		ValAccuracy: 100 * res.ValAccuracy,
		TrainLoss:   finite(res.TrainLoss),
		Params:      res.Params,
		FLOPs:       stats.FLOPs,
		WallSeconds: time.Since(start).Seconds(),
	}
	for _, m := range res.Epochs {
		out.Epochs = append(out.Epochs, EpochOf(m))
	}
	if job.Final {
		// The final phase scores on the test split: the "validation" run above was the test split.
		out.TestAccuracy = out.ValAccuracy
	}
	if res.NaN && len(res.Epochs) == 0 {
		out.Failure = "the loss became NaN in the first epoch"
	}
	return out, nil
}

// EpochOf is the record of an epoch the trainer reported: models reports accuracies as fractions, a
// search.Epoch keeps percentages; a non-finite loss is recorded as 0.
func EpochOf(m models.EpochMetrics) search.Epoch {
	return search.Epoch{Epoch: m.Epoch, TrainLoss: finite(m.TrainLoss), TrainAccuracy: 100 * m.TrainAccuracy,
		ValAccuracy: 100 * m.ValAccuracy, Seconds: m.Duration.Seconds(), Steps: m.Steps}
}

func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

func split(s *data.Split) models.Dataset { return models.Dataset{Images: s.Images, Labels: s.Labels} }

// dataset loads (once per process) the dataset a job names.
func (e *Evaluator) dataset(ctx context.Context, spec search.DataSpec) (*data.Dataset, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ds, ok := e.datasets[spec]; ok {
		return ds, nil
	}
	ds, err := LoadDataset(ctx, spec, e.Logf)
	if err != nil {
		return nil, err
	}
	if e.datasets == nil {
		e.datasets = map[search.DataSpec]*data.Dataset{}
	}
	e.datasets[spec] = ds
	return ds, nil
}

// LoadDataset builds (or reads from its cache) the dataset spec names, normalised with its training
// split's per-channel statistics (SPEC §7.2): the data an evaluation trains on, and `einspace train` too.
// logf, when set, hears how long it took.
func LoadDataset(ctx context.Context, spec search.DataSpec, logf func(format string, args ...any)) (*data.Dataset, error) {
	if spec.Name == "" {
		return nil, errors.New("no dataset named")
	}
	start := time.Now()
	ds, err := data.Load(ctx, spec.Name, data.Options{Seed: spec.Seed,
		Sizes: data.Sizes{Train: spec.Train, Val: spec.Val, Test: spec.Test}, Logf: logf})
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", spec.Name, err)
	}
	stats := ds.Normalize()
	if logf != nil {
		logf("dataset %s loaded in %v: %v; %v", spec.Name, time.Since(start).Round(time.Millisecond), ds, stats)
	}
	return ds, nil
}

func (e *Evaluator) logf(format string, args ...any) {
	if e.Logf != nil {
		e.Logf(format, args...)
	}
}
