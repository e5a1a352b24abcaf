package posts

import (
	"bytes"
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
	if v, ok := n.AttributeString(attrCodeOptions); ok {
		w.r.post.Diagrams = w.r.post.Diagrams || isDiagram(v.(*codeOptions).lang)
	} else if bytes.EqualFold(n.Language(w.body), []byte("mermaid")) {
		w.r.post.Diagrams = true
	}
}
