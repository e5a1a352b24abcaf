package publisher

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/gitserver"
	"github.com/publishbot/publishbot/gitstore"
	"github.com/publishbot/publishbot/queue"
)

func TestFirstPublishCreatesPagesBranch(t *testing.T) {
	e := newEnv(t).useFake()
	src := e.seed()
	if h := e.head("gh-pages"); h != "" {
		t.Fatalf("gh-pages exists before the first publish: %s", h)
	}
	r := e.publish(src)
	mustOutcome(t, r, OutcomePublished)
	head := e.head("gh-pages")
	if head == "" || head != r.PagesCommit {
		t.Fatalf("gh-pages = %q, result pages commit %q", head, r.PagesCommit)
	}
	if r.SourceSHA != src {
		t.Fatalf("source sha = %s, want %s", r.SourceSHA, src)
	}
	want := []string{".nojekyll", "feed.xml", "index.html", "posts/hello/index.html", "posts/second/index.html", "style.css"}
	if got := e.files("gh-pages"); !slices.Equal(got, want) {
		t.Fatalf("pages files = %q, want %q", got, want)
	}
	msg := e.git("log", "-1", "--format=%an <%ae>|%cn|%B", "gh-pages")
	wantMsg := fmt.Sprintf("publishbot <publishbot@users.noreply.github.com>|publishbot|Publish %s: Seed the blog\n\nSource-Commit: %s", src[:7], src)
	if msg != wantMsg {
		t.Fatalf("commit = %q\nwant %q", msg, wantMsg)
	}
	if parents := e.git("log", "-1", "--format=%P", "gh-pages"); parents != "" {
		t.Fatalf("first pages commit has parents %q", parents)
	}
	if r.SiteURL != "https://acme.github.io/blog/" {
		t.Fatalf("site URL = %q", r.SiteURL)
	}
	if out := e.git("fsck", "--strict", "--no-dangling"); strings.Contains(out, "error") {
		t.Fatalf("fsck: %s", out)
	}
	// Drift: the published commit is the source head.
	srcHead, published, err := e.pub.Drift(context.Background(), e.repo())
	if err != nil || srcHead != src || published != src {
		t.Fatalf("drift = %q %q %v, want %q twice", srcHead, published, err, src)
	}
}

func TestRepublishSameCommitMakesNoCommit(t *testing.T) {
	e := newEnv(t).useFake()
	src := e.seed()
	first := e.publish(src)
	mustOutcome(t, first, OutcomePublished)
	e.srv.ResetRequests()
	again := e.publish(src)
	mustOutcome(t, again, OutcomeUnchanged)
	if again.PagesCommit != first.PagesCommit || e.head("gh-pages") != first.PagesCommit {
		t.Fatalf("pages moved: %s → %s", first.PagesCommit, e.head("gh-pages"))
	}
	if n := e.srv.PushedBytes(); n != 0 {
		t.Fatalf("an unchanged publish pushed %d bytes", n)
	}
	for _, req := range e.srv.Requests() {
		if strings.HasSuffix(req.Path, "/git-upload-pack") {
			t.Fatalf("an unchanged publish downloaded objects: %+v", req)
		}
	}
}

