package site

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
)

// zolaCorpusDir is the Rust blog (Zola) corpus in ../shared beside the
// module.
var zolaCorpusDir = filepath.Join("..", "..", "shared", "testdata", "corpus", "zola-rust-blog")

// plainConfig is the publish.yaml of the plain benchmark blogs: the
// defaults, so search, related posts, JSON-LD and the feeds are on.
const plainConfig = "title: Benchmark blog\ndescription: A blog without images or template syntax.\nbase_url: https://bench.github.io/blog/\nauthor: Bench\nper_page: 10\n"

// hasImage says whether a post's source shows an image (Markdown or HTML).
func hasImage(src []byte) bool {
	return bytes.Contains(src, []byte("![")) || bytes.Contains(src, []byte("<img"))
}

// untemplated is src with every "{{" and "{%" taken out: a post that uses
// no template syntax.
func untemplated(src []byte) []byte {
	src = bytes.ReplaceAll(src, []byte("{{"), []byte("( "))
	return bytes.ReplaceAll(src, []byte("{%"), []byte("( "))
}

// plainJekyllFS is n posts from the real Jekyll corpus (as writeBenchContent)
// without their template syntax, in memory: a blog without images or
// Liquid (the 2 posts that show an image are left out).
func plainJekyllFS(tb testing.TB, n int) fstest.MapFS {
	tb.Helper()
	entries, err := os.ReadDir(jekyllCorpusDir)
	if err != nil {
		tb.Fatalf("read corpus: %v", err)
	}
	var names []string
	srcs := map[string][]byte{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".md") && !strings.HasSuffix(e.Name(), ".markdown") {
			continue
		}
		src, err := os.ReadFile(filepath.Join(jekyllCorpusDir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		if !hasImage(src) {
			names = append(names, e.Name())
			srcs[e.Name()] = untemplated(src)
		}
	}
	sort.Strings(names)
	m := fstest.MapFS{"publish.yaml": {Data: []byte(plainConfig)}}
	for i := 0; i < n; i++ {
		name := names[i%len(names)]
		ext := filepath.Ext(name)
		file := fmt.Sprintf("posts/%s-%d%s", strings.TrimSuffix(name, ext), i/len(names), ext)
		m[file] = &fstest.MapFile{Data: srcs[name]}
	}
	return m
}

// plainZolaFS is the Rust blog (Zola) as a content tree without images:
// its 644 posts that show no image, each body under a YAML front matter
// with a title, a date, a slug and two of 18 tags of its own (the
// corpus's dates live in Zola's path field, and it has no tags), its
// template syntax taken out; the images and other files left out.
func plainZolaFS(tb testing.TB) fstest.MapFS {
	tb.Helper()
	m := fstest.MapFS{"publish.yaml": {Data: []byte(plainConfig)}}
	n := 0
	err := filepath.WalkDir(zolaCorpusDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(zolaCorpusDir, p)
		rel = filepath.ToSlash(rel)
		if !strings.HasSuffix(rel, ".md") || filepath.Base(rel) == "_index.md" || rel == "SOURCE.md" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if hasImage(data) {
			return nil
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
		m["posts/"+rel] = &fstest.MapFile{Data: untemplated([]byte(src))}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// processCPU is the CPU time (user and system) the process has used: a
// build on several cores takes less time than CPU, on a busy machine
// about as much.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBuildPlain is a full build in memory (site.Build: load and
// render, no writing) of blogs without images and without template
// syntax, with the default settings: 1,000 posts made from the Jekyll
// news, and the Rust blog's posts. It compiles unchanged at older commits, to
// compare a build with the readers' features against one without.
func BenchmarkBuildPlain(b *testing.B) {
	for _, c := range []struct {
		name string
		fsys func(testing.TB) fstest.MapFS
	}{
		{"jekyll1000", func(tb testing.TB) fstest.MapFS { return plainJekyllFS(tb, 1000) }},
		{"zola", plainZolaFS},
	} {
		content := c.fsys(b)
		b.Run(c.name, func(b *testing.B) {
			var load, render time.Duration
			var files int
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				out, err := Build(b.Context(), content, nil, Options{Now: fixedNow})
				if err != nil {
					b.Fatal(err)
				}
				load += out.Load
				render += out.Render
				files = len(out.Files)
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
			b.ReportMetric(ms(processCPU()-cpu0), "cpu-ms/op")
			b.ReportMetric(ms(load), "load-ms/op")
			b.ReportMetric(ms(render), "render-ms/op")
			b.ReportMetric(float64(files), "files")
		})
	}
}
