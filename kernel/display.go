package kernel

import (
	"errors"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/protocol"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/search/study"
	"github.com/einspace-go/einspace/viz"
)

var (
	// OutputDir is where displays are written as HTML pages outside a notebook; empty means
	// $TMPDIR/einspace-kernel.
	OutputDir string
	// Stdout receives the paths of pages written outside a notebook, tables as text and progress lines.
	Stdout io.Writer = os.Stdout
)

// InNotebook reports whether the program runs as a GoNB notebook cell.
func InNotebook() bool { return gonbui.IsNotebook }

// Display shows x: a *grammar.Arch or a Named one (its derivation tree, dataflow graph and statistics), a *viz.Chart or
// []*viz.Chart, a Table, a Progress, []viz.Epoch (training curves), a *grammar.SampleStudy (its
// histograms), a *study.Study (a reproduction's results: StudyTables and each dataset's charts) or a string
// (as text). Several values are shown one after the other in one output.
func Display(xs ...any) error {
	parts, err := partsOfAll(xs)
	if err != nil {
		return err
	}
	return show(titleOf(parts), parts)
}

// part is one piece of a display: a chart, or HTML with its plain-text form.
type part struct {
	chart *viz.Chart
	html  string
	text  string
	title string // a title for the page when the part comes first
}

// HTML is markup that Display shows as it is (images as data: URLs, small tables of your own).
type HTML string

// partsOfAll is the parts of every value, in order.
func partsOfAll(xs []any) ([]part, error) {
	var parts []part
	for _, x := range xs {
		p, err := partsOf(x)
		if err != nil {
			return nil, err
		}
		parts = append(parts, p...)
	}
	return parts, nil
}

// partsOf is what Display shows for one value.
func partsOf(x any) ([]part, error) {
	switch v := x.(type) {
	case *grammar.Arch:
		if v == nil {
			return nil, errors.New("kernel.Display: nil architecture")
		}
		return archParts("architecture "+v.Hash()[:12], v), nil
	case Named:
		if v.Arch == nil {
			return nil, fmt.Errorf("kernel.Display: architecture %q is nil", v.Name)
		}
		return archParts(v.Name, v.Arch), nil
	case *viz.Chart:
		return []part{{chart: v}}, nil
	case []*viz.Chart:
		var ps []part
		for _, c := range v {
			ps = append(ps, part{chart: c})
		}
		return ps, nil
	case Table:
		return []part{{html: v.HTML(), text: v.Text()}}, nil
	case *Table:
		return []part{{html: v.HTML(), text: v.Text()}}, nil
	case Progress:
		return []part{{html: v.HTML(), text: v.String()}}, nil
	case []viz.Epoch:
		return []part{{chart: viz.TrainingCurves("", v)}}, nil
	case *grammar.SampleStudy:
		var ps []part
		for _, c := range viz.StudyHistograms(v) {
			ps = append(ps, part{chart: c})
		}
		return ps, nil
	case string:
		return []part{{html: "<pre>" + html.EscapeString(v) + "</pre>", text: v}}, nil
	case HTML:
		return []part{{html: string(v), text: "(HTML output: see the notebook or the page)"}}, nil
	case *study.Study:
		if v == nil {
			return nil, errors.New("kernel.Display: nil study")
		}
		return studyParts(v), nil
	}
	if ps, ok, err := searchParts(x); ok {
		return ps, err
	}
	return nil, fmt.Errorf("kernel.Display: cannot display a %T (it shows *grammar.Arch, Named, *viz.Chart, []*viz.Chart, Table, Progress, []viz.Epoch, *grammar.SampleStudy, *search.History, *search.Summary, *study.Study, HTML and string)", x)
}

// archParts shows an architecture under a name: its statistics, derivation tree and dataflow graph.
func archParts(name string, a *grammar.Arch) []part {
	st := StatsTable(a)
	if !strings.HasPrefix(name, "architecture ") {
		st.Title = name + " (" + st.Title + ")"
	}
	return []part{{html: st.HTML(), text: st.Text(), title: st.Title},
		{chart: viz.ArchTree(a, viz.TreeOptions{Title: name + ": derivation tree"})},
		{chart: viz.ArchGraph(a, name+": dataflow graph")}}
}

