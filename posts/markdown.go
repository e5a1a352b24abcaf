package posts

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/alecthomas/chroma/v2"
	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/lexers"
	"github.com/alecthomas/chroma/v2/styles"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"

	"github.com/publishbot/publishbot/texmath"
)

// markdown is the goldmark pipeline, built once per Load and shared by its
// workers (goldmark.Markdown is safe for concurrent use).
type markdown struct {
	md     goldmark.Markdown
	unsafe bool
	nr     *nodeRenderer
	math   *texmath.Converter // for posts with math (see math.go); does nothing until used

	mathOnce sync.Once
	mathMD   goldmark.Markdown // md with the math parsers, built for the first post with math
}

// parser is the pipeline's parser, with the math parsers when math is on
// (built then: a post without math is parsed exactly as before, its text
// not even split at "$" and "\").
func (m *markdown) parser(math bool) parser.Parser {
	if !math {
		return m.md.Parser()
	}
	m.mathOnce.Do(func() { m.mathMD = buildGoldmark(m.nr, m.unsafe, true) })
	return m.mathMD.Parser()
}

// newMarkdown builds the pipeline: with unsafe, raw HTML is kept as written
// (cleaned of dangerous URLs only); else it is sanitised, and embeds are the
// hosts an iframe may load.
func newMarkdown(unsafe bool, embeds []string) *markdown {
	nr := &nodeRenderer{
		unsafe:    unsafe,
		formatter: chromahtml.New(chromahtml.WithClasses(true), chromahtml.WithPreWrapper(bareWrapper{})),
		style:     styles.Get(DefaultLightStyle),
	}
	if !unsafe {
		nr.embeds = embeds
	}
	return &markdown{md: buildGoldmark(nr, unsafe, false), unsafe: unsafe, nr: nr, math: texmath.New(texmath.Limits{})}
}

// buildGoldmark builds a goldmark pipeline around nr, with the math
// parsers (math.go) when math is set.
func buildGoldmark(nr *nodeRenderer, unsafe, math bool) goldmark.Markdown {
	rOpts := []renderer.Option{renderer.WithNodeRenderers(util.Prioritized(nr, 100), util.Prioritized(mathRenderer{}, 100))}
	if unsafe {
		rOpts = append(rOpts, html.WithUnsafe())
	}
	// goldmark's default parser and its GFM and Footnote extensions, with
	// the nesting of blocks, the size of tables, the cost of link
	// reference definitions, emphasis and links bounded (see depthGuard,
	// boundedTable, windowedLinkRefs, delimiterGuard and linkGuard).
	blocks := parser.DefaultBlockParsers()
	for i, b := range blocks {
		if b.Value == parser.NewBlockquoteParser() || b.Value == parser.NewListParser() {
			blocks[i].Value = depthGuard{b.Value.(parser.BlockParser)}
		}
	}
	paragraphs := parser.DefaultParagraphTransformers()
	for i, t := range paragraphs {
		if t.Value == parser.LinkReferenceParagraphTransformer {
			paragraphs[i].Value = windowedLinkRefs{parser.LinkReferenceParagraphTransformer}
		}
	}
	inlines := parser.DefaultInlineParsers()
	for i, ip := range inlines {
		switch ip.Value {
		case parser.NewEmphasisParser():
			inlines[i].Value = delimiterGuard{parser.NewEmphasisParser()}
		case parser.NewLinkParser():
			inlines[i].Value = linkGuard{parser.NewLinkParser()}
		}
	}
	if math {
		blocks = append(blocks, mathBlockParsers()...)
		inlines = append(inlines, mathInlineParsers()...)
	}
	p := parser.NewParser(parser.WithBlockParsers(blocks...),
		parser.WithInlineParsers(inlines...),
		parser.WithParagraphTransformers(paragraphs...),
	)
	return goldmark.New(
		goldmark.WithParser(p),
		goldmark.WithExtensions(
			extension.Linkify, // extension.GFM is these four
			boundedTableExtension{},
			guardedStrikethroughExtension{},
			extension.TaskList,
			guardedFootnoteExtension{},
		),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
		goldmark.WithRendererOptions(rOpts...),
	)
}

// headingIDs makes heading IDs: the heading's slug, unique within one post:
// the first "same" is "same", the next ones "same-1", "same-2", ... skipping
// IDs already taken. It remembers, for each slug, the suffix below which
// every ID is taken, so 30,000 headings of one text cost 30,000 look-ups,
// not 30,000²/2.
type headingIDs struct {
	used map[string]bool
	next map[string]int // slug -> first suffix that may be free
}

