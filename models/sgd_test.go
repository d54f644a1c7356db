package models

import (
	"testing"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
)

// TestSGD checks two steps of the optimizer against torch.optim.SGD's update on loss = Σ p·x (gradient x),
// and that changing the learning rate between steps takes effect without recompiling.
func TestSGD(t *testing.T) {
	be, err := Backend()
	if err != nil {
		t.Fatal(err)
	}
	const mom, wd = 0.9, 0.1
	store := model.NewStore()
	if err := setLearningRate(store, 0.5); err != nil {
		t.Fatal(err)
	}
	e, err := model.NewExec(be, store, func(scope *model.Scope, x *Node) *Node {
		g := x.Graph()
		scope.SetTraining(g, true)
		p := scope.WithInitializer(initializer.One).VariableWithShape("p", shapes.Make(dtype, 2)).NodeValue(g)
		loss := ReduceAllSum(Mul(p, x))
		sgd{momentum: mom, weightDecay: wd}.UpdateGraph(scope, g, loss)
		return loss
	})
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{2, -3}
	p := []float64{1, 1}
	buf := []float64{0, 0}
	for _, lr := range []float64{0.5, 0.25} {
		if err := setLearningRate(store, lr); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Call(x); err != nil {
			t.Fatal(err)
		}
		for i := range p {
			buf[i] = mom*buf[i] + float64(x[i]) + wd*p[i]
			p[i] -= lr * buf[i]
		}
		got := tensors.MustCopyFlatData[float32](store.GetVariable("/p").MustValue())
		assertClose(t, "step", got, []float32{float32(p[0]), float32(p[1])}, 1e-6)
	}
	if n := TrainableParams(store); n != 2 {
		t.Errorf("%d trainable parameters, want 2 (momentum buffers and learning rate are not)", n)
	}
}
