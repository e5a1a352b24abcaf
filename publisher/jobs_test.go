package publisher

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/gitserver"
	"github.com/publishbot/publishbot/gitstore"
	"github.com/publishbot/publishbot/logmask"
	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/site"
)

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
		limits gitstore.Limits
		want   string
	}{
		{"files", gitstore.Limits{MaxFiles: 3}, "file count limit exceeded: 4 > 3"},
		// A fetch checks each object's size before go-git reads it.
		{"file size", gitstore.Limits{MaxFileBytes: 10}, "file size limit exceeded by a commit in the fetched history: 177 > 10"},
		{"total", gitstore.Limits{MaxTotalBytes: 100}, "total content size limit exceeded"},
		{"path", gitstore.Limits{MaxPathLength: 12}, "path length limit exceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t).useFake()
			e.pub.store = e.newStore(gitstore.Options{Limits: tc.limits})
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

// TestBuildLimits: a site larger than Limits.Build fails the job,
// permanently, naming the limit.
func TestBuildLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		limits site.Limits
		want   string
	}{
		{"files", site.Limits{MaxFiles: 20}, "files, over the limit of 20 files per build"},
		{"bytes", site.Limits{MaxBytes: 10_000}, "bytes, over the limit of 10000 bytes per build"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.Limits.Build = tc.limits })
			src := e.commit(gitserver.Change{Ref: "main", Message: "Import the blog", Files: exampleBlog(t)})
			r := e.publish(src)
			mustOutcome(t, r, OutcomeFailed)
			if !errors.Is(r.Err, ErrPermanent) || !strings.Contains(r.Err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", r.Err, tc.want)
			}
			if e.head("gh-pages") != "" {
				t.Error("a site over the limit was published")
			}
		})
	}
}

func TestDeadline(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Limits.JobTimeout = 50 * time.Millisecond }).useFake()
	src := e.seed()
	// A build that takes longer than the deadline is stopped by it: the
	// build sees its context end and the job fails with the deadline.
	e.pub.build = func(ctx context.Context, in buildInput) (*site.Output, error) {
		<-ctx.Done()
		return nil, ctx.Err()
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
	e.pub.build = func(context.Context, buildInput) (*site.Output, error) { panic("boom") }
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
	e.pub.build = func(ctx context.Context, _ buildInput) (*site.Output, error) {
		cancel()
		<-ctx.Done() // the build stops when its job's context ends
		return nil, ctx.Err()
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

func TestMaskErr(t *testing.T) {
	m := tokenMasker("s3cret-Value-42")
	basic := base64.StdEncoding.EncodeToString([]byte("x-access-token:s3cret-Value-42"))
	err := maskErr(m, errors.Join(ErrPermanent, errors.New("auth failed for s3cret-Value-42 with Basic "+basic)))
	if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), basic) || !strings.Contains(err.Error(), logmask.Mask) || !errors.Is(err, ErrPermanent) {
		t.Fatalf("masked = %v", err)
	}
	if errors.Unwrap(err) != nil {
		t.Fatal("a masked error must not unwrap to the original text")
	}
	plain := errors.New("nothing secret")
	if maskErr(m, plain) != plain || maskErr(m, nil) != nil {
		t.Fatal("maskErr changed an error without secrets")
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
}

// TestPostLimits: the operator's per-post limits reach the build: a post
// beyond them is an error of that post, and the rest is published.
func TestPostLimits(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Limits.Build.Post = posts.Limits{MaxTags: 2} })
	src := e.commit(gitserver.Change{Ref: "main", Files: map[string]string{
		"publish.yaml":          "title: T\nbase_url: https://acme.github.io/blog/\n",
		"posts/2026-01-01-a.md": "---\ntitle: A\ntags: [x, y, z]\n---\nbody\n",
		"posts/2026-01-02-b.md": "---\ntitle: B\ntags: [x]\n---\nbody\n",
	}})
	r := e.publish(src)
	mustOutcome(t, r, OutcomePublished)
	files := e.files("gh-pages")
	if slices.Contains(files, "posts/a/index.html") || !slices.Contains(files, "posts/b/index.html") {
		t.Errorf("pages %q: want b and not a", files)
	}
	if len(r.Diagnostics) == 0 || r.Diagnostics[0].Code != posts.CodeLimit || r.Diagnostics[0].File != "posts/2026-01-01-a.md" {
		t.Errorf("diagnostics %+v, want a limit error on a", r.Diagnostics)
	}
}
