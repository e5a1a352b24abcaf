package posts

import (
	"bytes"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
	xhtml "golang.org/x/net/html"
)

// summaryRunes is the length of a summary taken from the text.
const summaryRunes = 400

// render is phase 2: parse the body, resolve links, collect the plain text,
// report body problems, and render HTML. A panic becomes an internal-error
// diagnostic.
func (l *loader) render(r *postResult, idx *siteIndex) {
	if l.cache != nil {
		l.renderCached(r, idx)
		return
	}
	if l.loadSource(r) {
		l.renderWith(r, idx, nil, l.cfg.BasePath())
	}
}

// renderWith is render, recording what it reads of the rest of the site in
// reads (nil: nothing), with base as the base path of the site's URLs
// (cfg.BasePath(), or basePlaceholder: see neutral.go). It is false after a
// panic.
func (l *loader) renderWith(r *postResult, idx *siteIndex, reads *Reads, base string) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			ok = false
			r.add(0, 0, CodeInternal, fmt.Sprintf("publishbot failed rendering this file (please report it): %v", v))
		}
	}()
	l.expandTemplates(r, idx)
	p := r.post
	pctx := parser.NewContext(parser.WithIDs(newHeadingIDs()))
	math := l.mathOn(r)
	if math {
		enableMath(pctx)
	}
	doc := l.md.parser(math).Parse(text.NewReader(r.body), parser.WithContext(pctx))
	if !r.checkBounds(doc, pctx) {
		return true // a tree too deep to walk; the post has an error
	}
	l.convertMath(r, pctx)
	w := &walker{l: l, r: r, idx: idx, body: r.body, ends: newLiquidEnds(), reads: reads, base: base}
	w.tocOn = r.meta.toc != nil && *r.meta.toc || r.meta.toc == nil && l.cfg.TOC
	_ = ast.Walk(doc, w.visit)
	if w.tocOn {
		p.TOC = renderTOC(w.toc, l.locale.T("contents"))
	}
	if meta := r.meta; meta.imageRaw != "" {
		before, checks := len(r.diags), len(r.checks)
		p.Image = w.resolve(meta.imageRaw, true, true, meta.imageLine, meta.imageCol)
		if len(r.diags) > before {
			p.Image = "" // missing or unsafe: no cover rather than a broken one
		}
		for i := checks; i < len(r.checks); i++ {
			r.checks[i].cover = true // and when it goes to nothing, none either
		}
	}
	prose := w.prose.String()
	if p.Summary == "" {
		if w.more {
			p.Summary = collapseSpace(w.beforeMore)
		} else {
			p.Summary = cutSummary(collapsePrefix(prose[:w.summaryEnd()], summaryRunes+1), summaryRunes)
		}
	}
	p.Words = countWords(prose) + countWords(w.notes.String()) + w.codeWords
	p.ReadingTime = l.locale.ReadingMinutes(p.Words)
	var buf bytes.Buffer
	buf.Grow(len(r.body) * 2)
	if err := l.md.md.Renderer().Render(&buf, r.body, doc); err != nil {
		r.add(0, 0, CodeInternal, fmt.Sprintf("rendering failed: %v", err))
		p.SetBody("", prose)
		return true
	}
	p.SetBody(buf.String(), prose)
	return true
}

// walker visits a post's AST once.
type walker struct {
	l     *loader
	r     *postResult
	idx   *siteIndex
	body  []byte
	reads *Reads // what it reads of the site, for the RenderCache; nil: not recorded
	base  string // the base path the site's URLs are written under

	prose      bytes.Buffer // text for the summary and word count
	notes      bytes.Buffer // footnote text: counted, not summarised
	codeWords  int
	more       bool
	beforeMore string
	tocOn      bool       // the post has a table of contents
	toc        []tocEntry // its h2 and h3 headings
	inCode     int
	inNotes    int
	blockStart int
	blockEnd   int
	destFrom   int // where in the block the next link destination is looked for
	ends       liquidEnds
	summary    summaryStop // where the automatic summary ends (summary.go)
}

func (w *walker) text() *bytes.Buffer {
	if w.inNotes > 0 {
		return &w.notes
	}
	return &w.prose
}

