package distributed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/einspace-go/einspace/search"
)

// The JetStream names the coordinator and the workers agree on.
const (
	// JobsStream holds the jobs waiting for a worker or held by one (work-queue retention: a job leaves
	// the stream when a worker acknowledges it).
	JobsStream = "EINSPACE_JOBS"
	// ResultsStream holds the results, kept until the stream's limits remove them (see ResultsMaxAge).
	ResultsStream = "EINSPACE_RESULTS"
	// WorkersConsumer is the durable pull consumer all workers share.
	WorkersConsumer = "einspace-workers"

	jobsPrefix    = "einspace.jobs."
	resultsPrefix = "einspace.results."
	errorSuffix   = ".error"
)

// DefaultRun is the subject token of a coordinator whose options name no run.
const DefaultRun = "default"

// Defaults of WorkerOptions.
const (
	DefaultAckWait   = 30 * time.Second
	DefaultHeartbeat = 5 * time.Second
)

// duplicateWindow is how long the server remembers a message ID to drop a second publication of it.
// It covers the retries of one publication and two workers finishing the same job close together;
// longer gaps are caught by looking the job or its result up before publishing.
const duplicateWindow = 10 * time.Minute

// Message IDs (Nats-Msg-Id) are the subjects themselves, which are unique per run and job, while the
// server's duplicate detection spans all the subjects of a stream.

// requestTimeout bounds one request to the server (a publication, a look-up).
const requestTimeout = 10 * time.Second

// jobSubject and resultSubject are the subjects of a job and of its result; errorSubject carries an
// infrastructure error of the worker that took the job.
func jobSubject(run, id string) string    { return jobsPrefix + run + "." + id }
func resultSubject(run, id string) string { return resultsPrefix + run + "." + id }
func errorSubject(run, id string) string  { return resultSubject(run, id) + errorSuffix }

// resultSubjectOfJob maps a job's subject to its result's.
func resultSubjectOfJob(subject string) (string, bool) {
	rest, ok := strings.CutPrefix(subject, jobsPrefix)
	if !ok || strings.Count(rest, ".") != 1 {
		return "", false
	}
	return resultsPrefix + rest, true
}

// checkToken reports whether s can be one token of a NATS subject: not empty, and free of the
// separator, the wildcards and white space.
func checkToken(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s is empty; it must be one NATS subject token such as %q", what, "run-1")
	}
	if i := strings.IndexAny(s, ".*> \t\r\n"); i >= 0 {
		return fmt.Errorf("%s %q has %q at byte %d; it must be one NATS subject token (no '.', '*', '>' or white space)", what, s, s[i], i)
	}
	return nil
}

// resultMessage is the payload of a result (or of an infrastructure error) on the results stream.
type resultMessage struct {
	ID     string        `json:"id"`
	Result search.Result `json:"result"`
	Error  string        `json:"error,omitempty"`  // an infrastructure error of the worker's evaluator
	Worker string        `json:"worker,omitempty"` // who evaluated the job, for the logs
	// JobSeq is the jobs stream's sequence of the job message the worker took.
	JobSeq uint64 `json:"job_seq,omitempty"`
}

// streamConfigs are the streams' configurations when this package creates them.
func streamConfigs(resultsMaxAge time.Duration) []jetstream.StreamConfig {
	return []jetstream.StreamConfig{
		{
			Name: JobsStream, Description: "einspace evaluations waiting for a worker",
			Subjects: []string{jobsPrefix + ">"}, Retention: jetstream.WorkQueuePolicy,
			Storage: jetstream.FileStorage, Duplicates: duplicateWindow,
		},
		{
			Name: ResultsStream, Description: "einspace evaluation results, by job ID",
			Subjects: []string{resultsPrefix + ">"}, Retention: jetstream.LimitsPolicy,
			Storage: jetstream.FileStorage, Duplicates: duplicateWindow, MaxAge: resultsMaxAge,
		},
	}
}

// ensureStreams creates the streams that do not exist yet. Existing streams are left as they are, so an
// operator may have set them up with other limits or replicas.
func ensureStreams(ctx context.Context, js jetstream.JetStream, resultsMaxAge time.Duration) (jobs, results jetstream.Stream, err error) {
	var streams []jetstream.Stream
	for _, cfg := range streamConfigs(resultsMaxAge) {
		s, err := js.Stream(ctx, cfg.Name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			s, err = js.CreateStream(ctx, cfg)
			if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) { // another process created it just now
				s, err = js.Stream(ctx, cfg.Name)
			}
		}
		if err != nil {
			return nil, nil, fmt.Errorf("stream %s: %w", cfg.Name, err)
		}
		streams = append(streams, s)
	}
	return streams[0], streams[1], nil
}

// firstMsg returns the first message the stream holds on subject, or nil when it holds none.
func firstMsg(ctx context.Context, s jetstream.Stream, subject string) (*jetstream.RawStreamMsg, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	m, err := s.GetMsg(ctx, 1, jetstream.WithGetMsgSubject(subject))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up %s in stream %s: %w", subject, s.CachedInfo().Config.Name, err)
	}
	return m, nil
}

// connect dials the server with reconnection for as long as the process lives: a server restart or a
// network cut pauses the work instead of ending it.
func connect(natsURL, name string) (*nats.Conn, error) {
	nc, err := nats.Connect(natsURL, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(time.Second),
		nats.RetryOnFailedConnect(false))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w (is nats-server running with JetStream, e.g. nats-server -js?)", natsURL, err)
	}
	return nc, nil
}

// processName names this process in the server's connection list and in results.
func processName(role string) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("einspace %s %s/%d", role, host, os.Getpid())
}
