package publisher

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"testing"

	"github.com/publishbot/publishbot/buildcache"
	"github.com/publishbot/publishbot/gitserver"
	"github.com/publishbot/publishbot/gitstore"
	"github.com/publishbot/publishbot/imagery"
	"github.com/publishbot/publishbot/internal/corpusgen"
	"github.com/publishbot/publishbot/queue"
)

// corpusBlog is the corpus blog of PUBLISHBOT_BENCH_POSTS posts: its
// size, its files and its dated posts.
func corpusBlog(b *testing.B) (n int, files map[string]string, posts []string) {
	n, raw, err := corpusgen.BenchBlog(os.Getenv)
	if err != nil {
		b.Fatal(err)
	}
	files = make(map[string]string, len(raw))
	for k, v := range raw {
		files[k] = string(v)
	}
	return n, files, corpusgen.DatedPosts(raw)
}

// BenchmarkPublishCorpusOneEdit is a whole publish job (fetch, build, write
// objects, push) after one post of the Rust-blog-based corpus changed, with
// the build cache (cache=on) and without (cache=off). The size is
// PUBLISHBOT_BENCH_POSTS (default 1000; issue 13 uses 1000, 6629, 20000):
//
//	PUBLISHBOT_BENCH_POSTS=6629 go test -run '^$' -bench PublishCorpusOneEdit -benchtime 5x ./publisher
//
// PUBLISHBOT_BENCH_CPUPROFILE=file writes a CPU profile of the edits with
// the cache (not of the first publish).
func BenchmarkPublishCorpusOneEdit(b *testing.B) {
	n, files, posts := corpusBlog(b)
	for _, cached := range []bool{true, false} {
		// PUBLISHBOT_BENCH_CACHE=on (or off) sets up only that
		// configuration: a first publish of 6,629 posts takes minutes.
		if v := os.Getenv("PUBLISHBOT_BENCH_CACHE"); v != "" && (v == "on") != cached {
			continue
		}
		// The blog is imported and published once per configuration, with
		// the outer b: the testing package runs a sub-benchmark's function
		// more than once (b.N = 1 first), and a first publish of 6,629
		// posts takes minutes. Images go through a cache in a folder, as
		// `publish` and `serve` wire them.
		opts := []envOption{func(o *Options) { o.Images = imagery.New(imagery.NewDirCache(b.TempDir())) }}
		if cached {
			c, err := buildcache.Open(b.TempDir(), buildcache.Options{Version: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { c.Close() })
			opts = append(opts, func(o *Options) { o.Cache = c })
		}
		ctx := context.Background()
		log := discardEntry()
		e := newEnv(b, opts...)
		// The 20,000-post blog (597 MB with its photos) is over the
		// store's default content size, as PUBLISHBOT_MAX_CONTENT_BYTES
		// raises it for `publish` and `serve`.
		e.store = e.newStore(gitstore.Options{Limits: gitstore.Limits{MaxTotalBytes: 4 << 30}})
		e.pub.store = e.store
		pj := queue.Job{Kind: queue.KindPublish, Repo: e.repo(), Ref: "refs/heads/main"}
		if _, err := e.srv.Commit(ctx, testRepo, gitserver.Change{Ref: "main", Message: "import", Files: files}); err != nil {
			b.Fatal(err)
		}
		if r := e.pub.Run(ctx, pj, log); r.Outcome != OutcomePublished {
			b.Fatalf("first publish: %s %v", r.Outcome, r.Err)
		}
		edits := 0
		made := recordBuilds(e)
		b.Run(fmt.Sprintf("posts=%d/cache=%v", n, cached), func(b *testing.B) {
			if f := os.Getenv("PUBLISHBOT_BENCH_CPUPROFILE"); f != "" && cached {
				// the edits only, not the first publish
				out, err := os.Create(f)
				if err != nil {
					b.Fatal(err)
				}
				if err := pprof.StartCPUProfile(out); err != nil {
					b.Fatal(err)
				}
				defer func() { pprof.StopCPUProfile(); out.Close() }()
			}
			rendered, kept := 0, 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				p := posts[(edits*7919)%len(posts)]
				text := files[p] + fmt.Sprintf("\n\nEdit number %d.\n", edits)
				edits++
				if _, err := e.srv.Commit(ctx, testRepo, gitserver.Change{Ref: "main", Message: "edit", Files: map[string]string{p: text}}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				r := e.pub.Run(ctx, pj, log)
				if r.Outcome != OutcomePublished {
					b.Fatalf("publish %d: %s %v", i, r.Outcome, r.Err)
				}
				rendered += r.Rendered
				kept += r.Kept
			}
			if *made != nil {
				b.Logf("the last edit (%s) rendered %d files: %v", posts[((edits-1)*7919)%len(posts)], len(*made), *made)
			}
			b.ReportMetric(float64(rendered)/float64(b.N), "rendered/op")
			b.ReportMetric(float64(kept)/float64(b.N), "kept/op")
		})
	}
}

// BenchmarkPreviewCorpusOneEdit is a pull request's preview job (fetch,
// build, changed posts, write objects, push) after one more commit that
// edits one post of the pull request, on the corpus blog of
// PUBLISHBOT_BENCH_POSTS posts, with the build cache, for a pull request
// from a branch of the repository and one from a fork; the blog's site and
// each pull request's first preview are made before the timing starts:
//
//	PUBLISHBOT_BENCH_POSTS=6629 go test -run '^$' -bench PreviewCorpusOneEdit -benchtime 5x ./publisher
func BenchmarkPreviewCorpusOneEdit(b *testing.B) {
	e, n, files, posts, base := publishedCorpus(b)
	ctx, log := context.Background(), discardEntry()
	var err error
	// A branch of the repository (pull request 7) and a fork (8): a fork's
	// preview also checks the files it copies (leaveOut).
	for _, from := range []struct {
		name, repo string
		pr         int
	}{{"branch", testRepo, 7}, {"fork", "forker/blog", 8}} {
		ref := fmt.Sprintf("refs/pull/%d/head", from.pr)
		head, edits := base, 0
		edit := func() {
			p := posts[(edits*7919+from.pr)%len(posts)]
			text := files[p] + fmt.Sprintf("\n\nPull request edit number %d.\n", edits)
			edits++
			head, err = e.srv.Commit(ctx, testRepo, gitserver.Change{Ref: ref, Parent: head, Message: "edit", Files: map[string]string{p: text}})
			if err != nil {
				b.Fatal(err)
			}
		}
		preview := func() Result {
			j := e.previewJob(from.pr, head)
			j.Ref, j.BaseSHA, j.HeadRepo = ref, base, from.repo
			r := e.pub.Run(ctx, j, log)
			if r.Outcome != OutcomePublished {
				b.Fatalf("preview %d: %s %v", edits, r.Outcome, r.Err)
			}
			return r
		}
		edit()
		preview() // the pull request's first preview: the whole site under pr-preview/pr-N/
		b.Run(fmt.Sprintf("%s/posts=%d", from.name, n), func(b *testing.B) {
			rendered, changed := 0, 0
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				edit()
				b.StartTimer()
				r := preview()
				rendered += r.Rendered
				changed += len(r.Changed)
			}
			b.ReportMetric(float64(rendered)/float64(b.N), "rendered/op")
			b.ReportMetric(float64(changed)/float64(b.N), "changed/op")
		})
	}
}

