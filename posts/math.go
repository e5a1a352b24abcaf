package posts

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"

	"github.com/publishbot/publishbot/texmath"
	"github.com/publishbot/publishbot/textpl"
)

// Math in posts (math: true in publish.yaml or front matter): $…$ and
// \(…\) inline, $$…$$ and \[…\] displayed, as pandoc reads them. The
// parsers are in a second goldmark parser (markdown.parser), built for
// the first post with math and used for those posts only, and they also
// need the post's parser context to have a mathState (enableMath): a post
// without math is parsed exactly as before. Formulas are converted to MathML at build time (texmath, after
// the parse, with a warning at the line of each that cannot be) and a
// formula that is not converted is shown as written.
//
// Dollars in prose stay text: an opening $ must be followed by a
// non-space, a closing $ preceded by a non-space and not followed by a
// digit ("it costs $5 and $10" has no formula). A formula never spans a
// backtick, so code spans are never read as math; code blocks and raw
// HTML are not parsed for it at all. \$ is a dollar sign.

// Bounds of a post's math, besides texmath's per formula.
const (
	maxFormulas    = 5000             // formulas converted per post; the rest are shown as written
	mathPostBudget = 30 * time.Second // time converting one post's formulas
)

var mathKey = parser.NewContextKey()

// mathState is a post's math while it is parsed: the formulas found, in
// order, and what the inline parser learned about where no closing
// delimiter is.
type mathState struct {
	nodes []mathFormula
	// noClose remembers, per opening delimiter, the block and offset up to
	// which a search found no closing delimiter: an opener before it in
	// that block has none either, so a paragraph of 10,000 "$x" is
	// searched once, not 10,000 times.
	noClose [4]struct {
		block ast.Node
		until int
	}
}

// mathFormula is an inline or block math node.
type mathFormula interface {
	ast.Node
	data() *formula
}

// formula is what math nodes share: the delimiters as written, the TeX
// (segments of the source, one per line), and the MathML once converted.
type formula struct {
	display     bool
	open, close string
	segs        []text.Segment
	unclosed    bool   // a block that ended without its closing delimiter
	mathml      []byte // nil: shown as written
}

func (f *formula) data() *formula { return f }

// tex is the formula's TeX, its lines joined.
func (f *formula) tex(source []byte) string {
	var b bytes.Buffer
	for _, s := range f.segs {
		b.Write(s.Value(source))
	}
	return b.String()
}

// mathInline is a formula inside a paragraph, heading or table cell.
type mathInline struct {
	ast.BaseInline
	formula
}

var kindMathInline = ast.NewNodeKind("MathInline")

func (n *mathInline) Kind() ast.NodeKind { return kindMathInline }
func (n *mathInline) Dump(source []byte, level int) {
	ast.DumpHelper(n, source, level, map[string]string{"TeX": n.tex(source)}, nil)
}

// mathBlock is a displayed formula on lines of its own.
type mathBlock struct {
	ast.BaseBlock
	formula
	done   bool // closed on its first line: Continue ends it
	closed bool // its closing delimiter was found
}

var kindMathBlock = ast.NewNodeKind("MathBlock")

func (n *mathBlock) Kind() ast.NodeKind { return kindMathBlock }
func (n *mathBlock) IsRaw() bool        { return true }
func (n *mathBlock) Dump(source []byte, level int) {
	ast.DumpHelper(n, source, level, map[string]string{"TeX": n.tex(source)}, nil)
}

// enableMath turns the math parsers on for the parse that uses pc.
func enableMath(pc parser.Context) { pc.Set(mathKey, &mathState{}) }

func mathOf(pc parser.Context) *mathState {
	st, _ := pc.Get(mathKey).(*mathState)
	return st
}

// The opening delimiters, as indexes of mathState.noClose.
const (
	delimDollar = iota
	delimDollars
	delimParen
	delimBracket
)

var delims = [4]struct {
	open, close string
	display     bool
}{
	delimDollar:  {"$", "$", false},
	delimDollars: {"$$", "$$", true},
	delimParen:   {`\(`, `\)`, false},
	delimBracket: {`\[`, `\]`, true},
}

