package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/einspace-go/einspace/viz"
)

// Versions the installer pins (see shared NOTEBOOKS.md: the module proxy refuses GoNB's version list, so
// @latest fails; name exact versions).
const (
	GoNBVersion      = "v0.11.5"
	GoimportsVersion = "v0.52.0"
	GoplsVersion     = "v0.23.0"
	// GoExperiment is the experiment the kernel runs cells with, as scripts/env.sh sets it.
	GoExperiment = "simd"
	// ToolchainMarker is the file scripts/setup-toolchain.sh writes at the root of the project's patched
	// Go toolchain (docs/ARCHSIMD-PART-LOADS.md); the kernel runs cells only with a toolchain that has it.
	ToolchainMarker = "EINSPACE_PATCH"
	// KernelName is the name notebooks select: "kernelspec": {"name": "einspace"}.
	KernelName = "einspace"
)

// DebianPackages are the Jupyter pieces installed with apt when missing: the notebook server for interactive
// use, nbconvert and nbclient to execute notebooks headless.
var DebianPackages = []string{"jupyter-notebook", "jupyter-nbconvert", "python3-nbclient", "jupyter-client"}

// Python is the interpreter whose Jupyter modules are used: Debian's, since another python3 on PATH may
// lack them.
const Python = "/usr/bin/python3"

// InstallOptions configure Install. The zero value installs everything for the checkout found by walking
// up from the working directory.
type InstallOptions struct {
	// Repo is the checkout whose module notebooks import; empty means the one containing the working
	// directory.
	Repo string
	// SkipApt does not install Debian's Jupyter packages even when they are missing.
	SkipApt bool
	// Gopls also installs gopls (completion in the notebook UI; about 2 minutes to build).
	Gopls bool
	// GoBin is where the Go tools are installed; empty means $(go env GOPATH)/bin.
	GoBin string
	// JupyterDataDir is where the kernelspec is written; empty means $JUPYTER_DATA_DIR or
	// ~/.local/share/jupyter.
	JupyterDataDir string
	// GoNBSource is a directory holding GoNB's source at GoNBVersion with the project's patches applied
	// (scripts/patch-module.sh makes it; docs/GONB-COMM-OPEN-ACK.md says why): GoNB is built from it.
	// Empty builds the pristine module, whose widgets can fail to connect on a busy machine.
	GoNBSource string
	// Log receives what Install does; nil means os.Stderr.
	Log io.Writer
}

// Install sets up notebooks for a checkout: Debian's Jupyter packages when missing (as root), GoNB and
// goimports (and optionally gopls) built from a throwaway module, and the Jupyter kernel "einspace", whose
// kernel.json runs GoNB with -go_work=<checkout>, the project's patched toolchain and GOEXPERIMENT, so that
// notebook cells import the checkout's packages with no set-up cell. It returns the kernelspec's path.
// Every step is skipped when already done, so running it again is cheap.
func Install(ctx context.Context, o InstallOptions) (string, error) {
	log := o.Log
	if log == nil {
		log = os.Stderr
	}
	repo, err := repoDir(o.Repo)
	if err != nil {
		return "", err
	}
	if !o.SkipApt {
		if err := installJupyter(ctx, log); err != nil {
			return "", err
		}
	}
	gobin := o.GoBin
	if gobin == "" {
		gopath, err := goEnv(ctx, "GOPATH")
		if err != nil {
			return "", err
		}
		gobin = filepath.Join(strings.Split(gopath, string(os.PathListSeparator))[0], "bin")
	}
	gonbSource := o.GoNBSource
	if gonbSource != "" {
		// The replace directive is read from the throwaway module's directory: it must be absolute.
		if gonbSource, err = filepath.Abs(gonbSource); err != nil {
			return "", err
		}
		if _, err := os.Stat(filepath.Join(gonbSource, "go.mod")); err != nil {
			return "", fmt.Errorf("kernel install: --gonb-source %s is not a copy of GoNB's module (no go.mod): %w", o.GoNBSource, err)
		}
	}
	tools := []tool{
		{module: "github.com/janpfeifer/gonb", pkg: "github.com/janpfeifer/gonb", version: GoNBVersion, binary: "gonb", source: gonbSource},
		{module: "golang.org/x/tools", pkg: "golang.org/x/tools/cmd/goimports", version: GoimportsVersion, binary: "goimports"},
	}
	if o.Gopls {
		tools = append(tools, tool{module: "golang.org/x/tools/gopls", pkg: "golang.org/x/tools/gopls", version: GoplsVersion, binary: "gopls"})
	}
	if o.GoNBSource == "" {
		fmt.Fprintln(log, "kernel install: GoNB is built unpatched, so on a busy machine a cell's widgets may fail to connect "+
			"(docs/GONB-COMM-OPEN-ACK.md); scripts/setup-notebooks.sh builds it patched")
	}
	goroot, err := projectGoroot(ctx)
	if err != nil {
		return "", err
	}
	for _, t := range tools {
		if err := installTool(ctx, log, gobin, t); err != nil {
			return "", err
		}
	}
	if err := installECharts(log, o.JupyterDataDir); err != nil {
		return "", err
	}
	modules, err := workspaceModules(ctx, repo)
	if err != nil {
		return "", err
	}
	if len(modules) == 0 {
		fmt.Fprintln(log, "kernel install: GOWORK is not set, so notebook cells build against the pristine GoMLX backend "+
			"(the same numbers, slower); source scripts/env.sh first for the patched one (scripts/setup-backend.sh)")
	}
	return writeKernelSpec(log, repo, gobin, goroot, modules, o.JupyterDataDir)
}

