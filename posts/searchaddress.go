package posts

import (
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
