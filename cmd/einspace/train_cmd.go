package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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
	fmt.Fprintf(e.stdout, "output_shape  %s (backbone, %s mode) -> %d logits\n", shapeText(a.Output()), a.Output().Mode(), *classes)
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
	save := fs.String("save", "", "directory to save the trained model to (a GoMLX checkpoint)")
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
	m, err := models.New(net, int64(*seed))
	if err != nil {
		return err
	}
	cfg := models.DefaultConfig()
	cfg.Epochs, cfg.BatchSize, cfg.Seed = *epochs, *batch, *seed
	fmt.Fprintf(e.stderr, "%s; %s trainable parameters\n", ds, thousands(net.Params()))
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
	res, err := m.Train(ctx, train, val, cfg, func(em models.EpochMetrics) {
		if *format == "text" {
			fmt.Fprintf(e.stderr, "\r%-80s\r", "")
			fmt.Fprintf(e.stdout, "epoch %d: lr %.4f  loss %.4f  train %.2f%%  val %.2f%%  %v\n", em.Epoch, em.LR, em.TrainLoss,
				100*em.TrainAccuracy, 100*em.ValAccuracy, em.Duration.Round(time.Millisecond))
		}
	})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return interrupted(e, m, res, *save)
		}
		return err
	}
	test, err := m.Evaluate(models.Dataset{Images: ds.Test.Images, Labels: ds.Test.Labels}, cfg.BatchSize)
	if err != nil {
		return err
	}
	if *save != "" {
		if err := m.Save(*save); err != nil {
			return fmt.Errorf("save: %w", err)
		}
	}
	if *format == "json" {
		return writeJSONLine(e.stdout, map[string]any{"arch": a.String(), "dataset": ds.Name, "params": res.Params,
			"epochs": len(res.Epochs), "val_accuracy": 100 * res.ValAccuracy, "test_accuracy": 100 * test.Accuracy,
			"train_loss": res.TrainLoss, "nan": res.NaN, "seconds": res.Duration.Seconds()})
	}
	if res.NaN {
		fmt.Fprintln(e.stdout, "the loss became NaN: training stopped; the score is the last completed epoch's")
	}
	fmt.Fprintf(e.stdout, "validation %.2f%%, test %.2f%% in %v\n", 100*res.ValAccuracy, 100*test.Accuracy, res.Duration.Round(time.Millisecond))
	return nil
}

// interrupted reports a training run stopped by a signal: the epochs it completed and, if --save was
// given, where the model as it stood was saved, so that an interrupted run keeps what it computed.
func interrupted(e *env, m *models.Model, res models.Result, save string) error {
	fmt.Fprintf(e.stderr, "\r%-80s\r", "") // clear the progress bar
	msg := fmt.Sprintf("interrupted after %d completed epoch(s)", len(res.Epochs))
	if n := len(res.Epochs); n > 0 {
		msg += fmt.Sprintf(" (last validation accuracy %.2f%%)", 100*res.Epochs[n-1].ValAccuracy)
	}
	if save != "" {
		if err := m.Save(save); err != nil {
			return fmt.Errorf("%s; saving the model to %s failed: %w", msg, save, err)
		}
		msg += "; the model as it stood is saved in " + save
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
	case "help", "h":
		return false
	}
	return true
}
