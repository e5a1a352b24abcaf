package posts

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

// hostileShapes are the posts of issue 10 that took quadratic time (or
// worse), and their relatives, as n repetitions of one unit. BenchmarkHostile
// loads each at n = 1k, 2k, 4k and 8k units: near-linear work takes about 8
// times as long at 8k as at 1k; the quadratic took 64 times.
var hostileShapes = []struct {
	name   string
	post   func(n int) string
	unsafe bool   // unsafe_html: true
	limits Limits // for shapes that would stop at a limit otherwise
}{
	{name: "SameHeadings", post: func(n int) string { return fmYAML + strings.Repeat("## same\n\n", n) }},
	{name: "HeadingsTakingSuffixes", post: func(n int) string {
		var b strings.Builder
		b.WriteString(fmYAML)
		for i := range n {
			fmt.Fprintf(&b, "## h-%d\n\n## h\n\n", i)
		}
		return b.String()
	}},
	{name: "LiquidOpeningsOnOneLine", post: func(n int) string { return fmYAML + strings.Repeat("{{ ", n) + "\n" }},
	{name: "LiquidTagsOnOneLine", post: func(n int) string { return fmYAML + strings.Repeat("{% x %} ", n) + "\n" }},
	{name: "BrokenLinksOnOneLine", post: func(n int) string { return fmYAML + strings.Repeat("[a](/posts/nope/) ", n) + "\n" }},
	{name: "ImagesWithoutAltOnOneLine", post: func(n int) string { return fmYAML + strings.Repeat("![](/x.png) ", n) + "\n" }},
	{name: "ReferenceLinksOnOneLine", post: func(n int) string {
		var b strings.Builder
		b.WriteString(fmYAML)
		for i := range n {
			fmt.Fprintf(&b, "[x%d]: /posts/nope%d/\n", i, i)
		}
		for i := range n {
			fmt.Fprintf(&b, "[x%d] ", i)
		}
		return b.String() + "\n"
	}},
	{name: "Tags", limits: Limits{MaxTags: 1 << 20}, post: func(n int) string { return fmYAML[:len(fmYAML)-4] + "tags:\n" + listOf(n, "  - t%d\n") + "---\n" }},
	{name: "Aliases", limits: Limits{MaxAliases: 1 << 20}, post: func(n int) string {
		return fmYAML[:len(fmYAML)-4] + "aliases:\n" + listOf(n, "  - /old/%d/\n") + "---\n"
	}},
	{name: "DeepBlockquote", post: func(n int) string { return fmYAML + strings.Repeat(">", 25*n) + " x\n" }},
	{name: "LazyLinesInDeepBlockquote", post: func(n int) string { return fmYAML + strings.Repeat(">", 100) + " x\n" + strings.Repeat("y\n", n) }},
	{name: "LazyLinesInDeepList", post: func(n int) string { return fmYAML + strings.Repeat("- ", 100) + "x\n" + strings.Repeat("y\n", n) }},
	{name: "ListsOnOneLine", post: func(n int) string { return fmYAML + strings.Repeat("- ", n) + "x\n" }},
	{name: "DeepEmphasis", post: func(n int) string {
		return fmYAML + strings.Repeat("**", 25*n) + "x" + strings.Repeat("**", 25*n) + "\n"
	}},
	{name: "NestedImages", post: func(n int) string {
		return fmYAML + strings.Repeat(strings.Repeat("![", 100)+"x"+strings.Repeat("](/x.png)", 100)+"\n\n", n/100)
	}},
	{name: "WideTableShortRows", post: func(n int) string {
		return fmYAML + "|" + strings.Repeat("a|", n) + "\n|" + strings.Repeat("-|", n) + "\n" + strings.Repeat("|b|\n", n)
	}},
	{name: "Footnotes", post: func(n int) string { return fmYAML + listOf(n, "x[^%[1]d]\n\n[^%[1]d]: note\n\n") }},
	{name: "EmphasisNeverClosed", post: func(n int) string { return fmYAML + strings.Repeat("*a_ ", 4*n) + "\n" }},
	{name: "LinkDestinationsNeverClosed", post: func(n int) string { return fmYAML + strings.Repeat("[a](", 4*n) + "\n" }},
	{name: "LinkTitlesNeverClosed", post: func(n int) string { return fmYAML + strings.Repeat("[a](b (\n", n) }},
	{name: "LinksThatWorkOnOneLine", post: func(n int) string { return fmYAML + strings.Repeat("[a](https://example.com/) ", n) + "\n" }},
	{name: "FencedCodeOfBraces", post: func(n int) string { return fmYAML + "```go\n" + strings.Repeat("{", n) + "\n```\n" }},
	{name: "UnsafeHTMLWithBadURLs", unsafe: true, post: func(n int) string {
		return fmYAML + strings.Repeat("<a href=\"javascript:x\" onclick=y>z</a> ", n) + "\n"
	}},
	{name: "TOMLDeepArrays", post: func(n int) string {
		return fmTOML + "a = " + strings.Repeat("[", 100*n) + strings.Repeat("]", 100*n) + "\n+++\n"
	}},
	{name: "TOMLDeepInlineTables", post: func(n int) string {
		return fmTOML + "a = " + strings.Repeat("{b=", 25*n) + "1" + strings.Repeat("}", 25*n) + "\n+++\n"
	}},
	{name: "TOMLDottedKeys", post: func(n int) string { return fmTOML + listOf(n, "k%d.a.b.c.d = 1\n") + "+++\n" }},
	{name: "YAMLValues", post: func(n int) string { return fmYAML[:len(fmYAML)-4] + "x:\n" + listOf(n, "  - v%d\n") + "---\n" }},
}

// listOf is format (with one %d) for 0..n-1.
func listOf(n int, format string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}

// BenchmarkHostile loads each hostile shape at growing sizes:
//
//	go test -run '^$' -bench 'Hostile' -benchtime 10x ./posts/
func BenchmarkHostile(b *testing.B) {
	for _, s := range hostileShapes {
		b.Run(s.name, func(b *testing.B) {
			for _, n := range []int{1000, 2000, 4000, 8000} {
				b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
					cfg := testConfig
					if s.unsafe {
						cfg += "unsafe_html: true\n"
					}
					src := s.post(n)
					fsys := fstest.MapFS{ConfigFile: {Data: []byte(cfg)}, "posts/a.md": {Data: []byte(src)}}
					b.SetBytes(int64(len(src)))
					b.ReportAllocs()
					for b.Loop() {
						if _, err := Load(context.Background(), fsys, Options{Now: testNow, Limits: s.limits}); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
