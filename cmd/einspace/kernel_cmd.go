package main

import (
	"fmt"

	"github.com/einspace-go/einspace/kernel"
)

func runKernel(e *env, args []string) error {
	if len(args) == 0 || args[0] != "install" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(e.stdout, "Usage: einspace kernel install [flags]\n\nRegisters the Jupyter kernel \"einspace\" for this checkout.")
			return errHelp
		}
		return usagef("usage: einspace kernel install [flags]")
	}
	fs := newFlags(e, "kernel install", "[flags]", `Registers the Jupyter kernel "einspace" for this checkout: Debian's Jupyter packages when missing,
GoNB `+kernel.GoNBVersion+` and goimports `+kernel.GoimportsVersion+` at pinned versions, and a kernel.json that runs GoNB with
a go.work using this checkout and the toolchain the project needs, so that notebooks import its packages
with no set-up cell.`)
	var o kernel.InstallOptions
	fs.StringVar(&o.Repo, "repo", "", "the checkout notebooks import (default: the one containing the working directory)")
	fs.BoolVar(&o.SkipApt, "skip-apt", false, "do not install Debian's Jupyter packages even when missing")
	fs.BoolVar(&o.Gopls, "gopls", false, "also install gopls "+kernel.GoplsVersion+" (completion in the notebook UI; ~2 min to build)")
	fs.StringVar(&o.GoBin, "gobin", "", "where to install the Go tools (default: $(go env GOPATH)/bin)")
	fs.StringVar(&o.GoNBSource, "gonb-source", "", "build GoNB from this patched copy of its source (scripts/patch-module.sh; default: the pristine module)")
	fs.StringVar(&o.JupyterDataDir, "jupyter-data-dir", "", "where to write the kernelspec (default: $JUPYTER_DATA_DIR or ~/.local/share/jupyter)")
	if err := parseFlags(e, fs, args[1:]); err != nil {
		return err
	}
	o.Log = e.stderr
	ctx, stop := signalContext()
	defer stop()
	path, err := kernel.Install(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Jupyter kernel %q installed: %s\n", kernel.KernelName, path)
	return nil
}
