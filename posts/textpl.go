package posts

import (
	"bytes"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/publishbot/publishbot/textpl"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// templating is what a Load needs to expand other generators' template
// syntax in posts (see package textpl): the engine, built on first use,
// and the posts by their file names, for {% post_url %} and Hugo's ref.
type templating struct {
	once    sync.Once
	engine  *textpl.Engine
	byName  map[string]string // file name without extension -> source path
	tmplDir fs.FS             // where templates/shortcodes/ is read from
	hint    string            // the generator the repository's files name, when publish.yaml does not
}

// generatorHint is the generator a repository without publish.yaml's
// generator was made for, by the files that generator reads: Jekyll's
// _config.yml or _posts/, Hugo's hugo.* or config with
// layouts/shortcodes/, Eleventy's config. "" when none tells: then each
// post's own syntax decides (textpl.Detect).
func (l *loader) generatorHint() string {
	t := l.tree
	switch {
	case t.has("_config.yml") || t.has("_config.yaml") || l.cfg.PostsDir == "_posts" || t.hasDir("_posts"):
		return textpl.Jekyll
	case t.has("hugo.toml") || t.has("hugo.yaml") || t.has("hugo.json") || t.hasDir("layouts/shortcodes"):
		return textpl.Hugo
	case t.has(".eleventy.js") || t.has("eleventy.config.js") || t.has("eleventy.config.mjs") || t.has("eleventy.config.cjs"):
		return textpl.Eleventy
	}
	return ""
}

// expandTemplates is the step before Markdown: a body with "{{" or "{%"
// has its template syntax outside code expanded (textpl.Expand); the
// expanded body replaces r.body, and r.srcMap takes its offsets back to
// the source, so every later diagnostic points at the line as written.
// Problems are liquid warnings at their place.
func (l *loader) expandTemplates(r *postResult, idx *siteIndex) {
	body := r.body
	if !bytes.Contains(body, []byte("{{")) && !bytes.Contains(body, []byte("{%")) {
		return
	}
	r.templated = true
	tp := &l.tpl
	tp.once.Do(func() {
		tp.hint = l.generatorHint()
		tp.engine = textpl.New(textpl.Options{BasePath: l.cfg.BasePath(), SiteURL: l.cfg.BaseURL})
		tp.byName = map[string]string{}
		for src := range idx.bySource {
			name := strings.TrimSuffix(path.Base(src), path.Ext(src))
			if _, dup := tp.byName[name]; !dup || src < tp.byName[name] {
				tp.byName[name] = src
			}
		}
	})
	addr := func(source string) (string, bool) {
		t, ok := idx.bySource[source]
		if !ok || t.post == nil || !t.linkable {
			return "", false
		}
		return l.cfg.BasePath() + strings.TrimPrefix(t.escapedAddress(), "/"), true
	}
	link := func(p string) (string, bool) {
		p = strings.TrimPrefix(strings.TrimSpace(p), "/")
		cands := []string{p, path.Join(path.Dir(r.file.path), p), path.Join(l.cfg.PostsDir, p), path.Join(path.Dir(l.cfg.PostsDir), p)}
		if rest, ok := strings.CutPrefix(p, "_posts/"); ok {
			cands = append(cands, path.Join(l.cfg.PostsDir, rest))
		}
		for _, c := range cands {
			if a, ok := addr(c); ok {
				return a, true
			}
			if a, ok := addr(c + ".md"); ok {
				return a, true
			}
		}
		return "", false
	}
	postURL := func(name string) (string, bool) {
		if src, ok := tp.byName[path.Base(strings.TrimSpace(name))]; ok {
			return addr(src)
		}
		return "", false
	}
	env := &textpl.Env{
		Generator: l.cfg.Generator,
		Site:      l.siteVars(),
		Page:      r.pageVars(),
		Link: func(p string) (string, bool) {
			if a, ok := link(p); ok {
				return a, true
			}
			return postURL(strings.TrimSuffix(path.Base(p), path.Ext(p)))
		},
		PostURL:   postURL,
		ReadFile:  l.readContentFile,
		Shortcode: l.readShortcode,
	}
	if env.Generator == "" {
		env.Generator = tp.hint
	}
	res := tp.engine.Expand(l.tree.ctx, body, codeSpans(l.md, body, l.mathOn(r)), env)
	for _, p := range res.Problems {
		line, col := r.pos(r.bodyOff + p.Off)
		r.add(line, col, CodeLiquid, p.Msg)
	}
	if res.Changed {
		r.body, r.srcMap = res.Body, res.Map
	}
}

// readContentFile reads a file of the content repository for a post's
// template ({% include %} reads _includes/<name>): the one place template
// reads of content go through.
func (l *loader) readContentFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, fs.ErrNotExist
	}
	return fs.ReadFile(l.tree.fsys, name)
}

