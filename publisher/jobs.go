package publisher

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"go.yaml.in/yaml/v3"

	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/templates"
)

// skipError stops a job without failing it.
type skipError struct{ reason string }

func (e *skipError) Error() string { return "skipped: " + e.reason }

func skip(format string, args ...any) error { return &skipError{reason: fmt.Sprintf(format, args...)} }

// branches are the branch settings of publish.yaml as written (posts.Config
// has defaults applied, so it cannot tell "unset" from "gh-pages").
type branches struct {
	Source string `yaml:"source_branch"`
	Pages  string `yaml:"pages_branch"`
}

func readBranches(tree fs.FS) (branches, error) {
	var b branches
	data, err := fs.ReadFile(tree, "publish.yaml")
	if err != nil {
		return b, nil
	}
	// Errors in the file are reported by posts.LoadConfig.
	_ = yaml.Unmarshal(data, &b)
	for _, v := range []struct{ key, val string }{{"source_branch", b.Source}, {"pages_branch", b.Pages}} {
		if v.val == "" {
			continue
		}
		if err := branchRef(v.val).Validate(); err != nil || strings.HasPrefix(v.val, "refs/") {
			return b, permanent(fmt.Errorf("publish.yaml: %s %q is not a valid branch name", v.key, v.val))
		}
	}
	return b, nil
}

// repoSettings are the branches a repository publishes from and to, read
// from publish.yaml of its default branch.
type repoSettings struct {
	defaultBranch string
	source        string
	pages         string
	hasConfig     bool
}

// settings reads publish.yaml of branch (the default branch, or a PR's
// base) at its fetched head; a missing branch or file gives the defaults.
func (jb *job) settings(st remoteState, branch string) (repoSettings, error) {
	s := repoSettings{defaultBranch: branch, source: branch, pages: jb.p.pagesBranch}
	h, ok := st.hash(branchRef(branch))
	if !ok || branch == "" {
		return s, nil
	}
	_, tree, err := jb.commit(h)
	if err != nil {
		return s, err
	}
	b, err := readBranches(tree)
	if err != nil {
		return s, err
	}
	if _, err := fs.Stat(tree, "publish.yaml"); err == nil {
		s.hasConfig = true
	}
	if b.Source != "" {
		s.source = b.Source
	}
	if b.Pages != "" {
		s.pages = b.Pages
	}
	return s, nil
}

// ensure fetches refs the state does not cover yet.
func (jb *job) ensure(ctx context.Context, st remoteState, fetched map[plumbing.ReferenceName]bool, refs ...plumbing.ReferenceName) (remoteState, error) {
	var missing []plumbing.ReferenceName
	for _, r := range refs {
		if !fetched[r] {
			missing = append(missing, r)
			fetched[r] = true
		}
	}
	if len(missing) == 0 {
		return st, nil
	}
	return jb.fetch(ctx, missing...)
}

func (jb *job) finishSkip(err error) error {
	var s *skipError
	if errors.As(err, &s) {
		jb.res.Outcome = OutcomeSkipped
		jb.res.Reason = s.reason
		return nil
	}
	return err
}

// publish builds the source branch and commits it to the pages branch.
func (jb *job) publish(ctx context.Context) error {
	return jb.finishSkip(jb.doPublish(ctx))
}

