package gitstore

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

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
	entries, err := fs.ReadDir(fsys, "posts")
	if err != nil {
		t.Fatal(err)
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
