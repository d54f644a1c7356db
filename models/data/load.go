package data

import (
	"context"
	"fmt"
	"strings"
)

// Sizes are the numbers of examples in the training, validation and test splits.
type Sizes struct {
	Train, Val, Test int
}

// String prints the sizes as "train/val/test".
func (s Sizes) String() string { return fmt.Sprintf("%d/%d/%d", s.Train, s.Val, s.Test) }

// orDefault replaces every zero field of s by the matching field of def.
func (s Sizes) orDefault(def Sizes) Sizes {
	if s.Train == 0 {
		s.Train = def.Train
	}
	if s.Val == 0 {
		s.Val = def.Val
	}
	if s.Test == 0 {
		s.Test = def.Test
	}
	return s
}

func (s Sizes) check() error {
	if s.Train < 0 || s.Val < 0 || s.Test < 0 {
		return fmt.Errorf("split sizes must not be negative, got %v", s)
	}
	return nil
}

// Options tune Load. The zero value loads the full dataset with seed 0, caching built datasets in the
// default cache directory.
type Options struct {
	// Seed makes building (AddNIST, MultNIST) and sub-sampling (any dataset) deterministic: the same seed
	// and sizes always give the same examples in the same order.
	Seed uint64

	// Sizes asks for smaller (or, for the built datasets, larger) splits. A zero field means the dataset's
	// default size: the paper's 45,000/15,000/10,000 for AddNIST, 50,000/10,000/10,000 for MultNIST and
	// MNIST, and the whole file for an npy dataset. Built datasets draw the requested number of examples,
	// class-balanced; MNIST and npy datasets keep a seeded random subset of their examples, in file order.
	Sizes Sizes

	// MNISTDir is the folder holding the four original MNIST files (train-images-idx3-ubyte.gz and its
	// siblings). Empty means $EINSPACE_MNIST_DIR, or else the data/ folder of the GoMNIST module in the Go
	// module cache.
	MNISTDir string

	// CacheDir is where AddNIST and MultNIST are stored after they are first built. Empty means
	// $XDG_CACHE_HOME/einspace/datasets, or ~/.cache/einspace/datasets.
	CacheDir string

	// NoCache builds AddNIST and MultNIST afresh without reading or writing the cache.
	NoCache bool

	// Logf, when set, is told what Load did: where it found MNIST, whether it used or wrote the cache, and
	// why a cache file was rebuilt. Load works the same without it.
	Logf func(format string, args ...any)
}

func (o *Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

// npyPrefix introduces the folder of an npy dataset in a name given to Load.
const npyPrefix = "npy:"

// Names lists the dataset names Load accepts; "npy:DIR" stands for any folder DIR of .npy files.
func Names() []string { return []string{"addnist", "multnist", "mnist", npyPrefix + "DIR"} }

// Load returns the named dataset:
//
//   - "addnist" and "multnist" are built from MNIST digits as SPEC §11 describes (see the package
//     documentation), or read back from the cache;
//   - "mnist" is MNIST itself, 1×28×28 with 10 classes, its training file split 50,000/10,000 into
//     training and validation, its test file the test split;
//   - "npy:DIR" reads the Unseen NAS files {train,valid,test}_{x,y}.npy from the folder DIR.
//
// Pixel values are in [0, 1] for the MNIST-based datasets and as stored for npy datasets; call
// Dataset.Normalize to standardise them. Load stops early with ctx's error when ctx is cancelled.
func Load(ctx context.Context, name string, opts Options) (*Dataset, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := opts.Sizes.check(); err != nil {
		return nil, fmt.Errorf("load %q: %w", name, err)
	}
	if dir, ok := strings.CutPrefix(name, npyPrefix); ok {
		if dir == "" {
			return nil, fmt.Errorf("load %q: give the folder of the .npy files after %q, e.g. %q",
				name, npyPrefix, npyPrefix+"data/addnist")
		}
		return loadNPY(ctx, dir, opts)
	}
	switch strings.ToLower(name) {
	case addNIST.name:
		return loadStacked(ctx, &addNIST, opts)
	case multNIST.name:
		return loadStacked(ctx, &multNIST, opts)
	case "mnist":
		return loadMNISTDataset(ctx, opts)
	}
	return nil, fmt.Errorf("unknown dataset %q: valid names are %s", name, strings.Join(Names(), ", "))
}