func (w *walker) space() {
	b := w.text()
	if b.Len() > 0 && b.Bytes()[b.Len()-1] != ' ' {
		b.WriteByte(' ')
	}
}

func (w *walker) visit(n ast.Node, entering bool) (ast.WalkStatus, error) {
	if n.Type() == ast.TypeBlock && entering {
		if lines := n.Lines(); lines != nil && lines.Len() > 0 {
			w.blockStart, w.blockEnd = lines.At(0).Start, lines.At(lines.Len()-1).Stop
			w.destFrom = w.blockStart
		}
	}
	if entering {
		switch n := n.(type) {
		case *ast.Heading:
			if w.tocOn {
				w.heading(n)
			}
		case *ast.FencedCodeBlock:
			w.codeOptions(n)
			w.diagram(n)
		}
		w.summaryBreak(n)
	}
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock, *ast.Heading, *east.TableCell, *ast.ListItem:
		w.space()
	case *east.FootnoteList:
		if entering {
			w.inNotes++
		} else {
			w.inNotes--
		}
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		if entering {
			lines := n.Lines()
			for i := 0; i < lines.Len(); i++ {
				seg := lines.At(i)
				w.codeWords += countWords(string(seg.Value(w.body)))
			}
		}
		return ast.WalkSkipChildren, nil
	case *ast.CodeSpan:
		if entering {
			w.inCode++
		} else {
			w.inCode--
		}
	case *ast.Text:
		if !entering {
			return ast.WalkContinue, nil
		}
		v := n.Segment.Value(w.body)
		if w.inCode == 0 && !w.r.templated {
			w.liquid(v, n.Segment.Start)
		}
		w.text().Write(textValue(v))
		if n.SoftLineBreak() || n.HardLineBreak() {
			w.text().WriteByte(' ')
		}
	case *ast.String:
		if entering {
			w.text().Write(n.Value)
		}
	case *ast.HTMLBlock:
		if entering {
			segs := make([]text.Segment, 0, n.Lines().Len()+1)
			for i := 0; i < n.Lines().Len(); i++ {
				segs = append(segs, n.Lines().At(i))
			}
			if n.HasClosure() {
				segs = append(segs, n.ClosureLine)
			}
			w.html(n, segs, true)
		}
		return ast.WalkSkipChildren, nil
	case *ast.RawHTML:
		if entering && n.Segments.Len() > 0 {
			w.html(n, n.Segments.Sliced(0, n.Segments.Len()), false)
		}
		return ast.WalkSkipChildren, nil
	case *ast.Link:
		if entering {
			line, col := w.destPos(n, n.Destination)
			n.Destination = []byte(w.resolve(string(n.Destination), false, false, line, col))
		}
	case *ast.Image:
		if entering {
			line, col := w.destPos(n, n.Destination)
			n.Destination = []byte(w.resolve(string(n.Destination), true, false, line, col))
			var alt bytes.Buffer
			inlineText(&alt, w.body, n)
			if strings.TrimSpace(alt.String()) == "" {
				w.r.add(line, col, CodeImageAlt, "image has no alt text: describe it for readers who cannot see it, as in ![a red bicycle](bike.jpg)")
			}
			// The alt text is not prose: skip it for the summary.
			return ast.WalkSkipChildren, nil
		}
	case *ast.AutoLink:
		if entering {
			u := util.URLEscape(n.URL(w.body), false)
			if dangerousURL(u) {
				line, col := w.destPos(n, n.Label(w.body))
				w.r.add(line, col, CodeUnsafeURL, fmt.Sprintf("link %q is not allowed (javascript:, vbscript:, data: and file: links are removed)", string(u)))
			}
			w.text().Write(n.Label(w.body))
		}
	}
	return ast.WalkContinue, nil
}

