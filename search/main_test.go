package search

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The test binary doubles as a worker process and as a search process that tests kill.
const (
	envWorker    = "EINSPACE_SEARCH_TEST_WORKER"     // "1": serve jobs on stdin/stdout with fakeEvaluator
	envRunSearch = "EINSPACE_SEARCH_TEST_RUN_SEARCH" // a run directory: run killableConfig there, slowly
)

func TestMain(m *testing.M) {
	if os.Getenv(envWorker) == "1" {
		if err := ServeWorker(context.Background(), os.Stdin, os.Stdout, fakeEvaluator{}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if dir := os.Getenv(envRunSearch); dir != "" {
		_, err := Run(context.Background(), dir, killableConfig(), fakeEvaluator{delay: 20 * time.Millisecond}, Options{})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fakeEvaluator scores an architecture deterministically from the hash of its text. The dataset name
// selects misbehaviour:
//
//	"fake"   always succeeds
//	"flaky"  architectures whose hash starts with a or b fail with a Failure (no seed does)
//	"chaos"  hash a…: panic; b…: hang; c…: os.Exit(3); otherwise succeed
//	"panic", "hang", "exit", "noise" (prints to stdout first), "broken" (infrastructure error): always
type fakeEvaluator struct {
	delay time.Duration
}

func (f fakeEvaluator) Evaluate(ctx context.Context, job Job) (Result, error) {
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	}
	sum := sha256.Sum256([]byte(job.Arch))
	behaviour := job.Data.Name
	first := fmt.Sprintf("%x", sum[0]>>4)
	switch job.Data.Name {
	case "flaky":
		if first == "a" || first == "b" {
			return Result{Failure: "flaky: loss became NaN"}, nil
		}
		behaviour = "fake"
	case "chaos":
		behaviour = map[string]string{"a": "panic", "b": "hang", "c": "exit"}[first]
	}
	switch behaviour {
	case "panic":
		panic("fake evaluator panics on " + job.ID)
	case "hang":
		// A sleeping timer, not a receive on a nil channel: without -race the runtime would call that a
		// deadlock and exit, which is not a hang.
		time.Sleep(time.Hour)
	case "exit":
		fmt.Fprintln(os.Stderr, "fake evaluator exits")
		os.Exit(3)
	case "noise":
		fmt.Println("some library printing to stdout")
	case "broken":
		return Result{}, fmt.Errorf("dataset %q not found", job.Data.Name)
	}
	acc := float64(binary.BigEndian.Uint32(sum[:4])) / (1 << 32) * 100
	res := Result{ValAccuracy: acc, TrainLoss: (100 - acc) / 50, WallSeconds: 0.25}
	for e := 1; e <= job.Budget.Epochs; e++ {
		res.Epochs = append(res.Epochs, Epoch{Epoch: e, TrainLoss: res.TrainLoss * float64(job.Budget.Epochs) / float64(e),
			TrainAccuracy: acc * float64(e) / float64(job.Budget.Epochs), ValAccuracy: acc * float64(e) / float64(job.Budget.Epochs), Seconds: 0.25})
	}
	if job.Final {
		res.TestAccuracy = acc - 1
	}
	return res, nil
}

// killableConfig is the search the kill test runs in a subprocess and again in-process.
func killableConfig() Config {
	return Config{
		Strategy: RegularisedEvolution, Population: 6, Tournament: 3, Budget: 40, InFlight: 3, Seed: 11,
		Input: "3x16x16", Classes: 10, Data: DataSpec{Name: "flaky", Seed: 1, Train: 100, Val: 50, Test: 50},
		Train: Budget{Epochs: 2}, FinalEpochs: 4,
	}
}

// normalisedLog reads a run's records with the timestamps zeroed, one JSON text per record.
func normalisedLog(t *testing.T, dir string) []string {
	t.Helper()
	records, truncated, err := ReadRecords(dir)
	if err != nil {
		t.Fatal(err)
	}
	if truncated {
		t.Fatalf("%s: log ends in an incomplete line", dir)
	}
	out := make([]string, len(records))
	for i, r := range records {
		r.Start, r.End, r.Seconds = time.Time{}, time.Time{}, 0
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(b)
	}
	return out
}

func compareLogs(t *testing.T, want, got []string) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("log has %d records, want %d", len(got), len(want))
	}
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			t.Errorf("record %d differs:\n got %s\nwant %s", i, got[i], want[i])
			return
		}
	}
}

func runSearch(t *testing.T, dir string, cfg Config, ev Evaluator) *History {
	t.Helper()
	h, err := Run(context.Background(), dir, cfg, ev, Options{Logf: t.Logf})
	if err != nil {
		t.Fatalf("run %s: %v", filepath.Base(dir), err)
	}
	return h
}
