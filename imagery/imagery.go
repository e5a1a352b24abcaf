// Package imagery owns what publishbot does to the raster images a site
// publishes: reading their size and EXIF orientation, removing their
// metadata (camera, GPS location) without re-encoding them, making smaller
// variants and WebP variants for responsive images, refusing decompression
// bombs, and caching that work by content (a hash of the bytes, or the
// git blob id the caller knows) so an unchanged image is
// never resized twice. It knows nothing about posts, pages or HTML: the
// renderer asks it about one image at a time (Processor.Image) and
// writes the files and attributes.
//
// The cache keeps a small record per image and treatment (the files it
// publishes, by size and SHA-256, and what the pages need: size,
// problems) apart from the files' bytes, and the records of all recent
// images in one catalog read once: a renderer names and keys an unchanged
// image's files from the record alone, and fetches bytes (Processor.Load)
// only for the files it must write.
//
// Everything it makes is a pure function of the image's bytes and the
// Options: the same input gives byte-for-byte the same output, with or
// without a cache.
package imagery

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"sync"
	"time"

	_ "image/gif" // DecodeConfig of GIF images (sizes only)

	"github.com/HugoSmits86/nativewebp"
	"github.com/sirupsen/logrus"
	_ "golang.org/x/image/webp" // DecodeConfig of WebP images (sizes only)
)

// DefaultMaxPixels is the largest image, in pixels, that gets variants:
// a larger one is published as it is (Problem TooLarge).
const DefaultMaxPixels = 50_000_000

// bombRatio: an image over the pixel limit whose header claims more than
// this many pixels per byte of file is a decompression bomb. No real photo
// comes near it; a flat-colour PNG at the limit of deflate can only just.
const bombRatio = 1000

// jpegQuality is the quality of JPEG variants: the usual choice of image
// CDNs, no visible loss at the sizes shown.
const jpegQuality = 82

// defaultWidths are the widths of the variants when Options.Widths is nil.
var defaultWidths = []int{480, 960, 1600}

// Options say what Process makes. The zero value only reads sizes and
// removes metadata (Resize false).
type Options struct {
	// Resize makes the smaller variants and WebP variants.
	Resize bool
	// KeepMetadata publishes the original's bytes as they are, metadata
	// included.
	KeepMetadata bool
	// Widths are the variant widths in pixels; nil means 480, 960 and 1600.
	// No variant is wider than the original.
	Widths []int
	// MaxPixels is the largest image that gets variants; 0 means
	// DefaultMaxPixels.
	MaxPixels int
}

func (o Options) widths() []int {
	if o.Widths == nil {
		return defaultWidths
	}
	return o.Widths
}

func (o Options) maxPixels() int64 {
	if o.MaxPixels <= 0 {
		return DefaultMaxPixels
	}
	return int64(o.MaxPixels)
}

// Problem is why an image was published with less than the full treatment.
type Problem int

const (
	// ProblemNone: the image was read and treated as Options say.
	ProblemNone Problem = iota
	// ProblemUnknown: not an image format it reads (or not an image): it
	// is published as it is, without size.
	ProblemUnknown
	// ProblemTooLarge: over the pixel limit; published as it is (metadata
	// removed unless kept) without variants.
	ProblemTooLarge
	// ProblemBomb: the header claims far more pixels than the file could
	// hold; it is not published at all (Result.Data is nil).
	ProblemBomb
	// ProblemMalformed: its structure could not be walked to remove the
	// metadata, or its pixels could not be decoded: published as it is,
	// without variants.
	ProblemMalformed
)

// Variant is one size of an image.
type Variant struct {
	Width, Height int
	// Data is the image at this size in the original's format.
	Data []byte
	// WebP is a lossless WebP of the same pixels, nil unless it is smaller
	// than Data.
	WebP []byte
}

