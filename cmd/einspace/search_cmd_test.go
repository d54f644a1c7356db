package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/einspace-go/einspace/search"
)

// cliChildEnv, set to 1, makes the test binary run as the einspace command with its arguments.
const cliChildEnv = "EINSPACE_TEST_CLI"

// TestMain lets the test binary serve as the search's worker process (`einspace search` starts
// os.Executable() with the argument eval-worker, which here is this test binary) and as the einspace
// command itself for tests that must kill it.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "eval-worker" {
		os.Exit(run(os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}))
	}
	if os.Getenv(cliChildEnv) == "1" {
		os.Exit(run(os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}))
	}
	os.Exit(m.Run())
}

// TestSearchCommand runs a tiny real search with isolated worker processes, runs it again (a resume that
// evaluates nothing), and writes the report.
func TestSearchCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("trains architectures in worker processes")
	}
	dir := filepath.Join(t.TempDir(), "run")
	args := []string{"search", "--out", dir, "--dataset", "mnist", "--subset", "300", "--budget", "4", "--population", "2",
		"--tournament", "2", "--workers", "2", "--max-params", "50000", "--max-flops", "2000000", "--seed", "5"}
	out, errOut, status := runCLI(t, "", args...)
	if status != 0 || !strings.Contains(out, "best: #") || !strings.Contains(errOut, "[4/4]") {
		t.Fatalf("search: status %d\n%s\n%s", status, out, errOut)
	}
	t.Logf("search:\n%s", errOut)
	log1, err := os.ReadFile(filepath.Join(dir, "evaluations.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, status = runCLI(t, "", args...)
	if status != 0 || !strings.Contains(errOut, "resuming") {
		t.Fatalf("second run: status %d\n%s\n%s", status, out, errOut)
	}
	log2, _ := os.ReadFile(filepath.Join(dir, "evaluations.jsonl"))
	if string(log1) != string(log2) {
		t.Error("running a finished search again changed its log")
	}
	for i, line := range strings.Split(strings.TrimSpace(string(log1)), "\n") {
		var rec struct {
			Index int    `json:"index"`
			Arch  string `json:"arch"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Index != i || rec.Arch == "" {
			t.Errorf("log line %d: %s", i+1, line)
		}
	}
	out, errOut, status = runCLI(t, "", "report", dir)
	if status != 0 || !strings.Contains(out, "report.html") {
		t.Fatalf("report: status %d\n%s\n%s", status, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "report.html")); err != nil {
		t.Error(err)
	}
	// A different configuration on the same directory is refused, naming what differs.
	_, errOut, status = runCLI(t, "", append(args[:len(args)-2], "--seed", "6")...)
	if status == 0 || !strings.Contains(errOut, "seed") {
		t.Errorf("changed config: status %d, %s", status, errOut)
	}
	_, errOut, status = runCLI(t, "", "search", "--out", dir, "--init", "densenet")
	if status != 2 || !strings.Contains(errOut, "--init must be scratch, resnet18 or mix") {
		t.Errorf("bad --init: status %d, %s", status, errOut)
	}
}

// TestSearchCrossoverFlags checks that --strategy re-crossover reaches the configuration with its
// --crossover-mutation, which is validated before anything runs.
func TestSearchCrossoverFlags(t *testing.T) {
	fs := newFlags(&env{stdout: io.Discard, stderr: io.Discard}, "search", "", "")
	f := newSearchFlags(fs)
	if err := fs.Parse([]string{"--out", "x", "--strategy", "re-crossover", "--crossover-mutation", "0.25", "--dataset", "mnist"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := f.config()
	if err != nil || cfg.Strategy != search.RegularisedEvolutionCrossover || cfg.CrossoverMutation != 0.25 {
		t.Errorf("config: %v, strategy %q, crossover mutation %v", err, cfg.Strategy, cfg.CrossoverMutation)
	}
	dir := filepath.Join(t.TempDir(), "run")
	_, errOut, status := runCLI(t, "", "search", "--out", dir, "--strategy", "re-crossover", "--crossover-mutation", "2", "--dataset", "mnist")
	if status != 2 || !strings.Contains(errOut, "crossover_mutation 2") {
		t.Errorf("--crossover-mutation 2: status %d, %s", status, errOut)
	}
	_, errOut, status = runCLI(t, "", "search", "--out", dir, "--strategy", "annealing", "--dataset", "mnist")
	if status != 2 || !strings.Contains(errOut, `"re-crossover"`) {
		t.Errorf("unknown strategy: status %d, %s; want the known ones listed", status, errOut)
	}
}
