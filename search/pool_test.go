package search

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// newTestPool starts worker processes running this test binary as a worker (see TestMain).
func newTestPool(t testing.TB, workers int, timeout time.Duration) *ProcessPool {
	t.Helper()
	t.Setenv(envWorker, "1")
	p, err := NewProcessPool([]string{os.Args[0], "-test.run=^$"}, workers, timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

const tinyArch = "sequential(computation<linear16>, computation<leakyrelu>)"

func TestProcessPoolRecordsBrokenWorkersAsFailures(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	pool := newTestPool(t, 1, 2*time.Second)
	job := func(data string) Job {
		return Job{ID: "job-" + data, Arch: tinyArch, Input: "3x8x8", Data: DataSpec{Name: data}, Budget: Budget{Epochs: 2}}
	}
	want, _ := fakeEvaluator{}.Evaluate(context.Background(), job("fake"))
	tests := []struct {
		data    string
		failure string // "" for success
	}{
		{"fake", ""},
		{"panic", "fake evaluator panics on job-panic"},
		{"fake", ""}, // the pool restarted the worker
		{"exit", "exit status 3); stderr: fake evaluator exits"},
		{"hang", "timeout: evaluation exceeded 2s"},
		{"noise", ""},
		{"fake", ""},
	}
	for i, tt := range tests {
		res, err := pool.Evaluate(context.Background(), job(tt.data))
		if err != nil {
			t.Fatalf("%d %s: %v", i, tt.data, err)
		}
		switch {
		case tt.failure == "" && (res.Failed() || res.ValAccuracy != want.ValAccuracy || len(res.Epochs) != 2):
			t.Errorf("%d %s: %+v, want %+v", i, tt.data, res, want)
		case tt.failure != "" && !strings.Contains(res.Failure, tt.failure):
			t.Errorf("%d %s: failure %q, want it to contain %q", i, tt.data, res.Failure, tt.failure)
		}
	}
	if _, err := pool.Evaluate(context.Background(), job("broken")); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("a worker's infrastructure error: %v, want it returned as an error", err)
	}
	pool.Close()
	broken, err := NewProcessPool([]string{"/bin/sh", "-c", "echo no such subcommand >&2; exit 7"}, 1, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer broken.Close()
	if _, err := broken.Evaluate(context.Background(), job("fake")); err == nil || !strings.Contains(err.Error(), "died while starting") {
		t.Errorf("a worker that cannot start: %v, want an error", err)
	}
	if _, err := pool.Evaluate(context.Background(), job("fake")); !errors.Is(err, ErrPoolClosed) {
		t.Errorf("Evaluate after Close: %v, want ErrPoolClosed", err)
	}
}

func TestProcessPoolHonoursContext(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	pool := newTestPool(t, 1, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := pool.Evaluate(ctx, Job{ID: "h", Arch: tinyArch, Input: "3x8x8", Data: DataSpec{Name: "hang"}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a cancelled evaluation: %v, want the context's error", err)
	}
}

// TestSearchSurvivesBrokenWorkers runs a search whose workers panic, hang and exit on some
// architectures: each is a failed record and the search finishes its budget.
func TestSearchSurvivesBrokenWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	pool := newTestPool(t, 2, 500*time.Millisecond)
	cfg := smallConfig(RegularisedEvolution, nil)
	cfg.Data.Name, cfg.InFlight, cfg.Budget, cfg.Seed = "chaos", 2, 20, 10
	dir := filepath.Join(t.TempDir(), "run")
	h := runSearch(t, dir, cfg, pool)
	if h.Counted != cfg.Budget {
		t.Errorf("counted %d, want %d", h.Counted, cfg.Budget)
	}
	kinds := map[string]int{}
	for _, r := range h.Records {
		switch {
		case strings.Contains(r.Failure, "panic"):
			kinds["panic"]++
		case strings.Contains(r.Failure, "timeout"):
			kinds["timeout"]++
		case strings.Contains(r.Failure, "exit status 3"):
			kinds["exit"]++
		case r.Failed():
			t.Errorf("record %d: unexpected failure %q", r.Index, r.Failure)
		}
	}
	for _, k := range []string{"panic", "timeout", "exit"} {
		if kinds[k] == 0 {
			t.Errorf("no %s failure in %d records (%v): choose another search seed", k, len(h.Records), kinds)
		}
	}
}

func TestServeWorker(t *testing.T) {
	var in bytes.Buffer
	for _, id := range []string{"a", "b"} {
		b, _ := json.Marshal(Job{ID: id, Arch: tinyArch, Input: "3x8x8", Data: DataSpec{Name: "fake"}, Budget: Budget{Epochs: 1}})
		in.Write(append(b, '\n'))
	}
	in.WriteString("\n") // blank lines are skipped
	var out bytes.Buffer
	if err := ServeWorker(context.Background(), &in, &out, fakeEvaluator{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || lines[0] != `{"ready":true}` {
		t.Fatalf("response lines %q, want a ready line and two responses", lines)
	}
	lines = lines[1:]
	if len(lines) != 2 {
		t.Fatalf("%d response lines, want 2: %q", len(lines), out.String())
	}
	for i, id := range []string{"a", "b"} {
		var resp workerResponse
		if err := json.Unmarshal([]byte(lines[i]), &resp); err != nil || resp.ID != id || resp.Result.Failed() {
			t.Errorf("response %d = %s (%v), want a result for job %s", i, lines[i], err, id)
		}
	}
	err := ServeWorker(context.Background(), strings.NewReader("{not json\n"), &out, fakeEvaluator{})
	if err == nil || !strings.Contains(err.Error(), "malformed job") {
		t.Errorf("a malformed job: %v, want an error", err)
	}
}