func TestNewCommitChangesOnlyItsFiles(t *testing.T) {
	e := newEnv(t).useFake()
	first := e.publish(e.seed())
	mustOutcome(t, first, OutcomePublished)
	src := e.commit(gitserver.Change{Ref: "main", Message: "Edit hello", Files: map[string]string{"posts/hello.md": "Hello\n\nEdited.\n"}})
	e.srv.ResetRequests()
	r := e.publish(src)
	mustOutcome(t, r, OutcomePublished)
	changed := e.git("diff", "--name-only", first.PagesCommit, r.PagesCommit)
	if changed != "posts/hello/index.html" {
		t.Fatalf("changed files = %q", changed)
	}
	if parent := e.git("log", "-1", "--format=%P", "gh-pages"); parent != first.PagesCommit {
		t.Fatalf("parent = %s, want %s", parent, first.PagesCommit)
	}
	// One blob, the trees on its path (posts/hello, posts, root) and the commit.
	if r.ObjectsPushed != 5 {
		t.Fatalf("objects pushed = %d, want 5", r.ObjectsPushed)
	}
	if e.srv.PushedBytes() > 4096 {
		t.Fatalf("pushed %d bytes for one changed page", e.srv.PushedBytes())
	}
	// The fetch was incremental: one small pack for one changed file.
	fetches := 0
	for _, req := range e.srv.Requests() {
		if strings.HasSuffix(req.Path, "/git-upload-pack") {
			fetches++
			if req.BytesOut > 2048 {
				t.Fatalf("fetched %d bytes for one changed file", req.BytesOut)
			}
		}
	}
	if fetches != 1 {
		t.Fatalf("%d fetches, want 1", fetches)
	}
	// The thin pack was completed by the server: the repository is whole.
	e.git("fsck", "--strict", "--no-dangling", "--no-progress")
	if got := e.show("gh-pages", "posts/hello/index.html"); !strings.Contains(got, "Edited.") {
		t.Fatalf("page = %q", got)
	}
}

func TestCNAMEAndPreviewsSurvivePublish(t *testing.T) {
	e := newEnv(t).useFake()
	first := e.publish(e.seed())
	mustOutcome(t, first, OutcomePublished)
	e.commit(gitserver.Change{Ref: "gh-pages", Message: "custom domain and a preview", Files: map[string]string{
		"CNAME":                       "blog.example.com\n",
		"pr-preview/pr-9/index.html":  "preview 9",
		"pr-preview/pr-12/index.html": "preview 12",
	}})
	src := e.commit(gitserver.Change{Ref: "main", Message: "New post", Files: map[string]string{"posts/third.md": "Third\n"}})
	r := e.publish(src)
	mustOutcome(t, r, OutcomePublished)
	files := e.files("gh-pages")
	for _, want := range []string{"CNAME", "pr-preview/pr-9/index.html", "pr-preview/pr-12/index.html", "posts/third/index.html"} {
		if !slices.Contains(files, want) {
			t.Fatalf("%s missing after publish: %q", want, files)
		}
	}
	if got := e.show("gh-pages", "CNAME"); got != "blog.example.com" {
		t.Fatalf("CNAME = %q", got)
	}
}

func TestConcurrentJobsEndAtNewest(t *testing.T) {
	e := newEnv(t).useFake()
	shas := []string{e.seed()}
	for i := 1; i < 20; i++ {
		shas = append(shas, e.commit(gitserver.Change{Ref: "main", Message: fmt.Sprintf("Post %d", i),
			Files: map[string]string{fmt.Sprintf("posts/p%02d.md", i): fmt.Sprintf("Post %d\n", i)}}))
	}
	var wg sync.WaitGroup
	results := make([]Result, len(shas))
	for i, sha := range shas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = e.pub.Run(context.Background(), queue.Job{ID: fmt.Sprint(i), Kind: queue.KindPublish, Repo: e.repo(), Ref: "refs/heads/main", SHA: sha}, nil)
		}()
	}
	wg.Wait()
	published := 0
	for i, r := range results {
		switch r.Outcome {
		case OutcomePublished:
			published++
		case OutcomeSkipped, OutcomeUnchanged:
		default:
			t.Fatalf("job %d: %s: %v", i, r.Outcome, r.Err)
		}
	}
	if published == 0 {
		t.Fatal("nothing was published")
	}
	newest := shas[len(shas)-1]
	msg := e.git("log", "-1", "--format=%B", "gh-pages")
	if !strings.Contains(msg, "Source-Commit: "+newest) {
		t.Fatalf("pages head is not the newest commit:\n%s", msg)
	}
	if !slices.Contains(e.files("gh-pages"), "posts/p19/index.html") {
		t.Fatal("newest post missing")
	}
	// History is linear and every publish commit names a source commit.
	if n := e.git("rev-list", "--count", "--merges", "gh-pages"); n != "0" {
		t.Fatalf("%s merge commits", n)
	}
}