// workspaceModules lists the modules other than the checkout that the workspace named by GOWORK uses:
// the patched copy of the GoMLX backend scripts/setup-backend.sh makes (docs/BACKEND-PATCHES.md). Cells
// are built in a workspace of GoNB's, which uses them too. Empty when GOWORK is not set.
func workspaceModules(ctx context.Context, repo string) ([]string, error) {
	work := os.Getenv("GOWORK")
	if work == "" || work == "off" {
		return nil, nil
	}
	cmd := exec.CommandContext(ctx, "go", "work", "edit", "-json", work)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("kernel install: read the workspace GOWORK=%s: %w", work, err)
	}
	var ws struct{ Use []struct{ DiskPath string } }
	if err := json.Unmarshal(out, &ws); err != nil {
		return nil, fmt.Errorf("kernel install: read the workspace GOWORK=%s: %w", work, err)
	}
	var modules []string
	for _, u := range ws.Use {
		if dir := filepath.Clean(u.DiskPath); dir != filepath.Clean(repo) {
			modules = append(modules, dir)
		}
	}
	return modules, nil
}

// repoDir returns the checkout: dir, or the directory of this module's go.mod above the working directory.
func repoDir(dir string) (string, error) {
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		dir = wd
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/einspace-go/einspace\n") {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("kernel install: %s is not inside a checkout of github.com/einspace-go/einspace (no go.mod of that module above it)", dir)
		}
	}
}

func run(ctx context.Context, log io.Writer, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	fmt.Fprintf(log, "+ %s %s\n", name, strings.Join(args, " "))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

// toolEnv is the environment the Go tools are built in: the go command on PATH, which must be the
// project's toolchain (projectGoroot checks), with no switching, no workspace.
var toolEnv = []string{"GOTOOLCHAIN=local", "GOEXPERIMENT=" + GoExperiment, "GOFLAGS=", "GOWORK=off"}

// projectGoroot returns the GOROOT of the go command on PATH, refusing any but the project's patched
// toolchain: cells built with another would crash at random (docs/ARCHSIMD-PART-LOADS.md).
func projectGoroot(ctx context.Context) (string, error) {
	goroot, err := goEnv(ctx, "GOROOT")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(goroot, ToolchainMarker)); err != nil {
		return "", fmt.Errorf("kernel install: the go command on PATH (GOROOT %s) is not the project's patched toolchain, "+
			"and notebook cells built with it could crash with SIGSEGV (docs/ARCHSIMD-PART-LOADS.md); "+
			"run bash scripts/setup-notebooks.sh, or source scripts/env.sh first", goroot)
	}
	return goroot, nil
}

