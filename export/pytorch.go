package export

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/einspace-go/einspace/grammar"
)

// The PyTorch source is one file that imports only torch: a class per block of the plan (identical blocks
// share a class), a Network class with the backbone and the paper's head, a reader for the weights file,
// and pretrained() that builds the network with those weights in evaluation mode.

// commentColumn is where the shape comments start.
const commentColumn = 56

// pySource is the Python text of a plan. module is the file's import name, weights the weights file the
// code loads by default ("" when it has none).
func (p *plan) python(module, weights string) string {
	r := &pyRenderer{index: map[string]int{}}
	backbone := r.class(p.backbone)
	r.finish()

	var w strings.Builder
	a := p.net.Arch
	fmt.Fprintf(&w, `"""%s: an einspace architecture as a PyTorch module, written by einspace export
(github.com/einspace-go/einspace). ARCH below is the architecture in the einspace text format.

Input (B, %s) -> logits (B, %d), B being the batch. %s trainable parameters: the backbone's
%s (the einspace grammar's count) and the head's %s. The head is the einspace paper's: the
backbone's output is averaged over %s and mapped to the classes by one linear layer.
Convolutions are einspace's routing[im2col, computation<linear>, col2im]. The comment after a step
gives the shape after it, and names the einspace terminal when the code does not say it plainly.
`, module, dimsText(a.Input.Dims()), p.net.Classes, thousands(p.params()), thousands(a.Stats().Params),
		thousands(p.params()-a.Stats().Params), poolText(a.Output()))
	if weights != "" {
		fmt.Fprintf(&w, `
Use it with the trained weights (%s, beside this file):

    import torch
    from %s import pretrained
    net = pretrained()                  # evaluation mode
    logits = net(torch.randn(8, %s))

Network() alone is untrained, initialised as PyTorch initialises its layers. Needs only torch (1.10 or later).
"""
`, weights, module, dimsText(a.Input.Dims()))
	} else {
		fmt.Fprintf(&w, `
Use it (untrained, initialised as PyTorch initialises its layers; export with a checkpoint for weights):

    import torch
    from %s import Network
    net = Network()
    logits = net(torch.randn(8, %s))

Needs only torch (1.10 or later).
"""
`, module, dimsText(a.Input.Dims()))
	}
	fmt.Fprintf(&w, `import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

ARCH = %q
INPUT_SHAPE = (%s)
CLASSES = %d
%s
`, a.String(), strings.Join(intsText(a.Input.Dims()), ", "), p.net.Classes, weightsLine(weights))
	for _, c := range r.defs {
		fmt.Fprintf(&w, "\n\nclass %s(nn.Module):\n%s", c.name, c.body)
	}
	pool, poolShape := "x.mean(dim=(2, 3))", fmt.Sprintf("(B, %d)", p.headIn)
	poolNote := "averaged over H and W"
	if a.Output().Rank() == 2 {
		pool, poolNote = "x.mean(dim=-1)", "averaged over D"
	}
	fmt.Fprintf(&w, `

class Network(nn.Module):
    """The backbone and the einspace head (the stem is the identity)."""

    def __init__(self, classes=CLASSES):
        super().__init__()
        self.backbone = %s()
        self.head = nn.Linear(%d, classes)

    def forward(self, x):
%s%s%s%s        return x
`, r.defs[backbone].name, p.headIn,
		code(8, "# x: "+shapeText(a.Input), ""),
		code(8, "x = self.backbone(x)", shapeText(a.Output())),
		code(8, "x = "+pool, poolShape+", "+poolNote),
		code(8, "x = self.head(x)", fmt.Sprintf("(B, %d)", p.net.Classes)))
	w.WriteString(`

def load_safetensors(path):
    """Reads a .safetensors file (8-byte header length, JSON header, little-endian data) with torch alone;
    safetensors.torch.load_file reads it too."""
    with open(path, "rb") as f:
        size = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(size))
        data = bytearray(f.read())
    types = {"F32": (torch.float32, 4), "I64": (torch.int64, 8)}
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype, width = types[info["dtype"]]
        start, end = info["data_offsets"]
        t = torch.frombuffer(data, dtype=dtype, count=(end - start) // width, offset=start)
        tensors[name] = t.reshape(info["shape"]).clone()
    return tensors


def pretrained(path=WEIGHTS):
    """The network with the weights in path, in evaluation mode."""
    if path is None:
        raise FileNotFoundError("this export has no weights: export it with a checkpoint")
    net = Network()
    net.load_state_dict(load_safetensors(path))
    return net.eval()


if __name__ == "__main__":
    net = pretrained() if WEIGHTS and os.path.exists(WEIGHTS) else Network().eval()
    with torch.no_grad():
        y = net(torch.randn(2, *INPUT_SHAPE))
    print(f"{sum(p.numel() for p in net.parameters()):,} parameters; logits {tuple(y.shape)}")
`)
	return w.String()
}

