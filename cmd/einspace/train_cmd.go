package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"time"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/models"
	"github.com/einspace-go/einspace/models/data"
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

func runTrain(e *env, args []string) error {
	fs := newFlags(e, "train", "ARCH --dataset NAME [flags]", `Trains ARCH with the paper's protocol (SGD 0.04, momentum 0.9, weight decay 3e-4, cosine per
epoch, batch 256) and reports per-epoch loss and accuracy, then test accuracy.`)
	dataset := fs.String("dataset", "", "addnist, multnist, mnist or npy:DIR (required)")
	subset := fs.Int("subset", 0, "training examples (validation and test get a fifth each; 0: the full dataset)")
	epochs := fs.Int("epochs", 8, "training epochs")
	seed := fs.Uint64("seed", 0, "seed of the weights, the shuffling and the dataset build")
	batch := fs.Int("batch", 256, "batch size")
	save := fs.String("save", "", "run directory: a checkpoint after every epoch (DIR/epoch-NNN) and its record (DIR/train.json)")
	resume := fs.Bool("resume", false, "continue the run in --save DIR from its last completed epoch (same ARCH, data and flags); start it if DIR holds none")
	format := formatFlag(fs)
	if err := parseFlags(e, fs, reorder(args)); err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("train takes one ARCH, got %d arguments", fs.NArg())
	}
	if *dataset == "" {
		return usagef("--dataset is required: addnist, multnist, mnist or npy:DIR")
	}
	if *epochs < 1 || *batch < 1 {
		return usagef("--epochs and --batch must be positive")
	}
	if *resume && *save == "" {
		return usagef("--resume needs --save DIR, the run directory to continue")
	}
	ctx, stop := signalContext()
	defer stop()
	opts := data.Options{Seed: *seed}
	if *subset > 0 {
		opts.Sizes = data.Sizes{Train: *subset, Val: max(1, *subset/5), Test: max(1, *subset/5)}
	}
	ds, err := data.Load(ctx, *dataset, opts)
	if err != nil {
		return usageError{err}
	}
	ds.Normalize()
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
	cfg.Epochs, cfg.BatchSize, cfg.Seed = *epochs, *batch, *seed
	rec := models.RecordOf(net, cfg, fmt.Sprintf("%s, subset %d, seed %d", *dataset, *subset, *seed))
	m, old, err := startOrResume(e, net, rec, *save, *resume)
	if err != nil {
		return err
	}
	rec.Completed, cfg.StartEpoch = old.Completed, len(old.Completed)
	saved := "" // the checkpoint of the last completed epoch
	if old.Checkpoint != "" {
		saved = filepath.Join(*save, old.Checkpoint)
	}
	fmt.Fprintf(e.stderr, "%s; %s trainable parameters\n", ds, thousands(net.Params()))
	if cfg.StartEpoch > 0 {
		fmt.Fprintf(e.stderr, "resuming %s after epoch %d of %d\n", *save, cfg.StartEpoch, cfg.Epochs)
	}
	if *format == "text" {
		cfg.OnStep = func(epoch, step, steps int, loss float64) {
			width := 30
			done := width * step / steps
			fmt.Fprintf(e.stderr, "\repoch %d/%d [%s%s] %d/%d loss %.4f", epoch, *epochs, strings.Repeat("=", done),
				strings.Repeat(" ", width-done), step, steps, loss)
		}
	}
	train := models.Dataset{Images: ds.Train.Images, Labels: ds.Train.Labels}
	val := models.Dataset{Images: ds.Val.Images, Labels: ds.Val.Labels}
	trainCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var saveErr error
	res, err := m.Train(trainCtx, train, val, cfg, func(em models.EpochMetrics) {
		if *format == "text" {
			fmt.Fprintf(e.stderr, "\r%-80s\r", "")
			fmt.Fprintf(e.stdout, "epoch %d: lr %.4f  loss %.4f  train %.2f%%  val %.2f%%  %v\n", em.Epoch, em.LR, em.TrainLoss,
				100*em.TrainAccuracy, 100*em.ValAccuracy, em.Duration.Round(time.Millisecond))
		}
		if *save == "" || em.Partial {
			return
		}
		rec.Completed = append(rec.Completed, em)
		if saved, saveErr = models.SaveEpoch(*save, m, rec); saveErr != nil {
			cancel() // stop: going on would compute epochs that cannot be kept
		}
	})
	if saveErr != nil {
		return fmt.Errorf("after epoch %d: %w", len(rec.Completed), saveErr)
	}
	all := append(rec.Completed[:cfg.StartEpoch:cfg.StartEpoch], res.Epochs...) // before this run, and in it
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return interrupted(e, all, *save)
		}
		return err
	}
	test, err := m.Evaluate(models.Dataset{Images: ds.Test.Images, Labels: ds.Test.Labels}, cfg.BatchSize)
	if err != nil {
		return err
	}
	valAcc := res.ValAccuracy
	if len(res.Epochs) == 0 && len(all) > 0 { // a resumed run that had already finished
		valAcc = all[len(all)-1].ValAccuracy
	}
	if *format == "json" {
		out := map[string]any{"arch": a.String(), "dataset": ds.Name, "params": net.Params(),
			"epochs": len(all), "resumed_after": cfg.StartEpoch, "val_accuracy": 100 * valAcc,
			"test_accuracy": 100 * test.Accuracy, "train_loss": res.TrainLoss, "nan": res.NaN,
			"seconds": res.Duration.Seconds()}
		if len(res.Epochs) == 0 && len(all) > 0 {
			out["train_loss"] = all[len(all)-1].TrainLoss
		}
		if saved != "" {
			out["checkpoint"] = saved
		}
		return writeJSONLine(e.stdout, out)
	}
	if res.NaN {
		fmt.Fprintln(e.stdout, "the loss became NaN: training stopped; the score is the last completed epoch's")
	}
	fmt.Fprintf(e.stdout, "validation %.2f%%, test %.2f%% in %v\n", 100*valAcc, 100*test.Accuracy, res.Duration.Round(time.Millisecond))
	if saved != "" {
		fmt.Fprintf(e.stdout, "model after epoch %d saved in %s\n", len(all), saved)
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
