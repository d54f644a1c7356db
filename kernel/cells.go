package kernel

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/einspace-go/einspace/grammar"
)

// Must returns v when err is nil and panics with err otherwise: in a notebook cell a panic stops the
// cell's program and shows the error under the cell, which is what a failed step should do there.
//
//	a := kernel.Must(grammar.ParseArch(text, grammar.ImShape(3, 28, 28)))
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Check panics with err when it is not nil (see Must).
//
//	kernel.Check(kernel.Display(a))
func Check(err error) {
	if err != nil {
		panic(err)
	}
}

// Named is an architecture with a name, which Display writes in the titles of its table, tree and graph.
type Named struct {
	Name string
	Arch *grammar.Arch
}

// KeptDir is where Keep writes: $EINSPACE_KEPT, else einspace/kept in the user's cache directory. It
// outlives the kernel, so kept architectures survive a restart.
func KeptDir() (string, error) {
	if d := os.Getenv("EINSPACE_KEPT"); d != "" {
		return d, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("kernel: no directory to keep architectures in (set $EINSPACE_KEPT): %w", err)
	}
	return filepath.Join(cache, "einspace", "kept"), nil
}

var keptName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

func keptPath(name string) (string, error) {
	if !keptName.MatchString(name) || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("kernel: %q is not a name to keep an architecture under: use letters, digits, '_', '-' and '.'", name)
	}
	dir, err := KeptDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, name+".ein"), nil
}

// Keep saves an architecture under a name for later cells, which are new programs that do not share
// variables' values: its input shape and canonical text go to KeptDir()/name.ein. Kept reads it back.
func Keep(name string, a *grammar.Arch) error {
	path, err := keptPath(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("kernel: keep %s: %w", name, err)
	}
	text := fmt.Sprintf("# input %s\n%s\n", a.Input.Arg(), a)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return fmt.Errorf("kernel: keep %s: %w", name, err)
	}
	return nil
}

// Kept returns the architecture kept under name by Keep, inferred again for its input shape.
func Kept(name string) (*grammar.Arch, error) {
	path, err := keptPath(name)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("kernel: no architecture kept under %q (in %s): keep one with kernel.Keep(%q, a)", name, filepath.Dir(path), name)
		}
		return nil, err
	}
	first, body, _ := strings.Cut(string(raw), "\n")
	input, err := grammar.ParseShape(strings.TrimPrefix(first, "# input "))
	if err != nil {
		return nil, fmt.Errorf("kernel: %s: first line: %w", path, err)
	}
	a, err := grammar.ParseArch(body, input)
	if err != nil {
		return nil, fmt.Errorf("kernel: %s: %w", path, err)
	}
	return a, nil
}
