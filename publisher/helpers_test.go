package publisher

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/gitserver"
	"github.com/publishbot/publishbot/gitstore"
	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/site"
)

const (
	testToken = "ghs_s3cretT0kenValue1234567890"
	testRepo  = "acme/blog"
)

var fixedNow = time.Date(2026, 6, 20, 12, 0, 0, 0, time.UTC)

// env is one git server with one content repository and a publisher.
type env struct {
	t        testing.TB
	srv      *gitserver.Server
	pub      *Publisher
	store    Store         // the publisher's store (hooked: see beforePush)
	storeDir string        // where its caches are
	log      *bytes.Buffer // every log line of every job, JSON
	lg       *logrus.Logger
	mu       sync.Mutex

	// beforePush, when set, runs after each push attempt's tree is built
	// and before it is pushed: an outside push then makes a conflict.
	beforePush func(attempt int)
}

type envOption func(*Options)

// newStore opens a gitstore over the env's cache folder, with a short
// backoff, as the publisher's Store; opts.Dir is set.
func (e *env) newStore(opts gitstore.Options) Store {
	e.t.Helper()
	opts.Dir = e.storeDir
	if opts.Backoff == nil {
		opts.Backoff = func(int) time.Duration { return time.Millisecond }
	}
	s, err := gitstore.New(opts)
	if err != nil {
		e.t.Fatal(err)
	}
	return hookedStore{Store: OpenWith(s.Open), e: e}
}

// tempStore is a gitstore of its own, for a second publisher.
func tempStore(t testing.TB) Store {
	t.Helper()
	s, err := gitstore.New(gitstore.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return OpenWith(s.Open)
}

// cacheDir is the folder of the test repository's cache.
func (e *env) cacheDir() string {
	e.t.Helper()
	dirs, err := filepath.Glob(filepath.Join(e.storeDir, "*.git"))
	if err != nil || len(dirs) != 1 {
		e.t.Fatalf("repository caches: %q %v", dirs, err)
	}
	return dirs[0]
}

// cacheShape counts the packs and loose objects of the test repository's
// cache.
func (e *env) cacheShape() (packs, loose int) {
	e.t.Helper()
	p, _ := filepath.Glob(filepath.Join(e.cacheDir(), "objects", "pack", "*.pack"))
	l, _ := filepath.Glob(filepath.Join(e.cacheDir(), "objects", "??", "*"))
	return len(p), len(l)
}

// hookedStore and hookedRepo run env.beforePush inside Push, through the
// seam the publisher declares.
type hookedStore struct {
	Store
	e *env
}

func (h hookedStore) Open(r gitstore.Remote) (Repo, error) {
	repo, err := h.Store.Open(r)
	if err != nil {
		return nil, err
	}
	return hookedRepo{Repo: repo, e: h.e}, nil
}

type hookedRepo struct {
	Repo
	e *env
}

func (h hookedRepo) Push(ctx context.Context, u gitstore.Update) (gitstore.Pushed, error) {
	if hook := h.e.beforePush; hook != nil {
		build, attempt := u.Build, 0
		u.Build = func(t *gitstore.Tree) error {
			attempt++
			err := build(t)
			if err == nil {
				hook(attempt)
			}
			return err
		}
	}
	return h.Repo.Push(ctx, u)
}

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	srv, err := gitserver.Start(gitserver.Options{Root: t.TempDir(), User: "x-access-token", Password: testToken})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.CreateRepo(context.Background(), testRepo, "main"); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv, log: &bytes.Buffer{}, storeDir: t.TempDir()}
	e.store = e.newStore(gitstore.Options{})
	o := Options{Store: e.store, Tokens: StaticToken(testToken), Now: func() time.Time { return fixedNow }}
	for _, f := range opts {
		f(&o)
	}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	e.pub = p
	e.lg = logrus.New()
	e.lg.SetLevel(logrus.DebugLevel)
	e.lg.SetFormatter(&logrus.JSONFormatter{})
	e.lg.Out = &lockedWriter{mu: &e.mu, w: e.log}
	return e
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (e *env) logs() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.log.String()
}

func (e *env) repo() queue.Repo {
	return queue.Repo{FullName: testRepo, CloneURL: e.srv.RepoURL(testRepo), HTMLURL: "https://github.com/" + testRepo, DefaultBranch: "main"}
}

func (e *env) commit(c gitserver.Change) string {
	e.t.Helper()
	sha, err := e.srv.Commit(context.Background(), testRepo, c)
	if err != nil {
		e.t.Fatal(err)
	}
	return sha
}