// mathInlineParser reads inline formulas.
type mathInlineParser struct{}

func (mathInlineParser) Trigger() []byte { return []byte{'$', '\\'} }

func (mathInlineParser) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	st := mathOf(pc)
	if st == nil {
		return nil
	}
	line, seg := block.PeekLine()
	if src := block.Source(); seg.Start > 0 && src[seg.Start-1] == '$' || bytes.HasPrefix(line, []byte("$$$")) {
		return nil // inside a run of three or more dollars: text
	}
	var kind int
	switch {
	case bytes.HasPrefix(line, []byte("$$")):
		kind = delimDollars
	case line[0] == '$':
		if len(line) < 2 || util.IsSpace(line[1]) {
			return nil
		}
		kind = delimDollar
	case bytes.HasPrefix(line, []byte(`\(`)):
		kind = delimParen
	case bytes.HasPrefix(line, []byte(`\[`)):
		kind = delimBracket
	default:
		return nil
	}
	if nc := st.noClose[kind]; nc.block == parent && seg.Start < nc.until {
		return nil
	}
	d := delims[kind]
	f := formula{display: d.display, open: d.open, close: d.close}
	i := len(d.open)
	var until int // how far the search went without finding a closing delimiter
	for {
		at, stop := findClose(line, i, kind)
		if at >= 0 {
			if at > i {
				f.segs = append(f.segs, text.NewSegment(seg.Start+i, seg.Start+at))
			}
			if len(bytes.TrimSpace(joinSegs(f.segs, block.Source()))) == 0 {
				return nil
			}
			block.Advance(at + len(d.close))
			n := &mathInline{formula: f}
			st.nodes = append(st.nodes, n)
			return n
		}
		if stop >= 0 {
			until = seg.Start + stop
			break
		}
		until = seg.Stop
		f.segs = append(f.segs, text.NewSegment(seg.Start+i, seg.Stop))
		block.AdvanceLine()
		line, seg = block.PeekLine()
		if line == nil {
			break
		}
		i = 0
	}
	// No closing delimiter before a backtick or the block's end.
	st.noClose[kind].block, st.noClose[kind].until = parent, until
	return nil
}

func joinSegs(segs []text.Segment, source []byte) []byte {
	var b []byte
	for _, s := range segs {
		b = append(b, s.Value(source)...)
	}
	return b
}

// findClose finds the closing delimiter of kind in line from i: its
// offset, or -1 and the offset of a backtick that stops the search (a
// formula never spans one, so code spans keep their dollars), else -1. A
// backslash escapes the next character.
func findClose(line []byte, i, kind int) (at, stop int) {
	for j := i; j < len(line); j++ {
		switch c := line[j]; c {
		case '`':
			return -1, j
		case '\\':
			if j+1 < len(line) {
				if kind == delimParen && line[j+1] == ')' || kind == delimBracket && line[j+1] == ']' {
					return j, -1
				}
				j++
			}
		case '$':
			switch kind {
			case delimDollar:
				if j > i && !util.IsSpace(line[j-1]) && (j+1 == len(line) || line[j+1] < '0' || line[j+1] > '9') {
					return j, -1
				}
			case delimDollars:
				if j+1 < len(line) && line[j+1] == '$' {
					return j, -1
				}
			}
		}
	}
	return -1, -1
}

// mathBlockParser reads displayed formulas written on lines of their own:
// a line that starts with $$ (or \[) opens one, and the line that ends
// with $$ (or \]) closes it; the first line may hold both. A blank line
// before the closing delimiter ends the block: the formula is then shown
// as written, with a warning.
type mathBlockParser struct{}

func (mathBlockParser) Trigger() []byte { return []byte{'$', '\\'} }

