package viz

import (
	"fmt"
	"math"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/einspace-go/einspace/search/study"
)

// The charts of a reproduction of Table 1 (package search/study): per dataset, how the best validation
// accuracy grows with the evaluations of each search method, over seeds, and what a random architecture
// scores. Both are as wide as the other search charts (900 px), which fits a notebook's output area.

// methodColours colour the search methods alike in every chart of a reproduction.
var methodColours = map[study.Method]string{
	study.RandomSearch: "#5470c6",
	study.REScratch:    "#3ba272",
	study.RERN18:       "#ee6666",
	study.REMix:        "#9a60b4",
	study.RN18:         "#333333",
}

// Colours of the reference lines.
const (
	colourChance = "#999999"
	colourSeed   = "#333333"
	colourMean   = "#fc8452"
	// colourSamples fills the histogram of random samples: a grey, so that random search's line (blue)
	// stands out on it.
	colourSamples = "#9aa5b8"
)

// progressMethods are the methods drawn as curves: the searches (the rn18 run has one evaluation, drawn as
// the ResNet-18 reference line instead).
var progressMethods = []study.Method{study.RandomSearch, study.REScratch, study.RERN18, study.REMix}

// ReproductionCharts are a dataset's two charts: ReproductionProgress and RandomSampling.
func ReproductionCharts(d *study.Dataset) []*Chart {
	return []*Chart{ReproductionProgress(d), RandomSampling(d)}
}

// ReproductionProgress draws, for one dataset, the best validation accuracy so far against the counted
// evaluations of each search method: the mean over its seeds as a line and their range (min to max) as a
// band. A seed contributes as far as its run has gone, so past the end of an unfinished run the line is
// the mean of fewer seeds (the tooltips say how many). The chance level and the ResNet-18 seed's accuracy
// under the same protocol (from the seed trainings in the runs) are drawn as reference lines when known.
func ReproductionProgress(d *study.Dataset) *Chart {
	title := d.Title() + ": best validation accuracy during the search"
	l := charts.NewLine()
	longest, drawn, ragged := 0, 0, false
	for _, m := range progressMethods {
		longest = max(longest, len(d.Method(m).Progress()))
		for _, r := range d.Method(m).Runs {
			ragged = ragged || len(r.Curve) != len(d.Method(m).Runs[0].Curve)
		}
	}
	// The x axis is a category axis of evaluations: ECharts stacks series (the band is a range stacked on
	// its minimum) along a category axis only.
	labels := make([]string, max(longest, 1))
	for i := range labels {
		labels[i] = fmt.Sprint(i + 1)
	}
	for _, m := range progressMethods {
		mr := d.Method(m)
		points := mr.Progress()
		if len(points) == 0 {
			continue
		}
		drawn++
		name := fmt.Sprintf("%s (%s)", m.Title(), plural(len(mr.Runs), "seed", "seeds"))
		colour := methodColours[m]
		mean := make([]valuePoint, len(points))
		low := make([]float64, len(points))
		width := make([]float64, len(points))
		for i, p := range points {
			tip := fmt.Sprintf("<b>%s</b> after %d evaluations<br/>best so far: mean %.2f%% over %s", esc(m.Title()), p.Evaluation, p.Mean,
				plural(p.N, "seed", "seeds"))
			if p.N > 1 {
				tip += fmt.Sprintf("<br/>range %.2f%% to %.2f%%", p.Min, p.Max)
			}
			mean[i] = valuePoint{Value: round(p.Mean, 4), Tooltip: formatter{tip}}
			low[i], width[i] = round(p.Min, 4), round(p.Max-p.Min, 4)
		}
		stack := "range-" + string(m)
		invisible := &opts.LineStyle{Opacity: opts.Float(0)}
		l.MultiSeries = append(l.MultiSeries,
			charts.SingleSeries{Name: name, Type: "line", Data: mean, Step: "end", Color: colour, SymbolSize: 4,
				LineStyle: &opts.LineStyle{Width: 2}},
			charts.SingleSeries{Name: name, Type: "line", Data: low, Step: "end", Stack: stack, Color: colour,
				ShowSymbol: opts.Bool(false), LineStyle: invisible},
			charts.SingleSeries{Name: name, Type: "line", Data: width, Step: "end", Stack: stack, Color: colour,
				ShowSymbol: opts.Bool(false), LineStyle: invisible, AreaStyle: &opts.AreaStyle{Color: colour, Opacity: opts.Float(0.15)}},
		)
	}
	last := labels[len(labels)-1]
	if chance := d.Chance(); !math.IsNaN(chance) && drawn > 0 {
		l.MultiSeries = append(l.MultiSeries, level(fmt.Sprintf("chance %.2f%%", chance), chance, last, colourChance, "dashed",
			fmt.Sprintf("chance: 100/%d classes = %.2f%%", d.Classes, chance)))
	}
	if ref := d.ResNet18Seed(); ref.N > 0 && drawn > 0 {
		tip := fmt.Sprintf("ResNet-18 trained under the search protocol: %.2f%%", ref.Mean)
		if ref.N > 1 {
			tip += fmt.Sprintf(" (mean of %d trainings, %.2f%% to %.2f%%)", ref.N, ref.Min, ref.Max)
		}
		l.MultiSeries = append(l.MultiSeries, level(fmt.Sprintf("ResNet-18 seed %.2f%%", ref.Mean), ref.Mean, last, colourSeed, "dotted", tip))
	}
	sub := "mean over seeds (line) and their range (band), search protocol"
	if ragged {
		sub += " · past the end of an unfinished run, the mean of fewer seeds"
	}
	if drawn == 0 {
		sub = "no search has recorded an evaluation yet"
	}
	l.SetXAxis(labels)
	l.SetGlobalOptions(initOpts(title, sub, 900, 460)...)
	l.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "52", Left: "center"}),
		charts.WithGridOpts(opts.Grid{Top: "115", Left: "60", Right: "40", Bottom: "50"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: "counted evaluations", NameLocation: "middle", NameGap: 28}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "best val accuracy so far (%)", NameLocation: "middle", NameGap: 40, Min: 0}),
	)
	return chartOf(title, &l.BaseConfiguration, l)
}

