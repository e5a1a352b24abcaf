package posts

import (
	"bytes"
	"fmt"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// The bounds on Markdown that goldmark itself does not have. goldmark
// checks every open block on every line, so blocks nested n deep cost n (or
// n²) per line: a blockquote 200,000 deep in 400 KB took 19 s. Its tables
// fill every row up to the header's width, so a header of 8,000 columns
// over 8,000 short rows is 64 million cells from 200 KB. Its footnotes,
// link reference definitions, emphasis and failed inline links cost the
// square of their number in one post or paragraph. And its AST is walked by
// recursion, which an inline nesting of millions would turn into a stack
// overflow. Each bound is checked where goldmark would go past it, inside
// its parser (a block parser that opens no deeper container, a paragraph
// transformer, an inline parser that leaves the rest as text), so it never
// does the work; reading the raw text before goldmark could not tell a
// blockquote from a ">" in a code block without parsing it again. A post
// beyond a bound gets a limit-exceeded error at the line and is left out;
// the limits are in limits.go.

// Parser context keys: the body offset of the first place a bound was hit,
// and the footnote counts.
var (
	blockDepthKey    = parser.NewContextKey()
	tableSizeKey     = parser.NewContextKey()
	footnotesKey     = parser.NewContextKey()
	inlineWorkKey    = parser.NewContextKey()
	footnoteCountKey = parser.NewContextKey() // *footnoteCount
)

// inlineCount counts, for the block being parsed into inlines, the
// emphasis and strikethrough delimiters that may close, and what the inline
// links that failed have cost.
type inlineCount struct {
	block   ast.Node
	closers int // delimiters that may close
	failed  int // bytes from each failed inline link to the end of the block
	budget  int // for failed: see linkGuard
}

var inlineCountKey = parser.NewContextKey() // *inlineCount

// inlineCounts is the count for block, started anew for each block.
func inlineCounts(pc parser.Context, block ast.Node) *inlineCount {
	c, ok := pc.Get(inlineCountKey).(*inlineCount)
	if !ok {
		c = &inlineCount{}
		pc.Set(inlineCountKey, c)
	}
	if c.block != block {
		*c = inlineCount{block: block, budget: failedLinkBudget}
		if lines := block.Lines(); lines != nil && lines.Len() > 0 {
			c.budget += failedLinkFactor * (lines.At(lines.Len()-1).Stop - lines.At(0).Start)
		}
	}
	return c
}

// delimiterGuard wraps goldmark's emphasis or strikethrough parser. goldmark
// pairs delimiters ("*", "__", "~~") by searching back from each one that
// may close over all those before it, so n that never pair cost n²:
// "*a_ " 16,000 times took 1.3 s (goldmark issue 555). In one block, after
// maxDelimiters that may close, the delimiters are text: pairing then
// costs at most maxDelimiters searches over the block's delimiters.
// Delimiters that can neither open nor close (the "_" of snake_case) are
// not counted. Stateless and safe for concurrent use.
type delimiterGuard struct{ parser.InlineParser }

func (g delimiterGuard) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	c := inlineCounts(pc, parent)
	if c.closers >= maxDelimiters {
		if pc.Get(inlineWorkKey) == nil {
			_, seg := block.PeekLine()
			pc.Set(inlineWorkKey, seg.Start)
		}
		return nil
	}
	n := g.InlineParser.Parse(parent, block, pc)
	if d, ok := n.(*parser.Delimiter); ok && d.CanClose {
		c.closers++
	}
	return n
}

// linkGuard wraps goldmark's link parser. When goldmark tries an inline
// link ("](" after a link text) and it fails, it has read up to the end of
// the block for its destination and title, and the next try reads it again:
// "[a](" 16,000 times on one line took 1.5 s. A link that is made is read
// once. So the failed tries of a block may cost failedLinkFactor times its
// length (plus failedLinkBudget); past that, a "]" is text and the place
// recorded. Links that work are never limited: 60,000 in a paragraph are
// fine. It forwards CloseBlock, with which goldmark's link parser tidies up
// a block's unclosed brackets. Stateless and safe for concurrent use.
type linkGuard struct{ parser.InlineParser }