// BenchmarkPreviewCorpusFirst measures a pull request's first preview (one
// post edited) on the corpus blog of PUBLISHBOT_BENCH_POSTS posts whose
// site was published with the build cache before the timing starts: the
// whole site under pr-preview/pr-N/, each run a new pull request.
//
//	PUBLISHBOT_BENCH_POSTS=6629 go test -run '^$' -bench PreviewCorpusFirst -benchtime 2x ./publisher
func BenchmarkPreviewCorpusFirst(b *testing.B) {
	e, n, files, posts, base := publishedCorpus(b)
	ctx, log := context.Background(), discardEntry()
	prs := 0 // b.Run runs its function more than once
	b.Run(fmt.Sprintf("posts=%d", n), func(b *testing.B) {
		pushed, bytesPushed := 0, int64(0)
		for range b.N {
			b.StopTimer()
			i := prs
			prs++
			pr := 100 + i
			ref := fmt.Sprintf("refs/pull/%d/head", pr)
			p := posts[(i*7919)%len(posts)]
			head, err := e.srv.Commit(ctx, testRepo, gitserver.Change{Ref: ref, Parent: base, Message: "edit",
				Files: map[string]string{p: files[p] + "\n\nA pull request's edit.\n"}})
			if err != nil {
				b.Fatal(err)
			}
			j := e.previewJob(pr, head)
			j.Ref, j.BaseSHA = ref, base
			sent := e.srv.PushedBytes()
			b.StartTimer()
			r := e.pub.Run(ctx, j, log)
			if r.Outcome != OutcomePublished {
				b.Fatalf("preview: %s %v", r.Outcome, r.Err)
			}
			pushed += r.ObjectsPushed
			bytesPushed += e.srv.PushedBytes() - sent
		}
		b.ReportMetric(float64(pushed)/float64(b.N), "pushed/op")
		b.ReportMetric(float64(bytesPushed)/float64(b.N)/(1<<20), "MiB-pushed/op")
	})
}

// publishedCorpus is the corpus blog of PUBLISHBOT_BENCH_POSTS posts (n
// posts, its files, its posts' paths) committed to main at base and
// published with a build cache and an image cache, as the preview
// benchmarks start from.
func publishedCorpus(b *testing.B) (e *env, n int, files map[string]string, posts []string, base string) {
	n, files, posts = corpusBlog(b)
	c, err := buildcache.Open(b.TempDir(), buildcache.Options{Version: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	e = newEnv(b, func(o *Options) { o.Images = imagery.New(imagery.NewDirCache(b.TempDir())) }, func(o *Options) { o.Cache = c })
	e.store = e.newStore(gitstore.Options{Limits: gitstore.Limits{MaxTotalBytes: 4 << 30}})
	e.pub.store = e.store
	ctx := context.Background()
	base, err = e.srv.Commit(ctx, testRepo, gitserver.Change{Ref: "main", Message: "import", Files: files})
	if err != nil {
		b.Fatal(err)
	}
	if r := e.pub.Run(ctx, queue.Job{Kind: queue.KindPublish, Repo: e.repo(), Ref: "refs/heads/main"}, discardEntry()); r.Outcome != OutcomePublished {
		b.Fatalf("publish: %s %v", r.Outcome, r.Err)
	}
	return e, n, files, posts, base
}
