package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// idxUnsignedByte is the IDX type code of unsigned bytes, the only element type MNIST uses.
const idxUnsignedByte = 0x08

// maxIDXBytes guards against a corrupt header asking for an absurd allocation.
const maxIDXBytes = 1 << 31

// readIDX reads a gzip-compressed IDX file of unsigned bytes with the given number of dimensions.
//
// The IDX format (LeCun's MNIST page) is a 4-byte big-endian magic number — two zero bytes, the element type
// code, the number of dimensions — then one big-endian uint32 per dimension, then the elements in row-major
// order. Everything is checked: the magic number, that exactly the promised number of bytes follows, and
// (by reading to the end) the gzip checksum.
func readIDX(path string, wantDims int) (dims []int, values []byte, err error) {
	name := filepath.Base(path)
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	z, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: not a gzip file: %w", name, err)
	}
	defer z.Close()
	return parseIDX(name, z, wantDims)
}

// parseIDX reads the uncompressed IDX stream r; name is used in errors.
func parseIDX(name string, r io.Reader, wantDims int) (dims []int, values []byte, err error) {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, nil, fmt.Errorf("%s: reading the IDX magic number: %w", name, noEOF(err))
	}
	want := [4]byte{0, 0, idxUnsignedByte, byte(wantDims)}
	if magic != want {
		return nil, nil, fmt.Errorf("%s: IDX magic number 0x%08x, want 0x%08x (unsigned bytes, %d dimensions)",
			name, binary.BigEndian.Uint32(magic[:]), binary.BigEndian.Uint32(want[:]), wantDims)
	}

	header := make([]byte, 4*wantDims)
	if _, err := io.ReadFull(r, header); err != nil {
		return nil, nil, fmt.Errorf("%s: reading the %d IDX dimensions: %w", name, wantDims, noEOF(err))
	}
	total := 1
	for i := range wantDims {
		d := int(binary.BigEndian.Uint32(header[4*i:]))
		dims = append(dims, d)
		total *= d
		if total > maxIDXBytes {
			return nil, nil, fmt.Errorf("%s: IDX dimensions %v describe more than %d bytes", name, dims, maxIDXBytes)
		}
	}

	values = make([]byte, total)
	if n, err := io.ReadFull(r, values); err != nil {
		return nil, nil, fmt.Errorf("%s: truncated: dimensions %v promise %d bytes of data, found %d: %w",
			name, dims, total, n, noEOF(err))
	}
	// Reading past the data makes gzip verify its checksum, and catches data the header does not declare.
	var extra [1]byte
	switch _, err := io.ReadFull(r, extra[:]); {
	case err == nil:
		return nil, nil, fmt.Errorf("%s: more data than the dimensions %v declare", name, dims)
	case err != io.EOF:
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return dims, values, nil
}

// noEOF turns a plain EOF into ErrUnexpectedEOF: a file that ends where data was still expected is
// truncated, and saying so is clearer than "EOF".
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
