package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/publisher"
	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/testkit"
)

// fakeQueue is an in-memory queue recording Done, Enqueue and Release
// calls.
type fakeQueue struct {
	jobs     chan queue.Job
	released chan queue.Job

	mu       sync.Mutex
	done     []doneCall
	enqueued []queue.Job
	enqErr   error
	doneCh   chan doneCall
}

type doneCall struct {
	job queue.Job
	err error
}

func newFakeQueue(jobs ...queue.Job) *fakeQueue {
	q := &fakeQueue{jobs: make(chan queue.Job, 100), released: make(chan queue.Job, 100), doneCh: make(chan doneCall, 100)}
	for _, j := range jobs {
		q.jobs <- j
	}
	return q
}

func (q *fakeQueue) Take(ctx context.Context) (queue.Job, error) {
	select {
	case j := <-q.jobs:
		return j, nil
	case <-ctx.Done():
		return queue.Job{}, ctx.Err()
	}
}

func (q *fakeQueue) Done(ctx context.Context, j queue.Job, err error) error {
	q.mu.Lock()
	q.done = append(q.done, doneCall{j, err})
	q.mu.Unlock()
	q.doneCh <- doneCall{j, err}
	return nil
}

func (q *fakeQueue) Enqueue(ctx context.Context, j queue.Job) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.enqErr != nil {
		return q.enqErr
	}
	q.enqueued = append(q.enqueued, j)
	return nil
}

func (q *fakeQueue) Release(ctx context.Context, j queue.Job) error {
	q.released <- j
	return nil
}

func (q *fakeQueue) Stats(ctx context.Context) (queue.Stats, error) {
	return queue.Stats{Queued: len(q.jobs)}, nil
}

func (q *fakeQueue) List(ctx context.Context) ([]queue.JobInfo, error) { return nil, nil }

func (q *fakeQueue) Retry(ctx context.Context, id string) error { return queue.ErrNotFound }

func (q *fakeQueue) Close() error { return nil }

func (q *fakeQueue) enqueuedJobs() []queue.Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]queue.Job(nil), q.enqueued...)
}

func (q *fakeQueue) doneCalls() []doneCall {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]doneCall(nil), q.done...)
}

// runnerFunc adapts a function to Runner.
type runnerFunc func(ctx context.Context, j queue.Job, log *logrus.Entry) publisher.Result

func (f runnerFunc) Run(ctx context.Context, j queue.Job, log *logrus.Entry) publisher.Result {
	return f(ctx, j, log)
}

func testLog(buf *bytes.Buffer) *logrus.Entry {
	l := logrus.New()
	l.Out = buf
	l.Formatter = &logrus.JSONFormatter{}
	return logrus.NewEntry(l)
}

type syncBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

var repo = queue.Repo{FullName: "acme/blog", CloneURL: "https://example.invalid/acme/blog.git", DefaultBranch: "main"}

func publishJob(id, sha string) queue.Job {
	return queue.Job{ID: id, Kind: queue.KindPublish, Repo: repo, Ref: "refs/heads/main", SHA: sha, Delivery: "d-" + id, Reason: "push", Attempt: 1}
}

