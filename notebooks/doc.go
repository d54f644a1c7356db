// Package notebooks holds the project's Jupyter notebooks (GoNB kernel "einspace") and the test that
// executes each of them headless and checks its outputs (notebooks_test.go). It has no code of its own.
//
//	01-grammar-tour.ipynb            productions, terminals, shapes, sampling, text format, the four seeds
//	02-sampling-and-mutation.ipynb   Table 10 statistics, the branching rate, mutation and crossover
//	03-training.ipynb                AddNIST built offline, training with live curves, test accuracy
//	04-search-reproduction.ipynb     RE(Scratch), RE(RN18), RE(Mix) and random search at a tiny budget
//	05-teaching-nas.ipynb            exercises graded by shape inference, a tiny evolution
//
// bash scripts/run-notebooks.sh executes them into out/notebooks/ with HTML exports;
// bash scripts/notebooks-test.sh runs the test with a long enough -timeout.
package notebooks
