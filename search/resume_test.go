package search

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// countingEvaluator is fakeEvaluator remembering the job IDs it was given.
type countingEvaluator struct {
	mu   sync.Mutex
	jobs []string
}

func (c *countingEvaluator) Evaluate(ctx context.Context, job Job) (Result, error) {
	c.mu.Lock()
	c.jobs = append(c.jobs, job.ID)
	c.mu.Unlock()
	return fakeEvaluator{}.Evaluate(ctx, job)
}

func TestResumeAfterCancelMatchesUninterruptedRun(t *testing.T) {
	for _, stopAfter := range []int{1, 5, 13} {
		t.Run(fmt.Sprint("stop after ", stopAfter), func(t *testing.T) {
			cfg := killableConfig()
			whole := filepath.Join(t.TempDir(), "whole")
			all := &countingEvaluator{}
			runSearch(t, whole, cfg, all)

			dir := filepath.Join(t.TempDir(), "resumed")
			ctx, cancel := context.WithCancel(context.Background())
			first := &countingEvaluator{}
			finished := 0
			_, err := Run(ctx, dir, cfg, first, Options{Listener: func(e Event) {
				if e.Kind == EvaluationFinished {
					if finished++; finished == stopAfter {
						cancel()
					}
				}
			}})
			cancel()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted run: %v, want context.Canceled", err)
			}
			second := &countingEvaluator{}
			var replayed int
			_, err = Run(context.Background(), dir, cfg, second, Options{Listener: func(e Event) {
				if e.Kind == EvaluationFinished && e.Replayed {
					replayed++
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			if replayed != stopAfter {
				t.Errorf("%d records replayed, want %d", replayed, stopAfter)
			}
			compareLogs(t, normalisedLog(t, whole), normalisedLog(t, dir))
			// Every job ID the interrupted and resumed runs used is one the uninterrupted run used.
			for _, id := range append(first.jobs, second.jobs...) {
				if !contains(all.jobs, id) {
					t.Errorf("job %s is not a job of the uninterrupted run", id)
				}
			}
			// Nothing finished was evaluated again.
			records, _, _ := ReadRecords(dir)
			for _, r := range records[:stopAfter] {
				if !r.IsCopy() && contains(second.jobs, r.JobID) {
					t.Errorf("job %s was recorded before the interruption and evaluated again", r.JobID)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestResumeFinishedRunEvaluatesNothing(t *testing.T) {
	cfg := smallConfig(RegularisedEvolution, SeedsRN18)
	dir := filepath.Join(t.TempDir(), "run")
	first := runSearch(t, dir, cfg, fakeEvaluator{})
	ev := &countingEvaluator{}
	again := runSearch(t, dir, cfg, ev)
	if len(ev.jobs) != 0 {
		t.Errorf("resuming a finished run evaluated %v", ev.jobs)
	}
	if len(again.Records) != len(first.Records) || !equalInts(again.Population, first.Population) {
		t.Errorf("resumed history differs: %d records population %v, want %d and %v",
			len(again.Records), again.Population, len(first.Records), first.Population)
	}
}

func equalInts(a, b []int) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// TestResumeAfterKill kills (SIGKILL) a search running in another process, resumes it in this one and
// compares the log with an uninterrupted run's: no record lost, none duplicated, the same records.
func TestResumeAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	cfg := killableConfig()
	whole := filepath.Join(t.TempDir(), "whole")
	runSearch(t, whole, cfg, fakeEvaluator{})
	want := normalisedLog(t, whole)

	dir := filepath.Join(t.TempDir(), "killed")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envRunSearch+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(dir, EvaluationsFile))
		if bytes.Count(b, []byte("\n")) >= 10 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the search subprocess wrote no 10 records in 30 s; stderr: %s", stderr.String())
		}
		time.Sleep(time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("subprocess ended with %v, want killed (it finished before the kill?); stderr: %s", err, stderr.String())
	}
	before, _, err := ReadRecords(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) >= len(want) {
		t.Fatalf("the subprocess finished all %d records before the kill: the test proves nothing", len(want))
	}
	t.Logf("killed after %d of %d records", len(before), len(want))
	ev := &countingEvaluator{}
	runSearch(t, dir, cfg, ev)
	compareLogs(t, want, normalisedLog(t, dir))
	for _, r := range before {
		if contains(ev.jobs, r.JobID) {
			t.Errorf("job %s was recorded before the kill and evaluated again", r.JobID)
		}
	}
}

func TestTruncatedLastLineIsDropped(t *testing.T) {
	cfg := smallConfig(RegularisedEvolution, nil)
	whole := filepath.Join(t.TempDir(), "whole")
	runSearch(t, whole, cfg, fakeEvaluator{})
	want := normalisedLog(t, whole)

	dir := filepath.Join(t.TempDir(), "crashed")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ConfigFile, EvaluationsFile} {
		b, err := os.ReadFile(filepath.Join(whole, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == EvaluationsFile {
			lines := bytes.SplitAfter(b, []byte("\n"))
			b = bytes.Join(lines[:7], nil)
			b = append(b, lines[7][:len(lines[7])/2]...) // a crash in the middle of writing record 7
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, truncated, err := ReadRecords(dir); err != nil || !truncated {
		t.Fatalf("ReadRecords: truncated %v err %v, want the incomplete line reported", truncated, err)
	}
	var messages []string
	_, err := Run(context.Background(), dir, cfg, fakeEvaluator{}, Options{Logf: func(f string, a ...any) {
		messages = append(messages, fmt.Sprintf(f, a...))
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(messages) != 1 || !strings.Contains(messages[0], "incomplete last line") {
		t.Errorf("messages %q, want one about the incomplete last line", messages)
	}
	compareLogs(t, want, normalisedLog(t, dir))
}

func TestDamagedLineIsAnErrorWithItsLineNumber(t *testing.T) {
	cfg := smallConfig(RegularisedEvolution, nil)
	dir := filepath.Join(t.TempDir(), "run")
	runSearch(t, dir, cfg, fakeEvaluator{})
	path := filepath.Join(dir, EvaluationsFile)
	b, _ := os.ReadFile(path)
	lines := bytes.SplitAfter(b, []byte("\n"))
	lines[2] = []byte("{\"index\": 2, \"job_id\": \n")
	if err := os.WriteFile(path, bytes.Join(lines, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), dir, cfg, fakeEvaluator{}, Options{Logf: t.Logf})
	if err == nil || !strings.Contains(err.Error(), EvaluationsFile+":3:") {
		t.Errorf("Run on a damaged log: %v, want an error naming line 3", err)
	}
	if _, _, err := ReadRecords(dir); err == nil || !strings.Contains(err.Error(), ":3:") {
		t.Errorf("ReadRecords: %v, want an error naming line 3", err)
	}
}

func TestResumeWithAnotherConfigIsRefused(t *testing.T) {
	cfg := smallConfig(RegularisedEvolution, nil)
	dir := filepath.Join(t.TempDir(), "run")
	runSearch(t, dir, cfg, fakeEvaluator{})
	other := cfg
	other.Population, other.Seed, other.Data.Train = 9, 8, 123
	_, err := Run(context.Background(), dir, other, fakeEvaluator{}, Options{})
	if err == nil {
		t.Fatal("a different configuration was accepted")
	}
	for _, field := range []string{"population: 5 -> 9", "seed: 7 -> 8", "data.train: (unset) -> 123"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error %q does not name %q", err, field)
		}
	}
}

func TestLogReplayRejectsForeignRecords(t *testing.T) {
	cfg := smallConfig(RegularisedEvolution, nil)
	dir := filepath.Join(t.TempDir(), "run")
	runSearch(t, dir, cfg, fakeEvaluator{})
	// A log written by another search seed, under this config.json.
	otherCfg := cfg
	otherCfg.Seed = 99
	other := filepath.Join(t.TempDir(), "other")
	runSearch(t, other, otherCfg, fakeEvaluator{})
	b, _ := os.ReadFile(filepath.Join(other, EvaluationsFile))
	if err := os.WriteFile(filepath.Join(dir, EvaluationsFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), dir, cfg, fakeEvaluator{}, Options{})
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("Run over a foreign log: %v, want an error naming line 1", err)
	}
}
