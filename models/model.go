package models

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"

	"github.com/gomlx/compute/gobackend" // registers the pure-Go backend, "go"

	"github.com/einspace-go/einspace/internal/simdcheck"
)

var (
	backendOnce sync.Once
	backend     compute.Backend
	backendErr  error
)

// DefaultBackend is the backend configuration used when GOMLX_BACKEND is not set: the pure-Go backend
// running up to two operations at once, each as soon as its inputs exist (creation_order orders only the
// operations ready at the start). Two at once fill the core that one operation leaves idle while it
// starts, ends or runs on one goroutine; on Zen 5 (docs/BENCHMARKS.md, session 15) it measured ResNet-18
// +6 to +13%, WRN-16-4 +8%, ViT +9%, MLP-Mixer +7%, CPU use 171-185% → 182-197%, for 30-95 MB more peak
// memory, and the same losses. (The backend's own default, as many executors as the worker pool allows,
// 4 here, was slower than one at a time in sessions 2 and 7.) It ends with BufferArenaOption.
const DefaultBackend = "go:ops_parallel,num_executors=2,creation_order," + BufferArenaOption

// BufferArenaOption makes the pure-Go backend carve a step's large temporary buffers out of one arena,
// best fit, instead of keeping a pool per size class: ResNet-18's step peaks at about 0.93 GiB of resident
// memory instead of 1.24-1.34 GiB. The option comes from our patch to the backend
// (patches/gomlx-compute-v0.1.14-scratch-buffer-arena.patch, docs/BACKEND-PATCHES.md); the pristine backend refuses
// it, and Backend then runs without it.
const BufferArenaOption = "buffer_arena"

// AllowUnpatchedSIMDEnv, set to 1, lets Backend use the pure-Go backend even when the program was built
// with a toolchain whose vector loads read past their slices: only for measuring what the patch costs
// (bench/train_vs_torch.sh BASELINE_GOROOT=...), since such a program may crash at random.
const AllowUnpatchedSIMDEnv = "EINSPACE_ALLOW_UNPATCHED_SIMD"

// Backend returns the process's GoMLX backend, created on first use: the one named by the environment
// variable GOMLX_BACKEND ("<name>:<config>", e.g. "go:parallelism=2") if set, else DefaultBackend.
// The pure-Go backend is refused, with an error that says why, when the program was built with a Go
// toolchain whose vector loads read past the end of their slices (internal/simdcheck), unless
// AllowUnpatchedSIMDEnv is set.
func Backend() (compute.Backend, error) {
	backendOnce.Do(func() {
		defer func() { // compute.New panics on an unknown backend name
			if r := recover(); r != nil {
				backendErr = fmt.Errorf("GoMLX backend: %v", r)
			}
		}()
		if config, ok := os.LookupEnv(compute.ConfigEnvVar); ok {
			backend, backendErr = compute.NewWithConfig(config)
		} else {
			backend, backendErr = newDefaultBackend(compute.NewWithConfig)
		}
		if backendErr == nil && backend.Name() == gobackend.BackendName && os.Getenv(AllowUnpatchedSIMDEnv) != "1" {
			backendErr = simdcheck.Check()
		}
	})
	return backend, backendErr
}

// newDefaultBackend creates DefaultBackend with newBackend (compute.NewWithConfig), or, if the backend
// refuses BufferArenaOption (the pristine backend, without our patch), DefaultBackend without it.
func newDefaultBackend(newBackend func(config string) (compute.Backend, error)) (compute.Backend, error) {
	be, err := newBackend(DefaultBackend)
	if err != nil && strings.Contains(err.Error(), strconv.Quote(BufferArenaOption)) {
		return newBackend(strings.TrimSuffix(DefaultBackend, ","+BufferArenaOption))
	}
	return be, err
}

// Dataset is a set of labelled examples held in memory: Images holds Len() examples of the network's input
// shape (C,H,W), channels-first, one after another; Labels holds their classes, 0 <= label < classes.
type Dataset struct {
	Images []float32
	Labels []int32
}

