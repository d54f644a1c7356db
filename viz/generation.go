package viz

import (
	"fmt"
	"math"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// Member is one member of an evolving population as GenerationChart draws it.
type Member struct {
	Label   string  // e.g. "#12"
	Fitness float64 // what the evolution maximises
	// Role is what the member did in the last generation: "", "tournament", "parent" or "child".
	Role string
}

// roleColours mark the members a generation used.
var roleColours = map[string]string{"": "#c8c8c8", "tournament": "#fac858", "parent": "#ee6666", "child": "#3ba272"}

// GenerationChart draws a population, oldest first, as bars of fitness coloured by what each member did in
// the last generation of regularised evolution: drawn in the tournament, chosen as parent, or the new child.
func GenerationChart(title string, members []Member) *Chart {
	labels := make([]string, len(members))
	bars := make([]opts.BarData, len(members))
	for i, m := range members {
		labels[i] = m.Label
		bars[i] = opts.BarData{Name: m.Label, Value: round2(m.Fitness), ItemStyle: &opts.ItemStyle{Color: roleColours[m.Role]}}
	}
	sub := "oldest left · grey: not drawn · yellow: in the tournament · red: the parent · green: its child"
	b := charts.NewBar()
	b.SetGlobalOptions(initOpts(title, sub, 940, 340)...)
	b.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Top: "80", Left: "50", Right: "30", Bottom: "50"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: "population (oldest left)", NameLocation: "middle", NameGap: 30}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "fitness"}),
	)
	b.SetXAxis(labels)
	b.MultiSeries = append(b.MultiSeries, charts.SingleSeries{Name: "fitness", Type: "bar", Data: bars})
	return chartOf(title, &b.BaseConfiguration, b)
}

// FitnessHistory draws the best fitness found so far and the population's mean fitness after each
// generation (0: the initial population).
func FitnessHistory(title string, best, mean []float64) *Chart {
	gens := make([]string, len(best))
	bestLine := make([]opts.LineData, len(best))
	meanLine := make([]opts.LineData, len(mean))
	for i := range best {
		gens[i] = fmt.Sprint(i)
		bestLine[i] = opts.LineData{Value: round2(best[i])}
	}
	for i := range mean {
		meanLine[i] = opts.LineData{Value: round2(mean[i])}
	}
	l := charts.NewLine()
	l.SetGlobalOptions(initOpts(title, fmt.Sprintf("%d generations", max(len(best)-1, 0)), 940, 300)...)
	l.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "50"}),
		charts.WithGridOpts(opts.Grid{Top: "90", Left: "50", Right: "30", Bottom: "50"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: "generation", NameLocation: "middle", NameGap: 28}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "fitness"}),
	)
	l.SetXAxis(gens)
	l.MultiSeries = append(l.MultiSeries,
		charts.SingleSeries{Name: "best so far", Type: "line", Data: bestLine, Color: "#c23531"},
		charts.SingleSeries{Name: "population mean", Type: "line", Data: meanLine, Color: "#5470c6"})
	return chartOf(title, &l.BaseConfiguration, l)
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