// startWorker runs w until the test ends and returns a stop function that
// cancels it and waits for Run to return.
func startWorker(t *testing.T, w *Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ret := make(chan error, 1)
	go func() { ret <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-ret; err != nil {
				t.Errorf("Run returned %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func waitDone(t *testing.T, q *fakeQueue) doneCall {
	t.Helper()
	select {
	case d := <-q.doneCh:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("no Done call within 10 s")
		return doneCall{}
	}
}

func TestWorkerRunsJobAndFinishesIt(t *testing.T) {
	tests := []struct {
		name    string
		result  publisher.Result
		wantErr error
		metric  string
	}{
		{"published", publisher.Result{Outcome: publisher.OutcomePublished, PagesCommit: "p1"}, nil, "published"},
		{"unchanged", publisher.Result{Outcome: publisher.OutcomeUnchanged}, nil, "unchanged"},
		{"failed", publisher.Result{Outcome: publisher.OutcomeFailed, Err: errors.New("fetch: refused")}, errors.New("fetch: refused"), "failed"},
		{"failed without error", publisher.Result{Outcome: publisher.OutcomeFailed}, ErrNoResult, "failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newFakeQueue(publishJob("1", "aaa"))
			var buf bytes.Buffer
			reg := prometheus.NewRegistry()
			m := NewMetrics(reg)
			var gotLog *logrus.Entry
			r := runnerFunc(func(ctx context.Context, j queue.Job, log *logrus.Entry) publisher.Result {
				gotLog = log
				res := tt.result
				res.Job = j
				return res
			})
			w, err := New(Options{Queue: q, Runner: r, Log: testLog(&buf), Metrics: m})
			if err != nil {
				t.Fatal(err)
			}
			stop := startWorker(t, w)
			d := waitDone(t, q)
			stop()
			if (d.err == nil) != (tt.wantErr == nil) || (d.err != nil && d.err.Error() != tt.wantErr.Error()) {
				t.Errorf("Done err = %v, want %v", d.err, tt.wantErr)
			}
			for k, want := range map[string]any{"job": "1", "repo": "acme/blog", "sha": "aaa", "delivery": "d-1"} {
				if got := gotLog.Data[k]; got != want {
					t.Errorf("job log field %s = %v, want %v", k, got, want)
				}
			}
			if got := testutil.ToFloat64(m.jobs.WithLabelValues("publish", tt.metric)); got != 1 {
				t.Errorf("publishbot_jobs_total{result=%q} = %v, want 1", tt.metric, got)
			}
			if n := testutil.CollectAndCount(m.duration); n != 1 {
				t.Errorf("duration series = %d, want 1", n)
			}
		})
	}
}

// The worker's line is the one line per job end an operator reads: it says
// why nothing changed and whether a failure will be retried.
func TestWorkerEndLineSaysDetailAndPermanence(t *testing.T) {
	tests := []struct {
		name   string
		result publisher.Result
		want   map[string]any
	}{
		{"unchanged", publisher.Result{Outcome: publisher.OutcomeUnchanged, Reason: "already up to date"},
			map[string]any{"msg": "job finished", "detail": "already up to date", "reason": "push"}},
		{"permanent", publisher.Result{Outcome: publisher.OutcomeFailed, Err: fmt.Errorf("publish.yaml: %w", publisher.ErrPermanent)},
			map[string]any{"msg": "job failed", "permanent": true}},
		{"retryable", publisher.Result{Outcome: publisher.OutcomeFailed, Err: errors.New("fetch: connection reset")},
			map[string]any{"msg": "job failed", "permanent": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newFakeQueue(publishJob("1", "aaa"))
			var buf bytes.Buffer
			r := runnerFunc(func(ctx context.Context, j queue.Job, log *logrus.Entry) publisher.Result {
				res := tt.result
				res.Job = j
				return res
			})
			w, err := New(Options{Queue: q, Runner: r, Log: testLog(&buf)})
			if err != nil {
				t.Fatal(err)
			}
			stop := startWorker(t, w)
			waitDone(t, q)
			stop()
			var end map[string]any
			for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatalf("log line %q: %v", line, err)
				}
				if m["msg"] == "job finished" || m["msg"] == "job failed" {
					end = m
				}
			}
			if end == nil {
				t.Fatalf("no end line in:\n%s", buf.String())
			}
			for k, want := range tt.want {
				if end[k] != want {
					t.Errorf("end line %s = %v, want %v: %v", k, end[k], want, end)
				}
			}
		})
	}
}

func TestWorkerRecoversPanic(t *testing.T) {
	q := newFakeQueue(publishJob("1", "aaa"), publishJob("2", "bbb"))
	var buf bytes.Buffer
	m := NewMetrics(prometheus.NewRegistry())
	r := runnerFunc(func(ctx context.Context, j queue.Job, log *logrus.Entry) publisher.Result {
		if j.ID == "1" {
			panic("template exploded")
		}
		return publisher.Result{Job: j, Outcome: publisher.OutcomePublished}
	})
	w, _ := New(Options{Queue: q, Runner: r, Log: testLog(&buf), Metrics: m})
	startWorker(t, w)
	first, second := waitDone(t, q), waitDone(t, q)
	if !errors.Is(first.err, ErrPanic) || !strings.Contains(first.err.Error(), "template exploded") {
		t.Errorf("panicking job: Done err = %v, want ErrPanic with the value", first.err)
	}
	if second.err != nil {
		t.Errorf("the worker did not go on after a panic: %v", second.err)
	}
	if got := testutil.ToFloat64(m.jobs.WithLabelValues("publish", "panic")); got != 1 {
		t.Errorf("panic metric = %v", got)
	}
}

