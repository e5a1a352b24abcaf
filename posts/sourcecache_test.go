package posts

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

// idFS is a file system that names each file's content, as a git tree
// does (ContentIDs), and counts the files read.
type idFS struct {
	fstest.MapFS
	mu    sync.Mutex
	reads map[string]int
}

func newIDFS(files map[string]string) *idFS {
	m := fstest.MapFS{}
	for p, s := range files {
		m[p] = &fstest.MapFile{Data: []byte(s)}
	}
	return &idFS{MapFS: m, reads: map[string]int{}}
}

func (f *idFS) ContentID(name string) (string, bool) {
	mf, ok := f.MapFS[name]
	if !ok || mf.Mode.IsDir() {
		return "", false
	}
	sum := sha1.Sum(mf.Data)
	return hex.EncodeToString(sum[:]), true
}

func (f *idFS) count(name string) {
	f.mu.Lock()
	f.reads[name]++
	f.mu.Unlock()
}

func (f *idFS) ReadFile(name string) ([]byte, error) {
	f.count(name)
	return f.MapFS.ReadFile(name)
}

func (f *idFS) Open(name string) (fs.File, error) {
	if mf, ok := f.MapFS[name]; ok && !mf.Mode.IsDir() {
		f.count(name)
	}
	return f.MapFS.Open(name)
}

// read lists the files read since the last call.
func (f *idFS) read() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Sorted(maps.Keys(f.reads))
	clear(f.reads)
	return out
}

// sameSite fails unless got and want are the same site: every post, page,
// section, redirect, file, menu entry, diagnostic and the configuration.
func sameSite(t *testing.T, step string, got, want *Site) {
	t.Helper()
	gc, _ := json.Marshal(got.Config)
	wc, _ := json.Marshal(want.Config)
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"posts", postViews(got.Posts), postViews(want.Posts)}, {"pages", got.Pages, want.Pages}, {"sections", got.Sections, want.Sections},
		{"redirects", got.Redirects, want.Redirects}, {"assets", got.Assets, want.Assets}, {"menu", got.Menu, want.Menu},
		{"intro", got.Intro, want.Intro}, {"diagnostics", got.Diagnostics, want.Diagnostics},
		{"config", string(gc), string(wc)}, {"output files", got.outputs.files, want.outputs.files},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			g, _ := json.MarshalIndent(c.got, "", " ")
			w, _ := json.MarshalIndent(c.want, "", " ")
			t.Errorf("%s: the cached Load's %s differ:\n%s\nwant\n%s", step, c.what, g, w)
		}
	}
}

// postView is a Post as a test compares it: its fields, and its body as
// read (a body served from the cache is read then).
type postView struct {
	Post
	HTML, Text string
	Images     []string
	BodyErr    error
}

func postViews(ps []*Post) []postView {
	out := make([]postView, len(ps))
	for i, p := range ps {
		// not the body's digest: a cached render's is made from what the
		// cache keeps (neutral.go), and only needs to be the same from one
		// cached build to the next (TestNeutralBaseRenders)
		v := postView{Post: *p, HTML: p.HTML(), Text: p.Text(), Images: p.ImageSources(), BodyErr: p.BodyErr()}
		v.Post.body = nil
		out[i] = v
	}
	return out
}

