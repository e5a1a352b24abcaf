package templates

import (
	"crypto/sha256"
	"html/template"
	"sync"

	"github.com/publishbot/publishbot/posts"
)

// lazyBody is a post's body as its page shows it (posts' HTML with the
// images made responsive), made the first time a template asks for it. A
// render that keeps most pages as they were makes only the bodies of the
// pages it renders, and reads no other post's HTML from the build cache
// (see posts.Post.HTML); one that renders every page forgets each post's
// body once its page is made (forget), rather than hold every post's
// until the render ends. Its input key is known before: the post's body
// digest and everything the image rewriting looks up.
type lazyBody struct {
	key  [32]byte
	mu   sync.Mutex
	made bool
	html template.HTML
	make func() template.HTML // nil: an eager body, html
}

// KeyDigest is what input keys hash for the body (keyDigester).
func (l *lazyBody) KeyDigest() [32]byte { return l.key }

func (l *lazyBody) get() template.HTML {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.made && l.make != nil {
		l.html, l.made = l.make(), true
	}
	return l.html
}

// forget drops a made body: the next get makes it again.
func (l *lazyBody) forget() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.make != nil {
		l.html, l.made = "", false
	}
}

// eagerBody is a body that is already made.
func eagerBody(html template.HTML) *lazyBody {
	return &lazyBody{key: sha256.Sum256([]byte("eager\x00" + html)), html: html}
}

// Body is the post's body as trusted HTML: posts.Post.HTML, rendered and
// sanitised by posts.Load, with width, height, srcset and loading on its
// images.
func (d *PostData) Body() template.HTML {
	if d.body == nil {
		if d.Post == nil {
			return ""
		}
		return template.HTML(d.Post.HTML()) // rendered and sanitised by posts.Load
	}
	return d.body.get()
}

// postBody is the lazy body of post p shown at page (cover: the page shows
// a cover image first). Its key covers the post's body and, for each of
// its images, what imageAt finds: all responsiveBody reads.
func (b *build) postBody(p *posts.Post, page string, cover bool) *lazyBody {
	l := &lazyBody{make: func() template.HTML {
		return b.responsiveBody(template.HTML(p.HTML()), page, cover) // rendered and sanitised by posts.Load
	}}
	if b.keyer == nil {
		return l // no input keys in this build: nothing reads l.key
	}
	h := sha256.New()
	dg := p.BodyDigest()
	h.Write([]byte("body\x00"))
	h.Write(dg[:])
	hashString(h, page)
	if cover {
		h.Write([]byte{1})
	} else {
		h.Write([]byte{0})
	}
	for _, src := range p.ImageSources() {
		e := b.imageAt(src, page)
		if e == nil {
			h.Write([]byte{0})
			continue
		}
		h.Write([]byte{1})
		hashUint(h, uint64(e.width))
		hashUint(h, uint64(e.height))
		hashString(h, e.srcset)
		hashString(h, e.webpSrcset)
	}
	h.Sum(l.key[:0])
	return l
}