// Len is the number of examples.
func (s Dataset) Len() int { return len(s.Labels) }

// check reports whether the split fits a network.
func (s Dataset) check(net *Network, name string) error {
	size := int(net.Arch.Input.Size())
	if len(s.Images) != s.Len()*size {
		return fmt.Errorf("%s split: %d image values for %d labels of shape %v (want %d)",
			name, len(s.Images), s.Len(), net.Arch.Input, s.Len()*size)
	}
	for i, l := range s.Labels {
		if l < 0 || int(l) >= net.Classes {
			return fmt.Errorf("%s split: label %d of example %d is outside 0..%d", name, l, i, net.Classes-1)
		}
	}
	return nil
}

// Model is a network with its weights: a GoMLX store of variables and the compiled graphs that train and
// evaluate it. A Model is not safe for concurrent use.
type Model struct {
	Net     *Network
	Backend compute.Backend
	Store   *model.Store

	opt              sgd
	trainExec, evalx *model.Exec
	fits             map[stepKind]bool // step shapes CheckMemory has passed
}

// stepKind is a compiled step's batch size and whether it trains.
type stepKind struct {
	batch int
	train bool
}

// checkMemory refuses a step whose shape would not fit in memory, once per shape: the backend compiles
// and allocates per shape, so the first step of a shape is where memory is committed.
func (m *Model) checkMemory(batch int, train bool) error {
	k := stepKind{batch, train}
	if m.fits[k] {
		return nil
	}
	if err := m.Net.CheckMemory(batch, train); err != nil {
		return err
	}
	if m.fits == nil {
		m.fits = map[stepKind]bool{}
	}
	m.fits[k] = true
	return nil
}

// New returns a model of the network on the default Backend, its weights to be initialised from seed
// (PyTorch's initialisation, drawn from GoMLX's generator) when first used.
func New(net *Network, seed int64) (*Model, error) {
	be, err := Backend()
	if err != nil {
		return nil, err
	}
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(seed); err != nil {
		return nil, fmt.Errorf("new model: %w", err)
	}
	return newModel(be, net, store)
}

func newModel(be compute.Backend, net *Network, store *model.Store) (*Model, error) {
	m := &Model{Net: net, Backend: be, Store: store, opt: sgd{momentum: 0.9, weightDecay: 3e-4}}
	var err error
	if m.trainExec, err = model.NewExec(be, store, m.trainGraph); err != nil {
		return nil, fmt.Errorf("new model: %w", err)
	}
	if m.evalx, err = model.NewExec(be, store, m.evalGraph); err != nil {
		return nil, fmt.Errorf("new model: %w", err)
	}
	return m, nil
}

// trainGraph: inputs images (B,C,H,W), labels (B); outputs the mean loss and the count of correct
// predictions, and updates the weights.
func (m *Model) trainGraph(scope *model.Scope, in []*Node) []*Node {
	x, y := in[0], in[1]
	g := x.Graph()
	scope.SetTraining(g, true)
	logits := m.Net.Logits(scope, x, true)
	nll := crossEntropy(logits, y)
	loss := ReduceAllMean(nll)
	m.opt.UpdateGraph(scope, g, loss)
	out := []*Node{loss, ReduceAllSum(hits(logits, y))}
	g.AttachState(trainOutputsKey{}, out)
	return out
}

// trainOutputsKey keys the outputs of a training step's graph in its state (Graph.AttachState), for
// TrainStepTraffic.
type trainOutputsKey struct{}

// evalGraph: inputs images (B,C,H,W), labels (B) and a 0/1 mask (B) of the examples that count; outputs
// the summed loss and correct count over the masked examples, and the logits.
func (m *Model) evalGraph(scope *model.Scope, in []*Node) []*Node {
	x, y, mask := in[0], in[1], in[2]
	markEvaluationGraph(scope, x.Graph())
	logits := m.Net.Logits(scope, x, false)
	loss := ReduceAllSum(Mul(crossEntropy(logits, y), mask))
	return []*Node{loss, ReduceAllSum(Mul(hits(logits, y), mask)), logits}
}

