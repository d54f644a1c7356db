#!/usr/bin/python3
"""PyTorch twin of an einspace architecture, for benchmarks and cross-checks.

Reads an architecture in the project's text format (SPEC §10.1), builds the equivalent torch.nn.Module
(SPEC §2 semantics, head of §7.1), checks its backbone parameter count against the count the Go grammar
computed, and measures training-step throughput on random data:

    /usr/bin/python3 bench/torch_einspace.py --arch "$(bin/einspace show --format json resnet18)" --steps 20

--arch takes the JSON line printed by `einspace show --format json` (it carries the text, the input shape
and the analytic parameter count). Prints one JSON line: images/s, seconds per step, parameters, peak RSS.
Uses Debian's python3-torch; 2 threads unless --threads says otherwise.
"""
import argparse
import json
import math
import re
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# ---- parsing ---------------------------------------------------------------------------------------

TOKEN = re.compile(r"\s*(?:#[^\n]*\n?\s*)*([A-Za-z0-9_]+|[()\[\]{}<>,])")


def tokenize(text):
    pos, out = 0, []
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            if text[pos:].strip() == "" or text[pos:].lstrip().startswith("#"):
                break
            raise ValueError(f"cannot read {text[pos:pos+20]!r}")
        out.append(m.group(1))
        pos = m.end()
    return out


class Parser:
    def __init__(self, text):
        self.toks, self.i = tokenize(text), 0

    def next(self):
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, t):
        got = self.next()
        if got != t:
            raise ValueError(f"expected {t!r}, got {got!r}")

    def items(self, close):
        out = [self.node()]
        while self.toks[self.i] == ",":
            self.i += 1
            out.append(self.node())
        self.expect(close)
        return out

    def node(self):
        name = self.next()
        brackets = {"sequential": ("(", ")"), "branching": ("{", "}"), "routing": ("[", "]"),
                    "computation": ("<", ">")}
        if name in brackets and self.i < len(self.toks) and self.toks[self.i] == brackets[name][0]:
            self.i += 1
            return (name, self.items(brackets[name][1]))
        return name


# ---- modules ---------------------------------------------------------------------------------------

def clone_factor(name):
    m = re.fullmatch(r"clone_tensor(\d)", name)
    return int(m.group(1)) if m else None


def group_params(name):
    m = re.fullmatch(r"group_dim(\d)s(\d)d", name)
    return (int(m.group(1)), int(m.group(2))) if m else None


def branching_factor(name):
    return clone_factor(name) or group_params(name)[0]


class Im2col(nn.Module):
    def __init__(self, k, s, p):
        super().__init__()
        self.unfold = nn.Unfold(k, 1, p, s)

    def forward(self, x):
        return self.unfold(x).permute(0, 2, 1)


class Col2im(nn.Module):
    def __init__(self, grid):
        super().__init__()
        self.grid = grid

    def forward(self, x):
        b = x.shape[0]
        return x.permute(0, 2, 1).reshape(b, -1, *self.grid)


class Permute(nn.Module):
    def __init__(self, order):
        super().__init__()
        self.order = order

    def forward(self, x):
        return x.permute(0, *[o + 1 for o in self.order])


