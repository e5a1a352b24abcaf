package textpl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/osteele/liquid/parser"
	"github.com/osteele/liquid/render"
)

// Markers in the Liquid source: "\x00N\x01" starts text copied from the
// source (run N of runs), "\x02N…\x03" is hold N (the newlines of the
// held text are kept inside it, so that the Liquid source has the
// source's line numbers). Neither byte can be in a post: Expand is not
// run on a body holding them.
const (
	markOpen, markClose = '\x00', '\x01'
	holdOpen, holdClose = '\x02', '\x03'
)

// liquidTags are the tags the engine runs; blockEnds pairs a block with its
// end.
var (
	liquidTags = map[string]bool{"assign": true, "capture": true, "endcapture": true, "case": true, "when": true,
		"else": true, "endcase": true, "comment": true, "endcomment": true, "cycle": true, "for": true, "endfor": true,
		"break": true, "continue": true, "if": true, "elsif": true, "endif": true, "unless": true, "endunless": true,
		"include": true, "raw": true, "endraw": true, "highlight": true, "endhighlight": true, "link": true,
		"post_url": true, "image": true}
	blockEnds = map[string]string{"capture": "endcapture", "case": "endcase", "comment": "endcomment", "for": "endfor",
		"if": "endif", "unless": "endunless", "raw": "endraw", "highlight": "endhighlight"}
	literalRange = regexp.MustCompile(`\(\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*\)`)
	loopLimit    = regexp.MustCompile(`limit:\s*(\d+)`)
)

// construct is a top-level piece of template syntax: one token, or a block
// from its tag to its end tag.
type construct struct{ start, end int }

// run is text copied from the source: its marker maps the output there.
type textRun struct{ start, end int }

// liquid expands Jekyll (or Eleventy) Liquid. The source becomes a Liquid
// template in which code and unsupported syntax are held out, and every
// run of text is marked with where it comes from; the engine renders it,
// bounded; a top-level construct that fails is held out too (kept as
// written, with a problem at its line) and the rest rendered again.
func (x *expansion) liquid(ctx context.Context) Result {
	if bytes.IndexByte(x.src, markOpen) >= 0 || bytes.IndexByte(x.src, holdOpen) >= 0 {
		x.problem(0, "this post holds control characters (NUL or STX): its template syntax is shown as written")
		return Result{Body: x.src, Problems: x.problems}
	}
	toks := x.tokens()
	if len(toks) == 0 {
		return Result{Body: x.src}
	}
	held := map[int]bool{} // token starts held out as written
	var objects []token    // the {{ … }} outside raw and comment
	warned := map[string]bool{}
	var constructs []construct
	var stack []string
	var skipTo string // inside raw or comment: only its end tag counts
	top := -1         // start of the open top-level block
	for _, t := range toks {
		name := x.tagName(t)
		if skipTo != "" {
			if name == skipTo {
				skipTo = ""
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					constructs = append(constructs, construct{top, t.end})
				}
			}
			continue
		}
		switch {
		case t.kind == 0:
			x.unsupported(t, "it has no closing "+map[bool]string{true: "}}", false: "%}"}[x.src[t.start+1] == '{'])
			held[t.start] = true
			continue
		case t.kind == '{':
			if x.label(t) != "Jekyll Liquid" && x.label(t) != "Eleventy Nunjucks" {
				x.unsupported(t, "")
				held[t.start] = true
				continue
			}
			objects = append(objects, t)
			x.unsetSite(t, warned)
		case !liquidTags[name]:
			x.unsupported(t, "")
			held[t.start] = true
			continue
		}
		if len(stack) == 0 {
			top = t.start
		}
		if end, ok := blockEnds[name]; ok {
			stack = append(stack, end)
			if name == "raw" || name == "comment" {
				skipTo = end
			}
			continue
		}
		if len(stack) > 0 && name == stack[len(stack)-1] {
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 {
			constructs = append(constructs, construct{top, t.end})
		}
	}
	if len(stack) > 0 {
		x.problem(top, fmt.Sprintf("%s %s is not closed (no {%% %s %%}): the template syntax of this post is shown as written", x.liquidName(), x.show(token{start: top, end: top + bytes.Index(x.src[top:], []byte("%}")) + 2, kind: '%'}), stack[len(stack)-1]))
		return Result{Body: x.src, Problems: x.problems}
	}
	for tries := 0; ; tries++ {
		out, failed, ok := x.renderLiquid(ctx, toks, held, objects)
		if ok {
			return x.finish(out)
		}
		if failed == retry {
			tries--
			objects = nil
			continue
		}
		if failed < 0 || tries >= 3 || ctx.Err() != nil {
			return Result{Body: x.src, Problems: x.problems}
		}
		// Hold out the top-level construct on the failed line and
		// render again.
		line := failed
		start := x.lineStart(line)
		hit := false
		for _, c := range constructs {
			cEnd := c.end
			if c.start <= start+lineLen(x.src, start) && cEnd > start && !held[c.start] {
				for _, t := range toks {
					if t.start >= c.start && t.end <= c.end {
						held[t.start] = true
					}
				}
				held[c.start] = true
				hit = true
				break
			}
		}
		if !hit {
			return Result{Body: x.src, Problems: x.problems}
		}
	}
}

