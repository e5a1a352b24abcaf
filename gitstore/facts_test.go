package gitstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/publishbot/publishbot/gitserver"
)

// A new Store over the same folder checks a tree it has seen without
// reading a tree or a size, and after a one-file change reads only the
// trees on that file's path and that file's size; listing the tree then
// asks the object store for no size either.
func TestCheckTreeRemembersAcrossStores(t *testing.T) {
	e := newEnv(t)
	files := map[string]string{"publish.yaml": "title: x\n"}
	for i := range 4 {
		for j := range 5 {
			files[fmt.Sprintf("posts/%d/p%d.md", i, j)] = strings.Repeat("x", i*10+j)
		}
	}
	head := plumbing.NewHash(e.commit(gitserver.Change{Ref: "main", Files: files}))
	r := e.open(Options{})
	fetch(t, r, "refs/heads/main")
	if err := r.CheckTree(head.String()); err != nil {
		t.Fatal(err)
	}
	r.store.facts.save() // as Close does
	if _, err := os.Stat(filepath.Join(e.dir, factsFile)); err != nil {
		t.Fatalf("no facts file: %v", err)
	}
	check := func(commit plumbing.Hash) (*countingStorer, *Store) {
		t.Helper()
		s, err := New(Options{Dir: e.dir})
		if err != nil {
			t.Fatal(err)
		}
		c, err := object.GetCommit(r.st, commit)
		if err != nil {
			t.Fatal(err)
		}
		cs := &countingStorer{EncodedObjectStorer: r.st}
		if err := checkTree(cs, c.TreeHash, s.limits, s.facts); err != nil {
			t.Fatal(err)
		}
		s.facts.save()
		return cs, s
	}
	if cs, _ := check(head); cs.trees != 0 || cs.sizes != 0 {
		t.Fatalf("a tree seen before: read %d trees and %d sizes", cs.trees, cs.sizes)
	}
	edited := commitLocally(t, r, head, "posts/2/p3.md", []byte("edited"))
	if cs, _ := check(edited); cs.trees != 3 || cs.sizes != 1 {
		t.Fatalf("after a one-file change: read %d trees and %d sizes, want 3 (/, posts, posts/2) and 1", cs.trees, cs.sizes)
	}
	// A listing in a new process takes the sizes and the trees from the
	// file (the check remembered the three new trees' contents).
	s, err := New(Options{Dir: e.dir})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := object.GetCommit(r.st, edited)
	cs := &countingStorer{EncodedObjectStorer: r.st}
	fsys := newTreeFS(cs, c.TreeHash, 0, s.facts)
	var total int64
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		total += info.Size()
		return err
	})
	if err != nil || cs.sizes != 0 || cs.trees != 0 {
		t.Fatalf("listing: %v, asked %d sizes and read %d trees", err, cs.sizes, cs.trees)
	}
	want := int64(len("edited"))
	for p, b := range files {
		if p != "posts/2/p3.md" {
			want += int64(len(b))
		}
	}
	if total != want {
		t.Fatalf("listed %d bytes, want %d", total, want)
	}
}

