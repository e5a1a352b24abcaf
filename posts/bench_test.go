package posts

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/yuin/goldmark"
)

// corpusFS reads the Jekyll corpus into memory, so benchmarks measure
// parsing and rendering, not the disk.
func corpusFS(b *testing.B) (fstest.MapFS, []string) {
	b.Helper()
	dir := sharedTestdata(b, "corpus/jekyll")
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	m := fstest.MapFS{}
	var names []string
	for _, e := range entries {
		data, err := os.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			b.Fatal(err)
		}
		m[e.Name()] = &fstest.MapFile{Data: data}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return m, names
}

// scaledFS is n posts made from the real ones: each corpus post again under
// a new name, in a posts/ folder with a publish.yaml.
func scaledFS(b *testing.B, n int) fstest.MapFS {
	src, names := corpusFS(b)
	m := fstest.MapFS{ConfigFile: {Data: []byte(testConfig)}}
	for i := 0; i < n; i++ {
		name := names[i%len(names)]
		// Keep the Jekyll date prefix so the date still comes from the name
		// where the front matter has none; make the slug unique.
		m[fmt.Sprintf("posts/%s-%05d%s", name[:len(name)-len(path.Ext(name))], i, path.Ext(name))] = src[name]
	}
	return m
}

// benchLoad times Load of fsys. Each iteration also runs bare
// goldmark.Convert (default goldmark: no extensions, no highlighting, one
// goroutine) over the same Markdown files, interleaved so that a busy
// machine slows both alike, and reports the ratios: x-goldmark of wall time
// and cpu-x-goldmark of process CPU time (Load uses GOMAXPROCS goroutines).
func benchLoad(b *testing.B, fsys fstest.MapFS) {
	var files [][]byte
	var total int64
	for name, f := range fsys {
		if isMarkdown(name) {
			files = append(files, f.Data)
			total += int64(len(f.Data))
		}
	}
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	var loadWall, bareWall, loadCPU, bareCPU time.Duration
	for i := 0; i < b.N; i++ {
		c0, w0 := cpuTime(), time.Now()
		s, err := Load(b.Context(), fsys, Options{Now: testNow})
		c1, w1 := cpuTime(), time.Now()
		if err != nil {
			b.Fatal(err)
		}
		if len(s.Posts) < len(files)*9/10 {
			b.Fatalf("only %d posts", len(s.Posts))
		}
		b.StopTimer()
		for _, f := range files {
			if err := goldmark.Convert(f, io.Discard); err != nil {
				b.Fatal(err)
			}
		}
		c2, w2 := cpuTime(), time.Now()
		b.StartTimer()
		loadWall += w1.Sub(w0)
		bareWall += w2.Sub(w1)
		loadCPU += c1 - c0
		bareCPU += c2 - c1
	}
	b.ReportMetric(float64(len(files))*float64(b.N)/loadWall.Seconds(), "posts/s")
	b.ReportMetric(loadWall.Seconds()/bareWall.Seconds(), "x-goldmark")
	if bareCPU > 0 {
		b.ReportMetric(loadCPU.Seconds()/bareCPU.Seconds(), "cpu-x-goldmark")
	}
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLoadJekyll loads the 102-post Jekyll corpus.
func BenchmarkLoadJekyll(b *testing.B) {
	m, _ := corpusFS(b)
	benchLoad(b, m)
}

// BenchmarkLoadJekyllPermalink loads the Jekyll corpus as jekyllrb.com
// publishes it: in posts/, with its permalink and time zone.
func BenchmarkLoadJekyllPermalink(b *testing.B) {
	src, _ := corpusFS(b)
	m := fstest.MapFS{ConfigFile: {Data: []byte(testConfig + "permalink: /news/:year/:month/:day/:title/\ntimezone: America/Los_Angeles\n")}}
	for name, f := range src {
		m["posts/"+name] = f
	}
	benchLoad(b, m)
}

// BenchmarkLoad1000 loads 1,000 posts generated from the Jekyll corpus.
func BenchmarkLoad1000(b *testing.B) { benchLoad(b, scaledFS(b, 1000)) }

// BenchmarkLoad10000 loads 10,000 posts generated from the Jekyll corpus.
func BenchmarkLoad10000(b *testing.B) { benchLoad(b, scaledFS(b, 10000)) }

// BenchmarkGoldmarkBare is goldmark.Convert alone over the Jekyll corpus.
func BenchmarkGoldmarkBare(b *testing.B) {
	m, _ := corpusFS(b)
	var total int64
	for _, f := range m {
		total += int64(len(f.Data))
	}
	b.SetBytes(total)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, f := range m {
			if err := goldmark.Convert(f.Data, io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkAliasBomb rejects a billion-laughs front matter (10^9 values
// once expanded): the time and memory per op are those of the small input.
func BenchmarkAliasBomb(b *testing.B) {
	m := fstest.MapFS{
		ConfigFile:   {Data: []byte(testConfig)},
		"posts/a.md": {Data: []byte("---\ntitle: A\ndate: 2026-01-01\n" + aliasBombYAML(9) + "---\n")},
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s, err := Load(b.Context(), m, Options{Now: testNow})
		if err != nil || len(s.Diagnostics) != 1 || s.Diagnostics[0].Code != CodeAliasBomb {
			b.Fatalf("%v %v", err, s.Diagnostics)
		}
	}
}

// zolaFS is the Rust blog corpus (Zola) as a content tree: each post's
// body under a YAML front matter with a title, a date and a slug of its
// own (the corpus's dates live in Zola's path field), the other files
// beside them.
func zolaFS(tb testing.TB) fstest.MapFS {
	tb.Helper()
	dir := sharedTestdata(tb, "corpus/zola-rust-blog")
	files := fstest.MapFS{ConfigFile: {Data: []byte(testConfig)}}
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !strings.HasSuffix(rel, ".md") {
			files["posts/"+rel] = &fstest.MapFile{Data: data}
			return nil
		}
		if path.Base(rel) == "_index.md" || rel == "SOURCE.md" {
			return nil
		}
		body := string(data)
		if strings.HasPrefix(body, "+++") {
			if i := strings.Index(body[3:], "\n+++"); i >= 0 {
				body = body[3+i+4:]
			}
		}
		n++
		files["posts/"+rel] = &fstest.MapFile{Data: []byte(fmt.Sprintf("---\ntitle: Post %d\ndate: 2026-01-01\nslug: p%d\n---\n%s", n, n, body))}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}

// BenchmarkLoadZola loads the Rust blog's 750 posts (Zola): raw HTML
// tables and charts in some, code in most.
func BenchmarkLoadZola(b *testing.B) { benchLoad(b, zolaFS(b)) }
