package site

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"go.uber.org/goleak"

	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/templates"
)

// exampleBlogDir is examples/blog of this module, located from this
// package's folder.
var exampleBlogDir = filepath.Join("..", "examples", "blog")

// fixedNow keeps the example blog's future post in the future.
var fixedNow = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

func TestBuildDirExampleBlog(t *testing.T) {
	for _, opts := range []templates.Options{{}, {Drafts: true, Future: true}} {
		out, err := BuildDir(t.Context(), exampleBlogDir, Options{Now: fixedNow, Render: opts})
		if err != nil {
			t.Fatal(err)
		}
		if posts.HasErrors(out.Site.Diagnostics) {
			t.Errorf("the example blog has errors: %v", out.Site.Diagnostics)
		}
		assertKnown(t, out)
		shown := 0
		for _, p := range out.Site.Posts {
			if (!p.Draft || opts.Drafts) && (!p.Future || opts.Future) {
				shown++
				n := out.IndexPages[p.Path]
				page := "index.html"
				if n > 1 {
					page = fmt.Sprintf("page/%d/index.html", n)
				}
				link := (&url.URL{Path: "/blog/posts/" + p.Slug + "/"}).EscapedPath()
				if !bytes.Contains(out.Files[page], []byte(link)) {
					t.Errorf("%+v: %s is said to be on %s, which does not list it", opts, p.Path, page)
				}
			}
		}
		if len(out.IndexPages) != shown || shown < 10 {
			t.Errorf("%+v: %d index pages for %d posts shown", opts, len(out.IndexPages), shown)
		}
		for _, f := range []string{"index.html", "page/2/index.html", "posts/mapping-the-office-network/cover.png", "feed.xml", "sitemap.xml", ".nojekyll"} {
			if _, ok := out.Files[f]; !ok {
				t.Errorf("%+v: no %s", opts, f)
			}
		}
	}
}

