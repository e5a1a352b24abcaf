package preview

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/publishbot/publishbot/buildcache"
	"github.com/publishbot/publishbot/examples"
	"github.com/publishbot/publishbot/internal/contentids"
	"github.com/publishbot/publishbot/internal/corpusgen"
	"github.com/publishbot/publishbot/site"
	"github.com/publishbot/publishbot/templates"
)

// TestRebuildIsTheFullBuild: after each kind of edit, the site a preview
// serves (the files it made again and those it kept from the build before)
// is byte for byte the site a build from nothing makes, and a one-post edit
// makes far fewer files than the site has — on the example blog and on 60
// posts of the real Rust blog (six of its photos).
func TestRebuildIsTheFullBuild(t *testing.T) {
	rust, err := corpusgen.Files(filepath.Join("..", "..", "shared", "testdata", "corpus", "zola-rust-blog"), 60)
	if err != nil {
		t.Fatal(err)
	}
	photos := 0
	for _, p := range slices.Sorted(maps.Keys(rust)) {
		// six of its photos: resizing its 9 MB of PNGs into their
		// variants would be most of the test's time
		if ext := strings.ToLower(filepath.Ext(p)); ext == ".png" || ext == ".jpg" || ext == ".jpeg" {
			if photos++; photos > 6 {
				delete(rust, p)
			}
		}
	}
	for name, blog := range map[string]fs.FS{"example": examples.Blog(), "rust": mapFS(rust)} {
		t.Run(name, func(t *testing.T) {
			content := filepath.Join(t.TempDir(), "content")
			if err := os.CopyFS(content, blog); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			cache, err := buildcache.Open(t.TempDir(), buildcache.Options{Version: "test"})
			if err != nil {
				t.Fatal(err)
			}
			defer cache.Close()
			p, err := New(ctx, ln, Options{Dir: content, Drafts: true, Future: true, Log: io.Discard, Cache: cache})
			if err != nil {
				ln.Close()
				t.Fatal(err)
			}
			defer p.Close()
			var postFiles []string
			filepath.WalkDir(filepath.Join(content, "posts"), func(path string, d fs.DirEntry, err error) error {
				if err == nil && strings.HasSuffix(path, ".md") && !strings.HasSuffix(path, "_index.md") {
					postFiles = append(postFiles, path)
				}
				return nil
			})
			slices.Sort(postFiles)
			edit := func(path string, f func(string) string) {
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(f(string(b))), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			steps := []struct {
				name string
				do   func()
			}{
				{"one post's body", func() {
					edit(postFiles[len(postFiles)/2], func(s string) string { return s + "\nOne more paragraph.\n" })
				}},
				{"a title", func() {
					edit(postFiles[1], func(s string) string {
						if strings.Contains(s, `title = "`) { // TOML (Zola)
							return strings.Replace(s, `title = "`, `title = "Retitled `, 1)
						}
						return strings.Replace(s, "title: ", "title: Retitled ", 1)
					})
				}},
				{"a new post", func() {
					os.WriteFile(filepath.Join(content, "posts", "2026-08-01-new.md"), []byte("---\ntitle: New post\ndate: 2026-08-01\ntags: [new]\n---\n\nNew.\n"), 0o644)
				}},
				{"a post removed", func() { os.Remove(postFiles[3]) }},
				{"the site's title", func() {
					edit(filepath.Join(content, "publish.yaml"), func(s string) string { return strings.Replace(s, "title:", "title: Renamed", 1) })
				}},
				{"nothing", func() {}},
			}
			for _, st := range steps {
				st.do()
				before := len(p.last.Files)
				p.rebuild(ctx)
				full, err := site.BuildDir(ctx, content, site.Options{BaseURL: p.url, Cache: cache,
					Render: templates.Options{Drafts: true, Future: true, Images: p.opts.Images}})
				if err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				got := p.last.Files
				if !slices.Equal(slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(full.Files))) {
					t.Fatalf("%s: the preview has %d files, a full build %d", st.name, len(got), len(full.Files))
				}
				for path, b := range full.Files {
					if !bytes.Equal(got[path], b) {
						t.Fatalf("%s: %s differs from a full build's", st.name, path)
					}
				}
				made := len(got) - len(p.last.Kept)
				if st.name == "one post's body" && made > before/3 {
					t.Errorf("one post's body edited: %d of %d files made again", made, len(got))
				}
				if st.name == "nothing" && made > 8 {
					t.Errorf("nothing changed: %d files made again", made)
				}
				t.Logf("%s: %d of %d files made again", st.name, made, len(got))
			}
		})
	}
}

