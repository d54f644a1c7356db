package models

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gomlx/gomlx/ml/model"
)

// Config is a training run's protocol. DefaultConfig is the paper's search phase (SPEC §7.3).
type Config struct {
	Epochs      int     // passes over the training data; also the cosine schedule's T_max
	BatchSize   int     // examples per step; the last incomplete batch of an epoch is dropped
	LR          float64 // initial learning rate, annealed by a cosine per epoch
	Momentum    float64
	WeightDecay float64 // L2 penalty added to every parameter's gradient, as torch's SGD does
	// MaxDuration bounds the wall time of training (0: no bound). When it runs out, training stops after
	// the current step, the partly trained epoch is evaluated and reported with Partial set.
	MaxDuration time.Duration
	// EvalBatchSize is the batch size of evaluation (0: BatchSize).
	EvalBatchSize int
	// StepsPerEpoch, when positive and smaller than the training split's batches, trains each epoch on
	// only its first StepsPerEpoch batches (of that epoch's shuffle): a shorter training with the whole
	// learning-rate schedule, for a compute budget per architecture (search.Budget.FullFLOPs).
	StepsPerEpoch int
	Seed          uint64 // shuffling of the training data
	// StartEpoch is the number of epochs a resumed run has already completed (ResumeRun): training
	// begins with epoch StartEpoch+1, with the learning rate and data order an uninterrupted run would
	// have there, so that resuming gives the same result as never stopping.
	StartEpoch int
	// OnStep, when set, is called after every training step (for progress bars): epoch and step count from
	// 1, steps is the number of steps per epoch.
	OnStep func(epoch, step, steps int, loss float64)
}

// DefaultConfig is the paper's protocol for the search phase: 8 epochs of SGD with learning rate 0.04,
// momentum 0.9 and weight decay 3e-4, cosine-annealed per epoch, batches of 256.
func DefaultConfig() Config {
	return Config{Epochs: 8, BatchSize: 256, LR: 0.04, Momentum: 0.9, WeightDecay: 3e-4}
}

// EpochMetrics describe one epoch of training.
type EpochMetrics struct {
	Epoch         int           // 1-based
	LR            float64       // the learning rate used during the epoch
	TrainLoss     float64       // mean loss over the epoch's steps
	TrainAccuracy float64       // fraction of training examples classified correctly (before each step)
	ValAccuracy   float64       // accuracy on the validation split after the epoch
	ValLoss       float64       // mean loss on the validation split
	Steps         int           // train steps taken
	Duration      time.Duration // wall time of the epoch, evaluation included
	Partial       bool          // the epoch was cut short by Config.MaxDuration
}

// Result is the outcome of a training run.
type Result struct {
	// ValAccuracy is the fitness: the validation accuracy after the last completed epoch (0 if none).
	ValAccuracy float64
	TrainLoss   float64        // the last epoch's mean training loss
	Epochs      []EpochMetrics // one per epoch evaluated
	Params      int64          // trainable parameters
	Duration    time.Duration  // wall time of the whole run
	NaN         bool           // a step produced a NaN or infinite loss, which stopped training
	TimedOut    bool           // Config.MaxDuration ran out
}

// Train trains the model on train with the protocol cfg, evaluating on val after every epoch; onEpoch, if
// not nil, receives each epoch's metrics as it ends. A NaN or infinite loss stops training: the result
// then scores the last completed epoch. Cancelling ctx stops between steps and returns the result so far
// with ctx's error.
func (m *Model) Train(ctx context.Context, train, val Dataset, cfg Config, onEpoch func(EpochMetrics)) (Result, error) {
	start := time.Now()
	res := Result{}
	finish := func() Result {
		res.Duration = time.Since(start)
		res.Params = m.TrainableParams()
		return res
	}
	evalBatch, err := m.prepare(train, val, cfg)
	if err != nil {
		return res, err
	}
	feed := newFeeder(train, int(m.Net.Arch.Input.Size()), cfg)
	for epoch := range cfg.Epochs {
		feed.shuffle()
		if epoch < cfg.StartEpoch { // completed before a resume: only its shuffle is replayed
			continue
		}
		em, err := m.trainEpoch(ctx, feed, cfg, epoch, start)
		if err != nil {
			return finish(), err
		}
		if em.nan {
			res.NaN = true
			return finish(), nil
		}
		res.TimedOut = res.TimedOut || em.Partial
		if em.Steps == 0 { // out of time before the epoch's first step
			break
		}
		vm, err := m.Evaluate(val, evalBatch)
		if err != nil {
			return finish(), err
		}
		em.ValAccuracy, em.ValLoss = vm.Accuracy, vm.Loss
		em.Duration = time.Since(em.started)
		res.Epochs = append(res.Epochs, em.EpochMetrics)
		res.ValAccuracy, res.TrainLoss = em.ValAccuracy, em.TrainLoss
		if onEpoch != nil {
			onEpoch(em.EpochMetrics)
		}
		if em.Partial {
			break
		}
	}
	return finish(), nil
}

