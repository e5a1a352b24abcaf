package posts

import (
	"fmt"
	"strings"
)

// ImageConfig is publish.yaml's images: how the raster images of the site
// are published (see package imagery).
type ImageConfig struct {
	// Resize makes smaller and WebP variants for srcset; default true.
	// Off, images still get their width and height and lose their
	// metadata, but are not resized.
	Resize bool `yaml:"resize" json:"resize"`
	// KeepMetadata publishes originals with their metadata (camera, GPS
	// location); default false: it is removed, without re-encoding.
	KeepMetadata bool `yaml:"keep_metadata" json:"keep_metadata"`
}

// DefaultImageConfig is images: when publish.yaml does not say.
func DefaultImageConfig() ImageConfig { return ImageConfig{Resize: true} }

// readImageConfig reads the value v of images: into dst. It reports
// problems through add at their line; ok says whether every key was taken.
func readImageConfig(v fmValue, dst *ImageConfig, add func(line, col int, code, format string, args ...any)) (ok bool) {
	switch v.kind {
	case vNull:
		return true
	case vMap:
	default:
		add(v.line, v.col, CodeConfigInvalid, "images: must be a mapping like {resize: true, keep_metadata: false}, not a %s", kindName(v.kind))
		return false
	}
	ok = true
	for _, f := range v.fields {
		var b *bool
		switch strings.ToLower(f.key) {
		case "resize":
			b = &dst.Resize
		case "keep_metadata":
			b = &dst.KeepMetadata
		default:
			add(f.line, f.col, CodeConfigInvalid, "images: unknown key %q (known: resize, keep_metadata)", f.key)
			ok = false
			continue
		}
		switch s := strings.ToLower(strings.TrimSpace(f.value.s)); {
		case f.value.kind == vScalar && s == "true":
			*b = true
		case f.value.kind == vScalar && s == "false":
			*b = false
		default:
			add(f.value.line, f.value.col, CodeConfigInvalid, "%s", fmt.Sprintf("images: %s must be true or false, not %s", f.key, describe(&f.value)))
			ok = false
		}
	}
	return ok
}
