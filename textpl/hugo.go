package textpl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
)

// scTok is one Hugo shortcode tag: {{< name args >}}, {{% name args %}},
// {{< /name >}}, or a {{</* comment */>}} that stands for itself.
type scTok struct {
	start, end int
	name       string
	closing    bool
	selfClose  bool
	comment    string // the text a {{</* … */>}} writes
	pos        []string
	named      map[string]string
	bad        string // why the tag cannot be read
	pair       int    // index of the closing tag, -1 for none
	deep       bool   // nested deeper than MaxNesting
}

var (
	scNameRE = regexp.MustCompile(`^[A-Za-z0-9_][\w.-]*(/[\w.-]+)*$`)
	idRE     = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	langRE   = regexp.MustCompile(`^[a-z0-9_+#.-]*$`)
	statusRE = regexp.MustCompile(`^\d{1,25}$`)
)

// scTokens finds the shortcode tags outside code.
func (x *expansion) scTokens() []scTok {
	var out []scTok
	src := x.src
	ci := 0
	var lastLt, lastPct int = -1, -1
	for i := 0; i+2 < len(src); i++ {
		for ci < len(x.code) && x.code[ci].End <= i {
			ci++
		}
		if ci < len(x.code) && x.code[ci].Start <= i {
			i = x.code[ci].End - 1
			continue
		}
		if src[i] != '{' || src[i+1] != '{' || (src[i+2] != '<' && src[i+2] != '%') {
			continue
		}
		closer, last := []byte(">}}"), &lastLt
		if src[i+2] == '%' {
			closer, last = []byte("%}}"), &lastPct
		}
		if *last < i+3 && *last != len(src) {
			*last = len(src)
			if j := bytes.Index(src[i+3:], closer); j >= 0 {
				*last = i + 3 + j
			}
		}
		// Another opening before the closing: this one is not closed.
		inner := bytes.Contains(src[i+3:*last], []byte("{{<")) || bytes.Contains(src[i+3:*last], []byte("{{%"))
		if *last == len(src) || inner || ci < len(x.code) && x.code[ci].Start < *last {
			out = append(out, scTok{start: i, end: i + 3, bad: "it has no closing " + string(closer), pair: -1})
			i += 2
			continue
		}
		t := scTok{start: i, end: *last + 3, pair: -1}
		x.parseSC(&t, string(src[i+3:*last]))
		out = append(out, t)
		i = t.end - 1
	}
	return out
}

// parseSC reads the inside of a shortcode tag.
func (x *expansion) parseSC(t *scTok, in string) {
	s := strings.TrimSpace(in)
	if len(s) >= 4 && strings.HasPrefix(s, "/*") && strings.HasSuffix(s, "*/") {
		open, shut := string(x.src[t.start:t.start+3]), string(x.src[t.end-3:t.end])
		t.comment = open + in[strings.Index(in, "/*")+2:strings.LastIndex(in, "*/")] + shut
		return
	}
	if strings.HasPrefix(s, "/") {
		t.closing = true
		t.name = strings.TrimSpace(s[1:])
		if !scNameRE.MatchString(t.name) {
			t.bad = "it is not a shortcode name"
		}
		return
	}
	if strings.HasSuffix(s, "/") {
		t.selfClose = true
		s = strings.TrimSpace(s[:len(s)-1])
	}
	words, err := scanArgs(s)
	if err != "" || len(words) == 0 {
		t.bad = err
		if t.bad == "" {
			t.bad = "it names no shortcode"
		}
		return
	}
	t.name = words[0].val
	if !scNameRE.MatchString(t.name) || words[0].key != "" {
		t.bad = "it is not a shortcode name"
		return
	}
	for _, w := range words[1:] {
		if w.key != "" {
			if t.named == nil {
				t.named = map[string]string{}
			}
			t.named[w.key] = w.val
		} else {
			t.pos = append(t.pos, w.val)
		}
	}
}

type scArg struct{ key, val string }

// scanArgs splits a shortcode's name and arguments: words, "quoted"
// (with \ escapes) or `raw` values, and key=value pairs.
func scanArgs(s string) ([]scArg, string) {
	var out []scArg
	for i := 0; i < len(s); {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
		if i >= len(s) {
			break
		}
		var a scArg
		j := i
		for j < len(s) && s[j] != '=' && s[j] != ' ' && s[j] != '\t' && s[j] != '\n' && s[j] != '"' && s[j] != '`' {
			j++
		}
		if j < len(s) && s[j] == '=' && j > i {
			a.key = s[i:j]
			i = j + 1
		}
		if i >= len(s) {
			return nil, "a value is missing after " + a.key + "="
		}
		switch s[i] {
		case '"':
			j := i + 1
			var b strings.Builder
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, "a quote is not closed"
			}
			a.val, i = b.String(), j+1
		case '`':
			j := strings.IndexByte(s[i+1:], '`')
			if j < 0 {
				return nil, "a ` is not closed"
			}
			a.val, i = s[i+1:i+1+j], i+2+j
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '\n' && s[j] != '\r' {
				j++
			}
			a.val, i = s[i:j], j
		}
		out = append(out, a)
	}
	return out, ""
}

