package search

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestFinalRetrainsTheBestOnTrainVal(t *testing.T) {
	cfg := smallConfig(RegularisedEvolution, SeedsRN18)
	dir := filepath.Join(t.TempDir(), "run")
	h := runSearch(t, dir, cfg, fakeEvaluator{})
	best, _ := h.Best()
	var jobs []Job
	ev := EvaluatorFunc(func(ctx context.Context, job Job) (Result, error) {
		jobs = append(jobs, job)
		return fakeEvaluator{}.Evaluate(ctx, job)
	})
	f, err := Final(context.Background(), dir, ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 {
		t.Fatalf("%d final jobs, want 1", len(jobs))
	}
	j := jobs[0]
	if !j.Final || j.Budget.Epochs != cfg.FinalEpochs || j.Arch != best.Arch || j.ID != cfg.RunID()+"-final" {
		t.Errorf("final job %+v, want Final, %d epochs, the best architecture (record %d)", j, cfg.FinalEpochs, best.Index)
	}
	if f.Best.Index != best.Index || f.Result.TestAccuracy != best.ValAccuracy-1 {
		t.Errorf("final %+v, want record %d with test accuracy %v", f, best.Index, best.ValAccuracy-1)
	}
	// Once written, the final result is read back, not retrained.
	again, err := Final(context.Background(), dir, ev)
	if err != nil || len(jobs) != 1 || again.Result.TestAccuracy != f.Result.TestAccuracy {
		t.Errorf("second Final: %v, %d jobs, want the stored result and no training", err, len(jobs))
	}

	s, err := Summarise(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Counted != cfg.Budget || s.Final == nil || s.Best[0].Index != best.Index {
		t.Errorf("summary %+v, want %d counted, the final result and record %d first", s, cfg.Budget, best.Index)
	}
	var text strings.Builder
	for _, f := range s.Overview() {
		fmt.Fprintf(&text, "%s %s\n", f.Name, f.Value)
	}
	fmt.Fprintln(&text, strings.Join(BestColumns, " "))
	for _, row := range s.BestRows() {
		fmt.Fprintln(&text, strings.Join(row, " "))
	}
	for _, r := range s.FailureReasons() {
		fmt.Fprintf(&text, "failures: %d× %s\n", s.Failures[r], r)
	}
	for _, want := range []string{"strategy re seeded with resnet18", "rank", best.Hash[:12], "test accuracy", "failures:"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, text.String())
		}
	}
	t.Logf("\n%s", text.String())
}
