package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"time"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/models"
	"github.com/einspace-go/einspace/models/data"
	"github.com/einspace-go/einspace/search"
	"github.com/einspace-go/einspace/search/training"
)

func runBuild(e *env, args []string) error {
	fs := newFlags(e, "build", "[flags] ARCH", `Builds the GoMLX model of ARCH (identity stem, the architecture, the classification head), runs one
forward pass on random input, and prints its trainable parameters and shapes: a quick "does it build?".`)
	input := inputFlag(fs)
	classes := fs.Int("classes", 20, "number of classes of the head")
	format := formatFlag(fs)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("build takes one ARCH, got %d arguments", fs.NArg())
	}
	if *classes < 1 {
		return usagef("--classes must be at least 1, got %d", *classes)
	}
	a, err := readArch(e, fs.Arg(0), input.shape)
	if err != nil {
		return err
	}
	start := time.Now()
	net, err := models.Compile(a, *classes)
	if err != nil {
		return err
	}
	m, err := models.New(net, 0)
	if err != nil {
		return err
	}
	const batch = 2
	r := rand.New(rand.NewPCG(0, 0))
	images := make([]float32, batch*int(a.Input.Size()))
	for i := range images {
		images[i] = float32(r.NormFloat64())
	}
	logits, err := m.Predict(images, batch)
	if err != nil {
		return fmt.Errorf("forward pass: %w", err)
	}
	if len(logits) != batch**classes {
		return fmt.Errorf("forward pass gave %d logits for %d examples of %d classes", len(logits), batch, *classes)
	}
	out := map[string]any{"arch": a.String(), "params": m.TrainableParams(), "backbone_params": a.Stats().Params,
		"head_params": net.HeadParams(), "input_shape": a.Input.Dims(), "output_shape": a.Output().Dims(),
		"logits_shape": []int{*classes}, "seconds": time.Since(start).Seconds()}
	if *format == "json" {
		return writeJSONLine(e.stdout, out)
	}
	fmt.Fprintf(e.stdout, "built in %v with backend %q\n", time.Since(start).Round(time.Millisecond), backendName(m))
	fmt.Fprintf(e.stdout, "params        %s trainable (backbone %s + head %s)\n", thousands(m.TrainableParams()), thousands(a.Stats().Params), thousands(net.HeadParams()))
	fmt.Fprintf(e.stdout, "output_shape  %s (backbone, %s mode) -> %d logits\n", a.Output().Arg(), a.Output().Mode(), *classes)
	return nil
}

func backendName(m *models.Model) string {
	if m.Backend == nil {
		return "?"
	}
	return m.Backend.Name()
}

// trainFlags are the flags of `einspace train`.
type trainFlags struct {
	dataset, save         string
	format                *string
	subset, epochs, batch int
	lr                    float64
	seed                  uint64
	resume                bool
}

func newTrainFlags(fs *flag.FlagSet) *trainFlags {
	f := &trainFlags{}
	fs.StringVar(&f.dataset, "dataset", "", "addnist, multnist, mnist or npy:DIR (required)")
	fs.IntVar(&f.subset, "subset", 0, "training examples (validation and test get a fifth each; 0: the full dataset)")
	fs.IntVar(&f.epochs, "epochs", 8, "training epochs")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of the weights, the shuffling and the dataset build")
	fs.IntVar(&f.batch, "batch", 256, "batch size")
	fs.Float64Var(&f.lr, "lr", models.DefaultConfig().LR, "initial learning rate (cosine-annealed per epoch)")
	fs.StringVar(&f.save, "save", "", "run directory: a checkpoint after every epoch (DIR/epoch-NNN) and its record (DIR/train.json)")
	fs.BoolVar(&f.resume, "resume", false, "continue the run in --save DIR from its last completed epoch (same ARCH, data and flags); start it if DIR holds none")
	f.format = formatFlag(fs)
	return f
}

func (f *trainFlags) check(fs *flag.FlagSet) error {
	if err := checkFormat(*f.format); err != nil {
		return err
	}
	switch {
	case fs.NArg() != 1:
		return usagef("train takes one ARCH, got %d arguments", fs.NArg())
	case f.dataset == "":
		return usagef("--dataset is required: addnist, multnist, mnist or npy:DIR")
	case f.epochs < 1 || f.batch < 1:
		return usagef("--epochs and --batch must be positive")
	case !(f.lr > 0) || math.IsInf(f.lr, 1):
		return usagef("--lr must be a positive number, got %v", f.lr)
	case f.resume && f.save == "":
		return usagef("--resume needs --save DIR, the run directory to continue")
	}
	return nil
}

