package models

import (
	"math/rand/v2"
	"testing"

	"github.com/einspace-go/einspace/grammar"
)

// randomImages returns n images of the shape drawn from N(0,1).
func randomImages(r *rand.Rand, n int, shape grammar.Shape) []float32 {
	return randomFloats(r, n*int(shape.Size()))
}

// randomFloats returns n numbers drawn from N(0,1).
func randomFloats(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// TestSeedParams checks the built models' trainable parameter counts against SPEC §6.3 (backbone) plus
// the head, for the four paper seeds on AddNIST-shaped input (3×28×28, 20 classes).
func TestSeedParams(t *testing.T) {
	tests := []struct {
		seed     string
		backbone int64
		head     int64 // width·20 + 20
	}{
		{grammar.ResNet18, 11_210_560, 512*20 + 20},
		{grammar.WRN16_4, 2_748_576, 256*20 + 20},
		{grammar.ViT, 4_261_888, 49*20 + 20},
		{grammar.Mixer, 2_317_288, 49*20 + 20},
	}
	input := grammar.ImShape(3, 28, 28)
	r := rand.New(rand.NewPCG(1, 2))
	for _, tt := range tests {
		t.Run(tt.seed, func(t *testing.T) {
			arch, err := grammar.SeedArch(tt.seed, input)
			if err != nil {
				t.Fatal(err)
			}
			if got := arch.Stats().Params; got != tt.backbone {
				t.Fatalf("grammar counts %d backbone parameters, SPEC §6.3 says %d", got, tt.backbone)
			}
			net, err := Compile(arch, 20)
			if err != nil {
				t.Fatal(err)
			}
			if got := net.HeadParams(); got != tt.head {
				t.Errorf("HeadParams = %d, want %d", got, tt.head)
			}
			m, err := New(net, 1)
			if err != nil {
				t.Fatal(err)
			}
			logits, err := m.Predict(randomImages(r, 2, input), 2)
			if err != nil {
				t.Fatalf("%+v", err)
			}
			if len(logits) != 2*20 {
				t.Fatalf("%d logits, want 40", len(logits))
			}
			if got, want := m.TrainableParams(), tt.backbone+tt.head; got != want {
				t.Errorf("built model has %d trainable parameters, want %d", got, want)
			}
		})
	}
}
