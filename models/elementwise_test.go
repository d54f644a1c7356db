package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/core/tensors"
)

// TestBinaryOpsComputeEveryNumber checks the backend's element-wise Add, Sub, Mul, Max and Min against
// the same arithmetic done here, in every broadcasting pattern the backend tells apart (equal shapes, a
// scalar on either side, a row or a column broadcast on either side, a row against a column), on outputs
// below and above the size at which the patched backend cuts the work into shares for several cores
// (docs/BACKEND-PATCHES.md), with sizes that leave vector tails. Each output number is one IEEE operation
// on two inputs, so the comparison is exact.
func TestBinaryOpsComputeEveryNumber(t *testing.T) {
	be, err := Backend()
	if err != nil {
		t.Fatal(err)
	}
	ops := []struct {
		name  string
		graph func(x, y *Node) *Node
		host  func(x, y float32) float32
	}{
		{"add", Add, func(x, y float32) float32 { return x + y }},
		{"sub", Sub, func(x, y float32) float32 { return x - y }},
		{"mul", Mul, func(x, y float32) float32 { return x * y }},
		{"max", Max, func(x, y float32) float32 { return float32(math.Max(float64(x), float64(y))) }},
		{"min", Min, func(x, y float32) float32 { return float32(math.Min(float64(x), float64(y))) }},
	}
	// Each pattern is the two operands' shapes for an output of A×B.
	patterns := []struct {
		name   string
		lx, ly func(a, b int) []int
	}{
		{"same", func(a, b int) []int { return []int{a, b} }, func(a, b int) []int { return []int{a, b} }},
		{"scalar right", func(a, b int) []int { return []int{a, b} }, func(a, b int) []int { return []int{1, 1} }},
		{"scalar left", func(a, b int) []int { return []int{1, 1} }, func(a, b int) []int { return []int{a, b} }},
		{"row right", func(a, b int) []int { return []int{a, b} }, func(a, b int) []int { return []int{1, b} }},
		{"row left", func(a, b int) []int { return []int{1, b} }, func(a, b int) []int { return []int{a, b} }},
		{"column right", func(a, b int) []int { return []int{a, b} }, func(a, b int) []int { return []int{a, 1} }},
		{"column left", func(a, b int) []int { return []int{a, 1} }, func(a, b int) []int { return []int{a, b} }},
		{"column by row", func(a, b int) []int { return []int{a, 1} }, func(a, b int) []int { return []int{1, b} }},
		{"row by column", func(a, b int) []int { return []int{1, b} }, func(a, b int) []int { return []int{a, 1} }},
	}
	sizes := [][2]int{{3, 5}, {512, 384}, {1001, 131}}
	r := rand.New(rand.NewPCG(5, 9))
	for _, op := range ops {
		for _, p := range patterns {
			for _, size := range sizes {
				a, b := size[0], size[1]
				t.Run(fmt.Sprint(op.name, " ", p.name, " ", a, "x", b), func(t *testing.T) {
					dx, dy := p.lx(a, b), p.ly(a, b)
					x, y := randomFloats(r, dx[0]*dx[1]), randomFloats(r, dy[0]*dy[1])
					e, err := NewExec(be, func(x, y *Node) *Node {
						return op.graph(x, y)
					})
					if err != nil {
						t.Fatal(err)
					}
					out, err := e.Exec(tensors.FromFlatDataAndDimensions(x, dx...), tensors.FromFlatDataAndDimensions(y, dy...))
					if err != nil {
						t.Fatal(err)
					}
					got := tensors.MustCopyFlatData[float32](out[0])
					at := func(v []float32, d []int, i, j int) float32 { return v[min(i, d[0]-1)*d[1]+min(j, d[1]-1)] }
					for i := range a {
						for j := range b {
							if want := op.host(at(x, dx, i, j), at(y, dy, i, j)); got[i*b+j] != want {
								t.Fatalf("element (%d, %d) is %v, want %v", i, j, got[i*b+j], want)
							}
						}
					}
				})
			}
		}
	}
}

// TestComparisonAndWhereComputeEveryNumber checks the ReLU mask's operations (x > y, against a scalar on
// either side or an operand of the same shape, and Where on the mask with each side a tensor or a scalar,
// also writing into a buffer of its own operand) number by number, at sizes the patched backend shares
// among workers (docs/BACKEND-PATCHES.md) and at a small one.
func TestComparisonAndWhereComputeEveryNumber(t *testing.T) {
	be, err := Backend()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(13, 17))
	for _, size := range [][2]int{{3, 5}, {1001, 131}, {1001, 331}} {
		a, b := size[0], size[1]
		x, y := randomFloats(r, a*b), randomFloats(r, a*b)
		for i := 0; i < len(x); i += 7 {
			y[i] = x[i] // ties
		}
		e, err := NewExec(be, func(x, y *Node) []*Node {
			zeros := ZerosLike(x)
			half := Scalar(x.Graph(), x.DType(), 0.5)
			return []*Node{
				Where(GreaterThan(x, y), x, y),
				Where(GreaterThan(x, ScalarZero(x.Graph(), x.DType())), x, zeros),
				Where(GreaterThan(y, x), Scalar(x.Graph(), x.DType(), 2), y),
				Where(GreaterThan(half, x), x, Scalar(x.Graph(), x.DType(), -1)),
				Where(GreaterThan(x, y), Add(x, half), y), // Add's result is Where's to overwrite
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.Exec(tensors.FromFlatDataAndDimensions(x, a, b), tensors.FromFlatDataAndDimensions(y, a, b))
		if err != nil {
			t.Fatal(err)
		}
		wants := []func(x, y float32) float32{
			func(x, y float32) float32 {
				if x > y {
					return x
				}
				return y
			},
			func(x, _ float32) float32 {
				if x > 0 {
					return x
				}
				return 0
			},
			func(x, y float32) float32 {
				if y > x {
					return 2
				}
				return y
			},
			func(x, _ float32) float32 {
				if 0.5 > x {
					return x
				}
				return -1
			},
			func(x, y float32) float32 {
				if x > y {
					return x + 0.5
				}
				return y
			},
		}
		for k, want := range wants {
			got := tensors.MustCopyFlatData[float32](out[k])
			for i := range got {
				if w := want(x[i], y[i]); got[i] != w {
					t.Fatalf("%dx%d, output %d: element %d is %v, want %v", a, b, k, i, got[i], w)
				}
			}
		}
	}
}
