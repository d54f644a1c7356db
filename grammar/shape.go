package grammar

import (
	"fmt"
	"strconv"
	"strings"
)

// Mode says how a tensor is laid out: as an image (C, H, W) or as a sequence of columns, tokens (L, D).
type Mode uint8

const (
	// Im is the image mode: a rank-3 shape (C, H, W) without the batch dimension.
	Im Mode = iota
	// Col is the column (token) mode: a rank-2 shape (L, D) without the batch dimension.
	Col
)

func (m Mode) String() string {
	if m == Col {
		return "col"
	}
	return "im"
}

// Shape is the shape of one example, without the batch dimension: (C, H, W) in im mode or (L, D) in col
// mode. The grammar's dimension numbers count the batch as dimension 0, so grammar dimension d is Dim(d-1).
// Shapes are small values: comparing two with == is comparing their dimensions.
type Shape struct {
	rank int8
	dims [3]int
}

// ImShape returns the im-mode shape (c, h, w).
func ImShape(c, h, w int) Shape { return Shape{rank: 3, dims: [3]int{c, h, w}} }

// ColShape returns the col-mode shape (l, d).
func ColShape(l, d int) Shape { return Shape{rank: 2, dims: [3]int{l, d}} }

// ShapeOf returns the shape with the given dimensions: three for im mode, two for col mode.
func ShapeOf(dims ...int) (Shape, error) {
	if len(dims) != 2 && len(dims) != 3 {
		return Shape{}, fmt.Errorf("a shape has 3 dimensions (C, H, W) or 2 (L, D), got %d", len(dims))
	}
	var s Shape
	s.rank = int8(len(dims))
	for i, d := range dims {
		if d <= 0 {
			return Shape{}, fmt.Errorf("dimension %d of %v is %d: every dimension must be positive", i, dims, d)
		}
		s.dims[i] = d
	}
	return s, nil
}

// ParseShape reads a shape written as "3x28x28" (C×H×W) or "49x512" (L×D), the form of Arg, or as String
// writes it, "(3,28,28)": both round-trip.
func ParseShape(text string) (Shape, error) {
	inner := strings.TrimSpace(text)
	if strings.HasPrefix(inner, "(") && strings.HasSuffix(inner, ")") { // as String writes it
		inner = inner[1 : len(inner)-1]
	}
	fields := strings.FieldsFunc(inner, func(r rune) bool { return r == 'x' || r == 'X' || r == ',' || r == '×' })
	dims := make([]int, 0, len(fields))
	for _, f := range fields {
		d, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return Shape{}, fmt.Errorf("shape %q: %q is not a whole number (write it as CxHxW, e.g. 3x28x28)", text, f)
		}
		dims = append(dims, d)
	}
	s, err := ShapeOf(dims...)
	if err != nil {
		return Shape{}, fmt.Errorf("shape %q: %w", text, err)
	}
	return s, nil
}

// Arg writes the shape as ParseShape reads it and the command line takes it: "3x28x28" (String writes
// "(3,28,28)").
func (s Shape) Arg() string {
	parts := make([]string, s.rank)
	for i := range parts {
		parts[i] = strconv.Itoa(s.dims[i])
	}
	return strings.Join(parts, "x")
}

// Rank is the number of dimensions, 3 in im mode and 2 in col mode (0 for the zero Shape).
func (s Shape) Rank() int { return int(s.rank) }

// Mode is Im for rank-3 shapes and Col for rank-2 shapes.
func (s Shape) Mode() Mode {
	if s.rank == 2 {
		return Col
	}
	return Im
}

// Dim returns dimension i, counting from 0 without the batch dimension.
func (s Shape) Dim(i int) int { return s.dims[i] }

// Dims returns the dimensions as a new slice.
func (s Shape) Dims() []int { return append([]int(nil), s.dims[:s.rank]...) }

// Last is the size of the last dimension, the one linear layers act on.
func (s Shape) Last() int { return s.dims[s.rank-1] }

// Size is the number of elements of one example.
func (s Shape) Size() int64 {
	if s.rank == 0 {
		return 0
	}
	n := int64(1)
	for _, d := range s.dims[:s.rank] {
		n *= int64(d)
	}
	return n
}

// IsZero reports whether s is the zero Shape (no shape inferred).
func (s Shape) IsZero() bool { return s.rank == 0 }

// String prints the shape as a tuple, e.g. (3,28,28).
func (s Shape) String() string {
	var b strings.Builder
	b.WriteByte('(')
	for i, d := range s.dims[:s.rank] {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(d))
	}
	b.WriteByte(')')
	return b.String()
}

// withDim returns s with dimension i set to v.
func (s Shape) withDim(i, v int) Shape {
	s.dims[i] = v
	return s
}
