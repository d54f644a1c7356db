package distributed

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/einspace-go/einspace/search"
)

// The test binary doubles as a worker process, as an evaluation process of a worker's pool and as a
// coordinator that tests kill. Every mode connects to a server the test started on 127.0.0.1.
const (
	envWorker  = "EINSPACE_DISTRIBUTED_TEST_WORKER"  // NATS URL: run RunWorker against it
	envPool    = "EINSPACE_DISTRIBUTED_TEST_POOL"    // "1": the worker evaluates through a ProcessPool of this binary
	envSlots   = "EINSPACE_DISTRIBUTED_TEST_SLOTS"   // the worker's Workers
	envEval    = "EINSPACE_DISTRIBUTED_TEST_EVAL"    // "1": serve jobs on stdin/stdout (a pool's process)
	envSearch  = "EINSPACE_DISTRIBUTED_TEST_SEARCH"  // run directory: run testConfig there as a coordinator
	envNATS    = "EINSPACE_DISTRIBUTED_TEST_NATS"    // the coordinator's NATS URL
	envDelay   = "EINSPACE_DISTRIBUTED_TEST_DELAY"   // the fake evaluator's time per job
	envJournal = "EINSPACE_DISTRIBUTED_TEST_JOURNAL" // file the fake evaluator appends "start|done JOB PID" to
)

// Short settings so that a dead worker's job comes back within seconds.
const (
	testAckWait   = 2 * time.Second
	testHeartbeat = 500 * time.Millisecond
)

func TestMain(m *testing.M) {
	if mode := childMode(); mode != nil {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		err := mode(ctx)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childMode returns what this process runs when a test started it, or nil for the tests themselves.
func childMode() func(context.Context) error {
	ev := fakeEvaluator{journal: os.Getenv(envJournal)}
	if d, err := time.ParseDuration(os.Getenv(envDelay)); err == nil {
		ev.delay = d
	}
	switch {
	case os.Getenv(envEval) == "1":
		return func(ctx context.Context) error { return search.ServeWorker(ctx, os.Stdin, os.Stdout, ev) }
	case os.Getenv(envWorker) != "":
		return func(ctx context.Context) error {
			opts := WorkerOptions{Workers: 1, AckWait: testAckWait, Heartbeat: testHeartbeat,
				Logf: func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }}
			if n, err := strconv.Atoi(os.Getenv(envSlots)); err == nil {
				opts.Workers = n
			}
			if os.Getenv(envPool) == "1" {
				opts.Command = []string{os.Args[0], "-test.run=^$"}
				if err := os.Setenv(envEval, "1"); err != nil { // for the pool's processes
					return err
				}
			} else {
				opts.Evaluator = ev
			}
			return RunWorker(ctx, os.Getenv(envWorker), opts)
		}
	case os.Getenv(envSearch) != "":
		return func(ctx context.Context) error {
			e, err := NewEvaluator(ctx, os.Getenv(envNATS), EvaluatorOptions{Run: testConfig().RunID()})
			if err != nil {
				return err
			}
			defer e.Close()
			_, err = search.Run(ctx, os.Getenv(envSearch), testConfig(), e, search.Options{})
			return err
		}
	}
	return nil
}

// fakeEvaluator scores an architecture deterministically from the hash of its text, after a delay,
// and notes each evaluation in a journal file shared by all processes of a test.
type fakeEvaluator struct {
	delay   time.Duration
	journal string
}

func (f fakeEvaluator) Evaluate(ctx context.Context, job search.Job) (search.Result, error) {
	f.note("start", job.ID)
	if f.delay > 0 {
		t := time.NewTimer(f.delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return search.Result{}, ctx.Err()
		}
	}
	if job.Data.Name == "broken" {
		return search.Result{}, fmt.Errorf("dataset %q not found on this machine", job.Data.Name)
	}
	sum := sha256.Sum256([]byte(job.Arch))
	acc := float64(binary.BigEndian.Uint32(sum[:4])) / (1 << 32) * 100
	res := search.Result{ValAccuracy: acc, TrainLoss: (100 - acc) / 50, WallSeconds: 0.25}
	for e := 1; e <= job.Budget.Epochs; e++ {
		res.Epochs = append(res.Epochs, search.Epoch{Epoch: e, TrainLoss: res.TrainLoss, ValAccuracy: acc, Seconds: 0.1})
	}
	if job.Final {
		res.TestAccuracy = acc - 1
	}
	f.note("done", job.ID)
	return res, nil
}

// note appends one line with a single write, which O_APPEND keeps whole among concurrent processes.
func (f fakeEvaluator) note(what, id string) {
	if f.journal == "" {
		return
	}
	file, err := os.OpenFile(f.journal, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		panic(err)
	}
	defer file.Close()
	if _, err := fmt.Fprintf(file, "%s %s %d\n", what, id, os.Getpid()); err != nil {
		panic(err)
	}
}

// journalEntry is one line of a journal.
type journalEntry struct {
	what, id string
	pid      int
}

func readJournal(t testing.TB, path string) []journalEntry {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []journalEntry
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		pid, _ := strconv.Atoi(f[2])
		out = append(out, journalEntry{f[0], f[1], pid})
	}
	return out
}

