#!/usr/bin/env bash
# Training throughput, GoMLX (pure-Go backend) against PyTorch, on the four paper seeds at batch 256 and
# 3×28×28 inputs (20 classes), the paper's SGD step. The two are alternated, ROUNDS rounds each, so that a
# shared, noisy machine affects both alike; the table reports the mean images/s per framework, the ratio
# Go/PyTorch of the means and that of each round (with their median), the GFLOP/s each achieves against
# the machine's measured fp32 sgemm rate (PyTorch's, so that results from different CPUs compare), and the
# largest peak RSS. About 10-15 minutes on 2 cores.
#
#   bench/train_vs_torch.sh                 # all seeds, 2 rounds
#   SEEDS="resnet18 vit" ROUNDS=1 GO_STEPS=2 TORCH_STEPS=3 bench/train_vs_torch.sh
#
# Go side: bench/trainstep (1 warm-up step that includes compiling the graph, then GO_STEPS timed steps).
# PyTorch side: bench/torch_einspace.py with Debian's python3-torch, 2 threads (1 warm-up, TORCH_STEPS timed).
# Raw JSON lines are kept in $OUT (default: a temporary directory, printed at the end).
# TORCH=0 leaves PyTorch out (for a Go-against-Go comparison). BASELINE_GOROOT=DIR also times the Go side
# built with the toolchain at DIR, alternated with the others
# (for example the unpatched go1.27.3, to measure what patches/ cost: it runs with
# EINSPACE_ALLOW_UNPATCHED_SIMD=1 and may crash at random, docs/ARCHSIMD-PART-LOADS.md).
# BASELINE_BACKEND=pristine instead times the Go side built against the pristine GoMLX backend, without
# patches/gomlx-compute-*.patch (docs/BACKEND-PATCHES.md).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

SEEDS=${SEEDS:-"resnet18 wrn16_4 vit mlp_mixer"}
ROUNDS=${ROUNDS:-2}
GO_STEPS=${GO_STEPS:-3}
TORCH_STEPS=${TORCH_STEPS:-5}
THREADS=${THREADS:-2}
OUT=${OUT:-$(mktemp -d /tmp/train_vs_torch.XXXXXX)}
mkdir -p "$OUT"
: >"$OUT/results.jsonl" # this run's rows only, even in an OUT used before
: >"$OUT/archs.jsonl"

go build -o bin/einspace ./cmd/einspace
go build -o "$OUT/trainstep" ./bench/trainstep
if [ -n "${BASELINE_GOROOT:-}" ]; then
  "$BASELINE_GOROOT/bin/go" build -o "$OUT/trainstep-baseline" ./bench/trainstep
  echo "baseline go: $("$BASELINE_GOROOT/bin/go" version) at $BASELINE_GOROOT"
elif [ "${BASELINE_BACKEND:-}" = pristine ]; then
  GOWORK=off GOFLAGS=-mod=mod go build -o "$OUT/trainstep-baseline" ./bench/trainstep
  echo "baseline: the same toolchain, the pristine GoMLX backend (without patches/gomlx-compute-*.patch)"
fi

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p') (family $(lscpu | sed -n 's/^CPU family: *//p'), model $(lscpu | sed -n 's/^Model: *//p')), $(grep -o -w 'avx2\|avx512f\|avx512_bf16' /proc/cpuinfo | sort -u | tr '\n' ' '), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "go: $(go version), GOEXPERIMENT=$GOEXPERIMENT, GOMLX_BACKEND=${GOMLX_BACKEND:-unset (models.DefaultBackend)}"
echo "torch: $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), $THREADS threads"
# The machine's fp32 matrix-multiply rate, the yardstick for both frameworks' GFLOP/s: PyTorch's sgemm
# (OpenBLAS in Debian's build) on 4096x4096 matrices, best of 5, with the threads the PyTorch side uses.
/usr/bin/python3 - "$THREADS" >"$OUT/sgemm.json" <<'PY'
import json, sys, time, torch
torch.set_num_threads(int(sys.argv[1]))
n = 4096
a, b = torch.randn(n, n), torch.randn(n, n)
torch.mm(a, b)
best = float("inf")
for _ in range(5):
    t0 = time.perf_counter()
    torch.mm(a, b)
    best = min(best, time.perf_counter() - t0)
