package viz

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// EChartsVersion is the version of the ECharts bundle the charts are written for.
const EChartsVersion = "5.6.0"

// EChartsNBExtension is where, under Jupyter's nbextensions, the kernel installer puts the bundle, so that
// a chart on a page without ECharts (after a reload) can load it from the notebook server.
const EChartsNBExtension = "einspace/echarts-" + EChartsVersion + ".min.js"

// EChartsBundleMarker is an attribute of the script element that carries the bundle: the mark by which
// tests (and readers of a saved notebook) find it.
const EChartsBundleMarker = `data-einspace="echarts-` + EChartsVersion + `"`

// EChartsEnv names the environment variable that may point at echarts.min.js.
const EChartsEnv = "EINSPACE_ECHARTS"

// FetchEChartsCommand fetches the bundle into the repository's cache.
const FetchEChartsCommand = "bash scripts/fetch-echarts.sh"

const modulePath = "github.com/einspace-go/einspace"

var (
	bundleMu    sync.Mutex
	bundlePath  string
	bundleCache string
)

// EChartsPaths lists where EChartsJS looks for echarts.min.js, in order: $EINSPACE_ECHARTS, the cache
// .cache/echarts/ of this repository (found by walking up from the working directory to this module's
// go.mod), and ~/.cache/einspace/echarts/.
func EChartsPaths() []string {
	var paths []string
	if p := os.Getenv(EChartsEnv); p != "" {
		paths = append(paths, p)
	}
	if root, ok := repoRoot(); ok {
		paths = append(paths, filepath.Join(root, ".cache", "echarts", "echarts.min.js"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		paths = append(paths, filepath.Join(home, ".cache", "einspace", "echarts", "echarts.min.js"))
	}
	return paths
}

// repoRoot walks up from the working directory to the directory whose go.mod declares this module.
func repoRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && declaresModule(string(data)) {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func declaresModule(gomod string) bool {
	for _, line := range strings.Split(gomod, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" && f[1] == modulePath {
			return true
		}
	}
	return false
}

// EChartsJS returns the ECharts bundle (echarts.min.js), read from the first of EChartsPaths that exists.
// When none does, the error lists every place it looked and the command that fetches the bundle.
func EChartsJS() (string, error) {
	paths := EChartsPaths()
	bundleMu.Lock()
	defer bundleMu.Unlock()
	for _, p := range paths {
		if p == bundlePath && bundleCache != "" {
			return bundleCache, nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if !strings.Contains(string(data), "echarts") {
			return "", fmt.Errorf("%s is not an ECharts bundle: fetch it again with `%s`", p, FetchEChartsCommand)
		}
		bundlePath, bundleCache = p, string(data)
		return bundleCache, nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the ECharts %s bundle (echarts.min.js) was not found; looked in:\n", EChartsVersion)
	for _, p := range paths {
		fmt.Fprintf(&b, "  %s\n", p)
	}
	if os.Getenv(EChartsEnv) == "" {
		fmt.Fprintf(&b, "  ($%s is not set)\n", EChartsEnv)
	}
	fmt.Fprintf(&b, "fetch it with `%s` in the einspace repository (it runs npm pack echarts@%s), or point $%s at a copy",
		FetchEChartsCommand, EChartsVersion, EChartsEnv)
	return "", errors.New(b.String())
}

// EChartsScript is the bundle as an inline <script> that defines window.echarts once per page, also on
// pages that run require.js (Jupyter's classic notebook, nbconvert's HTML), where the bundle would
// otherwise register itself as an AMD module and leave window.echarts undefined.
func EChartsScript() (string, error) {
	js, err := EChartsJS()
	if err != nil {
		return "", err
	}
	// "</script" inside the bundle would end the element early.
	js = strings.ReplaceAll(js, "</script", `<\/script`)
	return "<script type=\"text/javascript\" " + EChartsBundleMarker + ">if(!window.echarts){(function(define,exports,module){\n" + js +
		"\n}).call(window);}</script>", nil
}
