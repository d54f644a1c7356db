// Runs exported ONNX models in ONNX Runtime (onnxruntime-node, CPU) for export's tests. Reads one JSON
// request a line from standard input: {"model": FILE.onnx, "input": FILE.f32, "dims": [B, C, H, W]}, the
// input being raw little-endian float32; writes one JSON line each: {"logits": [...], "dims": [...]} or
// {"error": "..."}.
import { createInterface } from "node:readline";
import { readFileSync } from "node:fs";
import * as ort from "onnxruntime-node";

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  try {
    const req = JSON.parse(line);
    const raw = readFileSync(req.input);
    const data = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    const session = await ort.InferenceSession.create(req.model, { intraOpNumThreads: 2, graphOptimizationLevel: "disabled" });
    const out = await session.run({ input: new ort.Tensor("float32", data, req.dims) });
    const logits = out.logits;
    process.stdout.write(JSON.stringify({ logits: Array.from(logits.data), dims: logits.dims }) + "\n");
    await session.release();
  } catch (err) {
    process.stdout.write(JSON.stringify({ error: String(err && err.message ? err.message : err) }) + "\n");
  }
}
