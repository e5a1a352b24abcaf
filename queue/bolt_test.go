package queue

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	bolt "go.etcd.io/bbolt"

	"github.com/publishbot/publishbot/testkit"
)

// fakeClock is an injected clock: Now is fixed until Advance, and After's
// channels fire when Advance passes their time.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 6, 14, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{at: c.now.Add(d), ch: ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

func openTest(t testing.TB, path string, opts Options) *Bolt {
	t.Helper()
	q, err := OpenBolt(path, opts)
	if err != nil {
		t.Fatalf("OpenBolt: %v", err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func publish(repo, sha string) Job {
	return Job{Kind: KindPublish, Repo: Repo{FullName: repo, CloneURL: "https://github.com/" + repo + ".git"}, Ref: "refs/heads/main", SHA: sha, Reason: "push"}
}

func preview(repo string, pr int, sha string) Job {
	return Job{Kind: KindPreview, Repo: Repo{FullName: repo}, Ref: fmt.Sprintf("refs/pull/%d/head", pr), SHA: sha, PR: pr, Reason: "pull_request.opened"}
}

func mustEnqueue(t testing.TB, q Queue, j Job) {
	t.Helper()
	if err := q.Enqueue(context.Background(), j); err != nil {
		t.Fatalf("Enqueue %s: %v", j.SHA, err)
	}
}

func mustTake(t testing.TB, q Queue) Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	j, err := q.Take(ctx)
	if err != nil {
		t.Fatalf("Take: %v", err)
	}
	return j
}

// takeNothing asserts that nothing is ready: Take gives up after a short wait.
func takeNothing(t *testing.T, q Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if j, err := q.Take(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Take = %+v, %v; want nothing ready", j, err)
	}
}

func mustStats(t *testing.T, q Queue, want Stats) {
	t.Helper()
	got, err := q.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("Stats = %+v, want %+v", got, want)
	}
}

func TestDurableAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	q, err := OpenBolt(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := []Job{publish("acme/a", "a1"), preview("acme/b", 7, "b1"), publish("acme/c", "c1")}
	in[1].Title, in[1].BaseRef, in[1].Delivery, in[1].HeadRepo = "Fix typo", "main", "d-1", "forker/b"
	for _, j := range in {
		mustEnqueue(t, q, j)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Enqueue(context.Background(), publish("acme/d", "d")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Enqueue after Close = %v, want ErrClosed", err)
	}

	q = openTest(t, path, Options{})
	mustStats(t, q, Stats{Queued: 3})
	for i, want := range in {
		got := mustTake(t, q)
		if got.ID == "" || got.Created.IsZero() || got.Attempt != 1 {
			t.Errorf("job %d: ID %q Created %v Attempt %d; want assigned, set, 1", i, got.ID, got.Created, got.Attempt)
		}
		if got.SHA != want.SHA || got.Kind != want.Kind || got.Repo != want.Repo || got.Title != want.Title || got.Delivery != want.Delivery || got.PR != want.PR || got.HeadRepo != want.HeadRepo {
			t.Errorf("job %d = %+v, want %+v", i, got, want)
		}
		if err := q.Done(context.Background(), got, nil); err != nil {
			t.Fatal(err)
		}
	}
	mustStats(t, q, Stats{})
}

func TestCoalescing(t *testing.T) {
	ctx := context.Background()
	t.Run("newer replaces older and keeps its place", func(t *testing.T) {
		q := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
		mustEnqueue(t, q, publish("acme/a", "a1"))
		mustEnqueue(t, q, publish("acme/b", "b1"))
		mustEnqueue(t, q, publish("acme/a", "a2"))
		mustEnqueue(t, q, publish("acme/a", "a3"))
		mustStats(t, q, Stats{Queued: 2})
		if got := mustTake(t, q); got.SHA != "" || got.Ref != "refs/heads/main" {
			t.Fatalf("first = %q, want the head of main (\"\") in a1's place", got.SHA)
		}
		if got := mustTake(t, q); got.SHA != "b1" {
			t.Fatalf("second = %s, want b1", got.SHA)
		}
	})
	t.Run("deliveries out of order build the head", func(t *testing.T) {
		q := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
		mustEnqueue(t, q, publish("acme/a", "B")) // B's delivery overtook A's
		mustEnqueue(t, q, publish("acme/a", "A"))
		if got := mustTake(t, q); got.SHA != "" {
			t.Fatalf("SHA %q, want \"\": the queue cannot tell which is newer", got.SHA)
		}
		mustEnqueue(t, q, preview("acme/a", 5, "p1"))
		mustEnqueue(t, q, preview("acme/a", 5, "p1")) // same commit twice: kept
		q.mu.Lock()
		sha := q.byKey[preview("acme/a", 5, "").Key()].rec.Job.SHA
		q.mu.Unlock()
		if sha != "p1" {
			t.Fatalf("SHA %q, want p1", sha)
		}
	})
	t.Run("a running job is not replaced", func(t *testing.T) {
		q := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
		mustEnqueue(t, q, publish("acme/a", "a1"))
		running := mustTake(t, q)
		a2, a3 := publish("acme/a", "a2"), publish("acme/a", "a3")
		a2.ID, a3.ID = "job-a2", "job-a3"
		mustEnqueue(t, q, a2)
		mustEnqueue(t, q, a3)
		mustStats(t, q, Stats{Queued: 1, Running: 1})
		takeNothing(t, q) // a3 waits for a1: same repository
		if err := q.Done(ctx, running, nil); err != nil {
			t.Fatal(err)
		}
		if got := mustTake(t, q); got.ID != "job-a3" {
			t.Fatalf("got %s, want job-a3", got.ID)
		}
	})
	t.Run("other branches, pull requests and repositories are separate", func(t *testing.T) {
		q := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
		dev := publish("acme/a", "dev1")
		dev.Ref = "refs/heads/dev"
		for _, j := range []Job{publish("acme/a", "a1"), dev, preview("acme/a", 1, "p1"), preview("acme/a", 2, "q1"), publish("acme/b", "b1")} {
			mustEnqueue(t, q, j)
		}
		mustStats(t, q, Stats{Queued: 5})
	})
	t.Run("clean-up replaces the preview of its pull request", func(t *testing.T) {
		q := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
		mustEnqueue(t, q, preview("acme/a", 3, "p1"))
		cleanup := preview("acme/a", 3, "p2")
		cleanup.Kind = KindCleanup
		mustEnqueue(t, q, cleanup)
		mustStats(t, q, Stats{Queued: 1})
		if got := mustTake(t, q); got.Kind != KindCleanup {
			t.Fatalf("got %s, want cleanup", got.Kind)
		}
	})
	t.Run("the earlier start wins", func(t *testing.T) {
		clock := newFakeClock()
		q := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{Now: clock.Now, After: clock.After})
		later := publish("acme/a", "scheduled")
		later.NotBefore = clock.Now().Add(time.Hour)
		later.ID = "scheduled"
		mustEnqueue(t, q, later)
		pushed := publish("acme/a", "pushed") // due now
		pushed.ID = "pushed"
		mustEnqueue(t, q, pushed)
		mustStats(t, q, Stats{Queued: 1})
		if got := mustTake(t, q); got.ID != "pushed" {
			t.Fatalf("got %s", got.ID)
		}

		first := publish("acme/b", "b1")
		first.NotBefore = clock.Now().Add(time.Hour)
		second := publish("acme/b", "b2")
		second.NotBefore = clock.Now().Add(2 * time.Hour)
		mustEnqueue(t, q, first)
		mustEnqueue(t, q, second)
		q.mu.Lock()
		e := q.byKey[second.Key()]
		q.mu.Unlock()
		if e.rec.Job.Reason != second.Reason || !e.rec.Job.NotBefore.Equal(first.NotBefore) {
			t.Fatalf("queued %+v, want the second at %v", e.rec.Job, first.NotBefore)
		}
		mustStats(t, q, Stats{Delayed: 1, Running: 1})
	})
}

func TestPerRepositoryOrder(t *testing.T) {
	ctx := context.Background()
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
	mustEnqueue(t, q, publish("acme/a", "a1"))
	mustEnqueue(t, q, preview("acme/a", 4, "a2"))
	mustEnqueue(t, q, publish("acme/b", "b1"))

	a1 := mustTake(t, q)
	b1 := mustTake(t, q) // a2 must wait for a1; b runs beside it
	if a1.SHA != "a1" || b1.SHA != "b1" {
		t.Fatalf("took %s, %s; want a1, b1", a1.SHA, b1.SHA)
	}
	takeNothing(t, q)

	got := make(chan Job, 1)
	go func() {
		j, err := q.Take(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- j
	}()
	if err := q.Done(ctx, a1, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case j := <-got:
		if j.SHA != "a2" {
			t.Fatalf("got %s, want a2", j.SHA)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Take did not wake up when the repository became free")
	}
}

// TestPerRepositoryOrderUnderLoad runs many workers over many repositories
// and checks that no repository ever has two jobs running, that each
// repository's jobs run in enqueue order, and that repositories do run side
// by side.
func TestPerRepositoryOrderUnderLoad(t *testing.T) {
	ctx := context.Background()
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
	const repos, perRepo, workers = 6, 30, 6
	for i := range perRepo {
		for r := range repos {
			mustEnqueue(t, q, preview(fmt.Sprintf("acme/r%d", r), i+1, strconv.Itoa(i)))
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
				if errors.Is(err, ErrClosed) {
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

func TestRetryBackoffDeadLetter(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	errFlaky := errors.New("push rejected: 502")
	errBad := errors.New("publish.yaml is broken")
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{
		MaxAttempts: 3, BaseBackoff: time.Second, MaxBackoff: 90 * time.Second,
		Retryable: func(err error) bool { return !errors.Is(err, errBad) },
		Now:       clock.Now, After: clock.After,
	})
	mustEnqueue(t, q, publish("acme/a", "a1"))

	for attempt := 1; attempt <= 3; attempt++ {
		j := mustTake(t, q)
		if j.Attempt != attempt {
			t.Fatalf("Attempt = %d, want %d", j.Attempt, attempt)
		}
		if err := q.Done(ctx, j, fmt.Errorf("publish: %w", errFlaky)); err != nil {
			t.Fatal(err)
		}
		if attempt == 3 {
			break
		}
		mustStats(t, q, Stats{Delayed: 1})
		q.mu.Lock()
		due := q.byID[j.ID].rec.Job.NotBefore
		q.mu.Unlock()
		d := time.Second << (attempt - 1) // 1s, 2s
		if wait := due.Sub(clock.Now()); wait < d/2 || wait > d {
			t.Fatalf("after attempt %d the retry waits %v, want within [%v, %v]", attempt, wait, d/2, d)
		}

		got := make(chan Job, 1)
		go func() {
			j, err := q.Take(ctx)
			if err != nil {
				t.Error(err)
			}
			got <- j
		}()
		testkit.WaitFor(t, "Take to wait for the retry time", 10*time.Second, func() bool { return clock.pending() > 0 })
		clock.Advance(d/2 - time.Millisecond)
		select {
		case j := <-got:
			t.Fatalf("retry %d ran %v early", j.Attempt, d/2)
		default:
		}
		clock.Advance(d/2 + time.Millisecond)
		select {
		case j = <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("Take did not wake up at the retry time")
		}
		if err := q.Release(ctx, j); err != nil { // hand back, so the loop's Take sees it again
			t.Fatal(err)
		}
	}
	mustStats(t, q, Stats{Dead: 1})
	dead, err := q.DeadLetterDetails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].Job.SHA != "a1" || dead[0].Job.Attempt != 3 || !strings.Contains(dead[0].Error, "502") {
		t.Fatalf("dead letters = %+v", dead)
	}

	t.Run("permanent error dead-letters at once", func(t *testing.T) {
		mustEnqueue(t, q, publish("acme/b", "b1"))
		j := mustTake(t, q)
		if err := q.Done(ctx, j, fmt.Errorf("build: %w", errBad)); err != nil {
			t.Fatal(err)
		}
		mustStats(t, q, Stats{Dead: 2})
		jobs, err := q.DeadLetters(ctx)
		if err != nil || len(jobs) != 2 || jobs[1].SHA != "b1" || jobs[1].Attempt != 1 {
			t.Fatalf("DeadLetters = %+v, %v", jobs, err)
		}
	})
	t.Run("a retry gives way to a newer queued job", func(t *testing.T) {
		mustEnqueue(t, q, publish("acme/c", "c1"))
		j := mustTake(t, q)
		mustEnqueue(t, q, publish("acme/c", "c2"))
		if err := q.Done(ctx, j, errFlaky); err != nil {
			t.Fatal(err)
		}
		mustStats(t, q, Stats{Queued: 1, Dead: 2})
		// c2 may be the older commit (its delivery came late): the job
		// left builds the head, which holds both.
		if got := mustTake(t, q); got.SHA != "" || got.Attempt != 1 {
			t.Fatalf("got %q attempt %d, want the head (\"\") attempt 1", got.SHA, got.Attempt)
		}
	})
	t.Run("a retry of the same commit leaves the newer job's commit", func(t *testing.T) {
		mustEnqueue(t, q, publish("acme/d", "d1"))
		j := mustTake(t, q)
		mustEnqueue(t, q, publish("acme/d", "d1"))
		if err := q.Done(ctx, j, errFlaky); err != nil {
			t.Fatal(err)
		}
		if got := mustTake(t, q); got.SHA != "d1" {
			t.Fatalf("got %q, want d1", got.SHA)
		}
	})
	t.Run("Done of a job not running", func(t *testing.T) {
		if err := q.Done(ctx, Job{ID: "nope"}, nil); !errors.Is(err, ErrNotRunning) {
			t.Fatalf("Done = %v, want ErrNotRunning", err)
		}
	})
}

func TestBackoffCapped(t *testing.T) {
	q := &Bolt{opts: Options{BaseBackoff: 10 * time.Second, MaxBackoff: time.Minute}}
	for attempt, want := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second, 4: time.Minute, 40: time.Minute} {
		for range 50 {
			if d := q.backoff(attempt); d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
}

func TestDelayedJobs(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{Now: clock.Now, After: clock.After})
	scheduled := publish("acme/a", "scheduled")
	scheduled.NotBefore = clock.Now().Add(time.Hour)
	scheduled.Reason = "schedule"
	mustEnqueue(t, q, scheduled)
	mustEnqueue(t, q, preview("acme/a", 9, "pr")) // same repository, not held up by the delayed job
	mustStats(t, q, Stats{Queued: 1, Delayed: 1})
	pr := mustTake(t, q)
	if pr.SHA != "pr" {
		t.Fatalf("got %s, want the pull request", pr.SHA)
	}
	if err := q.Done(ctx, pr, nil); err != nil {
		t.Fatal(err)
	}

	got := make(chan Job, 1)
	go func() {
		j, err := q.Take(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- j
	}()
	testkit.WaitFor(t, "Take to wait for the delayed job", 10*time.Second, func() bool { return clock.pending() > 0 })
	clock.Advance(59 * time.Minute)
	select {
	case j := <-got:
		t.Fatalf("delayed job %s ran early", j.SHA)
	default:
	}
	clock.Advance(time.Minute)
	select {
	case j := <-got:
		if j.SHA != "scheduled" {
			t.Fatalf("got %s", j.SHA)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Take did not wake up when the delayed job came due")
	}
}

func TestDelayedJobRealTimer(t *testing.T) {
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
	j := publish("acme/a", "soon")
	j.NotBefore = time.Now().Add(30 * time.Millisecond)
	mustEnqueue(t, q, j)
	got := mustTake(t, q)
	// Measured against NotBefore, not against the end of Enqueue: an fsync
	// on a busy machine can take longer than the delay itself.
	if now := time.Now(); got.SHA != "soon" || now.Before(j.NotBefore) {
		t.Fatalf("got %s %v before its time", got.SHA, j.NotBefore.Sub(now))
	}
}

func TestCrashRecovery(t *testing.T) {
	ctx := context.Background()
	t.Run("job taken and not done is ready after reopen", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "q.db")
		q, err := OpenBolt(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		mustEnqueue(t, q, publish("acme/a", "a1"))
		mustEnqueue(t, q, publish("acme/b", "b1"))
		first := mustTake(t, q)
		q.Close() // as if the process stopped mid-job

		q = openTest(t, path, Options{})
		mustStats(t, q, Stats{Queued: 2})
		again := mustTake(t, q)
		if again.ID != first.ID || again.Attempt != 2 {
			t.Fatalf("after reopen took %s attempt %d, want %s attempt 2", again.ID, again.Attempt, first.ID)
		}
		if err := q.Done(ctx, again, nil); err != nil {
			t.Fatal(err)
		}
		if err := q.Done(ctx, first, nil); !errors.Is(err, ErrNotRunning) {
			t.Fatalf("second Done = %v, want ErrNotRunning", err)
		}
	})
	t.Run("interrupted on the last attempt is dead-lettered", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "q.db")
		q, err := OpenBolt(path, Options{MaxAttempts: 1})
		if err != nil {
			t.Fatal(err)
		}
		mustEnqueue(t, q, publish("acme/a", "a1"))
		mustTake(t, q)
		q.Close()
		q = openTest(t, path, Options{MaxAttempts: 1})
		mustStats(t, q, Stats{Dead: 1})
		dead, err := q.DeadLetterDetails(ctx)
		if err != nil || len(dead) != 1 || !strings.Contains(dead[0].Error, "interrupted") {
			t.Fatalf("dead letters = %+v, %v", dead, err)
		}
	})
}

// TestCrashRecoverySIGKILL kills a real child process that holds a taken job,
// then reopens its queue file.
func TestCrashRecoverySIGKILL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelperProcess$")
	cmd.Env = append(os.Environ(), "QUEUE_CRASH_HELPER_DB="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper: %v", err)
	}
	taken := strings.TrimSpace(strings.TrimPrefix(line, "taken "))
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()

	q := openTest(t, path, Options{})
	got := mustTake(t, q)
	if got.ID != taken || got.Attempt != 2 || got.SHA != "crash" {
		t.Fatalf("after the crash took %s (%s) attempt %d, want %s attempt 2", got.ID, got.SHA, got.Attempt, taken)
	}
	mustStats(t, q, Stats{Running: 1})
}

// TestCrashHelperProcess is the child of TestCrashRecoverySIGKILL: it takes a
// job, says so, and waits to be killed.
func TestCrashHelperProcess(t *testing.T) {
	path := os.Getenv("QUEUE_CRASH_HELPER_DB")
	if path == "" {
		return // only meaningful as the child of TestCrashRecoverySIGKILL
	}
	q, err := OpenBolt(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, q, publish("acme/a", "crash"))
	j := mustTake(t, q)
	fmt.Printf("taken %s\n", j.ID)
	select {} // the parent kills us
}

func TestDedup(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	path := filepath.Join(t.TempDir(), "q.db")
	opts := Options{Now: clock.Now, After: clock.After}
	q, err := OpenBolt(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	j := publish("acme/a", "a1")
	j.Delivery = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
	mustEnqueue(t, q, j)
	if err := q.Enqueue(ctx, j); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second Enqueue = %v, want ErrDuplicate", err)
	}
	taken := mustTake(t, q)
	if err := q.Done(ctx, taken, nil); err != nil {
		t.Fatal(err)
	}
	q.Close()

	q, err = OpenBolt(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(6 * 24 * time.Hour)
	if err := q.Enqueue(ctx, j); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("Enqueue after reopen and 6 days = %v, want ErrDuplicate", err)
	}
	mustStats(t, q, Stats{})
	q.Close()

	clock.Advance(24*time.Hour + time.Second) // past the default 7 days: pruned at open
	q = openTest(t, path, opts)
	err = q.db.View(func(tx *bolt.Tx) error {
		if n := tx.Bucket(bucketDeliveries).Stats().KeyN + tx.Bucket(bucketSeenByTime).Stats().KeyN; n != 0 {
			return fmt.Errorf("%d delivery keys left after pruning", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, q, j) // forgotten: accepted again
	if err := q.Enqueue(ctx, j); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("Enqueue = %v, want ErrDuplicate", err)
	}

	t.Run("expired but not yet pruned", func(t *testing.T) {
		clock.Advance(8 * 24 * time.Hour)
		mustEnqueue(t, q, j)
	})
}

func TestConcurrentEnqueue(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "q.db")
	q, err := OpenBolt(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	var wg sync.WaitGroup
	var dups atomic.Int32
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(2)
		for range 2 { // every delivery arrives twice, concurrently
			go func() {
				defer wg.Done()
				j := publish(fmt.Sprintf("acme/r%03d", i), strconv.Itoa(i))
				j.Delivery = fmt.Sprintf("delivery-%d", i)
				err := q.Enqueue(ctx, j)
				if errors.Is(err, ErrDuplicate) {
					dups.Add(1)
				} else if err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if dups.Load() != n {
		t.Errorf("%d duplicates, want %d", dups.Load(), n)
	}
	mustStats(t, q, Stats{Queued: n})
	q.Close()

	q = openTest(t, path, Options{})
	mustStats(t, q, Stats{Queued: n})
	seen := map[string]bool{}
	for range n {
		j := mustTake(t, q)
		if seen[j.Repo.FullName] {
			t.Fatalf("%s taken twice", j.Repo.FullName)
		}
		seen[j.Repo.FullName] = true
	}
}

// TestFailedCommitIsolated makes one op in a batch fail inside bbolt (a
// delivery id longer than bbolt's key limit) and checks that the others in
// its batch are stored and the failed one is not.
func TestFailedCommitIsolated(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "q.db")
	q, err := OpenBolt(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j := publish(fmt.Sprintf("acme/r%d", i), "x")
			j.Delivery = fmt.Sprintf("d%d", i)
			if i == n/2 {
				j.Delivery = strings.Repeat("x", bolt.MaxKeySize+1)
			}
			results[i] = q.Enqueue(ctx, j)
		}()
	}
	wg.Wait()
	for i, err := range results {
		if (err != nil) != (i == n/2) {
			t.Errorf("enqueue %d: %v", i, err)
		}
	}
	mustStats(t, q, Stats{Queued: n - 1})
	q.Close()
	q = openTest(t, path, Options{})
	mustStats(t, q, Stats{Queued: n - 1})
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	openTest(t, path, Options{})
	if _, err := OpenBolt(path, Options{}); err == nil || !strings.Contains(err.Error(), "another process holds it") {
		t.Fatalf("second OpenBolt = %v, want a clear lock error", err)
	}
}

func TestCloseUnblocksTake(t *testing.T) {
	q, err := OpenBolt(filepath.Join(t.TempDir(), "q.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
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
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Take = %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Take still blocked after Close")
	}
	if err := q.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if _, err := q.Stats(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Stats = %v, want ErrClosed", err)
	}
}

func TestRelease(t *testing.T) {
	ctx := context.Background()
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
	mustEnqueue(t, q, publish("acme/a", "a1"))
	j := mustTake(t, q)
	if err := q.Release(ctx, j); err != nil {
		t.Fatal(err)
	}
	again := mustTake(t, q)
	if again.ID != j.ID || again.Attempt != 1 {
		t.Fatalf("after Release took %s attempt %d, want %s attempt 1", again.ID, again.Attempt, j.ID)
	}
	mustEnqueue(t, q, publish("acme/a", "a2"))
	if err := q.Release(ctx, again); err != nil {
		t.Fatal(err)
	}
	mustStats(t, q, Stats{Queued: 1}) // the newer job superseded the released one
	// The released a1 may be the newer commit (a2's delivery came late): the
	// job left builds the head, so a1 is not lost.
	if got := mustTake(t, q); got.SHA != "" {
		t.Fatalf("got %q, want the head (\"\")", got.SHA)
	}
	// Durably so: the merged job is what a restart finds.
	path := q.db.Path()
	q.Close()
	q2 := openTest(t, path, Options{})
	if got := mustTake(t, q2); got.SHA != "" {
		t.Fatalf("after reopen got %q, want the head", got.SHA)
	}
}

func TestEnqueueInvalid(t *testing.T) {
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
	for _, j := range []Job{{Kind: KindPublish}, {Kind: "deploy", Repo: Repo{FullName: "acme/a"}}} {
		if err := q.Enqueue(context.Background(), j); !errors.Is(err, ErrInvalidJob) {
			t.Errorf("Enqueue(%+v) = %v, want ErrInvalidJob", j, err)
		}
	}
	mustStats(t, q, Stats{})
}

func TestEnqueueKeepsOrReplacesID(t *testing.T) {
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{})
	j := publish("acme/a", "a1")
	j.ID = "given"
	mustEnqueue(t, q, j)
	other := publish("acme/b", "b1")
	other.ID = "given" // taken by a live job: a fresh one is assigned
	mustEnqueue(t, q, other)
	first, second := mustTake(t, q), mustTake(t, q)
	if first.ID != "given" || second.ID == "given" || second.ID == "" {
		t.Fatalf("ids %q, %q", first.ID, second.ID)
	}
}

// TestLogFieldsOnlyWhereTheyApply checks that a job line carries sha and pr
// only when the job has them: an empty "sha" reads as a missing commit.
func TestLogFieldsOnlyWhereTheyApply(t *testing.T) {
	logger, hook := logtest.NewNullLogger()
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{MaxAttempts: 1, Log: logrus.NewEntry(logger)})
	mustEnqueue(t, q, publish("acme/a", "")) // a scheduled or reconcile-style job: the branch head
	j := mustTake(t, q)
	if err := q.Done(context.Background(), j, errors.New("boom")); err != nil {
		t.Fatal(err)
	}
	e := hook.LastEntry()
	if e == nil || e.Message != "queue: job dead-lettered" {
		t.Fatalf("last line %+v, want the dead letter", e)
	}
	if _, ok := e.Data["sha"]; ok {
		t.Errorf("dead-letter line has sha %q for a job without one", e.Data["sha"])
	}
	if _, ok := e.Data["pr"]; ok {
		t.Errorf("dead-letter line has a pr for a publish")
	}
	if e.Data["job"] != j.ID || e.Data["repo"] != "acme/a" {
		t.Errorf("dead-letter line fields %v", e.Data)
	}
}

func TestFromFork(t *testing.T) {
	for _, tc := range []struct {
		repo, head string
		want       bool
	}{
		{"acme/blog", "acme/blog", false},
		{"acme/blog", "ACME/Blog", false},
		{"acme/blog", "forker/blog", true},
		{"acme/blog", "", true}, // unknown: a deleted fork, or a job stored before HeadRepo
		{"", "", true},
	} {
		j := Job{Kind: KindPreview, PR: 1, Repo: Repo{FullName: tc.repo}, HeadRepo: tc.head}
		if got := j.FromFork(); got != tc.want {
			t.Errorf("repo %q head %q: FromFork = %v, want %v", tc.repo, tc.head, got, tc.want)
		}
	}
}
