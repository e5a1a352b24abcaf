package publisher

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/gitserver"
	"github.com/publishbot/publishbot/gitstore"
	"github.com/publishbot/publishbot/posts"
	"github.com/publishbot/publishbot/queue"
)

// corpusDir is ../shared/testdata/corpus/jekyll beside the module root; go
// test runs in the package's folder.
func corpusDir(tb testing.TB) string {
	tb.Helper()
	return filepath.Join("..", "..", "shared", "testdata", "corpus", "jekyll")
}

// bigSite is a content repository of n posts whose bodies are the Jekyll
// corpus (real Markdown), with fresh front matter so every post is valid.
func bigSite(tb testing.TB, n int) map[string]string {
	tb.Helper()
	corpus, err := gitserver.FilesFromDir(corpusDir(tb), "")
	if err != nil {
		tb.Fatal(err)
	}
	var bodies []string
	names := make([]string, 0, len(corpus))
	for name := range corpus {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		body := corpus[name]
		if rest, ok := strings.CutPrefix(body, "---\n"); ok {
			if _, after, ok := strings.Cut(rest, "\n---\n"); ok {
				body = after
			}
		}
		bodies = append(bodies, body)
	}
	if len(bodies) == 0 {
		tb.Fatal("empty corpus")
	}
	files := map[string]string{
		"publish.yaml": "title: Big Blog\nbase_url: https://acme.github.io/big/\nper_page: 10\n",
	}
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		d := start.Add(time.Duration(i) * 24 * time.Hour)
		files[postPath(i, d)] = fmt.Sprintf("---\ntitle: Post number %d\ndate: %s\ntags: [t%d, all]\n---\n\n%s", i, d.Format("2006-01-02"), i%20, bodies[i%len(bodies)])
	}
	return files
}

func postPath(i int, d time.Time) string {
	return fmt.Sprintf("posts/%s-post-%04d.md", d.Format("2006-01-02"), i)
}

// editedPost is the path and new text of the one post an iteration changes.
func editedPost(files map[string]string, iter int) (string, string) {
	return editedPostAt(files, 500, iter)
}

// editedPostAt edits post number idx (0 is the oldest, 999 the newest of
// bigSite(1000)).
func editedPostAt(files map[string]string, idx, iter int) (string, string) {
	p := postPath(idx, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(idx)*24*time.Hour))
	return p, files[p] + fmt.Sprintf("\nEdit number %d.\n", iter)
}

// BenchmarkPublish1000PostsOneChanged is a whole publish job (fetch, build,
// write objects, push) after one post of a 1,000-post site changed: an old
// post (only its page changes) and the newest post (its page, the first
// index page, its tag pages and the feeds change too: the worst case).
func BenchmarkPublish1000PostsOneChanged(b *testing.B) {
	b.Run("old-post", func(b *testing.B) { benchPublishOneChanged(b, 500) })
	b.Run("newest-post", func(b *testing.B) { benchPublishOneChanged(b, 999) })
}

func benchPublishOneChanged(b *testing.B, idx int) {
	e := newEnv(b)
	ctx := context.Background()
	files := bigSite(b, 1000)
	if _, err := e.srv.Commit(ctx, testRepo, gitserver.Change{Ref: "main", Message: "import", Files: files}); err != nil {
		b.Fatal(err)
	}
	log := logrus.NewEntry(e.lg)
	pj := queue.Job{Kind: queue.KindPublish, Repo: e.repo(), Ref: "refs/heads/main"}
	if r := e.pub.Run(ctx, pj, log); r.Outcome != OutcomePublished {
		b.Fatalf("first publish: %s %v", r.Outcome, r.Err)
	}
	var written, pushed int
	var pushedBytes int64
	var fetch, build, push time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p, text := editedPostAt(files, idx, i)
		if _, err := e.srv.Commit(ctx, testRepo, gitserver.Change{Ref: "main", Message: "edit", Files: map[string]string{p: text}}); err != nil {
			b.Fatal(err)
		}
		e.srv.ResetRequests()
		b.StartTimer()
		r := e.pub.Run(ctx, pj, log)
		b.StopTimer()
		if r.Outcome != OutcomePublished {
			b.Fatalf("publish %d: %s %v", i, r.Outcome, r.Err)
		}
		written += r.ObjectsWritten
		pushed += r.ObjectsPushed
		pushedBytes += e.srv.PushedBytes()
		fetch += r.Fetch
		build += r.Build
		push += r.Push
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(float64(written)/n, "objects-written/op")
	b.ReportMetric(float64(pushed)/n, "objects-pushed/op")
	b.ReportMetric(float64(pushedBytes)/n, "bytes-pushed/op")
	b.ReportMetric(float64(fetch.Milliseconds())/n, "fetch-ms/op")
	b.ReportMetric(float64(build.Milliseconds())/n, "build-ms/op")
	b.ReportMetric(float64(push.Milliseconds())/n, "push-ms/op")
}

