package templates

// highlightCSS is the stylesheet for the chroma classes posts puts on code.
func highlightCSS() []byte { return nil }
