package templates

import (
	"bytes"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/publishbot/publishbot/posts"
)

// oracleAbsoluteHTML is absoluteHTML as first written, reading every tag's
// attributes: the oracle of the one that skips tags without URLs.
func oracleAbsoluteHTML(body string, base *url.URL) string {
	if base == nil || !strings.ContainsAny(body, "=") {
		return body
	}
	var out bytes.Buffer
	z := html.NewTokenizer(strings.NewReader(body))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return out.String()
		case html.StartTagToken, html.SelfClosingTagToken:
			raw := z.Raw()
			tok := z.Token()
			changed := false
			for i, a := range tok.Attr {
				switch {
				case a.Namespace != "":
				case urlAttrs[a.Key]:
					if v, ok := resolveURL(base, a.Val); ok {
						tok.Attr[i].Val, changed = v, true
					}
				case a.Key == "srcset":
					if v, ok := resolveSrcset(base, a.Val); ok {
						tok.Attr[i].Val, changed = v, true
					}
				}
			}
			if changed {
				out.WriteString(tok.String())
			} else {
				out.Write(raw)
			}
		default:
			out.Write(z.Raw())
		}
	}
}

func checkAbsoluteHTML(t *testing.T, body string) {
	t.Helper()
	base, _ := url.Parse("https://acme.github.io/blog/posts/x/")
	if got, want := absoluteHTML(body, base), oracleAbsoluteHTML(body, base); got != want {
		t.Fatalf("absoluteHTML(%q) =\n%q\nthe oracle gives\n%q", body, got, want)
	}
}

func TestAbsoluteHTMLOracle(t *testing.T) {
	for _, body := range []string{
		`<p><a href="/x/">x</a><img src="a.png" srcset="a.png 1x, b.png 2x"></p>`,
		`<A HREF="/x/">x</A><IMG SrC="a.png"><video POSTER="p.jpg"></video><q CITE="c">q</q>`,
		`<p title="a &amp; b" class="src">x</p><a href="#fn:1">1</a><span class="k">func</span>`,
		`<a\x00href="/x">x</a><a h\x00ref="/y">y</a><a data-href="/z">z</a>`,
		`<p>text &amp; more</p><!-- c href="/x" --><br/>`,
	} {
		checkAbsoluteHTML(t, body)
	}
	// every post body of the Rust blog
	site, err := posts.Load(t.Context(), zolaContent(t, "https://blog.rust-lang.org/"), posts.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range site.Posts {
		checkAbsoluteHTML(t, p.HTML())
	}
}

func FuzzAbsoluteHTMLOracle(f *testing.F) {
	f.Add(`<p><a href="/x/">x</a><img src="a.png" srcset="a.png 1x, b.png 2x"></p>`)
	f.Add(`<A HREF="/x/">x</A><IMG SrC="a.png"><span class="k">x</span>`)
	f.Fuzz(checkAbsoluteHTML)
}