// valuePoint is one value of a series on a category axis, with its own tooltip.
type valuePoint struct {
	Value   float64   `json:"value"`
	Tooltip formatter `json:"tooltip"`
}

// level is a horizontal reference line at y across a category axis from "1" to last.
func level(name string, y float64, last, colour, style, tip string) charts.SingleSeries {
	type point struct {
		Value   [2]any    `json:"value"`
		Tooltip formatter `json:"tooltip"`
	}
	pts := []point{{Value: [2]any{"1", round(y, 4)}, Tooltip: formatter{esc(tip)}},
		{Value: [2]any{last, round(y, 4)}, Tooltip: formatter{esc(tip)}}}
	return charts.SingleSeries{Name: name, Type: "line", Data: pts, Color: colour, SymbolSize: 1,
		LineStyle: &opts.LineStyle{Type: style, Width: 1.5}}
}

// mark is a vertical reference line at x from 0 to height.
func mark(name string, x, height float64, colour, style, tip string) charts.SingleSeries {
	pts := []searchPoint{{Value: [2]float64{round(x, 4), 0}, Tooltip: formatter{esc(tip)}},
		{Value: [2]float64{round(x, 4), height}, Tooltip: formatter{esc(tip)}}}
	return charts.SingleSeries{Name: name, Type: "line", Data: pts, Color: colour, SymbolSize: 1,
		LineStyle: &opts.LineStyle{Type: style, Width: 2}}
}

// SamplingBins bins accuracies (%) for a histogram: a width from 0.5, 1, 2, 2.5, 5, 10 and 20 points that
// gives at most 30 bins, edges on multiples of it.
func SamplingBins(values []float64) []Bin {
	if len(values) == 0 {
		return nil
	}
	lo, hi := values[0], values[0]
	for _, v := range values {
		lo, hi = min(lo, v), max(hi, v)
	}
	width := 20.0
	for _, w := range []float64{0.5, 1, 2, 2.5, 5, 10} {
		if (math.Floor(hi/w)-math.Floor(lo/w))+1 <= 30 {
			width = w
			break
		}
	}
	first := math.Floor(lo / width)
	n := int(math.Floor(hi/width)-first) + 1
	bins := make([]Bin, n)
	for i := range bins {
		bins[i] = Bin{Low: (first + float64(i)) * width, High: (first + float64(i) + 1) * width}
	}
	for _, v := range values {
		bins[min(int(math.Floor(v/width)-first), n-1)].Count++
	}
	return bins
}

