package grammar_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/einspace-go/einspace/grammar"
)

// A 3×3 convolution is an im2col, a linear layer on the patches, and a col2im.
func ExampleParseArch() {
	conv, err := grammar.ParseArch("routing[im2col3k1s1p, computation<linear64>, col2im]", grammar.ImShape(3, 28, 28))
	if err != nil {
		panic(err)
	}
	fmt.Println(conv.Output(), conv.Params())
	// Output: (64,28,28) 1792
}

// Errors say where, which node and why.
func ExampleInfer() {
	root, _ := grammar.Parse("routing[identity, computation<linear64>, col2im]")
	_, err := grammar.Infer(root, grammar.ImShape(3, 28, 28))
	fmt.Println(err)
	// Output: 1:42: col2im at root.post: needs a col-mode input (L,D), got (3,28,64) in im mode
}

func ExampleParse_error() {
	_, err := grammar.Parse("sequential(linear64, computation<norm>)")
	fmt.Println(err)
	// Output: 1:12: expected a module for the first module of sequential, found the terminal linear64: write computation<linear64>
}

func ExampleSeedArch() {
	for _, name := range grammar.SeedNames() {
		a, _ := grammar.SeedArch(name, grammar.ImShape(3, 64, 64))
		fmt.Printf("%-9s %v %d\n", name, a.Output(), a.Params())
	}
	// Output:
	// mlp_mixer (256,512) 6472192
	// resnet18  (512,4,4) 11210560
	// vit       (256,512) 4367872
	// wrn16_4   (256,16,16) 2748576
}

// The same seed always gives the same architecture.
func ExampleGrammar_Sample() {
	g := grammar.Default()
	r := rand.New(rand.NewPCG(1, 1))
	a, err := g.Sample(r, grammar.ImShape(3, 28, 28))
	if err != nil {
		panic(err)
	}
	fmt.Println(a)
	fmt.Println(a.Output(), a.Stats().Nodes)
	// Output:
	// routing[permute132, routing[im2col8k8s0p, sequential(routing[identity, routing[permute21, sequential(computation<learnable_positional_encoding>, computation<linear256>), permute21], identity], routing[identity, branching{clone_tensor8, branching{group_dim4s1d, computation<linear16>, cat_tensors1d4t}, cat_tensors2d8t}, identity]), permute21], permute21]
	// (256,128) 29
}

func ExampleGrammar_Mutate() {
	g := grammar.Default()
	r := rand.New(rand.NewPCG(3, 1))
	parent, _ := grammar.ParseArch("sequential(routing[im2col3k1s1p, computation<linear64>, col2im], computation<leakyrelu>)", grammar.ImShape(3, 28, 28))
	child, err := g.Mutate(r, parent)
	if err != nil {
		panic(err)
	}
	fmt.Println(child)
	// Output:
	// sequential(routing[im2col3k1s1p, computation<leakyrelu>, col2im], computation<leakyrelu>)
}

func ExampleInspect() {
	vit, _ := grammar.SeedArch(grammar.ViT, grammar.ImShape(3, 28, 28))
	heads := 0
	grammar.Inspect(vit.Root, func(n *grammar.Node) bool {
		if n.Kind == grammar.BranchingModule && n.Factor() == 4 {
			heads += n.Factor()
		}
		return true
	})
	fmt.Println("attention heads:", heads)
	// Output: attention heads: 16
}

func ExampleShape_Arg() {
	s := grammar.ImShape(3, 28, 28)
	again, _ := grammar.ParseShape(s.Arg())
	fmt.Println(s, s.Arg(), again == s)
	// Output: (3,28,28) 3x28x28 true
}

func ExampleBranchingRate() {
	fmt.Printf("r(0.32) = %.4f, critical p = %.4f\n", grammar.BranchingRate(0.32), grammar.CriticalP)
	// Output: r(0.32) = 0.9822, critical p = 0.3077
}
