package data

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"codeberg.org/sbinet/npyio"
)

// npySplitNames are the file-name prefixes of the Unseen NAS splits, in the order train, validation, test.
var npySplitNames = [3]string{"train", "valid", "test"}

// loadNPY reads an Unseen NAS dataset: {train,valid,test}_{x,y}.npy in dir, x float32 or float64 of shape
// (N, C, H, W), y integer labels of shape (N,).
func loadNPY(ctx context.Context, dir string, opts Options) (*Dataset, error) {
	fail := func(err error) (*Dataset, error) { return nil, fmt.Errorf("load npy dataset %s: %w", dir, err) }
	if info, err := os.Stat(dir); err != nil {
		return fail(err)
	} else if !info.IsDir() {
		return fail(fmt.Errorf("not a folder"))
	}
	var missing []string
	for _, split := range npySplitNames {
		for _, part := range []string{"_x.npy", "_y.npy"} {
			if _, err := os.Stat(filepath.Join(dir, split+part)); err != nil {
				missing = append(missing, split+part)
			}
		}
	}
	if len(missing) > 0 {
		return fail(fmt.Errorf("missing %s (an Unseen NAS dataset folder holds {train,valid,test}_{x,y}.npy)",
			strings.Join(missing, ", ")))
	}

	ds := &Dataset{Name: filepath.Base(filepath.Clean(dir))}
	maxLabel := int32(-1)
	for k, split := range npySplitNames {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		xName, yName := split+"_x.npy", split+"_y.npy"
		images, shape, err := readNPYImages(filepath.Join(dir, xName))
		if err != nil {
			return fail(err)
		}
		labels, err := readNPYLabels(filepath.Join(dir, yName))
		if err != nil {
			return fail(err)
		}
		n := len(images) / max(shape.Size(), 1)
		switch {
		case k == 0:
			ds.Shape = shape
			if n == 0 {
				return fail(fmt.Errorf("%s holds no examples", xName))
			}
		case shape != ds.Shape:
			return fail(fmt.Errorf("%s: example shape %v differs from the %v of %s", xName, shape, ds.Shape, "train_x.npy"))
		}
		if len(labels) != n {
			return fail(fmt.Errorf("%s holds %d examples but %s holds %d labels", xName, n, yName, len(labels)))
		}
		for _, l := range labels {
			maxLabel = max(maxLabel, l)
		}
		*ds.splits()[k] = &Split{Shape: shape, Images: images, Labels: labels}
	}
	ds.Classes = int(maxLabel) + 1

	// Sub-sample after counting classes, so that the class count does not depend on the sizes asked for.
	wanted := [3]int{opts.Sizes.Train, opts.Sizes.Val, opts.Sizes.Test}
	for k, split := range ds.splits() {
		switch have := (*split).Len(); {
		case wanted[k] == 0 || wanted[k] == have:
		case wanted[k] > have:
			return fail(fmt.Errorf("asked for %d examples but %s_x.npy holds %d", wanted[k], npySplitNames[k], have))
		default:
			*split = (*split).subset(chooseSubset(have, wanted[k], splitRand(opts.Seed, k)))
		}
	}
	return ds, nil
}

// readNPYImages reads an (N, C, H, W) array of float32 or float64 as float32.
func readNPYImages(path string) ([]float32, Shape, error) {
	f, err := openNPY(path)
	if err != nil {
		return nil, Shape{}, err
	}
	defer f.close()
	if len(f.shape) != 4 {
		return nil, Shape{}, fmt.Errorf("%s: expected rank 4 (N,C,H,W), got shape %s", f.name, formatNPYShape(f.shape))
	}
	shape := Shape{f.shape[1], f.shape[2], f.shape[3]}
	if shape.Size() == 0 {
		return nil, Shape{}, fmt.Errorf("%s: examples of shape %s hold no values", f.name, formatNPYShape(f.shape))
	}
	n := f.shape[0] * shape.Size()
	switch f.kind {
	case "f4":
		images := make([]float32, n)
		return images, shape, f.read(&images)
	case "f8":
		wide := make([]float64, n)
		if err := f.read(&wide); err != nil {
			return nil, Shape{}, err
		}
		images := make([]float32, n)
		for i, v := range wide {
			images[i] = float32(v)
		}
		return images, shape, nil
	}
	return nil, Shape{}, fmt.Errorf("%s: images must be float32 ('<f4') or float64 ('<f8'), got dtype %s", f.name, f.dtype)
}

