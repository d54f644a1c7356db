package study

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/einspace-go/einspace/grammar"
)

// Verdict is what the numbers say of a claim.
type Verdict int

const (
	// NotMeasured: the runs the claim needs are missing or unfinished, or there is one pair only (an
	// interval needs two).
	NotMeasured Verdict = iota
	// Supported: the 95% interval lies on the claim's side of zero (or of the reference).
	Supported
	// NotSupported: the interval includes zero, or lies on the other side.
	NotSupported
)

func (v Verdict) String() string {
	switch v {
	case Supported:
		return "supported"
	case NotSupported:
		return "not supported"
	}
	return "not yet measured"
}

// Claim is one of the paper's claims tested on one dataset: what it says, the verdict, and the evidence in
// plain words, generated from the numbers.
type Claim struct {
	ID      string // "i", "ii", "iii": the claims in the order the paper makes them
	Test    string // what is compared, e.g. "RE(RN18) vs RN18 (final test accuracy, paired by seed)"
	Dataset string
	Verdict Verdict
	// Text is the sentence a report prints: the verdict, then the evidence (n, wins, mean difference, 95%
	// interval).
	Text string
	// Comparison holds the paired numbers of claims (i) and (ii); nil for (iii).
	Comparison *Comparison
}

// ClaimTitles name the paper's claims (SPEC §8.1) by their IDs, as a report heads them.
var ClaimTitles = map[string]string{
	"i":   "seeded regularised evolution improves on its seed",
	"ii":  "regularised evolution beats random search",
	"iii": "random sampling is poor",
}

// Claims tests the paper's claims on every dataset: (i) RE(RN18) against ResNet-18 retrained (the rn18
// runs, final test accuracy) and against its own ResNet-18 seed (validation accuracy under the search
// protocol, within each run); (ii) each RE variant against random search (final test accuracy); (iii) the
// random samples against the ResNet-18 seed under the same protocol. Comparisons pair runs by seed
// number and use finished runs only (for the validation comparison: finished searches).
func (s *Study) Claims() []Claim {
	var out []Claim
	for _, d := range s.Datasets {
		out = append(out, d.Claims()...)
	}
	return out
}

// Claims tests the paper's claims on the dataset (see Study.Claims).
func (d *Dataset) Claims() []Claim {
	var out []Claim
	add := func(id, test, a, b string, pairs []Pair, pending bool, why func() string) {
		c := Compare(a, b, pairs)
		v, text := judge(d.Title(), c, pending, why)
		out = append(out, Claim{ID: id, Test: test, Dataset: d.Name, Verdict: v, Text: text, Comparison: &c})
	}
	// addFinal adds a comparison of final test accuracies between the runs of m and of other, saying which of
	// m's searches ended on their seed architecture (note: what that means for this comparison).
	addFinal := func(id, test string, m, other *MethodRuns, a, b string, note func(n int) string) {
		pairs := finalPairs(m, other)
		add(id, test, a, b, pairs, pairPending(m, other), func() string { return missingBoth(m, other) })
		out[len(out)-1].Text += seedBestNote(m, pairs, note)
	}
	re, rn := d.Method(RERN18), d.Method(RN18)
	// The final training's seed comes from the search seed alone, so when RE(RN18) ends on ResNet-18 its
	// final training and the rn18 run's of the same seed number are the same job.
	addFinal("i", "RE(RN18) vs RN18 retrained: final test accuracy, paired by seed", re, rn, "RE(RN18)", "RN18 (ResNet-18 retrained alone)",
		func(n int) string {
			return pick(n, "its final training and RN18's are the same job (architecture, data, protocol and training seed), so their "+
				"difference comes from the rounding of the arithmetic where each ran (machine and build), not from the search",
				"their final trainings and RN18's are the same jobs (architecture, data, protocol and training seed), so those "+
					"differences come from the rounding of the arithmetic where each ran (machine and build), not from the search")
		})
	var seedPairs []Pair
	searching := len(re.Missing) > 0
	for _, r := range re.Runs {
		searching = searching || !r.SearchDone()
		if s, ok := r.SeedTrainings["resnet18"]; ok && r.SearchDone() && r.HasBest {
			seedPairs = append(seedPairs, Pair{Seed: r.Seed, A: r.Best.ValAccuracy, B: s.ValAccuracy})
		}
	}
	add("i", "RE(RN18)'s best vs its ResNet-18 seed: validation accuracy under the search protocol, within each run",
		"RE(RN18)'s best architecture", "its ResNet-18 seed", seedPairs, searching, func() string {
			return "no RE(RN18) search is done yet (" + re.Status() + ")"
		})
	random := d.Method(RandomSearch)
	for _, m := range []Method{REScratch, RERN18, REMix} {
		mr := d.Method(m)
		addFinal("ii", m.Title()+" vs random search: final test accuracy, paired by seed", mr, random, m.Title(), "random search",
			func(n int) string {
				return pick(n, "its final number is the seed architecture's, not an improvement the search found",
					"their final numbers are the seed architecture's, not improvements the search found")
			})
	}
	out = append(out, d.samplingClaim())
	return out
}

// finalPairs pairs the final test accuracies of the finished runs of a and b with the same seed.
func finalPairs(a, b *MethodRuns) []Pair {
	var pairs []Pair
	for _, ra := range a.Finished() {
		if rb := b.Run(ra.Seed); rb != nil && rb.Finished() {
			pairs = append(pairs, Pair{Seed: ra.Seed, A: ra.TestAccuracy(), B: rb.TestAccuracy()})
		}
	}
	return pairs
}

