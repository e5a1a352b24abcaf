// Package pageswatch follows GitHub Pages' build of every pages commit the
// bot pushes, so that "live" means live: after a publish or a preview is
// pushed (and reported as "building"), a Watcher polls the repository's
// latest Pages build with backoff, for a bounded time, in the background
// (the repository's next job does not wait for it), and reports the result
// again once the build of that commit — or of a later commit the bot
// pushed on top of it — is built ("live", the page's address as the
// target) or failed (GitHub's error message).
package pageswatch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/publisher"
	"github.com/publishbot/publishbot/queue"
)

// Build is a repository's latest GitHub Pages build.
type Build struct {
	Commit string // the pages commit built
	Status string // "queued", "building", "built" or "errored"
	Error  string // GitHub's message for an errored build
}

// ErrNoPages is what Builds returns (wrapped) when the repository has no
// GitHub Pages site (GitHub answers 404).
var ErrNoPages = errors.New("github pages is not enabled")

// Builds reads the latest Pages build (the GitHub adaptor implements it).
type Builds interface {
	LatestPagesBuild(ctx context.Context, repo queue.Repo) (Build, error)
}

// Options configure a Watcher. Builds and Reporter are required.
type Options struct {
	Builds   Builds
	Reporter publisher.Reporter
	// Log gets a line per followed build; nil discards.
	Log *logrus.Entry
	// First is the wait before the first poll (default 5 s); each next
	// wait doubles, up to Max (default 1 min).
	First, Max time.Duration
	// Timeout is how long one build is followed (default 10 min); after it
	// the result is reported as PagesUnknown.
	Timeout time.Duration
	// MaxFollowing bounds the builds followed at once (default 100); a
	// push beyond it is not followed (its status stays "building").
	MaxFollowing int
	// After returns a channel that fires after d; tests inject it. Nil
	// means a real timer.
	After func(d time.Duration) <-chan time.Time
	// Now is the clock for Timeout; nil means time.Now.
	Now func() time.Time
}

// Watcher follows builds. It implements publisher.PagesFollower. It is safe
// for concurrent use; Close it at shutdown.
type Watcher struct {
	opts   Options
	log    *logrus.Entry
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	following int
	pushed    map[string][]string // by repository: pages commits this process pushed, oldest first
}

// pushedKept bounds the pages commits remembered per repository.
const pushedKept = 64

// New checks opts and returns a Watcher.
func New(opts Options) (*Watcher, error) {
	if opts.Builds == nil || opts.Reporter == nil {
		return nil, errors.New("pageswatch: builds and reporter are required")
	}
	if opts.First <= 0 {
		opts.First = 5 * time.Second
	}
	if opts.Max <= 0 {
		opts.Max = time.Minute
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Minute
	}
	if opts.MaxFollowing <= 0 {
		opts.MaxFollowing = 100
	}
	if opts.After == nil {
		opts.After = time.After
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Log
	if log == nil {
		l := logrus.New()
		l.Out = discard{}
		log = logrus.NewEntry(l)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Watcher{opts: opts, log: log, ctx: ctx, cancel: cancel, pushed: map[string][]string{}}, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Follow implements publisher.PagesFollower: it starts following
// res.PagesCommit and returns at once.
func (w *Watcher) Follow(res publisher.Result) {
	if res.PagesCommit == "" {
		return
	}
	repo := res.Job.Repo.FullName
	w.mu.Lock()
	list := append(w.pushed[repo], res.PagesCommit)
	if len(list) > pushedKept {
		list = list[len(list)-pushedKept:]
	}
	w.pushed[repo] = list
	if w.following >= w.opts.MaxFollowing || w.ctx.Err() != nil {
		w.mu.Unlock()
		w.log.WithFields(res.Job.LogFields()).Warn("too many Pages builds followed at once: this one is not")
		return
	}
	w.following++
	w.wg.Add(1)
	w.mu.Unlock()
	go func() {
		defer func() {
			w.mu.Lock()
			w.following--
			w.mu.Unlock()
			w.wg.Done()
		}()
		w.follow(res)
	}()
}

// Close stops following (no further report is made) and waits for the
// followers to end.
func (w *Watcher) Close() {
	w.cancel()
	w.wg.Wait()
}

// covers reports whether a build of commit built shows the pages commit
// ours: it is ours, or one this process pushed after ours to the same
// repository (pushes to the pages branch build on each other).
func (w *Watcher) covers(repo, ours, built string) bool {
	if built == ours {
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := false
	for _, c := range w.pushed[repo] {
		switch c {
		case ours:
			seen = true
		case built:
			if seen {
				return true
			}
		}
	}
	return false
}

func (w *Watcher) follow(res publisher.Result) {
	log := w.log.WithFields(res.Job.LogFields()).WithField("pages_commit", res.PagesCommit)
	deadline := w.opts.Now().Add(w.opts.Timeout)
	delay := w.opts.First
	polls := 0
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-w.opts.After(delay):
		}
		polls++
		b, err := w.opts.Builds.LatestPagesBuild(w.ctx, res.Job.Repo)
		switch {
		case w.ctx.Err() != nil:
			return
		case errors.Is(err, ErrNoPages):
			w.report(log, res, publisher.PagesFailed, "GitHub Pages is not enabled: Settings → Pages → Deploy from a branch: "+branchOr(res.PagesBranch))
			return
		case err != nil:
			log.WithError(err).Warn("read the latest GitHub Pages build")
		case w.covers(res.Job.Repo.FullName, res.PagesCommit, b.Commit) && b.Status == "built":
			log.WithField("polls", polls).Info("GitHub Pages build done: live")
			w.report(log, res, publisher.PagesLive, "")
			return
		case w.covers(res.Job.Repo.FullName, res.PagesCommit, b.Commit) && b.Status == "errored":
			msg := b.Error
			if msg == "" {
				msg = "no message from GitHub"
			}
			log.WithField("pages_error", msg).Warn("GitHub Pages build failed")
			w.report(log, res, publisher.PagesFailed, msg)
			return
		}
		if !w.opts.Now().Before(deadline) {
			log.WithField("polls", polls).Warn("GitHub Pages build not seen done in time")
			w.report(log, res, publisher.PagesUnknown, fmt.Sprintf("not built after %s", w.opts.Timeout))
			return
		}
		delay = min(2*delay, w.opts.Max)
	}
}

func branchOr(b string) string {
	if b == "" {
		return "gh-pages"
	}
	return b
}

func (w *Watcher) report(log *logrus.Entry, res publisher.Result, state publisher.PagesState, msg string) {
	res.Pages, res.PagesError = state, msg
	res.Setup = nil // told with the first report
	ctx, cancel := context.WithTimeout(w.ctx, time.Minute)
	defer cancel()
	if err := w.opts.Reporter.Report(ctx, res); err != nil {
		if w.ctx.Err() != nil {
			log.WithError(err).Info("report of the GitHub Pages build cut short by the shutdown")
			return
		}
		log.WithError(err).Error("report GitHub Pages build")
	}
}
