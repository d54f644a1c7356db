package viz

import (
	"fmt"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/einspace-go/einspace/grammar"
)

// ChangedSubtree finds where two trees differ: the smallest pair of corresponding subtrees outside of
// which they are equal. A mutation changes one subtree and a crossover replaces one, so this is the part
// that was changed. It returns nil, nil when the trees are equal.
func ChangedSubtree(a, b *grammar.Node) (inA, inB *grammar.Node) {
	if grammar.Equal(a, b) {
		return nil, nil
	}
	for {
		if a.Kind != b.Kind || a.Op != b.Op || len(a.Children) != len(b.Children) {
			return a, b
		}
		differ := -1
		for i := range a.Children {
			if !grammar.Equal(a.Children[i], b.Children[i]) {
				if differ >= 0 {
					return a, b // two children differ: the change is this node's
				}
				differ = i
			}
		}
		a, b = a.Children[differ], b.Children[differ]
	}
}

// ArchDiff draws a parent and its child (mutated or crossed over) as derivation trees, the parent above
// the child, each as wide as the chart, with the subtree that differs highlighted in red in both and the way
// to it expanded.
func ArchDiff(parent, child *grammar.Arch, o TreeOptions) *Chart {
	inParent, inChild := ChangedSubtree(parent.Root, child.Root)
	groups := map[Group]bool{}
	top := treeData(parent, o, inParent, groups)
	bottom := treeData(child, o, inChild, groups)
	title := o.Title
	if title == "" {
		title = "parent (above) → child (below)"
	}
	sub := "identical trees"
	if inParent != nil {
		from, _ := blockLabel(inParent)
		to, _ := blockLabel(inChild)
		sub = fmt.Sprintf("changed (red): %s (%d nodes) → %s (%d nodes) · params %s → %s", from, inParent.Count(),
			to, inChild.Count(), Count(parent.Params()), Count(child.Params()))
	}
	const width = treeWidth
	key, keyHeight := colourKey(groups, 56, width-24)
	fitLabels(top, width*(1-0.12-0.22))
	fitLabels(bottom, width*(1-0.12-0.22))
	// Each tree gets the height it needs; titles and the gap between the two take the rest.
	const gap, foot = 50, 20
	head := 70 + keyHeight
	ht, hb := treeHeight(visibleLeaves(top))-100, treeHeight(visibleLeaves(bottom))-100
	height := head + ht + gap + hb + foot
	t := charts.NewTree()
	t.SetGlobalOptions(initOpts(title, sub, width, height)...)
	t.SetGlobalOptions(charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item", TriggerOn: "mousemove"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}))
	px := func(v int) string { return fmt.Sprintf("%d", v) }
	t.MultiSeries = append(t.MultiSeries,
		treeSeries("parent", top, "12%", "22%", px(head), px(height-head-ht)),
		treeSeries("child", bottom, "12%", "22%", px(head+ht+gap), px(foot)))
	c := chartOf(title, &t.BaseConfiguration, t)
	label := func(text string, top int) map[string]any {
		return map[string]any{"type": "text", "left": 12, "top": top, "silent": true,
			"style": map[string]any{"text": text, "fontSize": 13, "fontWeight": "bold", "fill": "#333"}}
	}
	c.extra = map[string]any{"graphic": []any{key, label("parent", head-6), label("child", head+ht+gap-22)}}
	return c
}
