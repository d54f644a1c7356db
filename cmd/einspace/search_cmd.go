package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/models/data"
	"github.com/einspace-go/einspace/search"
	"github.com/einspace-go/einspace/search/distributed"
	"github.com/einspace-go/einspace/search/training"
)

// signalContext is cancelled by Ctrl-C or SIGTERM, so that a search stops between evaluations.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// logf prints a line of a long-running command's log to standard error.
func (e *env) logf(format string, args ...any) { fmt.Fprintf(e.stderr, format+"\n", args...) }

var initSeeds = map[string][]string{"scratch": nil, "resnet18": search.SeedsRN18, "rn18": search.SeedsRN18, "mix": search.SeedsMix}

// searchFlags are the flags of `einspace search`.
type searchFlags struct {
	out, dataset, strategy, initFrom string
	population, tournament, budget   int
	epochs, subset, workers          int
	batch, val, test                 int
	lr                               float64
	fullFLOPs                        int64
	seedCache                        string
	inFlight, finalEpochs, maxNodes  int
	maxSeconds, pc, crossMutation    float64
	dataSeed, seed                   uint64
	maxParams, maxFLOPs              int64
	timeout                          time.Duration
	dedup, inProcess, quiet          bool
	natsURL                          string
}

func newSearchFlags(fs *flag.FlagSet) *searchFlags {
	f := &searchFlags{}
	fs.StringVar(&f.out, "out", "", "run directory (required); an existing one is resumed")
	fs.StringVar(&f.dataset, "dataset", "addnist", "dataset: addnist, multnist, mnist or npy:DIR")
	fs.StringVar(&f.strategy, "strategy", "re", "re (regularised evolution), random (random search), rm (random mutation)\nor re-crossover (RE whose children cross over two tournament winners)")
	fs.StringVar(&f.initFrom, "init", "scratch", "initial population: scratch, resnet18 or mix (RE, RM and re-crossover)")
	fs.IntVar(&f.population, "population", 20, "population size P")
	fs.IntVar(&f.tournament, "tournament", 5, "tournament size S (drawn with replacement)")
	fs.Float64Var(&f.crossMutation, "crossover-mutation", 0.5, "re-crossover: the probability that a crossed-over child is also mutated")
	fs.IntVar(&f.budget, "budget", 60, "evaluations counted toward the budget (seed copies included)")
	fs.IntVar(&f.epochs, "epochs", 1, "training epochs per evaluation (the paper: 8)")
	fs.Float64Var(&f.maxSeconds, "max-seconds", 0, "wall-time cap of one training run in seconds (0: none)")
	fs.IntVar(&f.batch, "batch", search.PaperBatchSize, "batch size of training")
	fs.Float64Var(&f.lr, "lr", search.PaperLR, "initial learning rate, cosine-annealed per epoch")
	fs.Int64Var(&f.fullFLOPs, "full-flops", 0, "compute budget: an architecture of more multiply-adds per image trains each epoch on\nthe fraction full-flops/its FLOPs of the batches (0: none)")
	fs.IntVar(&f.subset, "subset", 5000, "training examples (validation and test get a fifth each unless --val, --test; 0: the full dataset)")
	fs.IntVar(&f.val, "val", 0, "validation examples (0: a fifth of --subset, or all with --subset 0)")
	fs.IntVar(&f.test, "test", 0, "test examples, for the final training (0: a fifth of --subset, or all with --subset 0; -1: all)")
	fs.StringVar(&f.seedCache, "seed-cache", defaultSeedCache(), "folder of seed-architecture trainings shared between searches (\"\": none)")
	fs.Uint64Var(&f.dataSeed, "data-seed", 0, "seed of the dataset build and subset")
	fs.Uint64Var(&f.seed, "seed", 0, "search seed: sampling, tournaments and mutations")
	fs.IntVar(&f.workers, "workers", search.DefaultWorkers(), "worker processes training in parallel")
	fs.IntVar(&f.inFlight, "in-flight", 0, "evaluations kept in flight (0: --workers); part of the algorithm, so fixed per run")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Minute, "per-evaluation timeout, after which the worker is killed and the architecture fails")
	fs.IntVar(&f.finalEpochs, "final-epochs", 0, "retrain the best on train+validation for this many epochs and report test accuracy (0: skip)")
	fs.Float64Var(&f.pc, "pc", 0.32, "p(computation) of the grammar")
	fs.Int64Var(&f.maxParams, "max-params", -1, "cap on an architecture's parameters (0: none; default 5M from scratch, twice the largest seed's when seeded)")
	fs.Int64Var(&f.maxFLOPs, "max-flops", -1, "cap on multiply-adds per example (0: none; default 500M from scratch, twice the largest seed's when seeded)")
	fs.IntVar(&f.maxNodes, "max-nodes", grammar.DefaultLimits.Nodes, "cap on nodes per architecture (0: none)")
	fs.BoolVar(&f.dedup, "dedup", false, "skip children identical to an architecture already evaluated")
	fs.BoolVar(&f.inProcess, "in-process", false, "train in this process instead of isolated workers (a crash ends the search)")
	fs.StringVar(&f.natsURL, "nats", "", "NATS `URL` of a JetStream server: evaluations go to einspace worker processes on any machine\n(--in-flight should then be the total worker slots)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress line per evaluation")
	return f
}

