package publisher

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime/debug"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/gitstore"
	"github.com/publishbot/publishbot/keylock"
	"github.com/publishbot/publishbot/logmask"
	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/templates"
)

// ErrPermanent marks a failure that retrying the same job cannot fix: a
// broken publish.yaml, an exceeded limit, a refused credential (401, 403) or
// a missing repository (404), a push rejected by a server hook. Result.Err
// wraps it (errors.Is); a queue does not retry such jobs.
var ErrPermanent = errors.New("permanent failure")

type permanentError struct{ err error }

func (e *permanentError) Error() string        { return e.err.Error() }
func (e *permanentError) Unwrap() error        { return e.err }
func (e *permanentError) Is(target error) bool { return target == ErrPermanent }

func permanent(err error) error {
	if err == nil || errors.Is(err, ErrPermanent) {
		return err
	}
	return &permanentError{err: err}
}

// classify marks the store's failures that retrying cannot fix (a refused
// credential, a missing repository, a rejected push, an exceeded limit) as
// permanent.
func classify(err error) error {
	if errors.Is(err, gitstore.ErrPermanent) {
		return permanent(err)
	}
	return err
}

// TokenSource gives the token that reads and writes a repository. "" means
// anonymous access. The GitHub adaptor implements it with App installation
// tokens; StaticToken serves one token for every repository.
type TokenSource interface {
	Token(ctx context.Context, repo queue.Repo) (string, error)
}

// StaticToken is one token for every repository ("" for anonymous access).
type StaticToken string

// Token implements TokenSource.
func (t StaticToken) Token(context.Context, queue.Repo) (string, error) { return string(t), nil }

// Store opens the local copy of a remote repository for one job: git
// storage and transport. gitstore implements it, wired with OpenWith.
type Store interface {
	Open(r gitstore.Remote) (Repo, error)
}

// Repo is what a job does with git, on one repository, as *gitstore.Repo
// does it (see there for each method's contract). A job holds the
// repository's lock while it uses one, and closes it (or discards it, when
// gitstore.IsCorrupt says the copy is damaged) when done.
type Repo interface {
	Fetch(ctx context.Context, refs ...string) (gitstore.Refs, error)
	Commit(hash string) (gitstore.Commit, error)
	Has(hash string) bool
	IsAncestor(a, b string) (bool, error)
	MergeBase(a, b string) (string, error)
	Diff(a, b, dir string) (map[string]gitstore.Change, error)
	CheckTree(commit string) error
	Push(ctx context.Context, u gitstore.Update) (gitstore.Pushed, error)
	Forget(ref string) error
	Maintain() (bool, error)
	Discard() error
	Close() error
}

// OpenWith makes a Store of an Open function that returns a concrete Repo:
// Options{Store: publisher.OpenWith(store.Open)} for a *gitstore.Store.
func OpenWith[R Repo](open func(gitstore.Remote) (R, error)) Store { return openFunc[R](open) }

type openFunc[R Repo] func(gitstore.Remote) (R, error)

func (f openFunc[R]) Open(r gitstore.Remote) (Repo, error) {
	repo, err := f(r)
	if err != nil {
		return nil, err
	}
	return repo, nil
}

// Options configure a Publisher. Store is required.
type Options struct {
	// Store keeps the repository caches and talks to the remotes.
	Store Store
	// Tokens gives the credentials of each repository; nil means anonymous.
	Tokens TokenSource
	// Reporter, when not nil, is told every result. A failed report is
	// logged and never changes the outcome.
	Reporter Reporter
	// PullRequests, when not nil, is asked for the state of the pull
	// request of every preview and clean-up job before it does anything
	// (see PullRequests); nil makes those jobs go by their own data (the
	// CLI, tests without GitHub).
	PullRequests PullRequests
	// Limits bound a job; zero fields take DefaultLimits.
	Limits Limits
	// Now is the clock (future posts, commit dates); nil means time.Now.
	Now func() time.Time
	// PagesBranch is used when publish.yaml names none; "" means
	// posts.DefaultPagesBranch.
	PagesBranch string
	// Images treats the raster images of every build (see
	// templates.Options.Images); nil means without a cache.
	Images templates.ImageProcessor

	// Cache, when not nil, keeps each post's rendering between builds of
	// every job and repository (buildcache.Cache implements it); the
	// output is the same with or without it. Flush is called after each
	// build.
	Cache BuildCache
	// Pages, when not nil, follows GitHub Pages' build of every pages
	// commit a publish or preview pushed, after the result is reported
	// (which then says "building"), outside the repository's lock.
	Pages PagesFollower
	// Preflight, when not nil, checks each repository's setup on its first
	// job; the problems go into the result's report (Result.Setup).
	Preflight Preflight
	// Built, when not nil, is given a job's diagnostics as soon as its
	// build succeeds, before anything is pushed: the command line prints
	// them while the push runs (a migrated blog of 20,000 posts has some
	// 17,000 lines). Result.Diagnostics holds the same ones.
	Built func(queue.Job, []posts.Diagnostic)
}

