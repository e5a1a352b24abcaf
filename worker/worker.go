// Package worker owns running queued jobs inside `publishbot serve`: the loop
// that takes jobs from the queue and runs them through the publisher (a
// fresh context and a per-job log entry for each, panics recovered into
// failed jobs), scheduling a publish for the date of the next future post,
// the reconciler that republishes repositories whose pages branch fell
// behind their source branch, the set of published repositories it works
// from, and the jobs' Prometheus metrics.
package worker

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/publisher"
	"github.com/publishbot/publishbot/queue"
)

// Runner runs one job end to end (the publisher implements it) and reports
// the result itself.
type Runner interface {
	Run(ctx context.Context, j queue.Job, log *logrus.Entry) publisher.Result
}

// ErrPanic marks a job whose run panicked; the panic value follows it.
var ErrPanic = errors.New("job panicked")

// ErrNoResult marks a failed result that carried no error.
var ErrNoResult = errors.New("job failed without an error")

// Options configures a Worker. Queue, Runner and Log are required.
type Options struct {
	// Queue is where jobs are taken from, finished, released at shutdown
	// and where scheduled publishes are stored.
	Queue  queue.Queue
	Runner Runner
	Log    *logrus.Entry

	// Metrics records jobs; nil records nothing.
	Metrics *Metrics
	// Published records the repositories the worker published, for the
	// reconciler; nil records nothing.
	Published PublishedRepos
	// Concurrency is how many jobs run at once (the queue keeps one
	// repository's jobs apart); 0 means 1.
	Concurrency int
	// Grace is how long Run lets running jobs finish after its context is
	// done. A job still running then is cancelled and handed back: it is
	// left un-Done, so the queue runs it again after a restart. 0 means 30 s.
	Grace time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Observer, when set, is told every job's result (the status page).
	Observer Observer
}

// Observer is told the result of every job the worker ran to its end (not
// of one handed back at shutdown). It must not block.
type Observer interface {
	JobFinished(j queue.Job, res publisher.Result)
}

// Worker takes jobs from a queue and runs them. Run it once.
type Worker struct {
	opts    Options
	running atomic.Bool
	busy    atomic.Int64
}

// New checks opts and returns a Worker.
func New(opts Options) (*Worker, error) {
	switch {
	case opts.Queue == nil:
		return nil, errors.New("new worker: no queue")
	case opts.Runner == nil:
		return nil, errors.New("new worker: no runner")
	case opts.Log == nil:
		return nil, errors.New("new worker: no log entry")
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 1
	}
	if opts.Grace <= 0 {
		opts.Grace = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Worker{opts: opts}, nil
}

// Running reports whether Run is taking jobs (for a readiness probe). It
// turns false as soon as Run's context is done.
func (w *Worker) Running() bool { return w.running.Load() }

// Busy is how many jobs are running now.
func (w *Worker) Busy() int { return int(w.busy.Load()) }

// Run takes and runs jobs until ctx is done, then waits up to Grace for the
// running jobs before it cancels and hands them back. It returns nil after a
// shutdown; it is not safe to call twice.
func (w *Worker) Run(ctx context.Context) error {
	// Jobs run under their own context: a shutdown stops taking new jobs at
	// once but gives the running ones the grace period.
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()

	w.running.Store(true)
	var wg sync.WaitGroup
	for i := 0; i < w.opts.Concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(ctx, jobCtx)
		}()
	}
	<-ctx.Done()
	w.running.Store(false)

	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	grace := time.NewTimer(w.opts.Grace)
	defer grace.Stop()
	select {
	case <-finished:
		return nil
	case <-grace.C:
	}
	w.opts.Log.WithField("running", w.Busy()).Warn("grace period over: cancelling running jobs and handing them back")
	cancelJobs()
	<-finished
	return nil
}