func (jb *job) doPublish(ctx context.Context) error {
	j := jb.j
	fetched := map[plumbing.ReferenceName]bool{}
	var wanted []plumbing.ReferenceName
	branch := ""
	if j.Ref != "" {
		ref := plumbing.ReferenceName(j.Ref)
		if !ref.IsBranch() {
			return skip("%s is not a branch", j.Ref)
		}
		branch = ref.Short()
		wanted = append(wanted, ref)
	}
	if d := j.Repo.DefaultBranch; d != "" && d != branch {
		wanted = append(wanted, branchRef(d))
	}
	wanted = append(wanted, branchRef(jb.p.pagesBranch))
	for _, r := range wanted {
		fetched[r] = true
	}
	st, err := jb.fetch(ctx, wanted...)
	if err != nil {
		return err
	}
	def := jb.defaultBranch(st)
	if def == "" {
		def = branch
	}
	if def == "" {
		return permanent(errors.New("no branch given and the repository has no default branch"))
	}
	if st, err = jb.ensure(ctx, st, fetched, branchRef(def)); err != nil {
		return err
	}
	set, err := jb.settings(st, def)
	if err != nil {
		return err
	}
	if branch == "" {
		branch = set.source
	}
	if branch != set.source {
		return skip("%s is not the source branch (%s)", branch, set.source)
	}
	if st, err = jb.ensure(ctx, st, fetched, branchRef(branch)); err != nil {
		return err
	}
	src, err := jb.resolveSource(st, branchRef(branch))
	if err != nil {
		return err
	}
	jb.res.SourceSHA = src.String()
	srcCommit, tree, err := jb.commit(src)
	if err != nil {
		return err
	}
	cfg, diags, has, err := jb.p.siteConfig(tree, j.Repo.FullName)
	jb.res.Diagnostics = diags
	if err != nil {
		return err
	}
	if !has {
		return skip("%s has no publish.yaml", shortSHA(src))
	}
	own, err := readBranches(tree)
	if err != nil {
		return err
	}
	pagesBranch := jb.p.pagesBranch
	if own.Pages != "" {
		pagesBranch = own.Pages
	}
	if pagesBranch == branch {
		return permanent(fmt.Errorf("publish.yaml: pages_branch %q is the source branch", pagesBranch))
	}
	pages := branchRef(pagesBranch)
	if st, err = jb.ensure(ctx, st, fetched, pages); err != nil {
		return err
	}
	head := st.refs[pages]
	if err := jb.checkNewer(head, src); err != nil {
		return err
	}
	if _, err := checkTree(jb.cache.st, srcCommit.TreeHash, jb.p.limits, jb.p.sizes); err != nil {
		return permanent(fmt.Errorf("check %s: %w", shortSHA(src), err))
	}

	tmpl, err := templatesDir(tree)
	if err != nil {
		return err
	}
	start := time.Now()
	now := jb.p.now()
	site, files, err := jb.runBuild(ctx, buildInput{Content: tree, Templates: tmpl, Repo: j.Repo.FullName, Now: now})
	jb.res.Build += time.Since(start)
	if site != nil {
		jb.res.Diagnostics = site.Diagnostics
		jb.res.SiteURL = site.Config.BaseURL
		jb.res.NextPublish = nextPublish(site, now)
	} else {
		jb.res.SiteURL = cfg.BaseURL
	}
	if err != nil {
		return fmt.Errorf("build %s: %w", shortSHA(src), err)
	}
	root, err := filesTree(files)
	if err != nil {
		return fmt.Errorf("build %s: %w", shortSHA(src), err)
	}
	_, ownCNAME := files["CNAME"]

	message := fmt.Sprintf("Publish %s: %s\n\n%s%s\n", shortSHA(src), subject(srcCommit.Message), trailerSource, src)
	compose := func(w *treeWriter, head plumbing.Hash, old *object.Tree) (plumbing.Hash, error) {
		if err := jb.checkNewer(head, src); err != nil {
			return plumbing.ZeroHash, err
		}
		// The pages branch keeps its previews and custom domain.
		delete(root.kids, "pr-preview")
		if !ownCNAME {
			delete(root.kids, "CNAME")
		}
		if old != nil {
			for _, e := range old.Entries {
				if (e.Name == "pr-preview" && e.Mode == filemode.Dir) || (e.Name == "CNAME" && !ownCNAME && e.Mode.IsFile()) {
					root.kids[e.Name] = &node{mode: e.Mode, hash: e.Hash}
				}
			}
		}
		return w.writeRoot(root, old)
	}
	commit, changed, err := jb.commitAndPush(ctx, pages, head, message, compose)
	if err != nil {
		return err
	}
	jb.res.PagesCommit = commit.String()
	if changed {
		jb.res.Outcome = OutcomePublished
	} else {
		jb.res.Outcome = OutcomeUnchanged
		jb.res.Reason = "the site on " + pagesBranch + " is already up to date"
	}
	return nil
}