// html handles raw HTML, written in the segments segs of the body: the
// <!--more--> marker, the text of a block (read by the summary and
// counted; an inline tag has none), and, unless unsafe_html is on,
// sanitising it (see sanitizer) with a warning at the line of everything
// removed.
func (w *walker) html(n ast.Node, segs []text.Segment, block bool) {
	var b bytes.Buffer
	for _, seg := range segs {
		b.Write(seg.Value(w.body))
	}
	if moreRE.Match(bytes.TrimSpace(b.Bytes())) && !w.more && w.inNotes == 0 {
		w.more = true
		w.beforeMore = w.prose.String()
		return
	}
	var text *bytes.Buffer
	if block {
		text = w.text()
		w.space()
		defer w.space()
	}
	if w.l.md.unsafe {
		if text != nil {
			htmlText(cleanHTML(b.Bytes()), text)
		}
		return
	}
	// An offset into the joined segments, as a line and column.
	ends := make([]int, len(segs)) // where each segment ends in the joined bytes
	total := 0
	for i, seg := range segs {
		total += seg.Len()
		ends[i] = total
	}
	pos := func(off int) (int, int) {
		i, _ := slices.BinarySearch(ends, off+1)
		if i == len(segs) {
			return w.r.pos(w.r.bodyOff + segs[len(segs)-1].Stop)
		}
		return w.r.pos(w.r.bodyOff + segs[i].Start + off - (ends[i] - segs[i].Len()))
	}
	// Links, images and media in kept HTML are checked and rewritten as
	// Markdown's are.
	resolve := func(el, attr, val string, at int) string {
		line, col := pos(at)
		return w.resolve(val, el == "img" || el == "source" || attr == "poster", false, line, col)
	}
	out, removed := w.l.md.nr.sanitizer().clean(b.Bytes(), text, resolve)
	n.SetAttributeString(attrCleanHTML, keptOrNothing(out))
	lastLine, lastMsg := 0, ""
	for _, rm := range removed {
		line, col := pos(rm.at)
		if line == lastLine && rm.what == lastMsg {
			continue // the same thing twice on one line: one warning
		}
		lastLine, lastMsg = line, rm.what
		w.r.add(line, col, CodeRawHTML, rm.what)
	}
}

// htmlText writes the text of HTML b to dst, with a space at every tag.
func htmlText(b []byte, dst *bytes.Buffer) {
	z := xhtml.NewTokenizer(bytes.NewReader(b))
	for {
		switch z.Next() {
		case xhtml.ErrorToken:
			return
		case xhtml.TextToken:
			dst.Write(z.Text())
		case xhtml.StartTagToken, xhtml.EndTagToken, xhtml.SelfClosingTagToken:
			if dst.Len() > 0 && dst.Bytes()[dst.Len()-1] != ' ' {
				dst.WriteByte(' ')
			}
		}
	}
}

// heading keeps an h2 or h3 heading for the table of contents.
func (w *walker) heading(n *ast.Heading) {
	if n.Level != 2 && n.Level != 3 {
		return
	}
	id, ok := n.AttributeString("id")
	b, isBytes := id.([]byte)
	if !ok || !isBytes {
		return
	}
	var t bytes.Buffer
	inlineText(&t, w.body, n)
	w.toc = append(w.toc, tocEntry{level: n.Level, id: b, text: collapseSpace(t.String())})
}

// codeOptions reads a fenced code block's options for the renderer and
// reports those it does not understand, at their place in the info string.
func (w *walker) codeOptions(n *ast.FencedCodeBlock) {
	if n.Info == nil {
		return
	}
	info := n.Info.Segment.Value(w.body)
	if len(bytes.TrimSpace(info)) == 0 || bytes.IndexFunc(info, unicode.IsSpace) < 0 && !bytes.ContainsAny(info, ",{") {
		return // a language alone
	}
	opts, problems := parseCodeOptions(info)
	n.SetAttributeString(attrCodeOptions, &opts)
	for _, p := range problems {
		line, col := w.r.pos(w.r.bodyOff + n.Info.Segment.Start + p.at)
		w.r.add(line, col, CodeCodeOption, p.msg)
	}
}

