package posts

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	xhtml "golang.org/x/net/html"
)

// runnable returns what in the HTML h a browser could run, or could use to
// cover the page or send the reader elsewhere: "" when there is nothing.
// It reads h with the HTML tokenizer, as a browser reads the page. embeds
// are the hosts an iframe may load.
func runnable(h string, embeds []string) string {
	forbidden := map[string]bool{
		"script": true, "style": true, "object": true, "embed": true, "applet": true, "form": true,
		"input": true, "button": true, "select": true, "textarea": true, "option": true, "base": true,
		"link": true, "meta": true, "svg": true, "math": true, "noscript": true, "template": true,
		"frame": true, "frameset": true, "title": true, "xmp": true, "plaintext": true, "noembed": true,
		"noframes": true, "portal": true, "isindex": true,
	}
	z := xhtml.NewTokenizer(strings.NewReader(h))
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			return ""
		}
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
			if tt == xhtml.CommentToken && strings.Contains(strings.ToLower(string(z.Raw())), "<script") {
				return "a comment holding a script"
			}
			continue
		}
		tok := z.Token()
		if forbidden[tok.Data] && !(tok.Data == "input" && attrValue(tok.Attr, "type") == "checkbox" && hasAttr(tok.Attr, "disabled")) {
			return "element " + tok.Data // (a task list's checkbox is Markdown's)
		}
		if tok.Data == "iframe" {
			u, err := url.Parse(attrValue(tok.Attr, "src"))
			if err != nil || u.Scheme != "https" || !slices.Contains(embeds, strings.ToLower(u.Host)) || !hasAttr(tok.Attr, "sandbox") {
				return "iframe " + attrValue(tok.Attr, "src")
			}
		}
		for _, a := range tok.Attr {
			k := strings.ToLower(a.Key)
			switch {
			case strings.HasPrefix(k, "on"), k == "srcdoc", k == "formaction", k == "action", strings.Contains(k, ":"), k == "background", k == "data":
				return "attribute " + k + " on " + tok.Data
			case k == "style":
				for _, d := range strings.Split(strings.ToLower(a.Val), ";") {
					prop, val, _ := strings.Cut(d, ":")
					prop, val = strings.TrimSpace(prop), strings.TrimSpace(val)
					switch {
					case slices.Contains([]string{"position", "top", "left", "right", "bottom", "z-index", "transform", "translate", "float", "box-shadow", "clip-path"}, prop),
						strings.HasPrefix(prop, "inset"),
						strings.Contains(val, "url("), strings.Contains(val, "expression"), strings.Contains(val, "var("), strings.Contains(val, "\\"),
						strings.HasPrefix(prop, "margin") && strings.Contains(val, "-"):
						return "style " + a.Val
					}
				}
			case k == "href" || k == "src" || k == "poster" || k == "cite" || k == "srcset":
				vals := []string{a.Val}
				if k == "srcset" {
					vals = strings.Split(a.Val, ",")
				}
				for _, v := range vals {
					f := strings.Fields(v)
					if len(f) == 0 {
						continue
					}
					switch s := urlScheme(f[0]); s {
					case "data":
						if tok.Data != "img" || k != "src" || !rasterDataURL(strings.TrimSpace(f[0])[5:]) {
							return k + " " + f[0] + " on " + tok.Data
						}
					case "javascript", "vbscript", "livescript", "file", "blob", "filesystem", "jar":
						return k + " " + f[0] + " on " + tok.Data
					}
				}
			}
		}
	}
}

