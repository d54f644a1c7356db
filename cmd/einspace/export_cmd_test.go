package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestExport trains a small network for one epoch into a run directory, exports it from that directory
// alone (the run names the architecture, input and classes) to PyTorch and ONNX, and loads the PyTorch
// file in Debian's PyTorch where it is installed; bad checkpoints and outputs exit with status 2 and
// leave no file.
func TestExport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an MNIST subset and trains")
	}
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	arch := "sequential(routing[im2col3k2s1p, computation<linear16>, col2im], sequential(computation<norm>, computation<leakyrelu>))"
	if out, errOut, status := runCLI(t, "", "train", arch, "--dataset", "mnist", "--subset", "256", "--epochs", "1",
		"--batch", "64", "--save", run); status != 0 {
		t.Fatalf("train: status %d: %s %s", status, out, errOut)
	}
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	py := filepath.Join(out, "mnist_cnn.py")
	stdout, errOut, status := runCLI(t, "", "export", "--checkpoint", run, "--to", "pytorch", "-o", py)
	if status != 0 || !strings.Contains(stdout, "wrote "+py) || !strings.Contains(stdout, "mnist_cnn.safetensors") ||
		!strings.Contains(stdout, "input 1x28x28, 10 classes") {
		t.Fatalf("export to PyTorch: status %d: %s %s", status, stdout, errOut)
	}
	onnxFile := filepath.Join(out, "mnist_cnn.onnx")
	stdout, errOut, status = runCLI(t, "", "export", arch, "--input", "1x28x28", "--checkpoint", run, "--to", "onnx", "-o", onnxFile)
	if status != 0 || !strings.Contains(stdout, "ONNX opset 17") {
		t.Fatalf("export to ONNX: status %d: %s %s", status, stdout, errOut)
	}
	want := []string{"mnist_cnn.onnx", "mnist_cnn.py", "mnist_cnn.safetensors"}
	if got := names(t, out); !slices.Equal(got, want) {
		t.Errorf("the output directory holds %v, want %v", got, want)
	}

	bad := []struct {
		args []string
		want string
	}{
		{[]string{"export", arch, "--checkpoint", filepath.Join(dir, "nowhere"), "--to", "onnx", "-o", filepath.Join(out, "a.onnx")}, "does not exist"},
		{[]string{"export", strings.Replace(arch, "linear16", "linear32", 1), "--checkpoint", run, "--to", "pytorch", "-o", filepath.Join(out, "b.py")}, "another architecture"},
		{[]string{"export", "--checkpoint", run, "--to", "pytorch", "-o", filepath.Join(out, "no", "c.py")}, "does not exist"},
		{[]string{"export", "--checkpoint", run, "--to", "pytorch", "-o", filepath.Join(out, "d-e.py")}, "letters, digits and _"},
		{[]string{"export", "--checkpoint", run, "--to", "keras", "-o", filepath.Join(out, "f.py")}, "pytorch or onnx"},
		{[]string{"export", "resnet18", "--to", "pytorch"}, "-o FILE is required"},
		{[]string{"export", "--to", "onnx", "-o", filepath.Join(out, "g.onnx")}, "needs an ARCH"},
	}
	for _, b := range bad {
		_, errOut, status := runCLI(t, "", b.args...)
		if status != 2 || !strings.Contains(errOut, b.want) {
			t.Errorf("%v: status %d, %q; want status 2 and %q", b.args[1:], status, errOut, b.want)
		}
	}
	if got := names(t, out); !slices.Equal(got, want) {
		t.Errorf("after the bad exports the output directory holds %v, want %v", got, want)
	}

	if exec.Command("/usr/bin/python3", "-c", "import torch").Run() != nil {
		t.Log("Debian's python3-torch is not installed: the PyTorch file was not run")
		return
	}
	cmd := exec.Command("/usr/bin/python3", py)
	got, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(got), "parameters; logits (2, 10)") {
		t.Errorf("python3 %s: %v\n%s", py, err, got)
	}
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