func goEnv(ctx context.Context, name string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "env", name)
	cmd.Env = append(os.Environ(), toolEnv...)
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w (is Go installed and on PATH?)", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// jupyterReady reports whether Debian's Python has the modules headless and interactive use need.
func jupyterReady(ctx context.Context) bool {
	if _, err := os.Stat(Python); err != nil {
		return false
	}
	err := exec.CommandContext(ctx, Python, "-c", "import nbclient, nbconvert, jupyter_client, notebook").Run()
	if err != nil {
		return false
	}
	_, err = exec.LookPath("jupyter")
	return err == nil
}

func installJupyter(ctx context.Context, log io.Writer) error {
	if jupyterReady(ctx) {
		fmt.Fprintln(log, "jupyter: already installed")
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("kernel install: Jupyter is missing and installing it needs root: run\n  sudo apt-get install -y --no-install-recommends %s\nthen install again", strings.Join(DebianPackages, " "))
	}
	if err := run(ctx, log, "", nil, "apt-get", "update", "-q"); err != nil {
		return err
	}
	args := append([]string{"install", "-y", "--no-install-recommends"}, DebianPackages...)
	if err := run(ctx, log, "", []string{"DEBIAN_FRONTEND=noninteractive"}, "apt-get", args...); err != nil {
		return err
	}
	if !jupyterReady(ctx) {
		return errors.New("kernel install: Jupyter still missing after apt-get install")
	}
	return nil
}

// tool is a Go command Install builds: package pkg of module at version, installed as binary, from the
// directory source instead of the module cache when source is not empty (a patched copy of the module).
type tool struct{ module, pkg, version, binary, source string }

