package imagery

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	it "github.com/publishbot/publishbot/imagery/imagerytest"
)

// countingCache counts the reads of a Cache by kind of entry: "imm"
// (records), "bin" (files), "catalog", "img" (the earlier format).
type countingCache struct {
	Cache
	mu   sync.Mutex
	gets map[string]int
}

func newCounting(c Cache) *countingCache { return &countingCache{Cache: c, gets: map[string]int{}} }

func (c *countingCache) Get(key string) ([]byte, bool) {
	kind, _, _ := strings.Cut(key, "-")
	c.mu.Lock()
	c.gets[kind]++
	c.mu.Unlock()
	return c.Cache.Get(key)
}

func (c *countingCache) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.gets
	c.gets = map[string]int{}
	return g
}

// countingSource is an image's bytes and how often they were read.
type countingSource struct {
	data  []byte
	reads int
}

func (s *countingSource) read() ([]byte, error) {
	s.reads++
	return s.data, nil
}

const photoID = "0123456789abcdef0123456789abcdef01234567"

// photo is a JPEG with a GPS location, wide enough for every variant.
func photo(t testing.TB) []byte {
	return it.WithEXIF(it.JPEG(t, it.Photo(1700, 900)), it.EXIF(1, true))
}

// TestImageFromRecord: once an image is treated and the catalog flushed,
// another Processor on the same folder (a new process) tells the image's
// files from the catalog alone: one read of the cache, none of the image
// nor of any file; Load then reads only the files asked for.
func TestImageFromRecord(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := &countingSource{data: photo(t)}
	o := Options{Resize: true}
	want, err := New(nil).Process(ctx, src.data, o)
	if err != nil {
		t.Fatal(err)
	}
	first := New(NewDirCache(dir))
	img, err := first.Image(ctx, photoID, src.read, o)
	if err != nil || src.reads != 1 {
		t.Fatalf("cold: %v, %d reads", err, src.reads)
	}
	if !sameResult(want, img.result()) {
		t.Fatal("cold: the image differs from Process's")
	}
	first.Flush()

	cache := newCounting(NewDirCache(dir))
	p := New(cache)
	src.reads = 0
	img, err = p.Image(ctx, photoID, src.read, o)
	if err != nil {
		t.Fatal(err)
	}
	if g := cache.reset(); src.reads != 0 || len(g) != 1 || g["catalog"] != 1 {
		t.Fatalf("warm: %d reads of the image, cache reads %v; want the catalog only", src.reads, g)
	}
	if img.Width != want.Width || img.Height != want.Height || !img.Location || len(img.Variants) != len(want.Variants) || len(img.Variants) < 2 {
		t.Fatalf("warm: %+v", img)
	}
	for _, f := range img.Files() {
		if _, ok := f.Bytes(); ok {
			t.Fatal("warm: a file's bytes were read")
		}
	}
	v := img.Variants[0].Data
	if v.Sum != newFile(want.Variants[0].Data, false).Sum || v.Size != int64(len(want.Variants[0].Data)) {
		t.Error("warm: the narrowest variant's sum or size differs")
	}
	got, err := p.Load(ctx, img, v)
	if err != nil || got != img {
		t.Fatalf("load: %v, same image %t", err, got == img)
	}
	if b, ok := v.Bytes(); !ok || !bytes.Equal(b, want.Variants[0].Data) {
		t.Error("load: wrong bytes")
	}
	if g := cache.reset(); src.reads != 0 || len(g) != 1 || g["bin"] != 1 {
		t.Errorf("load: %d reads of the image, cache reads %v; want one file", src.reads, g)
	}
	if _, ok := img.Data.Bytes(); ok {
		t.Error("load: a file not asked for was read")
	}
	// Nothing new: Flush writes nothing, a third process reads the same.
	p.Flush()
	if g := cache.reset(); len(g) != 0 {
		t.Errorf("flush with nothing new read %v", g)
	}

	// Published as it is (keep_metadata): that file is the image's own
	// bytes, read from the image, never cached.
	keep := Options{Resize: true, KeepMetadata: true}
	if _, err := p.Image(ctx, photoID, src.read, keep); err != nil || src.reads != 1 {
		t.Fatalf("keep_metadata is another treatment: %v, %d reads", err, src.reads)
	}
	p.Flush()
	q := New(cache)
	src.reads = 0
	img, _ = q.Image(ctx, photoID, src.read, keep)
	if src.reads != 0 || !img.Data.source {
		t.Fatalf("keep_metadata, warm: %d reads, source %t", src.reads, img.Data.source)
	}
	cache.reset()
	if _, err := q.Load(ctx, img, img.Data); err != nil || src.reads != 1 {
		t.Fatalf("keep_metadata, load: %v, %d reads", err, src.reads)
	}
	if b, _ := img.Data.Bytes(); !bytes.Equal(b, src.data) {
		t.Error("keep_metadata: the original is not the image as it is")
	}
	if g := cache.reset(); g["bin"] != 0 {
		t.Errorf("keep_metadata: the original was looked up in the cache: %v", g)
	}
}

