package posts

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
)

// Renders cached without the base path. A post's HTML links other posts,
// files and images under the site's base path ("/blog/posts/x/"), and a
// pull request's preview has a base path of its own
// ("/blog/pr-preview/pr-7/"): keyed by the base path, a pull request's
// first preview rendered every post of the blog again (a third of its
// time). With a cache, a post is rendered with basePlaceholder where the
// base path goes, cached so, and given the build's base path when it is
// used (postBody.rebase): the site and every preview share one render.
//
// The placeholder is put back only where the renderer put it. That holds
// when nothing the render read has the placeholder's word in it: neither
// the post's source, nor anything it read of the rest of the site (its
// Reads: other posts' addresses and titles, files' paths), nor the
// configuration. A render where one of them has it, or whose text,
// summary, diagnostics or links came out with it (the renderer puts the
// base path only into URLs), is made again with the real base path and
// not cached. A post with other generators' template syntax, whose
// template engine writes the base path and site URL where it likes, is
// keyed by the real base path as before, and so is every post of a site
// whose base path has characters a URL or HTML escapes.

// placeholderWord is in basePlaceholder, and nowhere else in a site.
const placeholderWord = "publishbot-base-path-7d1c5e93"

// basePlaceholder is what a base-path-neutral render writes where the base
// path goes.
const basePlaceholder = "/" + placeholderWord + "/"

// neutralBase is the base path a build's renders are given back, when
// they can be cached without it: base is made only of characters that
// nothing escapes in a URL or in HTML; "" when they cannot.
func neutralBase(base string) string {
	if !strings.HasPrefix(base, "/") || !strings.HasSuffix(base, "/") {
		return ""
	}
	for i := range len(base) {
		c := base[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("/-._~", c) >= 0) {
			return ""
		}
	}
	return base
}

// placeholderConfig is cfg as a base-path-neutral render sees it: its base
// URL with basePlaceholder for its path (the key of such renders).
func placeholderConfig(cfg Config) Config {
	if u, err := url.Parse(cfg.BaseURL); err == nil {
		u.Path, u.RawPath = basePlaceholder, ""
		cfg.BaseURL = u.String()
	}
	return cfg
}

// neutral says whether r is rendered and cached without the base path.
func (l *loader) neutral(r *postResult) bool { return l.rebase != "" && !r.syntax }

// rebaseString gives s the build's base path where a neutral render put
// the placeholder.
func (l *loader) rebaseString(s string) string { return rebase(s, l.rebase) }

// rebaseIf is rebaseString of s, a part of r's render, when r's render is
// neutral.
func (l *loader) rebaseIf(r *postResult, s string) string {
	if !l.neutral(r) {
		return s
	}
	return l.rebaseString(s)
}

func rebase(s, base string) string {
	if base == "" || !strings.Contains(s, basePlaceholder) {
		return s
	}
	return strings.ReplaceAll(s, basePlaceholder, base)
}

// neutralHolds says whether the placeholder is only where the renderer put
// it in r's render (from diagnostic before, check checks and linked file
// linked on), which read reads: see above.
func (l *loader) neutralHolds(r *postResult, reads *Reads, before, checks, linked int) bool {
	word := []byte(placeholderWord)
	has := func(s string) bool { return strings.Contains(s, placeholderWord) }
	if bytes.Contains(r.src, word) || l.configHasPlaceholder() {
		return false
	}
	for _, rd := range reads.list {
		if has(rd.Arg) || has(rd.Answer) {
			return false
		}
	}
	p := r.post
	if has(p.Summary) || has(p.Text()) {
		return false
	}
	for _, d := range r.diags[before:] {
		if has(d.Message) {
			return false
		}
	}
	for _, c := range r.checks[checks:] {
		if has(c.site) || has(c.dest) || has(c.from) || has(c.redirect) {
			return false
		}
	}
	for _, lf := range r.linked[linked:] {
		if has(lf.source) || has(lf.target) || has(lf.dest) {
			return false
		}
	}
	return true
}

// configHasPlaceholder says whether the configuration has the
// placeholder's word anywhere (a menu, a title): worked out once.
func (l *loader) configHasPlaceholder() bool {
	l.cfgWord.once.Do(func() {
		b, _ := json.Marshal(l.cfg)
		l.cfgWord.has = bytes.Contains(b, []byte(placeholderWord)) || strings.Contains(l.configBase, placeholderWord)
	})
	return l.cfgWord.has
}

// rendered are the fields of a Post that rendering sets, kept to make a
// render again from where it started. Only they are put back: other
// posts' renders read this post's address and title meanwhile.
type rendered struct {
	toc, image, summary string
	words, readingTime  int
	math, diagrams      bool
	body                *postBody
}

func renderedOf(p *Post) rendered {
	return rendered{p.TOC, p.Image, p.Summary, p.Words, p.ReadingTime, p.Math, p.Diagrams, p.body}
}

func (r rendered) restore(p *Post) {
	p.TOC, p.Image, p.Summary, p.Words, p.ReadingTime, p.Math, p.Diagrams, p.body = r.toc, r.image, r.summary, r.words, r.readingTime, r.math, r.diagrams, r.body
}
