package viz

import (
	"fmt"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/einspace-go/einspace/grammar"
)

// Layout of the dataflow graph, in the graph's own units: one column per step, one row per branch.
const (
	colWidth = 130
	// graphMinWidth fits the subtitle ("N steps · … · click to zoom and pan") at the chart's font.
	graphMinWidth = 640
	rowHeight     = 56
	// the chart's margins around the nodes' centres, in pixels: room for the title and legend above
	marginX, marginTop, marginBottom = 65, 120, 40
	// bandColumns is how many columns a graph shows side by side before it wraps to a new band below:
	// 7 columns (a residual block: split, five steps, merge) make a 910 px chart, which fits the classic
	// Notebook's output area (about 970 px at a 1400 px window) without shrinking, so a whole seed reads
	// without panning.
	bandColumns = 7
	// bandGap is the vertical room between two bands, in the graph's units.
	bandGap = 1.6 * rowHeight
)

// flowNode is one node of an ECharts graph series placed by us.
type flowNode struct {
	Name       string    `json:"name"` // unique: ECharts links nodes by name
	X          float64   `json:"x"`
	Y          float64   `json:"y"`
	Category   int       `json:"category"`
	Silent     bool      `json:"silent,omitempty"`
	Symbol     string    `json:"symbol"`
	SymbolSize [2]int    `json:"symbolSize"`
	Label      flowLabel `json:"label"`
	ItemStyle  style     `json:"itemStyle"`
	Tooltip    formatter `json:"tooltip"`
}

type flowLabel struct {
	Show       bool   `json:"show"`
	Formatter  string `json:"formatter"`
	FontSize   int    `json:"fontSize"`
	LineHeight int    `json:"lineHeight,omitempty"`
	Color      string `json:"color,omitempty"`
	Width      int    `json:"width,omitempty"`
	Overflow   string `json:"overflow,omitempty"`
}

type flowLink struct {
	Source string    `json:"source"`
	Target string    `json:"target"`
	Label  edgeLabel `json:"label"`
}

type edgeLabel struct {
	Show      bool   `json:"show"`
	Formatter string `json:"formatter"`
	FontSize  int    `json:"fontSize"`
}

// flow lays an architecture out as a dataflow graph, left to right.
type flow struct {
	nodes []flowNode
	links []flowLink
	cats  map[Group]int
	order []Group
	costs map[*grammar.Node]cost
	size  map[*grammar.Node][2]int // columns, rows
}

func (f *flow) category(g Group) int {
	if i, ok := f.cats[g]; ok {
		return i
	}
	f.cats[g] = len(f.order)
	f.order = append(f.order, g)
	return f.cats[g]
}

// add places a node at a column and a (fractional) row and returns its name.
func (f *flow) add(label string, g Group, n *grammar.Node, col int, row float64) string {
	name := fmt.Sprintf("%d %s", len(f.nodes), label)
	tip := label
	if n != nil {
		tip = tooltip(label, g, n, f.costs[n])
	}
	textColour := "#fff"
	if g == GroupNorm || g == GroupIdentity || g == GroupComputation {
		textColour = "#222"
	}
	text := esc(label)
	if n != nil && !n.Out.IsZero() && !isSplit(n) {
		text += "\n" + n.Out.String() // the step's output: the edges carry no labels, for room
	}
	f.nodes = append(f.nodes, flowNode{
		Name: name, X: float64(col * colWidth), Y: row * rowHeight, Category: f.category(g),
		Symbol: "roundRect", SymbolSize: [2]int{120, 34},
		Label: flowLabel{Show: true, Formatter: text, FontSize: 10, LineHeight: 13, Color: textColour,
			Width: 114, Overflow: "truncate"},
		ItemStyle: style{Color: Palette[g]},
		Tooltip:   formatter{tip},
	})
	return name
}

func (f *flow) link(from, to string, shape grammar.Shape) {
	if from == "" || to == "" || from == to {
		return
	}
	text := ""
	if !shape.IsZero() {
		text = shape.String()
	}
	// Shapes are written in the nodes; an edge's own label would not fit between columns.
	f.links = append(f.links, flowLink{Source: from, Target: to, Label: edgeLabel{Show: false, Formatter: text, FontSize: 9}})
}

