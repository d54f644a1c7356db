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

// WorkerOptions configure RunWorker.
type WorkerOptions struct {
	// Workers is how many jobs the worker evaluates at once (0: search.DefaultWorkers()). With Command it
	// is also the number of worker processes.
	Workers int
	// Command starts one isolated evaluation process (a search.ServeWorker loop), as a local search's
	// search.NewProcessPool does; the normal way to evaluate. Exactly one of Command and Evaluator.
	Command []string
	// Timeout bounds one evaluation in a Command process, which is then killed and the architecture
	// fails (0: none).
	Timeout time.Duration
	// Evaluator evaluates in this process, without isolation: a crash ends the worker (and its jobs go
	// to other workers after AckWait). For tests and for evaluators that cannot crash.
	Evaluator search.Evaluator
	// AckWait is how long the server waits for a sign of life from the worker holding a job before it
	// gives the job to another worker (0: DefaultAckWait). It is a setting of the consumer all workers
	// share: the worker that starts last sets it for all.
	AckWait time.Duration
	// Heartbeat is the interval of the signs of life while a job is evaluated; shorter than AckWait
	// (0: DefaultHeartbeat, or AckWait/3 when that is shorter).
	Heartbeat time.Duration
	// Name identifies the worker in results and logs (empty: "einspace worker HOST/PID").
	Name string
	// ResultsMaxAge is as in EvaluatorOptions, for a results stream this worker creates.
	ResultsMaxAge time.Duration
	// Logf reports each job and unusual but handled situations. Nil: log.Printf.
	Logf func(format string, args ...any)
}

// pollWait bounds one pull request, so that a worker notices its context's end and a lost consumer.
const pollWait = 5 * time.Second

func (o WorkerOptions) withDefaults() (WorkerOptions, error) {
	if (o.Evaluator == nil) == (len(o.Command) == 0) {
		return o, errors.New("worker: give either a worker Command or an in-process Evaluator")
	}
	if o.Workers <= 0 {
		o.Workers = search.DefaultWorkers()
	}
	if o.AckWait <= 0 {
		o.AckWait = DefaultAckWait
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = min(DefaultHeartbeat, o.AckWait/3)
	}
	if o.Heartbeat >= o.AckWait {
		return o, fmt.Errorf("worker: heartbeat %v must be shorter than the ack wait %v, or the server gives away jobs that are still being evaluated", o.Heartbeat, o.AckWait)
	}
	if o.Name == "" {
		o.Name = processName("worker")
	}
	if o.Logf == nil {
		o.Logf = log.Printf
	}
	return o, nil
}

// worker is the state RunWorker's slots share.
type worker struct {
	opts    WorkerOptions
	js      jetstream.JetStream
	results jetstream.Stream
	ev      search.Evaluator

	mu   sync.Mutex
	cons jetstream.Consumer
}

// RunWorker evaluates jobs from the NATS server at natsURL until ctx is done, opts.Workers at a time, and
// returns nil then. For each job it takes, it publishes the result before acknowledging the job, and
// signals progress every Heartbeat while it evaluates; a job it was evaluating when ctx ended goes
// back to the queue. It returns an error when it cannot start: no server, no JetStream, a worker
// command that cannot start.
func RunWorker(ctx context.Context, natsURL string, opts WorkerOptions) error {
	opts, err := opts.withDefaults()
	if err != nil {
		return err
	}
	nc, err := connect(natsURL, opts.Name)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("worker: JetStream: %w", err)
	}
	_, results, err := ensureStreams(ctx, js, opts.ResultsMaxAge)
	if err != nil {
		return fmt.Errorf("worker: %w (is JetStream enabled on the server? nats-server -js)", err)
	}
	w := &worker{opts: opts, js: js, results: results, ev: opts.Evaluator}
	if _, err := w.consumer(ctx, true); err != nil {
		return err
	}
	if len(opts.Command) > 0 {
		pool, err := search.NewProcessPool(opts.Command, opts.Workers, opts.Timeout)
		if err != nil {
			return fmt.Errorf("worker: %w", err)
		}
		defer pool.Close()
		w.ev = pool
	}
	opts.Logf("worker %s: taking jobs from %s, %d at a time (ack wait %v, heartbeat %v)", opts.Name, natsURL, opts.Workers, opts.AckWait, opts.Heartbeat)
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Go(func() { w.serve(ctx) })
	}
	wg.Wait()
	return nil
}