func titleOf(parts []part) string {
	for _, p := range parts {
		switch {
		case p.title != "":
			return p.title
		case p.chart != nil && p.chart.Title != "":
			return p.chart.Title
		}
	}
	return "einspace"
}

func hasChart(parts []part) bool {
	for _, p := range parts {
		if p.chart != nil {
			return true
		}
	}
	return false
}

func htmlOf(parts []part) string {
	var b strings.Builder
	for _, p := range parts {
		if p.chart != nil {
			b.WriteString(p.chart.HTML())
		} else {
			b.WriteString(p.html)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// show sends parts to the notebook as one HTML output, or, outside one, writes the charts as a page and
// prints the rest.
func show(title string, parts []part) error {
	if !InNotebook() {
		return writeOutside(title, parts)
	}
	if hasChart(parts) {
		if err := ensureECharts(); err != nil {
			return err
		}
	}
	gonbui.DisplayHTML(htmlOf(parts))
	gonbui.Sync()
	return gonbui.Error()
}

// writeOutside is the policy outside a notebook: text to Stdout, charts into a page whose path is printed.
func writeOutside(title string, parts []part) error {
	var charts []*viz.Chart
	for _, p := range parts {
		if p.chart != nil {
			charts = append(charts, p.chart)
		} else if p.text != "" {
			fmt.Fprintln(Stdout, p.text)
		}
	}
	if len(charts) == 0 {
		return nil
	}
	path, err := nextPagePath(title)
	if err != nil {
		return err
	}
	if err := viz.WritePage(path, title, charts...); err != nil {
		return err
	}
	fmt.Fprintf(Stdout, "kernel: not in a notebook; wrote %s\n", path)
	return nil
}

var (
	pageMu   sync.Mutex
	pageSeq  int
	nonWords = regexp.MustCompile(`[^a-zA-Z0-9]+`)
)

func nextPagePath(title string) (string, error) {
	dir := OutputDir
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "einspace-kernel")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("kernel: output directory: %w", err)
	}
	pageMu.Lock()
	pageSeq++
	seq := pageSeq
	pageMu.Unlock()
	slug := strings.Trim(nonWords.ReplaceAllString(strings.ToLower(title), "-"), "-")
	if slug == "" {
		slug = "display"
	}
	return filepath.Join(dir, fmt.Sprintf("%d-%03d-%s.html", os.Getpid(), seq, slug)), nil
}

var (
	echartsMu     sync.Mutex
	echartsLoaded bool
)

// echartsMarker is the file that records, for the kernel session, that the bundle was sent: each cell is a
// new program, but GONB_TMP_DIR lives as long as the kernel.
func echartsMarker() string {
	dir := os.Getenv(protocol.GONB_TMP_DIR_ENV)
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, ".einspace-echarts-"+viz.EChartsVersion)
}

// LoadECharts sends the ECharts bundle to the notebook as an inline script that defines window.echarts
// once (also under require.js), and records that it did for the rest of the kernel session. Displays call
// it themselves before their first chart, so a notebook needs it only to load the bundle again: after
// re-running, alone, the cell that first loaded it (its new output no longer carries the bundle, and a
// saved notebook must). Outside a notebook it does nothing.
func LoadECharts() error {
	if !InNotebook() {
		return nil
	}
	script, err := viz.EChartsScript()
	if err != nil {
		return err
	}
	gonbui.DisplayHTML(script)
	gonbui.Sync()
	echartsMu.Lock()
	echartsLoaded = true
	echartsMu.Unlock()
	if m := echartsMarker(); m != "" {
		_ = os.WriteFile(m, nil, 0o644) // without the marker a later cell sends the bundle again: harmless
	}
	return gonbui.Error()
}

func ensureECharts() error {
	echartsMu.Lock()
	loaded := echartsLoaded
	echartsMu.Unlock()
	if loaded {
		return nil
	}
	if m := echartsMarker(); m != "" {
		if _, err := os.Stat(m); err == nil {
			return nil
		}
	}
	return LoadECharts()
}
