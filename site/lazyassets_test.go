package site

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/publishbot/publishbot/imagery"
	it "github.com/publishbot/publishbot/imagery/imagerytest"
	"github.com/publishbot/publishbot/templates"
)

// idFS is a content tree that names each file's content as gitstore's
// trees do (posts.ContentIDs: the git blob id), and counts the files
// opened, by path.
type idFS struct {
	fstest.MapFS
	mu    sync.Mutex
	opens map[string]int
}

func withIDs(m fstest.MapFS) *idFS { return &idFS{MapFS: m, opens: map[string]int{}} }

// Open opens name, counting it when it is a file. idFS has no ReadFile, so
// fs.ReadFile comes here too.
func (f *idFS) Open(name string) (fs.File, error) {
	if mf, ok := f.MapFS[name]; ok && !mf.Mode.IsDir() {
		f.mu.Lock()
		f.opens[name]++
		f.mu.Unlock()
	}
	return f.MapFS.Open(name)
}

func (f *idFS) ContentID(name string) (string, bool) {
	mf, ok := f.MapFS[name]
	if !ok || mf.Mode.IsDir() {
		return "", false
	}
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(mf.Data))
	h.Write(mf.Data)
	return hex.EncodeToString(h.Sum(nil)), true
}

// opened is the files opened since the last call whose names match.
func (f *idFS) opened(match func(string) bool) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for p := range f.opens {
		if match(p) {
			out = append(out, p)
		}
	}
	f.opens = map[string]int{}
	slices.Sort(out)
	return out
}

// readCountingCache counts the reads of an image cache by kind of entry
// ("bin": the files' bytes, "imm": records, "catalog", "img").
type readCountingCache struct {
	imagery.Cache
	mu   sync.Mutex
	gets map[string]int
}

func (c *readCountingCache) Get(k string) ([]byte, bool) {
	kind, _, _ := strings.Cut(k, "-")
	c.mu.Lock()
	if c.gets == nil {
		c.gets = map[string]int{}
	}
	c.gets[kind]++
	c.mu.Unlock()
	return c.Cache.Get(k)
}

func (c *readCountingCache) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.gets
	c.gets = nil
	return g
}

func isAsset(p string) bool {
	return strings.HasPrefix(p, "static/") || !strings.HasSuffix(p, ".md") && p != "publish.yaml" && !strings.HasPrefix(p, "templates/")
}

// TestUnchangedImagesNotRead: a build on top of the previous one (a fresh
// image processor on the same cache folder, as a new `publishbot publish`
// process) with nothing changed reads no image, no other asset and no
// cached file: one read of the image catalog. It keeps every asset and
// image file, and is the full build byte for byte.
func TestUnchangedImagesNotRead(t *testing.T) {
	m := photoSite(t, "")
	m["static/notes.txt"] = &fstest.MapFile{Data: []byte("plain static file")}
	m["posts/photo/data.csv"] = &fstest.MapFile{Data: []byte("a,b\n1,2\n")}
	content := withIDs(m)
	dir := t.TempDir()
	opts := Options{Now: fixedNow, Render: templates.Options{Images: imagery.New(imagery.NewDirCache(dir))}}
	files, keys, _ := incremental(t, "first", content, opts, nil, nil)
	content.opened(isAsset)

	cache := &readCountingCache{Cache: imagery.NewDirCache(dir)}
	opts.Render.Images = imagery.New(cache)
	_, _, rendered := incremental(t, "nothing changed", content, opts, files, keys)
	if got := content.opened(isAsset); len(got) != 0 {
		t.Errorf("the build on top of the previous one read %v", got)
	}
	if g := cache.take(); len(g) != 1 || g["catalog"] != 1 {
		t.Errorf("image cache reads %v, want the catalog only", g)
	}
	for _, p := range rendered {
		if isAsset(p) && !strings.HasSuffix(p, ".html") {
			t.Errorf("%s was written again", p)
		}
	}
}

