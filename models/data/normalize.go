package data

import (
	"fmt"
	"math"
)

// Stats are per-channel statistics used to standardise images: value ↦ (value − Mean[c]) / Std[c].
type Stats struct {
	Mean, Std []float32
}

// String prints the statistics with four decimals.
func (s Stats) String() string { return fmt.Sprintf("mean %.4f std %.4f", s.Mean, s.Std) }

// ChannelStats computes the mean and standard deviation of every channel of split, over all examples and
// pixels (the N, H and W axes). Like torch.std, the deviation is the unbiased one (divided by count − 1).
// A channel with no spread gets Std 1 instead of 0, so standardising centres it rather than dividing by
// zero.
func ChannelStats(split *Split) Stats {
	shape := split.Shape
	plane := shape.H * shape.W
	stats := Stats{Mean: make([]float32, shape.C), Std: make([]float32, shape.C)}
	count := float64(split.Len() * plane)
	if count == 0 {
		for c := range shape.C {
			stats.Std[c] = 1
		}
		return stats
	}
	for c := range shape.C {
		// Two passes (mean, then squared deviations) in float64: exact enough for millions of values
		// far from zero, where a single pass of sums of squares would cancel catastrophically.
		var sum float64
		for i := range split.Len() {
			for _, v := range channel(split, i, c) {
				sum += float64(v)
			}
		}
		mean := sum / count
		var squares float64
		for i := range split.Len() {
			for _, v := range channel(split, i, c) {
				d := float64(v) - mean
				squares += d * d
			}
		}
		std := math.Sqrt(squares / max(count-1, 1))
		if std == 0 {
			std = 1
		}
		stats.Mean[c], stats.Std[c] = float32(mean), float32(std)
	}
	return stats
}

// Apply standardises split in place with s; split must have len(s.Mean) channels.
func (s Stats) Apply(split *Split) {
	for i := range split.Len() {
		for c := range split.Shape.C {
			mean, std := s.Mean[c], s.Std[c]
			values := channel(split, i, c)
			for j, v := range values {
				values[j] = (v - mean) / std
			}
		}
	}
}

// Normalize standardises every split in place with the per-channel statistics of the training split, as
// the einspace protocol does (SPEC §7.2), and returns those statistics. Normalising twice is harmless but
// pointless: the second time the statistics are already 0 and 1.
func (d *Dataset) Normalize() Stats {
	stats := ChannelStats(d.Train)
	for _, split := range d.splits() {
		stats.Apply(*split)
	}
	return stats
}

// channel returns the H·W values of channel c of example i (a sub-slice, not a copy).
func channel(split *Split, i, c int) []float32 {
	plane := split.Shape.H * split.Shape.W
	start := i*split.Shape.Size() + c*plane
	return split.Images[start : start+plane]
}