// data is the dataset the flags name, as a search would name it.
func (f *trainFlags) data() search.DataSpec {
	spec := search.DataSpec{Name: f.dataset, Seed: f.seed}
	if f.subset > 0 {
		spec.Train, spec.Val, spec.Test = f.subset, max(1, f.subset/5), max(1, f.subset/5)
	}
	return spec
}

func runTrain(e *env, args []string) error {
	fs := newFlags(e, "train", "ARCH --dataset NAME [flags]", `Trains ARCH with the paper's protocol (SGD 0.04, momentum 0.9, weight decay 3e-4, cosine per
epoch, batch 256) and reports per-epoch loss and accuracy, then test accuracy.`)
	f := newTrainFlags(fs)
	if err := parseFlags(e, fs, reorder(args)); err != nil {
		return err
	}
	if err := f.check(fs); err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	ds, err := training.LoadDataset(ctx, f.data(), nil)
	if err != nil {
		return usageError{err}
	}
	input, _ := grammar.ShapeOf(ds.Shape.C, ds.Shape.H, ds.Shape.W)
	a, err := readArch(e, fs.Arg(0), input)
	if err != nil {
		return err
	}
	net, err := models.Compile(a, ds.Classes)
	if err != nil {
		return err
	}
	cfg := models.DefaultConfig()
	cfg.Epochs, cfg.BatchSize, cfg.LR, cfg.Seed = f.epochs, f.batch, f.lr, f.seed
	rec := models.RecordOf(net, cfg, fmt.Sprintf("%s, subset %d, seed %d", f.dataset, f.subset, f.seed))
	m, old, err := startOrResume(e, net, rec, f.save, f.resume)
	if err != nil {
		return err
	}
	rec.Completed, cfg.StartEpoch = old.Completed, len(old.Completed)
	run := &trainRun{e: e, flags: f, model: m, record: rec}
	if old.Checkpoint != "" {
		run.saved = filepath.Join(f.save, old.Checkpoint)
	}
	fmt.Fprintf(e.stderr, "%s; %s trainable parameters\n", ds, thousands(net.Params()))
	if cfg.StartEpoch > 0 {
		fmt.Fprintf(e.stderr, "resuming %s after epoch %d of %d\n", f.save, cfg.StartEpoch, cfg.Epochs)
	}
	res, all, err := run.train(ctx, ds, cfg)
	if err != nil {
		return err
	}
	test, err := m.Evaluate(models.Dataset{Images: ds.Test.Images, Labels: ds.Test.Labels}, cfg.BatchSize)
	if err != nil {
		return err
	}
	return run.report(a, ds.Name, net.Params(), cfg.StartEpoch, res, all, 100*test.Accuracy)
}

// trainRun is a training run of `einspace train` in progress: the model, the record of its completed
// epochs and, with --save, the checkpoint of the last.
type trainRun struct {
	e      *env
	flags  *trainFlags
	model  *models.Model
	record models.RunRecord
	saved  string // the checkpoint of the last completed epoch
}

// train trains from cfg.StartEpoch to the end, printing each epoch (and a progress bar) in text format and
// saving each completed one with --save. It returns the result of this run and every completed epoch, the
// earlier runs' included.
func (t *trainRun) train(ctx context.Context, ds *data.Dataset, cfg models.Config) (models.Result, []models.EpochMetrics, error) {
	e, text := t.e, *t.flags.format == "text"
	if text {
		cfg.OnStep = func(epoch, step, steps int, loss float64) {
			width := 30
			done := width * step / steps
			fmt.Fprintf(e.stderr, "\repoch %d/%d [%s%s] %d/%d loss %.4f", epoch, cfg.Epochs, strings.Repeat("=", done),
				strings.Repeat(" ", width-done), step, steps, loss)
		}
	}
	trainCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var saveErr error
	res, err := t.model.Train(trainCtx, models.Dataset{Images: ds.Train.Images, Labels: ds.Train.Labels},
		models.Dataset{Images: ds.Val.Images, Labels: ds.Val.Labels}, cfg, func(em models.EpochMetrics) {
			if text {
				ep := training.EpochOf(em)
				fmt.Fprintf(e.stderr, "\r%-80s\r", "")
				fmt.Fprintf(e.stdout, "epoch %d: lr %.4f  loss %.4f  train %.2f%%  val %.2f%%  %v\n", em.Epoch, em.LR, em.TrainLoss,
					ep.TrainAccuracy, ep.ValAccuracy, em.Duration.Round(time.Millisecond))
			}
			if t.flags.save == "" || em.Partial {
				return
			}
			t.record.Completed = append(t.record.Completed, em)
			if t.saved, saveErr = models.SaveEpoch(t.flags.save, t.model, t.record); saveErr != nil {
				cancel() // stop: going on would compute epochs that cannot be kept
			}
		})
	if saveErr != nil {
		return res, nil, fmt.Errorf("after epoch %d: %w", len(t.record.Completed), saveErr)
	}
	all := append(t.record.Completed[:cfg.StartEpoch:cfg.StartEpoch], res.Epochs...) // before this run, and in it
	if errors.Is(err, context.Canceled) {
		return res, all, interrupted(e, all, t.flags.save)
	}
	return res, all, err
}

