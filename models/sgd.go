package models

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// sgd is torch.optim.SGD(lr, momentum, weight_decay) with dampening 0 and no Nesterov, over every
// trainable variable:
//
//	d = grad + wd·p;  buf = momentum·buf + d  (buf starts at 0, so the first step gives buf = d);  p -= lr·buf
//
// GoMLX's own SGD has neither momentum nor weight decay. The learning rate is the non-trainable scalar
// variable lrPath, which setLearningRate changes between epochs without recompiling the train graph.
type sgd struct {
	momentum, weightDecay float64
}

var _ optimizer.Interface = sgd{}

// momentumScope holds the momentum buffers: momentumScope + <variable path>.
var momentumScope = "/" + optimizer.Scope + "/sgd_momentum"

// lrPath is the learning-rate variable.
var lrPath = "/" + optimizer.Scope + "/" + optimizer.ParamLearningRate

// UpdateGraph adds the parameter updates for the loss to g.
func (o sgd) UpdateGraph(scope *model.Scope, g *Graph, loss *Node) {
	// The trainable variables in use, in the order BuildTrainableVariablesGradientsGraph returns gradients.
	var vars []*model.Variable
	for v := range scope.IterVariables() {
		if v.Trainable && v.InUseByGraph(g) {
			vars = append(vars, v)
		}
	}
	grads := scope.BuildTrainableVariablesGradientsGraph(loss)
	store := scope.Store()
	lr := ConvertDType(learningRateVar(store).NodeValue(g), loss.DType())
	optimizer.IncrementGlobalStep(g, dtypes.Int64)
	for i, v := range vars {
		p := v.NodeValue(g)
		d := grads[i]
		if o.weightDecay != 0 {
			d = Add(d, MulScalar(p, o.weightDecay))
		}
		if o.momentum != 0 {
			buf := store.VariableWithShape(momentumScope+v.Path(), v.Shape(), initializer.Zero).SetTrainable(false)
			d = Add(MulScalar(buf.NodeValue(g), o.momentum), d)
			buf.SetNodeValue(d)
		}
		v.SetNodeValue(Sub(p, Mul(lr, d)))
	}
}

// Clear deletes the momentum buffers.
func (o sgd) Clear(scope *model.Scope) error {
	return scope.Store().DeleteVariablesInScope(momentumScope)
}

// learningRateVar returns the learning-rate variable, creating it (at 0) if needed. It is marked
// non-trainable every time: a variable restored from a checkpoint comes back trainable.
func learningRateVar(store *model.Store) *model.Variable {
	v := store.GetVariable(lrPath)
	if v == nil {
		v = store.VariableWithShape(lrPath, shapes.Make(dtype), initializer.Zero)
	}
	return v.SetTrainable(false)
}

// setLearningRate sets the learning rate used by the next train steps.
func setLearningRate(store *model.Store, lr float64) error {
	v := store.GetVariable(lrPath)
	if v == nil {
		var err error
		if v, err = store.CreateVariable(lrPath, tensors.FromScalar(float32(lr))); err != nil {
			return fmt.Errorf("learning rate: %w", err)
		}
		v.SetTrainable(false)
		return nil
	}
	v.SetTrainable(false)
	return v.SetValue(tensors.FromScalar(float32(lr)))
}
