package templates

import (
	"bytes"
	"strings"
	"testing"

	"github.com/publishbot/publishbot/posts"
)

// TestAddressesSectionsRedirects: pages are written at the posts'
// addresses (a folder, a .html name, or a name written to .html), with
// their bundle files beside them; sections get listing pages; aliases are
// written as a folder and a .html file; redirect files become redirects;
// the feeds use each post's id and are copied to feeds' paths.
func TestAddressesSectionsRedirects(t *testing.T) {
	site, out := loadMap(t, map[string]string{
		"publish.yaml":                     "title: T\nbase_url: https://acme.github.io/blog/\npermalink: /:year/:slug\ngenerator: jekyll\nfeeds: [/index.xml]\n",
		"posts/_index.md":                  "---\ntitle: Blog\n---\nHello from the **intro**.\n",
		"posts/2024-05-07-ugly.md":         "---\ntitle: Ugly\naliases: [/releases/1.88.0, /old/]\n---\n[folder](../posts/2024-05-08-folder.md)\n",
		"posts/2024-05-08-folder.md":       "---\ntitle: Folder\npermalink: /a/folder/\n---\n",
		"posts/2024-05-09-bundle/index.md": "---\ntitle: Bundle\n---\n![pic](pic.png)\n",
		"posts/2024-05-09-bundle/pic.png":  "png",
		"posts/notes/_index.md":            "+++\ntitle = \"Notes\"\n+++\nThe notes.\n",
		"posts/notes/2024-05-10-note.md":   "---\ntitle: A note\n---\n",
		"posts/notes/2024-05-11-draft.md":  "---\ntitle: Drafty\ndraft: true\n---\n![d](d.png)\n",
		"posts/notes/d.png":                "png",
		"posts/moved.md":                   "---\ntitle: Moved\nredirect_to: https://example.com/elsewhere/\npermalink: /posts/moved/\nredirect_from: /gone/\n---\n",
	}, Options{})
	if posts.HasErrors(site.Diagnostics) {
		t.Fatalf("diagnostics %v", site.Diagnostics)
	}
	for _, f := range []string{"2024/ugly.html", "a/folder/index.html", "2024/bundle.html", "2024/bundle/pic.png", "2024/note.html",
		"releases/1.88.0/index.html", "releases/1.88.0.html", "old/index.html", "notes/index.html", "index.xml"} {
		if _, ok := out[f]; !ok {
			t.Errorf("no %s", f)
		}
	}
	for _, f := range []string{"releases/1.88.0", "2024/drafty.html", "notes/d.png"} {
		if _, ok := out[f]; ok {
			t.Errorf("%s written", f)
		}
	}
	for f := range out {
		if !site.Serves(f) {
			t.Errorf("%s is not a file posts knows", f)
		}
	}
	if ugly := string(out["2024/ugly.html"]); !strings.Contains(ugly, `href="/blog/a/folder/"`) || !strings.Contains(ugly, `<link rel="canonical" href="https://acme.github.io/blog/2024/ugly">`) {
		t.Errorf("2024/ugly.html:\n%s", ugly)
	}
	if b := string(out["2024/bundle.html"]); !strings.Contains(b, `src="/blog/2024/bundle/pic.png"`) {
		t.Errorf("a bundle whose address is no folder links its files by their address:\n%s", b)
	}
	for _, f := range []string{"releases/1.88.0/index.html", "releases/1.88.0.html"} {
		if !bytes.Contains(out[f], []byte(`url=https://acme.github.io/blog/2024/ugly"`)) {
			t.Errorf("%s:\n%s", f, out[f])
		}
	}
	moved := out["posts/moved/index.html"]
	if !bytes.Equal(moved, out["gone/index.html"]) {
		t.Errorf("the redirect file's own alias:\n%s", out["gone/index.html"])
	}
	if !bytes.Contains(moved, []byte(`url=https://example.com/elsewhere/"`)) || !bytes.Contains(moved, []byte("<title>Moved</title>")) {
		t.Errorf("redirect file:\n%s", moved)
	}
	notes := string(out["notes/index.html"])
	if !strings.Contains(notes, "<h1>Notes</h1>") || !strings.Contains(notes, "<p>The notes.</p>") || !strings.Contains(notes, `href="/blog/2024/note"`) ||
		strings.Contains(notes, "Drafty") || strings.Contains(notes, "Ugly") {
		t.Errorf("section page:\n%s", notes)
	}
	if index := string(out["index.html"]); !strings.Contains(index, "<strong>intro</strong>") || strings.Contains(string(out["page/2/index.html"]), "intro") {
		t.Errorf("index intro:\n%s", index)
	}
	feed := out["feed.xml"]
	if !bytes.Equal(feed, out["index.xml"]) || !bytes.Contains(feed, []byte("<id>https://acme.github.io/blog/2024/ugly</id>")) ||
		!bytes.Contains(feed, []byte(`<link href="https://acme.github.io/blog/2024/ugly" rel="alternate"`)) {
		t.Errorf("feed:\n%s", feed)
	}
	if sm := string(out["sitemap.xml"]); !strings.Contains(sm, "<loc>https://acme.github.io/blog/notes/</loc>") || !strings.Contains(sm, "<loc>https://acme.github.io/blog/2024/ugly</loc>") {
		t.Errorf("sitemap:\n%s", sm)
	}

	// With drafts shown, the draft's linked file is copied too.
	_, out = loadMap(t, map[string]string{
		"publish.yaml":                    "title: T\n",
		"posts/notes/2024-05-11-draft.md": "---\ntitle: Drafty\ndraft: true\n---\n![d](d.png)\n",
		"posts/notes/d.png":               "png",
	}, Options{Drafts: true})
	if _, ok := out["posts/notes/d.png"]; !ok {
		t.Errorf("a shown draft's file is not copied")
	}
}
