package posts

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// outsideCode is html without its <pre> and <code> elements.
var codeRE = regexp.MustCompile(`(?s)<pre[ >].*?</pre>|<code[ >].*?</code>`)

// TestJekyllCorpusTemplates builds the real Jekyll news posts with the
// params `publishbot init` writes for jekyllrb.com's _config.yml: no
// Liquid is left outside code, and highlight blocks are highlighted code.
func TestJekyllCorpusTemplates(t *testing.T) {
	dir := sharedTestdata(t, "corpus/jekyll")
	files := fstest.MapFS{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(dir + "/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		files["_posts/"+e.Name()] = &fstest.MapFile{Data: b}
	}
	files["publish.yaml"] = &fstest.MapFile{Data: []byte("title: Jekyll News\nbase_url: https://jekyllrb.com/\ngenerator: jekyll\nposts_dir: _posts\nparams:\n  repository: https://github.com/jekyll/jekyll\n")}
	s := load(t, files, Options{})
	if len(s.Posts) != 102 {
		t.Fatalf("%d posts", len(s.Posts))
	}
	highlighted := 0
	for _, p := range s.Posts {
		out := codeRE.ReplaceAllString(p.HTML(), "")
		for _, bad := range []string{"{%", "{{", "endhighlight"} {
			if i := strings.Index(out, bad); i >= 0 {
				t.Errorf("%s: %q outside code: …%s…", p.Path, bad, out[max(0, i-60):min(len(out), i+60)])
			}
		}
		if strings.Contains(p.Path, "2014-03-27-jekyll-1-5-1") {
			highlighted = strings.Count(p.HTML(), `aria-label="Ruby code"`)
			if !strings.Contains(p.HTML(), `sanitized_path`) || strings.Contains(p.HTML(), "<blockquote>") {
				t.Errorf("highlight block not code: %s", p.HTML())
			}
		}
		if strings.Contains(p.Path, "2013-05-08-jekyll-1-0-1") && !strings.Contains(p.HTML(), `href="https://github.com/jekyll/jekyll/issues/1037"`) {
			t.Errorf("reference links from the for loop not made: %s", p.HTML())
		}
		if strings.Contains(p.Path, "2017-03-21-jekyll-3-4-3") && !strings.Contains(p.HTML(), `href="/news/2017/01/18/jekyll-3-4-0-released/"`) && !strings.Contains(p.HTML(), `jekyll-3-4-0-released`) {
			t.Errorf("{%% link %%} not resolved: %s", p.HTML())
		}
	}
	if highlighted != 2 {
		t.Errorf("%d highlighted Ruby blocks in the 1.5.1 post, want 2", highlighted)
	}
	for _, d := range s.Diagnostics {
		if d.Code == CodeLiquid && !strings.Contains(d.Message, "_docs/history.md") {
			t.Errorf("unexpected: %s", d)
		}
	}
}

// TestTemplatesHostile: each hostile template is stopped with a warning
// at its line, and the rest of the post is kept.
func TestTemplatesHostile(t *testing.T) {
	const fm = "---\ntitle: A\ndate: 2026-01-01\n---\n"
	for _, c := range []struct {
		name, gen, body string
		line            int
		msg             string
	}{
		{"loop forever", "jekyll", "Before.\n\n{% for i in (1..99999999999) %}x{% endfor %}\n\nAfter.\n", 7, "loop"},
		{"1 GB string", "jekyll", "Before.\n\n{% assign s = \"0123456789abcdef\" %}\n{% for i in (1..26) %}{% assign s = s | append: s %}{% endfor %}{{ s }}\n\nAfter.\n", 8, "limit is"},
		{"recursive include", "jekyll", "Before.\n\n{% include self.html %}\n\nAfter.\n", 7, "nested more than"},
		{"nested 10000 deep", "hugo", "Before.\n\n" + strings.Repeat("{{< details >}}", 10000) + "x" + strings.Repeat("{{< /details >}}", 10000) + "\n\nAfter.\n", 7, "nested more than 50"},
		{"unknown shortcode", "", "Before.\n\n{{< foo >}}\n\nAfter.\n", 7, "Hugo shortcode {{< foo >}} is not supported"},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := mapFS(map[string]string{"posts/a.md": fm + c.body, "_includes/self.html": "{% include self.html %}",
				"publish.yaml": "title: T\ngenerator: " + c.gen + "\n"})
			if c.gen == "" {
				files["publish.yaml"].Data = []byte("title: T\n")
			}
			s := load(t, files, Options{})
			if len(s.Posts) != 1 {
				t.Fatalf("post left out: %s", formatDiags(s.Diagnostics))
			}
			html := s.Posts[0].HTML()
			if !strings.Contains(html, "Before.") || !strings.Contains(html, "After.") {
				t.Errorf("the rest of the post is not kept: %.300s", html)
			}
			found := false
			for _, d := range s.Diagnostics {
				if d.Code == CodeLiquid && d.Line == c.line && strings.Contains(d.Message, c.msg) {
					found = true
				}
			}
			if !found {
				t.Errorf("no warning at line %d with %q: %s", c.line, c.msg, formatDiags(s.Diagnostics))
			}
		})
	}
}

