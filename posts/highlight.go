package posts

import (
	"bytes"
	"fmt"
	"slices"
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
	lightCSS := styleCSS(light)
	b.WriteString(lightCSS)
	if dark != "" {
		darkCSS := styleCSS(dark)
		b.WriteString("@media (prefers-color-scheme: dark) {\n")
		// The light rules stay in force under the media query: any colour the
		// dark style does not set itself (github-dark has no rule for names,
		// punctuation or builtins) would be dark text on a dark background.
		for _, line := range strings.SplitAfter(darkResets(lightCSS, darkCSS)+darkCSS, "\n") {
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

// resetValues undo a light rule's property where the dark style is silent.
var resetValues = map[string]string{
	"color":            "inherit",
	"background-color": "transparent",
	"font-weight":      "inherit",
	"font-style":       "inherit",
	"text-decoration":  "inherit",
}

// darkResets returns, for every chroma rule of light whose colour or font
// properties dark does not set, a rule putting them back to the inherited
// values, so that the dark block never shows a light colour. Chroma writes
// one rule per line ("/* Name */ .chroma .n { color: #1f2328 }"); the output
// keeps light's order, so it is deterministic.
func darkResets(light, dark string) string {
	darkProps := cssRules(dark)
	var b strings.Builder
	for _, r := range cssRuleList(light) {
		var decl []string
		for _, prop := range r.props {
			if resetValues[prop] == "" || slices.Contains(darkProps[r.sel], prop) {
				continue
			}
			decl = append(decl, prop+": "+resetValues[prop])
		}
		if len(decl) > 0 {
			b.WriteString(r.sel + " { " + strings.Join(decl, "; ") + " }\n")
		}
	}
	return b.String()
}

type cssRule struct {
	sel   string
	props []string
}

func cssRules(css string) map[string][]string {
	m := map[string][]string{}
	for _, r := range cssRuleList(css) {
		m[r.sel] = append(m[r.sel], r.props...)
	}
	return m
}

// cssRuleList reads chroma's one-rule-per-line CSS: selector and property names.
func cssRuleList(css string) []cssRule {
	var out []cssRule
	for _, line := range strings.Split(css, "\n") {
		if i := strings.Index(line, "*/"); i >= 0 {
			line = line[i+2:]
		}
		open, end := strings.Index(line, "{"), strings.LastIndex(line, "}")
		if open < 0 || end < open {
			continue
		}
		r := cssRule{sel: strings.TrimSpace(line[:open])}
		for _, d := range strings.Split(line[open+1:end], ";") {
			if k, _, ok := strings.Cut(d, ":"); ok {
				r.props = append(r.props, strings.TrimSpace(k))
			}
		}
		out = append(out, r)
	}
	return out
}
