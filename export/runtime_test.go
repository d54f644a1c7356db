package export_test

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/einspace-go/einspace/export"
	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/models"
)

// Tolerance is how closely the logits of the three runtimes must agree: the largest difference over an
// architecture's logits, divided by the largest GoMLX logit in magnitude (or 1 if that is smaller).
// Each runtime sums in its own order in float32, so they differ in the last bits, more so in deep nets.
const tolerance = 1e-4

const python = "/usr/bin/python3"

// runtimes returns why the independent runtimes cannot run here, or "".
func runtimes() string {
	if err := exec.Command(python, "-c", "import torch, onnx").Run(); err != nil {
		return "Debian's python3-torch and python3-onnx are not installed (scripts/setup-tests.sh installs them)"
	}
	if _, err := os.Stat("testdata/ort/node_modules/onnxruntime-node"); err != nil {
		return "onnxruntime-node is not installed in export/testdata/ort (scripts/setup-tests.sh runs npm ci there)"
	}
	return ""
}

// requireRuntimes skips the test where the runtimes are missing, except on CI, where it fails.
func requireRuntimes(t *testing.T) {
	t.Helper()
	if why := runtimes(); why != "" {
		if os.Getenv("CI") != "" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
}

// features are what the random architectures must include between them, with how to recognise each.
var features = []struct {
	name string
	has  func(*grammar.Node) bool
}{
	{"4- or 8-way branching", func(n *grammar.Node) bool { return n.Kind == grammar.BranchingModule && n.Factor() > 2 }},
	{"attention (a matrix product of two paths)", func(n *grammar.Node) bool {
		return n.Kind == grammar.Terminal && (n.Op.Family() == grammar.FamDot || n.Op.Family() == grammar.FamScaledDot)
	}},
	{"permute", func(n *grammar.Node) bool { return n.Kind == grammar.Terminal && n.Op.Family() == grammar.FamPermute }},
	{"group", func(n *grammar.Node) bool { return n.Kind == grammar.Terminal && n.Op.Family() == grammar.FamGroup }},
	{"concatenation", func(n *grammar.Node) bool { return n.Kind == grammar.Terminal && n.Op.Family() == grammar.FamCat }},
	{"positional encoding", func(n *grammar.Node) bool {
		return n.Kind == grammar.Terminal && n.Op.Family() == grammar.FamPositional
	}},
	{"norm in col mode (LayerNorm)", func(n *grammar.Node) bool {
		return n.Kind == grammar.Terminal && n.Op.Family() == grammar.FamNorm && n.In.Rank() == 2
	}},
	{"norm in im mode (BatchNorm2d)", func(n *grammar.Node) bool {
		return n.Kind == grammar.Terminal && n.Op.Family() == grammar.FamNorm && n.In.Rank() == 3
	}},
	{"im2col outside a convolution", func(n *grammar.Node) bool {
		if n.Kind != grammar.RoutingModule || n.Children[0].Op.Family() != grammar.FamIm2col {
			return false
		}
		in := n.Children[1]
		return n.Children[2].Op.Family() != grammar.FamCol2im || in.Kind != grammar.ComputationModule ||
			in.Children[0].Op.Family() != grammar.FamLinear
	}},
	{"convolution", func(n *grammar.Node) bool {
		return n.Kind == grammar.RoutingModule && n.Children[0].Op.Family() == grammar.FamIm2col &&
			n.Children[2].Op.Family() == grammar.FamCol2im
	}},
	{"softmax", func(n *grammar.Node) bool { return n.Kind == grammar.Terminal && n.Op.Family() == grammar.FamSoftmax }},
}

func has(a *grammar.Arch, f func(*grammar.Node) bool) bool {
	found := false
	grammar.Inspect(a.Root, func(n *grammar.Node) bool {
		found = found || f(n)
		return !found
	})
	return found
}

// verificationArchs returns the four seeds and random architectures (at least samples) for the runtime
// test, drawn until every feature appears at least twice; the same every run.
func verificationArchs(t *testing.T, samples int) []*grammar.Arch {
	archs, err := grammar.SeedArchs(grammar.ImShape(3, 28, 28))
	if err != nil {
		t.Fatal(err)
	}
	g := grammar.Default()
	g.Limits = grammar.Limits{Nodes: 120, Params: 1_000_000, FLOPs: 20_000_000, ActivationBytes: 16 << 20}
	r := rand.New(rand.NewPCG(15, 1))
	inputs := []grammar.Shape{grammar.ImShape(3, 28, 28), grammar.ImShape(1, 24, 20), grammar.ImShape(2, 16, 16)}
	count := make([]int, len(features))
	covered := func() bool {
		for _, c := range count {
			if c < 2 {
				return false
			}
		}
		return true
	}
	for drawn := 0; drawn < samples || !covered(); drawn++ {
		if drawn > 20*samples {
			t.Fatalf("after %d samples some feature is still missing: %v", drawn, count)
		}
		a, err := g.Sample(r, inputs[drawn%len(inputs)])
		if err != nil {
			t.Fatal(err)
		}
		useful := drawn < samples
		for i, f := range features {
			if has(a, f.has) {
				useful = useful || count[i] < 2
			}
		}
		if !useful {
			continue
		}
		for i, f := range features {
			if has(a, f.has) {
				count[i]++
			}
		}
		archs = append(archs, a)
	}
	for i, f := range features {
		t.Logf("%-45s in %d random architectures", f.name, count[i])
	}
	return archs
}

// trained is a model of the architecture after a few SGD steps on random data, saved to a checkpoint
// directory, so that its weights and batch-norm running statistics are not the initial ones.
func trained(t *testing.T, a *grammar.Arch, classes int, seed uint64, dir string) error {
	net, err := models.Compile(a, classes)
	if err != nil {
		return err
	}
	m, err := models.New(net, int64(seed))
	if err != nil {
		return err
	}
	if err := m.SetLearningRate(0.01); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(seed, 7))
	const batch, steps = 4, 3
	for range steps {
		images := randomImages(r, batch, a.Input)
		labels := make([]int32, batch)
		for i := range labels {
			labels[i] = int32(r.IntN(classes))
		}
		if _, _, err := m.TrainStep(images, labels); err != nil {
			return err
		}
	}
	return m.Save(dir)
}