// TestBuildIsBuildDir: the same tree through Build and BuildDir gives the
// same bytes.
func TestBuildIsBuildDir(t *testing.T) {
	a, err := BuildDir(t.Context(), exampleBlogDir, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(t.Context(), os.DirFS(exampleBlogDir), nil, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if !maps.EqualFunc(a.Files, b.Files, bytes.Equal) || !maps.Equal(a.IndexPages, b.IndexPages) {
		t.Error("Build and BuildDir of one folder differ")
	}
}

func TestBuildOptions(t *testing.T) {
	content := fstest.MapFS{
		"publish.yaml":           {Data: []byte("title: Mine\nper_page: 1\n")},
		"posts/2026-01-01-a.md":  {Data: []byte("---\ntitle: A\n---\nA.\n")},
		"posts/2026-01-02-b.md":  {Data: []byte("---\ntitle: B\ndraft: true\n---\nB.\n")},
		"templates/partials.txt": {Data: []byte("not a template")},
	}
	cfg := posts.DefaultConfig("acme/blog")
	cfg.Title = "Base branch title"
	out, err := Build(t.Context(), content, nil, Options{
		Config: &cfg, BaseURL: "https://acme.github.io/blog/pr-preview/pr-3/", Repo: "acme/blog", Now: fixedNow,
		Render: templates.Options{Drafts: true, PreviewPR: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Site.Config.Title != "Base branch title" || out.Site.Config.BaseURL != "https://acme.github.io/blog/pr-preview/pr-3/" {
		t.Errorf("config %+v", out.Site.Config)
	}
	if !bytes.Contains(out.Files["index.html"], []byte("Preview of #3")) {
		t.Errorf("no preview banner")
	}
	// per_page 8 from the given config, not 1 from the tree's publish.yaml
	if len(out.IndexPages) != 2 || out.IndexPages["posts/2026-01-02-b.md"] != 1 || out.IndexPages["posts/2026-01-01-a.md"] != 1 {
		t.Errorf("index pages %v", out.IndexPages)
	}
}

func TestBuildTemplateError(t *testing.T) {
	content := fstest.MapFS{
		"publish.yaml":          {Data: []byte("title: T\n")},
		"posts/2026-01-01-a.md": {Data: []byte("---\ntitle: A\n---\nA.\n")},
		"templates/index.html":  {Data: []byte(`{{define "main"}}{{.Nope`)},
	}
	theme, err := TemplatesDir(content)
	if err != nil || theme == nil {
		t.Fatalf("TemplatesDir: %v, %v", theme, err)
	}
	out, err := Build(t.Context(), content, theme, Options{Now: fixedNow})
	var te *TemplateError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "parse templates: ") || !strings.Contains(err.Error(), "index.html") {
		t.Fatalf("err = %v, want a TemplateError naming index.html", err)
	}
	if out == nil || out.Site == nil || len(out.Site.Posts) != 1 || out.Files != nil {
		t.Errorf("output with a template error: %+v", out)
	}
	if theme, err := TemplatesDir(fstest.MapFS{"templates": {Data: []byte("a file")}}); theme != nil || err != nil {
		t.Errorf("templates as a file: %v, %v", theme, err)
	}
	if _, err := BuildDir(t.Context(), filepath.Join(t.TempDir(), "missing"), Options{}); err == nil {
		t.Error("BuildDir of a missing folder: no error")
	}
}

// cancelFS cancels a context at the at-th open of a file whose name
// matches, and counts those opens.
type cancelFS struct {
	fs.FS
	match  func(name string) bool
	at     int
	cancel context.CancelFunc

	mu     sync.Mutex
	opened int
}

func (c *cancelFS) Open(name string) (fs.File, error) {
	if c.match(name) {
		c.mu.Lock()
		c.opened++
		if c.opened == c.at {
			c.cancel()
		}
		c.mu.Unlock()
	}
	return c.FS.Open(name)
}

// bigContent is a site of n posts and n static files.
func bigContent(n int) fstest.MapFS {
	m := fstest.MapFS{"publish.yaml": {Data: []byte("title: Big\nbase_url: https://acme.github.io/blog/\n")}}
	for i := range n {
		m[fmt.Sprintf("posts/2026-01-01-p%04d.md", i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf("---\ntitle: Post %d\ntags: [t%d]\n---\nBody of *post* %d.\n", i, i%7, i))}
		m[fmt.Sprintf("static/f%04d.txt", i)] = &fstest.MapFile{Data: []byte("x")}
	}
	return m
}

// TestBuildCancelled: a build whose context ends while it loads or while
// it renders stops within the work in hand (one post or one file per
// worker), returns the context's error, and leaves no goroutine running.
func TestBuildCancelled(t *testing.T) {
	// regexp2 (under chroma's highlighting) runs one clock goroutine for its
	// match timeouts; it is the library's own and stops by itself.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), goleak.IgnoreAnyFunction("github.com/dlclark/regexp2/v2.runClock"))
	const n = 2000
	content := bigContent(n)
	for _, c := range []struct {
		name  string
		match func(string) bool
	}{
		{"loading", func(name string) bool { return strings.HasPrefix(name, "posts/") }},
		{"rendering", func(name string) bool { return strings.HasPrefix(name, "static/") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			cfs := &cancelFS{FS: content, match: c.match, at: 10, cancel: cancel}
			out, err := Build(ctx, cfs, nil, Options{Now: fixedNow})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if out != nil && out.Files != nil {
				t.Error("a cancelled build returned files")
			}
			if cfs.opened > 2*cfs.at {
				t.Errorf("%d files opened; the build went on after the context ended at the %dth", cfs.opened, cfs.at)
			}
		})
	}
	// with a deadline, as a job has: the build gives up and says why
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	if _, err := Build(ctx, content, nil, Options{Now: fixedNow}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("past deadline: err = %v", err)
	}
	// and the same content builds in full
	out, err := Build(t.Context(), content, nil, Options{Now: fixedNow})
	if err != nil || len(out.IndexPages) != n {
		t.Fatalf("full build: %v, %d posts", err, len(out.IndexPages))
	}
}
