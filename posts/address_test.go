package posts

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// siteConfig is a publish.yaml with more lines.
func siteConfig(lines ...string) string {
	return testConfig + strings.Join(lines, "\n") + "\n"
}

func postByPath(s *Site, p string) *Post {
	for _, q := range s.Posts {
		if q.Path == p {
			return q
		}
	}
	return nil
}

func assetTargets(s *Site) []string {
	var out []string
	for _, a := range s.Assets {
		out = append(out, a.Source+"->"+a.Target)
	}
	return out
}

// TestAddressTokens: every token of a site's permalink, through Load: the
// date in the site's time zone, the slug, Jekyll's title and categories,
// the sections and the file name.
func TestAddressTokens(t *testing.T) {
	// 23:30 UTC on May 7 is 01:30 on May 8 in Berlin.
	post := "---\ntitle: Hello\ndate: 2024-05-07T23:30:00Z\ncategories: [Release]\ntags: [go]\n---\nText.\n"
	tests := []struct{ pattern, want string }{
		{"/posts/:slug/", "posts/hello-world/"},
		{"/:year/:month/:day/:slug/", "2024/05/08/hello-world/"},
		{"/:i_month/:i_day/:short_year/:slug/", "5/8/24/hello-world/"},
		{"/:title/", "Hello-World/"},
		{"/:categories/:title:output_ext", "release/Hello-World.html"},
		{"/:section/:slug/", "notes/hello-world/"},
		{"/:sections/:slug/", "notes/hello-world/"},
		{"/:filename/", "2024-05-07-Hello-World/"},
		{"/:path/", "notes/hello-world/"},
		{"/:year/:slug", "2024/hello-world"},
		{"/blog/:y_day/:slug/", "blog/129/hello-world/"},
		{"date", "release/2024/05/08/Hello-World.html"},
		{"pretty", "release/2024/05/08/Hello-World/"},
		{"ordinal", "release/2024/129/Hello-World.html"},
		{"none", "release/Hello-World.html"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			s := load(t, mapFS(map[string]string{
				ConfigFile:                              siteConfig("timezone: Europe/Berlin", "permalink: "+tt.pattern),
				"posts/notes/2024-05-07-Hello-World.md": post,
			}), Options{})
			if len(s.Diagnostics) != 0 || len(s.Posts) != 1 {
				t.Fatalf("diagnostics %v", s.Diagnostics)
			}
			p := s.Posts[0]
			if p.Address != tt.want || p.Section != "notes" {
				t.Errorf("address %q section %q, want %q", p.Address, p.Section, tt.want)
			}
			if !s.Serves(p.Address) || !s.Serves(OutputPath(p.Address)) {
				t.Errorf("the site does not serve its post at %q", p.Address)
			}
		})
	}
}

