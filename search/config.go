package search

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/einspace-go/einspace/grammar"
)

// StrategyName names a search strategy (SPEC §5.1) in a Config; RegisterStrategy makes a name known.
type StrategyName string

const (
	// RandomSearch samples Budget architectures and keeps the best on validation.
	RandomSearch StrategyName = "random"
	// RegularisedEvolution is aging evolution (Real et al.): tournament, mutation, oldest removed.
	RegularisedEvolution StrategyName = "re"
	// RandomMutation is RE whose children are never inserted: every child mutates the initial population.
	RandomMutation StrategyName = "rm"
)

// The seed lists of the paper's seeded searches (SPEC §5.1).
var (
	SeedsRN18 = []string{"resnet18"}                                // RE(RN18)
	SeedsMix  = []string{"resnet18", "wrn16_4", "vit", "mlp_mixer"} // RE(Mix), copies cycle in this order
)

// GrammarConfig is the part of the grammar a search may change. Zero fields keep grammar.Default's value.
type GrammarConfig struct {
	PComputation float64         `json:"p_computation,omitempty"`
	MaxDepth     int             `json:"max_depth,omitempty"`
	MaxAttempts  int             `json:"max_attempts,omitempty"`
	Limits       *grammar.Limits `json:"limits,omitempty"` // nil: grammar.DefaultLimits
}

// Grammar returns the grammar the configuration describes.
func (c GrammarConfig) Grammar() *grammar.Grammar {
	g := grammar.Default()
	if c.PComputation != 0 {
		g.PComputation = c.PComputation
	}
	if c.MaxDepth != 0 {
		g.MaxDepth = c.MaxDepth
	}
	if c.MaxAttempts != 0 {
		g.MaxAttempts = c.MaxAttempts
	}
	if c.Limits != nil {
		g.Limits = *c.Limits
	}
	return g
}

// Config is everything that determines a search's decisions. It is written to the run directory as
// config.json, and a resumed run must present the same one. The number of machines or worker processes
// is deliberately not part of it: only InFlight, the number of evaluations the algorithm keeps
// outstanding, changes the decisions.
type Config struct {
	Strategy StrategyName `json:"strategy"`
	// Seeds are seed architecture names (grammar.SeedNames) for RE and RM: each distinct seed is trained
	// once, then the population is filled with Population copies cycling through Seeds. Empty: the
	// population starts as Population random samples.
	Seeds      []string `json:"seeds,omitempty"`
	Population int      `json:"population"` // P (RE, RM)
	Tournament int      `json:"tournament"` // S, drawn with replacement (RE, RM)
	// Budget is the number of counted evaluations: successful random samples, seed copies and successful
	// children. Failed evaluations and the training of a seed itself are logged but not counted.
	Budget int `json:"budget"`
	// InFlight is how many evaluations are outstanding at once (the asynchronous cluster of the paper).
	// Each child's parent is chosen from the population as it stands when the child is submitted, and
	// results are recorded in submission order, so the log depends on InFlight but not on how many
	// workers serve it or on their timing. 0 means 1.
	InFlight int `json:"in_flight,omitempty"`
	// CrossoverMutation is the probability that a child of RE with crossover is mutated after the
	// crossover (0: never). Only that strategy reads it.
	CrossoverMutation float64 `json:"crossover_mutation,omitempty"`
	// Dedup resamples a generated architecture (random sample or child) whose canonical text was already
	// generated in this run (up to 100 tries). Off in the paper.
	Dedup bool `json:"dedup,omitempty"`
	// Seed drives every random decision of the search: evaluation i uses a PCG seeded with (Seed, i).
	Seed uint64 `json:"seed"`
	// MaxConsecutiveFailures stops the search with an error after this many failures in a row (0: 100).
	MaxConsecutiveFailures int `json:"max_consecutive_failures,omitempty"`

	Input       string        `json:"input"` // C×H×W, e.g. "3x28x28"
	Classes     int           `json:"classes,omitempty"`
	Data        DataSpec      `json:"data"`
	Train       Budget        `json:"train"`        // per evaluation during the search
	FinalEpochs int           `json:"final_epochs"` // retraining of the best on train+val
	Grammar     GrammarConfig `json:"grammar"`
}

