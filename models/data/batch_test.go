package data

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// numberedSplit returns a split of n examples of shape (2, 1, 2) whose label is the example's index and
// whose values are index·10 + position, so that any example can be recognised in a batch.
func numberedSplit(n int) *Split {
	s := &Split{Shape: Shape{2, 1, 2}}
	for i := range n {
		s.Labels = append(s.Labels, int32(i))
		for p := range 4 {
			s.Images = append(s.Images, float32(i*10+p))
		}
	}
	return s
}

// epochLabels runs one epoch, checks that every batch's images belong to its labels, and returns the labels
// batch by batch.
func epochLabels(t *testing.T, b *Batcher, epoch int) [][]int32 {
	t.Helper()
	var batches [][]int32
	for batch := range b.Epoch(epoch) {
		if len(batch.Images) != batch.Len()*batch.Shape.Size() {
			t.Fatalf("batch of %d labels holds %d values", batch.Len(), len(batch.Images))
		}
		for j, label := range batch.Labels {
			if batch.Images[j*4] != float32(label*10) || batch.Images[j*4+3] != float32(label*10+3) {
				t.Fatalf("batch example %d has label %d but values %v", j, label, batch.Images[j*4:j*4+4])
			}
		}
		batches = append(batches, slices.Clone(batch.Labels))
	}
	return batches
}

func TestTrainBatcher(t *testing.T) {
	for _, c := range []struct{ n, size, wantBatches int }{
		{10, 3, 3}, // drops the last example
		{9, 3, 3},
		{10, 10, 1},
		{1000, 256, 3},
	} {
		t.Run(fmt.Sprintf("%d by %d", c.n, c.size), func(t *testing.T) {
			b, err := NewTrainBatcher(numberedSplit(c.n), c.size, 5)
			if err != nil {
				t.Fatal(err)
			}
			if b.Len() != c.wantBatches {
				t.Errorf("Len = %d, want %d", b.Len(), c.wantBatches)
			}
			var orders []string
			for epoch := range 3 {
				batches := epochLabels(t, b, epoch)
				if len(batches) != c.wantBatches {
					t.Fatalf("epoch %d: %d batches, want %d", epoch, len(batches), c.wantBatches)
				}
				seen := map[int32]bool{}
				for _, batch := range batches {
					if len(batch) != c.size {
						t.Fatalf("epoch %d: batch of %d, want %d", epoch, len(batch), c.size)
					}
					for _, l := range batch {
						if seen[l] {
							t.Fatalf("epoch %d: example %d seen twice", epoch, l)
						}
						seen[l] = true
					}
				}
				if len(seen) != c.wantBatches*c.size {
					t.Fatalf("epoch %d saw %d examples", epoch, len(seen))
				}
				orders = append(orders, fmt.Sprint(batches))
			}
			if c.n > 3 && (orders[0] == orders[1] || orders[1] == orders[2]) {
				t.Error("consecutive epochs have the same order")
			}
			// The order depends only on the seed and the epoch number.
			again, _ := NewTrainBatcher(numberedSplit(c.n), c.size, 5)
			if got := fmt.Sprint(epochLabels(t, again, 1)); got != orders[1] {
				t.Errorf("epoch 1 again: %s, want %s", got, orders[1])
			}
			other, _ := NewTrainBatcher(numberedSplit(c.n), c.size, 6)
			if c.n > 3 && fmt.Sprint(epochLabels(t, other, 1)) == orders[1] {
				t.Error("seeds 5 and 6 give the same order")
			}
		})
	}
}

// TestTrainBatcherGolden pins the shuffle, so that training runs stay reproducible across versions.
func TestTrainBatcherGolden(t *testing.T) {
	b, err := NewTrainBatcher(numberedSplit(10), 4, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(epochLabels(t, b, 0), epochLabels(t, b, 1))
	const want = "[[4 5 8 1] [0 9 7 3]] [[6 4 5 9] [8 3 7 2]]"
	if got != want {
		t.Errorf("epochs 0 and 1: %s, want %s", got, want)
	}
}

func TestEvalBatcher(t *testing.T) {
	for _, c := range []struct {
		n, size int
		want    string
	}{
		{7, 3, "[[0 1 2] [3 4 5] [6]]"},
		{6, 3, "[[0 1 2] [3 4 5]]"},
		{2, 5, "[[0 1]]"},
		{0, 5, "[]"},
	} {
		b, err := NewEvalBatcher(numberedSplit(c.n), c.size)
		if err != nil {
			t.Fatal(err)
		}
		got := epochLabels(t, b, 0)
		if fmt.Sprint(got) != c.want || len(got) != b.Len() {
			t.Errorf("%d by %d: %v (Len %d), want %s", c.n, c.size, got, b.Len(), c.want)
		}
		if again := epochLabels(t, b, 1); fmt.Sprint(again) != c.want {
			t.Errorf("%d by %d: epoch 1 gives %v", c.n, c.size, again)
		}
	}
}

func TestBatcherStopsEarly(t *testing.T) {
	b, _ := NewTrainBatcher(numberedSplit(20), 2, 1)
	count := 0
	for range b.Epoch(0) {
		count++
		if count == 3 {
			break
		}
	}
	if count != 3 {
		t.Errorf("ran %d batches", count)
	}
}

func TestBatcherErrors(t *testing.T) {
	for _, c := range []struct {
		name    string
		make    func() (*Batcher, error)
		wantErr string
	}{
		{"zero training batch", func() (*Batcher, error) { return NewTrainBatcher(numberedSplit(4), 0, 0) }, "must be positive"},
		{"zero evaluation batch", func() (*Batcher, error) { return NewEvalBatcher(numberedSplit(4), -1) }, "must be positive"},
		{"batch larger than the split", func() (*Batcher, error) { return NewTrainBatcher(numberedSplit(4), 5, 0) },
			"holds 4 examples, fewer than one batch of 5"},
	} {
		if _, err := c.make(); err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.wantErr)
		}
	}
}
