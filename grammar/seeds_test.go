package grammar

import (
	"testing"
)

// TestSeedsMatchSpec checks the seeds against SPEC §6.3: backbone output shapes and parameter counts at the
// AddNIST/MultNIST and CIFARTile input shapes.
func TestSeedsMatchSpec(t *testing.T) {
	tests := []struct {
		seed   string
		input  Shape
		out    Shape
		params int64
	}{
		{ResNet18, ImShape(3, 28, 28), ImShape(512, 2, 2), 11_210_560},
		{WRN16_4, ImShape(3, 28, 28), ImShape(256, 7, 7), 2_748_576},
		{ViT, ImShape(3, 28, 28), ColShape(49, 512), 4_261_888},
		{Mixer, ImShape(3, 28, 28), ColShape(49, 512), 2_317_288},
		{ResNet18, ImShape(3, 64, 64), ImShape(512, 4, 4), 11_210_560},
		{WRN16_4, ImShape(3, 64, 64), ImShape(256, 16, 16), 2_748_576},
		{ViT, ImShape(3, 64, 64), ColShape(256, 512), 4_367_872},
		{Mixer, ImShape(3, 64, 64), ColShape(256, 512), 6_472_192},
	}
	for _, tt := range tests {
		a, err := SeedArch(tt.seed, tt.input)
		if err != nil {
			t.Fatalf("%s at %v: %v", tt.seed, tt.input, err)
		}
		if a.Output() != tt.out {
			t.Errorf("%s at %v: output %v, want %v", tt.seed, tt.input, a.Output(), tt.out)
		}
		if got := a.Params(); got != tt.params {
			t.Errorf("%s at %v: %d parameters, want %d", tt.seed, tt.input, got, tt.params)
		}
	}
}

// convOut is the output size of a k×k convolution with stride s and padding p.
func convOut(n, k, s, p int) int { return (n+2*p-k)/s + 1 }

// TestSeedsAtOtherShapes derives each seed's output shape and parameter count at other inputs (1 channel,
// non-square, 12 channels) from the architecture's definition, independently of the inference code.
func TestSeedsAtOtherShapes(t *testing.T) {
	for _, in := range []Shape{ImShape(1, 24, 24), ImShape(1, 27, 18), ImShape(12, 18, 18), ImShape(1, 64, 128), ImShape(3, 32, 32)} {
		c, h, w := int64(in.Dim(0)), in.Dim(1), in.Dim(2)
		// ResNet-18: only the first conv sees the input channels; four stride-2 3×3 convs shrink the map.
		rh, rw := h, w
		for range 4 {
			rh, rw = convOut(rh, 3, 2, 1), convOut(rw, 3, 2, 1)
		}
		check(t, ResNet18, in, ImShape(512, rh, rw), 11_210_560+(c-3)*9*64)
		// WRN-16-4: first conv 3×3 to 16 channels; two stride-2 stages.
		wh, ww := h, w
		for range 2 {
			wh, ww = convOut(wh, 3, 2, 1), convOut(ww, 3, 2, 1)
		}
		check(t, WRN16_4, in, ImShape(256, wh, ww), 2_748_576+(c-3)*9*16)
		// ViT: 4×4 patches to 512 wide tokens, one positional encoding per token, the rest input-free.
		tokens := int64(convOut(h, 4, 4, 0) * convOut(w, 4, 4, 0))
		check(t, ViT, in, ColShape(int(tokens), 512), 4_211_712+c*16*512+512+tokens*512)
		// MLP-Mixer: token mixing L→4L→L in each of 8 layers, LayerNorm and channel MLP 512→256→512.
		layer := tokens*4*tokens + 4*tokens + 4*tokens*tokens + tokens + 2*512 + 512*256 + 256 + 256*512 + 512
		check(t, Mixer, in, ColShape(int(tokens), 512), c*16*512+512+tokens*512+8*layer)
	}
}

func check(t *testing.T, seed string, in, out Shape, params int64) {
	t.Helper()
	a, err := SeedArch(seed, in)
	if err != nil {
		t.Errorf("%s at %v: %v", seed, in, err)
		return
	}
	if a.Output() != out || a.Params() != params {
		t.Errorf("%s at %v: output %v with %d parameters, want %v with %d", seed, in, a.Output(), a.Params(), out, params)
	}
}

func TestSeedNames(t *testing.T) {
	names := SeedNames()
	want := []string{"mlp_mixer", "resnet18", "vit", "wrn16_4"}
	if len(names) != len(want) {
		t.Fatalf("seeds %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("seeds %v, want %v", names, want)
		}
	}
	if _, err := Seed("resnet50"); err == nil {
		t.Error("Seed(resnet50) succeeded; want an error listing the seeds")
	}
	a, _ := Seed(ResNet18)
	b, _ := Seed(ResNet18)
	a.Children[0] = Compute(opIdentity)
	if Equal(a, b) {
		t.Error("Seed returned a shared tree: changing one copy changed the other")
	}
}