// installTool builds a Go command at an exact version from a throwaway module (`go install pkg@version`
// asks the proxy for the version list, which it refuses for GoNB). A binary already built from the same
// version and source is kept, unless the source was made again after it (the patches changed).
func installTool(ctx context.Context, log io.Writer, gobin string, t tool) error {
	bin := filepath.Join(gobin, t.binary)
	if current(ctx, bin, t) {
		fmt.Fprintf(log, "%s: %s already installed at %s\n", t.binary, t.version, bin)
		return nil
	}
	dir, err := os.MkdirTemp("", "einspace-tools-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	env := append(append([]string{}, toolEnv...), "GOBIN="+gobin)
	if err := run(ctx, log, dir, env, "go", "mod", "init", "tools"); err != nil {
		return err
	}
	if err := run(ctx, log, dir, env, "go", "get", t.pkg+"@"+t.version); err != nil {
		return err
	}
	if t.source != "" {
		if err := run(ctx, log, dir, env, "go", "mod", "edit", "-replace="+t.module+"="+t.source); err != nil {
			return err
		}
	}
	return run(ctx, log, dir, env, "go", "install", t.pkg)
}

// current reports whether bin was built from t: its build information names t's module at t's version,
// replaced by t's source when there is one (and built after the source was made), by nothing otherwise.
func current(ctx context.Context, bin string, t tool) bool {
	out, err := exec.CommandContext(ctx, "go", "version", "-m", bin).Output()
	if err != nil {
		return false
	}
	return builtFrom(string(out), t) && (t.source == "" || newer(bin, t.source))
}

// builtFrom reports whether buildInfo, the output of `go version -m`, shows t's module at t's version,
// replaced by exactly t.source (or by nothing when t.source is empty).
func builtFrom(buildInfo string, t tool) bool {
	lines := strings.Split(buildInfo, "\n")
	for i, line := range lines {
		f := strings.Split(strings.TrimSpace(line), "\t")
		if len(f) < 3 || (f[0] != "dep" && f[0] != "mod") || f[1] != t.module || f[2] != t.version {
			continue
		}
		replacement := ""
		if i+1 < len(lines) {
			if r := strings.Split(strings.TrimSpace(lines[i+1]), "\t"); len(r) >= 2 && r[0] == "=>" {
				replacement = r[1]
			}
		}
		return replacement == t.source
	}
	return false
}

// newer reports whether the file bin was modified after the directory source was made.
func newer(bin, source string) bool {
	b, err := os.Stat(bin)
	if err != nil {
		return false
	}
	s, err := os.Stat(source)
	return err == nil && b.ModTime().After(s.ModTime())
}

// kernelSpec is Jupyter's kernel.json.
type kernelSpec struct {
	Argv          []string          `json:"argv"`
	DisplayName   string            `json:"display_name"`
	Language      string            `json:"language"`
	InterruptMode string            `json:"interrupt_mode"`
	Env           map[string]string `json:"env"`
}

// KernelSpec returns the kernel.json Install writes for a checkout, with GoNB and the Go tools in gobin
// and the project's toolchain at goroot, first on PATH and never switched (GOTOOLCHAIN=local). GoNB's
// workspace uses the checkout and modules (the patched backend of scripts/setup-backend.sh); GOFLAGS and
// GOWORK are emptied, so that a Jupyter started from a shell that sourced scripts/env.sh does not hand its
// settings to GoNB, which keeps a go.work of its own. EINSPACE_ECHARTS points at the checkout's ECharts
// cache, since notebooks may live outside the checkout.
func KernelSpec(repo, gobin, goroot string, modules []string) ([]byte, error) {
	dirs := []string{filepath.Join(goroot, "bin"), gobin}
	dirs = append(dirs, filepath.SplitList(os.Getenv("PATH"))...)
	seen := map[string]bool{}
	var kept []string
	for _, d := range dirs {
		if d != "" && !seen[d] {
			seen[d] = true
			kept = append(kept, d)
		}
	}
	path := strings.Join(kept, string(os.PathListSeparator))
	spec := kernelSpec{
		Argv:          []string{filepath.Join(gobin, "gonb"), "--kernel", "{connection_file}", "--logtostderr", "-go_work=" + strings.Join(append([]string{repo}, modules...), ",")},
		DisplayName:   "Go (einspace)",
		Language:      "go",
		InterruptMode: "message",
		Env: map[string]string{
			"GOTOOLCHAIN":  "local",
			"GOEXPERIMENT": GoExperiment,
			"GOFLAGS":      "",
			"GOWORK":       "",
			"PATH":         path,
			// cells run in the notebook's directory, which may be outside the checkout
			viz.EChartsEnv: filepath.Join(repo, ".cache", "echarts", "echarts.min.js"),
		},
	}
	return json.MarshalIndent(spec, "", "  ")
}

// jupyterDataDir is where Jupyter reads kernelspecs and nbextensions: dir, else $JUPYTER_DATA_DIR, else
// ~/.local/share/jupyter.
func jupyterDataDir(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv("JUPYTER_DATA_DIR")
	}
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(home, ".local", "share", "jupyter")
	}
	return dir, nil
}

func writeKernelSpec(log io.Writer, repo, gobin, goroot string, modules []string, dataDir string) (string, error) {
	dataDir, err := jupyterDataDir(dataDir)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(dataDir, "kernels", KernelName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	spec, err := KernelSpec(repo, gobin, goroot, modules)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "kernel.json")
	if err := os.WriteFile(path, append(spec, '\n'), 0o644); err != nil {
		return "", err
	}
	fmt.Fprintf(log, "kernel %q for %s written to %s\n", KernelName, repo, path)
	return path, nil
}

// installECharts copies the ECharts bundle where the notebook server serves it to every page
// (<data dir>/nbextensions/viz.EChartsNBExtension), so that a chart on a page that lost ECharts (a reload,
// a new tab) can load it again.
func installECharts(log io.Writer, dataDir string) error {
	dataDir, err := jupyterDataDir(dataDir)
	if err != nil {
		return err
	}
	js, err := viz.EChartsJS()
	if err != nil {
		return fmt.Errorf("kernel install: %w", err)
	}
	path := filepath.Join(dataDir, "nbextensions", filepath.FromSlash(viz.EChartsNBExtension))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(js), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(log, "ECharts %s for pages that lost it: %s\n", viz.EChartsVersion, path)
	return nil
}
