package posts

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	xhtml "golang.org/x/net/html"
)

// postBody is a post's rendered HTML and plain text. A post rendered in
// this build holds them; a post whose render came from the RenderCache
// holds only their digests and reads them from the cache the first time
// something asks (a page that is rendered again, a feed): a build that
// renders ten pages of a blog of thousands does not read, decode or keep
// the bodies of the others.
type postBody struct {
	digest [32]byte // SHA-256 of the HTML's and the text's own SHA-256s
	images []string // the src of every <img> of the HTML, in order

	htmlKey, textKey [32]byte    // their RenderCache keys, when lazy
	cache            RenderCache // nil: html and text are set

	htmlOnce, textOnce sync.Once
	html, text         string
	mu                 sync.Mutex
	err                error // the first failed read
}

func newBody(html, text string) *postBody {
	hk, tk := sha256.Sum256([]byte(html)), sha256.Sum256([]byte(text))
	b := &postBody{html: html, text: text, images: imageSources(html)}
	b.digest = bodyDigest(hk, tk)
	b.htmlOnce.Do(func() {})
	b.textOnce.Do(func() {})
	return b
}

func bodyDigest(htmlKey, textKey [32]byte) [32]byte {
	return sha256.Sum256(append(htmlKey[:], textKey[:]...))
}

// load reads one part from the cache; a miss or a value that does not
// decode is remembered as the body's error and reads as "".
func (b *postBody) load(key [32]byte, what string) string {
	v, ok := b.cache.Get(key)
	if ok && len(v) > 0 && v[0] == codecVersion {
		if len(v) == 1 {
			return ""
		}
		// the cache's value never changes: share it (see RenderCache)
		return unsafe.String(&v[1], len(v)-1)
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
func (b *postBody) KeyDigest() [32]byte { return b.digest }

// bodyValue is the cache value of a body part: the codec version and the
// bytes.
func bodyValue(s string) []byte {
	v := make([]byte, 0, len(s)+1)
	v = append(v, codecVersion)
	return append(v, s...)
}

// HTML is the rendered, sanitised body: links to bundle files stay
// relative to the post's page, all others are absolute paths under the
// base path. A body the build did not render is read from the build cache
// on the first call; if that fails, HTML is "" and BodyErr says why.
func (p *Post) HTML() string {
	b := p.body
	if b == nil {
		return ""
	}
	b.htmlOnce.Do(func() { b.html = b.load(b.htmlKey, "HTML") })
	return b.html
}

// Text is the plain text of the body (without code blocks and
// footnotes), for the site's search index; read as HTML is.
func (p *Post) Text() string {
	b := p.body
	if b == nil {
		return ""
	}
	b.textOnce.Do(func() { b.text = b.load(b.textKey, "text") })
	return b.text
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
	return p.body.digest
}

var emptyBody = newBody("", "").digest

// ImageSources are the src attributes of the <img> elements of HTML, in
// order, known without reading it: what a renderer that rewrites the
// images of the body looks up.
func (p *Post) ImageSources() []string {
	if p.body == nil {
		return nil
	}
	return p.body.images
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
