// Package kernel is the notebook face of einspace: it shows architectures, charts and tables in a GoNB
// (Go Jupyter kernel) notebook, keeps live views that update in place during training and search, and
// installs a Jupyter kernel for this repository. It is the only package that imports GoNB.
//
// In a notebook cell (see the README for one to paste):
//
//	import (
//		"github.com/einspace-go/einspace/grammar"
//		"github.com/einspace-go/einspace/kernel"
//	)
//
//	%%
//	a := kernel.Must(grammar.SeedArch(grammar.ResNet18, grammar.ImShape(3, 32, 32)))
//	kernel.Check(kernel.Display(kernel.Named{Name: "resnet18", Arch: a})) // statistics, tree, dataflow graph
//	kernel.Check(kernel.Keep("rn18-32", a))                                // for later cells: kernel.Kept
//
// The ECharts bundle is sent to the notebook once per kernel session, before the first chart (see
// LoadECharts), wrapped so that it defines window.echarts even on pages that run require.js; Install also
// puts a copy in Jupyter's nbextensions, from which a chart loads it when its page lost it (a reload, a
// new tab). Every display ends with gonbui.Sync, so no output is lost when the cell's program exits.
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