// readNPYLabels reads a rank-1 array of any integer type as non-negative int32 class indices.
func readNPYLabels(path string) ([]int32, error) {
	f, err := openNPY(path)
	if err != nil {
		return nil, err
	}
	defer f.close()
	if len(f.shape) != 1 {
		return nil, fmt.Errorf("%s: expected rank 1 (N,) of integer labels, got shape %s", f.name, formatNPYShape(f.shape))
	}
	n := f.shape[0]
	switch f.kind {
	case "i1":
		return readLabels[int8](f, n)
	case "i2":
		return readLabels[int16](f, n)
	case "i4":
		return readLabels[int32](f, n)
	case "i8":
		return readLabels[int64](f, n)
	case "u1":
		return readLabels[uint8](f, n)
	case "u2":
		return readLabels[uint16](f, n)
	case "u4":
		return readLabels[uint32](f, n)
	case "u8":
		return readLabels[uint64](f, n)
	}
	return nil, fmt.Errorf("%s: labels must be integers (int8..int64 or uint8..uint64), got dtype %s", f.name, f.dtype)
}

func readLabels[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64](f *npyFile, n int) ([]int32, error) {
	raw := make([]T, n)
	if err := f.read(&raw); err != nil {
		return nil, err
	}
	labels := make([]int32, n)
	for i, v := range raw {
		if v < 0 {
			return nil, fmt.Errorf("%s: label %d at index %d is negative; labels must be class indices 0, 1, 2, ...", f.name, v, i)
		}
		if uint64(v) > math.MaxInt32 {
			return nil, fmt.Errorf("%s: label %d at index %d is too large for a class index", f.name, v, i)
		}
		labels[i] = int32(v)
	}
	return labels, nil
}

// An npyFile is an open .npy file whose header has been read and checked.
type npyFile struct {
	name   string // the file's base name, for errors
	dtype  string // as in the header, e.g. '<f4'
	kind   string // type letter and size in bytes, e.g. "f4"
	shape  []int
	file   *os.File
	reader *npyio.Reader
}

// openNPY opens path and reads its header. It checks the preamble itself — magic, version, that the header
// is complete — before npyio parses the header dictionary, rejects Fortran order, and checks that the file
// holds exactly the data the header promises, so that a truncated file is reported as truncated before any
// data is read.
func openNPY(path string) (*npyFile, error) {
	name := filepath.Base(path)
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	f, err := readNPYHeader(name, file)
	if err != nil {
		file.Close()
		return nil, err
	}
	return f, nil
}

