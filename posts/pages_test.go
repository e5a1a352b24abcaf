package posts

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

const pageSrc = "---\ntitle: %s\n---\nText of the page.\n"

func page(title string) string { return strings.Replace(pageSrc, "%s", title, 1) }

// pageAddrs lists the pages of s as "source → address".
func pageAddrs(s *Site) string {
	var out []string
	for _, p := range s.Pages {
		out = append(out, p.Path+" → "+p.Address)
	}
	return strings.Join(out, ", ")
}

func postPaths(s *Site) string {
	var out []string
	for _, p := range s.Posts {
		out = append(out, p.Path)
	}
	return strings.Join(out, ", ")
}

// The default rule: Markdown under pages/, and Markdown with front matter
// at the root, never the repository's own documents or files from
// posts_dir, and nothing that starts with "_" or ".".
func TestPagesDefaultRule(t *testing.T) {
	s := load(t, mapFS(map[string]string{
		"pages/about.md":           page("About"),
		"pages/team/index.md":      page("Team"),
		"pages/team/alice.md":      page("Alice"),
		"pages/uses.markdown":      "No front matter, but under pages/ it is a page.\n",
		"pages/_partial.md":        page("Not a page"),
		"pages/.hidden.md":         page("Not a page"),
		"contact.md":               page("Contact"),
		"notes.md":                 "# Notes\n\nA root file without front matter is not a page.\n",
		"README.md":                page("Readme"),
		"LICENSE.md":               page("License"),
		"CHANGELOG.md":             page("Changes"),
		"CONTRIBUTING.md":          page("Contributing"),
		"CODE_OF_CONDUCT.md":       page("Conduct"),
		"SECURITY.md":              page("Security"),
		"readme.markdown":          page("Readme"),
		"_index.md":                page("Home"),
		"posts/2026-01-01-a.md":    "---\ntitle: A\n---\n",
		"posts/about.md":           "---\ntitle: A post, not a page\ndate: 2026-01-02\n---\n",
		"static/notes/x.md":        page("Copied as is"),
		"pages/team/photo.png":     "png",
		"docs/guide.md":            page("Not matched"),
		"withbom.md":               "\ufeff---\ntitle: With BOM\n---\n",
		"toml.md":                  "+++\ntitle = \"TOML\"\n+++\n",
		"spaces.md":                "---  \r\ntitle: Spaces\r\n---\r\n",
		"2026-02-02-dated-root.md": "---\ntitle: Dated\ndate: 2026-02-02\n---\n",
	}), Options{})
	want := "2026-02-02-dated-root.md → /2026-02-02-dated-root/, pages/about.md → /about/, contact.md → /contact/, " +
		"spaces.md → /spaces/, pages/team/index.md → /team/, pages/team/alice.md → /team/alice/, " +
		"toml.md → /toml/, withbom.md → /withbom/"
	if got := pageAddrs(s); got != want {
		t.Errorf("pages:\n got %s\nwant %s", got, want)
	}
	if got := postPaths(s); got != "posts/about.md, posts/2026-01-01-a.md" {
		t.Errorf("posts: %s", got)
	}
	// pages/uses.markdown has no title: an error at line 1, and it is left
	// out; nothing else is reported.
	for _, d := range s.Diagnostics {
		if d.File != "pages/uses.markdown" || d.Code != CodeMissingTitle {
			t.Errorf("unexpected diagnostic %v", d)
		}
	}
}

// With posts_dir at the root, the root's Markdown files are posts; pages/
// still holds pages.
func TestPagesPostsAtRoot(t *testing.T) {
	s := load(t, mapFS(map[string]string{
		ConfigFile:          testConfig + "posts_dir: .\n",
		"2026-01-01-a.md":   "---\ntitle: A\n---\n",
		"pages/about.md":    page("About"),
		"README.md":         "# readme\n",
		"sub/2026-01-02.md": "---\ntitle: B\n---\n",
	}), Options{})
	if got := pageAddrs(s); got != "pages/about.md → /about/" {
		t.Errorf("pages: %s", got)
	}
	if got := postPaths(s); got != "2026-01-01-a.md" {
		t.Errorf("posts: %s", got)
	}
}

