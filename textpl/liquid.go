package textpl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/osteele/liquid/expressions"
	"github.com/osteele/liquid/filters"
	"github.com/osteele/liquid/parser"
	"github.com/osteele/liquid/render"
	"github.com/osteele/liquid/tags"
	"github.com/osteele/liquid/values"
)

// liquidEngine is osteele/liquid's configuration with publishbot's bounds:
// for and capture are replaced by bounded versions, the filters that can
// grow a value (append, prepend, replace, replace_first, concat, join) are
// capped, include reads through the run's Env, and Jekyll's tags
// (highlight, link, post_url) and Eleventy's (image, the url filter) are
// added. It is built once per Engine and shared: everything of one
// expansion lives in the *liquidRun found in the bindings.
type liquidEngine struct {
	cfg render.Config
}

// runKey is the binding that holds the *liquidRun of a render: no Liquid
// identifier can name it.
const runKey = "\x00run"

var (
	errBreak    = errors.New("break outside a loop")
	errContinue = errors.New("continue outside a loop")
	// errStopped is what the bounded writer returns once the run is over
	// (its output cap, its context); the run's stop says why.
	errStopped = errors.New("stopped")
)

func newLiquidEngine(lim Limits, basePath, siteURL string) *liquidEngine {
	cfg := render.NewConfig()
	filters.AddStandardFilters(&cfg)
	tags.AddStandardTags(cfg)
	e := &liquidEngine{cfg: cfg}
	capped := func(s string) (string, error) {
		if len(s) > lim.MaxValue {
			return "", fmt.Errorf("a value of %d bytes; the limit is %d", len(s), lim.MaxValue)
		}
		return s, nil
	}
	cfg.AddFilter("append", func(s, suffix string) (string, error) {
		if len(s)+len(suffix) > lim.MaxValue {
			return "", fmt.Errorf("a value of %d bytes; the limit is %d", len(s)+len(suffix), lim.MaxValue)
		}
		return s + suffix, nil
	})
	cfg.AddFilter("prepend", func(s, prefix string) (string, error) {
		if len(s)+len(prefix) > lim.MaxValue {
			return "", fmt.Errorf("a value of %d bytes; the limit is %d", len(s)+len(prefix), lim.MaxValue)
		}
		return prefix + s, nil
	})
	replace := func(s, old, n string, count int) (string, error) {
		k := strings.Count(s, old)
		if count >= 0 {
			k = min(k, count)
		}
		if size := len(s) + k*(len(n)-len(old)); size > lim.MaxValue {
			return "", fmt.Errorf("a value of %d bytes; the limit is %d", size, lim.MaxValue)
		}
		return strings.Replace(s, old, n, count), nil
	}
	cfg.AddFilter("replace", func(s, old, n string) (string, error) { return replace(s, old, n, -1) })
	cfg.AddFilter("replace_first", func(s, old, n string) (string, error) { return replace(s, old, n, 1) })
	cfg.AddFilter("concat", func(a, b []any) ([]any, error) {
		if len(a)+len(b) > lim.MaxValue/8 {
			return nil, fmt.Errorf("a list of %d items; the limit is %d", len(a)+len(b), lim.MaxValue/8)
		}
		return append(append(make([]any, 0, len(a)+len(b)), a...), b...), nil
	})
	cfg.AddFilter("join", func(a []any, sep func(string) string) (string, error) {
		s := sep(" ")
		size := 0
		parts := make([]string, 0, len(a))
		for _, x := range a {
			if x == nil {
				continue
			}
			p := fmt.Sprint(values.ToLiquid(x))
			size += len(p) + len(s)
			if size > lim.MaxValue {
				return "", fmt.Errorf("a value of more than %d bytes", lim.MaxValue)
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, s), nil
	})
	// Jekyll's and Eleventy's own filters that posts use.
	cfg.AddFilter("slugify", func(s string) string { return slugify(s) })
	cfg.AddFilter("xml_escape", html.EscapeString)
	cfg.AddFilter("cgi_escape", url.QueryEscape)
	cfg.AddFilter("uri_escape", func(s string) string { return (&url.URL{Path: s}).EscapedPath() })
	cfg.AddFilter("markdownify", func(s string) string { return s })
	cfg.AddFilter("number_of_words", func(s string) int { return len(strings.Fields(s)) })
	cfg.AddFilter("jsonify", func(v any) (string, error) {
		b, err := jsonValue(v)
		if err != nil {
			return "", err
		}
		return capped(string(b))
	})

	// The standard for, tablerow and capture cannot be replaced (a block
	// is defined once): the template's are renamed to these (see
	// renameBlocks).
	cfg.AddBlock(ownFor).Clause("else").Compiler(e.forCompiler)
	cfg.AddBlock(ownTablerow).Compiler(func(render.BlockNode) (func(io.Writer, render.Context) error, error) {
		return nil, errors.New("tablerow is not supported")
	})
	cfg.AddTag("break", func(string) (func(io.Writer, render.Context) error, error) {
		return func(io.Writer, render.Context) error { return errBreak }, nil
	})
	cfg.AddTag("continue", func(string) (func(io.Writer, render.Context) error, error) {
		return func(io.Writer, render.Context) error { return errContinue }, nil
	})
	cfg.AddBlock(ownCapture).Compiler(captureCompiler)
	cfg.AddBlock("highlight").Compiler(highlightCompiler)
	cfg.AddTag("include", includeTag)
	cfg.AddTag("link", func(args string) (func(io.Writer, render.Context) error, error) {
		return linkTag("link", args), nil
	})
	cfg.AddTag("post_url", func(args string) (func(io.Writer, render.Context) error, error) {
		return linkTag("post_url", args), nil
	})
	cfg.AddTag("image", imageTag)
	rel := func(s string) string {
		if u, err := url.Parse(s); err == nil && (u.Scheme != "" || u.Host != "") || strings.HasPrefix(s, "#") {
			return s
		}
		return basePath + strings.TrimPrefix(s, "/")
	}
	cfg.AddFilter("url", rel)
	cfg.AddFilter("relative_url", rel)
	cfg.AddFilter("absolute_url", func(s string) string {
		if u, err := url.Parse(s); err == nil && (u.Scheme != "" || u.Host != "") {
			return s
		}
		return strings.TrimSuffix(siteURL, basePath) + rel(s)
	})
	return e
}

const (
	ownFor      = "bounded_for"
	ownCapture  = "bounded_capture"
	ownTablerow = "bounded_tablerow"
)

var blockNameRE = regexp.MustCompile(`(\{%-?\s*)(end)?(for|capture|tablerow)\b`)

// renameBlocks renames for, capture and tablerow tags in Liquid source s
// to the bounded blocks.
func renameBlocks(s string) string {
	return blockNameRE.ReplaceAllString(s, "${1}${2}bounded_${3}")
}

// liquidRun is one expansion's state, reached by tags through the
// bindings.
type liquidRun struct {
	ctx         context.Context
	env         *Env
	lim         Limits
	x           *expansion
	out         int // bytes written
	iters       int // loop iterations run
	includes    int // include depth
	includeLine int // the line of the outermost include tag running
	stop        error
}

func runOf(ctx render.Context) *liquidRun {
	r, _ := ctx.Get(runKey).(*liquidRun)
	return r
}

// check is called at every write and loop iteration: it ends the run when
// its context has ended.
func (r *liquidRun) check() error {
	if r.stop != nil {
		return errStopped
	}
	if err := r.ctx.Err(); err != nil {
		r.stop = fmt.Errorf("stopped: the build's time is up (%w)", err)
		return errStopped
	}
	return nil
}

// boundedWriter is where a Liquid render writes: it stops the render at
// the output cap and when the run's context ends.
type boundedWriter struct {
	r   *liquidRun
	buf *bytes.Buffer
}

func (w boundedWriter) Write(b []byte) (int, error) {
	if err := w.r.check(); err != nil {
		return 0, err
	}
	w.r.out += len(b)
	if w.r.out > w.r.lim.MaxOutput {
		w.r.stop = fmt.Errorf("stopped: it would write more than %d bytes", w.r.lim.MaxOutput)
		return 0, errStopped
	}
	return w.buf.Write(b)
}

// forCompiler is Liquid's for loop with a bound: a loop over more than
// MaxLoop items, or a run past MaxIterations iterations in all, is an
// error; each iteration checks the run's context.
func (e *liquidEngine) forCompiler(node render.BlockNode) (func(io.Writer, render.Context) error, error) {
	stmt, err := expressions.ParseStatement(expressions.LoopStatementSelector, node.Args)
	if err != nil {
		return nil, err
	}
	loop := stmt.Loop
	return func(w io.Writer, ctx render.Context) error {
		run := runOf(ctx)
		val, err := ctx.Evaluate(loop.Expr)
		if err != nil {
			return err
		}
		items, n := iterate(val)
		from := 0
		if loop.Offset != nil {
			v, err := ctx.Evaluate(loop.Offset)
			if err != nil {
				return err
			}
			if off, ok := v.(int); ok && off > 0 {
				from = min(off, n)
			}
		}
		count := n - from
		if loop.Limit != nil {
			v, err := ctx.Evaluate(loop.Limit)
			if err != nil {
				return err
			}
			if l, ok := v.(int); ok && l >= 0 {
				count = min(count, l)
			}
		}
		if count > run.lim.MaxLoop {
			return fmt.Errorf("a loop over %d items; the limit is %d", count, run.lim.MaxLoop)
		}
		if count <= 0 {
			if len(node.Clauses) == 1 && node.Clauses[0].Name == "else" {
				return ctx.RenderBlock(w, node.Clauses[0])
			}
			return nil
		}
		defer func(forloop, v any) {
			ctx.Set("forloop", forloop)
			ctx.Set(loop.Variable, v)
		}(ctx.Get("forloop"), ctx.Get(loop.Variable))
		cycles := map[string]int{}
		for i := range count {
			if err := run.check(); err != nil {
				return err
			}
			run.iters++
			if run.iters > run.lim.MaxIterations {
				return fmt.Errorf("more than %d loop iterations in this post", run.lim.MaxIterations)
			}
			k := from + i
			if loop.Reversed {
				k = from + count - 1 - i
			}
			ctx.Set(loop.Variable, items(k))
			ctx.Set("forloop", map[string]any{
				"first": i == 0, "last": i == count-1, "index": i + 1, "index0": i,
				"rindex": count - i, "rindex0": count - i - 1, "length": count,
				".cycles": cycles, // the standard cycle tag keeps its place here
			})
			err := ctx.RenderChildren(w)
			if err == nil {
				continue
			}
			switch err.Cause() {
			case errBreak:
				return nil
			case errContinue:
				continue
			}
			return err
		}
		return nil
	}, nil
}

// iterate gives an item getter and the number of items of a loop's value.
func iterate(v any) (func(int) any, int) {
	type indexed interface {
		Len() int
		Index(int) any
	}
	switch v := v.(type) {
	case nil:
		return nil, 0
	case indexed:
		return v.Index, v.Len()
	case map[string]any:
		keys := sortedKeys(v)
		return func(i int) any { return []any{keys[i], v[keys[i]]} }, len(keys)
	case string:
		return func(int) any { return v }, 1
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
		return func(i int) any { return rv.Index(i).Interface() }, rv.Len()
	}
	return nil, 0
}

// captureCompiler is Liquid's capture, written into a buffer that counts
// toward the run's output cap, so a capture doubling itself in a loop
// stops like any other output.
func captureCompiler(node render.BlockNode) (func(io.Writer, render.Context) error, error) {
	name := strings.TrimSpace(node.Args)
	if name == "" || strings.ContainsFunc(name, unicode.IsSpace) {
		return nil, fmt.Errorf("capture needs one variable name")
	}
	return func(_ io.Writer, ctx render.Context) error {
		run := runOf(ctx)
		var buf bytes.Buffer
		if err := ctx.RenderChildren(boundedWriter{r: run, buf: &buf}); err != nil {
			return err
		}
		ctx.Set(name, buf.String())
		return nil
	}, nil
}

// highlightRE reads Jekyll's highlight arguments: a language, then
// linenos, and hl_lines="1 3-4" or mark_lines="...".
var highlightRE = regexp.MustCompile(`^\s*([A-Za-z0-9_+#.-]+)((?:\s+(?:linenos(?:=\w+)?|(?:hl_lines|mark_lines)="[0-9 -]*"))*)\s*$`)

var highlightOptRE = regexp.MustCompile(`linenos(?:=\w+)?|(?:hl_lines|mark_lines)="[0-9 -]*"`)

// highlightCompiler turns {% highlight lang linenos %}…{% endhighlight %}
// into a fenced code block with the same options, which the Markdown
// renderer highlights like any other.
func highlightCompiler(node render.BlockNode) (func(io.Writer, render.Context) error, error) {
	m := highlightRE.FindStringSubmatch(node.Args)
	if m == nil {
		return nil, fmt.Errorf("highlight needs a language, then linenos or hl_lines=\"...\", not %q", strings.TrimSpace(node.Args))
	}
	var opts []string
	for _, f := range highlightOptRE.FindAllString(m[2], -1) {
		switch {
		case strings.HasPrefix(f, "linenos"):
			opts = append(opts, "linenos=true")
		default:
			v := f[strings.IndexByte(f, '"')+1 : len(f)-1]
			var parts []string
			for _, p := range strings.Fields(v) {
				parts = append(parts, strconv.Quote(p))
			}
			opts = append(opts, "hl_lines=["+strings.Join(parts, ",")+"]")
		}
	}
	info := strings.ToLower(m[1])
	if len(opts) > 0 {
		info += " {" + strings.Join(opts, ", ") + "}"
	}
	return func(w io.Writer, ctx render.Context) error {
		run := runOf(ctx)
		var buf bytes.Buffer
		if err := ctx.RenderChildren(boundedWriter{r: run, buf: &buf}); err != nil {
			return err
		}
		code := run.x.restoreCode(buf.String())
		_, err := io.WriteString(w, fence(info, code))
		return err
	}, nil
}

// fence writes code as a fenced block with info, on lines of its own,
// with a fence longer than any run of backticks in the code.
func fence(info, code string) string {
	code = strings.TrimPrefix(strings.TrimPrefix(code, "\r"), "\n")
	code = strings.TrimRight(code, " \t\r\n")
	n, run := 3, 0
	for i := 0; i < len(code); i++ {
		if code[i] == '`' {
			run++
			n = max(n, run+1)
		} else {
			run = 0
		}
	}
	f := strings.Repeat("`", n)
	return "\n" + f + info + "\n" + code + "\n" + f + "\n"
}

// argText is a tag's arguments with any {{ … }} in them expanded (Jekyll
// allows {% link {{ page.x }} %}), trimmed.
func argText(ctx render.Context) (string, error) {
	s, err := ctx.ExpandTagArg()
	return strings.TrimSpace(s), err
}

// linkTag is Jekyll's {% link path %} and {% post_url name %}: the
// address of the post it names. One that names nothing is a problem and
// gives the path as written.
func linkTag(name, _ string) func(io.Writer, render.Context) error {
	return func(w io.Writer, ctx render.Context) error {
		run := runOf(ctx)
		arg, err := argText(ctx)
		if err != nil {
			return err
		}
		var addr string
		var ok bool
		if name == "link" && run.env.Link != nil {
			addr, ok = run.env.Link(arg)
		} else if name == "post_url" && run.env.PostURL != nil {
			addr, ok = run.env.PostURL(arg)
		}
		if !ok {
			run.x.problemAtLine(ctx, fmt.Sprintf("%s {%% %s %s %%} names no post or file of this repository; its path is kept as written", run.x.liquidName(), name, arg))
			addr = arg
		}
		_, err = io.WriteString(w, addr)
		return err
	}
}

// includeTag is Jekyll's {% include name %}: the file _includes/name of
// the content repository, read through Env.ReadFile and rendered with
// the same bindings (and include.<param> for key="value" parameters).
// Includes nest at most MaxIncludeDepth deep.
func includeTag(string) (func(io.Writer, render.Context) error, error) {
	return func(w io.Writer, ctx render.Context) error {
		run := runOf(ctx)
		arg, err := argText(ctx)
		if err != nil {
			return err
		}
		name, params := splitIncludeArgs(arg)
		if name == "" || strings.Contains(name, "..") || strings.HasPrefix(name, "/") || strings.ContainsAny(name, "\\\x00") {
			return fmt.Errorf("include %q: not a file of _includes/", name)
		}
		if run.includes >= run.lim.MaxIncludeDepth {
			return fmt.Errorf("include %s: includes nested more than %d deep (does it include itself?)", name, run.lim.MaxIncludeDepth)
		}
		if run.env.ReadFile == nil {
			return fmt.Errorf("include %s: no _includes/ folder here", name)
		}
		src, err := run.env.ReadFile("_includes/" + name)
		if err != nil {
			return fmt.Errorf("include %s: %w", name, err)
		}
		if len(src) > run.lim.MaxValue {
			return fmt.Errorf("include %s: the file is %d bytes; the limit is %d", name, len(src), run.lim.MaxValue)
		}
		root, perr := run.x.eng.cfg.Compile(renameBlocks(string(src)), parser.SourceLoc{Pathname: "_includes/" + name, LineNo: 1})
		if perr != nil {
			return fmt.Errorf("include %s: %w", name, perr)
		}
		inc := map[string]any{}
		for k, v := range params {
			val, err := ctx.EvaluateString(v)
			if err != nil {
				return err
			}
			inc[k] = val
		}
		if run.includes == 0 {
			run.includeLine = ctx.WrapError(errors.New("here")).LineNumber()
		}
		run.includes++
		defer func() { run.includes-- }()
		vars := ctx.Bindings()
		old, had := vars["include"]
		vars["include"] = inc
		defer func() {
			if had {
				vars["include"] = old
			} else {
				delete(vars, "include")
			}
		}()
		var buf bytes.Buffer
		if err := render.Render(root, boundedWriter{r: run, buf: &buf}, vars, run.x.eng.cfg); err != nil {
			if errors.Is(err, errStopped) || run.stop != nil {
				return errStopped
			}
			// Said at the include tag's line, not the included file's.
			return fmt.Errorf("in _includes/%s, line %d: %s", name, err.LineNumber(), causeOf(err))
		}
		_, err = w.Write(buf.Bytes())
		return err
	}, nil
}

var includeParamRE = regexp.MustCompile(`([A-Za-z_][\w-]*)\s*=\s*("[^"]*"|'[^']*'|[^\s]+)`)

func splitIncludeArgs(arg string) (string, map[string]string) {
	name, rest, _ := strings.Cut(arg, " ")
	params := map[string]string{}
	for _, m := range includeParamRE.FindAllStringSubmatch(rest, -1) {
		params[m[1]] = m[2]
	}
	return strings.Trim(name, `"'`), params
}

// imageTag is Eleventy's {% image "src", "alt" %} (the Image plugin's
// shortcode): an <img>, lazy, that the Markdown renderer checks like any
// raw HTML image.
func imageTag(args string) (func(io.Writer, render.Context) error, error) {
	return func(w io.Writer, ctx render.Context) error {
		var parts []string
		for _, a := range splitArgs(ctx.TagArgs()) {
			v, err := ctx.EvaluateString(a)
			if err != nil {
				return err
			}
			parts = append(parts, fmt.Sprint(values.ToLiquid(v)))
		}
		if len(parts) == 0 || parts[0] == "" {
			return errors.New(`image needs a source: {% image "cat.jpg", "a cat" %}`)
		}
		alt := ""
		if len(parts) > 1 {
			alt = parts[1]
		}
		_, err := fmt.Fprintf(w, `<img src="%s" alt="%s" loading="lazy">`, html.EscapeString(parts[0]), html.EscapeString(alt))
		return err
	}, nil
}

// splitArgs splits a, b, c at the commas outside quotes.
func splitArgs(s string) []string {
	var out []string
	var q byte
	start := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == ',':
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	if t := strings.TrimSpace(s[start:]); t != "" {
		out = append(out, t)
	}
	return out
}
