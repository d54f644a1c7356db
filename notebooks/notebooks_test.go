package notebooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/einspace-go/einspace/viz"
)

// python is Debian's interpreter, whose Jupyter modules (nbconvert, nbclient) the kernel setup installs;
// another python3 on PATH may lack them.
const python = "/usr/bin/python3"

// budgets bound each notebook's headless run. A notebook is meant to finish within five minutes on two
// cores (a cold Go build cache adds about a minute to the first one); a subtest that does not have its
// budget left before the test binary's -timeout is skipped, with a message, rather than killed by it.
var budgets = map[string]time.Duration{
	"01-grammar-tour.ipynb":          4 * time.Minute,
	"02-sampling-and-mutation.ipynb": 3 * time.Minute,
	"03-training.ipynb":              5 * time.Minute,
	"04-search-reproduction.ipynb":   6 * time.Minute,
	"05-teaching-nas.ipynb":          3 * time.Minute,
	"06-interactive.ipynb":           2 * time.Minute,
}

// checks holds each notebook's assertions on its executed outputs.
var checks = map[string]func(t *testing.T, nb *notebook){
	"01-grammar-tour.ipynb":          check01,
	"02-sampling-and-mutation.ipynb": check02,
	"03-training.ipynb":              check03,
	"04-search-reproduction.ipynb":   check04,
	"05-teaching-nas.ipynb":          check05,
	"06-interactive.ipynb":           check06,
}

// TestNotebooks executes every notebook of this folder headless with the einspace kernel and checks the
// real outputs of every cell. It needs jupyter (nbconvert) and the kernel "einspace" (bash
// scripts/setup-notebooks.sh): without them it is skipped, unless CI is set, where it fails.
func TestNotebooks(t *testing.T) {
	if testing.Short() {
		t.Skip("notebooks execute for minutes: skipped under -short")
	}
	if err := jupyterReady(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but notebooks cannot run: %v (bash scripts/setup-notebooks.sh installs them)", err)
		}
		t.Skipf("notebooks not executed: %v (bash scripts/setup-notebooks.sh installs them)", err)
	}
	paths, err := filepath.Glob("*.ipynb")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no notebooks found in %s (%v)", must(os.Getwd()), err)
	}
	for _, p := range paths {
		if checks[p] == nil {
			t.Errorf("%s has no checks in notebooks_test.go: add them", p)
		}
	}
	outDir := os.Getenv("EINSPACE_NOTEBOOKS_OUT") // keep the executed copies there when set
	if outDir == "" {
		outDir = t.TempDir()
	} else if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	results := t.TempDir() // fresh run directories: nothing is resumed from an earlier run
	total := time.Now()
	for _, p := range paths {
		t.Run(strings.TrimSuffix(p, ".ipynb"), func(t *testing.T) {
			budget := budgets[p]
			if budget == 0 {
				budget = 5 * time.Minute
			}
			limit := budget + time.Minute // nbconvert is killed after this, so that the test reports what happened
			if dl, ok := t.Deadline(); ok {
				left := time.Until(dl) - 30*time.Second
				if left < budget {
					t.Skipf("%s needs up to %v but only %v are left before -timeout: run bash scripts/notebooks-test.sh (go test -timeout 45m)",
						p, budget, left.Round(time.Second))
				}
				limit = min(limit, left)
			}
			ctx, cancel := context.WithTimeout(context.Background(), limit)
			defer cancel()
			start := time.Now()
			nb, err := execute(ctx, p, outDir, results)
			elapsed := time.Since(start)
			t.Logf("%s executed in %.1f s", p, elapsed.Seconds())
			if err != nil {
				t.Fatal(err)
			}
			if elapsed > budget {
				t.Errorf("%s took %.0f s, over its budget of %v", p, elapsed.Seconds(), budget)
			}
			checkCommon(t, nb)
			if c := checks[p]; c != nil {
				c(t, nb)
			}
		})
	}
	t.Logf("all notebooks: %.1f s", time.Since(total).Seconds())
}

// jupyterReady reports why notebooks cannot be executed here, or nil.
func jupyterReady() error {
	if _, err := os.Stat(python); err != nil {
		return fmt.Errorf("%s not found", python)
	}
	if err := exec.Command(python, "-c", "import nbconvert, nbclient").Run(); err != nil {
		return fmt.Errorf("%s cannot import nbconvert and nbclient", python)
	}
	out, err := exec.Command(python, "-m", "jupyter", "kernelspec", "list", "--json").Output()
	if err != nil {
		return fmt.Errorf("jupyter kernelspec list: %v", err)
	}
	var specs struct {
		Kernelspecs map[string]json.RawMessage `json:"kernelspecs"`
	}
	if err := json.Unmarshal(out, &specs); err != nil {
		return fmt.Errorf("jupyter kernelspec list: %v", err)
	}
	if _, ok := specs.Kernelspecs["einspace"]; !ok {
		return fmt.Errorf("the Jupyter kernel \"einspace\" is not installed")
	}
	return nil
}

