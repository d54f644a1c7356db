//go:build race

package export_test

// raceEnabled: the race detector slows GoMLX graph execution many times over.
const raceEnabled = true