// A Hugo site: pages: content/*.md, posts under content/posts.
func TestPagesHugoContent(t *testing.T) {
	s := load(t, mapFS(map[string]string{
		ConfigFile:                testConfig + "posts_dir: content/posts\npages: content/*.md\n",
		"content/about.md":        "---\ntitle: About\nslug: about-us\n---\n",
		"content/contact.md":      "+++\ntitle = \"Contact\"\nurl = \"/contact-me\"\n+++\n",
		"content/_index.md":       "---\ntitle: Home\n---\n",
		"content/posts/hello.md":  "---\ntitle: Hello\ndate: 2026-01-01\n---\n",
		"content/posts/_index.md": "---\ntitle: Posts\n---\n",
		"content/sub/deeper.md":   page("Not matched by *"),
		"about.md":                page("Root files are pages only by default"),
	}), Options{})
	if got := pageAddrs(s); got != "content/about.md → /about-us/, content/contact.md → /contact-me" {
		t.Errorf("pages: %s", got)
	}
	if p := postBySlug(s, "hello"); p == nil {
		t.Errorf("no post hello: %s", postPaths(s))
	}
	for _, p := range s.Pages {
		if p.Path == "content/contact.md" && OutputFile(p.Address) != "contact-me.html" {
			t.Errorf("contact is written to %s", OutputFile(p.Address))
		}
	}
}

// A file that pages names is never also a post, even in posts_dir.
func TestPagesTakeFilesFromPosts(t *testing.T) {
	s := load(t, mapFS(map[string]string{
		ConfigFile:              testConfig + "pages:\n  - posts/about.md\n  - extra/**/*.md\n",
		"posts/about.md":        page("About"),
		"posts/2026-01-01-a.md": "---\ntitle: A\n---\n",
		"extra/x/y.md":          page("Y"),
		"pages/ignored.md":      page("Not named by pages"),
	}), Options{})
	if got := pageAddrs(s); got != "posts/about.md → /about/, extra/x/y.md → /x/y/" {
		t.Errorf("pages: %s", got)
	}
	if got := postPaths(s); got != "posts/2026-01-01-a.md" {
		t.Errorf("posts: %s", got)
	}
	none := load(t, mapFS(map[string]string{
		ConfigFile:       testConfig + "pages: []\n",
		"pages/about.md": page("About"),
		"about.md":       page("About"),
	}), Options{})
	if len(none.Pages) != 0 || len(none.Diagnostics) != 0 {
		t.Errorf("pages: [] gives %s, %v", pageAddrs(none), none.Diagnostics)
	}
}

func TestPageFields(t *testing.T) {
	s := load(t, mapFS(map[string]string{
		"pages/about.md": "---\ntitle: About us\nsummary: Who we are.\nlastmod: 2026-03-04\npermalink: /über-uns/\n" +
			"menu: true\nweight: 3\nimage: /img/team.png\nimage_alt: The team\nlayout: page\n---\n" +
			"See [the post](../posts/hello.md) and [home](/).\n",
		"pages/café.md":       "---\ntitle: Café\ndraft: true\ndate: 2025-01-02\n---\nA draft page.\n",
		"pages/old.md":        "---\ntitle: Old\npublished: false\n---\n",
		"posts/hello.md":      "---\ntitle: Hello\ndate: 2026-01-01\n---\nRead [about us](../pages/about.md#team).\n",
		"static/img/team.png": "png",
	}), Options{})
	if len(s.Diagnostics) != 0 {
		t.Fatalf("diagnostics:\n%s", formatDiags(s.Diagnostics))
	}
	if got := pageAddrs(s); got != "pages/about.md → /%C3%BCber-uns/, pages/café.md → /caf%C3%A9/, pages/old.md → /old/" {
		t.Fatalf("pages: %s", got)
	}
	about := s.Pages[0]
	if about.Title != "About us" || about.Summary != "Who we are." || !about.Menu || about.Weight != 3 ||
		about.Image != "/blog/img/team.png" || about.ImageAlt != "The team" || about.Draft ||
		!about.Updated.Equal(time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("about = %+v", about)
	}
	if !strings.Contains(about.HTML, `href="/blog/posts/hello/"`) || !strings.Contains(about.HTML, `href="/blog/"`) {
		t.Errorf("about's links: %s", about.HTML)
	}
	if p := postBySlug(s, "hello"); p == nil || !strings.Contains(p.HTML(), `href="/blog/%C3%BCber-uns/#team"`) {
		t.Errorf("a link to a page's file is not its address: %+v", p)
	}
	cafe := s.Pages[1]
	if !cafe.Draft || cafe.Summary != "A draft page." || !cafe.Updated.Equal(time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)) || OutputFile(cafe.Address) != "café/index.html" {
		t.Errorf("café = %+v", cafe)
	}
	if !s.Pages[2].Draft {
		t.Errorf("published: false is not a draft")
	}
}

