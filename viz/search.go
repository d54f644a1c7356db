package viz

import (
	"fmt"
	"sort"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/search"
)

// The charts of a search: its progress (every evaluation's validation accuracy and the best so far), its
// population (accuracy against size, by lineage, with the Pareto front) and the terminals its best
// architectures use. They take the records of a run (search.History.Records, or search.ReadRecords of a
// run directory) in index order.

// Colours of the search charts.
const (
	colourFailed   = "#ee6666"
	colourBestLine = "#333333"
	colourPareto   = "#c23531"
)

// originSeries are the series of the progress chart, in order: a name and a colour for each kind of
// origin.
var originSeries = []struct {
	kind   search.OriginKind
	name   string
	colour string
}{
	{search.RandomSample, "random", "#5470c6"},
	{search.SeedTraining, "seed training", "#9a60b4"},
	{search.SeedCopy, "seed copy", "#73c0de"},
	{search.Mutation, "mutation", "#91cc75"},
	{search.Crossover, "crossover", "#fac858"},
	{0, "other", "#9e9e9e"},
}

// lineageColours colour the lineages of the population chart, in order of first appearance (scratch first).
var lineageColours = []string{"#5470c6", "#fc8452", "#3ba272", "#9a60b4", "#fac858", "#73c0de", "#ea7ccc", "#2f4554", "#d48265"}

// OriginKind names the progress chart's series of a record's origin: "random", "mutation", "crossover",
// "seed training" (seed:NAME), "seed copy" (copy:NAME) or "other".
func OriginKind(origin search.Origin) string {
	for _, s := range originSeries {
		if s.kind == origin.Kind {
			return s.name
		}
	}
	return "other"
}

// Lineage names the lineage of records[i]: the origin of its root ancestor, found by following
// ParentIndex. A lineage that starts from a random sample is "scratch"; one that starts from a seed
// (its training or a copy of it) is the seed's name. Records are looked up by their Index.
func Lineage(records []search.Record, i int) string {
	byIndex := indexRecords(records)
	return lineageOf(byIndex, records[i])
}

func indexRecords(records []search.Record) map[int]*search.Record {
	m := make(map[int]*search.Record, len(records))
	for i := range records {
		m[records[i].Index] = &records[i]
	}
	return m
}

func lineageOf(byIndex map[int]*search.Record, r search.Record) string {
	for steps := 0; r.ParentIndex >= 0 && steps <= len(byIndex); steps++ {
		p, ok := byIndex[r.ParentIndex]
		if !ok {
			return "unknown"
		}
		r = *p
	}
	switch {
	case r.Origin.Kind == search.RandomSample:
		return "scratch"
	case r.Origin.FromSeed():
		return r.Origin.Seed
	}
	return "unknown"
}

// searchPoint is one data item of a search chart, with its own tooltip.
type searchPoint struct {
	Value   [2]float64 `json:"value"`
	Tooltip formatter  `json:"tooltip"`
}

// BestSoFar returns, for every record, the best validation accuracy of the counted, successful records
// up to and including it (as the search counts a new best), and false where there is none yet.
func BestSoFar(records []search.Record) (best []float64, ok []bool) {
	best, ok = make([]float64, len(records)), make([]bool, len(records))
	var b search.BestSoFar
	for i, r := range records {
		b.Add(r)
		r, have := b.Best()
		best[i], ok[i] = r.ValAccuracy, have
	}
	return best, ok
}

// SearchProgress draws every evaluation's validation accuracy against its index, coloured by the kind of
// its origin, with failed evaluations as red triangles at 0 (their tooltips give the reason) and the best
// so far as a step line.
func SearchProgress(records []search.Record) *Chart { return searchProgress(records, false) }

// SearchProgressByTime is SearchProgress against the wall time at which each evaluation finished,
// measured from the start of the first one (in seconds, minutes or hours, whichever reads best).
func SearchProgressByTime(records []search.Record) *Chart { return searchProgress(records, true) }

