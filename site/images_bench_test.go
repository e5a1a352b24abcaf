package site

import (
	"testing"

	"github.com/publishbot/publishbot/imagery"
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