func (mathBlockParser) Open(parent ast.Node, reader text.Reader, pc parser.Context) (ast.Node, parser.State) {
	if mathOf(pc) == nil {
		return nil, parser.NoChildren
	}
	line, seg := reader.PeekLine()
	pos := pc.BlockOffset()
	if pos < 0 {
		return nil, parser.NoChildren
	}
	kind := delimDollars
	switch {
	case bytes.HasPrefix(line[pos:], []byte("$$")):
	case bytes.HasPrefix(line[pos:], []byte(`\[`)):
		kind = delimBracket
	default:
		return nil, parser.NoChildren
	}
	d := delims[kind]
	n := &mathBlock{formula: formula{display: true, open: d.open, close: d.close}}
	start := pos + len(d.open)
	rest := line[start:]
	if at, _ := findClose(line, start, kind); at >= 0 {
		if !util.IsBlank(line[at+len(d.close):]) || util.IsBlank(line[start:at]) {
			return nil, parser.NoChildren // $$x$$ and text: a paragraph, with the formula inline
		}
		n.segs = []text.Segment{text.NewSegment(seg.Start+start, seg.Start+at)}
		n.done, n.closed = true, true
		reader.AdvanceToEOL()
		return n, parser.NoChildren
	}
	if !util.IsBlank(rest) {
		n.segs = append(n.segs, text.NewSegment(seg.Start+start, seg.Stop))
	}
	reader.AdvanceToEOL()
	return n, parser.NoChildren
}

func (mathBlockParser) Continue(node ast.Node, reader text.Reader, pc parser.Context) parser.State {
	n := node.(*mathBlock)
	if n.done {
		return parser.Close // the one-line form
	}
	line, seg := reader.PeekLine()
	if line == nil || util.IsBlank(line) {
		return parser.Close
	}
	trimmed := util.TrimRightSpace(line)
	if bytes.HasSuffix(trimmed, []byte(n.close)) && closesBlock(trimmed, n.close) {
		end := len(trimmed) - len(n.close)
		if end > 0 {
			n.segs = append(n.segs, text.NewSegment(seg.Start, seg.Start+end))
		}
		n.closed = true
		reader.AdvanceToEOL()
		return parser.Close
	}
	n.segs = append(n.segs, seg)
	reader.AdvanceToEOL()
	return parser.Continue | parser.NoChildren
}

// closesBlock reports whether close, which trimmed ends with, is a
// closing delimiter: not escaped by an odd run of backslashes before it.
func closesBlock(trimmed []byte, close string) bool {
	i := len(trimmed) - len(close)
	if close == `\]` {
		i++ // the run of backslashes includes the delimiter's own
	}
	run := 0
	for j := i - 1; j >= 0 && trimmed[j] == '\\'; j-- {
		run++
	}
	if close == `\]` {
		return run%2 == 1
	}
	return run%2 == 0
}

func (mathBlockParser) Close(node ast.Node, reader text.Reader, pc parser.Context) {
	n := node.(*mathBlock)
	n.unclosed = !n.closed // a blank line, or the end of its container or of the post
	if st := mathOf(pc); st != nil {
		st.nodes = append(st.nodes, n)
	}
}

func (mathBlockParser) CanInterruptParagraph() bool { return true }
func (mathBlockParser) CanAcceptIndentedLine() bool { return false }

// mathInlineParsers and mathBlockParsers are what buildGoldmark adds to
// the parser for posts with math.
func mathInlineParsers() []util.PrioritizedValue {
	return []util.PrioritizedValue{util.Prioritized(mathInlineParser{}, 150)}
}

func mathBlockParsers() []util.PrioritizedValue {
	// Before paragraphs and HTML blocks, after indented code (500): a
	// formula indented four spaces is code.
	return []util.PrioritizedValue{util.Prioritized(mathBlockParser{}, 650)}
}

// mathRenderer writes math nodes: their MathML, or as written.
type mathRenderer struct{}

func (mathRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(kindMathInline, renderMath)
	reg.Register(kindMathBlock, renderMath)
}