// BuildCache is the build cache jobs share (buildcache.Cache):
// posts.RenderCache, PutParts to store a value given in parts (a manifest
// is mostly runs of the last one's bytes, 9 MiB at 20,000 posts, which it
// then neither copies nor joins), and Flush to write what a build put in it.
type BuildCache interface {
	posts.RenderCache
	PutParts(key [32]byte, value ...[]byte)
	Flush()
}

// Publisher runs jobs. Jobs of one repository run one at a time (in the
// order they take its lock); jobs of different repositories run in
// parallel. It is safe for concurrent use.
type Publisher struct {
	store       Store
	tokens      TokenSource
	reporter    Reporter
	prs         PullRequests
	limits      Limits
	now         func() time.Time
	pagesBranch string
	images      templates.ImageProcessor
	cache       BuildCache // nil: none
	follower    PagesFollower
	preflight   Preflight
	built       func(queue.Job, []posts.Diagnostic)

	// build renders a site and loadConfig reads publish.yaml; tests swap
	// them for fakes.
	build      buildFunc
	loadConfig func(fs.FS, string) (posts.Config, []posts.Diagnostic)

	locks keylock.Map // one per repository
}

// New checks opts and returns a Publisher.
func New(opts Options) (*Publisher, error) {
	if opts.Store == nil {
		return nil, errors.New("publisher: options: a store is required")
	}
	p := &Publisher{
		store:       opts.Store,
		tokens:      opts.Tokens,
		reporter:    opts.Reporter,
		prs:         opts.PullRequests,
		limits:      opts.Limits.withDefaults(),
		now:         opts.Now,
		pagesBranch: opts.PagesBranch,
		images:      opts.Images,
		cache:       opts.Cache,
		follower:    opts.Pages,
		preflight:   opts.Preflight,
		built:       opts.Built,
		build:       buildSite,
		loadConfig:  posts.LoadConfig,
	}
	if p.tokens == nil {
		p.tokens = StaticToken("")
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.pagesBranch == "" {
		p.pagesBranch = posts.DefaultPagesBranch
	}
	return p, nil
}

func repoKey(r queue.Repo) string {
	if r.FullName != "" {
		return r.FullName
	}
	return r.CloneURL
}

// Run does one job end to end and returns its result; it never panics (a
// panic becomes a failed result). It tells the Reporter, if any, unless the
// job failed because ctx ended: the caller that cancelled it runs it again.
// log should carry the job's context (delivery); Run adds the job's fields
// (queue.Job.LogFields).
func (p *Publisher) Run(ctx context.Context, j queue.Job, log *logrus.Entry) (res Result) {
	start := time.Now()
	res = Result{Job: j, SourceSHA: j.SHA}
	if log == nil {
		log = discardEntry()
	}
	log = log.WithFields(j.LogFields())
	mask := logmask.NewMasker()
	func() {
		defer func() {
			if v := recover(); v != nil {
				log.WithField("stack", string(debug.Stack())).Error("publish job panicked")
				res.Outcome = OutcomeFailed
				res.Err = fmt.Errorf("internal error: %v", v)
			}
		}()
		jctx, cancel := p.jobContext(ctx)
		defer cancel()
		err := p.withRepo(jctx, j, log, &res, &mask, (*job).do)
		if err == nil && res.Outcome == "" {
			err = errors.New("internal error: the job ended without an outcome")
		}
		if err != nil {
			if jctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
				err = &deadlineError{limit: p.limits.JobTimeout, err: err}
			}
			res.Outcome = OutcomeFailed
			res.Err = err
		}
	}()
	res.Err = maskErr(mask, res.Err)
	res.Total = time.Since(start)
	// The caller owns the result and logs the job's end (the worker, the
	// CLI); this line is the publisher's own detail, at debug level.
	entry := log.WithFields(logrus.Fields{"outcome": res.Outcome, "total_ms": res.Total.Milliseconds()})
	if res.PagesCommit != "" {
		entry = entry.WithField("pages_commit", res.PagesCommit)
	}
	if res.SourceSHA != "" {
		entry = entry.WithField(queue.FieldSHA, res.SourceSHA)
	}
	if res.Err != nil {
		entry.WithError(res.Err).WithField("permanent", errors.Is(res.Err, ErrPermanent)).Debug("job failed")
	} else {
		if res.Reason != "" {
			entry = entry.WithField("detail", res.Reason)
		}
		entry.Debug("job done")
	}
	if p.preflight != nil && res.Outcome != OutcomeSkipped && ctx.Err() == nil {
		// After the job, outside the repository's lock: the checks ask
		// GitHub and must not hold up the repository's next job.
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		res.Setup = p.preflight.Problems(pctx, j.Repo, res.PagesBranch)
		cancel()
	}
	follow := p.follower != nil && res.Outcome == OutcomePublished && res.PagesCommit != "" &&
		(j.Kind == queue.KindPublish || j.Kind == queue.KindPreview)
	if follow {
		res.Pages = PagesBuilding
	}
	switch {
	case p.reporter == nil:
	case res.Outcome == OutcomeFailed && ctx.Err() != nil:
		// The caller stopped the job (a shutdown hands it back to the
		// queue, which runs it again): no "failed" goes to the author.
		log.Debug("result not reported: the job was cancelled")
	default:
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		res.Reported = true
		if err := p.reporter.Report(rctx, res); err != nil {
			// Error, not warning: a reviewer or author is not being told
			// (revoked token, missing permission, GitHub down).
			res.ReportErr = maskErr(mask, err)
			log.WithError(res.ReportErr).WithField("outcome", res.Outcome).Error("report failed")
		}
		cancel()
	}
	if follow {
		p.follower.Follow(res)
	}
	return res
}

