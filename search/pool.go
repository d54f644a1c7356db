package search

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"
)

// DefaultWorkers is the worker count NewProcessPool uses for workers <= 0: half the logical CPUs (at
// least one), because one training already keeps more than one core busy (the backend parallelises
// matrix products) and two trainings per core only add contention and memory.
func DefaultWorkers() int { return max(1, runtime.NumCPU()/2) }

// ErrPoolClosed is returned by ProcessPool.Evaluate after Close.
var ErrPoolClosed = errors.New("process pool closed")

// stderrTail is how much of a worker's standard error a failure keeps.
const stderrTail = 4 << 10

// workerResponse is the line a worker writes for each job, or, once at start, with Ready set.
type workerResponse struct {
	Ready  bool   `json:"ready,omitempty"` // the worker is up and reads jobs
	ID     string `json:"id,omitempty"`
	Result Result `json:"result"`
	Error  string `json:"error,omitempty"` // an infrastructure error of the worker's evaluator
}

// workerStartTimeout bounds the start of a worker process (until its ready line), which does not count
// toward the evaluation timeout.
const workerStartTimeout = time.Minute

// ServeWorker is the loop of a worker process: it writes a ready line to out, then reads one Job per
// line from in, evaluates it with ev and writes one response line to out, until in ends (nil) or ctx is
// cancelled (its error). A worker command runs ServeWorker(ctx, os.Stdin, os.Stdout, ev) and logs to
// standard error, whose tail becomes the failure reason when the process dies; stray lines on standard
// output are ignored by the pool. A panic of ev
// is deliberately not recovered: it kills the worker process, whose pool records the job as failed
// with the panic's message and starts a fresh process, so that no state a panic may have corrupted
// (half-built graphs, device memory) survives into the next job.
func ServeWorker(ctx context.Context, in io.Reader, out io.Writer, ev Evaluator) error {
	if _, err := io.WriteString(out, "{\"ready\":true}\n"); err != nil {
		return fmt.Errorf("worker: write ready line: %w", err)
	}
	r := bufio.NewReader(in)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := r.ReadBytes('\n')
		if len(strings.TrimSpace(string(line))) == 0 {
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("worker: read job: %w", err)
			}
			continue
		}
		var job Job
		if jerr := json.Unmarshal(line, &job); jerr != nil {
			return fmt.Errorf("worker: malformed job line: %w", jerr)
		}
		res, everr := ev.Evaluate(ctx, job)
		resp := workerResponse{ID: job.ID, Result: res.Finite()}
		if everr != nil {
			resp.Error = everr.Error()
		}
		b, merr := json.Marshal(resp)
		if merr != nil {
			return fmt.Errorf("worker: encode result of job %s: %w", job.ID, merr)
		}
		if _, werr := out.Write(append(b, '\n')); werr != nil {
			return fmt.Errorf("worker: write result of job %s: %w", job.ID, werr)
		}
		if err == io.EOF {
			return nil
		}
	}
}

// ProcessPool is an Evaluator that runs each job in one of a fixed number of worker processes, each
// speaking JSON lines over its standard input and output (see ServeWorker). A worker that dies (panic,
// os.Exit, out-of-memory kill) or exceeds the per-evaluation timeout is killed if need be, its job is
// recorded as failed with the tail of its standard error, and a fresh process replaces it for the next
// job. Lines a worker writes to standard output that are not responses are ignored.
type ProcessPool struct {
	command []string
	timeout time.Duration
	idle    chan *worker
	workers int
	closing chan struct{}
	once    sync.Once
}

// NewProcessPool starts workers processes running command (workers <= 0: DefaultWorkers). timeout
// bounds one evaluation (0: none); a job whose budget has a wall-clock cap is also killed at its
// Budget.HardLimit, whichever comes first. The processes inherit the environment.
func NewProcessPool(command []string, workers int, timeout time.Duration) (*ProcessPool, error) {
	if len(command) == 0 {
		return nil, errors.New("process pool: no worker command")
	}
	if workers <= 0 {
		workers = DefaultWorkers()
	}
	p := &ProcessPool{
		command: append([]string(nil), command...), timeout: timeout, workers: workers,
		idle: make(chan *worker, workers), closing: make(chan struct{}),
	}
	for range workers {
		w := &worker{command: p.command}
		if err := w.start(); err != nil {
			close(p.idle)
			for w := range p.idle {
				w.stop()
			}
			return nil, err
		}
		p.idle <- w
	}
	return p, nil
}

// Workers is the number of worker processes.
func (p *ProcessPool) Workers() int { return p.workers }

// Evaluate runs the job in an idle worker, waiting for one.
func (p *ProcessPool) Evaluate(ctx context.Context, job Job) (Result, error) {
	var w *worker
	select {
	case w = <-p.idle:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	case <-p.closing:
		return Result{}, ErrPoolClosed
	}
	defer func() { p.idle <- w }()
	if w.cmd == nil {
		if err := w.start(); err != nil {
			return Result{}, err
		}
	}
	return w.run(ctx, job, p.timeout, p.closing)
}

// Close stops the workers: each finishes its current job's wait, gets its input closed and, if it does
// not exit within two seconds, is killed.
func (p *ProcessPool) Close() error {
	p.once.Do(func() {
		close(p.closing)
		for range p.workers {
			w := <-p.idle
			w.stop()
		}
	})
	return nil
}

