package models

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/core/tensors"
)

// TestGathersMoveEveryNumber checks the backend's Gather, through GatherSlices as the convolutions use it
// (conv.go's patch bands and sliceAxis), against a gather computed here one number at a time: slices
// copied in one contiguous block and in several, start indices out of range (clamped, as XLA does), and
// outputs below and above the size at which the patched backend shares the copying among its workers
// (docs/BACKEND-PATCHES.md). A gather only moves numbers, so the comparison is exact.
func TestGathersMoveEveryNumber(t *testing.T) {
	be, err := Backend()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		dims, axes, sizes []int
		starts            int
	}{
		{dims: []int{3, 8, 9, 4}, axes: []int{1, 2}, sizes: []int{2, 3}, starts: 7},              // small: one worker
		{dims: []int{6, 40, 50, 64}, axes: []int{1, 2}, sizes: []int{5, 7}, starts: 300},         // 16 MB, 30 blocks a slice
		{dims: []int{24, 30, 4, 256}, axes: []int{0, 1, 2}, sizes: []int{1, 28, 1}, starts: 500}, // 28 MB, like a patch band
		{dims: []int{64, 3, 28, 32}, axes: []int{2}, sizes: []int{13}, starts: 3},                // a slice of one axis, 1 start
		{dims: []int{64, 30, 30, 64}, axes: []int{1}, sizes: []int{28}, starts: 1},               // 14 MB, one slice of 64 blocks
		{dims: []int{15, 14, 40, 128}, axes: []int{2}, sizes: []int{30}, starts: 1},              // 3.2 MB, one slice of 15×14 blocks, cut at (7, 7)
	}
	r := rand.New(rand.NewPCG(3, 5))
	for _, c := range cases {
		t.Run(fmt.Sprint(c.dims, c.axes, c.sizes, c.starts), func(t *testing.T) {
			n := 1
			for _, d := range c.dims {
				n *= d
			}
			x := make([]float32, n)
			for i := range x {
				x[i] = r.Float32()
			}
			starts := make([]int32, c.starts*len(c.axes))
			for i := range starts {
				d := c.dims[c.axes[i%len(c.axes)]]
				starts[i] = int32(r.IntN(d+6)) - 3 // some below 0 and some past the end
			}
			e, err := NewExec(be, func(x, start *Node) *Node {
				return GatherSlices(x, c.axes, start, c.sizes, false)
			})
			if err != nil {
				t.Fatal(err)
			}
			out, err := e.Exec(tensors.FromFlatDataAndDimensions(x, c.dims...),
				tensors.FromFlatDataAndDimensions(starts, c.starts, len(c.axes)))
			if err != nil {
				t.Fatal(err)
			}
			got := tensors.MustCopyFlatData[float32](out[0])
			if want := gatherByHand(x, c.dims, c.axes, c.sizes, starts); !slices.Equal(got, want) {
				t.Fatalf("gather differs from the one computed by hand (%d and %d numbers)", len(got), len(want))
			}
		})
	}
}

// gatherByHand is GatherSlices(x, axes, starts, sizes) computed one number at a time: for each row of
// starts, the window of x whose sliced axes begin at the row's start (clamped to [0, dim-size]) and run for
// size, the other axes whole.
func gatherByHand(x []float32, dims, axes, sizes []int, starts []int32) []float32 {
	rank := len(dims)
	window := slices.Clone(dims)
	for i, a := range axes {
		window[a] = sizes[i]
	}
	strides := make([]int, rank)
	for s, i := 1, rank-1; i >= 0; i-- {
		strides[i], s = s, s*dims[i]
	}
	var out []float32
	origin := make([]int, rank)
	for row := 0; row < len(starts)/len(axes); row++ {
		clear(origin)
		for i, a := range axes {
			origin[a] = min(max(int(starts[row*len(axes)+i]), 0), dims[a]-sizes[i])
		}
		idx := make([]int, rank) // position inside the window, axis by axis
		for {
			flat := 0
			for a := range rank {
				flat += (origin[a] + idx[a]) * strides[a]
			}
			out = append(out, x[flat])
			a := rank - 1
			for ; a >= 0; a-- {
				if idx[a]++; idx[a] < window[a] {
					break
				}
				idx[a] = 0
			}
			if a < 0 {
				break
			}
		}
	}
	return out
}