// pyClass is one class of the source.
type pyClass struct {
	base, body, name string
}

// pyRenderer writes the classes of a plan, one per distinct block, sub-blocks first.
type pyRenderer struct {
	defs  []pyClass
	index map[string]int // base and body -> the class
}

// classRef stands for the name of class i in a body until the names are known.
func classRef(i int) string { return fmt.Sprintf("\x01%d\x02", i) }

var classRefs = regexp.MustCompile("\x01([0-9]+)\x02")

// class returns the class of block b, writing it if no identical class exists.
func (r *pyRenderer) class(b *block) int {
	var inits, body []string
	init := func(attr, value string) { inits = append(inits, fmt.Sprintf("        self.%s = %s\n", attr, value)) }
	doc := blockDoc(b)
	if !b.chain {
		r.branching(b, init, &body)
	} else {
		body = append(body, code(8, "# x: "+shapeText(b.in), ""))
		r.chain(b.steps, "x", init, &body)
		body = append(body, "        return x\n")
	}
	var text strings.Builder
	fmt.Fprintf(&text, "    %s\n", doc)
	if len(inits) > 0 {
		text.WriteString("\n    def __init__(self):\n        super().__init__()\n")
		for _, l := range inits {
			text.WriteString(l)
		}
	}
	text.WriteString("\n    def forward(self, x):\n")
	for _, l := range body {
		text.WriteString(l)
	}
	key := b.base + "\x00" + text.String()
	if i, ok := r.index[key]; ok {
		return i
	}
	r.defs = append(r.defs, pyClass{base: b.base, body: text.String()})
	r.index[key] = len(r.defs) - 1
	return len(r.defs) - 1
}

// finish names the classes, numbering those that share a base, and puts the names into the bodies.
func (r *pyRenderer) finish() {
	total, seen := map[string]int{}, map[string]int{}
	for _, c := range r.defs {
		total[c.base]++
	}
	for i := range r.defs {
		c := &r.defs[i]
		c.name = c.base
		if total[c.base] > 1 {
			seen[c.base]++
			c.name = fmt.Sprintf("%s%d", c.base, seen[c.base])
		}
	}
	for i := range r.defs {
		r.defs[i].body = classRefs.ReplaceAllStringFunc(r.defs[i].body, func(ref string) string {
			var j int
			fmt.Sscanf(ref[1:len(ref)-1], "%d", &j)
			return r.defs[j].name
		})
	}
}

// chain writes steps applied one after another to the variable v.
func (r *pyRenderer) chain(steps []*step, v string, init func(attr, value string), body *[]string) {
	out := func(stmt, note string) { *body = append(*body, code(8, stmt, note)) }
	for _, s := range steps {
		shape := shapeText(s.out)
		switch s.kind {
		case stepConv:
			init(s.attr, fmt.Sprintf("nn.Conv2d(%d, %d, kernel_size=%d, stride=%d, padding=%d)", s.in.Dim(0), s.width, s.k, s.s, s.p))
			out(fmt.Sprintf("%s = self.%s(%s)", v, s.attr, v), shape)
		case stepLinear:
			init(s.attr, fmt.Sprintf("nn.Linear(%d, %d)", s.in.Last(), s.width))
			out(fmt.Sprintf("%s = self.%s(%s)", v, s.attr, v), shape)
		case stepBatchNorm:
			init(s.attr, fmt.Sprintf("nn.BatchNorm2d(%d)", s.in.Dim(0)))
			out(fmt.Sprintf("%s = self.%s(%s)", v, s.attr, v), shape)
		case stepLayerNorm:
			init(s.attr, fmt.Sprintf("nn.LayerNorm(%d)", s.in.Last()))
			out(fmt.Sprintf("%s = self.%s(%s)", v, s.attr, v), shape)
		case stepPositional:
			init(s.attr, fmt.Sprintf("nn.Parameter(torch.randn(1, %s))", dimsText(s.in.Dims())))
			out(fmt.Sprintf("%s = %s + self.%s", v, v, s.attr), "learnable positional encoding, "+shape)
		case stepLeakyReLU:
			out(fmt.Sprintf("%s = F.leaky_relu(%s, 0.01)", v, v), shape)
		case stepSoftmax:
			out(fmt.Sprintf("%s = %s.softmax(dim=-1)", v, v), shape)
		case stepPermute:
			out(fmt.Sprintf("%s = %s.permute(%s)", v, v, strings.Join(intsText(s.perm), ", ")), s.op.Name()+", "+shape)
		case stepIm2col:
			out(fmt.Sprintf("%s = F.unfold(%s, kernel_size=%d, stride=%d, padding=%d).transpose(1, 2)", v, v, s.k, s.s, s.p),
				s.op.Name()+", "+shape)
		case stepCol2im:
			out(fmt.Sprintf("%s = %s.transpose(1, 2).reshape(-1, %s)", v, v, dimsText(s.out.Dims())), "col2im, "+shape)
		case stepBlock:
			init(s.attr, classRef(r.class(s.block))+"()")
			out(fmt.Sprintf("%s = self.%s(%s)", v, s.attr, v), shape)
		}
	}
}

