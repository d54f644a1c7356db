package study

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/einspace-go/einspace/search"
)

// The folders of a results folder that are not datasets.
const (
	SeedCacheDir = "seed-cache"
	BaselineDir  = "baseline"
	// ProtocolFile is the hand-written description of the protocol, which reports include verbatim.
	ProtocolFile = "PROTOCOL.md"
)

// Study is a results folder read into memory: every dataset it holds (and the ones this project
// reproduces, present or not), and what in it was left aside.
type Study struct {
	Dir      string
	Datasets []*Dataset
	// Plan is the folder's PLAN (nil without one): the seeds each method is to run.
	Plan *Plan
	// Ignored lists what the folder holds that is not part of the layout (unknown folders), as notes.
	Ignored []string
}

// Dataset is everything about one dataset: the runs of each method, the baseline training of ResNet-18
// and the random-sampling distribution derived from the random-search runs.
type Dataset struct {
	Name    string // the folder's name: addnist, multnist
	Classes int    // from the runs' configurations, else the paper's (0: unknown)
	Methods []*MethodRuns
	// Seeds are the seed numbers of any run of the dataset, sorted: without a plan, every method is
	// expected to have them.
	Seeds    []int
	Baseline Baseline
	// Sampling is the validation accuracy of every counted evaluation of the random-search runs (search
	// protocol), against twice chance.
	Sampling Distribution
	// SamplingRuns and SamplingFailed are the random-search runs the distribution comes from and their failed
	// evaluations, which have no accuracy and are not in it.
	SamplingRuns, SamplingFailed int
}

// Title is the dataset's name as the paper writes it.
func (d *Dataset) Title() string { return DatasetTitle(d.Name) }

// Chance is the accuracy (%) of guessing, 100/classes, and NaN when the class count is unknown.
func (d *Dataset) Chance() float64 {
	if d.Classes <= 0 {
		return math.NaN()
	}
	return 100 / float64(d.Classes)
}

// Method returns the runs of method m (an empty MethodRuns when the folder has none).
func (d *Dataset) Method(m Method) *MethodRuns {
	for _, mr := range d.Methods {
		if mr.Method == m {
			return mr
		}
	}
	return &MethodRuns{Method: m}
}

// MethodRuns are the runs of one method on one dataset, one per seed.
type MethodRuns struct {
	Method Method
	Dir    string // results/<dataset>/<method>; empty when the folder does not exist
	Runs   []*Run // by seed number
	// Missing are the seed numbers the method is still to run: those the plan (PLAN) gives it that have no
	// run directory, or without a plan, those other methods of the dataset have and this one does not.
	Missing []int
	// Planned are the seed numbers the plan gives the method (nil without a plan).
	Planned []int
}

// Run is one search run directory, results/<dataset>/<method>/seed-<n>, read and summarised.
type Run struct {
	Seed int // the n of seed-<n>: runs of different methods with the same n are paired
	Dir  string
	// Started is false for a directory without config.json (nothing else is then read).
	Started   bool
	Config    search.Config
	Records   []search.Record
	Truncated bool                // the log ends in an incomplete line
	Final     *search.FinalResult // nil until the final training ran

	// Derived from the records.
	Counted, Failed int
	// Curve is the best validation accuracy so far after each counted evaluation (search.BestSoFar: counted,
	// successful records, in log order): Curve[k] is the best of the first k+1.
	Curve []float64
	Best  search.Record // the best record (valid when HasBest)
	// HasBest reports whether any counted evaluation succeeded.
	HasBest bool
	// SearchSeconds is the wall time of the evaluations this run actually trained: not the population copies
	// of a seed, and not seed trainings read from the cache (their cost was paid by whoever trained them).
	SearchSeconds float64
	// FinalSeconds is the final training's End-Start (0 before it ran).
	FinalSeconds float64
	// CachedSeeds counts seed trainings read from the seed cache.
	CachedSeeds int
	// SeedTrainings are the trainings of seed architectures in the log (origin seed:NAME), by seed name.
	SeedTrainings map[string]SeedTraining
}

// SeedTraining is the training of a seed architecture in a run's log (origin seed:NAME).
type SeedTraining struct {
	Index       int
	Hash        string // the seed architecture's hash
	ValAccuracy float64
	TrainSeed   uint64
	Cached      bool
}

