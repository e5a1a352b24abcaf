package posts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// RenderCache keeps what rendering a post's Markdown made (its HTML, table
// of contents, summary, word count, diagnostics and the links it resolved)
// between builds, so that a post whose inputs did not change is not parsed
// and rendered again. buildcache.Cache implements it; Options.Cache takes
// one. Get and Put are called from several goroutines at once.
//
// A key is a SHA-256 of everything the result was made from that is known
// before rendering (the renderer's inputs from the configuration, the post's
// source bytes and its fields from front matter, address and schedule);
// the value also lists every read rendering made of the rest of the site
// (see Reads), which Load replays against the current site before it uses
// the value. The cache's implementation adds the publishbot version to the
// key. A value that does not decode is a miss.
//
// The bytes Get returns must never change afterwards, neither in the cache
// nor for the caller (Load never writes to them): the HTML and text of a
// cached render are strings that share them rather than copies. Get must
// find what Put stored for the rest of the build (buildcache.Cache: ten
// minutes at least): a post rendered in this build does not keep its body
// but reads it back when its page or a feed needs it, as the posts whose
// render was cached do (see postBody).
type RenderCache interface {
	Get(key [32]byte) ([]byte, bool)
	Put(key [32]byte, value []byte)
}

// renderVersion changes whenever the cached value's format or meaning does.
const renderVersion = "posts-render-10"

// Kinds of Reads: what rendering a post read of the rest of the site.
const (
	readSource  = "source"  // the post, section or redirect of a source file (links to it)
	readBundle  = "bundle"  // the post of a bundle folder
	readSection = "section" // the section of a folder under posts_dir
	readAsset   = "asset"   // where a static or bundle file is published
	readFile    = "file"    // whether a repository file exists
	readDir     = "dir"     // whether a repository folder exists
	readPrefix  = "prefix"  // the folder all posts' addresses share
	readBytes   = "bytes"   // a repository file's content (contentSum)
	// readTemplating is everything other generators' template syntax
	// (textpl, expandTemplates) can read: every source's facts (links,
	// post_url, ref), the generator the repository's files name, and the
	// contents of _includes/ and of the shortcode templates. Coarse, and
	// so never stale: a retitled post renders the templated posts again,
	// an edited body does not.
	readTemplating = "templating"
)

// Reads records what rendering one post reads of the site beyond its own
// source: every lookup of another post (its address, title, state), of a
// file or folder of the repository, or of a file's bytes. A cached render is
// used only when each recorded read gives the same answer in the current
// build. The walker calls it through its lookup methods (source, bundle,
// section, assetOf, hasFile, hasDir, linkedTarget, readFile); code that
// renders a post and reads anything else of the site must go through one of
// them, or add a kind (a constant above, a case in (*loader).answer, a
// method that calls add), or the cache may serve a stale page. A nil *Reads
// records nothing.
type Reads struct{ list []cachedRead }

type cachedRead struct{ Kind, Arg, Answer string }

func (rs *Reads) add(kind, arg, answer string) {
	if rs != nil {
		rs.list = append(rs.list, cachedRead{kind, arg, answer})
	}
}

// facts is what a link to t depends on: whether it is there and published,
// its kind, source, address, title and state. It is asked only once the
// index is built (rendering, replaying reads), when none of them changes
// any more: worked out once per post and build.
func facts(t *postResult) string {
	if t == nil {
		return "-"
	}
	t.factsOnce.Do(func() { t.facts = factsOf(t) })
	return t.facts
}

