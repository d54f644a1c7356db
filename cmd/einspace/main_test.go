package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/einspace-go/einspace/grammar"
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

// TestTrainInterrupted checks what `einspace train` says and keeps when a signal stops it mid-run: the
// completed epochs in the message, and the model saved where --save asked.
func TestTrainInterrupted(t *testing.T) {
	a, err := grammar.ParseArch("routing[im2col3k1s1p, computation<linear16>, col2im]", grammar.ImShape(1, 8, 8))
	if err != nil {
		t.Fatal(err)
	}
	net, err := models.Compile(a, 10)
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.New(net, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "model")
	res := models.Result{Epochs: []models.EpochMetrics{{Epoch: 1, ValAccuracy: 0.125}}}
	var errOut bytes.Buffer
	err = interrupted(&env{stderr: &errOut}, m, res, dir)
	want := "interrupted after 1 completed epoch(s) (last validation accuracy 12.50%); the model as it stood is saved in " + dir
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
	if _, err := models.Load(net, dir); err != nil {
		t.Errorf("the saved model does not load: %v", err)
	}
}
