package site

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/publishbot/publishbot/buildcache"
	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/templates"
)

// The build cache must never change a build: every test here builds the
// same content with the cache and without it and wants the same files and
// diagnostics.

var cacheNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// assertSameBuild builds content with cache and without, and fails on any
// difference.
func assertSameBuild(t *testing.T, step string, content fstest.MapFS, cache posts.RenderCache, opts Options) {
	t.Helper()
	theme, err := TemplatesDir(content)
	if err != nil {
		t.Fatal(err)
	}
	full, ferr := Build(t.Context(), content, theme, opts)
	opts.Cache = cache
	inc, ierr := Build(t.Context(), content, theme, opts)
	if (ferr == nil) != (ierr == nil) {
		t.Fatalf("%s: error %v without the cache, %v with it", step, ferr, ierr)
	}
	if ferr != nil {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(full.Files)) {
		if got, ok := inc.Files[name]; !ok {
			t.Errorf("%s: %s is missing with the cache", step, name)
		} else if string(got) != string(full.Files[name]) {
			t.Errorf("%s: %s differs with the cache:\n%s", step, name, firstDiff(string(full.Files[name]), string(got)))
		}
	}
	for name := range inc.Files {
		if _, ok := full.Files[name]; !ok {
			t.Errorf("%s: %s is made only with the cache", step, name)
		}
	}
	if fmt.Sprint(full.Site.Diagnostics) != fmt.Sprint(inc.Site.Diagnostics) {
		t.Errorf("%s: diagnostics differ with the cache:\n%v\n%v", step, full.Site.Diagnostics, inc.Site.Diagnostics)
	}
	if fmt.Sprint(full.IndexPages) != fmt.Sprint(inc.IndexPages) {
		t.Errorf("%s: index pages differ with the cache", step)
	}
}

func firstDiff(want, got string) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	from := max(0, i-80)
	return fmt.Sprintf("want …%s…\ngot  …%s…", want[from:min(len(want), i+80)], got[from:min(len(got), i+80)])
}

func openCache(t *testing.T, dir string, version string) *buildcache.Cache {
	t.Helper()
	c, err := buildcache.Open(dir, buildcache.Options{Version: version})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// blogPost is a post of the random blog.
type blogPost struct {
	title, date, body string
	tags              []string
	draft             bool
	link              int  // index of a post it links to by its source file, -1 none
	photo             bool // shows the blog's photos (randomBlog.photos)
}

func (p blogPost) text(posts []*blogPost) string {
	var b strings.Builder
	fmt.Fprintf(&b, "---\ntitle: %q\ndate: %s\n", p.title, p.date)
	if len(p.tags) > 0 {
		fmt.Fprintf(&b, "tags: [%s]\n", strings.Join(p.tags, ", "))
	}
	if p.draft {
		b.WriteString("draft: true\n")
	}
	b.WriteString("---\n\n" + p.body + "\n")
	if p.photo {
		b.WriteString("\n![A photo](../static/photo.jpg)\n\n![A shot](shot.png)\n")
	}
	if p.link >= 0 && p.link < len(posts) && posts[p.link] != nil {
		fmt.Fprintf(&b, "\nSee [the other one](p%03d.md), [an image](../static/img.png) and [a missing page](/nowhere/).\n", p.link)
	}
	return b.String()
}

// TestCacheRandomEdits applies random sequences of edits to a blog and
// builds it with and without the cache after every one.
func TestCacheRandomEdits(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			blog := newRandomBlog(seed, 12)
			cache := &countingCache{Cache: openCache(t, t.TempDir(), "test")}
			build := func(step string) {
				assertSameBuild(t, step, blog.content(), cache, Options{Now: blog.now, Render: templates.Options{Images: referenceImages}})
				cache.Flush()
			}
			build("first")
			for step := range 40 {
				build(fmt.Sprintf("step %d: %s", step, blog.edit(step, build)))
			}
			if cache.hits.Load() == 0 {
				t.Error("the cache was never used")
			}
			puts := cache.puts.Load()
			build("nothing changed")
			if cache.puts.Load() != puts {
				t.Errorf("a build with nothing changed rendered %d posts again", cache.puts.Load()-puts)
			}
		})
	}
}

// countingCache counts the hits and puts of a cache. A hit is a value
// of an earlier build: a value Put since the last Flush (a build reads
// back the bodies it rendered) is not one.
type countingCache struct {
	*buildcache.Cache
	hits, puts atomic.Int64
	mu         sync.Mutex
	putNow     map[[32]byte]bool
}

func (c *countingCache) Get(k [32]byte) ([]byte, bool) {
	v, ok := c.Cache.Get(k)
	c.mu.Lock()
	mine := c.putNow[k]
	c.mu.Unlock()
	if ok && !mine {
		c.hits.Add(1)
	}
	return v, ok
}

