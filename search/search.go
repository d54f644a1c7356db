package search

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"github.com/einspace-go/einspace/grammar"
)

// EventKind says what an Event reports.
type EventKind int

const (
	// EvaluationFinished: a record was appended to the log (or, with Replayed, read back from it).
	EvaluationFinished EventKind = iota
	// NewBest: a counted record beat every earlier one on validation accuracy.
	NewBest
)

// Event is something that happened in a search.
type Event struct {
	Kind     EventKind
	Record   Record // the finished evaluation or the new best
	Counted  int    // evaluations counted toward the budget so far
	Budget   int
	Replayed bool // the record was read back from the log of an earlier run, not evaluated now
}

// Listener receives events. It is called from the goroutine running the search, in order, and should
// return quickly.
type Listener func(Event)

// Options are the parts of a run that do not change its decisions.
type Options struct {
	Listener Listener
	// Logf reports unusual but handled situations (a dropped incomplete log line). Nil: log.Printf.
	Logf func(format string, args ...any)
}

// History is the outcome of a search: every record, in order, and the final population.
type History struct {
	Config     Config
	Records    []Record
	Population []int // record indices of the population, oldest first (empty for random search)
	Counted    int   // records counted toward the budget
}

// Best is the counted, successful record with the highest validation accuracy (the earliest among
// equals), and false when there is none.
func (h *History) Best() (Record, bool) { return bestRecord(h.Records) }

func bestRecord(records []Record) (Record, bool) {
	best := -1
	for i, r := range records {
		if r.Counted && !r.Failed() && (best < 0 || r.ValAccuracy > records[best].ValAccuracy) {
			best = i
		}
	}
	if best < 0 {
		return Record{}, false
	}
	return records[best], true
}

// Run runs the search configured by cfg in the run directory dir, evaluating with ev, and returns its
// history once the budget is spent.
//
// A new directory gets config.json and an empty evaluations.jsonl. A directory that already holds a run
// of the same configuration is resumed: its records are replayed through the same decision procedure
// (checking that each one is what the configuration would have produced), evaluations that were in
// flight when it stopped are submitted again with the same job IDs, and the search goes on. Because
// every random decision of evaluation i comes from PCG(cfg.Seed, i) and the population is rebuilt by
// replaying the records, a resumed run ends exactly where an uninterrupted one would, given a
// deterministic evaluator. A directory holding a different configuration is refused.
func Run(ctx context.Context, dir string, cfg Config, ev Evaluator, opts Options) (*History, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if ev == nil {
		return nil, fmt.Errorf("search: no evaluator")
	}
	logf := opts.Logf
	if logf == nil {
		logf = log.Printf
	}
	if err := prepareDir(dir, cfg); err != nil {
		return nil, err
	}
	runLog, logged, err := openRunLog(dir, logf)
	if err != nil {
		return nil, err
	}
	defer runLog.close()

	e, err := newEngine(cfg)
	if err != nil {
		return nil, err
	}
	emit := func(ev Event) {
		if opts.Listener != nil {
			opts.Listener(ev)
		}
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var pending []*slot
	for {
		if err := ctx.Err(); err != nil {
			return e.history(), fmt.Errorf("search stopped after %d records: %w", len(e.records), err)
		}
		for len(pending) < cfg.inFlight() {
			p := e.plan()
			if p == nil {
				break
			}
			s := &slot{plan: p, done: make(chan struct{})}
			switch {
			case p.index < len(logged):
				rec := logged[p.index]
				if err := p.matches(rec); err != nil {
					return e.history(), fmt.Errorf("resume %s: %s line %d: %w", dir, EvaluationsFile, p.index+1, err)
				}
				s.logged = &rec
				close(s.done)
			case p.copyOf >= 0 || p.failure != "":
				s.start, s.end = time.Now(), time.Now()
				close(s.done)
			default:
				wg.Add(1)
				go func(job Job) {
					defer wg.Done()
					defer close(s.done)
					s.start = time.Now()
					s.result, s.err = evaluateSafely(ctx, ev, job)
					s.end = time.Now()
				}(e.job(p))
			}
			pending = append(pending, s)
		}
		if len(pending) == 0 {
			break
		}
		head := pending[0]
		select {
		case <-head.done:
		case <-ctx.Done():
			return e.history(), fmt.Errorf("search stopped after %d records: %w", len(e.records), ctx.Err())
		}
		pending = pending[1:]
		if head.err != nil {
			return e.history(), fmt.Errorf("evaluation %d (job %s): %w", head.plan.index, e.jobID(head.plan.index), head.err)
		}
		rec, replayed := e.recordOf(head), head.logged != nil
		if !replayed {
			if err := runLog.append(rec); err != nil {
				return e.history(), err
			}
		}
		newBest, err := e.commit(rec)
		emit(Event{Kind: EvaluationFinished, Record: rec, Counted: e.counted, Budget: cfg.Budget, Replayed: replayed})
		if newBest {
			emit(Event{Kind: NewBest, Record: rec, Counted: e.counted, Budget: cfg.Budget, Replayed: replayed})
		}
		if err != nil {
			return e.history(), err
		}
	}
	if len(logged) > len(e.records) {
		return e.history(), fmt.Errorf("resume %s: the log holds %d records but the configuration plans only %d", dir, len(logged), len(e.records))
	}
	return e.history(), nil
}

// evaluateSafely turns a panic of an in-process evaluator into a failed result.
func evaluateSafely(ctx context.Context, ev Evaluator, job Job) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = Result{Failure: fmt.Sprintf("panic: %v\n%s", p, debug.Stack())}, nil
		}
	}()
	return ev.Evaluate(ctx, job)
}

