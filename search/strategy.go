package search

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/einspace-go/einspace/grammar"
)

// Strategy decides what a search evaluates next. Run owns everything else: the budget, the log, replaying
// a log when a run resumes, and the order in which results are recorded. A strategy keeps its own state (a
// population, the phase it is in), which it must build only from the proposals it made and the records it
// is told about, so that replaying a log rebuilds it exactly.
//
// Run asks for proposals while the budget and Config.InFlight allow, and tells the strategy of every
// record in index order, replayed or new. A new strategy is a new file: a type implementing Strategy and a
// RegisterStrategy call naming it (see crossover.go).
type Strategy interface {
	// Propose decides evaluation number s.Next(), drawing every random decision from r (the evaluation's
	// own generator, PCG(Config.Seed, index)). It returns false when nothing can be proposed until an
	// evaluation in flight is recorded; the search ends when that happens with nothing in flight.
	Propose(s *State, r *rand.Rand) (Proposal, bool)
	// Recorded is told of each record, in index order, with the proposal that made it. An error stops the
	// search.
	Recorded(s *State, p Proposal, rec Record) error
	// Population lists the record indices of the current population, oldest first (nil: none is kept).
	Population() []int
}

// Proposal is a strategy's decision for one evaluation.
type Proposal struct {
	Origin Origin
	// Draw makes the architecture. With Config.Dedup, Run calls it again (up to 100 times) while what it
	// drew was already generated in this run; not for a seed's training or copy, whose architecture is
	// fixed. An error becomes the record's failure, without an evaluation.
	Draw func() (*grammar.Arch, error)
	// Parents are the records the architecture comes from (indices): none for a sample or a seed's
	// training; the training of the seed a copy copies; a mutated child's parent; a crossover child's
	// parent and mate, the donor of the module it carries.
	Parents []int
	// Counted says the record counts toward the budget if it succeeds.
	Counted bool
	// Copy says the record takes its parent's result instead of being evaluated (a seed's population copy).
	Copy bool
}

// StrategyMaker makes a strategy's initial state for a configuration, or says what is wrong with the
// configuration for this strategy.
type StrategyMaker func(Config) (Strategy, error)

// strategies are the strategies a Config can name.
var strategies = map[StrategyName]StrategyMaker{}

// RegisterStrategy makes name a strategy that Config.Strategy can name. It panics when name is taken:
// registration happens once, from an init function.
func RegisterStrategy(name StrategyName, make StrategyMaker) {
	if _, taken := strategies[name]; taken {
		panic(fmt.Sprintf("search: strategy %q registered twice", name))
	}
	strategies[name] = make
}

// StrategyNames lists the registered strategies, sorted.
func StrategyNames() []StrategyName {
	names := make([]StrategyName, 0, len(strategies))
	for n := range strategies {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// NewStrategy makes the strategy cfg names, in its initial state.
func NewStrategy(cfg Config) (Strategy, error) {
	make, ok := strategies[cfg.Strategy]
	if !ok {
		var quoted []string
		for _, n := range StrategyNames() {
			quoted = append(quoted, fmt.Sprintf("%q", n))
		}
		return nil, fmt.Errorf("strategy %q: want one of %s", cfg.Strategy, strings.Join(quoted, ", "))
	}
	return make(cfg)
}

// State is what a strategy can see of a search in progress.
type State struct {
	cfg   Config
	g     *grammar.Grammar
	input grammar.Shape
	runID string

	strategy         Strategy
	records          []Record
	counted          int
	best             BestSoFar
	planned          int // proposals made: the next one's index
	pendingCountable int // proposals in flight that count if they succeed
	seen             map[string]bool
	failuresInARow   int
}

// Config is the search's configuration.
func (s *State) Config() Config { return s.cfg }

// Grammar is the grammar the configuration describes.
func (s *State) Grammar() *grammar.Grammar { return s.g }

// Input is the input shape architectures are inferred for.
func (s *State) Input() grammar.Shape { return s.input }

// Next is the index of the evaluation being proposed.
func (s *State) Next() int { return s.planned }

// Records are the records so far, in index order; evaluations in flight are not among them. The slice is
// the search's own: read it, do not change it.
func (s *State) Records() []Record { return s.records }

// Arch parses a record's architecture for the search's input. Parsing the logged text, rather than
// keeping the generated tree, makes a fresh run and a resumed one work on exactly the same trees.
func (s *State) Arch(rec Record) (*grammar.Arch, error) {
	root, err := grammar.Parse(rec.Arch)
	if err != nil {
		return nil, fmt.Errorf("record %d: %w", rec.Index, err)
	}
	a, err := s.g.Infer(root, s.input)
	if err != nil {
		return nil, fmt.Errorf("record %d: %w", rec.Index, err)
	}
	return a, nil
}

// sample is the proposal of a random architecture.
func sample(s *State, r *rand.Rand, counted bool) Proposal {
	return Proposal{Origin: OriginRandom, Counted: counted,
		Draw: func() (*grammar.Arch, error) { return s.g.Sample(r, s.input) }}
}
