package models

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/core/tensors"
)

// TestPadsMoveEveryNumber checks the backend's Pad, as the convolutions and the grammar's pooling use it
// (layers.go, conv.go), against padding done here one number at a time: zero and non-zero fill, negative
// padding (a crop), interior padding, and outputs below and above the size at which the patched backend
// shares the filling and the copying among its workers, and writes only the borders with the fill where it
// can (docs/BACKEND-PATCHES.md). A pad only moves numbers, so the comparison is exact.
func TestPadsMoveEveryNumber(t *testing.T) {
	be, err := Backend()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		dims []int
		pad  []compute.PadAxis
		fill float32
	}{
		{dims: []int{2, 3, 5, 4}, pad: []compute.PadAxis{{}, {}, {Start: 1, End: 1}, {Start: 1, End: 1}}},                       // small
		{dims: []int{64, 16, 28, 28}, pad: []compute.PadAxis{{}, {}, {Start: 1, End: 1}, {Start: 1, End: 1}}},                   // 3.6 MB, like layers.go
		{dims: []int{64, 28, 28, 16}, pad: []compute.PadAxis{{}, {Start: 2, End: 1}, {Start: 0, End: 3}, {}}, fill: 1.5},        // like conv.go, non-zero fill
		{dims: []int{3, 40, 30, 50}, pad: []compute.PadAxis{{Start: 1}, {Start: -2, End: 1}, {Start: 1, End: -3, Interior: 1}}}, // crop, interior, leading pad
		{dims: []int{32, 14, 14, 64}, pad: []compute.PadAxis{{}, {Start: 1, End: 1}, {Start: 1, End: 1}, {}}},                   // 2.1 MB, like conv.go
		{dims: []int{16, 10, 10, 64}, pad: []compute.PadAxis{{Start: 2}, {End: 1}, {Start: 3, End: 2}, {}}, fill: -2},           // 0.8 MB, one core
		{dims: []int{64, 10, 10, 64}, pad: []compute.PadAxis{{Start: 2, End: 1}, {}, {}, {}}, fill: 3.25},                       // 1.7 MB, first axis padded and shared
	}
	r := rand.New(rand.NewPCG(7, 11))
	for _, c := range cases {
		t.Run(fmt.Sprint(c.dims, c.pad, c.fill), func(t *testing.T) {
			n := 1
			for _, d := range c.dims {
				n *= d
			}
			x := randomFloats(r, n)
			e, err := NewExec(be, func(x, fill *Node) *Node { return Pad(x, fill, c.pad...) })
			if err != nil {
				t.Fatal(err)
			}
			// A first pad with another fill leaves its output to the backend's pool, from which the second
			// one's output is likely to come: a number the second pad does not write keeps what was there
			// before (the first pad's fill, or an earlier case's numbers: the non-zero fills differ between
			// cases so that those cannot pass for this one's).
			stale, err := e.Exec(tensors.FromFlatDataAndDimensions(x, c.dims...), c.fill+9)
			if err != nil {
				t.Fatal(err)
			}
			stale[0].FinalizeAll()
			out, err := e.Exec(tensors.FromFlatDataAndDimensions(x, c.dims...), c.fill)
			if err != nil {
				t.Fatal(err)
			}
			got := tensors.MustCopyFlatData[float32](out[0])
			if want := padByHand(x, c.dims, c.pad, c.fill); !slices.Equal(got, want) {
				t.Fatalf("output differs from the padding done by hand (%d numbers, %d expected)", len(got), len(want))
			}
		})
	}
}

// padByHand pads x (of shape dims) as XLA's Pad does: along each axis, config.Start fill values before the
// first element (or, when negative, that many elements dropped), config.Interior between neighbours and
// config.End after the last.
func padByHand(x []float32, dims []int, pad []compute.PadAxis, fill float32) []float32 {
	rank := len(dims)
	config := func(a int) compute.PadAxis {
		if a < len(pad) {
			return pad[a]
		}
		return compute.PadAxis{}
	}
	outDims := make([]int, rank)
	total := 1
	for a, d := range dims {
		c := config(a)
		outDims[a] = d + c.Start + c.End + max(d-1, 0)*c.Interior
		total *= outDims[a]
	}
	out := make([]float32, total)
	for i := range out {
		out[i] = fill
	}
	index := make([]int, rank)
	for i, v := range x {
		rest, at, ok := i, 0, true
		for a := rank - 1; a >= 0; a-- {
			index[a] = rest % dims[a]
			rest /= dims[a]
		}
		for a := range rank {
			c := config(a)
			o := c.Start + index[a]*(1+c.Interior)
			if o < 0 || o >= outDims[a] {
				ok = false
				break
			}
			at = at*outDims[a] + o
		}
		if ok {
			out[at] = v
		}
	}
	return out
}

// TestConcatenationsMoveEveryNumber checks the backend's Concatenate, as the grammar's concatenating
// branches and the convolutions use it (network.go, conv.go), against concatenation done here: along the
// first, a middle and the last axis, of two and three inputs, with outputs below and above the size at which
// the patched backend shares the copying among its workers (docs/BACKEND-PATCHES.md). Exact, as for pads.
func TestConcatenationsMoveEveryNumber(t *testing.T) {
	be, err := Backend()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		dims [][]int
		axis int
	}{
		{dims: [][]int{{2, 3, 4}, {2, 5, 4}}, axis: 1},                           // small
		{dims: [][]int{{64, 32, 14, 14}, {64, 32, 14, 14}}, axis: 1},             // 3.2 MB, channels of a branching
		{dims: [][]int{{256, 49, 24}, {256, 49, 40}, {256, 49, 1}}, axis: 2},     // 3.3 MB, last axis, 3 inputs
		{dims: [][]int{{300, 20, 40}, {13, 20, 40}}, axis: 0},                    // 1 MB along the first axis
		{dims: [][]int{{7, 1000, 3, 5}, {7, 3000, 3, 5}, {7, 1, 3, 5}}, axis: 1}, // few outer blocks, 1.7 MB
	}
	r := rand.New(rand.NewPCG(13, 17))
	for _, c := range cases {
		t.Run(fmt.Sprint(c.dims, c.axis), func(t *testing.T) {
			inputs := make([]*tensors.Tensor, len(c.dims))
			flats := make([][]float32, len(c.dims))
			for i, d := range c.dims {
				n := 1
				for _, v := range d {
					n *= v
				}
				flats[i] = randomFloats(r, n)
				inputs[i] = tensors.FromFlatDataAndDimensions(flats[i], d...)
			}
			e, err := NewExec(be, func(xs []*Node) *Node { return Concatenate(xs, c.axis) })
			if err != nil {
				t.Fatal(err)
			}
			args := make([]any, len(inputs))
			for i, in := range inputs {
				args[i] = in
			}
			out, err := e.Exec(args...)
			if err != nil {
				t.Fatal(err)
			}
			got := tensors.MustCopyFlatData[float32](out[0])
			// By hand: for each index of the axes before c.axis, each input's block in turn.
			outer := 1
			for _, v := range c.dims[0][:c.axis] {
				outer *= v
			}
			var want []float32
			for o := range outer {
				for _, flat := range flats {
					block := len(flat) / outer
					want = append(want, flat[o*block:(o+1)*block]...)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("output differs from the concatenation done by hand (%d numbers, %d expected)", len(got), len(want))
			}
		})
	}
}