// truth is the summary of tree h computed from the objects alone.
func truth(t *testing.T, s *memory.Storage, h plumbing.Hash) treeSummary {
	t.Helper()
	c := &treeCheck{s: s, l: Limits{MaxFiles: -1, MaxFileBytes: -1, MaxTotalBytes: -1, MaxPathLength: -1}}
	sum, err := c.walk(h, "")
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// memTree writes files into a memory store and returns the tree.
func memTree(t *testing.T, s *memory.Storage, files map[string][]byte) plumbing.Hash {
	t.Helper()
	w, h := writeFiles(t, s, nil, files, nil)
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestTreeSummary(t *testing.T) {
	s := memory.NewStorage()
	h := memTree(t, s, map[string][]byte{"a": []byte("12345"), "dir/sub/long-name.txt": []byte("1"), "dir/b": nil})
	want := treeSummary{files: 3, bytes: 6, maxFile: 5, maxPath: int64(len("dir/sub/long-name.txt"))}
	if got := truth(t, s, h); got != want {
		t.Fatalf("summary %+v, want %+v", got, want)
	}
}

// A damaged, truncated or foreign facts file is discarded with a log line
// and rebuilt; the check's result is the truth's.
func TestDamagedFactsFileIsDiscarded(t *testing.T) {
	s := memory.NewStorage()
	root := memTree(t, s, map[string][]byte{"a/b/c.md": []byte("abc"), "a/d.md": []byte("d"), "e.md": []byte("eeee")})
	dir := t.TempDir()
	path := filepath.Join(dir, factsFile)
	f := newObjectFacts(path, nil)
	if err := checkTree(s, root, DefaultLimits, f); err != nil {
		t.Fatal(err)
	}
	f.save()
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	resum := func(b []byte) []byte { // a valid checksum over what precedes it
		b = bytes.Clone(b[:len(b)-4])
		return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	}
	for name, bad := range map[string][]byte{
		"empty":     {},
		"truncated": good[:len(good)-7],
		"flipped":   append(append(bytes.Clone(good[:30]), good[30]^1), good[31:]...),
		"foreign":   []byte("{\"sizes\": {}}\n"),
		"hash size": resum(append(append([]byte(factsMagic), 32), good[len(factsMagic)+1:]...)),
		"count":     resum(append(append(bytes.Clone(good[:len(factsMagic)+1]), 0, 0, 0, 9), good[len(factsMagic)+5:]...)),
		"negative":  resum(append(bytes.Clone(good[:factsHeaderLen+hashLen]), append([]byte{0x80}, good[factsHeaderLen+hashLen+1:]...)...)),
	} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(path, bad, 0o644); err != nil {
				t.Fatal(err)
			}
			logger, hook := logtest.NewNullLogger()
			f := newObjectFacts(path, logrus.NewEntry(logger))
			sum, err := (&treeCheck{s: s, l: DefaultLimits, facts: f}).walk(root, "")
			if err != nil || sum != truth(t, s, root) {
				t.Fatalf("summary %+v, %v", sum, err)
			}
			if len(hook.AllEntries()) != 1 || !strings.Contains(hook.LastEntry().Message, "discarding") || hook.LastEntry().Data["file"] != path {
				t.Fatalf("log: %v", hook.AllEntries())
			}
			f.save()
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			sizes, trees, _, err := decodeFacts(b)
			if err != nil || len(sizes) != 3 || len(trees) != 3 {
				t.Fatalf("rebuilt: %d sizes, %d trees, %v", len(sizes), len(trees), err)
			}
		})
	}
}

// A summary that says a limit is exceeded is not believed: the tree is
// walked for the path, and the fact corrected when it was wrong.
func TestLimitErrorsComeFromTheTree(t *testing.T) {
	s := memory.NewStorage()
	root := memTree(t, s, map[string][]byte{"a/b/c.md": []byte("abc"), "e.md": []byte("eeee")})
	f := newObjectFacts(filepath.Join(t.TempDir(), factsFile), nil)
	f.ensureLoaded()
	f.putTree(root, treeSummary{files: 2, bytes: 7, maxFile: 1 << 40, maxPath: 8})
	if err := checkTree(s, root, DefaultLimits, f); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.tree(root); got != truth(t, s, root) {
		t.Fatalf("the wrong fact stayed: %+v", got)
	}
	err := checkTree(s, root, Limits{MaxFileBytes: 3}, f)
	if err == nil || err.Error() != "file size limit exceeded by e.md: 4 > 3" {
		t.Fatalf("err = %v", err)
	}
	err = checkTree(s, root, Limits{MaxPathLength: 7}, f)
	if err == nil || err.Error() != "path length limit exceeded by a/b/c.md: 8 > 7" {
		t.Fatalf("err = %v", err)
	}
}

