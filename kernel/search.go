package kernel

import (
	"fmt"
	"strings"
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
	best    *search.Record
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
		if ev.Record.Counted && !ev.Record.Failed() && (d.best == nil || ev.Record.ValAccuracy > d.best.ValAccuracy) {
			r := ev.Record
			d.best = &r
		}
		interval := d.Interval
		if interval <= 0 {
			interval = DashboardInterval
		}
		if d.last.IsZero() || time.Since(d.last) >= interval {
			d.redraw()
		}
	case search.NewBest:
		r := ev.Record
		d.best = &r
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
	if d.best != nil {
		note = fmt.Sprintf("best %.2f%% (record %d) · ", d.best.ValAccuracy, d.best.Index) + note
	}
	return Progress{Label: d.title, Done: d.counted, Total: d.budget, Note: note}
}

func bestRecordText(r search.Record, maxArch int) string {
	arch := r.Arch
	if maxArch > 0 && len([]rune(arch)) > maxArch {
		arch = string([]rune(arch)[:maxArch]) + "…"
	}
	return fmt.Sprintf("best: record %d (%s) val accuracy %.2f%%, %s params, %s FLOPs\n%s",
		r.Index, r.Origin, r.ValAccuracy, viz.Count(r.Params), viz.Count(r.FLOPs), arch)
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
	if d.best != nil {
		best = bestRecordText(*d.best, 0)
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
// run, the best architecture, the progress and population charts) and a *search.Summary (its tables, and
// the charts when its run directory can be read). ok is false for other values.
func searchParts(x any) (parts []part, ok bool, err error) {
	switch v := x.(type) {
	case *search.History:
		if v == nil {
			return nil, true, fmt.Errorf("kernel.Display: nil search history")
		}
		t := historyTable(v)
		parts = append(parts, part{html: t.HTML(), text: t.Text(), title: t.Title})
		if best, ok := v.Best(); ok {
			s := bestRecordText(best, 0)
			parts = append(parts, part{html: "<pre style=\"white-space:pre-wrap\">" + escapeHTML(s) + "</pre>", text: s})
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

func escapeHTML(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func historyTable(h *search.History) Table {
	c := h.Config
	failed := 0
	for _, r := range h.Records {
		if r.Failed() {
			failed++
		}
	}
	rows := [][]string{
		{"strategy", strategyText(c)},
		{"evaluations", fmt.Sprintf("%d logged, %d/%d counted, %d failed", len(h.Records), h.Counted, c.Budget, failed)},
	}
	if best, ok := h.Best(); ok {
		rows = append(rows, []string{"best val accuracy", fmt.Sprintf("%.2f%% (record %d, %s)", best.ValAccuracy, best.Index, best.Origin)})
	}
	if len(h.Population) > 0 {
		rows = append(rows, []string{"population", fmt.Sprintf("%d members", len(h.Population))})
	}
	return Table{Title: "search " + c.RunID(), Header: []string{"item", "value"}, Rows: rows}
}

func strategyText(c search.Config) string {
	s := string(c.Strategy)
	if len(c.Seeds) > 0 {
		s += " seeded with " + strings.Join(c.Seeds, "+")
	}
	return fmt.Sprintf("%s on %s %s", s, c.Data.Name, c.Input)
}

// SummaryTables lays a run's summary out as tables: the run (configuration, counts, best and final
// accuracies) and its best architectures.
func SummaryTables(s *search.Summary) []Table {
	c := s.Config
	ev := fmt.Sprintf("%d logged, %d/%d counted, %d failed", s.Records, s.Counted, c.Budget, s.Failed)
	if s.Truncated {
		ev += " (the log ends in an interrupted write)"
	}
	run := Table{Title: "run " + s.Dir, Header: []string{"item", "value"}, Rows: [][]string{
		{"strategy", strategyText(c)},
		{"evaluations", ev},
	}}
	if len(s.Best) > 0 {
		b := s.Best[0]
		run.Rows = append(run.Rows, []string{"best val accuracy", fmt.Sprintf("%.2f%% (record %d, %s)", b.ValAccuracy, b.Index, b.Origin)})
	}
	if f := s.Final; f != nil {
		v := fmt.Sprintf("%.2f%% (record %d)", f.Result.TestAccuracy, f.Best.Index)
		if f.Result.Failed() {
			v += " failed: " + strings.SplitN(f.Result.Failure, "\n", 2)[0]
		}
		run.Rows = append(run.Rows, []string{"final test accuracy", v})
	}
	tables := []Table{run}
	if len(s.Best) > 0 {
		best := Table{Title: "best architectures", Header: []string{"rank", "record", "val acc %", "params", "FLOPs", "origin", "hash"}}
		for i, r := range s.Best {
			best.Rows = append(best.Rows, []string{fmt.Sprint(i + 1), fmt.Sprint(r.Index), fmt.Sprintf("%.2f", r.ValAccuracy),
				viz.Count(r.Params), viz.Count(r.FLOPs), r.Origin.String(), r.Hash[:min(12, len(r.Hash))]})
		}
		tables = append(tables, best)
	}
	return tables
}