// TestSanitizeKeeps: the markup a blog needs survives as written, with no
// warning.
func TestSanitizeKeeps(t *testing.T) {
	keep := []string{
		`<table class="data" id="t1"><caption>Sizes</caption><thead><tr><th scope="col" colspan="2">A</th></tr></thead><tbody><tr><td rowspan="2" align="right">1</td><td>2</td></tr></tbody><tfoot><tr><td>f</td></tr></tfoot></table>`,
		`<details open=""><summary>More</summary><p>Hidden <kbd>Ctrl</kbd>+<kbd>C</kbd>, x<sup>2</sup>, H<sub>2</sub>O, <abbr title="HyperText Markup Language">HTML</abbr>, <mark>marked</mark>.</p></details>`,
		`<figure><img src="/blog/img/cat.png" alt="A cat" title="Cat" srcset="/blog/img/cat.png 1x, https://cdn.example/cat@2x.png 2x" sizes="(max-width: 600px) 100vw, 600px" width="600" height="400" loading="lazy"/><figcaption>A cat.</figcaption></figure>`,
		`<picture><source srcset="https://cdn.example/a.webp" type="image/webp"/><img src="https://cdn.example/a.jpg" alt="A"/></picture>`,
		`<video src="https://cdn.example/v.mp4" poster="https://cdn.example/v.jpg" controls="" width="640"><track src="https://cdn.example/v.vtt" kind="captions" srclang="en" label="English"/></video>`,
		`<audio controls=""><source src="https://cdn.example/a.ogg" type="audio/ogg"/></audio>`,
		`<dl><dt>Term</dt><dd>Definition</dd></dl>`,
		`<div class="note" style="display: flex; padding: 1em">Flex</div>`,
		`<p><img src="data:image/png;base64,iVBORw0KGgo=" alt="dot"/> <a href="https://example.com/" title="t" target="_blank">out</a> <a href="#top">top</a> <a href="mailto:a@example.com">mail</a></p>`,
		`<progress value="21" max="40"></progress>`,
		`<iframe src="https://www.youtube-nocookie.com/embed/xyz" width="560" height="315" title="A video" allowfullscreen="" sandbox="` + iframeSandbox + `" referrerpolicy="strict-origin-when-cross-origin" loading="lazy"></iframe>`,
	}
	body := strings.Join(keep, "\n\n") + "\n"
	s := load(t, mapFS(map[string]string{"posts/a.md": renderFront + body, "static/img/cat.png": "png"}), Options{})
	if len(s.Posts) != 1 {
		t.Fatalf("no post: %v", s.Diagnostics)
	}
	if len(s.Diagnostics) != 0 {
		t.Errorf("diagnostics for markup that is kept:\n%s", formatDiags(s.Diagnostics))
	}
	for _, k := range keep {
		if !strings.Contains(s.Posts[0].HTML(), k) {
			t.Errorf("lost or changed:\n%s\nin:\n%s", k, s.Posts[0].HTML())
		}
	}
	if p := s.Posts[0]; !strings.Contains(p.Summary, "Sizes A 1 2") || p.Words < 20 {
		t.Errorf("the text of raw HTML is not read: summary %q, %d words", p.Summary, p.Words)
	}
}

