package posts

import (
	"crypto/sha256"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

// countingCache is a mapCache that counts the reads of posts' bodies and
// can say what it holds (as buildcache.Cache does).
type countingCache struct {
	mapCache
	mu     sync.Mutex
	bodies int
	keys   map[[32]byte]bool // body keys
}

func (c *countingCache) Get(k [32]byte) ([]byte, bool) {
	c.mu.Lock()
	if c.keys[k] {
		c.bodies++
	}
	c.mu.Unlock()
	return c.mapCache.Get(k)
}

func (c *countingCache) Has(k [32]byte) bool {
	c.mapCache.mu.Lock()
	defer c.mapCache.mu.Unlock()
	_, ok := c.m[k]
	return ok
}

var lazySite = fstest.MapFS{
	"publish.yaml":          {Data: []byte("title: T\nbase_url: https://acme.github.io/t/\n")},
	"posts/2026-01-01-a.md": {Data: []byte("---\ntitle: A\n---\n\nA's body with ![one](x.png) and <img src=\"/y.png\" alt=\"y\">.\n")},
	"posts/2026-01-02-b.md": {Data: []byte("---\ntitle: B\n---\n\nB's body.\n")},
	"posts/x.png":           {Data: []byte("PNG")},
}

// lazyNow is the time lazySite is loaded at.
var lazyNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// loadLazySite loads lazySite without a cache (plain) and once through an
// empty counting cache, which it returns filled.
func loadLazySite(t *testing.T) (plain *Site, cache *countingCache) {
	t.Helper()
	plain, err := Load(t.Context(), lazySite, Options{Now: lazyNow})
	if err != nil {
		t.Fatal(err)
	}
	cache = &countingCache{mapCache: mapCache{m: map[[32]byte][]byte{}}, keys: map[[32]byte]bool{}}
	if _, err := Load(t.Context(), lazySite, Options{Now: lazyNow, Cache: cache}); err != nil {
		t.Fatal(err)
	}
	return plain, cache
}

// TestLazyBodies: a Load served from the cache reads no post's HTML or text
// until asked, gives the same bodies, digests and image sources as a Load
// that rendered them, and a body gone from the cache since is BodyErr, not
// a silent empty post.
func TestLazyBodies(t *testing.T) {
	plain, cache := loadLazySite(t)
	for _, p := range plain.Posts {
		html, text := p.HTML(), p.Text()
		cache.keys[bodyKey("html", sha256.Sum256([]byte(neutralHTML(html))))] = true
		cache.keys[bodyKey("text", sha256.Sum256([]byte(text)))] = true
	}
	got, err := Load(t.Context(), lazySite, Options{Now: lazyNow, Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if cache.bodies != 0 {
		t.Errorf("Load read %d bodies", cache.bodies)
	}
	if a := got.Posts[1]; a.Title != "A" || !slices.Equal(a.ImageSources(), []string{"/t/posts/x.png", "/t/y.png"}) {
		t.Errorf("image sources of %s without reading the body: %q", a.Title, a.ImageSources())
	}
	for i, p := range got.Posts {
		want := plain.Posts[i]
		if p.HTML() != want.HTML() || p.Text() != want.Text() || p.BodyErr() != nil {
			t.Errorf("%s: lazy body differs: %q %q %v", p.Title, p.HTML(), p.Text(), p.BodyErr())
		}
	}
	if cache.bodies != 2*len(got.Posts) {
		t.Errorf("%d bodies read for %d posts", cache.bodies, len(got.Posts))
	}

	// A body removed after Load: an error, not an empty page.
	again, err := Load(t.Context(), lazySite, Options{Now: lazyNow, Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	p := again.Posts[0]
	cache.mapCache.mu.Lock()
	delete(cache.m, p.body.htmlKey)
	cache.mapCache.mu.Unlock()
	if h := p.HTML(); h != "" || p.BodyErr() == nil || !strings.Contains(p.BodyErr().Error(), p.Path) {
		t.Errorf("a body gone from the cache: %q, %v", h, p.BodyErr())
	}

	// A body gone before Load: the post is rendered again.
	again, err = Load(t.Context(), lazySite, Options{Now: lazyNow, Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if p := again.Posts[0]; p.HTML() != plain.Posts[0].HTML() || p.BodyErr() != nil {
		t.Errorf("a body missing at Load was not rendered again: %q %v", p.HTML(), p.BodyErr())
	}
}

// TestImageSources: the sources as the HTML tokenizer gives them (it keeps
// the first of repeated attributes), which templates' image rewriting uses.
func TestImageSources(t *testing.T) {
	for html, want := range map[string][]string{
		"":                                 nil,
		"<p>no images</p>":                 nil,
		`<p><img src="a.png" alt="a"></p>`: {"a.png"},
		`<IMG SRC="B.PNG"><img alt="no src"/><img src="x" src="y">`:                {"B.PNG", "", "x"},
		`<picture><source srcset="s.webp"><img src="p.jpg"></picture>`:             {"p.jpg"},
		`<pre><code>&lt;img src="not.png"&gt;</code></pre><img src="a&amp;b.png">`: {"a&b.png"},
	} {
		if got := imageSources(html); !slices.Equal(got, want) {
			t.Errorf("imageSources(%q) = %q, want %q", html, got, want)
		}
	}
}

// TestBodyDigest: the digest changes with the HTML and with the text, and
// not otherwise.
func TestBodyDigest(t *testing.T) {
	d := func(html, text string) [32]byte {
		p := &Post{}
		p.SetBody(html, text)
		return p.BodyDigest()
	}
	k := d("<p>a</p>", "a")
	if d("<p>a</p>", "a") != k || (&Post{}).BodyDigest() != d("", "") {
		t.Error("equal bodies, different digests")
	}
	if d("<p>b</p>", "a") == k || d("<p>a</p>", "b") == k || d("<p>a</p>a", "") == k {
		t.Error("a changed body kept its digest")
	}
}

// TestCachedSearchWords: a post served from the cache reads its search
// words from the cache on every call and keeps nothing (so that a build
// does not hold every post's words); they are those of a render; words
// gone from the cache after Load are folded from the text instead, and
// words gone before Load make the post render again.
func TestCachedSearchWords(t *testing.T) {
	plain, cache := loadLazySite(t)
	for _, p := range plain.Posts {
		cache.keys[wordsKey(sha256.Sum256([]byte(p.Text())))] = true
	}
	got, err := Load(t.Context(), lazySite, Options{Now: lazyNow, Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if cache.bodies != 0 {
		t.Errorf("Load read the words of %d posts", cache.bodies)
	}
	for i, p := range got.Posts {
		want := plain.Posts[i].SearchWords()
		if want == "" {
			t.Fatalf("%s: no words to compare", p.Title)
		}
		w, ok := p.KnownSearchWords()
		if !ok || w != want || p.SearchWords() != want {
			t.Errorf("%s: cached words %q (%v), want %q", p.Title, w, ok, want)
		}
		if p.body.words != "" {
			t.Errorf("%s: the cached words were kept in the post", p.Title)
		}
	}
	if cache.bodies != 2*len(got.Posts) {
		t.Errorf("%d reads of words for 2 calls on %d posts", cache.bodies, len(got.Posts))
	}

	// Gone after Load: folded from the text.
	p := got.Posts[0]
	cache.mapCache.mu.Lock()
	delete(cache.m, p.body.wordsKey)
	cache.mapCache.mu.Unlock()
	if w := p.SearchWords(); w != plain.Posts[0].SearchWords() || p.BodyErr() != nil {
		t.Errorf("words gone from the cache: %q, %v", w, p.BodyErr())
	}
	// Gone before Load: the post is rendered again, and its words put back.
	again, err := Load(t.Context(), lazySite, Options{Now: lazyNow, Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if again.Posts[0].SearchWords() != plain.Posts[0].SearchWords() {
		t.Errorf("a post whose words were missing at Load has words %q", again.Posts[0].SearchWords())
	}
	if !cache.Has(p.body.wordsKey) {
		t.Errorf("the render did not put the words back")
	}
}

// TestRenderedBodiesAreReadBack: with a cache, a post rendered in this
// build keeps no body (a first publish would hold every post's until the
// end): its HTML, text and words are read back from what it Put, at each
// use, and are those a Load without a cache gives.
func TestRenderedBodiesAreReadBack(t *testing.T) {
	plain, err := Load(t.Context(), lazySite, Options{Now: lazyNow})
	if err != nil {
		t.Fatal(err)
	}
	cache := &countingCache{mapCache: mapCache{m: map[[32]byte][]byte{}}, keys: map[[32]byte]bool{}}
	for _, p := range plain.Posts {
		cache.keys[bodyKey("html", sha256.Sum256([]byte(neutralHTML(p.HTML()))))] = true
	}
	got, err := Load(t.Context(), lazySite, Options{Now: lazyNow, Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Posts) != len(plain.Posts) {
		t.Fatalf("%d posts, want %d", len(got.Posts), len(plain.Posts))
	}
	read := cache.bodies
	for i, p := range got.Posts {
		want := plain.Posts[i]
		if p.body.html != "" || p.body.text != "" || p.body.words != "" {
			t.Errorf("%s: the rendered body is held by the post", p.Title)
		}
		if p.HTML() != want.HTML() || p.Text() != want.Text() || p.SearchWords() != want.SearchWords() ||
			!slices.Equal(p.ImageSources(), want.ImageSources()) || p.BodyErr() != nil {
			t.Errorf("%s: body read back differs: %q %q %v", p.Title, p.HTML(), p.Text(), p.BodyErr())
		}
		p.HTML()
	}
	if n := cache.bodies - read; n != 2*len(got.Posts) {
		t.Errorf("%d reads of the HTML for 2 calls on %d posts: kept, not read back", n, len(got.Posts))
	}
}

// neutralHTML is lazySite's HTML as a cache keeps it: its base path /t/
// written as the placeholder (neutral.go).
func neutralHTML(html string) string { return strings.ReplaceAll(html, `"/t/`, `"`+basePlaceholder) }