func TestOlderCommitIsSkipped(t *testing.T) {
	e := newEnv(t).useFake()
	old := e.seed()
	newer := e.commit(gitserver.Change{Ref: "main", Message: "newer", Files: map[string]string{"posts/n.md": "N\n"}})
	mustOutcome(t, e.publish(newer), OutcomePublished)
	r := e.publish(old)
	mustOutcome(t, r, OutcomeSkipped)
	if !strings.Contains(r.Reason, newer[:7]) {
		t.Fatalf("reason = %q", r.Reason)
	}
	if !strings.Contains(e.git("log", "-1", "--format=%B", "gh-pages"), newer) {
		t.Fatal("the older commit replaced the newer site")
	}
}

func TestOutsidePushBetweenFetchAndPushIsRetried(t *testing.T) {
	e := newEnv(t).useFake()
	mustOutcome(t, e.publish(e.seed()), OutcomePublished)
	src := e.commit(gitserver.Change{Ref: "main", Message: "another", Files: map[string]string{"posts/another.md": "Another\n"}})
	var outside string
	e.beforePush = func(attempt int) {
		if attempt == 1 {
			outside = e.commit(gitserver.Change{Ref: "gh-pages", Message: "outside preview", Files: map[string]string{"pr-preview/pr-5/index.html": "five"}})
		}
	}
	// The worker's entry carries the job's attempt; the push attempt has a
	// key of its own and must not overwrite it.
	log := logrus.NewEntry(e.lg).WithFields(logrus.Fields{"delivery": "d-1", "attempt": 3})
	r := e.pub.Run(context.Background(), queue.Job{ID: "j-" + src, Kind: queue.KindPublish, Repo: e.repo(), Ref: "refs/heads/main", SHA: src, Reason: "push", Attempt: 3}, log)
	mustOutcome(t, r, OutcomePublished)
	for _, line := range strings.Split(e.logs(), "\n") {
		if strings.Contains(line, "pages branch moved") && (!strings.Contains(line, `"attempt":3`) || !strings.Contains(line, `"push_attempt":1`)) {
			t.Errorf("the retry line should keep the job's attempt and give the push attempt apart: %s", line)
		}
	}
	if parent := e.git("log", "-1", "--format=%P", "gh-pages"); parent != outside {
		t.Fatalf("publish parent = %s, want the outside commit %s", parent, outside)
	}
	files := e.files("gh-pages")
	if !slices.Contains(files, "pr-preview/pr-5/index.html") || !slices.Contains(files, "posts/another/index.html") {
		t.Fatalf("files after retry: %q", files)
	}
	if !strings.Contains(e.logs(), "pages branch moved") {
		t.Fatal("the retry was not logged")
	}
}

func TestPushRetriesAreBounded(t *testing.T) {
	e := newEnv(t).useFake()
	e.pub.store = e.newStore(gitstore.Options{Limits: gitstore.Limits{PushAttempts: 3}})
	mustOutcome(t, e.publish(e.seed()), OutcomePublished)
	src := e.commit(gitserver.Change{Ref: "main", Message: "x", Files: map[string]string{"posts/x.md": "X\n"}})
	n := 0
	e.beforePush = func(attempt int) {
		n++
		e.commit(gitserver.Change{Ref: "gh-pages", Message: "race", Files: map[string]string{"race.txt": fmt.Sprint(attempt)}})
	}
	r := e.publish(src)
	mustOutcome(t, r, OutcomeFailed)
	if n != 3 || !strings.Contains(r.Err.Error(), "gave up after 3 attempts") || errors.Is(r.Err, ErrPermanent) {
		t.Fatalf("attempts %d, err %v", n, r.Err)
	}
}

func TestPreReceiveRejectionIsAClearError(t *testing.T) {
	e := newEnv(t).useFake()
	src := e.seed()
	if err := e.srv.Hook(testRepo, "pre-receive", "#!/bin/sh\necho 'pushes to gh-pages are frozen' >&2\nexit 1\n"); err != nil {
		t.Fatal(err)
	}
	r := e.publish(src)
	mustOutcome(t, r, OutcomeFailed)
	msg := r.Err.Error()
	for _, want := range []string{"push to gh-pages of acme/blog", "pre-receive hook declined", "pushes to gh-pages are frozen"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("error %q lacks %q", msg, want)
		}
	}
	if !errors.Is(r.Err, ErrPermanent) {
		t.Fatalf("a hook rejection should be permanent: %v", r.Err)
	}
	if e.head("gh-pages") != "" {
		t.Fatal("gh-pages was created despite the hook")
	}
}

