package grammar

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// sameState checks that the sampler's state for every node equals what Infer computes: the two are
// separate code paths that must agree.
func sameState(a, b *Node) error {
	if a.In != b.In || a.Other != b.Other || a.Out != b.Out || a.InBF != b.InBF || a.OutBF != b.OutBF ||
		a.LastIm != b.LastIm || a.Depth != b.Depth {
		return fmt.Errorf("%s: sampled state in %v other %v out %v bf %d/%d im %v depth %d, inferred in %v other %v out %v bf %d/%d im %v depth %d",
			a, a.In, a.Other, a.Out, a.InBF, a.OutBF, a.LastIm, a.Depth, b.In, b.Other, b.Out, b.InBF, b.OutBF, b.LastIm, b.Depth)
	}
	for i := range a.Children {
		if err := sameState(a.Children[i], b.Children[i]); err != nil {
			return err
		}
	}
	return nil
}

// TestGoldenSamples pins the first samples, a mutation and a crossover for a fixed seed.
func TestGoldenSamples(t *testing.T) {
	g := Default()
	r := rand.New(rand.NewPCG(2024, 5))
	want := []string{"e22a19caca4d99fe75763b8b9189bfbf", "3c8258b87ed6c40ba58f59f91eb16070",
		"69f1e916e691cf4a46792dd0ddaa0563", "8edfd410bfb72cb562baffcb7ce22679", "c16342ab5c64dbef6666f9ace5cbefdc"}
	var archs []*Arch
	for i, w := range want {
		a, err := g.Sample(r, ImShape(3, 28, 28))
		if err != nil {
			t.Fatal(err)
		}
		archs = append(archs, a)
		if got := a.Hash(); got != w {
			t.Errorf("sample %d: hash %s, want %s\n%s", i, got, w, a)
		}
	}
	child, err := g.Mutate(r, archs[0])
	if err != nil {
		t.Fatal(err)
	}
	if got, w := child.String(), "routing[permute321, sequential(computation<linear256>, routing[permute132, routing[im2col8k8s0p, routing[identity, computation<linear32>, identity], identity], identity]), permute21]"; got != w {
		t.Errorf("mutant of sample 0:\n got %s\nwant %s", got, w)
	}
	seed, _ := SeedArch(ResNet18, ImShape(3, 28, 28))
	cross, err := g.Crossover(r, seed, archs[1])
	if err != nil {
		t.Fatal(err)
	}
	if got, w := cross.Hash(), "3bf279dec9b968761e183c6149a61014"; got != w {
		t.Errorf("crossover of resnet18 and sample 1: hash %s, want %s\n%s", got, w, cross)
	}
}

func TestSampleDeterminism(t *testing.T) {
	g := Default()
	for seed := range uint64(20) {
		a, err := g.Sample(rand.New(rand.NewPCG(seed, 1)), ImShape(1, 24, 24))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := g.Sample(rand.New(rand.NewPCG(seed, 1)), ImShape(1, 24, 24))
		if a.String() != b.String() {
			t.Fatalf("seed %d gave two different architectures", seed)
		}
	}
}

// propertyCount is the number of samples the property test draws: 100,000 in a full run.
func propertyCount() int {
	switch {
	case raceEnabled:
		return 3_000
	case testing.Short():
		return 10_000
	}
	return 100_000
}

