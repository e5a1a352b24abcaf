package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/publishbot/publishbot/ghapitest"
	"github.com/publishbot/publishbot/gitserver"
	"github.com/publishbot/publishbot/gitstore"
	"github.com/publishbot/publishbot/webhook"
)

// The pull-request loop end to end: GitHub's real pull_request payloads,
// signed, sent to a running serve that reads a real git server on loopback
// and reports to a GitHub API stand-in (ghapitest) that records every call.

const (
	prRepoName = "hello-world"            // on the git server
	prFullName = "Codertocat/Hello-World" // in the payloads
	prNumber   = 2                        // in the payloads
	prSecret   = "pr-e2e-secret"
)

// prWorld is one content repository, a GitHub stand-in and a running bot.
type prWorld struct {
	t      *testing.T
	git    *gitserver.Server
	gh     *ghapitest.Server
	botURL string
	base   string // master's commit
	logs   *syncBuffer
}

const prConfig = `title: Hello World
base_url: https://codertocat.github.io/Hello-World/
per_page: 4
`

func prPost(title, date, body string) string {
	return "---\ntitle: " + title + "\ndate: " + date + "\n---\n\n" + body + "\n"
}

// newPRWorld starts everything. app selects GitHub App credentials (check
// runs); otherwise a token (commit statuses) that the git server also takes.
func newPRWorld(t *testing.T, app bool) *prWorld {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	token := "ghs_prE2EToken0123456789abcdef"
	ghOpts := ghapitest.Options{Token: token}
	gitPassword := token
	if app {
		// The git server takes only the installation token the stand-in
		// mints, so clones and pushes prove the App's token reaches git.
		ghOpts.Token = "no-static-token" // so only minted installation tokens are accepted
		ghOpts.InstallationToken = "ghs_prE2EInstallation0123456789"
		gitPassword = ghOpts.InstallationToken
	}
	git, err := gitserver.Start(gitserver.Options{Root: t.TempDir(), User: "x-access-token", Password: gitPassword})
	if err != nil {
		t.Fatal(err)
	}
	gh, err := ghapitest.Start(ghOpts)
	if err != nil {
		t.Fatal(err)
	}
	w := &prWorld{t: t, git: git, gh: gh}
	if err := git.CreateRepo(ctx, prRepoName, "master"); err != nil {
		t.Fatal(err)
	}
	w.base = w.commit("master", "", map[string]string{
		"publish.yaml":            prConfig,
		"posts/2026-01-05-one.md": prPost("One", "2026-01-05", "The first post."),
		"posts/2026-02-05-two.md": prPost("Two", "2026-02-05", "The second post."),
	})

	cfg := defaultServeConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.WebhookSecret = Secret(prSecret)
	cfg.GitHubAPIURL = gh.URL()
	cfg.LogFormat = "text"
	cfg.ShutdownGrace = 5 * time.Second
	if app {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		keyFile := filepath.Join(t.TempDir(), "app.pem")
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
		if err := os.WriteFile(keyFile, pemBytes, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg.AppID, cfg.AppPrivateKeyFile = 4242, keyFile
	} else {
		cfg.GitHubToken = Secret(token)
	}
	listening := make(chan string, 1)
	cfg.listening = listening
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	w.logs = logs
	logger, err := newServeLogger(cfg, logs)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, logger) }()
	select {
	case addr := <-listening:
		w.botURL = "http://" + addr
	case err := <-done:
		t.Fatalf("serve: %v\n%s", err, logs.String())
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		gh.Close()
		git.Close()
		if t.Failed() {
			t.Logf("bot logs:\n%s", logs.String())
		}
		if strings.Contains(logs.String(), token) {
			t.Errorf("the token appears in the bot's logs")
		}
	})
	return w
}

func (w *prWorld) commit(ref, parent string, files map[string]string, del ...string) string {
	w.t.Helper()
	sha, err := w.git.Commit(context.Background(), prRepoName, gitserver.Change{Ref: ref, Parent: parent, Files: files, Delete: del, Message: "change " + ref})
	if err != nil {
		w.t.Fatal(err)
	}
	return sha
}

