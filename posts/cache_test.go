package posts

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

// TestReadFileRecorded: a file read through the walker's readFile (the
// hook for includes, images and shortcode templates) is recorded, and a
// cached render that read it is used only while its bytes are the same.
func TestReadFileRecorded(t *testing.T) {
	fsys := fstest.MapFS{"_includes/note.html": {Data: []byte("<p>note</p>")}}
	l := &loader{tree: &tree{fsys: fsys, files: map[string]int64{"_includes/note.html": 11}}}
	idx := &siteIndex{}
	w := &walker{l: l, idx: idx, reads: &Reads{}}
	b, err := w.readFile("_includes/note.html")
	if err != nil || string(b) != "<p>note</p>" {
		t.Fatalf("read %q, %v", b, err)
	}
	if _, err := w.readFile("_includes/missing.html"); err == nil {
		t.Fatal("a missing file was read")
	}
	reads := w.reads.list
	if len(reads) != 2 || reads[0].Kind != readBytes {
		t.Fatalf("recorded %+v", reads)
	}
	if !l.stillValid(idx, reads) {
		t.Fatal("unchanged files: the cached render is refused")
	}
	fsys["_includes/note.html"] = &fstest.MapFile{Data: []byte("<p>changed</p>")}
	if l.stillValid(idx, reads) {
		t.Error("an included file changed: the cached render is still used")
	}
	fsys["_includes/note.html"] = &fstest.MapFile{Data: []byte("<p>note</p>")}
	fsys["_includes/missing.html"] = &fstest.MapFile{Data: []byte("now here")}
	if l.stillValid(idx, reads) {
		t.Error("a missing included file appeared: the cached render is still used")
	}
	if l.stillValid(idx, []cachedRead{{Kind: "from-a-newer-version", Arg: "x", Answer: ""}}) {
		t.Error("a read of an unknown kind was trusted")
	}
}

// mapCache is a RenderCache in memory.
type mapCache struct {
	mu sync.Mutex
	m  map[[32]byte][]byte
}

func (c *mapCache) Get(k [32]byte) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *mapCache) Put(k [32]byte, v []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[k] = v
}

// TestCachedRenderRestoresPost: a Load served from the cache gives every
// post, page, section and diagnostic exactly as a Load without it, so a
// field that rendering learns to set later and the cache does not keep
// fails here.
func TestCachedRenderRestoresPost(t *testing.T) {
	fsys := fstest.MapFS{
		"publish.yaml":          {Data: []byte("title: T\nbase_url: https://acme.github.io/t/\ntoc: true\n")},
		"posts/2026-01-01-a.md": {Data: []byte("---\ntitle: A\nimage: cover.png\n---\n\nIntro with [b](2026-01-02-b.md), [missing](nowhere.md) and ![](x.png).\n\n## One\n\nText[^1].\n\n[^1]: A note.\n\n```go\nfunc main() {}\n```\n")},
		"posts/2026-01-02-b.md": {Data: []byte("---\ntitle: B\nmath: true\n---\n\nB's text <!--more--> and more. <script>x()</script> $x^2$\n\n```mermaid\ngraph TD; A-->B\n```\n")},
		"posts/cover.png":       {Data: []byte("PNG")},
		"pages/about.md":        {Data: []byte("---\ntitle: About\n---\n\nAbout [a](../posts/2026-01-01-a.md).\n")},
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	plain, err := Load(t.Context(), fsys, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	cache := &mapCache{m: map[[32]byte][]byte{}}
	for round := range 2 { // filling the cache, then served from it
		got, err := Load(t.Context(), fsys, Options{Now: now, Cache: cache})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(postViews(got.Posts), postViews(plain.Posts)) || !reflect.DeepEqual(got.Pages, plain.Pages) ||
			!reflect.DeepEqual(got.Diagnostics, plain.Diagnostics) || !reflect.DeepEqual(got.Assets, plain.Assets) {
			t.Errorf("round %d: the cached Load differs:\n%+v\n%+v", round, got.Posts, plain.Posts)
		}
	}
	if len(cache.m) == 0 {
		t.Error("nothing was cached")
	}
}

// TestFactsAreFmts: the facts a recorded read compares are written without
// fmt, byte for byte as fmt wrote them (answers cached by earlier builds
// stay equal).
func TestFactsAreFmts(t *testing.T) {
	for _, r := range []*postResult{
		{file: postFile{path: "posts/a.md"}, kind: kindPost, linkable: true, claimed: true, post: &Post{Title: `Say "hi" \ é 漢`, Section: "blog", Address: "posts/a b/"}},
		{file: postFile{path: "posts/\x01odd.md"}, kind: kindSection, expired: true, post: &Post{Title: "\xff", Draft: true, Future: true, Address: "x/"}},
		{file: postFile{path: "p.md"}},
	} {
		want := "nopost"
		if p := r.post; p != nil {
			want = fmt.Sprintf("%t|%t|%t|%d|%q|%q|%q|%t|%t|%q", r.linkable, r.expired, r.claimed, r.kind, r.file.path,
				p.Section, r.escapedAddress(), p.Draft, p.Future, p.Title)
		}
		if got := factsOf(r); got != want {
			t.Errorf("facts = %s, fmt made %s", got, want)
		}
	}
}
