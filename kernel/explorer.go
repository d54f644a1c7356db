package kernel

import (
	"fmt"
	"html"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/viz"
)

// ExploreOptions set where the grammar explorer starts. The zero value starts from a random sample of the
// paper's grammar for 3×28×28 inputs.
type ExploreOptions struct {
	// Start is "random" (or empty), a seed's name (grammar.SeedNames) or an architecture in the text format.
	Start string
	// PComputation is p(computation); 0 means the paper's 0.32.
	PComputation float64
	// Seed seeds the random choices of sampling, mutation and crossover.
	Seed uint64
	// Input is the input shape, as "3x28x28"; empty means 3x28x28.
	Input string
	// MaxNodes and MaxParams cap samples and children; 0 means 200 nodes and 2,000,000 parameters.
	MaxNodes  int
	MaxParams int64
}

// ExploreInputs are the input shapes the explorer offers: the datasets' shapes.
var ExploreInputs = []string{"3x28x28", "1x28x28", "3x32x32", "3x64x64"}

// explorerState is what the explorer shows and how it got there, without any widget: every control is a
// method, so that the logic is tested without a browser.
type explorerState struct {
	pc        float64
	seed      uint64
	input     grammar.Shape
	maxNodes  int
	maxParams int64
	start     string
	r         *rand.Rand
	history   []explored // the current architecture last
	message   string     // what the last action said, an error included
}

// explored is one architecture of the history and the action that made it.
type explored struct {
	arch *grammar.Arch
	how  string
}

func newExplorer(o ExploreOptions) (*explorerState, error) {
	e := &explorerState{pc: o.PComputation, seed: o.Seed, maxNodes: o.MaxNodes, maxParams: o.MaxParams, start: o.Start}
	if e.pc == 0 {
		e.pc = grammar.Default().PComputation
	}
	if e.pc <= 0 || e.pc >= 1 {
		return nil, fmt.Errorf("kernel.Explore: p(computation) %g is outside (0, 1)", e.pc)
	}
	if e.maxNodes == 0 {
		e.maxNodes = 200
	}
	if e.maxParams == 0 {
		e.maxParams = 2_000_000
	}
	if o.Input == "" {
		o.Input = ExploreInputs[0]
	}
	in, err := grammar.ParseShape(o.Input)
	if err != nil {
		return nil, fmt.Errorf("kernel.Explore: input: %w", err)
	}
	e.input = in
	if e.start == "" {
		e.start = "random"
	}
	e.reseed()
	if err := e.restart(); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *explorerState) grammar() *grammar.Grammar {
	g := grammar.Default()
	g.PComputation = e.pc
	g.Limits = grammar.Limits{Nodes: e.maxNodes, Params: e.maxParams}
	g.MaxAttempts = 2_000
	return g
}

func (e *explorerState) reseed() { e.r = rand.New(rand.NewPCG(e.seed, 0xe8)) }

func (e *explorerState) current() *grammar.Arch { return e.history[len(e.history)-1].arch }

func (e *explorerState) push(a *grammar.Arch, how string) {
	e.history = append(e.history, explored{a, how})
	e.message = how
}

// restart makes the starting point again: a sample, a seed or the text, for the current input.
func (e *explorerState) restart() error {
	e.history = nil
	switch {
	case e.start == "random":
		return e.resample()
	case slices.Contains(grammar.SeedNames(), e.start):
		a, err := grammar.SeedArch(e.start, e.input)
		if err != nil {
			return fmt.Errorf("kernel.Explore: %w", err)
		}
		e.push(a, e.start)
		return nil
	}
	a, err := grammar.ParseArch(e.start, e.input)
	if err != nil {
		return fmt.Errorf("kernel.Explore: the starting architecture: %w", err)
	}
	e.push(a, "your architecture")
	return nil
}

// resample draws a new sample; on failure the current architecture stays and the message says why.
func (e *explorerState) resample() error {
	a, err := e.grammar().Sample(e.r, e.input)
	if err != nil {
		if len(e.history) == 0 {
			return fmt.Errorf("kernel.Explore: no sample within the caps: %w", err)
		}
		e.message = "no sample within the caps: " + err.Error()
		return nil
	}
	e.push(a, fmt.Sprintf("sample (p = %.2f, seed %d)", e.pc, e.seed))
	return nil
}

func (e *explorerState) mutate() {
	a, err := e.grammar().Mutate(e.r, e.current())
	if err != nil {
		e.message = "no mutation within the caps: " + err.Error()
		return
	}
	e.push(a, "mutation")
}