// TestAddressOverrides: a post's own permalink (Jekyll: a pattern or an
// address), url (Hugo) and path (Zola, whose date run dates the post).
func TestAddressOverrides(t *testing.T) {
	tests := []struct {
		name, src, want string
		day             string
	}{
		{"jekyll permalink pattern", "---\ntitle: A\ndate: 2024-05-07\npermalink: /custom/:year/:title/\n---\n", "custom/2024/My-Post/", "2024-05-07"},
		{"jekyll permalink address", "---\ntitle: A\ndate: 2024-05-07\npermalink: /about/me.html\n---\n", "about/me.html", "2024-05-07"},
		{"jekyll permalink without its slash", "---\ntitle: A\ndate: 2024-05-07\npermalink: old/place/\n---\n", "old/place/", "2024-05-07"},
		{"hugo url", "+++\ntitle = \"A\"\ndate = 2024-05-07\nurl = \"/hugo/style\"\n+++\n", "hugo/style", "2024-05-07"},
		{"hugo url escaped", "---\ntitle: A\ndate: 2024-05-07\nurl: /caf%C3%A9/\n---\n", "café/", "2024-05-07"},
		{"zola path gives the date", "+++\ntitle = \"A\"\npath = \"2024/05/07/slug\"\n+++\n", "2024/05/07/slug/", "2024-05-07"},
		{"zola path date anywhere", "+++\ntitle = \"A\"\npath = \"inside-rust/2020/07/27/x\"\n+++\n", "inside-rust/2020/07/27/x/", "2020-07-27"},
		{"zola path with slashes", "+++\ntitle = \"A\"\ndate = 2021-01-01\npath = \"/a/b/\"\n+++\n", "a/b/", "2021-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := load(t, mapFS(map[string]string{"posts/My-Post.md": tt.src}), Options{})
			if len(s.Diagnostics) != 0 || len(s.Posts) != 1 {
				t.Fatalf("diagnostics %v", s.Diagnostics)
			}
			p := s.Posts[0]
			if p.Address != tt.want || p.Date.Format("2006-01-02") != tt.day {
				t.Errorf("address %q date %s, want %q %s", p.Address, p.Date.Format("2006-01-02"), tt.want, tt.day)
			}
		})
	}

	bad := []struct{ name, src, want string }{
		{"outside the site", "---\ntitle: A\ndate: 2024-05-07\nurl: /a/../../b/\n---\n", "posts/a.md:4:6 invalid-address"},
		{"under .git", "---\ntitle: A\ndate: 2024-05-07\npermalink: /.git/hooks/\n---\n", "posts/a.md:4:12 invalid-address"},
		{"over pr-preview", "+++\ntitle = \"A\"\ndate = 2024-01-01\npath = \"pr-preview/pr-1\"\n+++\n", "posts/a.md:4:8 invalid-address"},
		{"another host", "---\ntitle: A\ndate: 2024-05-07\nurl: https://example.com/x/\n---\n", "posts/a.md:4:6 invalid-address"},
		{"unknown token", "---\ntitle: A\ndate: 2024-05-07\npermalink: /:nope/\n---\n", "posts/a.md:4:12 invalid-address"},
		{"the index page", "---\ntitle: A\ndate: 2024-05-07\nurl: /\n---\n", "posts/a.md:4:6 invalid-address"},
		{"the archive page", "---\ntitle: A\ndate: 2024-05-07\nurl: /archive/\n---\n", "posts/a.md:4:6 invalid-address"},
		{"two addresses", "---\ntitle: A\ndate: 2024-05-07\nurl: /a/\npermalink: /b/\n---\n", "posts/a.md:5:12 duplicate-field"},
		{"an Eleventy template", "---\ntitle: A\ndate: 2024-05-07\npermalink: \"/blog/{{ title | slugify }}/\"\n---\n", "posts/a.md:4:12 invalid-address"},
		{"Eleventy's no page", "---\ntitle: A\ndate: 2024-05-07\npermalink: false\n---\n", "posts/a.md:4:12 invalid-address"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			s := load(t, mapFS(map[string]string{"posts/a.md": tt.src, "posts/b.md": "---\ntitle: B\ndate: 2024-05-07\n---\n"}), Options{})
			if got := strings.Join(diagKeys(s.Diagnostics), " "); got != tt.want {
				t.Errorf("diagnostics %s, want %s: %v", got, tt.want, s.Diagnostics)
			}
			if postByPath(s, "posts/b.md") == nil {
				t.Errorf("the other post is left out too")
			}
		})
	}
}

