package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/einspace-go/einspace/search"
	"github.com/einspace-go/einspace/viz"
)

func runReport(e *env, args []string) error {
	fs := newFlags(e, "report", "[--html FILE] RUN_DIR", `Prints a search's summary and best architectures, and writes a standalone HTML report with its
charts (progress, population, op frequencies, the best architectures as trees and dataflow graphs).`)
	html := fs.String("html", "", "where to write the HTML report (default RUN_DIR/report.html; - to skip)")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("report takes one RUN_DIR, got %d arguments", fs.NArg())
	}
	dir := fs.Arg(0)
	s, err := search.Summarise(dir)
	if err != nil {
		return usageError{err}
	}
	if err := writeSummary(e.stdout, s); err != nil {
		return err
	}
	if *html == "-" {
		return nil
	}
	path := *html
	if path == "" {
		path = filepath.Join(dir, "report.html")
	}
	if err := viz.WriteSearchReport(dir, path); err != nil {
		return fmt.Errorf("HTML report: %w", err)
	}
	fmt.Fprintf(e.stdout, "\nHTML report: %s\n", path)
	return nil
}

// writeSummary is the text view of a run's summary: its overview, the table of its best architectures
// and its failure reasons (viz.SearchReport and kernel.SummaryTables draw the same summary).
func writeSummary(w io.Writer, s *search.Summary) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "run %s\n", s.Dir)
	for _, f := range s.Overview() {
		fmt.Fprintf(tw, "  %s\t%s\n", f.Name, f.Value)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(s.Best) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, strings.Join(search.BestColumns, "\t")+"\t")
		for _, row := range s.BestRows() {
			fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(s.Failures) > 0 {
		fmt.Fprintln(w, "failures:")
		for _, r := range s.FailureReasons() {
			fmt.Fprintf(w, "  %d× %s\n", s.Failures[r], truncateRunes(r, 100))
		}
	}
	return nil
}

// truncateRunes cuts s to at most n runes, ending in "…" when cut.
func truncateRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
