package search

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/einspace-go/einspace/grammar"
)

func init() {
	RegisterStrategy(RegularisedEvolution, func(cfg Config) (Strategy, error) {
		return newEvolution(cfg, true, mutateWinner)
	})
	RegisterStrategy(RandomMutation, func(cfg Config) (Strategy, error) {
		return newEvolution(cfg, false, mutateWinner)
	})
}

// breed proposes a child of the population: it holds tournaments with r and says how the child is made.
type breed func(s *State, e *evolution, r *rand.Rand) Proposal

// evolution is regularised evolution (SPEC §5.1) and its variants, which differ in how a child is bred and
// whether it enters the population. It goes through three phases:
//
//  1. with seeds, each distinct seed is trained once (not counted), then the population is filled with
//     Population copies cycling through Config.Seeds (counted, not trained again: RE(RN18), RE(Mix));
//  2. without seeds, the population starts as Population random samples;
//  3. once the whole initial population is recorded, every evaluation is a child of it. Children that
//     succeed enter the population (RE) or never do (RM), and the oldest member leaves when it exceeds
//     Population.
type evolution struct {
	cfg            Config
	breed          breed
	insertChildren bool

	seeds          []string       // distinct seed names, in order of first appearance
	seedsProposed  int            // seed trainings proposed
	seedTraining   map[string]int // seed name -> index of its training record
	copiesProposed int
	initInserted   int // random members of the initial population recorded
	initPending    int // random members of the initial population in flight

	population []int                 // record indices, oldest first
	archs      map[int]*grammar.Arch // the members' architectures, parsed once
}

func newEvolution(cfg Config, insertChildren bool, b breed) (*evolution, error) {
	var errs []error
	if cfg.Population < 1 {
		errs = append(errs, fmt.Errorf("population %d: want at least 1", cfg.Population))
	}
	if cfg.Tournament < 1 {
		errs = append(errs, fmt.Errorf("tournament %d: want at least 1", cfg.Tournament))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &evolution{cfg: cfg, breed: b, insertChildren: insertChildren, seeds: cfg.distinctSeeds(),
		seedTraining: map[string]int{}, archs: map[int]*grammar.Arch{}}, nil
}

func (e *evolution) Propose(s *State, r *rand.Rand) (Proposal, bool) {
	switch {
	case e.seedsProposed < len(e.seeds):
		name := e.seeds[e.seedsProposed]
		e.seedsProposed++
		e.seedTraining[name] = s.Next()
		return Proposal{Origin: SeedOrigin(name), Draw: seedArch(name, s.Input())}, true
	case len(e.cfg.Seeds) > 0 && e.copiesProposed < e.cfg.Population:
		name := e.cfg.Seeds[e.copiesProposed%len(e.cfg.Seeds)]
		e.copiesProposed++
		return Proposal{Origin: CopyOrigin(name), Parents: []int{e.seedTraining[name]}, Counted: true, Copy: true,
			Draw: seedArch(name, s.Input())}, true
	case len(e.cfg.Seeds) == 0 && e.initInserted+e.initPending < e.cfg.Population:
		e.initPending++
		return sample(s, r, true), true
	case len(e.population) < e.cfg.Population:
		return Proposal{}, false // children wait until the initial population is recorded
	}
	return e.breed(s, e, r), true
}

func seedArch(name string, input grammar.Shape) func() (*grammar.Arch, error) {
	return func() (*grammar.Arch, error) { return grammar.SeedArch(name, input) }
}

func (e *evolution) Recorded(s *State, p Proposal, rec Record) error {
	switch p.Origin.Kind {
	case SeedTraining:
		if rec.Failed() {
			return fmt.Errorf("seed architecture %s failed its evaluation (record %d): %s", p.Origin.Seed, rec.Index, rec.Failure)
		}
		return nil
	case RandomSample:
		e.initPending--
		if rec.Counted {
			e.initInserted++
		}
	case SeedCopy:
	default: // a child
		if !e.insertChildren {
			return nil
		}
	}
	if !rec.Counted {
		return nil
	}
	a, err := s.Arch(rec)
	if err != nil {
		return err
	}
	e.population = append(e.population, rec.Index)
	e.archs[rec.Index] = a
	for len(e.population) > e.cfg.Population {
		delete(e.archs, e.population[0])
		e.population = e.population[1:]
	}
	return nil
}

func (e *evolution) Population() []int { return slices.Clone(e.population) }

// tournament draws Tournament members of pool (record indices) with replacement and returns the best on
// validation accuracy (the first drawn among equals).
func (e *evolution) tournament(s *State, r *rand.Rand, pool []int) int {
	records := s.Records()
	best := -1
	for range e.cfg.Tournament {
		c := pool[r.IntN(len(pool))]
		if best < 0 || records[c].ValAccuracy > records[best].ValAccuracy {
			best = c
		}
	}
	return best
}

// mutateWinner breeds a child by mutating the winner of a tournament.
func mutateWinner(s *State, e *evolution, r *rand.Rand) Proposal {
	parent := e.tournament(s, r, e.population)
	a := e.archs[parent]
	return Proposal{Origin: OriginMutation, Parents: []int{parent}, Counted: true,
		Draw: func() (*grammar.Arch, error) { return s.Grammar().Mutate(r, a) }}
}
