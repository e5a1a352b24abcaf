package publisher

import (
	"fmt"
	"maps"
	"testing"

	"github.com/publishbot/publishbot/templates"
)

// asMap is fi as a map, for comparing.
func (fi *fileIndex) asMap() map[string]manifestEntry {
	m := make(map[string]manifestEntry, fi.len())
	for i, p := range fi.paths {
		m[p] = fi.entries[i]
	}
	return m
}

// Every path is found with its entry, no other path is, and keep leaves
// exactly the files it keeps, still found.
func TestFileIndex(t *testing.T) {
	var empty fileIndex
	if _, ok := empty.get("a"); ok || empty.find("") != -1 {
		t.Fatal("an empty index finds a file")
	}
	for _, n := range []int{0, 1, 2, 3, 7, 64, 1000} {
		files := map[string]manifestEntry{}
		for i := range n {
			files[fmt.Sprintf("posts/p%d/index.html", i)] = manifestEntry{key: templates.Key{byte(i)}, size: int64(i)}
		}
		fi := indexFiles(files)
		if !maps.Equal(fi.asMap(), files) || fi.len() != n {
			t.Fatalf("%d files: index holds %d", n, fi.len())
		}
		for p, e := range files {
			if got, ok := fi.get(p); !ok || got != e {
				t.Fatalf("%d files: %s is %v %v", n, p, got, ok)
			}
		}
		for _, p := range []string{"", "posts", "posts/p1/index.htm", fmt.Sprintf("posts/p%d/index.html", n)} {
			if _, ok := fi.get(p); ok {
				t.Fatalf("%d files: %q found", n, p)
			}
		}
		places := fi.keep(func(i int) bool { return i%3 == 0 })
		for j, i := range places {
			if i%3 != 0 || (j > 0 && places[j-1] >= i) {
				t.Fatalf("%d files: kept places %v", n, places)
			}
		}
		for p, e := range files {
			got, ok := fi.get(p)
			if want := sortedPlace(files, p)%3 == 0; ok != want || (ok && got != e) {
				t.Fatalf("%d files: after keep, %s is %v %v", n, p, got, ok)
			}
		}
	}
}

// sortedPlace is p's place among files' paths in order.
func sortedPlace(files map[string]manifestEntry, p string) int {
	n := 0
	for q := range files {
		if q < p {
			n++
		}
	}
	return n
}
