package posts

import (
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
)

// summaryStop remembers where the automatic summary of a post ends: at the
// first heading, image or code block that comes after at least one
// sentence of prose, so that a summary never runs a heading into the text
// ("…aliqua. Details Ut enim…").
type summaryStop struct {
	at      int  // length of the prose at the stop; valid when set
	set     bool // a stop was found
	scanned int  // prose before this offset holds no sentence end
}

// summaryBreak is called on entering every node: a heading, an image or a
// code block ends the summary once the prose holds a sentence.
func (w *walker) summaryBreak(n ast.Node) {
	if w.summary.set || w.inNotes > 0 {
		return
	}
	switch n.(type) {
	case *ast.Heading, *ast.Image, *ast.FencedCodeBlock, *ast.CodeBlock:
	default:
		return
	}
	prose := w.prose.Bytes()
	if hasSentence(prose[w.summary.scanned:]) {
		w.summary.at, w.summary.set = len(prose), true
		return
	}
	w.summary.scanned = len(prose)
}

// summaryEnd is the length of the prose the automatic summary is taken from.
func (w *walker) summaryEnd() int {
	if w.summary.set {
		return w.summary.at
	}
	return w.prose.Len()
}

// hasSentence says whether text holds the end of a sentence: a full stop,
// question or exclamation mark or ellipsis followed by a space or the end,
// or a CJK full stop anywhere.
func hasSentence(text []byte) bool {
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRune(text[i:])
		i += size
		switch r {
		case '。', '！', '？':
			return true
		case '.', '!', '?', '…':
			if i == len(text) {
				return true
			}
			if next, _ := utf8.DecodeRune(text[i:]); unicode.IsSpace(next) {
				return true
			}
		}
	}
	return false
}