// TestShortcodeXSS: a custom shortcode's output goes through the
// sanitiser, with the warning at the shortcode's line; lines after an
// expansion keep their numbers.
func TestShortcodeXSS(t *testing.T) {
	files := mapFS(map[string]string{
		"publish.yaml":                   "title: T\ngenerator: hugo\n",
		"templates/shortcodes/evil.html": `<div onclick="alert(1)">{{ .Get 0 }}</div><script>alert(2)</script>`,
		"posts/a.md":                     "---\ntitle: A\ndate: 2026-01-01\n---\nIntro.\n\n{{< evil \"<img src=x onerror=alert(3)>\" >}}\n\n{{< details >}}\nmore\nlines\n{{< /details >}}\n\n[broken](nowhere.md)\n",
	})
	s := load(t, files, Options{})
	html := s.Posts[0].HTML()
	for _, bad := range []string{"<script", "onclick", "<img"} {
		if strings.Contains(html, bad) {
			t.Errorf("%s in %s", bad, html)
		}
	}
	var lines []string
	for _, d := range s.Diagnostics {
		lines = append(lines, d.Code+"@"+strconv.Itoa(d.Line))
	}
	got := strings.Join(lines, " ")
	if !strings.Contains(got, "raw-html@7") || !strings.Contains(got, "broken-link@14") {
		t.Errorf("diagnostics %s: %s", got, formatDiags(s.Diagnostics))
	}
}

// TestTemplatesKeepLines: after Liquid made more or fewer lines, the
// diagnostics of the rest of the post are at the lines as written.
func TestTemplatesKeepLines(t *testing.T) {
	files := mapFS(map[string]string{
		"publish.yaml":         "title: T\ngenerator: jekyll\n",
		"_includes/three.html": "a\n\nb\n\nc\n\nd",
		"posts/a.md": "---\ntitle: A\ndate: 2026-01-01\n---\n{% include three.html %}\n\n{% highlight go %}\nx\n{% endhighlight %}\n" +
			"{% assign n = \"1|2|3\" | split: \"|\" %}{% for i in n %}\nline {{ i }} {% cycle 'odd', 'even' %}\n{% endfor %}\n\n[broken](nowhere.md) ![](missing.png)\n",
	})
	s := load(t, files, Options{})
	if len(s.Posts) != 1 {
		t.Fatal(formatDiags(s.Diagnostics))
	}
	if h := s.Posts[0].HTML(); !strings.Contains(h, "line 3 odd") || !strings.Contains(h, `aria-label="Go code"`) {
		t.Errorf("not expanded: %s", h)
	}
	var got []string
	for _, d := range s.Diagnostics {
		got = append(got, fmt.Sprintf("%d:%d %s", d.Line, d.Column, d.Code))
	}
	want := []string{"14:10 broken-link", "14:26 image-alt", "14:26 missing-image"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %v, want %v\n%s", got, want, formatDiags(s.Diagnostics))
	}
}

// TestShortcodeTemplatesFrom: custom shortcodes come from
// Options.Templates when set (a fork's preview passes the base branch's
// templates/), never from the content tree then.
func TestShortcodeTemplatesFrom(t *testing.T) {
	content := mapFS(map[string]string{
		"publish.yaml":                   "title: T\ngenerator: hugo\n",
		"templates/shortcodes/note.html": `<p class="fork">{{ .Inner }}</p>`,
		"posts/a.md":                     "---\ntitle: A\ndate: 2026-01-01\n---\n{{< note >}}hi{{< /note >}}\n",
	})
	if h := load(t, content, Options{}).Posts[0].HTML(); !strings.Contains(h, `class="fork"`) {
		t.Errorf("content's own shortcode not used: %s", h)
	}
	base := fstest.MapFS{"shortcodes/note.html": {Data: []byte(`<p class="base">{{ .Inner }}</p>`)}}
	if h := load(t, content, Options{Templates: base}).Posts[0].HTML(); !strings.Contains(h, `class="base"`) || strings.Contains(h, "fork") {
		t.Errorf("base templates not used: %s", h)
	}
	s := load(t, content, Options{Templates: fstest.MapFS{}})
	if h := s.Posts[0].HTML(); strings.Contains(h, "fork") {
		t.Errorf("content's shortcode used with other templates given: %s", h)
	}
}

// TestGeneratorHint: without generator in publish.yaml, the repository's
// files decide which syntax runs: Liquid is not run on a Hugo blog's posts
// and shortcodes are not read in a Jekyll blog's.
func TestGeneratorHint(t *testing.T) {
	post := "---\ntitle: A\ndate: 2026-01-01\n---\n{{ page.title }} {{< youtube abcdef >}}\n"
	jekyll := load(t, mapFS(map[string]string{"_config.yml": "title: x\n", "publish.yaml": "title: T\n", "posts/a.md": post}), Options{})
	if h := jekyll.Posts[0].HTML(); !strings.Contains(h, "A {{&lt; youtube") || strings.Contains(h, "iframe") {
		t.Errorf("jekyll: %s", h)
	}
	hugo := load(t, mapFS(map[string]string{"hugo.toml": "title = 'x'\n", "publish.yaml": "title: T\n", "posts/a.md": post}), Options{})
	if h := hugo.Posts[0].HTML(); !strings.Contains(h, "{{ page.title }}") || !strings.Contains(h, "youtube-nocookie.com/embed/abcdef") {
		t.Errorf("hugo: %s", h)
	}
	for _, d := range jekyll.Diagnostics {
		if d.Code == CodeLiquid && !strings.Contains(d.Message, "Hugo shortcode {{< youtube abcdef >}} is not supported") {
			t.Errorf("jekyll: %s", d)
		}
	}
}
