package templates

import (
	"bytes"
	"fmt"
)

// Palette returns the default theme's colour and font variables: the
// `:root` rules of theme/style.css up to its first element rule, light
// and dark. Other pages of publishbot (the status page) use it to look
// like the blog without copying its colours.
func Palette() ([]byte, error) {
	css, err := themeFS.ReadFile("theme/style.css")
	if err != nil {
		return nil, fmt.Errorf("read theme style: %w", err)
	}
	end := bytes.Index(css, []byte("\n*,"))
	if end < 0 || !bytes.Contains(css[:end], []byte(":root")) {
		return nil, fmt.Errorf("theme style: no :root variables before the first element rule")
	}
	return css[:end+1], nil
}

// Favicon returns the default theme's icon (SVG).
func Favicon() ([]byte, error) {
	b, err := themeFS.ReadFile("theme/favicon.svg")
	if err != nil {
		return nil, fmt.Errorf("read theme icon: %w", err)
	}
	return b, nil
}
