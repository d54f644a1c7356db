package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/einspace-go/einspace/models"
)

func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	var out, errOut bytes.Buffer
	status = run(args, &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut})
	return out.String(), errOut.String(), status
}

func TestSampleJSON(t *testing.T) {
	out, errOut, status := runCLI(t, "", "sample", "--seed", "4", "-n", "3", "--format", "json", "--input", "1x24x24")
	if status != 0 {
		t.Fatalf("status %d: %s", status, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3", len(lines))
	}
	for _, line := range lines {
		var a archJSON
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatal(err)
		}
		if a.Arch == "" || a.Nodes < 3 || len(a.Output) < 2 || (a.Mode != "im" && a.Mode != "col") || a.Input[0] != 1 {
			t.Errorf("incomplete record %+v", a)
		}
	}
	again, _, _ := runCLI(t, "", "sample", "--seed", "4", "-n", "3", "--format", "json", "--input", "1x24x24")
	if again != out {
		t.Error("the same seed printed different architectures")
	}
}

func TestShow(t *testing.T) {
	out, _, status := runCLI(t, "", "show", "resnet18")
	if status != 0 || !strings.Contains(out, "parameters  11,210,560") || !strings.Contains(out, "output      512x2x2 (im mode)") ||
		!strings.Contains(out, "post: col2im") {
		t.Errorf("show resnet18 (status %d):\n%.600s", status, out)
	}
	out, _, status = runCLI(t, "routing[im2col4k4s0p, computation<linear32>, identity]", "show", "--format", "json", "--input", "3x64x64", "-")
	var a archJSON
	if status != 0 || json.Unmarshal([]byte(out), &a) != nil || a.Params != 48*32+32 || a.Output[0] != 256 || a.Mode != "col" {
		t.Errorf("show from stdin (status %d): %s", status, out)
	}
}

func TestMutateAndCrossover(t *testing.T) {
	out, errOut, status := runCLI(t, "", "mutate", "--seed", "1", "wrn16_4")
	if status != 0 || !strings.HasPrefix(out, "sequential(") {
		t.Fatalf("mutate: status %d, %s %s", status, out, errOut)
	}
	seed, _, _ := runCLI(t, "", "show", "wrn16_4")
	if strings.Split(seed, "\n")[0] == strings.TrimSpace(out) {
		t.Error("the mutant equals its parent")
	}
	out, errOut, status = runCLI(t, "", "crossover", "--seed", "2", "resnet18", "wrn16_4")
	if status != 0 || out == "" {
		t.Fatalf("crossover: status %d, %s", status, errOut)
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"show", "routing[im2col3k1s1p, computation<linear64> col2im]"}, "", "1:45: expected ','"},
		{[]string{"show", "-"}, "sequential(\n  computation<linear64>,\n  routing[identity, computation<identity>, col2im])", "standard input at input 3x28x28: 3:44: col2im at root.second.post"},
		{[]string{"show", "resnet50"}, "", "neither a seed"},
		{[]string{"sample", "--input", "3x28"}, "", "write it as CxHxW"},
		{[]string{"sample", "--pc", "1.5"}, "", "--pc must lie strictly between 0 and 1"},
		{[]string{"sample", "--format", "yaml"}, "", "--format must be text or json"},
		{[]string{"sample", "--frobnicate"}, "", "flag provided but not defined: -frobnicate"},
		{[]string{"crossover", "vit"}, "", "crossover takes two ARCHs"},
		{[]string{"frobnicate"}, "", `unknown command "frobnicate"`},
	}
	for _, tt := range tests {
		_, errOut, status := runCLI(t, tt.stdin, tt.args...)
		if status != 2 || !strings.Contains(errOut, tt.want) || strings.Contains(errOut, "goroutine") {
			t.Errorf("%v: status %d, stderr %q; want status 2 and …%s…", tt.args, status, errOut, tt.want)
		}
	}
}

func TestHelp(t *testing.T) {
	out, _, status := runCLI(t, "", "--help")
	if status != 0 || !strings.Contains(out, "sample") || !strings.Contains(out, "mutate") {
		t.Errorf("--help: status %d\n%s", status, out)
	}
	out, _, status = runCLI(t, "", "sample", "--help")
	if status != 0 || !strings.Contains(out, "-pc") || !strings.Contains(out, "p(computation)") {
		t.Errorf("sample --help: status %d\n%s", status, out)
	}
}

