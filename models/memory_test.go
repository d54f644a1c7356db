package models

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/einspace-go/einspace/grammar"
)

func TestMemoryNeed(t *testing.T) {
	a, err := grammar.SeedArch(grammar.ResNet18, grammar.ImShape(3, 28, 28))
	if err != nil {
		t.Fatal(err)
	}
	net, err := Compile(a, 20)
	if err != nil {
		t.Fatal(err)
	}
	// Golden: ResNet-18 at 3×28×28, batch 256, measured at 1.22 GiB peak RSS (docs/BENCHMARKS.md).
	if got := net.MemoryNeed(256, true); got < 1_300<<20 || got > 1_700<<20 {
		t.Errorf("ResNet-18 train step at batch 256: need %s, want 1.3-1.7 GiB", bytesText(got))
	}
	if a, b := net.MemoryNeed(64, true), net.MemoryNeed(256, true); a >= b {
		t.Errorf("need at batch 64 (%d) >= at batch 256 (%d)", a, b)
	}
	if a, b := net.MemoryNeed(256, false), net.MemoryNeed(256, true); a >= b {
		t.Errorf("evaluation needs %d >= training %d", a, b)
	}
}

func TestAvailableMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc and /sys/fs/cgroup")
	}
	b, source, ok := AvailableMemory()
	if !ok || b <= 0 || source == "" {
		t.Fatalf("AvailableMemory() = %d, %q, %v", b, source, ok)
	}
}

// TestRefusesWhatCannotFit builds ResNet-18 for 3×2048×2048 inputs (35 GiB of activations per example)
// and checks that a forward pass and a train step are refused with both numbers before anything runs.
func TestRefusesWhatCannotFit(t *testing.T) {
	a, err := grammar.SeedArch(grammar.ResNet18, grammar.ImShape(3, 2048, 2048))
	if err != nil {
		t.Fatal(err)
	}
	net, err := Compile(a, 10)
	if err != nil {
		t.Fatal(err)
	}
	avail, _, ok := AvailableMemory()
	if !ok {
		t.Skip("available memory unknown here")
	}
	if need := net.MemoryNeed(2, false); need <= avail {
		t.Skipf("this machine has %s available, enough for %s", bytesText(avail), bytesText(need))
	}
	m, err := New(net, 1)
	if err != nil {
		t.Fatal(err)
	}
	images := make([]float32, 2*int(a.Input.Size()))
	_, err = m.Predict(images, 2)
	var me *MemoryError
	if !errors.As(err, &me) || me.Need <= me.Available || me.Batch != 2 || me.What != "evaluate" {
		t.Fatalf("Predict: %v, want a MemoryError", err)
	}
	for _, want := range []string{"not enough memory to evaluate a batch of 2", bytesText(me.Need), bytesText(me.Available), "35.3 GiB of activations per example"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, _, err := m.TrainStep(images, []int32{0, 1}); !errors.As(err, &me) || me.What != "train" {
		t.Errorf("TrainStep: %v, want a MemoryError", err)
	}
}
