package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/einspace-go/einspace/grammar"
)

// archArgs parses the flags of a command that takes n ARCH arguments, checks --format, and reads the
// architectures for the --input shape.
func archArgs(e *env, fs *flag.FlagSet, args []string, input *shapeFlag, format *string, n int) ([]*grammar.Arch, error) {
	if err := parseFlags(e, fs, args); err != nil {
		return nil, err
	}
	if err := checkFormat(*format); err != nil {
		return nil, err
	}
	if fs.NArg() != n {
		what := map[int]string{1: "one ARCH (text, - or a seed name)", 2: "two ARCHs"}[n]
		return nil, usagef("%s takes %s, got %d arguments", fs.Name(), what, fs.NArg())
	}
	stdin := 0
	archs := make([]*grammar.Arch, n)
	for i, arg := range fs.Args() {
		if arg == "-" {
			if stdin++; stdin > 1 {
				return nil, usagef("only one ARCH can come from standard input")
			}
		}
		a, err := readArch(e, arg, input.shape)
		if err != nil {
			return nil, err
		}
		archs[i] = a
	}
	return archs, nil
}

// readArch turns an ARCH argument into an inferred architecture: a seed name, - for standard input, or text.
func readArch(e *env, arg string, input grammar.Shape) (*grammar.Arch, error) {
	text, where := arg, "argument"
	switch {
	case arg == "-":
		data, err := io.ReadAll(e.stdin)
		if err != nil {
			return nil, fmt.Errorf("reading standard input: %w", err)
		}
		text, where = string(data), "standard input"
	case isSeedName(arg):
		a, err := grammar.SeedArch(arg, input)
		if err != nil {
			return nil, usageError{err}
		}
		return a, nil
	}
	root, err := grammar.Parse(text)
	if err != nil {
		if !strings.ContainsAny(text, "([{<") && !strings.Contains(text, ",") {
			return nil, usagef("%q is neither a seed (%s) nor architecture text: %v", text, strings.Join(grammar.SeedNames(), ", "), err)
		}
		return nil, usagef("%s: %v", where, err)
	}
	a, err := grammar.Infer(root, input)
	if err != nil {
		return nil, usagef("%s at input %s: %v", where, input.Arg(), err)
	}
	return a, nil
}

func isSeedName(s string) bool {
	for _, name := range grammar.SeedNames() {
		if s == name {
			return true
		}
	}
	return false
}

// archJSON is the one-line JSON form of an architecture.
type archJSON struct {
	Arch            string `json:"arch"`
	Hash            string `json:"hash"`
	Input           []int  `json:"input_shape"`
	Output          []int  `json:"output_shape"`
	Mode            string `json:"mode"`
	Params          int64  `json:"params"`
	FLOPs           int64  `json:"flops"`
	ActivationBytes int64  `json:"activation_bytes"`
	Nodes           int    `json:"nodes"`
	Terminals       int    `json:"terminals"`
	NonTerminals    int    `json:"nonterminals"`
	Depth           int    `json:"depth"`
}

func toJSON(a *grammar.Arch) archJSON {
	s := a.Stats()
	return archJSON{Arch: a.String(), Hash: a.Hash(), Input: a.Input.Dims(), Output: a.Output().Dims(),
		Mode: a.Output().Mode().String(), Params: s.Params, FLOPs: s.FLOPs, ActivationBytes: s.ActivationBytes,
		Nodes: s.Nodes, Terminals: s.Terminals, NonTerminals: s.NonTerminals, Depth: s.Depth}
}

func writeJSON(w io.Writer, a *grammar.Arch) error { return writeJSONLine(w, toJSON(a)) }

// writeJSONLine writes v as one line of JSON, leaving <, > and & as they are (architecture text uses them).
func writeJSONLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeStats prints the statistics block of show.
func writeStats(w io.Writer, a *grammar.Arch) {
	s := a.Stats()
	fmt.Fprintf(w, "input       %s\n", a.Input.Arg())
	fmt.Fprintf(w, "output      %s (%s mode)\n", a.Output().Arg(), a.Output().Mode())
	fmt.Fprintf(w, "parameters  %s\n", thousands(s.Params))
	fmt.Fprintf(w, "FLOPs       %s multiply-adds per example\n", thousands(s.FLOPs))
	fmt.Fprintf(w, "activations %s bytes per example\n", thousands(s.ActivationBytes))
	fmt.Fprintf(w, "nodes       %d (%d modules, %d terminals), depth %d\n", s.Nodes, s.NonTerminals, s.Terminals, s.Depth)
	fmt.Fprintf(w, "hash        %s\n", a.Hash())
}

// writeTree prints the derivation tree indented, each node with its output shape.
func writeTree(w io.Writer, n *grammar.Node, indent string, label string) {
	name := n.Kind.String()
	switch {
	case n.Kind == grammar.Terminal:
		name = n.Op.Name()
	case n.Kind == grammar.BranchingModule:
		name = fmt.Sprintf("branching ×%d", n.Factor())
	}
	if label != "" {
		label += ": "
	}
	fmt.Fprintf(w, "%s%s%-*s -> %s\n", indent, label, max(1, 40-len(indent)-len(label)), name, n.Out.Arg())
	for i, c := range n.Children {
		writeTree(w, c, indent+"  ", slotLabel(n, i))
	}
}

// slotLabel names child i of parent in the tree listing: the slot's name from the grammar's table, with
// the branch for a 2-way branching module's inner modules and the copy count for a shared one.
func slotLabel(parent *grammar.Node, i int) string {
	if parent.Kind == grammar.ComputationModule {
		return "" // its one terminal is the module: a label would repeat it
	}
	slot, k := parent.SlotOf(i)
	if !slot.Repeated {
		return slot.Name
	}
	if grammar.InnerModules(parent.Factor()) == 1 {
		return fmt.Sprintf("%s ×%d", slot.Name, parent.Factor())
	}
	return fmt.Sprintf("%s %d", slot.Name, k+1)
}

// thousands writes n with comma separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