func TestStats(t *testing.T) {
	out, errOut, status := runCLI(t, "", "stats", "-n", "200", "--pc", "0.9,0.5")
	if status != 0 || strings.Count(out, "\n| 0.") != 2 || !strings.Contains(out, "3.87 / 3 / 28") {
		t.Errorf("stats: status %d %s\n%s", status, errOut, out)
	}
}

func TestBuild(t *testing.T) {
	out, errOut, status := runCLI(t, "", "build", "--format", "json", "--classes", "10", "--input", "1x24x24", "routing[im2col4k4s0p, computation<linear32>, identity]")
	var got struct {
		Params      int64 `json:"params"`
		OutputShape []int `json:"output_shape"`
	}
	if status != 0 || json.Unmarshal([]byte(out), &got) != nil {
		t.Fatalf("status %d: %s %s", status, out, errOut)
	}
	// Backbone 16·32+32 = 544; head: mean over the 32 features of 36 tokens, Linear(36, 10) = 370.
	if got.Params != 544+370 || len(got.OutputShape) != 2 || got.OutputShape[0] != 36 {
		t.Errorf("build: %+v", got)
	}
	if !strings.Contains(out, "computation<linear32>") {
		t.Errorf("JSON escapes the architecture's brackets: %s", out)
	}
}

func TestTrain(t *testing.T) {
	if testing.Short() {
		t.Skip("builds MNIST subsets and trains")
	}
	// Two conv-norm-activation blocks: about 15 s on two cores.
	arch := "sequential(sequential(sequential(routing[im2col3k1s1p, computation<linear32>, col2im], computation<norm>), computation<leakyrelu>), " +
		"sequential(sequential(routing[im2col3k2s1p, computation<linear64>, col2im], computation<norm>), computation<leakyrelu>))"
	out, errOut, status := runCLI(t, "", "train", arch, "--dataset", "mnist", "--subset", "1024", "--epochs", "3", "--batch", "64", "--format", "json")
	var got struct {
		Epochs       int     `json:"epochs"`
		ValAccuracy  float64 `json:"val_accuracy"`
		TestAccuracy float64 `json:"test_accuracy"`
	}
	if status != 0 || json.Unmarshal([]byte(out), &got) != nil {
		t.Fatalf("status %d: %s %s", status, out, errOut)
	}
	if got.Epochs != 3 || got.ValAccuracy < 20 || got.TestAccuracy < 15 {
		t.Errorf("train on MNIST: %+v; want three epochs well above 10%% chance", got)
	}
	_, errOut, status = runCLI(t, "", "train", "vit", "--dataset", "cifar10")
	if status != 2 || !strings.Contains(errOut, "valid names are addnist") {
		t.Errorf("unknown dataset: status %d, %s", status, errOut)
	}
}

// TestTrainInterrupted checks what `einspace train` says when a signal stops it: the completed epochs
// and, with a run directory, where the last is saved and how to continue.
func TestTrainInterrupted(t *testing.T) {
	var errOut bytes.Buffer
	epochs := []models.EpochMetrics{{Epoch: 1, ValAccuracy: 0.125}, {Epoch: 2, ValAccuracy: 0.25}}
	err := interrupted(&env{stderr: &errOut}, epochs, "runs/x")
	want := "interrupted after 2 completed epoch(s) (last validation accuracy 25.00%); epoch 2 is saved in runs/x: run the same command with --resume to continue"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
	if err := interrupted(&env{stderr: &errOut}, nil, ""); err == nil || err.Error() != "interrupted after 0 completed epoch(s)" {
		t.Errorf("no epochs: %v", err)
	}
}

// trainResult is the part of `einspace train --format json` that a resumed run must reproduce.
type trainResult struct {
	Epochs       int     `json:"epochs"`
	ResumedAfter int     `json:"resumed_after"`
	ValAccuracy  float64 `json:"val_accuracy"`
	TestAccuracy float64 `json:"test_accuracy"`
	TrainLoss    float64 `json:"train_loss"`
	Checkpoint   string  `json:"checkpoint"`
}

