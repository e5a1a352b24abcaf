package gitstore

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/publishbot/publishbot/gitserver"
)

func TestTreeFS(t *testing.T) {
	e := newEnv(t)
	e.commit(gitserver.Change{Ref: "main", Files: map[string]string{
		"publish.yaml":            "title: x\n",
		"posts/a.md":              "A",
		"posts/bundle/index.md":   "B",
		"posts/bundle/cover.jpg":  "JPG",
		"posts/bundle.md":         "sorts after posts/bundle/ in git, before it by name",
		"static/deep/er/file.css": "css",
		"templates/base.html":     "<html>",
	}})
	fsys := e.fetchTree(0)
	if err := fstest.TestFS(fsys, "publish.yaml", "posts/a.md", "posts/bundle/index.md", "posts/bundle/cover.jpg", "static/deep/er/file.css"); err != nil {
		t.Fatal(err)
	}
	sub, err := fs.Sub(fsys, "templates")
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(sub, "base.html"); err != nil {
		t.Fatal(err)
	}
	if b, err := fs.ReadFile(sub, "base.html"); err != nil || string(b) != "<html>" {
		t.Fatalf("sub read = %q %v", b, err)
	}
	entries, err := fs.ReadDir(fsys, "posts")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range entries {
		names = append(names, d.Name())
	}
	if strings.Join(names, ",") != "a.md,bundle,bundle.md" {
		t.Fatalf("ReadDir order = %v", names)
	}
	if _, err := fs.ReadFile(fsys, "../etc/passwd"); !errors.Is(err, fs.ErrInvalid) {
		t.Fatalf("invalid path: %v", err)
	}
}

func TestTreeFSSymlinksAndSubmodules(t *testing.T) {
	e := newEnv(t)
	e.commit(gitserver.Change{Ref: "main",
		Files:      map[string]string{"posts/ok.md": "ok"},
		Symlinks:   map[string]string{"posts/evil.md": "/etc/passwd", "static": "/etc", "posts/rel.md": "ok.md"},
		Submodules: map[string]string{"themes/sub": "1111111111111111111111111111111111111111"},
	})
	fsys := e.fetchTree(0)
	if id, ok := fsys.(interface{ ContentID(string) (string, bool) }).ContentID("posts/evil.md"); ok {
		t.Errorf("a symbolic link has the content id %s", id)
	}
	entries, err := fs.ReadDir(fsys, "posts")
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		if id, ok := en.(interface{ ContentID() (string, bool) }).ContentID(); ok != (en.Name() == "ok.md") {
			t.Errorf("the entry %s names the content %q (%t)", en.Name(), id, ok)
		}
	}
	types := map[string]fs.FileMode{}
	for _, d := range entries {
		types[d.Name()] = d.Type()
	}
	if types["evil.md"] != fs.ModeSymlink || types["rel.md"] != fs.ModeSymlink || types["ok.md"] != 0 {
		t.Fatalf("types = %v", types)
	}
	for _, name := range []string{"posts/evil.md", "posts/rel.md", "static/passwd"} {
		if _, err := fs.ReadFile(fsys, name); err == nil {
			t.Fatalf("%s was read through a link", name)
		}
		if _, err := fsys.Open(name); err == nil {
			t.Fatalf("%s was opened through a link", name)
		}
	}
	if info, err := fs.Stat(fsys, "posts/evil.md"); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("stat of a link: %v %v", info, err)
	}
	if target, err := fs.ReadLink(fsys, "posts/evil.md"); err != nil || target != "/etc/passwd" {
		t.Fatalf("readlink = %q %v", target, err)
	}
	if _, err := fs.ReadLink(fsys, "posts/ok.md"); err == nil {
		t.Fatal("readlink of a file")
	}
	if _, err := fs.Stat(fsys, "themes/sub"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("submodule: %v", err)
	}
	if d, _ := fs.ReadDir(fsys, "themes"); len(d) != 0 {
		t.Fatalf("submodule listed: %v", d)
	}
}

func TestTreeFSFileLimit(t *testing.T) {
	e := newEnv(t)
	e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"big.txt": strings.Repeat("x", 100)}})
	fsys := e.fetchTree(10)
	_, err := fs.ReadFile(fsys, "big.txt")
	if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "file size limit") {
		t.Fatalf("err = %v", err)
	}
}

func TestBranchFS(t *testing.T) {
	e := newEnv(t)
	head := e.commit(gitserver.Change{Ref: "gh-pages", Files: map[string]string{"posts/hello/index.html": "First post."}})
	fsys, got, err := BranchFS(e.srv.RepoPath(testRepo), "gh-pages")
	if err != nil || got != head {
		t.Fatalf("BranchFS: %v, head %s want %s", err, got, head)
	}
	if b, err := fs.ReadFile(fsys, "posts/hello/index.html"); err != nil || !strings.Contains(string(b), "First post.") {
		t.Fatalf("read = %q %v", b, err)
	}
	if _, _, err := BranchFS(e.srv.RepoPath(testRepo), "nope"); err == nil {
		t.Fatal("a missing branch was opened")
	}
}