// execute runs the notebook with nbconvert into outDir (errors are kept as outputs so that the checks can
// name the cell) and returns the executed notebook.
func execute(ctx context.Context, path, outDir, results string) (*notebook, error) {
	cmd := exec.CommandContext(ctx, python, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
		"--allow-errors", "--ExecutePreprocessor.kernel_name=einspace", "--ExecutePreprocessor.timeout=900",
		"--output-dir", outDir, path)
	cmd.Env = append(os.Environ(), "EINSPACE_NOTEBOOK_RESULTS="+results)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("nbconvert %s: %v\n%s", path, err, tail(stderr.String(), 3000))
	}
	b, err := os.ReadFile(filepath.Join(outDir, path))
	if err != nil {
		return nil, err
	}
	var nb notebook
	if err := json.Unmarshal(b, &nb); err != nil {
		return nil, fmt.Errorf("executed %s: %v", path, err)
	}
	return &nb, nil
}

// notebook is the part of nbformat 4 the checks read.
type notebook struct {
	Cells []cell `json:"cells"`
}

type cell struct {
	Type    string   `json:"cell_type"`
	Source  text     `json:"source"`
	Outputs []output `json:"outputs"`
}

type output struct {
	Type  string          `json:"output_type"`
	Name  string          `json:"name"` // stream: stdout or stderr
	Text  text            `json:"text"`
	Data  map[string]text `json:"data"`
	EName string          `json:"ename"`
	Value string          `json:"evalue"`
}

// text is a multi-line string, stored either as one string or as a list of lines.
type text string

func (s *text) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = text(one)
		return nil
	}
	var lines []string
	if err := json.Unmarshal(b, &lines); err != nil {
		return err
	}
	*s = text(strings.Join(lines, ""))
	return nil
}

// code returns the code cells, numbered from 1 in the order they appear.
func (nb *notebook) code() []cell {
	var cs []cell
	for _, c := range nb.Cells {
		if c.Type == "code" {
			cs = append(cs, c)
		}
	}
	return cs
}

// stdout is everything the cell printed on standard output.
func (c cell) stdout() string {
	var b strings.Builder
	for _, o := range c.Outputs {
		if o.Type == "stream" && o.Name == "stdout" {
			b.WriteString(string(o.Text))
		}
	}
	return b.String()
}

