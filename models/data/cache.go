package data

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// A built dataset is cached in one file:
//
//	header   cacheHeader (little-endian, fixed size): magic, format version, dataset name, seed,
//	         the three split sizes and the example shape
//	splits   for train, validation, test in turn, with n examples each:
//	           labels  n × int32
//	           digits  n × 3 bytes
//	           sources n × 3 × int32
//	           pixels  n × C·H·W bytes
//	trailer  CRC-32C (Castagnoli) of everything before it, uint32
//
// Pixels are stored as the original bytes because every built image is exactly byte/255: a quarter of the
// size of float32, and lossless. The header repeats the key the file name encodes, so a renamed or stale
// file is never taken for another dataset; the checksum catches corruption.
const (
	cacheMagic = "EINSDATA"

	// cacheVersion is bumped whenever building changes, so that no file built by an older rule is reused.
	cacheVersion = 1

	cacheExtension = ".einsdata"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type cacheHeader struct {
	Magic   [8]byte
	Version uint32
	Name    [16]byte
	Seed    uint64
	Sizes   [3]uint64
	Shape   [3]uint32
}

// cacheKey identifies one built dataset.
type cacheKey struct {
	name  string
	seed  uint64
	sizes Sizes
}

func (k cacheKey) fileName() string {
	return fmt.Sprintf("%s-seed%d-%d-%d-%d-v%d%s",
		k.name, k.seed, k.sizes.Train, k.sizes.Val, k.sizes.Test, cacheVersion, cacheExtension)
}

func (k cacheKey) header() cacheHeader {
	h := cacheHeader{
		Version: cacheVersion,
		Seed:    k.seed,
		Sizes:   [3]uint64{uint64(k.sizes.Train), uint64(k.sizes.Val), uint64(k.sizes.Test)},
		Shape:   [3]uint32{uint32(stackShape.C), uint32(stackShape.H), uint32(stackShape.W)},
	}
	copy(h.Magic[:], cacheMagic)
	copy(h.Name[:], k.name)
	return h
}

// exampleBytes is the number of bytes one example takes in a cache file.
const exampleBytes = 4 + 3 + 3*4 + 3*mnistPixels

func (k cacheKey) fileSize() int64 {
	n := int64(k.sizes.Train + k.sizes.Val + k.sizes.Test)
	return int64(binary.Size(cacheHeader{})) + n*exampleBytes + 4
}

// cacheDir returns the cache folder: dir if given, else $XDG_CACHE_HOME/einspace/datasets, else
// ~/.cache/einspace/datasets.
func cacheDir(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	// The XDG specification says to ignore a relative XDG_CACHE_HOME.
	if xdg := os.Getenv("XDG_CACHE_HOME"); xdg != "" && filepath.IsAbs(xdg) {
		return filepath.Join(xdg, "einspace", "datasets"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder: set Options.CacheDir or $XDG_CACHE_HOME: %w", err)
	}
	return filepath.Join(home, ".cache", "einspace", "datasets"), nil
}

// writeCache stores splits under path. It writes a temporary file and renames it into place, so a reader
// never sees a half-written file and a crash leaves no corrupt one.
func writeCache(path string, key cacheKey, splits [3]*stackedSplit) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()

	crc := crc32.New(castagnoli)
	w := bufio.NewWriterSize(io.MultiWriter(f, crc), 1<<20)
	header := key.header()
	if err := binary.Write(w, binary.LittleEndian, &header); err != nil {
		return err
	}
	for _, s := range splits {
		var buf []byte
		for _, l := range s.labels {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(l))
		}
		for _, d := range s.digits {
			buf = append(buf, d[:]...)
		}
		for _, src := range s.sources {
			for _, index := range src {
				buf = binary.LittleEndian.AppendUint32(buf, uint32(index))
			}
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
		if _, err := w.Write(s.pixels); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := binary.Write(f, binary.LittleEndian, crc.Sum32()); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// errCorruptCache marks a cache file that exists but cannot be trusted.
var errCorruptCache = errors.New("corrupt cache file")

// readCache reads the splits stored under path and checks that they are exactly what key asks for. A
// missing file gives an error satisfying errors.Is(err, fs.ErrNotExist); any other problem an error
// satisfying errors.Is(err, errCorruptCache) that says what is wrong.
func readCache(path string, key cacheKey) (splits [3]*stackedSplit, err error) {
	f, err := os.Open(path)
	if err != nil {
		return splits, err
	}
	defer f.Close()
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w: %s", path, errCorruptCache, fmt.Sprintf(format, args...))
	}

	info, err := f.Stat()
	if err != nil {
		return splits, err
	}
	if want := key.fileSize(); info.Size() != want {
		return splits, corrupt("size %d bytes, want %d (truncated, or not a cache of %s)", info.Size(), want, key.fileName())
	}

	crc := crc32.New(castagnoli)
	buffered := bufio.NewReaderSize(f, 1<<20)
	r := io.TeeReader(buffered, crc)
	var header cacheHeader
	if err := binary.Read(r, binary.LittleEndian, &header); err != nil {
		return splits, corrupt("reading the header: %v", err)
	}
	if want := key.header(); header != want {
		return splits, corrupt("header %s, want %s", describeHeader(header), describeHeader(want))
	}

	counts := [3]int{key.sizes.Train, key.sizes.Val, key.sizes.Test}
	for k, n := range counts {
		buf := make([]byte, n*(exampleBytes-3*mnistPixels))
		s := &stackedSplit{
			labels:  make([]int32, n),
			digits:  make([][3]uint8, n),
			sources: make([][3]int32, n),
			pixels:  make([]byte, n*3*mnistPixels),
		}
		if _, err := io.ReadFull(r, buf); err != nil {
			return splits, corrupt("reading split %d: %v", k, err)
		}
		for i := range s.labels {
			s.labels[i] = int32(binary.LittleEndian.Uint32(buf[4*i:]))
		}
		buf = buf[4*n:]
		for i := range s.digits {
			copy(s.digits[i][:], buf[3*i:])
		}
		buf = buf[3*n:]
		for i := range s.sources {
			for c := range 3 {
				s.sources[i][c] = int32(binary.LittleEndian.Uint32(buf[12*i+4*c:]))
			}
		}
		if _, err := io.ReadFull(r, s.pixels); err != nil {
			return splits, corrupt("reading split %d: %v", k, err)
		}
		splits[k] = s
	}

	computed := crc.Sum32()
	var stored uint32
	if err := binary.Read(buffered, binary.LittleEndian, &stored); err != nil {
		return splits, corrupt("reading the checksum: %v", err)
	}
	if stored != computed {
		return splits, corrupt("checksum %08x, computed %08x", stored, computed)
	}
	return splits, nil
}

func describeHeader(h cacheHeader) string {
	name := string(h.Name[:])
	for i, b := range h.Name {
		if b == 0 {
			name = string(h.Name[:i])
			break
		}
	}
	return fmt.Sprintf("{magic %q, version %d, dataset %q, seed %d, sizes %v, shape %v}",
		h.Magic[:], h.Version, name, h.Seed, h.Sizes, h.Shape)
}