// timeScale picks the unit of a time axis spanning span seconds.
func timeScale(span float64) (unit string, div float64) {
	switch {
	case span >= 3*3600:
		return "h", 3600
	case span >= 180:
		return "min", 60
	}
	return "s", 1
}

func searchProgress(records []search.Record, byTime bool) *Chart {
	title := "search progress"
	if byTime {
		title = "search progress over time"
	}
	xName, x := progressAxis(records, byTime)
	byKind, failed := progressPoints(records, x)
	line, bestIndex := bestLine(records, x)
	counted := 0
	for _, r := range records {
		if r.Counted {
			counted++
		}
	}
	sub := fmt.Sprintf("%d evaluations · %d counted · %d failed", len(records), counted, len(failed))
	if len(line) > 0 {
		sub += fmt.Sprintf(" · best %.2f%% (record %d)", line[len(line)-1].Value[1], bestIndex)
	}
	l := charts.NewLine()
	l.SetGlobalOptions(initOpts(title, sub, 900, 420)...)
	xAxis := opts.XAxis{Type: "value", Name: xName, NameLocation: "middle", NameGap: 28, Min: 0}
	if !byTime {
		xAxis.MinInterval = 1
	}
	l.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "50"}),
		charts.WithGridOpts(opts.Grid{Top: "90", Left: "60", Right: "40", Bottom: "50"}),
		charts.WithXAxisOpts(xAxis),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "val accuracy (%)", Min: 0}),
	)
	for _, s := range originSeries {
		if pts := byKind[s.name]; len(pts) > 0 {
			l.MultiSeries = append(l.MultiSeries, charts.SingleSeries{Name: s.name, Type: "scatter", Data: pts,
				SymbolSize: 7, Color: s.colour})
		}
	}
	if len(failed) > 0 {
		l.MultiSeries = append(l.MultiSeries, charts.SingleSeries{Name: "failed", Type: "scatter", Data: failed,
			Symbol: "triangle", SymbolSize: 8, Color: colourFailed})
	}
	if len(line) > 0 {
		l.MultiSeries = append(l.MultiSeries, charts.SingleSeries{Name: "best so far", Type: "line", Data: line,
			Step: "end", SymbolSize: 5, Color: colourBestLine})
	}
	return chartOf(title, &l.BaseConfiguration, l)
}

// progressAxis is the x axis of a progress chart: the evaluation's index, or the wall time at which it
// finished, from the start of the first, in the unit timeScale picks.
func progressAxis(records []search.Record, byTime bool) (name string, x func(search.Record) float64) {
	if !byTime {
		return "evaluation", func(r search.Record) float64 { return float64(r.Index) }
	}
	var start, end float64
	first := true
	for _, r := range records {
		if r.Start.IsZero() || r.End.IsZero() {
			continue
		}
		s, e := float64(r.Start.UnixNano())/1e9, float64(r.End.UnixNano())/1e9
		if first || s < start {
			start = s
		}
		if first || e > end {
			end = e
		}
		first = false
	}
	unit, div := timeScale(end - start)
	return "wall time (" + unit + ")", func(r search.Record) float64 {
		if r.End.IsZero() {
			return 0
		}
		return round((float64(r.End.UnixNano())/1e9-start)/div, 4)
	}
}

// progressPoints are the evaluations of a progress chart: the successful ones by the series of their
// origin (OriginKind), and the failed ones at 0, with tooltips.
func progressPoints(records []search.Record, x func(search.Record) float64) (byKind map[string][]searchPoint, failed []searchPoint) {
	byKind = map[string][]searchPoint{}
	for _, r := range records {
		if r.Failed() {
			tip := fmt.Sprintf("<b>record %d failed</b> (%s)<br/>%s", r.Index, esc(r.Origin.String()), esc(truncate(r.FailureReason(), 200)))
			failed = append(failed, searchPoint{Value: [2]float64{x(r), 0}, Tooltip: formatter{tip}})
			continue
		}
		tip := fmt.Sprintf("<b>record %d</b> · %s<br/>val accuracy %.2f%%<br/>params %s · FLOPs %s", r.Index, esc(r.Origin.String()),
			r.ValAccuracy, Count(r.Params), Count(r.FLOPs))
		if !r.Counted {
			tip += "<br/>not counted toward the budget"
		}
		if r.Seconds > 0 {
			tip += fmt.Sprintf("<br/>%.1f s", r.Seconds)
		}
		k := OriginKind(r.Origin)
		byKind[k] = append(byKind[k], searchPoint{Value: [2]float64{x(r), round(r.ValAccuracy, 4)}, Tooltip: formatter{tip}})
	}
	return byKind, failed
}

