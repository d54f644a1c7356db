package export

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/einspace-go/einspace/grammar"
	"github.com/gomlx/gomlx/ml/model"
	"google.golang.org/protobuf/proto"
)

// The ONNX model is built as protobuf messages of the ONNX schema (the Go types generated from onnx.proto
// that the gonnx module publishes) and serialised by google.golang.org/protobuf.

// Opset is the ONNX operator set the models use: 17, the first with LayerNormalization.
const Opset = 17

// irVersion is the ONNX IR version of opset 17 (ONNX 1.12).
const irVersion = 8

// maxONNXBytes is what one protobuf message may hold; ONNX models with larger weights need external
// data files, which this export does not write.
const maxONNXBytes = 2<<30 - 64<<20

// onnx element types.
const (
	onnxFloat = int32(onnx.TensorProto_FLOAT)
	onnxInt64 = int32(onnx.TensorProto_INT64)
)

// onnxGraph builds one graph: nodes, initialisers, unique names.
type onnxGraph struct {
	store   *model.Store
	nodes   []*onnx.NodeProto
	inits   []*onnx.TensorProto
	consts  map[string]string // constant key -> initialiser name
	counter map[string]int
}

// onnxModel is the serialised ONNX model of the plan with the weights in store. Its input "input" is
// (batch, C, H, W) with a symbolic batch, its output "logits" (batch, classes); batch normalisation uses
// the running statistics (inference).
func (p *plan) onnxModel(store *model.Store, metadata map[string]string) ([]byte, error) {
	if err := p.checkONNXSize(); err != nil {
		return nil, err
	}
	g := &onnxGraph{store: store, consts: map[string]string{}, counter: map[string]int{}}
	x, err := g.chain(p.backbone.steps, "input")
	if err != nil {
		return nil, err
	}
	axes := []int64{2, 3}
	if p.net.Arch.Output().Rank() == 2 {
		axes = []int64{2}
	}
	pooled := g.node("ReduceMean", "head/pool", []string{x}, attrInts("axes", axes), attrInt("keepdims", 0))
	if _, err := g.linear("head", "/head", pooled, p.headIn, p.net.Classes); err != nil {
		return nil, err
	}
	g.nodes[len(g.nodes)-1].Output[0] = "logits" // the head's last node writes the graph's output
	a := p.net.Arch
	in := append([]int64{-1}, ints64(a.Input.Dims())...)
	graph := &onnx.GraphProto{
		Name:        "einspace",
		DocString:   a.String(),
		Node:        g.nodes,
		Initializer: g.inits,
		Input:       []*onnx.ValueInfoProto{valueInfo("input", in)},
		Output:      []*onnx.ValueInfoProto{valueInfo("logits", []int64{-1, int64(p.net.Classes)})},
	}
	m := &onnx.ModelProto{
		IrVersion:    irVersion,
		OpsetImport:  []*onnx.OperatorSetIdProto{{Domain: "", Version: Opset}},
		ProducerName: "einspace-go",
		DocString:    "einspace architecture " + a.String(),
		Graph:        graph,
	}
	for _, k := range sortedKeys(metadata) {
		m.MetadataProps = append(m.MetadataProps, &onnx.StringStringEntryProto{Key: k, Value: metadata[k]})
	}
	return proto.Marshal(m)
}

// checkONNXSize refuses a network whose weights do not fit in one protobuf message.
func (p *plan) checkONNXSize() error {
	var bytes int64
	for _, t := range p.tensors {
		bytes += 4 * int64(product(t.shape))
	}
	if bytes > maxONNXBytes {
		return &TargetError{Target: "onnx", Err: fmt.Errorf("the network has %s parameters (%.2f GiB of float32); one ONNX file holds at most 2 GiB, and weights in external files are not written",
			thousands(p.params()), float64(bytes)/(1<<30))}
	}
	return nil
}