func newHeadingIDs() *headingIDs {
	return &headingIDs{used: map[string]bool{}, next: map[string]int{}}
}

func (h *headingIDs) Generate(value []byte, kind ast.NodeKind) []byte {
	base := slugify(string(value))
	if base == "" {
		base = "section"
	}
	id := base
	if h.used[id] {
		// IDs are never freed, so every suffix below next[base] is still
		// taken: the first free one is the same as counting from 1.
		i := max(h.next[base], 1)
		for h.used[base+"-"+strconv.Itoa(i)] {
			i++
		}
		id = base + "-" + strconv.Itoa(i)
		h.next[base] = i + 1
	}
	h.used[id] = true
	return []byte(id)
}

func (h *headingIDs) Put(value []byte) { h.used[string(value)] = true }

// nodeRenderer overrides goldmark's rendering of headings (anchor links),
// links and images (URL checks, lazy images), raw HTML (sanitised, or only
// cleaned of dangerous URLs when unsafe_html is on) and code blocks.
//
// It also renders fenced code with chroma (CSS classes, see HighlightCSS).
// goldmark-highlighting does the same, but looks the lexer up anew for every
// block, and a language chroma does not know ("liquid", "text") costs a scan
// of every lexer's file patterns: half of Load's time on the Jekyll corpus.
// Here each language is looked up once per Load.
type nodeRenderer struct {
	unsafe    bool
	embeds    []string
	sanOnce   sync.Once
	san       *sanitizer            // see sanitizer
	formatter *chromahtml.Formatter // for blocks without line options
	style     *chroma.Style
	lexers    sync.Map // lowercased language -> chroma.Lexer (coalesced), or noLexer
	indexOnce sync.Once
	byName    map[string]chroma.Lexer
}

// sanitizer is the raw HTML sanitiser, built on first use: a Load whose
// posts have no raw HTML never builds its policy.
func (r *nodeRenderer) sanitizer() *sanitizer {
	r.sanOnce.Do(func() { r.san = newSanitizer(r.embeds) })
	return r.san
}

// noLexer caches "chroma has no lexer for this language".
type noLexer struct{}

func (r *nodeRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindHeading, r.heading)
	reg.Register(ast.KindLink, r.link)
	reg.Register(ast.KindImage, r.image)
	reg.Register(ast.KindAutoLink, r.autoLink)
	reg.Register(ast.KindRawHTML, r.rawHTML)
	reg.Register(ast.KindHTMLBlock, r.htmlBlock)
	reg.Register(ast.KindFencedCodeBlock, r.fencedCode)
	reg.Register(ast.KindCodeBlock, r.codeBlock)
	reg.Register(east.KindTaskCheckBox, r.taskCheckBox) // tasklist.go
}

// lexer is the coalesced chroma lexer for a fence's language, or nil.
func (r *nodeRenderer) lexer(lang string) chroma.Lexer {
	if v, ok := r.lexers.Load(lang); ok {
		l, _ := v.(chroma.Lexer)
		return l
	}
	r.indexOnce.Do(r.buildIndex)
	var v any = noLexer{}
	if l := r.byName[lang]; l != nil {
		v = chroma.Coalesce(l)
	}
	r.lexers.Store(lang, v)
	l, _ := v.(chroma.Lexer)
	return l
}

// buildIndex maps lowercased lexer names, aliases and file extensions
// ("*.rb" gives "rb") to lexers, the way lexers.Get looks them up, without
// its scan of every lexer's file patterns for a name it does not know.
func (r *nodeRenderer) buildIndex() {
	r.byName = map[string]chroma.Lexer{}
	all := lexers.GlobalLexerRegistry.Lexers
	add := func(k string, l chroma.Lexer, prio float32) {
		k = strings.ToLower(k)
		if old, ok := r.byName[k]; !ok || old.Config().Priority < prio {
			r.byName[k] = l
		}
	}
	// Extensions first, names and aliases last: a name always wins.
	for _, l := range all {
		for _, g := range l.Config().Filenames {
			if ext, ok := strings.CutPrefix(g, "*."); ok && !strings.ContainsAny(ext, "*?[") {
				add(ext, l, l.Config().Priority)
			}
		}
	}
	for _, l := range all {
		cfg := l.Config()
		for _, a := range cfg.Aliases {
			add(a, l, 1e9)
		}
		add(cfg.Name, l, 2e9)
	}
}

