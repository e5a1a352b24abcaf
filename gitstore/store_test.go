package gitstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/publishbot/publishbot/gitserver"
)

func TestNewNeedsADir(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("a store without a folder")
	}
}

func TestFetchOnlyWhatIsMissing(t *testing.T) {
	e := newEnv(t)
	first := e.commit(gitserver.Change{Ref: "main", Message: "first\n\nbody", Files: map[string]string{"a.md": "A", "dir/b.md": "B"}})
	r := e.open(Options{})
	refs := fetch(t, r, "refs/heads/main", "refs/heads/none")
	if h, ok := refs.Hash("refs/heads/main"); !ok || h != first {
		t.Fatalf("main = %q %v, want %s", h, ok, first)
	}
	if _, ok := refs.Hash("refs/heads/none"); ok {
		t.Fatal("a missing ref was found")
	}
	if refs.Head != "refs/heads/main" || refs.Received == 0 {
		t.Fatalf("head %q, received %d", refs.Head, refs.Received)
	}
	if again := fetch(t, r, "refs/heads/main"); again.Received != 0 {
		t.Fatalf("fetched %d bytes of what the cache has", again.Received)
	}
	second := e.commit(gitserver.Change{Ref: "main", Message: "second", Files: map[string]string{"c.md": "C"}})
	if !r.Has(first) || r.Has(second) || r.Has("not a hash") {
		t.Fatal("Has before the fetch")
	}
	fetch(t, r, "refs/heads/main")
	c, err := r.Commit(second)
	if err != nil || c.Hash != second || c.Message != "second\n" || !slices.Equal(c.Parents, []string{first}) {
		t.Fatalf("commit = %+v, %v", c, err)
	}
	if b, err := fs.ReadFile(c.Tree, "dir/b.md"); err != nil || string(b) != "B" {
		t.Fatalf("read = %q %v", b, err)
	}
	// The cache's own config names the remote's URL nowhere with a token.
	b, err := os.ReadFile(filepath.Join(r.dir, "config"))
	if err != nil || strings.Contains(string(b), testToken) {
		t.Fatalf("cache config: %v %q", err, b)
	}
}

func TestFetchErrorsSayWhetherToRetry(t *testing.T) {
	e := newEnv(t)
	e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"a": "a"}})
	r := e.open(Options{})
	e.srv.FailNext("/info/refs", 503)
	if _, err := r.Fetch(context.Background(), "refs/heads/main"); err == nil || errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "fetch acme/blog") {
		t.Fatalf("503: %v, want a retryable error naming the repository", err)
	}
	for _, status := range []int{401, 403, 404} {
		e.srv.FailNext("/info/refs", status)
		if _, err := r.Fetch(context.Background(), "refs/heads/main"); !errors.Is(err, ErrPermanent) {
			t.Fatalf("%d: %v, want a permanent error", status, err)
		}
	}
	s, _ := New(Options{Dir: t.TempDir()})
	wrong, _ := s.Open(Remote{Name: testRepo, URL: e.srv.RepoURL(testRepo), Token: "ghs_wrong"})
	defer wrong.Close()
	if _, err := wrong.Fetch(context.Background(), "refs/heads/main"); !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "authentication required") {
		t.Fatalf("wrong token: %v", err)
	}
}

// Only smart HTTP: no payload can make the store run a local git program
// or use the machine's keys, and no URL carries a credential.
func TestRefusesNonHTTPAndCredentialURLs(t *testing.T) {
	s, err := New(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"file:///etc", "/srv/git/blog.git", "ssh://git@example.com/a/b.git", "git@github.com:a/b.git", "http://u:p@127.0.0.1:1/a/b.git"} {
		r, err := s.Open(Remote{Name: "a/b", URL: u})
		if err != nil {
			t.Fatal(err)
		}
		_, ferr := r.Fetch(context.Background(), "refs/heads/main")
		_, perr := r.Push(context.Background(), Update{Branch: "x", Build: func(t *Tree) error { return t.SetFile("a", nil) }})
		r.Close()
		for _, err := range []error{ferr, perr} {
			if !errors.Is(err, ErrPermanent) || !(strings.Contains(err.Error(), "not supported") || strings.Contains(err.Error(), "credentials")) {
				t.Errorf("%s: %v, want a permanent refusal", u, err)
			}
		}
	}
}

