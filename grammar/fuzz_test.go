package grammar

import (
	"testing"
)

// FuzzParse feeds the parser arbitrary text: it must never panic, and whatever it accepts must print to a
// canonical form that parses back to the same tree. Inference on accepted trees must not panic either.
func FuzzParse(f *testing.F) {
	for _, name := range SeedNames() {
		root, _ := Seed(name)
		f.Add(root.String())
	}
	for _, s := range []string{
		"routing[im2col3k1s1p, computation<linear64>, col2im]",
		"branching{clone_tensor4, computation<linear64>, cat_tensors2d4t}",
		"sequential(computation<identity>, # comment\n computation<norm>)",
		"branching{clone_tensor2, computation<linear16>, computation<identity>, add_tensors}",
		"sequential(linear64, computation<identity>)",
		"routing[permute21, computation<identity>, col2im]",
		"computation<",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		root, err := Parse(text)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("Parse returned %T, want *SyntaxError", err)
			}
			return
		}
		canonical := root.String()
		again, err := Parse(canonical)
		if err != nil {
			t.Fatalf("canonical form does not parse: %v\n%s", err, canonical)
		}
		if !Equal(root, again) || again.String() != canonical {
			t.Fatalf("round trip changed the tree:\n%s\n%s", canonical, again)
		}
		_, _ = Infer(root, ImShape(3, 28, 28))
	})
}
