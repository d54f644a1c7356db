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
