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

// ArchDiff draws a parent and its child (mutated or crossed over) side by side as derivation trees, with
// the subtree that differs highlighted in red in both and the way to it expanded.
func ArchDiff(parent, child *grammar.Arch, o TreeOptions) *Chart {
	inParent, inChild := ChangedSubtree(parent.Root, child.Root)
	left := treeData(parent, o, inParent)
	right := treeData(child, o, inChild)
	title := o.Title
	if title == "" {
		title = "parent → child"
	}
	sub := "identical trees"
	if inParent != nil {
		from, _ := blockLabel(inParent)
		to, _ := blockLabel(inChild)
		sub = fmt.Sprintf("changed (red): %s (%d nodes) → %s (%d nodes) · params %s → %s", from, inParent.Count(),
			to, inChild.Count(), Count(parent.Params()), Count(child.Params()))
	}
	fitLabels(left, 1400*0.34)
	fitLabels(right, 1400*0.34)
	height := treeHeight(max(visibleLeaves(left), visibleLeaves(right)))
	t := charts.NewTree()
	t.SetGlobalOptions(initOpts(title, sub, 1400, height)...)
	t.SetGlobalOptions(charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item", TriggerOn: "mousemove"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}))
	t.MultiSeries = append(t.MultiSeries,
		treeSeries("parent", left, "8%", "58%"),
		treeSeries("child", right, "58%", "8%"))
	return chartOf(title, &t.BaseConfiguration, t)
}
