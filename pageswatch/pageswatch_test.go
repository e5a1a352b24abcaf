package pageswatch

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/publishbot/publishbot/publisher"
	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/testkit"
)

// fakeBuilds answers the latest build from a script: one answer per poll,
// the last one repeated.
type fakeBuilds struct {
	mu      sync.Mutex
	answers []func() (Build, error)
	polls   int
}

func (f *fakeBuilds) LatestPagesBuild(ctx context.Context, repo queue.Repo) (Build, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := min(f.polls, len(f.answers)-1)
	f.polls++
	return f.answers[i]()
}

type fakeReporter struct{ got chan publisher.Result }

func (f *fakeReporter) Report(ctx context.Context, r publisher.Result) error {
	f.got <- r
	return nil
}

func build(commit, status, msg string) func() (Build, error) {
	return func() (Build, error) { return Build{Commit: commit, Status: status, Error: msg}, nil }
}

// now is a clock that moves a minute per reading, so that Timeout ends a
// follow after a known number of polls.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Minute)
	return c.t
}

func newWatcher(t *testing.T, b Builds, rep publisher.Reporter, delays *[]time.Duration) *Watcher {
	t.Helper()
	var mu sync.Mutex
	w, err := New(Options{
		Builds: b, Reporter: rep, First: time.Second, Max: 4 * time.Second, Timeout: 10 * time.Minute,
		After: func(d time.Duration) <-chan time.Time {
			mu.Lock()
			if delays != nil {
				*delays = append(*delays, d)
			}
			mu.Unlock()
			ch := make(chan time.Time, 1)
			ch <- time.Time{}
			return ch
		},
		Now: (&clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}).Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w
}

func pushed(commit string) publisher.Result {
	return publisher.Result{
		Job:         queue.Job{ID: "j1", Kind: queue.KindPublish, Repo: queue.Repo{FullName: "acme/blog"}},
		Outcome:     publisher.OutcomePublished,
		PagesCommit: commit, PagesBranch: "gh-pages", Pages: publisher.PagesBuilding,
		Setup: []string{"told already"},
	}
}

func wait(t *testing.T, ch chan publisher.Result) publisher.Result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no report")
	}
	return publisher.Result{}
}

func TestFollow(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answers []func() (Build, error)
		state   publisher.PagesState
		msg     string
	}{
		{"built after building", []func() (Build, error){build("old", "built", ""), build("c1", "building", ""), build("c1", "built", "")}, publisher.PagesLive, ""},
		{"errored", []func() (Build, error){build("c1", "building", ""), build("c1", "errored", "Page build failed: a file is too large")}, publisher.PagesFailed, "Page build failed: a file is too large"},
		{"no pages", []func() (Build, error){func() (Build, error) { return Build{}, errors.Join(ErrNoPages, errors.New("404")) }}, publisher.PagesFailed, "GitHub Pages is not enabled: Settings → Pages → Deploy from a branch: gh-pages"},
		{"api errors are retried", []func() (Build, error){func() (Build, error) { return Build{}, errors.New("502") }, build("c1", "built", "")}, publisher.PagesLive, ""},
		{"never built", []func() (Build, error){build("other", "built", "")}, publisher.PagesUnknown, "not built after 10m0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := &fakeReporter{got: make(chan publisher.Result, 1)}
			var delays []time.Duration
			w := newWatcher(t, &fakeBuilds{answers: tc.answers}, rep, &delays)
			w.Follow(pushed("c1"))
			r := wait(t, rep.got)
			if r.Pages != tc.state || r.PagesError != tc.msg || r.Setup != nil {
				t.Fatalf("reported %q %q setup %v, want %q %q", r.Pages, r.PagesError, r.Setup, tc.state, tc.msg)
			}
			w.Close()
			if delays[0] != time.Second || (len(delays) > 3 && delays[3] != 4*time.Second) {
				t.Errorf("waits %v: want 1s doubling up to 4s", delays)
			}
		})
	}
}

// A build of a later pages commit this process pushed shows the earlier
// one too: both statuses say live.
func TestLaterCommitCoversEarlier(t *testing.T) {
	rep := &fakeReporter{got: make(chan publisher.Result, 2)}
	gate := make(chan struct{})
	b := &fakeBuilds{answers: []func() (Build, error){func() (Build, error) { <-gate; return Build{Commit: "c2", Status: "built"}, nil }}}
	w := newWatcher(t, b, rep, nil)
	w.Follow(pushed("c1"))
	w.Follow(pushed("c2"))
	close(gate)
	for range 2 {
		if r := wait(t, rep.got); r.Pages != publisher.PagesLive {
			t.Fatalf("%s reported %q, want live", r.PagesCommit, r.Pages)
		}
	}
	// A build of an earlier commit says nothing of a later one.
	if w.covers("acme/blog", "c2", "c1") {
		t.Error("c1's build was taken for c2's")
	}
}

func TestCloseStopsWithoutReport(t *testing.T) {
	rep := &fakeReporter{got: make(chan publisher.Result, 1)}
	w, err := New(Options{Builds: &fakeBuilds{answers: []func() (Build, error){build("x", "building", "")}}, Reporter: rep, First: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	w.Follow(pushed("c1"))
	w.Close()
	select {
	case r := <-rep.got:
		t.Fatalf("reported %+v after Close", r)
	default:
	}
	w.Follow(pushed("c2")) // after Close: ignored, no goroutine left
}

// The message for a repository without Pages is a status description as
// is: README's Troubleshooting explains it.
func TestTroubleshootingExplainsNoPages(t *testing.T) {
	rep := &fakeReporter{got: make(chan publisher.Result, 1)}
	w := newWatcher(t, &fakeBuilds{answers: []func() (Build, error){func() (Build, error) { return Build{}, ErrNoPages }}}, rep, nil)
	w.Follow(pushed("c1"))
	r := wait(t, rep.got)
	if !strings.Contains(testkit.ReadmeSection(t, "Troubleshooting"), "`"+r.PagesError+"`") {
		t.Errorf("README's Troubleshooting does not explain %q", r.PagesError)
	}
}
