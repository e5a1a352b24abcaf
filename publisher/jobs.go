package publisher

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime/trace"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/gitstore"
	"github.com/publishbot/publishbot/logmask"
	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/site"
	"github.com/publishbot/publishbot/templates"
)

// Every job takes one path (job.do): its kind says what to fetch first and
// whose publish.yaml holds the settings (plan); resolve fetches and reads
// the settings; the kind's pages function says what the pages tree becomes
// (a pagesChange: publishPages, previewPages, cleanupPages); apply commits
// and pushes that and decides the outcome. Drift shares resolve.

// job is the state of one run.
type job struct {
	p    *Publisher
	j    queue.Job
	log  *logrus.Entry
	res  *Result
	repo Repo
	mask *logmask.Masker

	// pr is the pull request as GitHub reported it (followPullRequest),
	// nil when the job was not asked about one.
	pr *PullRequest
	// fork: a preview's pull request comes from another repository, whose
	// files are not trusted (queue.Job.FromFork, or GitHub's answer).
	fork bool
	// early is the previous build's read started before the fetch
	// (doKind), for previousBuildSoon
	early *pendingBuild
}

// skipError stops a job without failing it.
type skipError struct{ reason string }

func (e *skipError) Error() string { return "skipped: " + e.reason }

func skip(format string, args ...any) error { return &skipError{reason: fmt.Sprintf(format, args...)} }

func branchRef(b string) string { return "refs/heads/" + b }

const previewRoot = "pr-preview"

func previewDir(pr int) string { return fmt.Sprintf("%s/pr-%d", previewRoot, pr) }

// plan is what a kind of job needs before its settings are known.
type plan struct {
	// refs are refs the job itself names: a pushed branch, a pull
	// request's head.
	refs []string
	// settings is the branch whose publish.yaml names the source and pages
	// branches (a pull request's base); "" means the repository's default
	// branch, else orElse.
	settings, orElse string
	// noSettings is the error when there is no such branch at all; nil
	// lets the job go on with the default settings.
	noSettings error
	// pages says what the pages tree becomes.
	pages func(ctx context.Context, b *branches) (*pagesChange, error)
	// previous is the target whose previous build pages reads (see
	// previousBuildSoon), read while the job fetches; "" for none.
	previous string
}

// branches is what a job found out about the repository's branches: the
// refs fetched so far, and the settings of publish.yaml.
type branches struct {
	refs    gitstore.Refs   // as the remote advertised them last
	fetched map[string]bool // refs fetched in this job
	// settings is the branch whose publish.yaml was read ("" when there
	// is none); source and pages are the branches it names, else the
	// settings branch and Options.PagesBranch.
	settings, source, pages string
}

func (b *branches) head(branch string) (string, bool) { return b.refs.Hash(branchRef(branch)) }

// pagesChange is what a job makes of the pages branch.
type pagesChange struct {
	pages   string                     // the pages branch
	message string                     // of the new commit
	tree    func(*gitstore.Tree) error // what the pages tree becomes on its head
	// done is the outcome when a commit was pushed, unchanged the Reason
	// when the tree was already so, and noBranch the Reason when the
	// pages branch does not exist ("": create it).
	done                Outcome
	unchanged, noBranch string
	// pushed, when not nil, records the build of the pages commit: once
	// the repository cache holds the commit (while it is pushed), or
	// after Push found the branch already holding the tree.
	pushed func(commit string)
}

// do runs the job: one path for every kind.
func (jb *job) do(ctx context.Context) error {
	err := jb.doKind(ctx)
	var s *skipError
	if errors.As(err, &s) {
		jb.res.Outcome = OutcomeSkipped
		jb.res.Reason = s.reason
		return nil
	}
	return err
}

func (jb *job) doKind(ctx context.Context) error {
	if err := jb.followPullRequest(ctx); err != nil {
		return err
	}
	pl, err := jb.plan()
	if err != nil {
		return err
	}
	if pl.previous != "" {
		jb.early = jb.previousBuildSoon(pl.previous)
		defer jb.early.drain() // returns at once when pages waited for it
	}
	b, err := jb.resolve(ctx, pl)
	if err != nil {
		return err
	}
	jb.res.PagesBranch = b.pages
	ch, err := pl.pages(ctx, b)
	if err != nil {
		return err
	}
	return jb.apply(ctx, b, ch)
}