class Lambda(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


class PositionalEncoding(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.pe = nn.Parameter(torch.randn(1, *shape))

    def forward(self, x):
        return x + self.pe


class Sequential(nn.Module):
    def __init__(self, a, b):
        super().__init__()
        self.a, self.b = a, b

    def forward(self, x):
        return self.b(self.a(x))


class Branching(nn.Module):
    def __init__(self, split, inner, merge):
        super().__init__()
        self.split, self.inner, self.merge = split, nn.ModuleList(inner), merge

    def forward(self, x):
        parts = self.split(x)
        return self.merge([m(p) for m, p in zip(self.inner, parts)])


PERMS = {"permute21": (1, 0), "permute132": (0, 2, 1), "permute213": (1, 0, 2), "permute231": (1, 2, 0),
         "permute312": (2, 0, 1), "permute321": (2, 1, 0)}


def build(node, shape, grid=None):
    """Returns (module, output shape without batch). shape is a tuple without the batch dimension."""
    if isinstance(node, str):
        raise ValueError(f"bare terminal {node} in a module slot")
    kind, items = node
    if kind == "sequential":
        a, s1 = build(items[0], shape)
        b, s2 = build(items[1], s1)
        return Sequential(a, b), s2
    if kind == "computation":
        return terminal(items[0], shape)
    if kind == "routing":
        conv = convolution(items, shape)
        if conv:
            return conv
        pre, s1 = terminal(items[0], shape)
        inner_grid = None
        m = re.fullmatch(r"im2col(\d+)k(\d+)s(\d+)p", items[0])
        if m:
            k, s, p = map(int, m.groups())
            inner_grid = ((shape[1] + 2 * p - k) // s + 1, (shape[2] + 2 * p - k) // s + 1)
        inner, s2 = build(items[1], s1)
        post, s3 = terminal(items[2], s2, inner_grid)
        return nn.Sequential(pre, inner, post), s3
    if kind == "branching":
        b = items[0]
        factor = branching_factor(b)
        if clone_factor(b):
            split, s_in = Lambda(lambda x, f=factor: [x] * f), shape
        else:
            f, d = group_params(b)
            split = Lambda(lambda x, f=f, d=d: torch.split(x, x.shape[d] // f, dim=d))
            s_in = tuple(v // f if i == d - 1 else v for i, v in enumerate(shape))
        inner_nodes = items[1:-1] if factor == 2 else [items[1]] * factor
        inner, outs = [], []
        for n in inner_nodes:
            m, o = build(n, s_in)
            inner.append(m)
            outs.append(o)
        merge, out = aggregation(items[-1], outs)
        return Branching(split, inner, merge), out
    raise ValueError(f"unknown module {kind}")


def convolution(items, shape):
    """routing[im2col(k,s,p), computation<linearN>, col2im] as the equivalent nn.Conv2d, as the reference
    code's compiler does (SPEC §2.5). Returns None for any other routing module."""
    m = re.fullmatch(r"im2col(\d+)k(\d+)s(\d+)p", items[0]) if isinstance(items[0], str) else None
    inner = items[1]
    if not m or items[2] != "col2im" or isinstance(inner, str) or inner[0] != "computation":
        return None
    lin = re.fullmatch(r"linear(\d+)", inner[1][0])
    if not lin:
        return None
    k, s, p = map(int, m.groups())
    n = int(lin.group(1))
    h, w = (shape[1] + 2 * p - k) // s + 1, (shape[2] + 2 * p - k) // s + 1
    return nn.Conv2d(shape[0], n, k, s, p, bias=True), (n, h, w)


def aggregation(name, shapes):
    a = shapes[0]
    if name in ("dot_product", "scaled_dot_product"):
        scaled = name == "scaled_dot_product"
        out = a[:-1] + (shapes[1][-1],)

        def dot(xs, scaled=scaled):
            y = xs[0] @ xs[1]
            return y / math.sqrt(xs[0].shape[-1]) if scaled else y
        return Lambda(dot), out
    if name == "add_tensors":
        return Lambda(lambda xs: torch.stack(xs).sum(0)), a
    m = re.fullmatch(r"cat_tensors(\d)d(\d)t", name)
    if m:
        d = int(m.group(1))
        out = tuple(sum(s[i] for s in shapes) if i == d - 1 else v for i, v in enumerate(a))
        return Lambda(lambda xs, d=d: torch.cat(xs, dim=d)), out
    raise ValueError(f"unknown aggregation {name}")


def terminal(name, shape, grid=None):
    if name == "identity":
        return nn.Identity(), shape
    if name in PERMS:
        order = PERMS[name]
        return Permute(order), tuple(shape[o] for o in order)
    m = re.fullmatch(r"im2col(\d+)k(\d+)s(\d+)p", name)
    if m:
        k, s, p = map(int, m.groups())
        h, w = (shape[1] + 2 * p - k) // s + 1, (shape[2] + 2 * p - k) // s + 1
        return Im2col(k, s, p), (h * w, shape[0] * k * k)
    if name == "col2im":
        return Col2im(grid), (shape[1], grid[0], grid[1])
    m = re.fullmatch(r"linear(\d+)", name)
    if m or name in ("linear_x4", "linear_4th"):
        width = int(m.group(1)) if m else (shape[-1] * 4 if name == "linear_x4" else shape[-1] // 4)
        return nn.Linear(shape[-1], width), shape[:-1] + (width,)
    if name == "norm":
        return (nn.BatchNorm2d(shape[0]) if len(shape) == 3 else nn.LayerNorm(shape[-1])), shape
    if name == "leakyrelu":
        return nn.LeakyReLU(), shape
    if name == "softmax":
        return nn.Softmax(dim=-1), shape
    if name == "learnable_positional_encoding":
        return PositionalEncoding(shape), shape
    raise ValueError(f"unknown terminal {name}")


class Network(nn.Module):
    """Identity stem, the backbone, and the head of SPEC §7.1."""

    def __init__(self, backbone, out, classes):
        super().__init__()
        self.backbone = backbone
        self.rank = len(out)
        self.head = nn.Linear(out[0], classes)

    def forward(self, x):
        y = self.backbone(x)
        y = y.mean(dim=(2, 3)) if self.rank == 3 else y.mean(dim=-1)
        return self.head(y)


# ---- benchmark -------------------------------------------------------------------------------------

def check(info):
    """Builds the architecture, runs a forward pass on 2 examples, compares shape and parameter count."""
    shape = tuple(info["input_shape"])
    backbone, out = build(Parser(info["arch"]).node(), shape)
    params = sum(p.numel() for p in backbone.parameters())
    with torch.no_grad():
        y = backbone(torch.randn(2, *shape))
    got = list(y.shape[1:])
    ok = got == info["output_shape"] and list(out) == got and params == info["params"]
    return {"ok": ok, "params": params, "output_shape": got}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", required=True,
                    help="a JSON line from `einspace show --format json`; with --check, - reads one per line from stdin")
    ap.add_argument("--classes", type=int, default=20)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check", action="store_true",
                    help="only build, run a forward pass on 2 examples, and check shape and parameter count")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if args.check and args.arch == "-":
        for line in sys.stdin:
            if line.strip():
                try:
                    print(json.dumps(check(json.loads(line))), flush=True)
                except Exception as err:  # report and go on: the caller names the architecture
                    print(json.dumps({"ok": False, "error": str(err)}), flush=True)
        return
    info = json.loads(args.arch)
    shape = tuple(info["input_shape"])
    backbone, out = build(Parser(info["arch"]).node(), shape)
    if list(out) != info["output_shape"]:
        raise SystemExit(f"output shape {out} differs from the grammar's {info['output_shape']}")
    params = sum(p.numel() for p in backbone.parameters())
    if params != info["params"]:
        raise SystemExit(f"backbone has {params} parameters, the grammar counts {info['params']}")
    if args.check:
        print(json.dumps(check(info)))
        return
    net = Network(backbone, out, args.classes)
    opt = torch.optim.SGD(net.parameters(), lr=0.04, momentum=0.9, weight_decay=3e-4)
    x = torch.randn(args.batch, *shape)
    y = torch.randint(0, args.classes, (args.batch,))
    net.train()
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
    seconds = (time.perf_counter() - start) / args.steps
    print(json.dumps({"framework": "pytorch " + torch.__version__, "params": params,
                      "seconds_per_step": round(seconds, 4), "images_per_second": round(args.batch / seconds, 1),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                      "loss": round(loss.item(), 4)}))


if __name__ == "__main__":
    main()
