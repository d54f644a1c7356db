// Package distributed evaluates a search's architectures on worker machines through NATS JetStream, so
// that one coordinator (the process running search.Run) keeps many machines training.
//
// The coordinator's Evaluator publishes each search.Job, as its JSON, to the work-queue stream
// EINSPACE_JOBS on the subject einspace.jobs.RUN.JOBID, which is also its Nats-Msg-Id, so that the
// server drops a second publication of the same job. RUN (EvaluatorOptions.Run, the configuration's
// RunID) keeps searches sharing a server apart. Workers (RunWorker, on any number of machines)
// share one durable pull consumer of that stream. A worker takes a job only when it has a free slot,
// evaluates it with the same isolation as a local search (a search.ProcessPool of worker processes, so
// that an architecture that crashes or exhausts memory fails alone), publishes the result to the stream
// EINSPACE_RESULTS on einspace.results.RUN.JOBID, and only then acknowledges the job. While it
// evaluates, it tells the server every Heartbeat that it is still working; a worker that dies stops
// doing so, and the server hands the job to another worker once AckWait has passed. Nothing in a job
// refers to the coordinator's memory or disk: datasets travel by name and parameters (search.DataSpec),
// so every worker machine must be able to build or read the dataset that name designates.
//
// Results are idempotent by job ID. A job can run twice (a worker died after publishing its result but
// before acknowledging the job, or a worker was presumed dead while it still worked), and then both
// results may reach the stream; the coordinator takes the first and ignores the rest, and a worker that
// receives a job whose result is already stored acknowledges it without evaluating it. Evaluate returns
// exactly once per call, with the first result of its job.
//
// The results stream also makes a coordinator restartable. search.Run resumes a run from its log and
// submits the evaluations that were in flight again, with the same job IDs; the Evaluator first looks
// for a stored result of the job (returned at once, without running the job again), then for the job
// itself still waiting in the queue or held by a worker (it is not published again, only awaited), and
// publishes it only when neither exists. One ordered consumer per coordinator receives the run's
// results and hands each to the Evaluate call waiting for its job ID; as a safety net, a call that
// has waited a minute looks its job up again, and submits it again if it left the queue without a
// result.
//
// An infrastructure error of a worker's evaluator (a dataset the worker machine cannot find, a worker
// command that does not start) is published on einspace.results.RUN.JOBID.error and returned by
// Evaluate, which stops the search as it would locally; it is not a stored result, so a resumed search
// submits the job again. A failed architecture, in contrast, is an ordinary result with Failure set.
package distributed