// Node attributes the walker sets for the renderer: what it worked out
// for a node while checking it, so the renderer need not work it out again.
const (
	attrCleanHTML   = "publishbot-clean-html"   // []byte: a raw HTML node, sanitised
	attrCodeOptions = "publishbot-code-options" // *codeOptions: a fenced code block's options
)

// bareWrapper makes chroma write no <pre>: fencedCode writes its own.
type bareWrapper struct{}

func (bareWrapper) Start(code bool, styleAttr string) string { return "" }
func (bareWrapper) End(code bool) string                     { return "" }

// writePreStart opens a code block's <pre>. Every code block can scroll
// sideways on a narrow screen, so each is in the tab order (tabindex 0:
// keyboard users can scroll it) with a name a screen reader says on focus.
func writePreStart(w util.BufWriter, class, label string) {
	_, _ = w.WriteString("<pre")
	if class != "" {
		_, _ = w.WriteString(` class="`)
		_, _ = w.WriteString(class)
		_ = w.WriteByte('"')
	}
	_, _ = w.WriteString(` tabindex="0" role="group" aria-label="`)
	html.DefaultWriter.Write(w, []byte(label))
	_, _ = w.WriteString(`">`)
}

func (r *nodeRenderer) fencedCode(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.FencedCodeBlock)
	var code bytes.Buffer
	for i := 0; i < n.Lines().Len(); i++ {
		seg := n.Lines().At(i)
		code.Write(seg.Value(source))
	}
	var opts codeOptions
	if v, ok := n.AttributeString(attrCodeOptions); ok {
		opts = *v.(*codeOptions)
	} else if n.Info != nil {
		opts, _ = parseCodeOptions(n.Info.Segment.Value(source))
	}
	if isDiagram(opts.lang) {
		writeDiagram(w, code.Bytes()) // diagram.go
		return ast.WalkSkipChildren, nil
	}
	lang := []byte(opts.lang)
	var lexer chroma.Lexer
	if len(lang) > 0 && len(lang) <= 64 {
		lexer = r.lexer(strings.ToLower(string(lang)))
	}
	label := "Code"
	if lexer != nil {
		label = lexer.Config().Name + " code"
	}
	if opts.title != "" {
		label = opts.title
		_, _ = w.WriteString(`<figure class="code-block"><figcaption>`)
		html.DefaultWriter.Write(w, []byte(opts.title))
		_, _ = w.WriteString("</figcaption>\n")
	}
	if lexer == nil && opts.numbered() {
		lexer = lexers.Fallback // plain text, so lines can be numbered and highlighted
	}
	written := false
	if lexer != nil {
		if it, err := lexer.Tokenise(nil, code.String()); err == nil {
			f := r.formatter
			if opts.numbered() {
				f = chromahtml.New(chromahtml.WithClasses(true), chromahtml.WithPreWrapper(bareWrapper{}),
					chromahtml.WithLineNumbers(opts.lineNos), chromahtml.BaseLineNumber(max(opts.lineStart, 1)),
					chromahtml.HighlightLines(shiftRanges(opts.highlight, max(opts.lineStart, 1)-1)))
			}
			// Format fails only on a writer's error, which a BufWriter
			// keeps for the renderer to return.
			writePreStart(w, "chroma", label)
			_, _ = w.WriteString("<code>")
			_ = f.Format(w, r.style, it)
			_, _ = w.WriteString("</code></pre>")
			written = true
		}
	}
	if !written {
		writePreStart(w, "", label)
		_, _ = w.WriteString("<code")
		if len(lang) > 0 {
			_, _ = w.WriteString(` class="language-`)
			html.DefaultWriter.Write(w, lang)
			_ = w.WriteByte('"')
		}
		_ = w.WriteByte('>')
		html.DefaultWriter.RawWrite(w, code.Bytes())
		_, _ = w.WriteString("</code></pre>")
	}
	if opts.title != "" {
		_, _ = w.WriteString("</figure>")
	}
	_ = w.WriteByte('\n')
	return ast.WalkSkipChildren, nil
}

// shiftRanges moves hl_lines, which count from the block's first line, to
// chroma's line numbers, which start at linenostart.
func shiftRanges(rs [][2]int, by int) [][2]int {
	out := make([][2]int, len(rs))
	for i, r := range rs {
		out[i] = [2]int{r[0] + by, r[1] + by}
	}
	return out
}