// hostileHTML are known ways past sanitisers, each with what the warning
// must name (a part of its message; "" for none required).
var hostileHTML = []struct{ html, names string }{
	{"<script>alert(1)</script>", "script element removed"},
	{"<SCRIPT SRC=//evil.example/x.js></SCRIPT>", "script element removed"},
	{"<img src=x onerror=alert(1)>", "onerror attribute removed"},
	{"Text <img src=x\nonerror=alert(1)> spread over two lines.", "onerror attribute removed"},
	{`Text <img src="x" onerror="alert(1)` + "\n**bold**\n" + `"> with Markdown inside.`, ""},
	{`<a href="jav&#x61;script:alert(1)">entity</a>`, "href attribute removed (javascript: URL)"},
	{`<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">decimal</a>`, "href attribute removed (javascript: URL)"},
	{`<a href="javascript&colon;alert(1)">named</a>`, "href attribute removed (javascript: URL)"},
	{"<a href=\"java\tscript:alert(1)\">tab</a>", "href attribute removed"},
	{`<a href="  JaVaScRiPt:alert(1)">case</a>`, "href attribute removed (javascript: URL)"},
	{`<a href="vbscript:msgbox(1)">vb</a>`, "href attribute removed (vbscript: URL)"},
	{`<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>`, "href attribute removed"},
	{`<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+" alt="svg">`, "src attribute removed (only PNG, JPEG, GIF and WebP data: images are kept)"},
	{`<iframe srcdoc="<script>alert(1)</script>"></iframe>`, "iframe element removed"},
	{`<iframe src="javascript:alert(1)"></iframe>`, "iframe element removed"},
	{`<iframe src="https://www.youtube-nocookie.com/embed/x" onload="alert(1)" srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>`, "srcdoc attribute removed"},
	{`<iframe src="https://evil.example/">fallback</iframe>`, "iframe from evil.example removed"},
	{`<form action="https://evil.example/"><button formaction="javascript:alert(1)">go</button><input name="q"></form>`, "form element removed"},
	{`<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">svg link</text></a></svg>`, "svg element removed"},
	{`<svg onload=alert(1)>`, "svg element removed"},
	{`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`, "math element removed"},
	{`<math><mi xlink:href="javascript:alert(1)">x</mi></math>`, "math element removed"},
	{`<noscript><p title="</noscript><img src=x onerror=alert(1)>">`, ""},
	{`<noscript><style></noscript><img src=x onerror=alert(1)></style>`, ""},
	{`<!-- <!-- --> <img src=x onerror=alert(1)> -->`, "onerror attribute removed"},
	{`<![CDATA[<img src=x onerror=alert(1)>]]>`, ""}, // a bogus comment up to the first ">"
	{`<style>@import 'https://evil.example/x.css';</style>`, "style element removed"},
	{`<div style="position:fixed;top:0;left:0;width:100%;height:100%;z-index:9999">cover</div>`, "style properties position, top, left, z-index removed"},
	{`<div style="background:url(javascript:alert(1))">bg</div>`, "style property background removed"},
	{`<div style="margin:-200px 0 0 0">up</div>`, "style property margin removed"},
	{`<object data="javascript:alert(1)"></object><embed src="https://evil.example/x.swf">`, "object element removed"},
	{`<base href="https://evil.example/"><link rel=stylesheet href=https://evil.example/x.css><meta http-equiv="refresh" content="0;url=javascript:alert(1)">`, "base element removed"},
	{`<video src="https://cdn.example/v.mp4" onerror=alert(1) autoplay></video>`, "autoplay attribute removed"},
	{`<details open ontoggle=alert(1)><summary>s</summary></details>`, "ontoggle attribute removed"},
	{`<a href="https://example.com/" onmouseover="alert(1)">hover</a>`, "onmouseover attribute removed"},
	{`<textarea><img src=x onerror=alert(1)></textarea>`, "textarea element removed"},
	{`<xmp><img src=x onerror=alert(1)></xmp>`, "xmp element removed"},
	{`<title><img src=x onerror=alert(1)></title>`, "title element removed"},
	{`<table><tr><td><style></td></tr></table><img src=x onerror=alert(1)>`, "style element removed"},
	{`<scr<script>ipt>alert(1)</script>`, "script element removed"},
	{`<<script>script>alert(1)<</script>/script>`, "script element removed"},
	{`<img src="x" alt="a&quot; onerror=&quot;alert(1)">`, ""},
	{`<div title="&lt;/div&gt;&lt;script&gt;alert(1)&lt;/script&gt;">t</div>`, ""},
	{`<img src=x onerror=alert(1)//`, ""}, // not a tag: Markdown text
	{"<div>\n<img src=x onerror=alert(1)//", "incomplete tag <img src=x onerror=alert(1)// removed"},
	{`<a href="https://example.com/" target="opener">named</a>`, "target attribute removed"},
	{`<template><img src=x onerror=alert(1)></template>`, "template element removed"},
	{`<div id="x" class="y" style="color:red" onclick="alert(1)">z</div>`, "onclick attribute removed"},
}

