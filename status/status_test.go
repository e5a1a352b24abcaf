package status

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/publisher"
	"github.com/publishbot/publishbot/queue"
	"github.com/publishbot/publishbot/testkit"
	"github.com/publishbot/publishbot/webhook"
	"github.com/publishbot/publishbot/worker"
)

const testToken = "status-token-0123456789"

// world is a status page over a real bolt queue and a real worker whose
// runner fails the repositories named in failing (permanently, so the job
// dies at once) and publishes the others.
type world struct {
	q      *queue.Bolt
	board  *Board
	set    *worker.PublishedSet
	srv    *httptest.Server
	runner *fakeRunner
}

type fakeRunner struct {
	mu      sync.Mutex
	failing map[string]bool
	runs    int
}

func (f *fakeRunner) Run(ctx context.Context, j queue.Job, log *logrus.Entry) publisher.Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs++
	if f.failing[j.Repo.FullName] {
		return publisher.Result{Job: j, Outcome: publisher.OutcomeFailed, Err: publisher.Permanent(errors.New("push to gh-pages: 403 Resource not accessible by integration"))}
	}
	return publisher.Result{Job: j, Outcome: publisher.OutcomePublished, SourceSHA: "0123456789abcdef0123456789abcdef01234567", PagesCommit: "fedcba9876543210fedcba9876543210fedcba98", SiteURL: "https://acme.github.io/blog/"}
}

func (f *fakeRunner) setFailing(repo string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failing[repo] = on
}

