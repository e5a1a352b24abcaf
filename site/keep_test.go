package site

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/templates"
)

// mapStore is a Store in memory.
type mapStore map[[32]byte][]byte

func (m mapStore) Get(k [32]byte) ([]byte, bool) { v, ok := m[k]; return v, ok }
func (m mapStore) Put(k [32]byte, v []byte)      { m[k] = v }

// TestLastBuild: the record of a build's keys is read back for the same
// folders and options, for the files still in the output folder as
// written; a damaged record, another build into the folder, or other
// options give none.
func TestLastBuild(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	files := map[string][]byte{"index.html": []byte("<p>home</p>"), "posts/a/index.html": []byte("<p>a</p>"), "feed.xml": []byte("<feed/>")}
	if _, _, err := Write(t.Context(), out, files); err != nil {
		t.Fatal(err)
	}
	b := &Output{Site: &posts.Site{}, Files: files, Keys: templates.KeyMap{}}
	for p := range files {
		b.Keys[p] = templates.Key{p[0], 1}
	}
	store := mapStore{}
	opts := Options{BaseURL: "https://acme.github.io/t/"}
	if err := RememberBuild(store, dir, out, opts, b, Previous{}); err != nil {
		t.Fatal(err)
	}
	prev, ok := LastBuild(store, dir, out, opts)
	if !ok || prev.Keys.Len() != 3 || !slices.Equal(prev.Paths, []string{"feed.xml", "index.html", "posts/a/index.html"}) {
		t.Fatalf("read back: %v %+v", ok, prev)
	}
	if k, ok := prev.Keys.Key("posts/a/index.html"); !ok || k != b.Keys["posts/a/index.html"] || prev.Size("posts/a/index.html") != 8 {
		t.Errorf("posts/a: %v %v %d", k, ok, prev.Size("posts/a/index.html"))
	}

	// a file changed or taken out by hand is not kept
	os.WriteFile(filepath.Join(out, "feed.xml"), []byte("<feed>longer</feed>"), 0o644)
	os.Remove(filepath.Join(out, "index.html"))
	if prev, ok := LastBuild(store, dir, out, opts); !ok || prev.Keys.Len() != 1 {
		t.Errorf("after hand edits: %v, %d keys, want posts/a's alone", ok, prev.Keys.Len())
	}
	if _, ok := LastBuild(store, dir, out, Options{BaseURL: "https://other.example/"}); ok {
		t.Error("a build with other options read the record")
	}
	key, _ := keysKey(dir, out, opts)
	good := store[key]
	for name, bad := range map[string][]byte{"truncated": good[:len(good)-3], "empty": nil, "flipped magic": append([]byte{'x'}, good[1:]...)} {
		store[key] = bad
		if _, ok := LastBuild(store, dir, out, opts); ok {
			t.Errorf("%s record trusted", name)
		}
	}
	store[key] = good
	if _, _, err := Write(t.Context(), out, map[string][]byte{"other.html": nil}); err != nil { // another build into out
		t.Fatal(err)
	}
	if _, ok := LastBuild(store, dir, out, opts); ok {
		t.Error("the record was trusted after another build wrote into the folder")
	}
}

// FuzzDecodeKeys: a record from the cache that does not decode is an
// error, never a panic, and one that decodes has sorted valid paths.
func FuzzDecodeKeys(f *testing.F) {
	f.Add([]byte(keysMagic + string(make([]byte, 32)) + "\x01\x05a.htm" + string(make([]byte, 32)) + "\x07"))
	f.Add([]byte(keysMagic))
	f.Add([]byte("junk"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, paths, keys, sizes, err := decodeKeys(data)
		if err != nil {
			return
		}
		if len(paths) != len(keys) || len(paths) != len(sizes) || !slices.IsSorted(paths) {
			t.Fatalf("decoded %d paths, %d keys, %d sizes", len(paths), len(keys), len(sizes))
		}
	})
}
