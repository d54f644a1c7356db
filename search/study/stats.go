package study

import (
	"math"
	"slices"
)

// Stats describes a sample of numbers: its size, mean, sample standard deviation (divided by n-1) and
// range. Std is NaN for fewer than two values, Mean, Min and Max for none.
type Stats struct {
	N         int
	Mean, Std float64
	Min, Max  float64
	Low, High float64 // the 95% t-interval of the mean (NaN for fewer than two values)
}

// Describe computes the statistics of xs.
func Describe(xs []float64) Stats {
	s := Stats{N: len(xs), Mean: math.NaN(), Std: math.NaN(), Min: math.NaN(), Max: math.NaN(), Low: math.NaN(), High: math.NaN()}
	if len(xs) == 0 {
		return s
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	s.Mean = sum / float64(len(xs))
	s.Min, s.Max = slices.Min(xs), slices.Max(xs)
	if len(xs) < 2 {
		return s
	}
	ss := 0.0
	for _, x := range xs {
		ss += (x - s.Mean) * (x - s.Mean)
	}
	s.Std = math.Sqrt(ss / float64(len(xs)-1))
	half := TQuantile975(len(xs)-1) * s.Std / math.Sqrt(float64(len(xs)))
	s.Low, s.High = s.Mean-half, s.Mean+half
	return s
}

// HasInterval reports whether the sample is large enough (two values or more) for a spread and an interval.
func (s Stats) HasInterval() bool { return s.N >= 2 }

// Quantile is the p-quantile (0 <= p <= 1) of sorted values by linear interpolation between the closest
// ranks: the value at position p·(n-1) from 0, as numpy and R compute it by default (R's type 7). NaN for
// no values.
func Quantile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	pos := p * float64(n-1)
	lo := int(math.Floor(pos))
	if lo >= n-1 {
		return sorted[n-1]
	}
	if lo < 0 {
		return sorted[0]
	}
	return sorted[lo] + (pos-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// tTable holds the 0.975 quantiles of Student's t distribution for 1 to 30 degrees of freedom: the factor
// of a two-sided 95% interval. (Standard values, to six decimals; the tests check them against the
// distribution integrated numerically.)
var tTable = [...]float64{
	12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157, 2.228139,
	2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922, 2.093024, 2.085963,
	2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831, 2.048407, 2.045230, 2.042272,
}

// TQuantile975 is the 0.975 quantile of Student's t distribution with df degrees of freedom: the table for
// df up to 30, beyond it the Cornish-Fisher expansion around the normal quantile 1.959964, which is off by
// less than 1e-5 there. NaN for df < 1.
func TQuantile975(df int) float64 {
	switch {
	case df < 1:
		return math.NaN()
	case df <= len(tTable):
		return tTable[df-1]
	}
	const z = 1.959963985
	v := float64(df)
	z3, z5, z7 := z*z*z, z*z*z*z*z, z*z*z*z*z*z*z
	return z + (z3+z)/(4*v) + (5*z5+16*z3+3*z)/(96*v*v) + (3*z7+19*z5+17*z3-15*z)/(384*v*v*v)
}

// Distribution describes many values of one kind (the validation accuracies of random samples): Stats,
// the quartiles, and the share above a threshold.
type Distribution struct {
	Stats
	Values         []float64 // sorted
	Q1, Median, Q3 float64
	Threshold      float64 // the threshold of Above
	Above          int     // values strictly above Threshold
	FractionAbove  float64 // Above / N (NaN for no values)
}

// NewDistribution describes values against a threshold (a copy of values is sorted).
func NewDistribution(values []float64, threshold float64) Distribution {
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	d := Distribution{Stats: Describe(sorted), Values: sorted, Threshold: threshold, FractionAbove: math.NaN()}
	d.Q1, d.Median, d.Q3 = Quantile(sorted, 0.25), Quantile(sorted, 0.5), Quantile(sorted, 0.75)
	for _, v := range sorted {
		if v > threshold {
			d.Above++
		}
	}
	if len(sorted) > 0 {
		d.FractionAbove = float64(d.Above) / float64(len(sorted))
	}
	return d
}

// Pair is one seed's values of two methods.
type Pair struct {
	Seed int
	A, B float64
}

// Comparison compares two methods paired by seed: the differences A-B of the seeds both have, their
// statistics (mean, sample standard deviation, 95% t-interval of the mean), and how often A beat B.
type Comparison struct {
	A, B               string // what is compared, in words ("RE(RN18)", "random search")
	Pairs              []Pair // in seed order
	Diff               Stats  // of A-B
	Wins, Losses, Ties int    // seeds in which A > B, A < B, A = B
}

// Compare computes the comparison of pairs (sorted by seed).
func Compare(a, b string, pairs []Pair) Comparison {
	pairs = slices.Clone(pairs)
	slices.SortFunc(pairs, func(x, y Pair) int { return x.Seed - y.Seed })
	c := Comparison{A: a, B: b, Pairs: pairs}
	diffs := make([]float64, len(pairs))
	for i, p := range pairs {
		diffs[i] = p.A - p.B
		switch {
		case p.A > p.B:
			c.Wins++
		case p.A < p.B:
			c.Losses++
		default:
			c.Ties++
		}
	}
	c.Diff = Describe(diffs)
	return c
}
