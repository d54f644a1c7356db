package viz

import (
	"fmt"
	"math"
	"slices"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/einspace-go/einspace/grammar"
)

// Bin is one bar of a histogram: the values v with Low <= v < High (the last bin includes its High).
type Bin struct {
	Low, High float64
	Count     int
}

// IntegerBins puts every whole number from the smallest value to the largest in its own bin.
func IntegerBins(values []float64) []Bin {
	if len(values) == 0 {
		return nil
	}
	lo, hi := math.Floor(slices.Min(values)), math.Floor(slices.Max(values))
	bins := make([]Bin, int(hi-lo)+1)
	for i := range bins {
		bins[i] = Bin{Low: lo + float64(i), High: lo + float64(i) + 1}
	}
	for _, v := range values {
		bins[int(math.Floor(v)-lo)].Count++
	}
	return bins
}

// LogBins bins positive values on a log scale, perDecade bins for every factor of ten, from the decade
// of the smallest value to that of the largest. Values <= 0 go to a first bin [0, 1).
func LogBins(values []float64, perDecade int) []Bin {
	if len(values) == 0 {
		return nil
	}
	perDecade = max(perDecade, 1)
	lo, hi, zeros := math.Inf(1), math.Inf(-1), 0
	for _, v := range values {
		if v <= 0 {
			zeros++
			continue
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	var bins []Bin
	if zeros > 0 {
		bins = append(bins, Bin{Low: 0, High: 1, Count: zeros})
	}
	if math.IsInf(lo, 1) {
		return bins
	}
	start := math.Floor(math.Log10(lo) * float64(perDecade))
	end := math.Floor(math.Log10(hi) * float64(perDecade))
	first := len(bins)
	for k := start; k <= end; k++ {
		bins = append(bins, Bin{Low: math.Pow(10, k/float64(perDecade)), High: math.Pow(10, (k+1)/float64(perDecade))})
	}
	for _, v := range values {
		if v > 0 {
			i := int(math.Floor(math.Log10(v)*float64(perDecade)) - start)
			bins[first+min(max(i, 0), len(bins)-first-1)].Count++
		}
	}
	return bins
}

// Histogram draws bins as bars, labelled with their ranges.
func Histogram(title, xName string, bins []Bin, integer bool) *Chart {
	labels := make([]string, len(bins))
	counts := make([]int, len(bins))
	total := 0
	for i, b := range bins {
		counts[i] = b.Count
		total += b.Count
		switch {
		case integer:
			labels[i] = fmt.Sprint(b.Low)
		default:
			labels[i] = fmt.Sprintf("%s–%s", Count(int64(math.Round(b.Low))), Count(int64(math.Round(b.High))))
		}
	}
	b := charts.NewBar()
	b.SetXAxis(labels)
	b.SetGlobalOptions(initOpts(title, fmt.Sprintf("%d samples", total), 640, 360)...)
	b.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Top: "80", Left: "60", Right: "30", Bottom: "70"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: xName, NameLocation: "middle", NameGap: 45,
			AxisLabel: &opts.AxisLabel{Rotate: 30, FontSize: 10}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "samples"}),
	)
	b.MultiSeries = append(b.MultiSeries, charts.SingleSeries{Name: "samples", Type: "bar", Data: counts,
		Color: "#5470c6", BarCategoryGap: "10%"})
	return chartOf(title, &b.BaseConfiguration, b)
}

// StudyHistograms draws a grammar study's nodes, depth and parameters per sample. Nodes and parameters are
// heavy-tailed (most samples are small, a few are huge), so they get log-scale bins (4 per decade);
// depth gets one bin per level.
func StudyHistograms(s *grammar.SampleStudy) []*Chart {
	at := fmt.Sprintf(" (p = %.2f, input %v)", s.PComputation, s.Input)
	return []*Chart{
		Histogram("nodes per sample"+at, "nodes (log bins)", LogBins(s.Nodes, 4), false),
		Histogram("depth per sample"+at, "module depth", IntegerBins(s.Depth), true),
		Histogram("parameters per sample"+at, "parameters (log bins)", LogBins(s.Params, 4), false),
	}
}

// BranchingRateChart draws r(p) over p in [0, 1] with r = 1, the critical point p = 4/13 and the given
// marks (the paper's p = 0.32 when none are given).
func BranchingRateChart(marks ...float64) *Chart {
	if len(marks) == 0 {
		marks = []float64{0.32}
	}
	var data [][2]float64
	for i := 0; i <= 100; i++ {
		p := float64(i) / 100
		data = append(data, [2]float64{p, round(grammar.BranchingRate(p), 6)})
	}
	lines := []any{
		map[string]any{"xAxis": round(grammar.CriticalP, 6), "name": fmt.Sprintf("critical p = 4/13 ≈ %.3f", grammar.CriticalP),
			"lineStyle": map[string]any{"color": "#c23531", "type": "solid"}, "label": map[string]any{"formatter": "{b}"}},
		map[string]any{"yAxis": 1, "name": "r = 1", "lineStyle": map[string]any{"color": "#999"}, "label": map[string]any{"formatter": "{b}"}},
	}
	for _, p := range marks {
		lines = append(lines, map[string]any{"xAxis": p, "name": fmt.Sprintf("p = %.2f: r = %.3f", p, grammar.BranchingRate(p)),
			"lineStyle": map[string]any{"color": "#3ba272"}, "label": map[string]any{"formatter": "{b}", "position": "insideStartTop"}})
	}
	title := "branching rate r(p) = (13/9)(1 − p)"
	l := charts.NewLine()
	l.SetGlobalOptions(initOpts(title, "expected child modules per module; r > 1 (left of 4/13) grows without bound", 720, 400)...)
	l.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Top: "80", Left: "60", Right: "40", Bottom: "50"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "value", Name: "p(computation)", Min: 0, Max: 1}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "r(p)", Min: 0}),
	)
	l.MultiSeries = append(l.MultiSeries, charts.SingleSeries{Name: "r(p)", Type: "line", Data: data,
		ShowSymbol: opts.Bool(false), Color: "#5470c6",
		MarkLines: &opts.MarkLines{Data: lines, MarkLineStyle: opts.MarkLineStyle{Symbol: []string{"none", "none"}}}})
	return chartOf(title, &l.BaseConfiguration, l)
}

func round(v float64, digits int) float64 {
	s := math.Pow(10, float64(digits))
	return math.Round(v*s) / s
}
