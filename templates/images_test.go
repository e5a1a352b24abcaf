package templates

import (
	"html/template"
	"regexp"
	"strings"
	"testing"

	xhtml "golang.org/x/net/html"
)

// The sizes of responsive images must describe the theme's column: when
// style.css changes the column, columnSizes must follow.
func TestColumnSizesMatchStylesheet(t *testing.T) {
	data, err := themeFS.ReadFile("theme/style.css")
	if err != nil {
		t.Fatal(err)
	}
	css := string(data)
	wrap := regexp.MustCompile(`\.wrap \{ max-width: ([0-9.]+rem); margin: 0 auto; padding: 0 ([0-9.]+rem); \}`).FindStringSubmatch(css)
	if wrap == nil || !strings.Contains(css, "box-sizing: border-box") {
		t.Fatal("style.css no longer has the .wrap rule columnSizes was written for: update columnSizes and this test")
	}
	if wrap[1] != "42rem" || wrap[2] != "1.25rem" {
		t.Fatalf(".wrap is %s wide with %s padding; columnSizes assumes 42rem and 1.25rem", wrap[1], wrap[2])
	}
	if columnSizes != "(min-width: 42rem) 39.5rem, calc(100vw - 2.5rem)" {
		t.Fatalf("columnSizes = %q", columnSizes)
	}
	if !strings.Contains(css, ".content img, .cover img, .content video { max-width: 100%; height: auto; }") {
		t.Fatal("images no longer shrink to the column (max-width: 100%; height: auto): width and height attributes would stretch them")
	}
}

func TestResponsiveBodyKeepsOtherBytes(t *testing.T) {
	b := &build{base: "/blog/", host: "https://example.org", imgs: map[string]*imageEntry{
		"posts/x/a.png": {width: 800, height: 400, srcset: "/blog/posts/x/a-480w-1.png 480w, /blog/posts/x/a.png 800w", webpSrcset: "/blog/posts/x/a-480w-2.webp 480w, /blog/posts/x/a.png 800w"},
	}}
	body := `<p>Text &amp; <b>more</b></p><!-- c --><P CLASS=x>Up</P><p><IMG SRC="a.png" ALT="A &quot;q&quot;" loading="lazy" decoding="async"/></p><pre>&lt;img src=a.png&gt;</pre><img src="https://example.org/blog/posts/x/a.png" alt="">`
	got := string(b.responsiveBody(template.HTML(body), "posts/x/", true))
	const sizes = `sizes="(min-width: 42rem) 39.5rem, calc(100vw - 2.5rem)"`
	const source = `<picture><source type="image/webp" srcset="/blog/posts/x/a-480w-2.webp 480w, /blog/posts/x/a.png 800w" ` + sizes + `>`
	const srcset = `width="800" height="400" srcset="/blog/posts/x/a-480w-1.png 480w, /blog/posts/x/a.png 800w" ` + sizes
	want := `<p>Text &amp; <b>more</b></p><!-- c --><P CLASS=x>Up</P><p>` +
		source + `<img src="a.png" alt="A &#34;q&#34;" ` + srcset + ` loading="lazy" decoding="async"></picture></p>` +
		`<pre>&lt;img src=a.png&gt;</pre>` +
		source + `<img src="https://example.org/blog/posts/x/a.png" alt="" ` + srcset + ` loading="lazy"></picture>`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if _, err := xhtml.Parse(strings.NewReader(got)); err != nil {
		t.Fatal(err)
	}
	noImg := `<p>no images</p>`
	if got := b.responsiveBody(template.HTML(noImg), "posts/x/", false); string(got) != noImg {
		t.Errorf("a body without images changed: %s", got)
	}
	// Without a cover the first image, even one publishbot does not know,
	// is fetched first.
	got = string(b.responsiveBody(template.HTML(`<img src="https://elsewhere.example/x.png" alt="x" loading="lazy"><img src="a.png" alt="y">`), "posts/x/", false))
	if !strings.HasPrefix(got, `<img src="https://elsewhere.example/x.png" alt="x" fetchpriority="high">`) || !strings.Contains(got, `alt="y" `+srcset+` loading="lazy">`) {
		t.Errorf("first image: %s", got)
	}
}

// BenchmarkResponsiveBody is the rewrite of one long post body with a few
// images among many other tags, which every render does for every post
// with an image.
//
//	go test -run '^$' -bench ResponsiveBody -benchmem ./templates
func BenchmarkResponsiveBody(b *testing.B) {
	bd := &build{base: "/blog/", host: "https://example.org", imgs: map[string]*imageEntry{
		"posts/x/a.png": {width: 800, height: 400, srcset: "/blog/posts/x/a-480w-1.png 480w, /blog/posts/x/a.png 800w"},
	}}
	var s strings.Builder
	for i := range 200 {
		s.WriteString(`<p>Some <em>text</em> with <a href="https://example.org/x">a link</a> and <code>code</code>.</p>`)
		if i%50 == 0 {
			s.WriteString(`<p><img src="a.png" alt="a picture"></p>`)
		}
	}
	body := template.HTML(s.String())
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		bd.responsiveBody(body, "posts/x/", false)
	}
}
