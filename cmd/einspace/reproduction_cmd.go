package main

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/search"
	"github.com/einspace-go/einspace/search/study"
	"github.com/einspace-go/einspace/viz"
)

func runReproduction(e *env, args []string) error {
	fs := newFlags(e, "reproduction", "[--results DIR] [--out FILE] [--figures DIR]", `Writes the report of the Table 1 reproduction from its results folder: a Markdown page (the table beside
the paper's, the figures, the compute spent, and the paper's claims tested on the numbers) and one
standalone chart page per dataset, FIGURES/reproduction-<dataset>.html, which the page shows as
reproduction-<dataset>.png (bash scripts/reproduction-report.sh renders them). It reports whatever the
folder holds so far, and says what is missing. RESULTS/PROTOCOL.md is included verbatim after the title.`)
	results := fs.String("results", "results", "the results `folder`: <dataset>/<method>/seed-<n>/ run directories, baseline/, seed-cache/")
	out := fs.String("out", filepath.Join("docs", "REPRODUCTION.md"), "the Markdown `file` to write")
	figures := fs.String("figures", "", "the `folder` of the chart pages (default: img/ beside --out)")
	readme := fs.String("readme", "", "also write the table into this Markdown `file`, between its lines\n"+readmeBegin+" and "+readmeEnd)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("reproduction takes no arguments, got %q (the results folder is --results DIR)", fs.Args())
	}
	if *figures == "" {
		*figures = filepath.Join(filepath.Dir(*out), "img")
	}
	s, err := study.Read(*results)
	if err != nil {
		return usageError{err}
	}
	protocol, err := os.ReadFile(filepath.Join(*results, study.ProtocolFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	rel, err := filepath.Rel(filepath.Dir(*out), *figures)
	if err != nil {
		rel = *figures
	}
	if err := os.MkdirAll(*figures, 0o755); err != nil {
		return err
	}
	for _, d := range s.Datasets {
		path := filepath.Join(*figures, figureName(d, ".html"))
		if err := viz.WritePage(path, d.Title()+": the reproduction of Table 1", viz.ReproductionCharts(d)...); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s\n", path)
	}
	md := reproductionMarkdown(s, protocol, *results, filepath.ToSlash(rel))
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(*out, md, 0o644); err != nil {
		return err
	}
	if *readme != "" {
		if err := writeReadmeTable(*readme, s, filepath.ToSlash(*out)); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote the table into %s\n", *readme)
	}
	runs, finished := 0, 0
	for _, d := range s.Datasets {
		for _, m := range d.Methods {
			runs += len(m.Runs)
			finished += len(m.Finished())
		}
	}
	fmt.Fprintf(e.stdout, "wrote %s (%d datasets, %d runs, %d finished)\n", *out, len(s.Datasets), runs, finished)
	return nil
}

// The lines between which --readme writes the table.
const (
	readmeBegin = "<!-- reproduction table: begin (written by einspace reproduction --readme) -->"
	readmeEnd   = "<!-- reproduction table: end -->"
)

// writeReadmeTable replaces what lies between readmeBegin and readmeEnd in the file at path by the table
// beside the paper's, with a line pointing to the full report, so that the README shows the same numbers
// as the report without a copy kept by hand.
func writeReadmeTable(path string, s *study.Study, report string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	text := string(old)
	begin, end := strings.Index(text, readmeBegin), strings.Index(text, readmeEnd)
	if begin < 0 || end < begin {
		return usagef("--readme %s: the file has no %q line followed by %q, between which the table goes", path, readmeBegin, readmeEnd)
	}
	var b bytes.Buffer
	b.WriteString(readmeBegin + "\n\n")
	writeTableRows(&b, s)
	fmt.Fprintf(&b, "\nTest accuracy (%%), ours as mean ± std over the finished seeds (n), beside the paper's; our random sampling "+
		"is the validation accuracy of every architecture the random searches sampled, under the search protocol. %s The protocol, "+
		"the figures, the compute and the claims tested are in [%s](%s).\n\n", baselineSentence(s), report, report)
	return os.WriteFile(path, []byte(text[:begin]+b.String()+text[end:]), 0o644)
}

// figureName is the file of a dataset's chart page (ext ".html") or its picture (".png").
func figureName(d *study.Dataset, ext string) string { return "reproduction-" + d.Name + ext }

// reproductionMarkdown is the report: what was run, the table beside the paper's, the figures, random
// sampling, the compute, the claims and every run. figures is the chart folder relative to the page.
func reproductionMarkdown(s *study.Study, protocol []byte, results, figures string) []byte {
	var b bytes.Buffer
	var titles []string
	for _, d := range s.Datasets {
		titles = append(titles, d.Title())
	}
	fmt.Fprintf(&b, "# Reproducing Table 1 on a CPU: %s\n\n", strings.Join(titles, " and "))
	fmt.Fprintf(&b, "<!-- Generated by `einspace reproduction` from %s/: edit the code or %s/%s, not this page. -->\n\n", results, results, study.ProtocolFile)
	fmt.Fprintf(&b, "This page is written by `einspace reproduction` from the run logs in `%s/`; every number in it is computed from them, and what is missing is said. ", results)
	b.WriteString("The protocol and where it departs from the paper's are the next section, written by hand.\n\n")
	if protocol == nil {
		fmt.Fprintf(&b, "> **`%s/%s` is missing.** It holds the protocol and its departures from the paper, and this page includes it here verbatim.\n\n", results, study.ProtocolFile)
	} else {
		fmt.Fprintf(&b, "<!-- begin %s/%s, included verbatim -->\n\n", results, study.ProtocolFile)
		b.Write(bytes.TrimRight(protocol, "\n"))
		fmt.Fprintf(&b, "\n\n<!-- end %s/%s -->\n\n", results, study.ProtocolFile)
	}
	writeRedraw(&b, s, results)
	writeWhatWasRun(&b, s)
	writeTable(&b, s)
	writeBaselines(&b, s)
	writeFigures(&b, s, figures)
	writeSampling(&b, s)
	writeCompute(&b, s)
	writeClaims(&b, s)
	writeRuns(&b, s)
	if len(s.Ignored) > 0 {
		b.WriteString("## What this page does not read\n\n")
		for _, n := range s.Ignored {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

func writeRedraw(b *bytes.Buffer, s *study.Study, results string) {
	b.WriteString("## Redrawing and resuming\n\n")
	fmt.Fprintf(b, "`bash scripts/reproduction-report.sh` redraws this page and its figures from `%s/` at any time: it runs\n"+
		"`einspace reproduction --results %s --out docs/REPRODUCTION.md --figures docs/img` and renders each chart page to PNG.\n\n", results, results)
	b.WriteString("A search that stopped resumes from its log when the command that started it runs again with the same `--out` " +
		"and the same configuration (its `config.json`); nothing is evaluated twice. `bash scripts/reproduction.sh` runs every job " +
		"of the plan that has not finished.")
	if s.Plan != nil {
		notStarted := 0
		for _, d := range s.Datasets {
			for _, m := range d.Methods {
				notStarted += len(m.Missing)
			}
		}
		baselines := 0
		for _, name := range s.Plan.Baselines {
			if d := s.Dataset(name); d == nil || !d.Baseline.Done() {
				baselines++
			}
		}
		fmt.Fprintf(b, " The plan, `%s/%s`, lists every search and baseline: %s not started yet, and %s not finished.",
			results, study.PlanFile, pluralise(notStarted, "search has", "searches have"), pluralise(baselines, "baseline has", "baselines have"))
	}
	var open []string
	for _, d := range s.Datasets {
		for _, m := range d.Methods {
			for _, r := range m.Runs {
				if !r.Finished() {
					open = append(open, fmt.Sprintf("- `%s`: %s", filepath.ToSlash(r.Dir), r.Status()))
				}
			}
		}
	}
	if len(open) == 0 {
		b.WriteString(" Every run directory in the folder has finished.\n\n")
		return
	}
	b.WriteString(" Run directories not finished:\n\n")
	b.WriteString(strings.Join(open, "\n"))
	b.WriteString("\n\n")
}

// mdRow writes a Markdown table row (pipes in cells escaped).
func mdRow(b *bytes.Buffer, cells ...string) {
	for i, c := range cells {
		cells[i] = strings.ReplaceAll(c, "|", `\|`)
	}
	b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
}

// mdHeader writes a header row and its rule; right-aligned columns are given by index.
func mdHeader(b *bytes.Buffer, header []string, right ...int) {
	mdRow(b, header...)
	rule := make([]string, len(header))
	for i := range rule {
		rule[i] = "---"
		for _, r := range right {
			if r == i {
				rule[i] = "---:"
			}
		}
	}
	b.WriteString("|" + strings.Join(rule, "|") + "|\n")
}

func writeWhatWasRun(b *bytes.Buffer, s *study.Study) {
	b.WriteString("## What was run\n\n")
	for _, d := range s.Datasets {
		fmt.Fprintf(b, "**%s** (%d classes, chance %s%%). Search seeds with a run: %s.\n\n", d.Title(), d.Classes, study.Acc(d.Chance()), seedList(d.Seeds))
		mdHeader(b, []string{"method", "configuration", "seeds", "status"})
		for _, m := range d.Methods {
			var seeds []int
			for _, r := range m.Runs {
				seeds = append(seeds, r.Seed)
			}
			mdRow(b, m.Method.Title(), configText(m), seedList(seeds), m.Status())
		}
		b.WriteString("\n")
	}
}

func seedList(seeds []int) string {
	if len(seeds) == 0 {
		return "none"
	}
	parts := make([]string, len(seeds))
	for i, n := range seeds {
		parts[i] = fmt.Sprint(n)
	}
	return strings.Join(parts, ", ")
}

// configText describes a method's configuration in one line, from its first started run; runs whose
// configurations differ in more than the search seed are flagged.
func configText(m *study.MethodRuns) string {
	var first *search.Config
	differ := false
	for _, r := range m.Runs {
		if !r.Started {
			continue
		}
		c := r.Config
		c.Seed = 0
		if first == nil {
			first = &c
		} else if !reflect.DeepEqual(*first, c) {
			differ = true
		}
	}
	if first == nil {
		return "–"
	}
	c := *first
	parts := []string{c.StrategyText()}
	if c.Strategy != search.RandomSearch {
		parts = append(parts, fmt.Sprintf("P %d, S %d", c.Population, c.Tournament))
	}
	train := fmt.Sprintf("%s of %s (batch %d, lr %g", pluralise(c.Budget, "evaluation", "evaluations"), pluralise(c.Train.Epochs, "epoch", "epochs"),
		c.Train.Batch(), c.Train.LearningRate())
	if c.Train.MaxSeconds > 0 {
		train += fmt.Sprintf(", at most %g s", c.Train.MaxSeconds)
	}
	parts = append(parts, train+")")
	count := func(n int) string {
		if n == 0 {
			return "all"
		}
		return thousands(int64(n))
	}
	parts = append(parts, fmt.Sprintf("data %s/%s/%s", count(c.Data.Train), count(c.Data.Val), count(c.Data.Test)))
	if c.FinalEpochs > 0 {
		parts = append(parts, "final "+pluralise(c.FinalEpochs, "epoch", "epochs"))
	} else {
		parts = append(parts, "no final training")
	}
	text := strings.Join(parts, " · ")
	if differ {
		text += " (the seeds' configurations differ: see their config.json)"
	}
	return text
}

// writeTableRows writes the table beside the paper's Table 1, the report's and the README's.
func writeTableRows(b *bytes.Buffer, s *study.Study) {
	mdHeader(b, study.TableHeader())
	for _, row := range s.Table() {
		mdRow(b, row.Texts()...)
	}
}

func writeTable(b *bytes.Buffer, s *study.Study) {
	b.WriteString("## Table 1 beside the paper\n\n")
	writeTableRows(b, s)
	b.WriteString("\nTest accuracy (%). Each cell is ours, the mean ± sample standard deviation over the seeds whose run has " +
		"finished (n seeds), then the paper's number (Table 1 of the paper, SPEC §8.1: one run per cell). " +
		"*RN18* is ResNet-18 retrained with the same final protocol as every search's best (the `rn18` runs). " +
		"*Random sampling* is different in kind: ours is the validation accuracy, under the search protocol, of every " +
		"architecture the random searches sampled (n samples); the paper's is the mean test accuracy of random samples after " +
		"its full training. – : nothing finished yet.\n\n")
}

// baselineSentence gives the test accuracy of each dataset's 8-epoch ResNet-18 baseline beside the paper's
// RN18, for the README under the table.
func baselineSentence(s *study.Study) string {
	var ours, paper []string
	for _, d := range s.Datasets {
		text := d.Baseline.Status() // "not run yet", or how far it got
		if d.Baseline.Result != nil {
			text = study.Acc(d.Baseline.Result.TestAccuracy) + "%"
		}
		ours = append(ours, d.Title()+" "+text)
		if p, ok := study.Paper[d.Name].Accuracy[study.RN18]; ok {
			paper = append(paper, study.Acc(p)+"%")
		}
	}
	text := "ResNet-18 trained alone with the paper's 8-epoch search protocol on the full data scores, on test: " + strings.Join(ours, ", ")
	if len(paper) == len(ours) {
		text += "; the paper's RN18, trained 64 epochs on train+val: " + strings.Join(paper, " and ")
	}
	return text + "."
}

func writeBaselines(b *bytes.Buffer, s *study.Study) {
	b.WriteString("### ResNet-18 alone with the paper's 8-epoch protocol on the full data\n\n")
	for _, d := range s.Datasets {
		bl := d.Baseline
		fmt.Fprintf(b, "- **%s**: ", d.Title())
		if !bl.Present() {
			b.WriteString("not run yet.\n")
			continue
		}
		var facts []string
		if v, ok := bl.ValAccuracy(); ok {
			facts = append(facts, fmt.Sprintf("validation %s%%", study.Acc(v)))
		} else if n := len(bl.Record.Completed); n > 0 {
			facts = append(facts, fmt.Sprintf("validation %s%% after epoch %d", study.Acc(100*bl.Record.Completed[n-1].ValAccuracy), n))
		}
		if bl.Result != nil {
			facts = append(facts, fmt.Sprintf("test %s%%", study.Acc(bl.Result.TestAccuracy)))
		}
		if r := bl.Record; r != nil {
			facts = append(facts, fmt.Sprintf("%d of %d epochs, batch %d, learning rate %g", len(r.Completed), r.Epochs, r.BatchSize, r.LR))
		}
		if bl.Result != nil && bl.Result.Params > 0 {
			facts = append(facts, thousands(bl.Result.Params)+" parameters")
		}
		facts = append(facts, fmt.Sprintf("%.2f h", study.Hours(bl.Seconds())))
		fmt.Fprintf(b, "%s (%s).", strings.Join(facts, ", "), bl.Status())
		if r := bl.Record; r != nil && len(r.Completed) > 0 {
			curve := make([]string, len(r.Completed))
			for i, e := range r.Completed {
				curve[i] = study.Acc(100 * e.ValAccuracy)
			}
			fmt.Fprintf(b, " Validation accuracy after each epoch: %s%%.", strings.Join(curve, "%, "))
		}
		if paper, ok := study.Paper[d.Name].Accuracy[study.RN18]; ok && bl.Result != nil {
			fmt.Fprintf(b, " The paper's RN18 is %s%%, %s points above, after its final protocol: 64 epochs on train+val "+
				"(SPEC §7.3), eight times the epochs, on train and validation together (60,000 images against 45,000 or 50,000); this run stops where the paper's search phase does.",
				study.Acc(paper), study.Acc(paper-bl.Result.TestAccuracy))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

func writeFigures(b *bytes.Buffer, s *study.Study, figures string) {
	b.WriteString("## Figures\n\n")
	b.WriteString("For each dataset, the first chart follows the best validation accuracy found so far against the counted " +
		"evaluations of each search: the line is the mean over seeds, the band their range; the dotted line is the ResNet-18 " +
		"seed trained under the same protocol, the dashed one chance. The second is the histogram of the validation accuracies " +
		"of the random samples, with their mean, the best sample of random search (the architecture it retrains), chance and " +
		"twice chance marked. Each picture is a screenshot of the chart page named under it.\n\n")
	for _, d := range s.Datasets {
		png, page := figures+"/"+figureName(d, ".png"), figures+"/"+figureName(d, ".html")
		fmt.Fprintf(b, "### %s\n\n![%s: best validation accuracy during the search, and random samples](%s)\n\n", d.Title(), d.Title(), png)
		fmt.Fprintf(b, "Chart page, with tooltips: [%s](%s) (written by the command; not committed, as it carries the ECharts bundle).\n\n", page, page)
	}
}

func writeSampling(b *bytes.Buffer, s *study.Study) {
	b.WriteString("## Random sampling\n\n")
	b.WriteString("Every counted evaluation of the random-search runs is a random architecture of the grammar, trained and " +
		"scored with the search protocol (validation accuracy, %). Failed samples have no accuracy and are not in the numbers.\n\n")
	mdHeader(b, []string{"dataset", "samples", "failed", "mean ± std", "95% interval of the mean", "median", "quartiles", "range", "above 2× chance"},
		1, 2, 3, 4, 5, 6, 7, 8)
	for _, d := range s.Datasets {
		x := d.Sampling
		if x.N == 0 {
			mdRow(b, d.Title(), fmt.Sprintf("0 (%s)", d.Method(study.RandomSearch).Status()), fmt.Sprint(d.SamplingFailed), "–", "–", "–", "–", "–", "–")
			continue
		}
		std, interval := "", "–"
		if x.HasInterval() {
			std = " ± " + study.Acc(x.Std)
			interval = study.Acc(x.Low) + " to " + study.Acc(x.High)
		}
		above := fmt.Sprintf("%d (%s%%) above %s%%", x.Above, study.Acc(100*x.FractionAbove), study.Acc(x.Threshold))
		if math.IsNaN(x.Threshold) {
			above = "–"
		}
		mdRow(b, d.Title(), fmt.Sprintf("%d from %s", x.N, pluralise(d.SamplingRuns, "run", "runs")), fmt.Sprint(d.SamplingFailed), study.Acc(x.Mean)+std, interval,
			study.Acc(x.Median), study.Acc(x.Q1)+", "+study.Acc(x.Q3), study.Acc(x.Min)+" to "+study.Acc(x.Max), above)
	}
	b.WriteString("\n")
}

func writeCompute(b *bytes.Buffer, s *study.Study) {
	b.WriteString("## Compute\n\n")
	b.WriteString("Wall-clock hours of the trainings each run did itself: in the search, every evaluation but the population " +
		"copies of a seed (never trained again) and the seed trainings read from the seed cache (counted once, in the run " +
		"that trained them); the final training of the best separately.\n\n")
	mdHeader(b, []string{"dataset", "method", "runs", "search h", "final h", "total h", "seed trainings from the cache"}, 2, 3, 4, 5, 6)
	var search, final float64
	for _, d := range s.Datasets {
		for _, m := range d.Methods {
			if len(m.Runs) == 0 {
				continue
			}
			cached := 0
			for _, r := range m.Runs {
				cached += r.CachedSeeds
			}
			sh, fh := study.Hours(m.SearchSeconds()), study.Hours(m.FinalSeconds())
			search, final = search+sh, final+fh
			mdRow(b, d.Title(), m.Method.Title(), fmt.Sprint(len(m.Runs)), hours(sh), hours(fh), hours(sh+fh), fmt.Sprint(cached))
		}
	}
	mdRow(b, "**all**", "", "", hours(search), hours(final), hours(search+final), "")
	baseline, present := 0.0, 0
	for _, d := range s.Datasets {
		baseline += study.Hours(d.Baseline.Seconds())
		if d.Baseline.Present() {
			present++
		}
	}
	b.WriteString("\n")
	if present > 0 {
		fmt.Fprintf(b, "The ResNet-18 baselines (8 epochs on the full data) took %s h more, as far as they have run. ", hours(baseline))
	} else {
		b.WriteString("The ResNet-18 baselines (8 epochs on the full data) have not run yet. ")
	}
	b.WriteString("Hours are the wall-clock time of each training; trainings that ran side by side overlap.\n\n")
}

// pluralise writes a count with its noun.
func pluralise(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func hours(h float64) string { return fmt.Sprintf("%.2f", h) }

func writeClaims(b *bytes.Buffer, s *study.Study) {
	b.WriteString("## The paper's claims, tested on these runs\n\n")
	b.WriteString("Each sentence is generated from the numbers. A comparison pairs the runs of two methods with the same seed " +
		"number; it is *supported* when the 95% t-interval of the mean difference lies above zero, *not supported* when " +
		"it includes zero or lies below, and *not yet measured* with fewer than two pairs.\n\n")
	claims := s.Claims()
	for _, id := range []string{"i", "ii", "iii"} {
		fmt.Fprintf(b, "### (%s) %s\n\n", id, capitalise(study.ClaimTitles[id]))
		for _, c := range claims {
			if c.ID == id {
				fmt.Fprintf(b, "- *%s, %s.* %s\n", study.DatasetTitle(c.Dataset), c.Test, c.Text)
			}
		}
		b.WriteString("\n")
	}
}

// bestOrigin says where a run's best architecture came from: a seed (trained, copied, or mutated back
// to), or the kind of record that found it.
func bestOrigin(r *study.Run) string {
	if name, ok := r.BestSeed(); ok {
		return "the seed " + grammar.SeedTitle(name)
	}
	switch r.Best.Origin.Kind {
	case search.RandomSample:
		return "a random sample"
	case search.Mutation:
		return "a mutation"
	case search.Crossover:
		return "a crossover"
	}
	return r.Best.Origin.String()
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func writeRuns(b *bytes.Buffer, s *study.Study) {
	b.WriteString("## Every run\n\n")
	mdHeader(b, []string{"dataset", "method", "seed", "status", "counted", "failed", "best val %", "best is", "final test %", "search h", "final h"},
		2, 4, 5, 6, 8, 9, 10)
	for _, d := range s.Datasets {
		for _, m := range d.Methods {
			for _, r := range m.Runs {
				counted, best, from, test := "–", "–", "–", "–"
				if r.Started {
					counted = fmt.Sprintf("%d/%d", r.Counted, r.Config.Budget)
				}
				if r.HasBest {
					best, from = study.Acc(r.Best.ValAccuracy), bestOrigin(r)
				}
				if r.FinalDone() {
					test = study.Acc(r.TestAccuracy())
				}
				mdRow(b, d.Title(), m.Method.Title(), fmt.Sprint(r.Seed), r.Status(), counted, fmt.Sprint(r.Failed), best, from, test,
					hours(study.Hours(r.SearchSeconds)), hours(study.Hours(r.FinalSeconds)))
			}
			if s.Plan != nil {
				for _, n := range m.Missing {
					mdRow(b, d.Title(), m.Method.Title(), fmt.Sprint(n), "planned, not started", "–", "–", "–", "–", "–", "–", "–")
				}
			}
		}
	}
	b.WriteString("\n")
}
