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
// the child is mutated from the winner of one tournament, as RE does (and its origin says so); so is the
// first winner when a trial crossover of the pair (probeRand) finds no new valid child. A crossover that
// fails after a successful trial (it draws other modules) is the record's failure, as a failed mutation is.
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
	if _, err := g.Crossover(probeRand(first, second), a, b); err != nil {
		// The pair fits by shape but no crossover of it gives a new valid child (it would only rebuild the
		// mate, say): the population would fail the same way evaluation after evaluation, so the first
		// winner is mutated instead, and the record says so.
		return Proposal{Origin: OriginMutation, Parents: []int{first}, Counted: true,
			Draw: func() (*grammar.Arch, error) { return g.Mutate(r, a) }}
	}
	return Proposal{Origin: OriginCrossover, Parents: []int{first, second}, Counted: true,
		Draw: func() (*grammar.Arch, error) {
			child, err := g.Crossover(r, a, b)
			if err != nil || r.Float64() >= pMutate {
				return child, err
			}
			return g.Mutate(r, child)
		}}
}

// probeRand is the generator of the trial crossover of records first and second: its own, so that the
// trial leaves the evaluation's generator as it was, and the same for the same pair.
func probeRand(first, second int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(first), uint64(second)))
}

// moduleInputs are, for each input shape an architecture's modules receive, the modules (as text) that
// receive it: below its root (the modules a crossover may replace) and all of them (the modules it may take).
type moduleInputs struct {
	below, all map[grammar.Shape]map[string]bool
}

func inputsOf(a *grammar.Arch) moduleInputs {
	in := moduleInputs{below: map[grammar.Shape]map[string]bool{}, all: map[grammar.Shape]map[string]bool{}}
	add := func(m map[grammar.Shape]map[string]bool, n *grammar.Node, text string) {
		if m[n.In] == nil {
			m[n.In] = map[string]bool{}
		}
		m[n.In][text] = true
	}
	grammar.Inspect(a.Root, func(n *grammar.Node) bool {
		if n.IsModule() {
			text := n.String()
			add(in.all, n, text)
			if n != a.Root {
				add(in.below, n, text)
			}
		}
		return true
	})
	return in
}

// fits reports whether grammar.Crossover can give a module of b to a: some module of a below its root
// receives the input shape of some module of b that differs from it (a module swapped for its equal
// changes nothing, and grammar.Crossover refuses such a child). Without the second condition, two parents
// sharing only equal modules passed for a pair and failed every crossover, a hundred in a row in notebook
// 04's toy search.
func fits(a, b moduleInputs) bool {
	for shape, mine := range a.below {
		for theirs := range b.all[shape] {
			if len(mine) > 1 || !mine[theirs] {
				return true
			}
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
