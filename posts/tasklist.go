package posts

import (
	"bytes"
	"strings"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/util"
)

// taskCheckBox renders the checkbox of a task-list item ("- [x] done") as
// goldmark does, plus an accessible name: the item's text, so that a
// screen reader says what was done rather than "checkbox" alone (axe's
// "label" rule, WCAG 4.1.2).
func (r *nodeRenderer) taskCheckBox(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n, ok := node.(*east.TaskCheckBox)
	if !ok {
		return ast.WalkContinue, nil
	}
	var text bytes.Buffer
	if parent := n.Parent(); parent != nil {
		inlineText(&text, source, parent)
	}
	name := strings.Join(strings.Fields(text.String()), " ")
	if name == "" {
		name = "Task"
	}
	if n.IsChecked {
		_, _ = w.WriteString(`<input checked="" disabled="" type="checkbox"`)
	} else {
		_, _ = w.WriteString(`<input disabled="" type="checkbox"`)
	}
	_, _ = w.WriteString(` aria-label="`)
	_, _ = w.Write(util.EscapeHTML([]byte(name)))
	_, _ = w.WriteString(`"> `)
	return ast.WalkContinue, nil
}
