// Package export takes an einspace network out of this project: as PyTorch source that reads like
// hand-written PyTorch, and as an ONNX model, each with the weights of a trained GoMLX model.
//
// A search finds an architecture; to train it at full scale on a GPU, deploy it, or show it to people who
// use PyTorch, it has to run somewhere else. WritePyTorch writes one Python file that imports only torch:
// a class per block of the network (identical blocks share a class), convolutions as nn.Conv2d where the
// tree has routing[im2col, computation<linear>, col2im], BatchNorm2d on images and LayerNorm on columns,
// a comment with the shape after every step, and the paper's head (SPEC §7.1: the backbone's output
// pooled over H and W, or over D, then one linear layer). With weights it also writes them beside the
// source in safetensors format, with the state-dict keys of the generated module, and the source's
// pretrained() loads them with torch alone. WriteONNX writes an ONNX model (opset 17) with the weights as
// initialisers, built with the ONNX schema's generated Go types and serialised by
// google.golang.org/protobuf; batch normalisation there uses its running statistics, as in evaluation.
//
// Weights come from a models.Model's store: one being trained, or one read by LoadCheckpoint from a
// training run directory (einspace train --save) or a GoMLX checkpoint. LoadCheckpoint checks that the
// checkpoint holds exactly the weights of the architecture, with their shapes, and names the first that
// differs. The three targets agree: the tests run the seeds and 50 random architectures, trained a few
// steps, through GoMLX, Debian's PyTorch and ONNX Runtime (npm's onnxruntime-node) and compare the logits.
//
// Writing never leaves a partial file: each file is written under a temporary name and renamed into place
// when complete. Errors in what the user gave are typed: *CheckpointError (a missing directory, not a
// checkpoint, weights of another architecture), *OutputError (a missing output directory, a file name
// Python cannot import) and *TargetError (a network a target cannot hold, such as weights over ONNX's
// 2 GiB).
package export