func TestWorkerSchedulesNextFuturePost(t *testing.T) {
	next := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	q := newFakeQueue(publishJob("1", "aaa"))
	var buf bytes.Buffer
	set, err := OpenPublishedSet(filepath.Join(t.TempDir(), "published.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := runnerFunc(func(ctx context.Context, j queue.Job, log *logrus.Entry) publisher.Result {
		return publisher.Result{Job: j, Outcome: publisher.OutcomePublished, NextPublish: next}
	})
	w, _ := New(Options{Queue: q, Runner: r, Log: testLog(&buf), Published: set})
	startWorker(t, w)
	if d := waitDone(t, q); d.err != nil {
		t.Fatalf("Done err = %v", d.err)
	}
	enq := q.enqueuedJobs()
	if len(enq) != 1 {
		t.Fatalf("enqueued %d jobs, want 1 scheduled publish", len(enq))
	}
	j := enq[0]
	if j.Kind != queue.KindPublish || j.Reason != "schedule" || !j.NotBefore.Equal(next) || j.Ref != "refs/heads/main" || j.SHA != "" || j.Repo != repo || j.Delivery != "" {
		t.Errorf("scheduled job = %+v", j)
	}
	if j.ID == "" || !strings.Contains(buf.String(), `"scheduled_job":"`+j.ID+`"`) {
		t.Errorf("scheduled job id %q not in the log:\n%s", j.ID, buf.String())
	}
	if list := set.List(); len(list) != 1 || list[0].Repo != repo || list[0].Ref != "refs/heads/main" {
		t.Errorf("published set = %+v", list)
	}
}

func TestWorkerRetriesWhenScheduleCannotBeStored(t *testing.T) {
	q := newFakeQueue(publishJob("1", "aaa"))
	q.enqErr = errors.New("disk full")
	var buf bytes.Buffer
	r := runnerFunc(func(ctx context.Context, j queue.Job, log *logrus.Entry) publisher.Result {
		return publisher.Result{Job: j, Outcome: publisher.OutcomePublished, NextPublish: time.Now().Add(time.Hour)}
	})
	w, _ := New(Options{Queue: q, Runner: r, Log: testLog(&buf)})
	startWorker(t, w)
	if d := waitDone(t, q); d.err == nil || !strings.Contains(d.err.Error(), "disk full") {
		t.Errorf("Done err = %v, want the schedule's error so the job is retried", d.err)
	}
}

func TestWorkerNoScheduleForFailedOrPreview(t *testing.T) {
	next := time.Now().Add(time.Hour)
	prev := publishJob("2", "bbb")
	prev.Kind, prev.PR = queue.KindPreview, 7
	q := newFakeQueue(publishJob("1", "aaa"), prev)
	var buf bytes.Buffer
	r := runnerFunc(func(ctx context.Context, j queue.Job, log *logrus.Entry) publisher.Result {
		if j.ID == "1" {
			return publisher.Result{Job: j, Outcome: publisher.OutcomeFailed, Err: errors.New("x"), NextPublish: next}
		}
		return publisher.Result{Job: j, Outcome: publisher.OutcomePublished, NextPublish: next}
	})
	w, _ := New(Options{Queue: q, Runner: r, Log: testLog(&buf)})
	startWorker(t, w)
	waitDone(t, q)
	waitDone(t, q)
	if enq := q.enqueuedJobs(); len(enq) != 0 {
		t.Errorf("enqueued %+v, want nothing", enq)
	}
}

func TestWorkerShutdownLetsRunningJobFinish(t *testing.T) {
	q := newFakeQueue(publishJob("1", "aaa"))
	started, release := make(chan struct{}), make(chan struct{})
	var buf bytes.Buffer
	r := runnerFunc(func(ctx context.Context, j queue.Job, log *logrus.Entry) publisher.Result {
		close(started)
		<-release
		if ctx.Err() != nil {
			return publisher.Result{Job: j, Outcome: publisher.OutcomeFailed, Err: ctx.Err()}
		}
		return publisher.Result{Job: j, Outcome: publisher.OutcomePublished}
	})
	w, _ := New(Options{Queue: q, Runner: r, Log: testLog(&buf), Grace: time.Minute})
	stop := startWorker(t, w)
	<-started
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	// Run must not return while the job runs within its grace period.
	select {
	case <-stopped:
		t.Fatal("Run returned before the running job finished")
	case <-time.After(50 * time.Millisecond):
	}
	if w.Running() {
		t.Error("Running() = true after the shutdown began")
	}
	close(release)
	<-stopped
	if d := q.doneCalls(); len(d) != 1 || d[0].err != nil {
		t.Errorf("Done calls = %+v, want one success", d)
	}
}

