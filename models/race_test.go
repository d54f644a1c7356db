//go:build race

package models

// raceEnabled cuts the heaviest tests down: the race detector slows graph execution many times.
const raceEnabled = true