// Result is what Process made of one image.
type Result struct {
	// Format is "jpeg", "png", "gif" or "webp"; "" when unknown.
	Format string
	// Width and Height are the size as shown, EXIF orientation applied;
	// zero when unknown.
	Width, Height int
	// Data is what to publish in the original's place: the original with
	// its metadata removed, or as it was. Nil means do not publish it.
	Data []byte
	// Variants are the sizes for a srcset, narrowest first; when there are
	// any, the last one is the original's size and its Data is Data. Empty
	// when resizing is off, the format is not resized (GIF, WebP), the
	// image is no wider than the narrowest variant, or Problem is set.
	Variants []Variant
	// Location says the original's metadata held a GPS location.
	Location bool
	// Problem says why the image got less than the full treatment.
	Problem Problem
}

// Cache keeps what Process makes by key: a small record per image and
// treatment (its files' sizes and hashes, see Image), the bytes of each
// file it published, and one catalog of records loaded at once. Get
// reports whether it has the key; Put stores a value (a cache that cannot
// store simply drops it). Implementations must be safe for concurrent use,
// and must never change the bytes Get returned or Put was given: an
// Image's files share them (so a caller never changes them either).
type Cache interface {
	Get(key string) ([]byte, bool)
	Put(key string, value []byte)
}

// Processor treats images, remembering results in its Cache.
type Processor struct {
	cache      Cache
	log        *logrus.Entry
	now        func() time.Time
	maxCatalog int

	catOnce sync.Once
	mu      sync.Mutex
	cat     map[string]catEntry // the catalog: records by key
	dirty   bool                // cat has what the cache's catalog lacks
	// treating: the keys being treated now, closed when done: an image
	// used by several posts (the same blob) is treated once per build,
	// not once per post on every core at the same time
	treating map[string]chan struct{}
	flushMu  sync.Mutex
}

// Option tunes New.
type Option func(*Processor)

// WithLog sends a line to log for every damaged cache entry discarded;
// without it they are discarded silently.
func WithLog(log *logrus.Entry) Option {
	return func(p *Processor) { p.log = log }
}

// New returns a Processor that keeps its results in cache; nil means no
// cache (every image is treated anew). Safe for concurrent use.
func New(cache Cache, opts ...Option) *Processor {
	p := &Processor{cache: cache, now: time.Now, maxCatalog: catalogSize}
	for _, o := range opts {
		o(p)
	}
	if p.log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		p.log = logrus.NewEntry(l)
	}
	return p
}

// Process reads, cleans and resizes one image, data, as o says. A cached
// result for the same bytes and options is returned without decoding
// anything. Problems of the image are in Result.Problem; the error is only
// ctx's, once it ends (checked between variants).
func (p *Processor) Process(ctx context.Context, data []byte, o Options) (*Result, error) {
	return p.ProcessContent(ctx, "", data, o)
}

// ProcessContent is Process for an image whose store names its content:
// id is a git blob id (gitstore's trees give it, see posts.ContentIDs), or
// "" for none. With an id, the cached result is found by it, without
// hashing data (an unchanged image of a big blog then costs a lookup). Two
// images with the same id must have the same bytes; ids and hashes of
// bytes never name each other's entries.
func (p *Processor) ProcessContent(ctx context.Context, id string, data []byte, o Options) (*Result, error) {
	img, err := p.Image(ctx, id, func() ([]byte, error) { return data, nil }, o)
	if err != nil {
		return nil, err
	}
	if img, err = p.Load(ctx, img, img.Files()...); err != nil {
		return nil, err
	}
	return img.result(), nil
}

