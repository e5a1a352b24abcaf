package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/publishbot/publishbot/ghapitest"
	"github.com/publishbot/publishbot/gitstore"
	it "github.com/publishbot/publishbot/imagery/imagerytest"
	"github.com/publishbot/publishbot/testkit"
)

// The pull-request loop end to end, in the e2e world: GitHub's real
// pull_request payloads, signed, sent to a running serve that reads the git
// server and reports to the GitHub API stand-in.

const prConfig = `title: Hello World
base_url: https://codertocat.github.io/Hello-World/
per_page: 4
`

func prPost(title, date, body string) string {
	return "---\ntitle: " + title + "\ndate: " + date + "\n---\n\n" + body + "\n"
}

// prBase commits the pull requests' base on the source branch: the config
// and two posts.
func (w *e2eWorld) prBase() {
	w.t.Helper()
	w.base = w.commitRef(e2eBranch, "", map[string]string{
		"publish.yaml":            prConfig,
		"posts/2026-01-05-one.md": prPost("One", "2026-01-05", "The first post."),
		"posts/2026-02-05-two.md": prPost("Two", "2026-02-05", "The second post."),
	})
}

// prHead commits files on the pull request's head ref: on top of the base
// the first time, then on top of the previous head.
func (w *e2eWorld) prHead(files map[string]string) string {
	w.t.Helper()
	head, err := w.git.Head(context.Background(), e2eRepo, fmt.Sprintf("refs/pull/%d/head", e2ePR))
	if err != nil {
		w.t.Fatal(err)
	}
	parent := ""
	if head == "" {
		parent = w.base
	}
	sha := w.commitRef(fmt.Sprintf("refs/pull/%d/head", e2ePR), parent, files)
	// A push to the pull request moves its head on GitHub at once.
	pr := w.githubPR()
	pr.HeadSHA = sha
	w.api.SetPullRequest(e2eFullName, pr)
	return sha
}

// githubPR is the pull request as the GitHub stand-in reports it: an open
// one from a branch of the repository itself until a delivery says else.
func (w *e2eWorld) githubPR() ghapitest.PullRequest {
	pr, ok := w.api.PullRequestState(e2eFullName, e2ePR)
	if !ok {
		pr = ghapitest.PullRequest{Number: e2ePR, State: "open", Title: "Update the README with new information.",
			HeadRef: "changes", HeadRepo: e2eFullName, BaseRef: e2eBranch}
	}
	return pr
}

// newPRWorld is a world with the pull requests' base committed and serve
// running; app selects GitHub App credentials (check runs), else a token
// (commit statuses).
func newPRWorld(t *testing.T, app bool) (*e2eWorld, *e2eServer) {
	t.Helper()
	w := newWorld(t, app)
	w.prBase()
	return w, w.startServe(nil)
}