// prPayload is the real payload for action, rewritten to point at our git
// server and commits.
func (w *prWorld) prPayload(file, head string, mutate func(pr map[string]any)) []byte {
	w.t.Helper()
	raw, err := os.ReadFile(sharedTestdata(w.t, "webhooks/pull_request/"+file))
	if err != nil {
		w.t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(raw, &p); err != nil {
		w.t.Fatal(err)
	}
	repo := p["repository"].(map[string]any)
	repo["clone_url"] = w.git.RepoURL(prRepoName)
	pr := p["pull_request"].(map[string]any)
	pr["head"].(map[string]any)["sha"] = head
	pr["base"].(map[string]any)["sha"] = w.base
	pr["base"].(map[string]any)["repo"].(map[string]any)["clone_url"] = w.git.RepoURL(prRepoName)
	if mutate != nil {
		mutate(pr)
	}
	out, err := json.Marshal(p)
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

// deliver signs and posts a webhook; it returns the status code.
func (w *prWorld) deliver(event, delivery string, body []byte) int {
	w.t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.botURL+"/webhook", bytes.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(webhook.Sign([]byte(prSecret), body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// wait polls the GitHub stand-in's state after each request it gets.
func (w *prWorld) wait(what string, cond func() bool) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := w.gh.Wait(ctx, cond); err != nil {
		w.t.Fatalf("waiting for %s: %v", what, err)
	}
}

func (w *prWorld) status(sha, context_ string) *ghapitest.Status {
	var last *ghapitest.Status
	for _, s := range w.gh.Statuses(prFullName) {
		if s.SHA == sha && s.Context == context_ && s.State != "pending" {
			s := s
			last = &s
		}
	}
	return last
}

func (w *prWorld) marked() []ghapitest.Comment {
	var out []ghapitest.Comment
	for _, c := range w.gh.Comments(prFullName, prNumber) {
		if strings.Contains(c.Body, "<!-- publishbot:preview -->") {
			out = append(out, c)
		}
	}
	return out
}

func (w *prWorld) pages() fs.FS {
	w.t.Helper()
	site, _, err := gitstore.BranchFS(w.git.RepoPath(prRepoName), "gh-pages")
	if err != nil {
		w.t.Fatal(err)
	}
	return site
}

func TestPRPreviewLifecycle(t *testing.T) {
	w := newPRWorld(t, false)
	head := w.commit("refs/pull/2/head", "master", map[string]string{
		"posts/2026-03-01-fresh.md":  prPost("A fresh post from a PR", "2026-03-01", "Hello from the pull request.\n\n![](missing.png)"),
		"posts/2026-03-02-broken.md": "---\ndate: 2026-03-02\n---\n\nNo title here.\n",
	})

	// Opened: preview published, one comment, a failing status.
	if got := w.deliver("pull_request", "d-opened", w.prPayload("opened.payload.json", head, nil)); got != http.StatusAccepted {
		t.Fatalf("opened: status %d, want 202", got)
	}
	w.wait("the preview status", func() bool { return w.status(head, "publishbot/preview") != nil })
	st := w.status(head, "publishbot/preview")
	if st.State != "failure" || !strings.Contains(st.TargetURL, "/pr-preview/pr-2/") {
		t.Errorf("preview status = %+v, want failure targeting the preview", st)
	}
	comments := w.marked()
	if len(comments) != 1 {
		t.Fatalf("%d marked comments after opened, want 1", len(comments))
	}
	body := comments[0].Body
	for _, want := range []string{
		"https://codertocat.github.io/Hello-World/pr-preview/pr-2/posts/fresh/",
		"A fresh post from a PR",
		"`missing-title`",
		"posts/2026-03-02-broken.md:",
		"#L",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
	site := w.pages()
	if _, err := fs.Stat(site, "pr-preview/pr-2/posts/fresh/index.html"); err != nil {
		t.Errorf("preview page missing on gh-pages: %v", err)
	}
	if _, err := fs.Stat(site, "pr-preview/pr-2/posts/broken/index.html"); err == nil {
		t.Errorf("the post with an error was published in the preview")
	}

	// The same delivery again: no second job.
	if got := w.deliver("pull_request", "d-opened", w.prPayload("opened.payload.json", head, nil)); got != http.StatusOK {
		t.Errorf("redelivery: status %d, want 200", got)
	}

	// Two quick synchronizes; the second fixes the error.
	head2 := w.commit("refs/pull/2/head", "", map[string]string{"posts/2026-03-02-broken.md": prPost("Fixed", "2026-03-02", "Now with a title.")})
	head3 := w.commit("refs/pull/2/head", "", map[string]string{"posts/2026-03-01-fresh.md": prPost("A fresh post from a PR", "2026-03-01", "Hello again.")})
	var wg sync.WaitGroup
	for i, h := range []string{head2, head3} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.deliver("pull_request", fmt.Sprintf("d-sync-%d", i), w.prPayload("synchronize.payload.json", h, nil))
		}()
	}
	wg.Wait()
	w.wait("the preview of the newest head", func() bool { return w.status(head3, "publishbot/preview") != nil })
	if st := w.status(head3, "publishbot/preview"); st.State != "success" {
		t.Errorf("status of the fixed head = %+v, want success", st)
	}
	comments = w.marked()
	if len(comments) != 1 {
		t.Fatalf("%d marked comments after synchronize, want 1 (edited in place)", len(comments))
	}
	if !strings.Contains(comments[0].Body, head3[:7]) || strings.Contains(comments[0].Body, "missing-title") {
		t.Errorf("comment not updated to %s:\n%s", head3[:7], comments[0].Body)
	}
	if !w.gh.Comments(prFullName, prNumber)[0].Updated.After(comments[0].Created) {
		t.Errorf("the comment was not edited")
	}

	// Closed: the preview folder is removed and the comment says so.
	if got := w.deliver("pull_request", "d-closed", w.prPayload("closed.payload.json", head3, nil)); got != http.StatusAccepted {
		t.Fatalf("closed: status %d, want 202", got)
	}
	w.wait("the comment to say the preview was removed", func() bool {
		c := w.marked()
		return len(c) == 1 && strings.Contains(strings.ToLower(c[0].Body), "removed")
	})
	if _, err := fs.Stat(w.pages(), "pr-preview/pr-2"); err == nil {
		t.Errorf("pr-preview/pr-2 is still on gh-pages after the PR closed")
	}
	if n := len(w.marked()); n != 1 {
		t.Errorf("%d marked comments at the end, want 1", n)
	}
}

func TestPRPreviewCheckRunWithApp(t *testing.T) {
	w := newPRWorld(t, true)
	// 60 images without alt text (warnings) and one post without a title.
	var b strings.Builder
	for i := range 60 {
		fmt.Fprintf(&b, "Line %d ![](/images/x.png)\n\n", i)
	}
	head := w.commit("refs/pull/2/head", "master", map[string]string{
		"static/images/x.png":        "png",
		"posts/2026-03-01-many.md":   prPost("Many images", "2026-03-01", b.String()),
		"posts/2026-03-02-broken.md": "---\ndate: 2026-03-02\n---\n\nNo title here.\n",
	})
	w.deliver("pull_request", "app-opened", w.prPayload("opened.payload.json", head, nil))
	w.wait("a completed check run with every annotation", func() bool {
		for _, c := range w.gh.CheckRuns(prFullName) {
			if c.HeadSHA == head && c.Conclusion != "" && len(c.Annotations) >= 61 {
				return true
			}
		}
		return false
	})
	runs := w.gh.CheckRuns(prFullName)
	if len(runs) != 1 {
		t.Fatalf("%d check runs, want 1", len(runs))
	}
	run := runs[0]
	if run.Name != "publishbot" || run.Conclusion != "failure" {
		t.Errorf("check run %q conclusion %q, want publishbot/failure", run.Name, run.Conclusion)
	}
	if len(run.Annotations) != 61 {
		t.Fatalf("%d annotations, want 61 (60 warnings, 1 error), sent in batches of 50", len(run.Annotations))
	}
	lines := map[int]bool{}
	for _, a := range run.Annotations {
		if a.GetPath() == "posts/2026-03-01-many.md" {
			lines[a.GetStartLine()] = true
		}
		if a.GetPath() == "posts/2026-03-02-broken.md" && a.GetAnnotationLevel() != "failure" {
			t.Errorf("error annotation level %q, want failure", a.GetAnnotationLevel())
		}
	}
	// Front matter is 4 lines, a blank, then the body: image i is on line 6+2i.
	for i := range 60 {
		if !lines[6+2*i] {
			t.Errorf("no annotation on line %d of the post", 6+2*i)
		}
	}
	if len(w.marked()) != 1 {
		t.Errorf("want one comment with App credentials too")
	}
	var tokens int
	for _, r := range w.gh.Requests() {
		if strings.HasSuffix(r.Path, "/access_tokens") {
			tokens++
		}
	}
	if tokens == 0 {
		t.Errorf("no installation token was requested")
	}
}

// A fork's pull request is read from refs/pull/N/head of the base repository,
// and renders with the base branch's publish.yaml and templates: the PR
// cannot turn on raw HTML.
func TestPRForkPreviewUsesBaseConfig(t *testing.T) {
	w := newPRWorld(t, false)
	head := w.commit("refs/pull/2/head", "master", map[string]string{
		"publish.yaml":              prConfig + "unsafe_html: true\n",
		"templates/post.html":       "<p>hijacked</p>",
		"posts/2026-03-01-raw.md":   prPost("Raw", "2026-03-01", "<script>alert(1)</script>\n\nText."),
		"posts/2026-03-02-other.md": prPost("Other", "2026-03-02", "Other text."),
	})
	w.deliver("pull_request", "fork-opened", w.prPayload("opened.payload.json", head, func(pr map[string]any) {
		h := pr["head"].(map[string]any)
		h["repo"].(map[string]any)["full_name"] = "forker/Hello-World"
		h["repo"].(map[string]any)["clone_url"] = "https://github.com/forker/Hello-World.git"
		h["label"] = "forker:changes"
	}))
	w.wait("the fork's preview", func() bool { return w.status(head, "publishbot/preview") != nil })
	page, err := fs.ReadFile(w.pages(), "pr-preview/pr-2/posts/raw/index.html")
	if err != nil {
		t.Fatalf("fork preview page: %v", err)
	}
	if bytes.Contains(page, []byte("<script>alert(1)</script>")) || bytes.Contains(page, []byte("hijacked")) {
		t.Errorf("the fork's publish.yaml or templates took effect:\n%s", page)
	}
}

// GitHub answering 502 twice and then a secondary rate limit: the report is
// retried and lands once.
func TestPRReportRetriesGitHubErrors(t *testing.T) {
	w := newPRWorld(t, false)
	head := w.commit("refs/pull/2/head", "master", map[string]string{
		"posts/2026-03-01-fresh.md": prPost("Fresh", "2026-03-01", "Text."),
	})
	list := "/repos/" + prFullName + "/issues/2/comments"
	w.gh.Fail(http.MethodGet, list, http.StatusBadGateway, nil, `{"message":"Server Error"}`)
	w.gh.Fail(http.MethodGet, list, http.StatusBadGateway, nil, `{"message":"Server Error"}`)
	w.gh.Fail(http.MethodPost, list, http.StatusForbidden, http.Header{"Retry-After": {"1"}},
		`{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`)
	w.deliver("pull_request", "retry-opened", w.prPayload("opened.payload.json", head, nil))
	w.wait("the comment after retries", func() bool { return len(w.marked()) == 1 })
	var failed int
	for _, r := range w.gh.Requests() {
		if r.Status >= 400 {
			failed++
		}
	}
	if failed != 3 {
		t.Errorf("%d failed requests, want the 3 injected ones", failed)
	}
	if n := len(w.marked()); n != 1 {
		t.Errorf("%d comments, want 1", n)
	}
}

// A pull request with 2,000 problems still gets a comment GitHub accepts.
func TestPRCommentStaysUnderGitHubLimit(t *testing.T) {
	w := newPRWorld(t, false)
	var b strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&b, "See [post %d](/posts/does-not-exist-%d/).\n\n", i, i)
	}
	head := w.commit("refs/pull/2/head", "master", map[string]string{
		"posts/2026-03-01-links.md": prPost("Links", "2026-03-01", b.String()),
	})
	w.deliver("pull_request", "big-opened", w.prPayload("opened.payload.json", head, nil))
	w.wait("the comment", func() bool { return len(w.marked()) == 1 })
	body := w.marked()[0].Body
	if len(body) >= 65536 {
		t.Errorf("comment is %d characters, GitHub's limit is 65,536", len(body))
	}
	if !strings.Contains(body, "more") {
		t.Errorf("the comment does not summarise its tail:\n%s", body[len(body)-min(len(body), 600):])
	}
}

// GitHub refusing the credentials for the comment (401, not retried) loses
// nothing: the preview is published, the failure is an error line and a
// metric an operator can alert on.
func TestPRReportUnauthorizedKeepsThePreview(t *testing.T) {
	w := newPRWorld(t, false)
	head := w.commit("refs/pull/2/head", "master", map[string]string{
		"posts/2026-03-01-fresh.md": prPost("Fresh", "2026-03-01", "Text."),
	})
	w.gh.Fail(http.MethodGet, "/repos/"+prFullName+"/issues/2/comments", http.StatusUnauthorized, nil, `{"message":"Bad credentials"}`)
	w.deliver("pull_request", "unauth-opened", w.prPayload("opened.payload.json", head, nil))
	w.wait("the preview status", func() bool { return w.status(head, "publishbot/preview") != nil })
	if _, err := fs.Stat(w.pages(), "pr-preview/pr-2/posts/fresh/index.html"); err != nil {
		t.Errorf("the preview was lost with the report: %v", err)
	}
	if len(w.marked()) != 0 {
		t.Errorf("a comment was written despite the 401")
	}
	// The error line follows the status call: poll the log with a deadline.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(w.logs.String(), "report failed") && time.Now().Before(deadline); {
		<-tick.C
	}
	if !strings.Contains(w.logs.String(), `level=error msg="report failed"`) {
		t.Errorf("no error line for the failed report:\n%s", w.logs.String())
	}
	resp, err := http.Get(w.botURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `publishbot_reports_total{result="failed"} 1`) {
		t.Errorf("metrics lack the failed report:\n%s", body)
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
