package models

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/ml/model"
)

// Workarounds for GoMLX v0.28.16 and its pure-Go backend, fenced here so that each can go when the backend
// changes: every one computes what the plain code would, and exists only because of how that version runs
// it. Re-measure (docs/BENCHMARKS.md) or re-test before removing one.

// padValue is the value padHW pads with: -0.0, which every sum and product here treats exactly as 0.
// Why: the backend's Pad fills its output before copying x in, one number at a time when the value is
// +0.0 and by doubling a copied block (at memory speed) for any other bit pattern. Concatenating zero
// blocks, also tried, copies x twice and builds the zero blocks every step. (The patched backend,
// docs/BACKEND-PATCHES.md, shares either fill among its workers and fills only around x.)
func padValue(x *Node) *Node { return Neg(ScalarZero(x.Graph(), x.DType())) }

// linearOnRows reports whether linear should multiply the 2-D view (rows, in) of an x of rank > 2.
// Why: the backend computes the weight gradient by transposing the output gradient and the input to
// (features, rows), with its slow generic N-D transpose for rank > 2 and a fast 2-D kernel otherwise —
// except when the row count is a multiple of 1024: the 2-D kernel then writes with a stride that maps every
// row of a tile to one cache set and is slower than the generic one (28 against about 6 ns per element for
// 200,704 rows), so such x keep their rank.
func linearOnRows(x *Node, rows int) bool { return x.Rank() > 2 && rows%1024 != 0 }

// markEvaluationGraph marks an evaluation graph as training although it is not.
// Why: on the Go backend a graph that is not training bakes variables in as constants when it is compiled,
// so it would go on evaluating the weights it first saw. Batch normalisation takes its mode from the
// Network instead.
func markEvaluationGraph(scope *model.Scope, g *Graph) { scope.SetTraining(g, true) }

// normalise is (x-mean)/std in the forward pass of batch normalisation.
// Why: Div by Sqrt rather than Mul by Rsqrt, which has no gradient in GoMLX v0.28.16.
func normalise(centered, std *Node) *Node { return Div(centered, std) }

// normalisedForGradient rebuilds x̂ = (x-mean)/std for the backward pass of batch normalisation.
// Why: with operations the forward pass does not use (add the negated mean, multiply by 1/std), so that the
// backend does not merge the two computations and hold the forward's copy of x̂ between the passes.
func normalisedForGradient(x, mean, invStd *Node, perChannel func(*Node) *Node) *Node {
	return Mul(Add(x, perChannel(Neg(mean))), perChannel(invStd))
}