// config is the search configuration the flags describe, checked.
func (f *searchFlags) config() (search.Config, error) {
	seeds, ok := initSeeds[f.initFrom]
	if !ok {
		return search.Config{}, usagef("--init must be scratch, resnet18 or mix, not %q", f.initFrom)
	}
	cfg := search.DefaultConfig()
	cfg.Strategy = search.StrategyName(f.strategy)
	cfg.Seeds = seeds
	cfg.Population, cfg.Tournament, cfg.Budget = f.population, f.tournament, f.budget
	if cfg.Strategy == search.RegularisedEvolutionCrossover {
		cfg.CrossoverMutation = f.crossMutation
	}
	cfg.Seed = f.seed
	cfg.InFlight = f.inFlight
	if cfg.InFlight == 0 {
		cfg.InFlight = f.workers
	}
	cfg.Dedup = f.dedup
	cfg.Data = search.DataSpec{Name: f.dataset, Seed: f.dataSeed}
	if f.subset > 0 {
		cfg.Data.Train, cfg.Data.Val, cfg.Data.Test = f.subset, max(1, f.subset/5), max(1, f.subset/5)
	}
	if f.val > 0 {
		cfg.Data.Val = f.val
	}
	switch {
	case f.test > 0:
		cfg.Data.Test = f.test
	case f.test < 0:
		cfg.Data.Test = 0
	}
	switch {
	case f.batch < 1:
		return cfg, usagef("--batch must be at least 1, got %d", f.batch)
	case !(f.lr > 0) || math.IsInf(f.lr, 1):
		return cfg, usagef("--lr must be a positive learning rate, got %v", f.lr)
	case f.fullFLOPs < 0:
		return cfg, usagef("--full-flops must be 0 (no budget) or more, got %d", f.fullFLOPs)
	case f.val < 0:
		return cfg, usagef("--val must be 0 (a fifth of --subset) or more, got %d", f.val)
	}
	cfg.Train = search.Budget{Epochs: f.epochs, MaxSeconds: f.maxSeconds, FullFLOPs: f.fullFLOPs}
	if f.batch != search.PaperBatchSize { // the paper's values are stored as zero, as in older configurations
		cfg.Train.BatchSize = f.batch
	}
	if f.lr != search.PaperLR {
		cfg.Train.LR = f.lr
	}
	cfg.FinalEpochs = f.finalEpochs
	input, classes, err := datasetShape(f.dataset)
	if err != nil {
		return cfg, usageError{err}
	}
	params, flops, err := defaultCaps(seeds, input)
	if err != nil {
		return cfg, err
	}
	if f.maxParams >= 0 {
		params = f.maxParams
	}
	if f.maxFLOPs >= 0 {
		flops = f.maxFLOPs
	}
	cfg.Grammar = search.GrammarConfig{PComputation: f.pc, Limits: &grammar.Limits{Nodes: f.maxNodes, Params: params, FLOPs: flops}}
	cfg.Input, cfg.Classes = input, classes
	if cfg.Strategy == search.RandomSearch && len(seeds) == 0 {
		cfg.Population, cfg.Tournament = 0, 0
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usageError{err}
	}
	return cfg, nil
}

