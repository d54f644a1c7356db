package kernel

import (
	"fmt"
	"html"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/viz"
)

// EvolveOptions set up the evolution playground. The zero value is a population of 10, tournaments of 3,
// seed 0, 3×28×28 inputs and the proxy fitness ParamsProxy.
type EvolveOptions struct {
	Population, Tournament int
	Seed                   uint64
	Input                  string // "3x28x28" when empty
	// Fitness scores an architecture; nil means ParamsProxy. It must be cheap: a step evaluates one child,
	// "run 10" ten.
	Fitness func(*grammar.Arch) float64
	// FitnessName says what Fitness measures, in the panel; ParamsProxy's description when Fitness is nil.
	FitnessName string
}

// ParamsProxyTarget is the parameter count ParamsProxy rewards most.
const ParamsProxyTarget = 50_000

// ParamsProxy is a stand-in for accuracy that costs nothing, and says so: 100 for a backbone of exactly
// ParamsProxyTarget parameters, falling off as exp(−d²) with d the base-10 logarithm of the ratio (a
// factor of 10 away scores 36.8, 100 away 1.8). It rewards size alone, so an evolution driven by it
// learns to hit a size, not to build a good network: it shows how the algorithm works, not what it finds.
func ParamsProxy(a *grammar.Arch) float64 {
	d := math.Log10(float64(max(a.Stats().Params, 1)) / ParamsProxyTarget)
	return 100 * math.Exp(-d*d)
}

const paramsProxyName = "a stated proxy, not accuracy: 100 at 50,000 backbone parameters, exp(−d²) with d = log10(params / 50,000); nothing is trained"

// member is one architecture of the population.
type member struct {
	id      int
	arch    *grammar.Arch
	fitness float64
}

// playground is regularised evolution (aging evolution) run one generation at a time, with the record of
// what the last generation did.
type playground struct {
	o          EvolveOptions
	input      grammar.Shape
	g          *grammar.Grammar
	r          *rand.Rand
	population []member // oldest first
	next       int      // the next member's id
	generation int
	best       member
	bestHist   []float64
	meanHist   []float64
	last       *generation // nil before the first step
	listening  bool        // the page's controls are listened to (Evolve)
}

// generation is what one step did.
type generation struct {
	tournament []member // with repetitions, as drawn
	parent     member
	child      member
	removed    member
	note       string // a failed mutation, if any
}

func newPlayground(o EvolveOptions) (*playground, error) {
	if o.Population == 0 {
		o.Population = 10
	}
	if o.Tournament == 0 {
		o.Tournament = 3
	}
	if o.Population < 2 || o.Tournament < 1 || o.Tournament > o.Population {
		return nil, fmt.Errorf("kernel.Evolve: a population of %d with tournaments of %d: want 2 <= population and 1 <= tournament <= population", o.Population, o.Tournament)
	}
	if o.Input == "" {
		o.Input = ExploreInputs[0]
	}
	in, err := grammar.ParseShape(o.Input)
	if err != nil {
		return nil, fmt.Errorf("kernel.Evolve: input: %w", err)
	}
	if o.Fitness == nil {
		o.Fitness, o.FitnessName = ParamsProxy, paramsProxyName
	}
	if o.FitnessName == "" {
		o.FitnessName = "your fitness function"
	}
	p := &playground{o: o, input: in}
	p.g = grammar.Default()
	p.g.Limits = grammar.Limits{Nodes: 200, Params: 5_000_000}
	if err := p.reset(); err != nil {
		return nil, err
	}
	return p, nil
}

// reset draws the initial population again from the seed.
func (p *playground) reset() error {
	p.r = rand.New(rand.NewPCG(p.o.Seed, 0xe70))
	p.population, p.next, p.generation, p.last = nil, 0, 0, nil
	p.best = member{fitness: math.Inf(-1)}
	p.bestHist, p.meanHist = nil, nil
	for range p.o.Population {
		a, err := p.g.Sample(p.r, p.input)
		if err != nil {
			return fmt.Errorf("kernel.Evolve: the initial population: %w", err)
		}
		p.add(a)
	}
	p.record()
	return nil
}

func (p *playground) add(a *grammar.Arch) member {
	m := member{id: p.next, arch: a, fitness: p.o.Fitness(a)}
	p.next++
	p.population = append(p.population, m)
	if m.fitness > p.best.fitness {
		p.best = m
	}
	return m
}

