package templates

import "github.com/publishbot/publishbot/posts"

// highlightCSS is the stylesheet for the chroma classes posts puts on code,
// light by default and dark under prefers-color-scheme: dark.
func highlightCSS() []byte {
	return []byte(posts.HighlightCSS(posts.DefaultLightStyle, posts.DefaultDarkStyle))
}