// hugo expands Hugo shortcodes.
func (x *expansion) hugo(ctx context.Context) Result {
	toks := x.scTokens()
	if len(toks) == 0 {
		return Result{Body: x.src}
	}
	// Pair opening and closing tags; mark what is nested too deep.
	var stack []int
	deepAt := -1
	for i := range toks {
		t := &toks[i]
		switch {
		case t.bad != "" || t.comment != "" || t.selfClose:
		case t.closing:
			k := len(stack) - 1
			for k >= 0 && toks[stack[k]].name != t.name {
				k--
			}
			if k < 0 {
				t.bad = "no {{< " + t.name + " >}} opens it"
				continue
			}
			toks[stack[k]].pair = i
			stack = stack[:k]
		default:
			stack = append(stack, i)
			if len(stack) > x.lim.MaxNesting {
				t.deep = true
				if deepAt < 0 {
					deepAt = t.start
				}
			}
		}
	}
	if deepAt >= 0 {
		x.problem(deepAt, fmt.Sprintf("Hugo shortcodes are nested more than %d deep here: these are shown as written", x.lim.MaxNesting))
	}
	h := &hugoRun{x: x, ctx: ctx, toks: toks, m: &Map{}, tmpls: map[string]*template.Template{}}
	h.m.add(0, 0, 0)
	h.render(0, len(toks), 0, len(x.src), 0)
	if h.stop != "" {
		x.problem(h.stopAt, "Hugo shortcodes stopped: "+h.stop+"; the rest of the post is shown as written")
	}
	body := h.b.Bytes()
	if bytes.Equal(body, x.src) {
		return Result{Body: x.src, Problems: x.problems}
	}
	return Result{Body: body, Changed: true, Map: h.m, Problems: x.problems}
}

type hugoRun struct {
	x      *expansion
	ctx    context.Context
	toks   []scTok
	b      bytes.Buffer
	m      *Map
	tmpls  map[string]*template.Template
	stop   string
	stopAt int
}

// verbatim copies src[start:end].
func (h *hugoRun) verbatim(start, end int) {
	if start >= end {
		return
	}
	h.m.add(h.b.Len(), start, end)
	h.b.Write(h.x.src[start:end])
	h.m.add(h.b.Len(), end, end)
}

// made writes text a shortcode made, mapped to the shortcode at off.
func (h *hugoRun) made(off int, s string) {
	h.m.add(h.b.Len(), off, off)
	h.b.WriteString(s)
}

// render writes src[from:to], whose tags are toks[ti:tj].
func (h *hugoRun) render(ti, tj, from, to, depth int) {
	pos := from
	for i := ti; i < tj; i++ {
		t := &h.toks[i]
		if t.start < pos {
			continue
		}
		h.verbatim(pos, t.start)
		pos = t.end
		end, innerEnd := t.end, t.end
		if t.pair >= 0 {
			innerEnd, end = h.toks[t.pair].start, h.toks[t.pair].end
		}
		if h.stop == "" && h.x.lim.MaxOutput < h.b.Len() {
			h.stop, h.stopAt = fmt.Sprintf("the post would be more than %d bytes", h.x.lim.MaxOutput), t.start
		}
		if h.stop == "" && h.ctx.Err() != nil {
			h.stop, h.stopAt = "the build's time is up", t.start
		}
		switch {
		case h.stop != "" || t.deep:
			h.verbatim(t.start, end)
			pos = end
			continue
		case t.comment != "":
			h.made(t.start, t.comment)
			continue
		case t.bad != "":
			h.x.unsupported(token{start: t.start, end: t.end, kind: '{'}, t.bad)
			h.verbatim(t.start, t.end)
			continue
		case t.closing:
			continue
		}
		inner := func() { // the inner text, expanded, in place
			if t.pair >= 0 {
				h.render(i+1, t.pair, t.end, innerEnd, depth+1)
			}
		}
		if t.pair >= 0 {
			pos = end
		}
		if !h.builtin(t, i, innerEnd, inner) {
			if !h.custom(t, i, innerEnd) {
				h.x.unsupported(token{start: t.start, end: t.end, kind: '{'}, "")
				h.verbatim(t.start, t.end)
				inner()
				if t.pair >= 0 {
					h.verbatim(h.toks[t.pair].start, end)
				}
			}
		}
		if t.pair >= 0 {
			i = t.pair
		}
	}
	h.verbatim(pos, to)
}