func readNPYHeader(name string, file *os.File) (*npyFile, error) {
	info, err := file.Stat()
	if err != nil {
		return nil, err
	}
	dataStart, err := npyDataStart(name, file, info.Size())
	if err != nil {
		return nil, err
	}
	var last [1]byte
	if _, err := file.ReadAt(last[:], dataStart-1); err != nil {
		return nil, err
	}
	if last[0] != '\n' {
		return nil, fmt.Errorf("%s: malformed header: it does not end with a newline", name)
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	f := &npyFile{name: name, file: file}
	err = fenced(func() (err error) {
		f.reader, err = npyio.NewReader(bufio.NewReaderSize(file, 1<<20))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: malformed header: %w", name, err)
	}
	header := f.reader.Header.Descr
	f.dtype, f.shape = header.Type, header.Shape
	if err := f.check(header.Fortran, info.Size()-dataStart); err != nil {
		return nil, err
	}
	return f, nil
}

// npyDataStart reads the fixed preamble of an .npy file — the magic string "\x93NUMPY", the format version
// and the header length — and returns where the data starts.
func npyDataStart(name string, r io.Reader, fileSize int64) (int64, error) {
	var preamble [12]byte
	n, _ := io.ReadFull(r, preamble[:])
	if n < 8 || string(preamble[:6]) != "\x93NUMPY" {
		return 0, fmt.Errorf("%s: not a .npy file (it does not start with \"\\x93NUMPY\")", name)
	}
	var dataStart int64
	switch major := preamble[6]; {
	case major == 1 && n >= 10:
		dataStart = 10 + int64(binary.LittleEndian.Uint16(preamble[8:]))
	case major == 2 && n >= 12:
		dataStart = 12 + int64(binary.LittleEndian.Uint32(preamble[8:]))
	case major == 1 || major == 2:
		dataStart = fileSize + 1 // the header length itself is cut off
	default:
		return 0, fmt.Errorf("%s: .npy format version %d.%d is not supported (only 1.0 and 2.0)", name, major, preamble[7])
	}
	if dataStart > fileSize {
		return 0, fmt.Errorf("%s: truncated: the file ends inside its header", name)
	}
	return dataStart, nil
}

// check validates the header of f, given the number of bytes that follow it in the file.
func (f *npyFile) check(fortran bool, dataBytes int64) error {
	if fortran {
		return fmt.Errorf("%s: stored in Fortran (column-major) order; save it in C order, e.g. np.save(path, np.ascontiguousarray(a))", f.name)
	}
	dtype := strings.Trim(f.dtype, `'"`)
	if len(dtype) < 2 || !strings.ContainsRune("<>|=", rune(dtype[0])) {
		return fmt.Errorf("%s: unsupported dtype %s", f.name, f.dtype)
	}
	f.kind = dtype[1:]
	itemSize, err := strconv.Atoi(f.kind[1:])
	if err != nil || itemSize <= 0 {
		return fmt.Errorf("%s: unsupported dtype %s", f.name, f.dtype)
	}
	count := int64(1)
	for _, d := range f.shape {
		if d < 0 {
			return fmt.Errorf("%s: negative dimension in shape %s", f.name, formatNPYShape(f.shape))
		}
		if d > 0 && count > dataBytes/int64(d) {
			// Already more than the file could hold; stop before the product overflows.
			return fmt.Errorf("%s: truncated: shape %s of dtype %s needs more than the %d bytes of data the file holds",
				f.name, formatNPYShape(f.shape), f.dtype, dataBytes)
		}
		count *= int64(d)
	}
	switch want := count * int64(itemSize); {
	case dataBytes < want:
		return fmt.Errorf("%s: truncated: shape %s of dtype %s needs %d bytes of data, the file holds %d",
			f.name, formatNPYShape(f.shape), f.dtype, want, dataBytes)
	case dataBytes > want:
		return fmt.Errorf("%s: %d bytes after the data that shape %s of dtype %s describes",
			f.name, dataBytes-want, formatNPYShape(f.shape), f.dtype)
	}
	return nil
}

// read decodes the whole array into *ptr, a slice of the matching Go type already of the right length.
func (f *npyFile) read(ptr any) error {
	err := fenced(func() error { return f.reader.Read(ptr) })
	if err != nil {
		return fmt.Errorf("%s: reading the data: %w", f.name, err)
	}
	return nil
}

func (f *npyFile) close() { f.file.Close() }

// fenced runs fn, turning a panic into an error. npyio trusts the header it parses — a header with its
// keys in an unusual order, for one, makes it slice out of range — and a bad file from a user must give an
// error, not crash the program.
func fenced(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the npy reader failed: %v", p)
		}
	}()
	return fn()
}

// formatNPYShape prints a shape as numpy does: (10, 28), (10,), ().
func formatNPYShape(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = strconv.Itoa(d)
	}
	if len(shape) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
