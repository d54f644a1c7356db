package export_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/einspace-go/einspace/export"
	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/models"
)

const smallCNN = `sequential(routing[im2col3k1s1p, computation<linear16>, col2im], sequential(computation<norm>, computation<leakyrelu>))`

// checkpointOf trains the architecture a few steps and saves it: a GoMLX checkpoint directory.
func checkpointOf(t *testing.T, text string, classes int) (string, *grammar.Arch) {
	t.Helper()
	a, err := grammar.ParseArch(text, grammar.ImShape(3, 8, 8))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "ck")
	if err := trained(t, a, classes, 1, dir); err != nil {
		t.Fatal(err)
	}
	return dir, a
}

// files lists what a directory holds.
func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestBadInput gives the export a missing directory, a directory that holds no checkpoint, weights of
// another architecture, a run of another class count, a missing output directory, a file name Python
// cannot import and a network too large for ONNX: each is a typed error that names the problem, and no
// file is left in the output directory.
func TestBadInput(t *testing.T) {
	ck, a := checkpointOf(t, smallCNN, 5)
	other, err := grammar.ParseArch(strings.Replace(smallCNN, "linear16", "linear32", 1), a.Input)
	if err != nil {
		t.Fatal(err)
	}
	wider, err := grammar.ParseArch("sequential("+smallCNN+", computation<linear16>)", a.Input)
	if err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	run := t.TempDir() // a run directory of the small CNN with 5 classes
	m, err := export.LoadCheckpoint(ck, a, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := models.SaveEpoch(run, m, models.RecordOf(m.Net, models.DefaultConfig(), "random")); err != nil {
		t.Fatal(err)
	}
	if own, err := export.LoadCheckpoint(run, nil, 0); err != nil || own.Net.Arch.String() != a.String() || own.Net.Classes != 5 {
		t.Fatalf("a run directory without an architecture: %v", err)
	}
	broken := t.TempDir() // a run directory whose checkpoint was deleted
	saved, err := models.SaveEpoch(broken, m, models.RecordOf(m.Net, models.DefaultConfig(), "random"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(saved); err != nil {
		t.Fatal(err)
	}
	huge, err := grammar.ParseArch("sequential(computation<linear2048>, computation<identity>)", grammar.ImShape(1, 1, 300_000))
	if err != nil {
		t.Fatal(err)
	}
	hugeNet, err := models.Compile(huge, 2)
	if err != nil {
		t.Fatal(err)
	}

	out := t.TempDir()
	load := func(dir string, a *grammar.Arch, classes int) func() error {
		return func() error { _, err := export.LoadCheckpoint(dir, a, classes); return err }
	}
	tests := []struct {
		name string
		do   func() error
		as   any // a pointer to the error type wanted
		want []string
	}{
		{"missing checkpoint directory", load(filepath.Join(out, "nope"), a, 0), new(*export.CheckpointError), []string{"nope", "does not exist"}},
		{"not a checkpoint", load(empty, a, 0), new(*export.CheckpointError), []string{empty, "neither a training run", "nor a GoMLX checkpoint"}},
		{"another architecture's weights", load(ck, other, 0), new(*export.CheckpointError), []string{ck, "/backbone/0/1/0/weights", "[27 16]", "needs float32 [27 32]"}},
		{"weights missing a layer", load(ck, wider, 0), new(*export.CheckpointError), []string{ck, "no variable /backbone/0/0/1/0/weights"}},
		{"classes not the run's", load(run, a, 7), new(*export.CheckpointError), []string{run, "trained 5 classes, not 7"}},
		{"run of another architecture", load(run, other, 0), new(*export.CheckpointError), []string{run, "another architecture", "linear32"}},
		{"no architecture for a plain checkpoint", load(ck, nil, 0), new(*export.CheckpointError), []string{ck, "give the architecture"}},
		{"run without its checkpoint", load(broken, a, 0), new(*export.CheckpointError), []string{broken, "names the checkpoint epoch-000", "holds no GoMLX checkpoint"}},
		{"missing output directory", func() error {
			_, err := export.WritePyTorch(filepath.Join(out, "missing", "net.py"), m.Net, m.Store)
			return err
		}, new(*export.OutputError), []string{"missing", "does not exist"}},
		{"missing output directory (onnx)", func() error {
			return export.WriteONNX(filepath.Join(out, "missing", "net.onnx"), m.Net, m.Store)
		}, new(*export.OutputError), []string{"missing", "does not exist"}},
		{"not a Python module name", func() error {
			_, err := export.WritePyTorch(filepath.Join(out, "my-net.py"), m.Net, m.Store)
			return err
		}, new(*export.OutputError), []string{"my-net.py", "letters, digits and _"}},
		{"too large for ONNX", func() error { return export.CheckONNX(hugeNet) }, new(*export.TargetError), []string{"onnx", "614,402,052 parameters", "2 GiB"}},
		{"weights of another network", func() error {
			net, _ := models.Compile(other, 5)
			return export.WriteONNX(filepath.Join(out, "net.onnx"), net, m.Store)
		}, nil, []string{"/backbone/0/1/0/weights", "needs float32 [27 32]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if err == nil {
				t.Fatal("no error")
			}
			if tt.as != nil && !errors.As(err, tt.as) {
				t.Errorf("error %T (%v), want %T", err, err, tt.as)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if left := files(t, out); len(left) > 0 {
				t.Errorf("files left in the output directory: %v", left)
			}
		})
	}
}

// TestNoPartialFiles checks that a failed export leaves the files already at its paths as they were, and
// that a successful one replaces both the source and its weights.
func TestNoPartialFiles(t *testing.T) {
	ck, a := checkpointOf(t, smallCNN, 3)
	m, err := export.LoadCheckpoint(ck, a, 0)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	py := filepath.Join(dir, "net.py")
	for _, f := range []string{py, export.WeightsPath(py)} {
		if err := os.WriteFile(f, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	other, _ := grammar.ParseArch(strings.Replace(smallCNN, "linear16", "linear32", 1), a.Input)
	otherNet, _ := models.Compile(other, 3)
	if _, err := export.WritePyTorch(py, otherNet, m.Store); err == nil {
		t.Fatal("exporting weights of another architecture succeeded")
	}
	for _, f := range []string{py, export.WeightsPath(py)} {
		if got, _ := os.ReadFile(f); string(got) != "old" {
			t.Errorf("%s was changed by a failed export", f)
		}
	}
	written, err := export.WritePyTorch(py, m.Net, m.Store)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(written, []string{py, filepath.Join(dir, "net.safetensors")}) {
		t.Errorf("wrote %v", written)
	}
	if got := files(t, dir); !slices.Equal(got, []string{"net.py", "net.safetensors"}) {
		t.Errorf("the directory holds %v, want the two files only", got)
	}
	src, _ := os.ReadFile(py)
	if !strings.Contains(string(src), `"net.safetensors"`) || !strings.Contains(string(src), "class Network(nn.Module)") {
		t.Errorf("the source does not load its weights file:\n%s", src)
	}
}

// TestSafetensors reads back the weights file: a header whose tensors tile the data without gaps, in
// PyTorch's layout (nn.Linear and nn.Conv2d weights are [out, in...]), with the metadata.
func TestSafetensors(t *testing.T) {
	ck, a := checkpointOf(t, "sequential("+smallCNN+", computation<linear16>)", 3)
	m, err := export.LoadCheckpoint(ck, a, 0)
	if err != nil {
		t.Fatal(err)
	}
	py := filepath.Join(t.TempDir(), "net.py")
	if _, err := export.WritePyTorch(py, m.Net, m.Store); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(export.WeightsPath(py))
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(raw)
	if (8+n)%8 != 0 {
		t.Errorf("the data starts at %d, not 8-byte aligned", 8+n)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	type entry struct {
		DType   string   `json:"dtype"`
		Shape   []int    `json:"shape"`
		Offsets [2]int64 `json:"data_offsets"`
	}
	var meta map[string]string
	if err := json.Unmarshal(header["__metadata__"], &meta); err != nil || meta["einspace_arch"] != a.String() || meta["classes"] != "3" {
		t.Errorf("metadata %v (%v)", meta, err)
	}
	delete(header, "__metadata__")
	var spans [][2]int64
	shapes := map[string][]int{}
	for k, v := range header {
		var e entry
		if err := json.Unmarshal(v, &e); err != nil {
			t.Fatal(err)
		}
		shapes[k] = e.Shape
		spans = append(spans, e.Offsets)
	}
	slices.SortFunc(spans, func(x, y [2]int64) int { return int(x[0] - y[0]) })
	end := int64(0)
	for _, s := range spans {
		if s[0] != end {
			t.Errorf("a tensor starts at %d, the previous ended at %d", s[0], end)
		}
		end = s[1]
	}
	if int64(len(raw))-8-int64(n) != end {
		t.Errorf("%d data bytes, the header covers %d", int64(len(raw))-8-int64(n), end)
	}
	want := map[string][]int{
		"backbone.conv1.weight": {16, 3, 3, 3}, "backbone.conv1.bias": {16},
		"backbone.norm1.weight": {16}, "backbone.norm1.running_var": {16}, "backbone.norm1.num_batches_tracked": {},
		"backbone.linear1.weight": {16, 8}, "head.weight": {3, 16}, "head.bias": {3},
	}
	for k, w := range want {
		if got, ok := shapes[k]; !ok || !slices.Equal(got, w) {
			t.Errorf("%s: shape %v (present %v), want %v", k, got, ok, w)
		}
	}
}

// TestExportsAreDeterministic: the same network and weights give the same bytes, so exports can be
// compared and cached.
func TestExportsAreDeterministic(t *testing.T) {
	ck, a := checkpointOf(t, smallCNN, 3)
	m, err := export.LoadCheckpoint(ck, a, 0)
	if err != nil {
		t.Fatal(err)
	}
	first, err := export.ONNX(m.Net, m.Store)
	if err != nil {
		t.Fatal(err)
	}
	second, _ := export.ONNX(m.Net, m.Store)
	if string(first) != string(second) {
		t.Error("two ONNX exports of one model differ")
	}
	r := rand.New(rand.NewPCG(1, 1))
	g := grammar.Default()
	g.Limits = grammar.Limits{Nodes: 60}
	for range 20 {
		s, err := g.Sample(r, grammar.ImShape(3, 16, 16))
		if err != nil {
			t.Fatal(err)
		}
		net, _ := models.Compile(s, 4)
		x, err := export.PyTorchSource(net, "net", "")
		if err != nil {
			t.Fatal(err)
		}
		y, _ := export.PyTorchSource(net, "net", "")
		if x != y {
			t.Fatalf("two sources of %s differ", s)
		}
	}
}
