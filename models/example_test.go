package models_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/models"
)

// The paper's ResNet-18 on AddNIST: grammar counts the backbone, the head maps 512 channels to 20 classes.
func ExampleCompile() {
	arch, err := grammar.SeedArch(grammar.ResNet18, grammar.ImShape(3, 28, 28))
	if err != nil {
		panic(err)
	}
	net, err := models.Compile(arch, 20)
	if err != nil {
		panic(err)
	}
	fmt.Println("backbone output", arch.Output())
	fmt.Println("parameters", arch.Stats().Params, "+", net.HeadParams(), "=", net.Params())
	// Output:
	// backbone output (512,2,2)
	// parameters 11210560 + 10260 = 11220820
}

// Building a model creates its weights; the store holds exactly the parameters grammar counts.
func ExampleModel_TrainableParams() {
	arch, err := grammar.ParseArch(
		"sequential(routing[im2col4k4s0p, computation<linear32>, identity], computation<learnable_positional_encoding>)",
		grammar.ImShape(1, 8, 8))
	if err != nil {
		panic(err)
	}
	net, _ := models.Compile(arch, 3)
	m, err := models.New(net, 1)
	if err != nil {
		panic(err)
	}
	logits, err := m.Predict(make([]float32, 2*64), 0) // two blank 1×8×8 images
	if err != nil {
		panic(err)
	}
	fmt.Println("backbone output", arch.Output(), "logits", len(logits))
	fmt.Println("trainable", m.TrainableParams(), "analytic", net.Params())
	// Output:
	// backbone output (4,32) logits 6
	// trainable 687 analytic 687
}

// Training a small convolutional network on a task it learns quickly: the class is the brightest channel.
func ExampleModel_Train() {
	input := grammar.ImShape(3, 8, 8)
	arch, err := grammar.ParseArch(`sequential(
		routing[im2col3k1s1p, computation<linear16>, col2im],
		sequential(computation<norm>, computation<leakyrelu>))`, input)
	if err != nil {
		panic(err)
	}
	net, _ := models.Compile(arch, 3)
	m, err := models.New(net, 1)
	if err != nil {
		panic(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	data := func(n int) models.Dataset {
		d := models.Dataset{Images: make([]float32, n*3*64), Labels: make([]int32, n)}
		for i := range n {
			d.Labels[i] = int32(r.IntN(3))
			for j := range 3 * 64 {
				d.Images[i*3*64+j] = float32(r.NormFloat64())
				if j/64 == int(d.Labels[i]) {
					d.Images[i*3*64+j]++
				}
			}
		}
		return d
	}
	cfg := models.DefaultConfig()
	cfg.Epochs, cfg.BatchSize = 2, 32
	res, err := m.Train(context.Background(), data(256), data(64), cfg, func(e models.EpochMetrics) {
		fmt.Printf("epoch %d: lr %.2f\n", e.Epoch, e.LR)
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("validation accuracy above 90%:", res.ValAccuracy > 0.9)
	// Output:
	// epoch 1: lr 0.04
	// epoch 2: lr 0.02
	// validation accuracy above 90%: true
}
