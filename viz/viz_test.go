package viz_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/viz"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var input = grammar.ImShape(3, 32, 32)

func seed(t testing.TB, name string) *grammar.Arch {
	t.Helper()
	a, err := grammar.SeedArch(name, input)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// sample draws a reproducible architecture.
func sample(t testing.TB, seed uint64) *grammar.Arch {
	t.Helper()
	a, err := grammar.Default().Sample(rand.New(rand.NewPCG(seed, 1)), grammar.ImShape(3, 28, 28))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./viz -update to write it)", err)
	}
	if string(want) != got {
		t.Errorf("%s changed (run go test ./viz -update if that is intended); got:\n%s", path, firstLines(got, 40))
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

func TestGoldenOptions(t *testing.T) {
	small := sample(t, 1)
	child, err := grammar.Default().Mutate(rand.New(rand.NewPCG(3, 1)), small)
	if err != nil {
		t.Fatal(err)
	}
	study, err := grammar.Default().Study(rand.New(rand.NewPCG(1, 2)), grammar.ImShape(3, 28, 28), 50)
	if err != nil {
		t.Fatal(err)
	}
	hist := viz.StudyHistograms(study)
	for _, c := range []struct {
		name  string
		chart *viz.Chart
	}{
		{"tree_resnet18.json", viz.ArchTree(seed(t, grammar.ResNet18), viz.TreeOptions{})},
		{"tree_sample.json", viz.ArchTree(small, viz.TreeOptions{})},
		{"tree_sample_exact.json", viz.ArchTree(small, viz.TreeOptions{Exact: true, Depth: 100})},
		{"graph_vit.json", viz.ArchGraph(seed(t, grammar.ViT), "")},
		{"graph_sample.json", viz.ArchGraph(small, "")},
		{"diff_sample.json", viz.ArchDiff(small, child, viz.TreeOptions{})},
		{"training.json", viz.TrainingCurves("", epochs(3))},
		{"hist_nodes.json", hist[0]},
		{"hist_depth.json", hist[1]},
		{"hist_params.json", hist[2]},
		{"branching_rate.json", viz.BranchingRateChart()},
	} {
		t.Run(c.name, func(t *testing.T) {
			golden(t, c.name, c.chart.Option()+"\n")
		})
	}
}

func epochs(n int) []viz.Epoch {
	var es []viz.Epoch
	for i := 1; i <= n; i++ {
		f := float64(i)
		es = append(es, viz.Epoch{Epoch: i, TrainLoss: 2.3 / f, TrainAccuracy: 1 - 0.9/f, ValAccuracy: 1 - 0.95/f, Seconds: 1.5})
	}
	return es
}

func TestChangedSubtree(t *testing.T) {
	parse := func(s string) *grammar.Node {
		n, err := grammar.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, c := range []struct{ a, b, wantA, wantB string }{
		{"sequential(computation<norm>, computation<leakyrelu>)", "sequential(computation<norm>, computation<leakyrelu>)", "", ""},
		{"sequential(computation<norm>, computation<leakyrelu>)", "sequential(computation<norm>, computation<softmax>)", "leakyrelu", "softmax"},
		{"sequential(computation<norm>, computation<leakyrelu>)", "sequential(computation<linear16>, computation<softmax>)",
			"sequential(computation<norm>, computation<leakyrelu>)", "sequential(computation<linear16>, computation<softmax>)"},
		{"sequential(computation<norm>, computation<leakyrelu>)", "sequential(computation<norm>, routing[identity, computation<norm>, identity])",
			"computation<leakyrelu>", "routing[identity, computation<norm>, identity]"},
	} {
		a, b := viz.ChangedSubtree(parse(c.a), parse(c.b))
		str := func(n *grammar.Node) string {
			if n == nil {
				return ""
			}
			return n.String()
		}
		if str(a) != c.wantA || str(b) != c.wantB {
			t.Errorf("ChangedSubtree(%s, %s) = %q, %q; want %q, %q", c.a, c.b, str(a), str(b), c.wantA, c.wantB)
		}
	}
}

func TestConvLabel(t *testing.T) {
	a, err := grammar.ParseArch("routing[im2col3k1s1p, computation<linear64>, col2im]", input)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := viz.Conv(a.Root); !ok || got != "conv3x3/1 → 64" {
		t.Errorf("Conv = %q, %v; want conv3x3/1 → 64", got, ok)
	}
	opt := viz.ArchGraph(a, "").Option()
	if !strings.Contains(opt, "conv3x3/1 → 64") || strings.Contains(opt, "im2col3k1s1p") {
		t.Errorf("the dataflow graph should show the convolution as one node:\n%s", opt)
	}
}

// A tree of thousands of nodes (twelve ResNet-18s in a row) starts collapsed to a legible view.
func TestLargeTreeStartsCollapsed(t *testing.T) {
	var root *grammar.Node
	for range 12 {
		r, err := grammar.Seed(grammar.ResNet18)
		if err != nil {
			t.Fatal(err)
		}
		if root == nil {
			root = r
		} else {
			root = grammar.Seq(root, r)
		}
	}
	big, err := grammar.Infer(root, grammar.ImShape(3, 64, 64))
	if err != nil {
		t.Fatal(err)
	}
	if n := big.Stats().Nodes; n < 3000 {
		t.Fatalf("test tree has %d nodes, want 3,000+", n)
	}
	opt := viz.ArchTree(big, viz.TreeOptions{}).Option()
	expanded := strings.Count(opt, `"collapsed": false`)
	if expanded == 0 || expanded > 80 {
		t.Errorf("%d-node tree: %d nodes start expanded; want 1..80", big.Stats().Nodes, expanded)
	}
	if !strings.Contains(opt, "conv3x3/1 → 64") {
		t.Error("the convolutions are not labelled as such")
	}
	t.Logf("%d nodes: %d start expanded, option %d KB", big.Stats().Nodes, expanded, len(opt)>>10)
}

func TestEChartsMissing(t *testing.T) {
	t.Setenv(viz.EChartsEnv, filepath.Join(t.TempDir(), "nowhere.js"))
	t.Setenv("HOME", t.TempDir())
	t.Chdir(t.TempDir()) // not inside the repository: no cache found by walking up
	_, err := viz.EChartsJS()
	if err == nil {
		t.Fatal("EChartsJS found a bundle where there is none")
	}
	for _, want := range []string{"nowhere.js", ".cache/einspace/echarts/echarts.min.js", "bash scripts/fetch-echarts.sh"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

// TestPageScreenshot renders a standalone page offline in headless Chromium and checks that the charts
// drew something.
func TestPageScreenshot(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (Debian: apt-get install -y --no-install-recommends chromium): skipping the screenshot test")
	}
	if _, err := viz.EChartsJS(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "page.html")
	tree := viz.ArchTree(seed(t, grammar.ResNet18), viz.TreeOptions{})
	if err := viz.WritePage(page, "einspace charts", tree, viz.BranchingRateChart()); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "page.png")
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--virtual-time-budget=5000", "--window-size=1100,1500",
		"--screenshot="+shot, "file://"+page)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	// The page's heading alone darkens well under 1% of the pixels; two drawn charts cover far more.
	below := image.Rect(0, 80, img.Bounds().Dx(), img.Bounds().Dy())
	if frac := nonWhite(img, below); frac < 0.01 {
		t.Errorf("the chart area is blank: %.4f of its pixels are not white (screenshot %s)", frac, shot)
	} else {
		t.Logf("%.3f of the chart area is drawn", frac)
	}
	if os.Getenv("VIZ_KEEP_SCREENSHOT") != "" {
		_ = os.WriteFile(os.Getenv("VIZ_KEEP_SCREENSHOT"), data, 0o644)
	}
}

func nonWhite(img image.Image, r image.Rectangle) float64 {
	r = r.Intersect(img.Bounds())
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if cr < 0xf000 || cg < 0xf000 || cb < 0xf000 {
				n++
			}
		}
	}
	return float64(n) / float64(max(r.Dx()*r.Dy(), 1))
}

