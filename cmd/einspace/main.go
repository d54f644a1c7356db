// Command einspace samples, inspects, mutates and crosses einspace architectures from the terminal.
//
//	einspace sample [--input 3x28x28] [--seed N] [-n K] [--pc 0.32] [--format text|json]
//	einspace show [--input CxHxW] [--format text|json] ARCH
//	einspace mutate [--seed N] [--input CxHxW] ARCH
//	einspace crossover [--seed N] [--input CxHxW] ARCH ARCH
//	einspace stats [--input CxHxW] [-n K] [--pc 0.9,0.8,...]
//	einspace build [--input CxHxW] [--classes K] [--format text|json] ARCH
//	einspace train ARCH --dataset addnist|multnist|mnist|npy:DIR [--subset N] [--epochs E] [--seed S]
//	einspace search --out DIR [--dataset addnist] [--strategy re|random|rm|re-crossover] [--init scratch|resnet18|mix] [--nats URL] ...
//	einspace report [--html FILE] RUN_DIR
//	einspace export ARCH --to pytorch|onnx [--classes N] [--checkpoint DIR] -o FILE
//	einspace worker --nats URL [--workers N]
//	einspace kernel install
//
// ARCH is architecture text, - to read it from standard input, or a seed name (resnet18, wrn16_4, vit,
// mlp_mixer). Bad input gets a message with its position and exit status 2.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/einspace-go/einspace/models"
)

// usageError marks errors in what the user typed: they exit with status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

type command struct {
	name    string
	summary string
	run     func(env *env, args []string) error
}

// env is what a command reads from and writes to, so that tests can run commands in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

var commands []command

func init() {
	commands = []command{
		{"sample", "draw random architectures from the grammar", runSample},
		{"show", "print an architecture: canonical text, statistics and its tree with shapes", runShow},
		{"mutate", "print a mutated child of an architecture", runMutate},
		{"crossover", "print a child of two architectures that carries a subtree of the second", runCrossover},
		{"stats", "sample statistics per p(computation) beside the paper's Table 10 (Markdown)", runStats},
		{"build", "build an architecture's GoMLX model and run one forward pass", runBuild},
		{"train", "train an architecture on a dataset with the paper's protocol", runTrain},
		{"search", "run (or resume) a search: random search, regularised evolution, random mutation", runSearch},
		{"report", "summarise a search's run directory", runReport},
		{"reproduction", "write the report of the Table 1 reproduction (docs/REPRODUCTION.md) from results/", runReproduction},
		{"export", "write an architecture, with trained weights, as PyTorch source or an ONNX model", runExport},
		{"worker", "train architectures for searches on other machines (NATS JetStream)", runWorker},
		{"eval-worker", "train architectures for a search (started by search)", runEvalWorker},
		{"kernel", "install the Jupyter kernel for this checkout (einspace kernel install)", runKernel},
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `einspace explores the einspace neural architecture search space (Ericsson et al., NeurIPS 2024).

Usage: einspace COMMAND [flags] [arguments]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, `
An ARCH argument is architecture text such as
  'routing[im2col3k1s1p, computation<linear64>, col2im]'
or - to read it from standard input, or the name of a seed: resnet18, wrn16_4, vit, mlp_mixer.

Run 'einspace COMMAND --help' for a command's flags.
`)
}

func main() {
	os.Exit(run(os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}))
}

// run executes one command line and returns the exit status: 0 on success, 2 for bad input or flags,
// 1 for other failures.
func run(args []string, e *env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(e, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, errHelp):
			return 0
		case errors.As(err, new(usageError)), errors.As(err, new(*models.MemoryError)):
			fmt.Fprintf(e.stderr, "einspace %s: %v\n", c.name, err)
			return 2
		default:
			fmt.Fprintf(e.stderr, "einspace %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(e.stderr, "einspace: unknown command %q\n\n", args[0])
	usage(e.stderr)
	return 2
}