// branching writes the forward pass of a branching block: split, paths, merge.
func (r *pyRenderer) branching(b *block, init func(attr, value string), body *[]string) {
	n := b.node
	split, merge := n.Children[0].Op, n.Children[len(n.Children)-1].Op
	out := func(stmt, note string) { *body = append(*body, code(8, stmt, note)) }
	out("# x: "+shapeText(b.in), "")
	f := n.Factor()
	var parts string
	if split.Family() == grammar.FamClone {
		parts = "x, x"
		if f != 2 {
			parts = fmt.Sprintf("[x] * %d", f)
		}
	} else {
		parts = fmt.Sprintf("x.chunk(%d, dim=%d)", f, split.Dim())
	}
	innerIn := n.Children[1].In
	if f == 2 {
		out("a, b = "+parts, fmt.Sprintf("%s, %s each", split.Name(), shapeText(innerIn)))
		r.chain(b.paths[0], "a", init, body)
		r.chain(b.paths[1], "b", init, body)
		var expr string
		switch merge.Family() {
		case grammar.FamAdd:
			expr = "a + b"
		case grammar.FamCat:
			expr = fmt.Sprintf("torch.cat([a, b], dim=%d)", merge.Dim())
		case grammar.FamDot:
			expr = "a @ b"
		case grammar.FamScaledDot:
			expr = fmt.Sprintf("a @ b / math.sqrt(%d)", n.Children[1].Out.Last())
		}
		out("return "+expr, merge.Name()+", "+shapeText(b.out))
		return
	}
	// The copies are one inner module with one shape, so they share a class: written once, not once per
	// copy (nested wide branching multiplies the copies).
	init("branches", fmt.Sprintf("nn.ModuleList([%s() for _ in range(%d)])", classRef(r.class(b.copies[0])), f))
	out("xs = "+parts, fmt.Sprintf("%s, %s each", split.Name(), shapeText(innerIn)))
	out("ys = [path(x) for path, x in zip(self.branches, xs)]", shapeText(n.Children[1].Out)+" each")
	expr := "sum(ys)"
	if merge.Family() == grammar.FamCat {
		expr = fmt.Sprintf("torch.cat(ys, dim=%d)", merge.Dim())
	}
	out("return "+expr, merge.Name()+", "+shapeText(b.out))
}

// blockDoc is a block's docstring: the einspace module it computes, shortened when long, and its shapes.
func blockDoc(b *block) string {
	text := b.node.String()
	if len(text) > 100 {
		switch n := b.node; n.Kind {
		case grammar.BranchingModule:
			paths := "M1, M2"
			if n.Factor() != 2 {
				paths = "M"
			}
			text = fmt.Sprintf("branching{%s, %s, %s}", n.Children[0].Op.Name(), paths, n.Children[len(n.Children)-1].Op.Name())
		default:
			text = n.Kind.String()
		}
	}
	what := "einspace " + text
	switch {
	case b.base == "Backbone":
		what = "The backbone"
	case b.base == "Path":
		what = "One copy of the inner module of a wide branching module"
	}
	return fmt.Sprintf(`"""%s: %s -> %s."""`, what, b.in.Arg(), b.out.Arg())
}

// code is one line of code indented by indent spaces, with a comment at commentColumn when note is set.
func code(indent int, stmt, note string) string {
	line := strings.Repeat(" ", indent) + stmt
	if note != "" {
		line += strings.Repeat(" ", max(2, commentColumn-len(line))) + "# " + note
	}
	return line + "\n"
}

// shapeText is an activation's shape with the batch: (B, 64, 28, 28).
func shapeText(s grammar.Shape) string { return "(B, " + dimsText(s.Dims()) + ")" }

func dimsText(dims []int) string { return strings.Join(intsText(dims), ", ") }

func intsText(xs []int) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprint(x)
	}
	return out
}

// poolText says what the head averages over.
func poolText(out grammar.Shape) string {
	if out.Rank() == 3 {
		return "its height and width"
	}
	return "its last axis (D of L x D)"
}

// weightsLine sets WEIGHTS, the default weights file: beside the source file, or None.
func weightsLine(weights string) string {
	if weights == "" {
		return "WEIGHTS = None  # exported without a checkpoint"
	}
	return fmt.Sprintf("WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), %q)", weights)
}

// thousands writes n with comma separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 && r != '-' && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
