package textpl

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The generators whose syntax Expand knows, as publish.yaml's generator
// names them.
const (
	Jekyll   = "jekyll"
	Hugo     = "hugo"
	Eleventy = "eleventy"
	Zola     = "zola"
)

// Limits bound one post's expansion. The zero value of a field takes its
// default (see DefaultLimits).
type Limits struct {
	MaxOutput       int           // bytes the expansion may write (default 4 MiB)
	MaxValue        int           // bytes of one Liquid value (default 1 MiB)
	MaxLoop         int           // items of one Liquid loop (default 10,000)
	MaxIterations   int           // Liquid loop iterations in one post (default 100,000)
	MaxIncludeDepth int           // nested includes (default 10)
	MaxNesting      int           // nested shortcodes (default 50)
	Timeout         time.Duration // time for one post (default 2 s)
}

// DefaultLimits are the bounds Expand uses for zero fields.
func DefaultLimits() Limits {
	return Limits{MaxOutput: 4 << 20, MaxValue: 1 << 20, MaxLoop: 10_000, MaxIterations: 100_000,
		MaxIncludeDepth: 10, MaxNesting: 50, Timeout: 2 * time.Second}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	pick := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	pick(&l.MaxOutput, d.MaxOutput)
	pick(&l.MaxValue, d.MaxValue)
	pick(&l.MaxLoop, d.MaxLoop)
	pick(&l.MaxIterations, d.MaxIterations)
	pick(&l.MaxIncludeDepth, d.MaxIncludeDepth)
	pick(&l.MaxNesting, d.MaxNesting)
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	return l
}

// Options configure an Engine.
type Options struct {
	Limits Limits
	// BasePath is the site's base path ("/" or "/blog/"): relative_url and
	// Eleventy's url filter put it before a site path.
	BasePath string
	// SiteURL is the site's absolute base URL, for absolute_url.
	SiteURL string
}

// Engine expands template syntax. It is built once per site load and is
// safe for concurrent use.
type Engine struct {
	lim    Limits
	liquid *liquidEngine
}

// New builds an Engine.
func New(o Options) *Engine {
	lim := o.Limits.withDefaults()
	base := o.BasePath
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return &Engine{lim: lim, liquid: newLiquidEngine(lim, base, o.SiteURL)}
}

// Env is what one post's expansion may use. Every function may be nil
// (what needs it then names nothing).
type Env struct {
	// Generator is publish.yaml's generator, "" when not set: then the
	// post's own syntax decides (see Detect).
	Generator string
	// Site is {{ site.* }} (Jekyll) and .Site.Params (Hugo's param).
	Site map[string]any
	// Page is {{ page.* }}: the post's front matter and address.
	Page map[string]any
	// Link is the address of a repository file ({% link path %}, Hugo's
	// ref and relref with a path); ok is false when it names no post.
	Link func(path string) (addr string, ok bool)
	// PostURL is the address of the post named by a Jekyll post_url
	// (2013-05-06-name, without extension) or a Hugo ref by name.
	PostURL func(name string) (addr string, ok bool)
	// ReadFile reads a file of the content repository by its path
	// ("_includes/note.html"): the one way includes are read.
	ReadFile func(name string) ([]byte, error)
	// Shortcode reads the template text of a custom Hugo shortcode
	// (templates/shortcodes/<name>.html): the one way they are read.
	Shortcode func(name string) ([]byte, error)
}

// Span is a byte range [Start, End) of a post's body.
type Span struct{ Start, End int }

// Problem is something Expand left as written or stopped, at byte offset
// Off of the source.
type Problem struct {
	Off int
	Msg string
}

// Result is one expansion.
type Result struct {
	// Body is the expanded text; it is the source itself when Changed is
	// false.
	Body    []byte
	Changed bool
	// Map takes offsets of Body back to the source; nil when !Changed.
	Map      *Map
	Problems []Problem
}

