package posts

import (
	"slices"
	"testing"
)

// codeSpans skips the parse when a body cannot hold code; the parse
// (parsedCodeSpans) is its oracle.
func checkCodeSpans(t *testing.T, md *markdown, body string) {
	t.Helper()
	for _, math := range []bool{false, true} {
		got := codeSpans(md, []byte(body), math)
		want := parsedCodeSpans(md, []byte(body), math)
		if !slices.Equal(got, want) {
			t.Fatalf("codeSpans(%q, math=%v) = %v, the parse gives %v", body, math, got, want)
		}
	}
}

func TestCodeSpansShortcut(t *testing.T) {
	md := newMarkdown(false, nil)
	for _, body := range []string{
		"", "plain {{ site.title }} text", "a `code {{ x }}` b", "```\n{{ x }}\n```\n", "~~~\n{% x %}\n~~~\n",
		"    {{ indented }}\n", "\t{{ tab }}\n", "- a\n\n      {{ in a list }}\n", ">     {{ quoted }}\n",
		"$x^{2}$ {{ y }}", "\\(a{b}\\) {{ y }}", "\\[a\\]", "$$\n{a}\n$$\n", "[{{ x }}]({% link a.md %})",
		"<pre>{{ x }}</pre>", "* * *\n{{ x }}",
	} {
		checkCodeSpans(t, md, body)
	}
}

func FuzzCodeSpansShortcut(f *testing.F) {
	md := newMarkdown(false, nil)
	f.Add("a `code {{ x }}` b\n\n    {{ y }}\n")
	f.Add("- a\n  > b {{ c }}\n")
	f.Add("$x$ {% raw %}")
	f.Fuzz(func(t *testing.T, body string) { checkCodeSpans(t, md, body) })
}
