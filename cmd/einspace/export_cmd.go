package main

import (
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"os"

	"github.com/einspace-go/einspace/export"
	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/models"
)

func runExport(e *env, args []string) error {
	fs := newFlags(e, "export", "[ARCH] --to pytorch|onnx [--checkpoint DIR] [flags] -o FILE", `Writes ARCH as PyTorch source (one Python file that imports only torch) or as an ONNX model (opset 17),
with the trained weights of --checkpoint DIR: a training run directory (einspace train --save DIR; its
record gives the architecture, input shape and classes, so ARCH may be left out) or a GoMLX checkpoint
directory. The PyTorch weights go beside the source, FILE with .safetensors for .py; the source's
pretrained() loads them. Without --checkpoint the PyTorch module is untrained (PyTorch's initialisation)
and the ONNX model carries freshly initialised weights (--seed). Files are complete or not written.`)
	to := fs.String("to", "", "target: pytorch or onnx (required)")
	out := fs.String("o", "", "output `FILE`: NAME.py for pytorch, NAME.onnx for onnx (required)")
	checkpoint := fs.String("checkpoint", "", "`DIR` with the trained weights: a run directory or a GoMLX checkpoint")
	classes := fs.Int("classes", 0, "classes of the head (default: the checkpoint's; 20 without a checkpoint)")
	seed := fs.Int64("seed", 0, "seed of the initial weights of an ONNX export without --checkpoint")
	input := inputFlag(fs)
	if err := parseFlags(e, fs, reorder(args)); err != nil {
		return err
	}
	inputSet := false
	fs.Visit(func(f *flag.Flag) { inputSet = inputSet || f.Name == "input" })
	switch {
	case *to != "pytorch" && *to != "onnx":
		return usagef("--to must be pytorch or onnx, not %q", *to)
	case *out == "":
		return usagef("-o FILE is required: where to write the %s export", *to)
	case fs.NArg() > 1:
		return usagef("export takes one ARCH, got %d arguments", fs.NArg())
	case *classes < 0:
		return usagef("--classes must be positive, got %d", *classes)
	}

	// A run directory names what it trained: its input shape unless --input says otherwise, and its
	// architecture when ARCH is left out.
	shape, archArg := input.shape, ""
	if fs.NArg() == 1 {
		archArg = fs.Arg(0)
	}
	if *checkpoint != "" {
		rec, err := models.ReadRunRecord(*checkpoint)
		switch {
		case err == nil:
			if !inputSet {
				if s, err := grammar.ShapeOf(rec.Input...); err == nil {
					shape = s
				}
			}
			if archArg == "" {
				archArg = rec.Arch
			}
		case !errors.Is(err, iofs.ErrNotExist):
			return usageError{err}
		}
	}
	if archArg == "" {
		return usagef("export needs an ARCH (text, - or a seed name), or a --checkpoint run directory that names one")
	}
	a, err := readArch(e, archArg, shape)
	if err != nil {
		return err
	}

	var m *models.Model
	source := "untrained"
	if *checkpoint != "" {
		if m, err = export.LoadCheckpoint(*checkpoint, a, *classes); err != nil {
			return exportError(err)
		}
		source = "the weights of " + *checkpoint
	}
	net := (*models.Network)(nil)
	if m != nil {
		net = m.Net
	} else {
		k := *classes
		if k == 0 {
			k = 20
		}
		if net, err = models.Compile(a, k); err != nil {
			return usageError{err}
		}
	}

	switch *to {
	case "pytorch":
		var files []string
		if m != nil {
			files, err = export.WritePyTorch(*out, net, m.Store)
		} else {
			files, err = export.WritePyTorch(*out, net, nil)
		}
		if err != nil {
			return exportError(err)
		}
		fmt.Fprintf(e.stdout, "wrote %s: PyTorch source, %s parameters, input %s, %d classes, %s\n",
			files[0], thousands(net.Params()), a.Input.Arg(), net.Classes, source)
		if len(files) > 1 {
			fmt.Fprintf(e.stdout, "wrote %s: the weights (safetensors), loaded by pretrained() in %s\n", files[1], files[0])
		}
	case "onnx":
		if err := export.CheckONNX(net); err != nil {
			return exportError(err)
		}
		if m == nil { // fresh weights: build the model once so that its variables exist
			if m, err = models.New(net, *seed); err != nil {
				return err
			}
			if _, err := m.Predict(make([]float32, a.Input.Size()), 1); err != nil {
				return err
			}
			source = fmt.Sprintf("freshly initialised weights (seed %d)", *seed)
		}
		if err := export.WriteONNX(*out, net, m.Store); err != nil {
			return exportError(err)
		}
		info, err := os.Stat(*out)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s: ONNX opset %d, %s parameters, %s bytes, input %s, %d classes, %s\n",
			*out, export.Opset, thousands(net.Params()), thousands(info.Size()), a.Input.Arg(), net.Classes, source)
	}
	return nil
}

// exportError marks the export's errors about what the user gave (the checkpoint, the output path, an
// architecture the target cannot hold) as usage errors: exit status 2.
func exportError(err error) error {
	var ce *export.CheckpointError
	var oe *export.OutputError
	var te *export.TargetError
	if errors.As(err, &ce) || errors.As(err, &oe) || errors.As(err, &te) {
		return usageError{err}
	}
	return err
}