// runBuild runs the build but returns when ctx ends even if rendering does
// not: content is data, and no content may hold a job past its deadline.
// An abandoned build finishes on its own; its result is dropped.
func (jb *job) runBuild(ctx context.Context, in buildInput) (*posts.Site, map[string][]byte, error) {
	type result struct {
		site  *posts.Site
		files map[string][]byte
		err   error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- result{err: fmt.Errorf("internal error while building: %v", v)}
			}
		}()
		site, files, err := jb.p.build(ctx, in)
		done <- result{site, files, err}
	}()
	select {
	case r := <-done:
		return r.site, r.files, r.err
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("build: %w", ctx.Err())
	}
}

// checkNewer refuses to replace a site built from a newer commit: src must
// not be a strict ancestor of the commit published on head.
func (jb *job) checkNewer(head, src plumbing.Hash) error {
	if head.IsZero() {
		return nil
	}
	published, err := publishedSource(jb.cache, head)
	if err != nil || published.IsZero() || published == src {
		return err
	}
	if jb.cache.st.HasEncodedObject(published) != nil {
		// Published from a commit we have not fetched (history rewritten,
		// or another branch): ancestry cannot be told, so publish.
		jb.log.WithField("published", published.String()).Info("published source commit is unknown; publishing anyway")
		return nil
	}
	older, err := isAncestor(jb.cache, src, published)
	if err != nil {
		return fmt.Errorf("compare %s with the published %s: %w", shortSHA(src), shortSHA(published), err)
	}
	if older {
		return skip("a newer commit (%s) is already published", shortSHA(published))
	}
	return nil
}

// nextPublish is the earliest date of a scheduled (future, not draft) post.
func nextPublish(site *posts.Site, now time.Time) time.Time {
	var next time.Time
	for _, p := range site.Posts {
		if p.Future && !p.Draft && p.Date.After(now) && (next.IsZero() || p.Date.Before(next)) {
			next = p.Date
		}
	}
	return next
}

func (jb *job) prRef() plumbing.ReferenceName {
	if jb.j.Ref != "" {
		return plumbing.ReferenceName(jb.j.Ref)
	}
	return plumbing.ReferenceName(fmt.Sprintf("refs/pull/%d/head", jb.j.PR))
}

func (jb *job) baseBranch() string {
	return strings.TrimPrefix(jb.j.BaseRef, "refs/heads/")
}

func previewDir(pr int) string { return fmt.Sprintf("pr-preview/pr-%d", pr) }

// preview builds a pull request's head with the base branch's configuration
// and templates, into pr-preview/pr-N/ of the pages branch.
func (jb *job) preview(ctx context.Context) error {
	return jb.finishSkip(jb.doPreview(ctx))
}