// TestImageEditsIncremental: each image edit, built on top of the build
// before with the image cache, is the full build byte for byte, and
// writes only the files of the image that changed.
func TestImageEditsIncremental(t *testing.T) {
	m := photoSite(t, "")
	other := m["static/img/chart.png"].Data
	edits := []struct {
		name  string
		edit  func(fstest.MapFS)
		image string // the image whose files may change ("" any)
	}{
		{"first", func(fstest.MapFS) {}, ""},
		{"nothing", func(fstest.MapFS) {}, "-"},
		{"cover replaced", func(c fstest.MapFS) { c["posts/photo/cover.jpg"] = &fstest.MapFile{Data: photo(t, 1300, 900)} }, "posts/photo/cover"},
		{"image replaced by another", func(c fstest.MapFS) { c["posts/photo/inner.png"] = &fstest.MapFile{Data: other} }, "posts/photo/inner"},
		{"image removed", func(c fstest.MapFS) { delete(c, "static/img/chart.png") }, "img/chart"},
		{"image back", func(c fstest.MapFS) { c["static/img/chart.png"] = &fstest.MapFile{Data: other} }, "img/chart"},
		{"resize off", func(c fstest.MapFS) { setYAML(c, "images: {resize: false}\n") }, ""},
		{"resize on", func(c fstest.MapFS) { setYAML(c, "") }, ""},
		{"keep metadata", func(c fstest.MapFS) { setYAML(c, "images: {keep_metadata: true}\n") }, ""},
		{"strip metadata", func(c fstest.MapFS) { setYAML(c, "") }, ""},
	}
	dir := t.TempDir()
	var files map[string][]byte
	var keys map[string]templates.Key
	for _, e := range edits {
		e.edit(m)
		content := withIDs(m)
		opts := Options{Now: fixedNow, Render: templates.Options{Images: imagery.New(imagery.NewDirCache(dir))}}
		var rendered []string
		files, keys, rendered = incremental(t, e.name, content, opts, files, keys)
		if e.image == "" {
			continue
		}
		for _, p := range rendered {
			if imageFile(p) && !strings.HasPrefix(p, e.image) {
				t.Errorf("%s: %s written again", e.name, p)
			}
		}
		if read := content.opened(func(p string) bool {
			return imageFile(p) && !strings.HasPrefix(p, "static/"+e.image) && !strings.HasPrefix(p, e.image)
		}); len(read) != 0 {
			t.Errorf("%s: read %v", e.name, read)
		}
	}
}

func imageFile(p string) bool {
	switch filepath.Ext(p) {
	case ".jpg", ".png", ".webp", ".gif":
		return true
	}
	return false
}

func setYAML(c fstest.MapFS, extra string) {
	c["publish.yaml"] = &fstest.MapFile{Data: []byte("title: Photos\nbase_url: https://example.org/blog/\n" + extra)}
}

// TestDamagedImageCacheIncremental: a damaged catalog, record or cached
// file met by a build on top of the previous one that must write the
// image's files is discarded: the files are made again from the image.
func TestDamagedImageCacheIncremental(t *testing.T) {
	for _, kind := range []string{"catalog", "imm", "bin"} {
		t.Run(kind, func(t *testing.T) {
			m := photoSite(t, "")
			dir := t.TempDir()
			opts := Options{Now: fixedNow, Render: templates.Options{Images: imagery.New(imagery.NewDirCache(dir))}}
			files, keys, _ := incremental(t, "first", withIDs(m), opts, nil, nil)
			if kind == "imm" {
				removeCacheFiles(t, dir, "catalog")
			}
			n := 0
			filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), kind) {
					b, _ := os.ReadFile(p)
					b[len(b)/2] ^= 0x20
					os.WriteFile(p, b, 0o644)
					n++
				}
				return err
			})
			if n == 0 {
				t.Fatalf("no %s entries", kind)
			}
			// The previous build is forgotten: every file is written, from
			// bytes that must not come from a damaged entry.
			opts.Render.Images = imagery.New(imagery.NewDirCache(dir))
			for p := range keys {
				if imageFile(p) {
					delete(keys, p)
				}
			}
			incremental(t, "damaged "+kind, withIDs(m), opts, files, keys)
		})
	}
}

func removeCacheFiles(t *testing.T, dir, prefix string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), prefix) {
			return os.Remove(p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// photo is a JPEG photo of w×h pixels with a GPS location.
func photo(t testing.TB, w, h int) []byte {
	return it.WithEXIF(it.JPEG(t, it.Photo(w, h)), it.EXIF(1, true))
}

// TestKeptAssetReplacedByGenerated: a static file at the path of a file
// the renderer makes (robots.txt, which a preview replaces) is replaced by
// it; kept unread when unchanged, it must not keep the generated file
// from being made again.
func TestKeptAssetReplacedByGenerated(t *testing.T) {
	m := fstest.MapFS{
		"publish.yaml":          {Data: []byte("title: Robots\nbase_url: https://example.org/blog/\n")},
		"posts/2026-05-01-a.md": {Data: []byte("---\ntitle: A\n---\nText.\n")},
		"static/robots.txt":     {Data: []byte("User-agent: *\n")},
	}
	var files map[string][]byte
	var keys map[string]templates.Key
	for _, pr := range []int{3, 4, 0} {
		opts := Options{Now: fixedNow, Render: templates.Options{PreviewPR: pr}}
		files, keys, _ = incremental(t, fmt.Sprint("preview ", pr), withIDs(m), opts, files, keys)
	}
}
