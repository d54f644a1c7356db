package viz

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/go-echarts/go-echarts/v2/render"
)

// Chart is one drawn chart: an ECharts option and the HTML element that shows it.
type Chart struct {
	// Title is the chart's title, also used as a page section's heading.
	Title string
	base  *charts.BaseConfiguration
	r     render.Renderer
	snip  *render.ChartSnippet
}

// chartOf wraps a go-echarts chart.
func chartOf(title string, base *charts.BaseConfiguration, r render.Renderer) *Chart {
	return &Chart{Title: title, base: base, r: r}
}

// Snippet returns the chart's HTML element, the script that draws it into the element (ECharts must be
// loaded first), and its option alone. Every chart gets a fresh element id when it is made, so one page may
// hold many charts.
func (c *Chart) Snippet() render.ChartSnippet {
	if c.snip == nil {
		s := c.r.RenderSnippet()
		c.snip = &s
	}
	return *c.snip
}

// HTML is the element and its script: what a notebook cell displays once ECharts is loaded.
func (c *Chart) HTML() string {
	s := c.Snippet()
	return s.Element + s.Script
}

// Option is the chart's ECharts option as JSON (indented, for golden tests and for reading).
func (c *Chart) Option() string {
	raw := strings.TrimSpace(c.Snippet().Option)
	raw = strings.TrimSuffix(raw, ";")
	var out bytes.Buffer
	if err := json.Indent(&out, []byte(raw), "", "  "); err != nil {
		return raw // an option with JavaScript functions in it is not JSON
	}
	return out.String()
}

// ID is the id of the chart's HTML element.
func (c *Chart) ID() string { return c.base.ChartID }

// Size is the chart's element width and height as CSS lengths.
func (c *Chart) Size() (width, height string) {
	return c.base.Initialization.Width, c.base.Initialization.Height
}

// initOpts sets a chart's title and size and turns the go-echarts defaults off (the toolbox and the page
// assets that point at a web address).
func initOpts(title, subtitle string, width, height int) []charts.GlobalOpts {
	return []charts.GlobalOpts{
		charts.WithInitializationOpts(opts.Initialization{
			Width:  fmt.Sprintf("%dpx", width),
			Height: fmt.Sprintf("%dpx", height),
		}),
		charts.WithTitleOpts(opts.Title{Title: title, Subtitle: subtitle}),
		charts.WithAnimation(false),
	}
}

// Palette holds the colour of each group of nodes, for legends and for readers of the charts.
var Palette = map[Group]string{
	GroupSequential:  "#9e9e9e",
	GroupBranching:   "#5470c6",
	GroupRouting:     "#73c0de",
	GroupComputation: "#91cc75",
	GroupLinear:      "#3ba272",
	GroupNorm:        "#fac858",
	GroupActivation:  "#fc8452",
	GroupSoftmax:     "#ee6666",
	GroupPositional:  "#9a60b4",
	GroupIdentity:    "#c8c8c8",
	GroupPatches:     "#2f4554",
	GroupPermute:     "#61a0a8",
	GroupBranchFn:    "#d48265",
	GroupAggregateFn: "#ea7ccc",
	GroupConv:        "#1b7a3a",
	GroupAttention:   "#c23531",
	GroupResidual:    "#3a56b0",
	GroupIO:          "#333333",
}

// changedColour marks the subtree that differs between a parent and its child.
const changedColour = "#ff2d2d"
