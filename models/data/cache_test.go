package data

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestCacheRoundTrip(t *testing.T) {
	m, _ := testMNIST(t)
	key := cacheKey{name: "addnist", seed: 9, sizes: Sizes{Train: 40, Val: 20, Test: 21}}
	splits, err := buildStacked(context.Background(), &addNIST, m, key.seed, key.sizes)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "nested", key.fileName())
	if err := writeCache(path, key, splits); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Size() != key.fileSize() {
		t.Fatalf("cache file: %v, %v; want %d bytes", info, err, key.fileSize())
	}
	back, err := readCache(path, key)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, splits) {
		t.Fatal("the splits read back differ from those written")
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.tmp*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

func TestCacheRejectsBadFiles(t *testing.T) {
	m, _ := testMNIST(t)
	key := cacheKey{name: "multnist", seed: 2, sizes: Sizes{Train: 20, Val: 10, Test: 10}}
	splits, err := buildStacked(context.Background(), &multNIST, m, key.seed, key.sizes)
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(t.TempDir(), key.fileName())
	if err := writeCache(good, key, splits); err != nil {
		t.Fatal(err)
	}
	valid, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	otherSeed := key
	otherSeed.seed = 3
	for _, c := range []struct {
		name    string
		edit    func([]byte) []byte
		key     cacheKey
		wantErr string
	}{
		{"flipped pixel", func(b []byte) []byte { b[len(b)-100] ^= 1; return b }, key, "checksum"},
		{"flipped label", func(b []byte) []byte { b[100] ^= 1; return b }, key, "checksum"},
		{"flipped checksum", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }, key, "checksum"},
		{"truncated", func(b []byte) []byte { return b[:len(b)-10] }, key, "truncated"},
		{"extra bytes", func(b []byte) []byte { return append(b, 0) }, key, "size"},
		{"bad magic", func(b []byte) []byte { b[0] = 'X'; return b }, key, "header"},
		{"built for another seed", func(b []byte) []byte { return b }, otherSeed, "seed 2, sizes"},
		{"empty", func([]byte) []byte { return nil }, key, "size 0 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cache")
			if err := os.WriteFile(path, c.edit(append([]byte(nil), valid...)), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := readCache(path, c.key)
			if !errors.Is(err, errCorruptCache) || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("readCache error = %v, want a corrupt-cache error mentioning %q", err, c.wantErr)
			}
		})
	}

	if _, err := readCache(filepath.Join(t.TempDir(), "absent"), key); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("readCache of a missing file = %v, want fs.ErrNotExist", err)
	}
}

// TestLoadUsesAndRepairsCache goes through Load: the first call builds and caches, the second reads the
// cache, and a corrupted cache file is noticed, reported and rebuilt.
func TestLoadUsesAndRepairsCache(t *testing.T) {
	_, dir := testMNIST(t)
	var log []string
	opts := Options{
		Seed:     11,
		Sizes:    Sizes{Train: 60, Val: 20, Test: 20},
		MNISTDir: dir,
		CacheDir: t.TempDir(),
		Logf:     func(format string, args ...any) { log = append(log, fmt.Sprintf(format, args...)) },
	}
	load := func(wantLog string) *Dataset {
		t.Helper()
		log = nil
		ds, err := Load(context.Background(), "addnist", opts)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(log, "\n"), wantLog) {
			t.Fatalf("log %q does not mention %q", log, wantLog)
		}
		return ds
	}

	built := load("cached addnist")
	fromCache := load("read addnist from the cache")
	if !reflect.DeepEqual(built, fromCache) {
		t.Fatal("the dataset read from the cache differs from the one built")
	}

	path := filepath.Join(opts.CacheDir, cacheKey{"addnist", 11, opts.Sizes}.fileName())
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0x40
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	rebuilt := load("rebuilding addnist because the cache file is unusable")
	if !reflect.DeepEqual(built, rebuilt) {
		t.Fatal("the rebuilt dataset differs from the original")
	}
	if _, err := readCache(path, cacheKey{"addnist", 11, opts.Sizes}); err != nil {
		t.Fatalf("the cache file was not repaired: %v", err)
	}

	// A well-formed file whose labels do not follow the rule (as one written by a buggy older build would
	// be) passes the checksum but not the rule check, and is rebuilt too.
	m, _ := testMNIST(t)
	splits, err := buildStacked(context.Background(), &addNIST, m, opts.Seed, opts.Sizes)
	if err != nil {
		t.Fatal(err)
	}
	splits[1].labels[3] = (splits[1].labels[3] + 1) % 20
	if err := writeCache(path, cacheKey{"addnist", 11, opts.Sizes}, splits); err != nil {
		t.Fatal(err)
	}
	if again := load("split 1, example 3: label"); !reflect.DeepEqual(built, again) {
		t.Fatal("the dataset rebuilt after a rule mismatch differs from the original")
	}
}

func TestCacheDir(t *testing.T) {
	t.Setenv("HOME", "/home/someone")
	for _, c := range []struct{ option, xdg, want string }{
		{"/explicit", "/xdg", "/explicit"},
		{"", "/xdg", "/xdg/einspace/datasets"},
		{"", "relative", "/home/someone/.cache/einspace/datasets"},
		{"", "", "/home/someone/.cache/einspace/datasets"},
	} {
		t.Setenv("XDG_CACHE_HOME", c.xdg)
		if got, err := cacheDir(c.option); err != nil || got != filepath.FromSlash(c.want) {
			t.Errorf("cacheDir(%q) with XDG_CACHE_HOME=%q = %q, %v; want %q", c.option, c.xdg, got, err, c.want)
		}
	}
}
