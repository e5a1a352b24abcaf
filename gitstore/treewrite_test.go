package gitstore

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/publishbot/publishbot/gitserver"
)

// countingStorer counts the trees read and the object sizes asked of an
// object store.
type countingStorer struct {
	storer.EncodedObjectStorer
	trees, sizes int
}

func (c *countingStorer) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	o, err := c.EncodedObjectStorer.EncodedObject(t, h)
	if err == nil && o.Type() == plumbing.TreeObject {
		c.trees++
	}
	return o, err
}

func (c *countingStorer) EncodedObjectSize(h plumbing.Hash) (int64, error) {
	c.sizes++
	return c.EncodedObjectStorer.EncodedObjectSize(h)
}

// writeFiles writes files as the whole tree on top of old (nil: none) in
// s and returns the writer, unflushed, and the tree's hash.
func writeFiles(t *testing.T, s storer.EncodedObjectStorer, old *object.Tree, files map[string][]byte, kept map[string]string) (*treeWriter, plumbing.Hash) {
	t.Helper()
	root, _, err := newFilesTree(files, keptFrom(t, kept))
	if err != nil {
		t.Fatal(err)
	}
	w := &treeWriter{s: s}
	h, err := w.writeRoot(root, old)
	if err != nil {
		t.Fatal(err)
	}
	return w, h
}

func hashOf(b []byte) string { return plumbing.ComputeHash(plumbing.BlobObject, b).String() }

// After a one-file change among kept files, the writer reads the old trees
// on that file's path and no other, and lists the new blob and the trees
// on its path, each with its old version as delta base.
func TestOneChangeReadsOnlyTheTreesOnItsPath(t *testing.T) {
	s := memory.NewStorage()
	files := map[string][]byte{}
	for i := range 5 {
		for j := range 20 {
			for _, f := range []string{"index.html", "a.png", "b.txt"} {
				p := fmt.Sprintf("s%d/p%02d/%s", i, j, f)
				files[p] = []byte(p)
			}
		}
	}
	files["index.html"] = []byte("home")
	w, first := writeFiles(t, s, nil, files, nil)
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	old, err := object.GetTree(s, first)
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string]string{}
	for p, b := range files {
		kept[p] = hashOf(b)
	}
	const p = "s3/p07/b.txt"
	delete(kept, p)
	cs := &countingStorer{EncodedObjectStorer: s}
	w, second := writeFiles(t, cs, old, map[string][]byte{p: []byte("changed")}, kept)
	if cs.trees != 3 {
		t.Fatalf("read %d trees, want 3 (/, s3, s3/p07)", cs.trees)
	}
	blob := plumbing.ComputeHash(plumbing.BlobObject, []byte("changed"))
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	want := map[plumbing.Hash]plumbing.Hash{blob: plumbing.NewHash(hashOf(files[p]))}
	for _, dir := range []string{"", "s3", "s3/p07"} {
		before, _ := subtree(s, first, dir)
		after, _ := subtree(s, second, dir)
		want[after] = before
	}
	if got := w.pushList(); len(got) != 4 {
		t.Fatalf("push list %v, want the blob and 3 trees", got)
	}
	if !maps.Equal(w.bases, want) {
		t.Fatalf("bases = %v, want %v", w.bases, want)
	}
	// Nothing changed: nothing read below the root, nothing listed.
	if old, err = object.GetTree(s, second); err != nil {
		t.Fatal(err)
	}
	kept[p] = blob.String()
	cs.trees = 0
	w, third := writeFiles(t, cs, old, nil, kept)
	if third != second || len(w.pushList()) != 0 || cs.trees > 0 {
		t.Fatalf("unchanged: %s (want %s), pushed %v, read %d trees", third, second, w.pushList(), cs.trees)
	}
}

// The tree writer's encoding and order are go-git's.
func TestEncodeTreeIsGoGits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	names := []string{"a", "a.b", "a-b", "a0", "ab", "b", "a.html", "a_", "A", "é", "a b"}
	modes := []filemode.FileMode{filemode.Regular, filemode.Dir, filemode.Executable, filemode.Symlink, filemode.Submodule}
	for range 200 {
		var entries []object.TreeEntry
		seen := map[string]bool{}
		for range rng.IntN(len(names)) + 1 {
			n := names[rng.IntN(len(names))]
			if seen[n] {
				continue
			}
			seen[n] = true
			var h plumbing.Hash
			h[0] = byte(rng.IntN(256))
			entries = append(entries, object.TreeEntry{Name: n, Mode: modes[rng.IntN(len(modes))], Hash: h})
		}
		gitOrder(entries)
		if !sort.IsSorted(object.TreeEntrySorter(entries)) {
			t.Fatalf("not in git's order: %v", entries)
		}
		obj := &plumbing.MemoryObject{}
		if err := (&object.Tree{Entries: entries}).Encode(obj); err != nil {
			t.Fatal(err)
		}
		if got := plumbing.ComputeHash(plumbing.TreeObject, encodeTree(entries)); got != obj.Hash() {
			t.Fatalf("tree of %v: %s, go-git %s", entries, got, obj.Hash())
		}
	}
}