func TestTokenNeverLeaks(t *testing.T) {
	e := newEnv(t).useFake()
	src := e.seed()
	// A good run, logged at debug level.
	mustOutcome(t, e.publish(src), OutcomePublished)
	// A wrong token: the server answers 401.
	bad := "ghs_wrongTokenValue987654321"
	p, err := New(Options{Store: tempStore(t), Tokens: StaticToken(bad)})
	if err != nil {
		t.Fatal(err)
	}
	p.build, p.loadConfig = fakeBuild, fakeConfig
	r := p.Run(context.Background(), queue.Job{Kind: queue.KindPublish, Repo: e.repo(), Ref: "refs/heads/main"}, e.log0())
	mustOutcome(t, r, OutcomeFailed)
	if !errors.Is(r.Err, ErrPermanent) || !strings.Contains(r.Err.Error(), "authentication required") {
		t.Fatalf("err = %v", r.Err)
	}
	// Another wrong token from a TokenSource.
	p2, _ := New(Options{Store: tempStore(t), Tokens: leakyTokens{}})
	r2 := p2.Run(context.Background(), queue.Job{Kind: queue.KindPublish, Repo: e.repo(), Ref: "refs/heads/main"}, e.log0())
	mustOutcome(t, r2, OutcomeFailed)
	// A hook that echoes what it got: nothing of the token is in a pack.
	if err := e.srv.Hook(testRepo, "pre-receive", "#!/bin/sh\nenv >&2\nexit 1\n"); err != nil {
		t.Fatal(err)
	}
	src2 := e.commit(gitserver.Change{Ref: "main", Message: "m", Files: map[string]string{"posts/m.md": "M\n"}})
	r3 := e.publish(src2)
	mustOutcome(t, r3, OutcomeFailed)
	logs := e.logs()
	for _, secret := range []string{testToken, bad, leakedToken,
		base64.StdEncoding.EncodeToString([]byte("x-access-token:" + testToken))} {
		for _, s := range []string{logs, r.Err.Error(), r2.Err.Error(), r3.Err.Error(), fmt.Sprintf("%+v", r3)} {
			if strings.Contains(s, secret) {
				t.Fatalf("token %q leaked into %q", secret, s)
			}
		}
	}
	if !strings.Contains(logs, `"level":"debug"`) || !strings.Contains(logs, "job failed") {
		t.Fatalf("expected debug and failure lines in the captured logs:\n%s", logs)
	}
	for _, f := range []string{`"repo":"acme/blog"`, `"sha":"` + src, `"delivery":"d-1"`} {
		if !strings.Contains(logs, f) {
			t.Fatalf("logs lack %s:\n%s", f, logs)
		}
	}
	// The cache's config on disk names the remote without credentials.
	if b, err := os.ReadFile(e.cacheDir() + "/config"); err != nil || strings.Contains(string(b), testToken) {
		t.Fatalf("cache config: %v %q", err, b)
	}
}

const leakedToken = "ghs_leakedInAnError55555"

type leakyTokens struct{}

func (leakyTokens) Token(context.Context, queue.Repo) (string, error) {
	return leakedToken, nil
}

func (e *env) log0() *logrus.Entry { return logrus.NewEntry(e.lg) }

func TestCacheIsRepacked(t *testing.T) {
	e := newEnv(t).useFake()
	e.pub.store = e.newStore(gitstore.Options{MaxPacks: 2, MaxLoose: 1000})
	var last Result
	for i := 0; i < 4; i++ {
		src := e.commit(gitserver.Change{Ref: "main", Message: fmt.Sprint(i), Files: map[string]string{
			"publish.yaml": "title: x\n", fmt.Sprintf("posts/p%d.md", i): fmt.Sprintf("P%d\n", i)}})
		last = e.publish(src)
		mustOutcome(t, last, OutcomePublished)
	}
	packs, loose := e.cacheShape()
	if packs > 2 || loose > 50 {
		t.Fatalf("cache has %d packs, %d loose objects", packs, loose)
	}
	if !strings.Contains(e.logs(), "repacked the repository cache") {
		t.Fatal("no repack logged")
	}
	// The repacked cache still works: an unchanged publish, then a new one.
	mustOutcome(t, e.publish(last.SourceSHA), OutcomeUnchanged)
	src := e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"posts/z.md": "Z\n"}})
	mustOutcome(t, e.publish(src), OutcomePublished)
	e.git("fsck", "--strict", "--no-dangling", "--no-progress")
}

