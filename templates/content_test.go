package templates

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// scriptsIn names the elements and attributes of an HTML page that would
// run script: "" when there is none. Structured data (a script element of
// type application/ld+json) runs nothing; the search page's own script is
// checked by checkScripts.
func scriptsIn(doc []byte) string {
	z := html.NewTokenizer(bytes.NewReader(doc))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if tok.Data == "script" && len(tok.Attr) == 1 && tok.Attr[0].Key == "type" && tok.Attr[0].Val == "application/ld+json" {
				continue
			}
			if tok.Data == "script" || tok.Data == "iframe" || tok.Data == "object" || tok.Data == "embed" {
				return tok.String()
			}
			for _, a := range tok.Attr {
				v := strings.ToLower(strings.TrimSpace(a.Val))
				if strings.HasPrefix(a.Key, "on") || strings.HasPrefix(v, "javascript:") || a.Key == "srcdoc" {
					return tok.String()
				}
			}
		}
	}
}

// TestHostileFrontMatter: every value the theme fills from front matter
// is escaped by html/template in its context (text, attribute, URL,
// JSON-LD-free head tags), so a hostile title, summary, author, tag or
// image text runs nothing on any page.
func TestHostileFrontMatter(t *testing.T) {
	evil := `"><script>alert(1)</script><img src=x onerror=alert(2)>`
	site, content := loadFiles(t, map[string]string{
		"publish.yaml": "title: Blog\nbase_url: https://acme.github.io/blog/\n",
		"posts/2026-01-02-evil.md": "---\ntitle: '" + evil + "'\nsummary: '" + evil + "'\nauthor: '" + evil + "'\n" +
			"tags: ['" + evil + "', ok]\nimage: /img/cover.png\nimage_alt: '" + evil + "'\ntoc: true\n---\n## Heading " + evil + "\n\nText.\n",
		"posts/2026-01-01-other.md": "---\ntitle: Other\n---\nText.\n",
		"static/img/cover.png":      "png",
	})
	if len(site.Posts) != 2 {
		t.Fatalf("posts: %v", site.Diagnostics)
	}
	out := mustRender(t, site, content, Options{})
	pages := 0
	for p, data := range out {
		if !strings.HasSuffix(p, ".html") {
			continue
		}
		pages++
		checkScripts(t, p, data)
	}
	if pages < 5 {
		t.Errorf("only %d pages", pages)
	}
	page := out["posts/evil/index.html"]
	texts := strings.Join(textOf(t, page), "\n")
	for _, want := range []string{evil} {
		if !strings.Contains(texts, want) {
			t.Errorf("the page does not show %q as text:\n%s", want, texts)
		}
	}
	if !bytes.Contains(page, []byte(`alt="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"`)) {
		t.Errorf("image_alt not escaped as an attribute:\n%s", page)
	}
}

// TestPostPageTOCAndCode: the contents list comes before the body; code
// blocks keep their options' markup.
func TestPostPageTOCAndCode(t *testing.T) {
	site, content := loadFiles(t, map[string]string{
		"publish.yaml":          "title: Blog\nbase_url: https://acme.github.io/blog/\ntoc: true\n",
		"posts/2026-01-02-a.md": "---\ntitle: A\n---\nIntro.\n\n## One\n\n```go {linenos=true, hl_lines=[1], title=\"a.go\"}\npackage a\n```\n\n## Two\n",
	})
	out := mustRender(t, site, content, Options{})
	s := string(out["posts/a/index.html"])
	nav := strings.Index(s, `<nav class="toc" aria-label="Contents">`)
	body := strings.Index(s, `<div class="content">`)
	if nav < 0 || body < nav {
		t.Fatalf("no contents list before the body:\n%s", s)
	}
	for _, want := range []string{`<a href="#one">One</a>`, `<a href="#two">Two</a>`, `<figcaption>a.go</figcaption>`, `<span class="line hl"><span class="ln">1</span>`} {
		if !strings.Contains(s, want) {
			t.Errorf("post page lacks %s", want)
		}
	}
	// Feeds carry the body, not the page's navigation.
	if bytes.Contains(out["feed.xml"], []byte("toc-title")) {
		t.Errorf("the contents list is in the feed")
	}
}
