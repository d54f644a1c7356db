package viz

import (
	"fmt"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/einspace-go/einspace/grammar"
)

// TreeOptions change how an architecture's derivation tree is drawn. The zero value draws it compactly,
// expanded as deep as keeps about MaxVisible nodes in view.
type TreeOptions struct {
	// Exact draws the derivation tree as it is: every sequential module and every computation module with
	// its terminal. By default computation modules are shown as their terminal, chains of sequential modules
	// as one node, and convolutions as one collapsed node.
	Exact bool
	// Depth is how many levels below the root start expanded; 0 chooses the deepest level that keeps at
	// most MaxVisible nodes in view. Deeper nodes start collapsed: click a node to expand it.
	Depth int
	// MaxVisible bounds the nodes in view when Depth is 0; 0 means 80.
	MaxVisible int
	// Title overrides the chart's title.
	Title string
}

// treeNode is one node of an ECharts tree series.
type treeNode struct {
	Name      string      `json:"name"`
	Children  []*treeNode `json:"children,omitempty"`
	Collapsed *bool       `json:"collapsed,omitempty"`
	ItemStyle style       `json:"itemStyle"`
	Label     *nodeLabel  `json:"label,omitempty"`
	Tooltip   formatter   `json:"tooltip"`

	depth   int
	changed bool // inside the subtree that differs from the other tree of a diff
	onPath  bool // on the way from the root to the changed subtree
	block   bool // a recognised block that starts collapsed (a conv)
}

type style struct {
	Color       string  `json:"color"`
	BorderColor string  `json:"borderColor,omitempty"`
	BorderWidth float64 `json:"borderWidth,omitempty"`
}

type nodeLabel struct {
	Color      string `json:"color,omitempty"`
	FontWeight string `json:"fontWeight,omitempty"`
	FontSize   int    `json:"fontSize,omitempty"`
	Width      int    `json:"width"`
	Overflow   string `json:"overflow"`
}

// maxSteps is the most steps of a sequence shown under one node; longer chains are cut in chunks.
const maxSteps = 24

// labelWidth bounds a tree label in pixels until fitLabels fits it to the levels in view: longer labels
// end in "…" (the tooltip has them whole).
const labelWidth = 150

// fitLabels narrows the labels to the space between two levels of the initial view, for a series width in
// pixels; in a deep tree, where that space is short, it also sets them in a smaller font, so that they keep
// about 12 characters. Leaves of the deepest level in view keep labelWidth: nothing is to their right.
func fitLabels(root *treeNode, width float64) {
	depth := 0
	small := false
	var walk func(t *treeNode, visible bool, set int)
	walk = func(t *treeNode, visible bool, set int) {
		switch {
		case set > 0 && len(t.Children) == 0 && t.depth >= depth:
			t.Label.Width = labelWidth
		case set > 0:
			t.Label.Width = set
			if small {
				t.Label.FontSize = 9
			}
		case visible:
			depth = max(depth, t.depth)
		}
		open := visible && (t.Collapsed == nil || !*t.Collapsed)
		for _, c := range t.Children {
			walk(c, open, set)
		}
	}
	walk(root, true, 0)
	w := int(width/float64(max(depth, 1))) - 16
	small = w < 90
	if small {
		w += 10 // a 9 px font: the gap between a label and its node shrinks too
	}
	walk(root, true, min(max(w, 60), labelWidth))
}

type formatter struct {
	Formatter string `json:"formatter"`
}

// treeBuilder turns a grammar tree into the tree series' nodes.
type treeBuilder struct {
	groups  map[Group]bool // the groups drawn, for the colour key
	exact   bool
	costs   map[*grammar.Node]cost
	changed *grammar.Node // the root of the subtree to highlight, or nil
}