// report prints the outcome of a finished run: as one JSON object, or as text.
func (t *trainRun) report(a *grammar.Arch, dataset string, params int64, resumedAfter int, res models.Result, all []models.EpochMetrics, testAccuracy float64) error {
	valAcc, trainLoss := res.ValAccuracy, res.TrainLoss
	if len(res.Epochs) == 0 && len(all) > 0 { // a resumed run that had already finished
		valAcc, trainLoss = all[len(all)-1].ValAccuracy, all[len(all)-1].TrainLoss
	}
	e := t.e
	if *t.flags.format == "json" {
		out := map[string]any{"arch": a.String(), "dataset": dataset, "params": params,
			"epochs": len(all), "resumed_after": resumedAfter, "val_accuracy": 100 * valAcc,
			"test_accuracy": testAccuracy, "train_loss": trainLoss, "nan": res.NaN,
			"seconds": res.Duration.Seconds()}
		if t.saved != "" {
			out["checkpoint"] = t.saved
		}
		return writeJSONLine(e.stdout, out)
	}
	if res.NaN {
		fmt.Fprintln(e.stdout, "the loss became NaN: training stopped; the score is the last completed epoch's")
	}
	fmt.Fprintf(e.stdout, "validation %.2f%%, test %.2f%% in %v\n", 100*valAcc, testAccuracy, res.Duration.Round(time.Millisecond))
	if t.saved != "" {
		fmt.Fprintf(e.stdout, "model after epoch %d saved in %s\n", len(all), t.saved)
	}
	return nil
}

// startOrResume returns the model a run starts from and the record of what it already completed: new
// weights and an empty record, or, with resume and a run in dir, the last completed epoch of that run,
// which must have trained the same thing. Without resume, a run already in dir is refused rather than
// overwritten.
func startOrResume(e *env, net *models.Network, rec models.RunRecord, dir string, resume bool) (*models.Model, models.RunRecord, error) {
	if dir != "" {
		old, err := models.ReadRunRecord(dir)
		switch {
		case err == nil && !resume:
			return nil, old, usagef("%s already holds a training run (%d of %d epochs done): add --resume to continue it, or choose another --save directory", dir, len(old.Completed), old.Epochs)
		case err == nil:
			if m := old.Mismatch(rec); m != "" {
				return nil, old, usagef("--resume: %s holds a run that trained %s; run the command that started it, or choose another --save directory", dir, m)
			}
			return models.ResumeRun(dir, net)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, old, err
		case resume:
			fmt.Fprintf(e.stderr, "%s holds no run yet: starting one\n", dir)
		}
	}
	m, err := models.New(net, int64(rec.Seed))
	return m, models.RunRecord{}, err
}

// interrupted reports a training run stopped by a signal: the epochs it completed and, with a run
// directory, that the last of them is saved there and how to continue.
func interrupted(e *env, completed []models.EpochMetrics, save string) error {
	fmt.Fprintf(e.stderr, "\r%-80s\r", "") // clear the progress bar
	msg := fmt.Sprintf("interrupted after %d completed epoch(s)", len(completed))
	if n := len(completed); n > 0 {
		msg += fmt.Sprintf(" (last validation accuracy %.2f%%)", 100*completed[n-1].ValAccuracy)
		if save != "" {
			msg += fmt.Sprintf("; epoch %d is saved in %s: run the same command with --resume to continue", n, save)
		}
	}
	return errors.New(msg)
}

// reorder moves flags before the positional argument, so that `einspace train ARCH --dataset x` works as
// the flag package stops at the first non-flag.
func reorder(args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") && a != "-" {
			flags = append(flags, a)
			if !strings.Contains(a, "=") && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") && takesValue(a) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		rest = append(rest, a)
	}
	return append(flags, rest...)
}

func takesValue(flag string) bool {
	switch strings.TrimLeft(flag, "-") {
	case "help", "h", "resume":
		return false
	}
	return true
}