// Processes sharing the folder (here: facts of their own over one file)
// lose at most some facts, never a fact's truth, and never leave a file
// that is not whole.
func TestFactsFileSharedByProcesses(t *testing.T) {
	s := memory.NewStorage()
	var roots []plumbing.Hash
	for i := range 8 {
		files := map[string][]byte{}
		for j := range 30 {
			files[fmt.Sprintf("d%d/f%d", j%4, j)] = bytes.Repeat([]byte{'x'}, i*100+j)
		}
		roots = append(roots, memTree(t, s, files))
	}
	path := filepath.Join(t.TempDir(), factsFile)
	logger, hook := logtest.NewNullLogger()
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Go(func() {
			for round := range 10 {
				f := newObjectFacts(path, logrus.NewEntry(logger))
				if err := checkTree(s, roots[(p+round)%len(roots)], DefaultLimits, f); err != nil {
					t.Error(err)
				}
				f.save()
			}
		})
	}
	wg.Wait()
	if len(hook.AllEntries()) != 0 {
		t.Fatalf("a process found the file damaged: %v", hook.AllEntries())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sizes, trees, contents, err := decodeFacts(b)
	if err != nil {
		t.Fatal(err)
	}
	for h, c := range contents {
		if got := plumbing.ComputeHash(plumbing.TreeObject, c.v); got != h {
			t.Fatalf("tree %s: the content of %s", h, got)
		}
	}
	for h, sum := range trees {
		if want := truth(t, s, h); sum.v != want {
			t.Fatalf("tree %s: %+v, want %+v", h, sum.v, want)
		}
	}
	for h, n := range sizes {
		if want, err := s.EncodedObjectSize(h); err != nil || n.v != want {
			t.Fatalf("blob %s: %d, want %d (%v)", h, n.v, want, err)
		}
	}
	if len(trees) == 0 || len(sizes) == 0 || len(contents) == 0 {
		t.Fatal("no facts kept")
	}
}

// Facts are bounded in memory and in the file; what this process used is
// kept first.
func TestFactsAreBounded(t *testing.T) {
	s := memory.NewStorage()
	files := map[string][]byte{}
	for j := range 40 {
		files[fmt.Sprintf("d%d/f%d", j%8, j)] = bytes.Repeat([]byte{'y'}, j)
	}
	root := memTree(t, s, files)
	path := filepath.Join(t.TempDir(), factsFile)
	f := newObjectFacts(path, nil)
	f.maxSizes, f.maxTrees = 10, 4
	if err := checkTree(s, root, DefaultLimits, f); err != nil {
		t.Fatal(err)
	}
	if len(f.sizes) > 10 || len(f.trees) > 4 {
		t.Fatalf("%d sizes, %d trees in memory", len(f.sizes), len(f.trees))
	}
	f.save()
	g := newObjectFacts(path, nil)
	g.maxSizes, g.maxTrees = 10, 4
	g.ensureLoaded()
	if len(g.sizes) == 0 || len(g.sizes) > 10 || len(g.trees) > 4 {
		t.Fatalf("%d sizes, %d trees read back", len(g.sizes), len(g.trees))
	}
	if _, ok := g.tree(root); !ok {
		t.Fatal("the root's summary, used last, was dropped")
	}
	if err := checkTree(s, root, Limits{MaxFiles: 39}, g); err == nil || err.Error() != "file count limit exceeded: 40 > 39" {
		t.Fatalf("err = %v", err)
	}
}

// The facts file is the Store's own, but a damaged one is outside input.
func FuzzDecodeFacts(f *testing.F) {
	sizes := map[plumbing.Hash]fact[int64]{{1}: {v: 5}}
	trees := map[plumbing.Hash]fact[treeSummary]{{2}: {v: treeSummary{1, 5, 5, 3}}}
	contents := map[plumbing.Hash]fact[[]byte]{{3}: {v: []byte("100644 a\x00aaaaaaaaaaaaaaaaaaaa")}, {4}: {v: []byte{}}}
	good := encodeFacts(sizes, trees, contents)
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(encodeFacts(sizes, trees, nil))
	f.Add(version1Facts(sizes, trees))
	f.Add([]byte(factsMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, tr, c, err := decodeFacts(b)
		if err != nil {
			return
		}
		n := 0
		for _, v := range c {
			n += len(v.v)
		}
		if n > len(b) {
			t.Fatalf("%d bytes of tree contents from %d bytes", n, len(b))
		}
		for _, n := range s {
			if n.v < 0 {
				t.Fatal("a negative size")
			}
		}
		for _, f := range tr {
			if v := f.v; v.files < 0 || v.bytes < 0 || v.maxFile < 0 || v.maxPath < 0 {
				t.Fatal("a negative summary")
			}
		}
	})
}

