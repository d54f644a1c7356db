package kernel_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/kernel"
	"github.com/einspace-go/einspace/viz"
)

// outside sets the package up as a program outside a notebook: pages into a temporary directory, text
// into a buffer, and a stand-in ECharts bundle (the real one is not needed to write a page).
func outside(t *testing.T) (dir string, out *bytes.Buffer) {
	t.Helper()
	if kernel.InNotebook() {
		t.Skip("running inside a notebook")
	}
	dir = t.TempDir()
	bundle := filepath.Join(dir, "echarts.min.js")
	if err := os.WriteFile(bundle, []byte("/* echarts stand-in */"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(viz.EChartsEnv, bundle)
	out = &bytes.Buffer{}
	oldDir, oldOut := kernel.OutputDir, kernel.Stdout
	kernel.OutputDir, kernel.Stdout = filepath.Join(dir, "pages"), out
	t.Cleanup(func() { kernel.OutputDir, kernel.Stdout = oldDir, oldOut })
	return dir, out
}

var wrote = regexp.MustCompile(`wrote (\S+\.html)`)

func TestDisplayOutsideNotebookWritesPage(t *testing.T) {
	_, out := outside(t)
	a, err := grammar.SeedArch(grammar.ViT, grammar.ImShape(3, 32, 32))
	if err != nil {
		t.Fatal(err)
	}
	if err := kernel.Display(a); err != nil {
		t.Fatal(err)
	}
	m := wrote.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("Display printed no page path:\n%s", out)
	}
	page, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"echarts stand-in", "derivation tree", "dataflow graph", "echarts.init"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("page %s lacks %q", m[1], want)
		}
	}
	if !regexp.MustCompile(`parameters +4269568`).MatchString(out.String()) || !strings.Contains(m[1], "architecture") {
		t.Errorf("the statistics table was not printed as text:\n%s", out)
	}
}

func TestDisplayTextOnly(t *testing.T) {
	dir, out := outside(t)
	if err := kernel.Display(kernel.Table{Header: []string{"a", "b"}, Rows: [][]string{{"1", "2"}}}, "done"); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "a  b\n1  2\ndone\n"; got != want {
		t.Errorf("printed %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "pages")); err == nil {
		t.Error("a display without charts wrote a page")
	}
}

func TestDisplayUnsupported(t *testing.T) {
	outside(t)
	err := kernel.Display(42)
	if err == nil || !strings.Contains(err.Error(), "cannot display a int") {
		t.Errorf("Display(42) = %v, want an error naming the type", err)
	}
}

func TestLiveOutsideNotebook(t *testing.T) {
	_, out := outside(t)
	live := kernel.NewLive("training")
	var epochs []viz.Epoch
	for i := 1; i <= 3; i++ {
		epochs = append(epochs, viz.Epoch{Epoch: i, TrainLoss: 1 / float64(i), ValAccuracy: 0.5})
		if err := live.Update(kernel.Progress{Label: "epochs", Done: i, Total: 3}, epochs); err != nil {
			t.Fatal(err)
		}
	}
	if err := live.Close(); err != nil {
		t.Fatal(err)
	}
	if err := live.Update("late"); err == nil {
		t.Error("Update after Close did not fail")
	}
	text := out.String()
	for _, want := range []string{"epochs [======              ] 1/3", "epochs [====================] 3/3"} {
		if !strings.Contains(text, want) {
			t.Errorf("progress line %q not printed:\n%s", want, text)
		}
	}
	if m := wrote.FindStringSubmatch(text); m == nil || !strings.Contains(m[1], "training") {
		t.Errorf("Close wrote no page of the final state:\n%s", text)
	}
}

func TestLoadEChartsOutsideNotebookIsNoOp(t *testing.T) {
	_, out := outside(t)
	t.Setenv(viz.EChartsEnv, filepath.Join(t.TempDir(), "missing.js")) // not even looked for
	if err := kernel.LoadECharts(); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("LoadECharts printed %q", out)
	}
}

func TestKernelSpec(t *testing.T) {
	raw, err := kernel.KernelSpec("/src/einspace", "/opt/go/bin", "/cache/go1.27.3-safe-simd", []string{"/cache/gomlx-compute-patched"})
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Argv []string
		Env  map[string]string
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	want := []string{"/opt/go/bin/gonb", "--kernel", "{connection_file}", "--logtostderr", "-go_work=/src/einspace,/cache/gomlx-compute-patched"}
	if fmt.Sprint(spec.Argv) != fmt.Sprint(want) {
		t.Errorf("argv = %q, want %q", spec.Argv, want)
	}
	for k, v := range map[string]string{"GOTOOLCHAIN": "local", "GOEXPERIMENT": "simd", "GOFLAGS": "", "GOWORK": "",
		viz.EChartsEnv: "/src/einspace/.cache/echarts/echarts.min.js"} {
		if got, ok := spec.Env[k]; !ok || got != v {
			t.Errorf("env %s = %q, want %q", k, got, v)
		}
	}
	if !strings.HasPrefix(spec.Env["PATH"], "/cache/go1.27.3-safe-simd/bin:/opt/go/bin:") {
		t.Errorf("PATH = %q, want the project's toolchain first, then the Go tools", spec.Env["PATH"])
	}
}

func ExampleProgress_String() {
	fmt.Println(kernel.Progress{Label: "search", Done: 3, Total: 12, Note: "best 0.91"})
	// Output: search [=====               ] 3/12 best 0.91
}

func ExampleTable_Text() {
	t := kernel.Table{Title: "seeds", Header: []string{"name", "params"}, Rows: [][]string{{"resnet18", "11.2M"}, {"vit", "4.27M"}}}
	fmt.Println(t.Text())
	// Output:
	// seeds
	// name      params
	// resnet18  11.2M
	// vit       4.27M
}

func TestDisplayHTMLOutsideNotebook(t *testing.T) {
	_, out := outside(t)
	if err := kernel.Display(kernel.HTML("<img src='data:image/png;base64,AAAA'>")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "HTML output") {
		t.Errorf("printed %q, want a note that HTML was shown", out)
	}
}
