package templates

import (
	"fmt"
	"strings"
	"testing"

	"github.com/publishbot/publishbot/posts"
)

// BenchmarkRender renders hand-built sites whose posts carry 3 KB bodies,
// the size of an average post of the Jekyll corpus: templates alone, no
// Markdown and no writing.
func BenchmarkRender(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("posts=%d", n), func(b *testing.B) {
			site, r := benchSite(b, n)
			b.ReportAllocs()
			var bytes int
			for b.Loop() {
				out, err := r.Render(b.Context(), site, nil, Options{})
				if err != nil {
					b.Fatal(err)
				}
				bytes = 0
				for _, d := range out.Files {
					bytes += len(d)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "posts/s")
			b.ReportMetric(float64(bytes)/(1<<20), "MB-out")
		})
	}
}

// BenchmarkRenderUnchanged renders a site again with the keys of its
// previous render and nothing changed: every page's input key is
// computed (the reflection walk of its data) and no template runs but for
// the files made without one (feeds, sitemap, search). The cost of an
// incremental build that is not in its changed posts.
func BenchmarkRenderUnchanged(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("posts=%d", n), func(b *testing.B) {
			site, r := benchSite(b, n)
			first, err := r.Render(b.Context(), site, nil, Options{Keys: true})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var rendered int
			for b.Loop() {
				out, err := r.Render(b.Context(), site, nil, Options{Previous: first.Keys})
				if err != nil {
					b.Fatal(err)
				}
				rendered = len(out.Files) // kept files are not in it
			}
			b.ReportMetric(float64(rendered), "rendered")
		})
	}
}

// benchSite is a hand-built site of n posts with 3 KB bodies, and the
// default theme.
func benchSite(b *testing.B, n int) (*posts.Site, *Renderer) {
	b.Helper()
	body := strings.Repeat("<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.</p>\n", 24)
	site := handSite(n)
	for _, p := range site.Posts {
		p.SetBody(body, "")
	}
	r, err := New(nil)
	if err != nil {
		b.Fatal(err)
	}
	return site, r
}
