package templates

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"strconv"
	"strings"

	xhtml "golang.org/x/net/html"

	"github.com/publishbot/publishbot/imagery"
	"github.com/publishbot/publishbot/posts"
)

// ImageProcessor reads, cleans and resizes images; *imagery.Processor is
// the one publishbot uses (with its cache). The renderer calls Image and
// Load concurrently, once per raster image the site publishes, then Flush
// once. id names the image's content when the content tree can say it
// without reading (a git blob id, posts.ContentIDs), else "": with an id
// a cached image is described without reading it, and the renderer
// fetches the bytes (Load) only of the files it writes, those not kept
// from the previous render (Options.Previous).
type ImageProcessor interface {
	Image(ctx context.Context, id string, read func() ([]byte, error), o imagery.Options) (*imagery.Image, error)
	Load(ctx context.Context, img *imagery.Image, files ...*imagery.File) (*imagery.Image, error)
	Flush()
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
	img   *imagery.Image
}

// imageEntry is a published image as pages refer to it.
type imageEntry struct {
	width, height int
	srcset        string // "" without variants
	webpSrcset    string // "" without any WebP variant
}

// imagePass is the state of processImages.
type imagePass struct {
	b       *build
	content fs.FS
	// keptAssets are the assets kept from the previous render, which b.out
	// holds without bytes, by site path: their source files.
	keptAssets map[string]string
	sums       map[string][32]byte // the image files written so far, by site path
}

// processImages treats the raster assets: in parallel (the work is CPU
// bound), written in the order of pending so the output does not depend
// on scheduling. An image's files are named and keyed by the SHA-256 of
// their bytes, which the processor knows without them, so a file kept
// from the previous render costs no read of the image nor of the file.
// Problems of an image are warnings of its file; a source that cannot be
// read and ctx ending are errors.
func (b *build) processImages(content fs.FS, pending []pendingImage, keptAssets map[string]string) error {
	if len(pending) == 0 {
		return nil
	}
	proc := b.opts.Images
	if proc == nil {
		proc = imagery.New(nil)
	}
	o := imagery.Options{Resize: b.cfg.Images.Resize, KeepMetadata: b.cfg.Images.KeepMetadata}
	errs := make([]error, len(pending))
	parallel(len(pending), func(i int) {
		p := &pending[i]
		read := func() ([]byte, error) { return fs.ReadFile(content, p.asset.Source) }
		img, err := proc.Image(b.ctx, p.id, read, o)
		if err == nil {
			var write []*imagery.File
			for _, f := range imageFiles(p.asset.Target, img) {
				if !b.keep(f.path, imageKey(f.file.Sum)) {
					write = append(write, f.file)
				}
			}
			img, err = proc.Load(b.ctx, img, write...)
		}
		p.img, errs[i] = img, err
	})
	proc.Flush()
	for i, p := range pending {
		if errs[i] != nil {
			return fmt.Errorf("image %s: %w", p.asset.Source, errs[i])
		}
	}
	if b.imgs == nil {
		b.imgs = map[string]*imageEntry{}
	}
	ip := &imagePass{b: b, content: content, keptAssets: keptAssets, sums: map[string][32]byte{}}
	for _, p := range pending {
		if p.img.Data != nil {
			if err := ip.add(p.asset.Target, p.img.Data); err != nil {
				return err
			}
		}
	}
	// Variants only once every original is written: a variant never takes
	// the place of a file of the site.
	for _, p := range pending {
		if err := ip.addImage(p.asset, p.img); err != nil {
			return err
		}
	}
	return nil
}

// keep says whether the file at sitePath with key k is kept from the
// previous render (Options.Previous): it is then not written again.
func (b *build) keep(sitePath string, k Key) bool {
	return b.keyer != nil && b.unchanged(sitePath, k)
}

// imageFile is a file of an image and the site path it takes.
type imageFile struct {
	path string
	file *imagery.File
}

// imageFiles are the files of img, published at target: the original, and
// when it has variants each variant's and WebP variant's, at the names
// addImage gives them.
func imageFiles(target string, img *imagery.Image) []imageFile {
	var out []imageFile
	if img.Data == nil {
		return nil
	}
	out = append(out, imageFile{target, img.Data})
	if len(img.Variants) < 2 {
		return out
	}
	last := len(img.Variants) - 1
	for i, v := range img.Variants {
		if i < last {
			out = append(out, imageFile{variantName(target, v.Width, false, false, v.Data), v.Data})
		}
		if v.WebP != nil {
			out = append(out, imageFile{variantName(target, v.Width, i == last, true, v.WebP), v.WebP})
		}
	}
	return out
}

