package posts

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/<name>, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test ./posts -run %s -update to accept):\n--- got\n%s\n--- want\n%s", name, t.Name(), got, want)
	}
}

const renderFront = "---\ntitle: Rendered\ndate: 2026-01-01\n---\n"

func TestRenderGolden(t *testing.T) {
	cases := []struct{ name, body string }{
		{"gfm", "# Title\n\n## Title\n\n## Café & Ünïcode\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n\n- [x] done\n- [ ] todo\n\n~~gone~~ and https://example.com/x autolinked.\n"},
		{"code", "Inline `x := 1`.\n\n```go\nfunc main() {\n\tfmt.Println(\"hi\")\n}\n```\n\n```\nplain <text>\n```\n\n    indented code\n"},
		{"footnotes", "Text with a note.[^n] And another.[^m]\n\n[^n]: The note.\n[^m]: Second *note*.\n"},
		{"images", "![A cat](/img/cat.png \"Title\")\n\n![](https://cdn.example/x.jpg)\n"},
		{"unsafe", "<script>alert(1)</script>\n\nA <span onclick=\"x()\">span</span>.\n\n[js](javascript:alert(1)) [ent](&#106;avascript:alert(1)) <javascript:alert(2)> ![d](data:text/html;base64,PHNjcmlwdD4=) ![ok](data:image/png;base64,iVBORw0K)\n\n[ok](https://example.com/?a=1&b=2 \"t\")\n"},
		{"liquid", "Go to {{ site.repository }}/issues.\n\n{% highlight ruby %}\nputs 1\n{% endhighlight %}\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := load(t, mapFS(map[string]string{"posts/a.md": renderFront + c.body, "static/img/cat.png": "png"}), Options{})
			if len(s.Posts) != 1 {
				t.Fatalf("no post: %v", s.Diagnostics)
			}
			golden(t, "golden/"+c.name+".html", s.Posts[0].HTML())
		})
	}
}

func TestNoDangerousURLs(t *testing.T) {
	body := "[a](javascript:alert(1)) [b](JAVASCRIPT:x) [c](&#x6A;avascript:y) [d](vbscript:z) [e](file:///etc/passwd)\n\n" +
		"![f](data:text/html,x) <javascript:q> [g]( javascript:w)\n\n[h][ref]\n\n[ref]: javascript:ref\n\n" +
		"<a href=\"javascript:raw()\">raw</a> <img src=\"jav&#x09;ascript:x\"> <a href=' JaVaScRiPt:y'>y</a>\n"
	for _, unsafe := range []bool{false, true} {
		cfg := testConfig
		if unsafe {
			cfg += "unsafe_html: true\n"
		}
		s := load(t, mapFS(map[string]string{ConfigFile: cfg, "posts/a.md": renderFront + body}), Options{})
		html := strings.ToLower(s.Posts[0].HTML())
		for _, bad := range []string{"javascript:", "vbscript:", "data:text", "file:"} {
			for _, attr := range []string{`href="`, `src="`, `href='`} {
				if strings.Contains(html, attr+bad) || strings.Contains(html, attr+" "+bad) {
					t.Errorf("unsafe=%v: %s%s reached the HTML:\n%s", unsafe, attr, bad, s.Posts[0].HTML())
				}
			}
		}
		if unsafe != strings.Contains(html, "<a href=\"#\">raw</a>") {
			t.Errorf("unsafe=%v: raw HTML handling wrong:\n%s", unsafe, s.Posts[0].HTML())
		}
	}
}

