package publisher

import (
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
	"github.com/go-git/go-git/v5/plumbing/format/objfile"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/queue"
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

// classify marks transport errors that retrying cannot fix as permanent.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, transport.ErrAuthenticationRequired),
		errors.Is(err, transport.ErrAuthorizationFailed),
		errors.Is(err, transport.ErrRepositoryNotFound),
		errors.Is(err, transport.ErrInvalidAuthMethod),
		isRejected(err):
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

// Options configure a Publisher. DataDir is required.
type Options struct {
	// DataDir holds the repository cache (DataDir/repos/...).
	DataDir string
	// Tokens gives the credentials of each repository; nil means anonymous.
	Tokens TokenSource
	// Reporter, when not nil, is told every result. A failed report is
	// logged and never changes the outcome.
	Reporter Reporter
	// Limits bound a job; zero fields take DefaultLimits.
	Limits Limits
	// Now is the clock (future posts, commit dates); nil means time.Now.
	Now func() time.Time
	// PagesBranch is used when publish.yaml names none; "" means "gh-pages".
	PagesBranch string
}

// Publisher runs jobs. Jobs of one repository run one at a time (in the
// order they take its lock); jobs of different repositories run in
// parallel. It is safe for concurrent use.
type Publisher struct {
	dataDir     string
	tokens      TokenSource
	reporter    Reporter
	limits      Limits
	now         func() time.Time
	pagesBranch string

	// build renders a site and loadConfig reads publish.yaml; tests swap
	// them for fakes.
	build      buildFunc
	loadConfig func(fs.FS, string) (posts.Config, []posts.Diagnostic)
	// beforePush, when set, runs before every push attempt (tests: an
	// outside push between fetch and push).
	beforePush func(ctx context.Context, attempt int)
	// backoff is the wait before push attempt n (n ≥ 2).
	backoff func(n int) time.Duration
	// maxPacks and maxLoose: past these, a job repacks its cache.
	maxPacks, maxLoose int

	sizes   *blobSizes   // blob sizes for the limits, shared by all jobs
	objects cache.Object // decoded objects, shared by all repositories' caches

	mu    sync.Mutex
	repos map[string]*repoLock
}

type repoLock struct {
	sem   chan struct{}
	users int
}

// New checks opts and returns a Publisher.
func New(opts Options) (*Publisher, error) {
	if opts.DataDir == "" {
		return nil, errors.New("publisher: options: data dir is required")
	}
	if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("publisher: create data dir: %w", err)
	}
	p := &Publisher{
		dataDir:     opts.DataDir,
		tokens:      opts.Tokens,
		reporter:    opts.Reporter,
		limits:      opts.Limits.withDefaults(),
		now:         opts.Now,
		pagesBranch: opts.PagesBranch,
		build:       buildSite,
		loadConfig:  posts.LoadConfig,
		repos:       map[string]*repoLock{},
		sizes:       &blobSizes{maxEntries: 1 << 20},
		objects:     cache.NewObjectLRU(128 * cache.MiByte),
		maxPacks:    64,
		maxLoose:    8192,
	}
	if p.tokens == nil {
		p.tokens = StaticToken("")
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.pagesBranch == "" {
		p.pagesBranch = "gh-pages"
	}
	p.backoff = func(n int) time.Duration {
		base := 50 * time.Millisecond << min(n-2, 5)
		return base/2 + rand.N(base)
	}
	return p, nil
}

// lock takes the repository's lock, waiting at most until ctx is done.
func (p *Publisher) lock(ctx context.Context, key string) (func(), error) {
	p.mu.Lock()
	l := p.repos[key]
	if l == nil {
		l = &repoLock{sem: make(chan struct{}, 1)}
		p.repos[key] = l
	}
	l.users++
	p.mu.Unlock()
	release := func() {
		p.mu.Lock()
		l.users--
		if l.users == 0 {
			delete(p.repos, key)
		}
		p.mu.Unlock()
	}
	select {
	case l.sem <- struct{}{}:
		return func() { <-l.sem; release() }, nil
	case <-ctx.Done():
		release()
		return nil, fmt.Errorf("wait for the repository's previous job: %w", ctx.Err())
	}
}

func repoKey(r queue.Repo) string {
	if r.FullName != "" {
		return r.FullName
	}
	return r.CloneURL
}

// job is the state of one run.
type job struct {
	p     *Publisher
	j     queue.Job
	log   *logrus.Entry
	res   *Result
	cache *repoCache
	auth  transport.AuthMethod
	token string
}

// Run does one job end to end and returns its result; it never panics (a
// panic becomes a failed result). It tells the Reporter, if any, unless the
// job failed because ctx ended: the caller that cancelled it runs it again. log should
// carry the job's context (delivery); Run adds repo, sha, pr and job.
func (p *Publisher) Run(ctx context.Context, j queue.Job, log *logrus.Entry) (res Result) {
	start := time.Now()
	res = Result{Job: j, SourceSHA: j.SHA}
	if log == nil {
		log = discardEntry()
	}
	fields := logrus.Fields{"repo": j.Repo.FullName, "job": j.ID}
	if j.SHA != "" {
		fields["sha"] = j.SHA
	}
	if j.PR != 0 {
		fields["pr"] = j.PR
	}
	log = log.WithFields(fields)
	token := ""
	func() {
		defer func() {
			if v := recover(); v != nil {
				log.WithField("stack", string(debug.Stack())).Error("publish job panicked")
				res.Outcome = OutcomeFailed
				res.Err = fmt.Errorf("internal error: %v", v)
			}
		}()
		jctx, cancel := context.WithTimeout(ctx, p.limits.JobTimeout)
		defer cancel()
		err := p.run(jctx, j, log, &res, &token)
		if err == nil && res.Outcome == "" {
			err = errors.New("internal error: the job ended without an outcome")
		}
		if err != nil {
			if jctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
				err = &deadlineError{limit: p.limits.JobTimeout, err: err}
			}
			res.Outcome = OutcomeFailed
			res.Err = scrub(err, token)
		}
	}()
	res.Err = scrub(res.Err, token)
	res.Total = time.Since(start)
	// The caller owns the result and logs the job's end (the worker, the
	// CLI); this line is the publisher's own detail, at debug level.
	entry := log.WithFields(logrus.Fields{"outcome": res.Outcome, "total_ms": res.Total.Milliseconds()})
	if res.PagesCommit != "" {
		entry = entry.WithField("pages_commit", res.PagesCommit)
	}
	if res.SourceSHA != "" {
		entry = entry.WithField("sha", res.SourceSHA)
	}
	if res.Err != nil {
		entry.WithError(res.Err).WithField("permanent", errors.Is(res.Err, ErrPermanent)).Debug("job failed")
	} else {
		if res.Reason != "" {
			entry = entry.WithField("detail", res.Reason)
		}
		entry.Debug("job done")
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
			res.ReportErr = scrub(err, token)
			log.WithError(res.ReportErr).WithField("outcome", res.Outcome).Error("report failed")
		}
		cancel()
	}
	return res
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