// measure returns the columns and rows a module takes. A module drawn as nothing (an identity
// computation, an identity routing function) takes no column.
func (f *flow) measure(n *grammar.Node) [2]int {
	if s, ok := f.size[n]; ok {
		return s
	}
	var s [2]int
	switch n.Kind {
	case grammar.Terminal:
		if n.Op.Family() != grammar.FamIdentity {
			s = [2]int{1, 1}
		}
	case grammar.ComputationModule:
		s = f.measure(n.Children[0])
	case grammar.SequentialModule:
		a, b := f.measure(n.Children[0]), f.measure(n.Children[1])
		s = [2]int{a[0] + b[0], max(a[1], b[1], 1)}
	case grammar.RoutingModule:
		if _, ok := Conv(n); ok {
			s = [2]int{1, 1}
			break
		}
		p, m, r := f.measure(n.Children[0]), f.measure(n.Children[1]), f.measure(n.Children[2])
		s = [2]int{p[0] + m[0] + r[0], max(m[1], 1)}
	case grammar.BranchingModule:
		w, h := 0, 0
		for _, c := range n.Inner() {
			cs := f.measure(c)
			w = max(w, cs[0])
			h += max(cs[1], 1)
		}
		s = [2]int{w + 2, h}
	}
	f.size[n] = s
	return s
}

// place lays out n with its top-left corner at (col, row), fed by the node named from, and returns the name
// of the node its output leaves from (from itself when n draws nothing).
func (f *flow) place(n *grammar.Node, col, row int, from string) string {
	s := f.measure(n)
	mid := float64(row) + float64(max(s[1], 1)-1)/2
	switch n.Kind {
	case grammar.Terminal:
		if s[0] == 0 {
			return from
		}
		label, g := blockLabel(n)
		name := f.add(label, g, n, col, mid)
		f.link(from, name, n.In)
		return name
	case grammar.ComputationModule:
		return f.place(n.Children[0], col, row, from)
	case grammar.SequentialModule:
		out := f.place(n.Children[0], col, row, from)
		return f.place(n.Children[1], col+f.measure(n.Children[0])[0], row, out)
	case grammar.RoutingModule:
		if label, ok := Conv(n); ok {
			name := f.add(label, GroupConv, n, col, mid)
			f.link(from, name, n.In)
			return name
		}
		out := f.place(n.Children[0], col, row, from)
		col += f.measure(n.Children[0])[0]
		out = f.place(n.Children[1], col, row, out)
		col += f.measure(n.Children[1])[0]
		return f.place(n.Children[2], col, row, out)
	}
	// branching: the split, the inner modules one above the other, the merge
	b, a := n.Children[0], n.Children[len(n.Children)-1]
	split := b.Op.Name()
	if b.Op.Factor() > 2 && len(n.Children) == 3 {
		split += fmt.Sprintf(" (×%d copies)", b.Op.Factor())
	}
	splitName := f.add(split, GroupBranchFn, b, col, mid)
	f.link(from, splitName, n.In)
	merge, g := a.Op.Name(), GroupAggregateFn
	if fam := a.Op.Family(); fam == grammar.FamDot || fam == grammar.FamScaledDot {
		merge, g = "attention: "+a.Op.Name(), GroupAttention
	}
	mergeName := f.add(merge, g, a, col+s[0]-1, mid)
	r := row
	for _, c := range n.Inner() {
		out := f.place(c, col+1, r, splitName)
		f.link(out, mergeName, c.Out)
		r += max(f.measure(c)[1], 1)
	}
	return mergeName
}

