package models

import (
	"cmp"
	"slices"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
)

// OpTraffic is one kind of operation in a training step: how many nodes of that kind the step runs and
// the bytes their outputs hold in all, which is what the backend writes to memory running them (an
// operation the backend fuses with another, or computes in place, writes less).
type OpTraffic struct {
	Op    string
	Nodes int
	Bytes int64
}

// TrainStepTraffic runs one training step, as TrainStep does (the weights change), and returns the
// operations of the graph that ran it, grouped by kind, the most bytes first. Compare architectures or
// builds by bytes per image: divide by the batch size, len(labels).
//
// Only the operations the step's results need are counted: those its outputs (the loss, the correct
// count and the weights' new values) depend on. The graph holds others that never run, the automatic
// gradients a hand-written one replaces (customGradient), which the backend leaves out.
func (m *Model) TrainStepTraffic(images []float32, labels []int32) ([]OpTraffic, error) {
	_, _, g, err := m.trainStep(images, labels)
	if err != nil {
		return nil, err
	}
	byOp := map[string]*OpTraffic{}
	for _, n := range m.trainStepNodes(g) {
		op := n.Type().String()
		t := byOp[op]
		if t == nil {
			t = &OpTraffic{Op: op}
			byOp[op] = t
		}
		t.Nodes++
		if s := n.Shape(); s.Ok() {
			t.Bytes += s.ByteSize()
		}
	}
	out := make([]OpTraffic, 0, len(byOp))
	for _, t := range byOp {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b OpTraffic) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), cmp.Compare(a.Op, b.Op))
	})
	return out, nil
}

// trainStepNodes are the nodes of a training step's graph its outputs depend on, in graph order.
func (m *Model) trainStepNodes(g *Graph) []*Node {
	roots, _ := g.State(trainOutputsKey{}).([]*Node)
	for v := range m.Store.IterVariables() {
		if v.ChangedInGraph(g) {
			roots = append(roots, v.NodeValue(g))
		}
	}
	needed := map[*Node]bool{}
	for len(roots) > 0 {
		n := roots[len(roots)-1]
		roots = roots[:len(roots)-1]
		if needed[n] {
			continue
		}
		needed[n] = true
		roots = append(roots, n.Inputs()...)
	}
	var out []*Node
	for _, n := range g.Nodes() {
		if needed[n] {
			out = append(out, n)
		}
	}
	return out
}