func (c *countingCache) Put(k [32]byte, v []byte) {
	c.puts.Add(1)
	c.mu.Lock()
	if c.putNow == nil {
		c.putNow = map[[32]byte]bool{}
	}
	c.putNow[k] = true
	c.mu.Unlock()
	c.Cache.Put(k, v)
}

// Flush ends a build: what it Put counts as hits from now on.
func (c *countingCache) Flush() {
	c.mu.Lock()
	c.putNow = nil
	c.mu.Unlock()
	c.Cache.Flush()
}

// cacheBlog is a small blog whose posts link to each other, to a bundle's
// image and to a static file, with a theme override and a partial.
func cacheBlog() fstest.MapFS {
	return fstest.MapFS{
		"publish.yaml":                   {Data: []byte("title: Cached\nbase_url: https://acme.github.io/blog/\n")},
		"posts/2026-01-01-a.md":          {Data: []byte("---\ntitle: Alpha\n---\n\nSee [beta](2026-01-02-b.md) and [gamma](gamma/).\n")},
		"posts/2026-01-02-b.md":          {Data: []byte("---\ntitle: Beta\ntags: [x]\n---\n\nBeta text. ![logo](/logo.png)\n")},
		"posts/gamma/index.md":           {Data: []byte("---\ntitle: Gamma\ndate: 2026-01-03\n---\n\n![a picture](pic.png)\n")},
		"posts/gamma/pic.png":            {Data: []byte("PNG-1")},
		"static/logo.png":                {Data: []byte("LOGO-1")},
		"templates/post-footer.html":     {Data: []byte(`<p class="footer-1">footer</p>`)},
		"posts/2026-01-04-inc.md":        {Data: []byte("---\ntitle: Included\n---\n\n{% include note.html %}\n\nSee {% post_url 2026-01-02-b %}.\n")},
		"posts/2026-01-05-sc.md":         {Data: []byte("---\ntitle: Shortcode\n---\n\n{{< note >}}inside{{< /note >}}\n")},
		"_includes/note.html":            {Data: []byte("<p>Note.</p>")},
		"templates/shortcodes/note.html": {Data: []byte("<aside>{{ .Inner }}</aside>")},
	}
}

// TestCacheNeverStale changes one input at a time after a cached build and
// wants what a build without the cache makes.
func TestCacheNeverStale(t *testing.T) {
	edits := []struct {
		name string
		edit func(fstest.MapFS, *Options)
	}{
		{"linked post retitled", func(c fstest.MapFS, _ *Options) {
			c["posts/2026-01-02-b.md"] = &fstest.MapFile{Data: []byte("---\ntitle: Beta renamed\ntags: [x]\n---\n\nBeta text. ![logo](/logo.png)\n")}
		}},
		{"linked post moved", func(c fstest.MapFS, _ *Options) {
			c["posts/2026-01-02-b.md"] = &fstest.MapFile{Data: []byte("---\ntitle: Beta\nslug: beta-moved\n---\n\nBeta text.\n")}
		}},
		{"linked post deleted", func(c fstest.MapFS, _ *Options) { delete(c, "posts/2026-01-02-b.md") }},
		{"linked post draft", func(c fstest.MapFS, _ *Options) {
			c["posts/2026-01-02-b.md"] = &fstest.MapFile{Data: []byte("---\ntitle: Beta\ndraft: true\n---\n\nBeta text.\n")}
		}},
		{"bundle turned single file", func(c fstest.MapFS, _ *Options) {
			delete(c, "posts/gamma/index.md")
			delete(c, "posts/gamma/pic.png")
			c["posts/gamma.md"] = &fstest.MapFile{Data: []byte("---\ntitle: Gamma\ndate: 2026-01-03\n---\n\nNo picture.\n")}
		}},
		{"included file changed", func(c fstest.MapFS, _ *Options) {
			c["_includes/note.html"] = &fstest.MapFile{Data: []byte("<p>Note, changed.</p>")}
		}},
		{"shortcode template changed", func(c fstest.MapFS, _ *Options) {
			c["templates/shortcodes/note.html"] = &fstest.MapFile{Data: []byte("<aside>changed {{ .Inner }}</aside>")}
		}},
		{"image replaced", func(c fstest.MapFS, _ *Options) {
			c["posts/gamma/pic.png"] = &fstest.MapFile{Data: []byte("PNG-2, larger")}
		}},
		{"static file removed", func(c fstest.MapFS, _ *Options) { delete(c, "static/logo.png") }},
		{"partial changed", func(c fstest.MapFS, _ *Options) {
			c["templates/post-footer.html"] = &fstest.MapFile{Data: []byte(`<p class="footer-2">footer</p>`)}
		}},
		{"theme override added", func(c fstest.MapFS, _ *Options) {
			c["templates/head.html"] = &fstest.MapFile{Data: []byte(`<meta name="x-theme" content="2">`)}
		}},
		{"time zone changed", func(c fstest.MapFS, _ *Options) {
			c["publish.yaml"] = &fstest.MapFile{Data: []byte("title: Cached\nbase_url: https://acme.github.io/blog/\ntimezone: Asia/Tokyo\n")}
		}},
		{"base url changed", func(c fstest.MapFS, _ *Options) {
			c["publish.yaml"] = &fstest.MapFile{Data: []byte("title: Cached\nbase_url: https://example.org/other/\n")}
		}},
		{"unsafe html on", func(c fstest.MapFS, _ *Options) {
			c["publish.yaml"] = &fstest.MapFile{Data: []byte("title: Cached\nbase_url: https://acme.github.io/blog/\nunsafe_html: true\n")}
		}},
		{"preview base url", func(_ fstest.MapFS, o *Options) { o.BaseURL = "https://acme.github.io/blog/pr-preview/pr-7/" }},
		{"post scheduled then due", func(c fstest.MapFS, o *Options) {
			c["posts/2026-01-02-b.md"] = &fstest.MapFile{Data: []byte("---\ntitle: Beta\ndate: 2026-06-02\n---\n\nBeta text.\n")}
			o.Now = cacheNow.Add(48 * time.Hour)
		}},
		{"post moved into the future", func(c fstest.MapFS, _ *Options) {
			c["posts/2026-01-02-b.md"] = &fstest.MapFile{Data: []byte("---\ntitle: Beta\ndate: 2026-06-02\n---\n\nBeta text.\n")}
		}},
	}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			cache := openCache(t, t.TempDir(), "test")
			content := cacheBlog()
			opts := Options{Now: cacheNow}
			assertSameBuild(t, "before", content, cache, opts)
			cache.Flush()
			e.edit(content, &opts)
			assertSameBuild(t, "after", content, cache, opts)
		})
	}
}

