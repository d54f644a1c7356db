package data

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio"
)

// npyBytes encodes an .npy file (format 1.0) by hand, so that tests can write any shape, dtype and order,
// including wrong ones. values is written little-endian as it is.
func npyBytes(descr string, fortran bool, shape []int, values any) []byte {
	order := "False"
	if fortran {
		order = "True"
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, order, formatNPYShape(shape))
	// numpy pads the header with spaces so that the data starts at a multiple of 64 bytes.
	for (10+len(header)+1)%64 != 0 {
		header += " "
	}
	header += "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	b.WriteString(header)
	if values != nil {
		binary.Write(&b, binary.LittleEndian, values)
	}
	return b.Bytes()
}

// npyFolder is the content of an Unseen NAS folder: file name -> bytes.
type npyFolder map[string][]byte

func (f npyFolder) write(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range f {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// ramp returns n float values 0, 0.5, 1, … of type T.
func ramp[T float32 | float64](n int, offset float64) []T {
	v := make([]T, n)
	for i := range v {
		v[i] = T(offset + float64(i)/2)
	}
	return v
}

// goodNPYFolder is a valid dataset of 2×3×4 images: 6 training, 3 validation, 2 test examples; the largest
// label, 4, appears only in the test split.
func goodNPYFolder() npyFolder {
	shape := func(n int) []int { return []int{n, 2, 3, 4} }
	return npyFolder{
		"train_x.npy": npyBytes("<f4", false, shape(6), ramp[float32](6*24, 0)),
		"train_y.npy": npyBytes("<i8", false, []int{6}, []int64{0, 1, 2, 0, 1, 2}),
		"valid_x.npy": npyBytes("<f8", false, shape(3), ramp[float64](3*24, 100)),
		"valid_y.npy": npyBytes("<i4", false, []int{3}, []int32{2, 1, 0}),
		"test_x.npy":  npyBytes("<f4", false, shape(2), ramp[float32](2*24, 200)),
		"test_y.npy":  npyBytes("|u1", false, []int{2}, []uint8{4, 3}),
	}
}

func TestLoadNPY(t *testing.T) {
	dir := goodNPYFolder().write(t)
	ds, err := Load(context.Background(), "npy:"+dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Name != filepath.Base(dir) || ds.Shape != (Shape{2, 3, 4}) || ds.Classes != 5 {
		t.Fatalf("got %v", ds)
	}
	want := []struct {
		split  *Split
		first  float32
		labels []int32
	}{
		{ds.Train, 0, []int32{0, 1, 2, 0, 1, 2}},
		{ds.Val, 100, []int32{2, 1, 0}},
		{ds.Test, 200, []int32{4, 3}},
	}
	for k, w := range want {
		if fmt.Sprint(w.split.Labels) != fmt.Sprint(w.labels) {
			t.Errorf("split %d labels %v, want %v", k, w.split.Labels, w.labels)
		}
		for i, v := range w.split.Images {
			if v != w.first+float32(i)/2 {
				t.Fatalf("split %d value %d = %v, want %v", k, i, v, w.first+float32(i)/2)
			}
		}
		if w.split.Digits != nil {
			t.Errorf("split %d has MNIST bookkeeping", k)
		}
	}
}

// TestLoadNPYWrittenByNpyio reads labels written by npyio itself, not by our test writer.
func TestLoadNPYWrittenByNpyio(t *testing.T) {
	folder := goodNPYFolder()
	var b bytes.Buffer
	if err := npyio.Write(&b, []int16{0, 1, 2, 3, 4, 5}); err != nil {
		t.Fatal(err)
	}
	folder["train_y.npy"] = b.Bytes()
	ds, err := Load(context.Background(), "npy:"+folder.write(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ds.Train.Labels) != "[0 1 2 3 4 5]" || ds.Classes != 6 {
		t.Fatalf("labels %v, %d classes", ds.Train.Labels, ds.Classes)
	}
}

func TestLoadNPYSubset(t *testing.T) {
	dir := goodNPYFolder().write(t)
	full, err := Load(context.Background(), "npy:"+dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	small, err := Load(context.Background(), "npy:"+dir, Options{Seed: 4, Sizes: Sizes{Train: 4, Test: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if small.Train.Len() != 4 || small.Val.Len() != 3 || small.Test.Len() != 1 || small.Classes != 5 {
		t.Fatalf("subset %v", small)
	}
	// Every kept example is an example of the full split, in file order: find each by its first value.
	last := -1
	for i := range small.Train.Len() {
		index := int(small.Train.Image(i)[0]) / 12 // the ramp rises by 12 per example
		if index <= last || small.Train.Labels[i] != full.Train.Labels[index] {
			t.Fatalf("subset example %d is not example %d of the file, or out of order", i, index)
		}
		last = index
	}

	_, err = Load(context.Background(), "npy:"+dir, Options{Sizes: Sizes{Train: 7}})
	if err == nil || !strings.Contains(err.Error(), "asked for 7 examples but train_x.npy holds 6") {
		t.Fatalf("error %v", err)
	}
}

func TestLoadNPYErrors(t *testing.T) {
	x := func(n int) []byte { return npyBytes("<f4", false, []int{n, 2, 3, 4}, make([]float32, n*24)) }
	garbage := []byte("this is not a numpy file at all, just text")
	noNewline := npyBytes("<i8", false, []int{6}, make([]int64, 6))
	noNewline[bytes.IndexByte(noNewline, '\n')] = ' ' // the end of the header
	// numpy always writes the keys sorted; npyio relies on that.
	keysSwapped := bytes.Replace(npyBytes("<i8", false, []int{6}, make([]int64, 6)),
		[]byte("'descr': '<i8', 'fortran_order': False"), []byte("'fortran_order': False, 'descr': '<i8'"), 1)
	cases := []struct {
		name    string
		file    string // the file replaced, or removed when content is nil
		content []byte
		wantErr string
	}{
		{"missing file", "valid_y.npy", nil, "missing valid_y.npy"},
		{"images of rank 2", "train_x.npy", npyBytes("<f4", false, []int{10, 28}, make([]float32, 280)),
			"train_x.npy: expected rank 4 (N,C,H,W), got shape (10, 28)"},
		{"labels of rank 2", "test_y.npy", npyBytes("<i8", false, []int{2, 1}, make([]int64, 2)),
			"test_y.npy: expected rank 1 (N,) of integer labels, got shape (2, 1)"},
		{"integer images", "train_x.npy", npyBytes("<i4", false, []int{6, 2, 3, 4}, make([]int32, 144)),
			"train_x.npy: images must be float32 ('<f4') or float64 ('<f8'), got dtype '<i4'"},
		{"float labels", "train_y.npy", npyBytes("<f4", false, []int{6}, make([]float32, 6)),
			"train_y.npy: labels must be integers"},
		{"count mismatch", "valid_y.npy", npyBytes("<i4", false, []int{2}, []int32{0, 1}),
			"valid_x.npy holds 3 examples but valid_y.npy holds 2 labels"},
		{"shape differs between splits", "test_x.npy", npyBytes("<f4", false, []int{2, 2, 3, 3}, make([]float32, 36)),
			"test_x.npy: example shape (2, 3, 3) differs from the (2, 3, 4) of train_x.npy"},
		{"negative label", "train_y.npy", npyBytes("<i8", false, []int{6}, []int64{0, -1, 0, 0, 0, 0}),
			"train_y.npy: label -1 at index 1 is negative"},
		{"huge label", "train_y.npy", npyBytes("<u8", false, []int{6}, []uint64{0, 0, 1 << 40, 0, 0, 0}),
			"train_y.npy: label 1099511627776 at index 2 is too large"},
		{"fortran order", "valid_x.npy", npyBytes("<f8", true, []int{3, 2, 3, 4}, make([]float64, 72)),
			"valid_x.npy: stored in Fortran (column-major) order"},
		{"truncated data", "train_x.npy", x(6)[:len(x(6))-5],
			"train_x.npy: truncated: shape (6, 2, 3, 4) of dtype '<f4' needs 576 bytes of data, the file holds 571"},
		{"truncated header", "train_x.npy", x(6)[:40], "train_x.npy: truncated: the file ends inside its header"},
		{"truncated preamble", "train_x.npy", x(6)[:9], "train_x.npy: truncated: the file ends inside its header"},
		{"format version 3", "train_x.npy", append([]byte("\x93NUMPY\x03\x00"), x(6)[8:]...),
			"train_x.npy: .npy format version 3.0 is not supported"},
		{"trailing bytes", "train_y.npy", append(npyBytes("<i8", false, []int{6}, make([]int64, 6)), 1, 2, 3),
			"train_y.npy: 3 bytes after the data"},
		{"not an npy file", "test_x.npy", garbage, `test_x.npy: not a .npy file (it does not start with "\x93NUMPY")`},
		{"header without newline", "train_y.npy", noNewline, "train_y.npy: malformed header: it does not end with a newline"},
		{"header keys out of order", "train_y.npy", keysSwapped, "train_y.npy: malformed header"},
		{"no training examples", "train_x.npy", x(0), "train_x.npy holds no examples"},
		{"float16 images", "train_x.npy", npyBytes("<f2", false, []int{6, 2, 3, 4}, make([]uint16, 144)),
			"train_x.npy: images must be float32"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			folder := goodNPYFolder()
			if c.content == nil {
				delete(folder, c.file)
			} else {
				folder[c.file] = c.content
			}
			dir := folder.write(t)
			_, err := Load(context.Background(), "npy:"+dir, Options{})
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("Load error = %v\nwant one containing %q", err, c.wantErr)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q does not name the folder", err)
			}
		})
	}
}

func TestLoadNPYNotAFolder(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	for _, name := range []string{"npy:" + file, "npy:" + filepath.Join(file, "absent"), "npy:"} {
		if _, err := Load(context.Background(), name, Options{}); err == nil {
			t.Errorf("Load(%q) succeeded", name)
		}
	}
}