// evaluator is where the search's evaluations run: NATS workers, this process, or a pool of worker
// processes. close releases it.
func (f *searchFlags) evaluator(ctx context.Context, e *env, cfg search.Config) (ev search.Evaluator, close func(), err error) {
	switch {
	case f.natsURL != "":
		d, err := distributed.NewEvaluator(ctx, f.natsURL, distributed.EvaluatorOptions{Run: cfg.RunID(), Logf: e.logf})
		if err != nil {
			return nil, nil, err
		}
		return d, func() { d.Close() }, nil
	case f.inProcess:
		return &training.Evaluator{}, func() {}, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	pool, err := search.NewProcessPool([]string{exe, "eval-worker"}, f.workers, f.timeout)
	if err != nil {
		return nil, nil, err
	}
	return pool, func() { pool.Close() }, nil
}

func runSearch(e *env, args []string) error {
	fs := newFlags(e, "search", "--out DIR [flags]", `Runs a search and logs every evaluation to DIR/evaluations.jsonl. Running it again on the same
--out resumes where it stopped: nothing is lost and nothing is evaluated twice. Each architecture is
trained in an isolated worker process, so a crash or NaN in one is recorded as its failure.`)
	f := newSearchFlags(fs)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if f.out == "" {
		return usagef("--out DIR is required (the run directory)")
	}
	if fs.NArg() > 0 {
		return usagef("search takes no arguments, got %q", fs.Args())
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	if prev, err := search.ReadConfig(f.out); err == nil {
		fmt.Fprintf(e.stderr, "resuming the search in %s (%s, budget %d)\n", f.out, prev.Strategy, prev.Budget)
	}

	ctx, stop := signalContext()
	defer stop()
	ev, closeEvaluator, err := f.evaluator(ctx, e, cfg)
	if err != nil {
		return err
	}
	defer closeEvaluator()
	opts := search.Options{Logf: e.logf, SeedCache: search.SeedCache{Dir: f.seedCache}}
	if !f.quiet {
		opts.Listener = progressPrinter(e)
	}
	h, err := search.Run(ctx, f.out, cfg, ev, opts)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("stopped; every finished evaluation is in %s: run the same command to resume", f.out)
		}
		return err
	}
	if best, ok := h.Best(); ok {
		fmt.Fprintf(e.stdout, "best: #%d %.2f%% validation accuracy, %s parameters\n%s\n", best.Index, best.ValAccuracy, thousands(best.Params), best.Arch)
	}
	if cfg.FinalEpochs > 0 {
		final, err := search.Final(ctx, f.out, ev)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "final: %.2f%% test accuracy after %d epochs on train+validation\n", final.Result.TestAccuracy, cfg.FinalEpochs)
	}
	return nil
}

// defaultSeedCache is the seed cache a search uses unless told otherwise: one per user, beside the
// datasets' cache.
func defaultSeedCache() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "einspace", "seed-trainings")
}

// defaultCaps are the parameter and FLOP caps of a search: small networks from scratch (they train in
// seconds on a CPU), and room for the seeds and their children when the population starts from seeds,
// whose children would otherwise all be rejected.
func defaultCaps(seeds []string, input string) (params, flops int64, err error) {
	if len(seeds) == 0 {
		return 5_000_000, 500_000_000, nil
	}
	shape, err := grammar.ParseShape(input)
	if err != nil {
		return 0, 0, err
	}
	for _, name := range seeds {
		a, err := grammar.SeedArch(name, shape)
		if err != nil {
			return 0, 0, usageError{err}
		}
		st := a.Stats()
		params, flops = max(params, 2*st.Params), max(flops, 2*st.FLOPs)
	}
	return params, flops, nil
}

