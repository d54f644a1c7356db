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
	// SeedCache, when its Dir is set, answers the trainings of seed architectures that an earlier search
	// (or an earlier attempt at this one) already ran with the same data, protocol and training seed,
	// and keeps the new ones.
	SeedCache SeedCache
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
func (h *History) Best() (Record, bool) { return bestOf(h.Records) }

func bestOf(records []Record) (Record, bool) {
	var b BestSoFar
	for _, r := range records {
		b.Add(r)
	}
	return b.Best()
}

// BestSoFar follows the best record of a search as its records arrive in order: the counted, successful
// record with the highest validation accuracy, the earliest among equals. The search's NewBest events,
// History.Best and the final training all choose by it. The zero value has seen no record.
type BestSoFar struct {
	best Record
	ok   bool
}

// Add considers the next record and reports whether it is the new best.
func (b *BestSoFar) Add(r Record) bool {
	if !r.Counted || r.Failed() || (b.ok && r.ValAccuracy <= b.best.ValAccuracy) {
		return false
	}
	b.best, b.ok = r, true
	return true
}

// Best is the best record so far, and false before the first counted success.
func (b *BestSoFar) Best() (Record, bool) { return b.best, b.ok }

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

	st, err := newState(cfg)
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
			return st.history(), fmt.Errorf("search stopped after %d records: %w", len(st.records), err)
		}
		for len(pending) < cfg.inFlight() {
			p := st.plan()
			if p == nil {
				break
			}
			s, err := st.submit(ctx, &wg, ev, p, logged, opts.SeedCache, logf)
			if err != nil {
				return st.history(), fmt.Errorf("resume %s: %s line %d: %w", dir, EvaluationsFile, p.index+1, err)
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
			return st.history(), fmt.Errorf("search stopped after %d records: %w", len(st.records), ctx.Err())
		}
		pending = pending[1:]
		if head.err != nil {
			return st.history(), fmt.Errorf("evaluation %d (job %s): %w", head.plan.index, st.jobID(head.plan.index), head.err)
		}
		rec, replayed := st.recordOf(head), head.logged != nil
		if head.plan.Origin.Kind == SeedTraining && !replayed && !rec.Cached {
			if err := opts.SeedCache.Put(st.job(head.plan), head.result); err != nil {
				logf("search: %v (the training is in the log all the same)", err)
			}
		}
		if !replayed {
			if err := runLog.append(rec); err != nil {
				return st.history(), err
			}
		}
		newBest, err := st.commit(head.plan, rec)
		emit(Event{Kind: EvaluationFinished, Record: rec, Counted: st.counted, Budget: cfg.Budget, Replayed: replayed})
		if newBest {
			emit(Event{Kind: NewBest, Record: rec, Counted: st.counted, Budget: cfg.Budget, Replayed: replayed})
		}
		if err != nil {
			return st.history(), err
		}
	}
	if len(logged) > len(st.records) {
		return st.history(), fmt.Errorf("resume %s: the log holds %d records but the configuration plans only %d", dir, len(logged), len(st.records))
	}
	return st.history(), nil
}

// submit starts the evaluation p plans, and returns its slot, done when the result is there. A plan the
// log already answers (a resumed run) takes the logged record, which must be the one it plans; a copy,
// or an architecture that could not be generated, needs no evaluation; a seed training the cache knows
// takes the cached result.
func (st *State) submit(ctx context.Context, wg *sync.WaitGroup, ev Evaluator, p *plan, logged []Record, cache SeedCache, logf func(string, ...any)) (*slot, error) {
	s := &slot{plan: p, done: make(chan struct{})}
	switch {
	case p.index < len(logged):
		rec := logged[p.index]
		if err := p.matches(rec); err != nil {
			return nil, err
		}
		s.logged = &rec
		close(s.done)
	case p.Copy || p.failure != "":
		s.start, s.end = time.Now(), time.Now()
		close(s.done)
	case p.Origin.Kind == SeedTraining && st.cachedSeed(s, p, cache, logf):
		close(s.done)
	default:
		wg.Add(1)
		go func(job Job) {
			defer wg.Done()
			defer close(s.done)
			s.start = time.Now()
			s.result, s.err = EvaluateSafely(ctx, ev, job)
			s.end = time.Now()
		}(st.job(p))
	}
	return s, nil
}

// cachedSeed fills the slot of a seed training from the cache and reports whether it could; a cache that
// cannot be read is logged and the seed trained.
func (st *State) cachedSeed(s *slot, p *plan, cache SeedCache, logf func(string, ...any)) bool {
	res, ok, err := cache.Get(st.job(p))
	if err != nil {
		logf("search: %v: training the seed again", err)
	}
	if !ok {
		return false
	}
	s.start, s.end = time.Now(), time.Now()
	s.result, s.cached = res, true
	return true
}

// EvaluateSafely runs ev on job and turns a panic of an in-process evaluator into a failed result, so
// that one architecture that crashes its evaluator costs one evaluation, not the search or the worker.
func EvaluateSafely(ctx context.Context, ev Evaluator, job Job) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = Result{Failure: fmt.Sprintf("panic: %v\n%s", p, debug.Stack())}, nil
		}
	}()
	return ev.Evaluate(ctx, job)
}

// plan is a proposal made concrete when it is submitted: its index, architecture and training seed.
type plan struct {
	Proposal
	index      int
	arch       *grammar.Arch // nil when generation failed
	text, hash string
	parentHash string
	mateHash   string
	failure    string // generation failed: no evaluation
	trainSeed  uint64
}

// parent is the proposal's first parent, -1 for none; mate its second, -1 for none.
func (p *Proposal) parent() int { return p.nth(0) }
func (p *Proposal) mate() int   { return p.nth(1) }

