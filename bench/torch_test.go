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
	var archs []*grammar.Arch
	for _, name := range grammar.SeedNames() {
		a, err := grammar.SeedArch(name, grammar.ImShape(3, 28, 28))
		if err != nil {
			t.Fatal(err)
		}
		archs = append(archs, a)
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
	for _, a := range archs {
		s := a.Stats()
		line, _ := json.Marshal(map[string]any{"arch": a.String(), "input_shape": a.Input.Dims(),
			"output_shape": a.Output().Dims(), "params": s.Params})
		out, err := exec.Command(python, "torch_einspace.py", "--check", "--arch", string(line)).CombinedOutput()
		if err != nil || !strings.Contains(string(out), `"ok": true`) {
			t.Errorf("PyTorch disagrees (%v): %s\n%s", err, strings.TrimSpace(string(out)), a)
		}
	}
}
