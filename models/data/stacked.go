package data

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
)

// A stackRule defines a dataset whose examples stack three MNIST digits as the R, G and B channels of a
// 3×28×28 image, labelled by a function of the three digits (SPEC §11).
type stackRule struct {
	name     string
	classes  int
	defaults Sizes

	// label returns the class of the digit triple (r, g, b), or false when the dataset never uses it.
	label func(r, g, b int) (class int, used bool)
}

// addNIST labels a triple r+g+b−1. Only sums 1..20 give one of the 20 classes: the triple (0,0,0) and
// triples summing to 21..27 never occur.
var addNIST = stackRule{
	name:     "addnist",
	classes:  20,
	defaults: Sizes{Train: 45_000, Val: 15_000, Test: 10_000},
	label: func(r, g, b int) (int, bool) {
		class := r + g + b - 1
		return class, 0 <= class && class < 20
	},
}

// multNIST labels a triple (r·g·b) mod 10; every triple is used.
var multNIST = stackRule{
	name:     "multnist",
	classes:  10,
	defaults: Sizes{Train: 50_000, Val: 10_000, Test: 10_000},
	label: func(r, g, b int) (int, bool) {
		return r * g * b % 10, true
	},
}

var stackShape = Shape{3, mnistSide, mnistSide}

// triplesByClass lists, for every class, all digit triples with that label.
func (rule *stackRule) triplesByClass() [][][3]uint8 {
	byClass := make([][][3]uint8, rule.classes)
	for r := range 10 {
		for g := range 10 {
			for b := range 10 {
				if class, used := rule.label(r, g, b); used {
					byClass[class] = append(byClass[class], [3]uint8{uint8(r), uint8(g), uint8(b)})
				}
			}
		}
	}
	return byClass
}

// stackedSplit is a built split in its compact form, before pixels become float32: what the cache stores.
type stackedSplit struct {
	pixels  []byte // len(labels)·3·784 bytes, channels first
	labels  []int32
	digits  [][3]uint8
	sources [][3]int32
}

// loadStacked returns the dataset that rule defines, from the cache when a valid cached copy exists,
// otherwise built from MNIST (and then cached).
func loadStacked(ctx context.Context, rule *stackRule, opts Options) (*Dataset, error) {
	sizes := opts.Sizes.orDefault(rule.defaults)
	key := cacheKey{name: rule.name, seed: opts.Seed, sizes: sizes}

	var cachePath string
	if !opts.NoCache {
		dir, err := cacheDir(opts.CacheDir)
		if err != nil {
			opts.logf("data: not caching %s: %v", rule.name, err)
		} else {
			cachePath = filepath.Join(dir, key.fileName())
			splits, err := readCache(cachePath, key)
			if err == nil {
				err = rule.check(splits, sizes)
			}
			switch {
			case err == nil:
				opts.logf("data: read %s from the cache %s", rule.name, cachePath)
				return rule.dataset(splits), nil
			case errors.Is(err, fs.ErrNotExist):
				// Not built yet.
			default:
				opts.logf("data: rebuilding %s because the cache file is unusable: %v", rule.name, err)
			}
		}
	}

	m, err := openMNIST(&opts)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", rule.name, err)
	}
	splits, err := buildStacked(ctx, rule, m, opts.Seed, sizes)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", rule.name, err)
	}
	if cachePath != "" {
		// The cache only saves time, so failing to write it is worth a note, not an error.
		if err := writeCache(cachePath, key, splits); err != nil {
			opts.logf("data: could not cache %s: %v", rule.name, err)
		} else {
			opts.logf("data: cached %s in %s", rule.name, cachePath)
		}
	}
	return rule.dataset(splits), nil
}

// buildStacked draws the three splits of rule's dataset from MNIST: training and validation digits from
// the two parts of the MNIST training file, test digits from the MNIST test file.
func buildStacked(ctx context.Context, rule *stackRule, m *mnistSet, seed uint64, sizes Sizes) ([3]*stackedSplit, error) {
	var splits [3]*stackedSplit
	triples := rule.triplesByClass()
	counts := [3]int{sizes.Train, sizes.Val, sizes.Test}
	for k, source := range m.ranges() {
		split, err := buildStackedSplit(ctx, triples, source, counts[k], splitRand(seed, k))
		if err != nil {
			return splits, err
		}
		splits[k] = split
	}
	return splits, nil
}

