package data_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/einspace-go/einspace/models/data"
)

// Build a small AddNIST (MNIST comes from the Go module cache) and look at its first training example.
func ExampleLoad() {
	ds, err := data.Load(context.Background(), "addnist", data.Options{
		Seed:    0,
		Sizes:   data.Sizes{Train: 200, Val: 100, Test: 100},
		NoCache: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ds)
	d := ds.Train.Digits[0]
	fmt.Printf("first example: digits r=%d g=%d b=%d, label %d = %d+%d+%d-1\n",
		d[0], d[1], d[2], ds.Train.Labels[0], d[0], d[1], d[2])
	// Output:
	// addnist: (3, 28, 28), 20 classes, 200/100/100 examples
	// first example: digits r=5 g=1 b=1, label 6 = 5+1+1-1
}

// Read a dataset published as Unseen NAS .npy files. Here the folder is written on the spot.
func ExampleLoad_npy() {
	dir, err := os.MkdirTemp("", "unseen")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for _, split := range []string{"train", "valid", "test"} {
		// Two 1×2×2 images and their labels.
		writeNPY(filepath.Join(dir, split+"_x.npy"), "<f4", "(2, 1, 2, 2)", []float32{0, 1, 2, 3, 4, 5, 6, 7})
		writeNPY(filepath.Join(dir, split+"_y.npy"), "<i8", "(2,)", []int64{0, 2})
	}

	ds, err := data.Load(context.Background(), "npy:"+dir, data.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ds.Shape, ds.Classes, ds.Train.Labels, ds.Train.Image(1))
	// Output:
	// (1, 2, 2) 3 [0 2] [4 5 6 7]
}

// writeNPY writes a minimal .npy file (format 1.0, C order, little-endian).
func writeNPY(path, dtype, shape string, values any) {
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", dtype, shape)
	for (10+len(header)+1)%64 != 0 {
		header += " "
	}
	header += "\n"
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	f.WriteString("\x93NUMPY\x01\x00")
	binary.Write(f, binary.LittleEndian, uint16(len(header)))
	f.WriteString(header)
	binary.Write(f, binary.LittleEndian, values)
}

// Standardise every split with the training split's per-channel statistics.
func ExampleDataset_Normalize() {
	ds := &data.Dataset{
		Name:    "tiny",
		Shape:   data.Shape{C: 1, H: 1, W: 2},
		Classes: 2,
		Train:   &data.Split{Shape: data.Shape{C: 1, H: 1, W: 2}, Images: []float32{1, 3, 5, 7}, Labels: []int32{0, 1}},
		Val:     &data.Split{Shape: data.Shape{C: 1, H: 1, W: 2}, Images: []float32{4, 4}, Labels: []int32{1}},
		Test:    &data.Split{Shape: data.Shape{C: 1, H: 1, W: 2}, Images: []float32{}, Labels: []int32{}},
	}
	stats := ds.Normalize()
	fmt.Println(stats)
	fmt.Printf("train %.3f\nval %.3f\n", ds.Train.Images, ds.Val.Images)
	// Output:
	// mean [4.0000] std [2.5820]
	// train [-1.162 -0.387 0.387 1.162]
	// val [0.000 0.000]
}
