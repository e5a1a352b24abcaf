// Package queuetest is the queue.Queue contract as a test suite: Run checks
// an implementation, given a way to open it, against every promise the
// contract makes (durability across reopen, coalescing, one job per
// repository at a time in enqueue order, retries with backoff, dead letters,
// delayed jobs, a crashed consumer's jobs running again, delivery dedup,
// Release, Close). The embedded queue and the JetStream queue both run it.
//
// The suite uses the real clock with short delays (about a second), so an
// implementation that keeps time in a server can run it unchanged.
package queuetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/publishbot/publishbot/queue"
)

// Harness says how to open the implementation under test.
type Harness struct {
	// Open opens the queue stored under name: the same name after Close
	// gives the same jobs, a new name an empty queue. The suite closes the
	// queues it opens; Open may register its own cleanup too.
	Open func(t testing.TB, name string, opts queue.Options) queue.Queue
	// GlobalOrder says that ready jobs of different repositories leave in
	// enqueue order too (the embedded queue). Without it only the order
	// within a repository is checked.
	GlobalOrder bool
	// Lease is how long a job taken by a queue that was closed without
	// Done stays leased before it is ready again (0: at once on reopen).
	Lease time.Duration
	// EnqueueJobs is how many distinct jobs the concurrency test enqueues
	// (each twice, concurrently). Default 200.
	EnqueueJobs int
}

// DeadLetterer is what the suite needs to read dead letters back; both
// implementations have it.
type DeadLetterer interface {
	DeadLetterDetails(ctx context.Context) ([]queue.DeadLetter, error)
}

// Run runs the contract suite as subtests of t.
func Run(t *testing.T, h Harness) {
	if h.EnqueueJobs == 0 {
		h.EnqueueJobs = 200
	}
	s := &suite{h: h}
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"DurableAcrossReopen", s.durableAcrossReopen},
		{"Coalescing", s.coalescing},
		{"PerRepositoryOrder", s.perRepositoryOrder},
		{"PerRepositoryOrderUnderLoad", s.perRepositoryOrderUnderLoad},
		{"RetryBackoffDeadLetter", s.retryBackoffDeadLetter},
		{"DelayedJobs", s.delayedJobs},
		{"CrashRecovery", s.crashRecovery},
		{"Dedup", s.dedup},
		{"ConcurrentEnqueue", s.concurrentEnqueue},
		{"CloseUnblocksTake", s.closeUnblocksTake},
		{"Release", s.release},
		{"EnqueueInvalid", s.enqueueInvalid},
		{"EnqueueKeepsID", s.enqueueKeepsID},
		{"ListAndRetry", s.listAndRetry},
	} {
		t.Run(tc.name, tc.fn)
	}
}

type suite struct {
	h Harness
	n atomic.Int64
}

// name returns a fresh storage name.
func (s *suite) name() string { return "q" + strconv.FormatInt(s.n.Add(1), 10) }

// open opens name and closes it at the end of the test.
func (s *suite) open(t testing.TB, name string, opts queue.Options) queue.Queue {
	t.Helper()
	q := s.h.Open(t, name, opts)
	t.Cleanup(func() { q.Close() })
	return q
}

// Publish is a push job of repo's main branch at sha.
func Publish(repo, sha string) queue.Job {
	return queue.Job{Kind: queue.KindPublish, Repo: queue.Repo{FullName: repo, CloneURL: "https://github.com/" + repo + ".git"}, Ref: "refs/heads/main", SHA: sha, Reason: "push"}
}

// Preview is a preview job of pull request pr of repo at sha.
func Preview(repo string, pr int, sha string) queue.Job {
	return queue.Job{Kind: queue.KindPreview, Repo: queue.Repo{FullName: repo}, Ref: fmt.Sprintf("refs/pull/%d/head", pr), SHA: sha, PR: pr, Reason: "pull_request.opened"}
}

// MustEnqueue enqueues j or fails the test.
func MustEnqueue(t testing.TB, q queue.Queue, j queue.Job) {
	t.Helper()
	if err := q.Enqueue(context.Background(), j); err != nil {
		t.Fatalf("Enqueue %s %s: %v", j.Repo.FullName, j.SHA, err)
	}
}

