package grammar

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

func mustOp(t *testing.T, name string) Op {
	t.Helper()
	op, ok := OpByName(name)
	if !ok {
		t.Fatalf("no terminal %s", name)
	}
	return op
}

func TestTerminalCounts(t *testing.T) {
	want := map[Class]int{Branching: 12, Aggregation: 12, Prerouting: 14, Postrouting: 8, Computation: 13}
	total := 0
	for c, n := range want {
		if got := len(Terminals(c)); got != n {
			t.Errorf("%s: %d terminals, want %d", c, got, n)
		}
		total += n
	}
	if total != 59 {
		t.Errorf("%d terminal slots in all, want 59", total)
	}
	for _, name := range []string{"linear_x4", "linear_4th"} {
		op := mustOp(t, name)
		if !op.SeedOnly() || !op.In(Computation) {
			t.Errorf("%s should be a seed-only computation function", name)
		}
	}
}

// TestTerminalShapes checks each terminal's output shape rule (SPEC §2.2-2.5) on im and col inputs.
func TestTerminalShapes(t *testing.T) {
	im, col := ImShape(6, 8, 12), ColShape(10, 24)
	tests := []struct {
		op    string
		class Class
		in    Shape
		want  Shape // zero: the terminal must reject the input
	}{
		{"clone_tensor4", Branching, im, im},
		{"group_dim2s1d", Branching, im, ImShape(3, 8, 12)},
		{"group_dim4s2d", Branching, im, ImShape(6, 2, 12)},
		{"group_dim4s3d", Branching, im, ImShape(6, 8, 3)},
		{"group_dim4s1d", Branching, im, Shape{}},  // 6 is not divisible by 4
		{"group_dim8s1d", Branching, col, Shape{}}, // 10 is not divisible by 8
		{"group_dim2s3d", Branching, col, Shape{}}, // col mode has no third dimension
		{"group_dim2s2d", Branching, col, ColShape(10, 12)},
		{"identity", Prerouting, im, im},
		{"permute21", Prerouting, col, ColShape(24, 10)},
		{"permute21", Prerouting, im, Shape{}},
		{"permute132", Prerouting, im, ImShape(6, 12, 8)},
		{"permute213", Postrouting, im, ImShape(8, 6, 12)},
		{"permute231", Prerouting, im, ImShape(8, 12, 6)},
		{"permute312", Prerouting, im, ImShape(12, 6, 8)},
		{"permute321", Prerouting, im, ImShape(12, 8, 6)},
		{"permute321", Prerouting, col, Shape{}},
		{"im2col3k1s1p", Prerouting, im, ColShape(8*12, 6*9)},
		{"im2col3k2s1p", Prerouting, im, ColShape(4*6, 6*9)},
		{"im2col1k2s0p", Prerouting, im, ColShape(4*6, 6)},
		{"im2col4k4s0p", Prerouting, im, ColShape(2*3, 6*16)},
		{"im2col16k16s0p", Prerouting, im, Shape{}}, // a 16×16 kernel does not fit 8×12
		{"im2col1k1s0p", Prerouting, col, Shape{}},
		{"linear64", Computation, im, ImShape(6, 8, 64)},
		{"linear2048", Computation, col, ColShape(10, 2048)},
		{"linear_x4", Computation, col, ColShape(10, 96)},
		{"linear_4th", Computation, col, ColShape(10, 6)},
		{"linear_4th", Computation, ColShape(10, 6), Shape{}},
		{"norm", Computation, im, im},
		{"norm", Computation, ImShape(4, 1, 1), ImShape(4, 1, 1)}, // SPEC §10.7
		{"leakyrelu", Computation, col, col},
		{"softmax", Computation, im, im},
		{"learnable_positional_encoding", Computation, col, col},
	}
	for _, tt := range tests {
		out, _, _, msg := apply(mustOp(t, tt.op), tt.class, state{in: tt.in, bf: 1}, true)
		switch {
		case tt.want.IsZero() && msg == "":
			t.Errorf("%s on %v: got %v, want a rejection", tt.op, tt.in, out)
		case !tt.want.IsZero() && msg != "":
			t.Errorf("%s on %v: rejected (%s), want %v", tt.op, tt.in, msg, tt.want)
		case !tt.want.IsZero() && out != tt.want:
			t.Errorf("%s on %v: %v, want %v", tt.op, tt.in, out, tt.want)
		}
	}
}