// name returns a fresh tensor or node name with the prefix.
func (g *onnxGraph) name(prefix string) string {
	g.counter[prefix]++
	if g.counter[prefix] == 1 {
		return prefix
	}
	return fmt.Sprintf("%s_%d", prefix, g.counter[prefix])
}

// node adds a node with one output, named after the node, and returns the output's name.
func (g *onnxGraph) node(op, name string, inputs []string, attrs ...*onnx.AttributeProto) string {
	return g.nodeN(op, name, inputs, 1, attrs...)[0]
}

// nodeN adds a node with n outputs.
func (g *onnxGraph) nodeN(op, name string, inputs []string, n int, attrs ...*onnx.AttributeProto) []string {
	name = g.name(name)
	outs := make([]string, n)
	for i := range outs {
		outs[i] = name
		if n > 1 {
			outs[i] = fmt.Sprintf("%s:%d", name, i)
		}
	}
	g.nodes = append(g.nodes, &onnx.NodeProto{OpType: op, Name: name, Input: inputs, Output: outs, Attribute: attrs})
	return outs
}

// weight adds an initialiser named name with the values of a GoMLX variable, reshaped to dims.
func (g *onnxGraph) weight(name, variablePath string, gomlx []int, dims []int, transposed bool) (string, error) {
	values, err := variable(g.store, variablePath, gomlx)
	if err != nil {
		return "", err
	}
	if transposed {
		values = transpose2(values, gomlx[0], gomlx[1])
	}
	g.inits = append(g.inits, floatTensor(name, values, ints64(dims)))
	return name, nil
}

