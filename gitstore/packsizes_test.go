package gitstore

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/publishbot/publishbot/gitserver"
)

// A fetch learns the size of every blob of the pack it receives, deltas
// among them, from the pack check, and only of blobs: the tree check of
// the fetched commit then asks the object store for no size.
func TestFetchLearnsBlobSizes(t *testing.T) {
	e := newEnv(t)
	files := map[string]string{"publish.yaml": "title: x\n", "empty.md": ""}
	page := strings.Repeat("A line of a post that the others repeat, so git stores them as deltas.\n", 80)
	for i := range 12 {
		files[fmt.Sprintf("posts/%d/index.md", i)] = page + strings.Repeat("one more line\n", i)
	}
	head := e.commit(gitserver.Change{Ref: "main", Files: files})
	e.git("repack", "-a", "-d", "-f", "--window=50", "--depth=50") // the server sends the deltas it stores

	r := e.open(Options{})
	fetch(t, r, "refs/heads/main")

	// the pack holds deltas, and the sizes learnt are every blob's, right
	packs, _ := filepath.Glob(filepath.Join(r.dir, "objects", "pack", "*.pack"))
	deltas := 0
	for _, p := range packs {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		var entries []packEntry
		err = checkPack(t.Context(), f, 1<<30, &entries)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range entries {
			if en.typ == packOFSDelta || en.typ == packREFDelta {
				deltas++
			}
		}
	}
	if deltas == 0 {
		t.Fatal("the fetched pack has no deltas: the test shows nothing")
	}
	facts := r.store.facts
	facts.mu.Lock()
	learnt := len(facts.learnt)
	facts.mu.Unlock()
	blobs := 0
	for _, line := range strings.Split(strings.TrimSpace(e.git("ls-tree", "-r", "-l", head)), "\n") {
		// <mode> blob <id> <size>\t<path>
		fields := strings.Fields(strings.Split(line, "\t")[0])
		want, _ := strconv.ParseInt(fields[3], 10, 64)
		facts.mu.Lock()
		got, ok := facts.learnt[plumbing.NewHash(fields[2])]
		facts.mu.Unlock()
		if !ok || got != want {
			t.Errorf("%s: learnt %v (%v), want %d", line, got, ok, want)
		}
		blobs++
	}
	if learnt != len(uniqueBlobs(t, e, head)) {
		t.Errorf("learnt %d sizes for %d blobs (%d files): trees or commits among them", learnt, len(uniqueBlobs(t, e, head)), blobs)
	}

	c, err := object.GetCommit(r.st, plumbing.NewHash(head))
	if err != nil {
		t.Fatal(err)
	}
	cs := &countingStorer{EncodedObjectStorer: r.st}
	if err := checkTree(cs, c.TreeHash, r.store.limits, facts); err != nil {
		t.Fatal(err)
	}
	if cs.sizes != 0 {
		t.Errorf("the tree check read %d sizes from the object store", cs.sizes)
	}
	// the sizes asked for are facts now, saved with the others
	facts.mu.Lock()
	saved, left := len(facts.sizes), len(facts.learnt)
	facts.mu.Unlock()
	if saved != learnt || left != 0 {
		t.Errorf("after the check: %d facts, %d sizes still only learnt; want %d and 0", saved, left, learnt)
	}
}

// uniqueBlobs are the blob ids of commit's tree.
func uniqueBlobs(t *testing.T, e *env, commit string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(e.git("ls-tree", "-r", commit)), "\n") {
		ids[strings.Fields(line)[2]] = true
	}
	return ids
}