// Pages are validated like posts: each problem at its line, and a page
// with an error is left out while the rest is published.
func TestPageErrors(t *testing.T) {
	s := load(t, mapFS(map[string]string{
		"pages/untitled.md":       "---\nsummary: no title\n---\n",
		"pages/empty.md":          "---\ntitle: \"\"\n---\n",
		"pages/nofm.md":           "title: About\n\nText.\n",
		"pages/a.md":              page("A"),
		"pages/b.md":              "---\ntitle: B\npermalink: /a/\n---\n",
		"pages/c.md":              "---\ntitle: C\nurl: /posts/hello/\n---\n",
		"pages/archive.md":        page("Archive"),
		"pages/index.md":          page("Home"),
		"pages/tags/go.md":        page("Go"),
		"pages/feed.md":           "---\ntitle: Feed\npermalink: /feed.xml\n---\n",
		"pages/tok.md":            "---\ntitle: Tok\npermalink: /:title/\n---\n",
		"pages/out.md":            "---\ntitle: Out\npermalink: /../../etc/\n---\n",
		"pages/git.md":            "---\ntitle: Git\npermalink: /.git/config\n---\n",
		"pages/prev.md":           "---\ntitle: Prev\npermalink: /pr-preview/pr-1/\n---\n",
		"pages/ext.md":            "---\ntitle: Ext\nurl: https://example.com/\n---\n",
		"pages/both.md":           "---\ntitle: Both\npermalink: /both/\nurl: /both2/\n---\n",
		"pages/fields.md":         "---\ntitle: Fields\ntags: [a]\nauthor: Ada\nmenu: [main]\ntitl: x\nweight: heavy\n---\n",
		"pages/cover.md":          "---\ntitle: Cover\n---\n",
		"static/cover/index.html": "<p>static</p>",
		"posts/hello.md":          "---\ntitle: Hello\ndate: 2026-01-01\n---\n",
		"posts/moved.md":          "---\ntitle: Moved\ndate: 2026-01-01\naliases: [/a/]\n---\n",
	}), Options{})
	got := map[string]bool{}
	for _, d := range s.Diagnostics {
		got[d.File+" "+d.Code] = true
	}
	for _, want := range []string{
		"pages/untitled.md missing-title", "pages/empty.md missing-title", "pages/nofm.md missing-title",
		"pages/b.md duplicate-url", "pages/c.md duplicate-url", "static/cover/index.html output-conflict",
		"pages/archive.md reserved-url", "pages/index.md reserved-url", "pages/tags/go.md reserved-url", "pages/feed.md reserved-url",
		"pages/tok.md invalid-field", "pages/out.md invalid-field", "pages/git.md invalid-field", "pages/prev.md invalid-field",
		"pages/ext.md invalid-field", "pages/both.md invalid-field",
		"pages/fields.md unknown-field", "pages/fields.md invalid-field", "posts/moved.md invalid-alias",
	} {
		if !got[want] {
			t.Errorf("no %s in\n%s", want, formatDiags(s.Diagnostics))
		}
	}
	if got := pageAddrs(s); got != "pages/a.md → /a/, pages/cover.md → /cover/" {
		t.Errorf("pages published: %s", got)
	}
	for _, d := range s.Diagnostics {
		switch {
		case d.File == "pages/b.md" && d.Code == CodeDuplicateURL:
			if d.Line != 3 || d.Column != 12 || !strings.Contains(d.Message, "pages/a.md") || !strings.Contains(d.Message, "/a/") {
				t.Errorf("duplicate: %v", d)
			}
		case d.File == "pages/c.md" && d.Code == CodeDuplicateURL:
			if !strings.Contains(d.Message, "the post posts/hello.md") {
				t.Errorf("page on a post: %v", d)
			}
		case d.File == "static/cover/index.html":
			// A page, like a post, keeps its address: the file is left out.
			if d.Code != CodeOutputConflict || !strings.Contains(d.Message, "the page pages/cover.md") {
				t.Errorf("page on a static file: %v", d)
			}
		case d.File == "pages/untitled.md" && d.Code == CodeMissingTitle:
			if d.Line != 1 || !strings.Contains(d.Message, "title: About") {
				t.Errorf("missing title: %v", d)
			}
		case d.File == "pages/nofm.md":
			if !strings.Contains(d.Message, "\"---\" line") {
				t.Errorf("no hint for the missing front matter: %v", d)
			}
		case d.File == "pages/archive.md":
			if !strings.Contains(d.Message, "/archive/, which is the archive") {
				t.Errorf("reserved: %v", d)
			}
		case d.File == "pages/fields.md" && d.Code == CodeUnknownField && d.Line == 5:
			if !strings.Contains(d.Message, `did you mean "title"`) {
				t.Errorf("typo: %v", d)
			}
		}
	}
	if p := postBySlug(s, "hello"); p == nil {
		t.Errorf("the post lost its address to a page")
	}
}