// TestAddressCollisions: two posts at one address are an error of the
// second naming both; equal slugs in nested folders are two posts.
func TestAddressCollisions(t *testing.T) {
	s := load(t, mapFS(map[string]string{
		ConfigFile:                 siteConfig("permalink: /:year/:slug/"),
		"posts/2022/kubecon-na.md": "---\ntitle: KubeCon 2022\ndate: 2022-10-24\n---\n",
		"posts/2023/kubecon-na.md": "---\ntitle: KubeCon 2023\ndate: 2023-11-06\n---\n",
		"posts/x/andrew-award.md":  "---\ntitle: Award\ndate: 2022-01-01\n---\n",
		"posts/y/andrew-award.md":  "---\ntitle: Award again\ndate: 2023-05-01\n---\n",
	}), Options{})
	if len(s.Diagnostics) != 0 || len(s.Posts) != 4 {
		t.Fatalf("diagnostics %v, %d posts", s.Diagnostics, len(s.Posts))
	}
	s = load(t, mapFS(map[string]string{
		ConfigFile:                 siteConfig("permalink: /:slug/"),
		"posts/2022/kubecon-na.md": "---\ntitle: KubeCon 2022\ndate: 2022-10-24\n---\n",
		"posts/2023/kubecon-na.md": "---\ntitle: KubeCon 2023\ndate: 2023-11-06\n---\n",
	}), Options{})
	if got := diagKeys(s.Diagnostics); !slices.Equal(got, []string{"posts/2023/kubecon-na.md:1:1 duplicate-url"}) {
		t.Fatalf("diagnostics %v", s.Diagnostics)
	}
	if msg := s.Diagnostics[0].Message; !strings.Contains(msg, "posts/2022/kubecon-na.md") || !strings.Contains(msg, "posts/2023/kubecon-na.md") || !strings.Contains(msg, "/kubecon-na/") {
		t.Errorf("message %q does not name both files and the address", msg)
	}
	if len(s.Posts) != 1 || s.Posts[0].Path != "posts/2022/kubecon-na.md" {
		t.Errorf("posts %v", s.Posts)
	}
}

// TestSections: _index.md describes its folder: a listing page at the
// address its posts' :section gives, else under the posts' common folder;
// at the top of posts_dir it introduces the index.
func TestSections(t *testing.T) {
	files := map[string]string{
		"posts/_index.md":                   "+++\ntitle = \"Blog\"\nsort_by = \"date\"\n+++\nWelcome to **the blog**.\n",
		"posts/inside/_index.md":            "+++\ntitle = \"Inside\"\ndescription = \"The team's notes.\"\n+++\nHow we [work](../2024-01-01-top.md).\n",
		"posts/inside/2024-02-02-a.md":      "---\ntitle: A\n---\n",
		"posts/inside/deep/2024-03-03-b.md": "---\ntitle: B\n---\n",
		"posts/empty/_index.md":             "---\n---\n",
		"posts/2024-01-01-top.md":           "---\ntitle: Top\n---\n[inside](inside/) [ref](inside/_index.md)\n",
	}
	s := load(t, mapFS(files), Options{})
	if got := diagKeys(s.Diagnostics); !slices.Equal(got, []string{"posts/_index.md:3:1 unknown-field"}) {
		t.Fatalf("diagnostics %v", s.Diagnostics)
	}
	if len(s.Posts) != 3 || len(s.Sections) != 2 {
		t.Fatalf("%d posts, sections %+v", len(s.Posts), s.Sections)
	}
	if !strings.Contains(s.Intro, "<strong>the blog</strong>") {
		t.Errorf("intro %q", s.Intro)
	}
	empty, inside := s.Sections[0], s.Sections[1]
	if inside.Dir != "inside" || inside.Title != "Inside" || inside.Summary != "The team's notes." || inside.Address != "posts/inside/" ||
		!strings.Contains(inside.HTML, `href="/blog/posts/top/"`) {
		t.Errorf("section %+v", inside)
	}
	if empty.Title != "empty" || empty.Address != "posts/empty/" {
		t.Errorf("section without a title %+v", empty)
	}
	if top := postBySlug(s, "top"); !strings.Contains(top.HTML(), `href="/blog/posts/inside/"`) || strings.Count(top.HTML(), `href="/blog/posts/inside/"`) != 2 {
		t.Errorf("links to a section:\n%s", top.HTML())
	}
	if b := postBySlug(s, "b"); b.Section != "inside/deep" || b.Address != "posts/b/" {
		t.Errorf("nested post %+v", b)
	}

	// The pattern's :section gives the section its address.
	files[ConfigFile] = siteConfig("permalink: /:section/:slug/")
	s = load(t, mapFS(files), Options{})
	if s.Sections[1].Address != "inside/" || postBySlug(s, "a").Address != "inside/a/" || postBySlug(s, "top").Address != "top/" {
		t.Errorf("section %+v", s.Sections[1])
	}
	files[ConfigFile] = siteConfig("permalink: /:sections/:slug/")
	s = load(t, mapFS(files), Options{})
	if postBySlug(s, "b").Address != "inside/deep/b/" || s.Sections[1].Address != "inside/" {
		t.Errorf("nested sections %q %q", postBySlug(s, "b").Address, s.Sections[1].Address)
	}

	// A section on a post's address is an error at the _index.md.
	s = load(t, mapFS(map[string]string{
		"posts/2024-01-01-news.md":   "---\ntitle: News\n---\n",
		"posts/news/_index.md":       "---\ntitle: News\nurl: /posts/news/\n---\n",
		"posts/news/2024-01-02-x.md": "---\ntitle: X\n---\n",
	}), Options{})
	if got := diagKeys(s.Diagnostics); !slices.Equal(got, []string{"posts/news/_index.md:3:6 duplicate-url"}) {
		t.Errorf("diagnostics %v", s.Diagnostics)
	}
	if len(s.Posts) != 2 || len(s.Sections) != 0 {
		t.Errorf("%d posts, %d sections", len(s.Posts), len(s.Sections))
	}
}

