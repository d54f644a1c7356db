// Package kernel is the notebook face of einspace: it shows architectures, charts and tables in a GoNB
// (Go Jupyter kernel) notebook, keeps live views that update in place during training and search, and
// installs a Jupyter kernel for this repository. It is the only package that imports GoNB.
//
// In a notebook cell:
//
//	import (
//		"github.com/einspace-go/einspace/grammar"
//		"github.com/einspace-go/einspace/kernel"
//	)
//
//	func main() {
//		a, _ := grammar.SeedArch(grammar.ResNet18, grammar.ImShape(3, 32, 32))
//		kernel.Display(a) // derivation tree, dataflow graph and statistics
//	}
//
// The ECharts bundle is sent to the notebook once per kernel session, before the first chart (see
// LoadECharts), wrapped so that it defines window.echarts even on pages that run require.js. Every display
// ends with gonbui.Sync, so no output is lost when the cell's program exits.
//
// Outside a notebook (gonbui.IsNotebook is false: under go test, on the command line) nothing is sent
// anywhere. Instead Display writes each chart display as a standalone HTML page into OutputDir and prints
// its path to Stdout, prints tables as text, and a Live view prints its progress as plain text lines and
// writes its final state as a page. The same code thus runs, and leaves something to look at, everywhere.
//
// Install registers the Jupyter kernel "einspace" for a checkout of this repository: GoNB run with a
// go.work that uses the checkout and the project's toolchain settings, so that notebook cells import the
// repository's packages with no set-up cell. scripts/setup-notebooks.sh runs it.
package kernel
