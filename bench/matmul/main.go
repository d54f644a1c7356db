// Command matmul times one matrix product, [m, k] × [k, n], on the Go backend, as a DotGeneral in a graph
// of its own: GFLOP/s per second of CPU time (what to compare while other work shares the machine) and per
// second of wall time. It is how docs/BENCHMARKS.md compares the shapes of the convolutions' products
// with a square one.
//
//	GOMAXPROCS=1 go run ./bench/matmul -m 64 -k 576 -n 7168
//	GOMAXPROCS=1 go run ./bench/matmul -m 1024 -k 1024 -n 1024
package main

import (
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/einspace-go/einspace/models"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/core/tensors"
)

func main() {
	m := flag.Int("m", 64, "rows of the left-hand side")
	k := flag.Int("k", 576, "the contracted dimension")
	n := flag.Int("n", 7168, "columns of the right-hand side")
	rhsT := flag.Bool("rhsT", false, "store the right-hand side as [n, k], contracted on its last axis")
	reps := flag.Int("reps", 30, "timed products, after 3 untimed ones")
	flag.Parse()
	if err := run(*m, *k, *n, *rhsT, *reps); err != nil {
		fmt.Fprintln(os.Stderr, "matmul:", err)
		os.Exit(1)
	}
}

func run(m, k, n int, rhsT bool, reps int) error {
	be, err := models.Backend()
	if err != nil {
		return err
	}
	contract, rhsDims := 0, []int{k, n}
	if rhsT {
		contract, rhsDims = 1, []int{n, k}
	}
	e, err := NewExec(be, func(a, b *Node) *Node { return DotGeneral(a, []int{1}, nil, b, []int{contract}, nil) })
	if err != nil {
		return err
	}
	a := tensors.FromScalarAndDimensions(float32(0.5), m, k)
	b := tensors.FromScalarAndDimensions(float32(0.25), rhsDims...)
	product := func() error {
		out, err := e.Exec(a, b)
		if err != nil {
			return err
		}
		out[0].FinalizeAll()
		return nil
	}
	for range 3 {
		if err := product(); err != nil {
			return err
		}
	}
	cpu0, start := cpuSeconds(), time.Now()
	for range reps {
		if err := product(); err != nil {
			return err
		}
	}
	cpu, wall := cpuSeconds()-cpu0, time.Since(start).Seconds()
	gflop := 2 * float64(m) * float64(k) * float64(n) * float64(reps) / 1e9
	fmt.Printf("[%d, %d] × [%d, %d]: %.1f GFLOP per CPU second, %.1f GFLOP/s wall, %.2f ms per product\n",
		m, k, k, n, gflop/cpu, gflop/wall, wall/float64(reps)*1e3)
	return nil
}

// cpuSeconds is the process's CPU time so far, user and system.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
