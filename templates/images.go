package templates

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"html/template"
	"net/url"
	"path"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	xhtml "golang.org/x/net/html"

	"github.com/publishbot/publishbot/imagery"
	"github.com/publishbot/publishbot/posts"
)

// ImageProcessor reads, cleans and resizes one image; *imagery.Processor
// is the one publishbot uses (with its cache). The renderer calls it
// concurrently, once per raster image the site publishes. id names the
// image's content when the content tree can say it without reading (a git
// blob id, posts.ContentIDs), else "": with an id a cached result is found
// without hashing the bytes.
type ImageProcessor interface {
	ProcessContent(ctx context.Context, id string, data []byte, o imagery.Options) (*imagery.Result, error)
}

// columnSizes is the sizes attribute of every responsive image: the width
// of the theme's text column (style.css: .wrap is at most 42rem wide with
// 1.25rem of padding each side, border-box), which covers and body images
// fill at most.
const columnSizes = "(min-width: 42rem) 39.5rem, calc(100vw - 2.5rem)"

// rasterExt are the extensions of the files treated as images.
var rasterExt = map[string]bool{".jpg": true, ".jpeg": true, ".png": true, ".gif": true, ".webp": true}

// isRaster says whether a site path names a raster image to treat.
func isRaster(p string) bool { return rasterExt[strings.ToLower(path.Ext(p))] }

// pendingImage is a raster asset waiting for the image pass.
type pendingImage struct {
	asset posts.Asset
	id    string // content id of the source, "" when the tree gives none
	data  []byte
}

// imageEntry is a published image as pages refer to it.
type imageEntry struct {
	width, height int
	srcset        string // "" without variants
	webpSrcset    string // "" without any WebP variant
}

// processImages treats the raster assets: in parallel (the work is CPU
// bound), written in the order of pending so the output does not depend
// on scheduling. Problems of an image are warnings of its file; only ctx
// ending is an error.
func (b *build) processImages(pending []pendingImage) error {
	if len(pending) == 0 {
		return nil
	}
	proc := b.opts.Images
	if proc == nil {
		proc = imagery.New(nil)
	}
	o := imagery.Options{Resize: b.cfg.Images.Resize, KeepMetadata: b.cfg.Images.KeepMetadata}
	results := make([]*imagery.Result, len(pending))
	errs := make([]error, len(pending))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(pending)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(pending) {
					return
				}
				results[i], errs[i] = proc.ProcessContent(b.ctx, pending[i].id, pending[i].data, o)
			}
		})
	}
	wg.Wait()
	if b.imgs == nil {
		b.imgs = map[string]*imageEntry{}
	}
	for i, p := range pending {
		if errs[i] != nil {
			return fmt.Errorf("image %s: %w", p.asset.Source, errs[i])
		}
		if results[i].Data != nil {
			b.add(p.asset.Target, results[i].Data)
		}
	}
	// Variants only once every original is written: a variant never takes
	// the place of a file of the site.
	for i, p := range pending {
		b.addImage(p.asset, results[i])
	}
	return nil
}