func newWorld(t *testing.T) *world {
	t.Helper()
	dir := t.TempDir()
	q, err := queue.OpenBolt(filepath.Join(dir, "queue.db"), queue.Options{
		MaxAttempts: 3,
		Retryable:   func(err error) bool { return !errors.Is(err, publisher.ErrPermanent) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	set, err := worker.OpenPublishedSet(filepath.Join(dir, "published.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	board := NewBoard(nil)
	runner := &fakeRunner{failing: map[string]bool{}}
	log := logrus.New()
	log.Out = io.Discard
	w, err := worker.New(worker.Options{Queue: q, Runner: runner, Log: logrus.NewEntry(log), Published: set, Observer: board})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	h, err := New(Options{Token: testToken, Queue: q, Board: board, Repositories: set, Version: "v1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &world{q: q, board: board, set: set, srv: srv, runner: runner}
}

func publishJob(repo string) queue.Job {
	return queue.Job{Kind: queue.KindPublish, Repo: queue.Repo{FullName: repo, CloneURL: "https://github.com/" + repo + ".git"},
		Ref: "refs/heads/main", SHA: "0123456789abcdef0123456789abcdef01234567", Reason: "push"}
}

// deadJob queues a publish of repo that fails and waits until it is dead.
func (w *world) deadJob(t *testing.T, repo string) queue.JobInfo {
	t.Helper()
	w.runner.setFailing(repo, true)
	if err := w.q.Enqueue(context.Background(), publishJob(repo)); err != nil {
		t.Fatal(err)
	}
	var dead queue.JobInfo
	testkit.WaitFor(t, "the job to die", 10*time.Second, func() bool {
		list, err := w.q.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range list {
			if in.State == queue.StateDead && in.Job.Repo.FullName == repo {
				dead = in
				return true
			}
		}
		return false
	})
	return dead
}

func get(t *testing.T, c *http.Client, u string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func noRedirect(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func TestBearerTokenSeesJobsAndRetries(t *testing.T) {
	w := newWorld(t)
	dead := w.deadJob(t, "acme/blog")
	w.board.RecordDelivery(webhook.Delivery{ID: "d-<1>", Event: "push", Status: 202, Result: "queued", Repo: "acme/blog", At: time.Now()})

	code, body := get(t, http.DefaultClient, w.srv.URL+"/status")
	if code != http.StatusOK || !strings.Contains(body, `action="/status/login"`) || strings.Contains(body, "acme/blog") {
		t.Fatalf("without a token: %d, want the login form and nothing else:\n%s", code, body)
	}
	code, _ = get(t, http.DefaultClient, w.srv.URL+"/status", "Authorization", "Bearer wrong-token-0123456789")
	if code != http.StatusUnauthorized {
		t.Fatalf("wrong bearer token: %d, want 401", code)
	}
	code, body = get(t, http.DefaultClient, w.srv.URL+"/status", "Authorization", "Bearer "+testToken)
	if code != http.StatusOK {
		t.Fatalf("bearer: %d", code)
	}
	for _, want := range []string{"acme/blog", dead.Job.ID, "403 Resource not accessible by integration", "<strong>1</strong> dead", "d-&lt;1&gt;", "v1.2.3"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}

	// A bearer POST needs no CSRF token: browsers never send the header on their own.
	w.runner.setFailing("acme/blog", false)
	req, _ := http.NewRequest(http.MethodPost, w.srv.URL+"/status/retry", strings.NewReader(url.Values{"job": {dead.Job.ID}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := noRedirect(nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("retry: %d, want 303", resp.StatusCode)
	}
	testkit.WaitFor(t, "the retried job to publish", 10*time.Second, func() bool {
		_, ok := w.board.LastPublish("acme/blog")
		return ok
	})
}

func TestLoginSessionAndCSRF(t *testing.T) {
	w := newWorld(t)
	dead := w.deadJob(t, "acme/blog")
	jar, _ := cookiejar.New(nil)
	c := noRedirect(jar)

	post := func(path string, form url.Values, header ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, w.srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post("/status/login", url.Values{"token": {"nope"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad login: %d", resp.StatusCode)
	}
	if resp := post("/status/login", url.Values{"token": {testToken}}, "Origin", "https://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin login: %d, want 403", resp.StatusCode)
	}
	resp := post("/status/login", url.Values{"token": {testToken}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == cookieName {
			cookie = ck
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || strings.Contains(cookie.Value, testToken) {
		t.Fatalf("session cookie = %+v", cookie)
	}
	code, body := get(t, c, w.srv.URL+"/status")
	if code != http.StatusOK || !strings.Contains(body, dead.Job.ID) {
		t.Fatalf("after login: %d\n%s", code, body)
	}
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF token in the page's forms")
	}

	// A POST with the cookie but without the CSRF token, or from another
	// site, is refused and changes nothing.
	if resp := post("/status/retry", url.Values{"job": {dead.Job.ID}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("retry without csrf: %d, want 403", resp.StatusCode)
	}
	if resp := post("/status/retry", url.Values{"job": {dead.Job.ID}, "csrf": {m[1]}}, "Origin", "https://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin retry: %d, want 403", resp.StatusCode)
	}
	if st, _ := w.q.Stats(context.Background()); st.Dead != 1 {
		t.Fatalf("refused retries changed the queue: %+v", st)
	}
	if resp := post("/status/retry", url.Values{"job": {"no-such-job"}, "csrf": {m[1]}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("retry of an unknown job: %d, want 404", resp.StatusCode)
	}
	if resp := post("/status/republish", url.Values{"repo": {"acme/unknown"}, "csrf": {m[1]}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("republish of an unknown repository: %d, want 404", resp.StatusCode)
	}
	if resp := post("/status/logout", url.Values{"csrf": {m[1]}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if _, body := get(t, c, w.srv.URL+"/status"); strings.Contains(body, dead.Job.ID) {
		t.Fatal("the page still shows jobs after logging out")
	}
}

func TestLoginAttemptsAreRateLimited(t *testing.T) {
	w := newWorld(t)
	statuses := map[int]int{}
	for i := 0; i < clientBurst+3; i++ {
		resp, err := http.PostForm(w.srv.URL+"/status/login", url.Values{"token": {"guess"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		statuses[resp.StatusCode]++
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if statuses[http.StatusUnauthorized] != clientBurst || statuses[http.StatusTooManyRequests] != 3 {
		t.Fatalf("answers = %v, want %d refusals then 429s", statuses, clientBurst)
	}
	// Even the right token waits now.
	resp, err := http.PostForm(w.srv.URL+"/status/login", url.Values{"token": {testToken}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right token while limited: %d", resp.StatusCode)
	}
}

func TestRepublishQueuesAPublish(t *testing.T) {
	w := newWorld(t)
	if err := w.q.Enqueue(context.Background(), publishJob("acme/blog")); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the first publish", 10*time.Second, func() bool { return len(w.set.List()) == 1 })
	w.runner.mu.Lock()
	before := w.runner.runs
	w.runner.mu.Unlock()
	req, _ := http.NewRequest(http.MethodPost, w.srv.URL+"/status/republish", strings.NewReader("repo=acme%2Fblog"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := noRedirect(nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("republish: %d", resp.StatusCode)
	}
	testkit.WaitFor(t, "the re-publish to run", 10*time.Second, func() bool {
		w.runner.mu.Lock()
		defer w.runner.mu.Unlock()
		return w.runner.runs > before
	})
}

func TestNewRefusesShortToken(t *testing.T) {
	if _, err := New(Options{Token: "short", Queue: &queue.Bolt{}, Board: NewBoard(nil), Repositories: &worker.PublishedSet{}}); err == nil {
		t.Fatal("a 5-character token was accepted")
	}
}