// html is every text/html output of the cell, concatenated.
func (c cell) html() string {
	var b strings.Builder
	for _, o := range c.Outputs {
		if h, ok := o.Data["text/html"]; ok {
			b.WriteString(string(h))
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func (c cell) charts() int { return strings.Count(c.html(), "echarts.init(") }

func (c cell) name() string {
	first, _, _ := strings.Cut(strings.TrimSpace(string(c.Source)), "\n")
	return fmt.Sprintf("cell %q", first)
}

// checkCommon holds for every notebook: every code cell shows something, nothing failed, charts draw.
func checkCommon(t *testing.T, nb *notebook) {
	t.Helper()
	cs := nb.code()
	if len(cs) == 0 {
		t.Fatal("no code cells")
	}
	bundle, charts := false, 0
	for i, c := range cs {
		if len(c.Outputs) == 0 {
			t.Errorf("code cell %d (%s) has no output", i+1, c.name())
		}
		for _, o := range c.Outputs {
			switch {
			case o.Type == "error":
				t.Errorf("code cell %d (%s) failed: %s: %s\n%s", i+1, c.name(), o.EName, o.Value, tail(c.stderrText(), 2000))
			case o.Type == "stream" && o.Name == "stderr" && strings.Contains(string(o.Text), "panic:"):
				t.Errorf("code cell %d (%s) panicked:\n%s", i+1, c.name(), tail(string(o.Text), 2000))
			}
			if h := string(o.Data["text/html"]); strings.Contains(h, "gonb-err") {
				t.Errorf("code cell %d (%s) shows a GoNB error:\n%s", i+1, c.name(), tail(stripTags(h), 1500))
			}
		}
		h := c.html()
		if strings.Contains(h, viz.EChartsBundleMarker) {
			bundle = true
		}
		charts += c.charts()
	}
	if !bundle {
		t.Error("the ECharts bundle was never sent to the notebook (its HTML export would not draw)")
	}
	if charts == 0 {
		t.Error("no chart in the notebook")
	}
}

func (c cell) stderrText() string {
	var b strings.Builder
	for _, o := range c.Outputs {
		if o.Type == "stream" && o.Name == "stderr" {
			b.WriteString(string(o.Text))
		}
	}
	return b.String()
}

// find returns the first code cell whose source contains marker.
func find(t *testing.T, nb *notebook, marker string) cell {
	t.Helper()
	for _, c := range nb.code() {
		if strings.Contains(string(c.Source), marker) {
			return c
		}
	}
	t.Fatalf("no code cell contains %q", marker)
	return cell{}
}

func wantText(t *testing.T, c cell, subs ...string) {
	t.Helper()
	out := c.stdout()
	for _, s := range subs {
		if !strings.Contains(out, s) {
			t.Errorf("%s: output lacks %q; it is:\n%s", c.name(), s, tail(out, 2500))
		}
	}
}

func wantCharts(t *testing.T, c cell, n int) {
	t.Helper()
	if got := c.charts(); got < n {
		t.Errorf("%s: %d charts drawn (echarts.init), want at least %d", c.name(), got, n)
	}
}

func percent(t *testing.T, what, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 100 {
		t.Errorf("%s: %q is not a percentage in [0, 100]", what, s)
	}
	return v
}

func check01(t *testing.T, nb *notebook) {
	wantText(t, find(t, nb, "grammar.Terminals(c)"), "branching function (12)", "aggregation function (12)",
		"prerouting function (14)", "postrouting function ( 8)", "computation function (13)", "terminals in all: 59")
	shapes := find(t, nb, "printShapes(patches)")
	wantText(t, shapes, "im2col4k4s0p                           (3,28,28)    (49,48)      col",
		"output (49,64), 6400 parameters", "col2im                                   (784,64)     (64,28,28)   im",
		"output (64,28,28), 1792 parameters",
		// linear maps the last axis, the width, of an image; the postrouting permute does not undo the prerouting.
		"  linear256                              (3,28,28)    (3,28,256)   im", "output (256,28,3), 7424 parameters")
	wantText(t, find(t, nb, "sampleThree(7), sampleThree(7)"), "sample 0:", "sample 2:",
		"sampling again with seed 7 gives the same three architectures: yes")
	wantText(t, find(t, nb, "round trip"), "round trip equal: true  same hash: true",
		"syntax error (deliberate): 1:12: expected a module",
		"shape error (deliberate):  1:42: col2im at root.post")
	// The seeds' backbone parameters at 3×28×28, exactly (SPEC §6.3).
	want := map[string]string{"resnet18": "11210560", "wrn16_4": "2748576", "vit": "4261888", "mlp_mixer": "2317288"}
	out := find(t, nb, "grammar.SeedNames()").stdout()
	re := regexp.MustCompile(`(?m)^(\w+)\s+output \S+\s+(\d+) parameters`)
	got := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		got[m[1]] = m[2]
	}
	for name, params := range want {
		if got[name] != params {
			t.Errorf("seed %s: %q parameters printed, want %s\n%s", name, got[name], params, out)
		}
	}
	for marker, counts := range map[string][]string{
		"grammar.ResNet18, grammar.WRN16_4": {"resnet18: 11210560 parameters", "wrn16_4: 2748576 parameters"},
		"grammar.ViT, grammar.Mixer":        {"vit: 4261888 parameters", "mlp_mixer: 2317288 parameters"},
	} {
		c := find(t, nb, marker)
		wantCharts(t, c, 4) // a tree and a graph for each of two seeds
		for _, s := range counts {
			if !strings.Contains(c.html(), s) {
				t.Errorf("%s: the display lacks %q", c.name(), s)
			}
		}
	}
	wantCharts(t, find(t, nb, "Exact: true"), 2)
}

func check02(t *testing.T, nb *notebook) {
	c := find(t, nb, "Table 10 at 3×28×28")
	paperMedians := map[string][2]float64{"0.9": {3, 3}, "0.8": {4, 3}, "0.7": {4, 3}, "0.6": {4, 4}, "0.5": {5, 5}}
	spread := map[string]float64{}
	seen := 0
	for _, r := range tableRows(c.html()) {
		pm, ok := paperMedians[firstOr(r)]
		if !ok || len(r) < 7 {
			continue
		}
		seen++
		if r[1] == "" || r[4] == "" {
			t.Errorf("p = %s: the paper's columns are empty: %q", r[0], r)
		}
		// Five seeds per row; the medians of the tree as built match the paper's within one in every seed.
		for col, want := range map[int]float64{3: pm[0], 6: pm[1]} {
			meds := numbers(t, r[col])
			if len(meds) != 5 {
				t.Errorf("p = %s: %d medians, want one per seed (5): %q", r[0], len(meds), r[col])
			}
			for _, m := range meds {
				if m < want-1 || m > want+1 {
					t.Errorf("p = %s: a seed's median %g is not within one of the paper's %g: %q", r[0], m, want, r[col])
				}
			}
		}
		means := numbers(t, r[2])
		if len(means) == 5 {
			spread[r[0]] = slices.Max(means) / slices.Min(means)
		}
	}
	if seen != 5 {
		t.Errorf("Table 10: %d rows for p = 0.9 … 0.5, want 5", seen)
	}
	// The lesson of the table: the means agree across seeds at p = 0.9 and scatter at p = 0.5.
	if s := spread["0.9"]; s == 0 || s > 1.25 {
		t.Errorf("p = 0.9: the seeds' terminal means differ by a factor %.2f; the notebook says they agree", s)
	}
	if s := spread["0.5"]; s < 1.5 {
		t.Errorf("p = 0.5: the seeds' terminal means differ by a factor %.2f only; the notebook says they scatter", s)
	}
	wantText(t, c, "p = 0.5: terminal means over 5 seeds from")
	hist := find(t, nb, "kernel.Display(s)")
	wantText(t, hist, "p = 0.32, 500 samples: nodes median")
	wantCharts(t, hist, 3)
	br := find(t, nb, "viz.BranchingRateChart")
	wantText(t, br, "0.308   1.000", "0.320   0.982                             1.738", "0.609   0.565                             1.000")
	wantCharts(t, br, 1)
	m := regexp.MustCompile(`(\d+)% of modules are computation modules \(the idealisation: 32%\), (\d+)% of branching modules split two ways`).FindStringSubmatch(br.stdout())
	if m == nil {
		t.Errorf("the real shares of computation modules and 2-way branchings are not printed: %q", br.stdout())
	} else if comp, two := atoi(m[1]), atoi(m[2]); comp <= 32 || two >= 33 {
		t.Errorf("pruning should raise the computation share above 32%% and lower the 2-way share below 33%%: %d%%, %d%%", comp, two)
	}
	m = regexp.MustCompile(`p = 0\.28:\s+(\d+) of`).FindStringSubmatch(br.stdout())
	if m == nil || m[1] == "0" {
		t.Errorf("below the critical point some samples should blow through the cap: %q", br.stdout())
	}
	wantText(t, find(t, nb, "gradeRates(estimateRates)"), "estimateRates: not answered yet")
	sol := find(t, nb, "gradeRates(estimateRatesSolution)")
	wantText(t, sol, "estimateRates: correct")
	// The measured as-built rate crosses 1 between p = 0.5 and p = 0.6, below the idealised 14/23 ≈ 0.609.
	rates := map[string][]float64{}
	for _, m := range regexp.MustCompile(`(?m)^(0\.\d\d)\s+([\d.]+) ([\d.]+) \(([\d.]+)\)\s+([\d.]+) ([\d.]+) \(([\d.]+)\)$`).FindAllStringSubmatch(sol.stdout(), -1) {
		rates[m[1]] = []float64{atof(m[5]), atof(m[6]), atof(m[7]), atof(m[2]), atof(m[4])}
	}
	if len(rates) != 6 {
		t.Errorf("the solution's rate table has %d rows, want 6:\n%s", len(rates), sol.stdout())
	}
	for p, r := range rates {
		if r[0] >= r[2] || r[1] >= r[2] || r[3] >= r[4] {
			t.Errorf("p = %s: a measured rate is not below the idealised one: %v", p, r)
		}
	}
	if r := rates["0.50"]; r == nil || r[0] <= 1 || r[1] <= 1 {
		t.Errorf("p = 0.5: the measured as-built rate should exceed 1: %v", r)
	}
	if r := rates["0.60"]; r == nil || r[0] >= 1 || r[1] >= 1 {
		t.Errorf("p = 0.6: the measured as-built rate should be below 1: %v", r)
	}
	mut := find(t, nb, "g.Mutate(r, parent)")
	wantText(t, mut, "mutation 1:", "mutation 3:")
	wantCharts(t, mut, 1)
	cross := find(t, nb, "g.Crossover(r, rn18, wrn)")
	wantText(t, cross, "crossover of ResNet-18 with WRN-16-4: 11210560 →", "replaced (input")
	wantCharts(t, cross, 1)
}

// numbers parses a list of numbers separated by white space.
func numbers(t *testing.T, s string) []float64 {
	t.Helper()
	var v []float64
	for _, f := range strings.Fields(s) {
		v = append(v, atof(f))
	}
	return v
}

func atof(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		panic(fmt.Sprintf("not a number: %q", s))
	}
	return v
}

func atoi(s string) int { return int(atof(s)) }

func check03(t *testing.T, nb *notebook) {
	wantText(t, find(t, nb, "currentBudget()\nfmt.Printf"), "paperScale = false: 5000/500/500 examples, 5 epochs, batch 32")
	data := find(t, nb, "ds := addnist()")
	wantText(t, data, "addnist: (3, 28, 28), 20 classes, 5000/500/500 examples", "example 7: digits (r,g,b)",
		"label rule r+g+b−1 holds for 5000 of 5000 training examples")
	if n := strings.Count(data.html(), "data:image/png;base64"); n != 8 {
		t.Errorf("%d example images shown, want 8", n)
	}
	wantText(t, find(t, nb, "names, archs := architectures()"), "small CNN (text format)", "34420 parameters", "sampled (seed 3)")
	for i, marker := range []string{"trainAndSave(0)", "trainAndSave(1)"} {
		c := find(t, nb, marker)
		wantCharts(t, c, 1) // the live view's final state: the training curves
		if !strings.Contains(plain(c.html()), "epochs 5/5") {
			t.Errorf("%s: the live view's final state lacks its progress bar at 5/5", c.name())
		}
		m := regexp.MustCompile(`validation ([\d.]+)%, test ([\d.]+)%`).FindStringSubmatch(c.stdout())
		if m == nil {
			t.Errorf("%s: no accuracies printed: %q", c.name(), c.stdout())
			continue
		}
		percent(t, "validation accuracy", m[1])
		test := percent(t, "test accuracy", m[2])
		if i == 0 && test < 8 {
			t.Errorf("the small CNN's test accuracy %.1f%% is not clearly above chance (5%% with 20 classes)", test)
		}
	}
	res := find(t, nb, "json.Unmarshal(kernel.Must(os.ReadFile(resultPath(i)))")
	wantText(t, res, "small CNN (text format): test accuracy", "above chance: true")
	wantCharts(t, res, 2)
	if !strings.Contains(res.html(), "93.36") || !strings.Contains(res.html(), "64 epochs on train+val") {
		t.Error("the results table lacks the paper's ResNet-18 number, trained 64 epochs on train+val")
	}
	// The proxy: eight sampled networks trained for 1 and for 4 epochs, and the rank correlation of the two.
	px := find(t, nb, "spearman(short, long)")
	nets := regexp.MustCompile(`(?m)^network \d: +\d+ parameters, +([\d.]+)% after 1 epoch, +([\d.]+)% after 4 epochs`).FindAllStringSubmatch(px.stdout(), -1)
	if len(nets) != 8 {
		t.Errorf("%s: %d networks trained, want 8:\n%s", px.name(), len(nets), px.stdout())
	}
	for _, m := range nets {
		percent(t, "a proxy network's accuracy", m[1])
		percent(t, "a proxy network's accuracy", m[2])
	}
	if m := regexp.MustCompile(`ρ = (-?[\d.]+)`).FindStringSubmatch(px.stdout()); m == nil {
		t.Errorf("%s: no rank correlation printed", px.name())
	} else if rho := atof(m[1]); rho <= 0 || rho > 1 {
		// Short training carries information about longer training: over eight draws ρ was 0.44 to 0.91.
		t.Errorf("%s: ρ = %.2f, outside (0, 1]", px.name(), rho)
	}
	if rows := tableRows(px.html()); len(rows) != 9 {
		t.Errorf("%s: the proxy table has %d rows, want a header and 8", px.name(), len(rows))
	}
	// The export: both files written, the PyTorch module agreeing with GoMLX, its code shown.
	ex := find(t, nb, "export.WritePyTorch(py, m.Net, m.Store)")
	wantText(t, ex, "small_cnn.py (", "small_cnn.safetensors (", "small_cnn.onnx (", "small_cnn.py, ")
	for _, want := range []string{"class Network(nn.Module):", "nn.Conv2d(3, 16, kernel_size=3, stride=1, padding=1)",
		"class Residual(nn.Module):", "def pretrained(path=WEIGHTS):"} {
		if !strings.Contains(ex.html(), want) { // the code is shown in a box of its own
			t.Errorf("%s: the code shown lacks %q", ex.name(), want)
		}
	}
	m := regexp.MustCompile(`in PyTorch: largest difference from GoMLX's logits on 4 test images: (\S+)`).FindStringSubmatch(ex.stdout())
	if m == nil {
		t.Errorf("%s: PyTorch's logits were not compared with GoMLX's: %q", ex.name(), ex.stdout())
	} else if d, err := strconv.ParseFloat(m[1], 64); err != nil || d > 1e-4 {
		t.Errorf("%s: PyTorch's logits differ from GoMLX's by %s", ex.name(), m[1])
	}
}

func check04(t *testing.T, nb *notebook) {
	// The whole of Table 1 and where einspace wins and loses in it (computed from SPEC §8.1's numbers).
	t1 := find(t, nb, "table1Columns[bi]")
	if rows := tableRows(t1.html()); len(rows) != 10 || len(rows[0]) != 14 {
		t.Errorf("Table 1: %d rows, want a header, 8 datasets and the average, 14 columns each", len(rows))
	}
	wantText(t, t1, "Language    best einspace RE(Mix)             97.92", "Gutenberg   best einspace RE(RN18)            54.02",
		"CIFARTile   best einspace RE(Mix)             62.76   best other PC-DARTS*", "random sampling 25.25 (chance 25.0)",
		"average over the 8 datasets: RE(RN18) 78.17, RE(Mix) 77.56; PC-DARTS 80.30, Bonsai-Net 80.41, DARTS random search 80.41")
	if w, l := strings.Count(t1.stdout(), "einspace wins"), strings.Count(t1.stdout(), "einspace loses"); w != 2 || l != 6 {
		t.Errorf("Table 1: einspace wins on %d and loses on %d datasets, want 2 and 6:\n%s", w, l, t1.stdout())
	}
	wantText(t, find(t, nb, "p := currentPlan()"), "paperScale = false: P=4 S=2 budget=8")
	line := regexp.MustCompile(`(?m)^(RE\(Scratch\)|RE\(RN18\)|RE\(Mix\)|RS)\s+(addnist|multnist)\s+(\d+) records \((\d+) replayed from the log\), best val\s+([\d.]+)% .*final test\s+([\d.]+)%$`)
	for _, s := range []string{"re-scratch", "re-rn18", "re-mix", "random"} {
		c := find(t, nb, fmt.Sprintf("%%%%\nrunStrategy(%q)", s))
		ms := line.FindAllStringSubmatch(c.stdout(), -1)
		if len(ms) != 2 {
			t.Errorf("%s: %d result lines, want one per dataset:\n%s", c.name(), len(ms), c.stdout())
			continue
		}
		for _, m := range ms {
			if n, _ := strconv.Atoi(m[3]); n < 8 {
				t.Errorf("%s on %s: %d records, want at least the budget of 8", m[1], m[2], n)
			}
			if m[4] != "0" {
				t.Errorf("%s on %s: %s records replayed in a fresh results folder", m[1], m[2], m[4])
			}
			percent(t, m[1]+" best val", m[5])
			percent(t, m[1]+" final test", m[6])
		}
		wantCharts(t, c, 4) // two dashboards: progress and population each
	}
	resume := find(t, nb, "resumed in")
	ms := line.FindAllStringSubmatch(resume.stdout(), -1)
	if len(ms) != 2 {
		t.Errorf("resume: %d result lines:\n%s", len(ms), resume.stdout())
	}
	for _, m := range ms {
		if m[3] != m[4] {
			t.Errorf("resume of %s on %s: %s of %s records replayed: it trained again", m[1], m[2], m[4], m[3])
		}
	}
	tbl := find(t, nb, "Table 1 (AddNIST, MultNIST)")
	out := tbl.stdout()
	for _, p := range []string{"93.36", "93.82", "97.54", "97.72", "67.00", "91.36", "93.44", "96.37", "92.25", "66.09"} {
		if !strings.Contains(out, "paper: test "+p+"%") {
			t.Errorf("the results lack the paper's %s%%:\n%s", p, out)
		}
	}
	if n := len(regexp.MustCompile(`best val\s+[\d.]+%`).FindAllString(out, -1)); n != 10 {
		t.Errorf("results: %d best validation accuracies, want 10:\n%s", n, out)
	}
	for _, m := range regexp.MustCompile(`(?:best val|ours: test)\s+([\d.]+)%`).FindAllStringSubmatch(out, -1) {
		percent(t, "an accuracy in the results table", m[1])
	}
	if n := strings.Count(out, "\n"); n != 10 {
		t.Errorf("results: %d lines, want 10 (RN18 and four searches on two datasets):\n%s", n, out)
	}
	rep := find(t, nb, "viz.WriteSearchReport")
	wantText(t, rep, "reports written")
	wantCharts(t, rep, 3)
	// The CPU reproduction in the repository's results/, read through search/study: its tables and two
	// charts per dataset, or, without a results folder, a line that says so.
	repro := find(t, nb, "study.Read(results)")
	if strings.Contains(repro.stdout(), "no reproduction results to show") {
		t.Logf("%s: %s", repro.name(), repro.stdout())
	} else {
		wantText(t, repro, "read ../results: ")
		h := repro.html()
		for _, want := range []string{"Table 1 beside the paper", "where each run stands", "the paper&#39;s claims, tested on these runs",
			"best validation accuracy during the search", "random architectures under the search protocol"} {
			if !strings.Contains(h, want) {
				t.Errorf("%s: the output lacks %q", repro.name(), want)
			}
		}
		if rows := tableRows(h); len(rows) < 3 || len(rows[0]) != 7 {
			t.Errorf("%s: the table beside Table 1 has %d rows", repro.name(), len(rows))
		}
		wantCharts(t, repro, 4)
	}
	// RE with crossover: its children name both parents, and the best is retrained and tested.
	cross := find(t, nb, "search.RegularisedEvolutionCrossover")
	wantText(t, cross, "final: record ", "children by origin: map[")
	children := regexp.MustCompile(`(?m)^record (\d+): crossover of records (\d+) \([\d.]+%\) and (\d+) \([\d.]+%\): `).FindAllStringSubmatch(cross.stdout(), -1)
	if len(children) == 0 {
		t.Errorf("%s: no crossover child listed:\n%s", cross.name(), cross.stdout())
	}
	for _, c := range children {
		child, _ := strconv.Atoi(c[1])
		parent, _ := strconv.Atoi(c[2])
		mate, _ := strconv.Atoi(c[3])
		if parent == mate || parent >= child || mate >= child {
			t.Errorf("%s: record %d crossed over records %d and %d: two different earlier records expected", cross.name(), child, parent, mate)
		}
	}
	wantCharts(t, cross, 1)
}

func check05(t *testing.T, nb *notebook) {
	// Part A: every answer cell starts blank and its grader waits; every solution passes its grader.
	for marker, want := range map[string][]string{
		"convBlockShape, convBlockParams)":                {"output shape: not answered yet", "parameters: not answered yet"},
		"onTheImageShape, onTheImageParams)":              {"exercise 2b: a linear layer on an image (input (3,28,28))\n  output shape: not answered yet"},
		`gradeDesign("exercise 3: a residual block"`:      {"design: not answered yet"},
		`gradeDesign("exercise 4: 4-head self-attention"`: {"design: not answered yet"},
		"brokenNode, brokenPath)":                         {"error: not answered yet"},
		"gradeGame(gamed)":                                {"exercise 6: game the toy fitness\n  not answered yet"},
	} {
		c := find(t, nb, marker)
		wantText(t, c, want...)
		if strings.Contains(c.stdout(), "correct") {
			t.Errorf("%s: a blank answer was graded correct:\n%s", c.name(), c.stdout())
		}
	}
	wantCharts(t, find(t, nb, `gradeDesign("exercise 4: 4-head self-attention"`), 1) // the single head to start from
	wantText(t, find(t, nb, `"exercise 1 (solution)"`), "output shape (32,28,28): correct", "parameters 960: correct",
		"output shape (64,14,14): correct", "parameters 18624: correct", "output shape (3,28,16): correct", "parameters 470: correct")
	wantText(t, find(t, nb, `"exercise 3 (solution)"`), "design: correct")
	wantText(t, find(t, nb, `"exercise 4 (solution)"`), "design: correct", "output shape (49,128): correct", "parameters 138240: correct",
		"softmax outputs (49,49)", "cat_tensors2d4t outputs (49,256)")
	wantText(t, find(t, nb, `"exercise 5 (solution)"`), "add_tensors at root.second.aggregate: correct",
		"adds tensors of different shapes (32,14,14) and (16,28,28)", "fixed: output (32,14,14)")
	m := regexp.MustCompile(`correct: fitness ([\d.]+) ≥ 99 with depth (\d+).*it scores ([\d.]+)`).FindStringSubmatch(find(t, nb, "gradeGame(gamedSolution)").stdout())
	if m == nil || atof(m[3]) > 20 {
		t.Errorf("exercise 6's solution should reach 99 and fall far once stripped: %q", m)
	}
	// Part B: one run, then 30 seeds in three settings.
	one := find(t, nb, `NewSearchDashboard("regularised evolution on the toy fitness (seed 1)"`)
	wantText(t, one, "seed 1, 60 evaluations: regularised evolution")
	wantCharts(t, one, 2)
	wantText(t, find(t, nb, "predictWins60  = -1"), "60 evaluations:          no prediction yet")
	exp := find(t, nb, "lessonPath(), kernel.Must(json.Marshal(runs))")
	wins := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^(\d+) evaluations, P = \d+, S = (\d): evolution wins (\d+) of 30 seeds$`).FindAllStringSubmatch(exp.stdout(), -1) {
		wins[m[1]+"/"+m[2]] = atoi(m[3])
	}
	if len(wins) != 3 {
		t.Errorf("the experiment printed %d win counts, want 3:\n%s", len(wins), exp.stdout())
	}
	// What the lesson says, with room for the noise of 30 seeds: at 60 evaluations no clear winner, at 300
	// evolution wins most seeds, and without selection (S = 1) it loses that edge.
	if w := wins["60/3"]; w < 8 || w > 22 {
		t.Errorf("60 evaluations: evolution wins %d of 30; the notebook calls it no clear winner", w)
	}
	if w := wins["300/5"]; w < 21 {
		t.Errorf("300 evaluations: evolution wins %d of 30; the notebook says most", w)
	}
	if w := wins["300/1"]; w > wins["300/5"]-6 {
		t.Errorf("300 evaluations: S = 1 wins %d of 30 against %d with S = 5; the notebook says selection matters", w, wins["300/5"])
	}
	// The single run shown first (seed 1) is one of the most favourable to evolution, as the notebook says.
	if m := regexp.MustCompile(`seed 1, the run shown above: evolution ahead by \+[\d.]+ points, rank (\d+) of 30`).FindStringSubmatch(exp.stdout()); m == nil || atoi(m[1]) > 3 {
		t.Errorf("%s: seed 1 should rank among the 3 seeds most favourable to evolution: %q", exp.name(), m)
	}
	if n := strings.Count(exp.html(), "<svg"); n != 2 {
		t.Errorf("%s: %d strip plots, want 2", exp.name(), n)
	}
	if n := strings.Count(exp.html(), "<circle"); n != 5*30+3*30 {
		t.Errorf("%s: %d dots, want one per seed and row (240)", exp.name(), n)
	}
	wantText(t, find(t, nb, "// Your predictions beside the measurement."), "60 evaluations:          measured: evolution wins")
	// The winners game the depth: stripped of do-nothing modules they are shallower and score lower.
	win := find(t, nb, "stripped(w)")
	m = regexp.MustCompile(`all 30 winners: depth mean ([\d.]+), median \d+; stripped: mean ([\d.]+)`).FindStringSubmatch(win.stdout())
	if m == nil || atof(m[2]) >= atof(m[1])-1 {
		t.Errorf("%s: the winners should lose depth when stripped: %q", win.name(), win.stdout())
	}
	m = regexp.MustCompile(`fitness mean ([\d.]+); stripped: mean ([\d.]+); (\d+) of 30 lose more than 10 points`).FindStringSubmatch(win.stdout())
	if m == nil || atof(m[2]) >= atof(m[1])-5 || atoi(m[3]) < 5 {
		t.Errorf("%s: the stripped winners should score clearly lower: %q", win.name(), m)
	}
	wantCharts(t, win, 2)
	// Best of N noisy scores overstates the winner.
	bias := find(t, nb, "noisyToy(5)")
	m = regexp.MustCompile(`the winner's score minus its true score: mean ([+-][\d.]+)`).FindStringSubmatch(bias.stdout())
	if m == nil || atof(m[1]) <= 0 {
		t.Errorf("%s: the winner's noisy score should overstate its true score on average: %q", bias.name(), bias.stdout())
	}
}

// tableRows returns the cells of every row of the HTML tables in h, as text.
func tableRows(h string) [][]string {
	var rows [][]string
	for _, tr := range regexp.MustCompile(`(?s)<tr[^>]*>(.*?)</tr>`).FindAllStringSubmatch(h, -1) {
		var row []string
		for _, td := range regexp.MustCompile(`(?s)<t[dh][^>]*>(.*?)</t[dh]>`).FindAllStringSubmatch(tr[1], -1) {
			row = append(row, strings.TrimSpace(stripTags(td[1])))
		}
		rows = append(rows, row)
	}
	return rows
}

func firstOr(r []string) string {
	if len(r) == 0 {
		return ""
	}
	return r[0]
}

// triple parses "mean / median / max".
func triple(t *testing.T, s string) [3]float64 {
	t.Helper()
	var v [3]float64
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		t.Errorf("%q is not mean / median / max", s)
		return v
	}
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			t.Errorf("%q: %v", s, err)
		}
		v[i] = f
	}
	return v
}

func stripTags(h string) string {
	return html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(h, " "))
}

// plain is HTML as text with white space collapsed, as a reader sees it.
func plain(h string) string {
	return strings.Join(strings.Fields(stripTags(h)), " ")
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// check06: executed headless, the explorer finds no live page, says so, and leaves its starting state
// (the browser tests drive its controls).
func check06(t *testing.T, nb *notebook) {
	ex := find(t, nb, "kernel.Explore(")
	h := ex.html()
	for _, want := range []string{"grammar explorer: no live page answered", "explorer: derivation tree",
		"explorer: dataflow graph", `class="einspace-explorer-text"`, "multiply-adds"} {
		if !strings.Contains(h, want) {
			t.Errorf("explorer cell: output lacks %q", want)
		}
	}
	wantCharts(t, ex, 2)
	ev := find(t, nb, "kernel.Evolve(")
	h = ev.html()
	for _, want := range []string{"evolution playground: no live page answered", "population after generation 0",
		"a stated proxy, not accuracy"} {
		if !strings.Contains(h, want) {
			t.Errorf("playground cell: output lacks %q", want)
		}
	}
	wantCharts(t, ev, 2)
}
