package gitstore

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/publishbot/publishbot/gitserver"
	"github.com/publishbot/publishbot/internal/corpusgen"
)

// BenchmarkFirstFetch fetches a repository of 1,000 posts (about 2 MB)
// into an empty cache: with the pack's object sizes checked before go-git
// stores it (the default), and without (MaxFileBytes -1), to show what the
// check costs.
func BenchmarkFirstFetch(b *testing.B) {
	e := newEnv(b)
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("the a build site post page git tree blob fetch pack object limit header size check fork preview token host")
	files := map[string]string{}
	for i := range 1000 {
		var body strings.Builder
		for range 400 {
			body.WriteString(words[rng.IntN(len(words))])
			body.WriteByte(' ')
		}
		files[fmt.Sprintf("posts/2026-01-01-post-%04d.md", i)] = fmt.Sprintf("---\ntitle: Post %d\n---\n\n%s\n", i, body.String())
	}
	e.commit(gitserver.Change{Ref: "main", Files: files})
	for _, tc := range []struct {
		name string
		max  int64
	}{{"checked", 0}, {"unchecked", -1}} {
		b.Run(tc.name, func(b *testing.B) {
			var received int64
			for b.Loop() {
				e.dir = b.TempDir()
				r := e.open(Options{Limits: Limits{MaxFileBytes: tc.max}})
				refs, err := r.Fetch(context.Background(), "refs/heads/main")
				if err != nil {
					b.Fatal(err)
				}
				received = refs.Received
				r.Close()
			}
			b.ReportMetric(float64(received), "pack-bytes")
		})
	}
}

// benchFiles makes n similar files (a shared body and a line of their
// own, so a pack holds them as deltas, as a blog's posts are) spread over
// folders as a blog's are: copy/year/slug (source) or copy/slug/index.html
// (site). They are the same for the same n.
func benchFiles(n int, site bool) map[string][]byte {
	body := strings.Repeat("The build reads every post, renders it and writes the page of each. ", 20)
	files := make(map[string][]byte, n)
	for i := range n {
		p := fmt.Sprintf("posts/copy-%d/%d/post-%05d.md", i%10, 2015+i/10%10, i)
		if site {
			p = fmt.Sprintf("posts/copy-%d/post-%05d/index.html", i%10, i)
		}
		files[p] = fmt.Appendf(nil, "---\ntitle: Post %d\n---\n\n%s\nPost %d says its own thing.\n", i, body, i)
	}
	return files
}

func stringFiles(files map[string][]byte) map[string]string {
	out := make(map[string]string, len(files))
	for p, b := range files {
		out[p] = string(b)
	}
	return out
}

// commitLocally makes a commit in r's cache whose tree is parent's with the
// file p set to data, as a fetch of a one-file edit would bring.
func commitLocally(tb testing.TB, r *Repo, parent plumbing.Hash, p string, data []byte) plumbing.Hash {
	tb.Helper()
	w := &treeWriter{s: r.st}
	t, err := r.startTree(w, parent)
	if err != nil {
		tb.Fatal(err)
	}
	if err := t.SetFile(p, data); err != nil {
		tb.Fatal(err)
	}
	tree, err := w.writeRoot(t.root, t.old)
	if err != nil {
		tb.Fatal(err)
	}
	sig := object.Signature{Name: testAuthor.Name, Email: testAuthor.Email, When: testAuthor.When}
	c, err := w.writeCommit(&object.Commit{Author: sig, Committer: sig, Message: "edit\n", TreeHash: tree, ParentHashes: []plumbing.Hash{parent}})
	if err != nil {
		tb.Fatal(err)
	}
	if err := w.flush(); err != nil {
		tb.Fatal(err)
	}
	return c
}

// BenchmarkCheckTreeAfterOneChange checks the tree of a 20,000-file
// repository, fetched and checked once before, after one file changed, in
// a new Store over the same folder each time: what a `publishbot publish`
// process pays.
func BenchmarkCheckTreeAfterOneChange(b *testing.B) {
	e := newEnv(b)
	files := benchFiles(20_000, false)
	head := plumbing.NewHash(e.commit(gitserver.Change{Ref: "main", Files: stringFiles(files)}))
	r := e.open(Options{})
	fetch(b, r, "refs/heads/main")
	if err := r.CheckTree(head.String()); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		head = commitLocally(b, r, head, "posts/copy-3/2018/post-00083.md", fmt.Appendf(nil, "edit %d\n", i))
		b.StartTimer()
		s, err := New(Options{Dir: e.dir})
		if err != nil {
			b.Fatal(err)
		}
		fresh, err := s.Open(e.remote())
		if err != nil {
			b.Fatal(err)
		}
		if err := fresh.CheckTree(head.String()); err != nil {
			b.Fatal(err)
		}
		fresh.Close()
	}
}

