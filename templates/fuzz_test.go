package templates

import (
	"encoding/json"
	"io/fs"
	"net/url"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzRenderFields renders a post whose front matter fields are arbitrary
// text: Render never fails or panics, every output path is a valid site
// path, and no field text reaches HTML as markup.
func FuzzRenderFields(f *testing.F) {
	f.Add("Hello", "A summary", "go", "/old/", "/blog/img.png", "alt", "Ada")
	f.Add("<script>alert(1)</script>", "\"'><b>", "a b/c", "../../x", "javascript:alert(1)", "\"><script>", "</title><script>")
	f.Add("", "", "", "", "", "", "")
	r, err := New(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, title, summary, tag, alias, image, alt, author string) {
		site := handSite(3)
		p := site.Posts[1]
		p.Title, p.Summary, p.Tags, p.Aliases, p.Image, p.ImageAlt, p.Author = title, summary, []string{tag}, []string{alias}, image, alt, author
		site.Config.Title = title
		site.Config.Description = summary
		out, err := r.Render(t.Context(), site, nil, Options{})
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		for name, data := range out.Files {
			if !fs.ValidPath(name) || name == "." {
				t.Fatalf("output path %q", name)
			}
			if strings.HasSuffix(name, ".html") && name != "search/index.html" {
				// structured data is escaped JSON: nothing in it ends its element
				for _, ld := range jsonLDIn(data) {
					if !json.Valid(ld) {
						t.Fatalf("%s: JSON-LD is not valid JSON:\n%s", name, ld)
					}
				}
				if strings.Contains(string(jsonLDRE.ReplaceAll(data, nil)), "<script") {
					t.Fatalf("%s contains a script element", name)
				}
			}
		}
	})
}

// FuzzOverride parses an arbitrary post.html override: New either refuses
// it with an error or renders with it (or errors) without panicking.
func FuzzOverride(f *testing.F) {
	f.Add(`{{define "main"}}{{.Post.Title}}{{end}}{{template "base" .}}`)
	f.Add(`{{template "post.html" .}}`)
	f.Add(`{{range .Site}}{{end}}`)
	f.Add(`{{define "main"}}{{template "main" .}}{{end}}{{template "base" .}}`)
	f.Fuzz(func(t *testing.T, src string) {
		r, err := New(fstest.MapFS{"post.html": {Data: []byte(src)}})
		if err != nil {
			return
		}
		r.Render(t.Context(), handSite(2), nil, Options{})
	})
}

// FuzzAbsoluteHTML: rewriting a body's URLs for the feeds keeps its text.
func FuzzAbsoluteHTML(f *testing.F) {
	f.Add(`<p><a href="/x/">x</a><img src="a.png" srcset="a.png 1x, b.png 2x"></p>`)
	f.Add(`<a href="#fn:1">1</a><a href="http://[::1">bad</a>`)
	f.Add(`<p>text &amp; more</p><!-- c --><br/>`)
	base, _ := url.Parse("https://acme.github.io/blog/posts/x/")
	f.Fuzz(func(t *testing.T, body string) {
		got := absoluteHTML(body, base)
		if a, b := strings.Join(textOf(t, []byte(got)), " "), strings.Join(textOf(t, []byte(body)), " "); a != b {
			t.Fatalf("text changed:\n%q\n%q", a, b)
		}
	})
}

// FuzzArchiveReads renders a site with an arbitrary archive.html, changes
// one thing of one post, and renders it again with the keys of the first
// render: when the archive is kept (its key says the template reads
// nothing that changed, see postReads), its bytes are those of a full
// render.
func FuzzArchiveReads(f *testing.F) {
	f.Add(`{{template "base" .}}{{define "main"}}{{range .Years}}{{range .Posts}}{{.Title}}{{end}}{{end}}{{end}}`, uint8(0))
	f.Add(`{{range .Years}}{{range $p := .Posts}}{{$p.Words}}{{end}}{{end}}`, uint8(0))
	f.Add(`{{range .Years}}{{range .Posts}}{{with .Post}}{{.Summary}}{{end}}{{end}}{{end}}`, uint8(3))
	f.Add(`{{range .Years}}{{range .Posts}}{{template "x" .}}{{end}}{{end}}{{define "x"}}{{.Body}}{{end}}`, uint8(1))
	f.Add(`{{$x := 0}}{{range .Years}}{{range .Posts}}{{$x = .ReadingTime}}{{end}}{{end}}{{$x}}`, uint8(0))
	f.Fuzz(func(t *testing.T, src string, change uint8) {
		r, err := New(fstest.MapFS{"archive.html": {Data: []byte(src)}})
		if err != nil {
			return
		}
		site := handSite(3)
		first, err := r.Render(t.Context(), site, nil, Options{Keys: true})
		if err != nil {
			return
		}
		p := site.Posts[1]
		switch change % 5 {
		case 0:
			p.Words++
			p.ReadingTime++
		case 1:
			p.SetBody(p.HTML()+"<p>More.</p>\n", "")
		case 2:
			p.Title += "!"
		case 3:
			p.Summary += "!"
		case 4:
			p.Tags = append(p.Tags, "new")
		}
		again, err := r.Render(t.Context(), site, nil, Options{Previous: first.Keys})
		if err != nil {
			return
		}
		full, err := r.Render(t.Context(), site, nil, Options{})
		if err != nil {
			t.Fatalf("a full render fails where the incremental one did not: %v", err)
		}
		const archive = "archive/index.html"
		if slices.Contains(again.Kept, archive) && string(first.Files[archive]) != string(full.Files[archive]) {
			t.Errorf("the archive was kept, but change %d makes it\n%s\nnot\n%s", change%5, full.Files[archive], first.Files[archive])
		}
	})
}