// BestSeed names the seed architecture the run's best record is, if it is one: the best has a seed
// training's hash (the seed's own training, a population copy of it, or a child that mutated back to it).
// A seeded search whose best is its seed found nothing better than what it started from.
func (r *Run) BestSeed() (name string, ok bool) {
	if !r.HasBest {
		return "", false
	}
	for _, n := range slices.Sorted(maps.Keys(r.SeedTrainings)) {
		if r.SeedTrainings[n].Hash == r.Best.Hash {
			return n, true
		}
	}
	return "", false
}

// SearchDone reports whether the search spent its budget.
func (r *Run) SearchDone() bool { return r.Started && r.Counted >= r.Config.Budget }

// FinalDone reports whether the final training ran and succeeded.
func (r *Run) FinalDone() bool { return r.Final != nil && !r.Final.Result.Failed() }

// Finished reports whether the run is complete: search and final training.
func (r *Run) Finished() bool { return r.SearchDone() && r.FinalDone() }

// TestAccuracy is the final test accuracy (%), valid when FinalDone.
func (r *Run) TestAccuracy() float64 { return r.Final.Result.TestAccuracy }

// Status says where the run stands, in words: "finished", "search at 40 of 100 counted evaluations",
// "final training not run yet", ...
func (r *Run) Status() string {
	switch {
	case !r.Started:
		return "not started (no " + search.ConfigFile + ")"
	case !r.SearchDone():
		s := fmt.Sprintf("search at %d of %d counted evaluations", r.Counted, r.Config.Budget)
		if r.Truncated {
			s += " (its log ends in an interrupted write)"
		}
		return s
	case r.Final == nil && r.Config.FinalEpochs == 0:
		return "search done; no final training configured (final_epochs 0)"
	case r.Final == nil:
		return "search done; final training not run yet"
	case r.Final.Result.Failed():
		return "search done; final training failed: " + r.Final.Result.FailureReason()
	}
	return "finished"
}

// Hours converts seconds to hours.
func Hours(seconds float64) float64 { return seconds / 3600 }

// Finished are the runs that are complete.
func (m *MethodRuns) Finished() []*Run {
	var out []*Run
	for _, r := range m.Runs {
		if r.Finished() {
			out = append(out, r)
		}
	}
	return out
}

// Pending reports whether any of the method's expected runs has not finished (or not started).
func (m *MethodRuns) Pending() bool { return len(m.Missing) > 0 || len(m.Finished()) < len(m.Runs) }

// Run returns the run of seed n, or nil.
func (m *MethodRuns) Run(seed int) *Run {
	for _, r := range m.Runs {
		if r.Seed == seed {
			return r
		}
	}
	return nil
}

// TestAccuracy describes the final test accuracies of the finished runs.
func (m *MethodRuns) TestAccuracy() Stats {
	var xs []float64
	for _, r := range m.Finished() {
		xs = append(xs, r.TestAccuracy())
	}
	return Describe(xs)
}

// BestValAccuracy describes the best validation accuracies of the runs whose search is done.
func (m *MethodRuns) BestValAccuracy() Stats {
	var xs []float64
	for _, r := range m.Runs {
		if r.SearchDone() && r.HasBest {
			xs = append(xs, r.Best.ValAccuracy)
		}
	}
	return Describe(xs)
}

// SearchSeconds and FinalSeconds sum the compute of the method's runs (see Run).
func (m *MethodRuns) SearchSeconds() float64 {
	s := 0.0
	for _, r := range m.Runs {
		s += r.SearchSeconds
	}
	return s
}

// FinalSeconds sums the final trainings' wall times.
func (m *MethodRuns) FinalSeconds() float64 {
	s := 0.0
	for _, r := range m.Runs {
		s += r.FinalSeconds
	}
	return s
}

// seedNumbers are the seed numbers the method has runs of or is to run (Missing).
func (m *MethodRuns) seedNumbers() []int {
	ns := slices.Clone(m.Missing)
	for _, r := range m.Runs {
		ns = append(ns, r.Seed)
	}
	return ns
}

// Expected is the number of seeds the method should have: its own and the ones it misses.
func (m *MethodRuns) Expected() int { return len(m.Runs) + len(m.Missing) }

// Status says how far the method is, in words: "not run", "3 of 3 seeds finished", or "2 of 3 seeds
// finished; seed 2: search at 40 of 100 counted evaluations".
func (m *MethodRuns) Status() string {
	if len(m.Runs) == 0 && len(m.Planned) == 0 {
		return "not run"
	}
	done := len(m.Finished())
	s := fmt.Sprintf("%d of %s finished", done, plural(m.Expected(), "seed", "seeds"))
	var open []string
	for _, r := range m.Runs {
		if !r.Finished() {
			open = append(open, fmt.Sprintf("seed %d: %s", r.Seed, r.Status()))
		}
	}
	for _, n := range m.Missing {
		open = append(open, fmt.Sprintf("seed %d: not started", n))
	}
	if len(open) > 0 {
		s += "; " + strings.Join(open, "; ")
	}
	return s
}