// refWriteRoot is the tree writer as it was before it hashed trees first:
// it reads every old tree to compare. Random edits check the writer
// against it.
func refWriteRoot(w *treeWriter, n *node, old *object.Tree) (plumbing.Hash, error) {
	h, err := refWrite(w, n, old)
	if err != nil || !h.IsZero() {
		return h, err
	}
	obj := &plumbing.MemoryObject{}
	if err := (&object.Tree{}).Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	w.stage(obj)
	w.push = append(w.push, obj.Hash())
	return obj.Hash(), nil
}

func refWrite(w *treeWriter, n *node, old *object.Tree) (plumbing.Hash, error) {
	var oldEntries map[string]object.TreeEntry
	if old != nil {
		oldEntries = make(map[string]object.TreeEntry, len(old.Entries))
		for _, e := range old.Entries {
			oldEntries[e.Name] = e
		}
	}
	entries := make([]object.TreeEntry, 0, len(n.kids))
	for name, kid := range n.kids {
		oe, hadOld := oldEntries[name]
		switch {
		case !kid.hash.IsZero():
			if !hadOld || oe.Hash != kid.hash {
				if err := w.pushClosure(kid.hash, kid.mode); err != nil {
					return plumbing.ZeroHash, err
				}
			}
			entries = append(entries, object.TreeEntry{Name: name, Mode: kid.mode, Hash: kid.hash})
		case kid.isDir():
			var oldSub *object.Tree
			if hadOld && oe.Mode == filemode.Dir {
				t, err := object.GetTree(w.s, oe.Hash)
				if err != nil {
					return plumbing.ZeroHash, err
				}
				oldSub = t
			}
			h, err := refWrite(w, kid, oldSub)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			if h.IsZero() {
				continue
			}
			entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
		default:
			h := plumbing.ComputeHash(plumbing.BlobObject, kid.data)
			if !hadOld || oe.Hash != h {
				if err := w.storeBlob(h, kid.data); err != nil {
					return plumbing.ZeroHash, err
				}
				w.push = append(w.push, h)
				if hadOld && oe.Mode.IsFile() {
					w.base(h, oe.Hash)
				}
			}
			entries = append(entries, object.TreeEntry{Name: name, Mode: kid.mode, Hash: h})
		}
	}
	if len(entries) == 0 {
		return plumbing.ZeroHash, nil
	}
	sort.Sort(object.TreeEntrySorter(entries))
	obj := &plumbing.MemoryObject{}
	if err := (&object.Tree{Entries: entries}).Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	h := obj.Hash()
	if old != nil && old.Hash == h {
		return h, nil
	}
	w.stage(obj)
	w.push = append(w.push, h)
	if old != nil {
		w.base(h, old.Hash)
	}
	return h, nil
}