func TestLinks(t *testing.T) {
	files := map[string]string{
		"posts/2026-01-02-other.md":   "---\ntitle: Other\n---\nHi.\n",
		"posts/bundle/index.md":       "---\ntitle: Bundle\ndate: 2026-01-03\nimage: cover.png\n---\n![pic](pic.png) [file](files/data.csv) [other](../2026-01-02-other.md#sec) [abs](/posts/2026-01-02-other.md)\n",
		"posts/bundle/pic.png":        "png",
		"posts/bundle/cover.png":      "png",
		"posts/bundle/files/data.csv": "a,b",
		"posts/a.md": "---\ntitle: A\ndate: 2026-01-04\n---\n" +
			"[o](2026-01-02-other.md) [o2](./2026-01-02-other.md?x=1#top) [b](bundle/index.md) [bdir](bundle/) [bpic](bundle/pic.png)\n" +
			"[site](/about/) [already](/blog/about/) [static](../static/logo.svg) ![logo](/logo.svg) [frag](#x) [ext](https://example.com/a) [mail](mailto:x@example.com)\n",
		"static/logo.svg": "<svg/>",
	}
	s := load(t, mapFS(files), Options{})
	// /about/ is no page of this site: both spellings of it are reported.
	if got := strings.Join(diagKeys(s.Diagnostics), " "); got != "posts/a.md:6:8 broken-link posts/a.md:6:27 broken-link" {
		t.Fatalf("diagnostics: %v", s.Diagnostics)
	}
	a := postBySlug(s, "a")
	for _, want := range []string{
		`href="/blog/posts/other/"`, `href="/blog/posts/other/?x=1#top"`, `href="/blog/posts/bundle/"`,
		`href="/blog/posts/bundle/pic.png"`, `href="/blog/about/"`, `href="/blog/logo.svg"`, `src="/blog/logo.svg"`,
		`href="#x"`, `href="https://example.com/a"`, `href="mailto:x@example.com"`,
	} {
		if !strings.Contains(a.HTML(), want) {
			t.Errorf("post a lacks %s:\n%s", want, a.HTML())
		}
	}
	if strings.Count(a.HTML(), `href="/blog/posts/bundle/"`) != 2 || strings.Count(a.HTML(), `href="/blog/about/"`) != 2 {
		t.Errorf("bundle links or base path not deduplicated:\n%s", a.HTML())
	}
	b := postBySlug(s, "bundle")
	for _, want := range []string{`src="pic.png"`, `href="files/data.csv"`, `href="/blog/posts/other/#sec"`, `href="/blog/posts/other/"`} {
		if !strings.Contains(b.HTML(), want) {
			t.Errorf("bundle lacks %s:\n%s", want, b.HTML())
		}
	}
	if b.Image != "/blog/posts/bundle/cover.png" {
		t.Errorf("cover %q", b.Image)
	}
	var targets []string
	for _, as := range s.Assets {
		targets = append(targets, as.Source+"->"+as.Target)
	}
	want := "static/logo.svg->logo.svg posts/bundle/cover.png->posts/bundle/cover.png posts/bundle/files/data.csv->posts/bundle/files/data.csv posts/bundle/pic.png->posts/bundle/pic.png"
	if strings.Join(targets, " ") != want {
		t.Errorf("assets %q", targets)
	}

	// A preview relocates every site-absolute link under its own base.
	p := load(t, mapFS(files), Options{BaseURL: "https://acme.github.io/blog/pr-preview/pr-7"})
	pa := postBySlug(p, "a")
	for _, want := range []string{`href="/blog/pr-preview/pr-7/posts/other/"`, `href="/blog/pr-preview/pr-7/about/"`, `src="/blog/pr-preview/pr-7/logo.svg"`} {
		if !strings.Contains(pa.HTML(), want) {
			t.Errorf("preview lacks %s:\n%s", want, pa.HTML())
		}
	}
	if strings.Count(pa.HTML(), `href="/blog/pr-preview/pr-7/about/"`) != 2 {
		t.Errorf("a link written with /blog/ is not relocated:\n%s", pa.HTML())
	}
	if got := postBySlug(p, "bundle").Image; got != "/blog/pr-preview/pr-7/posts/bundle/cover.png" {
		t.Errorf("preview cover %q", got)
	}
	if p.Config.BaseURL != "https://acme.github.io/blog/pr-preview/pr-7/" {
		t.Errorf("base url %q", p.Config.BaseURL)
	}
}

func TestHighlightCSS(t *testing.T) {
	css := HighlightCSS(DefaultLightStyle, DefaultDarkStyle)
	if !strings.Contains(css, ".chroma") || !strings.Contains(css, "@media (prefers-color-scheme: dark)") || strings.Contains(css, ".bg ") {
		t.Errorf("css:\n%s", css)
	}
	if HighlightCSS("github", "") == css || !strings.Contains(HighlightCSS("github", ""), ".chroma .k") {
		t.Error("light-only CSS wrong")
	}
}

// TestHighlightCSSDarkCoversLight: the light rules stay in force inside the
// dark media query, so every colour light sets must be set again under dark
// (github-dark has no rule for names and punctuation, which showed as dark
// grey on the dark background).
func TestHighlightCSSDarkCoversLight(t *testing.T) {
	css := HighlightCSS(DefaultLightStyle, DefaultDarkStyle)
	i := strings.Index(css, "@media (prefers-color-scheme: dark)")
	if i < 0 {
		t.Fatal("no dark block")
	}
	light, dark := cssRuleList(css[:i]), cssRules(css[i:])
	for _, r := range light {
		for _, p := range r.props {
			if resetValues[p] != "" && !slices.Contains(dark[r.sel], p) {
				t.Errorf("%s { %s } of the light style is not overridden in dark mode", r.sel, p)
			}
		}
	}
	for _, sel := range []string{".chroma .nx", ".chroma .p", ".chroma .nb"} {
		if !strings.Contains(css[i:], sel+" { color: inherit }") {
			t.Errorf("dark block lacks the reset of %s", sel)
		}
	}
}
