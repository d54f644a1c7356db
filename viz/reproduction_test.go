package viz_test

import (
	"encoding/json"
	"math"
	"slices"
	"testing"

	"github.com/einspace-go/einspace/search"
	"github.com/einspace-go/einspace/search/study"
	"github.com/einspace-go/einspace/viz"
)

// reproductionDataset is a study's dataset built by hand: two random searches, one RE(RN18) run with its
// ResNet-18 seed training, and five random samples.
func reproductionDataset() *study.Dataset {
	run := func(seed int, curve ...float64) *study.Run {
		r := &study.Run{Seed: seed, Started: true, Curve: curve, Counted: len(curve), SeedTrainings: map[string]study.SeedTraining{},
			Config: search.Config{Budget: 3}}
		r.Best, r.HasBest = search.Record{Result: search.Result{ValAccuracy: curve[len(curve)-1]}}, true
		return r
	}
	rn := run(0, 60, 60, 61)
	rn.SeedTrainings["resnet18"] = study.SeedTraining{ValAccuracy: 60, TrainSeed: 7}
	d := &study.Dataset{Name: "addnist", Classes: 20, Seeds: []int{0, 1},
		Methods: []*study.MethodRuns{
			{Method: study.RandomSearch, Runs: []*study.Run{run(0, 10, 20, 20), run(1, 15, 15, 30)}},
			{Method: study.RERN18, Runs: []*study.Run{rn}},
		},
		Sampling:     study.NewDistribution([]float64{10, 20, 15, 15, 30}, 10),
		SamplingRuns: 2,
	}
	return d
}

type seriesOption struct {
	Name      string          `json:"name"`
	Stack     string          `json:"stack"`
	Data      json.RawMessage `json:"data"`
	AreaStyle *struct{}       `json:"areaStyle"`
}

func chartSeries(t *testing.T, c *viz.Chart) (series []seriesOption, subtitle string) {
	t.Helper()
	var opt struct {
		Series []seriesOption
		Title  struct{ Subtext string }
	}
	if err := json.Unmarshal([]byte(c.Option()), &opt); err != nil {
		t.Fatalf("%v\n%s", err, c.Option())
	}
	return opt.Series, opt.Title.Subtext
}

// values reads a series' data: plain numbers, or objects with a value.
func values(t *testing.T, raw json.RawMessage) []float64 {
	t.Helper()
	var plain []float64
	if json.Unmarshal(raw, &plain) == nil {
		return plain
	}
	var items []struct{ Value json.RawMessage }
	if err := json.Unmarshal(raw, &items); err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, it := range items {
		var v float64
		if json.Unmarshal(it.Value, &v) == nil {
			out = append(out, v)
			continue
		}
		var pair []any
		if err := json.Unmarshal(it.Value, &pair); err != nil {
			t.Fatal(err)
		}
		out = append(out, pair[1].(float64))
	}
	return out
}

// The progress chart: per method a mean line and a band stacked from the minimum by the range, and the
// reference lines.
func TestReproductionProgress(t *testing.T) {
	series, _ := chartSeries(t, viz.ReproductionProgress(reproductionDataset()))
	var names []string
	for _, s := range series {
		names = append(names, s.Name)
	}
	want := []string{"random search (2 seeds)", "random search (2 seeds)", "random search (2 seeds)", "RE(RN18) (1 seed)",
		"RE(RN18) (1 seed)", "RE(RN18) (1 seed)", "chance 5.00%", "ResNet-18 seed 60.00%"}
	if !slices.Equal(names, want) {
		t.Fatalf("series %q\nwant %q", names, want)
	}
	mean, low, width := values(t, series[0].Data), values(t, series[1].Data), values(t, series[2].Data)
	if !slices.Equal(mean, []float64{12.5, 17.5, 25}) || !slices.Equal(low, []float64{10, 15, 20}) || !slices.Equal(width, []float64{5, 5, 10}) {
		t.Errorf("random search: mean %v, low %v, range %v; want 12.5 17.5 25, 10 15 20, 5 5 10", mean, low, width)
	}
	if series[1].Stack == "" || series[1].Stack != series[2].Stack || series[0].Stack != "" || series[2].AreaStyle == nil {
		t.Errorf("the band must be the range stacked on the minimum: stacks %q %q %q", series[0].Stack, series[1].Stack, series[2].Stack)
	}
	if v := values(t, series[6].Data); !slices.Equal(v, []float64{5, 5}) {
		t.Errorf("chance line at %v", v)
	}
}

func TestRandomSamplingChart(t *testing.T) {
	d := reproductionDataset()
	series, sub := chartSeries(t, viz.RandomSampling(d))
	want := "5 samples from 2 random-search runs · median 15.00% · quartiles 15.00% and 20.00% · 80.00% above 2× chance"
	if sub != want {
		t.Errorf("subtitle %q\nwant %q", sub, want)
	}
	var names []string
	for _, s := range series {
		names = append(names, s.Name)
	}
	if !slices.Equal(names, []string{"5 samples", "mean 18.00%", "random search's best 25.00% (mean of 2)", "chance 5.00%", "2× chance 10.00%"}) {
		t.Errorf("series %q", names)
	}
	// The histogram's outline: one step per bin (width 1 for values 10 to 30), closed at both ends; its
	// counts are the samples.
	outline := values(t, series[0].Data)
	total := 0.0
	for _, v := range outline[1 : len(outline)-2] {
		total += v
	}
	if total != 5 || outline[0] != 0 || outline[len(outline)-1] != 0 {
		t.Errorf("outline %v: counts sum to %v, want 5 and closed at 0", outline, total)
	}
}

func TestSamplingBins(t *testing.T) {
	bins := viz.SamplingBins([]float64{5.1, 7.4, 12, 29.9})
	if len(bins) != 25 || bins[0].Low != 5 || bins[24].High != 30 {
		t.Fatalf("%d bins from %v to %v, want 25 of width 1 from 5 to 30", len(bins), bins[0].Low, bins[len(bins)-1].High)
	}
	for i, want := range map[int]int{0: 1, 2: 1, 7: 1, 24: 1, 1: 0} {
		if bins[i].Count != want {
			t.Errorf("bin %d [%v, %v): %d, want %d", i, bins[i].Low, bins[i].High, bins[i].Count, want)
		}
	}
	wide := viz.SamplingBins([]float64{0, 99.9})
	if w := wide[0].High - wide[0].Low; w != 5 || len(wide) != 20 {
		t.Errorf("0 to 99.9: %d bins of width %v, want 20 of 5", len(wide), w)
	}
	if viz.SamplingBins(nil) != nil {
		t.Error("no values, no bins")
	}
}

// A dataset with nothing run yet still draws (axes and a subtitle that says so).
func TestReproductionChartsEmpty(t *testing.T) {
	d := &study.Dataset{Name: "multnist", Classes: 10, Sampling: study.NewDistribution(nil, 20)}
	for _, c := range viz.ReproductionCharts(d) {
		series, sub := chartSeries(t, c)
		if len(series) > 2 || (sub != "no search has recorded an evaluation yet" && sub != "no random-search run has recorded a sample yet") {
			t.Errorf("%s: %d series, subtitle %q", c.Title, len(series), sub)
		}
	}
	if math.IsNaN(d.Chance()) {
		t.Error("chance")
	}
}
