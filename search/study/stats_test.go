package study_test

import (
	"math"
	"testing"

	"github.com/einspace-go/einspace/search/study"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(want) != math.IsNaN(got) || (!math.IsNaN(want) && math.Abs(got-want) > tol) {
		t.Errorf("%s = %.7g, want %.7g (±%g)", what, got, want, tol)
	}
}

// Values worked out by hand: the mean of 2,4,4,4,5,5,7,9 is 5, the squared deviations sum to 32, so the
// sample variance is 32/7 and the 95% interval is 5 ± t(7)·sqrt(32/7)/sqrt(8) = 5 ± 2.364624·0.755929.
func TestDescribe(t *testing.T) {
	s := study.Describe([]float64{2, 4, 4, 4, 5, 5, 7, 9})
	if s.N != 8 || !s.HasInterval() {
		t.Fatalf("N = %d, interval %v", s.N, s.HasInterval())
	}
	near(t, "mean", s.Mean, 5, 1e-12)
	near(t, "std", s.Std, math.Sqrt(32.0/7), 1e-12)
	near(t, "std", s.Std, 2.138090, 1e-6)
	near(t, "low", s.Low, 3.212512, 1e-6)
	near(t, "high", s.High, 6.787488, 1e-6)
	near(t, "min", s.Min, 2, 0)
	near(t, "max", s.Max, 9, 0)

	one := study.Describe([]float64{93.5})
	if one.N != 1 || one.HasInterval() || one.Mean != 93.5 || !math.IsNaN(one.Std) || !math.IsNaN(one.Low) {
		t.Errorf("one value: %+v; want mean 93.5, no std, no interval", one)
	}
	none := study.Describe(nil)
	if none.N != 0 || !math.IsNaN(none.Mean) {
		t.Errorf("no values: %+v; want NaN mean", none)
	}
}

func TestQuantile(t *testing.T) {
	ten := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct {
		values []float64
		p      float64
		want   float64
	}{
		{ten, 0.25, 3.25}, // position 0.25·9 = 2.25: 3 + 0.25·(4-3)
		{ten, 0.5, 5.5},
		{ten, 0.75, 7.75},
		{ten, 0, 1},
		{ten, 1, 10},
		{[]float64{1, 3}, 0.25, 1.5},
		{[]float64{1, 3}, 0.5, 2},
		{[]float64{7}, 0.75, 7},
		{nil, 0.5, math.NaN()},
	} {
		near(t, "quantile", study.Quantile(c.values, c.p), c.want, 1e-12)
	}
	d := study.NewDistribution([]float64{10, 4, 8, 6, 2}, 5) // sorted 2 4 6 8 10
	near(t, "q1", d.Q1, 4, 0)
	near(t, "median", d.Median, 6, 0)
	near(t, "q3", d.Q3, 8, 0)
	if d.Above != 3 || d.FractionAbove != 0.6 {
		t.Errorf("above 5: %d (%.2f), want 3 (0.60)", d.Above, d.FractionAbove)
	}
}

// Three seeds: differences 2, 1 and -0.5. Mean 5/6, sample std 1.2583057, interval ± t(2)·std/sqrt(3) with
// t(2) = 4.302653.
func TestCompare(t *testing.T) {
	c := study.Compare("RE", "RS", []study.Pair{{Seed: 2, A: 89, B: 89.5}, {Seed: 0, A: 90, B: 88}, {Seed: 1, A: 91, B: 90}})
	if c.Wins != 2 || c.Losses != 1 || c.Ties != 0 {
		t.Errorf("wins/losses/ties %d/%d/%d, want 2/1/0", c.Wins, c.Losses, c.Ties)
	}
	if c.Pairs[0].Seed != 0 || c.Pairs[2].Seed != 2 {
		t.Errorf("pairs not in seed order: %+v", c.Pairs)
	}
	near(t, "mean difference", c.Diff.Mean, 5.0/6, 1e-12)
	near(t, "std", c.Diff.Std, 1.2583057, 1e-7)
	near(t, "low", c.Diff.Low, -2.2924716, 1e-6)
	near(t, "high", c.Diff.High, 3.9591383, 1e-6)
}

// tCDF integrates Student's t density from 0 to x (Simpson's rule) and adds one half.
func tCDF(x float64, df int) float64 {
	v := float64(df)
	lg1, _ := math.Lgamma((v + 1) / 2)
	lg2, _ := math.Lgamma(v / 2)
	c := math.Exp(lg1-lg2) / math.Sqrt(v*math.Pi)
	f := func(u float64) float64 { return c * math.Pow(1+u*u/v, -(v+1)/2) }
	const steps = 200_000
	h := x / steps
	sum := f(0) + f(x)
	for i := 1; i < steps; i++ {
		w := 2.0
		if i%2 == 1 {
			w = 4
		}
		sum += w * f(float64(i)*h)
	}
	return 0.5 + sum*h/3
}

// The table of t quantiles, and the expansion past it, against the distribution itself.
func TestTQuantile(t *testing.T) {
	near(t, "t(1) against the Cauchy distribution", 0.5+math.Atan(study.TQuantile975(1))/math.Pi, 0.975, 1e-7)
	for _, df := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 25, 29, 30, 31, 40, 60, 120, 1000} {
		near(t, "P(T < t(df))", tCDF(study.TQuantile975(df), df), 0.975, 2e-6)
	}
	if !math.IsNaN(study.TQuantile975(0)) {
		t.Error("t(0) should be NaN")
	}
}