// variantName is where a variant of the image at target goes: the
// image's name, the width (but for a WebP of the original's size), a
// short hash of the file's bytes, so that the name changes with the bytes
// (caches never serve an old variant) and only with them, and the
// extension of its format: "photo-480w-1a2b3c4d.jpg", "photo-1a2b3c4d.webp".
func variantName(target string, width int, original, webp bool, f *imagery.File) string {
	ext := path.Ext(target)
	stem := strings.TrimSuffix(target, ext)
	suffix := "-" + strconv.Itoa(width) + "w-"
	if original {
		suffix = "-"
	}
	if webp {
		ext = ".webp"
	}
	return stem + suffix + hex.EncodeToString(f.Sum[:4]) + ext
}

// add writes the image file f at sitePath, keyed by its bytes' hash, or
// keeps it from the previous render.
func (ip *imagePass) add(sitePath string, f *imagery.File) error {
	b := ip.b
	ip.sums[sitePath] = f.Sum
	k := imageKey(f.Sum)
	if b.keep(sitePath, k) {
		b.addKeyed(sitePath, nil, k, true, true)
		return nil
	}
	data, ok := f.Bytes()
	if !ok { // Load fetched every file that is not kept
		return fmt.Errorf("image file %s: bytes not loaded", sitePath)
	}
	if b.keyer == nil {
		b.add(sitePath, data)
		return nil
	}
	b.addKeyed(sitePath, data, k, true, false)
	return nil
}

// sumOf is the SHA-256 of the file the build has at sitePath, reading a
// kept asset's source for it.
func (ip *imagePass) sumOf(sitePath string) ([32]byte, error) {
	if s, ok := ip.sums[sitePath]; ok {
		return s, nil
	}
	if src, ok := ip.keptAssets[sitePath]; ok && ip.b.out[sitePath] == nil {
		data, err := fs.ReadFile(ip.content, src)
		if err != nil {
			return [32]byte{}, fmt.Errorf("copy asset %s: %w", src, err)
		}
		return sha256.Sum256(data), nil
	}
	return sha256.Sum256(ip.b.out[sitePath]), nil
}

// addImage writes the variants of one treated image, and remembers how
// pages refer to it. Its original is written already.
func (ip *imagePass) addImage(a posts.Asset, img *imagery.Image) error {
	b := ip.b
	warn := func(code, format string, args ...any) {
		b.diags = append(b.diags, posts.Diagnostic{File: a.Source, Severity: posts.SeverityWarning, Code: code, Message: fmt.Sprintf(format, args...)})
	}
	switch img.Problem {
	case imagery.ProblemBomb:
		warn(posts.CodeImageBomb, "the image claims %d×%d pixels in %d bytes, a decompression bomb: it is not published", img.Width, img.Height, a.Size)
		return nil
	case imagery.ProblemTooLarge:
		warn(posts.CodeImageTooLarge, "the image has %.0f megapixels, over the limit of %d: it is published as it is, without smaller sizes", float64(img.Width)*float64(img.Height)/1e6, imagery.DefaultMaxPixels/1_000_000)
	case imagery.ProblemUnknown:
		warn(posts.CodeImageUnreadable, "publishbot cannot read this image: it is published as it is, without size or smaller sizes")
	case imagery.ProblemMalformed:
		warn(posts.CodeImageUnreadable, "publishbot cannot read all of this image: it is published as it is, without smaller sizes (and with its metadata)")
	}
	if img.Location {
		if b.cfg.Images.KeepMetadata {
			warn(posts.CodeImageLocation, "the image carries a GPS location, published with it (images: keep_metadata is true)")
		} else if img.Problem != imagery.ProblemMalformed {
			warn(posts.CodeImageLocation, "the image carried a GPS location: it is removed from the published image (check the other copies you share)")
		}
	}
	if img.Data == nil {
		return nil
	}
	e := &imageEntry{width: img.Width, height: img.Height}
	b.imgs[a.Target] = e
	if len(img.Variants) < 2 {
		return nil
	}
	var plain, webp []string
	last := len(img.Variants) - 1
	for i, v := range img.Variants {
		name := a.Target
		if i < last {
			var err error
			if name, err = ip.addVariant(variantName(a.Target, v.Width, false, false, v.Data), v.Data); err != nil {
				return err
			}
			if name == "" {
				continue
			}
		}
		w := " " + strconv.Itoa(v.Width) + "w"
		plain = append(plain, srcsetURL(b.pathURL(name))+w)
		if v.WebP != nil {
			wn, err := ip.addVariant(variantName(a.Target, v.Width, i == last, true, v.WebP), v.WebP)
			if err != nil {
				return err
			}
			if wn != "" {
				webp = append(webp, srcsetURL(b.pathURL(wn))+w)
				continue
			}
		}
		webp = append(webp, plain[len(plain)-1])
	}
	if len(plain) < 2 {
		return nil
	}
	e.srcset = strings.Join(plain, ", ")
	if w := strings.Join(webp, ", "); w != e.srcset {
		e.webpSrcset = w
	}
	return nil
}