func TestAliasFiles(t *testing.T) {
	for alias, want := range map[string][]string{
		"/old/":            {"old/index.html"},
		"/old.html":        {"old.html"},
		"/old.htm":         {"old.htm"},
		"/releases/1.88.0": {"releases/1.88.0/index.html", "releases/1.88.0.html"},
		"/blog/go1.16":     {"blog/go1.16/index.html", "blog/go1.16.html"},
		"/2019/01/old":     {"2019/01/old/index.html", "2019/01/old.html"},
		"/":                nil,
	} {
		if got := AliasFiles(alias); !slices.Equal(got, want) {
			t.Errorf("AliasFiles(%q) = %q, want %q", alias, got, want)
		}
	}
}

// TestRedirects: aliases relative to the site's root (Jekyll, Zola) or to
// the post's section (generator: hugo), and files that only redirect.
func TestRedirects(t *testing.T) {
	files := map[string]string{
		"posts/blog/2024-01-01-a.md": "---\ntitle: A\naliases: [old-a, /abs/a/, releases/1.88.0]\n---\n",
		"posts/old.md":               "---\nredirect_to: https://example.com/new/\n---\n",
		"posts/go1.16.md":            "---\ntitle: Go 1.16\ndate: 2021-02-16\nredirect: /posts/a/\n---\n",
		"posts/here.md":              "---\nredirect_to: /nowhere/\npermalink: /here/\nredirect_from: /there/\n---\n",
	}
	s := load(t, mapFS(files), Options{})
	if got := diagKeys(s.Diagnostics); !slices.Equal(got, []string{"posts/here.md:2:14 broken-link"}) {
		t.Fatalf("diagnostics %v", s.Diagnostics)
	}
	a := postBySlug(s, "a")
	if !slices.Equal(a.Aliases, []string{"/old-a", "/abs/a/", "/releases/1.88.0"}) {
		t.Errorf("aliases %q", a.Aliases)
	}
	for _, p := range []string{"old-a", "old-a/", "abs/a/", "releases/1.88.0", "releases/1.88.0/", "releases/1.88.0.html"} {
		if !s.Serves(p) {
			t.Errorf("alias %s is not served", p)
		}
	}
	if len(s.Posts) != 1 || len(s.Redirects) != 3 {
		t.Fatalf("%d posts, redirects %+v", len(s.Posts), s.Redirects)
	}
	want := []Redirect{
		{Path: "posts/go1.16.md", Title: "Go 1.16", Address: "posts/go1-16/", Target: "/blog/posts/a/"},
		{Path: "posts/here.md", Address: "here/", Target: "/blog/nowhere/", Aliases: []string{"/there/"}},
		{Path: "posts/old.md", Address: "posts/old/", Target: "https://example.com/new/"},
	}
	for i, r := range s.Redirects {
		if r.Path != want[i].Path || r.Title != want[i].Title || r.Address != want[i].Address || r.Target != want[i].Target || !slices.Equal(r.Aliases, want[i].Aliases) {
			t.Errorf("redirect %+v, want %+v", *r, want[i])
		}
	}

	files[ConfigFile] = siteConfig("generator: hugo", "permalink: /:sections/:slug/")
	s = load(t, mapFS(files), Options{})
	if a := postBySlug(s, "a"); !slices.Equal(a.Aliases, []string{"/blog/old-a", "/abs/a/", "/blog/releases/1.88.0"}) {
		t.Errorf("hugo aliases %q", a.Aliases)
	}

	bad := load(t, mapFS(map[string]string{
		"posts/x.md": "---\nredirect_to: javascript:alert(1)\n---\n",
		"posts/y.md": "---\nredirect_to: /a/\n---\n",
	}), Options{Config: &Config{Title: "T", Permalink: "/:year/:slug/"}})
	if got := diagKeys(bad.Diagnostics); !slices.Equal(got, []string{"posts/x.md:2:14 invalid-redirect", "posts/y.md:2:14 broken-link", "posts/y.md:2:14 missing-date"}) {
		t.Errorf("diagnostics %v", bad.Diagnostics)
	}
}