// factsOf is fmt's "%t|%t|%t|%d|%q|%q|%q|%t|%t|%q" of the facts, written
// without fmt: a templating answer lists every post's (20,000 at a time).
func factsOf(t *postResult) string {
	if t.post == nil {
		return "nopost"
	}
	p := t.post
	b := make([]byte, 0, 64+len(t.file.path)+len(p.Section)+len(p.Title)+len(p.Address))
	b = strconv.AppendBool(b, t.linkable)
	b = append(b, '|')
	b = strconv.AppendBool(b, t.expired)
	b = append(b, '|')
	b = strconv.AppendBool(b, t.claimed)
	b = append(b, '|')
	b = strconv.AppendUint(b, uint64(t.kind), 10)
	b = append(b, '|')
	b = strconv.AppendQuote(b, t.file.path)
	b = append(b, '|')
	b = strconv.AppendQuote(b, p.Section)
	b = append(b, '|')
	b = strconv.AppendQuote(b, t.escapedAddress())
	b = append(b, '|')
	b = strconv.AppendBool(b, p.Draft)
	b = append(b, '|')
	b = strconv.AppendBool(b, p.Future)
	b = append(b, '|')
	b = strconv.AppendQuote(b, p.Title)
	return string(b)
}

// answer is the answer the current site gives to a recorded read.
func (l *loader) answer(idx *siteIndex, kind, arg string) string {
	switch kind {
	case readSource:
		return facts(idx.bySource[arg])
	case readBundle:
		return facts(idx.byBundle[arg])
	case readSection:
		return facts(idx.bySection[arg])
	case readAsset:
		t, ok := idx.assetOf[arg]
		return strconv.FormatBool(ok) + "|" + t
	case readFile:
		return strconv.FormatBool(l.tree.has(arg))
	case readDir:
		return strconv.FormatBool(l.tree.hasDir(arg))
	case readPrefix:
		return idx.prefix
	case readBytes:
		return l.bytesAnswer(arg, nil, nil)
	case readTemplating:
		return l.templatingAnswer(idx)
	}
	return "\x00unknown" // a kind this version does not know: never equal
}

// bytesAnswer is what a read of the file name's bytes records: its
// content's name (contentSum: a git tree's blob id, else the bytes'
// SHA-256), so that replaying the read does not read the file from a git
// tree; b and err are the read's result when it was made.
func (l *loader) bytesAnswer(name string, b []byte, err error) string {
	if err != nil {
		return "error"
	}
	if sum := l.contentSum(name, b); sum != "" {
		return sum
	}
	return "error"
}

// The walker's lookups: each answers from the site index or the tree and
// records the read.

func (w *walker) source(p string) *postResult {
	t := w.idx.bySource[p]
	if w.reads != nil {
		w.reads.add(readSource, p, facts(t))
	}
	return t
}

func (w *walker) bundle(dir string) *postResult {
	t := w.idx.byBundle[dir]
	if w.reads != nil {
		w.reads.add(readBundle, dir, facts(t))
	}
	return t
}

func (w *walker) section(dir string) *postResult {
	t := w.idx.bySection[dir]
	if w.reads != nil {
		w.reads.add(readSection, dir, facts(t))
	}
	return t
}

func (w *walker) assetOf(p string) (string, bool) {
	t, ok := w.idx.assetOf[p]
	w.reads.add(readAsset, p, strconv.FormatBool(ok)+"|"+t)
	return t, ok
}

func (w *walker) hasFile(p string) bool {
	ok := w.l.tree.has(p)
	w.reads.add(readFile, p, strconv.FormatBool(ok))
	return ok
}

func (w *walker) hasDir(p string) bool {
	ok := w.l.tree.hasDir(p)
	w.reads.add(readDir, p, strconv.FormatBool(ok))
	return ok
}

func (w *walker) linkedTarget(source string) string {
	w.reads.add(readPrefix, "", w.idx.prefix)
	return w.l.linkedTarget(source, w.idx)
}

// readFile reads a file of the repository for rendering a post (an
// included file, an image whose size goes into the page, a shortcode
// template) and records its content: the one way rendering reads bytes.
func (w *walker) readFile(name string) ([]byte, error) {
	b, err := fs.ReadFile(w.l.tree.fsys, name)
	if w.reads != nil {
		w.reads.add(readBytes, name, w.l.bytesAnswer(name, b, err))
	}
	return b, err
}

