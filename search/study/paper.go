package study

// Method names a column of the reproduction: a folder of run directories under results/<dataset>/, or
// RandomSampling, which is derived from the random-search runs rather than run.
type Method string

// The methods, in the order of the table's columns.
const (
	// RN18 is a degenerate run whose only architecture is the ResNet-18 seed: its final.json holds
	// ResNet-18 retrained with the same final protocol as every search's best (the paper's RN18 column).
	RN18 Method = "rn18"
	// RandomSampling is every counted evaluation of the random-search runs of a dataset: what a network
	// drawn from the grammar scores under the search protocol (validation accuracy), not a search.
	RandomSampling Method = "random-sampling"
	// RandomSearch samples architectures and keeps the best on validation.
	RandomSearch Method = "random"
	// REScratch is regularised evolution from random samples.
	REScratch Method = "re-scratch"
	// RERN18 is regularised evolution from a population of ResNet-18 copies.
	RERN18 Method = "re-rn18"
	// REMix is regularised evolution from copies of the four seeds (ResNet-18, WRN-16-4, ViT, MLP-Mixer).
	REMix Method = "re-mix"
)

// Columns are the methods of the table, in order.
var Columns = []Method{RN18, RandomSampling, RandomSearch, REScratch, RERN18, REMix}

// RunMethods are the methods that are folders of run directories, in the order a report lists them.
var RunMethods = []Method{RN18, RandomSearch, REScratch, RERN18, REMix}

// Title is the method's name in tables and charts, as the paper writes it.
func (m Method) Title() string {
	switch m {
	case RN18:
		return "RN18"
	case RandomSampling:
		return "random sampling"
	case RandomSearch:
		return "random search"
	case REScratch:
		return "RE(Scratch)"
	case RERN18:
		return "RE(RN18)"
	case REMix:
		return "RE(Mix)"
	}
	return string(m)
}

// PaperDataset is one row of the paper's Table 1 as far as this study reproduces it: the einspace columns
// and RN18.
type PaperDataset struct {
	Title   string // as the paper writes it
	Classes int    // SPEC §7.2
	// Accuracy is the test accuracy (%) the paper reports for each method: one run each, no error bars.
	Accuracy map[Method]float64
}

// Paper holds Table 1 of the paper (Ericsson et al., "einspace: Searching for Neural Architectures from
// Fundamental Operations", NeurIPS 2024; SPEC §8.1), by dataset name: the test accuracy (%) of RN18 and of
// the einspace columns RE(Scratch), RE(RN18), RE(Mix), random search and random sampling. The class
// counts are SPEC §7.2's. These numbers are defined here and nowhere else.
var Paper = map[string]PaperDataset{
	"addnist":     {"AddNIST", 20, paperRow(93.36, 10.13, 67.00, 93.82, 97.54, 97.72)},
	"language":    {"Language", 10, paperRow(92.16, 35.26, 87.01, 92.43, 96.84, 97.92)},
	"multnist":    {"MultNIST", 10, paperRow(91.36, 18.87, 66.09, 93.44, 96.37, 92.25)},
	"cifartile":   {"CIFARTile", 4, paperRow(47.13, 25.25, 30.90, 58.31, 60.65, 62.76)},
	"gutenberg":   {"Gutenberg", 6, paperRow(43.32, 19.69, 39.58, 43.70, 54.02, 50.16)},
	"isabella":    {"Isabella", 4, paperRow(63.65, 32.24, 56.90, 59.79, 64.30, 62.72)},
	"geoclassing": {"GeoClassing", 10, paperRow(90.08, 24.35, 69.13, 92.33, 95.31, 95.13)},
	"chesseract":  {"Chesseract", 3, paperRow(59.35, 44.83, 61.46, 63.92, 60.31, 61.86)},
}

// paperRow lays a row of Table 1 out in the order of Columns.
func paperRow(rn18, sampling, random, scratch, rern18, mix float64) map[Method]float64 {
	return map[Method]float64{RN18: rn18, RandomSampling: sampling, RandomSearch: random, REScratch: scratch,
		RERN18: rern18, REMix: mix}
}

// Datasets are the datasets this project reproduces (SPEC §11 builds them offline), in report order.
// A results folder without one of them reports it as not run.
var Datasets = []string{"addnist", "multnist"}

// DatasetTitle is the dataset's name as the paper writes it (the folder name when the paper has none).
func DatasetTitle(name string) string {
	if p, ok := Paper[name]; ok {
		return p.Title
	}
	return name
}
