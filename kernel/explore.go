package kernel

import (
	"context"
	"fmt"
	"html"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/janpfeifer/gonb/gonbui/comms"
	"github.com/janpfeifer/gonb/gonbui/dom"
	"github.com/janpfeifer/gonb/gonbui/widgets"

	"github.com/einspace-go/einspace/grammar"
)

// Explore runs the grammar explorer in a notebook cell: controls for p(computation), the seed, the input
// shape, the caps on nodes and parameters and the starting point, buttons to re-sample, mutate, cross over
// with a new sample and step back, and a panel (statistics, derivation tree, dataflow graph and the
// architecture's text) redrawn in place after every change. The cell runs until "done" is clicked or it is
// interrupted; then the final state stays in the notebook, saved and exported with it.
//
// Without a live page (a notebook executed headless) it shows the starting state and returns; outside a
// notebook it writes that state as a page (see Display).
func Explore(o ExploreOptions) error {
	e, err := newExplorer(o)
	if err != nil {
		return err
	}
	if !InNotebook() {
		return writeOutside("grammar explorer", e.panel())
	}
	if err := ensureECharts(); err != nil {
		return err
	}
	startNames := append([]string{"random"}, grammar.SeedNames()...)
	startIndex := 0
	for i, n := range startNames {
		if n == e.start {
			startIndex = i
		}
	}
	if startIndex == 0 && e.start != "random" {
		startNames = append(startNames, "your architecture")
		startIndex = len(startNames) - 1
	}
	inputIndex := 0
	for i, s := range ExploreInputs {
		if s == e.input.Arg() {
			inputIndex = i
		}
	}
	v, live := startWidgetView("grammar explorer", explorerControls, e.panel)
	if !live {
		return v.finish(noPage())
	}
	slot := v.slot
	pc := widgets.Slider(5, 95, int(e.pc*100+0.5)).AppendTo(slot("pc")).Done()
	seed := widgets.Slider(0, 100, int(min(e.seed, 100))).AppendTo(slot("seed")).Done()
	input := widgets.Select(ExploreInputs).SetDefault(inputIndex).AppendTo(slot("input")).Done()
	start := widgets.Select(startNames).SetDefault(startIndex).AppendTo(slot("start")).Done()
	nodes := widgets.Slider(10, 1000, e.maxNodes).AppendTo(slot("nodes")).Done()
	params := widgets.Slider(0, 100, exploreParamsSlider(e.maxParams)).AppendTo(slot("params")).Done()
	buttons := slot("buttons")
	resampleC, mutateC, crossC, backC, doneC := v.button("re-sample", buttons), v.button("mutate", buttons),
		v.button("cross over", buttons), v.button("back", buttons), v.button("done", buttons)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pcC, seedC, nodesC, paramsC := latest(pc.Listen()), latest(seed.Listen()), latest(nodes.Listen()), latest(params.Listen())
	inputC, startC := latest(input.Listen()), latest(start.Listen())
	textAddress := "/einspace/explorer/text/" + v.uid
	textC := latest(comms.Listen[string](textAddress))
	dom.TransientJavascript(textInputScript(slot("text"), textAddress)) // binds the text box to textAddress
	e.message = exploreReady
	v.redraw()
	for {
		var err error
		select {
		case <-ctx.Done():
			return v.finish("interrupted")
		case <-doneC:
			return v.finish("done")
		case v := <-pcC:
			err = e.setPComputation(float64(v) / 100)
		case v := <-seedC:
			err = e.setSeed(uint64(v))
		case v := <-nodesC:
			err = e.setCaps(v, e.maxParams)
		case v := <-paramsC:
			err = e.setCaps(e.maxNodes, exploreParamsScale(v))
		case v := <-inputC:
			err = e.setInput(ExploreInputs[v])
		case v := <-startC:
			if startNames[v] == "your architecture" {
				err = e.setStart(o.Start)
			} else {
				err = e.setStart(startNames[v])
			}
		case text := <-textC:
			if strings.TrimSpace(text) != "" {
				err = e.setStartText(text)
			}
		case <-resampleC:
			err = e.resample()
		case <-mutateC:
			e.mutate()
		case <-crossC:
			e.crossover()
		case <-backC:
			e.back()
		}
		if err != nil {
			e.message = err.Error()
		}
		v.redraw()
	}
}

// exploreReady is the panel's message once every control is listened to.
const exploreReady = "ready: move a control or click a button"

// textInputScript is JavaScript that sends the text box's content to the cell on Enter (GoNB has no text widget: this is a
// synced variable of its comms, as its own widgets use).
func textInputScript(id, address string) string {
	return fmt.Sprintf(`(function(){var n=0;(function bind(){var c=globalThis.gonb_comm,el=document.getElementById(%q);`+
		`if(!c||!el){if(n++<200){setTimeout(bind,100)}return}var v=c.newSyncedVariable(%q,"");`+
		`el.addEventListener("keydown",function(e){if(e.key==="Enter"){v.set(el.value)}})})()})();`, id, address)
}

// explorerControls is the explorer's control panel, with a slot for each widget.
func explorerControls(slot func(string) string) string {
	var b strings.Builder
	b.WriteString(`<div class="einspace-explorer" style="font:13px sans-serif;display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;align-items:center;margin:4px 0 8px">`)
	for _, c := range [][2]string{{"pc", "p(computation) ×100"}, {"seed", "seed"}, {"input", "input shape"},
		{"start", "start from"}, {"nodes", "max nodes"}, {"params", "max parameters (10^(3+v/20))"}} {
		fmt.Fprintf(&b, `<label>%s</label><span id="%s"></span>`, html.EscapeString(c[1]), slot(c[0]))
	}
	fmt.Fprintf(&b, `<label>or your text</label><input id="%s" class="einspace-explorer-input" type="text" `+
		`placeholder="e.g. routing[im2col3k1s1p, computation&lt;linear64&gt;, col2im], then Enter" style="font:12px monospace;width:100%%">`, slot("text"))
	fmt.Fprintf(&b, `<span></span><span id="%s"></span></div>`, slot("buttons"))
	return b.String()
}
