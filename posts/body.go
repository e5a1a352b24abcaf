package posts

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	xhtml "golang.org/x/net/html"

	"github.com/publishbot/publishbot/internal/searchwords"
)

// postBody is a post's rendered HTML and plain text. Without a
// RenderCache a post holds them. With one, a post holds only their
// digests and reads them from the cache every time something asks (its
// page, a feed), keeping none: a build that renders ten pages of a blog
// of thousands does not read, decode or keep the bodies of the others,
// and a build that renders them all (a first publish) holds each body
// only while its page is made, not every post's until the end (a third
// of the memory of a first publish of 20,000 posts). A post rendered in
// this build is read back from what it Put (see RenderCache).
type postBody struct {
	// Known from the cached render, or worked out from html and text on
	// first use: a build that asks for no input keys and no cache never
	// hashes or tokenizes a body.
	sumsOnce, imagesOnce     sync.Once
	htmlSum, textSum, digest [32]byte // SHA-256s of html and text; of both sums
	images                   []string // the src of every <img> of the HTML, in order

	htmlKey, textKey [32]byte    // their RenderCache keys, when lazy
	cache            RenderCache // nil: html and text are set; else they are read at each use
	// rebase is the base path the cached HTML is given where it has
	// basePlaceholder (neutral.go); "": none. It is in the digest.
	rebase string
	// wordsKey is the RenderCache key of the words of a cached render's
	// text, read on every call of SearchWords and not kept: a build reads
	// them once, for the search index, and keeping every post's words
	// would keep them all in memory for the whole build
	wordsKey  [32]byte
	wordsLazy bool

	wordsOnce  sync.Once
	html, text string // without a cache
	words      string // searchwords.Unique(text)
	wordsKnown atomic.Bool
	mu         sync.Mutex
	err        error // the first failed read
}

func newBody(html, text string) *postBody { return &postBody{html: html, text: text} }

// cachedBody is the body of a cached render: its sums and image sources
// are known, html and text are read from cache at each use.
func cachedBody(cache RenderCache, keys *bodyKeys, images []string, rebase string) *postBody {
	digest := bodyDigest(keys.htmlSum, keys.textSum)
	if rebase != "" {
		digest = sha256.Sum256(append(append(digest[:], "\x00rebase\x00"...), rebase...))
	}
	b := &postBody{htmlSum: keys.htmlSum, textSum: keys.textSum, digest: digest, images: images,
		htmlKey: keys.html, textKey: keys.text, cache: cache,
		wordsKey: keys.words, wordsLazy: true, rebase: rebase}
	b.sumsOnce.Do(func() {})
	b.imagesOnce.Do(func() {})
	return b
}

// get reads one body value (bodyValue) from the cache; ok is false for a
// miss or a value that does not decode (cached words that are gone are
// then folded from the text again).
func (b *postBody) get(key [32]byte) (string, bool) {
	v, ok := b.cache.Get(key)
	if !ok || len(v) == 0 || v[0] != codecVersion {
		return "", false
	}
	if len(v) == 1 {
		return "", true
	}
	// the cache's value never changes: share it (see RenderCache)
	return unsafe.String(&v[1], len(v)-1), true
}

// sums are the SHA-256 of the HTML and of the text, and the body's digest.
func (b *postBody) sums() (html, text, digest [32]byte) {
	b.sumsOnce.Do(func() {
		b.htmlSum, b.textSum = sha256.Sum256([]byte(b.html)), sha256.Sum256([]byte(b.text))
		b.digest = bodyDigest(b.htmlSum, b.textSum)
	})
	return b.htmlSum, b.textSum, b.digest
}

func (b *postBody) imageList() []string {
	b.imagesOnce.Do(func() { b.images = imageSources(b.html) })
	return b.images
}

func bodyDigest(htmlKey, textKey [32]byte) [32]byte {
	var b [64]byte
	copy(b[:32], htmlKey[:])
	copy(b[32:], textKey[:])
	return sha256.Sum256(b[:])
}

// load reads one part from the cache; a miss or a value that does not
// decode is remembered as the body's error and reads as "".
func (b *postBody) load(key [32]byte, what string) string {
	if s, ok := b.get(key); ok {
		return s
	}
	b.mu.Lock()
	if b.err == nil {
		b.err = fmt.Errorf("read the cached %s of a post: not in the build cache any more", what)
	}
	b.mu.Unlock()
	return ""
}

