package kernel

import (
	"fmt"
	"html"
	"sync"
	"time"

	"github.com/einspace-go/einspace/search"
	"github.com/einspace-go/einspace/viz"
)

// DashboardInterval is how often, at most, a SearchDashboard redraws between new bests.
const DashboardInterval = 2 * time.Second

// SearchDashboard is a live view of a running search for a notebook: a progress bar (counted evaluations
// of the budget), the best validation accuracy so far and the progress chart, redrawn at most every
// Interval and on each new best (a resumed search replays its log without redrawing for every record).
// Close leaves the final state: the progress bar, the best architecture, and the progress and population
// charts. Outside a notebook it prints progress lines and Close writes the final state as a page (see
// Live). It is safe for concurrent use: the search calls its listener while another goroutine may close it.
//
//	d := kernel.NewSearchDashboard("RE(Scratch) on AddNIST", cfg.Budget)
//	h, err := search.Run(ctx, dir, cfg, ev, search.Options{Listener: d.Listener()})
//	d.Close()
type SearchDashboard struct {
	// Interval bounds how often the view is redrawn between new bests; 0 means DashboardInterval. Set it
	// before the search starts.
	Interval time.Duration

	mu      sync.Mutex
	live    *Live
	title   string
	budget  int
	records []search.Record
	counted int
	best    search.BestSoFar
	last    time.Time // of the last redraw
	drawn   int       // records in the last redraw
	err     error
	closed  bool
}

// NewSearchDashboard starts a dashboard for a search of budget counted evaluations (0: take it from the
// search's events).
func NewSearchDashboard(title string, budget int) *SearchDashboard {
	if title == "" {
		title = "search"
	}
	return &SearchDashboard{live: NewLive(title), title: title, budget: budget}
}

// Listener returns the search.Listener that feeds the dashboard: pass it in search.Options. A redraw
// that fails (the notebook went away) is remembered for Err and Close and does not stop the search.
func (d *SearchDashboard) Listener() search.Listener {
	return d.observe
}

func (d *SearchDashboard) observe(ev search.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	if ev.Budget > 0 && d.budget == 0 {
		d.budget = ev.Budget
	}
	d.counted = max(d.counted, ev.Counted)
	switch ev.Kind {
	case search.EvaluationFinished:
		d.records = append(d.records, ev.Record)
		d.best.Add(ev.Record)
		interval := d.Interval
		if interval <= 0 {
			interval = DashboardInterval
		}
		if d.last.IsZero() || time.Since(d.last) >= interval {
			d.redraw()
		}
	case search.NewBest: // already counted by EvaluationFinished: only redraw
		if !ev.Replayed && d.drawn < len(d.records) {
			d.redraw()
		}
	}
}

// redraw updates the live view; d.mu is held.
func (d *SearchDashboard) redraw() {
	d.last, d.drawn = time.Now(), len(d.records)
	if err := d.live.Update(d.progress(), viz.SearchProgress(d.records)); err != nil && d.err == nil {
		d.err = err
	}
}

func (d *SearchDashboard) progress() Progress {
	failed := 0
	for _, r := range d.records {
		if r.Failed() {
			failed++
		}
	}
	note := fmt.Sprintf("%d evaluations, %d failed", len(d.records), failed)
	if best, ok := d.best.Best(); ok {
		note = fmt.Sprintf("best %.2f%% (record %d) · ", best.ValAccuracy, best.Index) + note
	}
	return Progress{Label: d.title, Done: d.counted, Total: d.budget, Note: note}
}

// bestRecordText says what the best record is, with its whole architecture.
func bestRecordText(r search.Record) string {
	return fmt.Sprintf("best: record %d (%s) val accuracy %.2f%%, %s params, %s FLOPs\n%s",
		r.Index, r.Origin, r.ValAccuracy, viz.Count(r.Params), viz.Count(r.FLOPs), r.Arch)
}

// Records returns a copy of the records the dashboard has seen.
func (d *SearchDashboard) Records() []search.Record {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]search.Record(nil), d.records...)
}

// Err is the first error of a redraw, if any.
func (d *SearchDashboard) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// Close draws the final state (progress bar, the best architecture whole, the progress and population
// charts) and leaves it in the notebook, or writes it as a page outside one. Events after Close are
// ignored. It returns the first error of any redraw.
func (d *SearchDashboard) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return d.err
	}
	d.closed = true
	best := "no successful evaluation"
	if r, ok := d.best.Best(); ok {
		best = bestRecordText(r)
	}
	final := []any{d.progress(), best, viz.SearchProgress(d.records), viz.Population(d.records)}
	var err error
	if InNotebook() {
		if err = d.live.Update(final...); err == nil {
			err = d.live.Close()
		}
	} else {
		// outside a notebook the live view only printed progress lines: print and write the final state once
		var parts []part
		for _, x := range final {
			ps, perr := partsOf(x)
			if perr != nil {
				err = perr
				break
			}
			parts = append(parts, ps...)
		}
		if err == nil {
			err = writeOutside(d.title, parts)
		}
	}
	if err != nil && d.err == nil {
		d.err = err
	}
	return d.err
}

// searchParts shows the values of package search that Display knows: a *search.History (a table of the
// run and its best architectures, the best one whole, the progress and population charts) and a *search.Summary (its tables, and
// the charts when its run directory can be read). ok is false for other values.
func searchParts(x any) (parts []part, ok bool, err error) {
	switch v := x.(type) {
	case *search.History:
		if v == nil {
			return nil, true, fmt.Errorf("kernel.Display: nil search history")
		}
		for _, t := range SummaryTables(search.SummaryOf(v)) {
			parts = append(parts, part{html: t.HTML(), text: t.Text(), title: t.Title})
		}
		if best, ok := v.Best(); ok {
			s := bestRecordText(best)
			parts = append(parts, part{html: "<pre style=\"white-space:pre-wrap\">" + html.EscapeString(s) + "</pre>", text: s})
		}
		parts = append(parts, part{chart: viz.SearchProgress(v.Records)}, part{chart: viz.Population(v.Records)})
		return parts, true, nil
	case *search.Summary:
		if v == nil {
			return nil, true, fmt.Errorf("kernel.Display: nil search summary")
		}
		for _, t := range SummaryTables(v) {
			parts = append(parts, part{html: t.HTML(), text: t.Text(), title: t.Title})
		}
		if v.Dir != "" {
			if records, _, err := search.ReadRecords(v.Dir); err == nil && len(records) > 0 {
				parts = append(parts, part{chart: viz.SearchProgress(records)}, part{chart: viz.Population(records)})
			}
		}
		return parts, true, nil
	}
	return nil, false, nil
}

// SummaryTables is the notebook view of a run's summary: its overview (search.Summary.Overview) and its
// best architectures (search.Summary.BestRows), as tables; viz.SearchReport and `einspace report` show the
// same summary.
func SummaryTables(s *search.Summary) []Table {
	title := "search " + s.Config.RunID()
	if s.Dir != "" {
		title = "run " + s.Dir
	}
	run := Table{Title: title, Header: []string{"item", "value"}}
	for _, f := range s.Overview() {
		run.Rows = append(run.Rows, []string{f.Name, f.Value})
	}
	tables := []Table{run}
	if len(s.Best) > 0 {
		tables = append(tables, Table{Title: "best architectures", Header: search.BestColumns, Rows: s.BestRows()})
	}
	return tables
}
