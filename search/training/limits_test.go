package training

import "github.com/einspace-go/einspace/grammar"

// smallLimits keeps test architectures small enough to train in seconds on two cores.
func smallLimits() *grammar.Limits {
	return &grammar.Limits{Nodes: 60, Params: 200_000, FLOPs: 5_000_000}
}
