package kernel

import (
	"fmt"
	"html"
	"strings"
	"sync"

	"github.com/janpfeifer/gonb/gonbui"
)

// Progress is a progress bar: Done of Total steps, with a label and a note.
type Progress struct {
	Label       string
	Done, Total int
	Note        string
}

func (p Progress) fraction() float64 {
	if p.Total <= 0 {
		return 0
	}
	return min(max(float64(p.Done)/float64(p.Total), 0), 1)
}

// HTML renders the bar for a notebook.
func (p Progress) HTML() string {
	return fmt.Sprintf(`<div style="font-family:sans-serif;font-size:13px;margin:4px 0">%s `+
		`<span style="display:inline-block;width:240px;height:10px;background:#eee;border-radius:5px;vertical-align:middle">`+
		`<span style="display:block;width:%.1f%%;height:100%%;background:#5470c6;border-radius:5px"></span></span> %d/%d %s</div>`,
		html.EscapeString(p.Label), 100*p.fraction(), p.Done, p.Total, html.EscapeString(p.Note))
}

// String renders the bar as a line of text: "label [=====     ] 5/10 note".
func (p Progress) String() string {
	const width = 20
	n := int(p.fraction() * width)
	s := fmt.Sprintf("%s [%s%s] %d/%d", p.Label, strings.Repeat("=", n), strings.Repeat(" ", width-n), p.Done, p.Total)
	if p.Note != "" {
		s += " " + p.Note
	}
	return strings.TrimSpace(s)
}

// Live is a view that a long run redraws in place: in a notebook each Update replaces the view's output
// (transient, gonbui.UpdateHTML), and Close replaces it with the final state as an ordinary output that the
// saved notebook keeps. Outside a notebook, Update prints the text of its tables and progress bars, and
// Close writes the final state as a page (see Display). A Live is safe for concurrent use.
type Live struct {
	mu     sync.Mutex
	id     string
	title  string
	last   []part
	closed bool
}

// NewLive starts a live view.
func NewLive(title string) *Live {
	return &Live{id: "einspace-live-" + gonbui.UniqueId(), title: title}
}

// Update redraws the view with xs (anything Display shows).
func (l *Live) Update(xs ...any) error {
	parts, err := partsOfAll(xs)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return fmt.Errorf("kernel: live view %q updated after Close", l.title)
	}
	l.last = parts
	if !InNotebook() {
		for _, p := range parts {
			if p.chart == nil && p.text != "" {
				fmt.Fprintln(Stdout, p.text)
			}
		}
		return nil
	}
	if hasChart(parts) {
		if err := ensureECharts(); err != nil {
			return err
		}
	}
	gonbui.UpdateHTML(l.id, l.heading()+htmlOf(parts))
	gonbui.Sync()
	return gonbui.Error()
}

func (l *Live) heading() string {
	if l.title == "" {
		return ""
	}
	return "<h4 style=\"margin:4px 0\">" + html.EscapeString(l.title) + "</h4>\n"
}

// Close ends the view: it clears the transient output and shows the last state for good.
func (l *Live) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if !InNotebook() {
		title := l.title
		if title == "" {
			title = titleOf(l.last)
		}
		return writeOutside(title, l.last)
	}
	gonbui.UpdateHTML(l.id, "")
	gonbui.DisplayHTML(l.heading() + htmlOf(l.last))
	gonbui.Sync()
	return gonbui.Error()
}