// plan is the decision for one evaluation, taken when it is submitted.
type plan struct {
	index      int
	origin     string
	arch       *grammar.Arch // nil when generation failed
	text, hash string
	parent     int // record index, -1 for none
	parentHash string
	copyOf     int  // for a copy: the seed's training record; otherwise -1
	countable  bool // counts toward the budget if it succeeds
	insert     bool // enters the population if it succeeds
	initRandom bool // a random member of the initial population
	seedName   string
	failure    string // generation failed: no evaluation
	trainSeed  uint64
}

// matches checks a logged record against the plan the configuration makes for its index.
func (p *plan) matches(r Record) error {
	if r.Origin != p.origin || r.Hash != p.hash || r.ParentIndex != p.parent {
		return fmt.Errorf("logged evaluation %d is %s %s (parent %d) but this configuration plans %s %s (parent %d): the log was written by another configuration or version",
			r.Index, r.Origin, r.Hash, r.ParentIndex, p.origin, p.hash, p.parent)
	}
	return nil
}

type slot struct {
	plan       *plan
	done       chan struct{}
	result     Result
	err        error
	start, end time.Time
	logged     *Record
}

// engine holds the state of the search: the records so far and the decisions in flight.
type engine struct {
	cfg   Config
	g     *grammar.Grammar
	input grammar.Shape
	runID string
	seeds []string // distinct seed names

	records    []Record
	population []int                 // record indices, oldest first
	archs      map[int]*grammar.Arch // architectures of the population members
	counted    int
	best       int
	planned    int // plans made (the next plan's index)

	pendingCountable int
	seedsPlanned     int
	seedPlan         map[string]int // seed name -> index of its training
	copiesPlanned    int
	initInserted     int
	initPending      int
	seen             map[string]bool
	failuresInARow   int
}

func newEngine(cfg Config) (*engine, error) {
	input, err := cfg.InputShape()
	if err != nil {
		return nil, err
	}
	return &engine{
		cfg: cfg, g: cfg.Grammar.Grammar(), input: input, runID: cfg.RunID(), seeds: cfg.distinctSeeds(),
		archs: map[int]*grammar.Arch{}, best: -1, seedPlan: map[string]int{}, seen: map[string]bool{},
	}, nil
}

func (e *engine) jobID(index int) string { return fmt.Sprintf("%s-%06d", e.runID, index) }

// rng is the generator of evaluation index's decisions.
func (e *engine) rng(index int) *rand.Rand { return rand.New(rand.NewPCG(e.cfg.Seed, uint64(index))) }