// MustTake takes a job within 20 seconds or fails the test.
func MustTake(t testing.TB, q queue.Queue) queue.Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	j, err := q.Take(ctx)
	if err != nil {
		t.Fatalf("Take: %v", err)
	}
	return j
}

// TakeNothing asserts that nothing is ready: Take gives up after a short wait.
func TakeNothing(t testing.TB, q queue.Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if j, err := q.Take(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Take = %+v, %v; want nothing ready", j, err)
	}
}

// MustStats asserts q's Stats.
func MustStats(t testing.TB, q queue.Queue, want queue.Stats) {
	t.Helper()
	got, err := q.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("Stats = %+v, want %+v", got, want)
	}
}

func mustDone(t testing.TB, q queue.Queue, j queue.Job, runErr error) {
	t.Helper()
	if err := q.Done(context.Background(), j, runErr); err != nil {
		t.Fatalf("Done %s: %v", j.ID, err)
	}
}

func deadLetters(t testing.TB, q queue.Queue) []queue.DeadLetter {
	t.Helper()
	d, ok := q.(DeadLetterer)
	if !ok {
		t.Fatalf("%T cannot list its dead letters (no DeadLetterDetails)", q)
	}
	dead, err := d.DeadLetterDetails(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return dead
}

func (s *suite) durableAcrossReopen(t *testing.T) {
	name := s.name()
	q := s.h.Open(t, name, queue.Options{})
	in := []queue.Job{Publish("acme/a", "a1"), Preview("acme/b", 7, "b1"), Publish("acme/c", "c1")}
	in[1].Title, in[1].BaseRef, in[1].Delivery, in[1].HeadRepo = "Fix typo", "main", "d-1", "forker/b"
	for _, j := range in {
		MustEnqueue(t, q, j)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Enqueue(context.Background(), Publish("acme/d", "d")); !errors.Is(err, queue.ErrClosed) {
		t.Fatalf("Enqueue after Close = %v, want ErrClosed", err)
	}

	q = s.open(t, name, queue.Options{})
	MustStats(t, q, queue.Stats{Queued: 3})
	want := map[string]queue.Job{}
	for _, j := range in {
		want[j.SHA] = j
	}
	for i := range in {
		got := MustTake(t, q)
		if got.ID == "" || got.Created.IsZero() || got.Attempt != 1 {
			t.Errorf("job %d: ID %q Created %v Attempt %d; want assigned, set, 1", i, got.ID, got.Created, got.Attempt)
		}
		w, ok := want[got.SHA]
		if s.h.GlobalOrder {
			w, ok = in[i], true
		}
		if !ok || got.SHA != w.SHA || got.Kind != w.Kind || got.Repo != w.Repo || got.Title != w.Title || got.Delivery != w.Delivery || got.PR != w.PR || got.HeadRepo != w.HeadRepo {
			t.Errorf("job %d = %+v, want %+v", i, got, w)
		}
		delete(want, got.SHA)
		mustDone(t, q, got, nil)
	}
	MustStats(t, q, queue.Stats{})
}

func (s *suite) coalescing(t *testing.T) {
	t.Run("newer replaces older and keeps its place", func(t *testing.T) {
		q := s.open(t, s.name(), queue.Options{})
		MustEnqueue(t, q, Publish("acme/a", "a1"))
		MustEnqueue(t, q, Publish("acme/b", "b1"))
		MustEnqueue(t, q, Publish("acme/a", "a2"))
		MustEnqueue(t, q, Publish("acme/a", "a3"))
		MustStats(t, q, queue.Stats{Queued: 2})
		got := map[string]queue.Job{}
		for i := range 2 {
			j := MustTake(t, q)
			got[j.Repo.FullName] = j
			if s.h.GlobalOrder && i == 0 && j.Repo.FullName != "acme/a" {
				t.Fatalf("first = %s, want acme/a in a1's place", j.Repo.FullName)
			}
		}
		if a := got["acme/a"]; a.SHA != "" || a.Ref != "refs/heads/main" {
			t.Fatalf("acme/a = %q, want the head of main (\"\")", a.SHA)
		}
		if b := got["acme/b"]; b.SHA != "b1" {
			t.Fatalf("acme/b = %s, want b1", b.SHA)
		}
	})
	t.Run("newer keeps the older one's place in its repository", func(t *testing.T) {
		q := s.open(t, s.name(), queue.Options{})
		MustEnqueue(t, q, Publish("acme/a", "a1"))
		MustEnqueue(t, q, Preview("acme/a", 4, "p1"))
		MustEnqueue(t, q, Publish("acme/a", "a2"))
		if got := MustTake(t, q); got.Kind != queue.KindPublish {
			t.Fatalf("first = %s %s, want the publish in a1's place", got.Kind, got.SHA)
		}
	})
	t.Run("deliveries out of order build the head", func(t *testing.T) {
		q := s.open(t, s.name(), queue.Options{})
		MustEnqueue(t, q, Publish("acme/a", "B")) // B's delivery overtook A's
		MustEnqueue(t, q, Publish("acme/a", "A"))
		got := MustTake(t, q)
		if got.SHA != "" {
			t.Fatalf("SHA %q, want \"\": the queue cannot tell which is newer", got.SHA)
		}
		mustDone(t, q, got, nil)
		MustEnqueue(t, q, Preview("acme/a", 5, "p1"))
		MustEnqueue(t, q, Preview("acme/a", 5, "p1")) // same commit twice: kept
		if got := MustTake(t, q); got.SHA != "p1" {
			t.Fatalf("SHA %q, want p1", got.SHA)
		}
	})
	t.Run("a running job is not replaced", func(t *testing.T) {
		q := s.open(t, s.name(), queue.Options{})
		MustEnqueue(t, q, Publish("acme/a", "a1"))
		running := MustTake(t, q)
		a2, a3 := Publish("acme/a", "a2"), Publish("acme/a", "a3")
		a2.ID, a3.ID = "job-a2", "job-a3"
		MustEnqueue(t, q, a2)
		MustEnqueue(t, q, a3)
		MustStats(t, q, queue.Stats{Queued: 1, Running: 1})
		TakeNothing(t, q) // a3 waits for a1: same repository
		mustDone(t, q, running, nil)
		if got := MustTake(t, q); got.ID != "job-a3" {
			t.Fatalf("got %s, want job-a3", got.ID)
		}
	})
	t.Run("other branches, pull requests and repositories are separate", func(t *testing.T) {
		q := s.open(t, s.name(), queue.Options{})
		dev := Publish("acme/a", "dev1")
		dev.Ref = "refs/heads/dev"
		for _, j := range []queue.Job{Publish("acme/a", "a1"), dev, Preview("acme/a", 1, "p1"), Preview("acme/a", 2, "q1"), Publish("acme/b", "b1")} {
			MustEnqueue(t, q, j)
		}
		MustStats(t, q, queue.Stats{Queued: 5})
	})
	t.Run("clean-up replaces the preview of its pull request", func(t *testing.T) {
		q := s.open(t, s.name(), queue.Options{})
		MustEnqueue(t, q, Preview("acme/a", 3, "p1"))
		cleanup := Preview("acme/a", 3, "p2")
		cleanup.Kind = queue.KindCleanup
		MustEnqueue(t, q, cleanup)
		MustStats(t, q, queue.Stats{Queued: 1})
		if got := MustTake(t, q); got.Kind != queue.KindCleanup {
			t.Fatalf("got %s, want cleanup", got.Kind)
		}
	})
	t.Run("the earlier start wins", func(t *testing.T) {
		q := s.open(t, s.name(), queue.Options{})
		later := Publish("acme/a", "scheduled")
		later.NotBefore = time.Now().Add(time.Hour)
		later.ID = "scheduled"
		MustEnqueue(t, q, later)
		pushed := Publish("acme/a", "pushed") // due now
		pushed.ID = "pushed"
		MustEnqueue(t, q, pushed)
		MustStats(t, q, queue.Stats{Queued: 1})
		if got := MustTake(t, q); got.ID != "pushed" {
			t.Fatalf("got %s", got.ID)
		}

		first := Publish("acme/b", "b1")
		first.NotBefore = time.Now().Add(time.Hour)
		second := Publish("acme/b", "b2")
		second.NotBefore = time.Now().Add(2 * time.Hour)
		MustEnqueue(t, q, first)
		MustEnqueue(t, q, second)
		MustStats(t, q, queue.Stats{Delayed: 1, Running: 1})
	})
}

func (s *suite) perRepositoryOrder(t *testing.T) {
	ctx := context.Background()
	q := s.open(t, s.name(), queue.Options{})
	MustEnqueue(t, q, Publish("acme/a", "a1"))
	MustEnqueue(t, q, Preview("acme/a", 4, "a2"))
	MustEnqueue(t, q, Publish("acme/b", "b1"))

	first, second := MustTake(t, q), MustTake(t, q) // a2 must wait for a1; b runs beside it
	took := []string{first.SHA, second.SHA}
	slices.Sort(took)
	if !slices.Equal(took, []string{"a1", "b1"}) {
		t.Fatalf("took %v; want a1 and b1", took)
	}
	a1 := first
	if a1.SHA != "a1" {
		a1 = second
	}
	TakeNothing(t, q)

	got := make(chan queue.Job, 1)
	go func() {
		j, err := q.Take(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- j
	}()
	mustDone(t, q, a1, nil)
	select {
	case j := <-got:
		if j.SHA != "a2" {
			t.Fatalf("got %s, want a2", j.SHA)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Take did not wake up when the repository became free")
	}
}

// perRepositoryOrderUnderLoad runs many workers over many repositories and
// checks that no repository ever has two jobs running, that each
// repository's jobs run in enqueue order, and that repositories do run side
// by side.
func (s *suite) perRepositoryOrderUnderLoad(t *testing.T) {
	ctx := context.Background()
	q := s.open(t, s.name(), queue.Options{})
	const repos, perRepo, workers = 6, 20, 6
	for i := range perRepo {
		for r := range repos {
			MustEnqueue(t, q, Preview(fmt.Sprintf("acme/r%d", r), i+1, strconv.Itoa(i)))
		}
	}
	var (
		mu        sync.Mutex
		inFlight  = map[string]int{}
		seen      = map[string][]int{}
		total     int
		maxRepos  int
		runningWG sync.WaitGroup
	)
	// Hold the first job of every worker until all workers hold one, so
	// repositories demonstrably run at the same time.
	var gate sync.WaitGroup
	gate.Add(workers)
	for w := range workers {
		runningWG.Add(1)
		go func() {
			defer runningWG.Done()
			first := true
			for {
				j, err := q.Take(ctx)
				if errors.Is(err, queue.ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				inFlight[j.RepoKey()]++
				if inFlight[j.RepoKey()] > 1 {
					t.Errorf("worker %d: two jobs of %s running at once", w, j.RepoKey())
				}
				busy := 0
				for _, n := range inFlight {
					if n > 0 {
						busy++
					}
				}
				maxRepos = max(maxRepos, busy)
				n, _ := strconv.Atoi(j.SHA)
				seen[j.RepoKey()] = append(seen[j.RepoKey()], n)
				mu.Unlock()
				if first {
					gate.Done()
					gate.Wait()
					first = false
				}
				mu.Lock()
				inFlight[j.RepoKey()]--
				total++
				finished := total == repos*perRepo
				mu.Unlock()
				if err := q.Done(ctx, j, nil); err != nil {
					t.Error(err)
				}
				if finished {
					q.Close()
				}
			}
		}()
	}
	runningWG.Wait()
	if maxRepos != workers {
		t.Errorf("at most %d repositories ran at once, want %d", maxRepos, workers)
	}
	for r, order := range seen {
		if !slices.IsSorted(order) || len(order) != perRepo {
			t.Errorf("%s ran %v, want 0..%d in order", r, order, perRepo-1)
		}
	}
}

func (s *suite) retryBackoffDeadLetter(t *testing.T) {
	ctx := context.Background()
	errFlaky := errors.New("push rejected: 502")
	errBad := errors.New("publish.yaml is broken")
	const base = time.Second
	q := s.open(t, s.name(), queue.Options{
		MaxAttempts: 3, BaseBackoff: base, MaxBackoff: 90 * time.Second,
		Retryable: func(err error) bool { return !errors.Is(err, errBad) },
	})
	MustEnqueue(t, q, Publish("acme/a", "a1"))

	for attempt := 1; attempt <= 3; attempt++ {
		j := MustTake(t, q)
		if j.Attempt != attempt {
			t.Fatalf("Attempt = %d, want %d", j.Attempt, attempt)
		}
		failed := time.Now()
		mustDone(t, q, j, fmt.Errorf("publish: %w", errFlaky))
		if attempt == 3 {
			break
		}
		d := base << (attempt - 1) // 1s, 2s
		if time.Since(failed) < d/4 {
			// The retry cannot be due yet: it waits at least d/2.
			MustStats(t, q, queue.Stats{Delayed: 1})
		}
		again := MustTake(t, q)
		if early := time.Until(failed.Add(d / 2)); early > 0 {
			t.Fatalf("retry %d ran %v before its backoff (at least %v) was over", again.Attempt, early, d/2)
		}
		if again.ID != j.ID || again.Attempt != attempt+1 {
			t.Fatalf("retry = %s attempt %d, want %s attempt %d", again.ID, again.Attempt, j.ID, attempt+1)
		}
		if err := q.Release(ctx, again); err != nil { // hand back, so the loop's Take sees it again
			t.Fatal(err)
		}
	}
	MustStats(t, q, queue.Stats{Dead: 1})
	dead := deadLetters(t, q)
	if len(dead) != 1 || dead[0].Job.SHA != "a1" || dead[0].Job.Attempt != 3 || !strings.Contains(dead[0].Error, "502") || dead[0].DeadAt.IsZero() {
		t.Fatalf("dead letters = %+v", dead)
	}

	t.Run("permanent error dead-letters at once", func(t *testing.T) {
		MustEnqueue(t, q, Publish("acme/b", "b1"))
		j := MustTake(t, q)
		mustDone(t, q, j, fmt.Errorf("build: %w", errBad))
		MustStats(t, q, queue.Stats{Dead: 2})
		dead := deadLetters(t, q)
		if len(dead) != 2 || dead[1].Job.SHA != "b1" || dead[1].Job.Attempt != 1 || !strings.Contains(dead[1].Error, "broken") {
			t.Fatalf("dead letters = %+v", dead)
		}
	})
	t.Run("a retry gives way to a newer queued job", func(t *testing.T) {
		MustEnqueue(t, q, Publish("acme/c", "c1"))
		j := MustTake(t, q)
		MustEnqueue(t, q, Publish("acme/c", "c2"))
		mustDone(t, q, j, errFlaky)
		MustStats(t, q, queue.Stats{Queued: 1, Dead: 2})
		// c2 may be the older commit (its delivery came late): the job
		// left builds the head, which holds both.
		got := MustTake(t, q)
		if got.SHA != "" || got.Attempt != 1 {
			t.Fatalf("got %q attempt %d, want the head (\"\") attempt 1", got.SHA, got.Attempt)
		}
		mustDone(t, q, got, nil)
	})
	t.Run("a retry of the same commit leaves the newer job's commit", func(t *testing.T) {
		MustEnqueue(t, q, Publish("acme/d", "d1"))
		j := MustTake(t, q)
		MustEnqueue(t, q, Publish("acme/d", "d1"))
		mustDone(t, q, j, errFlaky)
		if got := MustTake(t, q); got.SHA != "d1" {
			t.Fatalf("got %q, want d1", got.SHA)
		}
	})
	t.Run("Done of a job not running", func(t *testing.T) {
		if err := q.Done(ctx, queue.Job{ID: "nope"}, nil); !errors.Is(err, queue.ErrNotRunning) {
			t.Fatalf("Done = %v, want ErrNotRunning", err)
		}
		if err := q.Release(ctx, queue.Job{ID: "nope"}); !errors.Is(err, queue.ErrNotRunning) {
			t.Fatalf("Release = %v, want ErrNotRunning", err)
		}
	})
}

func (s *suite) delayedJobs(t *testing.T) {
	q := s.open(t, s.name(), queue.Options{})
	scheduled := Publish("acme/a", "scheduled")
	scheduled.NotBefore = time.Now().Add(1500 * time.Millisecond)
	scheduled.Reason = "schedule"
	MustEnqueue(t, q, scheduled)
	MustEnqueue(t, q, Preview("acme/a", 9, "pr")) // same repository, not held up by the delayed job
	if time.Now().Before(scheduled.NotBefore.Add(-time.Second)) {
		MustStats(t, q, queue.Stats{Queued: 1, Delayed: 1})
	}
	pr := MustTake(t, q)
	if pr.SHA != "pr" {
		t.Fatalf("got %s, want the pull request", pr.SHA)
	}
	mustDone(t, q, pr, nil)
	got := MustTake(t, q)
	// Measured against NotBefore, not against the end of Enqueue, on the
	// wall clock as a queue must (a NotBefore is stored, and read by other
	// processes): the monotonic reading of time.Now, which the queue never
	// sees, can drift from it by milliseconds on a VM.
	if now := time.Now().Round(0); got.SHA != "scheduled" || now.Before(scheduled.NotBefore.Round(0)) {
		t.Fatalf("got %s %v before its time", got.SHA, scheduled.NotBefore.Sub(now))
	}

	t.Run("a job far in the future waits and is not dead-lettered", func(t *testing.T) {
		q := s.open(t, s.name(), queue.Options{MaxAttempts: 1})
		future := Publish("acme/f", "2030")
		future.NotBefore = time.Now().AddDate(4, 0, 0)
		MustEnqueue(t, q, future)
		TakeNothing(t, q)
		TakeNothing(t, q)
		MustStats(t, q, queue.Stats{Delayed: 1})
	})
}

func (s *suite) crashRecovery(t *testing.T) {
	t.Run("job taken and not done is ready after reopen", func(t *testing.T) {
		name := s.name()
		q := s.h.Open(t, name, queue.Options{})
		MustEnqueue(t, q, Publish("acme/a", "a1"))
		MustEnqueue(t, q, Publish("acme/b", "b1"))
		first := MustTake(t, q)
		q.Close() // as if the process stopped mid-job

		q = s.open(t, name, queue.Options{})
		seen := map[string]queue.Job{}
		for range 2 {
			j := MustTake(t, q)
			seen[j.ID] = j
		}
		again, ok := seen[first.ID]
		if !ok || again.Attempt != 2 {
			t.Fatalf("after reopen took %+v, want %s attempt 2", seen, first.ID)
		}
		mustDone(t, q, again, nil)
		if err := q.Done(context.Background(), first, nil); !errors.Is(err, queue.ErrNotRunning) {
			t.Fatalf("second Done = %v, want ErrNotRunning", err)
		}
	})
	t.Run("interrupted on the last attempt is dead-lettered", func(t *testing.T) {
		name := s.name()
		q := s.h.Open(t, name, queue.Options{MaxAttempts: 1})
		MustEnqueue(t, q, Publish("acme/a", "a1"))
		MustTake(t, q)
		q.Close()
		q = s.open(t, name, queue.Options{MaxAttempts: 1})
		MustEnqueue(t, q, Publish("acme/z", "z1"))
		// Take until the interrupted job is dead-lettered (once its lease
		// ran out): only z1 may come out.
		deadline := time.Now().Add(5*s.h.Lease + 5*time.Second)
		var dead []queue.DeadLetter
		for len(dead) == 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			j, err := q.Take(ctx)
			cancel()
			if err == nil && j.SHA != "z1" {
				t.Fatalf("took %s, want z1: the interrupted job has no attempts left", j.SHA)
			}
			if err == nil {
				mustDone(t, q, j, nil)
			} else if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatal(err)
			}
			if dead = deadLetters(t, q); len(dead) == 0 && time.Now().After(deadline) {
				t.Fatal("no dead letter for the interrupted job")
			}
		}
		if len(dead) != 1 || dead[0].Job.SHA != "a1" || !strings.Contains(dead[0].Error, "interrupted") {
			t.Fatalf("dead letters = %+v", dead)
		}
	})
}

func (s *suite) dedup(t *testing.T) {
	ctx := context.Background()
	name := s.name()
	q := s.h.Open(t, name, queue.Options{})
	j := Publish("acme/a", "a1")
	j.Delivery = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
	MustEnqueue(t, q, j)
	if err := q.Enqueue(ctx, j); !errors.Is(err, queue.ErrDuplicate) {
		t.Fatalf("second Enqueue = %v, want ErrDuplicate", err)
	}
	taken := MustTake(t, q)
	mustDone(t, q, taken, nil)
	q.Close()

	q = s.open(t, name, queue.Options{})
	if err := q.Enqueue(ctx, j); !errors.Is(err, queue.ErrDuplicate) {
		t.Fatalf("Enqueue after reopen and Done = %v, want ErrDuplicate", err)
	}
	other := j
	other.Delivery = "72d3162e-cc78-11e3-81ab-4c9367dc0959"
	MustEnqueue(t, q, other)
	MustStats(t, q, queue.Stats{Queued: 1})
}

func (s *suite) concurrentEnqueue(t *testing.T) {
	ctx := context.Background()
	name := s.name()
	q := s.h.Open(t, name, queue.Options{})
	n := s.h.EnqueueJobs
	var wg sync.WaitGroup
	var dups atomic.Int32
	errs := make(chan error, 2*n)
	for i := range n {
		for range 2 { // every delivery arrives twice, concurrently
			wg.Go(func() {
				j := Publish(fmt.Sprintf("acme/r%03d", i), strconv.Itoa(i))
				j.Delivery = fmt.Sprintf("delivery-%d", i)
				err := q.Enqueue(ctx, j)
				if errors.Is(err, queue.ErrDuplicate) {
					dups.Add(1)
				} else if err != nil {
					errs <- err
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if int(dups.Load()) != n {
		t.Errorf("%d duplicates, want %d", dups.Load(), n)
	}
	MustStats(t, q, queue.Stats{Queued: n})
	q.Close()

	q = s.open(t, name, queue.Options{})
	MustStats(t, q, queue.Stats{Queued: n})
	seen := map[string]bool{}
	for range n {
		j := MustTake(t, q)
		if seen[j.Repo.FullName] {
			t.Fatalf("%s taken twice", j.Repo.FullName)
		}
		seen[j.Repo.FullName] = true
	}
}

func (s *suite) closeUnblocksTake(t *testing.T) {
	q := s.h.Open(t, s.name(), queue.Options{})
	errc := make(chan error, 1)
	go func() {
		_, err := q.Take(context.Background())
		errc <- err
	}()
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, queue.ErrClosed) {
			t.Fatalf("Take = %v, want ErrClosed", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Take still blocked after Close")
	}
	if err := q.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if _, err := q.Stats(context.Background()); !errors.Is(err, queue.ErrClosed) {
		t.Fatalf("Stats = %v, want ErrClosed", err)
	}
}

func (s *suite) release(t *testing.T) {
	ctx := context.Background()
	name := s.name()
	q := s.h.Open(t, name, queue.Options{})
	MustEnqueue(t, q, Publish("acme/a", "a1"))
	j := MustTake(t, q)
	if err := q.Release(ctx, j); err != nil {
		t.Fatal(err)
	}
	again := MustTake(t, q)
	if again.ID != j.ID || again.Attempt != 1 {
		t.Fatalf("after Release took %s attempt %d, want %s attempt 1", again.ID, again.Attempt, j.ID)
	}
	MustEnqueue(t, q, Publish("acme/a", "a2"))
	if err := q.Release(ctx, again); err != nil {
		t.Fatal(err)
	}
	if err := q.Release(ctx, again); !errors.Is(err, queue.ErrNotRunning) {
		t.Fatalf("second Release = %v, want ErrNotRunning", err)
	}
	MustStats(t, q, queue.Stats{Queued: 1}) // the newer job superseded the released one
	// The released a1 may be the newer commit (a2's delivery came late): the
	// job left builds the head, so a1 is not lost.
	if got := MustTake(t, q); got.SHA != "" {
		t.Fatalf("got %q, want the head (\"\")", got.SHA)
	}
	// Durably so: the merged job is what a restart finds.
	q.Close()
	q2 := s.open(t, name, queue.Options{})
	if got := MustTake(t, q2); got.SHA != "" {
		t.Fatalf("after reopen got %q, want the head", got.SHA)
	}
}

func (s *suite) enqueueInvalid(t *testing.T) {
	q := s.open(t, s.name(), queue.Options{})
	for _, j := range []queue.Job{{Kind: queue.KindPublish}, {Kind: "deploy", Repo: queue.Repo{FullName: "acme/a"}}} {
		if err := q.Enqueue(context.Background(), j); !errors.Is(err, queue.ErrInvalidJob) {
			t.Errorf("Enqueue(%+v) = %v, want ErrInvalidJob", j, err)
		}
	}
	MustStats(t, q, queue.Stats{})
}

func (s *suite) enqueueKeepsID(t *testing.T) {
	q := s.open(t, s.name(), queue.Options{})
	j := Publish("acme/a", "a1")
	j.ID = "given"
	MustEnqueue(t, q, j)
	MustEnqueue(t, q, Publish("acme/b", "b1"))
	ids := map[string]bool{}
	for range 2 {
		got := MustTake(t, q)
		if got.ID == "" || ids[got.ID] {
			t.Fatalf("id %q empty or taken twice", got.ID)
		}
		ids[got.ID] = true
	}
	if !ids["given"] {
		t.Fatalf("ids %v, want the given one kept", ids)
	}
}

func (s *suite) listAndRetry(t *testing.T) {
	ctx := context.Background()
	name := s.name()
	q := s.h.Open(t, name, queue.Options{MaxAttempts: 1})
	dying := Publish("acme/blog", "a1")
	dying.Delivery = "d-1"
	MustEnqueue(t, q, dying)
	taken := MustTake(t, q)
	mustDone(t, q, taken, errors.New("push: 502 Bad Gateway"))
	MustEnqueue(t, q, Publish("acme/other", "b1"))
	running := MustTake(t, q)
	later := Publish("acme/third", "c1")
	later.NotBefore = time.Now().Add(time.Hour)
	MustEnqueue(t, q, later)
	MustEnqueue(t, q, Preview("acme/other", 3, "p1"))

	list, err := q.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range list {
		got = append(got, string(in.State)+" "+in.Job.Repo.FullName)
	}
	want := []string{"running acme/other", "delayed acme/third", "queued acme/other", "dead acme/blog"}
	if !slices.Equal(got, want) {
		t.Fatalf("List = %q, want %q", got, want)
	}
	if list[3].LastError != "push: 502 Bad Gateway" || list[3].Job.Attempt != 1 || list[3].Job.ID != taken.ID || list[0].Since.IsZero() || list[0].Job.ID != running.ID {
		t.Fatalf("dead letter = %+v, running = %+v", list[3], list[0])
	}
	mustDone(t, q, running, nil)

	if err := q.Retry(ctx, "no-such-id"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Retry(unknown) = %v, want ErrNotFound", err)
	}
	if err := q.Retry(ctx, taken.ID); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	MustStats(t, q, queue.Stats{Queued: 2, Delayed: 1})
	seen := map[string]queue.Job{}
	for range 2 {
		j := MustTake(t, q)
		seen[j.Repo.FullName] = j
		mustDone(t, q, j, nil)
	}
	again := seen["acme/blog"]
	if again.ID != taken.ID || again.Attempt != 1 || again.SHA != "a1" {
		t.Fatalf("retried job = %+v, want %s at attempt 1", again, taken.ID)
	}
	if err := q.Retry(ctx, taken.ID); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("second Retry = %v, want ErrNotFound", err)
	}

	// A retried dead letter survives a reopen like any queued job.
	MustEnqueue(t, q, Publish("acme/blog", "a2"))
	taken = MustTake(t, q)
	mustDone(t, q, taken, errors.New("boom"))
	if err := q.Retry(ctx, taken.ID); err != nil {
		t.Fatal(err)
	}
	q.Close()
	q = s.open(t, name, queue.Options{MaxAttempts: 1})
	MustStats(t, q, queue.Stats{Queued: 1, Delayed: 1})
	if j := MustTake(t, q); j.ID != taken.ID || j.Attempt != 1 {
		t.Fatalf("after reopen took %+v, want the retried %s at attempt 1", j, taken.ID)
	}
}