func randomImages(r *rand.Rand, n int, shape grammar.Shape) []float32 {
	x := make([]float32, n*int(shape.Size()))
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// exported is one architecture, trained, checkpointed, exported, with its GoMLX logits.
type exported struct {
	arch    *grammar.Arch
	params  int64 // grammar's count plus the head's
	py      string
	onnx    string
	input   string
	dims    []int
	logits  []float32 // GoMLX, evaluation mode, read back from the checkpoint
	hasNorm bool      // BatchNorm2d somewhere
}

// TestRuntimesAgree is the export's proof: the four seeds and at least 50 random architectures, each
// trained a few steps in GoMLX and saved, are read back from the checkpoint and exported; Debian's PyTorch
// (evaluation mode, the generated module with its safetensors weights) and ONNX Runtime (npm's
// onnxruntime-node) compute the same logits as GoMLX within tolerance; the exported module has the
// grammar's parameter count plus the head's; the BatchNorm2d running statistics arrive trained; and the
// ONNX files pass python3-onnx's checker and strict shape inference with the output (batch, classes).
func TestRuntimesAgree(t *testing.T) {
	if raceEnabled {
		t.Skip("the export has no concurrency to check, and under the race detector its GoMLX training takes minutes")
	}
	requireRuntimes(t)
	samples := 50
	if testing.Short() {
		samples = 8
	}
	const classes, examples = 7, 3
	start := time.Now()
	archs := verificationArchs(t, samples)
	dir := t.TempDir()
	var cases []exported
	for i, a := range archs {
		ck := filepath.Join(dir, fmt.Sprintf("ck%02d", i))
		if err := trained(t, a, classes, uint64(i+1), ck); err != nil {
			t.Fatalf("arch %d: train: %v\n%s", i, err, a)
		}
		m, err := export.LoadCheckpoint(ck, a, 0)
		if err != nil {
			t.Fatalf("arch %d: %v", i, err)
		}
		if m.Net.Classes != classes {
			t.Fatalf("arch %d: the checkpoint's head has %d classes, want %d", i, m.Net.Classes, classes)
		}
		x := randomImages(rand.New(rand.NewPCG(uint64(i), 99)), examples, a.Input)
		logits, err := m.Predict(x, examples)
		if err != nil {
			t.Fatalf("arch %d: predict: %v", i, err)
		}
		finite := true
		for _, v := range logits {
			finite = finite && !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0)
		}
		if !finite {
			t.Logf("arch %d: GoMLX logits are not finite after training; left out", i)
			continue
		}
		c := exported{arch: a, params: m.Net.Params(), logits: logits, dims: append([]int{examples}, a.Input.Dims()...),
			py: filepath.Join(dir, fmt.Sprintf("net%02d.py", i)), onnx: filepath.Join(dir, fmt.Sprintf("net%02d.onnx", i)),
			input: filepath.Join(dir, fmt.Sprintf("x%02d.f32", i)), hasNorm: has(a, features[7].has)}
		if _, err := export.WritePyTorch(c.py, m.Net, m.Store); err != nil {
			t.Fatalf("arch %d: %v", i, err)
		}
		if err := export.WriteONNX(c.onnx, m.Net, m.Store); err != nil {
			t.Fatalf("arch %d: %v", i, err)
		}
		if err := os.WriteFile(c.input, float32Bytes(x), 0o644); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c)
	}
	if len(cases) < len(archs)-2 || len(cases) < 4+samples {
		t.Fatalf("only %d of %d architectures had finite logits", len(cases), len(archs))
	}
	trainedIn := time.Since(start)

	var pyReq, ortReq strings.Builder
	for _, c := range cases {
		line, _ := json.Marshal(map[string]any{"py": c.py, "onnx": c.onnx, "input": c.input, "dims": c.dims})
		pyReq.Write(append(line, '\n'))
		line, _ = json.Marshal(map[string]any{"model": c.onnx, "input": c.input, "dims": c.dims})
		ortReq.Write(append(line, '\n'))
	}
	type answer struct {
		Logits     []float64 `json:"logits"`
		Params     int64     `json:"params"`
		BNLayers   int       `json:"bn_layers"`
		BNMeanMax  float64   `json:"bn_running_mean_max"`
		ONNXOutput []any     `json:"onnx_output"`
		Opset      int       `json:"onnx_opset"`
		Error      string    `json:"error"`
	}
	run := func(name string, cmd *exec.Cmd, req string) []answer {
		cmd.Stdin = strings.NewReader(req)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var answers []answer
		sc := bufio.NewScanner(strings.NewReader(string(out)))
		sc.Buffer(nil, 1<<26)
		for sc.Scan() {
			var a answer
			if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
				t.Fatalf("%s: %v in %q", name, err, sc.Text())
			}
			answers = append(answers, a)
		}
		if len(answers) != len(cases) {
			t.Fatalf("%s: %d answers for %d architectures", name, len(answers), len(cases))
		}
		return answers
	}
	torchStart := time.Now()
	torch := run("PyTorch", exec.Command(python, "testdata/check_exports.py"), pyReq.String())
	torchIn := time.Since(torchStart)
	ortStart := time.Now()
	ort := run("ONNX Runtime", exec.Command("node", "testdata/ort/logits.mjs"), ortReq.String())
	ortIn := time.Since(ortStart)

	worstTorch, worstORT := 0.0, 0.0
	bnChecked := 0
	for i, c := range cases {
		name := fmt.Sprintf("architecture %d (%s)", i, c.arch)
		if len(name) > 300 {
			name = name[:300] + "...)"
		}
		tr, or := torch[i], ort[i]
		if tr.Error != "" {
			t.Errorf("%s: PyTorch: %s", name, tr.Error)
			continue
		}
		if or.Error != "" {
			t.Errorf("%s: ONNX Runtime: %s", name, or.Error)
			continue
		}
		if tr.Params != c.params {
			t.Errorf("%s: the PyTorch module has %d trainable parameters, the grammar and head count %d", name, tr.Params, c.params)
		}
		if fmt.Sprint(tr.ONNXOutput) != fmt.Sprintf("[batch %d]", classes) || tr.Opset != export.Opset {
			t.Errorf("%s: ONNX shape inference gives output %v at opset %d, want [batch %d] at %d", name, tr.ONNXOutput, tr.Opset, classes, export.Opset)
		}
		if c.hasNorm {
			if tr.BNLayers == 0 || tr.BNMeanMax == 0 {
				t.Errorf("%s: the BatchNorm2d running means arrived untrained (%d layers, max |mean| %g)", name, tr.BNLayers, tr.BNMeanMax)
			}
			bnChecked++
		}
		dt, err := disagreement(c.logits, tr.Logits)
		if err != nil {
			t.Errorf("%s: PyTorch: %v", name, err)
		}
		do, err := disagreement(c.logits, or.Logits)
		if err != nil {
			t.Errorf("%s: ONNX Runtime: %v", name, err)
		}
		worstTorch, worstORT = max(worstTorch, dt), max(worstORT, do)
		if dt > tolerance || do > tolerance {
			t.Errorf("%s: logits differ from GoMLX's by %.2g (PyTorch) and %.2g (ONNX Runtime), tolerance %g\nGoMLX %v\ntorch %v\nORT   %v",
				name, dt, do, tolerance, c.logits, tr.Logits, or.Logits)
		}
	}
	if bnChecked < 3 {
		t.Errorf("only %d architectures had batch normalisation", bnChecked)
	}
	t.Logf("%d architectures (4 seeds, %d random), %d with BatchNorm2d; largest disagreement with GoMLX: PyTorch %.2g, ONNX Runtime %.2g (tolerance %g); train+export %v, PyTorch %v, ONNX Runtime %v",
		len(cases), len(cases)-4, bnChecked, worstTorch, worstORT, tolerance, trainedIn.Round(time.Second), torchIn.Round(time.Second), ortIn.Round(time.Second))
}

// disagreement is the largest difference between two runtimes' logits relative to the largest magnitude
// of the reference's (at least 1).
func disagreement(ref []float32, got []float64) (float64, error) {
	if len(got) != len(ref) {
		return math.Inf(1), fmt.Errorf("%d logits, want %d", len(got), len(ref))
	}
	scale, diff := 1.0, 0.0
	for i, r := range ref {
		scale = max(scale, math.Abs(float64(r)))
		d := math.Abs(float64(r) - got[i])
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		diff = max(diff, d)
	}
	return diff / scale, nil
}

func float32Bytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}
