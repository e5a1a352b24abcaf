package posts_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/publishbot/publishbot/gitstore"
	"github.com/publishbot/publishbot/internal/corpusgen"
	"github.com/publishbot/publishbot/posts"
)

// memCache is a RenderCache in memory.
type memCache struct {
	mu sync.Mutex
	m  map[[32]byte][]byte
}

func (c *memCache) Get(k [32]byte) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *memCache) Put(k [32]byte, v []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[k] = v
}

// BenchmarkLoadGitOneEdit is posts.Load of the Rust-blog-based corpus read
// from a git tree (a packed repository on disk, as the publisher's cache
// holds it), with a warm RenderCache, after one post changed: the load
// step of a one-post edit publish. The size is PUBLISHBOT_BENCH_POSTS
// (default 1000):
//
//	PUBLISHBOT_BENCH_POSTS=6629 go test -run '^$' -bench LoadGitOneEdit -benchmem ./posts
func BenchmarkLoadGitOneEdit(b *testing.B) {
	n := 1000
	if v := os.Getenv("PUBLISHBOT_BENCH_POSTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	files, err := corpusgen.Files(filepath.Join("..", "..", "shared", "testdata", "corpus", "zola-rust-blog"), n)
	if err != nil {
		b.Fatal(err)
	}
	files["publish.yaml"] = []byte(corpusgen.Config)
	dir := b.TempDir()
	var postPaths []string
	for p, data := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			b.Fatal(err)
		}
		if strings.Contains(string(data), "\ndate = ") {
			postPaths = append(postPaths, p)
		}
	}
	sort.Strings(postPaths)
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-c", "user.name=bench", "-c", "user.email=bench@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("commit", "-q", "-m", "import")
	git("repack", "-adq")
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cache := &memCache{m: map[[32]byte][]byte{}}
	load := func() *posts.Site {
		fsys, _, err := gitstore.BranchFS(dir, "main")
		if err != nil {
			b.Fatal(err)
		}
		site, err := posts.Load(context.Background(), fsys, posts.Options{Now: now, Cache: cache})
		if err != nil {
			b.Fatal(err)
		}
		return site
	}
	want := len(load().Posts) // warms the cache
	edits := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p := postPaths[(edits*7919)%len(postPaths)]
		text := string(files[p]) + fmt.Sprintf("\n\nEdit number %d.\n", edits)
		edits++
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(p)), []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
		git("commit", "-q", "-a", "-m", "edit")
		b.StartTimer()
		if got := len(load().Posts); got != want {
			b.Fatalf("%d posts, want %d", got, want)
		}
	}
}