func (t *scTok) arg(i int, key string) string {
	if v, ok := t.named[key]; ok {
		return v
	}
	if i >= 0 && i < len(t.pos) {
		return t.pos[i]
	}
	return ""
}

// builtin renders Hugo's own shortcodes; false for another name.
func (h *hugoRun) builtin(t *scTok, i, innerEnd int, inner func()) bool {
	esc := html.EscapeString
	x := h.x
	switch t.name {
	case "figure":
		src := t.arg(-1, "src")
		var b strings.Builder
		b.WriteString("<figure")
		if c := t.arg(-1, "class"); c != "" {
			fmt.Fprintf(&b, ` class="%s"`, esc(c))
		}
		b.WriteString(">")
		img := fmt.Sprintf(`<img src="%s" alt="%s"`, esc(src), esc(cmpOr(t.arg(-1, "alt"), t.arg(-1, "caption"), t.arg(-1, "title"))))
		for _, k := range []string{"width", "height", "loading"} {
			if v := t.arg(-1, k); v != "" {
				img += fmt.Sprintf(` %s="%s"`, k, esc(v))
			}
		}
		img += ">"
		if l := t.arg(-1, "link"); l != "" {
			img = fmt.Sprintf(`<a href="%s">%s</a>`, esc(l), img)
		}
		b.WriteString(img)
		title, caption := t.arg(-1, "title"), t.arg(-1, "caption")
		if title != "" || caption != "" {
			b.WriteString("<figcaption>")
			if title != "" {
				fmt.Fprintf(&b, "<h4>%s</h4>", esc(title))
			}
			if caption != "" {
				fmt.Fprintf(&b, "<p>%s</p>", esc(caption))
			}
			b.WriteString("</figcaption>")
		}
		b.WriteString("</figure>")
		h.made(t.start, b.String())
	case "highlight":
		info := strings.ToLower(t.arg(0, "lang"))
		if !langRE.MatchString(info) {
			info = ""
		}
		var opts []string
		for _, o := range strings.Split(t.arg(1, "options"), ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(o), "=")
			switch k {
			case "linenos":
				if v != "false" {
					opts = append(opts, "linenos=true")
				}
			case "linenostart":
				if _, err := strconv.Atoi(v); err == nil {
					opts = append(opts, "linenostart="+v)
				}
			case "hl_lines":
				var parts []string
				for _, p := range strings.Fields(v) {
					parts = append(parts, strconv.Quote(p))
				}
				opts = append(opts, "hl_lines=["+strings.Join(parts, ",")+"]")
			}
		}
		if len(opts) > 0 {
			info += " {" + strings.Join(opts, ", ") + "}"
		}
		code := ""
		if t.pair >= 0 {
			code = string(x.src[t.end:innerEnd])
		}
		h.made(t.start, fence(info, code))
	case "youtube", "vimeo":
		id := t.arg(0, "id")
		if !idRE.MatchString(id) {
			x.unsupported(token{start: t.start, end: t.end, kind: '{'}, "its video id is missing or not one")
			h.verbatim(t.start, t.end)
			return true
		}
		u := "https://www.youtube-nocookie.com/embed/" + id
		what := "YouTube video"
		if t.name == "vimeo" {
			u, what = "https://player.vimeo.com/video/"+id, "Vimeo video"
		}
		title := cmpOr(t.arg(-1, "title"), what)
		h.made(t.start, fmt.Sprintf(`<iframe src="%s" title="%s" allowfullscreen></iframe>`, u, esc(title)))
	case "ref", "relref":
		target := t.arg(0, "path")
		path, frag, _ := strings.Cut(target, "#")
		addr, ok := "", false
		if x.env.Link != nil {
			addr, ok = x.env.Link(path)
		}
		if !ok {
			x.problem(t.start, fmt.Sprintf("Hugo shortcode %s goes to %q, which is not a post; its path is kept as written", x.show(token{start: t.start, end: t.end, kind: '{'}), path))
			addr = path
		}
		if frag != "" {
			addr += "#" + frag
		}
		h.made(t.start, addr)
	case "param":
		key := t.arg(0, "name")
		v, ok := lookup(x.env.Page, key)
		if !ok {
			v, ok = lookup(x.env.Site, key)
		}
		if !ok {
			x.problem(t.start, fmt.Sprintf("Hugo shortcode %s: no param %q in the front matter or in publish.yaml's params", x.show(token{start: t.start, end: t.end, kind: '{'}), key))
		}
		h.made(t.start, esc(fmt.Sprint(cmpOr(v, any("")))))
	case "details":
		open := ""
		if o := t.arg(-1, "open"); o == "true" {
			open = " open"
		}
		h.made(t.start, fmt.Sprintf("<details%s><summary>%s</summary>\n\n", open, esc(cmpOr(t.arg(-1, "summary"), "Details"))))
		inner()
		h.made(t.start, "\n\n</details>")
	case "gist":
		user, id := t.arg(0, "user"), t.arg(1, "id")
		if !idRE.MatchString(user) || !idRE.MatchString(id) {
			x.unsupported(token{start: t.start, end: t.end, kind: '{'}, "it needs a user and a gist id")
			h.verbatim(t.start, t.end)
			return true
		}
		u := "https://gist.github.com/" + user + "/" + id
		h.made(t.start, fmt.Sprintf(`<a href="%s">Gist %s/%s</a>`, u, user, id))
	case "x", "tweet", "twitter":
		user, id := t.arg(-1, "user"), t.arg(-1, "id")
		if id == "" {
			id = t.arg(len(t.pos)-1, "")
		}
		if !statusRE.MatchString(id) || user != "" && !idRE.MatchString(user) {
			x.unsupported(token{start: t.start, end: t.end, kind: '{'}, "it needs a post id")
			h.verbatim(t.start, t.end)
			return true
		}
		u := "https://x.com/" + cmpOr(user, "i") + "/status/" + id
		label := "post"
		if user != "" {
			label = "post by @" + user
		}
		h.made(t.start, fmt.Sprintf(`<a href="%s">X %s</a>`, u, label))
	default:
		return false
	}
	return true
}

