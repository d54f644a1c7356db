package data

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestLoadRejectsBadRequests(t *testing.T) {
	for _, c := range []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"cifar10", Options{}, `unknown dataset "cifar10": valid names are addnist, multnist, mnist, npy:DIR`},
		{"", Options{}, "valid names are"},
		{"npy:", Options{}, "give the folder of the .npy files"},
		{"addnist", Options{Sizes: Sizes{Train: -1}}, "must not be negative"},
		{"mnist", Options{Sizes: Sizes{Val: 10_001}}, "sizes 50000/10001/10000 exceed the 50000/10000/10000"},
		{"multnist", Options{MNISTDir: "/no/such/folder", NoCache: true},
			"/no/such/folder (Options.MNISTDir): missing train-images-idx3-ubyte.gz"},
	} {
		_, err := Load(context.Background(), c.name, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("Load(%q) error = %v, want one containing %q", c.name, err, c.wantErr)
		}
	}
}

func TestLoadMNIST(t *testing.T) {
	m, dir := testMNIST(t)
	ds, err := Load(context.Background(), "MNIST", Options{Seed: 1, MNISTDir: dir, Sizes: Sizes{Train: 500, Test: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Name != "mnist" || ds.Shape != (Shape{1, 28, 28}) || ds.Classes != 10 ||
		ds.Train.Len() != 500 || ds.Val.Len() != 10_000 || ds.Test.Len() != 100 {
		t.Fatalf("got %v", ds)
	}
	// The validation split is the last 10,000 training images, in order.
	for _, i := range []int{0, 9_999} {
		if int32(m.train.labels[50_000+i]) != ds.Val.Labels[i] || ds.Val.Image(i)[300] != pixelValue[m.train.image(50_000 + i)[300]] {
			t.Errorf("validation example %d is not MNIST training image %d", i, 50_000+i)
		}
	}
	// Every training example is one of the first 50,000 training images: find it by its pixels.
	first := map[string]bool{}
	for i := range 50_000 {
		first[string(m.train.image(i))] = true
	}
	for i := range ds.Train.Len() {
		pixels := make([]byte, mnistPixels)
		for p, v := range ds.Train.Image(i) {
			pixels[p] = byte(v*255 + 0.5)
		}
		if !first[string(pixels)] {
			t.Fatalf("training example %d is not among the first 50,000 MNIST training images", i)
		}
	}
}

func TestLoadHonoursCancellation(t *testing.T) {
	_, dir := testMNIST(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, name := range []string{"addnist", "mnist"} {
		_, err := Load(ctx, name, Options{MNISTDir: dir, NoCache: true, Sizes: Sizes{Train: 100, Val: 10, Test: 10}})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Load(%q) with a cancelled context: %v", name, err)
		}
	}
}

func TestLoadFromEnvironmentOverride(t *testing.T) {
	_, dir := testMNIST(t)
	t.Setenv(mnistDirEnv, dir)
	t.Setenv("GOMODCACHE", t.TempDir()) // would be empty: the override must win
	var log strings.Builder
	ds, err := Load(context.Background(), "multnist", Options{
		NoCache: true,
		Sizes:   Sizes{Train: 20, Val: 10, Test: 10},
		Logf:    func(format string, args ...any) { log.WriteString(format) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Classes != 10 || ds.Train.Len() != 20 {
		t.Fatalf("got %v", ds)
	}
	if strings.Contains(log.String(), "cache") {
		t.Errorf("NoCache, but the log mentions the cache: %s", log.String())
	}
}