// Random edits of a site, published as the publisher does (new files as
// bytes, the rest kept by hash, with tree edits on top): the tree, the
// push list and the delta bases are the old algorithm's, and the remote
// accepts every push and ends up with the site.
func TestTreeWriterMatchesOldAlgorithmOnRandomEdits(t *testing.T) {
	e := newEnv(t)
	e.commit(gitserver.Change{Ref: "main", Files: map[string]string{"publish.yaml": "title: Blog\n"}})
	r := e.open(Options{})
	fetch(t, r, "refs/heads/site")
	rng := rand.New(rand.NewPCG(5, 6))
	dirs := []string{"", "posts/", "posts/a/", "posts/b/", "tags/x/", "tags/y/", "static/img/", "deep/1/2/3/"}
	randomPath := func() string {
		return fmt.Sprintf("%sf%d.html", dirs[rng.IntN(len(dirs))], rng.IntN(12))
	}
	site := map[string][]byte{} // what the remote's site branch should hold
	// put sets a file, removing the files where its folders go and the
	// folder where it goes.
	put := func(p string, b []byte) {
		for q := range site {
			if strings.HasPrefix(p, q+"/") || strings.HasPrefix(q, p+"/") {
				delete(site, q)
			}
		}
		site[p] = b
	}
	for range 150 {
		put(randomPath(), fmt.Appendf(nil, "page %d", rng.IntN(1000)))
	}
	var hashes map[string]string // of site, as last pushed
	head := ""
	for step := range 25 {
		delete(site, "pr-preview/pr-1/index.html") // Build sets it again, or not
		changed := map[string][]byte{}
		if step > 0 {
			for range rng.IntN(6) + 1 {
				switch p := randomPath(); rng.IntN(6) {
				case 0, 1: // an edit, or back to an older version
					put(p, fmt.Appendf(nil, "page %d", rng.IntN(1000)))
				case 2: // removed, with its whole folder now and then
					delete(site, p)
					if rng.IntN(3) == 0 {
						dir := p[:strings.LastIndexByte(p, '/')+1]
						for q := range site {
							if dir != "" && strings.HasPrefix(q, dir) {
								delete(site, q)
							}
						}
					}
				case 3: // the same bytes at a new path
					for q, b := range site {
						if q != p {
							delete(site, q)
							put(p, b)
						}
						break
					}
				case 4: // a file where a folder was
					put("tags/x", []byte("now a file"))
				case 5: // a folder where a file was
					put("tags/x/f1.html", []byte("a folder again"))
				}
			}
		}
		// New bytes for what is not pushed yet or changed; the rest kept,
		// as the publisher keeps what it did not render again.
		// A blob the cache has may be kept at a new path too.
		kept := map[string]string{}
		for p, b := range site {
			h := hashOf(b)
			if (hashes[p] == h || r.Has(h)) && rng.IntN(4) > 0 {
				kept[p] = h
			} else {
				changed[p] = b
			}
		}
		var blobs *Blobs
		pushed, err := r.Push(context.Background(), Update{Branch: "site", Head: head, Message: fmt.Sprintf("step %d\n", step), Author: testAuthor,
			Build: func(tr *Tree) error {
				var err error
				if blobs, err = tr.ReplaceKeeping(changed, keptFrom(t, kept)); err != nil {
					return err
				}
				if rng.IntN(3) == 0 { // a preview folder next to it
					if _, err := tr.SetKeeping("pr-preview/pr-1", map[string][]byte{"index.html": fmt.Appendf(nil, "preview %d", step%3)}, nil); err != nil {
						return err
					}
					site["pr-preview/pr-1/index.html"] = fmt.Appendf(nil, "preview %d", step%3)
				}
				ref := &treeWriter{s: r.st}
				want, err := refWriteRoot(ref, tr.root, tr.old)
				if err != nil {
					return err
				}
				got := &treeWriter{s: r.st}
				h, err := got.writeRoot(tr.root, tr.old)
				if err != nil {
					return err
				}
				if h != want {
					return fmt.Errorf("tree %s, the old algorithm's %s", h, want)
				}
				if g, w := sorted(got.pushList()), sorted(ref.pushList()); !slices.Equal(g, w) {
					return fmt.Errorf("push list %v, the old algorithm's %v", g, w)
				}
				if !maps.Equal(got.bases, ref.bases) {
					return fmt.Errorf("bases %v, the old algorithm's %v", got.bases, ref.bases)
				}
				return nil
			}})
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if step == 0 && !pushed.Changed {
			t.Fatal("the first push changed nothing")
		}
		head = pushed.Commit
		hashes = blobs.Hashes()
		maps.Copy(hashes, kept)
		// The remote holds the site.
		want := map[string]string{}
		for p, b := range site {
			want[p] = hashOf(b)
		}
		got := map[string]string{}
		for _, line := range strings.Split(e.git("ls-tree", "-r", head), "\n") {
			meta, p, ok := strings.Cut(line, "\t")
			if f := strings.Fields(meta); ok && len(f) == 3 {
				got[p] = f[2]
			}
		}
		if !maps.Equal(got, want) {
			t.Fatalf("step %d: the remote has %v, want %v", step, got, want)
		}
	}
	if out := e.git("fsck", "--strict", "--no-dangling"); strings.Contains(out, "error") || strings.Contains(out, "missing") {
		t.Fatalf("fsck: %s", out)
	}
}

func sorted(hs []plumbing.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.String()
	}
	slices.Sort(out)
	return out
}