// mapFS is a file system of the files of corpusgen.Files.
func mapFS(files map[string][]byte) fs.FS {
	m := fstest.MapFS{}
	for p, b := range files {
		m[p] = &fstest.MapFile{Data: b}
	}
	return m
}

// BenchmarkRebuildOneEdit is a preview's rebuild after one post of the
// corpus blog (PUBLISHBOT_BENCH_POSTS posts, default 1000) was saved, with
// the build cache: "incremental" as the preview does it, "whole" making
// every file again (as it did before it kept the last build's keys).
//
//	PUBLISHBOT_BENCH_POSTS=6629 go test -run '^$' -bench RebuildOneEdit -benchtime 5x ./preview
func BenchmarkRebuildOneEdit(b *testing.B) {
	n, files, err := corpusgen.BenchBlog(os.Getenv)
	if err != nil {
		b.Fatal(err)
	}
	content := filepath.Join(b.TempDir(), "content")
	if err := corpusgen.Write(content, files); err != nil {
		b.Fatal(err)
	}
	cache, err := buildcache.Open(b.TempDir(), buildcache.Options{Version: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer cache.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	p, err := New(ctx, ln, Options{Dir: content, Log: io.Discard, Cache: cache})
	if err != nil {
		ln.Close()
		b.Fatal(err)
	}
	defer p.Close()
	dated := corpusgen.DatedPosts(files)
	edits := 0
	for _, whole := range []bool{false, true} {
		b.Run(map[bool]string{false: "incremental", true: "whole"}[whole]+fmt.Sprintf("/posts=%d", n), func(b *testing.B) {
			made := 0
			for range b.N {
				b.StopTimer()
				path := filepath.Join(content, filepath.FromSlash(dated[(edits*7919)%len(dated)]))
				src, err := os.ReadFile(path)
				if err != nil {
					b.Fatal(err)
				}
				if err := os.WriteFile(path, append(src, fmt.Sprintf("\nEdit number %d.\n", edits)...), 0o644); err != nil {
					b.Fatal(err)
				}
				edits++
				if whole {
					p.last = nil
				}
				b.StartTimer()
				p.rebuild(ctx)
				made += len(p.last.Files) - len(p.last.Kept)
			}
			b.ReportMetric(float64(made)/float64(b.N), "made/op")
		})
	}
}

// A preview keeps the names of its folder's files in the build cache once
// its first build is done, for the next run of preview or build.
func TestPreviewSavesContentIDs(t *testing.T) {
	content := filepath.Join(t.TempDir(), "content")
	if err := os.CopyFS(content, examples.Blog()); err != nil {
		t.Fatal(err)
	}
	cache, err := buildcache.Open(t.TempDir(), buildcache.Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	if ids, err := contentids.Load(cache, content); err != nil || ids.Len() != 0 {
		t.Fatalf("before: %v, %d", err, ids.Len())
	}
	// files changed within a clock tick of their read are never
	// remembered: these have been there longer
	time.Sleep(1100 * time.Millisecond)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(t.Context(), ln, Options{Dir: content, Log: io.Discard, Cache: cache})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	defer p.Close()
	if p.last == nil {
		t.Fatal("the first build failed")
	}
	if ids, err := contentids.Load(cache, content); err != nil || ids.Len() == 0 || ids.Len() != p.ids.Len() {
		t.Fatalf("after the first build: %v, %d names saved, the preview holds %d", err, ids.Len(), p.ids.Len())
	}
}
