package site

import (
	"fmt"

	"github.com/publishbot/publishbot/posts"
)

// Limits bound what one build may write. They belong to whoever runs
// publishbot (serve's configuration may raise them): nothing in the content
// can change them. A zero field takes its default; a negative one means no
// limit.
type Limits struct {
	// MaxFiles is how many files a build may make; default DefaultMaxFiles.
	MaxFiles int
	// MaxBytes is how many bytes a build's files may hold together;
	// default DefaultMaxBytes.
	MaxBytes int64
	// Post bounds what one post may make (tags, aliases): a post beyond it
	// is an error of that post, left out of the site; zero fields take
	// posts' defaults.
	Post posts.Limits
}

// Defaults of Limits: room for a 20,000-post blog with resized image
// variants.
const (
	DefaultMaxFiles       = 250_000
	DefaultMaxBytes int64 = 4 << 30
)

func (l Limits) withDefaults() Limits {
	if l.MaxFiles == 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	if l.MaxBytes == 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	return l
}

// LimitError is the error of a build whose output exceeds Limits: the
// content's doing, so building the same content again fails the same way.
type LimitError struct {
	What  string // "files" or "bytes"
	Got   int64  // what the build made
	Limit int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("the site is too large: %d %s, over the limit of %d %s per build", e.Got, e.What, e.Limit, e.What)
}

// check holds files and the files kept from the previous build (of
// keptSize bytes each; nil: unknown, counted as empty) to l.
func (l Limits) check(files map[string][]byte, kept []string, keptSize func(string) int64) error {
	l = l.withDefaults()
	if n := len(files) + len(kept); l.MaxFiles > 0 && n > l.MaxFiles {
		return &LimitError{What: "files", Got: int64(n), Limit: int64(l.MaxFiles)}
	}
	if l.MaxBytes < 0 {
		return nil
	}
	var total int64
	for _, b := range files {
		total += int64(len(b))
	}
	if keptSize != nil {
		for _, p := range kept {
			total += keptSize(p)
		}
	}
	if total > l.MaxBytes {
		return &LimitError{What: "bytes", Got: total, Limit: l.MaxBytes}
	}
	return nil
}