func TestWorkerShutdownHandsBackJobAfterGrace(t *testing.T) {
	q := newFakeQueue(publishJob("1", "aaa"))
	started := make(chan struct{})
	var buf bytes.Buffer
	m := NewMetrics(prometheus.NewRegistry())
	r := runnerFunc(func(ctx context.Context, j queue.Job, log *logrus.Entry) publisher.Result {
		close(started)
		<-ctx.Done()
		return publisher.Result{Job: j, Outcome: publisher.OutcomeFailed, Err: fmt.Errorf("push: %w", ctx.Err())}
	})
	w, _ := New(Options{Queue: q, Runner: r, Log: testLog(&buf), Grace: 10 * time.Millisecond, Metrics: m})
	stop := startWorker(t, w)
	<-started
	stop()
	if d := q.doneCalls(); len(d) != 0 {
		t.Errorf("Done calls = %+v, want none: the job is handed back", d)
	}
	if got := testutil.ToFloat64(m.jobs.WithLabelValues("publish", "handed_back")); got != 1 {
		t.Errorf("handed_back metric = %v", got)
	}
	if !strings.Contains(buf.String(), "handed back") {
		t.Errorf("log does not say the job was handed back:\n%s", buf.String())
	}
}

func TestWorkerConcurrency(t *testing.T) {
	q := newFakeQueue(publishJob("1", "a"), publishJob("2", "b"))
	var buf bytes.Buffer
	both := make(chan struct{})
	var mu sync.Mutex
	n := 0
	r := runnerFunc(func(ctx context.Context, j queue.Job, log *logrus.Entry) publisher.Result {
		mu.Lock()
		n++
		if n == 2 {
			close(both)
		}
		mu.Unlock()
		<-both // both lanes must be running at once to get past here
		return publisher.Result{Job: j, Outcome: publisher.OutcomeUnchanged}
	})
	w, _ := New(Options{Queue: q, Runner: r, Log: testLog(&buf), Concurrency: 2})
	startWorker(t, w)
	waitDone(t, q)
	waitDone(t, q)
}