// TestSampleProperties draws many architectures and checks that every one infers to the state the
// sampler gave it, respects the depth limit and the caps, and that its mutated and crossed children are
// valid and differ from their parents.
func TestSampleProperties(t *testing.T) {
	g := Default()
	r := rand.New(rand.NewPCG(11, 13))
	input := ImShape(3, 28, 28)
	var prev *Arch
	var c Counters
	crossed := 0
	n := propertyCount()
	for i := range n {
		a, err := g.SampleCounted(r, input, &c)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Infer(a.Root.Clone(), input)
		if err != nil {
			t.Fatalf("sample %d does not infer: %v\n%s", i, err, a)
		}
		if err := sameState(a.Root, again.Root); err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		st := a.Stats()
		if st.Depth > g.MaxDepth || st.Nodes > g.Limits.Nodes || a.Root.Kind == ComputationModule {
			t.Fatalf("sample %d: depth %d, %d nodes, root %s", i, st.Depth, st.Nodes, a.Root.Kind)
		}
		child, err := g.Mutate(r, a)
		if err != nil {
			t.Fatalf("sample %d: mutate: %v", i, err)
		}
		checkChild(t, "mutant", i, child, a)
		if prev != nil {
			if x, err := g.Crossover(r, a, prev); err == nil {
				checkChild(t, "crossover", i, x, a, prev)
				crossed++
			}
		}
		prev = a
	}
	// Small trees often share no input shape below the root: about half of the pairs fit (47% seen).
	if crossed < n/3 {
		t.Errorf("only %d of %d crossovers found a fitting pair of modules", crossed, n-1)
	}
	t.Logf("%d samples: %d attempts, %d over a cap, %d backtracks, %d crossovers", n, c.Attempts, c.Rejected(), c.Backtracks, crossed)
}

func checkChild(t *testing.T, what string, i int, child *Arch, parents ...*Arch) {
	t.Helper()
	again, err := Infer(child.Root.Clone(), child.Input)
	if err != nil {
		t.Fatalf("sample %d: %s does not infer: %v", i, what, err)
	}
	if err := sameState(child.Root, again.Root); err != nil {
		t.Fatalf("sample %d: %s: %v", i, what, err)
	}
	text := child.String()
	for _, p := range parents {
		if text == p.String() {
			t.Fatalf("sample %d: %s equals its parent %s", i, what, text)
		}
	}
	if st := child.Stats(); st.Depth > 100 || st.Nodes > DefaultLimits.Nodes {
		t.Fatalf("sample %d: %s has depth %d and %d nodes", i, what, st.Depth, st.Nodes)
	}
}

func TestCaps(t *testing.T) {
	g := Default()
	g.Limits = Limits{Nodes: 50, Params: 100_000, FLOPs: 5_000_000, ActivationBytes: 4 << 20}
	r := rand.New(rand.NewPCG(3, 3))
	var c Counters
	for range 500 {
		a, err := g.SampleCounted(r, ImShape(3, 28, 28), &c)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Limits.Check(a.Stats()); err != nil {
			t.Fatalf("a sample broke a cap: %v", err)
		}
		m, err := g.MutateCounted(r, a, &c)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Limits.Check(m.Stats()); err != nil {
			t.Fatalf("a mutant broke a cap: %v", err)
		}
	}
	if c.RejectedNodes == 0 || c.RejectedParams == 0 || c.RejectedFLOPs == 0 {
		t.Errorf("caps never counted a rejection: %+v", c)
	}
	g.Limits = Limits{Nodes: 2}
	if _, err := g.Sample(r, ImShape(3, 28, 28)); err == nil {
		t.Error("a 2-node cap should make sampling fail with an error")
	}
}

func TestMutateRules(t *testing.T) {
	g := Default()
	r := rand.New(rand.NewPCG(5, 5))
	mixer, _ := SeedArch(Mixer, ImShape(3, 28, 28))
	seedOnlyGone := false
	for range 300 {
		child, err := g.Mutate(r, mixer)
		if err != nil {
			t.Fatal(err)
		}
		// A mutated branching function keeps its factor; the tree stays well formed.
		Inspect(child.Root, func(n *Node) bool {
			if n.Kind == BranchingModule && n.Factor() != 2 && len(n.Children) != 3 {
				t.Fatalf("branching with factor %d and %d children", n.Factor(), len(n.Children))
			}
			return true
		})
		a, b := countOp(mixer.Root, opLinearX4), countOp(child.Root, opLinearX4)
		if b < a {
			seedOnlyGone = true
		}
	}
	if !seedOnlyGone {
		t.Error("no mutation ever replaced a seed-only linear_x4 in 300 tries")
	}
}

func countOp(n *Node, op Op) int {
	count := 0
	Inspect(n, func(n *Node) bool {
		if n.Kind == Terminal && n.Op == op {
			count++
		}
		return true
	})
	return count
}