// basicAuth is how GitHub takes an installation or personal token over
// HTTPS. The token never goes into a URL.
func basicAuth(token string) transport.AuthMethod {
	return &githttp.BasicAuth{Username: "x-access-token", Password: token}
}

func discardEntry() *logrus.Entry {
	l := logrus.New()
	l.Out = discard{}
	return logrus.NewEntry(l)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// run does the job under the repository's lock; it sets *tokenOut as soon
// as it has the token, so that every error and panic can be scrubbed.
func (p *Publisher) run(ctx context.Context, j queue.Job, log *logrus.Entry, res *Result, tokenOut *string) error {
	if j.Repo.CloneURL == "" {
		return permanent(errors.New("job has no repository clone URL"))
	}
	unlock, err := p.lock(ctx, repoKey(j.Repo))
	if err != nil {
		return err
	}
	defer unlock()
	token, err := p.tokens.Token(ctx, j.Repo)
	*tokenOut = token
	if err != nil {
		return fmt.Errorf("get a token for %s: %w", j.Repo.FullName, err)
	}
	c, err := openCache(p.dataDir, j.Repo.FullName, j.Repo.CloneURL, p.objects)
	if err != nil {
		return err
	}
	defer c.close()
	defer func() {
		start := time.Now()
		if ran, err := c.maintain(p.maxPacks, p.maxLoose); err != nil {
			log.WithError(err).Warn("repository cache maintenance failed")
		} else if ran {
			log.WithField("ms", time.Since(start).Milliseconds()).Info("repacked the repository cache")
		}
	}()
	jb := &job{p: p, j: j, log: log, res: res, cache: c, token: token}
	if token != "" {
		jb.auth = basicAuth(token)
	}
	switch j.Kind {
	case queue.KindPublish, "":
		err = jb.publish(ctx)
	case queue.KindPreview:
		err = jb.preview(ctx)
	case queue.KindCleanup:
		err = jb.cleanup(ctx)
	default:
		return permanent(fmt.Errorf("unknown job kind %q", j.Kind))
	}
	if isCorrupt(err) {
		// The cache is only a copy of the remote: drop it, and the retry
		// starts from a fresh fetch.
		log.WithError(scrub(err, token)).Warn("repository cache is damaged; removing it")
		c.close()
		if rerr := os.RemoveAll(c.dir); rerr != nil {
			log.WithError(rerr).Error("remove damaged repository cache")
		}
	}
	return err
}

// isCorrupt says whether err comes from damaged objects in the local cache
// (a crash mid-write, a disk fault), as opposed to the remote or content.
func isCorrupt(err error) bool {
	if err == nil || errors.Is(err, ErrPermanent) {
		return false
	}
	for _, target := range []error{
		plumbing.ErrObjectNotFound, objfile.ErrHeader, objfile.ErrNegativeSize,
		packfile.ErrMalformedPackFile, packfile.ErrInvalidDelta, packfile.ErrReferenceDeltaNotFound,
		idxfile.ErrMalformedIdxFile, zlib.ErrChecksum, zlib.ErrHeader,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// fetch wraps repoCache.fetch with timing, logging and classification.
func (jb *job) fetch(ctx context.Context, refs ...plumbing.ReferenceName) (remoteState, error) {
	start := time.Now()
	st, n, err := jb.cache.fetch(ctx, jb.auth, refs...)
	jb.res.Fetch += time.Since(start)
	if err != nil {
		return st, classify(fmt.Errorf("fetch %s: %w", jb.j.Repo.FullName, err))
	}
	jb.log.WithFields(logrus.Fields{"bytes": n, "ms": time.Since(start).Milliseconds()}).Debug("fetched")
	return st, nil
}

func branchRef(b string) plumbing.ReferenceName { return plumbing.NewBranchReferenceName(b) }

// defaultBranch is the repository's default branch: the job's, else what
// the remote's HEAD points at.
func (jb *job) defaultBranch(st remoteState) string {
	if jb.j.Repo.DefaultBranch != "" {
		return jb.j.Repo.DefaultBranch
	}
	if st.head.IsBranch() {
		return st.head.Short()
	}
	return ""
}

// commitTree reads a commit and its tree as an fs.FS.
func (jb *job) commit(h plumbing.Hash) (*object.Commit, *treeFS, error) {
	c, err := object.GetCommit(jb.cache.st, h)
	if err != nil {
		return nil, nil, fmt.Errorf("read commit %s: %w", h, err)
	}
	return c, newTreeFS(jb.cache.st, c.TreeHash, jb.p.limits.MaxFileBytes), nil
}

// resolveSource picks the commit to build: the job's SHA when given (it
// must be in the fetched history), else the ref's head.
func (jb *job) resolveSource(st remoteState, ref plumbing.ReferenceName) (plumbing.Hash, error) {
	if jb.j.SHA != "" {
		h := plumbing.NewHash(jb.j.SHA)
		if h.IsZero() || h.String() != strings.ToLower(jb.j.SHA) {
			return plumbing.ZeroHash, permanent(fmt.Errorf("job commit %q is not a sha", jb.j.SHA))
		}
		if jb.cache.st.HasEncodedObject(h) != nil {
			return plumbing.ZeroHash, permanent(fmt.Errorf("commit %s is not on %s of %s", h, ref, jb.j.Repo.FullName))
		}
		return h, nil
	}
	h, ok := st.hash(ref)
	if !ok {
		return plumbing.ZeroHash, permanent(fmt.Errorf("%s does not exist in %s", ref, jb.j.Repo.FullName))
	}
	return h, nil
}

// siteConfig reads publish.yaml; ok is false when there is none (the
// repository has not opted in).
func (p *Publisher) siteConfig(tree fs.FS, repo string) (cfg posts.Config, diags []posts.Diagnostic, ok bool, err error) {
	if _, err := fs.Stat(tree, "publish.yaml"); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return cfg, nil, false, nil
		}
		return cfg, nil, false, fmt.Errorf("read publish.yaml: %w", err)
	}
	cfg, diags = p.loadConfig(tree, repo)
	for _, d := range diags {
		if d.Severity == posts.SeverityError {
			return cfg, diags, true, permanent(fmt.Errorf("publish.yaml has errors; nothing was published: %s:%d: %s", d.File, d.Line, d.Message))
		}
	}
	return cfg, diags, true, nil
}

const trailerSource = "Source-Commit: "

// publishedSource finds the source commit of the site on the pages branch:
// the Source-Commit trailer of the newest publish commit, walking back over
// preview and outside commits.
func publishedSource(s *repoCache, head plumbing.Hash) (plumbing.Hash, error) {
	h := head
	for i := 0; i < 500 && !h.IsZero(); i++ {
		c, err := object.GetCommit(s.st, h)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("read pages commit %s: %w", h, err)
		}
		if sha, ok := trailer(c.Message, trailerSource); ok {
			if src := plumbing.NewHash(sha); !src.IsZero() && src.String() == sha {
				return src, nil
			}
		}
		if len(c.ParentHashes) == 0 {
			break
		}
		h = c.ParentHashes[0]
	}
	return plumbing.ZeroHash, nil
}

