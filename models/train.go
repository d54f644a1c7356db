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
	if err := train.check(m.Net, "train"); err != nil {
		return res, err
	}
	if err := val.check(m.Net, "validation"); err != nil {
		return res, err
	}
	if cfg.Epochs < 1 || cfg.BatchSize < 1 {
		return res, fmt.Errorf("train: %d epochs of batch %d; both must be positive", cfg.Epochs, cfg.BatchSize)
	}
	if cfg.StartEpoch < 0 || cfg.StartEpoch > cfg.Epochs {
		return res, fmt.Errorf("train: start after epoch %d of %d", cfg.StartEpoch, cfg.Epochs)
	}
	steps := train.Len() / cfg.BatchSize
	if steps == 0 {
		return res, fmt.Errorf("train: %d training examples do not fill one batch of %d", train.Len(), cfg.BatchSize)
	}
	if val.Len() == 0 {
		return res, errors.New("train: the validation split is empty")
	}
	evalBatch := cfg.EvalBatchSize
	if evalBatch <= 0 {
		evalBatch = cfg.BatchSize
	}
	if opt := (sgd{momentum: cfg.Momentum, weightDecay: cfg.WeightDecay}); opt != m.opt {
		// The compiled train graph holds the old momentum and weight decay as constants.
		m.opt = opt
		e, err := model.NewExec(m.Backend, m.Store, m.trainGraph)
		if err != nil {
			return res, fmt.Errorf("train: %w", err)
		}
		m.trainExec.Finalize()
		m.trainExec = e
	}

	size := int(m.Net.Arch.Input.Size())
	images := make([]float32, cfg.BatchSize*size)
	labels := make([]int32, cfg.BatchSize)
	r := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	order := make([]int, train.Len())
	for i := range order {
		order[i] = i
	}
	finish := func() Result {
		res.Duration = time.Since(start)
		res.Params = m.TrainableParams()
		return res
	}
	for epoch := range cfg.Epochs {
		r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		if epoch < cfg.StartEpoch { // completed before a resume: only its shuffle is replayed
			continue
		}
		t0 := time.Now()
		// torch's CosineAnnealingLR stepped once per epoch, T_max = epochs.
		lr := cfg.LR * (1 + math.Cos(math.Pi*float64(epoch)/float64(cfg.Epochs))) / 2
		if err := m.SetLearningRate(lr); err != nil {
			return finish(), err
		}
		em := EpochMetrics{Epoch: epoch + 1, LR: lr}
		var lossSum float64
		correct := 0
		for step := range steps {
			if err := ctx.Err(); err != nil {
				return finish(), err
			}
			if cfg.MaxDuration > 0 && time.Since(start) > cfg.MaxDuration {
				res.TimedOut, em.Partial = true, true
				break
			}
			for i, idx := range order[step*cfg.BatchSize : (step+1)*cfg.BatchSize] {
				copy(images[i*size:(i+1)*size], train.Images[idx*size:(idx+1)*size])
				labels[i] = train.Labels[idx]
			}
			loss, c, err := m.TrainStep(images, labels)
			if err != nil {
				return finish(), err
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				res.NaN = true
				return finish(), nil
			}
			lossSum += loss
			correct += c
			em.Steps++
			if cfg.OnStep != nil {
				cfg.OnStep(epoch+1, step+1, steps, loss)
			}
		}
		if em.Steps == 0 { // out of time before the epoch's first step
			break
		}
		em.TrainLoss = lossSum / float64(em.Steps)
		em.TrainAccuracy = float64(correct) / float64(em.Steps*cfg.BatchSize)
		vm, err := m.Evaluate(val, evalBatch)
		if err != nil {
			return finish(), err
		}
		em.ValAccuracy, em.ValLoss = vm.Accuracy, vm.Loss
		em.Duration = time.Since(t0)
		res.Epochs = append(res.Epochs, em)
		res.ValAccuracy, res.TrainLoss = em.ValAccuracy, em.TrainLoss
		if onEpoch != nil {
			onEpoch(em)
		}
		if em.Partial {
			break
		}
	}
	return finish(), nil
}