func lineLen(src []byte, start int) int {
	if i := bytes.IndexByte(src[start:], '\n'); i >= 0 {
		return i
	}
	return len(src) - start
}

// retry is renderLiquid's failed when it held out objects that do not
// compile: render again.
const retry = -2

// renderLiquid renders once. ok is false when a construct failed: failed
// is its line (or -1 for a failure with no line), and the problem is
// recorded.
//
// When the template does not compile, each of objects is compiled on its
// own first: the ones that do not are held out, and failed is retry.
func (x *expansion) renderLiquid(ctx context.Context, toks []token, held map[int]bool, objects []token) (out []byte, failed int, ok bool) {
	var b bytes.Buffer
	b.Grow(len(x.src) + len(x.src)/8)
	x.holds = x.holds[:0]
	var runs []textRun
	holdText := func(start, end int, code bool) {
		fmt.Fprintf(&b, "%c%d", holdOpen, len(x.holds))
		b.Write(bytes.Repeat([]byte("\n"), bytes.Count(x.src[start:end], []byte("\n"))))
		b.WriteByte(holdClose)
		x.holds = append(x.holds, hold{start, end, code})
	}
	inCapture := 0
	text := func(start, end int) {
		// Code inside the text is held out.
		for start < end {
			next, codeEnd := end, end
			for _, c := range x.code {
				if c.End > start && c.Start < end {
					next, codeEnd = max(c.Start, start), min(c.End, end)
					break
				}
			}
			seg := x.src[start:next]
			lead := len(seg) - len(bytes.TrimLeft(seg, " \t\r\n"))
			b.Write(seg[:lead])
			if lead < len(seg) && inCapture == 0 {
				fmt.Fprintf(&b, "%c%d%c", markOpen, len(runs), markClose)
				runs = append(runs, textRun{start + lead, next})
			}
			b.Write(seg[lead:])
			if next < end {
				holdText(next, codeEnd, true)
			}
			start = codeEnd
		}
	}
	pos := 0
	skip := "" // inside raw/comment: copied as text
	for _, t := range toks {
		if t.start < pos {
			continue
		}
		name := x.tagName(t)
		if skip != "" {
			if name == skip {
				skip = ""
			} else {
				continue
			}
		}
		text(pos, t.start)
		if held[t.start] {
			holdText(t.start, t.end, false)
		} else {
			switch name {
			case "for", "endfor", "capture", "endcapture", "tablerow", "endtablerow":
				b.WriteString(renameBlocks(string(x.src[t.start:t.end])))
			default:
				b.Write(x.src[t.start:t.end])
			}
			switch name {
			case "raw", "comment":
				skip = "end" + name
			case "capture":
				inCapture++
			case "endcapture":
				inCapture--
			}
		}
		pos = t.end
	}
	text(pos, len(x.src))
	x.lastRuns = runs

	root, perr := x.eng.cfg.Compile(b.String(), parser.SourceLoc{LineNo: 1})
	if perr != nil && len(objects) > 0 {
		bad := false
		for _, t := range objects {
			if _, err := x.eng.cfg.Compile(string(x.src[t.start:t.end]), parser.SourceLoc{}); err != nil {
				x.unsupported(t, "it could not be read")
				held[t.start] = true
				bad = true
			}
		}
		if bad {
			return nil, retry, false
		}
	}
	if perr != nil {
		x.problem(x.lineStart(perr.LineNumber()), x.liquidName()+" could not be read: "+causeOf(perr)+"; it is shown as written")
		return nil, perr.LineNumber(), false
	}
	if line, msg := x.checkRanges(root); msg != "" {
		x.problem(x.lineStart(line), x.liquidName()+" loop stopped before it ran: "+msg+"; it is shown as written")
		return nil, line, false
	}
	run := &liquidRun{ctx: ctx, env: x.env, lim: x.lim, x: x}
	var buf bytes.Buffer
	vars := map[string]any{"site": x.env.Site, "page": x.env.Page, runKey: run}
	rerr := func() (err error) {
		defer func() {
			if v := recover(); v != nil {
				if e, isErr := v.(error); isErr && errors.Is(e, errStopped) {
					err = errStopped
					return
				}
				err = fmt.Errorf("%v", v)
			}
		}()
		if e := render.Render(root, boundedWriter{r: run, buf: &buf}, vars, x.eng.cfg); e != nil {
			return e
		}
		return nil
	}()
	if rerr == nil {
		return buf.Bytes(), 0, true
	}
	line := -1
	var le interface{ LineNumber() int }
	if errors.As(rerr, &le) && le.LineNumber() > 0 {
		line = le.LineNumber()
	}
	msg := causeOf(rerr)
	if run.stop != nil {
		msg = run.stop.Error()
	}
	if line < 0 {
		// A stop found outside any node (the last write): the line of the
		// text the output had reached.
		line = 1
	}
	x.problem(x.lineStart(line), x.liquidName()+" stopped: "+msg+"; it is shown as written")
	return nil, line, false
}

