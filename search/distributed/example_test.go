package distributed_test

import (
	"context"
	"log"
	"os"

	"github.com/einspace-go/einspace/search"
	"github.com/einspace-go/einspace/search/distributed"
)

// A coordinator runs the search; its evaluations go to whatever workers serve the same server.
func ExampleNewEvaluator() {
	cfg := search.DefaultConfig()
	ctx := context.Background()
	ev, err := distributed.NewEvaluator(ctx, "nats://nats.example:4222", distributed.EvaluatorOptions{Run: cfg.RunID()})
	if err != nil {
		log.Fatal(err)
	}
	defer ev.Close()
	if _, err := search.Run(ctx, "runs/re-addnist", cfg, ev, search.Options{}); err != nil {
		log.Fatal(err)
	}
}

// A worker machine evaluates four jobs at a time, each in an isolated process running a
// search.ServeWorker loop (here: this program's "eval-worker" command), until it is stopped.
func ExampleRunWorker() {
	exe, _ := os.Executable()
	err := distributed.RunWorker(context.Background(), "nats://nats.example:4222", distributed.WorkerOptions{
		Workers: 4,
		Command: []string{exe, "eval-worker"},
	})
	if err != nil {
		log.Fatal(err)
	}
}