// trainSeed is evaluation index's training seed, independent of its decisions.
func (e *engine) trainSeed(index int) uint64 {
	return rand.New(rand.NewPCG(e.cfg.Seed^0x9e3779b97f4a7c15, uint64(index))).Uint64()
}

func (e *engine) job(p *plan) Job {
	return Job{
		ID: e.jobID(p.index), Arch: p.text, Input: e.cfg.Input, Classes: e.cfg.Classes, Data: e.cfg.Data,
		Budget: e.cfg.Train, TrainSeed: p.trainSeed,
	}
}

// plan decides the next evaluation, or returns nil when none can be submitted now: the budget is
// covered by the counted and pending evaluations, or mutations wait for the initial population.
func (e *engine) plan() *plan {
	if e.counted+e.pendingCountable >= e.cfg.Budget {
		return nil
	}
	p := &plan{index: e.planned, parent: -1, copyOf: -1, trainSeed: e.trainSeed(e.planned)}
	r := e.rng(p.index)
	switch {
	case e.cfg.Strategy == RandomSearch:
		p.origin, p.countable = OriginRandom, true
		e.generate(p, func() (*grammar.Arch, error) { return e.g.Sample(r, e.input) })
	case e.seedsPlanned < len(e.seeds):
		name := e.seeds[e.seedsPlanned]
		e.seedsPlanned++
		e.seedPlan[name] = p.index
		p.origin, p.seedName = originSeed+name, name
		a, err := grammar.SeedArch(name, e.input)
		p.setArch(a, err)
		e.seen[p.hash] = true
	case len(e.cfg.Seeds) > 0 && e.copiesPlanned < e.cfg.Population:
		name := e.cfg.Seeds[e.copiesPlanned%len(e.cfg.Seeds)]
		e.copiesPlanned++
		a, err := grammar.SeedArch(name, e.input)
		p.setArch(a, err)
		p.origin, p.seedName, p.countable, p.insert = originCopy+name, name, true, true
		p.copyOf, p.parent, p.parentHash = e.seedPlan[name], e.seedPlan[name], p.hash
	case len(e.cfg.Seeds) == 0 && e.initInserted+e.initPending < e.cfg.Population:
		p.origin, p.countable, p.insert, p.initRandom = OriginRandom, true, true, true
		e.initPending++
		e.generate(p, func() (*grammar.Arch, error) { return e.g.Sample(r, e.input) })
	case len(e.population) < e.cfg.Population:
		return nil // mutations wait until the initial population is recorded
	default:
		parent := e.tournament(r)
		p.origin, p.countable, p.insert = OriginMutation, true, e.cfg.Strategy == RegularisedEvolution
		p.parent, p.parentHash = parent, e.records[parent].Hash
		e.generate(p, func() (*grammar.Arch, error) { return e.g.Mutate(r, e.archs[parent]) })
	}
	if p.countable {
		e.pendingCountable++
	}
	e.planned++
	return p
}

// tournament draws Tournament members with replacement and returns the best on validation accuracy (the
// first drawn among equals).
func (e *engine) tournament(r *rand.Rand) int {
	best := -1
	for range e.cfg.Tournament {
		c := e.population[r.IntN(len(e.population))]
		if best < 0 || e.records[c].ValAccuracy > e.records[best].ValAccuracy {
			best = c
		}
	}
	return best
}

// generate draws an architecture, again (up to 100 times) while Dedup finds it already generated.
func (e *engine) generate(p *plan, draw func() (*grammar.Arch, error)) {
	for try := 0; ; try++ {
		a, err := draw()
		if err != nil || !e.cfg.Dedup || !e.seen[a.Hash()] || try == 99 {
			p.setArch(a, err)
			break
		}
	}
	if p.arch != nil {
		e.seen[p.hash] = true
	}
}

func (p *plan) setArch(a *grammar.Arch, err error) {
	if err != nil {
		p.failure = "generate architecture: " + err.Error()
		return
	}
	p.arch, p.text, p.hash = a, a.String(), a.Hash()
}