// plan is the job's kind, as what it fetches and what it makes of the
// pages branch.
func (jb *job) plan() (plan, error) {
	j := jb.j
	switch j.Kind {
	case queue.KindPublish, "":
		pl := plan{noSettings: errors.New("no branch given and the repository has no default branch")}
		branch := ""
		if j.Ref != "" {
			var ok bool
			if branch, ok = strings.CutPrefix(j.Ref, "refs/heads/"); !ok {
				return plan{}, skip("%s is not a branch", j.Ref)
			}
			pl.refs, pl.orElse = []string{j.Ref}, branch
		}
		pl.pages = func(ctx context.Context, b *branches) (*pagesChange, error) {
			return jb.publishPages(ctx, b, branch)
		}
		pl.previous = "site"
		return pl, nil
	case queue.KindPreview:
		if j.PR <= 0 {
			return plan{}, permanent(errors.New("preview job without a pull request number"))
		}
		pl := plan{refs: []string{jb.prRef()}, settings: jb.baseBranch(),
			noSettings: errors.New("pull request has no base branch"), pages: jb.previewPages}
		pl.previous = previewDir(j.PR)
		return pl, nil
	case queue.KindCleanup:
		if j.PR <= 0 {
			return plan{}, permanent(errors.New("clean-up job without a pull request number"))
		}
		return plan{settings: jb.baseBranch(), pages: jb.cleanupPages}, nil
	}
	return plan{}, permanent(fmt.Errorf("unknown job kind %q", j.Kind))
}

func (jb *job) prRef() string {
	if jb.j.Ref != "" {
		return jb.j.Ref
	}
	return fmt.Sprintf("refs/pull/%d/head", jb.j.PR)
}

func (jb *job) baseBranch() string {
	return strings.TrimPrefix(jb.j.BaseRef, "refs/heads/")
}

// resolve fetches, in one round trip, the refs the plan names, the
// settings branch (the pull request's base, or the repository's default
// branch) and the default pages branch; when the repository's default
// branch was not known it asks the remote's HEAD. Then it reads the branch
// settings from publish.yaml of the settings branch.
func (jb *job) resolve(ctx context.Context, pl plan) (*branches, error) {
	b := &branches{fetched: map[string]bool{}}
	settings := pl.settings
	if settings == "" {
		settings = jb.j.Repo.DefaultBranch
	}
	want := append([]string(nil), pl.refs...)
	if settings != "" {
		want = append(want, branchRef(settings))
	}
	if err := jb.fetch(ctx, b, append(want, branchRef(jb.p.pagesBranch))...); err != nil {
		return nil, err
	}
	if settings == "" {
		settings, _ = strings.CutPrefix(b.refs.Head, "refs/heads/")
	}
	if settings == "" {
		settings = pl.orElse
	}
	if settings == "" && pl.noSettings != nil {
		return nil, permanent(pl.noSettings)
	}
	if settings != "" {
		if err := jb.fetch(ctx, b, branchRef(settings)); err != nil {
			return nil, err
		}
	}
	return b, jb.readSettings(b, settings)
}

