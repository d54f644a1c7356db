// Package grammar implements einspace, the neural architecture search space of Ericsson et al. (NeurIPS
// 2024), as a probabilistic context-free grammar over fundamental operations.
//
// An architecture is a derivation tree. Its modules are
//
//	sequential(M, M)        second(first(x))
//	branching{B, M, M, A}   split x in two, transform each part, merge (factor 2)
//	branching{B, M, A}      split x in 4 or 8, transform each with a copy of M, merge
//	routing[P, M, R]        reshape, transform, reshape back (im2col … col2im is a convolution)
//	computation<C>          a linear layer, a norm, an activation, a softmax or a positional encoding
//
// and its terminals (Op) fill the B, A, P, R and C slots. The network's root is never a computation module.
//
// Everything here is analytic: no tensors are made. Infer computes every node's input and output shape,
// mode (im: C×H×W, col: L×D), branching factor and depth from the input shape, and rejects a tree that
// cannot compute with an error that names the node, its path and its position in the text. Stats counts
// nodes, parameters, multiply-adds and activation memory. Because inference is complete, every tree it
// accepts builds and trains in the models package (SPEC §10.5).
//
// A Grammar samples architectures (p(computation) = 0.32, uniform terminals, one-level backtracking,
// optional caps), mutates them (a uniformly chosen node resampled with its top symbol changed) and
// crosses two of them over. Every random function takes an explicit *rand.Rand, so a seed fixes the
// result.
//
// The text format prints and parses architectures losslessly:
//
//	routing[im2col3k1s1p, computation<linear64>, col2im]
//
// is a 3×3 convolution with 64 output channels. Parse reports line:column and what was expected; String
// prints the canonical form. The paper's four seed architectures (ResNet-18, WRN-16-4, ViT, MLP-Mixer) are
// embedded and available by name through Seed and SeedArch.
//
// Where the paper's reference code has defects, this package follows the decisions of SPEC.md §10:
// aggregation arity equals the branching factor, group splits are pruned per dimension, 4- and 8-way
// branching has one shared inner subtree, col2im is legal only after an im2col in the same routing module
// and only when the token count fits its grid, and samples are valid by construction.
package grammar