func TestPushCreatesThenUpdatesOnlyWhenChanged(t *testing.T) {
	e := newEnv(t)
	e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"a": "a"}})
	r := e.open(Options{})
	fetch(t, r, "refs/heads/site")
	site := map[string][]byte{"index.html": []byte("home"), "posts/a/index.html": []byte("A"), ".nojekyll": {}}
	got, err := r.Push(context.Background(), Update{Branch: "site", Message: "first\n", Author: testAuthor,
		Build: func(t *Tree) error {
			if t.Head() != "" {
				return fmt.Errorf("head %q on a new branch", t.Head())
			}
			return t.Replace(site)
		}})
	if err != nil || !got.Changed || got.Commit != e.head("site") || got.Attempts != 1 || got.Sent != 7 || got.Written != 7 {
		t.Fatalf("first push: %+v %v", got, err)
	}
	if out := e.git("log", "-1", "--format=%an <%ae> %ad|%B", "--date=iso-strict", "site"); out != "publishbot <publishbot@users.noreply.github.com> 2026-06-20T12:00:00+00:00|first" {
		t.Fatalf("commit = %q", out)
	}
	if files := e.git("ls-tree", "-r", "--name-only", "site"); files != ".nojekyll\nindex.html\nposts/a/index.html" {
		t.Fatalf("files = %q", files)
	}
	// The same tree again: no commit.
	same, err := r.Push(context.Background(), Update{Branch: "site", Head: got.Commit, Message: "again", Author: testAuthor,
		Build: func(t *Tree) error { return t.Replace(site) }})
	if err != nil || same.Changed || same.Commit != got.Commit {
		t.Fatalf("unchanged push: %+v %v", same, err)
	}
	// One page changed: only its blob, its folders and the commit travel.
	site["posts/a/index.html"] = []byte("A, edited")
	next, err := r.Push(context.Background(), Update{Branch: "site", Head: got.Commit, Message: "edit", Author: testAuthor,
		Build: func(t *Tree) error { return t.Replace(site) }})
	if err != nil || !next.Changed || next.Sent != 5 || e.git("rev-parse", "site^") != got.Commit {
		t.Fatalf("edit push: %+v %v", next, err)
	}
	if out := e.git("fsck", "--strict", "--no-dangling"); strings.Contains(out, "error") {
		t.Fatalf("fsck: %s", out)
	}
	// ErrNoChange stops without a commit; other errors come back as they are.
	if res, err := r.Push(context.Background(), Update{Branch: "site", Head: next.Commit, Build: func(*Tree) error { return ErrNoChange }}); err != nil || res.Changed || res.Commit != next.Commit {
		t.Fatalf("ErrNoChange: %+v %v", res, err)
	}
	if _, err := r.Push(context.Background(), Update{Branch: "site", Head: "main", Build: func(*Tree) error { return nil }}); err == nil || !strings.Contains(err.Error(), "not a commit name") {
		t.Fatalf("a head that is no hash: %v", err)
	}
	boom := errors.New("boom")
	if _, err := r.Push(context.Background(), Update{Branch: "site", Head: next.Commit, Build: func(*Tree) error { return boom }}); err != boom {
		t.Fatalf("build error: %v", err)
	}
	if _, err := r.Push(context.Background(), Update{Branch: "site", Head: next.Commit, Build: func(t *Tree) error {
		return t.Replace(map[string][]byte{".git/config": nil})
	}}); err == nil || !strings.Contains(err.Error(), "not allowed") {
		t.Fatalf("a .git path was written: %v", err)
	}
}

// Another push between the fetch and the push: Build runs again on the new
// head, and the result keeps what the other push wrote.
func TestPushBuildsAgainOnAMovedBranch(t *testing.T) {
	e := newEnv(t)
	start := e.commit(gitserver.Change{Ref: "site", Files: map[string]string{"index.html": "old"}})
	r := e.open(Options{})
	fetch(t, r, "refs/heads/site")
	var heads []string
	var outside string
	var retried []int
	got, err := r.Push(context.Background(), Update{Branch: "site", Head: start, Message: "ours", Author: testAuthor,
		Build: func(t *Tree) error {
			heads = append(heads, t.Head())
			if len(heads) == 1 {
				outside = e.commit(gitserver.Change{Ref: "site", Files: map[string]string{"theirs.txt": "theirs"}})
			}
			return t.SetFile("index.html", []byte("new"))
		},
		Retry: func(attempt int, err error) {
			retried = append(retried, attempt)
			if !strings.Contains(err.Error(), "non-fast-forward") {
				t.Errorf("retry error %v", err)
			}
		}})
	if err != nil || !got.Changed || got.Attempts != 2 || !slices.Equal(retried, []int{1}) || !slices.Equal(heads, []string{start, outside}) {
		t.Fatalf("push: %+v %v; retries %v; heads %v", got, err, retried, heads)
	}
	if parent := e.git("rev-parse", "site^"); parent != outside {
		t.Fatalf("parent %s, want the outside commit %s", parent, outside)
	}
	if files := e.git("ls-tree", "--name-only", "site"); files != "index.html\ntheirs.txt" {
		t.Fatalf("files = %q", files)
	}
}