func causeOf(err error) string {
	var c interface{ Cause() error }
	for errors.As(err, &c) && c.Cause() != nil && c.Cause() != err {
		err = c.Cause()
		if _, more := err.(interface{ Cause() error }); !more {
			break
		}
	}
	return strings.ReplaceAll(strings.TrimPrefix(err.Error(), "Liquid error: "), "bounded_", "")
}

// checkRanges looks, before anything runs, at every for loop over a
// literal range (1..N): one of more than MaxLoop items, or loops nested
// to more than MaxIterations iterations, is refused at its line.
func (x *expansion) checkRanges(n render.Node) (int, string) {
	var walk func(n render.Node, product int) (int, string)
	walk = func(n render.Node, product int) (int, string) {
		switch n := n.(type) {
		case *render.SeqNode:
			for _, c := range n.Children {
				if l, m := walk(c, product); m != "" {
					return l, m
				}
			}
		case *render.BlockNode:
			p := product
			if n.Name == ownFor {
				if m := literalRange.FindStringSubmatch(n.Args); m != nil {
					a, _ := strconv.Atoi(m[1])
					z, _ := strconv.Atoi(m[2])
					count := max(0, z-a+1)
					if lm := loopLimit.FindStringSubmatch(n.Args); lm != nil {
						if l, err := strconv.Atoi(lm[1]); err == nil {
							count = min(count, l)
						}
					}
					if count > x.lim.MaxLoop {
						return n.SourceLocation().LineNo, fmt.Sprintf("a loop over %s items; the limit is %d", strings.TrimSpace(m[0]), x.lim.MaxLoop)
					}
					p = min(p*max(count, 1), x.lim.MaxIterations+1)
					if p > x.lim.MaxIterations {
						return n.SourceLocation().LineNo, fmt.Sprintf("nested loops of more than %d iterations", x.lim.MaxIterations)
					}
				}
			}
			for _, c := range n.Body {
				if l, m := walk(c, p); m != "" {
					return l, m
				}
			}
			for _, c := range n.Clauses {
				if l, m := walk(c, p); m != "" {
					return l, m
				}
			}
		}
		return 0, ""
	}
	return walk(n, 1)
}

// restoreCode is s with the code holds put back (a highlight block's
// content, which becomes a fenced block).
func (x *expansion) restoreCode(s string) string {
	if !strings.ContainsRune(s, holdOpen) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, holdOpen)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		n, rest, ok := x.readHold(s[i:])
		if !ok {
			s = s[i+1:]
			continue
		}
		b.Write(x.heldText(x.holds[n]))
		s = rest
	}
}

