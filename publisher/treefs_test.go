package publisher

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/gitserver"
	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/queue"
)

// fetchTree fetches main of the env's repository into a cache and returns
// its tree as an fs.FS.
func (e *env) fetchTree(maxFile int64) *treeFS {
	e.t.Helper()
	c, err := openCache(e.t.TempDir(), testRepo, e.srv.RepoURL(testRepo), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.close() })
	st, _, err := c.fetch(context.Background(), basicAuth(testToken), "refs/heads/main")
	if err != nil {
		e.t.Fatal(err)
	}
	commit, err := object.GetCommit(c.st, st.refs["refs/heads/main"])
	if err != nil {
		e.t.Fatal(err)
	}
	return newTreeFS(c.st, commit.TreeHash, maxFile)
}

func TestTreeFS(t *testing.T) {
	e := newEnv(t)
	e.commit(gitserver.Change{Ref: "main", Files: map[string]string{
		"publish.yaml":            "title: x\n",
		"posts/a.md":              "A",
		"posts/bundle/index.md":   "B",
		"posts/bundle/cover.jpg":  "JPG",
		"posts/bundle.md":         "sorts after posts/bundle/ in git, before it by name",
		"static/deep/er/file.css": "css",
		"templates/base.html":     "<html>",
	}})
	fsys := e.fetchTree(0)
	if err := fstest.TestFS(fsys, "publish.yaml", "posts/a.md", "posts/bundle/index.md", "posts/bundle/cover.jpg", "static/deep/er/file.css"); err != nil {
		t.Fatal(err)
	}
	sub, err := fs.Sub(fsys, "templates")
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(sub, "base.html"); err != nil {
		t.Fatal(err)
	}
	if b, err := fs.ReadFile(sub, "base.html"); err != nil || string(b) != "<html>" {
		t.Fatalf("sub read = %q %v", b, err)
	}
	entries, err := fs.ReadDir(fsys, "posts")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range entries {
		names = append(names, d.Name())
	}
	if strings.Join(names, ",") != "a.md,bundle,bundle.md" {
		t.Fatalf("ReadDir order = %v", names)
	}
	if _, err := fs.ReadFile(fsys, "../etc/passwd"); !errors.Is(err, fs.ErrInvalid) {
		t.Fatalf("invalid path: %v", err)
	}
}

func TestTreeFSSymlinksAndSubmodules(t *testing.T) {
	e := newEnv(t)
	e.commit(gitserver.Change{Ref: "main",
		Files:      map[string]string{"posts/ok.md": "ok"},
		Symlinks:   map[string]string{"posts/evil.md": "/etc/passwd", "static": "/etc", "posts/rel.md": "ok.md"},
		Submodules: map[string]string{"themes/sub": "1111111111111111111111111111111111111111"},
	})
	fsys := e.fetchTree(0)
	entries, err := fs.ReadDir(fsys, "posts")
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]fs.FileMode{}
	for _, d := range entries {
		types[d.Name()] = d.Type()
	}
	if types["evil.md"] != fs.ModeSymlink || types["rel.md"] != fs.ModeSymlink || types["ok.md"] != 0 {
		t.Fatalf("types = %v", types)
	}
	for _, name := range []string{"posts/evil.md", "posts/rel.md", "static/passwd"} {
		if _, err := fs.ReadFile(fsys, name); err == nil {
			t.Fatalf("%s was read through a link", name)
		}
		if _, err := fsys.Open(name); err == nil {
			t.Fatalf("%s was opened through a link", name)
		}
	}
	if info, err := fs.Stat(fsys, "posts/evil.md"); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("stat of a link: %v %v", info, err)
	}
	if target, err := fs.ReadLink(fsys, "posts/evil.md"); err != nil || target != "/etc/passwd" {
		t.Fatalf("readlink = %q %v", target, err)
	}
	if _, err := fs.ReadLink(fsys, "posts/ok.md"); err == nil {
		t.Fatal("readlink of a file")
	}
	if _, err := fs.Stat(fsys, "themes/sub"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("submodule: %v", err)
	}
	if d, _ := fs.ReadDir(fsys, "themes"); len(d) != 0 {
		t.Fatalf("submodule listed: %v", d)
	}
}