// TestCacheVersion: values of another publishbot build are never read.
func TestCacheVersion(t *testing.T) {
	dir := t.TempDir()
	content := cacheBlog()
	a := &countingCache{Cache: openCache(t, dir, "v1")}
	assertSameBuild(t, "v1", content, a, Options{Now: cacheNow})
	a.Close()
	b := &countingCache{Cache: openCache(t, dir, "v2")}
	assertSameBuild(t, "v2", content, b, Options{Now: cacheNow})
	if b.hits.Load() != 0 {
		t.Errorf("another version read %d cached posts", b.hits.Load())
	}
	b.Close()
	c := &countingCache{Cache: openCache(t, dir, "v1")}
	assertSameBuild(t, "v1 again", content, c, Options{Now: cacheNow})
	if c.hits.Load() == 0 {
		t.Error("the same version read nothing back after a restart")
	}
}

// TestCacheTwoRepositories: identical posts in two repositories (another
// base URL each) share the cache and each gets its own pages.
func TestCacheTwoRepositories(t *testing.T) {
	cache := openCache(t, t.TempDir(), "test")
	a, b := cacheBlog(), cacheBlog()
	delete(a, "publish.yaml")
	b["publish.yaml"] = &fstest.MapFile{Data: []byte("title: Cached\n")}
	assertSameBuild(t, "a", a, cache, Options{Now: cacheNow, Repo: "acme/one"})
	assertSameBuild(t, "b", b, cache, Options{Now: cacheNow, Repo: "acme/two"})
	cache.Flush()
	assertSameBuild(t, "a again", a, cache, Options{Now: cacheNow, Repo: "acme/one"})
	assertSameBuild(t, "b again", b, cache, Options{Now: cacheNow, Repo: "acme/two"})
}

// TestCacheConcurrentRepositories builds several repositories at once
// through one cache and through several caches on one folder (run with
// -race).
func TestCacheConcurrentRepositories(t *testing.T) {
	dir := t.TempDir()
	shared := openCache(t, dir, "test")
	var wg sync.WaitGroup
	for i := range 6 {
		cache := shared
		if i%2 == 1 {
			cache = openCache(t, dir, "test") // another process's view of the folder
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			content := cacheBlog()
			content["publish.yaml"] = &fstest.MapFile{Data: []byte(fmt.Sprintf("title: Blog %d\nbase_url: https://acme.github.io/b%d/\n", i%3, i%3))}
			content["posts/2026-01-01-a.md"] = &fstest.MapFile{Data: []byte(fmt.Sprintf("---\ntitle: Alpha %d\n---\n\nSee [beta](2026-01-02-b.md).\n", i%3))}
			for round := range 3 {
				assertSameBuild(t, fmt.Sprintf("repo %d round %d", i, round), content, cache, Options{Now: cacheNow})
				cache.Flush()
			}
		}()
	}
	wg.Wait()
}