// pairPending reports whether a pair of a's and b's runs may still come: a seed number that both methods
// have or are to run (Missing) and that has not finished in both.
func pairPending(a, b *MethodRuns) bool {
	for _, n := range a.seedNumbers() {
		if !slices.Contains(b.seedNumbers(), n) {
			continue
		}
		if ra, rb := a.Run(n), b.Run(n); ra == nil || rb == nil || !ra.Finished() || !rb.Finished() {
			return true
		}
	}
	return false
}

// seedBestNote says, after a comparison of m's final test accuracies, in which of the paired seeds m's
// search ended on one of its seed architectures (no child scored higher), and then what that means:
// meaning(n) for n such seeds.
func seedBestNote(m *MethodRuns, pairs []Pair, meaning func(n int) string) string {
	var seeds []string
	var names []string
	for _, p := range pairs {
		if name, ok := m.Run(p.Seed).BestSeed(); ok {
			seeds = append(seeds, fmt.Sprint(p.Seed))
			if name = grammar.SeedTitle(name); !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	if len(seeds) == 0 {
		return ""
	}
	return fmt.Sprintf(" In %s %s the search's best architecture is its seed (%s) itself, no child having scored higher: %s.",
		pick(len(seeds), "seed", "seeds"), strings.Join(seeds, ", "), strings.Join(names, ", "), meaning(len(seeds)))
}

// pick is one for n = 1, else many.
func pick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// missingBoth says why two methods have no finished seed in common.
func missingBoth(a, b *MethodRuns) string {
	return fmt.Sprintf("no seed has a finished run of both (%s: %s; %s: %s)", a.Method.Title(), a.Status(), b.Method.Title(), b.Status())
}

// judge turns a paired comparison into a verdict and its sentence. pending says whether runs that could
// add pairs are still to finish; why explains an empty comparison.
func judge(dataset string, c Comparison, pending bool, why func() string) (Verdict, string) {
	n := len(c.Pairs)
	switch n {
	case 0:
		return NotMeasured, fmt.Sprintf("Not yet measured on %s: %s.", dataset, why())
	case 1:
		p := c.Pairs[0]
		only := "one seed only"
		if pending {
			only = "one seed so far"
		}
		return NotMeasured, fmt.Sprintf("Not yet measured on %s: %s (seed %d: %s %s%% against %s %s%%, a difference of %s points); an interval needs a second seed.",
			dataset, only, p.Seed, c.A, Acc(p.A), c.B, Acc(p.B), Signed(p.A-p.B))
	}
	wins := fmt.Sprintf("%s was better than %s in %d of %d seeds%s", c.A, c.B, c.Wins, n, ties(c.Ties))
	diff := fmt.Sprintf("the mean difference is %s points (95%% interval %s to %s)", Signed(c.Diff.Mean), Signed(c.Diff.Low), Signed(c.Diff.High))
	switch {
	case c.Diff.Low > 0:
		return Supported, fmt.Sprintf("Supported on %s: %s; %s.", dataset, wins, diff)
	case c.Diff.High < 0:
		return NotSupported, fmt.Sprintf("Not supported on %s, the opposite holds: %s; %s.", dataset, wins, diff)
	}
	return NotSupported, fmt.Sprintf("Not supported on %s: %s, but %s, which includes zero.", dataset, wins, diff)
}

func ties(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return " (1 tie)"
	}
	return fmt.Sprintf(" (%d ties)", n)
}

// samplingClaim tests (iii): the mean random sample against the ResNet-18 seed under the same protocol.
func (d *Dataset) samplingClaim() Claim {
	c := Claim{ID: "iii", Test: "random samples vs the ResNet-18 seed: validation accuracy under the search protocol", Dataset: d.Name}
	s, ref := d.Sampling, d.ResNet18Seed()
	var parts []string
	switch {
	case s.N < 2:
		parts = append(parts, fmt.Sprintf("%s from the random-search runs (%s)", plural(s.N, "sample", "samples"), d.Method(RandomSearch).Status()))
	case ref.N == 0:
		parts = append(parts, "no ResNet-18 seed has been trained under the search protocol yet (the re-rn18, re-mix and rn18 runs train it)")
	}
	if len(parts) > 0 {
		c.Text = fmt.Sprintf("Not yet measured on %s: %s.", d.Title(), strings.Join(parts, "; "))
		return c
	}
	evidence := fmt.Sprintf("the %d random samples (from %s) scored %s%% validation accuracy on average (95%% interval %s to %s; median %s%%), against %s%% for the ResNet-18 seed under the same protocol%s",
		s.N, plural(d.SamplingRuns, "random-search run", "random-search runs"), Acc(s.Mean), Acc(s.Low), Acc(s.High), Acc(s.Median), Acc(ref.Mean),
		seedNote(ref))
	if !math.IsNaN(s.FractionAbove) {
		evidence += fmt.Sprintf("; %s%% of the samples scored above twice chance (%s%%)", Acc(100*s.FractionAbove), Acc(s.Threshold))
	}
	if s.High < ref.Mean {
		c.Verdict = Supported
		c.Text = fmt.Sprintf("Supported on %s: %s.", d.Title(), evidence)
	} else {
		c.Verdict = NotSupported
		c.Text = fmt.Sprintf("Not supported on %s: the interval of the mean sample reaches the seed's accuracy: %s.", d.Title(), evidence)
	}
	return c
}

func seedNote(ref Stats) string {
	if ref.N > 1 {
		return fmt.Sprintf(" (mean of %d trainings)", ref.N)
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Acc formats an accuracy (%) with two decimals, the way every report prints one ("–" for NaN).
func Acc(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.2f", v)
}

// Signed formats a difference of accuracies with its sign and two decimals.
func Signed(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%+.2f", v)
}