// addImage writes one treated image and its variants, and remembers how
// pages refer to it.
func (b *build) addImage(a posts.Asset, r *imagery.Result) {
	warn := func(code, format string, args ...any) {
		b.diags = append(b.diags, posts.Diagnostic{File: a.Source, Severity: posts.SeverityWarning, Code: code, Message: fmt.Sprintf(format, args...)})
	}
	switch r.Problem {
	case imagery.ProblemBomb:
		warn(posts.CodeImageBomb, "the image claims %d×%d pixels in %d bytes, a decompression bomb: it is not published", r.Width, r.Height, a.Size)
		return
	case imagery.ProblemTooLarge:
		warn(posts.CodeImageTooLarge, "the image has %.0f megapixels, over the limit of %d: it is published as it is, without smaller sizes", float64(r.Width)*float64(r.Height)/1e6, imagery.DefaultMaxPixels/1_000_000)
	case imagery.ProblemUnknown:
		warn(posts.CodeImageUnreadable, "publishbot cannot read this image: it is published as it is, without size or smaller sizes")
	case imagery.ProblemMalformed:
		warn(posts.CodeImageUnreadable, "publishbot cannot read all of this image: it is published as it is, without smaller sizes (and with its metadata)")
	}
	if r.Location {
		if b.cfg.Images.KeepMetadata {
			warn(posts.CodeImageLocation, "the image carries a GPS location, published with it (images: keep_metadata is true)")
		} else if r.Problem != imagery.ProblemMalformed {
			warn(posts.CodeImageLocation, "the image carried a GPS location: it is removed from the published image (check the other copies you share)")
		}
	}
	if r.Data == nil {
		return
	}
	e := &imageEntry{width: r.Width, height: r.Height}
	b.imgs[a.Target] = e
	if len(r.Variants) < 2 {
		return
	}
	stem := strings.TrimSuffix(a.Target, path.Ext(a.Target))
	ext := path.Ext(a.Target)
	var plain, webp []string
	last := len(r.Variants) - 1
	for i, v := range r.Variants {
		name := a.Target
		if i < last {
			if name = b.addVariant(fmt.Sprintf("%s-%dw-", stem, v.Width), ext, v.Data); name == "" {
				continue
			}
		}
		w := " " + strconv.Itoa(v.Width) + "w"
		plain = append(plain, srcsetURL(b.pathURL(name))+w)
		suffix := fmt.Sprintf("-%dw-", v.Width)
		if i == last {
			suffix = "-"
		}
		if v.WebP != nil {
			if wn := b.addVariant(stem+suffix, ".webp", v.WebP); wn != "" {
				webp = append(webp, srcsetURL(b.pathURL(wn))+w)
				continue
			}
		}
		webp = append(webp, plain[len(plain)-1])
	}
	if len(plain) < 2 {
		return
	}
	e.srcset = strings.Join(plain, ", ")
	if w := strings.Join(webp, ", "); w != e.srcset {
		e.webpSrcset = w
	}
}

// addVariant writes data at prefix + a short hash of data + ext, the name
// changing with the bytes (caches never serve an old variant) and only
// with them. It never replaces another file: it returns "" when a
// different file of the site has that name.
func (b *build) addVariant(prefix, ext string, data []byte) string {
	sum := sha256.Sum256(data)
	name := prefix + hex.EncodeToString(sum[:4]) + ext
	if old, taken := b.out[name]; taken {
		if !bytes.Equal(old, data) {
			return ""
		}
		return name
	}
	b.add(name, data)
	return name
}

// srcsetURL keeps a URL whole in a srcset, where a comma could end it.
func srcsetURL(u string) string { return strings.ReplaceAll(u, ",", "%2C") }

// imageAt is the published image a src attribute refers to from the page
// at the site path page ("posts/x/", "about.html"), or nil.
func (b *build) imageAt(src, page string) *imageEntry {
	if len(b.imgs) == 0 || src == "" {
		return nil
	}
	u, err := url.Parse(src)
	if err != nil || u.Opaque != "" {
		return nil
	}
	if u.Scheme != "" || u.Host != "" {
		if b.host == "" || !strings.EqualFold(u.Scheme+"://"+u.Host, b.host) {
			return nil
		}
	}
	p := u.Path
	switch {
	case strings.HasPrefix(p, "/"):
		if !strings.HasPrefix(p, b.base) {
			return nil
		}
		p = strings.TrimPrefix(p, b.base)
	default:
		dir := page
		if !strings.HasSuffix(dir, "/") {
			dir = path.Dir(dir)
		}
		p = path.Join(dir, p)
	}
	return b.imgs[strings.TrimPrefix(p, "/")]
}

// coverHTML is the cover image of a post or page: with its size and
// srcset when it is a published image, and fetched first (it is what the
// reader sees first: the largest paint).
func (b *build) coverHTML(src, alt, page string) template.HTML {
	if src == "" {
		return ""
	}
	attrs := []xhtml.Attribute{{Key: "src", Val: src}, {Key: "alt", Val: alt}}
	return template.HTML(imgHTML(attrs, b.imageAt(src, page), true))
}