// ProgressPoint is the best-so-far validation accuracy of a method's runs after Evaluation counted
// evaluations: the mean and range over the N runs that have reached it.
type ProgressPoint struct {
	Evaluation     int // 1-based
	N              int
	Mean, Min, Max float64
}

// Progress is the method's best-so-far curve over seeds: after each counted evaluation, the mean and
// range of the runs' curves (Run.Curve) that reach it. Unfinished runs contribute as far as they go.
func (m *MethodRuns) Progress() []ProgressPoint {
	longest := 0
	for _, r := range m.Runs {
		longest = max(longest, len(r.Curve))
	}
	points := make([]ProgressPoint, 0, longest)
	for k := range longest {
		p := ProgressPoint{Evaluation: k + 1, Min: math.Inf(1), Max: math.Inf(-1)}
		sum := 0.0
		for _, r := range m.Runs {
			if k < len(r.Curve) {
				v := r.Curve[k]
				p.N++
				sum += v
				p.Min, p.Max = min(p.Min, v), max(p.Max, v)
			}
		}
		p.Mean = sum / float64(p.N)
		points = append(points, p)
	}
	return points
}

// Baseline is ResNet-18 trained alone with the paper's 8-epoch search protocol on the full dataset
// (results/baseline/<dataset>/): the training record train.json (models.RunRecord) and result.json, the
// line `einspace train --format json` printed at the end.
type Baseline struct {
	Dir    string
	Record *BaselineRecord // nil when train.json is absent
	Result *BaselineResult // nil when result.json is absent
}

// BaselineRecord is the part of a models.RunRecord (train.json) a report reads.
type BaselineRecord struct {
	Arch      string          `json:"arch"`
	Data      string          `json:"data"`
	Epochs    int             `json:"epochs"`
	BatchSize int             `json:"batch_size"`
	LR        float64         `json:"lr"`
	Completed []BaselineEpoch `json:"completed"`
}

// BaselineEpoch is the part of a models.EpochMetrics a report reads (its JSON has no tags: the field names).
type BaselineEpoch struct {
	Epoch       int
	ValAccuracy float64 // a fraction
	Duration    time.Duration
}

// BaselineResult is `einspace train --format json`'s line: accuracies in percent.
type BaselineResult struct {
	ValAccuracy  float64 `json:"val_accuracy"`
	TestAccuracy float64 `json:"test_accuracy"`
	Seconds      float64 `json:"seconds"`
	Params       int64   `json:"params"`
	Epochs       int     `json:"epochs"`
}

// Present reports whether any of the baseline's files exists.
func (b Baseline) Present() bool { return b.Record != nil || b.Result != nil }

// Done reports whether the baseline finished: its result line exists, or its record completed every epoch.
func (b Baseline) Done() bool {
	return b.Result != nil || (b.Record != nil && b.Record.Epochs > 0 && len(b.Record.Completed) >= b.Record.Epochs)
}

// ValAccuracy is the validation accuracy (%) after the last epoch, and false before the training is done.
func (b Baseline) ValAccuracy() (float64, bool) {
	switch {
	case b.Result != nil:
		return b.Result.ValAccuracy, true
	case b.Done():
		return 100 * b.Record.Completed[len(b.Record.Completed)-1].ValAccuracy, true
	}
	return 0, false
}

// Seconds is the training's wall time: the result line's, or the sum of the recorded epochs'.
func (b Baseline) Seconds() float64 {
	if b.Result != nil {
		return b.Result.Seconds
	}
	s := 0.0
	if b.Record != nil {
		for _, e := range b.Record.Completed {
			s += e.Duration.Seconds()
		}
	}
	return s
}

// Status says where the baseline stands, in words.
func (b Baseline) Status() string {
	switch {
	case !b.Present():
		return "not run yet"
	case b.Result != nil:
		return "finished"
	case b.Done():
		return fmt.Sprintf("trained %d of %d epochs; result.json missing (no test accuracy)", len(b.Record.Completed), b.Record.Epochs)
	}
	return fmt.Sprintf("training: %d of %d epochs done", len(b.Record.Completed), b.Record.Epochs)
}

