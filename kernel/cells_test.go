package kernel_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/kernel"
)

func ExampleKeep() {
	dir, _ := os.MkdirTemp("", "kept")
	defer os.RemoveAll(dir)
	os.Setenv("EINSPACE_KEPT", dir)
	defer os.Unsetenv("EINSPACE_KEPT")

	// one cell
	conv := kernel.Must(grammar.ParseArch("routing[im2col3k1s1p, computation<linear64>, col2im]", grammar.ImShape(3, 28, 28)))
	kernel.Check(kernel.Keep("my-conv", conv))

	// a later cell: a new program
	again := kernel.Must(kernel.Kept("my-conv"))
	fmt.Println(again.Input, again.Output(), again.Stats().Params)
	// Output: (3,28,28) (64,28,28) 1792
}

func TestKeptErrors(t *testing.T) {
	t.Setenv("EINSPACE_KEPT", t.TempDir())
	if _, err := kernel.Kept("nothing"); err == nil || !strings.Contains(err.Error(), `no architecture kept under "nothing"`) {
		t.Errorf("missing: %v", err)
	}
	a := kernel.Must(grammar.SeedArch(grammar.ViT, grammar.ImShape(3, 32, 32)))
	for _, bad := range []string{"", "../x", "a b", ".hidden"} {
		if err := kernel.Keep(bad, a); err == nil {
			t.Errorf("Keep(%q) accepted", bad)
		}
	}
	kernel.Check(kernel.Keep("vit32", a))
	b := kernel.Must(kernel.Kept("vit32"))
	if b.String() != a.String() || b.Input != a.Input {
		t.Errorf("kept %s for %v, got %s for %v", a, a.Input, b, b.Input)
	}
}

func TestMustPanicsWithTheError(t *testing.T) {
	want := errors.New("boom")
	defer func() {
		if r := recover(); r != want {
			t.Errorf("recovered %v, want %v", r, want)
		}
	}()
	kernel.Must(0, want)
}

func TestNamedTitles(t *testing.T) {
	_, out := outside(t)
	a := kernel.Must(grammar.SeedArch(grammar.ResNet18, grammar.ImShape(3, 28, 28)))
	kernel.Check(kernel.Display(kernel.Named{Name: "resnet18", Arch: a}))
	for _, want := range []string{"resnet18 (architecture ", "resnet18-architecture"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	m := wrote.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no page written:\n%s", out)
	}
	html, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"resnet18: derivation tree", "resnet18: dataflow graph"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("page lacks the title %q", want)
		}
	}
}
