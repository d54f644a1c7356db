package export

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/models"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// CheckpointError is a checkpoint that cannot be exported for the architecture: a missing directory, a
// directory that holds no checkpoint, or weights of another architecture.
type CheckpointError struct {
	Dir string // the checkpoint or run directory
	Err error
}

func (e *CheckpointError) Error() string { return fmt.Sprintf("checkpoint %s: %v", e.Dir, e.Err) }
func (e *CheckpointError) Unwrap() error { return e.Err }

// LoadCheckpoint reads trained weights for an architecture from dir, which is either a training run
// directory (written by `einspace train --save DIR` or models.SaveEpoch: its train.json names the
// architecture, the input shape, the class count and the checkpoint of the last completed epoch) or a
// GoMLX checkpoint directory written by Model.Save. With arch nil the architecture is the run's; with
// classes 0 the class count is the run's, or the width of the checkpoint's head. It checks that every weight the network needs is there with the shape
// it needs and that the checkpoint holds no weights the network does not have; any mismatch is a
// *CheckpointError that names the directory and the first variable that differs.
func LoadCheckpoint(dir string, arch *grammar.Arch, classes int) (*models.Model, error) {
	fail := func(format string, args ...any) error {
		return &CheckpointError{Dir: dir, Err: fmt.Errorf(format, args...)}
	}
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fail("the directory does not exist")
	case err != nil:
		return nil, &CheckpointError{Dir: dir, Err: err}
	case !info.IsDir():
		return nil, fail("not a directory")
	}
	weightsDir := dir
	if rec, err := models.ReadRunRecord(dir); err == nil {
		if arch == nil { // the run's own
			input, err := grammar.ShapeOf(rec.Input...)
			if err == nil {
				arch, err = grammar.ParseArch(rec.Arch, input)
			}
			if err != nil {
				return nil, fail("the run's architecture: %v", err)
			}
		}
		if rec.Arch != arch.String() {
			return nil, fail("the run trained another architecture:\n  run:   %s\n  given: %s", brief(rec.Arch), brief(arch.String()))
		}
		if !slices.Equal(rec.Input, arch.Input.Dims()) {
			return nil, fail("the run trained on input %v, not %v", rec.Input, arch.Input.Dims())
		}
		if classes != 0 && classes != rec.Classes {
			return nil, fail("the run trained %d classes, not %d", rec.Classes, classes)
		}
		classes = rec.Classes
		if rec.Checkpoint == "" {
			return nil, fail("the run has not completed an epoch yet: no checkpoint")
		}
		weightsDir = filepath.Join(dir, rec.Checkpoint)
		if !holdsCheckpoint(weightsDir) {
			return nil, fail("the run's record names the checkpoint %s, which holds no GoMLX checkpoint", rec.Checkpoint)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, &CheckpointError{Dir: dir, Err: err}
	} else if arch == nil {
		return nil, fail("holds no training run (train.json) naming its architecture: give the architecture")
	}
	if !holdsCheckpoint(weightsDir) {
		return nil, fail("holds neither a training run (train.json) nor a GoMLX checkpoint (checkpoint-*.json)")
	}
	net, err := models.Compile(arch, max(classes, 1))
	if err != nil {
		return nil, err
	}
	m, err := models.Load(net, weightsDir)
	if err != nil {
		return nil, &CheckpointError{Dir: dir, Err: err}
	}
	if classes == 0 {
		v := m.Store.GetVariable("/head/bias")
		if v == nil || v.Shape().Rank() != 1 {
			return nil, fail("holds no classification head (/head/bias)")
		}
		if net, err = models.Compile(arch, v.Shape().Dimensions[0]); err != nil {
			return nil, err
		}
		m.Net = net // the model's graphs read Net when first built
	}
	p, err := newPlan(m.Net)
	if err != nil {
		return nil, err
	}
	if err := p.check(m.Store); err != nil {
		return nil, &CheckpointError{Dir: dir, Err: err}
	}
	return m, nil
}

// brief shortens a long architecture text for a message.
func brief(text string) string {
	const most = 150
	if len(text) <= most {
		return text
	}
	return fmt.Sprintf("%s... (%d characters)", text[:most], len(text))
}

// holdsCheckpoint reports whether dir looks like a GoMLX checkpoint directory: it holds the JSON half of
// at least one checkpoint (checkpoint-n0000001-....json beside its .bin).
func holdsCheckpoint(dir string) bool {
	found, _ := filepath.Glob(filepath.Join(dir, "checkpoint-*.json"))
	return len(found) > 0
}

// check reports the first difference between the variables the plan needs and those of store: a missing
// variable, one of another shape or type, or a backbone or head variable the network does not have.
func (p *plan) check(store *model.Store) error {
	want := map[string]bool{}
	for _, t := range p.tensors {
		if t.variable == "" {
			continue
		}
		want[t.variable] = true
		v := store.GetVariable(t.variable)
		if v == nil {
			return fmt.Errorf("no variable %s (%s of this architecture, shape %v): the weights are of another architecture", t.variable, t.key, t.gomlx)
		}
		if got := v.Shape().Dimensions; !slices.Equal(got, t.gomlx) || v.DType() != dtypes.Float32 {
			return fmt.Errorf("variable %s is %s %v; this architecture's %s needs float32 %v", t.variable, v.DType(), got, t.key, t.gomlx)
		}
	}
	var extra []string
	for v := range store.IterVariables() {
		path := v.Path()
		if (strings.HasPrefix(path, "/backbone/") || strings.HasPrefix(path, "/head/")) && !want[path] {
			extra = append(extra, path)
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return fmt.Errorf("variable %s (and %d more) is not part of this architecture: the weights are of another architecture", extra[0], len(extra)-1)
	}
	return nil
}

// values returns a tensor of the state dict made from store, in PyTorch's layout.
func (p *plan) values(store *model.Store, t tensorSpec) ([]float32, error) {
	if t.how == batchesTracked {
		return nil, nil
	}
	raw, err := variable(store, t.variable, t.gomlx)
	if err != nil {
		return nil, err
	}
	if t.how == linearWeight || t.how == convWeight { // [rows, cols] -> [cols, rows]; a conv's [out, C·k·k] is [out, C, k, k]
		return transpose2(raw, t.gomlx[0], t.gomlx[1]), nil
	}
	return raw, nil
}

// variable returns the values of a float32 variable of the given shape.
func variable(store *model.Store, path string, dims []int) ([]float32, error) {
	if store == nil {
		return nil, fmt.Errorf("no weights")
	}
	v := store.GetVariable(path)
	if v == nil {
		return nil, fmt.Errorf("no variable %s", path)
	}
	if !slices.Equal(v.Shape().Dimensions, dims) || v.DType() != dtypes.Float32 {
		return nil, fmt.Errorf("variable %s is %s %v, want float32 %v", path, v.DType(), v.Shape().Dimensions, dims)
	}
	t, err := v.Value()
	if err != nil {
		return nil, fmt.Errorf("variable %s: %w", path, err)
	}
	return tensors.MustCopyFlatData[float32](t), nil
}

// transpose2 transposes a rows×cols matrix stored row by row.
func transpose2(x []float32, rows, cols int) []float32 {
	y := make([]float32, len(x))
	for r := range rows {
		for c := range cols {
			y[c*rows+r] = x[r*cols+c]
		}
	}
	return y
}
