package posts

import (
	"cmp"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const testConfig = "title: Test blog\nbase_url: https://acme.github.io/blog/\n"

// mapFS builds a content tree with a publish.yaml (unless files has one).
func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	if _, ok := files[ConfigFile]; !ok {
		m[ConfigFile] = &fstest.MapFile{Data: []byte(testConfig)}
	}
	for name, data := range files {
		m[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return m
}

func load(t *testing.T, fsys fs.FS, opts Options) *Site {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = testNow
	}
	s, err := Load(t.Context(), fsys, opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

// diagKeys renders diagnostics as "file:line:col code" for comparison.
func diagKeys(ds []Diagnostic) []string {
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%s:%d:%d %s", d.File, d.Line, d.Column, d.Code))
	}
	return out
}

func postBySlug(s *Site, slug string) *Post {
	for _, p := range s.Posts {
		if p.Slug == slug {
			return p
		}
	}
	return nil
}

func TestFields(t *testing.T) {
	cases := []struct {
		name  string
		file  string
		src   string
		check func(t *testing.T, p *Post)
	}{
		{"title and date from front matter", "posts/x.md", "---\ntitle: Hello\ndate: 2026-06-14\n---\nBody\n", func(t *testing.T, p *Post) {
			if p.Title != "Hello" || !p.Date.Equal(time.Date(2026, 6, 14, 0, 0, 0, 0, time.UTC)) || p.Slug != "x" {
				t.Errorf("got %q %v %q", p.Title, p.Date, p.Slug)
			}
		}},
		{"date from Jekyll file name", "posts/2013-05-06-jekyll-one.markdown", "---\ntitle: One\n---\nBody\n", func(t *testing.T, p *Post) {
			if !p.Date.Equal(time.Date(2013, 5, 6, 0, 0, 0, 0, time.UTC)) || p.Slug != "jekyll-one" {
				t.Errorf("got %v %q", p.Date, p.Slug)
			}
		}},
		{"Jekyll date format", "posts/a.md", "---\ntitle: A\ndate: 2013-05-06 02:12:52 +0200\n---\n", func(t *testing.T, p *Post) {
			if !p.Date.Equal(time.Date(2013, 5, 6, 0, 12, 52, 0, time.UTC)) || p.Date.Location() != time.UTC {
				t.Errorf("got %v", p.Date)
			}
		}},
		{"quoted Jekyll date", "posts/a.md", "---\ntitle: A\ndate: \"2018-04-19 16:07:00 +0100\"\n---\n", func(t *testing.T, p *Post) {
			if !p.Date.Equal(time.Date(2018, 4, 19, 15, 7, 0, 0, time.UTC)) {
				t.Errorf("got %v", p.Date)
			}
		}},
		{"RFC 3339 date", "posts/a.md", "---\ntitle: A\ndate: 2026-01-20T14:00:00+01:00\n---\n", func(t *testing.T, p *Post) {
			if !p.Date.Equal(time.Date(2026, 1, 20, 13, 0, 0, 0, time.UTC)) {
				t.Errorf("got %v", p.Date)
			}
		}},
		{"updated, summary, author, featured", "posts/a.md", "---\ntitle: A\ndate: 2026-01-01\nupdated: 2026-02-01T10:00:00Z\nsummary: Short.\nauthor: Mira\nfeatured: true\n---\nBody text.\n", func(t *testing.T, p *Post) {
			if !p.Updated.Equal(time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)) || p.Summary != "Short." || p.Author != "Mira" || !p.Featured {
				t.Errorf("got %+v", p)
			}
		}},
		{"description is the summary", "posts/a.md", "---\ntitle: A\ndate: 2026-01-01\ndescription: Described.\n---\nBody.\n", func(t *testing.T, p *Post) {
			if p.Summary != "Described." {
				t.Errorf("summary %q", p.Summary)
			}
		}},
		{"author defaults to the site's", "posts/a.md", "---\ntitle: A\ndate: 2026-01-01\n---\n", func(t *testing.T, p *Post) {
			if p.Author != "Site Author" {
				t.Errorf("author %q", p.Author)
			}
		}},
		{"tags deduplicated by slug, categories merged", "posts/a.md", "---\ntitle: A\ndate: 2026-01-01\ntags: [Go, go, C++, Café]\ncategories: [release]\n---\n", func(t *testing.T, p *Post) {
			if !slices.Equal(p.Tags, []string{"Go", "C++", "Café", "release"}) {
				t.Errorf("tags %q", p.Tags)
			}
		}},
		{"tags as one string", "posts/a.md", "---\ntitle: A\ndate: 2026-01-01\ntags: news\n---\n", func(t *testing.T, p *Post) {
			if !slices.Equal(p.Tags, []string{"news"}) {
				t.Errorf("tags %q", p.Tags)
			}
		}},
		{"draft, and published false", "posts/a.md", "---\ntitle: A\ndate: 2026-01-01\npublished: false\n---\n", func(t *testing.T, p *Post) {
			if !p.Draft {
				t.Error("not a draft")
			}
		}},
		{"future", "posts/a.md", "---\ntitle: A\ndate: 2030-01-01\n---\n", func(t *testing.T, p *Post) {
			if !p.Future || p.Draft {
				t.Errorf("future %v draft %v", p.Future, p.Draft)
			}
		}},
		{"slug field is slugified, unicode kept", "posts/a.md", "---\ntitle: A\ndate: 2026-01-01\nslug: Café Notes!\n---\n", func(t *testing.T, p *Post) {
			if p.Slug != "café-notes" {
				t.Errorf("slug %q", p.Slug)
			}
		}},
		{"slug from title when the file name has none", "posts/2026-01-02.md", "---\ntitle: Ünïcode Title, Here\n---\n", func(t *testing.T, p *Post) {
			if p.Slug != "ünïcode-title-here" {
				t.Errorf("slug %q", p.Slug)
			}
		}},
		{"bundle slug from its folder", "posts/2026-03-18-net-map/index.md", "---\ntitle: Net\n---\n", func(t *testing.T, p *Post) {
			if p.Slug != "net-map" || p.Bundle != "posts/2026-03-18-net-map" || p.Date.Day() != 18 {
				t.Errorf("slug %q bundle %q date %v", p.Slug, p.Bundle, p.Date)
			}
		}},
		{"aliases and redirect_from", "posts/a.md", "---\ntitle: A\ndate: 2026-01-01\naliases: [/2019/01/old/, old.html]\nredirect_from: /older\n---\n", func(t *testing.T, p *Post) {
			if !slices.Equal(p.Aliases, []string{"/2019/01/old/", "/old.html", "/older"}) {
				t.Errorf("aliases %q", p.Aliases)
			}
		}},
		{"cover image absolute URL kept", "posts/a.md", "---\ntitle: A\ndate: 2026-01-01\nimage: https://cdn.example/x.jpg\nimage_alt: A cat\n---\n", func(t *testing.T, p *Post) {
			if p.Image != "https://cdn.example/x.jpg" || p.ImageAlt != "A cat" {
				t.Errorf("image %q alt %q", p.Image, p.ImageAlt)
			}
		}},
		{"cover image as a mapping", "posts/a.md", "---\ntitle: A\ndate: 2026-01-01\nimage: {src: 'https://cdn.example/y.png', alt: Dog}\n---\n", func(t *testing.T, p *Post) {
			if p.Image != "https://cdn.example/y.png" || p.ImageAlt != "Dog" {
				t.Errorf("image %q alt %q", p.Image, p.ImageAlt)
			}
		}},
		{"TOML front matter", "posts/t.md", "+++\ntitle = \"Tom\"\ndate = 2026-04-02T10:00:00Z\nupdated = 2026-04-03\ntags = [\"a\", \"b\"]\ndraft = true\n+++\nBody\n", func(t *testing.T, p *Post) {
			if p.Title != "Tom" || !p.Date.Equal(time.Date(2026, 4, 2, 10, 0, 0, 0, time.UTC)) || !p.Draft || len(p.Tags) != 2 ||
				!p.Updated.Equal(time.Date(2026, 4, 3, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("got %+v", p)
			}
		}},
		{"CRLF and BOM", "posts/a.md", "\ufeff---\r\ntitle: Windows\r\ndate: 2026-01-01\r\n---\r\nBody\r\n", func(t *testing.T, p *Post) {
			if p.Title != "Windows" || !strings.Contains(p.HTML(), "<p>Body</p>") {
				t.Errorf("got %q %q", p.Title, p.HTML())
			}
		}},
		{"word count and reading time", "posts/a.md", "---\ntitle: A\ndate: 2026-01-01\n---\n" + strings.Repeat("word ", 450) + "\n\n東京\n", func(t *testing.T, p *Post) {
			if p.Words != 452 || p.ReadingTime != 2 {
				t.Errorf("words %d minutes %d", p.Words, p.ReadingTime)
			}
		}},
		{"reading time at least a minute", "posts/a.md", "---\ntitle: A\ndate: 2026-01-01\n---\nHi.\n", func(t *testing.T, p *Post) {
			if p.Words != 1 || p.ReadingTime != 1 {
				t.Errorf("words %d minutes %d", p.Words, p.ReadingTime)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{c.file: c.src, ConfigFile: testConfig + "author: Site Author\n"}
			s := load(t, mapFS(files), Options{})
			if len(s.Posts) != 1 {
				t.Fatalf("%d posts, diagnostics %v", len(s.Posts), s.Diagnostics)
			}
			for _, d := range s.Diagnostics {
				if d.Severity == SeverityError {
					t.Errorf("unexpected %v", d)
				}
			}
			c.check(t, s.Posts[0])
		})
	}
}

func TestDateInSiteTimezone(t *testing.T) {
	s := load(t, mapFS(map[string]string{
		ConfigFile:   testConfig + "timezone: Europe/Berlin\n",
		"posts/a.md": "---\ntitle: A\ndate: 2026-06-14 16:00\n---\n",
		"posts/b.md": "---\ntitle: B\ndate: 2026-06-14T16:00:00Z\n---\n",
	}), Options{})
	a, b := postBySlug(s, "a"), postBySlug(s, "b")
	if a.Date.Location().String() != "Europe/Berlin" || a.Date.Hour() != 16 || !a.Date.Equal(time.Date(2026, 6, 14, 14, 0, 0, 0, time.UTC)) {
		t.Errorf("a: %v", a.Date)
	}
	if b.Date.Location().String() != "Europe/Berlin" || b.Date.Hour() != 18 {
		t.Errorf("b: %v", b.Date)
	}
}

func TestSummary(t *testing.T) {
	long := strings.Repeat("alpha beta gamma ", 40) // 680 runes
	cases := []struct{ name, body, want string }{
		{"more marker", "First *para*.\n\n<!--more-->\n\nSecond.\n", "First para."},
		{"more marker with spaces", "Lead in.\n\n<!-- more -->\n\nRest.\n", "Lead in."},
		{"headings and list items joined", "# Head\n\n- one\n- two\n\nText `code` [link](https://x.example).\n", "Head one two Text code link."},
		{"a code block ends it", "Intro.\n\n```go\nfunc main() {}\n```\n\nOutro.\n", "Intro."},
		{"a heading ends it after a sentence", "Lead one. Lead two!\n\n## Details\n\nUt enim.\n", "Lead one. Lead two!"},
		{"not before a sentence", "# Head\n\nNo full stop yet\n\n    indented code\n\nnow one. Then\n\n## Two\n\nMore.\n", "Head No full stop yet now one. Then"},
		{"an image ends it", "See this.\n\n![a cat](https://img.example/cat.png)\n\nMore text.\n", "See this."},
		{"an inline image too", "First sentence. Then ![a cat](https://img.example/cat.png) more.\n", "First sentence. Then"},
		{"a CJK sentence", "最初の文。\n\n## 見出し\n\n本文。\n", "最初の文。"},
		{"cut at a word boundary", long, strings.TrimSpace(cutSummary(long, 400))},
		{"entities and escapes", "Fish &amp; chips \\*not emphasis\\*.\n", "Fish & chips *not emphasis*."},
		{"footnotes left out", "Text.[^1]\n\n[^1]: The note.\n", "Text."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := load(t, mapFS(map[string]string{"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\n---\n" + c.body}), Options{})
			if got := s.Posts[0].Summary; got != c.want {
				t.Errorf("summary %q, want %q", got, c.want)
			}
		})
	}
	got := cutSummary(long, 400)
	if n := len([]rune(got)); n > 401 || !strings.HasSuffix(got, "gamma…") && !strings.HasSuffix(got, "beta…") && !strings.HasSuffix(got, "alpha…") {
		t.Errorf("cut %d runes: %q", n, got)
	}
	multibyte := strings.Repeat("ééé ", 150)
	if got := cutSummary(multibyte, 400); len([]rune(got)) != 400 || !strings.HasSuffix(got, "ééé…") {
		t.Errorf("runes %d: %q", len([]rune(got)), got[len(got)-20:])
	}
}

func TestDiagnostics(t *testing.T) {
	big := strings.Repeat("x", MaxFileSize+1)
	cases := []struct {
		name  string
		files map[string]string
		want  []string // file:line:col code, exactly, sorted
		posts int
	}{
		{"front matter syntax error at the file line", map[string]string{
			"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\ntags: [a, b\n---\nBody\n"},
			[]string{"posts/a.md:4:1 front-matter-syntax"}, 0},
		{"YAML mapping error line", map[string]string{
			"posts/a.md": "---\ntitle: A\n  date: 2026-01-01: x\n---\n"},
			[]string{"posts/a.md:3:3 front-matter-syntax"}, 0},
		{"TOML syntax error with column", map[string]string{
			"posts/a.md": "+++\ntitle = \"A\"\ndate = 2026-01-01\ntags = [\"a\",\n+++\n"},
			[]string{"posts/a.md:4:13 front-matter-syntax"}, 0},
		{"front matter not a mapping", map[string]string{"posts/a.md": "---\n- a\n- b\n---\n"},
			[]string{"posts/a.md:2:1 front-matter-syntax"}, 0},
		{"unclosed front matter", map[string]string{"posts/a.md": "---\ntitle: A\n\nBody\n"},
			[]string{"posts/a.md:1:1 front-matter-unclosed"}, 0},
		{"missing title", map[string]string{"posts/a.md": "---\ndate: 2026-01-01\n---\n"},
			[]string{"posts/a.md:1:1 missing-title"}, 0},
		{"empty title", map[string]string{"posts/a.md": "---\ntitle: \"  \"\ndate: 2026-01-01\n---\n"},
			[]string{"posts/a.md:2:8 missing-title"}, 0},
		{"title with no value", map[string]string{"posts/a.md": "---\ntitle:\ndate: 2026-01-01\n---\n"},
			[]string{"posts/a.md:2:7 missing-title"}, 0},
		{"no front matter at all", map[string]string{"posts/a.md": "Just text.\n"},
			[]string{"posts/a.md:1:1 missing-date", "posts/a.md:1:1 missing-title"}, 0},
		{"missing date", map[string]string{"posts/a.md": "---\ntitle: A\n---\n"},
			[]string{"posts/a.md:1:1 missing-date"}, 0},
		{"unparseable date", map[string]string{"posts/a.md": "---\ntitle: A\ndate: 2023-01-29 18:30:22 2023 -0800\n---\n"},
			[]string{"posts/a.md:3:7 invalid-date"}, 0},
		{"unparseable date falls back on the file name's", map[string]string{"posts/2023-01-29-a.md": "---\ntitle: A\ndate: 2023-01-29 18:30:22 2023 -0800\n---\n"},
			[]string{"posts/2023-01-29-a.md:3:7 date-fallback"}, 1},
		{"unparseable date falls back on a Zola path's", map[string]string{"posts/a.md": "+++\ntitle = \"A\"\ndate = \"soon\"\npath = \"inside-rust/2020/07/27/a\"\n+++\n"},
			[]string{"posts/a.md:3:8 date-fallback"}, 1},
		{"unparseable updated", map[string]string{"posts/a.md": "---\ntitle: A\ndate: 2023-01-29\nupdated: yesterday\n---\n"},
			[]string{"posts/a.md:4:10 invalid-date"}, 0},
		{"file name date disagrees", map[string]string{"posts/2018-03-14-a.md": "---\ntitle: A\ndate: \"2018-04-19 16:07:00 +0100\"\n---\n"},
			[]string{"posts/2018-03-14-a.md:3:7 date-mismatch"}, 1},
		{"a day apart is not a mismatch", map[string]string{"posts/2019-08-19-a.md": "---\ntitle: A\ndate: 2019-08-20 10:00:00 -0500\n---\n"},
			nil, 1},
		{"duplicate address names both files", map[string]string{
			"posts/2026-01-01-same.md": "---\ntitle: A\n---\n",
			"posts/b.md":               "---\ntitle: B\ndate: 2026-01-02\nslug: same\n---\n"},
			[]string{"posts/b.md:4:7 duplicate-url"}, 1},
		{"equal slugs in two folders are two posts", map[string]string{
			"posts/2022/kubecon-na.md": "---\ntitle: A\ndate: 2022-01-01\npermalink: /2022/kubecon-na/\n---\n",
			"posts/2023/kubecon-na.md": "---\ntitle: B\ndate: 2023-01-02\npermalink: /2023/kubecon-na/\n---\n"},
			nil, 2},
		{"unknown field with suggestion", map[string]string{"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\ntittle: B\nversion: 1\n---\n"},
			[]string{"posts/a.md:4:1 unknown-field", "posts/a.md:5:1 unknown-field"}, 1},
		{"duplicate field", map[string]string{"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\ntitle: B\n---\n"},
			[]string{"posts/a.md:4:1 duplicate-field"}, 0},
		{"wrong types", map[string]string{"posts/a.md": "---\ntitle: [A]\ndate: 2026-01-01\ndraft: \"yes\"\n---\n"},
			[]string{"posts/a.md:1:1 missing-title", "posts/a.md:2:8 invalid-field", "posts/a.md:4:8 invalid-field"}, 0},
		{"tag without letters", map[string]string{"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\ntags: [ok, \"!!\"]\n---\n"},
			[]string{"posts/a.md:4:7 invalid-tag"}, 1},
		{"invalid and clashing aliases", map[string]string{
			"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\naliases: [\"https://x.example/\", /, /tags/go/, /posts/b/]\n---\n",
			"posts/b.md": "---\ntitle: B\ndate: 2026-01-01\naliases: [/old/]\n---\n",
			"posts/c.md": "---\ntitle: C\ndate: 2026-01-01\naliases: [/old/]\n---\n"},
			[]string{"posts/a.md:4:10 invalid-alias", "posts/a.md:4:10 invalid-alias", "posts/a.md:4:10 invalid-alias", "posts/a.md:4:10 invalid-alias",
				"posts/c.md:4:10 duplicate-alias"}, 1},
		{"broken links and missing images", map[string]string{
			"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\n---\n[x](nope.md) [y](/posts/ghost/) ![z](/img/none.png) ![w](../static/none.png)\n\n[out](../../x)\n"},
			[]string{"posts/a.md:5:5 broken-link", "posts/a.md:5:18 broken-link", "posts/a.md:5:38 missing-image", "posts/a.md:5:58 missing-image", "posts/a.md:7:7 broken-link"}, 1},
		{"link to a post with errors", map[string]string{
			"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\n---\nSee [b](b.md).\n",
			"posts/b.md": "---\ndate: 2026-01-01\n---\n"},
			[]string{"posts/a.md:5:9 broken-link", "posts/b.md:1:1 missing-title"}, 1},
		{"link to a draft", map[string]string{
			"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\n---\nSee [b](b.md).\n",
			"posts/b.md": "---\ntitle: B\ndate: 2026-01-01\ndraft: true\n---\n"},
			[]string{"posts/a.md:5:9 link-to-draft"}, 2},
		{"a linked file is published, a dotfile never", map[string]string{
			"posts/a.md":    "---\ntitle: A\ndate: 2026-01-01\n---\n![pic](pic.png) [env](.env) [cfg](../publish.yaml)\n",
			"posts/.env":    "SECRET=1",
			"publish.yaml":  testConfig,
			"posts/pic.png": "png"},
			[]string{"posts/a.md:5:23 broken-link", "posts/a.md:5:35 broken-link"}, 1},
		{"image without alt text", map[string]string{
			"posts/a.md":   "---\ntitle: A\ndate: 2026-01-01\n---\nText\n![](/x.png)\n",
			"static/x.png": "png"},
			[]string{"posts/a.md:6:5 image-alt"}, 1},
		{"missing cover image", map[string]string{"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\nimage: /covers/none.jpg\n---\n"},
			[]string{"posts/a.md:4:8 missing-image"}, 1},
		{"unsafe cover image", map[string]string{"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\nimage: javascript:x\n---\n"},
			[]string{"posts/a.md:4:8 unsafe-url"}, 1},
		{"liquid outside code only", map[string]string{"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\n---\nSee {{ site.url }} and {% link x.md %}.\n\n`{{ in code }}`\n\n```\n{% raw %}\n```\n"},
			[]string{"posts/a.md:5:24 liquid"}, 1}, // {{ site.url }} is expanded; x.md names no post
		{"raw html kept", map[string]string{"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\n---\n<div>x</div>\n\nA <b>b</b> c. <!-- a comment -->\n"},
			nil, 1},
		{"raw html sanitised", map[string]string{"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\n---\n<div onclick=\"x()\">x</div>\n\nA <b>b</b> <script>c</script>.\n"},
			[]string{"posts/a.md:5:6 raw-html", "posts/a.md:7:12 raw-html"}, 1},
		{"unsafe URLs", map[string]string{"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\n---\n[a](javascript:alert(1)) [b](JaVaScRiPt:x) ![c](data:text/html,x) [d](vbscript:y) <javascript:z>\n"},
			[]string{"posts/a.md:5:5 unsafe-url", "posts/a.md:5:30 unsafe-url", "posts/a.md:5:49 unsafe-url", "posts/a.md:5:71 unsafe-url", "posts/a.md:5:84 unsafe-url"}, 1},
		{"invalid UTF-8", map[string]string{"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\n---\nab\xffcd\n"},
			[]string{"posts/a.md:5:3 invalid-utf8"}, 0},
		{"NUL byte", map[string]string{"posts/a.md": "---\ntitle: A\x00\n---\n"},
			[]string{"posts/a.md:2:9 invalid-utf8"}, 0},
		{"file too large", map[string]string{"posts/a.md": big, "static/big.bin": big, "other/big.bin": big, "posts/b.md": "---\ntitle: B\ndate: 2026-01-01\n---\n"},
			[]string{"posts/a.md:0:0 file-too-large", "static/big.bin:0:0 file-too-large"}, 1},
		{"bad names", map[string]string{"posts/a\\b.md": "x", "posts/c\x01.md": "x", "posts/ok.md": "---\ntitle: OK\ndate: 2026-01-01\n---\n"},
			[]string{"posts/a\\b.md:0:0 invalid-path", "posts/c\x01.md:0:0 invalid-path"}, 1},
		{"alias bomb", map[string]string{"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\n" + aliasBombYAML(9) + "---\n"},
			[]string{"posts/a.md:2:1 yaml-alias-bomb"}, 0},
		{"self-referencing alias", map[string]string{"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\nx: &a [*a]\n---\n"},
			[]string{"posts/a.md:2:1 yaml-alias-bomb"}, 0},
		{"deep nesting", map[string]string{"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\nx: " + strings.Repeat("[", 150) + strings.Repeat("]", 150) + "\n---\n"},
			[]string{"posts/a.md:4:104 front-matter-syntax"}, 0},
		{"harmless aliases are fine", map[string]string{"posts/a.md": "---\ntitle: &t A\ndate: 2026-01-01\nsummary: *t\n---\n"},
			nil, 1},
		{"popular names a missing slug", map[string]string{ConfigFile: testConfig + "popular: [a, ghost]\n", "posts/a.md": "---\ntitle: A\ndate: 2026-01-01\n---\n"},
			[]string{"publish.yaml:3:14 unknown-popular"}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := load(t, mapFS(c.files), Options{})
			got := diagKeys(s.Diagnostics)
			if !slices.Equal(got, c.want) {
				t.Errorf("diagnostics:\n got %q\nwant %q\n%v", got, c.want, s.Diagnostics)
			}
			if len(s.Posts) != c.posts {
				t.Errorf("%d posts, want %d", len(s.Posts), c.posts)
			}
			for _, p := range s.Posts {
				if p.Image != "" {
					t.Errorf("cover image %q kept", p.Image)
				}
			}
			for _, d := range s.Diagnostics {
				if d.Message == "" {
					t.Errorf("no message: %v", d)
				}
				if sev, ok := CodeSeverity(d.Code); !ok || sev != d.Severity {
					t.Errorf("severity of %s: %s", d.Code, d.Severity)
				}
			}
		})
	}
}

// aliasBombYAML is the billion-laughs document with n levels of 10 aliases.
func aliasBombYAML(n int) string {
	var b strings.Builder
	b.WriteString("a0: &a0 [\"lol\"]\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func TestCollapsePrefix(t *testing.T) {
	for _, s := range []string{"", "  a  b ", strings.Repeat("word\n\t ", 300), strings.Repeat("é ", 401), "x" + strings.Repeat(" ", 500) + "y"} {
		if got, want := cutSummary(collapsePrefix(s, summaryRunes+1), summaryRunes), cutSummary(collapseSpace(s), summaryRunes); got != want {
			t.Errorf("%q: got %q, want %q", s[:min(len(s), 20)], got, want)
		}
	}
}

func TestBundleAssetsOfLeftOutPosts(t *testing.T) {
	s := load(t, mapFS(map[string]string{
		"posts/a/index.md": "---\ntitle: A\ndate: 2026-01-01\n---\n",
		"posts/a/pic.png":  "a",
		"posts/b/index.md": "---\ntitle: B\ndate: 2026-01-01\nslug: a\n---\n",
		"posts/b/pic.png":  "b",
		"posts/c/index.md": "---\ndate: 2026-01-01\n---\n",
		"posts/c/pic.png":  "c",
	}), Options{})
	if len(s.Assets) != 1 || s.Assets[0].Source != "posts/a/pic.png" || s.Assets[0].Target != "posts/a/pic.png" {
		t.Errorf("assets %+v", s.Assets)
	}
	if got := diagKeys(s.Diagnostics); strings.Join(got, " ") != "posts/b/index.md:4:7 duplicate-url posts/c/index.md:1:1 missing-title" {
		t.Errorf("diagnostics %q", got)
	}
}

// TestAuthorDiagnostics: what an author sees for common mistakes: the
// exact line and column (in an editor's terms: a byte order mark is not a
// column, CRLF is one line ending) and a message that says how to fix it.
func TestAuthorDiagnostics(t *testing.T) {
	const bomS = "\ufeff"
	cases := []struct {
		name, src string
		want      string // line:col code of the first diagnostic
		msg       string // part of its message
	}{
		{"unclosed list", "---\ntitle: A\ndate: 2026-01-01\ntags: [a, b\n---\nb\n", "4:1 front-matter-syntax", `end it with "]"`},
		{"unclosed list, CRLF", "---\r\ntitle: A\r\ndate: 2026-01-01\r\ntags: [a, b\r\n---\r\nb\r\n", "4:1 front-matter-syntax", `end it with "]"`},
		{"unclosed list, BOM", bomS + "---\ntitle: A\ndate: 2026-01-01\ntags: [a, b\n---\nb\n", "4:1 front-matter-syntax", `end it with "]"`},
		{"tab indentation", "---\ntitle: A\n\tdate: 2026-01-01\n---\nb\n", "3:1 front-matter-syntax", "indent with spaces"},
		{"colon in a value", "---\ntitle: A\ndate: 2026-01-01\nsummary: Note: it works\n---\nb\n", "4:14 front-matter-syntax", `as in summary: "Note: it works"`},
		{"colon in a value, CRLF", "---\r\ntitle: Go: a tour\r\ndate: 2026-01-01\r\n---\r\nb\r\n", "2:10 front-matter-syntax", `as in title: "Go: a tour"`},
		{"indented field", "---\ntitle: A\n date: 2026-01-01\n---\nb\n", "3:2 front-matter-syntax", "start each field at the beginning"},
		{"value starting with @", "---\ntitle: @handle's post\ndate: 2026-01-01\n---\nb\n", "2:8 front-matter-syntax", `as in title: "@handle's post"`},
		{"value starting with a backtick", "---\ntitle: ok\ndate: 2026-01-01\nsummary: `x` \"y\"\n---\nb\n", "4:10 front-matter-syntax", `as in summary: "` + "`x` " + `\"y\""`},
		{"unclosed quote points at its line", "---\ntitle: \"Unclosed\ndate: 2026-01-01\n---\nb\n", "2:1 front-matter-syntax", "quoted value is not closed"},
		{"unclosed single quote", "---\ntitle: A\ndate: 2026-01-01\nsummary: 'it''s\n---\nb\n", "4:1 front-matter-syntax", "quoted value is not closed"},
		{"backslash in double quotes", "---\ntitle: \"C:\\temp\\q\"\ndate: 2026-01-01\n---\nb\n", "2:16 front-matter-syntax", "use single quotes"},
		{"no colon", "---\ntitle: A\ndate 2026-01-01\ntags: [x]\n---\nb\n", "3:1 front-matter-syntax", "a name, a colon, a space"},
		{"unclosed brace", "---\ntitle: {a\ndate: 2026-01-01\n---\nb\n", "3:1 front-matter-syntax", `not closed with "}"`},
		{"list misaligned", "---\ntitle: A\ndate: 2026-01-01\ntags:\n  - a\n - b\n---\nb\n", "6:2 front-matter-syntax", "line up the items"},
		{"unclosed front matter", "---\ntitle: A\ndate: 2026-01-01\nbody\n", "1:1 front-matter-unclosed", `add a line "---" after the last field`},
		{"unclosed TOML", "+++\ntitle = \"A\"\ndate = 2026-01-01\n", "1:1 front-matter-unclosed", `add a line "+++"`},
		{"TOML bad string, CRLF", "+++\r\ntitle = \"A\r\ndate = 2026-01-01\r\n+++\r\nb\r\n", "2:11 front-matter-syntax", "quoted value is not closed"},
		{"TOML bad string", "+++\ntitle = \"A\ndate = 2026-01-01\n+++\nb\n", "2:11 front-matter-syntax", "quoted value is not closed"},
		{"TOML unquoted text, after a multibyte line", "+++\nsummary = \"café\"\ntitle = Unquoted\ndate = 2026-01-01\n+++\nb\n", "3:9 front-matter-syntax", "text values go in quotes"},
		{"TOML key twice, CRLF", "+++\r\ntitle = \"x\"\r\ntitle = \"y\"\r\ndate = 2026-01-01\r\n+++\r\nb\r\n", "3:1 front-matter-syntax", "already been defined: keep one"},
		{"empty title points at it", "---\ntitle: ''\ndate: 2026-01-01\n---\nb\n", "2:8 missing-title", "title is empty"},
		{"TOML with YAML colons", "+++\ntitle: \"x\"\ndate = 2026-01-01\n+++\nb\n", "2:6 front-matter-syntax", "name = value"},
		{"empty file", "", "1:1 missing-date", "the file is empty"},
		{"only a BOM and blank lines", bomS + "\n\n", "1:1 missing-date", "the file is empty"},
		{"blank line before front matter", "\n---\ntitle: A\ndate: 2026-01-01\n---\nb\n", "1:1 missing-date", `remove what comes before the "---" on line 2`},
		{"two byte order marks", bomS + bomS + "---\ntitle: A\ndate: 2026-01-01\n---\nb\n", "1:1 missing-date", `make it exactly "---"`},
		{"fields without the opening line", "title: A\ndate: 2026-01-01\n---\nb\n", "1:1 missing-date", `add one as the first line`},
		{"plain text gets no guess", "Just a note.\n", "1:1 missing-date", "start the file name with the date"},
		{"body position after BOM", bomS + "---\ntitle: A\ndate: 2026-01-01\n---\n![](x.png) ![](y.png)\n", "5:5 image-alt", "alt text"},
		{"body position on line 1 after BOM", bomS + "café ![](x.png)\n", "1:1 missing-date", ""},
		{"body position, CRLF", "---\r\ntitle: A\r\ndate: 2026-01-01\r\n---\r\n\r\nsee [x](/posts/nope/) {% raw %}\r\n", "6:9 broken-link", "no page or file"},
		{"invalid UTF-8 after CRLF lines", "---\r\ntitle: A\r\ndate: 2026-01-01\r\n---\r\ncafé \xff\r\n", "5:6 invalid-utf8", "save it as UTF-8"},
		{"date in words", "---\ntitle: A\ndate: Jan 2, 2026\n---\nb\n", "3:7 invalid-date", "use 2006-01-02"},
		{"impossible date", "---\ntitle: A\ndate: 2026-13-45\n---\nb\n", "3:7 invalid-date", "there is no such day (2026-13-45)"},
		{"February 30", "---\ntitle: A\ndate: 2026-02-30 10:00\n---\nb\n", "3:7 invalid-date", "there is no such day (2026-02-30)"},
		{"date with slashes", "---\ntitle: A\ndate: 2026/1/2\n---\nb\n", "3:7 invalid-date", "with dashes, as 2026-01-02"},
		{"date without zero padding", "---\ntitle: A\ndate: 2026-1-2 10:00\n---\nb\n", "3:7 invalid-date", "two digits each, as 2026-01-02"},
		{"day first or month first", "---\ntitle: A\ndate: 01/02/2026\n---\nb\n", "3:7 invalid-date", "ambiguous"},
		{"updated without padding", "---\ntitle: A\ndate: 2026-01-01\nupdated: 2026-1-5\n---\nb\n", "4:10 invalid-date", "updated \"2026-1-5\" is not a date: write the month"},
		{"the same link twice points at the second", "---\ntitle: A\ndate: 2026-01-01\n---\n[a](x.md) and ![b](x.png) [c](x.md)\n", "5:5 broken-link", ""},
		{"a link whose URL is also a word before it", "---\ntitle: A\ndate: 2026-01-01\n---\nRead the docs: [the docs](docs)\n", "5:27 broken-link", ""},
		{"date in many accepted forms is fine", "---\ntitle: A\ndate: 2026-01-01 10:00:00 +02:00\n---\n[x](/posts/nope/)\n", "5:5 broken-link", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := load(t, mapFS(map[string]string{"posts/a.md": c.src}), Options{})
			if len(s.Diagnostics) == 0 {
				t.Fatalf("no diagnostics, want %s", c.want)
			}
			d := s.Diagnostics[0]
			if got := fmt.Sprintf("%d:%d %s", d.Line, d.Column, d.Code); got != c.want {
				t.Errorf("got %s, want %s (%s)", got, c.want, d.Message)
			}
			if !strings.Contains(d.Message, c.msg) {
				t.Errorf("message %q does not say %q", d.Message, c.msg)
			}
		})
	}
	// every one of several identical links has its own column
	s0 := load(t, mapFS(map[string]string{"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\n---\n[a](x.md) and [b](x.md)\n\n![](i.png) ![](i.png)\n"}), Options{})
	want0 := []string{"posts/a.md:5:5 broken-link", "posts/a.md:5:19 broken-link", "posts/a.md:7:5 image-alt", "posts/a.md:7:5 missing-image", "posts/a.md:7:16 image-alt", "posts/a.md:7:16 missing-image"}
	if got := diagKeys(s0.Diagnostics); !slices.Equal(got, want0) {
		t.Errorf("repeated links:\n got %q\nwant %q", got, want0)
	}
	// the second image on the BOM line: columns count from after the BOM
	s := load(t, mapFS(map[string]string{"posts/2026-01-01-a.md": bomS + "café ![](x.png)\n"}), Options{})
	if got := diagKeys(s.Diagnostics); !slices.Contains(got, "posts/2026-01-01-a.md:1:10 image-alt") {
		t.Errorf("BOM line diagnostics %q, want the image at 1:10", got)
	}
}

// TestDiagnosticsCappedPerCode: a post with thousands of the same problem
// lists the first maxPerCode and one more that counts the rest; other codes
// and other files are not affected, and the post is still left out or kept
// as all its diagnostics say.
func TestDiagnosticsCappedPerCode(t *testing.T) {
	body := strings.Repeat("[x](/posts/nope/) ", 250) + "\n\n" + strings.Repeat("![](a.png) ", 3)
	s := load(t, mapFS(map[string]string{
		"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\n---\n" + body,
		"posts/b.md": "---\ntitle: B\ndate: 2026-01-01\n---\n" + strings.Repeat("[x](/posts/nope/) ", 3),
	}), Options{})
	count := map[string]int{}
	var more []Diagnostic
	for _, d := range s.Diagnostics {
		count[d.File+" "+d.Code]++
		if strings.Contains(d.Message, "more [") {
			more = append(more, d)
		}
	}
	want := map[string]int{"posts/a.md broken-link": maxPerCode + 1, "posts/a.md image-alt": 3, "posts/a.md missing-image": 3, "posts/b.md broken-link": 3}
	if !maps.Equal(count, want) {
		t.Errorf("counts %v, want %v", count, want)
	}
	if len(more) != 1 || !strings.HasSuffix(more[0].Message, "; and 149 more [broken-link] in this file from here on, not listed one by one") || more[0].Line != 5 {
		t.Errorf("summary diagnostic %+v", more)
	}
	if len(s.Posts) != 2 {
		t.Errorf("%d posts, want 2 (warnings only)", len(s.Posts))
	}
}

// The tree is read ahead on every core (tree.list) but walked in order:
// the files come in the order fs.WalkDir gives them, with their sizes, and
// nothing under a skipped folder (.git, one too deep) is listed.
func TestWalkOrder(t *testing.T) {
	m := fstest.MapFS{}
	var want []string
	for i := range 40 {
		for j := range 5 {
			p := fmt.Sprintf("posts/d%02d/sub%d/f%d.md", i, j%2, j)
			m[p] = &fstest.MapFile{Data: []byte(strings.Repeat("x", i+j))}
		}
	}
	m[".git/HEAD"] = &fstest.MapFile{Data: []byte("ref")}
	m["static/.well-known/a.txt"] = &fstest.MapFile{Data: []byte("a")}
	deep := "static" + strings.Repeat("/d", 70) + "/deep.txt"
	m[deep] = &fstest.MapFile{Data: []byte("d")}
	fs.WalkDir(m, ".", func(p string, d fs.DirEntry, err error) error {
		if d.IsDir() && (p == ".git") {
			return fs.SkipDir
		}
		if !d.IsDir() && p != deep {
			want = append(want, p)
		}
		return nil
	})
	tr := &tree{ctx: t.Context(), fsys: m, files: map[string]int64{}}
	tr.walk(".", 0)
	if !slices.Equal(tr.order, want) {
		t.Errorf("walk order\n%q\nwant\n%q", tr.order, want)
	}
	for _, p := range want {
		if tr.files[p] != int64(len(m[p].Data)) {
			t.Errorf("%s: size %d, want %d", p, tr.files[p], len(m[p].Data))
		}
	}
	if len(tr.diags) != 1 {
		t.Errorf("diagnostics %v, want the deep folder's", tr.diags)
	}
}

// TestSortPosts: sortPosts orders as comparing the dates as times does,
// across zones, before 1678 and after 2262 (where nanoseconds since 1970
// no longer fit an int64), with ties broken by title then slug.
func TestSortPosts(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 5, 7, 12, 0, 0, 0, time.UTC)
	var ps []*Post
	for i, d := range []time.Time{at, at.In(ny), at.Add(time.Nanosecond), time.Date(1200, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2400, 1, 1, 0, 0, 0, 5, time.UTC), time.Date(2400, 1, 1, 0, 0, 0, 4, time.UTC), {}, at, at} {
		ps = append(ps, &Post{Date: d, Title: string(rune('z' - i%3)), Slug: string(rune('a' + i))})
	}
	want := slices.Clone(ps)
	slices.SortStableFunc(want, func(a, b *Post) int {
		return cmp.Or(b.Date.Compare(a.Date), cmp.Compare(a.Title, b.Title), cmp.Compare(a.Slug, b.Slug))
	})
	sortPosts(ps)
	if !slices.Equal(ps, want) {
		for i := range ps {
			t.Logf("%d: got %v %s %s, want %v %s %s", i, ps[i].Date, ps[i].Title, ps[i].Slug, want[i].Date, want[i].Title, want[i].Slug)
		}
		t.Error("sortPosts differs from comparing times")
	}
}
