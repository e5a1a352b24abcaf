package queue

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	bolt "go.etcd.io/bbolt"
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

// TestCoalescingKeepsEarlierStart checks, inside the index, that a job
// replacing a delayed one keeps the earlier of the two start times (the
// contract suite sees this only through Stats).
func TestCoalescingKeepsEarlierStart(t *testing.T) {
	clock := newFakeClock()
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), Options{Now: clock.Now, After: clock.After})
	first := publish("acme/b", "b1")
	first.NotBefore = clock.Now().Add(time.Hour)
	second := publish("acme/b", "b2")
	second.NotBefore = clock.Now().Add(2 * time.Hour)
	mustEnqueue(t, q, first)
	mustEnqueue(t, q, second)
	q.mu.Lock()
	e := q.byKey[second.Key()]
	q.mu.Unlock()
	if e.rec.Job.SHA != "" || !e.rec.Job.NotBefore.Equal(first.NotBefore) {
		t.Fatalf("queued %+v, want the head at %v", e.rec.Job, first.NotBefore)
	}
	mustStats(t, q, Stats{Delayed: 1})
}

func TestBackoffCapped(t *testing.T) {
	opts := Options{BaseBackoff: 10 * time.Second, MaxBackoff: time.Minute}
	for attempt, want := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second, 4: time.Minute, 40: time.Minute} {
		for range 50 {
			if d := opts.Backoff(attempt); d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
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