func TestPagesConfig(t *testing.T) {
	cfg, ds := loadConfigText(t, "title: T\npages:\n  - pages/**/*.md\n  - ./content/*.md\n  - \"*.md\"\n")
	if strings.Join(cfg.Pages, " ") != "pages/**/*.md content/*.md *.md" || len(ds) != 0 || !cfg.Has("pages") {
		t.Errorf("pages %q, %v", cfg.Pages, ds)
	}
	cfg, _ = loadConfigText(t, "title: T\npages: docs/*.md\n")
	if strings.Join(cfg.Pages, " ") != "docs/*.md" {
		t.Errorf("one glob: %q", cfg.Pages)
	}
	cfg, _ = loadConfigText(t, "title: T\n")
	if cfg.Pages != nil {
		t.Errorf("default pages %q", cfg.Pages)
	}
	for _, tc := range []struct{ yaml, says string }{
		{"pages: /abs/*.md", "relative to the repository's root"},
		{"pages: \"pages/[a.md\"", "is not a glob"},
		{"pages: pages/x.txt", "names no Markdown file"},
		{"pages: ../up/*.md", `".." segment`},
		{"pages: {a: b}", "not a mapping"},
		{"pages: [[a]]", "not contain a list"},
		{"pages: \"" + strings.Repeat("**/", 5) + "*.md\"", "more than 4 **"},
		{"pages: " + strings.Repeat("a", 300) + ".md", "longer than 256"},
	} {
		cfg, ds := loadConfigText(t, "title: T\n"+tc.yaml+"\n")
		if len(ds) != 1 || ds[0].Code != CodeConfigInvalid || ds[0].Line != 2 || !strings.HasPrefix(ds[0].Message, "pages: ") ||
			!strings.Contains(ds[0].Message, tc.says) || cfg.Has("pages") {
			t.Errorf("%s: %v", tc.yaml, ds)
		}
	}
}

