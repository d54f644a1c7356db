package models

import (
	"math/rand/v2"
	"testing"

	"github.com/einspace-go/einspace/grammar"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/core/tensors"
)

// BenchmarkTrainStep measures one SGD step of each paper seed on a batch of 256 AddNIST-shaped images
// (3×28×28, 20 classes), reporting images per second. The first step, which compiles the graph, is not
// timed. On two cores of the Go backend a ResNet-18 step takes many seconds: run with -benchtime=3x.
func BenchmarkTrainStep(b *testing.B) {
	const batch, classes = 256, 20
	input := grammar.ImShape(3, 28, 28)
	for _, seed := range []string{grammar.ResNet18, grammar.WRN16_4, grammar.ViT, grammar.Mixer} {
		b.Run(seed, func(b *testing.B) {
			arch, err := grammar.SeedArch(seed, input)
			if err != nil {
				b.Fatal(err)
			}
			m := newModelOf(b, arch, classes, 1)
			r := rand.New(rand.NewPCG(1, 2))
			images := randomImages(r, batch, input)
			labels := make([]int32, batch)
			for i := range labels {
				labels[i] = int32(r.IntN(classes))
			}
			if _, _, err := m.TrainStep(images, labels); err != nil {
				b.Fatalf("%+v", err)
			}
			b.ResetTimer()
			for range b.N {
				if _, _, err := m.TrainStep(images, labels); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

// BenchmarkPadHW measures padHW as the convolutions use it: a 3×3 convolution's input (C,H,W,B) =
// (64, 28, 28, 256), 51 MB, padded by one row and column on every side. The bytes per operation are the
// output's.
func BenchmarkPadHW(b *testing.B) {
	be, err := Backend()
	if err != nil {
		b.Fatal(err)
	}
	// The graph returns one number of the pad, so that the timing is the pad's, not a 59 MB result's transfer.
	e, err := NewExec(be, func(x *Node) *Node {
		return ReduceAllSum(Slice(padHW(x, 1, 1, 1, 1), AxisRange(0, 1), AxisRange(0, 1), AxisRange(0, 1)))
	})
	if err != nil {
		b.Fatal(err)
	}
	x := tensors.FromScalarAndDimensions(float32(0.5), 64, 28, 28, 256)
	run := func() {
		out, err := e.Exec(x)
		if err != nil {
			b.Fatal(err)
		}
		out[0].FinalizeAll()
	}
	run() // compiles
	b.SetBytes(64 * 30 * 30 * 256 * 4)
	for b.Loop() {
		run()
	}
}
