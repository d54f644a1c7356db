package data

import (
	"context"
	"testing"
)

// The benchmarks load the full-size datasets the way a user's first call does: MNIST decompressed from
// the module cache (not the tests' shared copy), then built, or read back from a cache file.
//
//	go test -run '^$' -bench . -benchtime 3x ./models/data/

func benchmarkLoad(b *testing.B, name string, opts Options) {
	b.Helper()
	saved := readMNISTFiles
	readMNISTFiles = readMNIST
	b.Cleanup(func() { readMNISTFiles = saved })
	for b.Loop() {
		ds, err := Load(context.Background(), name, opts)
		if err != nil {
			b.Fatal(err)
		}
		if ds.Train.Len() == 0 {
			b.Fatal("empty dataset")
		}
	}
}

func BenchmarkBuildAddNIST(b *testing.B)  { benchmarkLoad(b, "addnist", Options{NoCache: true}) }
func BenchmarkBuildMultNIST(b *testing.B) { benchmarkLoad(b, "multnist", Options{NoCache: true}) }
func BenchmarkLoadMNIST(b *testing.B)     { benchmarkLoad(b, "mnist", Options{}) }

func BenchmarkReadCachedAddNIST(b *testing.B) {
	opts := Options{CacheDir: b.TempDir()}
	if _, err := Load(context.Background(), "addnist", opts); err != nil { // builds and caches
		b.Fatal(err)
	}
	b.ResetTimer()
	benchmarkLoad(b, "addnist", opts)
}
