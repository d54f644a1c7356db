package data

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
)

const (
	mnistSide       = 28
	mnistPixels     = mnistSide * mnistSide
	mnistTrainCount = 60_000
	mnistTestCount  = 10_000

	// mnistTrainPart splits the MNIST training file into a training part (its first 50,000 images) and a
	// validation part (the last 10,000). MNIST itself uses this split, and AddNIST and MultNIST draw their
	// training and validation digits from these two parts, so no digit image shown in validation was seen
	// in training.
	mnistTrainPart = 50_000
)

// pixelValue maps a byte to a float32 in [0, 1] the way torchvision's ToTensor does (a float32 division by
// 255), so that our images equal the reference ones bit for bit.
var pixelValue = func() (table [256]float32) {
	for i := range table {
		table[i] = float32(i) / 255
	}
	return table
}()

// An mnistFile is one MNIST image file with its labels: image i is images[i·784 : (i+1)·784].
type mnistFile struct {
	images []byte
	labels []uint8
}

func (f *mnistFile) image(i int) []byte { return f.images[i*mnistPixels : (i+1)*mnistPixels] }

// mnistSet is the whole of MNIST, as read from its four files.
type mnistSet struct {
	train, test mnistFile
}

// openMNIST finds the MNIST files (see findMNIST) and reads them.
func openMNIST(opts *Options) (*mnistSet, error) {
	dir, err := findMNIST(opts.MNISTDir)
	if err != nil {
		return nil, err
	}
	opts.logf("data: reading MNIST from %s", dir)
	return readMNISTFiles(dir)
}

// readMNISTFiles reads MNIST from a folder. It is a variable so that tests can share one decompressed copy
// instead of decompressing the files again for every Load (slow under the race detector).
var readMNISTFiles = readMNIST

// readMNIST reads and checks the four MNIST files in dir, decompressing them in parallel.
func readMNIST(dir string) (*mnistSet, error) {
	m := &mnistSet{}
	jobs := []struct {
		file string
		dims int
		want []int
		dst  *[]byte
	}{
		{mnistTrainImages, 3, []int{mnistTrainCount, mnistSide, mnistSide}, &m.train.images},
		{mnistTrainLabels, 1, []int{mnistTrainCount}, &m.train.labels},
		{mnistTestImages, 3, []int{mnistTestCount, mnistSide, mnistSide}, &m.test.images},
		{mnistTestLabels, 1, []int{mnistTestCount}, &m.test.labels},
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, job := range jobs {
		wg.Go(func() {
			dims, values, err := readIDX(filepath.Join(dir, job.file), job.dims)
			if err == nil && !slices.Equal(dims, job.want) {
				err = fmt.Errorf("%s: dimensions %v, want %v (the original MNIST file)", job.file, dims, job.want)
			}
			*job.dst, errs[i] = values, err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("read MNIST from %s: %w", dir, err)
		}
	}
	for _, f := range []struct {
		name   string
		labels []uint8
	}{{mnistTrainLabels, m.train.labels}, {mnistTestLabels, m.test.labels}} {
		for i, l := range f.labels {
			if l > 9 {
				return nil, fmt.Errorf("read MNIST from %s: %s: label %d at index %d is not a digit", dir, f.name, l, i)
			}
		}
	}
	return m, nil
}

// mnistRange is a contiguous range [lo, hi) of one MNIST file: the source of one split's digits.
type mnistRange struct {
	file   *mnistFile
	lo, hi int
}

// mnistRanges returns the sources of the training, validation and test splits.
func (m *mnistSet) ranges() [3]mnistRange {
	return [3]mnistRange{
		{&m.train, 0, mnistTrainPart},
		{&m.train, mnistTrainPart, mnistTrainCount},
		{&m.test, 0, mnistTestCount},
	}
}

var mnistDefaultSizes = Sizes{Train: mnistTrainPart, Val: mnistTrainCount - mnistTrainPart, Test: mnistTestCount}

// loadMNISTDataset returns MNIST as a 1×28×28, 10-class dataset.
func loadMNISTDataset(ctx context.Context, opts Options) (*Dataset, error) {
	sizes := opts.Sizes.orDefault(mnistDefaultSizes)
	if sizes.Train > mnistDefaultSizes.Train || sizes.Val > mnistDefaultSizes.Val || sizes.Test > mnistDefaultSizes.Test {
		return nil, fmt.Errorf("load mnist: sizes %v exceed the %v examples MNIST has", sizes, mnistDefaultSizes)
	}
	m, err := openMNIST(&opts)
	if err != nil {
		return nil, fmt.Errorf("load mnist: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ds := &Dataset{Name: "mnist", Shape: Shape{1, mnistSide, mnistSide}, Classes: 10}
	wanted := [3]int{sizes.Train, sizes.Val, sizes.Test}
	for k, r := range m.ranges() {
		rng := splitRand(opts.Seed, k)
		indices := chooseSubset(r.hi-r.lo, wanted[k], rng)
		split := &Split{
			Shape:  ds.Shape,
			Images: make([]float32, 0, len(indices)*mnistPixels),
			Labels: make([]int32, 0, len(indices)),
		}
		for _, i := range indices {
			for _, p := range r.file.image(r.lo + i) {
				split.Images = append(split.Images, pixelValue[p])
			}
			split.Labels = append(split.Labels, int32(r.file.labels[r.lo+i]))
		}
		*ds.splits()[k] = split
	}
	return ds, nil
}

// splits returns pointers to the three split fields, in the order train, validation, test.
func (d *Dataset) splits() [3]**Split { return [3]**Split{&d.Train, &d.Val, &d.Test} }

// splitRand returns the random stream of split k (0 train, 1 validation, 2 test). Each split has its own
// PCG stream, so asking for a different number of test examples does not change the training split.
func splitRand(seed uint64, k int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(k)+1))
}

// chooseSubset picks n of the indices 0..total-1 uniformly at random without replacement and returns them
// in increasing order. When n == total it returns them all and leaves rng alone.
func chooseSubset(total, n int, rng *rand.Rand) []int {
	if n >= total {
		indices := make([]int, total)
		for i := range indices {
			indices[i] = i
		}
		return indices
	}
	indices := rng.Perm(total)[:n]
	slices.Sort(indices)
	return indices
}
