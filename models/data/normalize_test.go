package data

import (
	"math"
	"testing"
)

func TestNormalize(t *testing.T) {
	ds := buildForTest(t, &addNIST, 8, Sizes{Train: 300, Val: 100, Test: 100})
	before := ChannelStats(ds.Train)
	valBefore := append([]float32(nil), ds.Val.Images...)

	stats := ds.Normalize()
	if len(stats.Mean) != 3 || stats.Mean[0] != before.Mean[0] || stats.Std[2] != before.Std[2] {
		t.Fatalf("Normalize returned %v, want the training statistics %v", stats, before)
	}
	// MNIST digits are mostly black: the mean pixel is about 0.13 and the deviation about 0.31.
	for c := range 3 {
		if stats.Mean[c] < 0.1 || stats.Mean[c] > 0.16 || stats.Std[c] < 0.28 || stats.Std[c] > 0.34 {
			t.Errorf("channel %d: mean %v std %v, not MNIST-like", c, stats.Mean[c], stats.Std[c])
		}
	}

	after := ChannelStats(ds.Train)
	for c := range 3 {
		if math.Abs(float64(after.Mean[c])) > 1e-5 || math.Abs(float64(after.Std[c])-1) > 1e-5 {
			t.Errorf("channel %d after normalising: mean %v std %v, want 0 and 1", c, after.Mean[c], after.Std[c])
		}
	}
	// The validation split is standardised with the training statistics, not its own.
	for i := range 3 * ds.Shape.H * ds.Shape.W {
		c := i / (ds.Shape.H * ds.Shape.W)
		want := (valBefore[i] - stats.Mean[c]) / stats.Std[c]
		if ds.Val.Images[i] != want {
			t.Fatalf("validation value %d = %v, want %v", i, ds.Val.Images[i], want)
		}
	}
}

func TestChannelStats(t *testing.T) {
	for _, c := range []struct {
		name      string
		shape     Shape
		images    []float32
		mean, std []float32
	}{
		{"two channels", Shape{2, 1, 2},
			// example 0: channel 0 = {1, 3}, channel 1 = {10, 10}; example 1: {5, 7}, {10, 10}
			[]float32{1, 3, 10, 10, 5, 7, 10, 10},
			// channel 0: mean 4, unbiased variance (9+1+1+9)/3; channel 1 constant: std falls back to 1
			[]float32{4, 10}, []float32{float32(math.Sqrt(20.0 / 3)), 1}},
		{"far from zero", Shape{1, 1, 2}, []float32{1e6 + 1, 1e6 - 1},
			[]float32{1e6}, []float32{float32(math.Sqrt2)}},
		{"no examples", Shape{1, 2, 2}, nil, []float32{0}, []float32{1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			split := &Split{Shape: c.shape, Images: c.images, Labels: make([]int32, len(c.images)/c.shape.Size())}
			got := ChannelStats(split)
			for ch := range c.mean {
				if got.Mean[ch] != c.mean[ch] || math.Abs(float64(got.Std[ch]-c.std[ch])) > 1e-6 {
					t.Errorf("channel %d: %v, want mean %v std %v", ch, got, c.mean, c.std)
				}
			}
		})
	}
}
