package search

import (
	"fmt"
	"strings"
)

// OriginKind says how the architecture of a record came about.
type OriginKind uint8

const (
	// RandomSample is a sample of the grammar: random search, or a member of an initial population.
	RandomSample OriginKind = iota + 1
	// Mutation is a child mutated from the winner of a tournament.
	Mutation
	// Crossover is a child crossed over from the winners of two tournaments (and maybe mutated after).
	Crossover
	// SeedTraining is the one training of a seed architecture, which a seeded population copies.
	SeedTraining
	// SeedCopy is a population copy of a trained seed: its result is the seed's, not trained again.
	SeedCopy
)

// Origin is where a record's architecture came from: its kind and, for a seed's training or copy, the
// seed's name. It is written to the log as text ("random", "mutation", "crossover", "seed:NAME",
// "copy:NAME") and parsed back once, when the log is read.
type Origin struct {
	Kind OriginKind
	Seed string // the seed's name, for SeedTraining and SeedCopy
}

// The origins without a seed name.
var (
	OriginRandom    = Origin{Kind: RandomSample}
	OriginMutation  = Origin{Kind: Mutation}
	OriginCrossover = Origin{Kind: Crossover}
)

// SeedOrigin is the origin of the training of seed architecture name.
func SeedOrigin(name string) Origin { return Origin{Kind: SeedTraining, Seed: name} }

// CopyOrigin is the origin of a population copy of seed architecture name.
func CopyOrigin(name string) Origin { return Origin{Kind: SeedCopy, Seed: name} }

// originWords are the texts of the kinds; a seed's kinds are a prefix followed by the seed's name.
var originWords = map[OriginKind]string{
	RandomSample: "random", Mutation: "mutation", Crossover: "crossover", SeedTraining: "seed:", SeedCopy: "copy:",
}

// String is the origin as the log writes it.
func (o Origin) String() string {
	w, ok := originWords[o.Kind]
	switch {
	case o.Kind == 0:
		return ""
	case !ok:
		return fmt.Sprintf("origin(%d)", o.Kind)
	}
	if o.Kind == SeedTraining || o.Kind == SeedCopy {
		return w + o.Seed
	}
	return w
}

// ParseOrigin reads an origin as the log writes it.
func ParseOrigin(text string) (Origin, error) {
	for kind, w := range originWords {
		named := kind == SeedTraining || kind == SeedCopy
		switch {
		case named && strings.HasPrefix(text, w) && len(text) > len(w):
			return Origin{Kind: kind, Seed: text[len(w):]}, nil
		case !named && text == w:
			return Origin{Kind: kind}, nil
		}
	}
	return Origin{}, fmt.Errorf("origin %q: want random, mutation, crossover, seed:NAME or copy:NAME", text)
}

// FromSeed reports whether the origin is a seed's training or one of its copies.
func (o Origin) FromSeed() bool { return o.Kind == SeedTraining || o.Kind == SeedCopy }

// MarshalText writes the origin as String does, and the zero Origin (none) as "".
func (o Origin) MarshalText() ([]byte, error) {
	if o == (Origin{}) {
		return nil, nil
	}
	if _, ok := originWords[o.Kind]; !ok {
		return nil, fmt.Errorf("origin kind %d is not one a log can hold", o.Kind)
	}
	return []byte(o.String()), nil
}

// UnmarshalText parses the origin as ParseOrigin does, and "" as the zero Origin.
func (o *Origin) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*o = Origin{}
		return nil
	}
	v, err := ParseOrigin(string(b))
	if err != nil {
		return err
	}
	*o = v
	return nil
}
