package export

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/einspace-go/einspace/models"
	"github.com/gomlx/gomlx/ml/model"
)

// TargetError is an architecture that a target cannot express.
type TargetError struct {
	Target string // "pytorch" or "onnx"
	Err    error
}

func (e *TargetError) Error() string {
	return fmt.Sprintf("%s cannot express this network: %v", e.Target, e.Err)
}
func (e *TargetError) Unwrap() error { return e.Err }

// OutputError is an output file that cannot be written where it was asked for: a missing directory, or a
// name that the target does not accept.
type OutputError struct {
	Path string
	Err  error
}

func (e *OutputError) Error() string { return fmt.Sprintf("output %s: %v", e.Path, e.Err) }
func (e *OutputError) Unwrap() error { return e.Err }

// PyTorchSource returns the Python source of the network: one file that imports only torch. module is the
// name the file is imported as (its file name without .py), used in the usage example of its docstring;
// weights is the name of the weights file the code loads by default, beside the source, or "" when the
// export has no weights.
func PyTorchSource(net *models.Network, module, weights string) (string, error) {
	p, err := newPlan(net)
	if err != nil {
		return "", err
	}
	return p.python(module, weights), nil
}

// WeightsPath is where WritePyTorch writes the weights of the source file path: the same name with the
// extension .safetensors.
func WeightsPath(path string) string {
	return strings.TrimSuffix(path, filepath.Ext(path)) + ".safetensors"
}

// pythonName is what a Python module file may be called so that `import NAME` works.
var pythonName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// WritePyTorch writes the PyTorch source of the network to path (a name ending in .py that Python can
// import) and, when store holds the network's weights (a trained models.Model's Store; nil for none), the
// weights in safetensors format to WeightsPath(path), which the source loads. It returns the files
// written. Both files are written under temporary names and renamed into place once complete: on any
// error neither is left behind, and files already at those paths are untouched.
func WritePyTorch(path string, net *models.Network, store *model.Store) ([]string, error) {
	module := strings.TrimSuffix(filepath.Base(path), ".py")
	if filepath.Ext(path) != ".py" || !pythonName.MatchString(module) {
		return nil, &OutputError{Path: path, Err: fmt.Errorf("a PyTorch export is a Python module: name it NAME.py with NAME made of letters, digits and _ (e.g. my_net.py)")}
	}
	p, err := newPlan(net)
	if err != nil {
		return nil, err
	}
	weights := ""
	if store != nil {
		if err := p.check(store); err != nil {
			return nil, err
		}
		weights = filepath.Base(WeightsPath(path))
	}
	src, err := create(path, func(w io.Writer) error {
		_, err := io.WriteString(w, p.python(module, weights))
		return err
	})
	if err != nil {
		return nil, err
	}
	defer src.abort()
	if store == nil {
		if err := src.commit(); err != nil {
			return nil, err
		}
		return []string{path}, nil
	}
	wts, err := create(WeightsPath(path), func(w io.Writer) error {
		return p.writeSafetensors(w, store, p.metadata())
	})
	if err != nil {
		return nil, err
	}
	defer wts.abort()
	if err := wts.commit(); err != nil {
		return nil, err
	}
	if err := src.commit(); err != nil {
		os.Remove(wts.final)
		return nil, err
	}
	return []string{path, wts.final}, nil
}

// ONNX returns the ONNX model of the network (opset Opset) with the weights in store, serialised. Its
// input "input" is (batch, C, H, W) with a symbolic batch size, its output "logits" (batch, classes); batch
// normalisation uses the running statistics, as in evaluation.
func ONNX(net *models.Network, store *model.Store) ([]byte, error) {
	p, err := newPlan(net)
	if err != nil {
		return nil, err
	}
	if err := p.checkONNXSize(); err != nil {
		return nil, err
	}
	if store == nil {
		return nil, fmt.Errorf("export onnx: no weights (an ONNX model carries its weights: train or load a model first)")
	}
	if err := p.check(store); err != nil {
		return nil, err
	}
	return p.onnxModel(store, p.metadata())
}

// CheckONNX reports whether the network fits an ONNX file (a *TargetError if not) without needing weights.
func CheckONNX(net *models.Network) error {
	p, err := newPlan(net)
	if err != nil {
		return err
	}
	return p.checkONNXSize()
}

// WriteONNX writes the ONNX model of the network with the weights in store to path, under a temporary name
// renamed into place once complete: on error nothing is left at path.
func WriteONNX(path string, net *models.Network, store *model.Store) error {
	raw, err := ONNX(net, store)
	if err != nil {
		return err
	}
	f, err := create(path, func(w io.Writer) error { _, err := w.Write(raw); return err })
	if err != nil {
		return err
	}
	defer f.abort()
	return f.commit()
}

// metadata is what both targets record beside the network: the architecture, input shape and classes.
func (p *plan) metadata() map[string]string {
	a := p.net.Arch
	return map[string]string{"einspace_arch": a.String(), "input_shape": strings.Join(intsText(a.Input.Dims()), "x"),
		"classes": fmt.Sprint(p.net.Classes), "producer": "einspace-go export"}
}

// pending is a file written under a temporary name beside its final path.
type pending struct{ tmp, final string }

// create writes a file for path under a temporary name in the same directory.
func create(path string, write func(io.Writer) error) (*pending, error) {
	dir := filepath.Dir(path)
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &OutputError{Path: path, Err: fmt.Errorf("the directory %s does not exist", dir)}
	case err != nil:
		return nil, &OutputError{Path: path, Err: err}
	case !info.IsDir():
		return nil, &OutputError{Path: path, Err: fmt.Errorf("%s is not a directory", dir)}
	}
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		return nil, &OutputError{Path: path, Err: fmt.Errorf("is a directory")}
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, &OutputError{Path: path, Err: err}
	}
	p := &pending{tmp: f.Name(), final: path}
	w := bufio.NewWriterSize(f, 1<<20)
	err = write(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		p.abort()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return p, nil
}

func (p *pending) commit() error {
	if err := os.Rename(p.tmp, p.final); err != nil {
		return fmt.Errorf("write %s: %w", p.final, err)
	}
	p.tmp = ""
	return nil
}

// abort removes the temporary file if it was not committed.
func (p *pending) abort() {
	if p.tmp != "" {
		os.Remove(p.tmp)
		p.tmp = ""
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
