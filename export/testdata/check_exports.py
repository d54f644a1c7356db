#!/usr/bin/python3
"""Checks exported networks with Debian's PyTorch and python3-onnx, for export's tests.

Reads one JSON request a line from standard input:
    {"py": FILE.py, "onnx": FILE.onnx, "input": FILE.f32, "dims": [B, C, H, W], "classes": K}
imports the generated module from FILE.py, builds pretrained() (its weights file beside it, evaluation
mode), runs the input (raw little-endian float32), and checks the ONNX file with onnx.checker and strict
shape inference. Writes one JSON line each: the logits, the trainable parameter count, the largest
|running_mean| of the BatchNorm2d layers, the ONNX output shape found by shape inference, or an error.
"""
import importlib.util
import json
import sys

import onnx
import torch

torch.set_num_threads(2)


def check(req):
    spec = importlib.util.spec_from_file_location("exported_%d" % check.count, req["py"])
    check.count += 1
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    net = mod.pretrained()
    with open(req["input"], "rb") as f:
        x = torch.frombuffer(bytearray(f.read()), dtype=torch.float32).reshape(req["dims"])
    with torch.no_grad():
        y = net(x)
    params = sum(p.numel() for p in net.parameters() if p.requires_grad)
    stats = [m.running_mean.abs().max().item() for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    model = onnx.load(req["onnx"])
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    dims = [d.dim_param or d.dim_value for d in inferred.graph.output[0].type.tensor_type.shape.dim]
    return {"logits": y.flatten().tolist(), "shape": list(y.shape), "params": params,
            "bn_layers": len(stats), "bn_running_mean_max": max(stats, default=0.0), "onnx_output": dims,
            "onnx_opset": model.opset_import[0].version}


check.count = 0

for line in sys.stdin:
    if not line.strip():
        continue
    try:
        out = check(json.loads(line))
    except Exception as err:  # report and go on: the caller names the architecture
        out = {"error": "%s: %s" % (type(err).__name__, err)}
    print(json.dumps(out), flush=True)
