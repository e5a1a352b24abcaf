package templates

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

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
	benchRenderAgain(b, func(*posts.Site) func(int) { return func(int) {} })
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

// BenchmarkRenderOneBodyEdited renders a site again after the text of one
// of its posts changed (its summary did not), with the keys of the render
// before: the cost of the render of a typo fixed.
func BenchmarkRenderOneBodyEdited(b *testing.B) {
	benchRenderAgain(b, func(site *posts.Site) func(int) {
		p := site.Posts[len(site.Posts)/2]
		bodies := [2]string{p.HTML() + "<p>A typo fixed.</p>\n", p.HTML()}
		return func(i int) { p.SetBody(bodies[i%2], "") }
	})
}

// benchRenderAgain renders sites of 1,000 and 10,000 posts again and again,
// each time after edit(site)(i) and with the keys of the render before.
func benchRenderAgain(b *testing.B, edit func(*posts.Site) func(i int)) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("posts=%d", n), func(b *testing.B) {
			site, r := benchSite(b, n)
			first, err := r.Render(b.Context(), site, nil, Options{Keys: true})
			if err != nil {
				b.Fatal(err)
			}
			change := edit(site)
			keys := first.Keys
			b.ReportAllocs()
			var rendered int
			cpu := cpuTime()
			for i := 0; b.Loop(); i++ {
				change(i)
				out, err := r.Render(b.Context(), site, nil, Options{Previous: keys})
				if err != nil {
					b.Fatal(err)
				}
				keys, rendered = out.Keys, len(out.Files) // kept files are not in Files
			}
			b.ReportMetric(float64(rendered), "rendered")
			b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuTime is the CPU time (user and system) this process has used: on a
// shared machine, a steadier measure of work than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
