package imagery

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"errors"
	"image"
	"image/color"
	"strings"
	"testing"

	_ "golang.org/x/image/webp"

	it "github.com/publishbot/publishbot/imagery/imagerytest"
)

func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return img
}

func near(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, w uint8) bool { x := int(a>>8) - int(w); return x > -40 && x < 40 }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

var red, blue = color.RGBA{220, 20, 20, 255}, color.RGBA{20, 20, 220, 255}

func TestJPEGOrientationGPSAndStripping(t *testing.T) {
	// Stored 800×400 with orientation 6: shown 400×800, turned clockwise,
	// so the stored top-left (red) is shown top-right.
	plain := it.JPEG(t, it.Photo(800, 400))
	src := it.WithEXIF(plain, it.EXIF(6, true))
	r, err := New(nil).Process(context.Background(), src, Options{Resize: true, Widths: []int{200}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Format != "jpeg" || r.Width != 400 || r.Height != 800 || !r.Location || r.Problem != ProblemNone {
		t.Fatalf("got %s %dx%d location=%t problem=%d", r.Format, r.Width, r.Height, r.Location, r.Problem)
	}
	for _, secret := range []string{"PhoneCam", "SecretModel", "GPSLatitude", "Alice", "TRAILER"} {
		if bytes.Contains(r.Data, []byte(secret)) {
			t.Errorf("published original still holds %q", secret)
		}
	}
	// The published original keeps its image data byte for byte and only
	// its orientation.
	segs, sos, err := jpegHeader(r.Data)
	if err != nil {
		t.Fatal(err)
	}
	if m := jpegMeta(segs, r.Data); m.orientation != 6 || m.gps {
		t.Errorf("stripped original: orientation %d gps %t, want 6 false", m.orientation, m.gps)
	}
	_, psos, _ := jpegHeader(plain)
	if !bytes.Equal(r.Data[sos:], plain[psos:]) {
		t.Error("the image data of the published original changed")
	}
	if len(r.Variants) != 2 {
		t.Fatalf("%d variants, want 200 wide and the original", len(r.Variants))
	}
	v := r.Variants[0]
	if v.Width != 200 || v.Height != 400 {
		t.Fatalf("variant %dx%d, want 200x400", v.Width, v.Height)
	}
	img := decode(t, v.Data)
	if b := img.Bounds(); b.Dx() != 200 || b.Dy() != 400 {
		t.Fatalf("variant pixels %v", b)
	}
	if !near(img.At(150, 50), red) || !near(img.At(50, 350), blue) {
		t.Errorf("variant not upright: top-right %v bottom-left %v", img.At(150, 50), img.At(50, 350))
	}
	if bytes.Contains(v.Data, exifHeader) {
		t.Error("variant carries EXIF")
	}
	if last := r.Variants[1]; last.Width != 400 || !bytes.Equal(last.Data, r.Data) {
		t.Error("the last variant is not the original")
	}
}

func TestPNGTextChunksStripped(t *testing.T) {
	plain := it.PNG(t, it.Photo(600, 300))
	src := it.WithPNGText(plain, it.EXIF(1, true))
	out, gps, err := StripPNG(src)
	if err != nil {
		t.Fatal(err)
	}
	if !gps {
		t.Error("GPS in eXIf/XMP not seen")
	}
	if !bytes.Equal(out, plain) {
		t.Errorf("stripped PNG differs from the PNG without metadata (%d vs %d bytes)", len(out), len(plain))
	}
	if !bytes.Equal(pixels(t, out), pixels(t, src)) {
		t.Error("pixels changed")
	}
	// A turned PNG keeps a minimal eXIf.
	out, _, err = StripPNG(it.WithPNGText(plain, it.EXIF(8, false)))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := pngChunks(out)
	if err != nil {
		t.Fatal(err)
	}
	if m := pngMeta(cs, out); m.orientation != 8 || bytes.Contains(out, []byte("PhoneCam")) {
		t.Errorf("orientation %d, camera kept %t", m.orientation, bytes.Contains(out, []byte("PhoneCam")))
	}
	r, err := New(nil).Process(context.Background(), it.WithPNGText(plain, it.EXIF(8, false)), Options{})
	if err != nil || r.Width != 300 || r.Height != 600 {
		t.Fatalf("orientation 8 PNG: %dx%d %v", r.Width, r.Height, err)
	}
}

func pixels(t *testing.T, b []byte) []byte {
	t.Helper()
	return toRGBA(decode(t, b)).Pix
}

func TestSixteenBitPNG(t *testing.T) {
	img := image.NewNRGBA64(image.Rect(0, 0, 1000, 500))
	for y := 0; y < 500; y++ {
		for x := 0; x < 1000; x++ {
			img.SetNRGBA64(x, y, color.NRGBA64{uint16(x * 65), uint16(y * 131), 40000, 65535})
		}
	}
	src := it.PNG(t, img)
	r, err := New(nil).Process(context.Background(), src, Options{Resize: true})
	if err != nil {
		t.Fatal(err)
	}
	var widths []int
	for _, v := range r.Variants {
		widths = append(widths, v.Width)
		if b := decode(t, v.Data).Bounds(); b.Dx() != v.Width || b.Dy() != v.Height {
			t.Errorf("variant %d: pixels %v", v.Width, b)
		}
		if v.WebP != nil {
			if len(v.WebP) >= len(v.Data) {
				t.Errorf("WebP of %d kept though not smaller", v.Width)
			}
			if b := decode(t, v.WebP).Bounds(); b.Dx() != v.Width {
				t.Errorf("WebP %d: pixels %v", v.Width, b)
			}
		}
	}
	if len(widths) == 0 || widths[len(widths)-1] != 1000 {
		t.Fatalf("widths %v, want ending with the original's 1000", widths)
	}
	for _, w := range widths[:len(widths)-1] {
		if w != 480 && w != 960 {
			t.Errorf("unexpected width %d", w)
		}
	}
}

func TestGIFLeftAlone(t *testing.T) {
	src := it.GIF(t, 2000, 100)
	r, err := New(nil).Process(context.Background(), src, Options{Resize: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Format != "gif" || r.Width != 2000 || r.Height != 100 || !bytes.Equal(r.Data, src) || len(r.Variants) != 0 {
		t.Fatalf("GIF: %s %dx%d same=%t variants=%d", r.Format, r.Width, r.Height, bytes.Equal(r.Data, src), len(r.Variants))
	}
}

func TestLimits(t *testing.T) {
	p := New(nil)
	ctx := context.Background()
	bomb := it.PNGHeader(100_000, 100_000, 64)
	r, err := p.Process(ctx, bomb, Options{Resize: true})
	if err != nil || r.Problem != ProblemBomb || r.Data != nil {
		t.Fatalf("bomb: problem %d data %d err %v", r.Problem, len(r.Data), err)
	}
	// 8000×7000 = 56 MP in a file that could hold it: published as is.
	big := it.PNGHeader(8000, 7000, 60_000)
	r, err = p.Process(ctx, big, Options{Resize: true})
	if err != nil || r.Problem != ProblemTooLarge || !bytes.Equal(r.Data, big) || r.Width != 8000 || len(r.Variants) != 0 {
		t.Fatalf("56 MP: problem %d same %t width %d err %v", r.Problem, bytes.Equal(r.Data, big), r.Width, err)
	}
	// Not an image, and an image cut short.
	r, _ = p.Process(ctx, []byte("not an image"), Options{Resize: true})
	if r.Problem != ProblemUnknown || string(r.Data) != "not an image" {
		t.Fatalf("text: %+v", r)
	}
	jpg := it.JPEG(t, it.Photo(1000, 500))
	r, _ = p.Process(ctx, jpg[:len(jpg)/2], Options{Resize: true})
	if r.Problem != ProblemMalformed || r.Width != 1000 || len(r.Variants) != 0 {
		t.Fatalf("truncated JPEG: problem %d width %d variants %d", r.Problem, r.Width, len(r.Variants))
	}
}

func TestOptions(t *testing.T) {
	ctx := context.Background()
	src := it.WithEXIF(it.JPEG(t, it.Photo(1200, 800)), it.EXIF(1, true))
	p := New(nil)
	keep, _ := p.Process(ctx, src, Options{Resize: true, KeepMetadata: true})
	if !bytes.Equal(keep.Data, src) || !keep.Location {
		t.Error("keep_metadata: the original changed or the location was not seen")
	}
	off, _ := p.Process(ctx, src, Options{})
	if len(off.Variants) != 0 || bytes.Contains(off.Data, []byte("PhoneCam")) || off.Width != 1200 {
		t.Error("resize off: want no variants, metadata removed, size known")
	}
	small, _ := p.Process(ctx, it.JPEG(t, it.Photo(300, 200)), Options{Resize: true})
	if len(small.Variants) != 0 {
		t.Error("an image narrower than every variant got variants")
	}
	on, _ := p.Process(ctx, src, Options{Resize: true})
	var ws []int
	for _, v := range on.Variants {
		ws = append(ws, v.Width)
	}
	if len(ws) != 3 || ws[0] != 480 || ws[1] != 960 || ws[2] != 1200 {
		t.Errorf("widths %v, want [480 960 1200] (never upscaled)", ws)
	}
}

func TestReproducibleAndCached(t *testing.T) {
	ctx := context.Background()
	src := it.PNG(t, it.Photo(1700, 900))
	a, err := New(nil).Process(ctx, src, Options{Resize: true})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := New(nil).Process(ctx, src, Options{Resize: true})
	if !sameResult(a, b) {
		t.Fatal("two runs differ")
	}
	cache := NewMemCache()
	p := New(cache)
	c, _ := p.Process(ctx, src, Options{Resize: true})
	if records(cache) != 1 || !sameResult(a, c) {
		t.Fatalf("cache has %d records; result same %t", records(cache), sameResult(a, c))
	}
	d, _ := p.Process(ctx, src, Options{Resize: true})
	if !sameResult(a, d) {
		t.Fatal("cached result differs")
	}
	// Other options are another entry.
	_, _ = p.Process(ctx, src, Options{Resize: false})
	if records(cache) != 2 {
		t.Fatalf("cache has %d records, want 2", records(cache))
	}
	// A damaged entry is recomputed, never used.
	for k, v := range cache.m {
		v[len(v)-1] ^= 1
		cache.m[k] = v
	}
	e, _ := p.Process(ctx, src, Options{Resize: true})
	if !sameResult(a, e) {
		t.Fatal("a damaged cache entry was used")
	}
	// On disk.
	dc := NewDirCache(t.TempDir())
	f, _ := New(dc).Process(ctx, src, Options{Resize: true})
	g, _ := New(dc).Process(ctx, src, Options{Resize: true})
	if !sameResult(a, f) || !sameResult(a, g) {
		t.Fatal("DirCache result differs")
	}
}

// records is the number of image records in cache.
func records(cache *MemCache) int {
	n := 0
	for k := range cache.m {
		if strings.HasPrefix(k, recordPrefix) {
			n++
		}
	}
	return n
}

func sameResult(a, b *Result) bool {
	if a.Format != b.Format || a.Width != b.Width || a.Height != b.Height || a.Location != b.Location ||
		a.Problem != b.Problem || !bytes.Equal(a.Data, b.Data) || len(a.Variants) != len(b.Variants) {
		return false
	}
	for i := range a.Variants {
		x, y := a.Variants[i], b.Variants[i]
		if x.Width != y.Width || x.Height != y.Height || !bytes.Equal(x.Data, y.Data) || !bytes.Equal(x.WebP, y.WebP) {
			return false
		}
	}
	return true
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := New(nil).Process(ctx, it.JPEG(t, it.Photo(1000, 600)), Options{Resize: true})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

func TestICCProfileCopiedToVariants(t *testing.T) {
	icc := append(append([]byte{}, iccHeader...), []byte("\x01\x01fake profile body")...)
	n := len(icc) + 2
	plain := it.JPEG(t, it.Photo(1000, 500))
	src := append(append(append([]byte{}, plain[:2]...), append([]byte{0xFF, mAPP2, byte(n >> 8), byte(n)}, icc...)...), plain[2:]...)
	r, _ := New(nil).Process(context.Background(), src, Options{Resize: true})
	if len(r.Variants) < 2 {
		t.Fatal("no variants")
	}
	for _, v := range append(r.Variants, Variant{Data: r.Data}) {
		if !bytes.Contains(v.Data, []byte("fake profile body")) {
			t.Errorf("variant %d lost its ICC profile", v.Width)
		}
	}
}

// TestProcessContentKeyedByID: an image named by its content id is cached
// under the id, apart from the entries of hashed bytes, with the same
// result; a hit does not depend on hashing the bytes; another id (or
// other options) is another entry; a damaged entry is recomputed.
func TestProcessContentKeyedByID(t *testing.T) {
	ctx := context.Background()
	src := it.PNG(t, it.Photo(1000, 600))
	want, err := New(nil).Process(ctx, src, Options{Resize: true})
	if err != nil {
		t.Fatal(err)
	}
	cache := NewMemCache()
	p := New(cache)
	const id = "0123456789abcdef0123456789abcdef01234567"
	for round := range 2 {
		got, err := p.ProcessContent(ctx, id, src, Options{Resize: true})
		if err != nil || !sameResult(want, got) {
			t.Fatalf("round %d: result differs (%v)", round, err)
		}
		if records(cache) != 1 {
			t.Fatalf("round %d: %d records, want 1", round, records(cache))
		}
	}
	if _, ok := cache.Get(recordPrefix + idName(id, Options{Resize: true})); !ok {
		t.Fatal("the result is not under its id")
	}
	if _, ok := cache.Get(recordPrefix + bytesName(src, Options{Resize: true})); ok {
		t.Fatal("an id's entry is also under the bytes' hash")
	}
	// No id: the bytes' hash, as Process.
	if got, _ := p.ProcessContent(ctx, "", src, Options{Resize: true}); !sameResult(want, got) || records(cache) != 2 {
		t.Fatalf("without an id: %d records", records(cache))
	}
	if _, _ = p.ProcessContent(ctx, id, src, Options{}); records(cache) != 3 {
		t.Fatalf("other options share the id's entry: %d records", records(cache))
	}
	if _, _ = p.ProcessContent(ctx, "fedcba9876543210fedcba9876543210fedcba98", src, Options{Resize: true}); records(cache) != 4 {
		t.Fatalf("another id shares the entry: %d records", records(cache))
	}
	for k, v := range cache.m {
		c := bytes.Clone(v)
		c[len(c)/2] ^= 1
		cache.m[k] = c
	}
	if got, _ := p.ProcessContent(ctx, id, src, Options{Resize: true}); !sameResult(want, got) {
		t.Fatal("a damaged entry was used")
	}
}

// oldEntry is an entry as publishbot wrote them before the PBI2 format: a
// SHA-256 of the rest, then gob.
func oldEntry(t *testing.T, r *Result, input []byte) []byte {
	c := cachedResult{R: *r}
	if r.Data != nil && bytes.Equal(r.Data, input) {
		c.R.Data, c.SameData = nil, true
	}
	if n := len(c.R.Variants); n > 0 {
		vs := append([]Variant(nil), c.R.Variants...)
		vs[n-1].Data = nil
		c.R.Variants = vs
	}
	var buf bytes.Buffer
	buf.Write(make([]byte, sha256.Size))
	if err := gob.NewEncoder(&buf).Encode(&c); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	sum := sha256.Sum256(b[sha256.Size:])
	copy(b, sum[:])
	return b
}

// TestResultEntries: an entry gives back the result it was made from (an
// unchanged original, a cleaned one, none), entries of the earlier format
// are still read, and every cut or flipped entry is refused.
func TestResultEntries(t *testing.T) {
	ctx := context.Background()
	src := it.PNG(t, it.Photo(1000, 600))
	resized, err := New(nil).Process(ctx, src, Options{Resize: true})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := New(nil).Process(ctx, src, Options{})
	for name, r := range map[string]*Result{"resized": resized, "as is": plain,
		"bomb": {Format: "png", Width: 1, Height: 1, Problem: ProblemBomb},
		"other": {Format: "jpeg", Width: 3, Height: 2, Data: []byte{}, Location: true,
			Variants: []Variant{{Width: 1, Height: 1, Data: []byte("a"), WebP: []byte("w")}, {Width: 3, Height: 2}}}} {
		input := src
		enc, err := encodeResult(r, input)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range [][]byte{enc, oldEntry(t, r, input)} {
			got, err := decodeResult(e, input)
			// (gob, the old format, does not tell an empty Data from none)
			if err != nil || !sameResult(got, r) || (i == 0 && (got.Data == nil) != (r.Data == nil)) {
				t.Errorf("%s: decoded %+v, %v", name, got, err)
			}
		}
		// Cut and flipped at the first and last 64 bytes, and every 4093rd.
		var at []int
		for i := range enc {
			if i < 64 || i >= len(enc)-64 || i%4093 == 0 {
				at = append(at, i)
			}
		}
		for _, n := range at {
			if _, err := decodeResult(enc[:n], input); err == nil {
				t.Errorf("%s: the first %d of %d bytes decode", name, n, len(enc))
			}
		}
		for _, i := range at {
			c := bytes.Clone(enc)
			c[i] ^= 0x10
			if _, err := decodeResult(c, input); err == nil {
				t.Errorf("%s: byte %d flipped decodes", name, i)
			}
		}
	}
}
