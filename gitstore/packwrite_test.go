package gitstore

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"
)

// TestNewPackIsGits: the pack of a new branch, with OFS or REF deltas,
// is one git indexes as it is, holding every object whole once resolved
// (index-pack hashes each), with delta chains no deeper than git's and
// photos stored, not deltified.
func TestNewPackIsGits(t *testing.T) {
	st := memory.NewStorage()
	var hashes []plumbing.Hash
	add := func(typ plumbing.ObjectType, data []byte) {
		o := st.NewEncodedObject()
		o.SetType(typ)
		o.SetSize(int64(len(data)))
		w, _ := o.Writer()
		w.Write(data)
		w.Close()
		h, err := st.SetEncodedObject(o)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, h)
	}
	page := strings.Repeat("<p>the theme's header and footer, the same on every page</p>\n", 40)
	for i := range 300 { // alike pages: long delta runs
		add(plumbing.BlobObject, fmt.Appendf(nil, "%s<h1>post %d</h1>%s", page, i, strings.Repeat("x", i)))
	}
	rng := rand.NewChaCha8([32]byte{3})
	for i := range 3 { // photos of about the same size
		photo := make([]byte, 200<<10+i)
		rng.Read(photo)
		add(plumbing.BlobObject, photo)
	}
	add(plumbing.BlobObject, nil)
	add(plumbing.TreeObject, nil)
	for _, ofs := range []bool{true, false} {
		t.Run(fmt.Sprintf("ofs=%v", ofs), func(t *testing.T) {
			var buf bytes.Buffer
			if err := writeNewPack(&buf, st, hashes, ofs); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			pack := filepath.Join(dir, "p.pack")
			if err := os.WriteFile(pack, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("git", "index-pack", pack).CombinedOutput(); err != nil {
				t.Fatalf("git index-pack: %v\n%s", err, out)
			}
			out, err := exec.Command("git", "verify-pack", "-v", filepath.Join(dir, "p.idx")).CombinedOutput()
			if err != nil {
				t.Fatalf("git verify-pack: %v\n%s", err, out)
			}
			listed := string(out)
			for _, h := range hashes {
				if !strings.Contains(listed, h.String()) {
					t.Errorf("object %s is not in the pack", h)
				}
			}
			deltas, deepest := 0, 0
			for _, m := range regexp.MustCompile(`(?m)^chain length = (\d+): (\d+) objects?$`).FindAllStringSubmatch(listed, -1) {
				n, _ := strconv.Atoi(m[1])
				c, _ := strconv.Atoi(m[2])
				deltas += c
				deepest = max(deepest, n)
			}
			if deltas < 250 || deepest > newPackDepth {
				t.Errorf("%d deltas, chains up to %d: want most pages as deltas, no chain past %d\n%s", deltas, deepest, newPackDepth, listed)
			}
			for _, line := range strings.Split(listed, "\n") {
				// "hash type size size-in-pack offset [depth base]"
				f := strings.Fields(line)
				if len(f) < 7 || f[1] != "blob" {
					continue
				}
				if size, _ := strconv.Atoi(f[2]); size >= 200<<10 {
					t.Errorf("a photo was deltified: %s", line)
				}
			}
			if len(buf.Bytes()) > 1<<20 {
				t.Errorf("pack is %d bytes", buf.Len())
			}
		})
	}
}
