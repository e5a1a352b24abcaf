package gitstore

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-billy/v5"
)

func TestObjectsFS(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	loose := "objects/ab/" + strings.Repeat("c", 38)
	linked := "objects/ab/" + strings.Repeat("d", 38)
	if err := os.MkdirAll(filepath.Join(dir, "objects", "ab"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, loose), []byte("object"), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, linked)); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	fs := newObjectsFS(dir)
	if _, ok := fs.(objectsFS); !ok {
		t.Fatalf("newObjectsFS made a %T", fs)
	}
	if _, ok := fs.(billy.Chmod); !ok {
		t.Error("the chroot's Chmod is not there (stored packs are made read-only with it)")
	}

	f, err := fs.Open(loose)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	if string(b) != "object" || f.Name() != loose {
		t.Errorf("read %q from %q", b, f.Name())
	}
	f.Close()

	// go-git goes on to the packs only when the loose file does not exist
	if _, err := fs.Open("objects/ab/" + strings.Repeat("e", 38)); !os.IsNotExist(err) {
		t.Errorf("missing object: %v, want a not-exist error", err)
	}
	if _, err := fs.Open("objects/ef/" + strings.Repeat("e", 38)); !os.IsNotExist(err) {
		t.Errorf("object in a missing folder: %v, want a not-exist error", err)
	}
	for _, name := range []string{linked, "link", "../" + filepath.Base(filepath.Dir(outside)) + "/secret"} {
		if f, err := fs.Open(name); err == nil {
			b, _ := io.ReadAll(f)
			f.Close()
			if string(b) == "secret" {
				t.Errorf("%s: read the file outside the folder", name)
			}
		}
	}

	for name, want := range map[string]bool{
		loose: true, "objects/AB/" + strings.Repeat("c", 38): false, "objects/ab/" + strings.Repeat("c", 37): false,
		"objects/ab/" + strings.Repeat("g", 38): false, "objects/pack/pack-" + strings.Repeat("a", 40) + ".idx": false,
		"objects/abc" + strings.Repeat("c", 38): false, "objects/../" + strings.Repeat("c", 38): false,
	} {
		if got := isLoosePath(name); got != want {
			t.Errorf("isLoosePath(%q) = %v", name, got)
		}
	}
}