// imgHTML writes an img element with attrs, completed with what e knows
// (width, height, srcset and sizes, unless attrs already say), loading
// lazily unless first (then fetched with high priority), in a picture with
// a WebP source when e has one.
func imgHTML(attrs []xhtml.Attribute, e *imageEntry, first bool) string {
	has := map[string]bool{}
	var s strings.Builder
	s.WriteString("<img")
	decoding := false
	for _, a := range attrs {
		switch a.Key {
		case "loading", "fetchpriority":
			continue
		case "decoding":
			decoding = true
			continue
		}
		has[a.Key] = true
		writeAttr(&s, a.Key, a.Val)
	}
	if e != nil && e.width > 0 && !has["width"] && !has["height"] {
		writeAttr(&s, "width", strconv.Itoa(e.width))
		writeAttr(&s, "height", strconv.Itoa(e.height))
	}
	picture := false
	if e != nil && e.srcset != "" && !has["srcset"] {
		writeAttr(&s, "srcset", e.srcset)
		writeAttr(&s, "sizes", columnSizes)
		picture = e.webpSrcset != ""
	}
	if first {
		writeAttr(&s, "fetchpriority", "high")
	} else {
		writeAttr(&s, "loading", "lazy")
	}
	if decoding {
		writeAttr(&s, "decoding", "async")
	}
	s.WriteString(">")
	if !picture {
		return s.String()
	}
	return `<picture><source type="image/webp" srcset="` + html.EscapeString(e.webpSrcset) + `" sizes="` + columnSizes + `">` + s.String() + "</picture>"
}

func writeAttr(s *strings.Builder, k, v string) {
	s.WriteString(" ")
	s.WriteString(k)
	s.WriteString(`="`)
	s.WriteString(html.EscapeString(v))
	s.WriteString(`"`)
}

// responsiveBody rewrites the img elements of a rendered body (Markdown
// images and kept raw HTML alike): size and srcset for published images,
// lazy loading for all but the first, which loads first when the page
// has no cover. Everything else is copied byte for byte; a body without
// images is returned as it is.
func (b *build) responsiveBody(body template.HTML, page string, cover bool) template.HTML {
	if !strings.Contains(string(body), "<img") {
		return body
	}
	z := xhtml.NewTokenizer(strings.NewReader(string(body)))
	var out strings.Builder
	out.Grow(len(body) + 512)
	first := !cover
	inPicture := 0
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break
		}
		raw := string(z.Raw()) // before Token, which lower-cases the buffer
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken && tt != xhtml.EndTagToken {
			out.WriteString(raw)
			continue
		}
		tok := z.Token()
		switch {
		case tok.Data == "picture" && tt == xhtml.StartTagToken:
			inPicture++
		case tok.Data == "picture" && tt == xhtml.EndTagToken:
			inPicture = max(0, inPicture-1)
		case tok.Data == "img" && tt != xhtml.EndTagToken:
			var src string
			for _, a := range tok.Attr {
				if a.Key == "src" {
					src = a.Val
				}
			}
			e := b.imageAt(src, page)
			if inPicture > 0 && e != nil { // the author's own sources: size only
				e = &imageEntry{width: e.width, height: e.height}
			}
			out.WriteString(imgHTML(tok.Attr, e, first))
			first = false
			continue
		}
		out.WriteString(raw)
	}
	// the tokenizer's output of posts' sanitised HTML, with attributes we
	// escaped ourselves
	return template.HTML(out.String())
}

// responsiveImages completes the bodies and covers of the posts and pages
// shown, once the images are treated.
func (b *build) responsiveImages() {
	for _, d := range b.posts {
		page := address(d.Post)
		d.Cover = b.coverHTML(d.Image, d.ImageAlt, page)
		d.body = b.postBody(d.Post, page, d.Image != "")
	}
	for _, d := range b.pages {
		page := addressPath(d.Page.Address)
		d.Cover = b.coverHTML(d.Image, d.ImageAlt, page)
		d.Body = b.responsiveBody(d.Body, page, d.Image != "")
	}
}