func TestTreeFSFileLimit(t *testing.T) {
	e := newEnv(t)
	e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"big.txt": strings.Repeat("x", 100)}})
	fsys := e.fetchTree(10)
	_, err := fs.ReadFile(fsys, "big.txt")
	if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "file size limit") {
		t.Fatalf("err = %v", err)
	}
}

func TestSymlinkToEtcPasswdPublishesNothingFromIt(t *testing.T) {
	e := newEnv(t).useFake()
	src := e.commit(gitserver.Change{Ref: "main",
		Files:    map[string]string{"publish.yaml": "title: x\n", "posts/ok.md": "OK\n"},
		Symlinks: map[string]string{"posts/passwd.md": "/etc/passwd", "static/passwd": "/etc/passwd", "static/etc": "/etc"},
	})
	r := e.publish(src)
	mustOutcome(t, r, OutcomePublished)
	assertNoPasswd(t, e)
}

func assertNoPasswd(t *testing.T, e *env) {
	t.Helper()
	for _, f := range e.files("gh-pages") {
		if strings.Contains(f, "passwd") || strings.HasPrefix(f, "etc") {
			t.Fatalf("%s published", f)
		}
		if body := e.show("gh-pages", f); strings.Contains(body, "root:x:0:0") || strings.Contains(body, "root:") {
			t.Fatalf("%s holds /etc/passwd", f)
		}
	}
	if out := e.git("ls-tree", "-r", "gh-pages"); strings.Contains(out, "120000") {
		t.Fatalf("a link was published:\n%s", out)
	}
}

func TestLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		limits Limits
		want   string
	}{
		{"files", Limits{MaxFiles: 3}, "file count limit exceeded: 4 > 3"},
		{"file size", Limits{MaxFileBytes: 10}, "file size limit exceeded by posts/long.md: 200 > 10"},
		{"total", Limits{MaxTotalBytes: 100}, "total content size limit exceeded"},
		{"path", Limits{MaxPathLength: 12}, "path length limit exceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.Limits = tc.limits }).useFake()
			src := e.commit(gitserver.Change{Ref: "main", Files: map[string]string{
				"publish.yaml": "title: x\n", "posts/a.md": "A\n", "posts/b.md": "B\n", "posts/long.md": strings.Repeat("L", 200),
			}})
			r := e.publish(src)
			mustOutcome(t, r, OutcomeFailed)
			if !errors.Is(r.Err, ErrPermanent) || !strings.Contains(r.Err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", r.Err, tc.want)
			}
		})
	}
}

func TestDeadline(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Limits.JobTimeout = 50 * time.Millisecond }).useFake()
	src := e.seed()
	// A build that ignores its context (rendering stuck on content) still
	// cannot hold the job past its deadline.
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	e.pub.build = func(ctx context.Context, in buildInput) (*posts.Site, map[string][]byte, error) {
		<-release
		return nil, nil, errors.New("released")
	}
	r := e.publish(src)
	mustOutcome(t, r, OutcomeFailed)
	if !strings.Contains(r.Err.Error(), "job deadline of 50ms exceeded") || !errors.Is(r.Err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", r.Err)
	}
}

type recordingReporter struct {
	got []Result
	err error
}

func (r *recordingReporter) Report(ctx context.Context, res Result) error {
	r.got = append(r.got, res)
	return r.err
}

func TestPanicAndReporter(t *testing.T) {
	rep := &recordingReporter{err: errors.New("github is down")}
	e := newEnv(t, func(o *Options) { o.Reporter = rep }).useFake()
	src := e.seed()
	e.pub.build = func(context.Context, buildInput) (*posts.Site, map[string][]byte, error) { panic("boom") }
	r := e.publish(src)
	mustOutcome(t, r, OutcomeFailed)
	if !strings.Contains(r.Err.Error(), "internal error while building: boom") {
		t.Fatalf("err = %v", r.Err)
	}
	e.pub.build = fakeBuild
	r = e.publish(src)
	mustOutcome(t, r, OutcomePublished)
	if len(rep.got) != 2 || rep.got[1].Outcome != OutcomePublished || rep.got[0].Job.SHA != src {
		t.Fatalf("reports = %+v", rep.got)
	}
	if !strings.Contains(e.logs(), "github is down") {
		t.Fatal("report failure not logged")
	}
}