// A page too large to read is reported, not dropped in silence.
func TestLargePage(t *testing.T) {
	m := mapFS(map[string]string{"pages/about.md": page("About")})
	m["pages/huge.md"] = &fstest.MapFile{Data: make([]byte, MaxFileSize+1)}
	s := load(t, m, Options{})
	if got := diagKeys(s.Diagnostics); strings.Join(got, " ") != "pages/huge.md:0:0 file-too-large" || len(s.Pages) != 1 {
		t.Errorf("diagnostics %v, pages %s", got, pageAddrs(s))
	}
}

// TestPagesWithAddresses: pages take part in the addresses of posts (the
// permalink pattern, sections, aliases): a page's address is claimed like
// a post's, links to a page's file go to its address, links to its address
// are checked against every output, and the menu resolves a page's file.
func TestPagesWithAddresses(t *testing.T) {
	s := load(t, mapFS(map[string]string{
		"publish.yaml": "title: T\nbase_url: https://acme.github.io/blog/\npermalink: /:year/:slug/\n" +
			"menu:\n  - url: pages/about.md\n  - title: Hello\n    url: /blog/2026/hello/\n",
		"pages/about.md":              "---\ntitle: About\npermalink: /about-us/\n---\nBack to [hello](../posts/2026-01-02-hello.md).\n",
		"pages/clash.md":              "---\ntitle: Clash\nurl: /2026/hello/\n---\n",
		"pages/blog.md":               "---\ntitle: Blog\n---\nThe section's address.\n",
		"posts/blog/_index.md":        "---\ntitle: Blog section\n---\n",
		"posts/blog/2026-01-03-in.md": "---\ntitle: In\n---\n",
		"posts/2026-01-02-hello.md":   "---\ntitle: Hello\n---\nSee [about](../pages/about.md), [us](/blog/about-us/) and [gone](/blog/about/).\n",
		"posts/2026-01-04-moved.md":   "---\ntitle: Moved\naliases: [/about-us/]\n---\n",
	}), Options{})
	got := map[string]string{}
	for _, d := range s.Diagnostics {
		got[d.File+" "+d.Code] += d.Message + "\n"
	}
	for key, says := range map[string]string{
		"pages/clash.md duplicate-url":            "the post posts/2026-01-02-hello.md",
		"posts/2026-01-04-moved.md invalid-alias": "the page pages/about.md",
		"posts/2026-01-02-hello.md broken-link":   "/blog/about/",
	} {
		if !strings.Contains(got[key], says) {
			t.Errorf("%s: want a message with %q, got %q\n%s", key, says, got[key], formatDiags(s.Diagnostics))
		}
	}
	if strings.Count(got["posts/2026-01-02-hello.md broken-link"], "\n") != 1 {
		t.Errorf("only /blog/about/ is broken: %q", got["posts/2026-01-02-hello.md broken-link"])
	}
	if addrs := pageAddrs(s); !strings.Contains(addrs, "pages/about.md → /about-us/") || strings.Contains(addrs, "clash") {
		t.Errorf("pages: %s", addrs)
	}
	hello := postBySlug(s, "hello")
	if hello == nil || hello.Address != "2026/hello/" || !strings.Contains(hello.HTML(), `href="/blog/about-us/"`) {
		t.Fatalf("hello: %+v", hello)
	}
	var about *Page
	for _, pg := range s.Pages {
		if pg.Path == "pages/about.md" {
			about = pg
		}
	}
	if about == nil || !strings.Contains(about.HTML, `href="/blog/2026/hello/"`) {
		t.Errorf("about links to the post's address: %+v", about)
	}
	if len(s.Menu) != 2 || s.Menu[0].URL != "/about-us/" || s.Menu[0].Page != about || s.Menu[1].URL != "/2026/hello/" || s.Menu[1].Post != hello {
		t.Errorf("menu: %+v", s.Menu)
	}
	if !s.Serves("about-us/") || !s.Serves("blog/") {
		t.Errorf("the page's address is not among the outputs")
	}
}
