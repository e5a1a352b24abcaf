package publisher

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/publishbot/publishbot/gitserver"
	"github.com/publishbot/publishbot/queue"
)

// exampleBlog is examples/blog of this repository as fixture files.
func exampleBlog(t *testing.T) map[string]string {
	t.Helper()
	files, err := gitserver.FilesFromDir("../examples/blog", "")
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// These tests use the real build: posts.Load and templates.

func TestEndToEndPublishExampleBlog(t *testing.T) {
	e := newEnv(t)
	src := e.commit(gitserver.Change{Ref: "main", Message: "Import the blog", Files: exampleBlog(t)})
	r := e.publish(src)
	mustOutcome(t, r, OutcomePublished)
	files := e.files("gh-pages")
	for _, want := range []string{
		".nojekyll", "index.html", "page/2/index.html", "feed.xml", "rss.xml", "feed.json", "sitemap.xml", "robots.txt", "404.html",
		"posts/launching-the-new-deploy-pipeline/index.html",
		"posts/mapping-the-office-network/index.html", "posts/mapping-the-office-network/cover.png",
		"images/build-times.png", "2025/11/hello/index.html",
	} {
		if !slices.Contains(files, want) {
			t.Errorf("%s missing from the site", want)
		}
	}
	for _, f := range files {
		if strings.Contains(f, "from-the-future") || strings.Contains(f, "postmortem") {
			t.Errorf("%s: a draft or future post was published", f)
		}
	}
	index := e.show("gh-pages", "index.html")
	for _, want := range []string{"Acme Engineering", "Launching the new deploy pipeline", "/blog/posts/launching-the-new-deploy-pipeline/"} {
		if !strings.Contains(index, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	if strings.Contains(index, "noindex") || strings.Contains(index, "Preview of") {
		t.Error("the published site is marked as a preview")
	}
	// Binary assets are byte-identical to the source blobs.
	if a, b := e.git("rev-parse", "gh-pages:posts/mapping-the-office-network/cover.png"), e.git("rev-parse", "main:posts/2026-03-18-mapping-the-office-network/cover.png"); a != b {
		t.Errorf("cover.png blob %s, source %s", a, b)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	if want := time.Date(2030, 1, 1, 0, 0, 0, 0, berlin); !r.NextPublish.Equal(want) {
		t.Errorf("next publish = %v, want %v", r.NextPublish, want)
	}
	if r.SiteURL != "https://acme.github.io/blog/" {
		t.Errorf("site URL %q", r.SiteURL)
	}
	mustOutcome(t, e.publish(src), OutcomeUnchanged)

	// When the future post is due, the same commit publishes it.
	e.pub.now = func() time.Time { return time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC) }
	due := e.publish(src)
	mustOutcome(t, due, OutcomePublished)
	if !slices.Contains(e.files("gh-pages"), "posts/a-post-from-the-future/index.html") || !due.NextPublish.IsZero() {
		t.Fatalf("the scheduled post was not published (next %v)", due.NextPublish)
	}
}

func TestEndToEndForkPreview(t *testing.T) {
	e := newEnv(t)
	base := e.commit(gitserver.Change{Ref: "main", Message: "Import the blog", Files: exampleBlog(t)})
	mustOutcome(t, e.publish(base), OutcomePublished)
	// The fork changes publish.yaml and templates (ignored: they come from
	// the base branch), adds a post, retitles one, and breaks one.
	head := e.commit(gitserver.Change{Ref: "refs/pull/7/head", Parent: base, Message: "A fresh post", Delete: []string{"posts/2026-05-06-reading-time.md"}, Files: map[string]string{
		"publish.yaml":                      "title: Hacked\nbase_url: https://evil.example/\nunsafe_html: true\n",
		"templates/base.html":               "HACKED TEMPLATE",
		"posts/2026-06-19-a-fresh-post.md":  "---\ntitle: A fresh post from a PR\ndate: 2026-06-19\n---\n\nHello <script>alert(1)</script> reviewers.\n",
		"posts/2025-11-03-hello-world.md":   "---\ntitle: Hello again, world\ndate: 2025-11-03\n---\n\nRetitled.\n",
		"posts/2026-06-18-broken.md":        "---\ndate: 2026-06-18\n---\n\nNo title.\n",
		"posts/2026-06-17-another-draft.md": "---\ntitle: Draft in a PR\ndate: 2026-06-17\ndraft: true\n---\n\nDraft.\n",
	}})
	r := e.run(queue.Job{Kind: queue.KindPreview, Repo: e.repo(), Ref: "refs/pull/7/head", SHA: head, PR: 7, BaseRef: "main", BaseSHA: base})
	mustOutcome(t, r, OutcomePublished)
	pre := "https://acme.github.io/blog/pr-preview/pr-7/"
	if r.SiteURL != pre {
		t.Fatalf("preview URL %q", r.SiteURL)
	}
	index := e.show("gh-pages", "pr-preview/pr-7/index.html")
	for _, want := range []string{"Acme Engineering", "Preview of #7", `<meta name="robots" content="noindex">`, "/blog/pr-preview/pr-7/posts/a-fresh-post/"} {
		if !strings.Contains(index, want) {
			t.Errorf("preview index lacks %q:\n%s", want, index)
		}
	}
	page := e.show("gh-pages", "pr-preview/pr-7/posts/a-fresh-post/index.html")
	for _, bad := range []string{"Hacked", "HACKED", "evil.example", "<script>alert"} {
		if strings.Contains(index, bad) || strings.Contains(page, bad) {
			t.Errorf("the pull request's %q reached the preview", bad)
		}
	}
	if !slices.Contains(e.files("gh-pages"), "pr-preview/pr-7/posts/another-draft/index.html") {
		t.Errorf("drafts are not shown in the preview: %q", e.files("gh-pages"))
	}
	byPath := map[string]ChangedPost{}
	for _, c := range r.Changed {
		byPath[c.Path] = c
	}
	if len(r.Changed) != 5 {
		t.Errorf("changed = %+v", r.Changed)
	}
	if c := byPath["posts/2026-06-19-a-fresh-post.md"]; c.Status != "added" || c.URL != pre+"posts/a-fresh-post/" || c.Title != "A fresh post from a PR" || c.IndexPage != 1 || c.ReadingTime < 1 {
		t.Errorf("fresh post = %+v", c)
	}
	if c := byPath["posts/2025-11-03-hello-world.md"]; c.Status != "changed" || c.OldTitle != "Hello, world" || c.Title != "Hello again, world" || c.IndexPage < 2 {
		t.Errorf("retitled post = %+v", c)
	}
	if c := byPath["posts/2026-06-18-broken.md"]; c.URL != "" || c.Status != "added" {
		t.Errorf("broken post = %+v", c)
	}
	if c := byPath["posts/2026-06-17-another-draft.md"]; !c.Draft || c.URL == "" {
		t.Errorf("draft = %+v", c)
	}
	if c := byPath["posts/2026-05-06-reading-time.md"]; c.Status != "removed" || c.Title == "" || c.URL != "" {
		t.Errorf("removed post = %+v", c)
	}
	found := false
	for _, d := range r.Diagnostics {
		if d.File == "posts/2026-06-18-broken.md" && d.Code == "missing-title" {
			found = true
		}
	}
	if !found {
		t.Errorf("diagnostics lack the missing title: %+v", r.Diagnostics)
	}
	// The published site is untouched.
	if !strings.Contains(e.show("gh-pages", "index.html"), "Acme Engineering") || slices.Contains(e.files("gh-pages"), "posts/a-fresh-post/index.html") {
		t.Error("the preview changed the published site")
	}
	c := e.run(queue.Job{Kind: queue.KindCleanup, Repo: e.repo(), PR: 7, BaseRef: "main"})
	mustOutcome(t, c, OutcomeRemoved)
	for _, f := range e.files("gh-pages") {
		if strings.HasPrefix(f, "pr-preview/") {
			t.Fatalf("%s left after clean-up", f)
		}
	}
}

func TestEndToEndSymlinkToEtcPasswd(t *testing.T) {
	e := newEnv(t)
	src := e.commit(gitserver.Change{Ref: "main", Message: "links",
		Files: map[string]string{
			"publish.yaml":                "title: Links\nbase_url: https://acme.github.io/blog/\n",
			"posts/2026-01-01-ok.md":      "---\ntitle: OK\n---\n\nfine\n",
			"posts/2026-01-02-b/index.md": "---\ntitle: Bundle\n---\n\n![x](passwd.txt)\n",
		},
		Symlinks: map[string]string{
			"posts/2026-01-03-passwd.md":    "/etc/passwd",
			"posts/2026-01-02-b/passwd.txt": "/etc/passwd",
			"static/passwd":                 "/etc/passwd",
			"static/etc":                    "/etc",
			"templates/post.html":           "/etc/passwd",
		},
	})
	r := e.publish(src)
	mustOutcome(t, r, OutcomePublished)
	assertNoPasswd(t, e)
	links := 0
	for _, d := range r.Diagnostics {
		if d.Code == "symlink" {
			links++
		}
	}
	if links < 3 {
		t.Fatalf("symlinks not reported: %+v", r.Diagnostics)
	}
}

// TestEndToEndPreviewLinksFollowAddresses: with a permalink of its own,
// the preview links of the pull request comment go to each post's
// address; a section's _index.md is no changed post, and an image a post
// links to changes that post.
func TestEndToEndPreviewLinksFollowAddresses(t *testing.T) {
	e := newEnv(t)
	base := e.commit(gitserver.Change{Ref: "main", Message: "A blog from Jekyll", Files: map[string]string{
		"publish.yaml":                     "title: News\nbase_url: https://acme.github.io/blog/\npermalink: /news/:year/:month/:day/:title/\ntimezone: America/Los_Angeles\n",
		"posts/2024/2024-05-07-Hello.md":   "---\ntitle: Hello\n---\n\n![a chart](img/chart.png)\n",
		"posts/2024/img/chart.png":         "png",
		"posts/2023/2023-01-01-kubecon.md": "---\ntitle: KubeCon 2023\n---\n\nText.\n",
	}})
	mustOutcome(t, e.publish(base), OutcomePublished)
	if files := e.files("gh-pages"); !slices.Contains(files, "news/2024/05/07/Hello/index.html") || !slices.Contains(files, "news/2024/img/chart.png") {
		t.Fatalf("site files %q", files)
	}
	head := e.commit(gitserver.Change{Ref: "refs/pull/8/head", Parent: base, Message: "New chart, a section", Files: map[string]string{
		"posts/2024/img/chart.png":         "png, better",
		"posts/2024/_index.md":             "---\ntitle: 2024\n---\n\nThe year.\n",
		"posts/2024/2024-06-01-kubecon.md": "---\ntitle: KubeCon 2024\n---\n\nText.\n",
	}})
	r := e.run(queue.Job{Kind: queue.KindPreview, Repo: e.repo(), Ref: "refs/pull/8/head", SHA: head, PR: 8, BaseRef: "main", BaseSHA: base})
	mustOutcome(t, r, OutcomePublished)
	pre := "https://acme.github.io/blog/pr-preview/pr-8/"
	var got []string
	for _, c := range r.Changed {
		got = append(got, c.Path+" "+c.Status+" "+c.URL)
	}
	want := []string{
		"posts/2024/2024-05-07-Hello.md changed " + pre + "news/2024/05/07/Hello/",
		"posts/2024/2024-06-01-kubecon.md added " + pre + "news/2024/06/01/kubecon/",
	}
	if !slices.Equal(got, want) {
		t.Errorf("changed posts\n got %q\nwant %q", got, want)
	}
	if files := e.files("gh-pages"); !slices.Contains(files, "pr-preview/pr-8/news/2024/index.html") {
		t.Errorf("no section page in the preview: %q", files)
	}
}
