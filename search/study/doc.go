// Package study reads the results of a reproduction of the paper's Table 1 (SPEC §8.1) into one model:
// for every dataset, every method and every seed, the search run's configuration, its records and its
// final result, and what follows from them. The command `einspace reproduction`, its charts in package
// viz and the notebook's tables in package kernel all draw from this one model.
//
// The results folder holds one search run directory (search.Run's config.json, evaluations.jsonl and,
// once the best architecture has been retrained, final.json) per dataset, method and seed:
//
//	results/<dataset>/<method>/seed-<n>/
//	results/baseline/<dataset>/train.json, result.json   ResNet-18 trained alone (not a search)
//	results/seed-cache/                                   seed trainings shared between searches
//
// The methods are the paper's einspace columns: random search, RE(Scratch), RE(RN18), RE(Mix), and RN18,
// a degenerate run whose only architecture is the ResNet-18 seed, so that its final training is ResNet-18
// retrained with the same protocol as every search's best. Runs of different methods with the same seed
// number are paired when two methods are compared. The paper's "random sampling" column is not a run:
// it is derived from the random-search runs, whose every counted evaluation is a random architecture
// scored under the search protocol.
//
// What is derived. For a run: the best validation accuracy so far after each counted evaluation (with
// search.BestSoFar's rule: counted, successful records, in log order), the best record, the final test
// accuracy, the counted and failed evaluations, and the compute spent. The compute counts what this run
// trained: the wall time of its evaluations except the population copies of a seed (not trained again)
// and seed trainings read from the seed cache (their cost was paid by the search that trained them), and
// separately the final training's. For a method: the statistics of its finished runs over seeds (mean,
// sample standard deviation, n) and its best-so-far curve as a mean and range over seeds. For two
// methods: the per-seed differences, their mean, the 95% t-interval of the mean and the count of seeds
// in which one beat the other (Compare). The paper's claims are tested on those comparisons (Claims),
// each with a verdict (supported, not supported, not yet measured) and a sentence of evidence.
//
// Nothing is assumed to be complete. A run that has not started, a search short of its budget, a final
// training not run yet, a method or a dataset with no runs at all: each is part of the model and is said
// in words (Run.Status, MethodRuns.Status), so that a report drawn half-way through says what is
// missing. Only a results folder that does not exist, or a file that exists but does not parse, is an
// error, and it names the file and line.
//
// The paper's numbers (Paper) are defined here, once.
package study