// ResNet18Seed describes the validation accuracy of the ResNet-18 seed trainings in the dataset's runs
// (search protocol), each distinct training (by its training seed) once.
func (d *Dataset) ResNet18Seed() Stats {
	seen := map[uint64]bool{}
	var xs []float64
	for _, m := range d.Methods {
		for _, r := range m.Runs {
			if s, ok := r.SeedTrainings["resnet18"]; ok && !seen[s.TrainSeed] {
				seen[s.TrainSeed] = true
				xs = append(xs, s.ValAccuracy)
			}
		}
	}
	return Describe(xs)
}

// Read reads a results folder:
//
//	DIR/<dataset>/<method>/seed-<n>/   search run directories (config.json, evaluations.jsonl, final.json)
//	DIR/baseline/<dataset>/            train.json and result.json of ResNet-18 trained alone
//	DIR/seed-cache/                    seed trainings shared between searches (not read)
//
// Any subset may be present: a missing run or file is reported by the model, not as an error. A folder
// that does not exist, and a file that exists but does not parse, are errors naming the file (and the
// line, for a malformed line).
func Read(dir string) (*Study, error) {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("results folder %s does not exist: %w", dir, err)
	case err != nil:
		return nil, fmt.Errorf("results folder: %w", err)
	case !info.IsDir():
		return nil, fmt.Errorf("results folder %s is a file, not a folder", dir)
	}
	s := &Study{Dir: dir}
	if s.Plan, err = readPlan(dir); err != nil {
		return nil, err
	}
	names := slices.Clone(Datasets)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("results folder: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case !e.IsDir() || strings.HasPrefix(name, ".") || name == SeedCacheDir || name == BaselineDir || slices.Contains(names, name):
		case holdsMethod(filepath.Join(dir, name)):
			names = append(names, name)
		default:
			s.Ignored = append(s.Ignored, fmt.Sprintf("folder %s: not a dataset (no method folder: %s)", filepath.Join(dir, name), methodList()))
		}
	}
	for _, name := range s.Plan.datasets() {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	for _, name := range names {
		d, err := readDataset(dir, name, s.Plan, &s.Ignored)
		if err != nil {
			return nil, err
		}
		s.Datasets = append(s.Datasets, d)
	}
	return s, nil
}

// Dataset returns the dataset of the given name, or nil.
func (s *Study) Dataset(name string) *Dataset {
	for _, d := range s.Datasets {
		if d.Name == name {
			return d
		}
	}
	return nil
}

func methodList() string {
	names := make([]string, len(RunMethods))
	for i, m := range RunMethods {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}

func holdsMethod(dir string) bool {
	for _, m := range RunMethods {
		if info, err := os.Stat(filepath.Join(dir, string(m))); err == nil && info.IsDir() {
			return true
		}
	}
	return false
}

func readDataset(root, name string, plan *Plan, ignored *[]string) (*Dataset, error) {
	d := &Dataset{Name: name}
	seeds := map[int]bool{}
	for _, m := range RunMethods {
		mr := &MethodRuns{Method: m}
		dir := filepath.Join(root, name, string(m))
		entries, err := os.ReadDir(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			d.Methods = append(d.Methods, mr)
			continue
		case err != nil:
			return nil, fmt.Errorf("read %s: %w", dir, err)
		}
		mr.Dir = dir
		for _, e := range entries {
			n, ok := seedNumber(e.Name())
			if !e.IsDir() || !ok {
				*ignored = append(*ignored, fmt.Sprintf("%s: not a run directory (seed-<n>)", filepath.Join(dir, e.Name())))
				continue
			}
			r, err := readRun(filepath.Join(dir, e.Name()), n)
			if err != nil {
				return nil, err
			}
			mr.Runs = append(mr.Runs, r)
			seeds[n] = true
		}
		sort.Slice(mr.Runs, func(i, j int) bool { return mr.Runs[i].Seed < mr.Runs[j].Seed })
		d.Methods = append(d.Methods, mr)
	}
	for n := range seeds {
		d.Seeds = append(d.Seeds, n)
	}
	slices.Sort(d.Seeds)
	var sampled []float64
	for _, mr := range d.Methods {
		// The seeds the method is still to run: the plan's, or without a plan, the other methods'.
		expected := d.Seeds
		if plan != nil {
			mr.Planned = plan.Seeds[name][mr.Method]
			expected = mr.Planned
		}
		for _, n := range expected {
			if mr.Run(n) == nil {
				mr.Missing = append(mr.Missing, n)
			}
		}
		for _, r := range mr.Runs {
			if d.Classes == 0 && r.Started && r.Config.Classes > 0 {
				d.Classes = r.Config.Classes
			}
		}
		if mr.Method != RandomSearch {
			continue
		}
		for _, r := range mr.Runs {
			if !r.Started {
				continue
			}
			d.SamplingRuns++
			for _, rec := range r.Records {
				switch {
				case rec.Counted && !rec.Failed():
					sampled = append(sampled, rec.ValAccuracy)
				case rec.Failed():
					d.SamplingFailed++
				}
			}
		}
	}
	if d.Classes == 0 {
		d.Classes = Paper[name].Classes
	}
	d.Sampling = NewDistribution(sampled, 2*d.Chance())
	var err error
	if d.Baseline, err = readBaseline(filepath.Join(root, BaselineDir, name)); err != nil {
		return nil, err
	}
	return d, nil
}

// seedNumber parses a run directory's name, seed-<n>.
func seedNumber(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "seed-")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n >= 0
}