// DefaultConfig is the paper's RE(Scratch) on AddNIST (SPEC §5.3): population 100, tournament 10, 1000
// evaluations of 8 epochs, 64 final epochs.
func DefaultConfig() Config {
	return Config{
		Strategy:    RegularisedEvolution,
		Population:  100,
		Tournament:  10,
		Budget:      1000,
		Input:       "3x28x28",
		Classes:     20,
		Data:        DataSpec{Name: "addnist"},
		Train:       Budget{Epochs: 8},
		FinalEpochs: 64,
	}
}

func (c Config) inFlight() int { return max(1, c.InFlight) }

func (c Config) maxConsecutiveFailures() int {
	if c.MaxConsecutiveFailures > 0 {
		return c.MaxConsecutiveFailures
	}
	return 100
}

// InputShape parses Input.
func (c Config) InputShape() (grammar.Shape, error) {
	s, err := grammar.ParseShape(c.Input)
	if err != nil {
		return grammar.Shape{}, fmt.Errorf("config input: %w", err)
	}
	if s.Rank() != 3 {
		return grammar.Shape{}, fmt.Errorf("config input %q: want an image shape CxHxW", c.Input)
	}
	return s, nil
}

// Validate reports the first thing wrong with the configuration.
func (c Config) Validate() error {
	var errs []error
	if _, err := NewStrategy(c); err != nil {
		errs = append(errs, err)
	}
	if c.Budget < 1 {
		errs = append(errs, fmt.Errorf("budget %d: want at least 1 evaluation", c.Budget))
	}
	if err := c.Train.Check(); err != nil {
		errs = append(errs, fmt.Errorf("train: %w", err))
	}
	if c.FinalEpochs < 0 {
		errs = append(errs, fmt.Errorf("final_epochs %d: want 0 (no final training) or more", c.FinalEpochs))
	}
	if c.InFlight < 0 {
		errs = append(errs, fmt.Errorf("in_flight %d: want 0 or more", c.InFlight))
	}
	input, err := c.InputShape()
	if err != nil {
		errs = append(errs, err)
	} else {
		for _, name := range c.Seeds {
			if _, err := grammar.SeedArch(name, input); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if g := c.Grammar.Grammar(); g.PComputation <= 0 || g.PComputation >= 1 {
		errs = append(errs, fmt.Errorf("grammar p_computation %v: want strictly between 0 and 1", g.PComputation))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("search config: %w", err)
	}
	return nil
}

// distinctSeeds lists the seed names once each, in order of first appearance.
func (c Config) distinctSeeds() []string {
	var out []string
	for _, s := range c.Seeds {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// RunID identifies the run: the first 8 bytes (hex) of the SHA-256 of the configuration's JSON. Job IDs
// are RunID-index.
func (c Config) RunID() string {
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// configDiff lists the fields (dotted JSON paths) whose values differ, as "field: old -> new".
func configDiff(old, new Config) []string {
	flat := func(c Config) map[string]string {
		b, _ := json.Marshal(c)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		out := map[string]string{}
		var walk func(prefix string, v any)
		walk = func(prefix string, v any) {
			if obj, ok := v.(map[string]any); ok {
				for k, x := range obj {
					key := k
					if prefix != "" {
						key = prefix + "." + k
					}
					walk(key, x)
				}
				return
			}
			b, _ := json.Marshal(v)
			out[prefix] = string(b)
		}
		walk("", m)
		return out
	}
	a, b := flat(old), flat(new)
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var diffs []string
	for k := range keys {
		va, oka := a[k]
		vb, okb := b[k]
		if oka && okb && reflect.DeepEqual(va, vb) {
			continue
		}
		if !oka {
			va = "(unset)"
		}
		if !okb {
			vb = "(unset)"
		}
		diffs = append(diffs, fmt.Sprintf("%s: %s -> %s", k, va, vb))
	}
	sort.Strings(diffs)
	return diffs
}

func joinLines(items []string) string { return strings.Join(items, "; ") }
