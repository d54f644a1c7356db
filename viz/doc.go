// Package viz draws einspace values as ECharts charts: an architecture as its derivation tree and as a
// dataflow graph, a parent beside its mutated or crossed-over child, training curves, and the grammar's
// sample statistics and branching rate.
//
// Every function is a pure function from a value to a *Chart. A Chart renders to an HTML snippet for a
// notebook (Chart.HTML, which needs ECharts already loaded on the page: see EChartsScript) or, with other
// charts, to a standalone page (Page), which inlines the ECharts bundle so that the page is one file that
// draws offline.
//
// The ECharts bundle is third-party code and is not in the repository: `bash scripts/fetch-echarts.sh`
// fetches version 5.6.0 with npm into the ignored cache .cache/echarts/, and EChartsJS finds it there (or
// where $EINSPACE_ECHARTS or ~/.cache/einspace/echarts/ say).
//
// Architectures are drawn compactly by default: a computation module is shown as its terminal, chains of
// sequential modules as one "sequence" node with all their steps as children, and recognisable blocks get
// the names a person would give them: routing[im2col3k1s1p, computation<linear64>, col2im] is
// "conv3x3/1 → 64", a 2-way clone branching that adds an identity branch is a "residual", and a branching
// that merges with a dot product is "attention". TreeOptions.Exact shows the derivation tree as it is.
//
// viz never imports GoNB: the notebook side lives in package kernel.
package viz
