package data

import (
	"fmt"
	"slices"
)

// Shape is the shape of one example, channels first: C channels of H×W pixels.
type Shape struct {
	C, H, W int
}

// Size is the number of values in one example, C·H·W.
func (s Shape) Size() int { return s.C * s.H * s.W }

// String prints the shape as numpy would, e.g. "(3, 28, 28)".
func (s Shape) String() string { return fmt.Sprintf("(%d, %d, %d)", s.C, s.H, s.W) }

// A Split is one part of a dataset (training, validation or test): N examples of one shape stored
// contiguously, ready to be copied into a tensor of shape (N, C, H, W) without reordering.
type Split struct {
	Shape Shape

	// Images holds Len()·Shape.Size() values; example i occupies Images[i·Size : (i+1)·Size] in C, H, W order.
	Images []float32

	// Labels holds one class index in [0, classes) per example.
	Labels []int32

	// Digits and Sources are the bookkeeping of the datasets stacked from MNIST digits (AddNIST, MultNIST);
	// they are nil for every other dataset. Digits[i][c] is the digit shown in channel c of example i and
	// Sources[i][c] is the index of that digit's image in the MNIST file it came from (the MNIST training
	// file for the training and validation splits, the MNIST test file for the test split). They let a
	// test, or a sceptical user, recompute every label and check where every pixel came from.
	Digits  [][3]uint8
	Sources [][3]int32
}

// Len is the number of examples in the split.
func (s *Split) Len() int { return len(s.Labels) }

// Image returns the values of example i (a sub-slice of Images, not a copy).
func (s *Split) Image(i int) []float32 {
	size := s.Shape.Size()
	return s.Images[i*size : (i+1)*size : (i+1)*size]
}

// subset returns a new split holding the examples at the given indices, in that order.
func (s *Split) subset(indices []int) *Split {
	size := s.Shape.Size()
	out := &Split{
		Shape:  s.Shape,
		Images: make([]float32, 0, len(indices)*size),
		Labels: make([]int32, 0, len(indices)),
	}
	for _, i := range indices {
		out.Images = append(out.Images, s.Image(i)...)
		out.Labels = append(out.Labels, s.Labels[i])
		if s.Digits != nil {
			out.Digits = append(out.Digits, s.Digits[i])
			out.Sources = append(out.Sources, s.Sources[i])
		}
	}
	return out
}

// concat returns a new split holding the examples of a followed by those of b. Both must have the same
// shape. The bookkeeping survives only when both splits have it.
func concat(a, b *Split) *Split {
	out := &Split{
		Shape:  a.Shape,
		Images: slices.Concat(a.Images, b.Images),
		Labels: slices.Concat(a.Labels, b.Labels),
	}
	if a.Digits != nil && b.Digits != nil {
		out.Digits = slices.Concat(a.Digits, b.Digits)
		out.Sources = slices.Concat(a.Sources, b.Sources)
	}
	return out
}

// A Dataset is a classification task split three ways, as used by the einspace protocol (SPEC §7): search
// trains on Train and scores on Val; the final run retrains on TrainVal and scores on Test.
type Dataset struct {
	// Name is the dataset's name: "addnist", "multnist", "mnist", or the folder name of an npy dataset.
	Name string

	// Shape is the shape of one example; every split has it.
	Shape Shape

	// Classes is the number of classes; labels lie in [0, Classes).
	Classes int

	Train, Val, Test *Split
}

// TrainVal returns the training and validation splits merged into one new split (training examples
// first), for the final retraining of the chosen architecture. The dataset itself is not changed.
func (d *Dataset) TrainVal() *Split { return concat(d.Train, d.Val) }

// String summarises the dataset, e.g. "addnist: (3, 28, 28), 20 classes, 45000/15000/10000 examples".
func (d *Dataset) String() string {
	return fmt.Sprintf("%s: %v, %d classes, %d/%d/%d examples",
		d.Name, d.Shape, d.Classes, d.Train.Len(), d.Val.Len(), d.Test.Len())
}
