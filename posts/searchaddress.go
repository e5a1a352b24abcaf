package posts

import (
	"fmt"
	"path"
	"strings"
)

// searchDir is the folder of the search page and its index (search: true).
const searchDir = "search"

// claimSearch claims the files of the search page for the theme: the page,
// its script, and the folder, in which the theme writes the index's parts
// (search/<key>.json), whose names depend on the words of the posts.
func claimSearch(out *outputs) {
	o := &owner{kind: byTheme, label: "the search page (search in publish.yaml)"}
	out.claim(o, searchDir+"/index.html", searchDir+"/index.json", "assets/search.js")
	out.reserve(o, searchDir)
}

// searchFile is the owner of p when it is a part of the search index.
func (t *outputs) searchFile(p string) *owner {
	if path.Dir(p) != searchDir || !strings.HasSuffix(p, ".json") {
		return nil
	}
	return t.reserved[searchDir]
}

// yieldSearch turns the default search off for a blog that has its own
// page, post or files at /search/ (a Jekyll search page, say), with one
// search-off warning, so that a blog that built fine before still does.
// When publish.yaml asks for search itself, the clash stays an error.
func (l *loader) yieldSearch(results []*postResult, assets []Asset) {
	if !l.cfg.Search || l.cfg.Has("search") {
		return
	}
	const msg = "the blog's own %s is at /search/, so the built-in search page is off; " +
		"write \"search: false\" in publish.yaml to keep it that way, or give it another address to have both"
	under := func(p string) bool { return strings.HasPrefix(p, searchDir+"/") }
	for _, r := range results {
		if r.post != nil && under(r.post.Address) {
			r.add(0, 0, CodeSearchOff, fmt.Sprintf(msg, "page "+r.file.path))
			l.cfg.Search = false
			return
		}
	}
	for _, a := range assets {
		if under(a.Target) {
			l.fileDiags = append(l.fileDiags, newDiag(a.Source, 0, 0, CodeSearchOff, fmt.Sprintf(msg, "file")))
			l.cfg.Search = false
			return
		}
	}
}