func (jb *job) doPreview(ctx context.Context) error {
	j := jb.j
	if j.PR <= 0 {
		return permanent(errors.New("preview job without a pull request number"))
	}
	headRef := jb.prRef()
	base := jb.baseBranch()
	fetched := map[plumbing.ReferenceName]bool{headRef: true, branchRef(jb.p.pagesBranch): true}
	wanted := []plumbing.ReferenceName{headRef, branchRef(jb.p.pagesBranch)}
	if base != "" {
		wanted = append(wanted, branchRef(base))
		fetched[branchRef(base)] = true
	}
	st, err := jb.fetch(ctx, wanted...)
	if err != nil {
		return err
	}
	if base == "" {
		if base = jb.defaultBranch(st); base == "" {
			return permanent(errors.New("pull request has no base branch"))
		}
		if st, err = jb.ensure(ctx, st, fetched, branchRef(base)); err != nil {
			return err
		}
	}
	baseHead, ok := st.hash(branchRef(base))
	if !ok {
		return permanent(fmt.Errorf("base branch %s does not exist in %s", base, j.Repo.FullName))
	}
	baseCommit, baseTree, err := jb.commit(baseHead)
	if err != nil {
		return err
	}
	cfg, diags, has, err := jb.p.siteConfig(baseTree, j.Repo.FullName)
	if err != nil {
		jb.res.Diagnostics = diags
		return err
	}
	if !has {
		return skip("the base branch %s has no publish.yaml", base)
	}
	if !cfg.Previews {
		return skip("previews are turned off in publish.yaml")
	}
	set, err := jb.settings(st, base)
	if err != nil {
		return err
	}
	pages := branchRef(set.pages)
	if set.pages == base {
		return permanent(fmt.Errorf("publish.yaml: pages_branch %q is the base branch", set.pages))
	}
	if st, err = jb.ensure(ctx, st, fetched, pages); err != nil {
		return err
	}
	src, err := jb.resolveSource(st, headRef)
	if err != nil {
		return err
	}
	jb.res.SourceSHA = src.String()
	srcCommit, headTree, err := jb.commit(src)
	if err != nil {
		return err
	}
	if _, err := checkTree(jb.cache.st, srcCommit.TreeHash, jb.p.limits, jb.p.sizes); err != nil {
		return permanent(fmt.Errorf("check %s: %w", shortSHA(src), err))
	}
	tmpl, err := templatesDir(baseTree)
	if err != nil {
		return err
	}
	previewBase := cfg.BaseURL
	if !strings.HasSuffix(previewBase, "/") {
		previewBase += "/"
	}
	previewBase += previewDir(j.PR) + "/"
	jb.res.SiteURL = previewBase
	start := time.Now()
	site, files, err := jb.runBuild(ctx, buildInput{
		Content: headTree, Templates: tmpl, Config: &cfg, BaseURL: previewBase, Repo: j.Repo.FullName, Now: jb.p.now(),
		Render: templates.Options{Drafts: true, Future: true, PreviewPR: j.PR},
	})
	jb.res.Build += time.Since(start)
	if site != nil {
		jb.res.Diagnostics = site.Diagnostics
	}
	if err != nil {
		return fmt.Errorf("build preview of #%d at %s: %w", j.PR, shortSHA(src), err)
	}
	// What the pull request changes is measured from where it forked
	// (the merge base), as GitHub's diff does, so posts added to the base
	// branch since do not show up as removed.
	diffBase := baseTree
	if mb, err := srcCommit.MergeBase(baseCommit); err == nil && len(mb) > 0 {
		diffBase = newTreeFS(jb.cache.st, mb[0].TreeHash, jb.p.limits.MaxFileBytes)
	}
	changed, err := jb.changedPosts(ctx, diffBase, headTree, &cfg, site, previewBase)
	if err != nil {
		return err
	}
	jb.res.Changed = changed
	out, err := filesTree(files)
	if err != nil {
		return fmt.Errorf("build preview of #%d: %w", j.PR, err)
	}
	message := fmt.Sprintf("Preview #%d at %s: %s\n\nPreview-Commit: %s\nPull-Request: %d\n", j.PR, shortSHA(src), subject(srcCommit.Message), src, j.PR)
	compose := func(w *treeWriter, head plumbing.Hash, old *object.Tree) (plumbing.Hash, error) {
		root := keptDir(old)
		if old == nil {
			// A new pages branch: GitHub Pages must not run Jekyll on it.
			root.kids[".nojekyll"] = &node{mode: filemode.Regular, data: []byte{}}
		}
		if err := w.set(root, previewDir(j.PR), out); err != nil {
			return plumbing.ZeroHash, err
		}
		return w.writeRoot(root, old)
	}
	commit, pushed, err := jb.commitAndPush(ctx, pages, st.refs[pages], message, compose)
	if err != nil {
		return err
	}
	jb.res.PagesCommit = commit.String()
	if pushed {
		jb.res.Outcome = OutcomePublished
	} else {
		jb.res.Outcome = OutcomeUnchanged
		jb.res.Reason = "the preview is already up to date"
	}
	return nil
}