// crossEntropy is each example's negative log-likelihood of its label (B).
func crossEntropy(logits, labels *Node) *Node {
	onehot := OneHot(labels, logits.Shape().Dimensions[1], logits.DType())
	return Neg(ReduceSum(Mul(onehot, LogSoftmax(logits, -1)), -1))
}

// hits is 1 where the arg-max of the logits is the label, else 0 (B).
func hits(logits, labels *Node) *Node {
	return ConvertDType(Equal(ArgMax(logits, 1, dtypes.Int32), labels), logits.DType())
}

// TrainStep runs one SGD step on a batch of images and labels at the current learning rate, and returns
// the batch's mean loss and how many of its examples the network classified correctly before the step.
func (m *Model) TrainStep(images []float32, labels []int32) (loss float64, correct int, err error) {
	loss, correct, _, err = m.trainStep(images, labels)
	return loss, correct, err
}

// trainStep is TrainStep, also returning the graph that ran the step.
func (m *Model) trainStep(images []float32, labels []int32) (loss float64, correct int, g *Graph, err error) {
	b := len(labels)
	dims := append([]int{b}, m.Net.Arch.Input.Dims()...)
	if b == 0 || len(images) != b*int(m.Net.Arch.Input.Size()) {
		return 0, 0, nil, fmt.Errorf("train step: %d image values for %d labels of shape %v", len(images), b, m.Net.Arch.Input)
	}
	if err := m.checkMemory(b, true); err != nil {
		return 0, 0, nil, err
	}
	if m.Store.GetVariable(lrPath) == nil {
		if err := setLearningRate(m.Store, DefaultConfig().LR); err != nil {
			return 0, 0, nil, err
		}
	}
	out, g, err := m.trainExec.CallWithGraph(tensors.FromFlatDataAndDimensions(images, dims...),
		tensors.FromFlatDataAndDimensions(labels, b))
	if err != nil {
		return 0, 0, nil, fmt.Errorf("train step: %w", err)
	}
	defer finalize(out)
	return float64(tensors.ToScalar[float32](out[0])), int(tensors.ToScalar[float32](out[1])), g, nil
}

// SetLearningRate sets the learning rate of the following train steps (Train sets it every epoch).
func (m *Model) SetLearningRate(lr float64) error { return setLearningRate(m.Store, lr) }

// evalBatch runs the evaluation graph on examples [start, end) of s, padded to batch examples so that
// every call reuses one compiled graph. It returns the summed loss, the correct count and the logits.
func (m *Model) evalBatch(s Dataset, start, end, batch int) (loss float64, correct int, logits []float32, err error) {
	if err := m.checkMemory(batch, false); err != nil {
		return 0, 0, nil, err
	}
	size := int(m.Net.Arch.Input.Size())
	n := end - start
	x := make([]float32, batch*size)
	copy(x, s.Images[start*size:end*size])
	y := make([]int32, batch)
	copy(y, s.Labels[start:end])
	mask := make([]float32, batch)
	for i := range n {
		mask[i] = 1
	}
	dims := append([]int{batch}, m.Net.Arch.Input.Dims()...)
	out, err := m.evalx.Call(tensors.FromFlatDataAndDimensions(x, dims...),
		tensors.FromFlatDataAndDimensions(y, batch), tensors.FromFlatDataAndDimensions(mask, batch))
	if err != nil {
		return 0, 0, nil, fmt.Errorf("evaluate: %w", err)
	}
	defer finalize(out)
	all := tensors.MustCopyFlatData[float32](out[2])
	return float64(tensors.ToScalar[float32](out[0])), int(tensors.ToScalar[float32](out[1])),
		all[:n*m.Net.Classes], nil
}

// Metrics are a model's accuracy (a fraction in [0, 1]) and mean cross-entropy loss on a split.
type Metrics struct {
	Accuracy float64
	Loss     float64
}