// liquid reports Jekyll Liquid tags that start in a text segment. Each
// tag is shown up to its "}}" or "%}" on its line, else to the end of its
// line; the searches are remembered (w.ends), so a line of 60,000 "{{" is
// read a few times, not 60,000.
func (w *walker) liquid(v []byte, start int) {
	for i := 0; i+1 < len(v); i++ {
		if v[i] != '{' || (v[i+1] != '{' && v[i+1] != '%') {
			continue
		}
		at := start + i
		// The tag may run past this segment (goldmark splits text at "_").
		eol := w.ends.newline.next(w.body, at)
		closer := &w.ends.braces
		if v[i+1] == '%' {
			closer = &w.ends.percent
		}
		var tag string
		if c := closer.next(w.body, at); c+2 <= eol {
			tag = clipRunes(w.body[at:c+2], 60, "")
		} else {
			tag = clipRunes(w.body[at:w.ends.trimmedEnd(w.body, eol)], 59, "…")
		}
		line, col := w.r.pos(w.r.bodyOff + at)
		w.r.add(line, col, CodeLiquid, fmt.Sprintf("Jekyll Liquid %s is not supported and is shown as written", tag))
		i++
	}
}

// clipRunes is b and then suffix when b has at most n runes, else b's
// first 57 runes and "…". It reads at most n+1 runes of b.
func clipRunes(b []byte, n int, suffix string) string {
	cut := len(b)
	for runes, i := 0, 0; i < len(b); runes++ {
		if runes == 57 {
			cut = i
		}
		if runes == n {
			return string(b[:cut]) + "…"
		}
		_, size := utf8.DecodeRune(b[i:])
		i += size
	}
	return string(b) + suffix
}

// liquidEnds remembers where, in a post's body, the next newline, "}}" and
// "%}" are: Liquid tags are looked at in the order of the text, so each
// search starts where the last one left off.
type liquidEnds struct {
	newline, braces, percent nextIndex
	trimFor, trimmed         int // trimmedEnd's last line end and answer
}

func newLiquidEnds() liquidEnds {
	return liquidEnds{newline: nextIndex{pat: []byte("\n")}, braces: nextIndex{pat: []byte("}}")},
		percent: nextIndex{pat: []byte("%}")}, trimFor: -1}
}

// trimmedEnd is eol moved back over the white space that ends its line.
func (e *liquidEnds) trimmedEnd(body []byte, eol int) int {
	if e.trimFor != eol {
		e.trimFor = eol
		e.trimmed = len(bytes.TrimRightFunc(body[:eol], unicode.IsSpace))
	}
	return e.trimmed
}

// nextIndex finds the next occurrence of pat in a text, remembering its
// last answer: queries from offsets that only grow cost one pass over the
// text in all.
type nextIndex struct {
	pat      []byte
	from, at int // the last query and its answer
	known    bool
}

// next is the offset of the first pat at or after from, or len(body).
func (x *nextIndex) next(body []byte, from int) int {
	if x.known && from >= x.from && from <= x.at {
		return x.at
	}
	x.from, x.at, x.known = from, len(body), true
	if i := bytes.Index(body[from:], x.pat); i >= 0 {
		x.at = from + i
	}
	return x.at
}

// destPos finds where a link's destination is written: in the current
// block, after the link's text and after the destinations found before it
// (the same URL twice, or the URL's words earlier in the text, must not
// point at the first place); else at the link's first text.
func (w *walker) destPos(n ast.Node, dest []byte) (int, int) {
	textAt, textEnd := -1, -1 // the link text: the destination comes after it
	ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if t, ok := c.(*ast.Text); ok && entering {
			if textAt < 0 {
				textAt = t.Segment.Start
			}
			textEnd = max(textEnd, t.Segment.Stop)
		}
		return ast.WalkContinue, nil
	})
	if len(dest) > 0 && w.blockEnd > w.blockStart && w.blockEnd <= len(w.body) {
		// Only the link's own text is searched, from its start (or its
		// text's end) to where the next thing after it starts: one link's
		// search never reads the rest of a long paragraph.
		from := max(w.destFrom, w.blockStart, n.Pos())
		if textEnd > from && textEnd < w.blockEnd {
			from = textEnd
		}
		end := w.blockEnd
		for c := n; c != nil && c.Type() == ast.TypeInline; c = c.Parent() {
			if s := c.NextSibling(); s != nil && s.Pos() >= 0 {
				end = min(end, s.Pos())
				break
			}
		}
		if from < end {
			if i := bytes.Index(w.body[from:end], dest); i >= 0 {
				w.destFrom = from + i + len(dest)
				return w.r.pos(w.r.bodyOff + from + i)
			}
		}
	}
	if textAt >= 0 {
		return w.r.pos(w.r.bodyOff + textAt)
	}
	return w.r.pos(w.r.bodyOff + w.blockStart)
}

