package search

import (
	"errors"
	"math/rand/v2"
)

func init() {
	RegisterStrategy(RandomSearch, func(cfg Config) (Strategy, error) {
		if len(cfg.Seeds) > 0 {
			return nil, errors.New("random search takes no seeds")
		}
		return randomSearch{}, nil
	})
}

// randomSearch samples the grammar for every evaluation; it keeps no population.
type randomSearch struct{}

func (randomSearch) Propose(s *State, r *rand.Rand) (Proposal, bool) { return sample(s, r, true), true }

func (randomSearch) Recorded(*State, Proposal, Record) error { return nil }

func (randomSearch) Population() []int { return nil }
