package distributed

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nuid"

	"github.com/einspace-go/einspace/search"
)

// BenchmarkThroughput measures the cost of distribution per evaluation: jobs of an evaluator that takes
// no time, kept 8 in flight by one coordinator, through 1 and 2 worker processes of one slot each. The
// "pool" workers evaluate in an isolated process of their own as a real worker does; the "in-process"
// ones in the worker process itself; "local-pool" is the same pool without NATS, for comparison;
// "pool-10ms" has the evaluator take 10 ms, to show that workers add up once evaluation dominates.
// Besides ns/op (wall time per evaluation at that concurrency) it reports evaluations per hour.
//
//	go test ./search/distributed -run '^$' -bench Throughput -benchtime 2000x
func BenchmarkThroughput(b *testing.B) {
	const inFlight = 8
	for _, mode := range []string{"pool", "in-process", "local-pool", "pool-10ms"} {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", mode, workers), func(b *testing.B) {
				var ev search.Evaluator
				if mode == "local-pool" {
					b.Setenv(envEval, "1")
					pool, err := search.NewProcessPool([]string{os.Args[0], "-test.run=^$"}, workers, 0)
					if err != nil {
						b.Fatal(err)
					}
					defer pool.Close()
					ev = pool
				} else {
					url := startServer(b)
					var env []string
					switch mode {
					case "pool":
						env = append(env, envPool+"=1")
					case "pool-10ms":
						env = append(env, envPool+"=1", envDelay+"=10ms")
					}
					startWorkers(b, workers, url, env...)
					e, err := NewEvaluator(context.Background(), url, EvaluatorOptions{Run: "bench" + nuid.Next(), Logf: b.Logf})
					if err != nil {
						b.Fatal(err)
					}
					defer e.Close()
					ev = e
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				defer cancel()
				for i := range workers { // every worker up and warm
					if _, err := ev.Evaluate(ctx, testJob(fmt.Sprint("warm-", i))); err != nil {
						b.Fatal(err)
					}
				}
				jobs := make(chan int)
				var wg sync.WaitGroup
				var mu sync.Mutex
				var firstErr error
				b.ResetTimer()
				for range inFlight {
					wg.Go(func() {
						for i := range jobs {
							if _, err := ev.Evaluate(ctx, testJob(fmt.Sprintf("b-%08d", i))); err != nil {
								mu.Lock()
								firstErr = cmpErr(firstErr, err)
								mu.Unlock()
							}
						}
					})
				}
				for i := range b.N {
					jobs <- i
				}
				close(jobs)
				wg.Wait()
				b.StopTimer()
				if firstErr != nil {
					b.Fatal(firstErr)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Hours(), "evals/h")
			})
		}
	}
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
