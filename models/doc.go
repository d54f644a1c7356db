// Package models turns einspace architectures into GoMLX networks and trains and evaluates them with the
// paper's protocol.
//
// An architecture from package grammar is a derivation tree whose every node already knows its input and
// output shapes. Compile wraps it for classification as the reference code does (SPEC §7.1): the raw
// input goes straight into the tree, which is the backbone, and a head pools the backbone's output and
// maps it to the class logits with one linear layer. An image-mode output (C,H,W) is averaged over H and W
// and the head is Linear(C, classes); a column-mode output (L,D) is averaged over its last dimension D and
// the head is Linear(L, classes), mapping the token axis.
//
// Every terminal computes what its PyTorch counterpart computes in the reference code, including the
// memory layouts that decide which numbers meet: im2col is nn.Unfold followed by a transpose, col2im a
// transpose and a reshape, linear layers act on the last dimension in both modes (in image mode that is
// the width), norm is BatchNorm2d on images and LayerNorm on columns, LeakyReLU has slope 0.01, and
// parameters start from PyTorch's initialisations. A routing module
// routing[im2col, computation<linearN>, col2im] is a convolution; it is computed as one, with the linear
// layer's parameters, in a channel-major layout where its products need no large transpose, and with
// hand-written gradients that rebuild the patches instead of keeping them (conv.go); 3×3 convolutions with
// stride 1, padding 1 and at least 128 channels use Winograd's F(2×2, 3×3), whose products take 2.25× fewer
// multiply-adds (winograd.go). Batch normalisation
// in training also has a hand-written gradient (torch's formula), which keeps only its input between the
// forward and backward passes.
//
// Weights live in a GoMLX store, named by the position of their node in the tree ("/backbone/0/1/0/
// weights"); each of the 4 or 8 copies of a wide branching module's one inner module gets its own. The
// trainable parameter count of a built model therefore equals grammar's analytic count plus the head's,
// and TrainableParams counts it from the store.
//
// A Model is a network with its weights. Train runs the protocol of SPEC §7.3: SGD with momentum 0.9 and
// weight decay 3e-4, a learning rate of 0.04 annealed by a cosine once per epoch, batches of 256 with the
// last incomplete batch dropped, and cross-entropy; after every epoch it measures validation accuracy and
// reports the epoch's metrics. A NaN or infinite loss stops training, and the run scores the last
// completed epoch. Save and Load keep a trained model in a GoMLX checkpoint directory.
//
// Graphs run on the backend named by the environment variable GOMLX_BACKEND, by default the pure-Go one
// configured as DefaultBackend.
package models
