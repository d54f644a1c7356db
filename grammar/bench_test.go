package grammar

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkSample reports the time per sampled architecture at 3×28×28 with p = 0.32 and the default caps,
// and the time per node of the returned trees (discarded backtracking work included) and per node built.
func BenchmarkSample(b *testing.B) {
	g := Default()
	r := rand.New(rand.NewPCG(1, 2))
	var c Counters
	nodes := 0
	b.ReportAllocs()
	for b.Loop() {
		a, err := g.SampleCounted(r, ImShape(3, 28, 28), &c)
		if err != nil {
			b.Fatal(err)
		}
		nodes += a.Root.Count()
	}
	ns := float64(b.Elapsed().Nanoseconds())
	b.ReportMetric(ns/float64(nodes), "ns/node")
	b.ReportMetric(ns/float64(c.Created), "ns/built-node")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkMutate reports mutations per second of sampled parents at 3×28×28.
func BenchmarkMutate(b *testing.B) {
	g := Default()
	r := rand.New(rand.NewPCG(1, 2))
	parents := make([]*Arch, 64)
	for i := range parents {
		a, err := g.Sample(r, ImShape(3, 28, 28))
		if err != nil {
			b.Fatal(err)
		}
		parents[i] = a
	}
	i := 0
	for b.Loop() {
		if _, err := g.Mutate(r, parents[i%len(parents)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mutations/s")
}

// BenchmarkMutateResNet18 mutates the 267-node ResNet-18 seed, the parent of RE(RN18).
func BenchmarkMutateResNet18(b *testing.B) {
	g := Default()
	r := rand.New(rand.NewPCG(1, 2))
	seed, _ := SeedArch(ResNet18, ImShape(3, 28, 28))
	for b.Loop() {
		if _, err := g.Mutate(r, seed); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mutations/s")
}

// BenchmarkParse parses the four seeds; b.SetBytes makes the tool report MB/s.
func BenchmarkParse(b *testing.B) {
	var texts []string
	size := 0
	for _, name := range SeedNames() {
		root, _ := Seed(name)
		texts = append(texts, root.String())
		size += len(texts[len(texts)-1])
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, text := range texts {
			if _, err := Parse(text); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkInfer re-infers the ResNet-18 seed.
func BenchmarkInfer(b *testing.B) {
	root, _ := Seed(ResNet18)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Infer(root, ImShape(3, 28, 28)); err != nil {
			b.Fatal(err)
		}
	}
}