// bestLine is the best so far as a step line through every new best and on to the last record, and the
// index of the best record (-1: none).
func bestLine(records []search.Record, x func(search.Record) float64) (line []searchPoint, bestIndex int) {
	best, ok := BestSoFar(records)
	bestIndex = -1
	for i, r := range records {
		if !ok[i] {
			continue
		}
		if len(line) == 0 || best[i] != line[len(line)-1].Value[1] {
			bestIndex = r.Index
			tip := fmt.Sprintf("<b>new best</b>: record %d · %.2f%%", r.Index, best[i])
			line = append(line, searchPoint{Value: [2]float64{x(r), round(best[i], 4)}, Tooltip: formatter{tip}})
		}
	}
	if n := len(records); n > 0 && len(line) > 0 {
		last := records[n-1]
		if lx := x(last); lx > line[len(line)-1].Value[0] {
			tip := fmt.Sprintf("best after %d evaluations: %.2f%% (record %d)", n, line[len(line)-1].Value[1], bestIndex)
			line = append(line, searchPoint{Value: [2]float64{lx, line[len(line)-1].Value[1]}, Tooltip: formatter{tip}})
		}
	}
	return line, bestIndex
}

// archSummary is what the population chart says of an architecture.
func archSummary(r search.Record, lineage string) string {
	nodes := "?"
	if root, err := grammar.Parse(r.Arch); err == nil {
		nodes = fmt.Sprint(root.Count())
	}
	return fmt.Sprintf("<b>record %d</b> · %s (lineage %s)<br/>val accuracy %.2f%%<br/>params %s · FLOPs %s · nodes %s<br/><span style=\"font-family:monospace;font-size:11px\">%s</span>",
		r.Index, esc(r.Origin.String()), esc(lineage), r.ValAccuracy, Count(r.Params), Count(r.FLOPs), nodes, esc(truncate(r.Arch, 120)))
}

// ParetoFront returns the indices into records of the successful records that no other successful record
// beats on both validation accuracy (higher) and parameters (fewer), ordered by parameters. Of records
// equal on both, the first is kept.
func ParetoFront(records []search.Record) []int {
	var idx []int
	for i, r := range records {
		if !r.Failed() && r.Arch != "" {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ra, rb := records[idx[a]], records[idx[b]]
		if ra.Params != rb.Params {
			return ra.Params < rb.Params
		}
		return ra.ValAccuracy > rb.ValAccuracy
	})
	var front []int
	for _, i := range idx {
		if len(front) == 0 || records[i].ValAccuracy > records[front[len(front)-1]].ValAccuracy {
			front = append(front, i)
		}
	}
	return front
}

