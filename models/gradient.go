package models

import . "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified

// customGradient gives a function y = f(inputs...) a hand-written gradient. It returns the inputs wrapped
// in identities, which f must be computed on, and capture, which y must be passed through. When GoMLX's
// reverse pass reaches y, capture records dy, the gradient arriving there; the pass reaches the wrapped
// inputs later, since they come earlier in the graph, and their gradients are then grads(dy), called once.
// GoMLX still builds the automatic gradient of f, but nothing uses it, so the backend never runs it.
//
// Why: the automatic gradient keeps f's intermediate tensors from the forward pass to the backward pass,
// and lays its products out in ways the pure-Go backend must transpose. A hand-written one keeps only
// what it references and can be laid out to need no large transpose.
//
// grads should reference the wrapped inputs rather than the originals: the backend copies an identity's
// input that something else still needs, and that would copy every input once more in the forward pass.
// It must then avoid rebuilding an operation of the forward pass exactly, for the backend merges
// identical operations, and the merged result would be held from the forward pass until the backward one.
func customGradient(inputs []*Node, grads func(dy *Node) []*Node) (wrapped []*Node, capture func(y *Node) *Node) {
	var dy *Node
	var computed []*Node
	wrapped = make([]*Node, len(inputs))
	for i, x := range inputs {
		wrapped[i] = IdentityWithCustomGradient(x, func(_, v *Node) *Node {
			if dy == nil { // y is not on the way to the loss: keep the automatic gradient
				return v
			}
			if computed == nil {
				computed = grads(dy)
			}
			return computed[i]
		})
	}
	capture = func(y *Node) *Node {
		return IdentityWithCustomGradient(y, func(_, v *Node) *Node {
			dy = v
			return v
		})
	}
	return wrapped, capture
}