func trailer(msg, key string) (string, bool) {
	lines := strings.Split(strings.TrimRight(msg, "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" {
			break
		}
		if v, ok := strings.CutPrefix(l, key); ok {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// isAncestor: a is a strict ancestor of b.
func isAncestor(s *repoCache, a, b plumbing.Hash) (bool, error) {
	if a == b {
		return false, nil
	}
	ca, err := object.GetCommit(s.st, a)
	if err != nil {
		return false, err
	}
	cb, err := object.GetCommit(s.st, b)
	if err != nil {
		return false, err
	}
	return ca.IsAncestor(cb)
}

func shortSHA(h plumbing.Hash) string { return h.String()[:7] }

func subject(msg string) string {
	s, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
	return truncate(strings.TrimSpace(s), 200)
}

func (jb *job) signature() object.Signature {
	return object.Signature{Name: "publishbot", Email: "publishbot@users.noreply.github.com", When: jb.p.now().UTC().Truncate(time.Second)}
}

// composeFunc builds the new pages tree on top of the current pages head
// (zero when the branch does not exist). It returns errNothing to stop
// without a commit, or a *skipError to skip the job.
type composeFunc func(w *treeWriter, head plumbing.Hash, old *object.Tree) (plumbing.Hash, error)

// errNothing from a composeFunc: there is nothing to change.
var errNothing = errors.New("nothing to do")

// commitAndPush writes the tree compose builds on the pages head as a new
// commit and pushes it without force. When the branch moved meanwhile it
// fetches it again and rebuilds on the new head, up to Limits.PushAttempts
// times with jittered backoff. changed is false when the tree was identical
// to the head's.
func (jb *job) commitAndPush(ctx context.Context, pages plumbing.ReferenceName, head plumbing.Hash, message string, compose composeFunc) (commit plumbing.Hash, changed bool, err error) {
	attempts := jb.p.limits.PushAttempts
	for attempt := 1; ; attempt++ {
		var old *object.Tree
		if !head.IsZero() {
			hc, err := object.GetCommit(jb.cache.st, head)
			if err != nil {
				return plumbing.ZeroHash, false, fmt.Errorf("read pages head %s: %w", head, err)
			}
			if old, err = hc.Tree(); err != nil {
				return plumbing.ZeroHash, false, fmt.Errorf("read pages tree: %w", err)
			}
		}
		w := &treeWriter{s: jb.cache.st}
		start := time.Now()
		tree, err := compose(w, head, old)
		if errors.Is(err, errNothing) {
			return head, false, nil
		}
		if err != nil {
			return plumbing.ZeroHash, false, err
		}
		if old != nil && tree == old.Hash {
			return head, false, nil
		}
		c := &object.Commit{Author: jb.signature(), Committer: jb.signature(), Message: message, TreeHash: tree}
		if !head.IsZero() {
			c.ParentHashes = []plumbing.Hash{head}
		}
		commit, err := w.writeCommit(c)
		if err != nil {
			return plumbing.ZeroHash, false, err
		}
		if err := w.flush(); err != nil {
			return plumbing.ZeroHash, false, err
		}
		jb.res.Build += time.Since(start)
		objs := w.pushList()
		jb.res.ObjectsWritten += w.written
		jb.res.ObjectsPushed = len(objs)
		if jb.p.beforePush != nil {
			jb.p.beforePush(ctx, attempt)
		}
		start = time.Now()
		err = jb.cache.push(ctx, jb.auth, pages, head, commit, objs, w.bases)
		jb.res.Push += time.Since(start)
		if err == nil {
			jb.log.WithFields(logrus.Fields{"pages_commit": commit.String(), "objects": len(objs), "push_attempt": attempt}).Debug("pushed")
			return commit, true, nil
		}
		if !isConflict(err) {
			return plumbing.ZeroHash, false, classify(fmt.Errorf("push to %s of %s: %w", pages.Short(), jb.j.Repo.FullName, err))
		}
		if attempt >= attempts {
			return plumbing.ZeroHash, false, fmt.Errorf("push to %s of %s: the branch kept moving, gave up after %d attempts: %w", pages.Short(), jb.j.Repo.FullName, attempt, err)
		}
		jb.log.WithField("push_attempt", attempt).WithError(scrub(err, jb.token)).Info("pages branch moved; rebuilding on its new head")
		t := time.NewTimer(jb.p.backoff(attempt + 1))
		select {
		case <-ctx.Done():
			t.Stop()
			return plumbing.ZeroHash, false, fmt.Errorf("push to %s: %w", pages.Short(), ctx.Err())
		case <-t.C:
		}
		st, err := jb.fetch(ctx, pages)
		if err != nil {
			return plumbing.ZeroHash, false, err
		}
		head = st.refs[pages]
	}
}
