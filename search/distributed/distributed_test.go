package distributed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/einspace-go/einspace/search"
)

// runDistributed runs testConfig in dir through a coordinator on url, bounded by limit.
func runDistributed(t *testing.T, url, dir string, limit time.Duration) *search.History {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	e, err := NewEvaluator(ctx, url, EvaluatorOptions{Run: testConfig().RunID(), Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	h, err := search.Run(ctx, dir, testConfig(), e, search.Options{Logf: t.Logf})
	if err != nil {
		t.Fatalf("distributed search: %v", err)
	}
	return h
}

// TestSearchMatchesLocalRun runs a search on three worker processes, each evaluating in an isolated
// process of its own pool as a real worker does, and compares the log with an in-process run's.
func TestSearchMatchesLocalRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	want := localLog(t)
	url := startServer(t)
	journal := filepath.Join(t.TempDir(), "journal")
	startWorkers(t, 3, url, envPool+"=1", envDelay+"=20ms", envJournal+"="+journal)
	dir := filepath.Join(t.TempDir(), "run")
	start := time.Now()
	h := runDistributed(t, url, dir, 60*time.Second)
	t.Logf("%d records in %v", len(h.Records), time.Since(start).Round(time.Millisecond))
	compareLogs(t, want, normalisedLog(t, dir))
	checkLog(t, dir, journal)
	pids := map[int]bool{}
	for _, e := range readJournal(t, journal) {
		pids[e.pid] = true
	}
	if len(pids) < 2 {
		t.Errorf("evaluations ran in %d processes, want the work shared by several", len(pids))
	}
}

// TestWorkerKilledMidJob kills (SIGKILL) a worker process while it evaluates a job: the job must come
// back to another worker after AckWait, and the search must end with every record once.
func TestWorkerKilledMidJob(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	want := localLog(t)
	url := startServer(t)
	journal := filepath.Join(t.TempDir(), "journal")
	workers := startWorkers(t, 3, url, envDelay+"=150ms", envJournal+"="+journal)
	dir := filepath.Join(t.TempDir(), "run")

	var h *search.History
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		h = runDistributed(t, url, dir, 60*time.Second)
	}()

	// Wait until the first worker starts its second job (so that the search is under way), then kill it
	// before the job can finish.
	victim := workers[0]
	var held string
	waitFor(t, 30*time.Second, "the first worker to start a second job", func() bool {
		starts := 0
		for _, e := range readJournal(t, journal) {
			if e.pid == victim.Pid() && e.what == "start" {
				if starts++; starts == 2 {
					held = e.id
				}
			}
		}
		return held != ""
	})
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.done
	var exit *exec.ExitError
	if !errors.As(victim.err, &exit) || exit.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("worker ended with %v, want killed", victim.err)
	}
	killedAt := time.Now()
	select {
	case <-finished:
	case <-time.After(70 * time.Second):
		t.Fatal("the search did not finish within 70 s of the kill")
	}
	if h == nil {
		return // runDistributed failed the test
	}
	t.Logf("killed worker %d holding job %s; the search finished %v later", victim.Pid(), held, time.Since(killedAt).Round(time.Millisecond))
	compareLogs(t, want, normalisedLog(t, dir))
	checkLog(t, dir, journal, victim.Pid())
	var finishedBy []int
	for _, e := range readJournal(t, journal) {
		if e.id == held && e.what == "done" {
			finishedBy = append(finishedBy, e.pid)
		}
	}
	if len(finishedBy) == 0 || slices.Contains(finishedBy, victim.Pid()) && len(finishedBy) == 1 {
		t.Errorf("job %s held by the killed worker finished in processes %v, want another worker", held, finishedBy)
	}
	if !strings.Contains(workers[1].Stderr()+workers[2].Stderr(), "job "+held+": evaluating (delivery 2)") {
		t.Errorf("no worker logged the redelivery of %s; their logs:\n%s\n%s", held, workers[1].Stderr(), workers[2].Stderr())
	}
}

