package site

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/publishbot/publishbot/testkit"
)

func TestWriteRemovesStaleFiles(t *testing.T) {
	out := filepath.Join(t.TempDir(), "public")
	first := map[string][]byte{
		"index.html":                []byte("one"),
		"posts/a/index.html":        []byte("a"),
		"posts/b/index.html":        []byte("b"),
		"posts/b/img/x.png":         []byte("x"),
		"tags/go/page/2/index.html": []byte("t2"),
	}
	if n, removed, err := Write(t.Context(), out, first); err != nil || n != 5 || removed != 0 {
		t.Fatalf("first build: n=%d removed=%d err=%v", n, removed, err)
	}
	// a file the user put there by hand is kept
	if err := os.WriteFile(filepath.Join(out, "posts", "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	second := map[string][]byte{
		"index.html":         []byte("two"),
		"posts/a/index.html": []byte("a"),
		"posts/b":            []byte("now a file"), // a folder became a file
	}
	n, removed, err := Write(t.Context(), out, second)
	if err != nil || n != 3 || removed != 3 {
		t.Fatalf("second build: n=%d removed=%d err=%v", n, removed, err)
	}
	got := testkit.ReadTree(t, out)
	delete(got, Manifest)
	want := map[string]string{"index.html": "two", "posts/a/index.html": "a", "posts/b": "now a file", "posts/notes.txt": "mine"}
	if len(got) != len(want) {
		t.Errorf("tree = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "tags")); !os.IsNotExist(err) {
		t.Errorf("empty stale folder tags/ left behind: %v", err)
	}
}

func TestWriteRefusesForeignFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "thesis.tex"), []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := Write(t.Context(), dir, map[string][]byte{"index.html": []byte("x"), "thesis.tex": []byte("overwritten")})
	if err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("err = %v, want a refusal", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "thesis.tex")); string(b) != "precious" {
		t.Errorf("file in a foreign folder changed")
	}
	if _, err := os.Stat(filepath.Join(dir, "index.html")); !os.IsNotExist(err) {
		t.Errorf("wrote into a foreign folder")
	}
}

func TestWriteRejectsBadManifest(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(dir, "outside.txt")
	os.WriteFile(outside, []byte("keep"), 0o644)
	out := filepath.Join(dir, "public")
	os.Mkdir(out, 0o755)
	os.WriteFile(filepath.Join(out, Manifest), []byte("../outside.txt\n"), 0o644)
	if _, _, err := Write(t.Context(), out, map[string][]byte{"index.html": []byte("x")}); err == nil {
		t.Errorf("manifest naming ../outside.txt accepted")
	}
	if b, _ := os.ReadFile(outside); string(b) != "keep" {
		t.Errorf("file outside the output folder touched")
	}
	// a symlink in the output folder is not followed
	os.WriteFile(filepath.Join(out, Manifest), []byte("link/x\n"), 0o644)
	os.Symlink(dir, filepath.Join(out, "link"))
	if _, _, err := Write(t.Context(), out, map[string][]byte{"link/outside.txt": []byte("overwrite")}); err == nil {
		t.Errorf("wrote through a symlink")
	}
	if b, _ := os.ReadFile(outside); string(b) != "keep" {
		t.Errorf("file outside the output folder written through a symlink")
	}
}

// TestWriteCancelled: a Write whose context has ended writes no file,
// returns the context's error and leaves no goroutine; its manifest still
// lets the next Write clean up after both builds.
func TestWriteCancelled(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	out := filepath.Join(t.TempDir(), "public")
	if _, _, err := Write(t.Context(), out, map[string][]byte{"old.html": []byte("old")}); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, p := range []string{"a.html", "b/index.html", "c/d/e.html"} {
		files[p] = []byte(p)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := Write(ctx, out, files); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled write: err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "a.html")); !os.IsNotExist(err) {
		t.Errorf("a cancelled write wrote a.html: %v", err)
	}
	if _, _, err := Write(t.Context(), out, map[string][]byte{"new.html": []byte("new")}); err != nil {
		t.Fatal(err)
	}
	got := testkit.ReadTree(t, out)
	delete(got, Manifest)
	if len(got) != 1 || got["new.html"] != "new" {
		t.Errorf("after a cancelled write and a full one: %v", got)
	}
}

// FuzzManifest: whatever the manifest of an output folder holds, the files
// it names for removal are valid paths inside the folder.
func FuzzManifest(f *testing.F) {
	f.Add("# comment\nindex.html\nposts/a/index.html\n")
	f.Add("../outside\n")
	f.Add("/etc/passwd\n")
	f.Add("a\\b\n\x00\n")
	f.Add(Manifest + "\n")
	dir := f.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		f.Fatal(err)
	}
	defer root.Close()
	f.Fuzz(func(t *testing.T, manifest string) {
		if err := root.WriteFile(Manifest, []byte(manifest), 0o644); err != nil {
			t.Fatal(err)
		}
		list, err := readManifest(root, dir)
		if err != nil {
			return
		}
		for _, p := range list {
			if !fs.ValidPath(p) || p == "." || p == Manifest {
				t.Fatalf("manifest %q gave path %q", manifest, p)
			}
		}
	})
}
