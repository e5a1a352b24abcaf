package templates

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"testing"
	"testing/fstest"

	"go.uber.org/goleak"

	"github.com/publishbot/publishbot/posts"
)

// TestIndexPages: the index page Render says lists a post is the page
// whose HTML links to it, with the featured post first on page 1; hidden
// posts have none.
func TestIndexPages(t *testing.T) {
	site := handSiteWithFeatured(30, 12)
	site.Posts[3].Draft = true
	r, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []Options{{}, {Drafts: true}} {
		out, err := r.Render(t.Context(), site, nil, opts)
		if err != nil {
			t.Fatal(err)
		}
		shown := 0
		for _, p := range site.Posts {
			if !p.Draft || opts.Drafts {
				shown++
			}
		}
		if len(out.IndexPages) != shown {
			t.Errorf("drafts=%v: %d index pages for %d posts shown", opts.Drafts, len(out.IndexPages), shown)
		}
		if out.IndexPages[site.Posts[12].Path] != 1 {
			t.Errorf("drafts=%v: the featured post is on page %d, want 1", opts.Drafts, out.IndexPages[site.Posts[12].Path])
		}
		for _, p := range site.Posts {
			n, ok := out.IndexPages[p.Path]
			if p.Draft && !opts.Drafts {
				if ok {
					t.Errorf("hidden draft %s listed on page %d", p.Path, n)
				}
				continue
			}
			page := "index.html"
			if n > 1 {
				page = fmt.Sprintf("page/%d/index.html", n)
			}
			link := []byte(`href="/blog/posts/` + p.Slug + `/"`)
			if !bytes.Contains(out.Files[page], link) {
				t.Errorf("drafts=%v: %s is said to be on %s, which does not link to it", opts.Drafts, p.Path, page)
			}
		}
	}
	// the last of 29 shown posts, 8 a page: page 4
	if out, _ := r.Render(t.Context(), site, nil, Options{}); out.IndexPages[site.Posts[29].Path] != 4 {
		t.Errorf("last post on page %d, want 4", out.IndexPages[site.Posts[29].Path])
	}
}

// cancelOnOpen cancels a context when a file is first opened.
type cancelOnOpen struct {
	fs.FS
	cancel context.CancelFunc
	opened int
}

func (c *cancelOnOpen) Open(name string) (fs.File, error) {
	c.opened++
	c.cancel()
	return c.FS.Open(name)
}

// TestRenderCancelled: a render whose context ends stops before the next
// page or asset, returns the context's error, and leaves no goroutine.
func TestRenderCancelled(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	r, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := r.Render(ctx, handSite(200), nil, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled render: err = %v", err)
	}

	// cancelled while copying assets, the first step
	site := handSite(200)
	content := fstest.MapFS{}
	for i := range 50 {
		src := fmt.Sprintf("static/f%02d.txt", i)
		content[src] = &fstest.MapFile{Data: []byte("x")}
		site.Assets = append(site.Assets, posts.Asset{Source: src, Target: src[len("static/"):], Size: 1})
	}
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	c := &cancelOnOpen{FS: content, cancel: cancel}
	if _, err := r.Render(ctx, site, c, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("render cancelled mid-way: err = %v", err)
	}
	if c.opened != 1 {
		t.Errorf("%d assets read after the context ended, want none after the first", c.opened-1)
	}
}