func (g linkGuard) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	line, seg := block.PeekLine()
	if len(line) < 2 || line[0] != ']' || line[1] != '(' {
		return g.InlineParser.Parse(parent, block, pc)
	}
	c := inlineCounts(pc, parent)
	if c.failed > c.budget {
		if pc.Get(inlineWorkKey) == nil {
			pc.Set(inlineWorkKey, seg.Start)
		}
		return nil
	}
	n := g.InlineParser.Parse(parent, block, pc)
	if _, at := block.Position(); at.Start <= seg.Start+1 { // the "(" was not taken: no inline link
		end := seg.Start
		if lines := parent.Lines(); lines != nil && lines.Len() > 0 {
			end = max(end, lines.At(lines.Len()-1).Stop)
		}
		c.failed += end - seg.Start
	}
	return n
}

func (g linkGuard) CloseBlock(parent ast.Node, block text.Reader, pc parser.Context) {
	if cb, ok := g.InlineParser.(parser.CloseBlocker); ok {
		cb.CloseBlock(parent, block, pc)
	}
}

// guardedStrikethroughExtension is extension.Strikethrough with its parser
// behind delimiterGuard.
type guardedStrikethroughExtension struct{}

func (guardedStrikethroughExtension) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(parser.WithInlineParsers(util.Prioritized(delimiterGuard{extension.NewStrikethroughParser()}, 500)))
	m.Renderer().AddOptions(renderer.WithNodeRenderers(util.Prioritized(extension.NewStrikethroughHTMLRenderer(), 500)))
}

// footnoteCount counts the footnote definitions and references of one parse.
type footnoteCount struct{ defs, refs int }

func footnoteCounts(pc parser.Context) *footnoteCount {
	if c, ok := pc.Get(footnoteCountKey).(*footnoteCount); ok {
		return c
	}
	c := &footnoteCount{}
	pc.Set(footnoteCountKey, c)
	return c
}

// depthGuard wraps a block parser of containers (blockquotes, lists,
// footnotes): it opens nothing inside maxBlockDepth containers, and records
// where it refused. The refused marker is then read as the text of a
// paragraph, which costs goldmark nothing more. depthGuard is stateless and
// safe for concurrent use, as the parser it wraps.
type depthGuard struct{ parser.BlockParser }

func (g depthGuard) Open(parent ast.Node, reader text.Reader, pc parser.Context) (ast.Node, parser.State) {
	if blockDepth(parent) >= maxBlockDepth {
		if pc.Get(blockDepthKey) == nil {
			_, seg := reader.PeekLine()
			pc.Set(blockDepthKey, seg.Start+max(pc.BlockOffset(), 0))
		}
		return nil, parser.NoChildren
	}
	return g.BlockParser.Open(parent, reader, pc)
}

// blockDepth is the number of containers n is in, n included: blockquotes,
// list items and footnotes (a list and its item count once).
func blockDepth(n ast.Node) int {
	d := 0
	for ; n != nil; n = n.Parent() {
		switch n.(type) {
		case *ast.Blockquote, *ast.ListItem, *east.Footnote:
			d++
		}
	}
	return d
}

// guardedFootnoteExtension is extension.Footnote with its block parser (a
// footnote definition is a container, and may hold another) behind
// depthGuard, and both its parsers behind a count: goldmark looks a
// reference up by reading the definitions one by one, and sorts them by
// insertion, so n footnotes cost n². At most maxFootnotes definitions
// and maxFootnoteRefs references are read as footnotes; the others stay
// text, and the place is recorded.
type guardedFootnoteExtension struct{}

func (guardedFootnoteExtension) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(
		parser.WithBlockParsers(util.Prioritized(footnoteDefGuard{depthGuard{extension.NewFootnoteBlockParser()}}, 999)),
		parser.WithInlineParsers(util.Prioritized(footnoteRefGuard{extension.NewFootnoteParser()}, 101)),
		parser.WithASTTransformers(util.Prioritized(extension.NewFootnoteASTTransformer(), 999)),
	)
	m.Renderer().AddOptions(renderer.WithNodeRenderers(util.Prioritized(extension.NewFootnoteHTMLRenderer(), 500)))
}

// footnoteDefGuard counts footnote definitions (see guardedFootnoteExtension).
type footnoteDefGuard struct{ depthGuard }

func (g footnoteDefGuard) Open(parent ast.Node, reader text.Reader, pc parser.Context) (ast.Node, parser.State) {
	c := footnoteCounts(pc)
	if c.defs >= maxFootnotes {
		line, seg := reader.PeekLine()
		if pc.Get(footnotesKey) == nil && bytes.HasPrefix(line[max(pc.BlockOffset(), 0):], []byte("[^")) {
			pc.Set(footnotesKey, seg.Start+max(pc.BlockOffset(), 0))
		}
		return nil, parser.NoChildren
	}
	n, st := g.depthGuard.Open(parent, reader, pc)
	if n != nil {
		c.defs++
	}
	return n, st
}