func (b *treeBuilder) build(n *grammar.Node, depth int, changed bool) *treeNode {
	changed = changed || (b.changed != nil && n == b.changed)
	label, group := blockLabel(n)
	if b.exact {
		switch n.Kind {
		case grammar.SequentialModule, grammar.BranchingModule, grammar.RoutingModule, grammar.ComputationModule:
			label, group = n.Kind.String(), moduleGroup(n.Kind)
			if l, g := blockLabel(n); g == GroupConv || g == GroupAttention || g == GroupResidual {
				label, group = n.Kind.String()+" ("+l+")", g
			}
		}
	}
	t := &treeNode{Name: label, depth: depth, changed: changed}
	t.ItemStyle = style{Color: Palette[group]}
	if b.groups != nil {
		b.groups[group] = true
	}
	t.Label = &nodeLabel{Width: labelWidth, Overflow: "truncate"}
	t.Tooltip = formatter{tooltip(label, group, n, b.costs[n])}
	switch {
	case n.Kind == grammar.Terminal:
	case !b.exact && n.Kind == grammar.ComputationModule:
		// shown as its terminal: the module and its only child are one node
		if n.Children[0] == b.changed {
			t.changed = true
		}
	case !b.exact && n.Kind == grammar.SequentialModule:
		steps := b.chain(n, nil)
		t.Name = fmt.Sprintf("sequence of %d", len(steps))
		t.Tooltip = formatter{tooltip(t.Name, GroupSequential, n, b.costs[n])}
		if len(steps) <= maxSteps {
			for _, s := range steps {
				t.Children = append(t.Children, b.build(s, depth+1, changed))
			}
			break
		}
		// a long chain is shown in chunks, so that no level holds hundreds of nodes
		for i := 0; i < len(steps); i += maxSteps {
			chunk := steps[i:min(i+maxSteps, len(steps))]
			var c cost
			for _, s := range chunk {
				sc := b.costs[s]
				c.params, c.flops, c.nodes = c.params+sc.params, c.flops+sc.flops, c.nodes+sc.nodes
			}
			name := fmt.Sprintf("steps %d–%d of %d", i+1, i+len(chunk), len(steps))
			tip := fmt.Sprintf("<b>%s</b><br/>in %v → out %v<br/>params %s · FLOPs %s · nodes %d", name,
				chunk[0].In, chunk[len(chunk)-1].Out, Count(c.params), Count(c.flops), c.nodes)
			ct := &treeNode{Name: name, depth: depth + 1, changed: changed, ItemStyle: style{Color: Palette[GroupSequential]},
				Label: &nodeLabel{Width: labelWidth, Overflow: "truncate"}, Tooltip: formatter{tip}}
			for _, s := range chunk {
				child := b.build(s, depth+2, changed)
				ct.Children = append(ct.Children, child)
				if child.changed && !changed || child.onPath {
					ct.onPath = true
				}
			}
			t.Children = append(t.Children, ct)
		}
	default:
		if group == GroupConv && !b.exact {
			t.block = true
		}
		for _, c := range n.Children {
			t.Children = append(t.Children, b.build(c, depth+1, changed))
		}
	}
	for _, c := range t.Children {
		if c.changed && !t.changed || c.onPath {
			t.onPath = true
		}
	}
	if t.changed {
		t.ItemStyle.BorderColor, t.ItemStyle.BorderWidth = changedColour, 3
		t.Label.Color, t.Label.FontWeight = changedColour, "bold"
	}
	return t
}

// chain lists the steps of a chain of sequential modules in order, stopping at the highlighted node so
// that a change is never folded into the steps around it.
func (b *treeBuilder) chain(n *grammar.Node, steps []*grammar.Node) []*grammar.Node {
	for _, c := range n.Children {
		if c.Kind == grammar.SequentialModule && c != b.changed {
			steps = b.chain(c, steps)
		} else {
			steps = append(steps, c)
		}
	}
	return steps
}

func moduleGroup(k grammar.Kind) Group {
	switch k {
	case grammar.BranchingModule:
		return GroupBranching
	case grammar.RoutingModule:
		return GroupRouting
	case grammar.ComputationModule:
		return GroupComputation
	}
	return GroupSequential
}

// expand decides which nodes start expanded: the way to a change, and every node above the chosen depth
// that is not a collapsed block.
func expand(root *treeNode, depth, maxVisible int) {
	if depth <= 0 {
		if maxVisible <= 0 {
			maxVisible = 80
		}
		depth = autoDepth(root, maxVisible)
	}
	var walk func(t *treeNode)
	walk = func(t *treeNode) {
		if len(t.Children) == 0 {
			return
		}
		open := t.onPath || (t.depth < depth && !t.block)
		collapsed := !open
		t.Collapsed = &collapsed
		for _, c := range t.Children {
			walk(c)
		}
	}
	walk(root)
}

// autoDepth is the deepest expansion level that shows at most maxVisible nodes (at least 1).
func autoDepth(root *treeNode, maxVisible int) int {
	perLevel := map[int]int{}
	var count func(t *treeNode)
	count = func(t *treeNode) {
		perLevel[t.depth]++
		if t.block {
			return
		}
		for _, c := range t.Children {
			count(c)
		}
	}
	count(root)
	visible, depth := perLevel[0], 0
	for d := 1; perLevel[d] > 0; d++ {
		if visible+perLevel[d] > maxVisible {
			break
		}
		visible += perLevel[d]
		depth = d
	}
	return max(depth, 1)
}

// visibleLeaves counts the nodes without expanded children in the initial view: what the chart's height
// must make room for.
func visibleLeaves(t *treeNode) int {
	if len(t.Children) == 0 || (t.Collapsed != nil && *t.Collapsed) {
		return 1
	}
	n := 0
	for _, c := range t.Children {
		n += visibleLeaves(c)
	}
	return n
}