// datasetShape returns a dataset's input shape and class count without loading it.
func datasetShape(name string) (string, int, error) {
	switch {
	case name == "addnist":
		return "3x28x28", 20, nil
	case name == "multnist":
		return "3x28x28", 10, nil
	case name == "mnist":
		return "1x28x28", 10, nil
	case strings.HasPrefix(name, "npy:"):
		return npyShape(strings.TrimPrefix(name, "npy:"))
	}
	return "", 0, fmt.Errorf("unknown dataset %q: use addnist, multnist, mnist or npy:DIR", name)
}

func progressPrinter(e *env) search.Listener {
	return func(ev search.Event) {
		r := ev.Record
		switch {
		case ev.Kind == search.NewBest:
			fmt.Fprintf(e.stderr, "  new best: #%d %.2f%%\n", r.Index, r.ValAccuracy)
		case ev.Replayed:
		case r.Failure != "":
			fmt.Fprintf(e.stderr, "[%d/%d] #%d %-14s failed: %s\n", ev.Counted, ev.Budget, r.Index, r.Origin, truncateRunes(r.FailureReason(), 160))
		default:
			fmt.Fprintf(e.stderr, "[%d/%d] #%d %-14s %6.2f%%  %11s params  %6.1fs\n", ev.Counted, ev.Budget, r.Index, r.Origin,
				r.ValAccuracy, thousands(r.Params), r.Seconds)
		}
	}
}

func runEvalWorker(e *env, args []string) error {
	fs := newFlags(e, "eval-worker", "", "Trains architectures for a search: reads jobs as JSON lines on standard input and writes\nresults on standard output. Started by einspace search; not for interactive use.")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	ev := &training.Evaluator{Logf: e.logf}
	return search.ServeWorker(ctx, e.stdin, e.stdout, ev)
}

// npyShape reads an Unseen-NAS folder to learn its input shape and class count.
func npyShape(dir string) (string, int, error) {
	ds, err := data.Load(context.Background(), "npy:"+dir, data.Options{NoCache: true})
	if err != nil {
		return "", 0, err
	}
	return fmt.Sprintf("%dx%dx%d", ds.Shape.C, ds.Shape.H, ds.Shape.W), ds.Classes, nil
}

func runWorker(e *env, args []string) error {
	fs := newFlags(e, "worker", "--nats URL [flags]", `Trains architectures for searches on other machines: pulls evaluation jobs from a NATS JetStream
server, trains each in an isolated process (as a local search does), and publishes the results. A worker
that dies hands its job to another after --ack-wait. Ctrl-C stops it cleanly, returning its jobs.`)
	natsURL := fs.String("nats", "", "NATS `URL` of the JetStream server (required), e.g. nats://host:4222")
	workers := fs.Int("workers", search.DefaultWorkers(), "jobs trained at once on this machine")
	timeout := fs.Duration("timeout", 30*time.Minute, "per-evaluation timeout")
	ackWait := fs.Duration("ack-wait", distributed.DefaultAckWait, "how long a silent worker keeps a job before it is redelivered")
	heartbeat := fs.Duration("heartbeat", distributed.DefaultHeartbeat, "how often a worker says it is still training (< --ack-wait)")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *natsURL == "" {
		return usagef("--nats URL is required")
	}
	if *heartbeat >= *ackWait {
		return usagef("--heartbeat %v must be shorter than --ack-wait %v", *heartbeat, *ackWait)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	return distributed.RunWorker(ctx, *natsURL, distributed.WorkerOptions{Workers: *workers, Command: []string{exe, "eval-worker"},
		Timeout: *timeout, AckWait: *ackWait, Heartbeat: *heartbeat,
		Logf: e.logf})
}