// crossover crosses the current architecture with a new sample, which donates a module; a sample with no
// module that fits is replaced by another, up to 20 of them.
func (e *explorerState) crossover() {
	g := e.grammar()
	var err error
	for range 20 {
		var other, a *grammar.Arch
		if other, err = g.Sample(e.r, e.input); err != nil {
			break
		}
		if a, err = g.Crossover(e.r, e.current(), other); err == nil {
			e.push(a, fmt.Sprintf("crossover with a sample of %d nodes", other.Stats().Nodes))
			return
		}
	}
	e.message = "no crossover: " + err.Error()
}

func (e *explorerState) back() {
	if len(e.history) < 2 {
		e.message = "nothing to go back to"
		return
	}
	e.history = e.history[:len(e.history)-1]
	e.message = "back to: " + e.history[len(e.history)-1].how
}

// setPComputation, setSeed, setInput, setCaps and setStart change a setting and start again from it.
func (e *explorerState) setPComputation(p float64) error {
	e.pc = p
	return e.restartKeeping()
}

func (e *explorerState) setSeed(s uint64) error {
	e.seed = s
	e.reseed()
	return e.restartKeeping()
}

func (e *explorerState) setInput(shape string) error {
	in, err := grammar.ParseShape(shape)
	if err != nil {
		e.message = err.Error()
		return nil
	}
	e.input = in
	return e.restartKeeping()
}

func (e *explorerState) setCaps(nodes int, params int64) error {
	e.maxNodes, e.maxParams = nodes, params
	return e.restartKeeping()
}

func (e *explorerState) setStart(start string) error {
	e.start = start
	return e.restartKeeping()
}

// setStartText starts from an architecture typed in the page; text that does not parse for the input
// leaves the architecture shown and the message says where it is wrong.
func (e *explorerState) setStartText(text string) error {
	if _, err := grammar.ParseArch(text, e.input); err != nil {
		e.message = "your text: " + err.Error()
		return nil
	}
	return e.setStart(text)
}

// restartKeeping restarts, and when that fails keeps what was shown and says why.
func (e *explorerState) restartKeeping() error {
	old := e.history
	if err := e.restart(); err != nil {
		e.history = old
		e.message = err.Error()
	}
	return nil
}

// exploreParamsScale maps the params slider (0..100) to 1K..100M parameters, evenly in log scale.
func exploreParamsScale(v int) int64 { return int64(math.Round(math.Pow(10, 3+float64(v)/20))) }

// exploreParamsSlider is the inverse of exploreParamsScale.
func exploreParamsSlider(p int64) int {
	return min(max(int(math.Round((math.Log10(float64(max(p, 1)))-3)*20)), 0), 100)
}

// panel renders the current state: settings, history, statistics, derivation tree, dataflow graph and the
// architecture's text, ready to copy.
func (e *explorerState) panel() []part {
	a := e.current()
	s := a.Stats()
	steps := make([]string, len(e.history))
	for i, h := range e.history {
		steps[i] = h.how
	}
	head := fmt.Sprintf(`<div class="einspace-explorer-state" style="font:13px sans-serif;margin:4px 0">`+
		`<b>p(computation)</b> <span data-k="pc">%.2f</span> · <b>seed</b> <span data-k="seed">%d</span> · <b>input</b> <span data-k="input">%s</span> · `+
		`<b>caps</b> <span data-k="nodes">%d</span> nodes, <span data-k="params">%s</span> params<br>`+
		`<b>history</b> (%d): %s<br><b>last</b>: <span data-k="message">%s</span></div>`,
		e.pc, e.seed, e.input.Arg(), e.maxNodes, viz.Count(e.maxParams), len(steps),
		html.EscapeString(strings.Join(steps, " → ")), html.EscapeString(e.message))
	t := Table{Title: "statistics", Header: []string{"statistic", "value"}, Rows: [][]string{
		{"parameters", fmt.Sprintf("%d (%s)", s.Params, viz.Count(s.Params))},
		{"multiply-adds", fmt.Sprintf("%d (%s)", s.FLOPs, viz.Count(s.FLOPs))},
		{"activation memory", fmt.Sprintf("%s bytes per example", viz.Count(s.ActivationBytes))},
		{"nodes", fmt.Sprint(s.Nodes)},
		{"depth", fmt.Sprint(s.Depth)},
		{"output shape", a.Output().String()},
		{"mode", a.Output().Mode().String()},
	}}
	text := fmt.Sprintf(`<div style="font:13px sans-serif;margin:6px 0 2px">the architecture's text (select and copy; `+
		`<code>grammar.ParseArch</code> reads it):</div><textarea class="einspace-explorer-text" readonly rows="4" `+
		`style="width:100%%;font:12px monospace">%s</textarea>`, html.EscapeString(a.String()))
	return []part{
		{html: head + t.HTML(), text: t.Text()},
		{chart: viz.ArchTree(a, viz.TreeOptions{Title: "explorer: derivation tree"})},
		{chart: viz.ArchGraph(a, "explorer: dataflow graph")},
		{html: text, text: a.String()},
	}
}