// loop is one lane: take, run, done, until takeCtx is done.
func (w *Worker) loop(takeCtx, jobCtx context.Context) {
	delay := 100 * time.Millisecond
	for {
		j, err := w.opts.Queue.Take(takeCtx)
		if err == nil {
			delay = 100 * time.Millisecond
			w.busy.Add(1)
			w.handle(takeCtx, jobCtx, j)
			w.busy.Add(-1)
			continue
		}
		if takeCtx.Err() != nil {
			return
		}
		if errors.Is(err, queue.ErrClosed) {
			w.opts.Log.Warn("queue closed: worker lane stops")
			return
		}
		w.opts.Log.WithError(err).Error("take job")
		t := time.NewTimer(delay)
		select {
		case <-takeCtx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(2*delay, 10*time.Second)
	}
}

// jobLog returns the log entry for one job: its fields under the constant
// keys (queue.Job.LogFields) and the attempt.
func jobLog(base *logrus.Entry, j queue.Job) *logrus.Entry {
	log := base.WithFields(j.LogFields())
	if j.Attempt != 0 {
		log = log.WithField("attempt", j.Attempt)
	}
	return log
}

// handle runs one job and finishes it in the queue.
func (w *Worker) handle(takeCtx, jobCtx context.Context, j queue.Job) {
	log := jobLog(w.opts.Log, j)
	ctx, cancel := context.WithCancel(jobCtx)
	defer cancel()

	start := w.opts.Now()
	log.Info("job started")
	res := w.run(ctx, j, log)
	elapsed := w.opts.Now().Sub(start)

	if jobCtx.Err() != nil && res.Outcome == publisher.OutcomeFailed {
		// Cancelled by a shutdown past its grace period: leave it taken, so
		// the queue runs it again after the restart.
		log.WithError(res.Err).Warn("job cancelled by shutdown: handed back to the queue")
		w.opts.Metrics.job(j.Kind, "handed_back", elapsed)
		w.release(j, log)
		return
	}

	var runErr error
	if res.Outcome == publisher.OutcomeFailed {
		runErr = res.Err
		if runErr == nil {
			runErr = ErrNoResult
		}
	} else {
		runErr = w.afterSuccess(ctx, j, res, log)
	}

	result := string(res.Outcome)
	if res.Outcome == "" {
		result = "unknown"
	}
	if errors.Is(runErr, ErrPanic) {
		result = "panic"
	}
	w.opts.Metrics.job(j.Kind, result, elapsed)
	if runErr == nil && j.Kind == queue.KindPublish && (res.Outcome == publisher.OutcomePublished || res.Outcome == publisher.OutcomeUnchanged) {
		w.opts.Metrics.published(j.Repo.FullName, w.opts.Now())
	}
	if w.opts.Observer != nil {
		w.opts.Observer.JobFinished(j, res)
	}
	if res.Reported {
		w.opts.Metrics.reported(res.ReportErr)
	}
	fields := logrus.Fields{"outcome": result, "duration_ms": elapsed.Milliseconds()}
	if res.PagesCommit != "" {
		fields["pages_commit"] = res.PagesCommit
	}
	if res.SourceSHA != "" && j.SHA == "" {
		fields[queue.FieldSHA] = res.SourceSHA
	}
	if res.Reason != "" {
		fields["detail"] = res.Reason // why it was skipped or changed nothing
	}
	if runErr != nil {
		// A permanent failure is not retried: it needs a person.
		fields["permanent"] = errors.Is(runErr, publisher.ErrPermanent)
	}
	if runErr != nil {
		log.WithFields(fields).WithError(runErr).Warn("job failed")
	} else {
		log.WithFields(fields).Info("job finished")
	}

	// Done comes last, so that an idle queue means the job's metrics are
	// in.
	w.finish(takeCtx, jobCtx, j, runErr, log)
}

// finish reports the end of j to the queue. It must reach the queue even
// when the shutdown has begun. A failed Done is retried with backoff: until
// it lands the queue holds the job as running, and no other job of its
// repository can start. Once the shutdown has begun it gives up after one
// failure; the job then runs again after the restart.
func (w *Worker) finish(takeCtx, jobCtx context.Context, j queue.Job, runErr error, log *logrus.Entry) {
	delay := 100 * time.Millisecond
	for {
		doneCtx, cancel := context.WithTimeout(context.WithoutCancel(jobCtx), 30*time.Second)
		err := w.opts.Queue.Done(doneCtx, j, runErr)
		cancel()
		switch {
		case err == nil:
			return
		case errors.Is(err, queue.ErrNotRunning), errors.Is(err, queue.ErrClosed):
			log.WithError(err).Error("finish job in the queue")
			return
		}
		log.WithError(err).WithField("retry_in", delay.String()).Error("finish job in the queue")
		t := time.NewTimer(delay)
		select {
		case <-takeCtx.Done():
			t.Stop()
			log.Warn("job left unfinished in the queue: it runs again after the restart")
			return
		case <-t.C:
		}
		delay = min(2*delay, 10*time.Second)
	}
}

// release hands j back to the queue, so that it runs again without counting
// the attempt the shutdown cut short.
func (w *Worker) release(j queue.Job, log *logrus.Entry) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.opts.Queue.Release(ctx, j); err != nil {
		log.WithError(err).Warn("release job: it runs again after a restart")
	}
}

