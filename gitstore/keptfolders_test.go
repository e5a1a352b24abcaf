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