// readShortcode reads templates/shortcodes/<name>.html: from the
// templates folder Options.Templates names (a fork's preview: the base
// branch's), else the content tree's.
func (l *loader) readShortcode(name string) ([]byte, error) {
	p := "shortcodes/" + name + ".html"
	if !fs.ValidPath(p) {
		return nil, fs.ErrNotExist
	}
	if l.tpl.tmplDir != nil {
		return fs.ReadFile(l.tpl.tmplDir, p)
	}
	return fs.ReadFile(l.tree.fsys, "templates/"+p)
}

// siteVars are {{ site.* }}: params, then url, baseurl and title.
func (l *loader) siteVars() map[string]any {
	m := make(map[string]any, len(l.cfg.Params)+3)
	for k, v := range l.cfg.Params {
		m[k] = v
	}
	m["url"] = strings.TrimSuffix(strings.TrimSuffix(l.cfg.BaseURL, "/"), strings.TrimSuffix(l.cfg.BasePath(), "/"))
	m["baseurl"] = strings.TrimSuffix(l.cfg.BasePath(), "/")
	m["title"] = l.cfg.Title
	return m
}

// pageVars are {{ page.* }}: the front matter, and the post's title, url
// and date.
func (r *postResult) pageVars() map[string]any {
	m := map[string]any{}
	var ds []Diagnostic
	for i := range r.fields {
		m[r.fields[i].key] = paramsValue(&r.fields[i].value, 1, &ds)
	}
	if p := r.post; p != nil {
		m["title"] = p.Title
		m["url"] = "/" + p.Address
		if !p.Date.IsZero() {
			m["date"] = p.Date
		}
	}
	return m
}

// codeSpans are the byte ranges of body's code (fenced and indented
// blocks, code spans), and with math its formulas (TeX braces are not
// template syntax), from a parse of its own: template syntax there stays
// as written.
func codeSpans(md *markdown, body []byte, math bool) []textpl.Span {
	if !mayHoldCode(body, math) {
		return nil
	}
	return parsedCodeSpans(md, body, math)
}

// mayHoldCode says whether body can hold code or (with math) a formula at
// all: a code span needs a backtick, a fence "```" or "~~~", an indented
// block four columns of spaces or a tab before its text, and a formula
// "$", "\(" or "\[". A body with none of them is common (a post using
// Liquid only for a link or a variable), and needs no parse to know that.
func mayHoldCode(body []byte, math bool) bool {
	if bytes.IndexByte(body, '`') >= 0 || bytes.IndexByte(body, '\t') >= 0 ||
		bytes.Contains(body, []byte("~~~")) || bytes.Contains(body, []byte("    ")) {
		return true
	}
	return math && (bytes.IndexByte(body, '$') >= 0 || bytes.IndexByte(body, '\\') >= 0)
}

// parsedCodeSpans is codeSpans from a goldmark parse of body.
func parsedCodeSpans(md *markdown, body []byte, math bool) []textpl.Span {
	pc := parser.NewContext()
	if math {
		enableMath(pc)
	}
	doc := md.parser(math).Parse(text.NewReader(body), parser.WithContext(pc))
	spans := mathSpans(pc) // math.go
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.FencedCodeBlock, *ast.CodeBlock:
			if lines := n.Lines(); lines.Len() > 0 {
				spans = append(spans, textpl.Span{Start: lines.At(0).Start, End: lines.At(lines.Len() - 1).Stop})
			}
			return ast.WalkSkipChildren, nil
		case *ast.CodeSpan:
			start, end := -1, -1
			for c := n.FirstChild(); c != nil; c = c.NextSibling() {
				if t, ok := c.(*ast.Text); ok {
					if start < 0 {
						start = t.Segment.Start
					}
					end = t.Segment.Stop
				}
			}
			if start >= 0 {
				spans = append(spans, textpl.Span{Start: start, End: end})
			}
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	// Sorted and not overlapping.
	slices.SortFunc(spans, func(a, b textpl.Span) int { return a.Start - b.Start })
	out := spans[:0]
	for _, s := range spans {
		if len(out) > 0 && s.Start < out[len(out)-1].End {
			out[len(out)-1].End = max(out[len(out)-1].End, s.End)
			continue
		}
		out = append(out, s)
	}
	return out
}