// prepare checks the data and the protocol against the model, compiles a new train graph when the
// optimiser's constants changed, and returns the evaluation batch size.
func (m *Model) prepare(train, val Dataset, cfg Config) (evalBatch int, err error) {
	if err := train.check(m.Net, "train"); err != nil {
		return 0, err
	}
	if err := val.check(m.Net, "validation"); err != nil {
		return 0, err
	}
	if cfg.Epochs < 1 || cfg.BatchSize < 1 {
		return 0, fmt.Errorf("train: %d epochs of batch %d; both must be positive", cfg.Epochs, cfg.BatchSize)
	}
	if cfg.StartEpoch < 0 || cfg.StartEpoch > cfg.Epochs {
		return 0, fmt.Errorf("train: start after epoch %d of %d", cfg.StartEpoch, cfg.Epochs)
	}
	if train.Len()/cfg.BatchSize == 0 {
		return 0, fmt.Errorf("train: %d training examples do not fill one batch of %d", train.Len(), cfg.BatchSize)
	}
	if val.Len() == 0 {
		return 0, errors.New("train: the validation split is empty")
	}
	if opt := (sgd{momentum: cfg.Momentum, weightDecay: cfg.WeightDecay}); opt != m.opt {
		// The compiled train graph holds the old momentum and weight decay as constants.
		m.opt = opt
		e, err := model.NewExec(m.Backend, m.Store, m.trainGraph)
		if err != nil {
			return 0, fmt.Errorf("train: %w", err)
		}
		m.trainExec.Finalize()
		m.trainExec = e
	}
	if cfg.EvalBatchSize > 0 {
		return cfg.EvalBatchSize, nil
	}
	return cfg.BatchSize, nil
}

// feeder cuts the training split into the protocol's batches: a fresh shuffle every epoch (one stream of
// shuffles from cfg.Seed, so that a resumed run replays the epochs it skips), the last incomplete batch
// dropped, each batch copied into buffers reused from step to step.
type feeder struct {
	train       Dataset
	size, batch int // values per example, examples per batch
	steps       int // batches per epoch
	order       []int
	r           *rand.Rand
	images      []float32
	labels      []int32
}

func newFeeder(train Dataset, size int, cfg Config) *feeder {
	steps := train.Len() / cfg.BatchSize
	if cfg.StepsPerEpoch > 0 {
		steps = min(steps, cfg.StepsPerEpoch)
	}
	f := &feeder{train: train, size: size, batch: cfg.BatchSize, steps: steps,
		order: make([]int, train.Len()), r: rand.New(rand.NewPCG(cfg.Seed, 0x5eed)),
		images: make([]float32, cfg.BatchSize*size), labels: make([]int32, cfg.BatchSize)}
	for i := range f.order {
		f.order[i] = i
	}
	return f
}

func (f *feeder) shuffle() {
	f.r.Shuffle(len(f.order), func(i, j int) { f.order[i], f.order[j] = f.order[j], f.order[i] })
}

// fill copies batch number step of the epoch into the buffers.
func (f *feeder) fill(step int) {
	for i, idx := range f.order[step*f.batch : (step+1)*f.batch] {
		copy(f.images[i*f.size:(i+1)*f.size], f.train.Images[idx*f.size:(idx+1)*f.size])
		f.labels[i] = f.train.Labels[idx]
	}
}

// epochRun is an epoch's metrics while it runs: when it started, and whether a step's loss was not a number.
type epochRun struct {
	EpochMetrics
	started time.Time
	nan     bool
}

// trainEpoch runs the training steps of epoch (counted from 0) with the cosine schedule's learning rate,
// until the epoch ends, the run's time (from start) runs out, or a loss is not a number.
func (m *Model) trainEpoch(ctx context.Context, feed *feeder, cfg Config, epoch int, start time.Time) (epochRun, error) {
	// torch's CosineAnnealingLR stepped once per epoch, T_max = epochs.
	lr := cfg.LR * (1 + math.Cos(math.Pi*float64(epoch)/float64(cfg.Epochs))) / 2
	em := epochRun{EpochMetrics: EpochMetrics{Epoch: epoch + 1, LR: lr}, started: time.Now()}
	if err := m.SetLearningRate(lr); err != nil {
		return em, err
	}
	var lossSum float64
	correct := 0
	for step := range feed.steps {
		if err := ctx.Err(); err != nil {
			return em, err
		}
		if cfg.MaxDuration > 0 && time.Since(start) > cfg.MaxDuration {
			em.Partial = true
			break
		}
		feed.fill(step)
		loss, c, err := m.TrainStep(feed.images, feed.labels)
		if err != nil {
			return em, err
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			em.nan = true
			return em, nil
		}
		lossSum += loss
		correct += c
		em.Steps++
		if cfg.OnStep != nil {
			cfg.OnStep(epoch+1, step+1, feed.steps, loss)
		}
	}
	if em.Steps > 0 {
		em.TrainLoss = lossSum / float64(em.Steps)
		em.TrainAccuracy = float64(correct) / float64(em.Steps*cfg.BatchSize)
	}
	return em, nil
}
