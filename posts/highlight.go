package posts

import (
	"bytes"
	"fmt"
	"strings"

	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/styles"
)

// Default chroma styles for HighlightCSS.
const (
	DefaultLightStyle = "github"
	DefaultDarkStyle  = "github-dark"
)

// HighlightCSS is the stylesheet for the code blocks in Post.HTML, which
// carry chroma's CSS classes (".chroma" on the <pre>, short token classes
// inside). light styles the page by default; dark, when not "", applies
// inside @media (prefers-color-scheme: dark). Style names are chroma's
// ("github", "github-dark", "monokai", ...); an unknown name gives chroma's
// fallback style. The result is deterministic. Safe for concurrent use.
func HighlightCSS(light, dark string) string {
	var b strings.Builder
	b.WriteString(styleCSS(light))
	if dark != "" {
		b.WriteString("@media (prefers-color-scheme: dark) {\n")
		for _, line := range strings.SplitAfter(styleCSS(dark), "\n") {
			if line != "" {
				b.WriteString("  " + line)
			}
		}
		b.WriteString("}\n")
	}
	return b.String()
}

func styleCSS(name string) string {
	var buf bytes.Buffer
	f := chromahtml.New(chromahtml.WithClasses(true))
	if err := f.WriteCSS(&buf, styles.Get(name)); err != nil {
		return fmt.Sprintf("/* chroma style %q: %v */\n", name, err)
	}
	// Drop the ".bg" rule: it would style any element of the theme with that
	// class; the background is also on ".chroma".
	var out strings.Builder
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if strings.Contains(line, ".bg ") || strings.Contains(line, ".bg{") {
			continue
		}
		out.WriteString(line)
	}
	return out.String()
}