// cachedRender is the value of a RenderCache entry: every field of Post
// that render sets (TestCachedRenderRestoresPost fails on one it misses).
type cachedRender struct {
	Reads []cachedRead
	// HTMLSum and TextSum are the SHA-256 of the HTML and of the text,
	// kept apart under bodyKey, as are the text's words (Post.SearchWords,
	// under wordsKey(TextSum)); Images are the HTML's img sources.
	HTMLSum, TextSum    [32]byte
	Images              []string
	TOC, Summary, Image string
	Words, ReadingTime  int
	Math, Diagrams      bool
	Diags               []Diagnostic
	Linked              []cachedLinked
	Checks              []cachedCheck

	// keys are the body's cache keys once bodyCached has made them (not
	// stored: they are made from the sums)
	keys *bodyKeys
}

type cachedLinked struct {
	Source, Target, Dest string
	Line, Col            int
	Image                bool
}

type cachedCheck struct {
	Site, Dest, From, Redirect string
	Line, Col                  int
	Image, Cover               bool
}

// cacheBase is the part of every post's key that the whole build shares:
// everything of the configuration and the load options rendering uses.
func (l *loader) cacheBase(c *Config) [32]byte {
	h := sha256.New()
	cfg, _ := json.Marshal(c) // Config has only JSON-safe fields; Location and Set are left out
	loc := ""
	if c.Location != nil {
		loc = c.Location.String()
	}
	lim, _ := json.Marshal(l.limits)
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%q\x00%q\x00%s\x00", renderVersion, cfg, loc, l.configBase, l.siteHost, lim)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// cacheKey is the key of r's render: the build's part, and the post's
// source and the fields phase 1 and the index gave it that rendering reads.
func (l *loader) cacheKey(r *postResult) [32]byte { return l.cacheKeyClaimed(r, r.claimed) }

// cacheKeyClaimed is cacheKey with claimed for r.claimed.
func (l *loader) cacheKeyClaimed(r *postResult, claimed bool) [32]byte {
	p := r.post
	e := &encoder{b: make([]byte, 0, 128+len(r.file.path)+len(p.Address)+len(p.Summary))}
	if l.neutral(r) {
		e.b = append(e.b, l.cacheKeyBase[:]...)
	} else {
		e.b = append(e.b, l.cacheKeyBaseReal[:]...)
	}
	e.str(r.file.path)
	e.str(r.file.bundle)
	e.bool(r.file.page)
	e.bool(r.file.section)
	e.int(int(r.kind))
	e.bool(claimed)
	e.bool(r.hasError)
	e.str(p.Address)
	e.str(p.Section)
	e.str(p.Summary)
	e.bool(p.Draft)
	e.bool(p.Future)
	e.int(len(r.diags))
	e.str(r.sum) // the source's content (contentSum)
	return sha256.Sum256(e.b)
}

// templated reports a body with other generators' template syntax, which
// expandTemplates expands before Markdown. The template engine reads
// includes, shortcodes and other posts' addresses without going through
// the walker's lookups, so rendering such a post records readTemplating.
func templated(body []byte) bool {
	return bytes.Contains(body, []byte("{{")) || bytes.Contains(body, []byte("{%"))
}

// templatingAnswer is the answer to readTemplating in this build (see
// there): worked out once, after the index, by the first post that needs
// it. Files are named by contentSum: a git tree's are not read.
func (l *loader) templatingAnswer(idx *siteIndex) string {
	t := &l.tplRead
	t.once.Do(func() {
		// Every post's facts, on every core (the other posts wait for
		// this answer), then hashed in order as "%q=%s\n" lines.
		sources := slices.Sorted(maps.Keys(idx.bySource))
		_ = parallel(l.tree.ctx, len(sources), func(i int) { facts(idx.bySource[sources[i]]) })
		h := sha256.New()
		var line []byte
		for _, src := range sources {
			line = strconv.AppendQuote(line[:0], src)
			line = append(line, '=')
			line = append(line, facts(idx.bySource[src])...)
			h.Write(append(line, '\n'))
		}
		fmt.Fprintf(h, "hint=%q\n", l.generatorHint())
		shortcodes := "templates/shortcodes/"
		if l.tpl.tmplDir != nil {
			shortcodes = "\x00" // not in the content tree
			entries, _ := fs.ReadDir(l.tpl.tmplDir, "shortcodes")
			for _, e := range entries {
				b, err := fs.ReadFile(l.tpl.tmplDir, "shortcodes/"+e.Name())
				sum := sha256.Sum256(b)
				fmt.Fprintf(h, "shortcode %q %t %x\n", e.Name(), err == nil, sum)
			}
		}
		for _, p := range l.tree.order {
			if strings.HasPrefix(p, "_includes/") || strings.HasPrefix(p, shortcodes) {
				fmt.Fprintf(h, "%q=%q\n", p, l.contentSum(p, nil))
			}
		}
		for _, d := range l.tree.diags {
			// A link the listing does not follow, a folder's fs.FS may
			// (os.Root, within the folder): what reading it gives.
			if d.Code == CodeSymlink && (strings.HasPrefix(d.File, "_includes/") || strings.HasPrefix(d.File, shortcodes)) {
				b, err := fs.ReadFile(l.tree.fsys, d.File)
				fmt.Fprintf(h, "link %q=%q\n", d.File, l.bytesAnswer(d.File, b, err))
			}
		}
		t.answer = string(h.Sum(nil))
	})
	return t.answer
}

// renderCached is render through the cache: a cached result whose reads
// all answer as they did is applied; otherwise the post is rendered,
// recording its reads, and the result stored.
func (l *loader) renderCached(r *postResult, idx *siteIndex) {
	key := l.cacheKey(r)
	pre := r.cached
	r.cached = nil
	if pre == nil || pre.key != key {
		pre = l.readRender(key)
	}
	if c := pre.render; c != nil && l.stillValid(idx, c.Reads) {
		l.apply(r, c)
		return
	}
	if !l.loadSource(r) {
		return
	}
	before, checks, linked := len(r.diags), len(r.checks), len(r.linked)
	reads := &Reads{}
	if r.syntax {
		reads.add(readTemplating, "", l.templatingAnswer(idx))
	}
	neutral := l.neutral(r)
	if !neutral {
		if !l.renderWith(r, idx, reads, l.cfg.BasePath()) {
			return // a panic: not cached
		}
	} else {
		was, hadError := renderedOf(r.post), r.hasError
		if !l.renderWith(r, idx, reads, basePlaceholder) || !l.neutralHolds(r, reads, before, checks, linked) {
			// made again as it is published, and not cached (neutral.go)
			was.restore(r.post)
			r.hasError = hadError
			r.diags, r.checks, r.linked = r.diags[:before], r.checks[:checks], r.linked[:linked]
			l.renderWith(r, idx, nil, l.cfg.BasePath())
			return
		}
	}
	for _, d := range r.diags[before:] {
		if d.Code == CodeLiquid && strings.Contains(d.Message, "time is up") {
			return // the template engine ran out of time: another build may not
		}
	}
	p := r.post
	if p.body == nil {
		// render always gives a body; nothing to keep without one
		p.TOC, p.Image = l.rebaseIf(r, p.TOC), l.rebaseIf(r, p.Image)
		return
	}
	html, text := p.HTML(), p.Text()
	hk, tk, _ := p.body.sums()
	c := cachedRender{Reads: reads.list, HTMLSum: hk, TextSum: tk, Images: p.ImageSources(), TOC: p.TOC, Summary: p.Summary, Image: p.Image,
		Words: p.Words, ReadingTime: p.ReadingTime, Math: p.Math, Diagrams: p.Diagrams, Diags: r.diags[before:]}
	for _, lf := range r.linked[linked:] {
		c.Linked = append(c.Linked, cachedLinked{lf.source, lf.target, lf.dest, lf.line, lf.col, lf.image})
	}
	for _, ch := range r.checks[checks:] {
		c.Checks = append(c.Checks, cachedCheck{ch.site, ch.dest, ch.from, ch.redirect, ch.line, ch.col, ch.image, ch.cover})
	}
	// The body apart, under its content: a build that does not render the
	// post again reads only the rest (see postBody).
	l.cache.Put(bodyKey("html", hk), bodyValue(html))
	l.cache.Put(bodyKey("text", tk), bodyValue(text))
	l.cache.Put(wordsKey(tk), bodyValue(p.SearchWords()))
	l.cache.Put(key, encodeRender(&c))
	// From here on the post reads its body back from the cache, as a
	// cached render's does, rather than hold it for the rest of the build
	// (with the base path, when it was rendered without)
	l.useBody(r, newBodyKeys(hk, tk), c.Images)
	p.TOC, p.Image = l.rebaseIf(r, p.TOC), l.rebaseIf(r, p.Image)
}

// useBody gives r the body cached under the sums html and text, whose
// images are images: with the build's base path where a neutral render
// put the placeholder.
func (l *loader) useBody(r *postResult, keys *bodyKeys, images []string) {
	base := ""
	if l.neutral(r) {
		base = l.rebase
		for i, src := range images {
			images[i] = rebase(src, base)
		}
	}
	r.post.body = cachedBody(l.cache, keys, images, base)
}

// bodyKeys are the sums of a post's HTML and text and the RenderCache keys
// of the two and of the text's words: made once a post, as each is a
// SHA-256 (bodyCached asks the cache for them, the post reads them).
type bodyKeys struct {
	htmlSum, textSum  [32]byte
	html, text, words [32]byte
}

func newBodyKeys(htmlSum, textSum [32]byte) *bodyKeys {
	return &bodyKeys{htmlSum: htmlSum, textSum: textSum, html: bodyKey("html", htmlSum), text: bodyKey("text", textSum), words: wordsKey(textSum)}
}

// bodyKey is the RenderCache key of a post's HTML or text whose SHA-256 is
// sum.
func bodyKey(part string, sum [32]byte) [32]byte {
	// on the stack: three keys per post, 60,000 at 20,000 posts
	var buf [128]byte
	b := append(append(append(append(buf[:0], "post-"...), part...), 0), sum[:]...)
	return sha256.Sum256(b)
}

// wordsKey is the RenderCache key of the search words of a post's text
// whose SHA-256 is textSum. The words are made from the text by
// searchwords, so unlike the HTML and the text they are not named by
// their content alone: renderVersion, which changes with searchwords, is
// in the key.
func wordsKey(textSum [32]byte) [32]byte {
	return bodyKey("words\x00"+renderVersion, textSum)
}

// cacheHas is what a RenderCache that can say whether it holds a key
// without reading it implements (buildcache.Cache does): a cached render
// whose body is no longer in the cache is then rendered again rather than
// failing when the body is read.
type cacheHas interface{ Has(key [32]byte) bool }

// prefetched is a render read from the cache under key: nil when there
// is none, or it does not decode, or its body is not cached.
type prefetched struct {
	key    [32]byte
	render *cachedRender
}

// readRender reads the render cached under key.
func (l *loader) readRender(key [32]byte) *prefetched {
	data, _ := l.cache.Get(key)
	return l.decodePrefetched(key, data)
}

// decodePrefetched is the render cached under key whose value is data
// (nil: none).
func (l *loader) decodePrefetched(key [32]byte, data []byte) *prefetched {
	pre := &prefetched{key: key}
	if data != nil {
		if c, err := decodeRender(data); err == nil && l.bodyCached(c) {
			pre.render = c
		}
	}
	return pre
}

// prefetchRenders starts reading, on one goroutine, the cached render of
// each post of results that renders, under the key it has once the index
// claims its address (most posts' do), and returns the function that
// reads what is left alongside it (the index, on the caller's core, is
// done by then: at 20,000 posts the reads outlast it by a third), then
// hands each post its render. The keys are made before it returns: the
// goroutine reads nothing of results, which the index changes meanwhile.
// renderCached checks the key again.
func (l *loader) prefetchRenders(ctx context.Context, results []*postResult) (wait func()) {
	if l.cache == nil {
		return func() {}
	}
	var todo []int
	for i, r := range results {
		if r.post != nil && r.renders() {
			todo = append(todo, i)
		}
	}
	keys := make([][32]byte, len(todo))
	_ = parallel(ctx, len(todo), func(j int) { keys[j] = l.cacheKeyClaimed(results[todo[j]], true) })
	got := make([]*prefetched, len(todo))
	// With a cache that reads many values at once, every value is read
	// first, in a few reads (fetched), then decoded by either reader;
	// otherwise each reader reads and decodes one key at a time.
	fetch := func(j int) *prefetched { return l.readRender(keys[j]) }
	fetched := make(chan struct{})
	many, batch := l.cache.(cacheMany)
	var raw [][]byte
	if batch {
		raw = make([][]byte, len(keys))
		fetch = func(j int) *prefetched {
			pre := l.decodePrefetched(keys[j], raw[j])
			raw[j] = nil
			return pre
		}
	} else {
		close(fetched)
	}
	var next atomic.Int64 // the next key to read, for either reader
	read := func() {
		for ctx.Err() == nil {
			j := int(next.Add(1) - 1)
			if j >= len(keys) {
				return
			}
			got[j] = fetch(j)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if batch {
			// a copy: the render's strings share it (decodeRender)
			many.GetMany(keys, func(j int, v []byte) { raw[j] = bytes.Clone(v) })
			close(fetched)
		}
		read()
	}()
	return func() {
		<-fetched
		read()
		<-done
		for j, i := range todo {
			results[i].cached = got[j]
		}
	}
}

// bodyCached says whether the cache still holds c's body, when it can
// tell (else it assumes so; a body that turns out missing is Post.BodyErr).
// It gives c its body's keys, which apply uses.
func (l *loader) bodyCached(c *cachedRender) bool {
	c.keys = newBodyKeys(c.HTMLSum, c.TextSum)
	h, ok := l.cache.(cacheHas)
	return !ok || h.Has(c.keys.html) && h.Has(c.keys.text) && h.Has(c.keys.words)
}

func (l *loader) stillValid(idx *siteIndex, reads []cachedRead) bool {
	for _, rd := range reads {
		if l.answer(idx, rd.Kind, rd.Arg) != rd.Answer {
			return false
		}
	}
	return true
}

// apply gives r what rendering it made before, as render would have.
func (l *loader) apply(r *postResult, c *cachedRender) {
	p := r.post
	// c's strings share the record's bytes (decodeRender): what the post
	// keeps is copied, so that the record is not kept whole for the build
	p.TOC, p.Summary, p.Image = strings.Clone(l.rebaseIf(r, c.TOC)), strings.Clone(c.Summary), strings.Clone(l.rebaseIf(r, c.Image))
	p.Words, p.ReadingTime = c.Words, c.ReadingTime
	var images []string // nil for none, as a render gives
	for _, src := range c.Images {
		images = append(images, strings.Clone(src))
	}
	keys := c.keys
	if keys == nil {
		keys = newBodyKeys(c.HTMLSum, c.TextSum)
	}
	l.useBody(r, keys, images)
	p.Math, p.Diagrams = p.Math || c.Math, p.Diagrams || c.Diagrams
	for _, d := range c.Diags {
		if d.Severity == SeverityError {
			r.hasError = true
		}
		d.File, d.Severity, d.Code, d.Message = strings.Clone(d.File), Severity(strings.Clone(string(d.Severity))), strings.Clone(d.Code), strings.Clone(d.Message)
		r.diags = append(r.diags, d)
	}
	for _, lf := range c.Linked {
		r.linked = append(r.linked, linkedFile{source: strings.Clone(lf.Source), target: strings.Clone(lf.Target), dest: strings.Clone(lf.Dest), line: lf.Line, col: lf.Col, image: lf.Image})
	}
	for _, ch := range c.Checks {
		r.checks = append(r.checks, linkCheck{site: strings.Clone(ch.Site), dest: strings.Clone(ch.Dest), from: strings.Clone(ch.From), redirect: strings.Clone(ch.Redirect), line: ch.Line, col: ch.Col, image: ch.Image, cover: ch.Cover})
	}
}
