package grammar

import (
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

func TestSeedsRoundTrip(t *testing.T) {
	for _, name := range SeedNames() {
		root, err := Seed(name)
		if err != nil {
			t.Fatal(err)
		}
		text := root.String()
		again, err := Parse(text)
		if err != nil {
			t.Fatalf("%s: reparse: %v", name, err)
		}
		if !Equal(root, again) || again.String() != text {
			t.Errorf("%s: print/parse round trip changed the tree", name)
		}
	}
}

// TestSeedsFileIsCanonical checks that seeds.ein holds every seed in canonical form (golden file).
func TestSeedsFileIsCanonical(t *testing.T) {
	for _, line := range strings.Split(seedsText, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, text, _ := strings.Cut(line, ": ")
		root, err := Seed(name)
		if err != nil {
			t.Fatal(err)
		}
		if root.String() != text {
			t.Errorf("seed %s is not written canonically in seeds.ein", name)
		}
	}
}

func TestSampleRoundTrip(t *testing.T) {
	g := Default()
	r := rand.New(rand.NewPCG(7, 7))
	for i := range 10_000 {
		a, err := g.Sample(r, ImShape(3, 28, 28))
		if err != nil {
			t.Fatal(err)
		}
		text := a.String()
		b, err := ParseArch(text, a.Input)
		if err != nil {
			t.Fatalf("sample %d: %v\n%s", i, err, text)
		}
		if !Equal(a.Root, b.Root) || b.String() != text || b.Output() != a.Output() || b.Stats() != a.Stats() {
			t.Fatalf("sample %d: round trip differs\n%s\n%s", i, text, b)
		}
	}
}

func TestParseCanonicalises(t *testing.T) {
	in := `# a residual block, written loosely
	sequential (
	   branching{ clone_tensor2,   # two paths
	      routing[im2col3k1s1p,computation<linear16>,col2im],
	      computation<identity>, add_tensors },
	   computation < leakyrelu > )`
	want := "sequential(branching{clone_tensor2, routing[im2col3k1s1p, computation<linear16>, col2im], computation<identity>, add_tensors}, computation<leakyrelu>)"
	root, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := root.String(); got != want {
		t.Errorf("canonical form\n got %s\nwant %s", got, want)
	}
	if root.Pos != (Pos{2, 2}) {
		t.Errorf("root position %v, want 2:2", root.Pos)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		pos  string
		want string
	}{
		{"", "1:1", "expected a module"},
		{"sequential(linear64, computation<identity>)", "1:12", "write computation<linear64>"},
		{"sequential(computation<linear64>)", "1:33", `expected ',' between the two modules`},
		{"routing[col2im, computation<identity>, identity]", "1:9", "expected a prerouting function"},
		{"computation<relu>", "1:13", `one of identity, linear16`},
		{"branching{clone_tensor4, computation<identity>, computation<identity>, add_tensors}", "1:49", "takes one inner module"},
		{"branching{clone_tensor2, computation<identity>, add_tensors}", "1:49", "expected a module for inner module 2 of 2"},
		{"sequential(computation<identity>, computation<identity>) extra", "1:58", `unexpected "extra"`},
		{"sequential(computation<identity>,\n  computation<identity>", "2:24", `expected ')' to close sequential`},
		{"routing[identity, computation<identity>, im2col3k1s1p]", "1:42", "found the prerouting function im2col3k1s1p"},
		{"convolution(x)", "1:1", `found "convolution"`},
		{"sequential(routing[identity, computation<identity>, identity], sequential)", "1:74", `expected '(' after sequential`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", tt.in)
			continue
		}
		se, ok := err.(*SyntaxError)
		if !ok {
			t.Errorf("Parse(%q): error %T, want *SyntaxError", tt.in, err)
			continue
		}
		if se.Pos.String() != tt.pos || !strings.Contains(se.Msg, tt.want) {
			t.Errorf("Parse(%q):\n got %v\nwant %s: …%s…", tt.in, err, tt.pos, tt.want)
		}
	}
}

// TestGoldenParse keeps a few hand-written architectures and their canonical forms under testdata.
func TestGoldenParse(t *testing.T) {
	data, err := os.ReadFile("testdata/canonical.txt")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(strings.TrimSpace(string(data)), "\n---\n")
	for i, block := range blocks {
		written, want, ok := strings.Cut(block, "\n=>\n")
		if !ok {
			t.Fatalf("testdata/canonical.txt block %d: no => line", i+1)
		}
		root, err := Parse(written)
		if err != nil {
			t.Errorf("block %d: %v", i+1, err)
			continue
		}
		if got := root.String(); got != strings.TrimSpace(want) {
			t.Errorf("block %d:\n got %s\nwant %s", i+1, got, strings.TrimSpace(want))
		}
	}
}
