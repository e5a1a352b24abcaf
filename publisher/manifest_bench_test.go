package publisher

import (
	"fmt"
	"testing"

	"github.com/publishbot/publishbot/templates"
)

// BenchmarkDecodeManifest reads the record of a blog of 20,000 posts:
// 61,200 files and 20,621 folders, as every publish of it does.
func BenchmarkDecodeManifest(b *testing.B) {
	m := manifest{files: map[string]manifestEntry{}}
	for y := range 17 {
		for mo := range 12 {
			for d := range 100 {
				dir := fmt.Sprintf("%d/%02d/post-with-a-title-%d", 2010+y, mo+1, d)
				m.folders = append(m.folders, manifestFolder{path: dir})
				for _, f := range []string{"index.html", "cover.png", "old.html"} {
					m.files[dir+"/"+f] = manifestEntry{key: templates.Key{byte(d)}, size: 1000}
				}
			}
			m.folders = append(m.folders, manifestFolder{path: fmt.Sprintf("%d/%02d", 2010+y, mo+1)})
		}
		m.folders = append(m.folders, manifestFolder{path: fmt.Sprint(2010 + y)})
	}
	data := encodeManifest(m)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeManifest(data); err != nil {
			b.Fatal(err)
		}
	}
}
