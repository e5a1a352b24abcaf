package posts

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// putCounter is a mapCache that counts Puts.
type putCounter struct {
	mapCache
	mu   sync.Mutex
	puts int
}

func (c *putCounter) Put(k [32]byte, v []byte) {
	c.mu.Lock()
	c.puts++
	c.mu.Unlock()
	c.mapCache.Put(k, v)
}

var neutralSite = map[string]string{
	"publish.yaml": "title: T\nbase_url: https://acme.github.io/blog/\ntoc: true\n",
	"posts/2026-01-01-a.md": "---\ntitle: A\nimage: cover.png\n---\n\nA links [b](2026-01-02-b.md), [the index](./), [a file](/files/f.txt), " +
		"[by its full URL](https://acme.github.io/blog/posts/b/), ![pic](cover.png) and <a href=\"/blog/posts/b/\">raw</a>.\n\n## Heading\n\nMore.\n",
	"posts/2026-01-02-b.md": "---\ntitle: B\ndate: 2026-01-02\n---\n\nB links back to [a](2026-01-01-a.md) and to [the section](sub/).\n",
	"posts/sub/_index.md":   "---\ntitle: Sub\n---\n\nThe sub section, see [a](../2026-01-01-a.md).\n",
	"posts/sub/c.md":        "---\ntitle: C\ndate: 2026-01-03\n---\n\nC in the section, a [missing](nowhere.md) link.\n",
	"posts/bundle/index.md": "---\ntitle: Bundle\ndate: 2026-01-04\n---\n\n![beside](pic.png) and [a](../2026-01-01-a.md).\n",
	"posts/bundle/pic.png":  "PNG",
	"posts/cover.png":       "PNG",
	"static/files/f.txt":    "f",
	// the placeholder's word in a post's text, in another post's address
	// and in a link to it: made with the real base path, not cached so
	"posts/2026-01-05-w.md": "---\ntitle: Word\n---\n\nIt says " + basePlaceholder + " and " + placeholderWord + ".\n",
	"posts/2026-01-06-s.md": "---\ntitle: Slug\nslug: " + placeholderWord + "\n---\n\nMy address has the word.\n",
	"posts/2026-01-07-l.md": "---\ntitle: Links the slug\n---\n\nSee [it](2026-01-06-s.md).\n",
	// other generators' template syntax: keyed by the real base path
	"posts/2026-01-08-t.md": "---\ntitle: Templated\n---\n\n{{ site.baseurl }}/x and [a]({% link posts/2026-01-01-a.md %})\n",
	"pages/about.md":        "---\ntitle: About\n---\n\nAbout [a](../posts/2026-01-01-a.md).\n",
}

// TestNeutralBaseRenders: renders cached under one base path serve a build
// under another (a pull request's preview after the site) without
// rendering again, and give the site a build without a cache gives, byte
// for byte; posts where the placeholder could be confused are made as
// they are published. Bodies' digests stay the same from one cached build
// to the next and differ with the base path.
func TestNeutralBaseRenders(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name, config, base, preview string
		rendered                    int // posts and pages the preview build renders again
	}{
		{"under a folder", "https://acme.github.io/blog/", "/blog/", "https://acme.github.io/blog/pr-preview/pr-7/", 1},
		{"at the root", "https://acme.github.io/", "/", "https://acme.github.io/pr-preview/pr-7/", 1},
		{"a base path HTML escapes", "https://acme.github.io/bl&g/", "", "https://acme.github.io/bl&g/pr-preview/pr-7/", 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{}
			for p, s := range neutralSite {
				files[p] = strings.ReplaceAll(s, "https://acme.github.io/blog/", c.config)
			}
			fsys := newIDFS(files)
			cache := &putCounter{mapCache: mapCache{m: map[[32]byte][]byte{}}}
			site, err := Load(t.Context(), fsys, Options{Now: now, Cache: cache})
			if err != nil {
				t.Fatal(err)
			}
			plainSite, err := Load(t.Context(), fsys.MapFS, Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			sameSite(t, "the site", site, plainSite)

			cache.puts = 0
			preview, err := Load(t.Context(), fsys, Options{Now: now, Cache: cache, BaseURL: c.preview})
			if err != nil {
				t.Fatal(err)
			}
			plain, err := Load(t.Context(), fsys.MapFS, Options{Now: now, BaseURL: c.preview})
			if err != nil {
				t.Fatal(err)
			}
			sameSite(t, "the preview", preview, plain)
			// a render Puts its HTML, text, words and facts
			if got := cache.puts / 4; got != c.rendered {
				t.Errorf("the preview rendered %d posts and pages again (%d Puts), want %d", got, cache.puts, c.rendered)
			}
			again, err := Load(t.Context(), fsys, Options{Now: now, Cache: cache, BaseURL: c.preview})
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range preview.Posts {
				if again.Posts[i].BodyDigest() != p.BodyDigest() {
					t.Errorf("%s: the digest changed from one cached build to the next", p.Title)
				}
				if p.HTML() != site.Posts[i].HTML() && p.BodyDigest() == site.Posts[i].BodyDigest() {
					t.Errorf("%s: another base path, another body, the same digest", p.Title)
				}
			}
			if c.base != "" && !strings.Contains(preview.Posts[len(preview.Posts)-1].HTML(), "pr-preview/pr-7/posts/") {
				t.Errorf("the preview's post links outside the preview: %s", preview.Posts[len(preview.Posts)-1].HTML())
			}
		})
	}
}
