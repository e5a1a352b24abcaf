package gitstore

import (
	"context"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/publishbot/publishbot/gitserver"
)

// Kept files (blob hashes the cache has) go into the tree without being
// read or hashed again; a kept blob the remote's head does not have at
// that path is still pushed, so the remote ends up with every object.
func TestReplaceKeepingPushesKeptBlobsTheRemoteLacks(t *testing.T) {
	e := newEnv(t)
	e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"a": "a"}})
	r := e.open(Options{})
	fetch(t, r, "refs/heads/site")
	var blobs *Blobs
	first, err := r.Push(context.Background(), Update{Branch: "site", Message: "first\n", Author: testAuthor,
		Build: func(t *Tree) error {
			var err error
			blobs, err = t.ReplaceKeeping(map[string][]byte{"index.html": []byte("home"), "posts/a/index.html": []byte("A")}, nil)
			return err
		}})
	if err != nil || !first.Changed {
		t.Fatalf("first push: %+v %v", first, err)
	}
	hashes := blobs.Hashes()
	if want := plumbing.ComputeHash(plumbing.BlobObject, []byte("A")).String(); hashes["posts/a/index.html"] != want || len(hashes) != 2 {
		t.Fatalf("hashes = %v, want posts/a/index.html %s", hashes, want)
	}
	// A blob only this cache has (written here, never pushed), kept at a
	// new path; another kept where it already is.
	local := plumbing.ComputeHash(plumbing.BlobObject, []byte("local only"))
	w := &treeWriter{s: r.st}
	if err := w.storeBlob(local, []byte("local only")); err != nil {
		t.Fatal(err)
	}
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	if !r.Has(local.String()) {
		t.Fatal("the cache lacks the blob it just wrote")
	}
	kept := map[string]string{"posts/a/index.html": hashes["posts/a/index.html"], "posts/b/index.html": local.String()}
	next, err := r.Push(context.Background(), Update{Branch: "site", Head: first.Commit, Message: "next\n", Author: testAuthor,
		Build: func(t *Tree) error {
			var err error
			blobs, err = t.ReplaceKeeping(map[string][]byte{"index.html": []byte("home, edited")}, keptFrom(e.t, kept))
			return err
		}})
	if err != nil || !next.Changed {
		t.Fatalf("second push: %+v %v", next, err)
	}
	if got := blobs.Hashes(); len(got) != 1 || got["index.html"] != plumbing.ComputeHash(plumbing.BlobObject, []byte("home, edited")).String() {
		t.Fatalf("hashes = %v", got)
	}
	if got := e.git("show", "site:posts/b/index.html"); got != "local only" {
		t.Fatalf("kept blob on the remote = %q", got)
	}
	if got := e.git("show", "site:posts/a/index.html"); got != "A" {
		t.Fatalf("kept file = %q", got)
	}
	if out := e.git("fsck", "--strict", "--no-dangling"); strings.Contains(out, "error") || strings.Contains(out, "missing") {
		t.Fatalf("fsck: %s", out)
	}
	// Nonsense is refused.
	_, err = r.Push(context.Background(), Update{Branch: "site", Head: next.Commit, Author: testAuthor,
		Build: func(t *Tree) error {
			_, err := t.ReplaceKeeping(map[string][]byte{"x": nil}, []Kept{{Path: "x", Blob: local}})
			return err
		}})
	if err == nil || !strings.Contains(err.Error(), "both new and kept") {
		t.Fatalf("a path both new and kept: %v", err)
	}
	_, err = r.Push(context.Background(), Update{Branch: "site", Head: next.Commit, Author: testAuthor,
		Build: func(t *Tree) error {
			_, err := t.SetKeeping("pr", nil, []Kept{{Path: "x"}})
			return err
		}})
	if err == nil || !strings.Contains(err.Error(), "no object name") {
		t.Fatalf("no hash: %v", err)
	}
	_, err = r.Push(context.Background(), Update{Branch: "site", Head: next.Commit, Author: testAuthor,
		Build: func(t *Tree) error {
			_, err := t.SetKeeping("pr", nil, []Kept{{Path: "y", Blob: local}, {Path: "x", Blob: local}, {Path: "y", Blob: local}})
			return err
		}})
	if err == nil || !strings.Contains(err.Error(), "kept twice") {
		t.Fatalf("a path kept twice: %v", err)
	}
}