// jobContext bounds one job by Limits.JobTimeout.
func (p *Publisher) jobContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if p.limits.JobTimeout < 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, p.limits.JobTimeout)
}

// deadlineError: the job ran past Limits.JobTimeout. It is a
// context.DeadlineExceeded whatever the failing step made of the context's
// error.
type deadlineError struct {
	limit time.Duration
	err   error
}

func (e *deadlineError) Error() string {
	return fmt.Sprintf("job deadline of %s exceeded: %v", e.limit, e.err)
}
func (e *deadlineError) Unwrap() error { return e.err }
func (e *deadlineError) Is(target error) bool {
	return target == context.DeadlineExceeded
}

func discardEntry() *logrus.Entry {
	l := logrus.New()
	l.Out = discard{}
	return logrus.NewEntry(l)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// tokenMasker hides a repository's token in errors and logs: as written,
// and in the forms HTTP basic auth carries it.
func tokenMasker(token string) *logmask.Masker {
	if token == "" {
		return logmask.NewMasker()
	}
	return logmask.NewMasker(token, gitstore.TokenUser+":"+token)
}

// masked is an error whose text had secrets hidden. errors.Is still sees
// the original's sentinels (ErrPermanent, context errors), but it does not
// unwrap, so nothing can print the original text.
type masked struct {
	msg string
	err error
}

func (e *masked) Error() string        { return e.msg }
func (e *masked) Is(target error) bool { return errors.Is(e.err, target) }

// maskErr hides what m masks in err's text; an error with nothing to hide
// is returned as is.
func maskErr(m *logmask.Masker, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	out := m.String(msg)
	if out == msg {
		return err
	}
	return &masked{msg: out, err: err}
}

// withRepo is how every job and Drift start: under the repository's lock,
// with its token and its cache open, it runs fn, then closes the cache
// (repacking it when due, discarding it when it is damaged: it is only a
// copy). It sets *mask as soon as it has the token, so that every error and
// log line can hide it.
func (p *Publisher) withRepo(ctx context.Context, j queue.Job, log *logrus.Entry, res *Result, mask **logmask.Masker, fn func(*job, context.Context) error) error {
	if j.Repo.CloneURL == "" {
		return permanent(errors.New("job has no repository clone URL"))
	}
	unlock, err := p.locks.Lock(ctx, repoKey(j.Repo))
	if err != nil {
		return fmt.Errorf("wait for the repository's previous job: %w", err)
	}
	defer unlock()
	token, err := p.tokens.Token(ctx, j.Repo)
	*mask = tokenMasker(token)
	if err != nil {
		return fmt.Errorf("get a token for %s: %w", j.Repo.FullName, err)
	}
	repo, err := p.store.Open(gitstore.Remote{Name: j.Repo.FullName, URL: j.Repo.CloneURL, Token: token})
	if err != nil {
		return err
	}
	err = classify(fn(&job{p: p, j: j, log: log, res: res, repo: repo, mask: *mask, fork: j.FromFork()}, ctx))
	if !errors.Is(err, ErrPermanent) && gitstore.IsCorrupt(err) {
		// The retry starts from a fresh fetch.
		log.WithError(maskErr(*mask, err)).Warn("repository cache is damaged; removing it")
		if rerr := repo.Discard(); rerr != nil {
			log.WithError(rerr).Error("remove damaged repository cache")
		}
		return err
	}
	start := time.Now()
	if ran, merr := repo.Maintain(); merr != nil {
		log.WithError(merr).Warn("repository cache maintenance failed")
	} else if ran {
		log.WithField("ms", time.Since(start).Milliseconds()).Info("repacked the repository cache")
	}
	if cerr := repo.Close(); cerr != nil {
		log.WithError(cerr).Warn("close repository cache")
	}
	return err
}
