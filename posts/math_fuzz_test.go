package posts

import (
	"bytes"
	"slices"
	"testing"

	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// FuzzMathDelimiters feeds any text to the math parsers (without
// converting: that is texmath's, and its tests'). Parsing never panics;
// every formula starts with its opening delimiter and its TeX lies after
// it, in order, inside the text; and a text in which no formula is found
// renders exactly as it does with math off.
func FuzzMathDelimiters(f *testing.F) {
	for _, s := range []string{
		"$x$", "$$x$$", `\(x\)`, `\[x\]`, "It costs $5 and $10.", "$$\nx\n$$\n", "\\[\nx\n\\]\n",
		"> $$\n> x\n> $$\n", "- $a\n  b$\n", "`$x$` $y `z$`", `$a \$ b$`, "$$$$ and $$", "$x$1",
		"| $a|b$ |\n|---|\n| $c$ |\n", "[$x$](u) *$y$*", "$$x$$ and text\n", "\\\\(x\\\\)", "$\n\n$",
		"```\n$x$\n```\n", "$$\nx\n\ny$$", "<div>$x$</div>", "$\\`$", "\\[\\]", "$ $", "$$ $$\n",
	} {
		f.Add(s)
	}
	md := newMarkdown(false, nil)
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 1<<12 {
			return
		}
		body := []byte(src)
		pc := parser.NewContext(parser.WithIDs(newHeadingIDs()))
		enableMath(pc)
		doc := md.parser(true).Parse(text.NewReader(body), parser.WithContext(pc))
		st := mathOf(pc)
		nodes := slices.Clone(st.nodes) // blocks are found before the inline formulas
		slices.SortFunc(nodes, func(a, b mathFormula) int { return a.Pos() - b.Pos() })
		last := -1
		for _, n := range nodes {
			f := n.data()
			pos := n.Pos()
			if pos < 0 || !bytes.HasPrefix(body[pos:], []byte(f.open)) {
				t.Fatalf("formula at %d does not start with %q: %q", pos, f.open, src)
			}
			for _, s := range f.segs {
				if s.Start < pos+len(f.open) || s.Stop > len(body) || s.Start > s.Stop || s.Start < last {
					t.Fatalf("segment %d-%d of formula at %d out of place in %q", s.Start, s.Stop, pos, src)
				}
				last = s.Stop
			}
		}
		if len(st.nodes) > 0 {
			var buf bytes.Buffer
			if err := md.md.Renderer().Render(&buf, body, doc); err != nil {
				t.Fatal(err)
			}
			return
		}
		var on, off bytes.Buffer
		if err := md.md.Renderer().Render(&on, body, doc); err != nil {
			t.Fatal(err)
		}
		pc = parser.NewContext(parser.WithIDs(newHeadingIDs()))
		if err := md.md.Renderer().Render(&off, body, md.parser(false).Parse(text.NewReader(body), parser.WithContext(pc))); err != nil {
			t.Fatal(err)
		}
		if on.String() != off.String() {
			t.Fatalf("no formula, but math on changed the output of %q:\n on: %q\noff: %q", src, on.String(), off.String())
		}
	})
}
