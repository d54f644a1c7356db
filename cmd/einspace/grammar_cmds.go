package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/einspace-go/einspace/grammar"
)

func runSample(e *env, args []string) error {
	fs := newFlags(e, "sample", "[flags]", "Draws architectures from the einspace grammar and prints one per line.")
	input := inputFlag(fs)
	seed := fs.Uint64("seed", 0, "random `seed`: the same seed gives the same architectures")
	n := fs.Int("n", 1, "how many architectures to draw")
	pc := fs.Float64("pc", 0.32, "p(computation): the probability that a module slot becomes a computation module")
	maxNodes := fs.Int("max-nodes", grammar.DefaultLimits.Nodes, "cap on nodes per architecture (0: none)")
	maxParams := fs.Int64("max-params", 0, "cap on parameters (0: none)")
	maxFLOPs := fs.Int64("max-flops", 0, "cap on multiply-adds per example (0: none)")
	format := formatFlag(fs)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("sample takes no arguments, got %q", fs.Args())
	}
	if *n < 1 {
		return usagef("-n must be at least 1, got %d", *n)
	}
	if *pc <= 0 || *pc >= 1 {
		return usagef("--pc must lie strictly between 0 and 1, got %v", *pc)
	}
	g := grammar.Default()
	g.PComputation = *pc
	g.Limits = grammar.Limits{Nodes: *maxNodes, Params: *maxParams, FLOPs: *maxFLOPs}
	r := rand.New(rand.NewPCG(*seed, 0))
	for range *n {
		a, err := g.Sample(r, input.shape)
		if err != nil {
			return err
		}
		if err := print(e, a, *format, false); err != nil {
			return err
		}
	}
	return nil
}

// print writes an architecture as text (canonical form; with details, statistics and tree) or JSON.
func print(e *env, a *grammar.Arch, format string, details bool) error {
	if format == "json" {
		return writeJSON(e.stdout, a)
	}
	fmt.Fprintln(e.stdout, a)
	if details {
		fmt.Fprintln(e.stdout)
		writeStats(e.stdout, a)
		fmt.Fprintln(e.stdout)
		writeTree(e.stdout, a.Root, "", "")
	}
	return nil
}

func runShow(e *env, args []string) error {
	fs := newFlags(e, "show", "[flags] ARCH", "Prints an architecture's canonical text, its statistics, and its derivation tree with each\nnode's output shape.")
	input := inputFlag(fs)
	format := formatFlag(fs)
	archs, err := archArgs(e, fs, args, input, format, 1)
	if err != nil {
		return err
	}
	return print(e, archs[0], *format, true)
}

func runMutate(e *env, args []string) error {
	fs := newFlags(e, "mutate", "[flags] ARCH", "Prints a child of ARCH: one node, drawn uniformly, resampled with its symbol changed.")
	input := inputFlag(fs)
	seed := fs.Uint64("seed", 0, "random `seed`")
	format := formatFlag(fs)
	archs, err := archArgs(e, fs, args, input, format, 1)
	if err != nil {
		return err
	}
	child, err := grammar.Default().Mutate(rand.New(rand.NewPCG(*seed, 0)), archs[0])
	if err != nil {
		return err
	}
	return print(e, child, *format, false)
}

func runCrossover(e *env, args []string) error {
	fs := newFlags(e, "crossover", "[flags] ARCH ARCH", "Prints a child of the first ARCH in which one module is replaced by a module of the second\nthat received the same input shape.")
	input := inputFlag(fs)
	seed := fs.Uint64("seed", 0, "random `seed`")
	format := formatFlag(fs)
	archs, err := archArgs(e, fs, args, input, format, 2)
	if err != nil {
		return err
	}
	child, err := grammar.Default().Crossover(rand.New(rand.NewPCG(*seed, 0)), archs[0], archs[1])
	if err != nil {
		return err
	}
	return print(e, child, *format, false)
}

// paperTable10 is SPEC §4.3: terminals and non-terminals (mean, median, max) per p(computation).
var paperTable10 = map[float64][6]float64{
	0.9: {3.87, 3, 28, 3.63, 3, 42},
	0.8: {5.34, 4, 54, 5.04, 3, 64},
	0.7: {6.72, 4, 118, 6.00, 3, 81},
	0.6: {8.65, 4, 202, 7.74, 4, 165},
	0.5: {40.22, 5, 4779, 39.03, 5, 5219},
	0.4: {100.15, 8, 12026, 88.58, 8, 10417},
	0.3: {6070.77, 9, 878122, 4588.13, 8, 734497},
}

func runStats(e *env, args []string) error {
	fs := newFlags(e, "stats", "[flags]", "Samples architectures at several values of p(computation) and prints their statistics as a\nMarkdown table beside the paper's Table 10.")
	input := inputFlag(fs)
	n := fs.Int("n", 2000, "samples per value of p")
	seed := fs.Uint64("seed", 0, "random `seed`")
	pcs := fs.String("pc", "0.9,0.8,0.7,0.6,0.5", "comma-separated values of p(computation)")
	maxNodes := fs.Int("max-nodes", 1_000_000, "cap on nodes per architecture (0: none)")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	var ps []float64
	for _, f := range strings.Split(*pcs, ",") {
		p, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || p <= 0 || p >= 1 {
			return usagef("--pc: %q is not a probability strictly between 0 and 1", f)
		}
		ps = append(ps, p)
	}
	w := e.stdout
	fmt.Fprintf(w, "Samples per row: %d at input %s, seed %d, node cap %d. Counts are of the tree as instantiated\n", *n, input.shape.Arg(), *seed, *maxNodes)
	fmt.Fprintf(w, "(a 4/8-way inner module once per copy, as the reference deep-copies it); \"written\" counts it once.\n\n")
	fmt.Fprintln(w, "| p(C) | terminals mean / median / max | paper | non-terminals mean / median / max | paper | written T / NT median | samples over cap | backtracks per sample |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, p := range ps {
		g := grammar.Default()
		g.PComputation = p
		g.Limits = grammar.Limits{Nodes: *maxNodes}
		s, err := g.Study(rand.New(rand.NewPCG(*seed, 0)), input.shape, *n)
		if err != nil {
			return err
		}
		t, m := grammar.Summarise(s.ExpandedTerminals), grammar.Summarise(s.ExpandedModule)
		paper := "–"
		paperNT := "–"
		if row, ok := paperTable10[p]; ok {
			paper = fmt.Sprintf("%.2f / %g / %g", row[0], row[1], row[2])
			paperNT = fmt.Sprintf("%.2f / %g / %g", row[3], row[4], row[5])
		}
		fmt.Fprintf(w, "| %.2f | %.2f / %g / %g | %s | %.2f / %g / %g | %s | %g / %g | %d | %.1f |\n", p,
			t.Mean, t.Median, t.Max, paper, m.Mean, m.Median, m.Max, paperNT,
			grammar.Summarise(s.Terminals).Median, grammar.Summarise(s.NonTerminals).Median,
			s.Counters.Rejected(), float64(s.Counters.Backtracks)/float64(*n))
	}
	return nil
}