// TestTrainResumeAfterKill kills `einspace train --save DIR` with SIGKILL at a random point after its
// first epoch (in a child process: this test binary), resumes it with --resume, and checks that the
// result and every epoch's metrics are exactly those of a run that was never stopped.
func TestTrainResumeAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three times")
	}
	tmp := t.TempDir()
	args := func(dir string) []string {
		return []string{"train", "routing[im2col3k1s1p, computation<linear16>, col2im]", "--dataset", "mnist",
			"--subset", "768", "--epochs", "4", "--batch", "64", "--seed", "3", "--format", "json", "--save", dir}
	}
	whole := filepath.Join(tmp, "whole")
	out, errOut, status := runCLI(t, "", args(whole)...)
	var want trainResult
	if status != 0 || json.Unmarshal([]byte(out), &want) != nil || want.Epochs != 4 {
		t.Fatalf("uninterrupted run: status %d: %s %s", status, out, errOut)
	}

	wantRec, err := models.ReadRunRecord(whole)
	if err != nil || len(wantRec.Completed) != 4 {
		t.Fatalf("uninterrupted run's record: %+v, %v", wantRec, err)
	}
	// Kill points: as soon as epoch 1 is recorded, then later into the run (mid-epoch, mid-save, or
	// after the run finished, which --resume must also handle).
	for i, delay := range []time.Duration{0, 40 * time.Millisecond, 130 * time.Millisecond, 400 * time.Millisecond, time.Second} {
		killed := filepath.Join(tmp, fmt.Sprintf("killed-%d", i))
		resumeAfterKill(t, args(killed), killed, delay, want, wantRec)
	}
	killed := filepath.Join(tmp, "killed-0")
	_, errOut, status = runCLI(t, "", "train", "routing[im2col3k1s1p, computation<linear32>, col2im]", "--dataset", "mnist",
		"--subset", "768", "--epochs", "4", "--batch", "64", "--seed", "3", "--save", killed, "--resume")
	if status != 2 || !strings.Contains(errOut, "holds a run that trained architecture") {
		t.Errorf("resuming with another architecture: status %d: %s", status, errOut)
	}
}

// TestBuildRefusesWhatCannotFit: ResNet-18 on 3×2048×2048 inputs needs about 53 GiB for a forward pass of
// two examples; `einspace build` says so and exits 2 instead of dying with the runtime's out-of-memory.
func TestBuildRefusesWhatCannotFit(t *testing.T) {
	if avail, _, ok := models.AvailableMemory(); !ok || avail > 50<<30 {
		t.Skip("this machine may have the memory")
	}
	_, errOut, status := runCLI(t, "", "build", "--input", "3x2048x2048", "resnet18")
	if status != 2 || !strings.Contains(errOut, "not enough memory to evaluate a batch of 2: the network needs about") ||
		!strings.Contains(errOut, "is available (") {
		t.Errorf("status %d: %s", status, errOut)
	}
}

// resumeAfterKill runs the train command args in a child process, kills it with SIGKILL delay after its
// first epoch is recorded in dir, resumes it in this process and checks the result and every epoch's
// metrics against the uninterrupted run's.
func resumeAfterKill(t *testing.T, args []string, dir string, delay time.Duration, want trainResult, wantRec models.RunRecord) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), cliChildEnv+"=1")
	var childErr bytes.Buffer
	cmd.Stderr = &childErr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if rec, err := models.ReadRunRecord(dir); err == nil && len(rec.Completed) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("no epoch recorded in %s after 5 minutes: %s", dir, childErr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(delay)
	_ = cmd.Process.Signal(syscall.SIGKILL) // fails only if the child already exited
	_ = cmd.Wait()
	rec, err := models.ReadRunRecord(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed %v after epoch 1 was recorded: %d epoch(s) completed", delay, len(rec.Completed))

	_, errOut, status := runCLI(t, "", args...) // without --resume: refused, nothing overwritten
	if status != 2 || !strings.Contains(errOut, "add --resume") {
		t.Errorf("a second run into the same directory without --resume: status %d: %s", status, errOut)
	}
	out, errOut, status := runCLI(t, "", append(args, "--resume")...)
	var got trainResult
	if status != 0 || json.Unmarshal([]byte(out), &got) != nil {
		t.Fatalf("resumed run: status %d: %s %s", status, out, errOut)
	}
	if got.ResumedAfter != len(rec.Completed) || got.Epochs != 4 {
		t.Errorf("resumed after %d of %d epochs, want after %d of 4", got.ResumedAfter, got.Epochs, len(rec.Completed))
	}
	if got.ValAccuracy != want.ValAccuracy || got.TestAccuracy != want.TestAccuracy || got.TrainLoss != want.TrainLoss {
		t.Errorf("resumed run: %+v; uninterrupted run: %+v", got, want)
	}
	if got.Checkpoint != filepath.Join(dir, "epoch-004") {
		t.Errorf("checkpoint %q, want %s/epoch-004", got.Checkpoint, dir)
	}
	rec, err = models.ReadRunRecord(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		x, y := wantRec.Completed[i], rec.Completed[i]
		x.Duration, y.Duration = 0, 0
		if x != y {
			t.Errorf("epoch %d: resumed run %+v, uninterrupted %+v", i+1, y, x)
		}
	}
}