// codeBlock renders an indented code block, as goldmark does but with the
// same <pre> as fenced code.
func (r *nodeRenderer) codeBlock(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	writePreStart(w, "", "Code")
	_, _ = w.WriteString("<code>")
	l := node.Lines().Len()
	for i := 0; i < l; i++ {
		line := node.Lines().At(i)
		html.DefaultWriter.RawWrite(w, line.Value(source))
	}
	_, _ = w.WriteString("</code></pre>\n")
	return ast.WalkSkipChildren, nil
}

func (r *nodeRenderer) heading(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Heading)
	level := "0123456"[n.Level]
	if entering {
		_, _ = w.WriteString("<h")
		_ = w.WriteByte(level)
		if n.Attributes() != nil {
			html.RenderAttributes(w, node, html.HeadingAttributeFilter)
		}
		_ = w.WriteByte('>')
		return ast.WalkContinue, nil
	}
	if id, ok := n.AttributeString("id"); ok {
		if b, ok := id.([]byte); ok {
			_, _ = w.WriteString(` <a class="anchor" href="#`)
			_, _ = w.Write(util.EscapeHTML(b))
			_, _ = w.WriteString(`" aria-hidden="true" tabindex="-1">#</a>`)
		}
	}
	_, _ = w.WriteString("</h")
	_ = w.WriteByte(level)
	_, _ = w.WriteString(">\n")
	return ast.WalkContinue, nil
}

func (r *nodeRenderer) link(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Link)
	if !entering {
		_, _ = w.WriteString("</a>")
		return ast.WalkContinue, nil
	}
	_, _ = w.WriteString("<a")
	dest := util.URLEscape(n.Destination, true)
	if !dangerousURL(dest) {
		_, _ = w.WriteString(` href="`)
		_, _ = w.Write(util.EscapeHTML(dest))
		_ = w.WriteByte('"')
	}
	if n.Title != nil {
		_, _ = w.WriteString(` title="`)
		html.DefaultWriter.Write(w, n.Title)
		_ = w.WriteByte('"')
	}
	if n.Attributes() != nil {
		html.RenderAttributes(w, n, html.LinkAttributeFilter)
	}
	_ = w.WriteByte('>')
	return ast.WalkContinue, nil
}

func (r *nodeRenderer) image(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.Image)
	_, _ = w.WriteString("<img")
	dest := util.URLEscape(n.Destination, true)
	if !dangerousURL(dest) {
		_, _ = w.WriteString(` src="`)
		_, _ = w.Write(util.EscapeHTML(dest))
		_ = w.WriteByte('"')
	}
	_, _ = w.WriteString(` alt="`)
	var alt bytes.Buffer
	inlineText(&alt, source, n)
	_, _ = w.Write(util.EscapeHTML(alt.Bytes()))
	_ = w.WriteByte('"')
	if n.Title != nil {
		_, _ = w.WriteString(` title="`)
		html.DefaultWriter.Write(w, n.Title)
		_ = w.WriteByte('"')
	}
	_, _ = w.WriteString(` loading="lazy" decoding="async">`)
	return ast.WalkSkipChildren, nil
}

func (r *nodeRenderer) autoLink(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.AutoLink)
	if !entering {
		return ast.WalkContinue, nil
	}
	url := util.URLEscape(n.URL(source), false)
	label := n.Label(source)
	if n.AutoLinkType == ast.AutoLinkEmail && !bytes.HasPrefix(bytes.ToLower(url), []byte("mailto:")) {
		url = append([]byte("mailto:"), url...)
	}
	if dangerousURL(url) {
		_, _ = w.Write(util.EscapeHTML(label))
		return ast.WalkContinue, nil
	}
	_, _ = w.WriteString(`<a href="`)
	_, _ = w.Write(util.EscapeHTML(url))
	_, _ = w.WriteString(`">`)
	_, _ = w.Write(util.EscapeHTML(label))
	_, _ = w.WriteString(`</a>`)
	return ast.WalkContinue, nil
}

func (r *nodeRenderer) rawHTML(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	n := node.(*ast.RawHTML)
	var b bytes.Buffer
	for i := 0; i < n.Segments.Len(); i++ {
		seg := n.Segments.At(i)
		b.Write(seg.Value(source))
	}
	_, _ = w.Write(r.rawOut(node, b.Bytes()))
	return ast.WalkSkipChildren, nil
}