// TestCoordinatorKilled kills (SIGKILL) a coordinator process in the middle of a search, resumes the
// search in this process on the same run directory and server, and compares the log with an
// uninterrupted run's. The jobs that were in flight at the kill are neither lost nor run again: resumed
// at once, the coordinator finds them still queued or held by workers; resumed later, it finds their
// stored results.
func TestCoordinatorKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker and coordinator processes")
	}
	want := localLog(t)
	for _, wait := range []bool{false, true} {
		t.Run(map[bool]string{false: "resume at once", true: "resume after the in-flight jobs finished"}[wait], func(t *testing.T) {
			url := startServer(t)
			journal := filepath.Join(t.TempDir(), "journal")
			startWorkers(t, 2, url, envDelay+"=40ms", envJournal+"="+journal)
			dir := filepath.Join(t.TempDir(), "run")
			coord := startProcess(t, envSearch+"="+dir, envNATS+"="+url)
			waitFor(t, 30*time.Second, "the coordinator to log 10 records", func() bool {
				b, _ := os.ReadFile(filepath.Join(dir, search.EvaluationsFile))
				return bytes.Count(b, []byte("\n")) >= 10
			})
			if err := coord.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-coord.done
			var exit *exec.ExitError
			if !errors.As(coord.err, &exit) || exit.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("coordinator ended with %v, want killed (did it finish first?); stderr: %s", coord.err, coord.Stderr())
			}
			before, _, err := search.ReadRecords(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(before) >= len(want) {
				t.Fatalf("the coordinator logged all %d records before the kill: the test proves nothing", len(want))
			}
			logged := map[string]bool{}
			for _, r := range before {
				logged[r.JobID] = true
			}
			unlogged := func() []string { // jobs finished by a worker but not in the log
				var ids []string
				for _, e := range readJournal(t, journal) {
					if e.what == "done" && !logged[e.id] {
						ids = append(ids, e.id)
					}
				}
				return ids
			}
			if wait {
				deadline := time.Now().Add(5 * time.Second)
				for len(unlogged()) < 2 && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				time.Sleep(200 * time.Millisecond) // let the workers publish the results
			}
			t.Logf("killed the coordinator after %d of %d records; jobs finished but not logged at the resume: %v", len(before), len(want), unlogged())
			runDistributed(t, url, dir, 60*time.Second)
			compareLogs(t, want, normalisedLog(t, dir))
			checkLog(t, dir, journal)
		})
	}
}

// countingEvaluator is fakeEvaluator counting its evaluations by job ID.
type countingEvaluator struct {
	fakeEvaluator
	mu    sync.Mutex
	count map[string]int
}

func (c *countingEvaluator) Evaluate(ctx context.Context, job search.Job) (search.Result, error) {
	c.mu.Lock()
	if c.count == nil {
		c.count = map[string]int{}
	}
	c.count[job.ID]++
	c.mu.Unlock()
	return c.fakeEvaluator.Evaluate(ctx, job)
}

func (c *countingEvaluator) Count(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count[id]
}

// goWorker runs RunWorker in this process until the end of the test.
func goWorker(t *testing.T, url string, ev search.Evaluator) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- RunWorker(ctx, url, WorkerOptions{Workers: 2, Evaluator: ev, AckWait: testAckWait, Heartbeat: testHeartbeat, Logf: t.Logf})
	}()
	stop := func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("worker: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("the worker did not stop within 10 s of its context's end")
		}
	}
	var once sync.Once
	t.Cleanup(func() { once.Do(stop) })
	return func() { once.Do(stop) }
}

