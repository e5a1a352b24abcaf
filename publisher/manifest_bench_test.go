package publisher

import (
	"fmt"
	"slices"
	"testing"

	"github.com/publishbot/publishbot/site"
	"github.com/publishbot/publishbot/templates"
)

// benchManifest is the record of a blog of 20,000 posts at
// /year/month/slug/: 61,200 files, three a post, and 20,621 folders.
func benchManifest() manifest {
	files := map[string]manifestEntry{}
	var m manifest
	for y := range 17 {
		for mo := range 12 {
			for d := range 100 {
				dir := fmt.Sprintf("%d/%02d/post-with-a-title-%d", 2010+y, mo+1, d)
				m.folders = append(m.folders, manifestFolder{path: dir})
				for _, f := range []string{"index.html", "cover.png", "old.html"} {
					files[dir+"/"+f] = manifestEntry{key: templates.Key{byte(d)}, size: 1000}
				}
			}
			m.folders = append(m.folders, manifestFolder{path: fmt.Sprintf("%d/%02d", 2010+y, mo+1)})
		}
		m.folders = append(m.folders, manifestFolder{path: fmt.Sprint(2010 + y)})
	}
	m.files = indexFiles(files)
	return m
}

// BenchmarkDecodeManifest reads the record of a blog of 20,000 posts, as
// every publish of it does.
func BenchmarkDecodeManifest(b *testing.B) {
	data := encodeManifest(benchManifest())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeManifest(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecord makes the record of an edit of that blog that made 25
// files again and kept the 61,175 others, with the folders under the 17
// years carried from the last record (the workload of a one-post edit's
// record, spread over the whole blog).
func BenchmarkRecord(b *testing.B) {
	m, err := decodeManifest(encodeManifest(benchManifest())) // as the last build's record is read
	if err != nil {
		b.Fatal(err)
	}
	inc := &incremental{last: m.files, folders: m.folders, raw: m.raw, fileSpans: m.fileSpans, folderSpans: m.folderSpans}
	out := &site.Output{Files: map[string][]byte{}, Keys: map[string]templates.Key{}}
	hashes := map[string]string{}
	for i, p := range inc.last.paths {
		if i%2500 == 0 {
			out.Files[p] = []byte("made")
			hashes[p] = "0123456789012345678901234567890123456789"
		} else {
			out.Kept = append(out.Kept, p)
		}
		out.Keys[p] = inc.last.entries[i].key
	}
	for y := range 17 {
		inc.keptFolders = append(inc.keptFolders, fmt.Sprint(2010+y))
	}
	slices.Sort(inc.keptFolders)
	b.ReportAllocs()
	for b.Loop() {
		inc.record(out, hashes, nil, [20]byte{})
	}
}