// Evaluate measures the model on a split in evaluation mode (batch normalisation uses its running
// statistics), batch examples at a time (DefaultConfig().BatchSize when batch <= 0).
func (m *Model) Evaluate(s Dataset, batch int) (Metrics, error) {
	if err := s.check(m.Net, "evaluation"); err != nil {
		return Metrics{}, err
	}
	if s.Len() == 0 {
		return Metrics{}, fmt.Errorf("evaluate: the split is empty")
	}
	if batch <= 0 {
		batch = DefaultConfig().BatchSize
	}
	batch = min(batch, s.Len())
	var loss float64
	correct := 0
	for start := 0; start < s.Len(); start += batch {
		l, c, _, err := m.evalBatch(s, start, min(start+batch, s.Len()), batch)
		if err != nil {
			return Metrics{}, err
		}
		loss += l
		correct += c
	}
	n := float64(s.Len())
	return Metrics{Accuracy: float64(correct) / n, Loss: loss / n}, nil
}

// Predict returns the logits (n × classes, row by row) of n images in evaluation mode, batch at a time.
func (m *Model) Predict(images []float32, batch int) ([]float32, error) {
	size := int(m.Net.Arch.Input.Size())
	if len(images)%size != 0 {
		return nil, fmt.Errorf("predict: %d values are not a whole number of %v images", len(images), m.Net.Arch.Input)
	}
	s := Dataset{Images: images, Labels: make([]int32, len(images)/size)}
	if batch <= 0 {
		batch = DefaultConfig().BatchSize
	}
	batch = min(batch, max(s.Len(), 1))
	logits := make([]float32, 0, s.Len()*m.Net.Classes)
	for start := 0; start < s.Len(); start += batch {
		_, _, l, err := m.evalBatch(s, start, min(start+batch, s.Len()), batch)
		if err != nil {
			return nil, err
		}
		logits = append(logits, l...)
	}
	return logits, nil
}

// TrainableParams is the number of trainable parameters the model has created (its variables are created
// when a graph is first built: run Predict or TrainStep first).
func (m *Model) TrainableParams() int64 { return TrainableParams(m.Store) }

// TrainableParams counts the elements of a store's trainable variables: weights, biases, norm scales and
// shifts, positional encodings; not optimizer state, batch-norm running statistics or counters.
func TrainableParams(store *model.Store) int64 {
	var n int64
	for v := range store.IterVariables() {
		if v.Trainable {
			n += int64(v.Shape().Size())
		}
	}
	return n
}

// Save writes the model's variables (weights, batch-norm statistics, optimizer state) to a GoMLX checkpoint
// in dir, creating it if needed.
func (m *Model) Save(dir string) error {
	h, err := checkpoint.Build(m.Store).Dir(dir).Keep(1).Done()
	if err != nil {
		return fmt.Errorf("save model to %s: %w", dir, err)
	}
	if err := h.Save(); err != nil {
		return fmt.Errorf("save model to %s: %w", dir, err)
	}
	return nil
}

// Load reads a model of the network saved by Save from dir. The network must be the one that was saved.
func Load(net *Network, dir string) (*Model, error) {
	be, err := Backend()
	if err != nil {
		return nil, err
	}
	store := model.NewStore()
	if _, err := checkpoint.Load(store).Dir(dir).Immediate().Done(); err != nil {
		return nil, fmt.Errorf("load model from %s: %w", dir, err)
	}
	restoreTrainable(store)
	return newModel(be, net, store)
}

// restoreTrainable marks which variables of a store loaded from a checkpoint are trainable: checkpoints do
// not record it and every variable comes back trainable. The network's weights live under "/backbone" and
// "/head"; batch normalisation's running statistics there are not trainable, nor is anything elsewhere
// (optimizer state, step counter, random generator state).
func restoreTrainable(store *model.Store) {
	for v := range store.IterVariables() {
		p := v.Path()
		weight := strings.HasPrefix(p, "/backbone/") || strings.HasPrefix(p, "/head/")
		stat := strings.HasSuffix(p, "/running_mean") || strings.HasSuffix(p, "/running_var")
		v.SetTrainable(weight && !stat)
	}
}

func finalize(ts []*tensors.Tensor) {
	for _, t := range ts {
		t.FinalizeAll()
	}
}
