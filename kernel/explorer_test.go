package kernel

import (
	"strings"
	"testing"

	"github.com/einspace-go/einspace/grammar"
)

func TestExplorerActions(t *testing.T) {
	e, err := newExplorer(ExploreOptions{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	first := e.current().String()
	again, _ := newExplorer(ExploreOptions{Seed: 3})
	if again.current().String() != first {
		t.Fatal("the same seed gave a different first sample")
	}
	if s := e.current().Stats(); s.Nodes > 200 || s.Params > 2_000_000 {
		t.Errorf("first sample over the default caps: %+v", s)
	}

	e.mutate()
	if len(e.history) != 2 || e.history[1].how != "mutation" || e.current().String() == first {
		t.Fatalf("mutate: history %d, %q", len(e.history), e.message)
	}
	e.crossover()
	if len(e.history) != 3 || !strings.HasPrefix(e.history[2].how, "crossover with a sample") {
		t.Fatalf("crossover: %q", e.message)
	}
	e.back()
	e.back()
	if len(e.history) != 1 || e.current().String() != first {
		t.Fatalf("back twice: history %d", len(e.history))
	}
	e.back()
	if e.message != "nothing to go back to" || len(e.history) != 1 {
		t.Errorf("back at the start: %q", e.message)
	}

	// Settings restart from the starting point with the new value.
	kernelCheck(t, e.setPComputation(0.8))
	if e.pc != 0.8 || !strings.Contains(e.message, "p = 0.80") || len(e.history) != 1 {
		t.Errorf("p(computation): %q", e.message)
	}
	kernelCheck(t, e.setInput("1x28x28"))
	if got := e.current().Input; got != grammar.ImShape(1, 28, 28) {
		t.Errorf("input %v after choosing 1x28x28", got)
	}
	kernelCheck(t, e.setStart(grammar.ResNet18))
	if e.current().Stats().Params != 11_172_032 && e.current().Input != grammar.ImShape(1, 28, 28) {
		t.Errorf("resnet18 for 1x28x28: %d params", e.current().Stats().Params)
	}
	if e.history[0].how != grammar.ResNet18 {
		t.Errorf("start %q", e.history[0].how)
	}
	// Caps too tight for any sample: the architecture shown stays, and the message says why.
	kernelCheck(t, e.setStart("random"))
	shown := e.current().String()
	kernelCheck(t, e.setCaps(1, 1_000)) // no tree has a single node
	if e.current().String() != shown || !strings.Contains(e.message, "within the caps") {
		t.Errorf("impossible caps: now %s, message %q", e.current(), e.message)
	}
}

func kernelCheck(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestExplorerStartsFromText(t *testing.T) {
	e, err := newExplorer(ExploreOptions{Start: "routing[im2col3k1s1p, computation<linear64>, col2im]"})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.current().Stats().Params; got != 1792 {
		t.Errorf("params %d, want 1792", got)
	}
	if _, err := newExplorer(ExploreOptions{Start: "sequential(linear64)"}); err == nil ||
		!strings.Contains(err.Error(), "the starting architecture") {
		t.Errorf("bad text: %v", err)
	}
	if _, err := newExplorer(ExploreOptions{PComputation: 1.5}); err == nil {
		t.Error("p(computation) 1.5 accepted")
	}
}

func TestExplorerPanel(t *testing.T) {
	e, err := newExplorer(ExploreOptions{Start: grammar.ViT})
	if err != nil {
		t.Fatal(err)
	}
	h := htmlOf(e.panel())
	for _, want := range []string{`data-k="pc">0.32<`, `data-k="input">3x28x28<`, "multiply-adds", "mode", "col",
		"explorer: derivation tree", "explorer: dataflow graph", `class="einspace-explorer-text"`} {
		if !strings.Contains(h, want) {
			t.Errorf("panel lacks %q", want)
		}
	}
	for v := 0; v <= 100; v += 5 {
		if got := exploreParamsSlider(exploreParamsScale(v)); got != v {
			t.Errorf("params slider %d -> %d -> %d", v, exploreParamsScale(v), got)
		}
	}
}

func TestExplorerTypedText(t *testing.T) {
	e, err := newExplorer(ExploreOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	shown := e.current().String()
	kernelCheck(t, e.setStartText("sequential(linear64, computation<norm>)"))
	if e.current().String() != shown || !strings.HasPrefix(e.message, "your text: 1:12: expected a module") {
		t.Errorf("bad text: shows %s, says %q", e.current(), e.message)
	}
	kernelCheck(t, e.setStartText("routing[im2col3k1s1p, computation<linear64>, col2im]"))
	if e.current().Stats().Params != 1792 || e.message != "your architecture" {
		t.Errorf("good text: %d params, %q", e.current().Stats().Params, e.message)
	}
	kernelCheck(t, e.setInput("1x28x28")) // the typed start is kept for the new input
	if e.current().Stats().Params != 640 {
		t.Errorf("typed start for 1x28x28: %d params, want 640", e.current().Stats().Params)
	}
}
