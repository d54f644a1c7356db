package models

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/einspace-go/einspace/grammar"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
)

// TestTrainStepTraffic checks the accounting of a training step's memory writes on a small convolutional
// network: the convolutions' gathers and matrix products are there, the rows come largest first, the
// step's inputs (images and labels) are among the graph's parameters, and every batch-dependent output
// grows in proportion to the batch, so the total is affine in it: equal increments from 2 to 4 and 4 to 6,
// give or take a few scalar constants (a graph holds one node per distinct constant, and some constants are
// the batch size or depend on it).
func TestTrainStepTraffic(t *testing.T) {
	input := grammar.ImShape(3, 12, 12)
	m := parseModel(t, smallCNN, input, 5, 1)
	r := rand.New(rand.NewPCG(1, 1))
	totals := map[int]int64{}
	for _, batch := range []int{2, 4, 6} {
		images := randomFloats(r, batch*int(input.Size()))
		labels := make([]int32, batch)
		ops, err := m.TrainStepTraffic(images, labels)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.IsSortedFunc(ops, func(a, b OpTraffic) int { return int(b.Bytes - a.Bytes) }) {
			t.Errorf("batch %d: rows not sorted by bytes: %v", batch, ops)
		}
		bytes := map[string]int64{}
		for _, o := range ops {
			bytes[o.Op] = o.Bytes
			totals[batch] += o.Bytes
		}
		if bytes["Gather"] == 0 || bytes["DotGeneral"] == 0 {
			t.Errorf("batch %d: no gathers or matrix products in a convolutional network's step: %v", batch, ops)
		}
		if in := int64(4 * (len(images) + len(labels))); bytes["Parameter"] < in {
			t.Errorf("batch %d: parameters hold %d bytes, fewer than the step's inputs (%d)", batch, bytes["Parameter"], in)
		}
	}
	if d1, d2 := totals[4]-totals[2], totals[6]-totals[4]; d1 <= 0 || max(d1-d2, d2-d1) > 4*8 {
		t.Errorf("step traffic at batch 2, 4, 6: %d, %d, %d bytes: increments %d and %d, want equal (within 8 scalars) and positive", totals[2], totals[4], totals[6], d1, d2)
	}
}

// TestTrainStepTrafficCountsWhatRuns checks that the traffic leaves out what the step never runs: the
// automatic gradients of the convolutions, which their hand-written gradients replace. In smallCNN the
// only scatter that runs is the stride-2 convolution's input gradient (col2im, one band at this size),
// into the padded view of its 16-channel input; the graph also holds the automatic gradient of that
// convolution's patch gather, a scatter of the same shape that never runs. (The first convolution's
// input is the image, which has no gradient, so neither is built for it.)
func TestTrainStepTrafficCountsWhatRuns(t *testing.T) {
	input := grammar.ImShape(3, 12, 12)
	m := parseModel(t, smallCNN, input, 5, 1)
	const batch = 2
	images := randomFloats(rand.New(rand.NewPCG(2, 2)), batch*int(input.Size()))
	_, _, g, err := m.trainStep(images, make([]int32, batch))
	if err != nil {
		t.Fatal(err)
	}
	scatters := func(nodes []*Node) (n int, shapes []string) {
		for _, node := range nodes {
			if node.Type().String() == "ScatterSum" {
				n++
				shapes = append(shapes, node.Shape().String())
			}
		}
		return n, shapes
	}
	all, _ := scatters(g.Nodes())
	live, liveShapes := scatters(m.trainStepNodes(g))
	// The padded view of conv2's input: 16 channels × 14 rows, 7 column blocks of stride 2, batch 2.
	if want := "(Float32)[224, 7, 2, 2]"; live != 1 || liveShapes[0] != want {
		t.Errorf("scatters that run: %d %v, want one shaped %s", live, liveShapes, want)
	}
	if all <= live {
		t.Errorf("the graph holds %d scatters and %d run: the automatic gradients' scatters are missing from the graph", all, live)
	}
	counted := map[*Node]bool{}
	for _, n := range m.trainStepNodes(g) {
		counted[n] = true
	}
	if out, _ := g.State(trainOutputsKey{}).([]*Node); len(out) != 2 || !counted[out[0]] || !counted[out[1]] {
		t.Errorf("the step's outputs are not counted: %v", out)
	}
}