// resolve checks a link or image destination and returns the one to render.
// A link to a file of the repository, by its path from the post's file (or
// Zola's @/ path from posts_dir), goes where that file is published: a
// post's, section's or redirect's address, a bundle's or static/ file, or
// any other file, which is then published for the post. Site-absolute
// paths get the base path. Relative links inside a bundle stay relative
// (its files are copied beside the page) unless absolute is set (a cover
// image, used on other pages) or the page's address is not a folder. What
// names no file is resolved against the page's address, as a browser
// would; every site path a link goes to is checked once all the files of
// the build are known.
func (w *walker) resolve(dest string, image, absolute bool, line, col int) string {
	r := w.r
	what := "link"
	missing := CodeBrokenLink
	if image {
		what, missing = "image", CodeMissingImage
	}
	if strings.TrimSpace(dest) == "" {
		return dest
	}
	esc := util.URLEscape([]byte(dest), true)
	if dangerousURL(esc) {
		r.add(line, col, CodeUnsafeURL, fmt.Sprintf("%s %q is not allowed (javascript:, vbscript:, data: and file: URLs are removed)", what, trimForMsg(dest)))
		return dest // the renderer leaves it out
	}
	if (strings.Contains(dest, "{{") || strings.Contains(dest, "{%")) && !r.templated {
		r.add(line, col, CodeLiquid, fmt.Sprintf("Jekyll Liquid in the %s %q is not supported and is kept as written", what, trimForMsg(dest)))
		return dest
	}
	zola := strings.HasPrefix(dest, "@/")
	if zola {
		esc = esc[1:] // Zola's @/path.md: a path from the content folder
	}
	u, err := url.Parse(string(esc))
	if err != nil {
		r.add(line, col, missing, fmt.Sprintf("%s %q is not a valid URL", what, trimForMsg(dest)))
		return dest
	}
	if zola {
		rel, suffix := w.l.sitePath(u)
		source := rel
		if dir := w.l.cfg.PostsDir; dir != "." {
			source = dir + "/" + rel
		}
		return w.postLink(source, dest, suffix, what, line, col)
	}
	if u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.Path == "" {
		if (u.Scheme == "http" || u.Scheme == "https") && w.l.siteHost != "" && strings.EqualFold(u.Host, w.l.siteHost) {
			// A link into this site by its full URL: checked as a site path.
			if p := "/" + strings.TrimPrefix(u.Path, "/"); strings.HasPrefix(p+"/", w.l.configBase) {
				rel, _ := w.l.sitePath(&url.URL{Path: p})
				r.checks = append(r.checks, linkCheck{site: rel, dest: dest, line: line, col: col, image: image})
			}
		}
		return dest // external, mailto:, or only #fragment / ?query
	}
	base := w.base
	if strings.HasPrefix(u.Path, "/") {
		rel, suffix := w.l.sitePath(u)
		if isMarkdown(rel) {
			return w.postLink(rel, dest, suffix, what, line, col)
		}
		r.checks = append(r.checks, linkCheck{site: rel, dest: dest, line: line, col: col, image: image})
		return base + escapePath(rel) + suffix
	}
	suffix := ""
	if u.RawQuery != "" {
		suffix += "?" + u.RawQuery
	}
	if u.Fragment != "" {
		suffix += "#" + u.EscapedFragment()
	}
	// Relative to the source file, in the repository, as GitHub shows it.
	p := u.Path
	target := path.Join(path.Dir(r.file.path), p)
	if target != ".." && !strings.HasPrefix(target, "../") {
		if out, ok := w.repoLink(target, dest, suffix, what, image, absolute, line, col); ok {
			return out
		}
	}
	// Else relative to the page's address, as a browser resolves it.
	if r.claimed || (r.kind == kindSection && r.post.Section == "") {
		r.checks = append(r.checks, linkCheck{site: pageRelative(r.post.Address, p), dest: dest, from: r.post.Address, line: line, col: col, image: image})
	}
	return dest
}