// KeyDigest is the body's digest: what templates' input keys hash for it
// (see templates.keyDigester) instead of reading it.
func (b *postBody) KeyDigest() [32]byte {
	_, _, d := b.sums()
	return d
}

// bodyValue is the cache value of a body part: the codec version and the
// bytes.
func bodyValue(s string) []byte {
	v := make([]byte, 0, len(s)+1)
	v = append(v, codecVersion)
	return append(v, s...)
}

// HTML is the rendered, sanitised body: links to bundle files stay
// relative to the post's page, all others are absolute paths under the
// base path. With a build cache it is read from the cache at every call
// (a caller that needs it twice keeps it); if that fails, HTML is "" and
// BodyErr says why.
func (p *Post) HTML() string {
	b := p.body
	switch {
	case b == nil:
		return ""
	case b.cache != nil:
		return rebase(b.load(b.htmlKey, "HTML"), b.rebase)
	}
	return b.html
}

// Text is the plain text of the body (without code blocks and
// footnotes), for the site's search index; read as HTML is.
func (p *Post) Text() string {
	b := p.body
	switch {
	case b == nil:
		return ""
	case b.cache != nil:
		return b.load(b.textKey, "text")
	}
	return b.text
}

// SearchWords are the words of Text for the site's search index, each
// once, as searchwords.Unique gives them; known without reading Text
// when the render came from the build cache.
func (p *Post) SearchWords() string {
	b := p.body
	if b == nil {
		return ""
	}
	if b.wordsLazy {
		if w, ok := b.get(b.wordsKey); ok {
			return w
		}
	}
	b.wordsOnce.Do(func() {
		b.words = searchwords.Unique(p.Text())
		b.wordsKnown.Store(true)
	})
	return b.words
}

// KnownSearchWords are SearchWords when they are known without folding
// Text (a cached render, or asked for before); ok is false otherwise,
// and a caller that goes through the words once anyway does better to
// fold Text itself than to have them listed first.
func (p *Post) KnownSearchWords() (words string, ok bool) {
	b := p.body
	if b == nil {
		return "", true
	}
	if b.wordsLazy {
		if w, ok := b.get(b.wordsKey); ok {
			return w, true
		}
	}
	if !b.wordsKnown.Load() {
		return "", false
	}
	return p.SearchWords(), true
}

// SetBody gives the post its HTML and text.
func (p *Post) SetBody(html, text string) { p.body = newBody(html, text) }

// BodyDigest identifies the post's HTML and text without reading them:
// two posts (or two builds of one) with the same digest have the same
// body. The zero digest is an empty body's.
func (p *Post) BodyDigest() [32]byte {
	if p.body == nil {
		return emptyBody
	}
	return p.body.KeyDigest()
}

var emptyBody = newBody("", "").KeyDigest()

// ImageSources are the src attributes of the <img> elements of HTML, in
// order, known without reading it: what a renderer that rewrites the
// images of the body looks up.
func (p *Post) ImageSources() []string {
	if p.body == nil {
		return nil
	}
	return p.body.imageList()
}

// BodyErr is the error of a failed read of the post's HTML or text from
// the build cache (a pack removed or damaged since Load): nil when none
// failed. A renderer checks it once the pages are made, so that a body
// that could not be read fails the build instead of going out empty.
func (p *Post) BodyErr() error {
	b := p.body
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return fmt.Errorf("post %s: %w", p.Path, b.err)
	}
	return nil
}

// imageSources lists the src of every img start tag of html as the HTML
// tokenizer reads them: the way templates' responsiveBody finds them.
func imageSources(html string) []string {
	if !strings.Contains(html, "<img") {
		return nil
	}
	var out []string
	z := xhtml.NewTokenizer(strings.NewReader(html))
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			return out
		}
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
			continue
		}
		name, more := z.TagName()
		if string(name) != "img" {
			continue
		}
		src := ""
		for more {
			var k, v []byte
			k, v, more = z.TagAttr()
			if string(k) == "src" {
				src = string(v)
			}
		}
		out = append(out, src)
	}
}
