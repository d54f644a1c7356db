package viz_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/search"
	"github.com/einspace-go/einspace/viz"
)

// fakeHistory is a small, deterministic search history with every kind of record: a seed's training and
// its population copies, random samples, mutations of both lineages and a failure.
func fakeHistory(t testing.TB) []search.Record {
	t.Helper()
	g := grammar.Default()
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	var recs []search.Record
	archs := map[int]*grammar.Arch{}
	add := func(origin string, a *grammar.Arch, parent int, counted bool, acc float64, failure string) {
		i := len(recs)
		o, err := search.ParseOrigin(origin)
		if err != nil {
			t.Fatal(err)
		}
		r := search.Record{Index: i, JobID: "run-" + string(rune('a'+i)), Origin: o, ParentIndex: parent, Counted: counted,
			Start: t0.Add(time.Duration(i) * 30 * time.Second), End: t0.Add(time.Duration(i)*30*time.Second + 25*time.Second), Seconds: 25}
		if a != nil {
			s := a.Stats()
			r.Arch, r.Hash, r.Params, r.FLOPs = a.String(), a.Hash(), s.Params, s.FLOPs
			archs[i] = a
		}
		if parent >= 0 {
			r.ParentHash = recs[parent].Hash
		}
		r.ValAccuracy, r.Failure = acc, failure
		if failure != "" {
			r.ValAccuracy, r.Counted = 0, false
		}
		recs = append(recs, r)
	}
	mutate := func(parent int, seed uint64) *grammar.Arch {
		c, err := g.Mutate(rand.New(rand.NewPCG(seed, 7)), archs[parent])
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	rn := seed(t, grammar.ResNet18)
	add("seed:resnet18", rn, -1, false, 71.5, "")                    // 0
	add("copy:resnet18", rn, 0, true, 71.5, "")                      // 1
	add("random", sample(t, 11), -1, true, 42.25, "")                // 2
	add("random", sample(t, 12), -1, true, 55, "")                   // 3
	add("mutation", mutate(1, 1), 1, true, 74, "")                   // 4
	add("mutation", mutate(3, 2), 3, true, 0, "nan loss\ntraceback") // 5
	add("mutation", mutate(3, 3), 3, true, 61.75, "")                // 6
	add("mutation", mutate(6, 4), 6, true, 77.5, "")                 // 7
	add("mutation", mutate(4, 5), 4, true, 73, "")                   // 8
	add("mutation", mutate(2, 6), 2, true, 12.5, "")                 // 9
	return recs
}

func TestSearchGoldenOptions(t *testing.T) {
	recs := fakeHistory(t)
	for _, c := range []struct {
		name  string
		chart *viz.Chart
	}{
		{"search_progress.json", viz.SearchProgress(recs)},
		{"search_progress_time.json", viz.SearchProgressByTime(recs)},
		{"search_population.json", viz.Population(recs)},
		{"search_ops.json", viz.OpFrequency(recs, 3)},
		{"search_op_groups.json", viz.OpGroupFrequency(recs, 3)},
	} {
		t.Run(c.name, func(t *testing.T) {
			golden(t, c.name, c.chart.Option()+"\n")
		})
	}
}

func TestLineageAndFront(t *testing.T) {
	recs := fakeHistory(t)
	want := []string{"resnet18", "resnet18", "scratch", "scratch", "resnet18", "scratch", "scratch", "scratch", "resnet18", "scratch"}
	for i := range recs {
		if got := viz.Lineage(recs, i); got != want[i] {
			t.Errorf("lineage of record %d (%s) = %q, want %q", i, recs[i].Origin, got, want[i])
		}
	}
	front := viz.ParetoFront(recs)
	for k := 1; k < len(front); k++ {
		a, b := recs[front[k-1]], recs[front[k]]
		if !(b.Params > a.Params && b.ValAccuracy > a.ValAccuracy) {
			t.Errorf("front not increasing in both: record %d (%d, %.2f) then %d (%d, %.2f)", a.Index, a.Params, a.ValAccuracy, b.Index, b.Params, b.ValAccuracy)
		}
	}
	for _, i := range front {
		for _, r := range recs {
			if !r.Failed() && r.Params <= recs[i].Params && r.ValAccuracy > recs[i].ValAccuracy {
				t.Errorf("record %d on the front is dominated by record %d", i, r.Index)
			}
		}
	}
	best, ok := viz.BestSoFar(recs)
	if ok[0] || !ok[1] || best[1] != 71.5 || best[9] != 77.5 {
		t.Errorf("best so far = %v %v", best, ok)
	}
	opt := viz.SearchProgress(recs).Option()
	if !strings.Contains(opt, "nan loss") || strings.Contains(opt, "traceback") {
		t.Error("the failure's tooltip should give the first line of its reason")
	}
}

func TestOpFrequencies(t *testing.T) {
	recs := fakeHistory(t)
	counts, nTop, nAll := viz.OpFrequencies(recs, 3, false)
	if nTop != 3 || nAll != 9 {
		t.Errorf("top %d, all %d; want 3 and 9 (copies are not evaluated again)", nTop, nAll)
	}
	sumTop, sumAll := 0.0, 0.0
	for _, c := range counts {
		sumTop += c.TopShare
		sumAll += c.AllShare
	}
	if sumTop < 99.9 || sumTop > 100.1 || sumAll < 99.9 || sumAll > 100.1 {
		t.Errorf("shares sum to %.2f and %.2f, want 100", sumTop, sumAll)
	}
	groups, _, _ := viz.OpFrequencies(recs, 3, true)
	if len(groups) >= len(counts) {
		t.Errorf("%d groups for %d terminals", len(groups), len(counts))
	}
}

// hashAccuracy is a deterministic stand-in for training: an accuracy from the architecture's text, and a
// failure for about one architecture in seven (never the seed, whose failure would stop the search).
func hashAccuracy(seedText string) search.EvaluatorFunc {
	return func(ctx context.Context, job search.Job) (search.Result, error) {
		h := sha256.Sum256([]byte(job.Arch))
		v := binary.BigEndian.Uint64(h[:8])
		acc := 40 + float64(v%5000)/100
		if job.Arch != seedText && v%7 == 3 {
			return search.Result{Failure: "fake failure: out of memory\nstack"}, nil
		}
		res := search.Result{ValAccuracy: acc, TrainLoss: 1 / acc, WallSeconds: 0.01,
			Epochs: []search.Epoch{{Epoch: 1, TrainLoss: 1 / acc, ValAccuracy: acc}}}
		if job.Final {
			res.TestAccuracy = acc - 1.5
		}
		return res, nil
	}
}

// stubECharts points the package at a stand-in bundle: a report needs one to be written, not the real one.
func stubECharts(t *testing.T) {
	t.Helper()
	bundle := filepath.Join(t.TempDir(), "echarts.min.js")
	if err := os.WriteFile(bundle, []byte("/* echarts stand-in */"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(viz.EChartsEnv, bundle)
}

func TestSearchReport(t *testing.T) {
	stubECharts(t)
	dir := t.TempDir()
	cfg := search.DefaultConfig()
	cfg.Seeds, cfg.Population, cfg.Tournament, cfg.Budget = search.SeedsRN18, 4, 2, 16
	cfg.Seed, cfg.Train, cfg.FinalEpochs, cfg.Data = 5, search.Budget{Epochs: 1}, 1, search.DataSpec{Name: "fake"}
	input, _ := cfg.InputShape()
	rn, err := grammar.SeedArch(grammar.ResNet18, input)
	if err != nil {
		t.Fatal(err)
	}
	ev := hashAccuracy(rn.String())
	start := time.Now()
	h, err := search.Run(t.Context(), dir, cfg, ev, search.Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	best, ok := h.Best()
	if !ok {
		t.Fatal("no best")
	}
	searchTime := time.Since(start)

	start = time.Now()
	page, err := viz.SearchReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("search of %d records %v; report %v, %d KB", len(h.Records), searchTime, time.Since(start), len(page)>>10)
	text := string(page)
	for _, want := range []string{"echarts stand-in", "search progress", "search progress over time", "population: accuracy vs parameters",
		"terminal frequency: top 10 vs all", "#1 record", "derivation tree", "dataflow graph", "not run yet", "best-3",
		"strategy</th><td>re seeded with resnet18"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if !strings.Contains(text, strings.ReplaceAll(best.Arch[:60], "<", "&lt;")) {
		t.Error("the report does not show the best architecture's text")
	}
	if n := strings.Count(text, "echarts.init"); n != 5+2*3 {
		t.Errorf("%d charts, want 11", n)
	}

	if _, err := search.Final(t.Context(), dir, ev); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "report.html")
	if err := viz.WriteSearchReport(dir, out); err != nil {
		t.Fatal(err)
	}
	page, err = os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "final test accuracy</th><td>"; !strings.Contains(string(page), want) || strings.Contains(string(page), "not run yet") {
		t.Error("the report does not give the final test accuracy")
	}
}

func TestSearchReportMissingRun(t *testing.T) {
	stubECharts(t)
	if _, err := viz.SearchReport(t.TempDir()); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("SearchReport of an empty directory = %v, want an error about config.json", err)
	}
}

func TestOriginKindNamesEverySeries(t *testing.T) {
	for origin, want := range map[search.Origin]string{
		search.OriginRandom: "random", search.OriginMutation: "mutation", search.OriginCrossover: "crossover",
		search.SeedOrigin("vit"): "seed training", search.CopyOrigin("vit"): "seed copy", {}: "other",
	} {
		if got := viz.OriginKind(origin); got != want {
			t.Errorf("OriginKind(%q) = %q, want %q", origin, got, want)
		}
	}
}
