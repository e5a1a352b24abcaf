// Package templates owns the default theme (embedded html/template files and
// one CSS file) and renders a loaded posts.Site into output files: index
// pages, posts, tags, archive, feeds, sitemap, robots.txt, 404 and redirects.
//
// Rendering is a pure function: no network, git, OS or logging. The output is
// byte-for-byte identical for identical input.
package templates

import (
	"errors"
	"io/fs"

	"github.com/publishbot/publishbot/posts"
)

// Options tune one render.
type Options struct {
	Drafts    bool // include draft posts, visibly marked
	Future    bool // include future-dated posts, visibly marked
	PreviewPR int  // > 0: a pull request preview: "Preview of #N" banner, noindex on every page
}

// Renderer holds the parsed theme; build it once with New and reuse it. It is
// safe for concurrent use.
type Renderer struct{}

// New parses the default theme. overrides, when non-nil, is a folder (the
// repository's templates/) whose *.html files replace default templates of
// the same name.
//
// Stub: replaced by the templates implementation (issue 3).
func New(overrides fs.FS) (*Renderer, error) {
	return &Renderer{}, nil
}

// Render turns site into output files, keyed by slash-separated site-relative
// path ("index.html", "posts/hello/index.html", "feed.xml"). Asset bytes are
// read from content, the same tree site was loaded from.
func (r *Renderer) Render(site *posts.Site, content fs.FS, opts Options) (map[string][]byte, error) {
	return nil, errors.New("templates.Render: not implemented")
}