// readRun reads a run directory and derives its summary.
func readRun(dir string, seed int) (*Run, error) {
	r := &Run{Seed: seed, Dir: dir, SeedTrainings: map[string]SeedTraining{}}
	cfgPath := filepath.Join(dir, search.ConfigFile)
	if _, err := os.Stat(cfgPath); errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err := decodeFile(cfgPath, &r.Config, true); err != nil {
		return nil, err
	}
	r.Started = true
	var err error
	if r.Records, r.Truncated, err = search.ReadRecords(dir); err != nil {
		return nil, err
	}
	finalPath := filepath.Join(dir, search.FinalFile)
	if _, err := os.Stat(finalPath); err == nil {
		r.Final = &search.FinalResult{}
		if err := decodeFile(finalPath, r.Final, false); err != nil {
			return nil, err
		}
		if !r.Final.Start.IsZero() && r.Final.End.After(r.Final.Start) {
			r.FinalSeconds = r.Final.End.Sub(r.Final.Start).Seconds()
		}
	}
	var best search.BestSoFar
	for _, rec := range r.Records {
		if rec.Failed() {
			r.Failed++
		}
		if rec.Origin.Kind == search.SeedTraining {
			r.SeedTrainings[rec.Origin.Seed] = SeedTraining{Index: rec.Index, Hash: rec.Hash, ValAccuracy: rec.ValAccuracy, TrainSeed: rec.TrainSeed, Cached: rec.Cached}
			if rec.Cached {
				r.CachedSeeds++
			}
		}
		if !rec.IsCopy() && !rec.Cached {
			r.SearchSeconds += rec.Seconds
		}
		best.Add(rec)
		if rec.Counted {
			r.Counted++
			if b, ok := best.Best(); ok {
				r.Curve = append(r.Curve, b.ValAccuracy)
			}
		}
	}
	r.Best, r.HasBest = best.Best()
	return r, nil
}

func readBaseline(dir string) (Baseline, error) {
	b := Baseline{Dir: dir}
	train, result := filepath.Join(dir, "train.json"), filepath.Join(dir, "result.json")
	if _, err := os.Stat(train); err == nil {
		b.Record = &BaselineRecord{}
		if err := decodeFile(train, b.Record, false); err != nil {
			return b, err
		}
	}
	if _, err := os.Stat(result); err == nil {
		b.Result = &BaselineResult{}
		if err := decodeFile(result, b.Result, false); err != nil {
			return b, err
		}
	}
	return b, nil
}

// decodeFile decodes the JSON file at path into v (refusing unknown fields when strict); an error names the
// file and, where the decoder tells, the line and column.
func decodeFile(path string, v any, strict bool) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s:1:1: empty file, want a JSON object", path)
		}
		return fmt.Errorf("%s: malformed: %w", position(path, b, err), err)
	}
	return nil
}

// position is path:line:column of a JSON decoding error, as far as it can be placed.
func position(path string, b []byte, err error) string {
	offset := int64(-1)
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		offset = syntax.Offset - 1 // the offending byte was read
	case errors.As(err, &typ):
		offset = typ.Offset
	case errors.Is(err, io.ErrUnexpectedEOF):
		offset = int64(len(b))
	default:
		// an unknown field: the decoder gives no offset, so find the key's first occurrence
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			offset = int64(bytes.Index(b, []byte(field)))
		}
	}
	if offset < 0 || offset > int64(len(b)) {
		return path
	}
	before := b[:offset]
	line := 1 + bytes.Count(before, []byte("\n"))
	col := int(offset) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("%s:%d:%d", path, line, col)
}
