package gitstore

import (
	"context"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/publishbot/publishbot/gitserver"
)

// A kept folder goes into the tree as the tree it names; Blobs.Folders
// names the folders made of exactly the files given, and a push of a kept
// folder on a head that holds another version of it sends only what
// differs.
func TestReplaceKeepingKeptFolders(t *testing.T) {
	e := newEnv(t)
	e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"a": "a"}})
	r := e.open(Options{})
	fetch(t, r, "refs/heads/site")
	site := map[string][]byte{
		"index.html":           []byte("home"),
		"2024/01/a/index.html": []byte("A"), "2024/01/b/index.html": []byte("B"),
		"2024/02/c/index.html": []byte("C"), "2025/01/d/index.html": []byte("D"),
		"2025/01/d/photo.png": []byte("png"), "tags/x/index.html": []byte("x"),
	}
	var blobs *Blobs
	first, err := r.Push(context.Background(), Update{Branch: "site", Message: "first\n", Author: testAuthor,
		Build: func(t *Tree) error {
			var err error
			if blobs, err = t.ReplaceKeeping(site, nil); err != nil {
				return err
			}
			return t.SetFile("tags/extra.txt", []byte("put in afterwards"))
		}})
	if err != nil || !first.Changed {
		t.Fatalf("first push: %+v %v", first, err)
	}
	folders := blobs.Folders()
	for _, dir := range []string{"2024", "2024/01", "2024/01/a", "2024/02", "2025", "2025/01/d", "tags/x"} {
		if got, want := hashText(plumbing.Hash(folders[dir])), e.git("rev-parse", "site:"+dir); got != want {
			t.Errorf("folder %s: %s, want the tree on the remote, %s", dir, got, want)
		}
	}
	if _, ok := folders["tags"]; ok {
		t.Error("tags, which SetFile changed after it was made, is listed")
	}
	if len(folders) != 10 {
		t.Errorf("folders = %v, want the 10 folders under the top", folders)
	}

	// Another pusher changes 2024/01/b; this build keeps 2024 whole as
	// the first push made it and edits 2025.
	e.commit(gitserver.Change{Ref: "site", Message: "by hand", Files: map[string]string{"2024/01/b/index.html": "B by hand"}})
	head := fetch(t, r, "refs/heads/site")
	h, _ := head.Hash("refs/heads/site")
	second, err := r.Push(context.Background(), Update{Branch: "site", Head: h, Message: "second\n", Author: testAuthor,
		Build: func(t *Tree) error {
			var err error
			blobs, err = t.ReplaceKeeping(map[string][]byte{"index.html": []byte("home"), "2025/01/d/index.html": []byte("D, edited")},
				[]Kept{{Path: "2024", Blob: folders["2024"], Folder: true}, {Path: "2025/01/d/photo.png", Blob: plumbing.ComputeHash(plumbing.BlobObject, []byte("png"))},
					{Path: "tags/x", Blob: folders["tags/x"], Folder: true}})
			if err != nil {
				return err
			}
			return t.KeepFolder("tags") // the head's, with extra.txt: not what was given

		}})
	if err != nil || !second.Changed {
		t.Fatalf("second push: %+v %v", second, err)
	}
	if got := e.git("show", "site:2024/01/b/index.html"); got != "B" {
		t.Errorf("kept folder on the remote holds %q", got)
	}
	// the new commit, root, 2024 (a new tree there), 2024/01, its b and
	// b's page; 2025, 2025/01, 2025/01/d and its page
	if second.Sent != 10 {
		t.Errorf("pushed %d objects, want the 10 that differ from the remote's head", second.Sent)
	}
	if out := e.git("fsck", "--strict", "--no-dangling"); strings.Contains(out, "error") || strings.Contains(out, "missing") {
		t.Fatalf("fsck: %s", out)
	}
	f2 := blobs.Folders()
	if f2["2024"] != folders["2024"] || f2["2025/01/d"] == folders["2025/01/d"] || len(f2) != 4 { // not tags, the head's
		t.Errorf("after the second push, folders = %v", f2)
	}

	// Nothing may be put in a kept folder.
	_, err = r.Push(context.Background(), Update{Branch: "site", Head: second.Commit, Author: testAuthor,
		Build: func(t *Tree) error {
			_, err := t.ReplaceKeeping(map[string][]byte{"2024/01/z/index.html": nil}, []Kept{{Path: "2024", Blob: folders["2024"], Folder: true}})
			return err
		}})
	if err == nil || !strings.Contains(err.Error(), "in the kept folder 2024") {
		t.Fatalf("a file in a kept folder: %v", err)
	}
}

