package grammar

// BranchingRate is the expected number of child modules of a module when p is p(computation), counting a
// 4- or 8-way branching module's shared inner module once, as the tree is written: r(p) = (13/9)(1 − p).
// It is an idealisation (SPEC §4.2): it takes the three other modules as equally likely and the 12 branching
// functions as equally likely, while shape pruning changes both; it grows without bound (with positive
// probability) when r(p) > 1, that is below CriticalP.
func BranchingRate(p float64) float64 { return 13.0 / 9.0 * (1 - p) }

// CriticalP is the p(computation) at which BranchingRate is 1: 4/13.
const CriticalP = 4.0 / 13.0