// TestSanitizeHostile: every known way past a sanitiser is stopped, with a
// warning that names what was removed, and the rest of the post is kept.
func TestSanitizeHostile(t *testing.T) {
	for i, c := range hostileHTML {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			body := "Before.\n\n" + c.html + "\n\nAfter " + fmt.Sprint(i) + ".\n"
			s := load(t, mapFS(map[string]string{"posts/a.md": renderFront + body}), Options{})
			if len(s.Posts) != 1 {
				t.Fatalf("post left out: %v", s.Diagnostics)
			}
			h := s.Posts[0].HTML()
			if bad := runnable(h, DefaultEmbeds); bad != "" {
				t.Errorf("%s reached the page:\n%s", bad, h)
			}
			if !strings.Contains(h, "<p>Before.</p>") || !strings.Contains(h, "After "+fmt.Sprint(i)+".") {
				t.Errorf("the rest of the post is lost:\n%s", h)
			}
			if c.names == "" {
				return
			}
			var msgs []string
			for _, d := range s.Diagnostics {
				if d.Code == CodeRawHTML {
					msgs = append(msgs, fmt.Sprintf("%d:%d %s", d.Line, d.Column, d.Message))
					if d.Line < 5 || d.Line > 5+strings.Count(c.html, "\n")+2 {
						t.Errorf("warning outside the HTML: %v", d)
					}
				}
			}
			if !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, c.names) }) {
				t.Errorf("no warning names %q: %q", c.names, msgs)
			}
		})
	}
}

