// Package bench holds benchmark scripts; its test cross-checks the grammar against an independent
// implementation of the same semantics in PyTorch (bench/torch_einspace.py).
package bench

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/einspace-go/einspace/grammar"
)

const python = "/usr/bin/python3"

// TestTorchAgreesWithGrammar builds the seeds and random samples in PyTorch, runs a forward pass, and
// checks the output shape and the parameter count against the grammar's analytic ones.
func TestTorchAgreesWithGrammar(t *testing.T) {
	if err := exec.Command(python, "-c", "import torch").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PyTorch is missing on CI (.ci/run installs python3-torch): %v", err)
		}
		t.Skip("Debian's python3-torch is not installed; .ci/run installs it")
	}
	archs, err := grammar.SeedArchs(grammar.ImShape(3, 28, 28))
	if err != nil {
		t.Fatal(err)
	}
	g := grammar.Default()
	g.Limits = grammar.Limits{Nodes: 150, Params: 3_000_000, FLOPs: 50_000_000, ActivationBytes: 64 << 20}
	r := rand.New(rand.NewPCG(42, 1))
	samples := 40
	if testing.Short() {
		samples = 10
	}
	for _, input := range []grammar.Shape{grammar.ImShape(3, 28, 28), grammar.ImShape(1, 24, 20)} {
		for range samples / 2 {
			a, err := g.Sample(r, input)
			if err != nil {
				t.Fatal(err)
			}
			archs = append(archs, a)
		}
	}
	// One Python process checks every architecture: starting PyTorch takes seconds.
	var in strings.Builder
	for _, a := range archs {
		line, _ := json.Marshal(map[string]any{"arch": a.String(), "input_shape": a.Input.Dims(),
			"output_shape": a.Output().Dims(), "params": a.Stats().Params})
		in.Write(line)
		in.WriteByte('\n')
	}
	cmd := exec.Command(python, "torch_einspace.py", "--check", "--arch", "-")
	cmd.Stdin = strings.NewReader(in.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("torch_einspace.py: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(archs) {
		t.Fatalf("%d answers for %d architectures:\n%s", len(lines), len(archs), out)
	}
	for i, a := range archs {
		var got struct {
			OK     bool   `json:"ok"`
			Params int64  `json:"params"`
			Output []int  `json:"output_shape"`
			Error  string `json:"error"`
		}
		if err := json.Unmarshal([]byte(lines[i]), &got); err != nil || !got.OK {
			t.Errorf("PyTorch disagrees: %s (grammar: %d parameters, output %v)\n%s", lines[i], a.Stats().Params, a.Output(), a)
		}
	}
}