func TestPushGivesUpOnABranchThatKeepsMoving(t *testing.T) {
	e := newEnv(t)
	start := e.commit(gitserver.Change{Ref: "site", Files: map[string]string{"index.html": "old"}})
	r := e.open(Options{Limits: Limits{PushAttempts: 3}})
	fetch(t, r, "refs/heads/site")
	n := 0
	got, err := r.Push(context.Background(), Update{Branch: "site", Head: start, Build: func(t *Tree) error {
		n++
		e.commit(gitserver.Change{Ref: "site", Files: map[string]string{"race.txt": fmt.Sprint(n)}})
		return t.SetFile("index.html", []byte("new"))
	}})
	if n != 3 || got.Attempts != 3 || err == nil || !strings.Contains(err.Error(), "push to site of acme/blog: the branch kept moving, gave up after 3 attempts") || errors.Is(err, ErrPermanent) {
		t.Fatalf("%d builds, %+v, %v", n, got, err)
	}
}

func TestPushRejectedByAHookIsPermanent(t *testing.T) {
	e := newEnv(t)
	e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"a": "a"}})
	r := e.open(Options{})
	fetch(t, r, "refs/heads/site")
	if err := e.srv.Hook(testRepo, "pre-receive", "#!/bin/sh\necho 'pushes to site are frozen' >&2\nexit 1\n"); err != nil {
		t.Fatal(err)
	}
	_, err := r.Push(context.Background(), Update{Branch: "site", Build: func(t *Tree) error { return t.SetFile("a", []byte("a")) }})
	if !errors.Is(err, ErrPermanent) {
		t.Fatalf("err = %v, want permanent", err)
	}
	for _, want := range []string{"push to site of acme/blog", "pre-receive hook declined", "pushes to site are frozen"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q lacks %q", err, want)
		}
	}
	if e.head("site") != "" {
		t.Fatal("the branch was created despite the hook")
	}
}

