package viz_test

import (
	"fmt"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/viz"
)

// A convolution is drawn as one node with the name a person gives it.
func ExampleConv() {
	a, _ := grammar.ParseArch("routing[im2col3k2s1p, computation<linear128>, col2im]", grammar.ImShape(64, 32, 32))
	label, ok := viz.Conv(a.Root)
	fmt.Println(label, ok)
	// Output: conv3x3/2 → 128 true
}

// The subtree a mutation changed is found by comparing the trees.
func ExampleChangedSubtree() {
	parent, _ := grammar.Parse("sequential(routing[im2col3k1s1p, computation<linear64>, col2im], computation<leakyrelu>)")
	child, _ := grammar.Parse("sequential(routing[im2col3k1s1p, computation<leakyrelu>, col2im], computation<leakyrelu>)")
	from, to := viz.ChangedSubtree(parent, child)
	fmt.Println(from, "→", to)
	// Output: linear64 → leakyrelu
}

func ExampleLogBins() {
	for _, b := range viz.LogBins([]float64{0, 5, 20, 300, 4000}, 1) {
		fmt.Println(b.Low, b.High, b.Count)
	}
	// Output:
	// 0 1 1
	// 1 10 1
	// 10 100 1
	// 100 1000 1
	// 1000 10000 1
}

func ExampleCount() {
	fmt.Println(viz.Count(950), viz.Count(1792), viz.Count(11210560), viz.Count(3_100_000_000),
		viz.Count(1_780_000_000_000), viz.Count(2_100_000_000_000_000))
	// Output: 950 1.79K 11.2M 3.1G 1.78T 2.1P
}