// TestSanitizeWarnings: one warning per thing removed, at its line and
// column, and none for what is kept.
func TestSanitizeWarnings(t *testing.T) {
	body := "Intro.\n\n" + // line 5
		"<div class=\"card\"\n     onclick=\"go()\"\n     style=\"padding: 1em; position: absolute\">\n" + // 7-9
		"<script>\nalert(1)\n</script>\n" + // 10-12
		"<a href=\"javascript:alert(1)\">x</a> <img src=\"/img/cat.png\" alt=\"cat\">\n" + // 13
		"</div>\n\n" +
		"A <span onmouseover=\"x()\">span</span> and <b>bold</b>.\n" // 16
	s := load(t, mapFS(map[string]string{"posts/a.md": renderFront + body, "static/img/cat.png": "png"}), Options{})
	want := []string{
		"8:6 onclick attribute removed",
		"9:6 style property position removed",
		"10:1 script element removed",
		"13:4 href attribute removed (javascript: URL)",
		"16:9 onmouseover attribute removed",
	}
	var got []string
	for _, d := range s.Diagnostics {
		got = append(got, fmt.Sprintf("%d:%d %s", d.Line, d.Column, d.Message))
		if d.Code != CodeRawHTML || d.Severity != SeverityWarning {
			t.Errorf("unexpected %v", d)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("warnings:\n got %q\nwant %q", got, want)
	}
	h := s.Posts[0].HTML()
	for _, w := range []string{`<div class="card" style="padding: 1em">`, `<a>x</a> <img src="/blog/img/cat.png" alt="cat">`, `A <span>span</span> and <b>bold</b>.`} {
		if !strings.Contains(h, w) {
			t.Errorf("lacks %s:\n%s", w, h)
		}
	}
	if strings.Contains(h, "alert") {
		t.Errorf("the script's text is on the page:\n%s", h)
	}
}

// TestSanitizeEmbeds: iframes only from the hosts of embeds, sandboxed.
func TestSanitizeEmbeds(t *testing.T) {
	body := `<iframe src="https://www.youtube-nocookie.com/embed/a"></iframe>` + "\n\n" +
		`<iframe src="//player.vimeo.com/video/1"></iframe>` + "\n\n" +
		`<iframe src="https://videos.example.org/embed/2" width="560"></iframe>` + "\n\n" +
		`<iframe src="https://www.youtube.com/embed/3"></iframe>` + "\n"
	cases := []struct {
		name, config string
		kept         []string
		removed      []string
	}{
		{"default", "", []string{"https://www.youtube-nocookie.com/embed/a", "https://player.vimeo.com/video/1"}, []string{"videos.example.org", "www.youtube.com"}},
		{"own host", "embeds: [videos.example.org]\n", []string{"https://videos.example.org/embed/2"}, []string{"www.youtube-nocookie.com", "player.vimeo.com", "www.youtube.com"}},
		{"none", "embeds: []\n", nil, []string{"www.youtube-nocookie.com", "player.vimeo.com", "videos.example.org", "www.youtube.com"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := load(t, mapFS(map[string]string{ConfigFile: testConfig + c.config, "posts/a.md": renderFront + body}), Options{})
			if len(s.Posts) != 1 {
				t.Fatalf("no post: %v", s.Diagnostics)
			}
			h := s.Posts[0].HTML()
			if got := strings.Count(h, "<iframe"); got != len(c.kept) {
				t.Errorf("%d iframes, want %d:\n%s", got, len(c.kept), h)
			}
			for _, k := range c.kept {
				want := `<iframe src="` + k + `"`
				if !strings.Contains(h, want) {
					t.Errorf("lacks %s:\n%s", want, h)
				}
			}
			if strings.Count(h, `sandbox="`+iframeSandbox+`" referrerpolicy="strict-origin-when-cross-origin" loading="lazy"></iframe>`) != len(c.kept) {
				t.Errorf("an iframe lacks its sandbox, referrer policy or lazy loading:\n%s", h)
			}
			var msgs string
			for _, d := range s.Diagnostics {
				msgs += d.Message + "\n"
			}
			for _, r := range c.removed {
				if !strings.Contains(msgs, "iframe from "+r+" removed") {
					t.Errorf("no warning for %s:\n%s", r, msgs)
				}
			}
		})
	}
}

func TestConfigEmbeds(t *testing.T) {
	for _, c := range []struct {
		yaml string
		want []string
		diag string
	}{
		{"", DefaultEmbeds, ""},
		{"embeds: [Videos.Example.org, videos.example.org, player.vimeo.com]\n", []string{"videos.example.org", "player.vimeo.com"}, ""},
		{"embeds: []\n", []string{}, ""},
		{"embeds: videos.example.org\n", []string{"videos.example.org"}, ""},
		{"embeds: [player.vimeo.com, https://www.youtube.com/embed]\n", []string{"player.vimeo.com"}, "publish.yaml:3:28 config-invalid"},
		{"embeds: {a: b}\n", []string{}, "publish.yaml:3:9 config-invalid"},
	} {
		cfg, diags := LoadConfig(mapFS(map[string]string{ConfigFile: testConfig + c.yaml}), "acme/blog")
		var got []string
		for _, d := range diags {
			got = append(got, fmt.Sprintf("%s:%d:%d %s", d.File, d.Line, d.Column, d.Code))
		}
		if !slices.Equal(cfg.Embeds, c.want) || strings.Join(got, ",") != c.diag {
			t.Errorf("%q: embeds %q, diagnostics %q; want %q, %q", c.yaml, cfg.Embeds, got, c.want, c.diag)
		}
	}
	if def := DefaultConfig("a/b"); !slices.Equal(def.Embeds, DefaultEmbeds) {
		t.Errorf("default embeds %q", def.Embeds)
	}
	// A Config made by hand (a caller of Load with Options.Config) gets the
	// default hosts unless it says embeds.
	s := load(t, mapFS(map[string]string{"posts/a.md": renderFront + `<iframe src="https://player.vimeo.com/video/1"></iframe>` + "\n"}),
		Options{Config: &Config{Title: "T", BaseURL: "https://a.example/"}})
	if !strings.Contains(s.Posts[0].HTML(), "<iframe") {
		t.Errorf("a hand-made Config lost the default embeds:\n%s", s.Posts[0].HTML())
	}
}

// TestUnsafeHTMLKeepsRaw: with unsafe_html, raw HTML stays as written but
// for dangerous URLs, and nothing is reported.
func TestUnsafeHTMLKeepsRaw(t *testing.T) {
	body := "<div style=\"position: fixed\" onclick=\"go()\"><script>track()</script><a href=\"javascript:x()\">a</a></div>\n"
	s := load(t, mapFS(map[string]string{ConfigFile: testConfig + "unsafe_html: true\n", "posts/a.md": renderFront + body}), Options{})
	want := "<div style=\"position: fixed\" onclick=\"go()\"><script>track()</script><a href=\"#\">a</a></div>\n"
	if s.Posts[0].HTML() != want || len(s.Diagnostics) != 0 {
		t.Errorf("got %q, %v; want %q", s.Posts[0].HTML(), s.Diagnostics, want)
	}
}

// TestSanitizeNoscript: a chart's no-script image is shown (a post's
// scripts never run on the site); what the noscript held is sanitised.
func TestSanitizeNoscript(t *testing.T) {
	s := newSanitizer(DefaultEmbeds)
	out, removed := s.clean([]byte("<div class=\"chart\"><noscript>\n<img alt=\"chart\" height=\"600\" src=\"chart.png\" onload=\"x()\"/>\n</noscript></div>\n"), nil, nil)
	if !bytes.Contains(out, []byte(`<img alt="chart" height="600" src="chart.png"/>`)) || bytes.Contains(out, []byte("noscript")) {
		t.Errorf("noscript image: %s", out)
	}
	if len(removed) != 1 || removed[0].what != "onload attribute removed" || removed[0].at != 76 {
		t.Errorf("removed %v", removed)
	}
}

// TestZolaCorpusRawHTML renders every post of the Rust blog (Zola) with
// the default settings: each table and image written as raw HTML in a
// post's source is in its page, and no script, event handler or
// javascript: URL is.
func TestZolaCorpusRawHTML(t *testing.T) {
	files, bodies := zolaPosts(t)
	s := load(t, files, Options{})
	bySource := map[string]*Post{}
	for _, p := range s.Posts {
		bySource[p.Path] = p
	}
	tagRE := func(name string) *regexp.Regexp { return regexp.MustCompile(`(?i)<` + name + `[\s/>]`) }
	tableRE, imgRE := tagRE("table"), tagRE("img")
	var posts, tables, images int
	for path, body := range bodies {
		p := bySource[path]
		if p == nil {
			t.Errorf("%s is not published: %v", path, filterFile(s.Diagnostics, path))
			continue
		}
		if bad := runnable(p.HTML(), DefaultEmbeds); bad != "" {
			t.Errorf("%s: %s reached the page", path, bad)
		}
		raw, mdTables, mdImages := rawHTMLOf(body)
		wantTables := len(tableRE.FindAllString(raw, -1))
		wantImages := len(imgRE.FindAllString(raw, -1))
		if wantTables+wantImages == 0 {
			continue
		}
		posts++
		tables += wantTables
		images += wantImages
		if got := len(tableRE.FindAllString(p.HTML(), -1)) - mdTables; got != wantTables {
			t.Errorf("%s: %d of %d raw HTML tables in the page", path, got, wantTables)
		}
		if got := len(imgRE.FindAllString(p.HTML(), -1)) - mdImages; got != wantImages {
			t.Errorf("%s: %d of %d raw HTML images in the page", path, got, wantImages)
		}
	}
	t.Logf("%d posts write raw HTML tables or images: %d tables, %d images, all kept", posts, tables, images)
	if posts < 10 || tables < 100 || images < 50 {
		t.Errorf("the corpus has fewer raw tables and images than it should: %d posts, %d tables, %d images", posts, tables, images)
	}
}

// zolaPosts is zolaFS and each post's Markdown body, by its path.
func zolaPosts(t *testing.T) (fstest.MapFS, map[string]string) {
	files := zolaFS(t)
	bodies := map[string]string{}
	for name, f := range files {
		if strings.HasSuffix(name, ".md") {
			_, body, _ := strings.Cut(string(f.Data), "\n---\n")
			bodies[name] = body
		}
	}
	return files, bodies
}

// rawHTMLOf is the raw HTML of a Markdown body (its HTML blocks and inline
// tags, comments left out), and the tables and images it writes in
// Markdown.
func rawHTMLOf(body string) (raw string, tables, images int) {
	src := []byte(body)
	doc := goldmark.New(goldmark.WithExtensions(extension.GFM, extension.Footnote)).Parser().Parse(text.NewReader(src))
	var b strings.Builder
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.HTMLBlock:
			b.Write(htmlBlockBytes(n, src))
		case *ast.RawHTML:
			for i := 0; i < n.Segments.Len(); i++ {
				seg := n.Segments.At(i)
				b.Write(seg.Value(src))
			}
		case *east.Table:
			tables++
		case *ast.Image:
			images++
		}
		return ast.WalkContinue, nil
	})
	return regexp.MustCompile(`(?s)<!--.*?-->`).ReplaceAllString(b.String(), ""), tables, images
}