// TestOutputConflicts (issue 10): an alias or a file whose output lies
// at, under or over a generated file, or that CheckAddress refuses, is an
// error of that post or file only; the rest is published.
func TestOutputConflicts(t *testing.T) {
	s := load(t, mapFS(map[string]string{
		"posts/a.md":                      "---\ntitle: A\ndate: 2026-01-01\naliases: [/archive/index.html/x/]\n---\n",
		"posts/b.md":                      "---\ntitle: B\ndate: 2026-01-01\naliases: [/assets/style.css/]\n---\n",
		"posts/c.md":                      "---\ntitle: C\ndate: 2026-01-01\naliases: [/.git/hooks/]\n---\n",
		"posts/d.md":                      "---\ntitle: D\ndate: 2026-01-01\naliases: [/posts/ok/, /feed.xml/x]\n---\n",
		"posts/e/index.md":                "---\ntitle: E\ndate: 2026-01-01\n---\n",
		"posts/e/.git/config":             "x",
		"posts/f.md":                      "---\ntitle: F\ndate: 2026-01-01\naliases: [/posts/a.html]\n---\n",
		"posts/g.md":                      "---\ntitle: G\ndate: 2026-01-01\n---\n",
		"static/archive/index.html/x.txt": "x",
		"static/index.html":               "x",
		"static/CNAME":                    "blog.example.com",
		"static/posts/g":                  "a file where the post needs a folder",
		"static/fine.txt":                 "x",
	}), Options{})
	want := []string{
		"posts/a.md:4:10 invalid-alias", "posts/b.md:4:10 invalid-alias", "posts/c.md:4:10 invalid-alias", "posts/d.md:4:10 invalid-alias",
		"posts/e/.git/config:0:0 output-conflict",
		"static/CNAME:0:0 output-conflict", "static/archive/index.html/x.txt:0:0 output-conflict", "static/index.html:0:0 output-conflict",
		"static/posts/g:0:0 output-conflict",
	}
	if got := diagKeys(s.Diagnostics); !slices.Equal(got, want) {
		t.Errorf("diagnostics\n got %q\nwant %q", got, want)
		for _, d := range s.Diagnostics {
			t.Log(d)
		}
	}
	var kept []string
	for _, p := range s.Posts {
		kept = append(kept, p.Slug)
	}
	slices.Sort(kept)
	if !slices.Equal(kept, []string{"e", "f", "g"}) {
		t.Errorf("posts %q", kept)
	}
	if got := assetTargets(s); !slices.Equal(got, []string{"static/fine.txt->fine.txt"}) {
		t.Errorf("assets %q", got)
	}
}