// fetch fetches, in one round trip, the refs this job has not fetched yet.
func (jb *job) fetch(ctx context.Context, b *branches, refs ...string) error {
	defer trace.StartRegion(ctx, "publisher.fetch").End()
	var missing []string
	for _, r := range refs {
		if !b.fetched[r] {
			b.fetched[r] = true
			missing = append(missing, r)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	start := time.Now()
	refsNow, err := jb.repo.Fetch(ctx, missing...)
	jb.res.Fetch += time.Since(start)
	if err != nil {
		return err
	}
	b.refs = refsNow
	jb.log.WithFields(logrus.Fields{"bytes": refsNow.Received, "ms": time.Since(start).Milliseconds()}).Debug("fetched")
	return nil
}

// readSettings reads source_branch and pages_branch from publish.yaml at
// the fetched head of branch; a missing branch or file leaves the defaults.
// A value publish.yaml refuses fails the job: publishing from or to a
// default branch instead would be wrong. Other errors in the file are the
// business of the jobs that build (they publish nothing then); a clean-up
// still removes its preview.
func (jb *job) readSettings(b *branches, branch string) error {
	b.settings, b.source, b.pages = branch, branch, jb.p.pagesBranch
	h, ok := b.head(branch)
	if !ok || branch == "" {
		return nil
	}
	c, err := jb.repo.Commit(h)
	if err != nil {
		return err
	}
	cfg, diags, has, err := jb.p.readConfig(c.Tree, jb.j.Repo.FullName)
	if err != nil || !has {
		return err
	}
	for _, key := range []string{"source_branch", "pages_branch"} {
		if taken, written := cfg.Set[key]; written && !taken {
			jb.res.Diagnostics = diags
			return permanent(fmt.Errorf("publish.yaml of %s: %s", branch, problemWith(diags, key)))
		}
	}
	if cfg.Has("source_branch") {
		b.source = cfg.SourceBranch
	}
	if cfg.Has("pages_branch") {
		b.pages = cfg.PagesBranch
	}
	return nil
}

// problemWith is the error diagnostic LoadConfig gave about key, as text.
func problemWith(diags []posts.Diagnostic, key string) string {
	for _, d := range diags {
		if d.Severity == posts.SeverityError && strings.HasPrefix(d.Message, key+":") {
			return fmt.Sprintf("%s:%d: %s", d.File, d.Line, d.Message)
		}
	}
	return key + " is not valid"
}

// readConfig reads publish.yaml of tree; has is false when there is none
// (the repository has not opted in).
func (p *Publisher) readConfig(tree fs.FS, repo string) (cfg posts.Config, diags []posts.Diagnostic, has bool, err error) {
	if _, err := fs.Stat(tree, posts.ConfigFile); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return cfg, nil, false, nil
		}
		return cfg, nil, false, fmt.Errorf("read publish.yaml: %w", err)
	}
	cfg, diags = p.loadConfig(tree, repo)
	return cfg, diags, true, nil
}

// configError fails a build on any error in publish.yaml: a broken
// publish.yaml publishes nothing.
func configError(diags []posts.Diagnostic) error {
	for _, d := range diags {
		if d.Severity == posts.SeverityError {
			return permanent(fmt.Errorf("publish.yaml has errors; nothing was published: %s:%d: %s", d.File, d.Line, d.Message))
		}
	}
	return nil
}

// resolveSource picks the commit to build: the job's SHA when given (it
// must be in the fetched history), else the ref's head.
func (jb *job) resolveSource(b *branches, ref string) (string, error) {
	if jb.j.SHA != "" {
		h := strings.ToLower(jb.j.SHA)
		if !isSHA(h) {
			return "", permanent(fmt.Errorf("job commit %q is not a sha", jb.j.SHA))
		}
		if !jb.repo.Has(h) {
			return "", permanent(fmt.Errorf("commit %s is not on %s of %s", h, ref, jb.j.Repo.FullName))
		}
		return h, nil
	}
	h, ok := b.refs.Hash(ref)
	if !ok {
		return "", permanent(fmt.Errorf("%s does not exist in %s", ref, jb.j.Repo.FullName))
	}
	return h, nil
}

// source resolves the commit a job builds (see resolveSource) and reads it.
func (jb *job) source(b *branches, ref string) (gitstore.Commit, error) {
	src, err := jb.resolveSource(b, ref)
	if err != nil {
		return gitstore.Commit{}, err
	}
	jb.res.SourceSHA = src
	return jb.repo.Commit(src)
}

// checkTree holds the commit a job builds to the store's limits.
func (jb *job) checkTree(src string) error {
	if err := jb.repo.CheckTree(src); err != nil {
		return fmt.Errorf("check %s: %w", shortSHA(src), err)
	}
	return nil
}

// build builds the site of the commit src with the templates/ folder of
// look (the commit itself, or a pull request's base); in gives the rest.
// The site's diagnostics become the result's.
func (jb *job) build(ctx context.Context, src gitstore.Commit, look fs.FS, in buildInput) (*site.Output, error) {
	defer trace.StartRegion(ctx, "publisher.build").End()
	tmpl, err := templatesDir(look)
	if err != nil {
		return nil, err
	}
	in.Content, in.Templates, in.Repo, in.Limits = src.Tree, tmpl, jb.j.Repo.FullName, jb.p.limits.Build
	in.Render.Images = jb.p.images
	start := time.Now()
	out, err := jb.runBuild(ctx, in)
	jb.res.Build += time.Since(start)
	if out != nil {
		jb.res.Load += out.Load
		jb.res.Render += out.Render
	}
	if out != nil && out.Site != nil {
		jb.res.Diagnostics = out.Site.Diagnostics
	}
	if err == nil && jb.p.built != nil {
		jb.p.built(jb.j, jb.res.Diagnostics)
	}
	return out, err
}

