package search

import (
	"fmt"
	"sort"
	"strings"
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
	Failures  map[string]int // failure reasons (Result.FailureReason) and how often they occurred
	Final     *FinalResult   // nil until Final has run
	// Population is the final population of a History's summary (SummaryOf); a run directory's does not
	// record it.
	Population []int
}

// SummaryTop is how many architectures Summarise lists.
const SummaryTop = 10

// Summarise reads a run directory and summarises it.
func Summarise(dir string) (*Summary, error) {
	cfg, records, truncated, err := readRun(dir)
	if err != nil {
		return nil, err
	}
	s := summaryOf(cfg, records)
	s.Dir, s.Truncated = dir, truncated
	if s.Final, err = readFinal(dir); err != nil {
		return nil, err
	}
	return s, nil
}

// Fact is one line of a run's overview: what it is about, and what a report says of it.
type Fact struct{ Name, Value string }

// Overview is what every view of a summary says of the run before its tables: the strategy, the data
// and training budget, the evaluations, and the best validation and final test accuracies.
func (s *Summary) Overview() []Fact {
	c := s.Config
	facts := []Fact{{"strategy", c.StrategyText()}}
	if c.Strategy != RandomSearch {
		facts = append(facts, Fact{"population / tournament", fmt.Sprintf("%d / %d", c.Population, c.Tournament)})
	}
	if c.Strategy == RegularisedEvolutionCrossover {
		facts = append(facts, Fact{"mutation after crossover", fmt.Sprintf("probability %g", c.CrossoverMutation)})
	}
	facts = append(facts, Fact{"data", fmt.Sprintf("%s, input %s, %d classes (data seed %d)", c.Data.Name, c.Input, c.Classes, c.Data.Seed)})
	train := fmt.Sprintf("%d epochs per evaluation, %d final epochs, batch %d, learning rate %g", c.Train.Epochs, c.FinalEpochs,
		c.Train.Batch(), c.Train.LearningRate())
	if c.Train.FullFLOPs > 0 {
		train += fmt.Sprintf(", fewer batches above %d multiply-adds per image", c.Train.FullFLOPs)
	}
	if c.Train.MaxSeconds > 0 {
		train += fmt.Sprintf(", at most %g s each", c.Train.MaxSeconds)
	}
	facts = append(facts, Fact{"training", train}, Fact{"search seed / run", fmt.Sprintf("%d / %s", c.Seed, c.RunID())})
	if c.InFlight > 1 || c.Dedup {
		facts = append(facts, Fact{"in flight / dedup", fmt.Sprintf("%d / %v", c.inFlight(), c.Dedup)})
	}
	ev := fmt.Sprintf("%d logged, %d/%d counted, %d failed", s.Records, s.Counted, c.Budget, s.Failed)
	if s.Truncated {
		ev += " (the log ends in an interrupted write)"
	}
	facts = append(facts, Fact{"evaluations", ev})
	if len(s.Population) > 0 {
		facts = append(facts, Fact{"population", fmt.Sprintf("%d members", len(s.Population))})
	}
	best := "none yet"
	if len(s.Best) > 0 {
		r := s.Best[0]
		best = fmt.Sprintf("%.2f%% (record %d, %s, %d params)", r.ValAccuracy, r.Index, r.Origin, r.Params)
	}
	facts = append(facts, Fact{"best val accuracy", best})
	final := "not run yet"
	if s.Dir != "" {
		final += " (einspace final)"
	}
	if f := s.Final; f != nil {
		final = fmt.Sprintf("%.2f%% (record %d retrained %d epochs on train+val)", f.Result.TestAccuracy, f.Best.Index, c.FinalEpochs)
		if f.Result.Failed() {
			final += " — failed: " + f.Result.FailureReason()
		}
	}
	return append(facts, Fact{"final test accuracy", final})
}

// StrategyText names the strategy and its seeds, e.g. "re seeded with resnet18".
func (c Config) StrategyText() string {
	if len(c.Seeds) == 0 {
		return string(c.Strategy)
	}
	return string(c.Strategy) + " seeded with " + strings.Join(c.Seeds, "+")
}

// BestColumns are the columns of the table of a summary's best architectures (BestRows).
var BestColumns = []string{"rank", "record", "val acc %", "train loss", "params", "MFLOPs", "seconds", "origin", "hash"}

// BestRows lays the best architectures out in BestColumns, best first.
func (s *Summary) BestRows() [][]string {
	rows := make([][]string, len(s.Best))
	for i, r := range s.Best {
		rows[i] = []string{fmt.Sprint(i + 1), fmt.Sprint(r.Index), fmt.Sprintf("%.2f", r.ValAccuracy), fmt.Sprintf("%.4f", r.TrainLoss),
			fmt.Sprint(r.Params), fmt.Sprintf("%.1f", float64(r.FLOPs)/1e6), fmt.Sprintf("%.1f", r.WallSeconds), r.Origin.String(),
			r.Hash[:min(12, len(r.Hash))]}
	}
	return rows
}

// SummaryOf summarises a search that ran in this process (it has no directory, final result or
// truncation to report).
func SummaryOf(h *History) *Summary {
	s := summaryOf(h.Config, h.Records)
	s.Population = h.Population
	return s
}

func summaryOf(cfg Config, records []Record) *Summary {
	s := &Summary{Config: cfg, Records: len(records), Failures: map[string]int{}}
	for _, r := range records {
		if r.Failed() {
			s.Failed++
			s.Failures[r.FailureReason()]++
		}
		if r.Counted {
			s.Counted++
		}
	}
	ranked := Ranked(records)
	s.Best = ranked[:min(len(ranked), SummaryTop)]
	return s
}

// Ranked lists the counted records (successes, by definition), the first of each architecture only, the
// best validation accuracy first and the earlier first among equals: the ranking that summaries and
// reports list the best architectures by. Its first record is BestSoFar's at the end.
func Ranked(records []Record) []Record {
	var ranked []Record
	seen := map[string]bool{}
	for _, r := range records {
		if r.Counted && !seen[r.Hash] {
			seen[r.Hash] = true
			ranked = append(ranked, r)
		}
	}
	sort.SliceStable(ranked, func(i, j int) bool { return ranked[i].ValAccuracy > ranked[j].ValAccuracy })
	return ranked
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