// FuzzSanitize cleans one piece of raw HTML from outside: nothing runnable
// comes out, every iframe is closed at once, each kept tag is one of the
// input's, every removal is inside the input, and cleaning the output
// again removes nothing.
func FuzzSanitize(f *testing.F) {
	for _, c := range hostileHTML {
		f.Add([]byte(c.html))
	}
	f.Add([]byte(`<table><tr><td style="padding: 1em; color: red">x</td></tr></table><details><summary>s</summary></details>`))
	f.Add([]byte(`<iframe src="//player.vimeo.com/video/1" width="640">x</iframe></iframe><noscript><noscript><img src=a.png></noscript></noscript>`))
	f.Add([]byte(`<video src="v.mp4"><source src="data:video/mp4,x"></video><img srcset="a.png 1x, javascript:alert(1) 2x">`))
	s := newSanitizer(DefaultEmbeds)
	f.Fuzz(func(t *testing.T, frag []byte) {
		if len(frag) > 1<<16 {
			return
		}
		var text bytes.Buffer
		out, removed := s.clean(frag, &text, nil)
		if bad := runnable(string(out), DefaultEmbeds); bad != "" {
			t.Fatalf("%s in %q from %q", bad, out, frag)
		}
		for _, r := range removed {
			if r.at < 0 || r.at > len(frag) || r.what == "" {
				t.Fatalf("removal %+v outside %d bytes", r, len(frag))
			}
		}
		z := xhtml.NewTokenizer(bytes.NewReader(out))
		for prevFrame := false; ; {
			tt := z.Next()
			if tt == xhtml.ErrorToken {
				break
			}
			name, _ := z.TagName()
			if prevFrame && (tt != xhtml.EndTagToken || string(name) != "iframe") {
				t.Fatalf("an iframe not closed at once in %q", out)
			}
			prevFrame = tt == xhtml.StartTagToken && string(name) == "iframe"
		}
		in := prepareAll(frag)
		if len(in) != len(frag) {
			t.Fatalf("prepare changed the length")
		}
		_, kept := s.finish(s.policy.SanitizeBytes(in), nil)
		if _, matched := s.removed(in, kept); matched != len(kept) {
			t.Fatalf("%d of %d kept tags matched in %q", matched, len(kept), frag)
		}
		again, more := s.clean(out, nil, nil)
		if len(more) > 0 {
			t.Fatalf("cleaning %q again removed %v (from %q)", out, more, frag)
		}
		if !bytes.Equal(again, out) {
			t.Fatalf("cleaning %q again gave %q (from %q)", out, again, frag)
		}
	})
}