// BenchmarkPushOneChangedFile pushes a 20,000-file site (ReplaceKeeping:
// every other file kept by its blob hash) with one file changed, from a new
// Store over the same folder each time, as `publishbot publish` does; write
// is the part before the push (building the tree and the push list).
func BenchmarkPushOneChangedFile(b *testing.B) {
	e := newEnv(b)
	site := benchFiles(20_000, true)
	e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"publish.yaml": "title: Blog\n"}})
	r := e.open(Options{})
	fetch(b, r, "refs/heads/site")
	var blobs *Blobs
	first, err := r.Push(context.Background(), Update{Branch: "site", Message: "first\n", Author: testAuthor,
		Build: func(t *Tree) error {
			var err error
			blobs, err = t.ReplaceKeeping(site, nil)
			return err
		}})
	if err != nil {
		b.Fatal(err)
	}
	kept := blobs.Hashes()
	const p = "posts/copy-7/post-00777/index.html"
	delete(kept, p)
	head := first.Commit
	keep := keptFrom(b, kept)
	slices.SortFunc(keep, compareKept) // as the publisher gives them
	var write time.Duration
	i := 0
	for b.Loop() {
		i++
		s, err := New(Options{Dir: e.dir})
		if err != nil {
			b.Fatal(err)
		}
		fresh, err := s.Open(e.remote())
		if err != nil {
			b.Fatal(err)
		}
		pushed, err := fresh.Push(context.Background(), Update{Branch: "site", Head: head, Message: "edit\n", Author: testAuthor,
			Build: func(t *Tree) error {
				_, err := t.ReplaceKeeping(map[string][]byte{p: fmt.Appendf(nil, "edit %d\n", i)}, keep)
				return err
			}})
		if err != nil || !pushed.Changed {
			b.Fatalf("%+v %v", pushed, err)
		}
		head = pushed.Commit
		write += pushed.Write
		fresh.Close()
	}
	b.ReportMetric(float64(write.Microseconds())/1000/float64(i), "write-ms/op")
}

// BenchmarkListAfterOneChange lists the source tree of a blog made from
// the Rust blog's posts (PUBLISHBOT_BENCH_POSTS, default 1,000; about one
// folder per ten files, as the corpus's bundles make), after one file
// changed, in a new Store over the same folder each time, as `publishbot
// publish` does: open, CheckTree, every folder read and every file's size
// and content id asked, Close.
//
//	PUBLISHBOT_BENCH_POSTS=20000 go test -run '^$' -bench ListAfterOneChange -benchmem ./gitstore
func BenchmarkListAfterOneChange(b *testing.B) {
	_, raw, err := corpusgen.BenchBlog(os.Getenv)
	if err != nil {
		b.Fatal(err)
	}
	e := newEnv(b)
	head := plumbing.NewHash(e.commit(gitserver.Change{Ref: "main", Files: stringFiles(raw)}))
	r := e.open(Options{Limits: Limits{MaxTotalBytes: -1, MaxFiles: -1}})
	fetch(b, r, "refs/heads/main")
	edited := corpusgen.DatedPosts(raw)[0]
	list := func(r *Repo, head plumbing.Hash) int {
		if err := r.CheckTree(head.String()); err != nil {
			b.Fatal(err)
		}
		c, err := r.Commit(head.String())
		if err != nil {
			b.Fatal(err)
		}
		files := 0
		err = fs.WalkDir(c.Tree, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			files++
			if _, err := d.Info(); err != nil {
				return err
			}
			if _, ok := c.Tree.(interface{ ContentID(string) (string, bool) }).ContentID(p); !ok {
				return fmt.Errorf("no content id for %s", p)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		return files
	}
	if got := list(r, head); got != len(raw) {
		b.Fatalf("listed %d files of %d", got, len(raw))
	}
	r.Close()
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		head = commitLocally(b, r, head, edited, fmt.Appendf(nil, "edit %d\n", i))
		b.StartTimer()
		s, err := New(Options{Dir: e.dir, Limits: Limits{MaxTotalBytes: -1, MaxFiles: -1}})
		if err != nil {
			b.Fatal(err)
		}
		fresh, err := s.Open(e.remote())
		if err != nil {
			b.Fatal(err)
		}
		list(fresh, head)
		fresh.Close()
	}
}