// footnoteRefGuard counts what may be footnote references (see
// guardedFootnoteExtension): what goldmark's parser goes on to look up.
type footnoteRefGuard struct{ parser.InlineParser }

func (g footnoteRefGuard) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	line, seg := block.PeekLine()
	pos := 1 // as goldmark's parser reads "[^" and "![^"
	if len(line) > 0 && line[0] == '!' {
		pos++
	}
	if pos >= len(line) || line[pos] != '^' {
		return nil // not a reference: goldmark's parser would say so too
	}
	c := footnoteCounts(pc)
	if c.refs++; c.refs > maxFootnoteRefs {
		if pc.Get(footnotesKey) == nil {
			pc.Set(footnotesKey, seg.Start)
		}
		return nil
	}
	return g.InlineParser.Parse(parent, block, pc)
}

// windowedLinkRefs runs goldmark's link reference definition transformer
// over a long paragraph refWindow lines at a time. goldmark's own reads the
// whole paragraph again for each definition ("[a]: /x" lines at its start),
// so 64,000 definitions in one block took 3.3 s. The definitions found, and
// the text left, are the same: a window whose definitions stop before its
// end is read again from the first line that was not one, so a definition
// cut by a window's end is read whole (one of up to refWindow lines).
// Stateless and safe for concurrent use.
type windowedLinkRefs struct{ parser.ParagraphTransformer }

func (t windowedLinkRefs) Transform(node *ast.Paragraph, reader text.Reader, pc parser.Context) {
	n := node.Lines().Len()
	if n <= refWindow {
		t.ParagraphTransformer.Transform(node, reader, pc)
		return
	}
	parent := node.Parent()
	all := node.Lines().Sliced(0, n)
	for start := 0; ; {
		end := min(start+refWindow, n)
		p := ast.NewParagraph()
		p.Lines().AppendAll(all[start:end])
		if start == 0 {
			p.SetBlankPreviousLines(node.HasBlankPreviousLines())
		}
		parent.InsertBefore(parent, node, p) // definitions go before it
		t.ParagraphTransformer.Transform(p, reader, pc)
		if p.Parent() == nil { // every line was a definition
			if start = end; start == n {
				parent.RemoveChild(parent, node)
				return
			}
			continue
		}
		parent.RemoveChild(parent, p)
		consumed := (end - start) - p.Lines().Len()
		if consumed > 0 && end < n {
			start += consumed // the rest of the window, again, with what follows
			continue
		}
		rest := text.NewSegments()
		rest.AppendAll(all[start+consumed:])
		node.SetLines(rest)
		return
	}
}

// boundedTableExtension is extension.Table with its paragraph transformer
// behind boundedTable.
type boundedTableExtension struct{}

func (boundedTableExtension) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(
		parser.WithParagraphTransformers(util.Prioritized(boundedTable{extension.NewTableParagraphTransformer()}, 200)),
		parser.WithASTTransformers(util.Prioritized(extension.NewTableASTTransformer(), 0)),
	)
	m.Renderer().AddOptions(renderer.WithNodeRenderers(util.Prioritized(extension.NewTableHTMLRenderer(), 500)))
}

// boundedTable turns a paragraph into a table, as goldmark's transformer
// does, unless the table could have more cells than max(minTableCells, the
// paragraph's bytes): goldmark fills every row up to the header's width,
// so short rows under a wide header multiply. The paragraph then stays a
// paragraph and the place is recorded. Stateless and safe for concurrent
// use.
type boundedTable struct{ parser.ParagraphTransformer }

func (b boundedTable) Transform(node *ast.Paragraph, reader text.Reader, pc parser.Context) {
	lines := node.Lines()
	if lines.Len() < 2 {
		return
	}
	// goldmark makes one table, from the first line (after the first) that
	// reads as a delimiter row ("|---|:-:|"), with as many columns as that
	// row, and one row per line from the line before it to the end. Any
	// line of only those characters may be that row, so the largest
	// (pipes+1) x (lines from the one before it) bounds the cells.
	source := reader.Source()
	size, cells := 0, 0
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		line := seg.Value(source)
		size += len(line)
		if i > 0 && isDelimiterRow(line) {
			cells = max(cells, (bytes.Count(line, []byte("|"))+1)*(lines.Len()-i+1))
		}
	}
	if cells > max(minTableCells, size) {
		if pc.Get(tableSizeKey) == nil {
			pc.Set(tableSizeKey, tableHit{off: lines.At(0).Start, cells: cells, size: size})
		}
		return
	}
	b.ParagraphTransformer.Transform(node, reader, pc)
}