func renderMath(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	f := node.(mathFormula).data()
	_, block := node.(*mathBlock)
	if f.mathml != nil {
		_, _ = w.Write(f.mathml)
		if block {
			_ = w.WriteByte('\n')
		}
		return ast.WalkSkipChildren, nil
	}
	if block {
		_, _ = w.WriteString("<p>")
	}
	html.DefaultWriter.RawWrite(w, []byte(f.open))
	html.DefaultWriter.RawWrite(w, bytes.TrimRight([]byte(f.tex(source)), "\n"))
	if !f.unclosed {
		html.DefaultWriter.RawWrite(w, []byte(f.close))
	}
	if block {
		_, _ = w.WriteString("</p>\n")
	}
	return ast.WalkSkipChildren, nil
}

// mathOn says whether a post's formulas are read: its math field, else
// the site's.
func (l *loader) mathOn(r *postResult) bool {
	if r.meta.math != nil {
		return *r.meta.math
	}
	return l.cfg.Math
}

// convertMath converts the formulas the parse found to MathML, with a
// warning at the line of each that cannot be (shown as written), and
// marks the post as having math.
func (l *loader) convertMath(r *postResult, pc parser.Context) {
	st := mathOf(pc)
	if st == nil || len(st.nodes) == 0 {
		return
	}
	conv := l.md.math
	start := time.Now()
	over := false
	for i, n := range st.nodes {
		f := n.data()
		tex := f.tex(r.body)
		// The TeX is the formula's text for the summary, the word count
		// and the contents list (the renderer skips it).
		text := collapseSpace(tex)
		if n.Type() == ast.TypeBlock {
			text = " " + text + " "
		}
		n.AppendChild(n, ast.NewString([]byte(text)))
		line, col := r.pos(r.bodyOff + max(n.Pos(), 0)) // the opening delimiter
		if f.unclosed {
			r.add(line, col, CodeMath, fmt.Sprintf("%s opens a formula that is not closed with %s before a blank line or the end of its block; it is shown as written", f.open, f.close))
			continue
		}
		if i >= maxFormulas || time.Since(start) > mathPostBudget {
			if !over {
				over = true
				r.add(line, col, CodeMath, fmt.Sprintf("this post has more formulas than publishbot converts in one post (%d, or %v of work); this one and the rest are shown as written", maxFormulas, mathPostBudget))
			}
			continue
		}
		out, err := conv.Convert(l.tree.ctx, tex, f.display)
		if err != nil {
			var te *texmath.Error
			if !errors.As(err, &te) {
				if l.tree.ctx.Err() == nil {
					r.add(line, col, CodeInternal, fmt.Sprintf("publishbot could not convert math (please report it): %v", err))
				}
				return
			}
			if te.Offset >= 0 {
				line, col = r.pos(r.bodyOff + f.offsetOf(r.body, te.Offset))
			}
			r.add(line, col, CodeMath, fmt.Sprintf("%s%s%s is not shown as math: %s", f.open, clipRunes([]byte(collapseSpace(tex)), 60, ""), f.close, te.Msg))
			continue
		}
		f.mathml = []byte(out)
		r.post.Math = true
	}
}

// mathSpans are the byte ranges of the formulas a parse with pc found,
// delimiters included: the template step (textpl.go) leaves them alone.
func mathSpans(pc parser.Context) []textpl.Span {
	st := mathOf(pc)
	if st == nil {
		return nil
	}
	spans := make([]textpl.Span, 0, len(st.nodes))
	for _, n := range st.nodes {
		f := n.data()
		start := max(n.Pos(), 0)
		end := start + len(f.open)
		if k := len(f.segs); k > 0 {
			end = f.segs[k-1].Stop
			if n.Type() == ast.TypeInline {
				end += len(f.close)
			}
		}
		spans = append(spans, textpl.Span{Start: start, End: end})
	}
	return spans
}

// offsetOf is the source offset of byte off of the formula's TeX.
func (f *formula) offsetOf(source []byte, off int) int {
	for _, s := range f.segs {
		if off < s.Len() {
			return s.Start + off
		}
		off -= s.Len()
	}
	// At the end: the end of the last line, before its newline.
	if n := len(f.segs); n > 0 {
		s := f.segs[n-1]
		return s.Start + len(bytes.TrimRight(s.Value(source), "\r\n"))
	}
	return 0
}
