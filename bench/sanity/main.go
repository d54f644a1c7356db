// Command sanity is an accuracy sanity run (docs/ACCURACY.md): it trains a paper seed on a subset of
// AddNIST with the paper's protocol (SGD lr 0.04, momentum 0.9, weight decay 3e-4, cosine per epoch,
// batches of 256, per-channel normalisation with the training split's statistics) and prints each epoch's
// loss and accuracy and the wall time. Chance is 1/20 = 5%.
//
//	go run ./bench/sanity --seed resnet18 --train 3000 --val 1000 --epochs 3
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/models"
	"github.com/einspace-go/einspace/models/data"
)

func main() {
	seed := flag.String("seed", grammar.ResNet18, "paper seed: resnet18, wrn16_4, vit, mlp_mixer")
	nTrain := flag.Int("train", 3000, "training examples")
	nVal := flag.Int("val", 1000, "validation examples")
	epochs := flag.Int("epochs", 3, "epochs")
	lr := flag.Float64("lr", 0.04, "initial learning rate")
	dataSeed := flag.Uint64("data-seed", 0, "seed of the AddNIST subset and of shuffling")
	flag.Parse()
	if err := run(*seed, *nTrain, *nVal, *epochs, *lr, *dataSeed); err != nil {
		fmt.Fprintln(os.Stderr, "sanity:", err)
		os.Exit(1)
	}
}

func run(seed string, nTrain, nVal, epochs int, lr float64, dataSeed uint64) error {
	start := time.Now()
	ctx := context.Background()
	ds, err := data.Load(ctx, "addnist", data.Options{Seed: dataSeed, Sizes: data.Sizes{Train: nTrain, Val: nVal, Test: 100}})
	if err != nil {
		return err
	}
	ds.Normalize()
	fmt.Printf("dataset: %s (loaded in %.1fs)\n", ds, time.Since(start).Seconds())
	arch, err := grammar.SeedArch(seed, grammar.ImShape(ds.Shape.C, ds.Shape.H, ds.Shape.W))
	if err != nil {
		return err
	}
	net, err := models.Compile(arch, ds.Classes)
	if err != nil {
		return err
	}
	m, err := models.New(net, 1)
	if err != nil {
		return err
	}
	cfg := models.DefaultConfig()
	cfg.Epochs, cfg.LR, cfg.Seed = epochs, lr, dataSeed
	fmt.Printf("seed %s, %d trainable parameters (analytic), %d epochs, batch %d, lr %g, momentum %g, wd %g\n",
		seed, net.Params(), cfg.Epochs, cfg.BatchSize, cfg.LR, cfg.Momentum, cfg.WeightDecay)
	fmt.Printf("%5s %8s %10s %9s %8s %8s %6s %9s\n", "epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc", "steps", "seconds")
	r, err := m.Train(ctx, models.Dataset{Images: ds.Train.Images, Labels: ds.Train.Labels},
		models.Dataset{Images: ds.Val.Images, Labels: ds.Val.Labels}, cfg, func(e models.EpochMetrics) {
			fmt.Printf("%5d %8.5f %10.4f %9.4f %8.4f %8.4f %6d %9.1f\n", e.Epoch, e.LR, e.TrainLoss, e.TrainAccuracy,
				e.ValLoss, e.ValAccuracy, e.Steps, e.Duration.Seconds())
		})
	if err != nil {
		return err
	}
	fmt.Printf("final val accuracy %.4f (chance 0.05), NaN %v, training wall time %.1fs, total %.1fs\n",
		r.ValAccuracy, r.NaN, r.Duration.Seconds(), time.Since(start).Seconds())
	return nil
}