func TestNewRequiresCollaborators(t *testing.T) {
	var buf bytes.Buffer
	q := newFakeQueue()
	r := runnerFunc(nil)
	for name, o := range map[string]Options{
		"no queue":  {Runner: r, Log: testLog(&buf)},
		"no runner": {Queue: q, Log: testLog(&buf)},
		"no log":    {Queue: q, Runner: r},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func TestWorkerReleasesHandedBackJob(t *testing.T) {
	q := newFakeQueue(publishJob("1", "aaa"))
	started := make(chan struct{})
	var buf bytes.Buffer
	r := runnerFunc(func(ctx context.Context, j queue.Job, log *logrus.Entry) publisher.Result {
		close(started)
		<-ctx.Done()
		return publisher.Result{Job: j, Outcome: publisher.OutcomeFailed, Err: ctx.Err()}
	})
	w, _ := New(Options{Queue: q, Runner: r, Log: testLog(&buf), Grace: time.Millisecond})
	stop := startWorker(t, w)
	<-started
	stop()
	select {
	case j := <-q.released:
		if j.ID != "1" {
			t.Errorf("released %s", j.ID)
		}
	default:
		t.Error("the handed-back job was not released")
	}
}

// flakyQueue fails its first Take, then behaves; it closes on demand.
type flakyQueue struct {
	*fakeQueue
	mu     sync.Mutex
	fails  int
	closed chan struct{}
}

func (q *flakyQueue) Take(ctx context.Context) (queue.Job, error) {
	q.mu.Lock()
	if q.fails > 0 {
		q.fails--
		q.mu.Unlock()
		return queue.Job{}, errors.New("disk hiccup")
	}
	q.mu.Unlock()
	select {
	case <-q.closed:
		return queue.Job{}, queue.ErrClosed
	default:
	}
	select {
	case j := <-q.jobs:
		return j, nil
	case <-q.closed:
		return queue.Job{}, queue.ErrClosed
	case <-ctx.Done():
		return queue.Job{}, ctx.Err()
	}
}

func TestWorkerSurvivesTakeErrorsAndStopsOnClose(t *testing.T) {
	q := &flakyQueue{fakeQueue: newFakeQueue(publishJob("1", "a")), fails: 2, closed: make(chan struct{})}
	var buf syncBuffer
	l := logrus.New()
	l.Out = &buf
	r := runnerFunc(func(ctx context.Context, j queue.Job, log *logrus.Entry) publisher.Result {
		return publisher.Result{Job: j, Outcome: publisher.OutcomeUnchanged}
	})
	w, _ := New(Options{Queue: q, Runner: r, Log: logrus.NewEntry(l)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ret := make(chan error, 1)
	go func() { ret <- w.Run(ctx) }()
	if d := waitDone(t, q.fakeQueue); d.err != nil {
		t.Fatalf("job after take errors: %v", d.err)
	}
	close(q.closed)
	// The lane stops on ErrClosed; Run itself returns when ctx ends.
	testkit.WaitFor(t, "the lane to log the closed queue", 10*time.Second, func() bool { return strings.Contains(buf.String(), "queue closed") })
	cancel()
	if err := <-ret; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "disk hiccup") {
		t.Errorf("take errors were not logged:\n%s", buf.String())
	}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.String()
}

func TestWorkerRecordsOnlySourceBranchPublishes(t *testing.T) {
	other := publishJob("2", "bbb")
	other.Ref = "refs/heads/feature"
	q := newFakeQueue(other, publishJob("1", "aaa"))
	set, err := OpenPublishedSet(filepath.Join(t.TempDir(), "published.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	r := runnerFunc(func(ctx context.Context, j queue.Job, log *logrus.Entry) publisher.Result {
		if j.Ref != "refs/heads/main" {
			return publisher.Result{Job: j, Outcome: publisher.OutcomeSkipped}
		}
		return publisher.Result{Job: j, Outcome: publisher.OutcomeUnchanged}
	})
	w, _ := New(Options{Queue: q, Runner: r, Log: testLog(&buf), Published: set})
	startWorker(t, w)
	waitDone(t, q)
	waitDone(t, q)
	if list := set.List(); len(list) != 1 || list[0].Ref != "refs/heads/main" {
		t.Errorf("published set = %+v, want only the source branch", list)
	}
}

// flakyDoneQueue fails the first fails Done calls, as a disk that could not
// commit would.
type flakyDoneQueue struct {
	*fakeQueue
	mu    sync.Mutex
	fails int
	calls int
}

func (q *flakyDoneQueue) Done(ctx context.Context, j queue.Job, err error) error {
	q.mu.Lock()
	q.calls++
	fail := q.calls <= q.fails
	q.mu.Unlock()
	if fail {
		return errors.New("queue: commit: input/output error")
	}
	return q.fakeQueue.Done(ctx, j, err)
}

// TestWorkerRetriesDone checks that a Done the queue could not store is
// retried: until it lands, the queue holds the job as running and blocks
// every other job of its repository.
func TestWorkerRetriesDone(t *testing.T) {
	q := &flakyDoneQueue{fakeQueue: newFakeQueue(publishJob("1", "aaa")), fails: 2}
	var buf syncBuffer
	r := runnerFunc(func(ctx context.Context, j queue.Job, log *logrus.Entry) publisher.Result {
		return publisher.Result{Job: j, Outcome: publisher.OutcomePublished}
	})
	l := logrus.New()
	l.Out = &buf
	l.Formatter = &logrus.JSONFormatter{}
	w, err := New(Options{Queue: q, Runner: r, Log: logrus.NewEntry(l)})
	if err != nil {
		t.Fatal(err)
	}
	startWorker(t, w)
	if d := waitDone(t, q.fakeQueue); d.err != nil || d.job.ID != "1" {
		t.Fatalf("Done = %+v", d)
	}
	q.mu.Lock()
	calls := q.calls
	q.mu.Unlock()
	if calls != 3 {
		t.Errorf("Done called %d times, want 3 (two failures, then stored)", calls)
	}
	logs := buf.String()
	if strings.Count(logs, `"msg":"finish job in the queue"`) != 2 || !strings.Contains(logs, "input/output error") {
		t.Errorf("want both failures logged:\n%s", logs)
	}
}

// TestWorkerGivesUpDoneOnShutdown checks that a worker told to stop does not
// hang on a queue that cannot store: the job runs again after the restart.
func TestWorkerGivesUpDoneOnShutdown(t *testing.T) {
	q := &flakyDoneQueue{fakeQueue: newFakeQueue(), fails: 1 << 30}
	started := make(chan struct{})
	r := runnerFunc(func(ctx context.Context, j queue.Job, log *logrus.Entry) publisher.Result {
		close(started)
		return publisher.Result{Job: j, Outcome: publisher.OutcomePublished}
	})
	var buf bytes.Buffer
	w, err := New(Options{Queue: q, Runner: r, Log: testLog(&buf)})
	if err != nil {
		t.Fatal(err)
	}
	stop := startWorker(t, w)
	q.jobs <- publishJob("1", "aaa")
	<-started
	stop() // returns only once the lane has given up
	q.mu.Lock()
	calls := q.calls
	q.mu.Unlock()
	if calls < 1 {
		t.Errorf("Done never tried")
	}
}
