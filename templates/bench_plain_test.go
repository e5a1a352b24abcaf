package templates

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/publishbot/publishbot/posts"
)

// plainBlogs are blogs without images or template syntax, with the
// default settings (search, related posts, JSON-LD and feeds on): 1,000
// posts made from the Jekyll news (the 2 that show an image left out),
// and the Rust blog's 644 posts that show no image, with two of 18 tags
// each. The same blogs as site's BenchmarkBuildPlain.
func plainBlogs(tb testing.TB) map[string]fstest.MapFS {
	tb.Helper()
	const cfg = "title: Benchmark blog\ndescription: A blog without images or template syntax.\nbase_url: https://bench.github.io/blog/\nauthor: Bench\nper_page: 10\n"
	hasImage := func(src []byte) bool {
		return bytes.Contains(src, []byte("![")) || bytes.Contains(src, []byte("<img"))
	}
	untemplated := func(src []byte) []byte {
		src = bytes.ReplaceAll(src, []byte("{{"), []byte("( "))
		return bytes.ReplaceAll(src, []byte("{%"), []byte("( "))
	}
	jekyllDir := filepath.Join("..", "..", "shared", "testdata", "corpus", "jekyll")
	entries, err := os.ReadDir(jekyllDir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	srcs := map[string][]byte{}
	for _, e := range entries {
		src, err := os.ReadFile(filepath.Join(jekyllDir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		if !hasImage(src) {
			names = append(names, e.Name())
			srcs[e.Name()] = untemplated(src)
		}
	}
	sort.Strings(names)
	jekyll := fstest.MapFS{"publish.yaml": {Data: []byte(cfg)}}
	for i := 0; i < 1000; i++ {
		name := names[i%len(names)]
		ext := filepath.Ext(name)
		jekyll[fmt.Sprintf("posts/%s-%d%s", strings.TrimSuffix(name, ext), i/len(names), ext)] = &fstest.MapFile{Data: srcs[name]}
	}
	zolaDir := filepath.Join("..", "..", "shared", "testdata", "corpus", "zola-rust-blog")
	zola := fstest.MapFS{"publish.yaml": {Data: []byte(cfg)}}
	n := 0
	err = filepath.WalkDir(zolaDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(zolaDir, p)
		rel = filepath.ToSlash(rel)
		if !strings.HasSuffix(rel, ".md") || filepath.Base(rel) == "_index.md" || rel == "SOURCE.md" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil || hasImage(data) {
			return err
		}
		body := string(data)
		if strings.HasPrefix(body, "+++") {
			if i := strings.Index(body[3:], "\n+++"); i >= 0 {
				body = body[3+i+4:]
			}
		}
		n++
		date := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 3*n).Format("2006-01-02")
		src := fmt.Sprintf("---\ntitle: Post %d\ndate: %s\nslug: p%d\ntags: [t%d, t%d]\n---\n%s", n, date, n, n%7, n%11, body)
		zola["posts/"+rel] = &fstest.MapFile{Data: untemplated([]byte(src))}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return map[string]fstest.MapFS{"jekyll1000": jekyll, "zola": zola}
}

// benchCPU is the CPU time (user and system) the process has used.
func benchCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRenderPlain renders the plainBlogs, loaded once: the templates'
// share of site's BenchmarkBuildPlain. It compiles unchanged at older
// commits, to compare against them.
func BenchmarkRenderPlain(b *testing.B) {
	blogs := plainBlogs(b)
	for _, name := range []string{"jekyll1000", "zola"} {
		content := blogs[name]
		site, err := posts.Load(b.Context(), content, posts.Options{Now: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			b.Fatal(err)
		}
		r, err := New(nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			files := 0
			cpu0 := benchCPU()
			for b.Loop() {
				out, err := r.Render(b.Context(), site, content, Options{})
				if err != nil {
					b.Fatal(err)
				}
				files = len(out.Files)
			}
			b.ReportMetric(float64((benchCPU()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(files), "files")
		})
	}
}
