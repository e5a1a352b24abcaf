// Package examples holds the example content repositories, embedded so that
// `publishbot demo` runs from any folder.
package examples

import (
	"embed"
	"io/fs"
)

//go:embed blog
var files embed.FS

// Blog is the example blog (examples/blog): publish.yaml, posts, a bundle
// with images, a draft and a future-dated post.
func Blog() fs.FS {
	sub, err := fs.Sub(files, "blog")
	if err != nil {
		panic(err) // the embed pattern above guarantees the folder
	}
	return sub
}
