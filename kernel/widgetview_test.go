package kernel

import (
	"testing"
	"time"

	"github.com/janpfeifer/gonb/gonbui/comms"
)

// TestFirstOfDrains: the first value closes the returned channel, and every later value is taken off the
// listener, as GoNB's dispatcher needs (a value left unread would keep its goroutine waiting; a closed
// listener would make GoNB lose its lock, docs/GONB-COMMS-LOCK.md).
func TestFirstOfDrains(t *testing.T) {
	src := &comms.AddressChan[int]{C: make(chan int)}
	first := firstOf(src)
	select {
	case <-first:
		t.Fatal("closed before any value")
	default:
	}
	for i := range 5 {
		select {
		case src.C <- i:
		case <-time.After(5 * time.Second):
			t.Fatalf("value %d was not taken off the listener", i)
		}
	}
	select {
	case <-first:
	case <-time.After(5 * time.Second):
		t.Fatal("not closed after the first value")
	}
}

// TestLatestKeepsTheNewest: a reader that had no time for a burst of values sees the newest, not the queue.
func TestLatestKeepsTheNewest(t *testing.T) {
	src := &comms.AddressChan[int]{C: make(chan int)}
	out := latest(src)
	for i := 1; i <= 100; i++ {
		src.C <- i
	}
	var seen []int
	for len(seen) == 0 || seen[len(seen)-1] != 100 {
		select {
		case v := <-out:
			seen = append(seen, v)
		case <-time.After(5 * time.Second):
			t.Fatalf("the newest value never came; saw %v", seen)
		}
	}
	// The value being handed on when the burst ended may come first; nothing older may.
	if len(seen) > 2 || seen[0] < 99 {
		t.Errorf("a reader late for 100 values saw %v, want [100] or [99 100]", seen)
	}
}