// TestOptionsInvalidate: each setting that changes what Process makes is
// another record; an image treated one way is treated again the other.
func TestOptionsInvalidate(t *testing.T) {
	ctx := context.Background()
	p := New(NewMemCache())
	src := &countingSource{data: photo(t)}
	opts := []Options{{Resize: true}, {}, {KeepMetadata: true}, {Resize: true, KeepMetadata: true}, {Resize: true, Widths: []int{300}}, {Resize: true, MaxPixels: 1000}}
	for i, o := range opts {
		src.reads = 0
		img, err := p.Image(ctx, photoID, src.read, o)
		if err != nil || src.reads != 1 {
			t.Fatalf("options %d %+v: %v, %d reads: the record of other options was used", i, o, err, src.reads)
		}
		want, _ := New(nil).Process(ctx, src.data, o)
		if img, _ = p.Load(ctx, img, img.Files()...); !sameResult(want, img.result()) {
			t.Errorf("options %d %+v: result differs", i, o)
		}
	}
	for i, o := range opts {
		src.reads = 0
		if _, err := p.Image(ctx, photoID, src.read, o); err != nil || src.reads != 0 {
			t.Errorf("options %d again: %v, %d reads", i, err, src.reads)
		}
	}
}

// dirFiles are the cache files under dir whose names start with prefix.
func dirFiles(t *testing.T, dir, prefix string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), prefix) {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func damage(t *testing.T, path string, how string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	switch how {
	case "cut":
		b = b[:len(b)/2]
	case "flip":
		b[len(b)/2] ^= 0x40
	case "empty":
		b = nil
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedEntries: a damaged catalog, record or file is never trusted:
// it is discarded, the image treated again from its source, the output
// the same, and the entry written anew.
func TestDamagedEntries(t *testing.T) {
	ctx := context.Background()
	o := Options{Resize: true}
	data := photo(t)
	want, _ := New(nil).Process(ctx, data, o)
	for _, what := range []string{"catalog", "imm", "bin"} {
		for _, how := range []string{"cut", "flip", "empty"} {
			t.Run(what+"/"+how, func(t *testing.T) {
				dir := t.TempDir()
				p := New(NewDirCache(dir))
				if _, err := p.ProcessContent(ctx, photoID, data, o); err != nil {
					t.Fatal(err)
				}
				p.Flush()
				if what == "imm" {
					// The record is read from its own entry only when the
					// catalog lacks it.
					for _, f := range dirFiles(t, dir, "catalog") {
						os.Remove(f)
					}
				}
				files := dirFiles(t, dir, what)
				if len(files) == 0 {
					t.Fatalf("no %s entries", what)
				}
				for _, f := range files {
					damage(t, f, how)
				}
				src := &countingSource{data: data}
				p = New(NewDirCache(dir))
				img, err := p.Image(ctx, photoID, src.read, o)
				if err == nil {
					img, err = p.Load(ctx, img, img.Files()...)
				}
				if err != nil || !sameResult(want, img.result()) {
					t.Fatalf("a damaged %s was used (%v)", what, err)
				}
				// A damaged catalog falls back on the records' own entries.
				if want := map[bool]int{true: 0, false: 1}[what == "catalog"]; src.reads != want {
					t.Errorf("%d reads of the image, want %d", src.reads, want)
				}
				p.Flush()
				if cat, ok := NewDirCache(dir).Get(catalogKey); !ok {
					t.Error("no catalog written")
				} else if _, err := decodeCatalog(cat); err != nil {
					t.Errorf("the catalog written anew: %v", err)
				}
				// Written anew: a fresh Processor needs neither the image
				// nor a second treatment.
				src.reads = 0
				q := New(NewDirCache(dir))
				img, err = q.Image(ctx, photoID, src.read, o)
				if err == nil {
					img, err = q.Load(ctx, img, img.Files()...)
				}
				if err != nil || src.reads != 0 || !sameResult(want, img.result()) {
					t.Errorf("after the repair: %v, %d reads of the image", err, src.reads)
				}
			})
		}
	}
}

// TestEarlierEntriesRead: an entry of the earlier format (a whole Result)
// is used, not treated again, and stored in the new form.
func TestEarlierEntriesRead(t *testing.T) {
	ctx := context.Background()
	data := photo(t)
	o := Options{Resize: true}
	// A result no treatment of data gives: it can only come from the entry.
	old := &Result{Format: "jpeg", Width: 7, Height: 5, Data: []byte("cleaned"),
		Variants: []Variant{{Width: 3, Height: 2, Data: []byte("small"), WebP: []byte("w")}, {Width: 7, Height: 5}}}
	enc, err := encodeResult(old, data)
	if err != nil {
		t.Fatal(err)
	}
	cache := NewMemCache()
	cache.Put(oldPrefix+idName(photoID, o), enc)
	old.Variants[1].Data = old.Data
	got, err := New(cache).ProcessContent(ctx, photoID, data, o)
	if err != nil || !sameResult(old, got) {
		t.Fatalf("the earlier entry was not used: %+v %v", got, err)
	}
	src := &countingSource{data: data}
	img, _ := New(cache).Image(ctx, photoID, src.read, o)
	if src.reads != 0 || img.Width != 7 {
		t.Errorf("not stored anew: %d reads, %+v", src.reads, img)
	}
}

// TestFlushMergesAndBounds: Flush keeps the records another process wrote
// meanwhile, and only the most recently used beyond the bound.
func TestFlushMergesAndBounds(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, b := New(NewDirCache(dir)), New(NewDirCache(dir))
	small := it.PNG(t, it.Photo(40, 30))
	ids := []string{"1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222", "3333333333333333333333333333333333333333"}
	day := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	a.now = func() time.Time { return day }
	b.now = func() time.Time { return day.Add(24 * time.Hour) }
	read := func() ([]byte, error) { return small, nil }
	a.Image(ctx, ids[0], read, Options{})
	b.Image(ctx, ids[1], read, Options{})
	b.Flush()
	a.Flush()
	cat, ok := NewDirCache(dir).Get(catalogKey)
	entries, err := decodeCatalog(cat)
	if !ok || err != nil || len(entries) != 2 {
		t.Fatalf("catalog after two processes flushed: %d entries, %v", len(entries), err)
	}
	c := New(NewDirCache(dir))
	c.now = func() time.Time { return day.Add(48 * time.Hour) }
	c.maxCatalog = 2
	c.Image(ctx, ids[2], read, Options{})
	c.Flush()
	cat, _ = NewDirCache(dir).Get(catalogKey)
	entries, _ = decodeCatalog(cat)
	if len(entries) != 2 {
		t.Fatalf("bounded to 2, the catalog has %d", len(entries))
	}
	if _, ok := entries[idName(ids[0], Options{})]; ok {
		t.Error("the least recently used record was kept")
	}
	// Left out of the catalog, the record is still read from its entry.
	src := &countingSource{data: small}
	if _, err := New(NewDirCache(dir)).Image(ctx, ids[0], src.read, Options{}); err != nil || src.reads != 0 {
		t.Errorf("a record left out of the catalog: %v, %d reads", err, src.reads)
	}
}

// TestRecords: a record gives back the Image it was made from, only under
// its own name, and every cut or flipped record is refused.
func TestRecords(t *testing.T) {
	ctx := context.Background()
	src := it.PNG(t, it.Photo(1000, 600))
	resized, err := New(nil).Process(ctx, src, Options{Resize: true})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := New(nil).Process(ctx, src, Options{})
	for name, r := range map[string]*Result{"resized": resized, "as is": plain,
		"bomb": {Format: "png", Width: 1, Height: 1, Problem: ProblemBomb}} {
		img := imageOf(r, src)
		img.key = "name-" + name
		enc := encodeRecord(img)
		got, err := decodeRecord(enc, img.key)
		if err != nil || !sameImage(img, got) {
			t.Errorf("%s: decoded %+v, %v", name, got, err)
		}
		if _, err := decodeRecord(enc, "another"); err == nil {
			t.Errorf("%s: read under another name", name)
		}
		for n := range enc {
			if _, err := decodeRecord(enc[:n], img.key); err == nil {
				t.Errorf("%s: the first %d of %d bytes decode", name, n, len(enc))
			}
			c := bytes.Clone(enc)
			c[n] ^= 0x10
			if _, err := decodeRecord(c, img.key); err == nil {
				t.Errorf("%s: byte %d flipped decodes", name, n)
			}
		}
	}
}

// sameImage compares what a record holds.
func sameImage(a, b *Image) bool {
	same := func(x, y *File) bool {
		return x == nil && y == nil || x != nil && y != nil && x.Size == y.Size && x.Sum == y.Sum && x.crc == y.crc && x.source == y.source
	}
	if a.Format != b.Format || a.Width != b.Width || a.Height != b.Height || a.Location != b.Location ||
		a.Problem != b.Problem || !same(a.Data, b.Data) || len(a.Variants) != len(b.Variants) {
		return false
	}
	for i, v := range a.Variants {
		w := b.Variants[i]
		if v.Width != w.Width || v.Height != w.Height || !same(v.Data, w.Data) || !same(v.WebP, w.WebP) {
			return false
		}
	}
	return true
}

// TestSameImageAtOnce: posts that show the same image (one blob) ask for
// it on several goroutines at once; it is treated once, the others wait
// and are served from the cache, and every one gets the same files.
func TestSameImageAtOnce(t *testing.T) {
	ctx := context.Background()
	data := photo(t)
	var mu sync.Mutex
	reads := 0
	read := func() ([]byte, error) {
		mu.Lock()
		reads++
		mu.Unlock()
		time.Sleep(20 * time.Millisecond) // the others arrive while it is treated
		return data, nil
	}
	p := New(NewDirCache(t.TempDir()))
	o := Options{Resize: true}
	imgs := make([]*Image, 8)
	errs := make([]error, len(imgs))
	var wg sync.WaitGroup
	for i := range imgs {
		wg.Go(func() { imgs[i], errs[i] = p.Image(ctx, photoID, read, o) })
	}
	wg.Wait()
	if reads != 1 {
		t.Fatalf("the image's bytes were read %d times; want once", reads)
	}
	want, err := New(nil).Process(ctx, data, o)
	if err != nil {
		t.Fatal(err)
	}
	for i, img := range imgs {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		img, err := p.Load(ctx, img, img.Files()...)
		if err != nil {
			t.Fatalf("caller %d: load: %v", i, err)
		}
		if !sameResult(want, img.result()) {
			t.Fatalf("caller %d: the image differs from Process's", i)
		}
	}

}