func (p *playground) record() {
	sum := 0.0
	for _, m := range p.population {
		sum += m.fitness
	}
	p.bestHist = append(p.bestHist, p.best.fitness)
	p.meanHist = append(p.meanHist, sum/float64(len(p.population)))
}

// step runs one generation: a tournament of S members drawn with replacement, its fittest as the parent,
// the parent's mutated child evaluated and added, and the oldest member removed.
func (p *playground) step() {
	gen := &generation{}
	for range p.o.Tournament {
		gen.tournament = append(gen.tournament, p.population[p.r.IntN(len(p.population))])
	}
	gen.parent = gen.tournament[0]
	for _, m := range gen.tournament[1:] {
		if m.fitness > gen.parent.fitness {
			gen.parent = m
		}
	}
	a, err := p.g.Mutate(p.r, gen.parent.arch)
	if err != nil { // no child within the caps: the parent is copied, and the panel says so
		gen.note = "no mutation within the caps (" + err.Error() + "): the child is a copy"
		a = gen.parent.arch
	}
	gen.child = p.add(a)
	gen.removed = p.population[0]
	p.population = p.population[1:]
	p.generation++
	p.last = gen
	p.record()
}

// members is the population for GenerationChart, with the last generation's roles.
func (p *playground) members() []viz.Member {
	role := map[int]string{}
	if g := p.last; g != nil {
		for _, m := range g.tournament {
			role[m.id] = "tournament"
		}
		role[g.parent.id] = "parent"
		role[g.child.id] = "child"
	}
	out := make([]viz.Member, len(p.population))
	for i, m := range p.population {
		out[i] = viz.Member{Label: fmt.Sprintf("#%d", m.id), Fitness: m.fitness, Role: role[m.id]}
	}
	return out
}

// story tells what the last generation did, in one paragraph.
func (p *playground) story() string {
	g := p.last
	if g == nil {
		return fmt.Sprintf("generation 0: %d random samples; best #%d at %.1f", len(p.population), p.best.id, p.best.fitness)
	}
	drawn := make([]string, len(g.tournament))
	for i, m := range g.tournament {
		drawn[i] = fmt.Sprintf("#%d (%.1f)", m.id, m.fitness)
	}
	s := fmt.Sprintf("generation %d: tournament %s → parent #%d (%.1f); its mutated child #%d scores %.1f; the oldest, #%d (%.1f), leaves",
		p.generation, strings.Join(drawn, ", "), g.parent.id, g.parent.fitness, g.child.id, g.child.fitness, g.removed.id, g.removed.fitness)
	if g.note != "" {
		s += "; " + g.note
	}
	return s + fmt.Sprintf(". Best so far: #%d at %.1f.", p.best.id, p.best.fitness)
}

// panel renders the playground: what the fitness is, what the last generation did, the population, the
// fitness history and the parent → child diff.
func (p *playground) panel() []part {
	head := fmt.Sprintf(`<div class="einspace-evolve-state" style="font:13px sans-serif;margin:4px 0">`+
		`<b>regularised evolution</b>, population <span data-k="population">%d</span>, tournament %d, seed %d · `+
		`<b>generation</b> <span data-k="generation">%d</span> · <b>best</b> <span data-k="best">%.1f</span><br>`+
		`<b>fitness</b>: %s<br><span data-k="story">%s</span>%s</div>`,
		len(p.population), p.o.Tournament, p.o.Seed, p.generation, p.best.fitness,
		html.EscapeString(p.o.FitnessName), html.EscapeString(p.story()), map[bool]string{true: `<span data-k="ready" hidden></span>`}[p.listening])
	parts := []part{
		{html: head, text: p.story()},
		{chart: viz.GenerationChart("population after generation "+fmt.Sprint(p.generation), p.members())},
		{chart: viz.FitnessHistory("fitness per generation", p.bestHist, p.meanHist)},
	}
	if g := p.last; g != nil {
		parts = append(parts, part{chart: viz.ArchDiff(g.parent.arch, g.child.arch, viz.TreeOptions{
			Title: fmt.Sprintf("parent #%d (above) → child #%d (below)", g.parent.id, g.child.id)})})
	}
	return parts
}