// recordOf turns a finished slot into its record.
func (e *engine) recordOf(s *slot) Record {
	if s.logged != nil {
		return *s.logged
	}
	p := s.plan
	rec := Record{
		Index: p.index, JobID: e.jobID(p.index), Origin: p.origin, Arch: p.text, Hash: p.hash,
		ParentIndex: p.parent, ParentHash: p.parentHash, SearchSeed: e.cfg.Seed, TrainSeed: p.trainSeed,
		Start: s.start.UTC(), End: s.end.UTC(), Seconds: s.end.Sub(s.start).Seconds(),
	}
	switch {
	case p.copyOf >= 0:
		seed := e.records[p.copyOf]
		rec.Result, rec.TrainSeed = seed.Result, seed.TrainSeed
	case p.failure != "":
		rec.Result = Result{Failure: p.failure}
	default:
		rec.Result = s.result.Finite()
		if rec.Params == 0 && rec.FLOPs == 0 && p.arch != nil {
			st := p.arch.Stats()
			rec.Params, rec.FLOPs = st.Params, st.FLOPs
		}
	}
	rec.Counted = p.countable && !rec.Failed()
	return rec
}

// commit applies a record, in index order, to the state, and says whether it is a new best.
func (e *engine) commit(rec Record) (newBest bool, err error) {
	p := rec.Index
	e.records = append(e.records, rec)
	plan := e.planOf(rec)
	if plan.countable {
		e.pendingCountable--
	}
	if plan.initRandom {
		e.initPending--
	}
	if rec.Failed() {
		e.failuresInARow++
		if plan.seed {
			return false, fmt.Errorf("seed architecture %s failed its evaluation (record %d): %s", rec.Origin[len(originSeed):], p, rec.Failure)
		}
		if e.failuresInARow >= e.cfg.maxConsecutiveFailures() {
			return false, fmt.Errorf("search stopped: %d evaluations in a row failed, the last (record %d): %s", e.failuresInARow, p, rec.Failure)
		}
		return false, nil
	}
	e.failuresInARow = 0
	if !rec.Counted {
		return false, nil
	}
	e.counted++
	if e.best < 0 || rec.ValAccuracy > e.records[e.best].ValAccuracy {
		e.best, newBest = p, true
	}
	if plan.insert {
		if plan.initRandom {
			e.initInserted++
		}
		a, err := e.archOf(rec)
		if err != nil {
			return newBest, err
		}
		e.population = append(e.population, p)
		e.archs[p] = a
		for len(e.population) > e.cfg.Population {
			delete(e.archs, e.population[0])
			e.population = e.population[1:]
		}
	}
	return newBest, nil
}

// planFacts are what commit needs to know of a record's plan; they follow from the origin.
type planFacts struct{ countable, insert, initRandom, seed bool }

func (e *engine) planOf(rec Record) planFacts {
	switch {
	case rec.Origin == OriginRandom:
		init := e.cfg.Strategy != RandomSearch
		return planFacts{countable: true, insert: init, initRandom: init}
	case rec.Origin == OriginMutation:
		return planFacts{countable: true, insert: e.cfg.Strategy == RegularisedEvolution}
	case rec.IsCopy():
		return planFacts{countable: true, insert: true}
	default:
		return planFacts{seed: true}
	}
}

// archOf parses a record's architecture (population members are kept parsed for mutation). Parsing
// the logged text, rather than keeping the generated tree, makes a fresh run and a resumed one mutate
// exactly the same trees.
func (e *engine) archOf(rec Record) (*grammar.Arch, error) {
	root, err := grammar.Parse(rec.Arch)
	if err != nil {
		return nil, fmt.Errorf("record %d: %w", rec.Index, err)
	}
	a, err := e.g.Infer(root, e.input)
	if err != nil {
		return nil, fmt.Errorf("record %d: %w", rec.Index, err)
	}
	return a, nil
}

func (e *engine) history() *History {
	return &History{
		Config: e.cfg, Records: append([]Record(nil), e.records...),
		Population: append([]int(nil), e.population...), Counted: e.counted,
	}
}