// TestAggregationShapes checks the aggregation rules with the arity of SPEC §10.2.
func TestAggregationShapes(t *testing.T) {
	tests := []struct {
		op     string
		a, b   Shape
		factor int
		want   Shape
	}{
		{"dot_product", ColShape(10, 24), ColShape(24, 7), 2, ColShape(10, 7)},
		{"scaled_dot_product", ColShape(10, 24), ColShape(10, 24), 2, Shape{}},
		{"dot_product", ImShape(3, 5, 8), ImShape(3, 8, 2), 2, ImShape(3, 5, 2)},
		{"dot_product", ImShape(3, 5, 8), ImShape(4, 8, 2), 2, Shape{}},
		{"dot_product", ColShape(8, 8), ColShape(8, 8), 4, Shape{}},
		{"add_tensors", ImShape(3, 5, 8), ImShape(3, 5, 8), 2, ImShape(3, 5, 8)},
		{"add_tensors", ImShape(3, 5, 8), ImShape(3, 8, 5), 2, Shape{}},
		{"add_tensors", ColShape(4, 4), ColShape(4, 4), 8, ColShape(4, 4)},
		{"cat_tensors1d2t", ImShape(3, 5, 8), ImShape(2, 5, 8), 2, ImShape(5, 5, 8)},
		{"cat_tensors3d2t", ImShape(3, 5, 8), ImShape(3, 5, 1), 2, ImShape(3, 5, 9)},
		{"cat_tensors2d2t", ImShape(3, 5, 8), ImShape(2, 5, 8), 2, Shape{}},
		{"cat_tensors3d2t", ColShape(4, 4), ColShape(4, 4), 2, Shape{}},
		{"cat_tensors2d4t", ColShape(49, 64), ColShape(49, 64), 4, ColShape(49, 256)},
		{"cat_tensors1d8t", ImShape(2, 3, 3), ImShape(2, 3, 3), 8, ImShape(16, 3, 3)},
		{"cat_tensors1d4t", ImShape(2, 3, 3), ImShape(2, 3, 3), 2, Shape{}}, // SPEC §10.2: arity = factor
		{"cat_tensors1d2t", ImShape(2, 3, 3), ColShape(2, 3), 2, Shape{}},
	}
	for _, tt := range tests {
		out, msg := aggregate(mustOp(t, tt.op), tt.a, tt.b, tt.factor, true)
		switch {
		case tt.want.IsZero() && msg == "":
			t.Errorf("%s(%v, %v) factor %d: got %v, want a rejection", tt.op, tt.a, tt.b, tt.factor, out)
		case !tt.want.IsZero() && out != tt.want:
			t.Errorf("%s(%v, %v) factor %d: got %v (%s), want %v", tt.op, tt.a, tt.b, tt.factor, out, msg, tt.want)
		}
	}
}