var sourceSite = map[string]string{
	"publish.yaml": "title: T\nbase_url: https://acme.github.io/t/\n",
	"posts/2026-01-01-a.md": "---\ntitle: A\ntags: [x, y]\nimage: cover.png\naliases: [/old-a/]\n---\n\n" +
		"Intro with [b](2026-01-02-b.md) and [c](sub/c.md).\n\n## One\n\nText[^1].\n\n[^1]: A note.\n",
	"posts/2026-01-02-b.md":           "+++\ntitle = \"B\"\ndate = 2026-01-02T10:00:00+02:00\n[extra]\nk = [1, 2]\n+++\n\nB's text <!--more--> and more.\n",
	"posts/sub/c.md":                  "---\ntitle: C\ndate: 2026-01-03\nsummary: own summary\n---\n\nC links back to [a](../2026-01-01-a.md).\n",
	"posts/sub/_index.md":             "---\ntitle: Sub\n---\n\nThe sub section.\n",
	"posts/bundle/index.md":           "---\ntitle: Bundle\ndate: 2026-01-04\n---\n\n![pic](pic.png)\n",
	"posts/bundle/pic.png":            "PNG",
	"posts/cover.png":                 "PNG",
	"posts/2026-01-05-t.md":           "---\ntitle: Templated\n---\n\n{{< param title >}} and {% raw %}x{% endraw %}\n",
	"posts/2026-01-06-e.md":           "---\ntitle: Broken\ndate: not a date\n---\n\nBody.\n",
	"posts/2026-01-07-n.md":           "no front matter here\n",
	"posts/2026-01-08-u.md":           "---\ntitle: Unclosed\n\nBody.\n",
	"posts/2026-01-09-f.md":           "---\ntitle: Future\ndate: 2027-01-01\n---\n\nLater.\n",
	"pages/about.md":                  "---\ntitle: About\n---\n\nAbout [a](../posts/2026-01-01-a.md).\n",
	"posts/2026-01-10-i.md":           "---\ntitle: Include\n---\n\n{% include note.html %} and {% link posts/sub/c.md %}\n",
	"_includes/note.html":             "<b>a note</b>",
	"posts/2026-01-11-s.md":           "---\ntitle: Shortcode\n---\n\n{{< hello >}} and [c]({{< ref \"sub/c.md\" >}})\n",
	"templates/shortcodes/hello.html": "<em>hello</em>",
}

var templatedPosts = []string{"posts/2026-01-05-t.md", "posts/2026-01-10-i.md", "posts/2026-01-11-s.md"}