// isSHA: a full lower-case object name, not all zeros.
func isSHA(s string) bool {
	if len(s) != 40 || strings.Trim(s, "0") == "" {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func shortSHA(h string) string { return h[:min(7, len(h))] }

func subject(msg string) string {
	s, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// publishPages builds the source commit for the pages branch: the site,
// keeping the branch's previews and custom domain. branch is the pushed
// branch ("" means the source branch).
func (jb *job) publishPages(ctx context.Context, b *branches, branch string) (*pagesChange, error) {
	repo := jb.j.Repo.FullName
	if branch == "" {
		branch = b.source
	}
	if branch != b.source {
		return nil, skip("%s is not the source branch (%s)", branch, b.source)
	}
	if err := jb.fetch(ctx, b, branchRef(branch)); err != nil {
		return nil, err
	}
	srcCommit, err := jb.source(b, branchRef(branch))
	if err != nil {
		return nil, err
	}
	src := srcCommit.Hash
	cfg, diags, has, err := jb.p.readConfig(srcCommit.Tree, repo)
	jb.res.Diagnostics = diags
	if err != nil {
		return nil, err
	}
	if !has {
		return nil, skip("%s has no publish.yaml", shortSHA(src))
	}
	if err := configError(diags); err != nil {
		return nil, err
	}
	// The commit's own publish.yaml names its pages branch.
	pages := jb.p.pagesBranch
	if cfg.Has("pages_branch") {
		pages = cfg.PagesBranch
	}
	if pages == branch {
		return nil, permanent(fmt.Errorf("publish.yaml: pages_branch %q is the source branch", pages))
	}
	if err := jb.fetch(ctx, b, branchRef(pages)); err != nil {
		return nil, err
	}
	head, _ := b.head(pages)
	if err := jb.checkNewer(head, src); err != nil {
		return nil, err
	}
	if err := jb.checkTree(src); err != nil {
		return nil, err
	}
	now := jb.p.now()
	pending := jb.previousBuildSoon("site")
	defer pending.wait() // read, whatever happens to the build
	in := buildInput{Now: now}
	pending.options(&in)
	out, err := jb.build(ctx, srcCommit, srcCommit.Tree, in)
	inc := pending.wait()
	jb.res.SiteURL = cfg.BaseURL
	if out != nil && out.Site != nil {
		jb.res.SiteURL = out.Site.Config.BaseURL
		jb.res.NextPublish = nextPublish(out.Site, now)
	}
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", shortSHA(src), err)
	}
	files, kept := out.Files, inc.kept(out)
	_, ownCNAME := files["CNAME"]
	if slices.ContainsFunc(kept, func(k gitstore.Kept) bool { return k.Path == "CNAME" }) {
		ownCNAME = true
	}
	jb.res.Rendered, jb.res.Kept, jb.res.KeptFolders = len(files), len(out.Kept), countFolders(kept)
	var blobs *gitstore.Blobs
	return &pagesChange{
		pages:   pages,
		message: fmt.Sprintf("Publish %s: %s\n\n%s%s\n", shortSHA(src), subject(srcCommit.Message), trailerSource, src),
		tree: func(t *gitstore.Tree) error {
			if err := jb.checkNewer(t.Head(), src); err != nil {
				return err
			}
			var err error
			if blobs, err = t.ReplaceKeeping(files, kept); err != nil {
				return fmt.Errorf("build %s: %w", shortSHA(src), err)
			}
			// The pages branch keeps its previews and custom domain.
			if err := t.KeepFolder(previewRoot); err != nil || ownCNAME {
				return err
			}
			return t.KeepFile("CNAME")
		},
		done:      OutcomePublished,
		unchanged: "the site on " + pages + " is already up to date",
		pushed:    func(commit string) { jb.remember(inc, out, blobs, commit) },
	}, nil
}

// previewPages builds a pull request's head with the base branch's
// configuration and templates, into pr-preview/pr-N/ of the pages branch,
// unless the preview there is of a newer commit of the pull request. A
// fork's preview is built with its raw HTML sanitised (unsafe_html off)
// and keeps, of the files the fork adds or changes, only what leaveOut
// lets through.
func (jb *job) previewPages(ctx context.Context, b *branches) (*pagesChange, error) {
	j := jb.j
	base := b.settings
	baseHead, ok := b.head(base)
	if !ok {
		return nil, permanent(fmt.Errorf("base branch %s does not exist in %s", base, j.Repo.FullName))
	}
	baseCommit, err := jb.repo.Commit(baseHead)
	if err != nil {
		return nil, err
	}
	cfg, diags, has, err := jb.p.readConfig(baseCommit.Tree, j.Repo.FullName)
	if err != nil {
		return nil, err
	}
	if !has {
		return nil, skip("the base branch %s has no publish.yaml", base)
	}
	if err := configError(diags); err != nil {
		jb.res.Diagnostics = diags
		return nil, err
	}
	if !cfg.Previews {
		return nil, skip("previews are turned off in publish.yaml")
	}
	if b.pages == base {
		return nil, permanent(fmt.Errorf("publish.yaml: pages_branch %q is the base branch", b.pages))
	}
	if err := jb.previewTarget(b); err != nil {
		return nil, err
	}
	head, err := jb.source(b, jb.prRef())
	if err != nil {
		return nil, err
	}
	src := head.Hash
	if err := jb.fetch(ctx, b, branchRef(b.pages)); err != nil {
		return nil, err
	}
	pagesHead, _ := b.head(b.pages)
	if err := jb.checkPreviewNewer(pagesHead, src); err != nil {
		return nil, err
	}
	if err := jb.checkTree(src); err != nil {
		return nil, err
	}
	if jb.fork {
		// A fork's raw HTML is always sanitised, whatever the base branch
		// allows its own authors.
		cfg.UnsafeHTML = false
	}
	previewBase := strings.TrimSuffix(cfg.BaseURL, "/") + "/" + previewDir(j.PR) + "/"
	jb.res.SiteURL = previewBase
	in := buildInput{
		Config: &cfg, BaseURL: previewBase, Now: jb.p.now(),
		Render: templates.Options{Drafts: true, Future: true, PreviewPR: j.PR},
	}
	// A fork's previews are incremental too: the files leaveOut takes out
	// are not recorded, so each preview makes them again and checks them
	// again, and a file kept from the last preview is one that passed.
	pending := jb.previousBuildSoon(previewDir(j.PR))
	defer pending.wait() // read, whatever happens to the build
	pending.options(&in)
	out, err := jb.build(ctx, head, baseCommit.Tree, in)
	inc := pending.wait()
	if err != nil {
		return nil, fmt.Errorf("build preview of #%d at %s: %w", j.PR, shortSHA(src), err)
	}
	// What the pull request changes is measured from where it forked
	// (the merge base), as GitHub's diff does, so posts added to the base
	// branch since do not show up as removed.
	diffBase := baseCommit
	if mb, err := jb.repo.MergeBase(src, baseHead); err == nil && mb != "" {
		if c, err := jb.repo.Commit(mb); err == nil {
			diffBase = c
		}
	}
	if jb.res.Changed, err = jb.changedPosts(ctx, diffBase, head, &cfg, out, previewBase); err != nil {
		return nil, err
	}
	if jb.res.LeftOut, err = jb.leaveOut(diffBase, head, baseCommit, out); err != nil {
		return nil, err
	}
	files, kept := out.Files, inc.kept(out)
	jb.res.Rendered, jb.res.Kept, jb.res.KeptFolders = len(files), len(out.Kept), countFolders(kept)
	var blobs *gitstore.Blobs
	return &pagesChange{
		pages:   b.pages,
		message: fmt.Sprintf("Preview #%d at %s: %s\n\n%s%s\n%s%d\n", j.PR, shortSHA(src), subject(head.Message), trailerPreview, src, trailerPR, j.PR),
		tree: func(t *gitstore.Tree) error {
			if err := jb.checkPreviewNewer(t.Head(), src); err != nil {
				return err
			}
			if t.Head() == "" {
				// A new pages branch: GitHub Pages must not run Jekyll on it.
				if err := t.SetFile(".nojekyll", []byte{}); err != nil {
					return err
				}
			}
			var err error
			if blobs, err = t.SetKeeping(previewDir(j.PR), files, kept); err != nil {
				return fmt.Errorf("build preview of #%d: %w", j.PR, err)
			}
			// the site is the root of the pages branch: a first preview
			// pushes what differs from it, not every photo and page again
			return t.Resembles(previewDir(j.PR), "")
		},
		done:      OutcomePublished,
		unchanged: "the preview is already up to date",
		pushed:    func(commit string) { jb.remember(inc, out, blobs, commit) },
	}, nil
}

// cleanupPages removes pr-preview/pr-N/ from the pages branch.
func (jb *job) cleanupPages(_ context.Context, b *branches) (*pagesChange, error) {
	// The pull request's head is no longer needed in the cache; the next
	// repack drops its objects.
	_ = jb.repo.Forget(jb.prRef())
	dir := previewDir(jb.j.PR)
	return &pagesChange{
		pages:   b.pages,
		message: fmt.Sprintf("Remove preview of #%d\n\n%s%d\n", jb.j.PR, trailerPR, jb.j.PR),
		tree: func(t *gitstore.Tree) error {
			if t.Head() == "" {
				return gitstore.ErrNoChange
			}
			has, err := t.Has(dir)
			if err != nil {
				return err
			}
			if !has {
				return gitstore.ErrNoChange
			}
			return t.Remove(dir)
		},
		done:      OutcomeRemoved,
		unchanged: "there is no preview to remove",
		noBranch:  "there is no pages branch",
	}, nil
}

// apply commits what the pages tree becomes on the pages branch's head and
// pushes it (gitstore builds it again on a new head when the branch moved
// meanwhile), then decides the outcome.
func (jb *job) apply(ctx context.Context, b *branches, ch *pagesChange) error {
	if err := jb.fetch(ctx, b, branchRef(ch.pages)); err != nil {
		return err
	}
	head, ok := b.head(ch.pages)
	if !ok && ch.noBranch != "" {
		jb.res.Outcome = OutcomeUnchanged
		jb.res.Reason = ch.noBranch
		return nil
	}
	// The build's record needs only the repository cache: it is written
	// while the push runs (a manifest of 20,000 posts' files takes about
	// as long to write as the push), and always before another attempt's
	// Build or the job's end. It stands if the push fails: it names only
	// blobs the cache holds.
	var recording sync.WaitGroup
	recorded := false
	var written func(commit string)
	if ch.pushed != nil {
		written = func(commit string) {
			recorded = true
			recording.Go(func() { ch.pushed(commit) })
		}
	}
	region := trace.StartRegion(ctx, "publisher.push")
	pushed, err := jb.repo.Push(ctx, gitstore.Update{
		Branch:  ch.pages,
		Head:    head,
		Message: ch.message,
		Author:  gitstore.Signature{Name: "publishbot", Email: "publishbot@users.noreply.github.com", When: jb.p.now()},
		Build: func(t *gitstore.Tree) error {
			recording.Wait() // an earlier attempt's record reads what Build remakes
			defer trace.StartRegion(ctx, "publisher.tree").End()
			return ch.tree(t)
		},
		Retry: func(attempt int, err error) {
			jb.log.WithField("push_attempt", attempt).WithError(maskErr(jb.mask, err)).Info("pages branch moved; rebuilding on its new head")
		},
		Written: written,
	})
	region.End()
	recording.Wait()
	jb.res.Build += pushed.Write
	jb.res.Push += pushed.Push
	jb.res.Fetch += pushed.Fetch
	jb.res.ObjectsWritten += pushed.Written
	jb.res.ObjectsPushed = pushed.Sent
	if err != nil {
		return err
	}
	jb.res.PagesCommit = pushed.Commit
	if ch.pushed != nil && !recorded {
		ch.pushed(pushed.Commit) // the branch already held the tree
	}
	if !pushed.Changed {
		jb.res.Outcome = OutcomeUnchanged
		jb.res.Reason = ch.unchanged
		return nil
	}
	jb.log.WithFields(logrus.Fields{"pages_commit": pushed.Commit, "objects": pushed.Sent, "push_attempt": pushed.Attempts}).Debug("pushed")
	jb.res.Outcome = ch.done
	return nil
}

// runBuild runs the build in the job's goroutine: the build stops soon
// after ctx ends (loading and rendering check it per post and per page), so
// no build outlives its job. A panic in the build is a failed job.
func (jb *job) runBuild(ctx context.Context, in buildInput) (out *site.Output, err error) {
	defer func() {
		if v := recover(); v != nil {
			out, err = nil, fmt.Errorf("internal error while building: %v", v)
		}
	}()
	if jb.p.cache != nil {
		in.Cache = jb.p.cache
		defer jb.p.cache.Flush()
	}
	out, err = jb.p.build(ctx, in)
	if err == nil && ctx.Err() != nil {
		err = fmt.Errorf("build: %w", ctx.Err())
	}
	return out, err
}

// nextPublish is the earliest time after now at which a post that is not
// a draft goes live or expires (posts.Post.NextChange).
func nextPublish(site *posts.Site, now time.Time) time.Time {
	var next time.Time
	for _, p := range site.Posts {
		if t := p.NextChange(now); !p.Draft && !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	return next
}

const trailerSource = "Source-Commit: "

// checkNewer refuses to replace a site built from a newer commit: src must
// not be a strict ancestor of the commit published on head ("" for none).
func (jb *job) checkNewer(head, src string) error {
	if head == "" {
		return nil
	}
	published, err := jb.publishedSource(head)
	if err != nil || published == "" || published == src {
		return err
	}
	if !jb.repo.Has(published) {
		// Published from a commit we have not fetched (history rewritten,
		// or another branch): ancestry cannot be told, so publish.
		jb.log.WithField("published", published).Info("published source commit is unknown; publishing anyway")
		return nil
	}
	older, err := jb.repo.IsAncestor(src, published)
	if err != nil {
		return fmt.Errorf("compare %s with the published %s: %w", shortSHA(src), shortSHA(published), err)
	}
	if older {
		return skip("a newer commit (%s) is already published", shortSHA(published))
	}
	return nil
}

// publishedSource finds the source commit of the site on the pages branch:
// the Source-Commit trailer of the newest publish commit, walking back over
// preview and outside commits from head. "" when there is none.
func (jb *job) publishedSource(head string) (string, error) {
	h := head
	for i := 0; i < 500 && h != ""; i++ {
		c, err := jb.repo.Commit(h)
		if err != nil {
			return "", fmt.Errorf("read the pages branch: %w", err)
		}
		if sha, ok := trailer(c.Message, trailerSource); ok && isSHA(sha) {
			return sha, nil
		}
		if len(c.Parents) == 0 {
			break
		}
		h = c.Parents[0]
	}
	return "", nil
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

// Drift compares a repository's source branch head with the source commit
// published on its pages branch (the Source-Commit trailer), for
// reconciliation: when they differ, a publish is due. publishedSHA is ""
// when nothing was published yet. It takes the repository's lock like a job.
func (p *Publisher) Drift(ctx context.Context, repo queue.Repo) (sourceHead, publishedSHA string, err error) {
	ctx, cancel := p.jobContext(ctx)
	defer cancel()
	mask := logmask.NewMasker()
	err = p.withRepo(ctx, queue.Job{Repo: repo}, discardEntry(), &Result{}, &mask, func(jb *job, ctx context.Context) error {
		sourceHead, publishedSHA, err = jb.drift(ctx)
		return err
	})
	return sourceHead, publishedSHA, maskErr(mask, err)
}

func (jb *job) drift(ctx context.Context) (source, published string, err error) {
	b, err := jb.resolve(ctx, plan{noSettings: errors.New("the repository has no default branch")})
	if err != nil {
		return "", "", err
	}
	if err := jb.fetch(ctx, b, branchRef(b.source), branchRef(b.pages)); err != nil {
		return "", "", err
	}
	source, _ = b.head(b.source)
	head, ok := b.head(b.pages)
	if !ok {
		return source, "", nil
	}
	published, err = jb.publishedSource(head)
	return source, published, err
}