func TestTreeEdits(t *testing.T) {
	e := newEnv(t)
	start := e.commit(gitserver.Change{Ref: "site", Files: map[string]string{
		"index.html": "old", "CNAME": "blog.example.com", "pr-preview/pr-1/index.html": "one", "pr-preview/pr-2/index.html": "two", "keep/x": "x",
	}})
	r := e.open(Options{})
	fetch(t, r, "refs/heads/site")
	_, err := r.Push(context.Background(), Update{Branch: "site", Head: start, Message: "edit", Author: testAuthor, Build: func(t *Tree) error {
		for p, want := range map[string]bool{"pr-preview/pr-1": true, "pr-preview/pr-9": false, "CNAME": true, "keep/x": true, "nope": false} {
			if has, err := t.Has(p); err != nil || has != want {
				return fmt.Errorf("Has(%s) = %v %v", p, has, err)
			}
		}
		if err := t.Replace(map[string][]byte{"index.html": []byte("new"), "CNAME": []byte("built"), "pr-preview/junk": []byte("j")}); err != nil {
			return err
		}
		if err := t.KeepFolder("pr-preview"); err != nil {
			return err
		}
		if err := t.KeepFile("CNAME"); err != nil {
			return err
		}
		if err := t.KeepFile("keep"); err != nil { // a folder: KeepFile removes it
			return err
		}
		if err := t.Set("pr-preview/pr-3", map[string][]byte{"index.html": []byte("three")}); err != nil {
			return err
		}
		if err := t.Remove("pr-preview/pr-2"); err != nil {
			return err
		}
		if err := t.Set("pr-preview/pr-4", nil); err != nil { // nothing: no folder
			return err
		}
		return t.SetFile("a/b/c.txt", []byte("c"))
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := e.git("ls-tree", "-r", "site")
	want := map[string]string{"CNAME": "blog.example.com", "a/b/c.txt": "c", "index.html": "new", "pr-preview/pr-1/index.html": "one", "pr-preview/pr-3/index.html": "three"}
	files := map[string]string{}
	for _, line := range strings.Split(got, "\n") {
		_, p, _ := strings.Cut(line, "\t")
		files[p] = e.git("show", "site:"+p)
	}
	if !maps.Equal(files, want) {
		t.Fatalf("tree = %v, want %v", files, want)
	}
	for _, bad := range []string{"", "/abs", "../x", "a/../b", ".git", "x/.GIT/y"} {
		_, err := r.Push(context.Background(), Update{Branch: "site", Head: e.head("site"), Build: func(t *Tree) error { return t.SetFile(bad, nil) }})
		if err == nil {
			t.Errorf("SetFile(%q) was allowed", bad)
		}
	}
}

func TestHistoryAndDiff(t *testing.T) {
	e := newEnv(t)
	base := e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"posts/a.md": "A", "posts/b.md": "B", "posts/c/index.md": "C", "README.md": "r"}})
	side := e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"posts/new-on-main.md": "N"}})
	head := e.commit(gitserver.Change{Ref: "refs/pull/1/head", Parent: base, Files: map[string]string{"posts/a.md": "A2", "posts/d.md": "D", "README.md": "r2"}, Delete: []string{"posts/b.md", "posts/c"}})
	r := e.open(Options{})
	fetch(t, r, "refs/heads/main", "refs/pull/1/head")
	if ok, err := r.IsAncestor(base, side); err != nil || !ok {
		t.Fatalf("base before side: %v %v", ok, err)
	}
	if ok, err := r.IsAncestor(side, head); err != nil || ok {
		t.Fatalf("side before head: %v %v", ok, err)
	}
	if ok, _ := r.IsAncestor(base, base); ok {
		t.Fatal("a commit is not its own strict ancestor")
	}
	if mb, err := r.MergeBase(head, side); err != nil || mb != base {
		t.Fatalf("merge base = %q %v, want %s", mb, err, base)
	}
	diff, err := r.Diff(base, head, "posts")
	want := map[string]Change{"posts/a.md": Changed, "posts/b.md": Removed, "posts/c/index.md": Removed, "posts/d.md": Added}
	if err != nil || !maps.Equal(diff, want) {
		t.Fatalf("diff = %v %v, want %v", diff, err, want)
	}
	for _, dir := range []string{"", ".", "/"} {
		diff, err := r.Diff(base, head, dir)
		if err != nil || len(diff) != 5 || diff["README.md"] != Changed {
			t.Fatalf("diff of %q = %v %v", dir, diff, err)
		}
	}
	if diff, err := r.Diff(base, head, "nowhere"); err != nil || len(diff) != 0 {
		t.Fatalf("diff of a missing folder = %v %v", diff, err)
	}
	if err := r.Forget("refs/pull/1/head"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.st.Reference(tracking("refs/pull/1/head")); err == nil {
		t.Fatal("the pull request's ref is still kept")
	}
}