// TestSourceCacheSameSite: through a sequence of edits, a Load whose front
// matter and renders come from the cache gives exactly the Site of a Load
// without it, on a tree that names contents (a git tree) and on one that
// does not (a folder); on the first, a file whose front matter and render
// are cached is never read.
func TestSourceCacheSameSite(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		name   string
		edit   func(m map[string]string)
		onlyRd []string // with ids: the Markdown files read, nil: not checked
	}{
		{"first", func(map[string]string) {}, nil},
		{"unchanged", func(map[string]string) {}, []string{}},
		{"body changed", func(m map[string]string) { m["posts/sub/c.md"] += "\nOne more line.\n" }, []string{"posts/sub/c.md"}},
		{"title changed", func(m map[string]string) {
			m["posts/2026-01-02-b.md"] = strings.Replace(m["posts/2026-01-02-b.md"], `"B"`, `"B2"`, 1)
		}, nil},
		{"renamed", func(m map[string]string) {
			m["posts/2026-01-02-b2.md"] = m["posts/2026-01-02-b.md"]
			delete(m, "posts/2026-01-02-b.md")
		}, nil},
		{"moved to another folder", func(m map[string]string) {
			m["posts/c.md"] = strings.ReplaceAll(m["posts/sub/c.md"], "../", "")
			m["posts/other/c.md"] = m["posts/sub/c.md"]
			delete(m, "posts/sub/c.md")
		}, nil},
		{"unchanged again", func(map[string]string) {}, []string{}},
		// An include or shortcode template renders every templated post
		// again (readTemplating is coarse), and no other.
		{"include changed", func(m map[string]string) { m["_includes/note.html"] = "<b>another note</b>" }, templatedPosts},
		{"shortcode changed", func(m map[string]string) { m["templates/shortcodes/hello.html"] = "<em>hi</em>" }, templatedPosts},
		{"linked post retitled", func(m map[string]string) {
			m["posts/c.md"] = strings.Replace(m["posts/c.md"], "title: C", "title: C2", 1)
		}, nil},
		{"permalink changed", func(m map[string]string) { m["publish.yaml"] += "permalink: /:year/:slug/\n" }, nil},
		{"time zone changed", func(m map[string]string) { m["publish.yaml"] += "timezone: Europe/Paris\n" }, nil},
		{"front matter fixed", func(m map[string]string) {
			m["posts/2026-01-06-e.md"] = strings.Replace(m["posts/2026-01-06-e.md"], "not a date", "2026-01-06", 1)
			m["posts/2026-01-08-u.md"] = "---\ntitle: Unclosed\n---\n\nBody.\n"
		}, nil},
		{"back as before", func(m map[string]string) { maps.Copy(m, sourceSite) }, nil},
		// The cached renders are read ahead under the key of a post whose
		// address is its own: one that loses it, or wins it back, is
		// rendered under the key it has.
		{"a post takes b's address", func(m map[string]string) {
			m["posts/2026-01-12-x.md"] = "---\ntitle: X\nslug: b\n---\n\nX links to [a](2026-01-01-a.md).\n"
		}, nil},
		{"b gone, x has the address", func(m map[string]string) { delete(m, "posts/2026-01-02-b.md") }, nil},
		{"b back, x loses it again", func(m map[string]string) { m["posts/2026-01-02-b.md"] = sourceSite["posts/2026-01-02-b.md"] }, nil},
	}
	for _, mode := range []string{"content ids", "folder", "content ids, many at once"} {
		ids := mode != "folder"
		t.Run(mode, func(t *testing.T) {
			files := maps.Clone(sourceSite)
			var cache RenderCache = &mapCache{m: map[[32]byte][]byte{}}
			many := &manyCache{mapCache: mapCache{m: map[[32]byte][]byte{}}}
			if strings.HasSuffix(mode, "many at once") {
				cache = many
			}
			for _, st := range steps {
				many.given = 0
				st.edit(files)
				plain, err := Load(t.Context(), newIDFS(files).MapFS, Options{Now: now})
				if err != nil {
					t.Fatal(err)
				}
				var fsys fs.FS = newIDFS(files).MapFS
				idfs := newIDFS(files)
				if ids {
					fsys = idfs
				}
				got, err := Load(t.Context(), fsys, Options{Now: now, Cache: cache})
				if err != nil {
					t.Fatal(err)
				}
				sameSite(t, st.name, got, plain)
				if cache == many && st.name == "unchanged" && many.given < 2*len(got.Posts) {
					t.Errorf("%s: GetMany gave %d values for %d posts: the front matter and renders were not read at once", st.name, many.given, len(got.Posts))
				}
				if ids && st.onlyRd != nil {
					var posts []string
					for _, p := range idfs.read() {
						if strings.HasSuffix(p, ".md") {
							posts = append(posts, p)
						}
					}
					if !slices.Equal(posts, st.onlyRd) && (len(posts) != 0 || len(st.onlyRd) != 0) {
						t.Errorf("%s: read %q, want only %q", st.name, posts, st.onlyRd)
					}
				}
			}
		})
	}
}

// manyCache is a mapCache that reads many values at once (cacheMany), as
// buildcache.Cache does: each value is given in a buffer that is
// overwritten once got returns, so a caller that keeps it fails.
type manyCache struct {
	mapCache
	given int
}

func (c *manyCache) GetMany(keys [][32]byte, got func(i int, value []byte)) {
	var buf []byte
	for i, k := range keys {
		v, ok := c.Get(k)
		if !ok {
			continue
		}
		buf = append(buf[:0], v...)
		got(i, buf)
		c.given++
		for j := range buf {
			buf[j] = 0xff
		}
	}
}

