package distributed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/einspace-go/einspace/search"
)

// recheckInterval is how often a waiting Evaluate call looks its job up, in case its result was not
// handed over (it never was in the tests; the look-up is a safety net).
const recheckInterval = time.Minute

// ErrClosed is returned by Evaluate after Close.
var ErrClosed = errors.New("distributed evaluator closed")

// EvaluatorOptions configure a coordinator's Evaluator.
type EvaluatorOptions struct {
	// Run is the subject token that keeps this search's jobs and results apart from other searches on
	// the same server; a restarted coordinator must use the same one to find its results. The search
	// configuration's RunID is the natural choice. Empty: DefaultRun.
	Run string
	// ResultsMaxAge is how long the results stream keeps a result when this Evaluator creates the stream
	// (0: until it is deleted). A result older than that is evaluated again by a resumed search.
	ResultsMaxAge time.Duration
	// Logf reports unusual but handled situations. Nil: log.Printf.
	Logf func(format string, args ...any)
}

// Evaluator is a search.Evaluator that has workers on other processes or machines evaluate each job
// (see the package documentation). It is safe for concurrent use.
type Evaluator struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	jobs     jetstream.Stream
	results  jetstream.Stream
	run      string
	logf     func(string, ...any)
	consumer jetstream.ConsumeContext
	recheck  time.Duration // interval of a waiting call's look-ups for a result it was not handed

	mu      sync.Mutex
	waiters map[string][]chan outcome // by job ID

	closed    chan struct{}
	closeOnce sync.Once
}

type outcome struct {
	result search.Result
	err    error
}

var _ search.Evaluator = (*Evaluator)(nil)

// NewEvaluator connects to the NATS server at natsURL (for example nats://host:4222), creates the
// streams if they do not exist and starts receiving the run's results. Close releases it.
func NewEvaluator(ctx context.Context, natsURL string, opts EvaluatorOptions) (*Evaluator, error) {
	run := opts.Run
	if run == "" {
		run = DefaultRun
	}
	if err := checkToken("run", run); err != nil {
		return nil, err
	}
	logf := opts.Logf
	if logf == nil {
		logf = log.Printf
	}
	nc, err := connect(natsURL, processName("coordinator"))
	if err != nil {
		return nil, err
	}
	e := &Evaluator{nc: nc, run: run, logf: logf, recheck: recheckInterval, waiters: map[string][]chan outcome{}, closed: make(chan struct{})}
	if err := e.start(ctx, opts.ResultsMaxAge); err != nil {
		nc.Close()
		return nil, err
	}
	return e, nil
}

func (e *Evaluator) start(ctx context.Context, resultsMaxAge time.Duration) error {
	js, err := jetstream.New(e.nc)
	if err != nil {
		return fmt.Errorf("JetStream: %w", err)
	}
	e.js = js
	e.jobs, e.results, err = ensureStreams(ctx, js, resultsMaxAge)
	if err != nil {
		return fmt.Errorf("coordinator: %w (is JetStream enabled on the server? nats-server -js)", err)
	}
	// New results only: the ones stored before are found by Evaluate's look-up, which runs after the
	// call registers, so that no result falls between the two. A start sequence rather than "new"
	// messages, so that a consumer the client recreates (after a reconnection) misses nothing either.
	info, err := e.results.Info(ctx)
	if err != nil {
		return fmt.Errorf("coordinator: stream %s: %w", ResultsStream, err)
	}
	cons, err := js.OrderedConsumer(ctx, ResultsStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{resultsPrefix + e.run + ".>"},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    info.State.LastSeq + 1,
	})
	if err != nil {
		return fmt.Errorf("coordinator: consume results: %w", err)
	}
	e.consumer, err = cons.Consume(e.receive, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		e.logf("distributed: results consumer: %v", err)
	}))
	if err != nil {
		return fmt.Errorf("coordinator: consume results: %w", err)
	}
	return nil
}

// Run is the subject token of the Evaluator's jobs and results.
func (e *Evaluator) Run() string { return e.run }

// Close stops receiving results and closes the connection; waiting Evaluate calls return ErrClosed.
// Jobs already published stay in the queue and their results in the results stream, for a later
// coordinator of the same run.
func (e *Evaluator) Close() error {
	e.closeOnce.Do(func() {
		close(e.closed)
		e.consumer.Stop()
		e.nc.Close()
	})
	return nil
}

// Evaluate has a worker evaluate the job, or returns the job's stored result when an earlier
// coordinator of the run had it evaluated already. It waits for as long as the job takes: until a
// worker has evaluated it, ctx is done or the Evaluator is closed.
func (e *Evaluator) Evaluate(ctx context.Context, job search.Job) (search.Result, error) {
	if err := checkToken("job id", job.ID); err != nil {
		return search.Result{}, err
	}
	select {
	case <-e.closed:
		return search.Result{}, ErrClosed
	default:
	}
	w := e.register(job.ID)
	defer e.unregister(job.ID, w)

	stored, err := e.storedResult(ctx, job.ID)
	if err != nil {
		return search.Result{}, err
	}
	if stored != nil {
		return stored.Result, nil
	}
	if err := e.submit(ctx, job); err != nil {
		return search.Result{}, err
	}
	recheck := time.NewTicker(e.recheck)
	defer recheck.Stop()
	for {
		select {
		case o := <-w:
			return o.result, o.err
		case <-ctx.Done():
			return search.Result{}, ctx.Err()
		case <-e.closed:
			return search.Result{}, ErrClosed
		case <-recheck.C:
			stored, err := e.lostResult(ctx, job)
			if err != nil {
				e.logf("distributed: job %s: %v", job.ID, err) // a passing trouble: the next check may do
			} else if stored != nil {
				return stored.Result, nil
			}
		}
	}
}