// consumer returns the shared durable consumer, creating or updating it when asked to (at start, and
// after an error that may mean it was deleted).
func (w *worker) consumer(ctx context.Context, refresh bool) (jetstream.Consumer, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cons != nil && !refresh {
		return w.cons, nil
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	cons, err := w.js.CreateOrUpdateConsumer(ctx, JobsStream, jetstream.ConsumerConfig{
		Durable:       WorkersConsumer,
		Description:   "einspace workers",
		FilterSubject: jobsPrefix + ">",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       w.opts.AckWait,
		MaxDeliver:    -1,
	})
	if err != nil {
		return nil, fmt.Errorf("worker: consumer %s of stream %s: %w", WorkersConsumer, JobsStream, err)
	}
	w.cons = cons
	return cons, nil
}

// serve is one slot: it asks for a job only when it is free, so that no job waits in a busy worker.
func (w *worker) serve(ctx context.Context) {
	failures := 0
	for ctx.Err() == nil {
		cons, err := w.consumer(ctx, failures > 0)
		if err == nil {
			fctx, cancel := context.WithTimeout(ctx, pollWait)
			var msg jetstream.Msg
			msg, err = cons.Next(jetstream.FetchContext(fctx))
			cancel()
			if err == nil {
				failures = 0
				w.handle(ctx, msg)
				continue
			}
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
			failures = 0
			continue
		}
		failures++
		if failures == 1 || failures%60 == 0 {
			w.opts.Logf("worker %s: fetch a job: %v (retrying every second)", w.opts.Name, err)
		}
		sleep(ctx, time.Second)
	}
}

// handle evaluates one job, publishes its result and acknowledges it.
func (w *worker) handle(ctx context.Context, msg jetstream.Msg) {
	logf := w.opts.Logf
	delivery, seq := uint64(1), uint64(0)
	if meta, err := msg.Metadata(); err == nil {
		delivery, seq = meta.NumDelivered, meta.Sequence.Stream
	}
	var job search.Job
	resSubject, ok := resultSubjectOfJob(msg.Subject())
	if err := json.Unmarshal(msg.Data(), &job); err != nil || !ok || checkToken("job id", job.ID) != nil {
		logf("worker %s: dropping a malformed job on %s (%v): %.200q", w.opts.Name, msg.Subject(), err, msg.Data())
		_ = msg.Term()
		return
	}
	// The job may have run already: a worker died between publishing the result and acknowledging.
	if stored, err := firstMsg(ctx, w.results, resSubject); err != nil {
		logf("worker %s: job %s: %v; evaluating it", w.opts.Name, job.ID, err)
	} else if stored != nil {
		logf("worker %s: job %s has a result already; acknowledging it without evaluating it again", w.opts.Name, job.ID)
		w.ack(ctx, msg, job.ID)
		return
	}
	logf("worker %s: job %s: evaluating (delivery %d)", w.opts.Name, job.ID, delivery)

	beating, stop := context.WithCancel(ctx)
	var heart sync.WaitGroup
	heart.Go(func() { w.heartbeat(beating, msg, job.ID) })
	start := time.Now()
	res, everr := search.EvaluateSafely(ctx, w.ev, job)
	stop()
	heart.Wait()

	if everr != nil && ctx.Err() != nil {
		logf("worker %s: job %s: stopped (%v); it goes back to the queue", w.opts.Name, job.ID, everr)
		_ = msg.Nak()
		return
	}
	m := resultMessage{ID: job.ID, Result: res.Finite(), Worker: w.opts.Name, JobSeq: seq}
	subject, msgID := resSubject, resSubject
	if everr != nil {
		m.Error = everr.Error()
		subject = resSubject + errorSuffix
		msgID = subject + "." + nuid.Next()
	}
	data, err := json.Marshal(m)
	if err != nil { // cannot happen: the result is finite
		logf("worker %s: job %s: encode result: %v", w.opts.Name, job.ID, err)
		_ = msg.Nak()
		return
	}
	// A finished result is worth publishing even when the worker is stopping.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), requestTimeout)
	defer cancel()
	if _, err := w.js.Publish(pctx, subject, data, jetstream.WithMsgID(msgID), jetstream.WithExpectStream(ResultsStream)); err != nil {
		logf("worker %s: job %s: publish result: %v; the job goes back to the queue", w.opts.Name, job.ID, err)
		_ = msg.Nak()
		return
	}
	switch {
	case everr != nil:
		logf("worker %s: job %s: evaluator error after %.1fs: %v", w.opts.Name, job.ID, time.Since(start).Seconds(), everr)
	case res.Failed():
		logf("worker %s: job %s: failed after %.1fs: %s", w.opts.Name, job.ID, time.Since(start).Seconds(), res.FailureReason())
	default:
		logf("worker %s: job %s: done in %.1fs, %.2f%% validation accuracy", w.opts.Name, job.ID, time.Since(start).Seconds(), res.ValAccuracy)
	}
	w.ack(pctx, msg, job.ID)
}

// ack acknowledges a job and waits for the server to confirm, so that a lost acknowledgement is logged.
// A job whose acknowledgement is lost comes back after AckWait and is acknowledged then without being
// evaluated, because its result is stored.
func (w *worker) ack(ctx context.Context, msg jetstream.Msg, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), requestTimeout)
	defer cancel()
	if err := msg.DoubleAck(ctx); err != nil {
		w.opts.Logf("worker %s: job %s: acknowledge: %v (it may come back; its stored result will be used)", w.opts.Name, id, err)
	}
}

// heartbeat tells the server the job is still being evaluated, every Heartbeat, until ctx is done.
func (w *worker) heartbeat(ctx context.Context, msg jetstream.Msg, id string) {
	t := time.NewTicker(w.opts.Heartbeat)
	defer t.Stop()
	warned := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := msg.InProgress(); err != nil && !warned {
				warned = true
				w.opts.Logf("worker %s: job %s: progress signal: %v (the job may be given to another worker)", w.opts.Name, id, err)
			}
		}
	}
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