func TestServerErrorsAreRetryableAuthErrorsAreNot(t *testing.T) {
	e := newEnv(t).useFake()
	src := e.seed()
	e.srv.FailNext("/git-receive-pack", 503)
	r := e.publish(src)
	mustOutcome(t, r, OutcomeFailed)
	if errors.Is(r.Err, ErrPermanent) {
		t.Fatalf("a 503 should be retried: %v", r.Err)
	}
	// The queue's retry then succeeds.
	mustOutcome(t, e.publish(src), OutcomePublished)

	e.srv.FailNext("/info/refs", 403)
	r = e.publish(src)
	mustOutcome(t, r, OutcomeFailed)
	if !errors.Is(r.Err, ErrPermanent) || !strings.Contains(r.Err.Error(), "fetch acme/blog") {
		t.Fatalf("a 403 should be permanent: %v", r.Err)
	}
}

func TestDamagedCacheIsRebuilt(t *testing.T) {
	e := newEnv(t).useFake()
	first := e.publish(e.seed())
	mustOutcome(t, first, OutcomePublished)
	// Damage every object in the cache, keeping the refs and indexes.
	dir := e.cacheDir()
	packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack"))
	loose, _ := filepath.Glob(filepath.Join(dir, "objects", "??", "*"))
	if len(packs)+len(loose) == 0 {
		t.Fatal("no objects in the cache")
	}
	for _, f := range append(packs, loose...) {
		if err := os.Truncate(f, 20); err != nil {
			t.Fatal(err)
		}
	}
	e.pub.store = e.newStore(gitstore.Options{}) // forget what is in memory
	src := e.commit(gitserver.Change{Ref: "main", Message: "after damage", Files: map[string]string{"posts/d.md": "D\n"}})
	var r Result
	for attempt := 1; attempt <= 2; attempt++ {
		r = e.publish(src)
		t.Logf("attempt %d: %s %v", attempt, r.Outcome, r.Err)
		if r.Outcome == OutcomePublished {
			break
		}
		if errors.Is(r.Err, ErrPermanent) {
			t.Fatalf("attempt %d: a damaged cache is not a permanent failure: %v", attempt, r.Err)
		}
	}
	mustOutcome(t, r, OutcomePublished)
	if !slices.Contains(e.files("gh-pages"), "posts/d/index.html") {
		t.Fatal("post missing")
	}
	if !strings.Contains(e.logs(), "repository cache is damaged") {
		t.Fatal("the damage was not logged")
	}
}

// A job naming a file:// or ssh repository fails permanently: the bot only
// speaks smart HTTP, so no payload can make it run a local git program.
func TestRefusesNonHTTPRepositoryURLs(t *testing.T) {
	for _, u := range []string{"file:///etc", "/srv/git/blog.git", "ssh://git@example.com/a/b.git", "git@github.com:a/b.git"} {
		t.Run(u, func(t *testing.T) {
			p, err := New(Options{Store: tempStore(t)})
			if err != nil {
				t.Fatal(err)
			}
			res := p.Run(context.Background(), queue.Job{ID: "j", Kind: queue.KindPublish, Repo: queue.Repo{FullName: "a/b", CloneURL: u, DefaultBranch: "main"}, Ref: "refs/heads/main"}, nil)
			if res.Outcome != OutcomeFailed || !errors.Is(res.Err, ErrPermanent) || !strings.Contains(res.Err.Error(), "not supported") {
				t.Fatalf("outcome %s, err %v; want a permanent failure about the scheme", res.Outcome, res.Err)
			}
		})
	}
}