func treeData(a *grammar.Arch, o TreeOptions, changed *grammar.Node, groups map[Group]bool) *treeNode {
	b := &treeBuilder{exact: o.Exact, costs: costs(a.Root), changed: changed, groups: groups}
	root := b.build(a.Root, 0, false)
	expand(root, o.Depth, o.MaxVisible)
	return root
}

// keyOrder is the order of the groups in a colour key.
var keyOrder = []Group{GroupSequential, GroupBranching, GroupRouting, GroupComputation, GroupResidual, GroupConv,
	GroupAttention, GroupLinear, GroupNorm, GroupActivation, GroupSoftmax, GroupPositional, GroupPatches,
	GroupPermute, GroupIdentity, GroupBranchFn, GroupAggregateFn, GroupIO}

// colourKey is an ECharts graphic element: a row of coloured dots naming the groups drawn, at top px,
// wrapped to the width, and a last entry saying what a filled dot means. It returns the element and the
// height it takes.
func colourKey(groups map[Group]bool, top, width int) (map[string]any, int) {
	const rowH, dot = 16, 5
	var children []any
	x, y := 0, 0
	item := func(text string, fill, stroke string) {
		w := 14 + 6*len(text) + 14
		if x > 0 && x+w > width {
			x, y = 0, y+rowH
		}
		children = append(children,
			map[string]any{"type": "circle", "shape": map[string]any{"cx": x + dot, "cy": y + dot + 2, "r": dot},
				"style": map[string]any{"fill": fill, "stroke": stroke, "lineWidth": 1.5}},
			map[string]any{"type": "text", "x": x + 14, "y": y, "style": map[string]any{"text": text, "fontSize": 11, "fill": "#444"}})
		x += w
	}
	for _, g := range keyOrder {
		if groups[g] {
			item(string(g), Palette[g], Palette[g])
		}
	}
	item("filled: collapsed, click to open", "#888", "#888")
	item("hollow: open", "#fff", "#888")
	return map[string]any{"type": "group", "left": 12, "top": top, "silent": true, "children": children}, y + rowH
}

func treeSeries(name string, root *treeNode, left, right, top, bottom string) charts.SingleSeries {
	return charts.SingleSeries{
		Name: name, Type: "tree", Data: []*treeNode{root},
		Orient: "LR", ExpandAndCollapse: opts.Bool(true), InitialTreeDepth: -1,
		Left: left, Right: right, Top: top, Bottom: bottom,
		Roam: opts.Bool(true), SymbolSize: 9,
		Label:  &opts.Label{Show: opts.Bool(true), Position: "left", Align: "right", VerticalAlign: "middle", FontSize: 11},
		Leaves: map[string]any{"label": map[string]any{"position": "right", "align": "left"}},
	}
}

// ArchTree draws an architecture's derivation tree, left to right: nodes coloured by module kind and
// terminal group (see Palette), collapsible (click a node), with tooltips giving input and output shapes,
// and the parameters, multiply-adds and nodes of the subtree. Large trees start collapsed below a depth
// that keeps the view legible; zoom and pan with the mouse.
func ArchTree(a *grammar.Arch, o TreeOptions) *Chart {
	groups := map[Group]bool{}
	root := treeData(a, o, nil, groups)
	s := a.Stats()
	title := o.Title
	if title == "" {
		title = "derivation tree"
	}
	sub := fmt.Sprintf("input %v → output %v · %d nodes · depth %d · %s params · %s FLOPs",
		a.Input, a.Output(), s.Nodes, s.Depth, Count(s.Params), Count(s.FLOPs))
	const width = treeWidth
	key, keyHeight := colourKey(groups, 56, width-24)
	t := charts.NewTree()
	t.SetGlobalOptions(initOpts(title, sub, width, treeHeight(visibleLeaves(root))+keyHeight)...)
	t.SetGlobalOptions(charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item", TriggerOn: "mousemove"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}))
	fitLabels(root, width*(1-0.12-0.22))
	ser := treeSeries("architecture", root, "12%", "22%", fmt.Sprint(66+keyHeight), "20")
	t.MultiSeries = append(t.MultiSeries, ser)
	c := chartOf(title, &t.BaseConfiguration, t)
	c.extra = map[string]any{"graphic": []any{key}}
	return c
}

// treeWidth is a tree's width in pixels: the classic Notebook's output area at a 1400 px window.
const treeWidth = 940

// treeHeight is the height of a tree's drawing in pixels for the leaves in view: 22 px a leaf, at least
// enough for a small tree (a bigger minimum leaves a tall empty box under a tree of a few nodes).
func treeHeight(leaves int) int {
	return min(max(leaves*22+100, 180), 1400)
}
