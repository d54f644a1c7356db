// Command install-kernel registers the Jupyter kernel "einspace" for this checkout (see kernel.Install):
// Debian's Jupyter packages when missing, GoNB and goimports at pinned versions, and a kernel.json that runs
// GoNB with a go.work using the checkout. scripts/setup-notebooks.sh runs it; until the einspace command
// has a subcommand for it, run it with `go run ./kernel/cmd/install-kernel`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/einspace-go/einspace/kernel"
)

func main() {
	var o kernel.InstallOptions
	flag.StringVar(&o.Repo, "repo", "", "the checkout notebooks import (default: the one containing the working directory)")
	flag.BoolVar(&o.SkipApt, "skip-apt", false, "do not install Debian's Jupyter packages even when missing")
	flag.BoolVar(&o.Gopls, "gopls", false, "also install gopls "+kernel.GoplsVersion+" (completion in the notebook UI; ~2 min to build)")
	flag.StringVar(&o.GoBin, "gobin", "", "where to install the Go tools (default: $(go env GOPATH)/bin)")
	flag.StringVar(&o.JupyterDataDir, "jupyter-data-dir", "", "where to write the kernelspec (default: $JUPYTER_DATA_DIR or ~/.local/share/jupyter)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	path, err := kernel.Install(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "install-kernel:", err)
		os.Exit(1)
	}
	fmt.Printf("Jupyter kernel %q installed: %s\n", kernel.KernelName, path)
}