// Population draws the validation accuracy of every successful evaluation against its parameters (log
// axis), coloured by lineage (the origin of its root ancestor: scratch, or a seed), with tooltips that
// summarise each architecture, and the Pareto front of accuracy against parameters as a step line. A
// population copy of a seed is the seed's training again and is not drawn twice; failed evaluations are
// left out. An architecture without parameters is drawn at 1.
func Population(records []search.Record) *Chart {
	title := "population: accuracy vs parameters"
	byIndex := indexRecords(records)
	type lineage struct {
		name string
		pts  []searchPoint
	}
	var lineages []*lineage
	find := map[string]*lineage{}
	drawn := make([]search.Record, 0, len(records))
	lineageOfRecord := map[int]string{}
	failed, copies := 0, 0
	for _, r := range records {
		switch {
		case r.Failed() || r.Arch == "":
			failed++
			continue
		case r.IsCopy():
			copies++
			continue
		}
		name := lineageOf(byIndex, r)
		lineageOfRecord[r.Index] = name
		lin := find[name]
		if lin == nil {
			lin = &lineage{name: name}
			find[name] = lin
			lineages = append(lineages, lin)
		}
		lin.pts = append(lin.pts, searchPoint{Value: [2]float64{float64(max(r.Params, 1)), round(r.ValAccuracy, 4)},
			Tooltip: formatter{archSummary(r, name)}})
		drawn = append(drawn, r)
	}
	// scratch first, then the seeds in order of first appearance
	sort.SliceStable(lineages, func(a, b int) bool { return lineages[a].name == "scratch" && lineages[b].name != "scratch" })

	var front []searchPoint
	for _, i := range ParetoFront(drawn) {
		r := drawn[i]
		tip := fmt.Sprintf("<b>Pareto front</b><br/>%s", archSummary(r, lineageOfRecord[r.Index]))
		front = append(front, searchPoint{Value: [2]float64{float64(max(r.Params, 1)), round(r.ValAccuracy, 4)}, Tooltip: formatter{tip}})
	}

	sub := fmt.Sprintf("%d architectures · %d on the Pareto front", len(drawn), len(front))
	if failed > 0 {
		sub += fmt.Sprintf(" · %d failed (not drawn)", failed)
	}
	if copies > 0 {
		sub += fmt.Sprintf(" · %d seed copies drawn as their seed", copies)
	}
	l := charts.NewLine()
	l.SetGlobalOptions(initOpts(title, sub, 900, 480)...)
	l.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item", Enterable: opts.Bool(true)}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "50", Type: "scroll"}),
		charts.WithGridOpts(opts.Grid{Top: "90", Left: "60", Right: "40", Bottom: "50"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "log", Name: "parameters (log)", NameLocation: "middle", NameGap: 28}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "val accuracy (%)", Scale: opts.Bool(true)}),
	)
	for i, lin := range lineages {
		name := lin.name + " lineage"
		if lin.name == "scratch" {
			name = "from scratch"
		}
		l.MultiSeries = append(l.MultiSeries, charts.SingleSeries{Name: name, Type: "scatter", Data: lin.pts,
			SymbolSize: 8, Color: lineageColours[i%len(lineageColours)]})
	}
	if len(front) > 0 {
		l.MultiSeries = append(l.MultiSeries, charts.SingleSeries{Name: "Pareto front", Type: "line", Data: front,
			Step: "end", SymbolSize: 4, Color: colourPareto})
	}
	return chartOf(title, &l.BaseConfiguration, l)
}

// OpCount is how often a terminal occurs in two sets of architectures: the top ones and all of them.
type OpCount struct {
	Op       string
	Top, All int     // occurrences
	TopShare float64 // percent of the terminals of the top architectures
	AllShare float64 // percent of the terminals of all architectures
}

// OpFrequencies counts the terminals (by name, or by group with byGroup) of the top architectures by
// validation accuracy (counted, successful, distinct) and of all evaluated architectures (every record
// with an architecture, failed ones included, population copies not, since they are not evaluated again).
// A 4- or 8-way branching's shared inner module counts once, as it is written. The result is ordered by
// the top share, then the overall share, then the name. nTop and nAll are the numbers of architectures counted in each set.
func OpFrequencies(records []search.Record, top int, byGroup bool) (counts []OpCount, nTop, nAll int) {
	key := func(op grammar.Op) string {
		if byGroup {
			return string(TerminalGroup(op))
		}
		return op.Name()
	}
	count := func(arch string, into map[string]int) bool {
		root, err := grammar.Parse(arch)
		if err != nil {
			return false
		}
		grammar.Inspect(root, func(n *grammar.Node) bool {
			if n.Kind == grammar.Terminal {
				into[key(n.Op)]++
			}
			return true
		})
		return true
	}
	all, best := map[string]int{}, map[string]int{}
	for _, r := range records {
		if r.Arch != "" && !r.IsCopy() && count(r.Arch, all) {
			nAll++
		}
	}
	ranked := search.Ranked(records)
	for _, r := range ranked[:min(max(top, 0), len(ranked))] {
		if count(r.Arch, best) {
			nTop++
		}
	}
	total := func(m map[string]int) int {
		t := 0
		for _, v := range m {
			t += v
		}
		return t
	}
	tTop, tAll := total(best), total(all)
	share := func(n, t int) float64 {
		if t == 0 {
			return 0
		}
		return round(100*float64(n)/float64(t), 2)
	}
	for op, n := range all {
		counts = append(counts, OpCount{Op: op, Top: best[op], All: n, TopShare: share(best[op], tTop), AllShare: share(n, tAll)})
	}
	for op, n := range best {
		if all[op] == 0 { // a top architecture that is only a copy of a seed
			counts = append(counts, OpCount{Op: op, Top: n, TopShare: share(n, tTop)})
		}
	}
	sort.Slice(counts, func(a, b int) bool {
		ca, cb := counts[a], counts[b]
		if ca.TopShare != cb.TopShare {
			return ca.TopShare > cb.TopShare
		}
		if ca.AllShare != cb.AllShare {
			return ca.AllShare > cb.AllShare
		}
		return ca.Op < cb.Op
	})
	return counts, nTop, nAll
}