// TestGraphsWrapToTheCell: every seed's dataflow graph is at most 920 px wide (the classic Notebook's
// output area is about 970 px), wrapped into bands, and keeps every step and every edge.
func TestGraphsWrapToTheCell(t *testing.T) {
	for _, seed := range []string{grammar.ResNet18, grammar.WRN16_4, grammar.ViT, grammar.Mixer} {
		a, err := grammar.SeedArch(seed, grammar.ImShape(3, 28, 28))
		if err != nil {
			t.Fatal(err)
		}
		c := viz.ArchGraph(a, "")
		w, h := c.Size()
		var width, height int
		fmt.Sscanf(w, "%dpx", &width)
		fmt.Sscanf(h, "%dpx", &height)
		if width > 920 || width < 300 {
			t.Errorf("%s: graph %d px wide, want at most 920", seed, width)
		}
		var opt struct {
			Series []struct {
				Data []struct {
					Name string
					X, Y float64
				}
				Links []struct{ Source, Target string }
			}
		}
		if err := json.Unmarshal([]byte(c.Option()), &opt); err != nil {
			t.Fatal(err)
		}
		nodes := map[string][2]float64{}
		for _, n := range opt.Series[0].Data {
			if _, dup := nodes[n.Name]; dup {
				t.Fatalf("%s: node %q twice", seed, n.Name)
			}
			nodes[n.Name] = [2]float64{n.X, n.Y}
		}
		for _, l := range opt.Series[0].Links {
			if _, ok := nodes[l.Source]; !ok {
				t.Errorf("%s: link from a missing node %q", seed, l.Source)
			}
			if _, ok := nodes[l.Target]; !ok {
				t.Errorf("%s: link to a missing node %q", seed, l.Target)
			}
		}
		// Two steps never share a place.
		at := map[[2]float64]string{}
		for name, p := range nodes {
			if other, ok := at[p]; ok && !strings.HasPrefix(name, "corner") {
				t.Errorf("%s: %q and %q both at %v", seed, name, other, p)
			}
			at[p] = name
		}
		t.Logf("%s: %d×%d px, %d steps", seed, width, height, len(nodes)-2)
	}
}
