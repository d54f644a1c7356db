// Package training evaluates architectures for a search by really training them: it is the search.Evaluator
// that worker processes run. A job names its dataset by name and parameters (search.DataSpec); the
// evaluator builds or loads it once per process (AddNIST and MultNIST are built offline from MNIST and
// cached on disk), normalises it with the training split's per-channel statistics, compiles the
// architecture with package models, trains it with the paper's protocol (SPEC §7.3) and reports the
// validation accuracy after the last epoch as the fitness. A final job (search.Job.Final) trains on
// train+validation and scores on the test split.
//
// An architecture that cannot be built or trained is a search.Result with a Failure; an error is returned
// only when the evaluation itself could not happen (an unknown dataset, a cancelled context).
package training