// version1Facts is a file of the first format (factsMagic1: no tree
// contents), as an older publishbot wrote it.
func version1Facts(sizes map[plumbing.Hash]fact[int64], trees map[plumbing.Hash]fact[treeSummary]) []byte {
	b := encodeFacts(sizes, trees, nil)
	b = append(append([]byte(factsMagic1), b[len(factsMagic):len(factsMagic)+9]...), b[factsHeaderLen:len(b)-4]...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// A listing remembers the trees it read, and a listing in a new process
// reads none of them from the object store; a file of the first format is
// still read, and a remembered content that is not its tree's is dropped
// with a log line, the tree read from the store and the listing right.
func TestTreeContentsRemembered(t *testing.T) {
	s := memory.NewStorage()
	files := map[string][]byte{"publish.yaml": []byte("title: x\n")}
	for i := range 5 {
		for j := range 4 {
			files[fmt.Sprintf("posts/%d/p%d.md", i, j)] = bytes.Repeat([]byte{'p'}, i+j)
		}
	}
	root := memTree(t, s, files)
	path := filepath.Join(t.TempDir(), factsFile)
	list := func(f *objectFacts) (map[string]int64, int) {
		t.Helper()
		cs := &countingStorer{EncodedObjectStorer: s}
		got := map[string]int64{}
		err := fs.WalkDir(newTreeFS(cs, root, 0, f), ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			info, err := d.Info()
			if err == nil {
				got[p] = info.Size()
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(files) {
			t.Fatalf("listed %d files, want %d", len(got), len(files))
		}
		for p, n := range got {
			if int64(len(files[p])) != n {
				t.Fatalf("%s: %d bytes, want %d", p, n, len(files[p]))
			}
		}
		return got, cs.trees
	}
	f := newObjectFacts(path, nil)
	if _, trees := list(f); trees != 7 {
		t.Fatalf("first listing read %d trees, want 7 (/, posts, posts/0..4)", trees)
	}
	f.save()
	if _, trees := list(newObjectFacts(path, nil)); trees != 0 {
		t.Fatalf("a new process read %d trees", trees)
	}

	// the first format: read, with no contents, and rewritten in the new one
	f.mu.Lock()
	old := version1Facts(f.sizes, f.trees)
	f.mu.Unlock()
	if err := os.WriteFile(path, old, 0o644); err != nil {
		t.Fatal(err)
	}
	logger, hook := logtest.NewNullLogger()
	g := newObjectFacts(path, logrus.NewEntry(logger))
	if _, trees := list(g); trees != 7 || len(hook.AllEntries()) != 0 {
		t.Fatalf("over a first-format file: read %d trees; log %v", trees, hook.AllEntries())
	}
	g.save()
	if b, _ := os.ReadFile(path); !bytes.HasPrefix(b, []byte(factsMagic)) {
		t.Fatalf("not rewritten: %q", b[:8])
	}

	// a content under another tree's hash
	posts, err := fs.Sub(newTreeFS(s, root, 0, nil), "posts")
	if err != nil {
		t.Fatal(err)
	}
	postsHash := posts.(*treeFS).root
	g.mu.Lock()
	wrong := g.contents[root].v
	g.contents[postsHash] = fact[[]byte]{v: wrong}
	g.added = true
	g.mu.Unlock()
	g.save()
	h := newObjectFacts(path, logrus.NewEntry(logger))
	if _, trees := list(h); trees != 1 {
		t.Fatalf("read %d trees from the store, want 1 (posts)", trees)
	}
	if len(hook.AllEntries()) != 1 || !strings.Contains(hook.LastEntry().Message, "did not match") {
		t.Fatalf("log: %v", hook.AllEntries())
	}
	if _, trees := list(h); trees != 0 {
		t.Fatalf("read %d trees once the right content was remembered", trees)
	}
}

// Tree contents are bounded by count and by bytes; what this process used
// is kept first, and a content too large to keep is not kept.
func TestTreeContentsAreBounded(t *testing.T) {
	f := newObjectFacts("", nil)
	f.maxContents, f.maxContentBytes = 4, 1000
	for i := range 10 {
		f.putTreeContent(plumbing.Hash{byte(i)}, bytes.Repeat([]byte{'t'}, 90))
		if len(f.contents) > 4 || f.contentBytes > 1000 {
			t.Fatalf("%d contents of %d bytes", len(f.contents), f.contentBytes)
		}
	}
	if _, ok := f.treeContent(plumbing.Hash{9}); !ok {
		t.Fatal("the last content put is gone")
	}
	f.putTreeContent(plumbing.Hash{20}, bytes.Repeat([]byte{'t'}, 101))
	if _, ok := f.treeContent(plumbing.Hash{20}); ok {
		t.Fatal("a content over a tenth of the bound was kept")
	}
	n := 0
	for _, c := range f.contents {
		n += len(c.v)
	}
	if n != f.contentBytes {
		t.Fatalf("counted %d bytes, hold %d", f.contentBytes, n)
	}
}