// ArchGraph draws an architecture as a dataflow graph, left to right: branches fan out from their
// branching function and merge at their aggregation function, a convolution (im2col, linear, col2im) is one
// node, an attention's merge is labelled with its dot product, and every edge carries the shape of the
// tensor on it. A 4- or 8-way branching's shared inner module is drawn once, its split marked "×4 copies".
func ArchGraph(a *grammar.Arch, title string) *Chart {
	f := &flow{cats: map[Group]int{}, costs: costs(a.Root), size: map[*grammar.Node][2]int{}}
	s := f.measure(a.Root)
	rows := max(s[1], 1)
	mid := float64(rows-1) / 2
	in := f.add("input "+a.Input.String(), GroupIO, nil, 0, mid)
	out := f.place(a.Root, 1, 0, in)
	end := f.add("output "+a.Output().String(), GroupIO, nil, s[0]+1, mid)
	f.link(out, end, a.Output())

	w, h := f.wrap(spineStarts(f, a.Root, 1), s[0]+1)

	// Two invisible corner nodes make the graph's bounding box the whole chart, so that ECharts maps the
	// layout to pixels one to one (it stretches the box of the nodes to the series' box otherwise).
	for _, corner := range [][2]float64{{-marginX, -marginTop}, {w + marginX, h + marginBottom}} {
		f.nodes = append(f.nodes, flowNode{Name: fmt.Sprintf("corner %v", corner), X: corner[0], Y: corner[1],
			Symbol: "none", Silent: true, Label: flowLabel{Show: false}, ItemStyle: style{Color: "rgba(0,0,0,0)"}})
	}
	if title == "" {
		title = "dataflow graph"
	}
	st := a.Stats()
	sub := fmt.Sprintf("%d steps · %s params · %s FLOPs · read left to right, then the next band · click to zoom and pan", len(f.nodes)-2, Count(st.Params), Count(st.FLOPs))
	cats := make([]opts.GraphCategory, len(f.order))
	for i, g := range f.order {
		cats[i] = opts.GraphCategory{Name: string(g), ItemStyle: &opts.ItemStyle{Color: Palette[g]}}
	}
	// At least as wide as the subtitle, which a graph of a few steps would cut off.
	width, height := max(int(w)+2*marginX, graphMinWidth), int(h)+marginTop+marginBottom
	g := charts.NewGraph()
	g.SetGlobalOptions(initOpts(title, sub, width, height)...)
	g.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "50", Type: "scroll"}),
	)
	g.MultiSeries = append(g.MultiSeries, charts.SingleSeries{
		Name: "dataflow", Type: "graph", Layout: "none", Data: f.nodes, Links: f.links, Categories: cats,
		Roam: opts.Bool(true), EdgeSymbol: []string{"none", "arrow"}, EdgeSymbolSize: 6,
		Top: "0", Bottom: "0", Left: "0", Right: "0",
		LineStyle: &opts.LineStyle{Color: "#888", Width: 1.2, Curveness: 0},
	})
	return chartOf(title, &g.BaseConfiguration, g)
}

// spineStarts returns the columns at which the modules of n's sequential chain start, when n is placed
// at column col: the places where the graph may wrap without cutting a module in two.
func spineStarts(f *flow, n *grammar.Node, col int) []int {
	switch n.Kind {
	case grammar.SequentialModule:
		left := spineStarts(f, n.Children[0], col)
		return append(left, spineStarts(f, n.Children[1], col+f.measure(n.Children[0])[0])...)
	case grammar.ComputationModule:
		return spineStarts(f, n.Children[0], col)
	}
	if f.measure(n)[0] == 0 {
		return nil
	}
	return []int{col}
}

// wrap cuts the laid-out graph, columns 0..last, into bands of at most bandColumns columns stacked top
// to bottom, cutting between the modules of the root's sequential chain where it can (starts) and inside
// a module only when it alone is wider than a band. It moves the nodes and returns the width and height
// the nodes span.
func (f *flow) wrap(starts []int, last int) (width, height float64) {
	legal := append(append([]int{}, starts...), last+1)
	bands := []int{0}
	prev := 0
	for _, c := range legal {
		b := bands[len(bands)-1]
		if c-b > bandColumns {
			if prev > b {
				bands = append(bands, prev)
				b = prev
			}
			for c-b > bandColumns {
				b += bandColumns
				bands = append(bands, b)
			}
		}
		prev = c
	}
	band := func(col int) int {
		i := len(bands) - 1
		for bands[i] > col {
			i--
		}
		return i
	}
	minY := make([]float64, len(bands))
	maxY := make([]float64, len(bands))
	seen := make([]bool, len(bands))
	cols := make([]int, len(f.nodes))
	for i, n := range f.nodes {
		cols[i] = int(n.X/colWidth + 0.5)
		b := band(cols[i])
		if !seen[b] || n.Y < minY[b] {
			minY[b] = n.Y
		}
		if !seen[b] || n.Y > maxY[b] {
			maxY[b] = n.Y
		}
		seen[b] = true
	}
	offset := make([]float64, len(bands))
	for b := 1; b < len(bands); b++ {
		offset[b] = offset[b-1] + maxY[b-1] - minY[b-1] + bandGap
	}
	for i := range f.nodes {
		b := band(cols[i])
		f.nodes[i].X = float64((cols[i] - bands[b]) * colWidth)
		f.nodes[i].Y += offset[b] - minY[b]
		width = max(width, f.nodes[i].X)
		height = max(height, f.nodes[i].Y)
	}
	return width, height
}

// isSplit reports whether n is a branching function (clone, group), which has one output per branch.
func isSplit(n *grammar.Node) bool {
	return n.Kind == grammar.Terminal && (n.Op.Family() == grammar.FamClone || n.Op.Family() == grammar.FamGroup)
}