// tableHit is where boundedTable refused a table, and why.
type tableHit struct{ off, cells, size int }

// isDelimiterRow reports a line of only blanks, '-', '|' and ':' with a
// '-': a superset of what goldmark reads as a table's delimiter row.
func isDelimiterRow(line []byte) bool {
	dash := false
	for _, c := range line {
		switch c {
		case '-':
			dash = true
		case '|', ':', ' ', '\t', '\r', '\n', '\v', '\f':
		default:
			return false
		}
	}
	return dash
}

// inlineTooDeep returns the first inline node of doc nested inside more
// than maxInline other inlines (emphasis in emphasis, an image in an image's
// text), or nil. It walks the tree without recursion: before it has said
// nil, the tree may be as deep as the text is long.
func inlineTooDeep(doc ast.Node, maxInline int) ast.Node {
	depth := 0 // inline nodes from doc down to n, n included
	inline := func(n ast.Node) int {
		if n.Type() == ast.TypeInline {
			return 1
		}
		return 0
	}
	n := doc
	for {
		if c := n.FirstChild(); c != nil {
			n = c
		} else {
			for n != doc && n.NextSibling() == nil {
				depth -= inline(n)
				n = n.Parent()
			}
			if n == doc {
				return nil
			}
			depth -= inline(n)
			n = n.NextSibling()
		}
		if depth += inline(n); depth > maxInline {
			return n
		}
	}
}

// nodeOffset is a byte offset of source where n is written: its first
// text, else the first line of the block it is in. No recursion.
func nodeOffset(n ast.Node) int {
	for c := n; c != nil; c = c.FirstChild() {
		if t, ok := c.(*ast.Text); ok {
			return t.Segment.Start
		}
	}
	for b := n; b != nil; b = b.Parent() {
		if b.Type() == ast.TypeBlock && b.Lines().Len() > 0 {
			return b.Lines().At(0).Start
		}
	}
	return 0
}

// checkBounds reports, as limit-exceeded errors of r, every bound the parse
// of r's body hit (pc is the parse's context), and returns false when the
// tree must not be walked or rendered.
func (r *postResult) checkBounds(doc ast.Node, pc parser.Context) bool {
	ok := true
	if off, hit := pc.Get(blockDepthKey).(int); hit {
		line, col := r.pos(r.bodyOff + off)
		r.add(line, col, CodeLimit, fmt.Sprintf("blockquotes, lists and footnotes are nested more than %d levels deep here; nest them less deeply", maxBlockDepth))
	}
	if t, hit := pc.Get(tableSizeKey).(tableHit); hit {
		line, col := r.pos(r.bodyOff + t.off)
		r.add(line, col, CodeLimit, fmt.Sprintf("this table would be filled out to %d cells from %d bytes (every row gets as many cells as the header has); the limit is %d cells or one per byte: write the rows out, or split the table", t.cells, t.size, minTableCells))
	}
	if off, hit := pc.Get(footnotesKey).(int); hit {
		line, col := r.pos(r.bodyOff + off)
		r.add(line, col, CodeLimit, fmt.Sprintf("more than %d footnotes or %d footnote references; the ones from here on are shown as text", maxFootnotes, maxFootnoteRefs))
	}
	if off, hit := pc.Get(inlineWorkKey).(int); hit {
		line, col := r.pos(r.bodyOff + off)
		r.add(line, col, CodeLimit, fmt.Sprintf("more than %d emphasis marks that may close in one paragraph, or more links that do not work than it can take; the ones from here on are shown as text: split the paragraph", maxDelimiters))
	}
	if n := inlineTooDeep(doc, maxInlineDepth); n != nil {
		line, col := r.pos(r.bodyOff + nodeOffset(n))
		r.add(line, col, CodeLimit, fmt.Sprintf("emphasis, links and images are nested more than %d levels deep here; nest them less deeply", maxInlineDepth))
		ok = false
	}
	return ok
}