// BenchmarkCommitStep1000Posts compares the step after rendering: get the
// built site of a 1,000-post blog, with one post changed, onto the pages
// branch of the server. publishbot writes git objects straight from memory
// and pushes only what changed (ns/op is this); the git CLI writes the
// files into a worktree and runs `git add -A && git commit && git push`
// (cli-ns/op), in the same run, against its own copy of the repository.
func BenchmarkCommitStep1000Posts(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	files := bigSite(b, 1000)
	if _, err := e.srv.Commit(ctx, testRepo, gitserver.Change{Ref: "main", Message: "import", Files: files}); err != nil {
		b.Fatal(err)
	}
	log := logrus.NewEntry(e.lg)
	pj := queue.Job{Kind: queue.KindPublish, Repo: e.repo(), Ref: "refs/heads/main"}
	if r := e.pub.Run(ctx, pj, log); r.Outcome != OutcomePublished {
		b.Fatalf("first publish: %s %v", r.Outcome, r.Err)
	}
	// The CLI's copy: a second repository holding the same pages branch,
	// cloned into a worktree.
	if err := e.srv.CreateRepo(ctx, "acme/cli", "gh-pages"); err != nil {
		b.Fatal(err)
	}
	if _, err := e.srv.Git(ctx, testRepo, "push", "--quiet", e.srv.RepoPath("acme/cli"), "gh-pages:gh-pages"); err != nil {
		b.Fatal(err)
	}
	work := b.TempDir()
	authURL := strings.Replace(e.srv.RepoURL("acme/cli"), "http://", "http://x-access-token:"+testToken+"@", 1)
	wt := filepath.Join(work, "wt")
	cli := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = wt
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0",
			"GIT_AUTHOR_NAME=publishbot", "GIT_AUTHOR_EMAIL=p@example.com", "GIT_COMMITTER_NAME=publishbot", "GIT_COMMITTER_EMAIL=p@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if err := os.MkdirAll(wt, 0o755); err != nil {
		b.Fatal(err)
	}
	cli("clone", "--quiet", "--branch", "gh-pages", authURL, ".")

	// The publisher's side: the cache the publish used, opened through a
	// store of its own (a cold object cache, as a new process has).
	repo, err := e.newStore(gitstore.Options{}).Open(gitstore.Remote{Name: testRepo, URL: e.repo().CloneURL, Token: testToken})
	if err != nil {
		b.Fatal(err)
	}
	defer repo.Close()
	head := e.head("gh-pages")

	var cliTime, ourTime time.Duration
	var ourBytes, cliBytes int64
	var written, pushed int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p, text := editedPost(files, i)
		files[p] = text
		mfs := fstest.MapFS{}
		for name, body := range files {
			mfs[name] = &fstest.MapFile{Data: []byte(body)}
		}
		built, err := buildSite(ctx, buildInput{Content: mfs, Repo: testRepo, Now: fixedNow})
		if err != nil {
			b.Fatal(err)
		}
		out := built.Files
		e.srv.ResetRequests()
		b.StartTimer()

		start := time.Now()
		res, err := repo.Push(ctx, gitstore.Update{Branch: "gh-pages", Head: head, Message: "Publish",
			Author: gitstore.Signature{Name: "publishbot", Email: "publishbot@users.noreply.github.com", When: fixedNow},
			Build:  func(t *gitstore.Tree) error { return t.Replace(out) }})
		if err != nil || !res.Changed {
			b.Fatalf("push: %v (changed %v)", err, res.Changed)
		}
		ourTime += time.Since(start)
		b.StopTimer()
		head = res.Commit
		written += res.Written
		pushed += res.Sent
		ourBytes += e.srv.PushedBytes()
		e.srv.ResetRequests()

		// The git CLI: a generator writes every output file, then
		// add, commit, push.
		start = time.Now()
		for name, data := range out {
			full := filepath.Join(wt, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(full, data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		cli("add", "-A")
		cli("commit", "--quiet", "-m", "Publish")
		cli("push", "--quiet", "origin", "gh-pages")
		cliTime += time.Since(start)
		cliBytes += e.srv.PushedBytes()
		b.StartTimer()
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(written)/n, "objects-written/op")
	b.ReportMetric(float64(pushed)/n, "objects-pushed/op")
	b.ReportMetric(float64(ourBytes)/n, "bytes-pushed/op")
	b.ReportMetric(float64(cliTime.Nanoseconds())/n, "cli-ns/op")
	b.ReportMetric(float64(cliBytes)/n, "cli-bytes-pushed/op")
	b.ReportMetric(float64(cliTime)/float64(ourTime), "cli/publisher")
}

// BenchmarkLoadFromGitTree is posts.Load of a 1,000-post site read straight
// from git objects (the cache's packfile), against the same files in memory
// (fstest.MapFS) as a baseline: the cost of the tree fs.FS.
func BenchmarkLoadFromGitTree(b *testing.B) {
	e := newEnv(b)
	files := bigSite(b, 1000)
	if _, err := e.srv.Commit(context.Background(), testRepo, gitserver.Change{Ref: "main", Message: "import", Files: files}); err != nil {
		b.Fatal(err)
	}
	repo, err := e.newStore(gitstore.Options{}).Open(gitstore.Remote{Name: testRepo, URL: e.repo().CloneURL, Token: testToken})
	if err != nil {
		b.Fatal(err)
	}
	defer repo.Close()
	refs, err := repo.Fetch(context.Background(), "refs/heads/main")
	if err != nil {
		b.Fatal(err)
	}
	main, _ := refs.Hash("refs/heads/main")
	mfs := fstest.MapFS{}
	for name, body := range files {
		mfs[name] = &fstest.MapFile{Data: []byte(body)}
	}
	for _, tc := range []struct {
		name string
		fsys func() fs.FS
	}{
		// A tree read afresh from the cache each time, as a job reads it.
		{"git-tree", func() fs.FS {
			c, err := repo.Commit(main)
			if err != nil {
				b.Fatal(err)
			}
			return c.Tree
		}},
		{"mapfs", func() fs.FS { return mfs }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				site, err := posts.Load(b.Context(), tc.fsys(), posts.Options{Now: fixedNow, Repo: testRepo})
				if err != nil || len(site.Posts) != 1000 {
					b.Fatalf("%v, %d posts", err, len(site.Posts))
				}
			}
		})
	}
}

