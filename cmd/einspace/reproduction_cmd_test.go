package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/models"
	"github.com/einspace-go/einspace/search"
	"github.com/einspace-go/einspace/search/study"
	"github.com/einspace-go/einspace/search/study/studytest"
	"github.com/einspace-go/einspace/viz"
)

// reproductionDir is where a test writes its results folder and report: a temporary folder, or
// $EINSPACE_REPRODUCTION_OUT to keep them for a look (scripts render its chart pages to PNG).
func reproductionDir(t *testing.T) string {
	if dir := os.Getenv("EINSPACE_REPRODUCTION_OUT"); dir != "" {
		dir = filepath.Join(dir, t.Name())
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// meanStd is the mean and sample standard deviation, computed here independently of package study.
func meanStd(xs []float64) (mean, std float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(xs)-1))
}

// The command on a synthetic results folder: the Markdown holds the protocol verbatim, the table's numbers
// (recomputed here from the files), the figures, the compute, the claims and what is missing; the chart
// pages are written.
func TestReproductionCommand(t *testing.T) {
	if _, err := viz.EChartsJS(); err != nil {
		t.Skipf("the chart pages need the ECharts bundle: %v", err)
	}
	dir := reproductionDir(t)
	results := filepath.Join(dir, "results")
	studytest.Write(t, results)
	protocol := "## The protocol\n\nA hand-written paragraph | with a pipe, kept verbatim.\n"
	if err := os.WriteFile(filepath.Join(results, "PROTOCOL.md"), []byte(protocol), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "docs", "REPRODUCTION.md")
	stdout, stderr, status := runCLI(t, "", "reproduction", "--results", results, "--out", out)
	if status != 0 {
		t.Fatalf("status %d: %s", status, stderr)
	}
	for _, want := range []string{"wrote " + filepath.Join(dir, "docs", "img", "reproduction-addnist.html"),
		"wrote " + out + " (2 datasets, 21 runs, 19 finished)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	title, after, _ := strings.Cut(md, protocol)
	if !strings.HasPrefix(title, "# Reproducing Table 1 on a CPU: AddNIST and MultNIST\n") || !strings.Contains(after, "## Redrawing and resuming") {
		t.Errorf("the protocol is not included verbatim after the title:\n%.1500s", md)
	}

	// The table: every cell of AddNIST from the final.json files.
	finals := func(method string) []float64 {
		var xs []float64
		for seed := range 3 {
			var f search.FinalResult
			raw, err := os.ReadFile(filepath.Join(results, "addnist", method, fmt.Sprintf("seed-%d", seed), search.FinalFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &f); err != nil {
				t.Fatal(err)
			}
			xs = append(xs, f.Result.TestAccuracy)
		}
		return xs
	}
	row := []string{"AddNIST"}
	for _, c := range []struct {
		method string
		paper  string
	}{{"rn18", "93.36"}, {"", "10.13"}, {"random", "67.00"}, {"re-scratch", "93.82"}, {"re-rn18", "97.54"}, {"re-mix", "97.72"}} {
		var xs []float64
		if c.method == "" { // random sampling: every counted record of the random searches
			for seed := range 3 {
				records, _, err := search.ReadRecords(filepath.Join(results, "addnist", "random", fmt.Sprintf("seed-%d", seed)))
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range records {
					if r.Counted {
						xs = append(xs, r.ValAccuracy)
					}
				}
			}
		} else {
			xs = finals(c.method)
		}
		m, s := meanStd(xs)
		row = append(row, fmt.Sprintf("%.2f ± %.2f (n=%d) · paper %s", m, s, len(xs), c.paper))
	}
	if want := "| " + strings.Join(row, " | ") + " |\n"; !strings.Contains(md, want) {
		t.Errorf("the table lacks the AddNIST row\n%s", want)
	}
	// MultNIST: one finished seed, and methods with none.
	for _, want := range []string{
		"| MultNIST | ", " (n=1) · paper 91.36 | ", " (n=24) · paper 18.87 | ", " (n=2) · paper 66.09 | ", "| – · paper 96.37 | – · paper 92.25 |",
		"![AddNIST: best validation accuracy during the search, and random samples](img/reproduction-addnist.png)",
		"[img/reproduction-multnist.html](img/reproduction-multnist.html)",
		"| RE(Mix) | – | none | not run |",
		"| RE(RN18) | re seeded with resnet18 · P 4, S 2 · 12 evaluations of 1 epoch (batch 256, lr 0.04, at most 60 s) · data 500/100/100 · final 2 epochs | 0 | 0 of 2 seeds finished; seed 0: search done; final training not run yet; seed 1: not started |",
		"/multnist/re-scratch/seed-1`: search at ",
		"- **AddNIST**: validation 90.00%, test 89.00%, 8 of 8 epochs, batch 256, learning rate 0.04, 11,200,000 parameters, 1.33 h (finished).",
		"(finished). Validation accuracy after each epoch: ",
		"The paper's RN18 is 93.36%, 4.36 points above, after its final protocol: 64 epochs on train+val",
		"- **MultNIST**: validation 65.00% after epoch 3, 3 of 8 epochs, batch 256, learning rate 0.04, 0.50 h (training: 3 of 8 epochs done).",
		"The ResNet-18 baselines (8 epochs on the full data) took 1.83 h more, as far as they have run.",
		"### (i) Seeded regularised evolution improves on its seed",
		"- *MultNIST, RE(Mix) vs random search: final test accuracy, paired by seed.* Not yet measured on MultNIST: no seed has a finished run of both (RE(Mix): not run; random search: 2 of 2 seeds finished).",
		"- *AddNIST, random samples vs the ResNet-18 seed: validation accuracy under the search protocol.* Supported on AddNIST: the 36 random samples (from 3 random-search runs)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	// Every run's row says where its best architecture came from.
	seedTexts := map[string]string{}
	for _, name := range grammar.SeedNames() {
		a, err := grammar.SeedArch(name, grammar.ImShape(3, 28, 28))
		if err != nil {
			t.Fatal(err)
		}
		seedTexts[a.String()] = grammar.SeedTitle(name)
	}
	st, err := study.Read(results)
	if err != nil {
		t.Fatal(err)
	}
	origins := map[string]int{}
	for _, m := range st.Dataset("addnist").Methods {
		for _, r := range m.Runs {
			from := map[search.OriginKind]string{search.RandomSample: "a random sample", search.Mutation: "a mutation", search.Crossover: "a crossover"}[r.Best.Origin.Kind]
			if title, ok := seedTexts[r.Best.Arch]; ok && m.Method != study.REScratch && m.Method != study.RandomSearch {
				from = "the seed " + title
			}
			origins[from]++
			if want := fmt.Sprintf("| AddNIST | %s | %d | finished | %d/%d | %d | %s | %s | ", m.Method.Title(), r.Seed, r.Counted, r.Config.Budget,
				r.Failed, study.Acc(r.Best.ValAccuracy), from); !strings.Contains(md, want) {
				t.Errorf("the runs table lacks %q", want)
			}
		}
	}
	if origins["the seed ResNet-18"] == 0 || origins["a mutation"] == 0 || origins["a random sample"] == 0 {
		t.Errorf("the fixture's bests should come from seeds, mutations and random samples: %v", origins)
	}
	// Claims on AddNIST carry their evidence.
	if n := strings.Count(md, "in 3 seeds") + strings.Count(md, " of 3 seeds"); n < 5 {
		t.Errorf("AddNIST's five comparisons should each count wins over 3 seeds; found %d", n)
	}
	// Compute: re-mix on AddNIST, from its logs (copies and cached seed trainings left out).
	secs := 0.0
	for seed := range 3 {
		records, _, _ := search.ReadRecords(filepath.Join(results, "addnist", "re-mix", fmt.Sprintf("seed-%d", seed)))
		for _, r := range records {
			if !r.IsCopy() && !r.Cached {
				secs += r.Seconds
			}
		}
	}
	mix := st.Dataset("addnist").Method(study.REMix)
	if want := fmt.Sprintf("| AddNIST | RE(Mix) | 3 | %.2f | %.2f | %.2f | 3 |", secs/3600, mix.FinalSeconds()/3600, (secs+mix.FinalSeconds())/3600); !strings.Contains(md, want) {
		t.Errorf("compute row: want %q", want)
	}
	// The chart pages draw offline: the bundle inlined, both charts, the reference lines.
	for _, ds := range []string{"addnist", "multnist"} {
		page, err := os.ReadFile(filepath.Join(dir, "docs", "img", "reproduction-"+ds+".html"))
		if err != nil {
			t.Fatal(err)
		}
		p := string(page)
		if !strings.Contains(p, viz.EChartsBundleMarker) || strings.Count(p, "echarts.init(") != 2 || !strings.Contains(p, "best validation accuracy during the search") {
			t.Errorf("%s: the chart page lacks the bundle or its two charts", ds)
		}
	}
	if page, _ := os.ReadFile(filepath.Join(dir, "docs", "img", "reproduction-addnist.html")); !strings.Contains(string(page), "chance 5.00%") ||
		!strings.Contains(string(page), "ResNet-18 seed ") || !strings.Contains(string(page), "RE(Mix) (3 seeds)") {
		t.Error("the AddNIST chart page lacks its reference lines or a method")
	}
}

// emptyResults makes an empty results folder in a temporary directory, returning both; a test that needs
// it writes chart pages, so it is skipped without the ECharts bundle.
func emptyResults(t *testing.T) (dir, results string) {
	t.Helper()
	if _, err := viz.EChartsJS(); err != nil {
		t.Skipf("the chart pages need the ECharts bundle: %v", err)
	}
	dir = t.TempDir()
	results = filepath.Join(dir, "results")
	if err := os.MkdirAll(results, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, results
}

func TestReproductionWithoutProtocol(t *testing.T) {
	dir, results := emptyResults(t)
	out := filepath.Join(dir, "REPORT.md")
	readme := filepath.Join(dir, "README.md")
	before, after := "# A project\n\nIntro.\n\n", "\n## Next section\n"
	if err := os.WriteFile(readme, []byte(before+readmeBegin+"\nan old table\n"+readmeEnd+after), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, status := runCLI(t, "", "reproduction", "--results", results, "--out", out, "--figures", filepath.Join(dir, "figs"), "--readme", readme)
	if status != 0 {
		t.Fatalf("status %d: %s", status, stderr)
	}
	// The README keeps everything around the markers, and the table between them is the report's.
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if !strings.HasPrefix(text, before+readmeBegin+"\n") || !strings.HasSuffix(text, readmeEnd+after) ||
		strings.Contains(text, "an old table") || !strings.Contains(text, "| AddNIST | – · paper 93.36 | – · paper 10.13 |") ||
		!strings.Contains(text, "on the full data scores, on test: AddNIST not run yet, MultNIST not run yet; the paper's RN18, trained 64 epochs on train+val: 93.36% and 91.36%.") ||
		!strings.Contains(text, "]("+filepath.ToSlash(out)+")") {
		t.Errorf("README after --readme:\n%s", text)
	}
	// A file without the markers is refused, and left as it was.
	if err := os.WriteFile(readme, []byte("no markers\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, status = runCLI(t, "", "reproduction", "--results", results, "--out", out, "--figures", filepath.Join(dir, "figs"), "--readme", readme)
	if b, _ := os.ReadFile(readme); status != 2 || !strings.Contains(stderr, "has no") || string(b) != "no markers\n" {
		t.Errorf("README without markers: status %d, stderr %q, file %q", status, stderr, b)
	}
	b, err = os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	for _, want := range []string{"`" + results + "/PROTOCOL.md` is missing.", "](figs/reproduction-addnist.png)",
		"| AddNIST | – · paper 93.36 | – · paper 10.13 |", "- **MultNIST**: not run yet.",
		"The ResNet-18 baselines (8 epochs on the full data) have not run yet.",
		"Not yet measured on AddNIST: no seed has a finished run of both (RE(RN18): not run; RN18: not run)."} {
		if !strings.Contains(md, want) {
			t.Errorf("the report of an empty folder lacks %q:\n%s", want, md)
		}
	}
}

// Bad input: exit status 2 and a message naming the folder, or the file and line.
func TestReproductionErrors(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "addnist", "random", "seed-0")
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(studytest.Config("random", "addnist", 0))
	if err := os.WriteFile(filepath.Join(run, search.ConfigFile), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(run, search.EvaluationsFile), []byte("{\"index\":0}\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--results", filepath.Join(dir, "nowhere")}, "results folder " + filepath.Join(dir, "nowhere") + " does not exist"},
		{[]string{"--results", dir}, filepath.Join(run, search.EvaluationsFile) + ":2: malformed evaluation record"},
		{[]string{"extra"}, "reproduction takes no arguments"},
		{[]string{"--bogus"}, "flag provided but not defined: -bogus"},
	} {
		_, stderr, status := runCLI(t, "", append([]string{"reproduction", "--out", filepath.Join(dir, "out.md")}, c.args...)...)
		if status != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: status %d, stderr %q; want 2 and %q", c.args, status, stderr, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out.md")); err == nil {
		t.Error("a failed command wrote its report")
	}
}

// The baseline's train.json is a models.RunRecord: the study reads the one `einspace train --save` writes.
func TestBaselineRecordFormat(t *testing.T) {
	dir := t.TempDir()
	rec := models.RunRecord{Arch: "resnet18", Epochs: 8, BatchSize: 256, LR: 0.04, Completed: []models.EpochMetrics{
		{Epoch: 1, ValAccuracy: 0.25, Duration: 90 * time.Second}, {Epoch: 2, ValAccuracy: 0.375, Duration: 30 * time.Second}}}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(dir, "baseline", "multnist")
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "train.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := study.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	bl := s.Dataset("multnist").Baseline
	if r := bl.Record; r == nil || r.Epochs != 8 || r.BatchSize != 256 || len(r.Completed) != 2 || r.Completed[1].ValAccuracy != 0.375 ||
		bl.Seconds() != 120 || bl.Status() != "training: 2 of 8 epochs done" {
		t.Errorf("baseline read as %+v, %v s, %q", bl.Record, bl.Seconds(), bl.Status())
	}
}

// A plan (results/PLAN) puts the runs still to come in the report; a bad line in it stops the report with
// the file and line.
func TestReproductionPlan(t *testing.T) {
	dir, results := emptyResults(t)
	plan := filepath.Join(results, study.PlanFile)
	if err := os.WriteFile(plan, []byte("# two searches\naddnist/re-rn18/seed-0\naddnist/re-rn18/seed-1\nbaseline/addnist\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "REPORT.md")
	args := []string{"reproduction", "--results", results, "--out", out, "--figures", filepath.Join(dir, "figs")}
	if _, stderr, status := runCLI(t, "", args...); status != 0 {
		t.Fatalf("status %d: %s", status, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| AddNIST | RE(RN18) | 0 | planned, not started | – |", "| AddNIST | RE(RN18) | 1 | planned, not started | – |",
		"The plan, `" + results + "/PLAN`, lists every search and baseline: 2 searches have not started yet, and 1 baseline has not finished.",
		"(RE(RN18): 0 of 2 seeds finished; seed 0: not started; seed 1: not started; RN18: not run)",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if err := os.WriteFile(plan, []byte("addnist/re-rn18/seed-0\naddnist/rerun/seed-1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(out)
	_, stderr, status := runCLI(t, "", args...)
	if after, _ := os.ReadFile(out); status != 2 || !strings.Contains(stderr, plan+`:2: "addnist/rerun/seed-1": no method "rerun"`) || string(after) != string(before) {
		t.Errorf("bad plan: status %d, stderr %q; report kept: %v", status, stderr, string(after) == string(before))
	}
}
