package gitstore

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
)

// Tree entry names come from the content repository; go-git decodes any
// bytes. The tree fs.FS must only ever show valid names and never panic.
func FuzzTreeFSNames(f *testing.F) {
	f.Add("a.md\x00posts\x00..\x00.\x00\x00a/b", "posts/a.md")
	f.Add("index.md", "../x")
	f.Add("x\\y\x00é", "x\\y")
	f.Fuzz(func(t *testing.T, names, open string) {
		s := memory.NewStorage()
		blob := s.NewEncodedObject()
		blob.SetType(plumbing.BlobObject)
		w, _ := blob.Writer()
		w.Write([]byte("body"))
		w.Close()
		bh, _ := s.SetEncodedObject(blob)
		sub := &object.Tree{Entries: []object.TreeEntry{{Name: "inner.md", Mode: filemode.Regular, Hash: bh}}}
		so := s.NewEncodedObject()
		if err := sub.Encode(so); err != nil {
			t.Fatal(err)
		}
		sh, _ := s.SetEncodedObject(so)
		var entries []object.TreeEntry
		seen := map[string]bool{}
		for i, n := range strings.Split(names, "\x00") {
			if seen[n] || strings.ContainsAny(n, "\x00") {
				continue
			}
			seen[n] = true
			e := object.TreeEntry{Name: n, Mode: filemode.Regular, Hash: bh}
			switch i % 3 {
			case 1:
				e.Mode, e.Hash = filemode.Dir, sh
			case 2:
				e.Mode = filemode.Symlink
			}
			entries = append(entries, e)
		}
		gitOrder(entries)
		root := s.NewEncodedObject()
		if err := (&object.Tree{Entries: entries}).Encode(root); err != nil {
			t.Fatal(err)
		}
		rh, _ := s.SetEncodedObject(root)
		fsys := newTreeFS(s, rh, 1<<20, nil)
		_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if !fs.ValidPath(p) {
				t.Fatalf("invalid path %q listed", p)
			}
			if d.Type()&fs.ModeSymlink != 0 {
				if _, err := fs.ReadFile(fsys, p); err == nil {
					t.Fatalf("link %q read", p)
				}
				return nil
			}
			if !d.IsDir() {
				if _, err := fs.ReadFile(fsys, p); err != nil {
					t.Fatalf("read %q: %v", p, err)
				}
			}
			return nil
		})
		_, _ = fs.ReadFile(fsys, open)
		_, _ = fs.Stat(fsys, open)
		_, _ = fs.ReadDir(fsys, open)
		if f, err := fsys.Open(open); err == nil {
			f.Close()
		}
	})
}

// Output paths come from rendering content (slugs, aliases, static files).
func FuzzFilesTree(f *testing.F) {
	f.Add("index.html\x00posts/a/index.html")
	f.Add("a\x00a/b")
	f.Add(".git/config\x00../x\x00/abs\x00a//b\x00a/./b\x00.GIT/x")
	f.Fuzz(func(t *testing.T, paths string) {
		files := map[string][]byte{}
		for _, p := range strings.Split(paths, "\x00") {
			files[p] = []byte(p)
		}
		root, err := filesTree(files, nil, nil)
		if err != nil {
			return
		}
		w := &treeWriter{s: memory.NewStorage()}
		h, err := w.writeRoot(root, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.flush(); err != nil {
			t.Fatal(err)
		}
		fsys := newTreeFS(w.s, h, 0, nil)
		n := 0
		err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.EqualFold(d.Name(), ".git") {
				t.Fatalf("%q written", p)
			}
			if !d.IsDir() {
				n++
				if b, err := fs.ReadFile(fsys, p); err != nil || string(b) != p {
					t.Fatalf("%q = %q, %v", p, b, err)
				}
			}
			return nil
		})
		if err != nil || n != len(files) {
			t.Fatalf("walked %d of %d files: %v", n, len(files), err)
		}
	})
}
