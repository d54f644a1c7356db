package data

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"testing"
)

var stackRules = []*stackRule{&addNIST, &multNIST}

// buildForTest builds a stacked dataset from the shared MNIST.
func buildForTest(t testing.TB, rule *stackRule, seed uint64, sizes Sizes) *Dataset {
	t.Helper()
	m, _ := testMNIST(t)
	splits, err := buildStacked(context.Background(), rule, m, seed, sizes)
	if err != nil {
		t.Fatal(err)
	}
	if err := rule.check(splits, sizes); err != nil {
		t.Fatal(err)
	}
	return rule.dataset(splits)
}

func TestTriplesByClass(t *testing.T) {
	// Number of digit triples with each sum 0..27: the coefficients of (1 + x + … + x⁹)³.
	var triplesWithSum [28]int
	for r := range 10 {
		for g := range 10 {
			for b := range 10 {
				triplesWithSum[r+g+b]++
			}
		}
	}
	add := addNIST.triplesByClass()
	if len(add) != 20 {
		t.Fatalf("AddNIST has %d classes, want 20", len(add))
	}
	for class, triples := range add {
		if len(triples) != triplesWithSum[class+1] {
			t.Errorf("AddNIST class %d: %d triples, want %d (those summing to %d)",
				class, len(triples), triplesWithSum[class+1], class+1)
		}
		for _, d := range triples {
			if int(d[0])+int(d[1])+int(d[2])-1 != class {
				t.Errorf("AddNIST class %d holds triple %v", class, d)
			}
		}
	}
	if len(add[0]) != 3 || len(add[12]) != 75 {
		t.Errorf("AddNIST classes 0 and 12 have %d and %d triples; the package documentation says 3 and 75",
			len(add[0]), len(add[12]))
	}

	mult := multNIST.triplesByClass()
	total := 0
	for class, triples := range mult {
		if len(triples) == 0 {
			t.Errorf("MultNIST class %d is unreachable", class)
		}
		for _, d := range triples {
			if int(d[0])*int(d[1])*int(d[2])%10 != class {
				t.Errorf("MultNIST class %d holds triple %v", class, d)
			}
		}
		total += len(triples)
	}
	if len(mult) != 10 || total != 1000 {
		t.Errorf("MultNIST: %d classes and %d triples, want 10 and 1000", len(mult), total)
	}
}

// TestStackedExamples checks every example of small AddNIST and MultNIST builds against its bookkeeping:
// the label follows the rule, each channel is the recorded MNIST image of the recorded digit, and the
// image comes from the right part of the right MNIST file.
func TestStackedExamples(t *testing.T) {
	m, _ := testMNIST(t)
	for _, rule := range stackRules {
		t.Run(rule.name, func(t *testing.T) {
			ds := buildForTest(t, rule, 7, Sizes{Train: 600, Val: 300, Test: 300})
			if ds.Shape != (Shape{3, 28, 28}) || ds.Classes != rule.classes {
				t.Fatalf("shape %v, %d classes", ds.Shape, ds.Classes)
			}
			ranges := m.ranges()
			for k, split := range ds.splits() {
				s, source := *split, ranges[k]
				for i, label := range s.Labels {
					d := s.Digits[i]
					if want, used := rule.label(int(d[0]), int(d[1]), int(d[2])); !used || int32(want) != label {
						t.Fatalf("split %d example %d: label %d for digits %v", k, i, label, d)
					}
					for c := range 3 {
						index := int(s.Sources[i][c])
						if index < source.lo || index >= source.hi {
							t.Fatalf("split %d example %d: source %d outside MNIST images %d..%d",
								k, i, index, source.lo, source.hi-1)
						}
						if source.file.labels[index] != d[c] {
							t.Fatalf("split %d example %d: MNIST image %d shows %d, recorded digit %d",
								k, i, index, source.file.labels[index], d[c])
						}
						mnistImage := source.file.image(index)
						for p, v := range channel(s, i, c) {
							if v != float32(mnistImage[p])/255 {
								t.Fatalf("split %d example %d channel %d pixel %d: %v, want %v/255",
									k, i, c, p, v, mnistImage[p])
							}
						}
					}
				}
			}
			if ds.Train.Sources[0] == ds.Test.Sources[0] && ds.Train.Sources[1] == ds.Test.Sources[1] {
				t.Error("training and test examples come from the same MNIST indices")
			}
		})
	}
}