func cmpOr[T comparable](vs ...T) T {
	var zero T
	for _, v := range vs {
		if v != zero {
			return v
		}
	}
	return zero
}

// lookup finds a dotted key in m.
func lookup(m map[string]any, key string) (any, bool) {
	var v any = m
	for _, k := range strings.Split(key, ".") {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = mm[k]; !ok {
			// Hugo's params are case-insensitive.
			found := false
			for kk, vv := range mm {
				if strings.EqualFold(kk, k) {
					v, found = vv, true
					break
				}
			}
			if !found {
				return nil, false
			}
		}
	}
	return v, true
}

// shortcodeData is what a custom shortcode's template sees (a subset of
// Hugo's: .Get, .Inner, .Params, .IsNamedParams, .Name, .Page, .Site).
type shortcodeData struct {
	Name          string
	Inner         template.HTML
	Params        any
	IsNamedParams bool
	Page          map[string]any
	Site          map[string]any
	t             *scTok
}

// Get is a positional (int) or named (string) argument; "" when none.
func (d shortcodeData) Get(key any) string {
	switch k := key.(type) {
	case int:
		return d.t.arg(k, "")
	case string:
		return d.t.named[k]
	}
	return ""
}

// custom renders a shortcode from templates/shortcodes/<name>.html, run
// as html/template; false when there is none. Its output is HTML the
// Markdown renderer sanitises like any raw HTML.
func (h *hugoRun) custom(t *scTok, i, innerEnd int) bool {
	x := h.x
	if x.env.Shortcode == nil || strings.Contains(t.name, "/") {
		return false
	}
	tm, ok := h.tmpls[t.name]
	if !ok {
		text, err := x.env.Shortcode(t.name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			x.problem(t.start, fmt.Sprintf("Hugo shortcode %s: reading templates/shortcodes/%s.html: %v", t.name, t.name, err))
		default:
			tm, err = template.New(t.name).Option("missingkey=zero").Parse(string(text))
			if err != nil {
				x.problem(t.start, fmt.Sprintf("Hugo shortcode %s: templates/shortcodes/%s.html does not parse: %v; it is shown as written", t.name, t.name, err))
				tm = nil
			}
		}
		h.tmpls[t.name] = tm
	}
	if tm == nil {
		return false
	}
	var inner string
	if t.pair >= 0 {
		// The inner text, with its own shortcodes expanded.
		sub := &hugoRun{x: x, ctx: h.ctx, toks: h.toks, m: &Map{}, tmpls: h.tmpls}
		sub.render(i+1, t.pair, t.end, innerEnd, 0)
		inner = sub.b.String()
	}
	var params any = t.pos
	if t.named != nil {
		params = t.named
	}
	d := shortcodeData{Name: t.name, Inner: template.HTML(inner), Params: params, IsNamedParams: t.named != nil,
		Page: x.env.Page, Site: x.env.Site, t: t}
	var out bytes.Buffer
	lw := &limitWriter{w: &out, n: x.lim.MaxValue}
	if err := tm.Execute(lw, d); err != nil {
		x.problem(t.start, fmt.Sprintf("Hugo shortcode %s: templates/shortcodes/%s.html failed: %v; it is shown as written", t.name, t.name, err))
		return false
	}
	h.made(t.start, out.String())
	return true
}

// limitWriter fails past n bytes.
type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(b []byte) (int, error) {
	if len(b) > l.n {
		return 0, errors.New("its output is too large")
	}
	l.n -= len(b)
	return l.w.Write(b)
}