func (e *env) git(args ...string) string {
	e.t.Helper()
	out, err := e.srv.Git(context.Background(), testRepo, args...)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *env) head(ref string) string {
	e.t.Helper()
	h, err := e.srv.Head(context.Background(), testRepo, ref)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

// pagesFiles lists the files of the pages branch (or any commit).
func (e *env) files(rev string) []string {
	e.t.Helper()
	out := e.git("-c", "core.quotePath=false", "ls-tree", "-r", "--name-only", rev)
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

func (e *env) show(rev, p string) string {
	e.t.Helper()
	return e.git("show", rev+":"+p)
}

func (e *env) publish(sha string) Result {
	e.t.Helper()
	return e.run(queue.Job{ID: "j-" + sha, Kind: queue.KindPublish, Repo: e.repo(), Ref: "refs/heads/main", SHA: sha, Reason: "push"})
}

func (e *env) run(j queue.Job) Result {
	e.t.Helper()
	return e.pub.Run(context.Background(), j, logrus.NewEntry(e.lg).WithField("delivery", "d-1"))
}

func mustOutcome(t *testing.T, r Result, want Outcome) {
	t.Helper()
	if r.Outcome != want {
		t.Fatalf("outcome = %s (reason %q, err %v), want %s", r.Outcome, r.Reason, r.Err, want)
	}
}

// fakeSite is a stand-in build used by tests that exercise git, not
// rendering: every posts/*.md becomes posts/<name>/index.html; index.html
// and feed.xml list the posts; static/ is copied. Symlinks are skipped, as
// posts.Load reports them.
func fakeBuild(ctx context.Context, in buildInput) (*site.Output, error) {
	s, files, err := fakeBuildFiles(ctx, in)
	out := &site.Output{Site: s, Files: files, IndexPages: map[string]int{}}
	if s != nil {
		per := max(s.Config.PerPage, 1)
		for i, p := range s.Posts {
			out.IndexPages[p.Path] = i/per + 1
		}
	}
	return out, err
}

// fakeBuildFiles is fakeBuild's site and files.
func fakeBuildFiles(ctx context.Context, in buildInput) (*posts.Site, map[string][]byte, error) {
	cfg := posts.Config{Title: "Blog", BaseURL: "https://acme.github.io/blog/", PerPage: 2, PostsDir: "posts", Previews: true}
	if in.Config != nil {
		cfg = *in.Config
	}
	if in.BaseURL != "" {
		cfg.BaseURL = in.BaseURL
	}
	site := &posts.Site{Config: cfg}
	files := map[string][]byte{".nojekyll": {}}
	var titles []string
	err := fs.WalkDir(in.Content, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			site.Diagnostics = append(site.Diagnostics, posts.Diagnostic{File: p, Severity: posts.SeverityError, Code: "symlink", Message: "symbolic links are not followed"})
			return nil
		}
		if d.IsDir() {
			return nil
		}
		switch {
		case strings.HasPrefix(p, "posts/") && strings.HasSuffix(p, ".md"):
			b, err := fs.ReadFile(in.Content, p)
			if err != nil {
				return err
			}
			title, _, _ := strings.Cut(string(b), "\n")
			if strings.Contains(string(b), "BROKEN") {
				site.Diagnostics = append(site.Diagnostics, posts.Diagnostic{File: p, Line: 1, Severity: posts.SeverityError, Code: "broken", Message: "broken post"})
				return nil
			}
			slug := strings.TrimSuffix(path.Base(p), ".md")
			draft := strings.Contains(string(b), "DRAFT")
			if draft && !in.Render.Drafts {
				return nil
			}
			post := &posts.Post{Path: p, Slug: slug, Title: title, ReadingTime: 1 + len(b)/1000, Draft: draft, Date: fixedNow}
			if strings.Contains(string(b), "FUTURE") {
				post.Future, post.Date = true, fixedNow.Add(48*time.Hour)
			}
			site.Posts = append(site.Posts, post)
			files["posts/"+slug+"/index.html"] = []byte(fmt.Sprintf("<base href=%q>%s", cfg.BaseURL, b))
			titles = append(titles, title)
		case strings.HasPrefix(p, "static/"):
			b, err := fs.ReadFile(in.Content, p)
			if err != nil {
				return err
			}
			files[strings.TrimPrefix(p, "static/")] = b
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(titles)
	banner := ""
	if in.Render.PreviewPR > 0 {
		banner = fmt.Sprintf("Preview of #%d\n", in.Render.PreviewPR)
	}
	files["index.html"] = []byte(banner + strings.Join(titles, "\n"))
	files["feed.xml"] = []byte(cfg.BaseURL + "\n" + strings.Join(titles, "\n"))
	return site, files, nil
}

// fakeConfig is a stand-in publish.yaml reader for tests whose content is
// not a real blog: 2 posts a page, and the branch settings as LoadConfig
// reads them.
func fakeConfig(tree fs.FS, repo string) (posts.Config, []posts.Diagnostic) {
	real, realDiags := posts.LoadConfig(tree, repo)
	cfg := posts.Config{Title: "Blog", BaseURL: "https://acme.github.io/blog/", PerPage: 2, PostsDir: "posts", Previews: true,
		SourceBranch: real.SourceBranch, PagesBranch: real.PagesBranch, Set: map[string]bool{}}
	var diags []posts.Diagnostic
	for _, k := range []string{"source_branch", "pages_branch"} {
		if v, ok := real.Set[k]; ok {
			cfg.Set[k] = v
		}
		for _, d := range realDiags {
			if strings.HasPrefix(d.Message, k+":") {
				diags = append(diags, d)
			}
		}
	}
	b, err := fs.ReadFile(tree, "publish.yaml")
	if err != nil {
		return cfg, []posts.Diagnostic{{File: "publish.yaml", Severity: posts.SeverityWarning, Code: "no-config", Message: "missing"}}
	}
	if strings.Contains(string(b), "BROKEN") {
		return cfg, []posts.Diagnostic{{File: "publish.yaml", Line: 1, Column: 1, Severity: posts.SeverityError, Code: "bad-config", Message: "publish.yaml is broken"}}
	}
	if strings.Contains(string(b), "previews: false") {
		cfg.Previews = false
	}
	return cfg, diags
}

// useFake swaps in the fake build.
func (e *env) useFake() *env {
	e.pub.build = fakeBuild
	e.pub.loadConfig = fakeConfig
	return e
}

// seed commits a small blog to main and returns the commit.
func (e *env) seed() string {
	return e.commit(gitserver.Change{Ref: "main", Message: "Seed the blog\n\nbody", Files: map[string]string{
		"publish.yaml":     "title: Blog\n",
		"posts/hello.md":   "Hello\n\nFirst post.\n",
		"posts/second.md":  "Second\n\nAnother post.\n",
		"static/style.css": "body{}\n",
	}})
}