// TestDangerousURLFastPath: the first-byte shortcut says what
// html.IsDangerousURL says of the trimmed URL, for every scheme in any
// case and for the links that take the shortcut.
func TestDangerousURLFastPath(t *testing.T) {
	reference := func(u string) bool {
		u = strings.TrimLeftFunc(u, func(r rune) bool { return r <= ' ' || r == 0x7f })
		u = strings.Map(func(r rune) rune {
			if r < ' ' || r == 0x7f {
				return -1
			}
			return r
		}, u)
		return html.IsDangerousURL([]byte(u))
	}
	for _, u := range []string{
		"", " ", "https://example.com/", "/a", "#fn:1", "../x.png", "mailto:a@b",
		"javascript:alert(1)", "JaVaScRiPt:alert(1)", " \tjavascript:x", "java\tscript:x",
		"vbscript:x", "VBScript:x", "file:///etc/passwd", "FILE:x", "data:text/html,x",
		"DATA:text/html,x", "data:image/png;base64,AAAA", "Data:Image/PNG;base64,AA",
		"data:image/svg+xml,<svg>", "feed.xml", "docs/x", "valid.html", "jpg", "\x00javascript:x",
	} {
		if got, want := dangerousURL([]byte(u)), reference(u); got != want {
			t.Errorf("dangerousURL(%q) = %v, html.IsDangerousURL says %v", u, got, want)
		}
	}
}