// buildStackedSplit draws n class-balanced examples. For each example it takes the next class from a
// shuffled list holding every class equally often (the n mod classes left-over examples go to randomly
// chosen classes, one each), then a digit triple uniformly among all triples with that class, then for
// each digit an image uniformly among the images of that digit in source. Picking the class first is what
// makes the classes balanced: drawing digits uniformly would make AddNIST's middle sums far more common.
func buildStackedSplit(ctx context.Context, triples [][][3]uint8, source mnistRange, n int, rng *rand.Rand) (*stackedSplit, error) {
	var byDigit [10][]int32
	for i := source.lo; i < source.hi; i++ {
		d := source.file.labels[i]
		byDigit[d] = append(byDigit[d], int32(i))
	}
	for d, images := range byDigit {
		if len(images) == 0 {
			return nil, fmt.Errorf("MNIST images %d..%d hold no digit %d", source.lo, source.hi-1, d)
		}
	}

	classes := balancedClasses(n, len(triples), rng)
	split := &stackedSplit{
		pixels:  make([]byte, n*stackShape.Size()),
		labels:  classes,
		digits:  make([][3]uint8, n),
		sources: make([][3]int32, n),
	}
	for i, class := range classes {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		options := triples[class]
		digits := options[rng.IntN(len(options))]
		split.digits[i] = digits
		for c, d := range digits {
			images := byDigit[d]
			index := images[rng.IntN(len(images))]
			split.sources[i][c] = index
			offset := (i*3 + c) * mnistPixels
			copy(split.pixels[offset:offset+mnistPixels], source.file.image(int(index)))
		}
	}
	return split, nil
}

// balancedClasses returns n class labels in random order, each of the classes appearing n/classes times
// and n mod classes randomly chosen classes once more, so counts differ by at most one.
func balancedClasses(n, classes int, rng *rand.Rand) []int32 {
	labels := make([]int32, 0, n)
	for class := range classes {
		for range n / classes {
			labels = append(labels, int32(class))
		}
	}
	for _, class := range rng.Perm(classes)[:n%classes] {
		labels = append(labels, int32(class))
	}
	rng.Shuffle(len(labels), func(i, j int) { labels[i], labels[j] = labels[j], labels[i] })
	return labels
}

// dataset turns built splits into a Dataset, scaling pixels to [0, 1].
func (rule *stackRule) dataset(splits [3]*stackedSplit) *Dataset {
	ds := &Dataset{Name: rule.name, Shape: stackShape, Classes: rule.classes}
	for k, s := range splits {
		images := make([]float32, len(s.pixels))
		for i, p := range s.pixels {
			images[i] = pixelValue[p]
		}
		*ds.splits()[k] = &Split{Shape: stackShape, Images: images, Labels: s.labels, Digits: s.digits, Sources: s.sources}
	}
	return ds
}

// check verifies that splits hold the requested number of examples and that every label is the one rule
// gives the recorded digits: a last guard against reusing data built by a different rule.
func (rule *stackRule) check(splits [3]*stackedSplit, sizes Sizes) error {
	counts := [3]int{sizes.Train, sizes.Val, sizes.Test}
	for k, s := range splits {
		if len(s.labels) != counts[k] || len(s.digits) != counts[k] || len(s.sources) != counts[k] ||
			len(s.pixels) != counts[k]*stackShape.Size() {
			return fmt.Errorf("split %d holds %d examples, want %d", k, len(s.labels), counts[k])
		}
		for i, d := range s.digits {
			if d[0] > 9 || d[1] > 9 || d[2] > 9 {
				return fmt.Errorf("split %d, example %d: digits %v are not all digits", k, i, d)
			}
			class, used := rule.label(int(d[0]), int(d[1]), int(d[2]))
			if !used || int32(class) != s.labels[i] {
				return fmt.Errorf("split %d, example %d: label %d does not match digits %v", k, i, s.labels[i], d)
			}
		}
	}
	return nil
}
