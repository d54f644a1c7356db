package models

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/einspace-go/einspace/grammar"
)

// arenaBackend is what the patched backend offers about its buffer arena (BufferArenaOption).
type arenaBackend interface {
	ArenaInUseBytes() int
	ArenaMappedBytes() int
}

// TestBufferArena trains the small CNN for three steps on the default backend, whose large temporary
// buffers come from one arena, and on a backend without the arena, from the same seed and batches. The
// losses must be identical (the arena changes where numbers are kept, not which), the arena must have
// served buffers, and after every step no arena buffer may be left in use: a range an execution forgets
// to return would be lost for good, where a pooled buffer would be collected.
func TestBufferArena(t *testing.T) {
	if !strings.HasSuffix(DefaultBackend, ","+BufferArenaOption) {
		t.Fatalf("DefaultBackend %q does not end with %q", DefaultBackend, BufferArenaOption)
	}
	withArena, err := Backend()
	if err != nil {
		t.Fatal(err)
	}
	arena, ok := withArena.(arenaBackend)
	if !ok {
		t.Fatalf("the backend (%T) has no buffer arena: is it built without patches/gomlx-compute-v0.1.14-scratch-buffer-arena.patch?", withArena)
	}
	without, err := compute.NewWithConfig(strings.TrimSuffix(DefaultBackend, ","+BufferArenaOption))
	if err != nil {
		t.Fatal(err)
	}
	defer without.Finalize()
	if n := without.(arenaBackend).ArenaMappedBytes(); n != 0 {
		t.Fatalf("backend without %q has mapped %d arena bytes", BufferArenaOption, n)
	}

	arch, err := grammar.ParseArch(smallCNN, grammar.ImShape(3, 28, 28))
	if err != nil {
		t.Fatal(err)
	}
	net, err := Compile(arch, 10)
	if err != nil {
		t.Fatal(err)
	}
	models := make([]*Model, 2)
	for i, be := range []compute.Backend{withArena, without} {
		store := model.NewStore()
		if err := store.SetRNGStateFromSeed(7); err != nil {
			t.Fatal(err)
		}
		if models[i], err = newModel(be, net, store); err != nil {
			t.Fatal(err)
		}
	}
	const batch = 64 // the input alone is 600 KB, above the arena's 256 KiB threshold
	data := brightest(rand.New(rand.NewPCG(3, 4)), 3*batch, arch.Input)
	size := int(arch.Input.Size())
	for step := range 3 {
		images, labels := data.Images[step*batch*size:(step+1)*batch*size], data.Labels[step*batch:(step+1)*batch]
		lossArena, _, err := models[0].TrainStep(images, labels)
		if err != nil {
			t.Fatal(err)
		}
		lossPools, _, err := models[1].TrainStep(images, labels)
		if err != nil {
			t.Fatal(err)
		}
		if lossArena != lossPools {
			t.Errorf("step %d: loss %v with the arena, %v without", step, lossArena, lossPools)
		}
		if n := arena.ArenaInUseBytes(); n != 0 {
			t.Errorf("after step %d: %d arena bytes still in use", step, n)
		}
	}
	if arena.ArenaMappedBytes() == 0 {
		t.Error("the arena served no buffer")
	}
}

// TestDefaultBackendWithoutTheArena checks the fallback for a backend built without our patch, which refuses
// the arena's option with the error the pristine backend gives: the configuration is tried again without
// it, and any other error is returned as it is.
func TestDefaultBackendWithoutTheArena(t *testing.T) {
	pristine := func(config string) (compute.Backend, error) {
		if strings.Contains(config, BufferArenaOption) {
			// the pristine backend's words (internal/gobackend/gobackend.go)
			return nil, fmt.Errorf("unknown configuration option %q for the Go backend -- valid configuration options are: ...", BufferArenaOption)
		}
		return compute.NewWithConfig(config)
	}
	be, err := newDefaultBackend(pristine)
	if err != nil {
		t.Fatalf("fallback: %v", err)
	}
	defer be.Finalize()
	if n := be.(arenaBackend).ArenaMappedBytes(); n != 0 {
		t.Errorf("fallback backend has an arena (%d bytes mapped)", n)
	}

	other := errors.New("no such backend")
	calls := 0
	if _, err := newDefaultBackend(func(string) (compute.Backend, error) { calls++; return nil, other }); !errors.Is(err, other) || calls != 1 {
		t.Errorf("another error: got %v after %d calls, want %v after 1", err, calls, other)
	}
}
