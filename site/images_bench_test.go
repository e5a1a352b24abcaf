package site

import (
	"fmt"
	"testing"
	"testing/fstest"

	"github.com/publishbot/publishbot/imagery"
	it "github.com/publishbot/publishbot/imagery/imagerytest"
	"github.com/publishbot/publishbot/templates"
)

// BenchmarkExampleBlogImages is a whole build of examples/blog (11 posts,
// five images, two of them phone-sized photos): with every image treated
// anew (cold), from a warm cache (cached), and with images: {resize:
// false}'s work only (sizes and stripping; see noresize).
//
//	go test -run '^$' -bench ExampleBlogImages -benchmem ./site
func BenchmarkExampleBlogImages(b *testing.B) {
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			if _, err := BuildDir(b.Context(), exampleBlogDir, Options{Now: fixedNow, Render: templates.Options{Images: imagery.New(nil)}}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		p := imagery.New(imagery.NewMemCache())
		if _, err := BuildDir(b.Context(), exampleBlogDir, Options{Now: fixedNow, Render: templates.Options{Images: p}}); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := BuildDir(b.Context(), exampleBlogDir, Options{Now: fixedNow, Render: templates.Options{Images: p}}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkWarmImages is a build of a blog of 120 photos (and 120 other
// static files) on top of the previous build (Render.Previous), nothing
// changed, from a content tree that names its files' contents (as a git
// tree does), with a fresh image processor on a warm cache folder each
// time, as a `publishbot publish` process: what an unchanged image costs.
//
//	go test -run '^$' -bench WarmImages -benchmem ./site
func BenchmarkWarmImages(b *testing.B) {
	m := fstest.MapFS{
		"publish.yaml":          {Data: []byte("title: Photos\nbase_url: https://example.org/blog/\n")},
		"posts/2026-05-01-a.md": {Data: []byte("---\ntitle: A\n---\n![one](/photos/000.jpg)\n")},
	}
	for i := range 120 {
		m[fmt.Sprintf("static/photos/%03d.jpg", i)] = &fstest.MapFile{Data: it.JPEG(b, it.Photo(600+i, 400))}
		m[fmt.Sprintf("static/notes/%03d.txt", i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf("note %d", i))}
	}
	content := withIDs(m)
	dir := b.TempDir()
	build := func(prev templates.KeyMap) *Output {
		out, err := Build(b.Context(), content, nil, Options{Now: fixedNow, Render: templates.Options{Keys: true, Previous: prev, Images: imagery.New(imagery.NewDirCache(dir))}})
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	keys := build(nil).Keys
	b.ResetTimer()
	for b.Loop() {
		build(keys)
	}
}