// run calls the runner, turning a panic into a failed result.
func (w *Worker) run(ctx context.Context, j queue.Job, log *logrus.Entry) (res publisher.Result) {
	defer func() {
		if p := recover(); p != nil {
			log.WithFields(logrus.Fields{"panic": fmt.Sprint(p), "stack": string(debug.Stack())}).Error("job panicked")
			res = publisher.Result{Job: j, Outcome: publisher.OutcomeFailed, Err: fmt.Errorf("%w: %v", ErrPanic, p)}
		}
	}()
	return w.opts.Runner.Run(ctx, j, log)
}

// afterSuccess records the repository as published and schedules the next
// future post. An error (the schedule could not be stored) fails the job so
// that the queue retries it: re-running a publish changes nothing, and the
// retry schedules again.
func (w *Worker) afterSuccess(ctx context.Context, j queue.Job, res publisher.Result, log *logrus.Entry) error {
	if j.Kind != queue.KindPublish {
		return nil
	}
	switch res.Outcome {
	case publisher.OutcomePublished, publisher.OutcomeUnchanged:
		// Only these say j.Ref is the source branch: a push to another
		// branch is skipped, and must not become what the reconciler checks.
		if w.opts.Published != nil {
			if err := w.opts.Published.Add(j.Repo, j.Ref); err != nil {
				log.WithError(err).Warn("record published repository")
			}
		}
	}
	if res.NextPublish.IsZero() || res.Outcome == publisher.OutcomeSkipped {
		return nil
	}
	next := ScheduledJob(j, res.NextPublish, w.opts.Now())
	if err := w.opts.Queue.Enqueue(ctx, next); err != nil {
		return fmt.Errorf("schedule publish at %s: %w", res.NextPublish.Format(time.RFC3339), err)
	}
	w.opts.Metrics.scheduled()
	log.WithFields(logrus.Fields{"scheduled_job": next.ID, "not_before": res.NextPublish.Format(time.RFC3339)}).Info("publish scheduled for the next future post")
	return nil
}

// ScheduledJob is the publish job that makes a future post go live at its
// date: the same branch, its head at that time.
func ScheduledJob(after queue.Job, at, now time.Time) queue.Job {
	return queue.Job{
		ID:        queue.NewID(), // given before it is queued, so the line saying why names it
		Kind:      queue.KindPublish,
		Repo:      after.Repo,
		Ref:       after.Ref,
		Reason:    "schedule",
		NotBefore: at,
		Created:   now,
	}
}
