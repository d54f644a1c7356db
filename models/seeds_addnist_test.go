package models

import (
	"context"
	"testing"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/models/data"
)

// TestSeedsLearnAddNIST trains each paper seed for a few steps on one small AddNIST batch (built from MNIST
// as SPEC §11 says) and checks that the loss falls: every seed builds, runs forward and backward, and its
// gradients point downhill.
func TestSeedsLearnAddNIST(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("trains the four seeds (about 45 s); runs in the full suite")
	}
	const batch, steps = 16, 6
	ds, err := data.Load(context.Background(), "addnist", data.Options{Seed: 3, Sizes: data.Sizes{Train: batch, Val: 20, Test: 20}, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	ds.Normalize()
	input := grammar.ImShape(3, 28, 28)
	for _, seed := range []string{grammar.ResNet18, grammar.WRN16_4, grammar.ViT, grammar.Mixer} {
		arch, err := grammar.SeedArch(seed, input)
		if err != nil {
			t.Fatal(err)
		}
		m := newModelOf(t, arch, ds.Classes, 1)
		if got, want := m.Net.Params(), arch.Stats().Params+m.Net.HeadParams(); got != want {
			t.Errorf("%s: %d parameters, want %d", seed, got, want)
		}
		// The protocol's 0.04 is tuned for batches of 256; a quarter of it keeps single steps from spiking.
		if err := m.SetLearningRate(0.01); err != nil {
			t.Fatal(err)
		}
		var losses []float64
		for range steps {
			loss, _, err := m.TrainStep(ds.Train.Images, ds.Train.Labels)
			if err != nil {
				t.Fatalf("%s: %+v", seed, err)
			}
			losses = append(losses, loss)
		}
		t.Logf("%s: losses %.4f", seed, losses)
		// ViT ends in a LayerNorm and the Mixer in a residual sum, and the head of SPEC §7.1 averages
		// token features over D: at initialisation that average carries almost no signal, so their loss
		// falls slowly. PyTorch does the same on the same batch (bench/torch_einspace.py, lr 0.01: ViT
		// 3.003 -> 2.999, Mixer 2.982 -> 2.972 in six steps). The convolutional seeds fall fast.
		wantFall := 0.2 * losses[0]
		if seed == grammar.ViT || seed == grammar.Mixer {
			wantFall = 0.0005
		}
		if !(losses[steps-1] < losses[0]-wantFall) {
			t.Errorf("%s: the loss did not fall by %.4f on a fixed batch: %.4f", seed, wantFall, losses)
		}
	}
}
