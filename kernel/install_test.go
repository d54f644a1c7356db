package kernel

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Build information as `go version -m` prints it, for GoNB built from the module cache and from a patched
// copy, and for goimports.
const (
	gonbPristine = "/root/go/bin/gonb: go1.27.3-X:simd\n\tpath\tgithub.com/janpfeifer/gonb\n" +
		"\tmod\tgithub.com/janpfeifer/gonb\tv0.11.5\th1:abc=\n\tdep\tk8s.io/klog/v2\tv2.130.1\th1:def=\n"
	gonbPatched = "/root/go/bin/gonb: go1.27.3-X:simd\n\tpath\tgithub.com/janpfeifer/gonb\n" +
		"\tmod\tgithub.com/janpfeifer/gonb\tv0.11.5\n\t=>\t/cache/gonb-v0.11.5-patched\t(devel)\t\n" +
		"\tdep\tk8s.io/klog/v2\tv2.130.1\th1:def=\n"
	goimports = "/root/go/bin/goimports: go1.27.3-X:simd\n\tpath\tgolang.org/x/tools/cmd/goimports\n" +
		"\tmod\tgolang.org/x/tools\tv0.52.0\th1:ryx=\n\tdep\tgolang.org/x/mod\tv0.42.0\th1:ICe=\n"
)

func TestBuiltFrom(t *testing.T) {
	gonb := tool{module: "github.com/janpfeifer/gonb", version: "v0.11.5"}
	patched := gonb
	patched.source = "/cache/gonb-v0.11.5-patched"
	otherCopy := gonb
	otherCopy.source = "/elsewhere/gonb"
	older := gonb
	older.version = "v0.11.4"
	tools := tool{module: "golang.org/x/tools", version: "v0.52.0"}
	for _, c := range []struct {
		name      string
		buildInfo string
		t         tool
		want      bool
	}{
		{"pristine wanted, pristine built", gonbPristine, gonb, true},
		{"pristine wanted, patched built", gonbPatched, gonb, false},
		{"patched wanted, patched built", gonbPatched, patched, true},
		{"patched wanted, pristine built", gonbPristine, patched, false},
		{"patched wanted, another copy built", gonbPatched, otherCopy, false},
		{"another version", gonbPristine, older, false},
		{"a package below the module root", goimports, tools, true},
		{"another tool", goimports, gonb, false},
		{"no build information", "", gonb, false},
	} {
		if got := builtFrom(c.buildInfo, c.t); got != c.want {
			t.Errorf("%s: builtFrom = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestGoNBVersionIsTheModules keeps the GoNB the installer builds (GoNBVersion, patched from the copy
// scripts/patch-module.sh makes of the version go.mod requires) and the gonbui that cells import one
// version: the replace directive would otherwise build whatever version the copy holds.
func TestGoNBVersionIsTheModules(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 2 && f[0] == "github.com/janpfeifer/gonb" {
			if f[1] != GoNBVersion {
				t.Fatalf("go.mod requires GoNB %s, the installer builds %s", f[1], GoNBVersion)
			}
			return
		}
	}
	t.Fatal("go.mod does not require github.com/janpfeifer/gonb")
}