// maxOpBars bounds the bars of OpFrequency: the terminals most frequent in the top architectures.
const maxOpBars = 40

// OpFrequency draws, as pairs of bars, the share of each terminal among the terminals of the top
// architectures by validation accuracy and among those of all evaluated architectures (see
// OpFrequencies), for the 40 terminals most frequent in the top ones.
func OpFrequency(records []search.Record, top int) *Chart { return opFrequency(records, top, false) }

// OpGroupFrequency is OpFrequency with the terminals counted by group (linear, norm, activation, …).
func OpGroupFrequency(records []search.Record, top int) *Chart {
	return opFrequency(records, top, true)
}

func opFrequency(records []search.Record, top int, byGroup bool) *Chart {
	counts, nTop, nAll := OpFrequencies(records, top, byGroup)
	counts = counts[:min(len(counts), maxOpBars)]
	what := "terminal"
	if byGroup {
		what = "terminal group"
	}
	title := fmt.Sprintf("%s frequency: top %d vs all", what, top)
	labels := make([]string, len(counts))
	topBars := make([]searchBar, len(counts))
	allBars := make([]searchBar, len(counts))
	for i, c := range counts {
		labels[i] = c.Op
		topBars[i] = searchBar{Value: c.TopShare, Tooltip: formatter{fmt.Sprintf("<b>%s</b><br/>top %d: %d occurrences, %.2f%% of their terminals",
			esc(c.Op), nTop, c.Top, c.TopShare)}}
		allBars[i] = searchBar{Value: c.AllShare, Tooltip: formatter{fmt.Sprintf("<b>%s</b><br/>all %d: %d occurrences, %.2f%% of their terminals",
			esc(c.Op), nAll, c.All, c.AllShare)}}
	}
	sub := fmt.Sprintf("share of terminals (%%) in the %d best architectures by val accuracy and in all %d evaluated", nTop, nAll)
	b := charts.NewBar()
	b.SetXAxis(labels)
	b.SetGlobalOptions(initOpts(title, sub, 900, 420)...)
	b.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "50"}),
		charts.WithGridOpts(opts.Grid{Top: "90", Left: "60", Right: "30", Bottom: "100"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: &opts.AxisLabel{Rotate: 45, FontSize: 10, Interval: "0"}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "% of terminals"}),
	)
	b.MultiSeries = append(b.MultiSeries,
		charts.SingleSeries{Name: fmt.Sprintf("top %d", nTop), Type: "bar", Data: topBars, Color: "#c23531"},
		charts.SingleSeries{Name: fmt.Sprintf("all %d", nAll), Type: "bar", Data: allBars, Color: "#9e9e9e"},
	)
	return chartOf(title, &b.BaseConfiguration, b)
}

type searchBar struct {
	Value   float64   `json:"value"`
	Tooltip formatter `json:"tooltip"`
}

// truncate cuts s to at most n runes, ending in "…" when cut.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