// prPayload is the real payload in file, rewritten to point at the git
// server, head and the base commit.
func (w *e2eWorld) prPayload(file, head string, mutate func(pr map[string]any)) []byte {
	w.t.Helper()
	p := w.payload("pull_request/" + file)
	if p["number"] != float64(e2ePR) {
		w.t.Fatalf("the payload changed: #%v", p["number"])
	}
	pr := p["pull_request"].(map[string]any)
	pr["head"].(map[string]any)["sha"] = head
	pr["base"].(map[string]any)["sha"] = w.base
	pr["base"].(map[string]any)["repo"].(map[string]any)["clone_url"] = w.git.RepoURL(e2eRepo)
	if mutate != nil {
		mutate(pr)
	}
	out, err := json.Marshal(p)
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

// deliverPR signs and posts a pull_request delivery to s and returns the
// status code. As GitHub does, the stand-in's pull request takes the state
// the event tells of (closed, or open again, and its head repository)
// before the webhook is sent; deliverLate sends one without that, as a
// delivery that arrives after the pull request moved on.
func (w *e2eWorld) deliverPR(s *e2eServer, delivery string, body []byte) int {
	w.t.Helper()
	var p struct {
		Action      string `json:"action"`
		PullRequest struct {
			Head struct {
				SHA  string `json:"sha"`
				Repo *struct {
					FullName string `json:"full_name"`
				} `json:"repo"`
			} `json:"head"`
		} `json:"pull_request"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		w.t.Fatal(err)
	}
	pr := w.githubPR()
	pr.State = "open"
	if p.Action == "closed" {
		pr.State = "closed"
	}
	pr.HeadRepo = ""
	if p.PullRequest.Head.Repo != nil {
		pr.HeadRepo = p.PullRequest.Head.Repo.FullName
	}
	if pr.HeadSHA == "" {
		pr.HeadSHA = p.PullRequest.Head.SHA
	}
	w.api.SetPullRequest(e2eFullName, pr)
	return w.deliverLate(s, delivery, body)
}

// deliverLate signs and posts a pull_request delivery to s, leaving the
// stand-in's pull request as it is, and returns the status code.
func (w *e2eWorld) deliverLate(s *e2eServer, delivery string, body []byte) int {
	w.t.Helper()
	code, err := w.deliver(s.addr, "pull_request", delivery, body)
	if err != nil {
		w.t.Fatal(err)
	}
	return code
}

// waitGitHub waits for cond, checked after each request the GitHub
// stand-in gets.
func (w *e2eWorld) waitGitHub(what string, cond func() bool) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := w.api.Wait(ctx, cond); err != nil {
		w.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// status is the last final (not pending) status context_ on sha, or nil.
func (w *e2eWorld) status(sha, context_ string) *ghapitest.Status {
	var last *ghapitest.Status
	for _, s := range w.api.Statuses(e2eFullName) {
		if s.SHA == sha && s.Context == context_ && s.State != "pending" {
			s := s
			last = &s
		}
	}
	return last
}

// marked is the pull request's comments that carry publishbot's marker.
func (w *e2eWorld) marked() []ghapitest.Comment {
	var out []ghapitest.Comment
	for _, c := range w.api.Comments(e2eFullName, e2ePR) {
		if strings.Contains(c.Body, "<!-- publishbot:preview -->") {
			out = append(out, c)
		}
	}
	return out
}

// pages is the pages branch as a file system.
func (w *e2eWorld) pages() fs.FS {
	w.t.Helper()
	site, _, err := gitstore.BranchFS(w.git.RepoPath(e2eRepo), "gh-pages")
	if err != nil {
		w.t.Fatal(err)
	}
	return site
}

func TestPRPreviewLifecycle(t *testing.T) {
	w, s := newPRWorld(t, false)
	head := w.prHead(map[string]string{
		"posts/2026-03-01-fresh.md":  prPost("A fresh post from a PR", "2026-03-01", "Hello from the pull request.\n\n![](missing.png)"),
		"posts/2026-03-02-broken.md": "---\ndate: 2026-03-02\n---\n\nNo title here.\n",
	})

	// Opened: preview published, one comment, a failing status.
	if got := w.deliverPR(s, "d-opened", w.prPayload("opened.payload.json", head, nil)); got != http.StatusAccepted {
		t.Fatalf("opened: status %d, want 202", got)
	}
	w.waitGitHub("the preview status", func() bool { return w.status(head, "publishbot/preview") != nil })
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
	if got := w.deliverPR(s, "d-opened", w.prPayload("opened.payload.json", head, nil)); got != http.StatusOK {
		t.Errorf("redelivery: status %d, want 200", got)
	}

	// Two quick synchronizes; the second fixes the error.
	head2 := w.prHead(map[string]string{"posts/2026-03-02-broken.md": prPost("Fixed", "2026-03-02", "Now with a title.")})
	head3 := w.prHead(map[string]string{"posts/2026-03-01-fresh.md": prPost("A fresh post from a PR", "2026-03-01", "Hello again.")})
	var wg sync.WaitGroup
	for i, h := range []string{head2, head3} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.deliverPR(s, fmt.Sprintf("d-sync-%d", i), w.prPayload("synchronize.payload.json", h, nil))
		}()
	}
	wg.Wait()
	w.waitGitHub("the preview of the newest head", func() bool { return w.status(head3, "publishbot/preview") != nil })
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
	if !w.api.Comments(e2eFullName, e2ePR)[0].Updated.After(comments[0].Created) {
		t.Errorf("the comment was not edited")
	}

	// Closed: the preview folder is removed and the comment says so.
	if got := w.deliverPR(s, "d-closed", w.prPayload("closed.payload.json", head3, nil)); got != http.StatusAccepted {
		t.Fatalf("closed: status %d, want 202", got)
	}
	w.waitGitHub("the comment to say the preview was removed", func() bool {
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
	w, s := newPRWorld(t, true)
	// 60 images without alt text (warnings) and one post without a title.
	var b strings.Builder
	for i := range 60 {
		fmt.Fprintf(&b, "Line %d ![](/images/x.png)\n\n", i)
	}
	head := w.prHead(map[string]string{
		"static/images/x.png":        string(it.PNG(t, image.NewGray(image.Rect(0, 0, 1, 1)))),
		"posts/2026-03-01-many.md":   prPost("Many images", "2026-03-01", b.String()),
		"posts/2026-03-02-broken.md": "---\ndate: 2026-03-02\n---\n\nNo title here.\n",
	})
	w.deliverPR(s, "app-opened", w.prPayload("opened.payload.json", head, nil))
	w.waitGitHub("a completed check run with every annotation", func() bool {
		for _, c := range w.api.CheckRuns(e2eFullName) {
			if c.HeadSHA == head && c.Conclusion != "" && len(c.Annotations) >= 61 {
				return true
			}
		}
		return false
	})
	runs := w.api.CheckRuns(e2eFullName)
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
	for _, r := range w.api.Requests() {
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
	w, s := newPRWorld(t, false)
	head := w.prHead(map[string]string{
		"publish.yaml":              prConfig + "unsafe_html: true\n",
		"templates/post.html":       "<p>hijacked</p>",
		"posts/2026-03-01-raw.md":   prPost("Raw", "2026-03-01", "<script>alert(1)</script>\n\nText."),
		"posts/2026-03-02-other.md": prPost("Other", "2026-03-02", "Other text."),
	})
	w.deliverPR(s, "fork-opened", w.prPayload("opened.payload.json", head, func(pr map[string]any) {
		h := pr["head"].(map[string]any)
		h["repo"].(map[string]any)["full_name"] = "forker/Hello-World"
		h["repo"].(map[string]any)["clone_url"] = "https://github.com/forker/Hello-World.git"
		h["label"] = "forker:changes"
	}))
	w.waitGitHub("the fork's preview", func() bool { return w.status(head, "publishbot/preview") != nil })
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
	w, s := newPRWorld(t, false)
	head := w.prHead(map[string]string{
		"posts/2026-03-01-fresh.md": prPost("Fresh", "2026-03-01", "Text."),
	})
	list := "/repos/" + e2eFullName + "/issues/2/comments"
	w.api.Fail(http.MethodGet, list, http.StatusBadGateway, nil, `{"message":"Server Error"}`)
	w.api.Fail(http.MethodGet, list, http.StatusBadGateway, nil, `{"message":"Server Error"}`)
	w.api.Fail(http.MethodPost, list, http.StatusForbidden, http.Header{"Retry-After": {"1"}},
		`{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`)
	w.deliverPR(s, "retry-opened", w.prPayload("opened.payload.json", head, nil))
	w.waitGitHub("the comment after retries", func() bool { return len(w.marked()) == 1 })
	var failed int
	for _, r := range w.api.Requests() {
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
	w, s := newPRWorld(t, false)
	var b strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&b, "See [post %d](/posts/does-not-exist-%d/).\n\n", i, i)
	}
	head := w.prHead(map[string]string{
		"posts/2026-03-01-links.md": prPost("Links", "2026-03-01", b.String()),
	})
	w.deliverPR(s, "big-opened", w.prPayload("opened.payload.json", head, nil))
	w.waitGitHub("the comment", func() bool { return len(w.marked()) == 1 })
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
	w, s := newPRWorld(t, false)
	head := w.prHead(map[string]string{
		"posts/2026-03-01-fresh.md": prPost("Fresh", "2026-03-01", "Text."),
	})
	w.api.Fail(http.MethodGet, "/repos/"+e2eFullName+"/issues/2/comments", http.StatusUnauthorized, nil, `{"message":"Bad credentials"}`)
	w.deliverPR(s, "unauth-opened", w.prPayload("opened.payload.json", head, nil))
	w.waitGitHub("the preview status", func() bool { return w.status(head, "publishbot/preview") != nil })
	if _, err := fs.Stat(w.pages(), "pr-preview/pr-2/posts/fresh/index.html"); err != nil {
		t.Errorf("the preview was lost with the report: %v", err)
	}
	if len(w.marked()) != 0 {
		t.Errorf("a comment was written despite the 401")
	}
	// The error line follows the status call.
	testkit.WaitFor(t, "an error line for the failed report", 30*time.Second, func() bool {
		return s.logs.hasLine("error", "report failed")
	})
	if got := e2eMetric(t, s.addr, `publishbot_reports_total{result="failed"}`); got != 1 {
		t.Errorf("failed reports = %v, want 1", got)
	}
}
