package preview

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/publishbot/publishbot/posts"
)

// TestContentIDsFollowTheFile: the name of a file's content is always that
// of its bytes as they are — after a rewrite of the same size with its
// modification time set back, after a save that renames another file over
// it, and for a file that changed within the clock tick of its last read
// (never remembered) — and it is remembered for a file that did not change.
func TestContentIDsFollowTheFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a.md")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("alpha")
	old := time.Now().Add(-time.Hour)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	ids := newContentIDs()
	// every file counts as long unchanged: each change below comes at once
	// after a read, and is seen only because the file's identity changed
	// (its change time cannot be set back)
	ids.now = func() time.Time { return time.Now().Add(time.Hour) }
	f := ids.folder(root).(posts.ContentIDs)
	name := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	check := func(step, want string) {
		t.Helper()
		if id, ok := f.ContentID("a.md"); !ok || id != name(want) {
			t.Fatalf("%s: %q %v, want the name of %q", step, id, ok, want)
		}
	}
	check("first read", "alpha")
	if ids.memo["a.md"].id != name("alpha") {
		t.Fatal("an unchanged file was not remembered")
	}
	check("again", "alpha")

	write("bravo")
	os.Chtimes(file, old, old)
	check("rewritten, same size, same modification time", "bravo")
	tmp := filepath.Join(dir, "a.md.tmp")
	os.WriteFile(tmp, []byte("charl"), 0o644)
	os.Chtimes(tmp, old, old)
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
	check("another file renamed over it", "charl")

	ids.now = time.Now
	write("delta")
	check("changed just now", "delta")
	if ids.memo["a.md"].id == name("delta") {
		t.Error("a file read within a clock tick of its change was remembered")
	}

	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	os.Symlink("a.md", filepath.Join(dir, "link.md"))
	for _, name := range []string{"sub", "link.md", "missing.md"} {
		if id, ok := f.ContentID(name); ok {
			t.Errorf("%s named %q", name, id)
		}
	}
}