// TestContentID: a file's id is its blob id, through Sub too, equal for
// equal bytes anywhere in the tree, and there is none for a folder, a link
// or a missing path.
func TestContentID(t *testing.T) {
	e := newEnv(t)
	e.commit(gitserver.Change{Ref: "main", Message: "ids", Files: map[string]string{
		"a.md": "same", "dir/b.md": "same", "dir/c.md": "other"}})
	fsys := e.fetchTree(0)
	type ider interface{ ContentID(string) (string, bool) }
	ids, ok := fsys.(ider)
	if !ok {
		t.Fatal("the tree has no ContentID")
	}
	a, okA := ids.ContentID("a.md")
	b, okB := ids.ContentID("dir/b.md")
	c, okC := ids.ContentID("dir/c.md")
	if !okA || !okB || !okC || a != b || a == c || len(a) != 40 {
		t.Fatalf("ids %q %t, %q %t, %q %t", a, okA, b, okB, c, okC)
	}
	// git hash-object of "same"
	if want := plumbing.ComputeHash(plumbing.BlobObject, []byte("same")).String(); a != want {
		t.Errorf("id %s, want the blob id %s", a, want)
	}
	sub, err := fs.Sub(fsys, "dir")
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := sub.(ider).ContentID("c.md"); !ok || id != c {
		t.Errorf("through Sub: %q %t, want %q", id, ok, c)
	}
	for _, name := range []string{"dir", "missing.md", "dir/missing.md", "../a.md", "."} {
		if id, ok := ids.ContentID(name); ok {
			t.Errorf("ContentID(%q) = %q", name, id)
		}
	}
	if info, err := fs.Stat(fsys, "dir/c.md"); err != nil || info.Size() != 5 {
		t.Errorf("size %v, %v", info, err)
	}
	// A listing's entries name their content as ContentID names their
	// paths, and a folder's names none.
	type entryIDer interface{ ContentID() (string, bool) }
	for dir, want := range map[string]map[string]string{".": {"a.md": a, "dir": ""}, "dir": {"b.md": b, "c.md": c}} {
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range entries {
			ei, ok := en.(entryIDer)
			if !ok {
				t.Fatalf("the entry %s names no content", en.Name())
			}
			id, ok := ei.ContentID()
			if id != want[en.Name()] || ok != (want[en.Name()] != "") {
				t.Errorf("%s/%s: ContentID() = %q %t, want %q", dir, en.Name(), id, ok, want[en.Name()])
			}
		}
	}
}

// A tree from outside may list its entries in any order and repeat a
// name: the first entry of a name wins, and a listing is in name order
// (git's puts a folder "x" after "x.md").
func TestTreeFSRepeatedAndUnsortedNames(t *testing.T) {
	s := memory.NewStorage()
	blob := func(text string) plumbing.Hash {
		o := s.NewEncodedObject()
		o.SetType(plumbing.BlobObject)
		w, _ := o.Writer()
		w.Write([]byte(text))
		w.Close()
		h, _ := s.SetEncodedObject(o)
		return h
	}
	tree := func(entries ...object.TreeEntry) plumbing.Hash { // as given: go-git's Encode refuses such trees
		o := s.NewEncodedObject()
		o.SetType(plumbing.TreeObject)
		w, _ := o.Writer()
		w.Write(encodeTree(entries))
		w.Close()
		h, _ := s.SetEncodedObject(o)
		return h
	}
	sub := tree(object.TreeEntry{Name: "in.md", Mode: filemode.Regular, Hash: blob("in")})
	root := tree(
		object.TreeEntry{Name: "b", Mode: filemode.Regular, Hash: blob("first b")},
		object.TreeEntry{Name: "x.md", Mode: filemode.Regular, Hash: blob("x.md")},
		object.TreeEntry{Name: "x", Mode: filemode.Dir, Hash: sub},
		object.TreeEntry{Name: "a", Mode: filemode.Regular, Hash: blob("a")},
		object.TreeEntry{Name: "b", Mode: filemode.Regular, Hash: blob("second b")},
	)
	fsys := newTreeFS(s, root, 0, nil)
	if got, err := fs.ReadFile(fsys, "b"); err != nil || string(got) != "first b" {
		t.Errorf("b = %q, %v; want the first entry's", got, err)
	}
	if got, err := fs.ReadFile(fsys, "x/in.md"); err != nil || string(got) != "in" {
		t.Errorf("x/in.md = %q, %v", got, err)
	}
	entries, err := fs.ReadDir(fsys, ".")
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if err != nil || strings.Join(names, " ") != "a b x x.md" {
		t.Errorf("listing %v, %v; want a b x x.md", names, err)
	}
	if _, err := fs.Stat(fsys, "c"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing name: %v", err)
	}
}
