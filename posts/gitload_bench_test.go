package posts_test

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/publishbot/publishbot/gitserver"
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
// from a git tree with a warm RenderCache, after one post changed: the load
// step of a one-post edit publish. The tree comes as a publish job gets it:
// fetched from a git server on loopback into a gitstore cache, checked
// (CheckTree), then read through Commit's tree; only Commit and Load are
// timed. The size is PUBLISHBOT_BENCH_POSTS (default 1000);
// PUBLISHBOT_BENCH_CPUPROFILE=file profiles the edits (with the fetches
// and checks between them, not the set-up):
//
//	PUBLISHBOT_BENCH_POSTS=6629 go test -run '^$' -bench LoadGitOneEdit -benchmem ./posts
func BenchmarkLoadGitOneEdit(b *testing.B) {
	_, raw, err := corpusgen.BenchBlog(os.Getenv)
	if err != nil {
		b.Fatal(err)
	}
	files := make(map[string]string, len(raw))
	for p, data := range raw {
		files[p] = string(data)
	}
	postPaths := corpusgen.DatedPosts(raw)
	const token, name = "ghs_benchToken1234567890", "acme/blog"
	srv, err := gitserver.Start(gitserver.Options{Root: b.TempDir(), User: gitstore.TokenUser, Password: token})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	if err := srv.CreateRepo(ctx, name, "main"); err != nil {
		b.Fatal(err)
	}
	if _, err := srv.Commit(ctx, name, gitserver.Change{Ref: "main", Message: "import", Files: files}); err != nil {
		b.Fatal(err)
	}
	store, err := gitstore.New(gitstore.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	repo, err := store.Open(gitstore.Remote{Name: name, URL: srv.RepoURL(name), Token: token})
	if err != nil {
		b.Fatal(err)
	}
	defer repo.Close()
	fetch := func() string {
		refs, err := repo.Fetch(ctx, "refs/heads/main")
		if err != nil {
			b.Fatal(err)
		}
		h, _ := refs.Hash("refs/heads/main")
		if err := repo.CheckTree(h); err != nil {
			b.Fatal(err)
		}
		return h
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cache := &memCache{m: map[[32]byte][]byte{}}
	load := func(h string) *posts.Site {
		c, err := repo.Commit(h)
		if err != nil {
			b.Fatal(err)
		}
		site, err := posts.Load(ctx, c.Tree, posts.Options{Now: now, Cache: cache})
		if err != nil {
			b.Fatal(err)
		}
		return site
	}
	want := len(load(fetch()).Posts) // warms the cache
	edits := 0
	if f := os.Getenv("PUBLISHBOT_BENCH_CPUPROFILE"); f != "" {
		// the edits' loads only, not the set-up
		out, err := os.Create(f)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(out); err != nil {
			b.Fatal(err)
		}
		defer func() { pprof.StopCPUProfile(); out.Close() }()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p := postPaths[(edits*7919)%len(postPaths)]
		text := files[p] + fmt.Sprintf("\n\nEdit number %d.\n", edits)
		edits++
		if _, err := srv.Commit(ctx, name, gitserver.Change{Ref: "main", Message: "edit", Files: map[string]string{p: text}}); err != nil {
			b.Fatal(err)
		}
		h := fetch()
		b.StartTimer()
		if got := len(load(h).Posts); got != want {
			b.Fatalf("%d posts, want %d", got, want)
		}
	}
}
