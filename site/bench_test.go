package site

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// jekyllCorpusDir is the real Jekyll corpus in ../shared beside the module,
// located from this package's folder.
var jekyllCorpusDir = filepath.Join("..", "..", "shared", "testdata", "corpus", "jekyll")

// writeBenchContent makes a content folder of n posts from the real Jekyll
// corpus: the 102 posts repeated, each copy under its own file name (and so
// its own slug), with a publish.yaml.
func writeBenchContent(tb testing.TB, n int) string {
	tb.Helper()
	entries, err := os.ReadDir(jekyllCorpusDir)
	if err != nil {
		tb.Fatalf("read corpus: %v", err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".md") || strings.HasSuffix(e.Name(), ".markdown") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	srcs := make([][]byte, len(names))
	for i, name := range names {
		if srcs[i], err = os.ReadFile(filepath.Join(jekyllCorpusDir, name)); err != nil {
			tb.Fatal(err)
		}
	}
	dir := tb.TempDir()
	postsDir := filepath.Join(dir, "posts")
	if err := os.Mkdir(postsDir, 0o755); err != nil {
		tb.Fatal(err)
	}
	cfg := "title: Benchmark blog\ndescription: The Jekyll news, many times over.\nbase_url: https://bench.github.io/blog/\nauthor: Bench\nper_page: 10\n"
	if err := os.WriteFile(filepath.Join(dir, "publish.yaml"), []byte(cfg), 0o644); err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < n; i++ {
		k := i % len(names)
		name := names[k]
		ext := filepath.Ext(name)
		file := fmt.Sprintf("%s-%d%s", strings.TrimSuffix(name, ext), i/len(names), ext)
		if err := os.WriteFile(filepath.Join(postsDir, file), srcs[k], 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// BenchmarkBuild is a full build of n posts from the corpus: BuildDir
// (posts.Load: reading, front matter, Markdown; templates: pages, feeds,
// sitemap) and, for "folder", Write. It reports posts/s and the share of
// each step in ms/op.
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		content := writeBenchContent(b, n)
		for _, target := range []string{"memory", "folder"} {
			b.Run(fmt.Sprintf("posts=%d/to=%s", n, target), func(b *testing.B) {
				out := filepath.Join(b.TempDir(), "public")
				var load, render, write time.Duration
				var files int
				b.ReportAllocs()
				for b.Loop() {
					sb, err := BuildDir(b.Context(), content, Options{Now: fixedNow})
					if err != nil {
						b.Fatal(err)
					}
					load += sb.Load
					render += sb.Render
					files = len(sb.Files)
					if target == "folder" {
						start := time.Now()
						if _, _, err := Write(b.Context(), out, sb.Files); err != nil {
							b.Fatal(err)
						}
						write += time.Since(start)
					}
				}
				ms := func(d time.Duration) float64 { return float64(d.Milliseconds()) / float64(b.N) }
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "posts/s")
				b.ReportMetric(ms(load), "load-ms/op")
				b.ReportMetric(ms(render), "render-ms/op")
				b.ReportMetric(ms(write), "write-ms/op")
				b.ReportMetric(float64(files), "files")
			})
		}
	}
}
