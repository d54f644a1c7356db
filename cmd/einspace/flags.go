package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/einspace-go/einspace/grammar"
)

// errHelp is returned after a command printed its help on request.
var errHelp = errors.New("help shown")

// newFlags makes a flag set that reports errors instead of exiting, with a usage text.
func newFlags(e *env, name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: einspace %s %s\n\n%s\n\nFlags:\n", name, synopsis, about)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; --help prints the usage to stdout and returns errHelp.
func parseFlags(e *env, fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(e.stdout)
		fs.Usage()
		return errHelp
	}
	if err != nil {
		fs.SetOutput(e.stderr)
		return usagef("%v (see einspace %s --help)", err, fs.Name())
	}
	return nil
}

// shapeFlag is a flag.Value for an input shape written CxHxW.
type shapeFlag struct{ shape grammar.Shape }

func (s *shapeFlag) String() string {
	if s.shape.IsZero() {
		return ""
	}
	return strings.Trim(strings.ReplaceAll(s.shape.String(), ",", "x"), "()")
}

func (s *shapeFlag) Set(text string) error {
	shape, err := grammar.ParseShape(text)
	if err != nil {
		return err
	}
	if shape.Rank() != 3 {
		return fmt.Errorf("the network input is an image: write it as CxHxW, e.g. 3x28x28")
	}
	s.shape = shape
	return nil
}

func inputFlag(fs *flag.FlagSet) *shapeFlag {
	s := &shapeFlag{shape: grammar.ImShape(3, 28, 28)}
	fs.Var(s, "input", "input shape `CxHxW` without the batch dimension (AddNIST and MultNIST are 3x28x28)")
	return s
}

// formatFlag accepts text or json.
func formatFlag(fs *flag.FlagSet) *string {
	return fs.String("format", "text", "output `format`: text or json (one object per architecture per line)")
}

func checkFormat(format string) error {
	if format != "text" && format != "json" {
		return usagef("--format must be text or json, not %q", format)
	}
	return nil
}