// cleanup removes pr-preview/pr-N/ from the pages branch.
func (jb *job) cleanup(ctx context.Context) error {
	return jb.finishSkip(jb.doCleanup(ctx))
}

func (jb *job) doCleanup(ctx context.Context) error {
	j := jb.j
	if j.PR <= 0 {
		return permanent(errors.New("clean-up job without a pull request number"))
	}
	base := jb.baseBranch()
	fetched := map[plumbing.ReferenceName]bool{branchRef(jb.p.pagesBranch): true}
	wanted := []plumbing.ReferenceName{branchRef(jb.p.pagesBranch)}
	if base != "" {
		wanted = append(wanted, branchRef(base))
		fetched[branchRef(base)] = true
	}
	st, err := jb.fetch(ctx, wanted...)
	if err != nil {
		return err
	}
	if base == "" {
		base = jb.defaultBranch(st)
		if st, err = jb.ensure(ctx, st, fetched, branchRef(base)); err != nil {
			return err
		}
	}
	set, err := jb.settings(st, base)
	if err != nil {
		return err
	}
	pages := branchRef(set.pages)
	if st, err = jb.ensure(ctx, st, fetched, pages); err != nil {
		return err
	}
	// The pull request's head is no longer needed in the cache; the next
	// repack drops its objects.
	_ = jb.cache.st.RemoveReference(tracking(jb.prRef()))
	head, ok := st.hash(pages)
	if !ok {
		jb.res.Outcome = OutcomeUnchanged
		jb.res.Reason = "there is no pages branch"
		return nil
	}
	message := fmt.Sprintf("Remove preview of #%d\n\nPull-Request: %d\n", j.PR, j.PR)
	compose := func(w *treeWriter, head plumbing.Hash, old *object.Tree) (plumbing.Hash, error) {
		if old == nil {
			return plumbing.ZeroHash, errNothing
		}
		root := keptDir(old)
		n, err := w.get(root, previewDir(j.PR))
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if n == nil {
			return plumbing.ZeroHash, errNothing
		}
		if err := w.set(root, previewDir(j.PR), nil); err != nil {
			return plumbing.ZeroHash, err
		}
		return w.writeRoot(root, old)
	}
	commit, pushed, err := jb.commitAndPush(ctx, pages, head, message, compose)
	if err != nil {
		return err
	}
	jb.res.PagesCommit = commit.String()
	if pushed {
		jb.res.Outcome = OutcomeRemoved
	} else {
		jb.res.Outcome = OutcomeUnchanged
		jb.res.Reason = "there is no preview to remove"
	}
	return nil
}

// diffTrees lists the files that differ between two trees (zero hash: an
// empty tree), by path under prefix: "added", "changed" or "removed".
func diffTrees(s storer.EncodedObjectStorer, a, b plumbing.Hash, prefix string, out map[string]string) error {
	if a == b {
		return nil
	}
	entries := func(h plumbing.Hash) (map[string]object.TreeEntry, error) {
		m := map[string]object.TreeEntry{}
		if h.IsZero() {
			return m, nil
		}
		t, err := object.GetTree(s, h)
		if err != nil {
			return nil, err
		}
		for _, e := range t.Entries {
			if e.Mode != filemode.Submodule {
				m[e.Name] = e
			}
		}
		return m, nil
	}
	ea, err := entries(a)
	if err != nil {
		return err
	}
	eb, err := entries(b)
	if err != nil {
		return err
	}
	sub := func(e object.TreeEntry, ok bool) (dir, file plumbing.Hash) {
		if !ok {
			return
		}
		if e.Mode == filemode.Dir {
			return e.Hash, plumbing.ZeroHash
		}
		return plumbing.ZeroHash, e.Hash
	}
	names := map[string]bool{}
	for n := range ea {
		names[n] = true
	}
	for n := range eb {
		names[n] = true
	}
	for n := range names {
		x, okA := ea[n]
		y, okB := eb[n]
		da, fa := sub(x, okA)
		db, fb := sub(y, okB)
		p := prefix + n
		if err := diffTrees(s, da, db, p+"/", out); err != nil {
			return err
		}
		switch {
		case fa == fb:
		case fa.IsZero():
			out[p] = "added"
		case fb.IsZero():
			out[p] = "removed"
		default:
			out[p] = "changed"
		}
	}
	return nil
}

