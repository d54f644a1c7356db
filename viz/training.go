package viz

import (
	"fmt"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/einspace-go/einspace/search"
)

// Epoch is search.Epoch, the one record of a training epoch, under the name a training curve's caller
// looks for here. TrainingCurves draws the accuracies in whatever unit they are given (a search's are
// percentages).
type Epoch = search.Epoch

// TrainingCurves draws a run's loss (left axis) and its train and validation accuracy (right axis) per
// epoch. It draws whatever epochs it is given, so a live view calls it again as epochs arrive.
func TrainingCurves(title string, epochs []Epoch) *Chart {
	if title == "" {
		title = "training"
	}
	total := 0.0
	loss := make([][2]float64, len(epochs))
	train := make([][2]float64, len(epochs))
	val := make([][2]float64, len(epochs))
	for i, e := range epochs {
		total += e.Seconds
		x := float64(e.Epoch)
		loss[i], train[i], val[i] = [2]float64{x, e.TrainLoss}, [2]float64{x, e.TrainAccuracy}, [2]float64{x, e.ValAccuracy}
	}
	sub := fmt.Sprintf("%d epochs · %.1f s", len(epochs), total)
	if n := len(epochs); n > 0 {
		e := epochs[n-1]
		sub += fmt.Sprintf(" · last: loss %.4g, train %.4g, val %.4g", e.TrainLoss, e.TrainAccuracy, e.ValAccuracy)
	}
	l := charts.NewLine()
	l.SetGlobalOptions(initOpts(title, sub, 800, 400)...)
	l.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "50"}),
		charts.WithGridOpts(opts.Grid{Top: "90", Left: "60", Right: "60", Bottom: "50"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "value", Name: "epoch", MinInterval: 1, NameLocation: "middle", NameGap: 28}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "loss"}),
	)
	l.ExtendYAxis(opts.YAxis{Type: "value", Name: "accuracy", Position: "right", Min: 0})
	l.MultiSeries = append(l.MultiSeries,
		charts.SingleSeries{Name: "train loss", Type: "line", Data: loss, Color: "#5470c6"},
		charts.SingleSeries{Name: "train accuracy", Type: "line", Data: train, YAxisIndex: 1, Color: "#91cc75"},
		charts.SingleSeries{Name: "val accuracy", Type: "line", Data: val, YAxisIndex: 1, Color: "#ee6666"},
	)
	return chartOf(title, &l.BaseConfiguration, l)
}