// A new folder that resembles a folder of the head (a preview beside the
// site) is pushed as what differs from it: its files and folders equal to
// the site's are left out of the pack, and the remote, which completes
// nothing from them, holds every file (fsck). On a later push it is a
// folder like any other.
func TestResembles(t *testing.T) {
	e := newEnv(t)
	e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"a": "a"}})
	r := e.open(Options{})
	fetch(t, r, "refs/heads/site")
	site := map[string][]byte{
		"index.html": []byte("home at /"), "style.css": []byte("css"),
		"posts/a/index.html": []byte("A at /"), "posts/a/photo.jpg": []byte(strings.Repeat("jpeg", 5000)),
		"posts/b/index.html": []byte("B"), "tags/x/index.html": []byte("x"),
	}
	first, err := r.Push(context.Background(), Update{Branch: "site", Message: "site\n", Author: testAuthor,
		Build: func(t *Tree) error { return t.Replace(site) }})
	if err != nil || !first.Changed {
		t.Fatalf("site: %+v %v", first, err)
	}
	preview := map[string][]byte{
		"index.html": []byte("home at /pr-preview/pr-1/"), "style.css": []byte("css"),
		"posts/a/index.html": []byte("A at /pr-preview/pr-1/"), "posts/a/photo.jpg": []byte(strings.Repeat("jpeg", 5000)),
		"posts/b/index.html": []byte("B"), "tags/x/index.html": []byte("x"), "posts/new/index.html": []byte("new"),
	}
	push := func(head string, resembles bool) Pushed {
		t.Helper()
		p, err := r.Push(context.Background(), Update{Branch: "site", Head: head, Message: "preview\n", Author: testAuthor,
			Build: func(t *Tree) error {
				if err := t.Set("pr-preview/pr-1", preview); err != nil {
					return err
				}
				if !resembles {
					return nil
				}
				return t.Resembles("pr-preview/pr-1", "")
			}})
		if err != nil || !p.Changed {
			t.Fatalf("preview: %+v %v", p, err)
		}
		return p
	}
	second := push(first.Commit, true)
	// the commit, the root, pr-preview, pr-1, its index.html, posts, posts/a,
	// its page, posts/new and its page: not style.css, the photo, posts/b
	// or tags, which the site has at the same paths
	if second.Sent != 10 {
		t.Errorf("pushed %d objects, want the 10 that differ from the site", second.Sent)
	}
	for p, want := range preview {
		if got := e.git("show", "site:pr-preview/pr-1/"+p); got != string(want) {
			t.Errorf("%s on the remote: %.30q, want %.30q", p, got, want)
		}
	}
	if out := e.git("fsck", "--strict", "--no-dangling"); strings.Contains(out, "error") || strings.Contains(out, "missing") {
		t.Fatalf("fsck: %s", out)
	}

	// a folder that was there already: its own old folder, not the site
	preview["posts/b/index.html"] = []byte("B, edited")
	third := push(second.Commit, true)
	if third.Sent != 7 { // commit, root, pr-preview, pr-1, posts, posts/b, its page: the page is all that changed
		t.Errorf("the next push sent %d objects, want 7", third.Sent)
	}
	if got := e.git("show", "site:pr-preview/pr-1/posts/b/index.html"); got != "B, edited" {
		t.Errorf("edited page on the remote: %q", got)
	}

	// without Resembles, the same first preview sends every file
	e2 := newEnv(t)
	e2.commit(gitserver.Change{Ref: "main", Files: map[string]string{"a": "a"}})
	r = e2.open(Options{})
	fetch(t, r, "refs/heads/site")
	first, err = r.Push(context.Background(), Update{Branch: "site", Message: "site\n", Author: testAuthor,
		Build: func(t *Tree) error { return t.Replace(site) }})
	if err != nil {
		t.Fatal(err)
	}
	preview["posts/b/index.html"] = []byte("B")
	if plain := push(first.Commit, false); plain.Sent <= second.Sent {
		t.Errorf("without Resembles %d objects were pushed, with it %d", plain.Sent, second.Sent)
	}
}