// worker is one process. Only the goroutine that took it from the idle channel touches it.
type worker struct {
	command []string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan []byte // stdout lines; closed at end of output
	stderr  *tailBuffer
	ready   bool // the process wrote its ready line
}

func (w *worker) start() error {
	cmd := exec.Command(w.command[0], w.command[1:]...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("start worker %q: %w", w.command[0], err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("start worker %q: %w", w.command[0], err)
	}
	w.stderr = &tailBuffer{}
	cmd.Stderr = w.stderr
	cmd.WaitDelay = 2 * time.Second // a grandchild holding stderr open must not block Wait forever
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start worker %q: %w", w.command[0], err)
	}
	lines := make(chan []byte, 16)
	go func() {
		defer close(lines)
		r := bufio.NewReaderSize(stdout, 64<<10)
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 {
				lines <- line
			}
			if err != nil {
				return
			}
		}
	}()
	w.cmd, w.stdin, w.lines, w.ready = cmd, stdin, lines, false
	return nil
}

// awaitReady waits for the process's ready line. A process that dies or hangs before it is ready is an
// error of the infrastructure (a wrong command, a missing library), not a failure of the job's
// architecture, which it has not seen.
func (w *worker) awaitReady(ctx context.Context, closing <-chan struct{}) error {
	t := time.NewTimer(workerStartTimeout)
	defer t.Stop()
	for !w.ready {
		select {
		case line, ok := <-w.lines:
			if !ok {
				status := w.wait()
				return fmt.Errorf("worker %q died while starting (%s)%s", w.command[0], status, w.stderr.tailText())
			}
			var resp workerResponse
			w.ready = json.Unmarshal(line, &resp) == nil && resp.Ready
		case <-t.C:
			w.kill()
			return fmt.Errorf("worker %q did not start within %v%s", w.command[0], workerStartTimeout, w.stderr.tailText())
		case <-ctx.Done():
			w.kill()
			return ctx.Err()
		case <-closing:
			w.kill()
			return ErrPoolClosed
		}
	}
	return nil
}

// run sends the job and waits for its response.
func (w *worker) run(ctx context.Context, job Job, timeout time.Duration, closing <-chan struct{}) (Result, error) {
	if err := w.awaitReady(ctx, closing); err != nil {
		return Result{}, err
	}
	w.stderr.reset()
	b, err := json.Marshal(job)
	if err != nil {
		return Result{}, fmt.Errorf("encode job %s: %w", job.ID, err)
	}
	// The write runs on its own so that a worker that stops reading cannot block us past the timeout.
	go func(stdin io.Writer) { _, _ = stdin.Write(append(b, '\n')) }(w.stdin)
	timeout = jobTimeout(timeout, job)
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	for {
		select {
		case line, ok := <-w.lines:
			if !ok {
				status := w.wait()
				return Result{Failure: fmt.Sprintf("worker process died (%s)%s", status, w.stderr.tailText())}, nil
			}
			var resp workerResponse
			if json.Unmarshal(line, &resp) != nil || resp.ID != job.ID {
				continue // not a response: the evaluator printed something
			}
			if resp.Error != "" {
				return Result{}, fmt.Errorf("worker: job %s: %s", job.ID, resp.Error)
			}
			return resp.Result, nil
		case <-deadline:
			w.kill()
			return Result{Failure: fmt.Sprintf("timeout: evaluation exceeded %v%s", timeout, w.stderr.tailText())}, nil
		case <-ctx.Done():
			w.kill()
			return Result{}, ctx.Err()
		case <-closing:
			w.kill()
			return Result{}, ErrPoolClosed
		}
	}
}

// jobTimeout is when a worker running job is killed: the pool's timeout or the job's Budget.HardLimit,
// whichever is sooner (0: never).
func jobTimeout(timeout time.Duration, job Job) time.Duration {
	if hard := job.Budget.HardLimit(); hard > 0 && (timeout <= 0 || hard < timeout) {
		return hard
	}
	return timeout
}

// kill ends the process and waits for it; the next job starts a fresh one.
func (w *worker) kill() {
	if w.cmd == nil {
		return
	}
	_ = w.cmd.Process.Kill()
	w.wait()
}

// wait drains the output, reaps the process and describes how it ended.
func (w *worker) wait() string {
	for range w.lines {
	}
	_ = w.stdin.Close()
	err := w.cmd.Wait()
	w.cmd = nil
	if err == nil {
		return "exit status 0"
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ProcessState.String()
	}
	return err.Error()
}

// stop asks the process to end by closing its input, and kills it after two seconds.
func (w *worker) stop() {
	if w.cmd == nil {
		return
	}
	_ = w.stdin.Close()
	done := make(chan struct{})
	go func() {
		for range w.lines {
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		_ = w.cmd.Process.Kill()
		<-done
	}
	_ = w.cmd.Wait()
	w.cmd = nil
}

// tailBuffer keeps the last stderrTail bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > stderrTail {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-stderrTail:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = t.buf[:0]
}

// tailText is ": " and the buffered standard error, or "" when there is none.
func (t *tailBuffer) tailText() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(t.buf))
	if s == "" {
		return ""
	}
	return "; stderr: " + s
}
