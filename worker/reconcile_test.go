package worker

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/testkit"
)

type fakeDrift struct {
	mu    sync.Mutex
	state map[string][2]string // full name → head, published
	err   map[string]error
	calls int
}

func (f *fakeDrift) Drift(ctx context.Context, r queue.Repo) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if err := f.err[r.FullName]; err != nil {
		return "", "", err
	}
	s := f.state[r.FullName]
	return s[0], s[1], nil
}

func TestReconcilerQueuesDriftedRepositories(t *testing.T) {
	dir := t.TempDir()
	set, err := OpenPublishedSet(filepath.Join(dir, "published.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	a := queue.Repo{FullName: "acme/a", CloneURL: "https://example.invalid/a.git"}
	b := queue.Repo{FullName: "acme/b", CloneURL: "https://example.invalid/b.git"}
	c := queue.Repo{FullName: "acme/c", CloneURL: "https://example.invalid/c.git"}
	for _, r := range []queue.Repo{a, b, c} {
		if err := set.Add(r, "refs/heads/main"); err != nil {
			t.Fatal(err)
		}
	}
	d := &fakeDrift{
		state: map[string][2]string{"acme/a": {"new", "old"}, "acme/b": {"same", "same"}},
		err:   map[string]error{"acme/c": errors.New("remote unreachable")},
	}
	q := newFakeQueue()
	var buf bytes.Buffer
	m := NewMetrics(prometheus.NewRegistry())
	r, err := NewReconciler(ReconcilerOptions{Set: set, Drift: d, Queue: q, Log: testLog(&buf), Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	if n := r.Once(context.Background()); n != 1 {
		t.Errorf("Once queued %d, want 1", n)
	}
	enq := q.enqueuedJobs()
	if len(enq) != 1 {
		t.Fatalf("enqueued %+v", enq)
	}
	if j := enq[0]; j.Repo != a || j.SHA != "new" || j.Reason != "reconcile" || j.Kind != queue.KindPublish || j.Ref != "refs/heads/main" {
		t.Errorf("reconcile job = %+v", j)
	}
	// The line that says why names the job, so an operator can follow it.
	if id := enq[0].ID; id == "" || !strings.Contains(buf.String(), `"job":"`+id+`"`) {
		t.Errorf("reconcile job id %q not in the log:\n%s", id, buf.String())
	}
	for result, want := range map[string]float64{"queued": 1, "in_sync": 1, "error": 1} {
		if got := testutil.ToFloat64(m.reconciles.WithLabelValues(result)); got != want {
			t.Errorf("reconcile %s = %v, want %v", result, got, want)
		}
	}

	// The same head is not queued twice; a new head is.
	if n := r.Once(context.Background()); n != 0 {
		t.Errorf("second pass queued %d, want 0", n)
	}
	d.mu.Lock()
	d.state["acme/a"] = [2]string{"newer", "old"}
	d.mu.Unlock()
	if n := r.Once(context.Background()); n != 1 {
		t.Errorf("pass after a new push queued %d, want 1", n)
	}

	// Reopened from disk, the set is the same.
	set2, err := OpenPublishedSet(filepath.Join(dir, "published.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := set2.List(); len(got) != 3 || got[0].Repo != a || got[2].Repo != c {
		t.Errorf("reopened set = %+v", got)
	}
}

func TestReconcilerRunChecksAtStart(t *testing.T) {
	set, _ := OpenPublishedSet(filepath.Join(t.TempDir(), "p.json"), nil)
	set.Add(queue.Repo{FullName: "acme/a"}, "refs/heads/main")
	q := newFakeQueue()
	var buf bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	d := driftFunc(func(ctx context.Context, r queue.Repo) (string, string, error) {
		defer cancel() // the first check happens before any tick
		return "h", "", nil
	})
	r, _ := NewReconciler(ReconcilerOptions{Set: set, Drift: d, Queue: q, Log: testLog(&buf)})
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if enq := q.enqueuedJobs(); len(enq) != 1 || enq[0].SHA != "h" {
		t.Errorf("enqueued %+v", enq)
	}
}

type driftFunc func(ctx context.Context, r queue.Repo) (string, string, error)

func (f driftFunc) Drift(ctx context.Context, r queue.Repo) (string, string, error) { return f(ctx, r) }

func TestPublishedSetRejectsCorruptFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "published.json")
	if err := os.WriteFile(p, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenPublishedSet(p, nil); err == nil {
		t.Fatal("a corrupt file was accepted")
	}
	if b, _ := os.ReadFile(p); string(b) != "{not json" {
		t.Error("the corrupt file was changed")
	}
}

func TestPublishedSetWritesOnlyOnChange(t *testing.T) {
	p := filepath.Join(t.TempDir(), "published.json")
	set, _ := OpenPublishedSet(p, nil)
	r := queue.Repo{FullName: "acme/a"}
	if err := set.Add(r, "refs/heads/main"); err != nil {
		t.Fatal(err)
	}
	st1, _ := os.Stat(p)
	if err := set.Add(r, "refs/heads/main"); err != nil {
		t.Errorf("unchanged Add wrote: %v", err)
	}
	st2, _ := os.Stat(p)
	if !st1.ModTime().Equal(st2.ModTime()) {
		t.Error("file rewritten")
	}
}

func TestQueueDepthCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewQueueDepth(func(ctx context.Context) (map[string]int, error) {
		return map[string]int{"ready": 3, "dead": 1}, nil
	}))
	if n, err := testutil.GatherAndCount(reg, "publishbot_queue_depth"); err != nil || n != 2 {
		t.Errorf("queue depth series = %d, %v", n, err)
	}
	reg2 := prometheus.NewRegistry()
	reg2.MustRegister(NewQueueDepth(func(ctx context.Context) (map[string]int, error) { return nil, errors.New("closed") }))
	if n, err := testutil.GatherAndCount(reg2, "publishbot_queue_stats_up"); err != nil || n != 1 {
		t.Errorf("stats_up series = %d, %v", n, err)
	}
}

func TestReconcilerRunRepeats(t *testing.T) {
	set, _ := OpenPublishedSet(filepath.Join(t.TempDir(), "p.json"), nil)
	set.Add(queue.Repo{FullName: "acme/a"}, "refs/heads/main")
	d := &fakeDrift{state: map[string][2]string{"acme/a": {"h", "h"}}}
	var buf bytes.Buffer
	r, _ := NewReconciler(ReconcilerOptions{Set: set, Drift: d, Queue: newFakeQueue(), Log: testLog(&buf), Interval: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	ret := make(chan error, 1)
	go func() { ret <- r.Run(ctx) }()
	testkit.WaitFor(t, "three reconcile passes", 10*time.Second, func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.calls >= 3
	})
	cancel()
	if err := <-ret; err != nil {
		t.Fatal(err)
	}
}

// chanLease is held when the test sends a context on grant; that context's
// end is the loss of the lease.
type chanLease struct{ grant chan context.Context }

func (l chanLease) Hold(ctx context.Context) (context.Context, error) {
	select {
	case held := <-l.grant:
		return held, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func TestReconcilerOnlyWhileHoldingTheLease(t *testing.T) {
	set, _ := OpenPublishedSet(filepath.Join(t.TempDir(), "p.json"), nil)
	set.Add(queue.Repo{FullName: "acme/a"}, "refs/heads/main")
	d := &fakeDrift{state: map[string][2]string{"acme/a": {"h", "h"}}}
	calls := func() int {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.calls
	}
	var buf bytes.Buffer
	lease := chanLease{grant: make(chan context.Context)}
	r, _ := NewReconciler(ReconcilerOptions{Set: set, Drift: d, Queue: newFakeQueue(), Log: testLog(&buf), Interval: time.Millisecond, Lease: lease})
	ctx, cancel := context.WithCancel(context.Background())
	ret := make(chan error, 1)
	go func() { ret <- r.Run(ctx) }()

	// Twenty intervals without the lease: no pass. (Counting right after
	// the grant raced the passes it allows: under a loaded CI run the
	// test's goroutine once woke after two of them.)
	time.Sleep(20 * time.Millisecond)
	if n := calls(); n != 0 {
		t.Fatalf("%d passes before the lease was held, want none", n)
	}
	held, lose := context.WithCancel(ctx)
	lease.grant <- held // Run waits in Hold until it holds the lease
	testkit.WaitFor(t, "passes while holding the lease", 10*time.Second, func() bool { return calls() >= 3 })
	lose()
	held2, lose2 := context.WithCancel(ctx)
	lease.grant <- held2 // taken only once the first lease's passes stopped
	stopped := calls()
	lose2()
	cancel()
	if err := <-ret; err != nil {
		t.Fatal(err)
	}
	if n := calls(); n > stopped+2 {
		t.Fatalf("%d passes after the lease was lost, want at most the one at regaining it", n-stopped)
	}
	if !strings.Contains(buf.String(), "reconciler lease lost") {
		t.Errorf("log has no line about the lost lease:\n%s", buf.String())
	}
}