// A job its caller cancels (the server shutting down hands it back to the
// queue) is not reported as failed: it runs again.
func TestCancelledJobIsNotReported(t *testing.T) {
	rep := &recordingReporter{}
	e := newEnv(t, func(o *Options) { o.Reporter = rep }).useFake()
	src := e.seed()
	ctx, cancel := context.WithCancel(context.Background())
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) })
	e.pub.build = func(context.Context, buildInput) (*posts.Site, map[string][]byte, error) {
		cancel()
		<-stuck // a build that does not return: runBuild gives up on ctx
		return nil, nil, errors.New("abandoned")
	}
	r := e.pub.Run(ctx, queue.Job{ID: "j", Kind: queue.KindPublish, Repo: e.repo(), Ref: "refs/heads/main", SHA: src}, logrus.NewEntry(e.lg))
	mustOutcome(t, r, OutcomeFailed)
	if !errors.Is(r.Err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", r.Err)
	}
	if len(rep.got) != 0 {
		t.Fatalf("a cancelled job was reported: %+v", rep.got)
	}
}

func TestScrub(t *testing.T) {
	err := scrub(errors.Join(ErrPermanent, errors.New("auth failed for "+testToken)), testToken)
	if strings.Contains(err.Error(), testToken) || !strings.Contains(err.Error(), "[REDACTED]") || !errors.Is(err, ErrPermanent) {
		t.Fatalf("scrub = %v", err)
	}
	if errors.Unwrap(err) != nil {
		t.Fatal("a scrubbed error must not unwrap to the original text")
	}
	plain := errors.New("nothing secret")
	if scrub(plain, testToken) != plain || scrub(nil, testToken) != nil {
		t.Fatal("scrub changed an error without secrets")
	}
}

func TestBadJobs(t *testing.T) {
	e := newEnv(t).useFake()
	e.seed()
	for name, j := range map[string]queue.Job{
		"no url":      {Kind: queue.KindPublish, Repo: queue.Repo{FullName: "x/y"}},
		"bad kind":    {Kind: "explode", Repo: e.repo()},
		"bad sha":     {Kind: queue.KindPublish, Repo: e.repo(), Ref: "refs/heads/main", SHA: "zzz"},
		"missing sha": {Kind: queue.KindPublish, Repo: e.repo(), Ref: "refs/heads/main", SHA: strings.Repeat("ab", 20)},
		"preview":     {Kind: queue.KindPreview, Repo: e.repo()},
		"creds":       {Kind: queue.KindPublish, Repo: queue.Repo{FullName: testRepo, CloneURL: strings.Replace(e.srv.RepoURL(testRepo), "http://", "http://u:"+testToken+"@", 1)}},
		"no repo":     {Kind: queue.KindPublish, Repo: queue.Repo{FullName: "acme/none", CloneURL: e.srv.RepoURL("acme/none")}},
	} {
		r := e.pub.Run(context.Background(), j, logrus.NewEntry(e.lg))
		if r.Outcome != OutcomeFailed || !errors.Is(r.Err, ErrPermanent) {
			t.Errorf("%s: %s %v", name, r.Outcome, r.Err)
		}
		if r.Err != nil && strings.Contains(r.Err.Error(), testToken) {
			t.Errorf("%s: token in %v", name, r.Err)
		}
	}
	var _ = plumbing.ZeroHash
}

func TestBranchFS(t *testing.T) {
	e := newEnv(t).useFake()
	r := e.publish(e.seed())
	mustOutcome(t, r, OutcomePublished)
	fsys, head, err := BranchFS(e.srv.RepoPath(testRepo), "gh-pages")
	if err != nil || head != r.PagesCommit {
		t.Fatalf("BranchFS: %v, head %s want %s", err, head, r.PagesCommit)
	}
	if b, err := fs.ReadFile(fsys, "posts/hello/index.html"); err != nil || !strings.Contains(string(b), "First post.") {
		t.Fatalf("read = %q %v", b, err)
	}
	if _, _, err := BranchFS(e.srv.RepoPath(testRepo), "nope"); err == nil {
		t.Fatal("a missing branch was opened")
	}
}