// BenchmarkFirstPublish1000Posts is a publish that creates the pages branch
// of a 1,000-post site: every object goes into one pack. (Each iteration
// targets a new branch; the cache already holds the objects after the
// first, so objects-written/op falls, but every pack is whole.)
func BenchmarkFirstPublish1000Posts(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	if _, err := e.srv.Commit(ctx, testRepo, gitserver.Change{Ref: "main", Message: "import", Files: bigSite(b, 1000)}); err != nil {
		b.Fatal(err)
	}
	log := logrus.NewEntry(e.lg)
	var pushedBytes int64
	var pushed, written int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.pub.pagesBranch = fmt.Sprintf("pages-%d", i)
		e.srv.ResetRequests()
		r := e.pub.Run(ctx, queue.Job{Kind: queue.KindPublish, Repo: e.repo(), Ref: "refs/heads/main"}, log)
		if r.Outcome != OutcomePublished {
			b.Fatalf("publish: %s %v", r.Outcome, r.Err)
		}
		pushedBytes += e.srv.PushedBytes()
		pushed += r.ObjectsPushed
		written += r.ObjectsWritten
	}
	n := float64(b.N)
	b.ReportMetric(float64(written)/n, "objects-written/op")
	b.ReportMetric(float64(pushed)/n, "objects-pushed/op")
	b.ReportMetric(float64(pushedBytes)/n, "bytes-pushed/op")
}