// testConfig is the small regularised evolution the scenarios run.
func testConfig() search.Config {
	return search.Config{
		Strategy: search.RegularisedEvolution, Population: 6, Tournament: 3, Budget: 30, InFlight: 3, Seed: 5,
		Input: "3x16x16", Classes: 10, Data: search.DataSpec{Name: "fake", Seed: 1, Train: 100, Val: 50, Test: 50},
		Train: search.Budget{Epochs: 2}, FinalEpochs: 4,
	}
}

// envServerBinary names a nats-server executable to test against instead of the embedded server, e.g.
// EINSPACE_TEST_NATS_SERVER=/usr/sbin/nats-server for Debian's.
const envServerBinary = "EINSPACE_TEST_NATS_SERVER"

// startServer starts a NATS server with JetStream on a random port of 127.0.0.1, stopped at the end of
// the test.
func startServer(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv(envServerBinary); bin != "" {
		return startServerBinary(t, bin)
	}
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		NoLog: true, NoSigs: true, HTTPPort: 0, Cluster: server.ClusterOpts{Port: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		t.Fatal("NATS server not ready within 10 s")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s.ClientURL()
}

// process is a child process of the test binary whose standard error the test keeps.
type process struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr strings.Builder
	done   chan struct{} // closed when the process has ended and been reaped
	err    error
}

func (p *process) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

func (p *process) Pid() int { return p.cmd.Process.Pid }

// startProcess runs the test binary with env added. At the end of the test it is asked to stop
// (SIGTERM) and killed if it has not within five seconds.
func startProcess(t testing.TB, env ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(os.Args[0], "-test.run=^$"), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	pipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r := bufio.NewReader(pipe)
		for {
			line, err := r.ReadString('\n')
			p.mu.Lock()
			p.stderr.WriteString(line)
			p.mu.Unlock()
			if err != nil {
				_, _ = io.Copy(io.Discard, pipe)
				break
			}
		}
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// startWorkers starts n worker processes serving url, each evaluating one job at a time.
func startWorkers(t testing.TB, n int, url string, env ...string) []*process {
	t.Helper()
	var ws []*process
	for range n {
		ws = append(ws, startProcess(t, append([]string{envWorker + "=" + url}, env...)...))
	}
	return ws
}

// waitFor polls cond every 10 ms until it holds, failing the test after limit.
func waitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// normalisedLog reads a run's records with the timestamps zeroed, one JSON text per record.
func normalisedLog(t testing.TB, dir string) []string {
	t.Helper()
	records, truncated, err := search.ReadRecords(dir)
	if err != nil {
		t.Fatal(err)
	}
	if truncated {
		t.Fatalf("%s: log ends in an incomplete line", dir)
	}
	out := make([]string, len(records))
	for i, r := range records {
		r.Start, r.End, r.Seconds = time.Time{}, time.Time{}, 0
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(b)
	}
	return out
}

func compareLogs(t testing.TB, want, got []string) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("log has %d records, want %d", len(got), len(want))
	}
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			t.Errorf("record %d differs:\n got %s\nwant %s", i, got[i], want[i])
			return
		}
	}
}

// localLog runs testConfig with the fake evaluator in this process and returns its normalised log.
func localLog(t testing.TB) []string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "local")
	if _, err := search.Run(context.Background(), dir, testConfig(), fakeEvaluator{}, search.Options{Logf: t.Logf}); err != nil {
		t.Fatal(err)
	}
	return normalisedLog(t, dir)
}

// checkLog checks that a run's log has each index once and unique job IDs, and that the job of every
// evaluated record finished exactly once in the journal. The last job a killed process finished may
// have finished twice: the process may have died between its evaluator's end and the result's
// publication.
func checkLog(t testing.TB, dir, journal string, killed ...int) {
	t.Helper()
	records, _, err := search.ReadRecords(dir)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for i, r := range records {
		if r.Index != i {
			t.Errorf("record %d has index %d", i, r.Index)
		}
		if ids[r.JobID] {
			t.Errorf("job ID %s recorded twice", r.JobID)
		}
		ids[r.JobID] = true
	}
	done := map[string]int{}
	lastOfKilled := map[string]bool{}
	last := map[int]string{}
	for _, e := range readJournal(t, journal) {
		if e.what == "done" {
			done[e.id]++
			last[e.pid] = e.id
		}
	}
	for _, pid := range killed {
		lastOfKilled[last[pid]] = true
	}
	for _, r := range records {
		if r.IsCopy() || r.Arch == "" {
			continue
		}
		if n := done[r.JobID]; n != 1 && !(n == 2 && lastOfKilled[r.JobID]) {
			t.Errorf("job %s (record %d) finished %d times, want once", r.JobID, r.Index, n)
		}
		delete(done, r.JobID)
	}
	for id, n := range done {
		t.Errorf("job %s finished %d times but is not in the log", id, n)
	}
}

// startServerBinary runs a nats-server executable on a random port of 127.0.0.1 and returns its URL,
// read from its log.
func startServerBinary(t testing.TB, bin string) string {
	t.Helper()
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", "-1", "-js", "-sd", t.TempDir())
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		const marker = "Listening for client connections on "
		for sc.Scan() {
			if _, addr, ok := strings.Cut(sc.Text(), marker); ok {
				urls <- "nats://" + strings.TrimSpace(addr)
				break
			}
		}
		_, _ = io.Copy(io.Discard, pipe)
	}()
	select {
	case url := <-urls:
		return url
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not report its client port within 10 s", bin)
		return ""
	}
}