func process(ctx context.Context, data []byte, o Options) (*Result, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return &Result{Data: data, Problem: ProblemUnknown}, nil
	}
	r := &Result{Format: format, Width: cfg.Width, Height: cfg.Height, Data: data}
	pixels := int64(cfg.Width) * int64(cfg.Height)
	if pixels > o.maxPixels() && pixels > bombRatio*int64(len(data)) {
		r.Data, r.Problem = nil, ProblemBomb
		return r, nil
	}
	m := meta{exifInfo: exifInfo{orientation: 1}}
	var strip func([]byte) ([]byte, bool, error)
	switch format {
	case "jpeg":
		segs, _, err := jpegHeader(data)
		if err != nil {
			r.Problem = ProblemMalformed
			return r, nil
		}
		m, strip = jpegMeta(segs, data), StripJPEG
	case "png":
		cs, err := pngChunks(data)
		if err != nil {
			r.Problem = ProblemMalformed
			return r, nil
		}
		m, strip = pngMeta(cs, data), StripPNG
	}
	r.Location = m.gps
	if swapsAxes(m.orientation) {
		r.Width, r.Height = r.Height, r.Width
	}
	if strip != nil && !o.KeepMetadata {
		out, _, err := strip(data)
		if err != nil {
			r.Problem = ProblemMalformed
			return r, nil
		}
		r.Data = out
	}
	if pixels > o.maxPixels() {
		r.Problem = ProblemTooLarge
		return r, nil
	}
	if !o.Resize || strip == nil {
		return r, nil
	}
	var widths []int
	for _, w := range o.widths() {
		if w > 0 && w < r.Width {
			widths = append(widths, w)
		}
	}
	if len(widths) == 0 {
		return r, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		r.Problem = ProblemMalformed
		return r, nil
	}
	if err := resize(ctx, r, img, widths, m); err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		r.Variants, r.Problem = nil, ProblemMalformed // an encoder refused the pixels
	}
	return r, nil
}

// resize fills r.Variants: each width in widths (ascending, all narrower
// than the image), then the original's size; then their WebP forms.
func resize(ctx context.Context, r *Result, img image.Image, widths []int, m meta) error {
	vs := make([]Variant, len(widths)+1)
	pix := make([]*image.RGBA, len(widths)+1) // upright pixels of each, for WebP
	src := img
	// Widest first, each from the one before: the cost falls with the size.
	for i := len(widths) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return err
		}
		w := widths[i]
		h := max(1, int(math.Round(float64(r.Height)*float64(w)/float64(r.Width))))
		sw, sh := w, h
		if swapsAxes(m.orientation) {
			sw, sh = h, w
		}
		scaled := scale(src, sw, sh)
		src = scaled
		up := orient(scaled, m.orientation)
		enc, err := encode(up, r.Format, m.color)
		if err != nil {
			return err
		}
		vs[i], pix[i] = Variant{Width: w, Height: h, Data: enc}, up
	}
	vs[len(widths)] = Variant{Width: r.Width, Height: r.Height, Data: r.Data}
	// A variant no smaller than the original is no use: the original
	// serves that width.
	kept := vs[:0]
	keptPix := pix[:0]
	for i, v := range vs {
		if i == len(vs)-1 || len(v.Data) < len(r.Data) {
			kept = append(kept, v)
			keptPix = append(keptPix, pix[i])
		}
	}
	vs, pix = kept, keptPix
	// WebP (lossless) rarely beats a JPEG: try the narrowest first and give
	// up on the others when it does not.
	for i := range vs {
		if err := ctx.Err(); err != nil {
			return err
		}
		up := pix[i]
		if up == nil { // the original's size
			up = orient(toRGBA(img), m.orientation)
		}
		webp := encodeWebP(up)
		if webp != nil && len(webp) < len(vs[i].Data) {
			vs[i].WebP = webp
		} else if r.Format == "jpeg" && i == 0 {
			break
		}
	}
	r.Variants = vs
	return nil
}

// encodeWebP is img as a lossless WebP, or nil when the encoder fails.
// nativewebp v0.9.3 panics on some noisy images ("too many bits for the
// given value", HugoSmits86/nativewebp#16): such an image simply gets no
// WebP variant.
func encodeWebP(img *image.RGBA) (out []byte) {
	defer func() {
		if recover() != nil {
			out = nil
		}
	}()
	var buf bytes.Buffer
	if err := nativewebp.Encode(&buf, img, nil); err != nil {
		return nil
	}
	return buf.Bytes()
}

// encode writes img in format ("jpeg" or "png"), with the original's
// colour profile chunks copied in.
func encode(img *image.RGBA, format string, color [][]byte) ([]byte, error) {
	var buf bytes.Buffer
	if format == "jpeg" {
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: jpegQuality}); err != nil {
			return nil, err
		}
		return withJPEGColor(buf.Bytes(), color), nil
	}
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return withPNGColor(buf.Bytes(), color), nil
}
