package templates

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
)

// A section lists its posts in a feed of its own, at feed.xml and at the
// names of feeds (Zola's atom.xml), so that a moved blog's section
// subscribers keep theirs; its page links the feed.
func TestSectionFeeds(t *testing.T) {
	files := map[string]string{
		"publish.yaml":                      "title: Blog\nbase_url: https://example.com/\nfeeds: [/atom.xml]\n",
		"posts/inside/_index.md":            "+++\ntitle = \"Inside\"\n+++\nAbout inside.\n",
		"posts/inside/2026-01-02-one.md":    "---\ntitle: One inside\n---\nText.\n",
		"posts/inside/deep/2026-01-03-d.md": "---\ntitle: Deep inside\n---\nText.\n",
		"posts/empty/_index.md":             "+++\ntitle = \"Empty\"\n+++\nNothing yet.\n",
		"posts/2026-01-04-top.md":           "---\ntitle: At the top\n---\nText.\n",
	}
	site, out := loadRender(t, files, Options{})
	feed := out["posts/inside/feed.xml"]
	if feed == nil {
		t.Fatal("no posts/inside/feed.xml")
	}
	if !bytes.Equal(out["posts/inside/atom.xml"], feed) {
		t.Error("no copy of the section feed at posts/inside/atom.xml (feeds: [/atom.xml])")
	}
	var f struct {
		Title   string `xml:"title"`
		Entries []struct {
			Title string `xml:"title"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(feed, &f); err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, e := range f.Entries {
		titles = append(titles, e.Title)
	}
	if f.Title != "Inside" || strings.Join(titles, "|") != "Deep inside|One inside" {
		t.Errorf("section feed %q: entries %v, want the section's two posts, newest first", f.Title, titles)
	}
	page := string(out["posts/inside/index.html"])
	if !strings.Contains(page, `<link rel="alternate" type="application/atom+xml" title="Inside (Atom)" href="/posts/inside/feed.xml">`) {
		t.Errorf("the section page does not link its feed:\n%s", page)
	}
	if _, ok := out["posts/empty/feed.xml"]; ok {
		t.Error("a feed for a section with no post")
	}
	if strings.Contains(string(out["posts/empty/index.html"]), `href="/posts/empty/feed.xml"`) {
		t.Error("the empty section links a feed")
	}
	for _, p := range []string{"posts/inside/feed.xml", "posts/inside/atom.xml"} {
		if !site.Serves(p) {
			t.Errorf("posts does not know the site serves %s (links to it would be called broken)", p)
		}
	}
}