// TestLinksToAddresses: a link to another post's file (or Zola's @/ form)
// goes to that post's address; a file beside a post that is no bundle is
// published when a post links to it; what names no file is resolved
// against the page's address and checked against every file of the site.
func TestLinksToAddresses(t *testing.T) {
	files := map[string]string{
		ConfigFile: siteConfig("permalink: /news/:year/:month/:day/:title/"),
		"posts/2024-05-07-First.md": "---\ntitle: First\naliases: [/2019/old-first.html]\n---\n" +
			"[2nd](2024-05-08-second.md#x) [zola](@/2024-05-08-second.md) [sib](../../08/second/) [up](../../../../../)\n" +
			"![pic](img/pic.png) [pdf](../files/paper.pdf) [old](/2019/old-first.html) [old2](https://acme.github.io/blog/2019/old-first)\n" +
			"[abs](https://acme.github.io/blog/news/2024/05/08/second/) [gone](https://acme.github.io/blog/nope/) [other](https://acme.github.io/elsewhere/)\n" +
			"[bad](../nope/) ![none](/img/none.png)\n",
		"posts/2024-05-08-second.md": "---\ntitle: Second\n---\n![pic](img/pic.png)\n",
		"posts/img/pic.png":          "png",
		"files/paper.pdf":            "pdf",
	}
	s := load(t, mapFS(files), Options{})
	want := []string{"posts/2024-05-07-First.md:7:67 broken-link", "posts/2024-05-07-First.md:8:7 broken-link", "posts/2024-05-07-First.md:8:25 missing-image"}
	if got := diagKeys(s.Diagnostics); !slices.Equal(got, want) {
		t.Errorf("diagnostics %q, want %q", got, want)
		for _, d := range s.Diagnostics {
			t.Log(d)
		}
	}
	first := postBySlug(s, "first")
	if first.Address != "news/2024/05/07/First/" {
		t.Fatalf("address %q", first.Address)
	}
	for _, w := range []string{`href="/blog/news/2024/05/08/second/#x"`, `href="/blog/news/2024/05/08/second/"`, `href="../../08/second/"`,
		`src="/blog/news/img/pic.png"`, `href="/blog/files/paper.pdf"`, `href="/blog/2019/old-first.html"`} {
		if !strings.Contains(first.HTML(), w) {
			t.Errorf("post lacks %s:\n%s", w, first.HTML())
		}
	}
	// The image two posts link to is one file, published for both, in the
	// folder the posts' addresses share; the PDF outside posts_dir keeps its
	// path.
	if len(s.Assets) != 2 || !slices.Equal(s.Assets[1].Posts, []string{"posts/2024-05-07-First.md", "posts/2024-05-08-second.md"}) {
		t.Errorf("assets %+v", s.Assets)
	}
	if got := assetTargets(s); !slices.Equal(got, []string{"files/paper.pdf->files/paper.pdf", "posts/img/pic.png->news/img/pic.png"}) {
		t.Errorf("assets %q", got)
	}
}

// TestDateFallback: a date that does not parse is a warning when the file
// name has one.
func TestDateFallback(t *testing.T) {
	s := load(t, mapFS(map[string]string{"posts/2023-01-29-jekyll-3-9-3-released.md": "---\ntitle: A\ndate: 2023-01-29 18:30:22 2023 -0800\n---\n"}),
		Options{Config: &Config{Title: "T", Timezone: "America/Los_Angeles", Permalink: "/news/:year/:month/:day/:title/"}})
	if len(s.Posts) != 1 || s.Posts[0].Address != "news/2023/01/29/jekyll-3-9-3-released/" {
		t.Fatalf("posts %v diagnostics %v", s.Posts, s.Diagnostics)
	}
	if d := s.Diagnostics; len(d) != 1 || d[0].Code != CodeDateFallback || d[0].Severity != SeverityWarning || !strings.Contains(d[0].Message, "2023-01-29") {
		t.Errorf("diagnostics %v", d)
	}
	if s.Posts[0].Date.Location().String() != "America/Los_Angeles" || !s.Posts[0].Date.Equal(time.Date(2023, 1, 29, 0, 0, 0, 0, s.Posts[0].Date.Location())) {
		t.Errorf("date %v", s.Posts[0].Date)
	}
}

