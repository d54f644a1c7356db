// Package search runs neural architecture searches over the einspace grammar: random search, regularised
// evolution (RE, the aging evolution of Real et al.) from random samples or from seed architectures, and
// random mutation (RM), as in SPEC §5.1 and §10.11, and RE with crossover, which the paper leaves to
// future work.
//
// Strategies. A strategy is a value behind the Strategy interface: given the state of the search, it
// proposes the next evaluation (a random sample, a seed's training or copy, a child and its parents), and
// it is told of every record in order. Run, the engine, owns what all strategies share: the budget, the
// run log, replaying it on resume, parallel evaluations and the order of results. Config.Strategy names
// the strategy (RegisterStrategy adds one): random.go, evolution.go (RE and RM with their seeded phases)
// and crossover.go each hold one. Every record says where its architecture came from as a typed Origin.
//
// A search is a sequence of evaluations. Each one is a Job, a self-contained description (architecture
// text, input shape, dataset, training budget, seed) that an Evaluator turns into a Result. The package
// does not train anything itself: the training evaluator is search/training (over package models), the
// NATS one for many machines is search/distributed, and ProcessPool runs
// any evaluator in isolated worker processes (ServeWorker is the loop such a process runs), so that an
// architecture that crashes, exhausts memory or hangs costs one failed evaluation, not the search. A
// failed architecture is a Result with Failure set; an error from an Evaluator means the infrastructure
// failed and stops the search.
//
// A search lives in a run directory: config.json, written when the run starts, and evaluations.jsonl,
// one JSON record per finished evaluation, appended with a single write and synced to disk before the
// search goes on. Run on a directory that already holds records resumes the search. Nothing needs to be
// saved besides the records because the search holds no hidden state: every random decision of
// evaluation i (a random sample, a tournament, a mutation) comes from a PCG generator seeded with the
// configuration's seed and i, and the population is rebuilt by replaying the records through the same
// decision procedure, which also checks that each logged record is the one the configuration asks for.
// With a deterministic evaluator, a search killed at any moment and resumed writes the same log as one
// that was never interrupted, apart from timestamps. A record is committed once its newline is on disk:
// an incomplete last line, left by a crash during a write, is dropped when the run resumes.
//
// Budget. The budget counts evaluations the way the paper's history does: successful random samples,
// successful children, and the copies of trained seeds that fill a seeded population. The training of
// a seed itself (once per distinct seed) and every failed evaluation are logged but not counted, so
// RE(RN18) with population 100 and budget 1000 trains the seed once, records 100 copies of it without
// training them again, then evaluates 900 counted children.
//
// Parallel evaluation. Config.InFlight evaluations are outstanding at once, like the paper's
// asynchronous cluster. Each child's parent is chosen from the population as it stands when the child
// is submitted, and results are recorded in submission order: a result that arrives early waits for the
// ones submitted before it. The log is therefore a function of the configuration alone (InFlight
// included) and not of the number of workers or their timing; one worker serving InFlight = 4 writes
// the same log as four. Mutations wait until the whole initial population is recorded.
//
// Protocol. Config.Train, a Budget, is the training protocol of every evaluation: epochs, batch size,
// learning rate (zero: the paper's 256 and 0.04) and a wall-clock cap, MaxSeconds, counted from the
// moment a worker starts on the job, so building and compiling the model spend it too; ProcessPool kills a
// worker still busy at Budget.HardLimit. The protocol is part of the configuration and of every Job, so a
// cached or resumed result is always one of the same protocol.
//
// Seed cache. Options.SeedCache keeps the trainings of seed architectures in a folder of small JSON files
// keyed by the job without its ID (architecture, data, protocol, training seed). Searches of one search
// seed on the same data find there the seeds another trained (RE(RN18) and RE(Mix) share their ResNet-18;
// the training seed of record i depends only on the search seed and i), and so does a run started again.
//
// Final. Final retrains the best architecture of the whole history (by validation accuracy, BestSoFar) on
// train+val for FinalEpochs and scores it on test, through the same Evaluator with Job.Final set, with the
// search's protocol and its wall-clock cap scaled to the longer training (Config.FinalBudget).
//
// Summary. Summarise (a run directory) and SummaryOf (a History) model a run's summary once, as data: its
// overview, its best architectures and its failures. The views render that one model: as text in the
// command line (einspace report), as an HTML page in package viz, and as tables in a notebook in package
// kernel.
package search