// RandomSampling draws the validation accuracies of a dataset's random samples (every counted evaluation
// of its random-search runs, study.Dataset.Sampling) as a histogram, with their mean, the best of each
// random search (the mean over seeds of each run's best, the architecture it retrains), chance and twice
// chance marked.
func RandomSampling(d *study.Dataset) *Chart {
	s := d.Sampling
	title := d.Title() + ": random architectures under the search protocol"
	bins := SamplingBins(s.Values)
	var outline []searchPoint
	peak := 1.0
	for i, b := range bins {
		tip := fmt.Sprintf("%s to %s%%: %s", trimPct(b.Low), trimPct(b.High), plural(b.Count, "sample", "samples"))
		if i == 0 {
			outline = append(outline, searchPoint{Value: [2]float64{b.Low, 0}, Tooltip: formatter{tip}})
		}
		outline = append(outline, searchPoint{Value: [2]float64{b.Low, float64(b.Count)}, Tooltip: formatter{tip}})
		if i == len(bins)-1 {
			outline = append(outline, searchPoint{Value: [2]float64{b.High, float64(b.Count)}, Tooltip: formatter{tip}},
				searchPoint{Value: [2]float64{b.High, 0}, Tooltip: formatter{tip}})
		}
		peak = max(peak, float64(b.Count))
	}
	l := charts.NewLine()
	if len(outline) > 0 {
		l.MultiSeries = append(l.MultiSeries, charts.SingleSeries{Name: plural(s.N, "sample", "samples"), Type: "line",
			Data: outline, Step: "end", Color: colourSamples, ShowSymbol: opts.Bool(false), LineStyle: &opts.LineStyle{Width: 1},
			AreaStyle: &opts.AreaStyle{Color: colourSamples, Opacity: opts.Float(0.45)}})
		l.MultiSeries = append(l.MultiSeries, mark(fmt.Sprintf("mean %.2f%%", s.Mean), s.Mean, peak, colourMean, "solid",
			fmt.Sprintf("mean of the %d samples: %.2f%% (median %.2f%%)", s.N, s.Mean, s.Median)))
	}
	var bests []float64
	for _, r := range d.Method(study.RandomSearch).Runs {
		if r.HasBest {
			bests = append(bests, r.Best.ValAccuracy)
		}
	}
	if b := study.Describe(bests); b.N > 0 {
		name := fmt.Sprintf("random search's best %.2f%%", b.Mean)
		tip := fmt.Sprintf("the best sample of a random search (the architecture it retrains): %.2f%%", b.Mean)
		if b.N > 1 {
			name = fmt.Sprintf("random search's best %.2f%% (mean of %d)", b.Mean, b.N)
			tip += fmt.Sprintf(", the mean over %d runs (%.2f%% to %.2f%%)", b.N, b.Min, b.Max)
		}
		l.MultiSeries = append(l.MultiSeries, mark(name, b.Mean, peak, methodColours[study.RandomSearch], "dashed", tip))
	}
	if chance := d.Chance(); !math.IsNaN(chance) && s.N > 0 {
		l.MultiSeries = append(l.MultiSeries,
			mark(fmt.Sprintf("chance %.2f%%", chance), chance, peak, colourChance, "dashed", fmt.Sprintf("chance: 100/%d classes", d.Classes)),
			mark(fmt.Sprintf("2× chance %.2f%%", 2*chance), 2*chance, peak, colourChance, "dotted", "twice chance"))
	}
	sub := "no random-search run has recorded a sample yet"
	if s.N > 0 {
		sub = fmt.Sprintf("%s from %s · median %.2f%% · quartiles %.2f%% and %.2f%%", plural(s.N, "sample", "samples"),
			plural(d.SamplingRuns, "random-search run", "random-search runs"), s.Median, s.Q1, s.Q3)
		if !math.IsNaN(s.FractionAbove) {
			sub += fmt.Sprintf(" · %.2f%% above 2× chance", 100*s.FractionAbove)
		}
	}
	l.SetGlobalOptions(initOpts(title, sub, 900, 400)...)
	l.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "52", Left: "center"}),
		charts.WithGridOpts(opts.Grid{Top: "100", Left: "60", Right: "40", Bottom: "50"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "value", Name: "validation accuracy (%)", NameLocation: "middle", NameGap: 28, Scale: opts.Bool(true)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "samples", MinInterval: 1}),
	)
	return chartOf(title, &l.BaseConfiguration, l)
}

// trimPct prints a bin edge without needless decimals.
func trimPct(v float64) string { return fmt.Sprintf("%g", round(v, 2)) }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