func TestCheckTreeLimits(t *testing.T) {
	e := newEnv(t)
	src := e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"a": "A", "b": "B", "posts/long.md": strings.Repeat("L", 200)},
		Submodules: map[string]string{"themes/sub": "1111111111111111111111111111111111111111"}})
	for _, tc := range []struct {
		limits Limits
		want   string
	}{
		{Limits{}, ""},
		{Limits{MaxFiles: 3}, ""}, // the submodule does not count
		{Limits{MaxFiles: 2}, "file count limit exceeded: 3 > 2"},
		{Limits{MaxFileBytes: 10}, "file size limit exceeded by posts/long.md: 200 > 10"},
		{Limits{MaxTotalBytes: 100}, "total content size limit exceeded: 202 > 100"},
		{Limits{MaxPathLength: 12}, "path length limit exceeded by posts/long.md: 13 > 12"},
		{Limits{MaxFiles: -1, MaxFileBytes: -1, MaxTotalBytes: -1, MaxPathLength: -1}, ""},
	} {
		// Cold, and warm: the folder remembers the tree from a check with
		// the default limits, and the errors still name paths and values.
		for _, warm := range []bool{false, true} {
			t.Run(fmt.Sprintf("%+v/warm=%v", tc.limits, warm), func(t *testing.T) {
				e.dir = t.TempDir()
				// Fetched with the default limits: a fetch refuses a file over
				// MaxFileBytes itself (TestFetchRefusesLargeObjects).
				r := e.open(Options{})
				fetch(t, r, "refs/heads/main")
				if warm {
					if err := r.CheckTree(src); err != nil {
						t.Fatal(err)
					}
				}
				err := e.open(Options{Limits: tc.limits}).CheckTree(src)
				if tc.want == "" {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				if !errors.Is(err, ErrPermanent) || err.Error() != tc.want {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
			})
		}
	}
}

func TestMaintainRepacksAndDropsUnreachable(t *testing.T) {
	e := newEnv(t)
	r := e.open(Options{MaxPacks: 2, MaxLoose: 1000})
	for i := 0; i < 4; i++ {
		e.commit(gitserver.Change{Ref: "main", Files: map[string]string{fmt.Sprintf("p%d", i): fmt.Sprint(i)}})
		fetch(t, r, "refs/heads/main")
	}
	if ran, err := r.Maintain(); err != nil || !ran {
		t.Fatalf("maintain: %v %v", ran, err)
	}
	if packs, loose, err := r.shape(); err != nil || packs != 1 || loose != 0 {
		t.Fatalf("%d packs, %d loose: %v", packs, loose, err)
	}
	if ran, err := r.Maintain(); err != nil || ran {
		t.Fatalf("a second maintain ran: %v %v", ran, err)
	}
	h, _ := fetch(t, r, "refs/heads/main").Hash("refs/heads/main")
	if c, err := r.Commit(h); err != nil || len(c.Parents) != 1 {
		t.Fatalf("after repack: %+v %v", c, err)
	}
}

// Loose objects are estimated from one of git's 256 folders, as git does:
// once that one holds more than MaxLoose/256, Maintain repacks, and no
// loose object is left.
func TestMaintainRepacksPiledUpLooseObjects(t *testing.T) {
	e := newEnv(t)
	head := plumbing.NewHash(e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"a": "a"}}))
	r := e.open(Options{MaxLoose: 256})
	fetch(t, r, "refs/heads/main")
	if ran, err := r.Maintain(); err != nil || ran {
		t.Fatalf("maintain of a fresh cache: %v %v", ran, err)
	}
	sample := filepath.Join(r.dir, "objects", "17")
	for i := 0; ; i++ {
		if entries, _ := os.ReadDir(sample); len(entries) >= 2 {
			break
		}
		// Each a commit on main, as pushes leave them.
		head = commitLocally(t, r, head, "a", fmt.Appendf(nil, "%d", i))
	}
	if err := r.st.SetReference(plumbing.NewHashReference(tracking("refs/heads/main"), head)); err != nil {
		t.Fatal(err)
	}
	if ran, err := r.Maintain(); err != nil || !ran {
		t.Fatalf("maintain: %v %v", ran, err)
	}
	loose := 0
	if err := r.st.ForEachObjectHash(func(plumbing.Hash) error { loose++; return nil }); err != nil || loose != 0 {
		t.Fatalf("%d loose objects left: %v", loose, err)
	}
	if c, err := r.Commit(head.String()); err != nil {
		t.Fatalf("after repack: %+v %v", c, err)
	}
}

// A pack cut short (go-git says only EOF) is damage too, even where the
// Store's facts answer CheckTree and sizes without reading the pack.
func TestTruncatedPackIsCorrupt(t *testing.T) {
	e := newEnv(t)
	h := e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"a": "a", "d/b": "b"}})
	r := e.open(Options{})
	fetch(t, r, "refs/heads/main")
	if err := r.CheckTree(h); err != nil {
		t.Fatal(err)
	}
	r.Close()
	packs, _ := filepath.Glob(filepath.Join(r.dir, "objects", "pack", "*.pack"))
	for _, f := range packs {
		if err := os.Truncate(f, 20); err != nil {
			t.Fatal(err)
		}
	}
	fresh := e.open(Options{})
	if _, err := fresh.Commit(h); !IsCorrupt(err) {
		t.Fatalf("reading a truncated pack: %v, IsCorrupt false", err)
	}
}

