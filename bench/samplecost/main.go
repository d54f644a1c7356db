// Command samplecost measures the worst case of sampling: the slowest sample and the most memory one
// sample allocates, over many samples at 3×28×28 with p = 0.32 and the default caps.
//
//	go run ./bench/samplecost -n 20000
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/einspace-go/einspace/grammar"
)

func main() {
	n := flag.Int("n", 20000, "samples")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	g := grammar.Default()
	r := rand.New(rand.NewPCG(*seed, 2))
	var c grammar.Counters
	durations := make([]time.Duration, 0, *n)
	var maxAlloc uint64
	var ms runtime.MemStats
	nodes := 0
	start := time.Now()
	for range *n {
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		t0 := time.Now()
		a, err := g.SampleCounted(r, grammar.ImShape(3, 28, 28), &c)
		d := time.Since(t0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		runtime.ReadMemStats(&ms)
		maxAlloc = max(maxAlloc, ms.TotalAlloc-before)
		durations = append(durations, d)
		nodes += a.Root.Count()
	}
	total := time.Since(start)
	slices.Sort(durations)
	q := func(f float64) time.Duration { return durations[int(f*float64(len(durations)-1))] }
	fmt.Printf("samples %d in %v (%.0f samples/s, readings of memory included)\n", *n, total.Round(time.Millisecond), float64(*n)/total.Seconds())
	fmt.Printf("per sample: median %v, p99 %v, max %v\n", q(0.5), q(0.99), durations[len(durations)-1])
	fmt.Printf("nodes returned %d, built %d (%.1f built per returned), %d samples over a cap\n", nodes, c.Created, float64(c.Created)/float64(nodes), c.Rejected())
	fmt.Printf("most bytes allocated by one sample: %.1f MB\n", float64(maxAlloc)/1e6)
	fmt.Printf("peak RSS: %s\n", peakRSS())
}

func peakRSS() string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
		}
	}
	return "unknown"
}
