package grammar

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"sync"
)

//go:embed seeds.ein
var seedsText string

// Seed architectures of the paper (App. B.1), as written in seeds.ein.
const (
	ResNet18 = "resnet18"  // ResNet-18 with the 3×3/2 max-pool replaced by a strided 3×3 conv ("RN18")
	WRN16_4  = "wrn16_4"   // Wide ResNet 16-4, post-activation blocks
	ViT      = "vit"       // a 4-layer ViT-style transformer with 4×4 patches
	Mixer    = "mlp_mixer" // an 8-layer MLP-Mixer
)

// seedTitles are the seeds' names as the paper prints them.
var seedTitles = map[string]string{ResNet18: "ResNet-18", WRN16_4: "WRN-16-4", ViT: "ViT", Mixer: "MLP-Mixer"}

// SeedTitle is a seed's name as the paper prints it ("ResNet-18" for "resnet18"); other names come back
// unchanged.
func SeedTitle(name string) string {
	if t, ok := seedTitles[name]; ok {
		return t
	}
	return name
}

var (
	seedsOnce sync.Once
	seeds     map[string]*Node
	seedsErr  error
)

func loadSeeds() {
	seeds = map[string]*Node{}
	for i, line := range strings.Split(seedsText, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, text, ok := strings.Cut(line, ":")
		if !ok {
			seedsErr = fmt.Errorf("seeds.ein:%d: expected NAME: EXPRESSION", i+1)
			return
		}
		root, err := Parse(text)
		if err != nil {
			seedsErr = fmt.Errorf("seeds.ein:%d: seed %s: %w", i+1, name, err)
			return
		}
		seeds[strings.TrimSpace(name)] = root
	}
}

// SeedNames lists the seed architectures by name, sorted.
func SeedNames() []string {
	seedsOnce.Do(loadSeeds)
	names := make([]string, 0, len(seeds))
	for name := range seeds {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Seed returns a fresh copy of the named seed's tree (not yet inferred: see SeedArch).
func Seed(name string) (*Node, error) {
	seedsOnce.Do(loadSeeds)
	if seedsErr != nil {
		return nil, seedsErr
	}
	root, ok := seeds[name]
	if !ok {
		return nil, fmt.Errorf("no seed architecture named %q (the seeds are %s)", name, strings.Join(SeedNames(), ", "))
	}
	return root.Clone(), nil
}

// SeedArch returns the named seed inferred for the input shape.
func SeedArch(name string, input Shape) (*Arch, error) {
	root, err := Seed(name)
	if err != nil {
		return nil, err
	}
	a, err := Infer(root, input)
	if err != nil {
		return nil, fmt.Errorf("seed %s at input %v: %w", name, input, err)
	}
	return a, nil
}

// SeedArchs returns every seed (in SeedNames order) inferred for the input shape.
func SeedArchs(input Shape) ([]*Arch, error) {
	var archs []*Arch
	for _, name := range SeedNames() {
		a, err := SeedArch(name, input)
		if err != nil {
			return nil, err
		}
		archs = append(archs, a)
	}
	return archs, nil
}