// Map takes byte offsets of an expanded body back to its source.
type Map struct {
	out, src, end []int // from out[i], source from src[i]; verbatim up to end[i] (== src[i]: not verbatim)
}

func (m *Map) add(out, src, end int) {
	if n := len(m.out); n > 0 && m.out[n-1] == out {
		m.src[n-1], m.end[n-1] = src, end
		return
	}
	m.out, m.src, m.end = append(m.out, out), append(m.src, src), append(m.end, end)
}

// Source is the source offset of offset off of the expanded body: text
// copied from the source maps to where it was written, text a template
// made maps to its tag.
func (m *Map) Source(off int) int {
	if m == nil {
		return off
	}
	i := sort.SearchInts(m.out, off+1) - 1
	if i < 0 {
		return 0
	}
	return min(m.src[i]+off-m.out[i], max(m.end[i], m.src[i]))
}

// Detect is the generator whose syntax a post uses: gen when set, else a
// guess from the text: Hugo for {{< or {{%, Zola for {{ name( … ) }},
// Jekyll for {% tags %} and {{ site.… }} / {{ page.… }}; "" when nothing
// tells.
func Detect(gen string, src []byte) string {
	if gen != "" {
		return gen
	}
	switch {
	case bytes.Contains(src, []byte("{{<")) || bytes.Contains(src, []byte("{{%")):
		return Hugo
	case zolaRE.Match(src):
		return Zola
	case bytes.Contains(src, []byte("{%")) || bytes.Contains(src, []byte("{{ site.")) || bytes.Contains(src, []byte("{{ page.")):
		return Jekyll
	}
	return ""
}

// Expand expands the template syntax of src, a post's Markdown body,
// outside the code spans (sorted, not overlapping), for env. It never
// fails: what it cannot expand stays as written, with a Problem.
func (e *Engine) Expand(ctx context.Context, src []byte, code []Span, env *Env) Result {
	ctx, cancel := context.WithTimeout(ctx, e.lim.Timeout)
	defer cancel()
	x := &expansion{eng: e.liquid, lim: e.lim, src: src, code: code, env: env, gen: Detect(env.Generator, src)}
	switch x.gen {
	case Jekyll, Eleventy:
		return x.liquid(ctx)
	case Hugo:
		return x.hugo(ctx)
	}
	x.reportAll()
	return Result{Body: src, Problems: x.problems}
}

// expansion is one post's.
type expansion struct {
	eng      *liquidEngine
	lim      Limits
	src      []byte
	code     []Span
	env      *Env
	gen      string
	problems []Problem
	holds    []hold // text kept as written, by placeholder number
	lineEnds []int  // offsets of src's newlines, for lineStart
	lastRuns []textRun
}

// hold is a piece of the source the template engine must not see: code,
// or syntax left as written.
type hold struct {
	start, end int
	code       bool
}

func (x *expansion) problem(off int, msg string) {
	x.problems = append(x.problems, Problem{Off: off, Msg: msg})
}

// token is one {{ … }} or {% … %} of the source, outside code.
type token struct {
	start, end int // [start, end) in src
	kind       byte
}

// tokens finds the template syntax of src outside code: "{{" to "}}" and
// "{%" to "%}", on no matter how many lines, not across code. An opening
// without its closing is a token of its two bytes, kind 0.
func (x *expansion) tokens() []token {
	var out []token
	src := x.src
	ci := 0
	closeB, closeP := -1, -1 // the last "}}" and "%}" found, searching on from there
	for i := 0; i+1 < len(src); i++ {
		for ci < len(x.code) && x.code[ci].End <= i {
			ci++
		}
		if ci < len(x.code) && x.code[ci].Start <= i {
			i = x.code[ci].End - 1
			continue
		}
		if src[i] != '{' || (src[i+1] != '{' && src[i+1] != '%') {
			continue
		}
		kind := src[i+1]
		last := &closeB
		pat := []byte("}}")
		if kind == '%' {
			last, pat = &closeP, []byte("%}")
		}
		if *last < i+2 && *last != len(src) {
			*last = len(src)
			if j := bytes.Index(src[i+2:], pat); j >= 0 {
				*last = i + 2 + j
			}
		}
		end := *last + 2
		// Another opening before the closing: this one is not closed
		// (it is shown as written, and the next one read on its own).
		inner := bytes.Contains(src[i+2:*last], []byte{'{', kind})
		if *last == len(src) || inner || ci < len(x.code) && x.code[ci].Start < end {
			out = append(out, token{start: i, end: i + 2})
			i++
			continue
		}
		out = append(out, token{start: i, end: end, kind: kind})
		i = end - 1
	}
	return out
}