// subtree is the hash of the folder dir in a commit's tree (zero if none).
func subtree(s storer.EncodedObjectStorer, root plumbing.Hash, dir string) (plumbing.Hash, error) {
	h := root
	for _, part := range strings.Split(strings.Trim(dir, "/"), "/") {
		if part == "" {
			continue
		}
		t, err := object.GetTree(s, h)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		found := false
		for _, e := range t.Entries {
			if e.Name == part && e.Mode == filemode.Dir {
				h, found = e.Hash, true
				break
			}
		}
		if !found {
			return plumbing.ZeroHash, nil
		}
	}
	return h, nil
}

// changedPosts lists the posts a pull request adds, changes or removes: the
// diff of the base and head trees under posts_dir, mapped to posts of the
// preview site (and, for old titles, of the base site).
func (jb *job) changedPosts(ctx context.Context, baseTree, headTree *treeFS, cfg *posts.Config, site *posts.Site, previewBase string) ([]ChangedPost, error) {
	dir := strings.Trim(cfg.PostsDir, "/")
	if dir == "" {
		dir = "posts"
	}
	s := jb.cache.st
	a, err := subtree(s, baseTree.root, dir)
	if err != nil {
		return nil, fmt.Errorf("diff posts: %w", err)
	}
	b, err := subtree(s, headTree.root, dir)
	if err != nil {
		return nil, fmt.Errorf("diff posts: %w", err)
	}
	diff := map[string]string{}
	if err := diffTrees(s, a, b, dir+"/", diff); err != nil {
		return nil, fmt.Errorf("diff posts: %w", err)
	}
	if len(diff) == 0 {
		return nil, nil
	}
	// The base site gives old titles; a base that does not load only
	// loses them.
	oldTitles := map[string]string{}
	if baseSite, err := posts.Load(ctx, baseTree, posts.Options{Config: cfg, Now: jb.p.now(), Repo: jb.j.Repo.FullName}); err == nil && baseSite != nil {
		for _, p := range baseSite.Posts {
			oldTitles[p.Path] = p.Title
		}
	}
	perPage := cfg.PerPage
	if site != nil && site.Config.PerPage > 0 {
		perPage = site.Config.PerPage
	}
	if perPage <= 0 {
		perPage = 8
	}
	// The preview's index lists every post (drafts and future ones too),
	// newest first, with the newest featured post moved to the front, as
	// templates does.
	var listed []*posts.Post
	if site != nil {
		for _, p := range site.Posts {
			if p.Featured {
				listed = append(listed, p)
				break
			}
		}
		for _, p := range site.Posts {
			if len(listed) == 0 || p != listed[0] || !p.Featured {
				listed = append(listed, p)
			}
		}
	}
	owner := func(f string) (*posts.Post, int) {
		for i, p := range listed {
			if p.Path == f || (p.Bundle != "" && strings.HasPrefix(f, p.Bundle+"/")) {
				return p, i
			}
		}
		return nil, 0
	}
	byPath := map[string]*ChangedPost{}
	for f, status := range diff {
		p, idx := owner(f)
		if p != nil {
			if _, ok := byPath[p.Path]; ok {
				continue
			}
			cp := &ChangedPost{
				Path: p.Path, Title: p.Title, Status: "changed",
				URL:         previewBase + posts.PostPath(p.Slug),
				ReadingTime: p.ReadingTime, IndexPage: idx/perPage + 1,
				Draft: p.Draft, Future: p.Future,
			}
			if old, ok := oldTitles[p.Path]; ok {
				if old != p.Title {
					cp.OldTitle = old
				}
			} else if _, err := baseTree.Stat(p.Path); err != nil {
				cp.Status = "added"
			}
			byPath[p.Path] = cp
			continue
		}
		if !isPostSource(f) {
			continue
		}
		switch status {
		case "removed":
			byPath[f] = &ChangedPost{Path: f, Title: oldTitles[f], Status: "removed"}
		default:
			// Not in the site: the post has errors (see Diagnostics).
			byPath[f] = &ChangedPost{Path: f, Title: oldTitles[f], Status: status}
		}
	}
	out := make([]ChangedPost, 0, len(byPath))
	for _, cp := range byPath {
		out = append(out, *cp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// isPostSource: a Markdown file that can be a post (a single file or a
// bundle's index).
func isPostSource(f string) bool {
	ext := strings.ToLower(path.Ext(f))
	return ext == ".md" || ext == ".markdown"
}

// Drift compares a repository's source branch head with the source commit
// published on its pages branch (the Source-Commit trailer), for
// reconciliation: when they differ, a publish is due. publishedSHA is ""
// when nothing was published yet.
func (p *Publisher) Drift(ctx context.Context, repo queue.Repo) (sourceHead, publishedSHA string, err error) {
	res := &Result{}
	log := discardEntry()
	ctx, cancel := context.WithTimeout(ctx, p.limits.JobTimeout)
	defer cancel()
	unlock, err := p.lock(ctx, repoKey(repo))
	if err != nil {
		return "", "", err
	}
	defer unlock()
	token, err := p.tokens.Token(ctx, repo)
	if err != nil {
		return "", "", fmt.Errorf("get a token for %s: %w", repo.FullName, err)
	}
	c, err := openCache(p.dataDir, repo.FullName, repo.CloneURL, p.objects)
	if err != nil {
		return "", "", err
	}
	defer c.close()
	jb := &job{p: p, j: queue.Job{Repo: repo}, log: log, res: res, cache: c, token: token}
	if token != "" {
		jb.auth = basicAuth(token)
	}
	src, pub, err := jb.drift(ctx)
	return src, pub, scrub(err, token)
}

func (jb *job) drift(ctx context.Context) (string, string, error) {
	fetched := map[plumbing.ReferenceName]bool{branchRef(jb.p.pagesBranch): true}
	wanted := []plumbing.ReferenceName{branchRef(jb.p.pagesBranch)}
	if d := jb.j.Repo.DefaultBranch; d != "" {
		wanted = append(wanted, branchRef(d))
		fetched[branchRef(d)] = true
	}
	st, err := jb.fetch(ctx, wanted...)
	if err != nil {
		return "", "", err
	}
	def := jb.defaultBranch(st)
	if def == "" {
		return "", "", permanent(errors.New("the repository has no default branch"))
	}
	if st, err = jb.ensure(ctx, st, fetched, branchRef(def)); err != nil {
		return "", "", err
	}
	set, err := jb.settings(st, def)
	if err != nil {
		return "", "", err
	}
	if st, err = jb.ensure(ctx, st, fetched, branchRef(set.source), branchRef(set.pages)); err != nil {
		return "", "", err
	}
	source := ""
	if h, ok := st.hash(branchRef(set.source)); ok {
		source = h.String()
	}
	head, ok := st.hash(branchRef(set.pages))
	if !ok {
		return source, "", nil
	}
	pub, err := publishedSource(jb.cache, head)
	if err != nil {
		return source, "", err
	}
	if pub.IsZero() {
		return source, "", nil
	}
	return source, pub.String(), nil
}