// ints adds (once) an int64 constant and returns its name.
func (g *onnxGraph) ints(values ...int64) string {
	key := fmt.Sprint(values)
	if name, ok := g.consts[key]; ok {
		return name
	}
	name := g.name("const")
	raw := make([]byte, 8*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	g.inits = append(g.inits, &onnx.TensorProto{Name: name, DataType: onnxInt64, Dims: []int64{int64(len(values))}, RawData: raw})
	g.consts[key] = name
	return name
}

// scalar adds (once) a float32 scalar constant.
func (g *onnxGraph) scalar(v float32) string {
	key := fmt.Sprintf("f%v", v)
	if name, ok := g.consts[key]; ok {
		return name
	}
	name := g.name("const")
	g.inits = append(g.inits, floatTensor(name, []float32{v}, nil))
	g.consts[key] = name
	return name
}

// linear is nn.Linear on the last axis: x @ Wᵀ + b, with W kept as GoMLX stores it ([in, out]).
func (g *onnxGraph) linear(path, scope, x string, in, out int) (string, error) {
	w, err := g.weight(path+".weight_t", scope+"/weights", []int{in, out}, []int{in, out}, false)
	if err != nil {
		return "", err
	}
	b, err := g.weight(path+".bias", scope+"/bias", []int{out}, []int{out}, false)
	if err != nil {
		return "", err
	}
	y := g.node("MatMul", path+"/matmul", []string{x, w})
	return g.node("Add", path+"/add", []string{y, b}), nil
}

// chain adds steps applied in order to x and returns the result's name.
func (g *onnxGraph) chain(steps []*step, x string) (string, error) {
	var err error
	for _, s := range steps {
		if x, err = g.step(s, x); err != nil {
			return "", fmt.Errorf("%s: %w", s.path, err)
		}
	}
	return x, nil
}

func (g *onnxGraph) step(s *step, x string) (string, error) {
	switch s.kind {
	case stepConv:
		c := s.in.Dim(0)
		w, err := g.weight(s.path+".weight", s.scope+"/weights", []int{c * s.k * s.k, s.width}, []int{s.width, c, s.k, s.k}, true)
		if err != nil {
			return "", err
		}
		b, err := g.weight(s.path+".bias", s.scope+"/bias", []int{s.width}, []int{s.width}, false)
		if err != nil {
			return "", err
		}
		p := int64(s.p)
		return g.node("Conv", s.path, []string{x, w, b}, attrInts("kernel_shape", []int64{int64(s.k), int64(s.k)}),
			attrInts("strides", []int64{int64(s.s), int64(s.s)}), attrInts("pads", []int64{p, p, p, p})), nil
	case stepLinear:
		return g.linear(s.path, s.scope, x, s.in.Last(), s.width)
	case stepBatchNorm:
		c := []int{s.in.Dim(0)}
		var in []string
		for _, v := range [][2]string{{"weight", "gamma"}, {"bias", "beta"}, {"running_mean", "running_mean"}, {"running_var", "running_var"}} {
			name, err := g.weight(s.path+"."+v[0], s.scope+"/"+v[1], c, c, false)
			if err != nil {
				return "", err
			}
			in = append(in, name)
		}
		return g.node("BatchNormalization", s.path, append([]string{x}, in...), attrFloat("epsilon", 1e-5)), nil
	case stepLayerNorm:
		d := []int{s.in.Last()}
		scale, err := g.weight(s.path+".weight", s.scope+"/gamma", d, d, false)
		if err != nil {
			return "", err
		}
		bias, err := g.weight(s.path+".bias", s.scope+"/beta", d, d, false)
		if err != nil {
			return "", err
		}
		return g.node("LayerNormalization", s.path, []string{x, scale, bias}, attrInt("axis", -1), attrFloat("epsilon", 1e-5)), nil
	case stepPositional:
		dims := append([]int{1}, s.in.Dims()...)
		pe, err := g.weight(s.path, s.scope+"/encoding", dims, dims, false)
		if err != nil {
			return "", err
		}
		return g.node("Add", s.path+"/add", []string{x, pe}), nil
	case stepLeakyReLU:
		return g.node("LeakyRelu", "leaky_relu", []string{x}, attrFloat("alpha", 0.01)), nil
	case stepSoftmax:
		return g.node("Softmax", "softmax", []string{x}, attrInt("axis", -1)), nil
	case stepPermute:
		return g.node("Transpose", s.op.Name(), []string{x}, attrInts("perm", ints64(s.perm))), nil
	case stepIm2col:
		return g.im2col(s, x), nil
	case stepCol2im:
		t := g.node("Transpose", "col2im/transpose", []string{x}, attrInts("perm", []int64{0, 2, 1}))
		return g.node("Reshape", "col2im", []string{t, g.ints(append([]int64{0}, ints64(s.out.Dims())...)...)}), nil
	case stepBlock:
		return g.block(s.block, x)
	}
	return "", fmt.Errorf("a step of kind %d has no ONNX form", s.kind)
}

// im2col is nn.Unfold(k, stride=s, padding=p) then a transpose: (B,C,H,W) -> (B, H'·W', C·k·k), each patch
// ordered c·k·k + i·k + j. Non-overlapping patches are a reshape and a transpose; otherwise the k·k
// strided slices of the padded input, stacked after the channel axis.
func (g *onnxGraph) im2col(s *step, x string) string {
	c, h, w := int64(s.in.Dim(0)), int64(s.in.Dim(1)), int64(s.in.Dim(2))
	k, st, p := int64(s.k), int64(s.s), int64(s.p)
	ho, wo := (h+2*p-k)/st+1, (w+2*p-k)/st+1
	if k == st && p == 0 {
		if ho*k != h || wo*k != w {
			x = g.node("Slice", "im2col/crop", []string{x, g.ints(0, 0), g.ints(ho*k, wo*k), g.ints(2, 3)})
		}
		x = g.node("Reshape", "im2col/split", []string{x, g.ints(0, c, ho, k, wo, k)})
		x = g.node("Transpose", "im2col/transpose", []string{x}, attrInts("perm", []int64{0, 2, 4, 1, 3, 5}))
		return g.node("Reshape", s.op.Name(), []string{x, g.ints(0, ho*wo, c*k*k)})
	}
	if p > 0 {
		x = g.node("Pad", "im2col/pad", []string{x, g.ints(0, 0, p, p, 0, 0, p, p)})
	}
	var taps []string
	for i := range k {
		for j := range k {
			t := g.node("Slice", "im2col/tap", []string{x, g.ints(i, j), g.ints(i+st*(ho-1)+1, j+st*(wo-1)+1), g.ints(2, 3), g.ints(st, st)})
			taps = append(taps, g.node("Unsqueeze", "im2col/tap_axis", []string{t, g.ints(2)}))
		}
	}
	patches := taps[0]
	if len(taps) > 1 {
		patches = g.node("Concat", "im2col/stack", taps, attrInt("axis", 2)) // (B, C, k·k, H', W')
	}
	cols := g.node("Reshape", "im2col/patches", []string{patches, g.ints(0, c*k*k, ho*wo)})
	return g.node("Transpose", s.op.Name(), []string{cols}, attrInts("perm", []int64{0, 2, 1}))
}

// block adds a branching block: split, its paths or copies, merge.
func (g *onnxGraph) block(b *block, x string) (string, error) {
	n := b.node
	split, merge := n.Children[0].Op, n.Children[len(n.Children)-1].Op
	f := n.Factor()
	parts := make([]string, f)
	if split.Family() == grammar.FamClone {
		for i := range parts {
			parts[i] = x
		}
	} else {
		size := int64(n.In.Dim(split.Dim()-1) / f)
		sizes := make([]int64, f)
		for i := range sizes {
			sizes[i] = size
		}
		parts = g.nodeN("Split", b.path+"/split", []string{x, g.ints(sizes...)}, f, attrInt("axis", int64(split.Dim())))
	}
	outs := make([]string, f)
	var err error
	for i := range f {
		steps := []*step(nil)
		if f == 2 {
			steps = b.paths[i]
		} else {
			steps = b.copies[i].steps
		}
		if outs[i], err = g.chain(steps, parts[i]); err != nil {
			return "", err
		}
	}
	switch merge.Family() {
	case grammar.FamAdd:
		if f == 2 {
			return g.node("Add", b.path+"/add", outs), nil
		}
		return g.node("Sum", b.path+"/sum", outs), nil
	case grammar.FamCat:
		return g.node("Concat", b.path+"/cat", outs, attrInt("axis", int64(merge.Dim()))), nil
	case grammar.FamDot:
		return g.node("MatMul", b.path+"/matmul", outs), nil
	case grammar.FamScaledDot:
		y := g.node("MatMul", b.path+"/matmul", outs)
		root := float32(math.Sqrt(float64(n.Children[1].Out.Last())))
		return g.node("Div", b.path+"/scale", []string{y, g.scalar(root)}), nil
	}
	return "", fmt.Errorf("the aggregation %s has no ONNX form", merge)
}

func floatTensor(name string, values []float32, dims []int64) *onnx.TensorProto {
	raw := make([]byte, 4*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return &onnx.TensorProto{Name: name, DataType: onnxFloat, Dims: dims, RawData: raw}
}

// valueInfo describes a float32 graph input or output; a dimension -1 is the symbolic "batch".
func valueInfo(name string, dims []int64) *onnx.ValueInfoProto {
	shape := &onnx.TensorShapeProto{}
	for _, d := range dims {
		dim := &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: d}}
		if d < 0 {
			dim = &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: "batch"}}
		}
		shape.Dim = append(shape.Dim, dim)
	}
	return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
		TensorType: &onnx.TypeProto_Tensor{ElemType: onnxFloat, Shape: shape}}}}
}

func attrInt(name string, v int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INT, I: v}
}

func attrInts(name string, v []int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INTS, Ints: v}
}

func attrFloat(name string, v float32) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_FLOAT, F: v}
}

func ints64(xs []int) []int64 {
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = int64(x)
	}
	return out
}
