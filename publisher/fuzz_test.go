package publisher

import (
	"strings"
	"testing"
)

// Commit messages on the pages branch come from anyone who can push to it.
func FuzzTrailer(f *testing.F) {
	f.Add("Publish abc1234: x\n\nSource-Commit: 0123456789abcdef0123456789abcdef01234567\n")
	f.Add("Source-Commit: \n")
	f.Add("\n\n\nSource-Commit:    zz\r\n\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, msg string) {
		v, ok := trailer(msg, trailerSource)
		if ok && strings.ContainsAny(v, "\n") {
			t.Fatalf("trailer value spans lines: %q", v)
		}
		_ = subject(msg)
	})
}