// repoLink resolves a link to target, a path in the repository: ok is
// false when target names no file or folder the site publishes something
// for.
func (w *walker) repoLink(target, dest, suffix, what string, image, absolute bool, line, col int) (string, bool) {
	r := w.r
	missing := CodeBrokenLink
	if image {
		missing = CodeMissingImage
	}
	base := w.base
	if isPost := w.source(target) != nil; isPost || (isMarkdown(target) && w.hasFile(target)) {
		return w.postLink(target, dest, suffix, what, line, col), true
	}
	dir := strings.TrimSuffix(target, "/")
	if b := w.bundle(dir); b != nil && b.post != nil {
		return w.postLink(b.file.path, dest, suffix, what, line, col), true
	}
	if !image && w.hasDir(dir) {
		if dir == w.l.cfg.PostsDir {
			return base + suffix, true // the blog's folder: its index page
		}
		if s := w.section(w.l.sectionOf(dir)); s != nil && strings.HasPrefix(dir, w.l.cfg.PostsDir+"/") {
			return w.postLink(s.file.path, dest, suffix, what, line, col), true
		}
		return "", false
	}
	if t, ok := w.assetOf(target); ok {
		if r.file.bundle != "" && strings.HasPrefix(target, r.file.bundle+"/") && !absolute && strings.HasSuffix(r.post.Address, "/") {
			return dest, true // beside the page
		}
		return base + escapePath(t) + suffix, true
	}
	if w.hasFile(target) {
		if !linkable(target) {
			r.add(line, col, missing, fmt.Sprintf("%s %q is %s, which is never published (dotfiles, .git, .github, publish.yaml and templates/ stay private)", what, trimForMsg(dest), target))
			return dest, true
		}
		t := w.linkedTarget(target)
		r.linked = append(r.linked, linkedFile{source: target, target: t, line: line, col: col, dest: dest, image: image})
		return base + escapePath(t) + suffix, true
	}
	return "", false
}

// postLink resolves a link to the source file of a post, section or
// redirect.
func (w *walker) postLink(source, dest, suffix, what string, line, col int) string {
	r := w.r
	t := w.source(source)
	if t == nil || t.post == nil {
		r.add(line, col, CodeBrokenLink, fmt.Sprintf("%s %q goes to %s, which is not a post", what, trimForMsg(dest), source))
		return dest
	}
	if !t.linkable {
		why := "has errors"
		if t.expired {
			why = "has expired"
		}
		r.add(line, col, CodeBrokenLink, fmt.Sprintf("%s %q goes to %s, which %s and is left out of the site", what, trimForMsg(dest), source, why))
		return dest
	}
	if t.kind == kindSection && t.post.Section == "" {
		return w.base + suffix // posts_dir's own _index.md: the index page
	}
	if (t.post.Draft || t.post.Future) && !(r.post.Draft || r.post.Future) {
		state := "a draft"
		if !t.post.Draft {
			state = "dated in the future"
		}
		r.add(line, col, CodeLinkToDraft, fmt.Sprintf("%s %q goes to %s, which is %s: the link is broken until that post is published", what, trimForMsg(dest), source, state))
	}
	return w.base + strings.TrimPrefix(t.escapedAddress(), "/") + suffix
}

func escapePath(p string) string {
	return (&url.URL{Path: p}).EscapedPath()
}

func trimForMsg(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// countWords counts words: runs of letters or digits, and each Han, Hiragana
// or Katakana character (those scripts do not separate words by spaces).
func countWords(s string) int {
	n := 0
	in := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf { // ASCII fast path
			i++
			if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '\'' || c == '_' {
				if !in {
					n++
					in = true
				}
			} else {
				in = false
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana):
			n++
			in = false
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\u2019' || unicode.Is(unicode.Mn, r):
			if !in {
				n++
				in = true
			}
		default:
			in = false
		}
	}
	return n
}
