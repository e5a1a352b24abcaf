package gitstore

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// TestThinPackReusesStoredEntries: objects the tree writer stored in a
// pack of its own are sent as the entries that pack holds (not read and
// compressed again), an object with a base is still sent as a delta, and
// an entry whose bytes on disk are not those written is made again: each
// pack is one git indexes, holding every object as it is.
func TestThinPackReusesStoredEntries(t *testing.T) {
	dir := t.TempDir()
	st := filesystem.NewStorage(osfs.New(dir), cache.NewObjectLRUDefault())
	page := strings.Repeat("<p>the theme's header and footer, the same on every page</p>\n", 40)
	rng := rand.NewChaCha8([32]byte{7})
	var objs []plumbing.EncodedObject
	want := map[plumbing.Hash][]byte{}
	add := func(data []byte) plumbing.EncodedObject {
		o := st.NewEncodedObject()
		o.SetType(plumbing.BlobObject)
		o.SetSize(int64(len(data)))
		w, _ := o.Writer()
		w.Write(data)
		w.Close()
		want[o.Hash()] = data
		return o
	}
	for i := range 100 {
		objs = append(objs, add(fmt.Appendf(nil, "%s<h1>post %d</h1>", page, i)))
	}
	photo := make([]byte, 100<<10)
	rng.Read(photo)
	objs = append(objs, add(photo))
	packed, err := storePack(st, objs)
	if err != nil {
		t.Fatal(err)
	}
	// the base the remote has, and the page edited from it
	base := add([]byte(page + "<h1>old</h1>"))
	edited := add([]byte(page + "<h1>old, edited</h1>"))
	for _, o := range []plumbing.EncodedObject{base, edited} {
		if _, err := st.SetEncodedObject(o); err != nil {
			t.Fatal(err)
		}
	}
	var send []plumbing.Hash
	for _, o := range objs {
		send = append(send, o.Hash())
	}
	send = append(send, edited.Hash())
	bases := map[plumbing.Hash]plumbing.Hash{edited.Hash(): base.Hash()}

	index := func(t *testing.T, pack []byte) string {
		t.Helper()
		d := t.TempDir()
		// the receiving side has the base: a repository that holds it
		// completes the thin pack
		if out, err := exec.Command("git", "init", "-q", "--bare", d).CombinedOutput(); err != nil {
			t.Fatalf("git init: %v\n%s", err, out)
		}
		hashObject := exec.Command("git", "--git-dir", d, "hash-object", "-w", "--stdin")
		hashObject.Stdin = bytes.NewReader(want[base.Hash()])
		if out, err := hashObject.CombinedOutput(); err != nil {
			t.Fatalf("git hash-object: %v\n%s", err, out)
		}
		ip := exec.Command("git", "--git-dir", d, "index-pack", "--strict", "--fix-thin", "--stdin")
		ip.Stdin = bytes.NewReader(pack)
		if out, err := ip.CombinedOutput(); err != nil {
			t.Fatalf("git index-pack: %v\n%s", err, out)
		}
		for h, data := range want {
			out, err := exec.Command("git", "--git-dir", d, "cat-file", "blob", h.String()).Output()
			if err != nil || !bytes.Equal(out, data) {
				t.Errorf("object %s: %v, %d bytes, want %d", h, err, len(out), len(data))
			}
		}
		return d
	}
	write := func(t *testing.T, s storer.EncodedObjectStorer, p *packedEntries) []byte {
		t.Helper()
		var buf bytes.Buffer
		if err := writeThinPack(&buf, s, send, bases, p); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}

	// the stored objects are not read: a store that refuses them still
	// gives the whole pack
	refusing := refusingStore{st, map[plumbing.Hash]bool{}}
	for _, o := range objs {
		refusing.refuse[o.Hash()] = true
	}
	reused := write(t, refusing, packed)
	index(t, reused)
	stored, err := os.ReadFile(filepath.Join(dir, packed.name))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		sp := packed.at[o.Hash()]
		if !bytes.Contains(reused, stored[sp.off:sp.off+sp.n]) {
			t.Errorf("object %s is not sent as the stored entry", o.Hash())
		}
	}
	if sp := packed.at[objs[0].Hash()]; sp.n == 0 {
		t.Fatal("the stored pack has no entries")
	}

	if err := writeThinPack(io.Discard, refusing, send, bases, nil); err == nil {
		t.Fatal("without the stored entries the refused objects were not read")
	}
	index(t, write(t, st, nil))

	// an entry damaged on disk is compressed again from the object
	name := filepath.Join(dir, packed.name)
	os.Chmod(name, 0o644)
	damaged := bytes.Clone(stored)
	sp := packed.at[objs[3].Hash()]
	damaged[sp.off+sp.n-2] ^= 0xff
	if err := os.WriteFile(name, damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	index(t, write(t, st, packed))
}

// refusingStore fails to read the objects in refuse.
type refusingStore struct {
	storer.EncodedObjectStorer
	refuse map[plumbing.Hash]bool
}

func (s refusingStore) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	if s.refuse[h] {
		return nil, fmt.Errorf("object %s: refused", h)
	}
	return s.EncodedObjectStorer.EncodedObject(t, h)
}
