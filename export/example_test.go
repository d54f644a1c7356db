package export_test

import (
	"fmt"
	"strings"

	"github.com/einspace-go/einspace/export"
	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/models"
)

// A convolution, a norm and a residual block become nn.Conv2d, nn.BatchNorm2d and a class of their own;
// every step carries the shape after it.
func ExamplePyTorchSource() {
	arch, err := grammar.ParseArch(`sequential(
		sequential(routing[im2col3k1s1p, computation<linear16>, col2im], computation<norm>),
		branching{clone_tensor2, sequential(routing[im2col3k1s1p, computation<linear16>, col2im], computation<leakyrelu>),
			computation<identity>, add_tensors})`, grammar.ImShape(3, 28, 28))
	if err != nil {
		panic(err)
	}
	net, err := models.Compile(arch, 10)
	if err != nil {
		panic(err)
	}
	src, err := export.PyTorchSource(net, "small_cnn", "small_cnn.safetensors")
	if err != nil {
		panic(err)
	}
	// The classes, sub-blocks first (the file goes on with Network, the weights reader and pretrained).
	for _, class := range []string{"Residual", "Backbone"} {
		start := strings.Index(src, "class "+class+"(")
		end := start + strings.Index(src[start:], "\n\n\n")
		fmt.Println(src[start:end])
		fmt.Println()
	}
	// Output:
	// class Residual(nn.Module):
	//     """einspace branching{clone_tensor2, M1, M2, add_tensors}: 16x28x28 -> 16x28x28."""
	//
	//     def __init__(self):
	//         super().__init__()
	//         self.conv1 = nn.Conv2d(16, 16, kernel_size=3, stride=1, padding=1)
	//
	//     def forward(self, x):
	//         # x: (B, 16, 28, 28)
	//         a, b = x, x                                     # clone_tensor2, (B, 16, 28, 28) each
	//         a = self.conv1(a)                               # (B, 16, 28, 28)
	//         a = F.leaky_relu(a, 0.01)                       # (B, 16, 28, 28)
	//         return a + b                                    # add_tensors, (B, 16, 28, 28)
	//
	// class Backbone(nn.Module):
	//     """The backbone: 3x28x28 -> 16x28x28."""
	//
	//     def __init__(self):
	//         super().__init__()
	//         self.conv1 = nn.Conv2d(3, 16, kernel_size=3, stride=1, padding=1)
	//         self.norm1 = nn.BatchNorm2d(16)
	//         self.residual1 = Residual()
	//
	//     def forward(self, x):
	//         # x: (B, 3, 28, 28)
	//         x = self.conv1(x)                               # (B, 16, 28, 28)
	//         x = self.norm1(x)                               # (B, 16, 28, 28)
	//         x = self.residual1(x)                           # (B, 16, 28, 28)
	//         return x
}
