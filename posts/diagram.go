package posts

import (
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
)

// Diagrams: a ```mermaid block is written as <pre class="mermaid"> with
// its source escaped, and its post is marked (Post.Diagrams) so the theme
// loads the diagram script (package diagrams) on that page alone. The
// reader's browser draws it; without script the reader sees the source.

// isDiagram reports a fence language that Mermaid draws.
func isDiagram(lang string) bool { return strings.EqualFold(lang, "mermaid") }

// writeDiagram writes a diagram block's source for Mermaid. Like every
// code block it is keyboard-reachable, with a name.
func writeDiagram(w util.BufWriter, code []byte) {
	writePreStart(w, "mermaid", "Diagram")
	html.DefaultWriter.RawWrite(w, code)
	_, _ = w.WriteString("</pre>\n")
}

// diagram marks the post when n is a diagram block (after codeOptions).
func (w *walker) diagram(n *ast.FencedCodeBlock) {
	lang := string(n.Language(w.body))
	if v, ok := n.AttributeString(attrCodeOptions); ok {
		lang = v.(*codeOptions).lang
	}
	if isDiagram(lang) {
		w.r.post.Diagrams = true
	}
}
