package imagery

import (
	"context"
	"fmt"
	"testing"

	it "github.com/publishbot/publishbot/imagery/imagerytest"
)

// BenchmarkProcess is the cost of one image by size: read, strip, resize
// to every variant, encode them and their WebP forms (cold), and the same
// image again from a cache (cached).
//
//	go test -run '^$' -bench Process -benchmem ./imagery
func BenchmarkProcess(b *testing.B) {
	for _, tc := range []struct {
		format string
		w, h   int
	}{{"jpeg", 1200, 800}, {"jpeg", 2400, 1600}, {"jpeg", 4000, 3000}, {"png", 1600, 1000}} {
		img := it.Photo(tc.w, tc.h)
		data := it.JPEG(b, img)
		if tc.format == "png" {
			data = it.PNG(b, img)
		}
		data = it.WithEXIF(data, it.EXIF(1, true))
		if tc.format == "png" {
			data = it.WithPNGText(it.PNG(b, img), it.EXIF(1, true))
		}
		name := fmt.Sprintf("%s-%dx%d", tc.format, tc.w, tc.h)
		ctx := context.Background()
		b.Run(name+"/cold", func(b *testing.B) {
			p := New(nil)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := p.Process(ctx, data, Options{Resize: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/cached", func(b *testing.B) {
			p := New(NewMemCache())
			if _, err := p.Process(ctx, data, Options{Resize: true}); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := p.Process(ctx, data, Options{Resize: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
