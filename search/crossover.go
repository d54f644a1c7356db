package search

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/einspace-go/einspace/grammar"
)

// RegularisedEvolutionCrossover is regularised evolution whose children are crossed over rather than
// mutated: two tournaments pick two parents, the child is the first parent with one of its modules
// replaced by a module of the second that received the same input shape (grammar.Crossover), and then,
// with probability Config.CrossoverMutation, mutated as RE mutates. The paper lists crossover as future
// work; seeds, the initial population and aging are RE's.
const RegularisedEvolutionCrossover StrategyName = "re-crossover"

func init() {
	RegisterStrategy(RegularisedEvolutionCrossover, func(cfg Config) (Strategy, error) {
		if p := cfg.CrossoverMutation; p < 0 || p > 1 {
			return nil, fmt.Errorf("crossover_mutation %v: want a probability from 0 to 1", p)
		}
		return newEvolution(cfg, true, crossWinners)
	})
}

// crossWinners breeds a child from the winners of two tournaments, each held among the members that can
// take part in a crossover: the first among those that fit some other member, the second among those that
// fit the first winner (see fits). Without that, a population whose best member fits no other would fail
// child after child. When no two members fit, the population could never change through crossover, so
// the child is mutated from the winner of one tournament, as RE does (and its origin says so). A crossover
// that finds no pair of modules giving a valid child (the shapes fit but the result does not infer, or
// exceeds a cap) is the record's failure, as a failed mutation is.
func crossWinners(s *State, e *evolution, r *rand.Rand) Proposal {
	inputs := map[int]moduleInputs{}
	for _, m := range e.population {
		inputs[m] = inputsOf(e.archs[m])
	}
	firsts := crossable(e.population, inputs, -1)
	if len(firsts) == 0 {
		return mutateWinner(s, e, r)
	}
	first := e.tournament(s, r, firsts)
	second := e.tournament(s, r, crossable(e.population, inputs, first))
	a, b := e.archs[first], e.archs[second]
	g, pMutate := s.Grammar(), s.Config().CrossoverMutation
	return Proposal{Origin: OriginCrossover, Parents: []int{first, second}, Counted: true,
		Draw: func() (*grammar.Arch, error) {
			child, err := g.Crossover(r, a, b)
			if err != nil || r.Float64() >= pMutate {
				return child, err
			}
			return g.Mutate(r, child)
		}}
}

// moduleInputs are the input shapes an architecture's modules receive: below its root (the modules a
// crossover may replace) and all of them (the modules it may take).
type moduleInputs struct{ below, all map[grammar.Shape]bool }

func inputsOf(a *grammar.Arch) moduleInputs {
	in := moduleInputs{below: map[grammar.Shape]bool{}, all: map[grammar.Shape]bool{}}
	grammar.Inspect(a.Root, func(n *grammar.Node) bool {
		if n.IsModule() {
			in.all[n.In] = true
			if n != a.Root {
				in.below[n.In] = true
			}
		}
		return true
	})
	return in
}

// fits reports whether grammar.Crossover can give a module of b to a: some module of a below its root
// receives the input shape of some module of b.
func fits(a, b moduleInputs) bool {
	for s := range a.below {
		if b.all[s] {
			return true
		}
	}
	return false
}

// crossable lists the members of pop that can be a parent: with first < 0, those that fit some other member
// (a first parent); otherwise the others that first fits (its mate).
func crossable(pop []int, inputs map[int]moduleInputs, first int) []int {
	return slices.DeleteFunc(slices.Clone(pop), func(m int) bool {
		if first >= 0 {
			return m == first || !fits(inputs[first], inputs[m])
		}
		return !slices.ContainsFunc(pop, func(n int) bool { return n != m && fits(inputs[m], inputs[n]) })
	})
}