// addVariant writes f at name and returns name, unless another file of the
// site has that name: it never replaces one, and returns "" then (name
// when the file there has the same bytes).
func (ip *imagePass) addVariant(name string, f *imagery.File) (string, error) {
	if _, taken := ip.b.out[name]; taken {
		sum, err := ip.sumOf(name)
		if err != nil || sum != f.Sum {
			return "", err
		}
		return name, nil
	}
	return name, ip.add(name, f)
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
	var out bytes.Buffer
	out.Grow(len(body) + 512)
	first := !cover
	inPicture := 0
	// Every token is copied as it is but img elements; a tag's name is read
	// from its source (Token and TagName copy, and most tags are neither
	// img nor picture).
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break
		}
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken && tt != xhtml.EndTagToken {
			out.Write(z.Raw())
			continue
		}
		name := rawTagName(z.Raw())
		switch {
		case bytes.EqualFold(name, []byte("picture")) && tt == xhtml.StartTagToken:
			inPicture++
		case bytes.EqualFold(name, []byte("picture")) && tt == xhtml.EndTagToken:
			inPicture = max(0, inPicture-1)
		case bytes.EqualFold(name, []byte("img")) && tt != xhtml.EndTagToken:
			_, more := z.TagName()
			var attrs []xhtml.Attribute
			var src string
			for more {
				var k, v []byte
				k, v, more = z.TagAttr()
				a := xhtml.Attribute{Key: string(k), Val: string(v)}
				if a.Key == "src" {
					src = a.Val
				}
				attrs = append(attrs, a)
			}
			e := b.imageAt(src, page)
			if inPicture > 0 && e != nil { // the author's own sources: size only
				e = &imageEntry{width: e.width, height: e.height}
			}
			out.WriteString(imgHTML(attrs, e, first))
			first = false
			continue
		}
		out.Write(z.Raw())
	}
	// the tokenizer's output of posts' sanitised HTML, with attributes we
	// escaped ourselves
	return template.HTML(out.String())
}

// rawTagName is the name of the tag whose source is raw ("<IMG src=…>",
// "</p>"), where the tokenizer reads it, as written.
func rawTagName(raw []byte) []byte {
	raw = bytes.TrimPrefix(bytes.TrimPrefix(raw, []byte("<")), []byte("/"))
	if i := bytes.IndexAny(raw, " \t\n\r\f/>"); i >= 0 {
		return raw[:i]
	}
	return raw
}

// responsiveImages completes the bodies and covers of the posts and pages
// shown, once the images are treated.
func (b *build) responsiveImages() {
	parallel(len(b.posts), func(i int) { // b.imgs is complete: only read
		d := b.posts[i]
		page := address(d.Post)
		d.Cover = b.coverHTML(d.Image, d.ImageAlt, page)
		d.body = b.postBody(d.Post, page, d.Image != "")
	})
	for _, d := range b.pages {
		page := addressPath(d.Page.Address)
		d.Cover = b.coverHTML(d.Image, d.ImageAlt, page)
		d.Body = b.responsiveBody(d.Body, page, d.Image != "")
	}
}
