package contentids

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
	ids := New()
	// every file counts as long unchanged: each change below comes at once
	// after a read, and is seen only because the file's identity changed
	// (its change time cannot be set back)
	ids.now = func() time.Time { return time.Now().Add(time.Hour) }
	f := ids.Folder(root).(posts.ContentIDs)
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

// A Memo carried to the next process (Encode, Decode) names an unchanged
// file without reading it, a file changed since (even to the same size
// and modification time) by its new bytes, and keeps only the files asked
// for; a damaged memo is refused whole.
func TestMemoAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-time.Hour)
	for name, s := range map[string]string{"a.md": "alpha", "b.md": "bravo", "gone.md": "gone"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, old, old)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	first := New()
	first.now = func() time.Time { return time.Now().Add(time.Hour) }
	f := first.Folder(root).(posts.ContentIDs)
	for _, name := range []string{"a.md", "b.md", "gone.md"} {
		if _, ok := f.ContentID(name); !ok {
			t.Fatalf("%s: no id", name)
		}
	}
	data := first.Encode()

	// the next process: gone.md is not asked for, b.md was rewritten
	second := New()
	if err := second.Decode(data); err != nil {
		t.Fatal(err)
	}
	if len(second.memo) != 3 {
		t.Fatalf("%d entries decoded, want 3", len(second.memo))
	}
	if err := os.WriteFile(filepath.Join(dir, "b.md"), []byte("BRAVO"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(filepath.Join(dir, "b.md"), old, old)
	second.now = first.now
	g := second.Folder(root).(posts.ContentIDs)
	if id, _ := g.ContentID("a.md"); id != first.memo["a.md"].id {
		t.Fatalf("a.md: %q, want the remembered %q", id, first.memo["a.md"].id)
	}
	want := sha256.Sum256([]byte("BRAVO"))
	if id, _ := g.ContentID("b.md"); id != "sha256:"+hex.EncodeToString(want[:]) {
		t.Fatalf("b.md rewritten to the same size and time: %q", id)
	}
	third := New()
	if err := third.Decode(second.Encode()); err != nil {
		t.Fatal(err)
	}
	if _, ok := third.memo["gone.md"]; ok || len(third.memo) != 2 {
		t.Fatalf("entries %v: want a.md and b.md only", third.memo)
	}

	for name, bad := range map[string][]byte{
		"empty":     nil,
		"foreign":   []byte("hello"),
		"truncated": data[:len(data)-1],
		"longer":    append(append([]byte{}, data...), 0),
		"count":     append([]byte(magic), 0xff, 0xff, 0xff, 0xff, 0x0f),
	} {
		m := New()
		if err := m.Decode(bad); err == nil || len(m.memo) != 0 {
			t.Errorf("%s: %v, %d entries", name, err, len(m.memo))
		}
	}
}

// Decode takes outside input (a cache file on disk).
func FuzzDecode(f *testing.F) {
	m := New()
	m.memo["a.md"] = contentID{"id-a", "sha256:" + hex.EncodeToString(make([]byte, 32)), true}
	m.memo["posts/b.md"] = contentID{"id-b", "sha256:" + hex.EncodeToString(make([]byte, 32)), true}
	f.Add(m.Encode())
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		m := New()
		if err := m.Decode(data); err != nil {
			if len(m.memo) != 0 {
				t.Fatal("a refused memo added entries")
			}
			return
		}
		for p, e := range m.memo {
			m.memo[p] = contentID{e.identity, e.id, true}
		}
		again := New()
		if err := again.Decode(m.Encode()); err != nil || len(again.memo) != len(m.memo) {
			t.Fatalf("round trip: %v, %d of %d entries", err, len(again.memo), len(m.memo))
		}
	})
}

type mapStore map[[32]byte][]byte

func (m mapStore) Get(k [32]byte) ([]byte, bool) { v, ok := m[k]; return v, ok }
func (m mapStore) Put(k [32]byte, v []byte)      { m[k] = v }

// Save keeps a folder's Memo under the folder's absolute path (a relative
// name finds it too; another folder does not), and Load of a damaged one
// says so and gives an empty Memo.
func TestLoadSave(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.md"), []byte("alpha"), 0o644)
	os.Chtimes(filepath.Join(dir, "a.md"), time.Now().Add(-time.Hour), time.Now().Add(-time.Hour))
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	store := mapStore{}
	ids, err := Load(store, dir)
	if err != nil || ids.Len() != 0 {
		t.Fatalf("nothing saved: %v, %d", err, ids.Len())
	}
	ids.now = func() time.Time { return time.Now().Add(time.Hour) } // a.md long unchanged
	ids.Folder(root).(posts.ContentIDs).ContentID("a.md")
	ids.Save(store, dir)
	t.Chdir(filepath.Dir(dir))
	if got, err := Load(store, filepath.Base(dir)); err != nil || got.Len() != 1 {
		t.Fatalf("relative name: %v, %d entries", err, got.Len())
	}
	if got, err := Load(store, t.TempDir()); err != nil || got.Len() != 0 {
		t.Fatalf("another folder: %v, %d entries", err, got.Len())
	}
	for k, v := range store {
		store[k] = v[:len(v)-3]
	}
	if got, err := Load(store, dir); err == nil || got.Len() != 0 {
		t.Fatalf("damaged: %v, %d entries", err, got.Len())
	}
}