func TestFeedIDs(t *testing.T) {
	files := map[string]string{"posts/2024-05-07-Hello.md": "---\ntitle: A\n---\n", "posts/2024-05-08-x.md": "---\ntitle: B\npermalink: /about.html\n---\n"}
	for gen, want := range map[string][]string{
		"":       {"posts/x/", "posts/hello/"},
		"jekyll": {"x", "posts/Hello"},
	} {
		files[ConfigFile] = siteConfig("generator: " + gen)
		s := load(t, mapFS(files), Options{})
		if got := []string{s.Posts[0].FeedID, s.Posts[1].FeedID}; gen == "jekyll" && !slices.Equal(got, want) || gen == "" && !slices.Equal(got, []string{"about.html", "posts/hello/"}) {
			t.Errorf("generator %q: feed ids %q", gen, got)
		}
	}
}

func TestPermalinkConfig(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"permalink: /:year/:nope/\n", "publish.yaml:3:19 config-invalid"},
		{"permalink: \"/:year/:nope/\"\n", "publish.yaml:3:20 config-invalid"},
		{"permalink: posts/:slug/\n", "publish.yaml:3:12 config-invalid"},
		{"permalink: /pr-preview/:slug/\n", "publish.yaml:3:13 config-invalid"},
		{"generator: gatsby\n", "publish.yaml:3:12 config-invalid"},
		{"feeds: [/atom.xml, /feed.xml, /x/]\n", "publish.yaml:3:20 config-invalid publish.yaml:3:31 config-invalid"},
		{"permalink: pretty\ngenerator: Jekyll\nfeeds: /index.xml\n", ""},
	}
	for _, tt := range tests {
		cfg, ds := loadConfigText(t, testConfig+tt.yaml)
		if got := strings.Join(diagKeys(ds), " "); got != tt.want {
			t.Errorf("%q: diagnostics %q, want %q: %v", tt.yaml, got, tt.want, ds)
		}
		if tt.want == "" && (cfg.Permalink != "pretty" || cfg.Generator != "jekyll" || !slices.Equal(cfg.Feeds, []string{"index.xml"})) {
			t.Errorf("config %+v", cfg)
		}
	}
}

func TestPopularByAddress(t *testing.T) {
	s := load(t, mapFS(map[string]string{
		ConfigFile:              siteConfig("permalink: /:year/:slug/", "popular: [/2024/a/, b, nope]"),
		"posts/2024-01-01-a.md": "---\ntitle: A\n---\n",
		"posts/2024-01-02-b.md": "---\ntitle: B\n---\n",
	}), Options{})
	if got := diagKeys(s.Diagnostics); !slices.Equal(got, []string{"publish.yaml:4:24 unknown-popular"}) {
		t.Errorf("diagnostics %v", s.Diagnostics)
	}
}

// TestOutputsClaimStopsAtKnownFolders: claim stops looking up the folders
// above a file at the first that holds a file already, and still finds
// every clash: a file where a folder is, a file under a file, a file under
// a folder the theme reserved, also one reserved after posts claimed
// files beside it.
func TestOutputsClaimStopsAtKnownFolders(t *testing.T) {
	post := func(n string) *owner { return &owner{kind: byPost, source: n} }
	theme := &owner{kind: byTheme, label: "the theme"}
	out := newOutputs(8)
	out.reserve(theme, "search")
	for _, f := range []string{"a/b/c/index.html", "a/b/d/index.html", "a/x.html"} {
		if c, why := out.claim(post(f), f); c != nil {
			t.Fatalf("claim %s: %s", f, why)
		}
	}
	for _, f := range []string{"a/b", "a", "a/b/c", "a/x.html/y", "a/b/c/index.html/z", "search/x.json", "search/a/b/x.json"} {
		if c, _ := out.claim(post(f), f); c == nil {
			t.Errorf("%s was claimed", f)
		}
	}
	if c, why := out.claim(post("ok"), "z/e/index.html"); c != nil {
		t.Errorf("z/e/index.html: %s", why)
	}
	out.reserve(theme, "a") // late: the folders above files are checked again
	if c, _ := out.claim(post("new"), "a/b/e/index.html"); c != theme {
		t.Errorf("a file under a folder reserved late was claimed (%v)", c)
	}
}
