package posts

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"go.uber.org/goleak"
)

// countingFS counts the posts opened and cancels a context at the
// cancelAt-th.
type countingFS struct {
	fs.FS
	mu       sync.Mutex
	opened   int
	cancelAt int
	cancel   context.CancelFunc
}

func (c *countingFS) Open(name string) (fs.File, error) {
	if strings.HasPrefix(name, "posts/") && isMarkdown(name) {
		c.mu.Lock()
		c.opened++
		if c.opened == c.cancelAt {
			c.cancel()
		}
		c.mu.Unlock()
	}
	return c.FS.Open(name)
}

// TestLoadCancelled: Load stops reading posts once its context ends,
// returns the context's error, and leaves no goroutine behind.
func TestLoadCancelled(t *testing.T) {
	// regexp2 (under chroma's highlighting) runs one clock goroutine for its
	// match timeouts; it is the library's own and stops by itself.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), goleak.IgnoreAnyFunction("github.com/dlclark/regexp2/v2.runClock"))
	m := fstest.MapFS{ConfigFile: {Data: []byte("title: T\n")}}
	for i := range 500 {
		m[fmt.Sprintf("posts/2026-01-01-p%03d.md", i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf("---\ntitle: P%d\n---\nBody %d.\n", i, i))}
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Load(ctx, m, Options{Now: testNow}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Load with an ended context: err = %v", err)
	}

	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	c := &countingFS{FS: m, cancelAt: 10, cancel: cancel}
	site, err := Load(ctx, c, Options{Now: testNow})
	if !errors.Is(err, context.Canceled) || site != nil {
		t.Fatalf("Load cancelled mid-way: site %v, err = %v", site != nil, err)
	}
	// every worker finishes the post in hand, then stops
	if most := c.cancelAt + runtime.GOMAXPROCS(0); c.opened > most {
		t.Errorf("%d posts read, want at most %d after cancelling at the %dth", c.opened, most, c.cancelAt)
	}

	// the same tree loads in full without cancellation
	site, err = Load(t.Context(), m, Options{Now: testNow})
	if err != nil || len(site.Posts) != 500 {
		t.Fatalf("Load: %v, %d posts", err, len(site.Posts))
	}
}

func TestDiagnosticString(t *testing.T) {
	for _, c := range []struct {
		d    Diagnostic
		want string
	}{
		{newDiag("posts/a.md", 3, 7, CodeMissingTitle, "title is required"), "posts/a.md:3:7: error: title is required [missing-title]"},
		{newDiag("posts/a.md", 2, 0, CodeBrokenLink, "no such post"), "posts/a.md:2:1: warning: no such post [broken-link]"},
		{newDiag(ConfigFile, 0, 0, CodeConfigMissing, "no publish.yaml"), "publish.yaml: warning: no publish.yaml [config-missing]"},
	} {
		if got := c.d.String(); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
}
