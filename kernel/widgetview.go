package kernel

import (
	"fmt"
	"html"
	"sync"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/comms"
	"github.com/janpfeifer/gonb/gonbui/protocol"
	"github.com/janpfeifer/gonb/gonbui/widgets"
)

// LivePageTimeout is how long a widget view waits for the page to answer before it decides that nobody is
// looking (a notebook executed headless, by nbconvert) and shows its starting state for good.
var LivePageTimeout = 15 * time.Second

// widgetView is the plumbing a view with controls shares (the explorer, the playground): a transient
// output for its controls and one for its panel, both redrawn in place, a check that a live page shows
// them, and an end that leaves the last panel in the notebook.
type widgetView struct {
	name                string // "grammar explorer", in the closing line
	uid                 string
	controlsID, panelID string
	panel               func() []part
	buttons             int // buttons made so far, for their addresses
}

// startWidgetView shows the controls' markup (with slots for GoNB's widgets) and the panel, and reports
// whether a live page answered. GoNB's widgets wait for the page as they are made, so without one the
// caller makes none and ends with finish.
func startWidgetView(name string, controls func(slot func(string) string) string, panel func() []part) (*widgetView, bool) {
	comms.Start()
	uid := gonbui.UniqueId()
	v := &widgetView{name: name, uid: uid, controlsID: "einspace-view-" + uid, panelID: "einspace-view-panel-" + uid, panel: panel}
	alive := "/einspace/alive/" + uid
	// Listen before the page can answer: when GoNB's websocket is already up (an earlier cell used it), the
	// answer comes back at once, and one sent before the subscription would be lost. The listener is never
	// closed (see keepListening).
	answered := firstOf(comms.Listen[int](alive))
	gonbui.UpdateHTML(v.controlsID, controls(v.slot)+aliveScript(alive))
	v.redraw()
	// An unpatched GoNB's page script gives up when the kernel's acknowledgement of its connection is lost
	// (docs/GONB-COMM-OPEN-ACK.md; our set-up builds GoNB with the fix), and the kernel installs it again
	// only when the cell next talks to the page: ask again now and then.
	retry := time.NewTicker(3 * time.Second)
	defer retry.Stop()
	timeout := time.After(LivePageTimeout)
	for {
		select {
		case <-answered:
			return v, true
		case <-retry.C:
			comms.Start()
		case <-timeout:
			return v, false
		}
	}
}

// GoNB v0.11.5's comms, compiled into every cell's program, has a defect: a value that reaches the program
// for an address whose last listener has closed leaves its subscriptions' mutex locked, and every later
// value and subscription of the cell then waits forever (the controls stop answering, or the next widget's
// creation never returns). docs/GONB-COMMS-LOCK.md is the upstream report. So a view never closes a
// listener while the page may still send to its address: each is drained until the cell's program ends,
// and buttons are listened to before GoNB's own Done, which closes a listener of its own.

// firstOf is closed when the first value arrives on c; c is drained for the rest of the program.
func firstOf[T protocol.CommValueTypes](c *comms.AddressChan[T]) <-chan struct{} {
	first := make(chan struct{})
	go func() {
		var once sync.Once
		for range c.C {
			once.Do(func() { close(first) })
		}
	}()
	return first
}

// latest hands on the newest value of c, dropping values the reader had no time for (a slider being
// dragged), as GoNB's LatestOnly does without replacing the channel a message may be on its way to.
func latest[T protocol.CommValueTypes](c *comms.AddressChan[T]) <-chan T {
	out := make(chan T, 1)
	go func() {
		for x := range c.C {
			select {
			case out <- x:
			default:
				select {
				case <-out:
				default:
				}
				out <- x
			}
		}
	}()
	return out
}

// button adds a GoNB button labelled label to the element parent and returns its clicks.
func (v *widgetView) button(label, parent string) <-chan struct{} {
	v.buttons++
	address := fmt.Sprintf("/einspace/view/%s/button/%d", v.uid, v.buttons)
	counts := comms.Listen[int](address) // before Done: the address never loses its last listener
	clicks := make(chan struct{}, 16)
	go func() {
		for n := range counts.C {
			if n > 0 { // the page sends 0 when the button is made
				clicks <- struct{}{}
			}
		}
	}()
	widgets.Button(label).WithAddress(address).AppendTo(parent).Done()
	return clicks
}

// slot is the id of the element a widget named name goes in.
func (v *widgetView) slot(name string) string { return "einspace-view-" + v.uid + "-" + name }

// redraw shows the panel as it is now, in place.
func (v *widgetView) redraw() {
	gonbui.UpdateHTML(v.panelID, htmlOf(v.panel()))
	gonbui.Sync()
}

// finish removes the controls and leaves the last panel as an ordinary output, saved with the notebook.
func (v *widgetView) finish(why string) error {
	gonbui.UpdateHTML(v.controlsID, "")
	gonbui.UpdateHTML(v.panelID, "")
	gonbui.DisplayHTML(fmt.Sprintf(`<div style="font:13px sans-serif;color:#555;margin:4px 0">%s: %s; `+
		`its last state, kept in the notebook:</div>`, html.EscapeString(v.name), html.EscapeString(why)) + htmlOf(v.panel()))
	gonbui.Sync()
	return gonbui.Error()
}

// noPage is finish's reason when no page answered.
func noPage() string {
	return fmt.Sprintf("no live page answered within %v (a notebook executed headless?), so no controls", LivePageTimeout)
}

// aliveScript answers on alive from the page, through gonb_comm (GoNB's websocket to the cell), which
// may be installed just after the script runs, or again after a failed start: it answers once on every
// gonb_comm it sees for 60 s.
func aliveScript(alive string) string {
	return fmt.Sprintf(`<script>(function(){var n=0,seen=null;(function answer(){var c=globalThis.gonb_comm;`+
		`if(c&&c!==seen){seen=c;c.newSyncedVariable(%q,1)}if(n++<600){setTimeout(answer,100)}})()})();</script>`, alive)
}