func newEvaluator(t *testing.T, url, run string) *Evaluator {
	t.Helper()
	e, err := NewEvaluator(context.Background(), url, EvaluatorOptions{Run: run, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func testJob(id string) search.Job {
	return search.Job{ID: id, Arch: "computation<linear64>", Input: "3x16x16", Classes: 10,
		Data: search.DataSpec{Name: "fake"}, Budget: search.Budget{Epochs: 1}, TrainSeed: 3}
}

func evaluate(t *testing.T, e *Evaluator, job search.Job) search.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := e.Evaluate(ctx, job)
	if err != nil {
		t.Fatalf("evaluate %s: %v", job.ID, err)
	}
	return res
}

// TestStoredResultIsReturnedWithoutRerun: a restarted coordinator gets the result of a job evaluated
// for its predecessor from the results stream; another run's job of the same ID is evaluated anew.
func TestStoredResultIsReturnedWithoutRerun(t *testing.T) {
	url := startServer(t)
	ev := &countingEvaluator{}
	goWorker(t, url, ev)
	job := testJob("r-000001")
	first := newEvaluator(t, url, "r1")
	want := evaluate(t, first, job)
	first.Close()
	if _, err := first.Evaluate(context.Background(), job); !errors.Is(err, ErrClosed) {
		t.Errorf("Evaluate after Close: %v, want ErrClosed", err)
	}
	got := evaluate(t, newEvaluator(t, url, "r1"), job)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("stored result %+v, want %+v", got, want)
	}
	if n := ev.Count(job.ID); n != 1 {
		t.Errorf("the job was evaluated %d times, want once", n)
	}
	evaluate(t, newEvaluator(t, url, "r2"), job)
	if n := ev.Count(job.ID); n != 2 {
		t.Errorf("after the same job ID in another run: %d evaluations, want 2", n)
	}
}

// TestJobThatRanTwice simulates two workers publishing results for one job: the coordinator returns the
// first, once, and a worker that later receives the job acknowledges it without evaluating it.
func TestJobThatRanTwice(t *testing.T) {
	url := startServer(t)
	e := newEvaluator(t, url, "twice")
	job := testJob("t-000001")
	type answer struct {
		res search.Result
		err error
	}
	answers := make(chan answer, 2)
	go func() {
		res, err := e.Evaluate(context.Background(), job)
		answers <- answer{res, err}
	}()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	jobs, err := js.Stream(context.Background(), JobsStream)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the job to be queued", func() bool {
		m, _ := firstMsg(context.Background(), jobs, jobSubject("twice", job.ID))
		return m != nil
	})
	for i, acc := range []float64{61, 62} {
		b, _ := json.Marshal(resultMessage{ID: job.ID, Result: search.Result{ValAccuracy: acc}, Worker: fmt.Sprint("w", i)})
		if _, err := js.Publish(context.Background(), resultSubject("twice", job.ID), b, jetstream.WithMsgID(fmt.Sprint(job.ID, "-", i))); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case a := <-answers:
		if a.err != nil || a.res.ValAccuracy != 61 {
			t.Errorf("Evaluate: %+v, %v; want the first result (61)", a.res, a.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Evaluate did not return within 10 s of the results")
	}
	select {
	case a := <-answers:
		t.Errorf("Evaluate returned twice: %+v", a)
	case <-time.After(200 * time.Millisecond):
	}
	if res := evaluate(t, e, job); res.ValAccuracy != 61 {
		t.Errorf("evaluating the job again: %v, want the first stored result (61)", res.ValAccuracy)
	}
	ev := &countingEvaluator{}
	goWorker(t, url, ev)
	waitFor(t, 10*time.Second, "the worker to acknowledge the queued job", func() bool {
		m, _ := firstMsg(context.Background(), jobs, jobSubject("twice", job.ID))
		return m == nil
	})
	if n := ev.Count(job.ID); n != 0 {
		t.Errorf("a job with a stored result was evaluated %d times", n)
	}
}

// TestEvaluatorErrorStopsEvaluateAndResumeResubmits: an infrastructure error of a worker's evaluator is
// returned by Evaluate; a later coordinator submits the job again (the server would drop a second
// publication under the same ID) and gets its result.
func TestEvaluatorErrorStopsEvaluateAndResumeResubmits(t *testing.T) {
	url := startServer(t)
	var calls atomic.Int32
	goWorker(t, url, search.EvaluatorFunc(func(ctx context.Context, job search.Job) (search.Result, error) {
		if calls.Add(1) == 1 {
			return search.Result{}, errors.New("dataset \"fake\" not found on this machine")
		}
		return fakeEvaluator{}.Evaluate(ctx, job)
	}))
	job := testJob("e-000001")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := newEvaluator(t, url, "err").Evaluate(ctx, job)
	if err == nil || !strings.Contains(err.Error(), "not found on this machine") || !strings.Contains(err.Error(), job.ID) {
		t.Fatalf("Evaluate: %v, want the worker's error naming the job", err)
	}
	var logged []string
	e, err := NewEvaluator(ctx, url, EvaluatorOptions{Run: "err", Logf: func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	res, err := e.Evaluate(ctx, job)
	if err != nil || res.ValAccuracy == 0 {
		t.Fatalf("second coordinator: %+v, %v; want a result", res, err)
	}
	if calls.Load() != 2 || len(logged) != 1 || !strings.Contains(logged[0], "submitting it again") {
		t.Errorf("%d evaluations, log %q; want 2 and one message about the new submission", calls.Load(), logged)
	}
}

// TestStoppedWorkerReturnsItsJob: a worker whose context ends in the middle of a job gives it back at
// once (not after AckWait), and another worker evaluates it.
func TestStoppedWorkerReturnsItsJob(t *testing.T) {
	url := startServer(t)
	started := make(chan struct{}, 1)
	stopFirst := goWorker(t, url, search.EvaluatorFunc(func(ctx context.Context, job search.Job) (search.Result, error) {
		started <- struct{}{}
		<-ctx.Done()
		return search.Result{}, ctx.Err()
	}))
	e := newEvaluator(t, url, "stop")
	answer := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, err := e.Evaluate(ctx, testJob("s-000001"))
		answer <- err
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the first worker did not start the job within 10 s")
	}
	stopFirst()
	ev := &countingEvaluator{}
	goWorker(t, url, ev)
	start := time.Now()
	if err := <-answer; err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited >= testAckWait || ev.Count("s-000001") != 1 {
		t.Errorf("the second worker evaluated the job %d times after %v; want once, before the ack wait (%v)", ev.Count("s-000001"), waited, testAckWait)
	}
}

func TestBadOptionsAndInput(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		opts WorkerOptions
		want string
	}{
		{WorkerOptions{}, "either a worker Command or an in-process Evaluator"},
		{WorkerOptions{Command: []string{"x"}, Evaluator: fakeEvaluator{}}, "either a worker Command or an in-process Evaluator"},
		{WorkerOptions{Evaluator: fakeEvaluator{}, AckWait: time.Second, Heartbeat: time.Second}, "must be shorter than the ack wait"},
	} {
		if err := RunWorker(ctx, "nats://127.0.0.1:1", tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("RunWorker(%+v): %v, want %q", tc.opts, err, tc.want)
		}
	}
	if _, err := NewEvaluator(ctx, "nats://127.0.0.1:1", EvaluatorOptions{}); err == nil || !strings.Contains(err.Error(), "nats-server") {
		t.Errorf("NewEvaluator without a server: %v, want an error suggesting nats-server", err)
	}
	if _, err := NewEvaluator(ctx, "nats://127.0.0.1:1", EvaluatorOptions{Run: "a.b"}); err == nil || !strings.Contains(err.Error(), `run "a.b" has '.'`) {
		t.Errorf("NewEvaluator with run a.b: %v", err)
	}
	e := newEvaluator(t, startServer(t), "bad")
	if _, err := e.Evaluate(ctx, testJob("x>1")); err == nil || !strings.Contains(err.Error(), "job id") {
		t.Errorf("Evaluate with job id x>1: %v", err)
	}
}

// TestLostNotificationIsFoundByLookUp: a waiting Evaluate call that is never handed its result (here the
// coordinator's consumer is stopped) finds it by its periodic look-up, and submits the job again when it
// left the queue with an error only.
func TestLostNotificationIsFoundByLookUp(t *testing.T) {
	url := startServer(t)
	var calls atomic.Int32
	goWorker(t, url, search.EvaluatorFunc(func(ctx context.Context, job search.Job) (search.Result, error) {
		if calls.Add(1) == 1 {
			return search.Result{}, errors.New("a passing trouble")
		}
		return fakeEvaluator{}.Evaluate(ctx, job)
	}))
	var mu sync.Mutex
	var logged []string
	e, err := NewEvaluator(context.Background(), url, EvaluatorOptions{Run: "lost", Logf: func(f string, a ...any) {
		mu.Lock()
		logged = append(logged, fmt.Sprintf(f, a...))
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.recheck = 100 * time.Millisecond
	e.consumer.Stop()
	res := evaluate(t, e, testJob("l-000001"))
	if res.ValAccuracy == 0 || calls.Load() != 2 {
		t.Errorf("result %+v after %d evaluations, want a result after 2", res, calls.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	text := strings.Join(logged, "\n")
	for _, want := range []string{"left the queue without a result; submitting it again", "found its result in stream EINSPACE_RESULTS without being notified"} {
		if !strings.Contains(text, want) {
			t.Errorf("log %q does not say %q", text, want)
		}
	}
}
