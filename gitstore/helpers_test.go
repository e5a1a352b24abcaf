package gitstore

import (
	"context"
	"io/fs"
	"testing"
	"time"

	"github.com/publishbot/publishbot/gitserver"
)

const (
	testToken = "ghs_s3cretT0kenValue1234567890"
	testRepo  = "acme/blog"
)

var testAuthor = Signature{Name: "publishbot", Email: "publishbot@users.noreply.github.com", When: time.Date(2026, 6, 20, 12, 0, 0, 0, time.UTC)}

// env is a git server on loopback holding one repository, and a store.
type env struct {
	t   testing.TB
	srv *gitserver.Server
	dir string // the store's folder
}

func newEnv(t testing.TB) *env {
	t.Helper()
	srv, err := gitserver.Start(gitserver.Options{Root: t.TempDir(), User: TokenUser, Password: testToken})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.CreateRepo(context.Background(), testRepo, "main"); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, srv: srv, dir: t.TempDir()}
}

func (e *env) remote() Remote {
	return Remote{Name: testRepo, URL: e.srv.RepoURL(testRepo), Token: testToken}
}

// open opens the repository's cache in a store with opts (Dir and a short
// Backoff are set) and closes it when the test ends.
func (e *env) open(opts Options) *Repo {
	e.t.Helper()
	opts.Dir = e.dir
	if opts.Backoff == nil {
		opts.Backoff = func(int) time.Duration { return time.Millisecond }
	}
	s, err := New(opts)
	if err != nil {
		e.t.Fatal(err)
	}
	r, err := s.Open(e.remote())
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { r.Close() })
	return r
}

func (e *env) commit(c gitserver.Change) string {
	return must(e.t)(e.srv.Commit(context.Background(), testRepo, c))
}

func (e *env) git(args ...string) string {
	return must(e.t)(e.srv.Git(context.Background(), testRepo, args...))
}

// head is a ref's commit on the server, "" when it does not exist.
func (e *env) head(ref string) string {
	return must(e.t)(e.srv.Head(context.Background(), testRepo, ref))
}

// must fails the test on an error and gives the value otherwise.
func must(t testing.TB) func(string, error) string {
	return func(v string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func fetch(t testing.TB, r *Repo, refs ...string) Refs {
	t.Helper()
	got, err := r.Fetch(context.Background(), refs...)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// fetchTree fetches main with the default limits and returns its tree read
// from a store whose files may be at most maxFile bytes (0: the default).
// A fetch checks the same limit, so a smaller one is set after the fetch.
func (e *env) fetchTree(maxFile int64) fs.FS {
	e.t.Helper()
	h, ok := fetch(e.t, e.open(Options{}), "refs/heads/main").Hash("refs/heads/main")
	if !ok {
		e.t.Fatal("no main")
	}
	c, err := e.open(Options{Limits: Limits{MaxFileBytes: maxFile}}).Commit(h)
	if err != nil {
		e.t.Fatal(err)
	}
	return c.Tree
}

// keptFrom is the kept files of m: object names (hex) by path.
func keptFrom(t testing.TB, m map[string]string) []Kept {
	t.Helper()
	var kept []Kept
	for p, hex := range m {
		h, ok := parseHash(hex)
		if !ok {
			t.Fatalf("kept %s: %q is not an object name", p, hex)
		}
		kept = append(kept, Kept{Path: p, Blob: h})
	}
	return kept
}
