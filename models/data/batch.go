package data

import (
	"fmt"
	"iter"
	"math/rand/v2"
)

// A Batch is a run of consecutive or shuffled examples, laid out to be copied into a tensor of shape
// (Len, C, H, W) and a label vector of length Len.
type Batch struct {
	Shape  Shape
	Images []float32 // Len()·Shape.Size() values
	Labels []int32
}

// Len is the number of examples in the batch.
func (b Batch) Len() int { return len(b.Labels) }

// A Batcher cuts a split into batches, one epoch at a time, as the einspace protocol feeds a network (SPEC
// §7.3): training batches are shuffled afresh every epoch and the last incomplete batch is dropped
// (PyTorch's drop_last), evaluation batches keep the split's order and its last, partial batch.
//
// Training batches are gathered into a buffer that is reused for the next batch of the same epoch, so a
// Batch is valid only until the iteration moves on; copy it to keep it. Evaluation batches are sub-slices
// of the split itself and must not be modified.
type Batcher struct {
	split    *Split
	size     int
	training bool
	seed     uint64
}

// NewTrainBatcher returns a batcher that yields split in batches of batchSize, shuffled every epoch and
// dropping the last incomplete batch. The order of epoch e depends only on seed and e.
func NewTrainBatcher(split *Split, batchSize int, seed uint64) (*Batcher, error) {
	if batchSize <= 0 {
		return nil, fmt.Errorf("training batches: batch size must be positive, got %d", batchSize)
	}
	if split.Len() < batchSize {
		return nil, fmt.Errorf("training batches: the split holds %d examples, fewer than one batch of %d, "+
			"and incomplete batches are dropped; use a smaller batch size", split.Len(), batchSize)
	}
	return &Batcher{split: split, size: batchSize, training: true, seed: seed}, nil
}

// NewEvalBatcher returns a batcher that yields split in order, in batches of batchSize, the last batch
// holding whatever remains.
func NewEvalBatcher(split *Split, batchSize int) (*Batcher, error) {
	if batchSize <= 0 {
		return nil, fmt.Errorf("evaluation batches: batch size must be positive, got %d", batchSize)
	}
	return &Batcher{split: split, size: batchSize}, nil
}

// Len is the number of batches in one epoch.
func (b *Batcher) Len() int {
	if b.training {
		return b.split.Len() / b.size
	}
	return (b.split.Len() + b.size - 1) / b.size
}

// Epoch yields the batches of epoch number epoch (counted from 0). For a training batcher each epoch has
// its own order, fixed by the seed and the epoch number, so a run resumed at epoch e sees the same batches
// as an uninterrupted one. An evaluation batcher yields the same batches whatever the epoch.
func (b *Batcher) Epoch(epoch int) iter.Seq[Batch] {
	if !b.training {
		return b.inOrder
	}
	return func(yield func(Batch) bool) {
		order := rand.New(rand.NewPCG(b.seed, uint64(epoch))).Perm(b.split.Len())
		size := b.split.Shape.Size()
		batch := Batch{
			Shape:  b.split.Shape,
			Images: make([]float32, b.size*size),
			Labels: make([]int32, b.size),
		}
		for start := 0; start+b.size <= len(order); start += b.size {
			for j, i := range order[start : start+b.size] {
				copy(batch.Images[j*size:(j+1)*size], b.split.Image(i))
				batch.Labels[j] = b.split.Labels[i]
			}
			if !yield(batch) {
				return
			}
		}
	}
}

func (b *Batcher) inOrder(yield func(Batch) bool) {
	size := b.split.Shape.Size()
	n := b.split.Len()
	for start := 0; start < n; start += b.size {
		end := min(start+b.size, n)
		batch := Batch{
			Shape:  b.split.Shape,
			Images: b.split.Images[start*size : end*size : end*size],
			Labels: b.split.Labels[start:end:end],
		}
		if !yield(batch) {
			return
		}
	}
}