// lostResult is the safety net of a waiting Evaluate call, for a result that the consumer did not hand
// over: it returns the job's stored result, or submits the job again if it left the queue without one.
func (e *Evaluator) lostResult(ctx context.Context, job search.Job) (*resultMessage, error) {
	subject := jobSubject(e.run, job.ID)
	queued, err := firstMsg(ctx, e.jobs, subject) // before the result: a worker publishes, then acknowledges
	if err != nil || queued != nil {
		return nil, err
	}
	stored, err := e.storedResult(ctx, job.ID)
	if err != nil || stored != nil {
		if stored != nil {
			e.logf("distributed: job %s: found its result in stream %s without being notified", job.ID, ResultsStream)
		}
		return stored, err
	}
	e.logf("distributed: job %s left the queue without a result; submitting it again", job.ID)
	data, err := json.Marshal(job)
	if err != nil {
		return nil, fmt.Errorf("encode job %s: %w", job.ID, err)
	}
	_, err = e.publish(ctx, subject, data, subject+"."+nuid.Next())
	return nil, err
}

// register adds a waiter for a job's result before anything is looked up or published.
func (e *Evaluator) register(id string) chan outcome {
	w := make(chan outcome, 1)
	e.mu.Lock()
	e.waiters[id] = append(e.waiters[id], w)
	e.mu.Unlock()
	return w
}

func (e *Evaluator) unregister(id string, w chan outcome) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ws := e.waiters[id]
	for i, x := range ws {
		if x == w {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(e.waiters, id)
	} else {
		e.waiters[id] = ws
	}
}

// receive hands a result to the calls waiting for its job and forgets them, so that a second result of
// the same job (it ran twice) finds nobody waiting and is ignored.
func (e *Evaluator) receive(msg jetstream.Msg) {
	var m resultMessage
	if err := json.Unmarshal(msg.Data(), &m); err != nil {
		e.logf("distributed: ignoring a malformed result on %s: %v", msg.Subject(), err)
		return
	}
	o := outcome{result: m.Result}
	if m.Error != "" {
		o = outcome{err: fmt.Errorf("worker %s: job %s: %s", m.Worker, m.ID, m.Error)}
	}
	e.mu.Lock()
	ws := e.waiters[m.ID]
	delete(e.waiters, m.ID)
	e.mu.Unlock()
	for _, w := range ws {
		w <- o // buffered, and each waiter is handed one outcome only
	}
}

// storedResult returns the first result the results stream holds for the job, or nil.
func (e *Evaluator) storedResult(ctx context.Context, id string) (*resultMessage, error) {
	m, err := firstMsg(ctx, e.results, resultSubject(e.run, id))
	if err != nil || m == nil {
		return nil, err
	}
	var r resultMessage
	if err := json.Unmarshal(m.Data, &r); err != nil {
		return nil, fmt.Errorf("stored result of job %s (stream %s sequence %d): %w", id, ResultsStream, m.Sequence, err)
	}
	return &r, nil
}

// submit publishes the job unless it is in the queue already (an earlier coordinator published it and
// no worker has finished it).
func (e *Evaluator) submit(ctx context.Context, job search.Job) error {
	subject := jobSubject(e.run, job.ID)
	data, err := json.Marshal(job)
	if err != nil {
		return fmt.Errorf("encode job %s: %w", job.ID, err)
	}
	resubmit := func() error {
		_, err := e.publish(ctx, subject, data, subject+"."+nuid.Next())
		return err
	}
	queued, err := firstMsg(ctx, e.jobs, subject)
	if err != nil {
		return err
	}
	if queued == nil {
		ack, err := e.publish(ctx, subject, data, subject)
		if err != nil || !ack.Duplicate {
			return err
		}
		// The server saw this job within its duplicate window, yet the job was not queued: a worker took
		// it since the look-up and either finished it (its result reaches the waiter) or acknowledged it
		// after an infrastructure error that stopped an earlier coordinator. Only the second needs a new
		// publication, under a message ID of its own.
		if queued, err = firstMsg(ctx, e.jobs, subject); err != nil {
			return err
		}
		if queued == nil {
			if stored, err := e.storedResult(ctx, job.ID); err != nil || stored != nil {
				return err
			}
			e.logf("distributed: job %s was taken before and left no result; submitting it again", job.ID)
			return resubmit()
		}
	}
	// The queued job's result will reach the waiter, unless the job has just failed with an
	// infrastructure error that reached an earlier coordinator: the worker publishes that error before
	// it acknowledges the job.
	failed, err := e.failedDelivery(ctx, job.ID, queued.Sequence)
	if err != nil || !failed {
		return err
	}
	e.logf("distributed: job %s failed with an error for an earlier coordinator; submitting it again", job.ID)
	return resubmit()
}

// failedDelivery reports whether the last infrastructure error of the job came from the job message
// with stream sequence seq.
func (e *Evaluator) failedDelivery(ctx context.Context, id string, seq uint64) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	m, err := e.results.GetLastMsgForSubject(ctx, errorSubject(e.run, id))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up errors of job %s: %w", id, err)
	}
	var r resultMessage
	if err := json.Unmarshal(m.Data, &r); err != nil {
		return false, fmt.Errorf("error of job %s (stream %s sequence %d): %w", id, ResultsStream, m.Sequence, err)
	}
	return r.JobSeq == seq, nil
}

func (e *Evaluator) publish(ctx context.Context, subject string, data []byte, msgID string) (*jetstream.PubAck, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	ack, err := e.js.Publish(ctx, subject, data, jetstream.WithMsgID(msgID), jetstream.WithExpectStream(JobsStream))
	if err != nil {
		return nil, fmt.Errorf("publish job to %s: %w", subject, err)
	}
	return ack, nil
}