func (r *nodeRenderer) htmlBlock(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	n := node.(*ast.HTMLBlock)
	_, _ = w.Write(r.rawOut(node, htmlBlockBytes(n, source)))
	return ast.WalkSkipChildren, nil
}

// rawOut is what a raw HTML node becomes: cleaned of dangerous URLs with
// unsafe_html, else sanitised (by the walker, which reports what it
// removed; here, silently, for a node it did not visit).
func (r *nodeRenderer) rawOut(node ast.Node, b []byte) []byte {
	if r.unsafe {
		return cleanHTML(b)
	}
	if v, ok := node.AttributeString(attrCleanHTML); ok {
		return v.([]byte)
	}
	out, _ := r.sanitizer().clean(b, nil, nil)
	return keptOrNothing(out)
}

// keptOrNothing is sanitised HTML, or nothing when only white space is
// left (a comment's line, say): a removed block leaves no blank line.
func keptOrNothing(out []byte) []byte {
	if len(bytes.TrimSpace(out)) == 0 {
		return nil
	}
	return out
}

// htmlBlockBytes is an HTML block's source: its lines and its closing line.
func htmlBlockBytes(n *ast.HTMLBlock, source []byte) []byte {
	var b bytes.Buffer
	for i := 0; i < n.Lines().Len(); i++ {
		seg := n.Lines().At(i)
		b.Write(seg.Value(source))
	}
	if n.HasClosure() {
		b.Write(n.ClosureLine.Value(source))
	}
	return b.Bytes()
}

// inlineText writes the plain text of n's inline children.
func inlineText(b *bytes.Buffer, source []byte, n ast.Node) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch t := c.(type) {
		case *ast.Text:
			b.Write(textValue(t.Segment.Value(source)))
			if t.SoftLineBreak() || t.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(t.Value)
		default:
			inlineText(b, source, c)
		}
	}
}

// textValue resolves backslash escapes and character references of a
// Markdown text segment.
func textValue(v []byte) []byte {
	if bytes.IndexByte(v, '\\') >= 0 {
		v = util.UnescapePunctuations(v)
	}
	if bytes.IndexByte(v, '&') >= 0 {
		v = util.ResolveNumericReferences(v)
		v = util.ResolveEntityNames(v)
	}
	return v
}

// dangerousURL reports a URL that must never reach href or src:
// javascript:, vbscript:, file: and data: other than raster images, in any
// case and after leading blanks and control characters.
func dangerousURL(u []byte) bool {
	i := 0
	for i < len(u) && (u[i] <= ' ' || u[i] == 0x7f) {
		i++
	}
	u = u[i:]
	if len(u) == 0 || !schemeStart[u[0]] {
		// most links: "https:", "/", "#", "../": not one of the schemes
		// below (each starts with a letter of one of theirs, and no
		// control character can come first after the trim)
		return false
	}
	if bytes.IndexFunc(u[:min(len(u), 16)], func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0 {
		// Browsers drop tabs and newlines inside the scheme: "java\tscript:".
		u = bytes.Map(func(r rune) rune {
			if r < ' ' || r == 0x7f {
				return -1
			}
			return r
		}, u)
	}
	return html.IsDangerousURL(u)
}

// schemeStart is true at the first letters of javascript:, vbscript:,
// file: and data:, in either case: a URL starting with another byte is
// none of them (html.IsDangerousURL lowers a copy of every URL).
var schemeStart = func() (t [256]bool) {
	for _, c := range "jvfdJVFD" {
		t[c] = true
	}
	return t
}()

var moreRE = regexp.MustCompile(`^<!--\s*more\s*-->`)

// cutSummary is the first max runes of text, cut back to a word boundary and
// ended with "…" when anything was cut.
func cutSummary(text string, max int) string {
	text = strings.TrimSpace(text)
	n := 0
	for i := range text {
		if n == max {
			cut := text[:i]
			if j := strings.LastIndexAny(cut, " \t\n"); j > 0 {
				cut = cut[:j]
			}
			cut = strings.TrimRight(cut, " \t\n,;:.-–—")
			return cut + "…"
		}
		n++
	}
	return text
}

// collapsePrefix is collapseSpace of s, stopped once it holds more than n
// runes: enough for a summary without collapsing a whole long post.
func collapsePrefix(s string, n int) string {
	var b strings.Builder
	runes := 0
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			runes++
			space = false
		}
		b.WriteRune(r)
		runes++
		if runes > n {
			break
		}
	}
	return b.String()
}

// collapseSpace joins all runs of white space into single spaces.
func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