// readHold reads "\x02N\n…\x03" at the start of s.
func (x *expansion) readHold(s string) (int, string, bool) {
	j := 1
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	n, err := strconv.Atoi(s[1:j])
	if err != nil || n >= len(x.holds) {
		return 0, s, false
	}
	for j < len(s) && s[j] == '\n' {
		j++
	}
	if j >= len(s) || s[j] != holdClose {
		return 0, s, false
	}
	return n, s[j+1:], true
}

// finish turns the engine's output into the body: holds are put back,
// markers removed and turned into the Map.
func (x *expansion) finish(out []byte) Result {
	var b bytes.Buffer
	b.Grow(len(out))
	m := &Map{}
	m.add(0, 0, 0)
	runs := x.runsOf()
	s := string(out)
	for len(s) > 0 {
		i := strings.IndexAny(s, "\x00\x02")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		s = s[i:]
		if s[0] == holdOpen {
			n, rest, ok := x.readHold(s)
			if !ok {
				s = s[1:]
				continue
			}
			h := x.holds[n]
			m.add(b.Len(), h.start, h.end)
			b.Write(x.heldText(h))
			m.add(b.Len(), h.end, h.end)
			s = rest
			continue
		}
		j := 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		n, err := strconv.Atoi(s[1:j])
		if err == nil && j < len(s) && s[j] == markClose && n < len(runs) {
			m.add(b.Len(), runs[n].start, runs[n].end)
			s = s[j+1:]
			continue
		}
		s = s[1:]
	}
	body := b.Bytes()
	if bytes.Equal(body, x.src) {
		return Result{Body: x.src, Problems: x.problems}
	}
	return Result{Body: body, Changed: true, Map: m, Problems: x.problems}
}

// runsOf is the text runs of the last render, in order: rebuilt from the
// source as renderLiquid marked them.
func (x *expansion) runsOf() []textRun { return x.lastRuns }

// problemAtLine reports msg at the line of the tag rendering in ctx (the
// include tag's, inside an include).
func (x *expansion) problemAtLine(ctx render.Context, msg string) {
	run := runOf(ctx)
	line := run.includeLine
	if run.includes == 0 {
		line = ctx.WrapError(errors.New("here")).LineNumber()
	}
	start := x.lineStart(line)
	// At the tag itself when it is on that line.
	if i := bytes.Index(x.src[start:start+lineLen(x.src, start)], []byte(ctx.TagName())); i >= 0 {
		if j := bytes.LastIndex(x.src[start:start+i], []byte("{%")); j >= 0 {
			start += j
		}
	}
	x.problem(start, msg)
}

// liquidName names the Liquid of the post's generator in messages.
func (x *expansion) liquidName() string {
	if x.gen == Eleventy {
		return "Eleventy Liquid"
	}
	return "Jekyll Liquid"
}

// rawInCode is Jekyll's raw and endraw tags. Jekyll runs Liquid inside
// code too, so its authors wrap template syntax shown in code in them;
// publishbot never runs code, and only takes these two tags out of it.
var rawInCode = regexp.MustCompile(`\{%-?\s*(?:end)?raw\s*-?%\}`)

// heldText is the text of hold h as the output shows it.
func (x *expansion) heldText(h hold) []byte {
	b := x.src[h.start:h.end]
	if h.code && bytes.Contains(b, []byte("raw")) {
		return rawInCode.ReplaceAll(b, nil)
	}
	return b
}

var siteVarRE = regexp.MustCompile(`\bsite\.([A-Za-z_][\w-]*)`)

// unsetSite reports, once per post and name, a site.<name> that object t
// reads and the site does not set: it would be empty, where Jekyll had
// it from _config.yml.
func (x *expansion) unsetSite(t token, warned map[string]bool) {
	for _, m := range siteVarRE.FindAllSubmatch(x.src[t.start:t.end], -1) {
		name := string(m[1])
		if _, ok := x.env.Site[name]; ok || warned[name] {
			continue
		}
		warned[name] = true
		x.problem(t.start, fmt.Sprintf("%s %s: site.%s is not set, so it is empty: add %s to params in publish.yaml (publishbot init copies it from _config.yml)", x.liquidName(), x.show(t), name, name))
	}
}