print(json.dumps({"n": n, "threads": int(sys.argv[1]), "gflops": 2 * n**3 / best / 1e9}))
PY
echo "sgemm: $(cat "$OUT/sgemm.json")"
for round in $(seq 1 "$ROUNDS"); do
  for seed in $SEEDS; do
    arch=$(bin/einspace show --format json "$seed")
    [ "$round" = 1 ] && echo "$arch" | sed "s/^{/{\"seed_name\": \"$seed\", /" >>"$OUT/archs.jsonl"
    echo "round $round $seed: go ($GO_STEPS steps) ..." >&2
    "$OUT/trainstep" --seed "$seed" --steps "$GO_STEPS" --warmup 1 | sed "s/^{/{\"round\": $round, \"seed_name\": \"$seed\", \"side\": \"go\", /" >>"$OUT/results.jsonl"
    if [ -x "$OUT/trainstep-baseline" ]; then
      echo "round $round $seed: go baseline ($GO_STEPS steps) ..." >&2
      EINSPACE_ALLOW_UNPATCHED_SIMD=1 "$OUT/trainstep-baseline" --seed "$seed" --steps "$GO_STEPS" --warmup 1 |
        sed "s/^{/{\"round\": $round, \"seed_name\": \"$seed\", \"side\": \"go-baseline\", /" >>"$OUT/results.jsonl" ||
        echo "round $round $seed: go baseline failed (exit $?)" >&2
    fi
    if [ "${TORCH:-1}" != 0 ]; then
      echo "round $round $seed: pytorch ($TORCH_STEPS steps) ..." >&2
      /usr/bin/python3 bench/torch_einspace.py --arch "$arch" --steps "$TORCH_STEPS" --warmup 1 --threads "$THREADS" |
        sed "s/^{/{\"round\": $round, \"seed_name\": \"$seed\", \"side\": \"torch\", /" >>"$OUT/results.jsonl"
    fi
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/python3 - "$OUT/results.jsonl" "$OUT/archs.jsonl" "$OUT/sgemm.json" <<'PY'
import json, sys
from statistics import median
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
macs = {a["seed_name"]: a["flops"] for a in (json.loads(l) for l in open(sys.argv[2]) if l.strip())}
peak = json.load(open(sys.argv[3]))["gflops"]
seeds = list(dict.fromkeys(r["seed_name"] for r in rows))
# A train step costs about three forward passes (the forward, and the gradients of inputs and of weights),
# each 2 FLOPs per multiply-add of the backbone (the grammar's count; the head is negligible).
gflops = lambda s, ips: 3 * 2 * macs[s] * ips / 1e9
print()
print(f"fp32 sgemm peak of this machine (PyTorch, 4096x4096): {peak:.0f} GFLOP/s")
print()
base = any(r["side"] == "go-baseline" for r in rows)
# Each round runs Go and then PyTorch on the same seed, one right after the other, so a slow spell of the
# machine (another tenant on its host) touches both sides of a round more often than two rounds: the
# ratios of the rounds, and their median, read through such spells better than the ratio of the means does.
print("| seed | params | GoMLX images/s (rounds) | PyTorch images/s (rounds) | ratio Go/PyTorch | ratio per round (median) | GoMLX GFLOP/s (% of sgemm) | PyTorch GFLOP/s (% of sgemm) | GoMLX peak RSS | PyTorch peak RSS |"
      + (" baseline Go images/s (rounds) | Go/baseline |" if base else ""))
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if base else ""))
for s in seeds:
    g = [r for r in rows if r["seed_name"] == s and r["side"] == "go"]
    t = [r for r in rows if r["seed_name"] == s and r["side"] == "torch"]
    gi = [r["images_per_second"] for r in g]
    ti = [r["images_per_second"] for r in t]
    gm, tm = sum(gi) / len(gi), (sum(ti) / len(ti) if ti else float("nan"))
    fmt = lambda xs: ", ".join(f"{x:.1f}" for x in xs)
    tr = {r["round"]: r["images_per_second"] for r in t}
    rr = [r["images_per_second"] / tr[r["round"]] for r in g if r["round"] in tr]
    per_round = f"{', '.join(f'{x:.2f}' for x in rr)} ({median(rr):.2f}×)" if rr else "–"
    print(f"| {s} | {g[0]['params']:,} | **{gm:.1f}** ({fmt(gi)}) | **{tm:.1f}** ({fmt(ti)}) | **{gm / tm:.2f}×** | {per_round} | "
          f"{gflops(s, gm):.0f} ({100 * gflops(s, gm) / peak:.0f}%) | {gflops(s, tm):.0f} ({100 * gflops(s, tm) / peak:.0f}%) | "
          f"{max(r['peak_rss_mb'] for r in g) / 1024:.2f} GiB | {(max(r['peak_rss_mb'] for r in t) / 1024 if t else float('nan')):.2f} GiB |", end="")
    bi = [r["images_per_second"] for r in rows if r["seed_name"] == s and r["side"] == "go-baseline"]
    if base:
        print(f" **{sum(bi) / len(bi):.1f}** ({fmt(bi)}) | **{gm / (sum(bi) / len(bi)):.3f}×** |" if bi else " crashed | |", end="")
    print()
PY
echo
echo "raw results: $OUT/results.jsonl"