func TestInferErrors(t *testing.T) {
	deep := "computation<identity>"
	for range 101 {
		deep = "sequential(" + deep + ", computation<identity>)"
	}
	tests := []struct {
		arch, path, want string
	}{
		{"routing[im2col3k1s1p, routing[identity, computation<identity>, col2im], identity]", "root.inner.post", "must be the postrouting function of a routing module whose prerouting function is an im2col"},
		{"routing[im2col3k2s1p, computation<identity>, sequential(computation<identity>, computation<identity>)]", "", ""},
		{"routing[im2col3k1s1p, routing[permute21, computation<identity>, permute21], col2im]", "", ""},
		{"routing[im2col3k1s1p, routing[permute21, computation<linear16>, permute21], col2im]", "root.post", "folds 16 tokens back onto the im2col's 28x28 grid"},
		{"sequential(computation<linear64>, routing[permute21, computation<identity>, identity])", "root.second.pre", "permutes 2 dimensions"},
		{"branching{clone_tensor2, computation<linear16>, computation<identity>, add_tensors}", "root.aggregate", "adds tensors of different shapes (3,28,16) and (3,28,28)"},
		{"computation<linear64>", "root", "root must be a sequential, branching or routing module"},
		{deep, "", "module depth 100 reaches the limit 100"},
	}
	for _, tt := range tests {
		root, err := Parse(tt.arch)
		if err != nil {
			if tt.want == "" { // the parser rejects it: a sequential in a postrouting slot
				continue
			}
			t.Fatalf("Parse(%.60s…): %v", tt.arch, err)
		}
		_, err = Infer(root, ImShape(3, 28, 28))
		if tt.want == "" {
			if err != nil {
				t.Errorf("Infer(%.60s…): %v", tt.arch, err)
			}
			continue
		}
		var se *ShapeError
		if !errors.As(err, &se) {
			t.Errorf("Infer(%.60s…): error %v, want a *ShapeError", tt.arch, err)
			continue
		}
		if !strings.Contains(se.Msg, tt.want) || (tt.path != "" && se.Path != tt.path) || !se.Pos.IsValid() {
			t.Errorf("Infer(%.60s…):\n got %v\nwant at %s: …%s…", tt.arch, err, tt.path, tt.want)
		}
	}
}

// TestInferState checks the §3.2 state carried to a few nodes of the ViT seed.
func TestInferState(t *testing.T) {
	a, err := SeedArch(ViT, ImShape(3, 28, 28))
	if err != nil {
		t.Fatal(err)
	}
	var heads *Node
	Inspect(a.Root, func(n *Node) bool {
		if n.Kind == BranchingModule && n.Factor() == 4 && heads == nil {
			heads = n
		}
		return true
	})
	if heads == nil {
		t.Fatal("no 4-way branching module in the ViT seed")
	}
	inner, agg := heads.Children[1], heads.Children[2]
	if inner.InBF != 4 || inner.In != ColShape(49, 512) || inner.Out != ColShape(49, 64) {
		t.Errorf("head: bf %d, %v -> %v; want bf 4, (49,512) -> (49,64)", inner.InBF, inner.In, inner.Out)
	}
	if agg.InBF != 4 || agg.Out != ColShape(49, 256) || agg.OutBF != 1 {
		t.Errorf("cat_tensors2d4t: bf %d, out %v, out bf %d; want 4, (49,256), 1", agg.InBF, agg.Out, agg.OutBF)
	}
	var im2col *Node
	Inspect(a.Root, func(n *Node) bool {
		if n.Kind == Terminal && n.Op.Family() == FamIm2col {
			im2col = n
		}
		return im2col == nil
	})
	if im2col.LastIm != [2]int{7, 7} || im2col.Out.Mode() != Col {
		t.Errorf("im2col4k4s0p: grid %v, mode %v; want 7x7, col", im2col.LastIm, im2col.Out.Mode())
	}
}

// TestGroupPruningPerDimension checks SPEC §10.3: group_dim8s2d stays available on a 3×16×16 input
// although its channel dimension is smaller than 8 (the reference pruned it on every dimension).
func TestGroupPruningPerDimension(t *testing.T) {
	s := sampler{g: Default(), counters: &Counters{}}
	seen := map[string]bool{}
	for i := range 2000 {
		s.r = rand.New(rand.NewPCG(uint64(i), 9))
		if n := s.terminal(Branching, state{in: ImShape(3, 16, 16), bf: 1}); n != nil {
			seen[n.Op.Name()] = true
		}
	}
	for _, name := range []string{"group_dim8s2d", "group_dim8s3d", "group_dim4s2d", "clone_tensor8"} {
		if !seen[name] {
			t.Errorf("%s never drawn at 3x16x16", name)
		}
	}
	for _, name := range []string{"group_dim2s1d", "group_dim8s1d"} {
		if seen[name] {
			t.Errorf("%s drawn although 3 channels do not split", name)
		}
	}
}
