package kernel

import (
	"fmt"
	"html"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/comms"
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
	// answer comes back at once, and one sent before the subscription would be lost.
	answered := comms.Listen[int](alive)
	defer answered.Close()
	gonbui.UpdateHTML(v.controlsID, controls(v.slot)+aliveScript(alive))
	v.redraw()
	select {
	case <-answered.C:
		return v, true
	case <-time.After(LivePageTimeout):
		return v, false
	}
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
// may be installed just after the script runs, or again after a failed start: it answers on every
// gonb_comm it sees for 60 s.
func aliveScript(alive string) string {
	return fmt.Sprintf(`<script>(function(){var n=0,seen=null;(function answer(){var c=globalThis.gonb_comm;`+
		`if(c&&c!==seen){seen=c;c.newSyncedVariable(%q,0).set(1)}if(n++<600){setTimeout(answer,100)}})()})();</script>`, alive)
}