func TestDamagedCacheIsCorruptAndDiscarded(t *testing.T) {
	e := newEnv(t)
	h := e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"a": "a"}})
	s, err := New(Options{Dir: e.dir})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Open(e.remote())
	if err != nil {
		t.Fatal(err)
	}
	fetch(t, r, "refs/heads/main")
	r.Close()
	// Objects lost, refs kept: a crash mid-write, a disk fault.
	packs, _ := filepath.Glob(filepath.Join(r.dir, "objects", "pack", "*"))
	for _, f := range packs {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	fresh, _ := New(Options{Dir: e.dir}) // nothing decoded in memory
	r, err = fresh.Open(e.remote())
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Commit(h)
	if !IsCorrupt(err) {
		t.Fatalf("reading a damaged cache: %v, IsCorrupt false", err)
	}
	if IsCorrupt(nil) || IsCorrupt(errors.New("x")) || IsCorrupt(final{err}) {
		t.Fatal("IsCorrupt of other errors")
	}
	if err := r.Discard(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(r.dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("cache still there: %v", err)
	}
	r, _ = fresh.Open(e.remote())
	defer r.Close()
	fetch(t, r, "refs/heads/main")
	if _, err := r.Commit(h); err != nil {
		t.Fatalf("after a fresh fetch: %v", err)
	}
}

// A new branch of many files is stored as one pack that publishbot indexes
// itself: git accepts the pack and its index as its own, a store opened
// afresh reads every object from it, and the next push builds on it.
func TestManyObjectsAreStoredAsOnePackGitReads(t *testing.T) {
	e := newEnv(t)
	e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"a": "a"}})
	r := e.open(Options{})
	fetch(t, r, "refs/heads/site")
	site := map[string][]byte{"empty": {}}
	for i := range 300 {
		site[fmt.Sprintf("posts/%03d/index.html", i)] = []byte(strings.Repeat(fmt.Sprintf("<p>post %d</p>\n", i), i))
	}
	noise := make([]byte, 1<<20) // does not compress
	_, _ = rand.NewChaCha8([32]byte{1}).Read(noise)
	site["photo.jpg"] = noise
	var written []string
	first, err := r.Push(context.Background(), Update{Branch: "site", Message: "first", Author: testAuthor,
		Build: func(t *Tree) error { return t.Replace(site) },
		Written: func(commit string) {
			if !r.Has(commit) {
				t.Errorf("Written(%s) before the cache holds it", commit)
			}
			written = append(written, commit)
		}})
	if err != nil || !first.Changed || first.Written < packThreshold {
		t.Fatalf("first push: %+v %v", first, err)
	}
	if len(written) != 1 || written[0] != first.Commit {
		t.Fatalf("Written was told %v, the commit is %s", written, first.Commit)
	}
	packs, _ := filepath.Glob(filepath.Join(r.dir, "objects", "pack", "pack-*.pack"))
	if len(packs) != 1 {
		t.Fatalf("packs after the first push: %v", packs)
	}
	if tmp, _ := filepath.Glob(filepath.Join(r.dir, "objects", "pack", "tmp_*")); len(tmp) != 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}
	for _, args := range [][]string{{"verify-pack", strings.TrimSuffix(packs[0], ".pack") + ".idx"}, {"fsck", "--strict", "--no-dangling"}} {
		cmd := exec.Command("git", append([]string{"-C", r.dir}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", args[0], err, out)
		}
	}
	if got := e.git("rev-parse", "site:photo.jpg"); got != plumbing.ComputeHash(plumbing.BlobObject, noise).String() {
		t.Fatalf("the server's photo is %s", got)
	}
	// A store opened afresh reads the pack: the next push builds on the
	// head's tree and sends only the change.
	r.Close()
	again := e.open(Options{})
	site["posts/007/index.html"] = []byte("edited")
	next, err := again.Push(context.Background(), Update{Branch: "site", Head: first.Commit, Message: "edit", Author: testAuthor,
		Build: func(t *Tree) error { return t.Replace(site) }})
	if err != nil || !next.Changed || next.Sent != 5 {
		t.Fatalf("edit push: %+v %v", next, err)
	}
	if got, want := e.git("rev-parse", "site:posts/299/index.html"), plumbing.ComputeHash(plumbing.BlobObject, site["posts/299/index.html"]).String(); got != want {
		t.Fatalf("posts/299 on the server is %s, not %s", got, want)
	}
	if out := e.git("fsck", "--strict", "--no-dangling"); strings.Contains(out, "error") || strings.Contains(out, "missing") {
		t.Fatalf("fsck: %s", out)
	}
}
