package posts

import (
	"errors"
	"io/fs"
)

// Load reads a content repository from fsys. It never follows symlinks and
// never touches the OS. The error is only for a tree that cannot be read at
// all; every problem in the content is a Diagnostic in the returned Site.
//
// Stub: replaced by the posts implementation (issue 2).
func Load(fsys fs.FS, opts Options) (*Site, error) {
	return nil, errors.New("posts.Load: not implemented")
}

// LoadConfig reads publish.yaml from fsys and applies defaults. repo
// ("owner/name") gives the default base_url. A missing file gives the
// defaults and one warning; a broken one gives error diagnostics.
func LoadConfig(fsys fs.FS, repo string) (Config, []Diagnostic) {
	return Config{}, nil
}

// TagSlug is the URL segment of a tag: /tags/<TagSlug(tag)>/.
func TagSlug(tag string) string { return tag }