func (p *Proposal) nth(i int) int {
	if i < len(p.Parents) {
		return p.Parents[i]
	}
	return -1
}

// matches checks a logged record against the plan the configuration makes for its index.
func (p *plan) matches(r Record) error {
	if r.Origin != p.Origin || r.Hash != p.hash || r.ParentIndex != p.parent() || r.mate() != p.mate() {
		return fmt.Errorf("logged evaluation %d is %s %s (parent %d) but this configuration plans %s %s (parent %d): the log was written by another configuration or version",
			r.Index, r.Origin, r.Hash, r.ParentIndex, p.Origin, p.hash, p.parent())
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
	cached     bool // the result of a seed training came from the SeedCache
}

func newState(cfg Config) (*State, error) {
	input, err := cfg.InputShape()
	if err != nil {
		return nil, err
	}
	strategy, err := NewStrategy(cfg)
	if err != nil {
		return nil, err
	}
	return &State{cfg: cfg, g: cfg.Grammar.Grammar(), input: input, runID: cfg.RunID(), strategy: strategy,
		seen: map[string]bool{}}, nil
}

func (s *State) jobID(index int) string { return fmt.Sprintf("%s-%06d", s.runID, index) }

// rng is the generator of evaluation index's decisions.
func (s *State) rng(index int) *rand.Rand { return rand.New(rand.NewPCG(s.cfg.Seed, uint64(index))) }

// trainSeed is evaluation index's training seed, independent of its decisions (-1: the final training).
func trainSeed(cfg Config, index int) uint64 {
	return rand.New(rand.NewPCG(cfg.Seed^0x9e3779b97f4a7c15, uint64(index))).Uint64()
}

func (s *State) job(p *plan) Job {
	return Job{
		ID: s.jobID(p.index), Arch: p.text, Input: s.cfg.Input, Classes: s.cfg.Classes, Data: s.cfg.Data,
		Budget: s.cfg.Train, TrainSeed: p.trainSeed,
	}
}

// plan asks the strategy for the next evaluation, or returns nil when none can be submitted now: the
// budget is covered by the counted and pending evaluations, or the strategy waits for a result.
func (s *State) plan() *plan {
	if s.counted+s.pendingCountable >= s.cfg.Budget {
		return nil
	}
	prop, ok := s.strategy.Propose(s, s.rng(s.planned))
	if !ok {
		return nil
	}
	p := &plan{Proposal: prop, index: s.planned, trainSeed: trainSeed(s.cfg, s.planned)}
	s.draw(p)
	switch {
	case p.Copy:
		p.parentHash = p.hash // the seed's training may still be in flight: a copy is its architecture
	case p.parent() >= 0:
		p.parentHash = s.records[p.parent()].Hash
	}
	if p.mate() >= 0 {
		p.mateHash = s.records[p.mate()].Hash
	}
	if p.Counted {
		s.pendingCountable++
	}
	s.planned++
	return p
}

// draw makes the plan's architecture: again (up to 100 times) while Dedup finds it already generated,
// unless it is a seed's, which is what it is.
func (s *State) draw(p *plan) {
	for try := 0; ; try++ {
		a, err := p.Draw()
		if err != nil || p.Origin.FromSeed() || !s.cfg.Dedup || !s.seen[a.Hash()] || try == 99 {
			p.setArch(a, err)
			break
		}
	}
	if p.arch != nil {
		s.seen[p.hash] = true
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
func (s *State) recordOf(sl *slot) Record {
	if sl.logged != nil {
		return *sl.logged
	}
	p := sl.plan
	rec := Record{
		Index: p.index, JobID: s.jobID(p.index), Origin: p.Origin, Arch: p.text, Hash: p.hash,
		ParentIndex: p.parent(), ParentHash: p.parentHash, SearchSeed: s.cfg.Seed, TrainSeed: p.trainSeed,
		Start: sl.start.UTC(), End: sl.end.UTC(), Seconds: sl.end.Sub(sl.start).Seconds(),
	}
	if p.mate() >= 0 {
		rec.MateIndex, rec.MateHash = p.mate(), p.mateHash
	}
	switch {
	case p.Copy:
		seed := s.records[p.parent()]
		rec.Result, rec.TrainSeed = seed.Result, seed.TrainSeed
	case p.failure != "":
		rec.Result = Result{Failure: p.failure}
	default:
		rec.Result, rec.Cached = sl.result.Finite(), sl.cached
		if rec.Params == 0 && rec.FLOPs == 0 && p.arch != nil {
			st := p.arch.Stats()
			rec.Params, rec.FLOPs = st.Params, st.FLOPs
		}
	}
	rec.Counted = p.Counted && !rec.Failed()
	return rec
}

// commit applies a record, in index order, to the state and tells the strategy; it says whether the
// record is a new best.
func (s *State) commit(p *plan, rec Record) (newBest bool, err error) {
	s.records = append(s.records, rec)
	if p.Counted {
		s.pendingCountable--
	}
	if rec.Failed() {
		s.failuresInARow++
	} else {
		s.failuresInARow = 0
	}
	if rec.Counted {
		s.counted++
	}
	newBest = s.best.Add(rec)
	if err := s.strategy.Recorded(s, p.Proposal, rec); err != nil {
		return newBest, err
	}
	if rec.Failed() && s.failuresInARow >= s.cfg.maxConsecutiveFailures() {
		return false, fmt.Errorf("search stopped: %d evaluations in a row failed, the last (record %d): %s", s.failuresInARow, rec.Index, rec.Failure)
	}
	return newBest, nil
}

func (s *State) history() *History {
	return &History{
		Config: s.cfg, Records: append([]Record(nil), s.records...),
		Population: s.strategy.Population(), Counted: s.counted,
	}
}