func TestStackedBalance(t *testing.T) {
	for _, c := range []struct {
		rule *stackRule
		n    int
	}{
		{&addNIST, 400},   // a multiple of 20: exactly 20 per class
		{&addNIST, 417},   // 17 classes get 21
		{&multNIST, 1000}, // 100 per class
		{&multNIST, 3},    // fewer examples than classes
	} {
		t.Run(fmt.Sprintf("%s/%d", c.rule.name, c.n), func(t *testing.T) {
			ds := buildForTest(t, c.rule, 1, Sizes{Train: c.n, Val: 1, Test: 1})
			counts := make([]int, c.rule.classes)
			for _, l := range ds.Train.Labels {
				counts[l]++
			}
			low, high := c.n/c.rule.classes, (c.n+c.rule.classes-1)/c.rule.classes
			for class, count := range counts {
				if count < low || count > high {
					t.Errorf("class %d has %d examples, want %d..%d; counts %v", class, count, low, high, counts)
				}
			}
		})
	}
}

// fingerprint hashes a split's images, labels and bookkeeping with FNV-1a.
func fingerprint(s *Split) uint64 {
	h := fnv.New64a()
	binary.Write(h, binary.LittleEndian, s.Images)
	binary.Write(h, binary.LittleEndian, s.Labels)
	binary.Write(h, binary.LittleEndian, s.Digits)
	binary.Write(h, binary.LittleEndian, s.Sources)
	return h.Sum64()
}

// TestStackedGolden pins the bytes of small builds: any change to how datasets are drawn shows up here,
// and must come with a new cacheVersion so that stale cache files are not reused.
func TestStackedGolden(t *testing.T) {
	sizes := Sizes{Train: 100, Val: 50, Test: 50}
	for _, c := range []struct {
		rule *stackRule
		seed uint64
		want [3]uint64
	}{
		{&addNIST, 0, [3]uint64{0xee05888953e7e97e, 0xcf74ef99aba38148, 0xb82ea287e452b60f}},
		{&multNIST, 0, [3]uint64{0x39dcd8d7a9668043, 0x70a2f8794e623a01, 0x3e71183a3d7337f1}},
		{&addNIST, 42, [3]uint64{0x3ebfe1db3e288477, 0xb7aa447470956c28, 0xe5d61c98735614fc}},
	} {
		ds := buildForTest(t, c.rule, c.seed, sizes)
		got := [3]uint64{fingerprint(ds.Train), fingerprint(ds.Val), fingerprint(ds.Test)}
		if got != c.want {
			t.Errorf("%s seed %d: fingerprints %#x, want %#x", c.rule.name, c.seed, got, c.want)
		}
	}
}

func TestStackedDeterminism(t *testing.T) {
	sizes := Sizes{Train: 200, Val: 60, Test: 60}
	a := buildForTest(t, &addNIST, 3, sizes)
	b := buildForTest(t, &addNIST, 3, sizes)
	other := buildForTest(t, &addNIST, 4, sizes)
	for k := range 3 {
		sa, sb, so := *a.splits()[k], *b.splits()[k], *other.splits()[k]
		if fingerprint(sa) != fingerprint(sb) {
			t.Errorf("split %d: two builds with seed 3 differ", k)
		}
		if fingerprint(sa) == fingerprint(so) {
			t.Errorf("split %d: seeds 3 and 4 give the same data", k)
		}
	}

	// Each split has its own random stream: changing the other sizes leaves it alone.
	resized := buildForTest(t, &addNIST, 3, Sizes{Train: 200, Val: 10, Test: 99})
	if fingerprint(resized.Train) != fingerprint(a.Train) {
		t.Error("changing the validation and test sizes changed the training split")
	}
}

func TestDatasetTrainVal(t *testing.T) {
	ds := buildForTest(t, &multNIST, 5, Sizes{Train: 30, Val: 20, Test: 10})
	merged := ds.TrainVal()
	if merged.Len() != 50 || len(merged.Images) != 50*ds.Shape.Size() || len(merged.Digits) != 50 {
		t.Fatalf("TrainVal holds %d examples", merged.Len())
	}
	for i := range merged.Len() {
		from, j := ds.Train, i
		if i >= 30 {
			from, j = ds.Val, i-30
		}
		if merged.Labels[i] != from.Labels[j] || merged.Sources[i] != from.Sources[j] ||
			math.Float32bits(merged.Image(i)[400]) != math.Float32bits(from.Image(j)[400]) {
			t.Fatalf("TrainVal example %d is not example %d of its split", i, j)
		}
	}
	merged.Images[0] = -1
	if ds.Train.Images[0] == -1 {
		t.Error("TrainVal shares memory with the training split")
	}
}
