package search

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
)

// Summary describes a run directory: counts, the best architectures and, once run, the final result.
type Summary struct {
	Dir       string
	Config    Config
	Records   int // evaluations logged
	Counted   int // counted toward the budget
	Failed    int
	Truncated bool           // the log ends in an incomplete line (the run was interrupted mid-write)
	Best      []Record       // the best counted records by validation accuracy, best first (distinct architectures)
	Failures  map[string]int // failure reasons (first line) and how often they occurred
	Final     *FinalResult   // nil until Final has run
}

// SummaryTop is how many architectures Summarise lists.
const SummaryTop = 10

// Summarise reads a run directory and summarises it.
func Summarise(dir string) (*Summary, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	records, truncated, err := ReadRecords(dir)
	if err != nil {
		return nil, err
	}
	s := &Summary{Dir: dir, Config: cfg, Records: len(records), Truncated: truncated, Failures: map[string]int{}}
	var ok []Record
	seen := map[string]bool{}
	for _, r := range records {
		if r.Failed() {
			s.Failed++
			reason, _, _ := strings.Cut(r.Failure, "\n")
			s.Failures[reason]++
		}
		if r.Counted {
			s.Counted++
			if !seen[r.Hash] {
				seen[r.Hash] = true
				ok = append(ok, r)
			}
		}
	}
	sort.SliceStable(ok, func(i, j int) bool { return ok[i].ValAccuracy > ok[j].ValAccuracy })
	s.Best = ok[:min(len(ok), SummaryTop)]
	b, err := os.ReadFile(filepath.Join(dir, FinalFile))
	switch {
	case err == nil:
		var f FinalResult
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("read %s: %w", FinalFile, err)
		}
		s.Final = &f
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read final result: %w", err)
	}
	return s, nil
}

// String prints the summary as text: a header and a table of the best architectures.
func (s *Summary) String() string {
	var b strings.Builder
	c := s.Config
	fmt.Fprintf(&b, "run %s: strategy %s", s.Dir, c.Strategy)
	if len(c.Seeds) > 0 {
		fmt.Fprintf(&b, " seeded with %s", strings.Join(c.Seeds, "+"))
	}
	fmt.Fprintf(&b, ", %s %s, seed %d\n", c.Data.Name, c.Input, c.Seed)
	fmt.Fprintf(&b, "evaluations: %d logged, %d/%d counted, %d failed", s.Records, s.Counted, c.Budget, s.Failed)
	if s.Truncated {
		b.WriteString(" (log ends in an interrupted write)")
	}
	b.WriteString("\n")
	if s.Final != nil {
		fmt.Fprintf(&b, "final: record %d retrained %d epochs on train+val: test accuracy %.2f%%", s.Final.Best.Index, c.FinalEpochs, s.Final.Result.TestAccuracy)
		if s.Final.Result.Failed() {
			fmt.Fprintf(&b, " (failed: %s)", firstLine(s.Final.Result.Failure))
		}
		b.WriteString("\n")
	}
	if len(s.Best) == 0 {
		b.WriteString("no successful evaluation yet\n")
		return b.String()
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rank\tindex\tval acc %\ttrain loss\tparams\tMFLOPs\tseconds\torigin\thash\t")
	for i, r := range s.Best {
		fmt.Fprintf(tw, "%d\t%d\t%.2f\t%.4f\t%d\t%.1f\t%.1f\t%s\t%s\t\n", i+1, r.Index, r.ValAccuracy, r.TrainLoss, r.Params,
			float64(r.FLOPs)/1e6, r.WallSeconds, r.Origin, r.Hash[:min(12, len(r.Hash))])
	}
	tw.Flush()
	if len(s.Failures) > 0 {
		b.WriteString("failures:\n")
		for _, r := range s.FailureReasons() {
			fmt.Fprintf(&b, "  %d× %s\n", s.Failures[r], truncateText(r, 100))
		}
	}
	return b.String()
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// FailureReasons lists the distinct failure reasons, the most frequent first (ties by text).
func (s *Summary) FailureReasons() []string {
	reasons := make([]string, 0, len(s.Failures))
	for r := range s.Failures {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if s.Failures[reasons[i]] != s.Failures[reasons[j]] {
			return s.Failures[reasons[i]] > s.Failures[reasons[j]]
		}
		return reasons[i] < reasons[j]
	})
	return reasons
}
