package templates

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/publishbot/publishbot/diagrams"
	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/texmath"
)

// Pages with math get Temml's stylesheet, pages with ```mermaid diagrams
// the diagram scripts; their files are written only when some page of
// the render needs them, and no other page links them.

// writeExtras writes the files of math and diagrams when a page this
// render shows has them: a post, a page or a section's listing.
func (b *build) writeExtras(sections []*posts.Section) error {
	math, diagram := false, false
	for _, s := range sections {
		math, diagram = math || s.Math, diagram || s.Diagrams
	}
	for _, d := range b.posts {
		math, diagram = math || d.Post.Math, diagram || d.Post.Diagrams
	}
	for _, d := range b.pages {
		math, diagram = math || d.Page.Math, diagram || d.Page.Diagrams
	}
	if math {
		for p, data := range texmath.Assets() {
			b.add(p, data)
		}
	}
	if diagram {
		files, err := diagrams.Assets()
		if err != nil {
			return err
		}
		for p, data := range files {
			b.add(p, data)
		}
	}
	return nil
}

// extras are the URL paths of the extra stylesheets and scripts of a page
// with math or a diagram; nil for other pages.
func (b *build) extras(math, diagram bool) (styles, scripts []string) {
	if math {
		styles = []string{b.base + texmath.StylesheetPath}
	}
	if diagram {
		for _, s := range diagrams.Scripts() {
			u := b.base + s
			if s == diagrams.InitPath {
				sum := sha256.Sum256(diagrams.InitScript())
				u += "?v=" + hex.EncodeToString(sum[:4])
			}
			scripts = append(scripts, u)
		}
	}
	return styles, scripts
}