// tagName is the name of a {% … %} token ("if", "endraw"), "" for others.
func (x *expansion) tagName(t token) string {
	if t.kind != '%' {
		return ""
	}
	s := strings.TrimLeft(string(x.src[t.start+2:t.end-2]), "-")
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	end := strings.IndexFunc(s, func(r rune) bool { return !(r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)) })
	if end < 0 {
		end = len(s)
	}
	if end < len(s) && s[end] == '(' {
		return "(" // a Zola shortcode
	}
	return s[:end]
}

var zolaRE = regexp.MustCompile(`\{[{%]-?\s*[A-Za-z_]\w*\(`)

// label names the generator a piece of syntax belongs to, by its shape.
func (x *expansion) label(t token) string {
	s := x.src[t.start:t.end]
	switch {
	case bytes.HasPrefix(s, []byte("{{<")) || bytes.HasPrefix(s, []byte("{{%")):
		return "Hugo shortcode"
	case zolaRE.Match(s):
		return "Zola shortcode"
	case bytes.HasPrefix(s, []byte("{%")) && x.tagName(t) == "image" || bytes.Contains(s, []byte("| url")):
		return "Eleventy Nunjucks"
	}
	return "Jekyll Liquid"
}

// unsupported reports t, left as written.
func (x *expansion) unsupported(t token, why string) {
	msg := fmt.Sprintf("%s %s is not supported and is shown as written", x.label(t), x.show(t))
	if why != "" {
		msg += ": " + why
	}
	x.problem(t.start, msg)
}

// show is t as a message quotes it: on one line, at most 60 runes.
func (x *expansion) show(t token) string {
	b := x.src[t.start:t.end]
	if t.kind == 0 {
		eol := bytes.IndexByte(x.src[t.start:], '\n')
		if eol < 0 {
			eol = len(x.src) - t.start
		}
		b = bytes.TrimRightFunc(x.src[t.start:t.start+eol], unicode.IsSpace)
		return clip(b, 59, "…")
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return clip(bytes.TrimRightFunc(b[:i], unicode.IsSpace), 59, "…")
	}
	return clip(b, 60, "")
}

func clip(b []byte, n int, suffix string) string {
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

// reportAll reports every token outside code as not supported, but for
// a Zola site only Zola's shortcodes (its other braces are text there).
func (x *expansion) reportAll() {
	for _, t := range x.tokens() {
		if x.gen == Zola && x.label(t) != "Zola shortcode" {
			continue
		}
		x.unsupported(t, "")
	}
}

// lineStart is the offset of the start of 1-based line of src.
func (x *expansion) lineStart(line int) int {
	if x.lineEnds == nil {
		x.lineEnds = []int{}
		for i, c := range x.src {
			if c == '\n' {
				x.lineEnds = append(x.lineEnds, i)
			}
		}
	}
	if line <= 1 || len(x.lineEnds) == 0 {
		return 0
	}
	if line-2 < len(x.lineEnds) {
		return x.lineEnds[line-2] + 1
	}
	return len(x.src)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func jsonValue(v any) ([]byte, error) { return json.Marshal(v) }

// slugify is Jekyll's default slugify: lower case, runs of anything but
// letters and digits become one "-".
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		} else {
			dash = true
		}
	}
	return b.String()
}
