package models

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/einspace-go/einspace/grammar"
)

// TestRandomArchitectures is SPEC §10.5's property: every architecture the grammar samples builds, runs
// forward, takes an SGD step with a finite loss, and has exactly the trainable parameters grammar counts
// (plus the head's), which also shows that each copy of a 4- or 8-way inner module has its own weights.
func TestRandomArchitectures(t *testing.T) {
	n := 300
	switch {
	case raceEnabled:
		n = 15
	case testing.Short():
		n = 60
	}
	const classes, batch = 5, 4
	input := grammar.ImShape(3, 16, 16)
	g := grammar.Default()
	g.Limits = grammar.Limits{Nodes: 200, Params: 1_000_000, FLOPs: 20_000_000}
	data := rand.New(rand.NewPCG(99, 1))
	for s := range uint64(n) {
		arch, err := g.Sample(rand.New(rand.NewPCG(s, 1)), input)
		if err != nil {
			t.Fatalf("sample %d: %v", s, err)
		}
		net, err := Compile(arch, classes)
		if err != nil {
			t.Fatalf("sample %d: %v", s, err)
		}
		m, err := New(net, int64(s))
		if err != nil {
			t.Fatalf("sample %d: %v", s, err)
		}
		images := randomImages(data, batch, input)
		labels := make([]int32, batch)
		for i := range labels {
			labels[i] = int32(data.IntN(classes))
		}
		logits, err := m.Predict(images, batch)
		if err != nil {
			t.Fatalf("sample %d %s: forward: %+v", s, arch, err)
		}
		if len(logits) != batch*classes {
			t.Fatalf("sample %d: %d logits, want %d", s, len(logits), batch*classes)
		}
		if got, want := m.TrainableParams(), net.Params(); got != want {
			t.Fatalf("sample %d %s: built model has %d trainable parameters, grammar says %d + head %d = %d",
				s, arch, got, arch.Stats().Params, net.HeadParams(), want)
		}
		loss, _, err := m.TrainStep(images, labels)
		if err != nil {
			t.Fatalf("sample %d %s: train step: %+v", s, arch, err)
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			t.Errorf("sample %d %s: loss %v", s, arch, loss)
		}
		if got, want := m.TrainableParams(), net.Params(); got != want {
			t.Fatalf("sample %d: after a step %d trainable parameters, want %d (optimizer state counted?)", s, got, want)
		}
	}
}