// TestSourceCacheTwoRepositories: two repositories holding the same post
// with different configurations share its parsed source and each gets its
// own site, as without the cache.
func TestSourceCacheTwoRepositories(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	one := maps.Clone(sourceSite)
	two := maps.Clone(sourceSite)
	two["publish.yaml"] = "title: Two\nbase_url: https://other.example/blog/\npermalink: /:year/:month/:slug/\ntoc: true\n"
	delete(two, "posts/sub/c.md") // a link of a's goes nowhere there
	cache := &mapCache{m: map[[32]byte][]byte{}}
	for round := range 2 {
		for _, files := range []map[string]string{one, two} {
			plain, err := Load(t.Context(), newIDFS(files).MapFS, Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			got, err := Load(t.Context(), newIDFS(files), Options{Now: now, Cache: cache})
			if err != nil {
				t.Fatal(err)
			}
			sameSite(t, "round "+string(rune('0'+round))+" "+files["publish.yaml"], got, plain)
		}
	}
}

// TestSourceCacheDamaged: cached values cut short, flipped or emptied are
// misses: the Load is still the one without a cache.
func TestSourceCacheDamaged(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	plain, err := Load(t.Context(), newIDFS(sourceSite).MapFS, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	for _, damage := range []struct {
		name string
		f    func([]byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"last byte cut", func(b []byte) []byte { return b[:len(b)-1] }},
		{"one more byte", func(b []byte) []byte { return append(b, 0) }},
		{"empty", func([]byte) []byte { return nil }},
		{"flipped", func(b []byte) []byte {
			c := slices.Clone(b)
			for i := range c {
				if i%7 == 3 {
					c[i] ^= 0x5a
				}
			}
			return c
		}},
		{"version", func(b []byte) []byte { c := slices.Clone(b); c[0]++; return c }},
	} {
		cache := &mapCache{m: map[[32]byte][]byte{}}
		if _, err := Load(t.Context(), newIDFS(sourceSite), Options{Now: now, Cache: cache}); err != nil {
			t.Fatal(err)
		}
		for k, v := range cache.m {
			cache.m[k] = damage.f(v)
		}
		got, err := Load(t.Context(), newIDFS(sourceSite), Options{Now: now, Cache: cache})
		if err != nil {
			t.Fatal(err)
		}
		sameSite(t, damage.name, got, plain)
	}
}

// TestSourceCodecRoundTrip: every front matter of the test site decodes to
// what was parsed, and every proper prefix of its encoding is refused.
func TestSourceCodecRoundTrip(t *testing.T) {
	for p, src := range sourceSite {
		ps := parseBytes([]byte(src))
		enc := encodeSource(ps)
		got, err := decodeSource(enc)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if !reflect.DeepEqual(encodeSource(got), enc) || len(got.fields) != len(ps.fields) {
			t.Errorf("%s: decoded %+v, want %+v", p, got, ps)
		}
		for _, f := range got.fields {
			if f.value.hasTime {
				var want fmValue
				for _, g := range ps.fields {
					if g.key == f.key {
						want = g.value
					}
				}
				if !f.value.t.Equal(want.t) {
					t.Errorf("%s: %s is %v, want %v", p, f.key, f.value.t, want.t)
				}
			}
		}
		for n := range len(enc) {
			if _, err := decodeSource(enc[:n]); err == nil {
				t.Errorf("%s: the first %d of %d bytes decode", p, n, len(enc))
			}
		}
	}
}

// FuzzDecodeSource: no bytes make the cached-source decoder panic or
// recurse without bound, and what decodes encodes back to the same bytes.
func FuzzDecodeSource(f *testing.F) {
	for _, src := range sourceSite {
		f.Add(encodeSource(parseBytes([]byte(src))))
	}
	f.Add(encodeSource(parseBytes([]byte("\xff\xfe"))))
	f.Add([]byte{sourceCodecVersion, 'y', 0, 0, 0, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := decodeSource(b)
		if err != nil {
			return
		}
		again, err := decodeSource(encodeSource(ps))
		if err != nil || !reflect.DeepEqual(encodeSource(again), encodeSource(ps)) {
			t.Fatalf("a decoded value does not encode back: %v", err)
		}
	})
}
